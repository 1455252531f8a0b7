package app

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/regularsapp/regulars/discountfn"
	"github.com/regularsapp/regulars/store"
)

// The storefront qualification endpoint, behind the platform's app proxy (shopify.app.toml
// [app_proxy] url "/proxy"): the shop's storefront asks, for the logged-in customer, which
// visible offers they qualify for and which they are close to. The platform signs every
// proxied request (reference section 5); the shop and the customer come from the signed query
// only.

const (
	// proxySignatureTolerance is how far a proxied request's timestamp may be from now.
	proxySignatureTolerance = 90 * time.Second
	// proxyDeadline bounds one qualification answer (loading offers and facts, evaluating).
	proxyDeadline = 2 * time.Second
	// maxProxySubtotal bounds the subtotal query parameter (minor units).
	maxProxySubtotal = 1_000_000_000
	// proxySubtotalLine is the id of the one line that stands for a given subtotal.
	proxySubtotalLine = "gid://shopify/CartLine/proxy-subtotal"
	// customerGIDPrefix makes a platform customer GID of the proxy's numeric customer id.
	customerGIDPrefix = "gid://shopify/Customer/"
)

// ErrProxySignature is returned, wrapped with the reason, for an app proxy request whose
// signature does not verify.
var ErrProxySignature = errors.New("invalid app proxy signature")

// VerifyProxySignature checks the signature parameter of an app proxy request under secret
// (reference section 5): hex HMAC-SHA256 over the other parameters sorted by key, each written
// key=value with no separator between them, repeated keys' values joined with ",". It refuses
// a query that repeats signature, hmac, shop, timestamp or logged_in_customer_id. It does not
// check the timestamp.
func VerifyProxySignature(secret []byte, q url.Values) error {
	if len(secret) == 0 {
		return fmt.Errorf("%w: empty secret", ErrProxySignature)
	}
	for _, k := range []string{"signature", "hmac", "shop", "timestamp", "logged_in_customer_id"} {
		if len(q[k]) > 1 {
			return fmt.Errorf("%w: parameter %s is repeated", ErrProxySignature, k)
		}
	}
	if len(q["signature"]) != 1 {
		return fmt.Errorf("%w: no signature parameter", ErrProxySignature)
	}
	got, err := hex.DecodeString(q.Get("signature"))
	if err != nil || len(got) != sha256.Size {
		return fmt.Errorf("%w: signature is not %d hex bytes", ErrProxySignature, sha256.Size)
	}
	mac := hmac.New(sha256.New, secret)
	mac.Write([]byte(proxySignatureMessage(q)))
	if !hmac.Equal(mac.Sum(nil), got) {
		return fmt.Errorf("%w: signature does not match", ErrProxySignature)
	}
	return nil
}

// proxySignatureMessage is the string an app proxy signature signs.
func proxySignatureMessage(q url.Values) string {
	keys := make([]string, 0, len(q))
	for k := range q {
		if k != "signature" {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	var b strings.Builder
	for _, k := range keys {
		b.WriteString(k)
		b.WriteByte('=')
		b.WriteString(strings.Join(q[k], ","))
	}
	return b.String()
}

// verifyProxy checks an app proxy query: its signature under the app secret (or the previous
// one, during a rotation), and a timestamp within proxySignatureTolerance of now.
func (s *Server) verifyProxy(q url.Values) error {
	err := fmt.Errorf("%w: no app secret configured", ErrProxySignature)
	for _, secret := range s.cfg.AppSecrets {
		if err = VerifyProxySignature(secret, q); err == nil {
			break
		}
	}
	if err != nil {
		return err
	}
	ts, perr := strconv.ParseInt(q.Get("timestamp"), 10, 64)
	if perr != nil {
		return fmt.Errorf("%w: timestamp %q is not a number", ErrProxySignature, q.Get("timestamp"))
	}
	if skew := s.now().Sub(time.Unix(ts, 0)).Abs(); skew > proxySignatureTolerance {
		return fmt.Errorf("%w: timestamp is %s away from now (at most %s)", ErrProxySignature, skew.Round(time.Second), proxySignatureTolerance)
	}
	return nil
}

// proxyAnswer is the qualification endpoint's answer.
type proxyAnswer struct {
	Shop string `json:"shop"`
	// Customer is the logged-in customer's GID; empty for a guest.
	Customer string `json:"customer,omitempty"`
	Currency string `json:"currency"`
	// Qualifying are the visible offers the customer qualifies for: they pass every check of
	// who they are (eligibility, purchase behaviour, limits, block list) and the cart asked
	// about does not fall short of a threshold.
	Qualifying []proxyOffer `json:"qualifying"`
	// Close are the visible offers the customer qualifies for except that the cart is short
	// of a threshold, with what is missing.
	Close []proxyOffer `json:"close"`
}

// proxyOffer is one offer as the shopper sees it.
type proxyOffer struct {
	OfferID     string `json:"offer_id"`
	Title       string `json:"title"`
	Description string `json:"description,omitempty"`
	// Code is the shared code of a code offer (never a unique code).
	Code string `json:"code,omitempty"`
	// The hint: for a close offer what is missing; for a qualifying tiered offer how far
	// the next tier is.
	MissingAmount   discountfn.Money `json:"missing_amount,omitempty"`
	MissingQuantity int              `json:"missing_quantity,omitempty"`
	Message         string           `json:"message,omitempty"`
}

// proxyOffersHandler answers GET /proxy/offers: the signed query names the shop and the
// logged-in customer (logged_in_customer_id, empty for a guest); the optional subtotal (shop
// currency, minor units) is the cart to measure "close to" against, an empty cart when absent.
func (s *Server) proxyOffersHandler(c *fiber.Ctx) error {
	q, err := url.ParseQuery(string(c.Request().URI().QueryString()))
	if err != nil {
		return unauthorized("app proxy signature", fmt.Errorf("%w: malformed query: %w", ErrProxySignature, err))
	}
	if err := s.verifyProxy(q); err != nil {
		return unauthorized("app proxy signature", err)
	}
	shop, ok := normalizeShop(q.Get("shop"))
	if !ok {
		return errBadShop()
	}
	customerID := ""
	if n := q.Get("logged_in_customer_id"); n != "" {
		if !isDecimal(n) {
			return badRequest(nil, "logged_in_customer_id must be a customer's numeric id")
		}
		customerID = customerGIDPrefix + n
	}
	var subtotal discountfn.Money
	if raw := q.Get("subtotal"); raw != "" {
		v, err := strconv.ParseInt(raw, 10, 64)
		if err != nil || v < 0 || v > maxProxySubtotal {
			return badRequest(err, "subtotal must be a whole number of minor units between 0 and %d", maxProxySubtotal)
		}
		subtotal = discountfn.Money(v)
	}
	ctx, cancel := context.WithTimeout(c.UserContext(), proxyDeadline)
	defer cancel()
	answer, err := s.qualify(ctx, shop, customerID, subtotal)
	if errors.Is(err, ErrUnknownShop) {
		return fmt.Errorf("%w: shop %s", ErrNotFound, shop)
	}
	if err != nil {
		return err
	}
	// Per customer: no shared cache may keep it.
	c.Set(fiber.HeaderCacheControl, "no-store")
	return c.JSON(answer)
}

func isDecimal(s string) bool {
	if s == "" || len(s) > 20 {
		return false
	}
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

// qualify evaluates every offer of the shop for the customer (a guest when customerID is
// empty) on a cart of the given subtotal, and sorts the visible ones into qualifying and close.
//
// The evaluation is the checkout's own (discountfn, explained), so the two never disagree on
// who qualifies. The cart stands in for one the shopper does not have yet: no lines (or one
// line of the given subtotal, quantity 1, of no particular product), no delivery options, and
// the shared code of every code offer entered, as the shopper would enter it. So:
//   - whether the customer qualifies is decided by what does not depend on the cart: the
//     offer's lifecycle, the block list, eligibility (audience, first order, order number),
//     purchase behaviour and usage limits. An offer that passes all of them and fails only on
//     what the cart lacks (no target items yet, no delivery option, nothing to discount) or on
//     stacking with another offer qualifies;
//   - an offer that passes all of them but whose cart condition is short (minimum subtotal or
//     quantity, the first tier) is close, with the engine's hint ("Spend 5.00 more ...");
//   - a guest is nobody in particular: only offers without purchase conditions (no
//     behaviour, audience all, not first-order-only, no order number) are listed for them.
//
// Unique-code offers are never listed: their codes are issued to customers elsewhere.
func (s *Server) qualify(ctx context.Context, shop, customerID string, subtotal discountfn.Money) (proxyAnswer, error) {
	set, codes, err := s.src.Checkout(ctx, shop)
	if err != nil {
		return proxyAnswer{}, fmt.Errorf("load offers: %w", err)
	}
	if set == nil {
		return proxyAnswer{}, fmt.Errorf("load offers: %w", ErrUnknownShop)
	}
	currency := set.Settings().Currency
	answer := proxyAnswer{Shop: shop, Customer: customerID, Currency: currency,
		Qualifying: []proxyOffer{}, Close: []proxyOffer{}}

	buyer := discountfn.Buyer{CustomerID: customerID}
	var identity *discountfn.BuyerIdentity
	if customerID != "" {
		cust := &discountfn.Customer{ID: customerID}
		identity = &discountfn.BuyerIdentity{Customer: cust, IsAuthenticated: true}
		if s.st != nil {
			// The stored customer gives the account's email (guest orders under it count)
			// and tags (tag audiences).
			stored, err := s.st.GetCustomer(ctx, shop, customerID)
			switch {
			case err == nil:
				if email := discountfn.NormalizeEmail(stored.Email); email != "" {
					buyer.Email = email
					cust.Email = &email
				}
				for _, tag := range set.CustomerTags() {
					cust.HasTags = append(cust.HasTags, discountfn.HasTagResponse{
						Tag: tag, HasTag: slices.ContainsFunc(stored.Tags, func(t string) bool { return strings.EqualFold(t, tag) }),
					})
				}
			case !errors.Is(err, store.ErrNotFound):
				return proxyAnswer{}, fmt.Errorf("load customer: %w", err)
			}
		}
	}
	// A guest's facts still carry the offers' total and daily usage, so a used-up offer is
	// not listed.
	facts, err := s.src.Facts(ctx, shop, buyer)
	if err != nil {
		return proxyAnswer{}, fmt.Errorf("load facts: %w", err)
	}

	in := &discountfn.Input{
		Cart: discountfn.Cart{
			Lines:          []discountfn.CartLine{},
			Cost:           &discountfn.CartCost{SubtotalAmount: discountfn.MoneyV2{Amount: "0", CurrencyCode: currency}},
			BuyerIdentity:  identity,
			DeliveryGroups: []discountfn.CartDeliveryGroup{},
		},
		EnteredDiscountCodes: []string{},
	}
	if subtotal > 0 {
		amount := discountfn.MoneyV2{Amount: discountfn.FormatMoney(subtotal, discountfn.CurrencyExponent(currency)), CurrencyCode: currency}
		in.Cart.Cost.SubtotalAmount = amount
		in.Cart.Lines = append(in.Cart.Lines, discountfn.CartLine{
			ID: proxySubtotalLine, Quantity: 1,
			Cost:        discountfn.CartLineCost{AmountPerQuantity: amount, SubtotalAmount: amount},
			Merchandise: discountfn.Merchandise{Typename: "CustomProduct"},
		})
	}
	req := discountfn.Request{
		Input: in, Target: discountfn.TargetCartLines, Facts: facts, Codes: codes, Now: s.now(), Explain: true,
	}
	res, err := set.Evaluate(req)
	if err != nil {
		return proxyAnswer{}, fmt.Errorf("evaluate: %w", err)
	}
	// Explained, the outcomes name every offer of the set. The listed ones are the visible
	// offers, less unique-code offers, and for a guest less those with purchase conditions.
	offers := map[string]discountfn.Offer{}
	for _, out := range res.Outcomes {
		o, ok := set.Offer(out.OfferID)
		if !ok || !o.Preview.Visible || o.Application.Kind == discountfn.ApplyCodes {
			continue
		}
		if customerID == "" && hasPurchaseConditions(o) {
			continue
		}
		offers[o.ID] = o
		if o.Application.Kind == discountfn.ApplyCode && o.Application.Code != "" {
			in.EnteredDiscountCodes = append(in.EnteredDiscountCodes, o.Application.Code)
		}
	}
	// Again with the listed code offers' codes entered, as the shopper would enter them.
	if len(in.EnteredDiscountCodes) > 0 {
		if res, err = set.Evaluate(req); err != nil {
			return proxyAnswer{}, fmt.Errorf("evaluate: %w", err)
		}
	}
	hints := make(map[string]discountfn.Hint, len(res.Hints))
	for _, h := range res.Hints {
		hints[h.OfferID] = h
	}
	for _, out := range res.Outcomes {
		o, listed := offers[out.OfferID]
		if !listed {
			continue
		}
		po := proxyOffer{OfferID: o.ID, Title: out.Title, Description: o.Preview.Description}
		if o.Application.Kind == discountfn.ApplyCode {
			po.Code = o.Application.Code
		}
		h, hinted := hints[o.ID]
		if hinted {
			po.MissingAmount, po.MissingQuantity, po.Message = h.MissingAmount, h.MissingQuantity, h.Message
		}
		switch {
		case out.Applied || cartOnlyReason(out.Reason):
			answer.Qualifying = append(answer.Qualifying, po)
		case hinted && (out.Reason == discountfn.ReasonSubtotalTooLow || out.Reason == discountfn.ReasonQuantityTooLow):
			answer.Close = append(answer.Close, po)
		}
	}
	return answer, nil
}

// cartOnlyReason reports whether an offer that did not apply failed only on what the stand-in
// cart lacks, or on stacking with another offer, after passing every check of the customer.
func cartOnlyReason(r discountfn.Reason) bool {
	switch r {
	case discountfn.ReasonNoTargets, discountfn.ReasonNoShipping, discountfn.ReasonZero,
		discountfn.ReasonNothingLeft, discountfn.ReasonExclusive, discountfn.ReasonNotCombinable,
		discountfn.ReasonWrongClass:
		return true
	}
	return false
}

// hasPurchaseConditions reports whether an offer asks anything of who the customer is, which
// a guest cannot be shown as meeting.
func hasPurchaseConditions(o discountfn.Offer) bool {
	e := o.Eligibility
	return o.Behaviour != nil || (e.Audience != "" && e.Audience != discountfn.AudienceAll) ||
		e.FirstOrderOnly || e.OrderNumber != nil
}
