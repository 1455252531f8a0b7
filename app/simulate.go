package app

import (
	"cmp"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/regularsapp/regulars/discountfn"
)

// The admin's checkout simulator: POST /api/simulate runs a cart the merchant builds through
// both checkout targets with every offer explained, exactly as a checkout would, with the
// buyer's stored history, usage and block list, or with a history the merchant types.
//
// Request: {"customer": {"id", "email", "tags"} | null, "history": {"orders", "spend",
// "used_codes", "bought_product_ids"} | null, "lines": [{"product_id", "variant_id", "title",
// "quantity", "unit_price", "collection_ids", "gift_card"}], "codes": [...], "address":
// {"country_code", "city", "zip"} | null, "delivery_options": [{"title", "cost"}],
// "delivery_method": "title of the chosen option"}. Money is minor units of the shop's
// currency. Answer: {"currency", "cart_lines": Result, "delivery_options": Result}.

// simulateRequest is the body of POST /api/simulate.
type simulateRequest struct {
	Customer        *simCustomer        `json:"customer"`
	History         *simHistory         `json:"history"`
	Lines           []simLine           `json:"lines"`
	Codes           []string            `json:"codes"`
	Address         *simAddress         `json:"address"`
	DeliveryOptions []simDeliveryOption `json:"delivery_options"`
	DeliveryMethod  string              `json:"delivery_method"`
}

type simCustomer struct {
	ID    string   `json:"id"`
	Email string   `json:"email"`
	Tags  []string `json:"tags"`
}

// simHistory is a typed purchase history: Orders orders, one a week back from yesterday,
// sharing Spend; the first order carries the codes and products.
type simHistory struct {
	Orders           int              `json:"orders"`
	Spend            discountfn.Money `json:"spend"`
	UsedCodes        []string         `json:"used_codes"`
	BoughtProductIDs []string         `json:"bought_product_ids"`
}

type simLine struct {
	ProductID     string           `json:"product_id"`
	VariantID     string           `json:"variant_id"`
	Title         string           `json:"title"`
	Quantity      int              `json:"quantity"`
	UnitPrice     discountfn.Money `json:"unit_price"`
	CollectionIDs []string         `json:"collection_ids"`
	GiftCard      bool             `json:"gift_card"`
}

type simAddress struct {
	CountryCode string `json:"country_code"`
	City        string `json:"city"`
	Zip         string `json:"zip"`
}

type simDeliveryOption struct {
	Title string           `json:"title"`
	Cost  discountfn.Money `json:"cost"`
}

// simulateResponse is the simulator's answer.
type simulateResponse struct {
	Currency        string            `json:"currency"`
	CartLines       discountfn.Result `json:"cart_lines"`
	DeliveryOptions discountfn.Result `json:"delivery_options"`
}

// Bounds of a simulated cart, well inside what a real checkout sends.
const (
	maxSimLines        = 250
	maxSimQuantity     = 10000
	maxSimHistory      = 1000
	maxSimDeliveryOpts = 10
)

// defaultSimDelivery is the delivery option of a simulated cart that names none.
var defaultSimDelivery = simDeliveryOption{Title: "Standard", Cost: 500}

func (s *Server) simulateHandler(c *fiber.Ctx) error {
	shop, err := adminShop(c)
	if err != nil {
		return err
	}
	var req simulateRequest
	if err := decodeBody(c.Body(), &req); err != nil {
		return err
	}
	if err := req.validate(); err != nil {
		return err
	}
	ctx := c.UserContext()
	sh, err := s.st.GetShop(ctx, shop)
	if err != nil {
		return err
	}
	set, codes, err := s.src.Checkout(ctx, shop)
	if err != nil {
		return err
	}
	currency := cmp.Or(sh.Currency, "USD")
	in := req.input(set, currency)
	facts, err := s.src.Facts(ctx, shop, discountfn.BuyerFromInput(&in))
	if err != nil {
		return err
	}
	now := s.now()
	if req.History != nil {
		facts.History = req.History.history(now)
	}
	out := simulateResponse{Currency: currency}
	for _, run := range []struct {
		target discountfn.Target
		res    *discountfn.Result
	}{{discountfn.TargetCartLines, &out.CartLines}, {discountfn.TargetDeliveryOptions, &out.DeliveryOptions}} {
		r, err := set.Evaluate(discountfn.Request{Input: &in, Target: run.target, Facts: facts, Codes: codes, Now: now, Explain: true})
		if err != nil {
			return badRequest(err, "%v", err)
		}
		*run.res = r
	}
	return c.JSON(out)
}

// validate names every problem of the request, with its JSON path.
func (r *simulateRequest) validate() error {
	var problems []discountfn.FieldError
	add := func(path, format string, args ...any) {
		problems = append(problems, discountfn.FieldError{Path: path, Message: fmt.Sprintf(format, args...)})
	}
	if len(r.Lines) == 0 {
		add("lines", "add at least one cart line")
	}
	if len(r.Lines) > maxSimLines {
		add("lines", "at most %d lines", maxSimLines)
	}
	for i, l := range r.Lines {
		p := "lines[" + strconv.Itoa(i) + "]"
		if l.ProductID == "" {
			add(p+".product_id", "is required")
		}
		if l.Quantity < 1 || l.Quantity > maxSimQuantity {
			add(p+".quantity", "must be between 1 and %d", maxSimQuantity)
		}
		if l.UnitPrice < 0 {
			add(p+".unit_price", "must not be negative")
		}
	}
	if h := r.History; h != nil {
		if h.Orders < 0 || h.Orders > maxSimHistory {
			add("history.orders", "must be between 0 and %d", maxSimHistory)
		}
		if h.Spend < 0 {
			add("history.spend", "must not be negative")
		}
		if h.Orders == 0 && h.Spend > 0 {
			add("history.spend", "needs at least one order")
		}
	}
	if len(r.DeliveryOptions) > maxSimDeliveryOpts {
		add("delivery_options", "at most %d options", maxSimDeliveryOpts)
	}
	for i, d := range r.DeliveryOptions {
		if d.Cost < 0 {
			add("delivery_options["+strconv.Itoa(i)+"].cost", "must not be negative")
		}
	}
	if len(problems) > 0 {
		return invalid(problems...)
	}
	return nil
}

// input builds the function input the platform would send for this cart, answering the
// collection and tag questions the shop's offers ask from the lines and the customer.
func (r *simulateRequest) input(set *discountfn.OfferSet, currency string) discountfn.Input {
	exp := discountfn.CurrencyExponent(currency)
	money := func(m discountfn.Money) discountfn.MoneyV2 {
		return discountfn.MoneyV2{Amount: discountfn.FormatMoney(m, exp), CurrencyCode: currency}
	}
	in := discountfn.Input{EnteredDiscountCodes: slices.Clone(r.Codes), PresentmentCurrencyRate: "1.0"}
	if in.EnteredDiscountCodes == nil {
		in.EnteredDiscountCodes = []string{}
	}
	var subtotal discountfn.Money
	for i, l := range r.Lines {
		lineTotal := l.UnitPrice * discountfn.Money(l.Quantity)
		subtotal += lineTotal
		product := &discountfn.Product{ID: l.ProductID, IsGiftCard: l.GiftCard}
		for _, col := range set.CollectionIDs() {
			product.InCollections = append(product.InCollections,
				discountfn.CollectionMembership{CollectionID: col, IsMember: slices.Contains(l.CollectionIDs, col)})
		}
		in.Cart.Lines = append(in.Cart.Lines, discountfn.CartLine{
			ID:       "gid://shopify/CartLine/" + strconv.Itoa(i+1),
			Quantity: l.Quantity,
			Cost:     discountfn.CartLineCost{AmountPerQuantity: money(l.UnitPrice), SubtotalAmount: money(lineTotal)},
			Merchandise: discountfn.Merchandise{Typename: "ProductVariant",
				ID: cmp.Or(l.VariantID, l.ProductID), Product: product},
		})
	}
	in.Cart.Cost = &discountfn.CartCost{SubtotalAmount: money(subtotal)}
	if cu := r.Customer; cu != nil && (cu.ID != "" || cu.Email != "") {
		identity := &discountfn.BuyerIdentity{IsAuthenticated: cu.ID != ""}
		if cu.Email != "" {
			identity.Email = &cu.Email
		}
		if cu.ID != "" {
			customer := &discountfn.Customer{ID: cu.ID}
			if cu.Email != "" {
				customer.Email = &cu.Email
			}
			for _, tag := range set.CustomerTags() {
				customer.HasTags = append(customer.HasTags, discountfn.HasTagResponse{Tag: tag, HasTag: hasTagFold(cu.Tags, tag)})
			}
			identity.Customer = customer
		}
		in.Cart.BuyerIdentity = identity
	}
	options := r.DeliveryOptions
	if len(options) == 0 {
		options = []simDeliveryOption{defaultSimDelivery}
	}
	group := discountfn.CartDeliveryGroup{ID: "gid://shopify/CartDeliveryGroup/1"}
	if a := r.Address; a != nil {
		group.DeliveryAddress = &discountfn.MailingAddress{CountryCode: optional(a.CountryCode), City: optional(a.City), Zip: optional(a.Zip)}
	}
	for i, o := range options {
		title := o.Title
		opt := discountfn.CartDeliveryOption{Handle: "option-" + strconv.Itoa(i+1), Title: &title, Cost: money(o.Cost), DeliveryMethodType: "SHIPPING"}
		group.DeliveryOptions = append(group.DeliveryOptions, opt)
		if group.SelectedDeliveryOption == nil && (r.DeliveryMethod == "" || r.DeliveryMethod == o.Title) {
			selected := opt
			group.SelectedDeliveryOption = &selected
		}
	}
	in.Cart.DeliveryGroups = []discountfn.CartDeliveryGroup{group}
	return in
}

// history is the typed history as past orders: one a week back from a day before now.
func (h *simHistory) history(now time.Time) discountfn.History {
	var past discountfn.History
	if h.Orders == 0 {
		return past
	}
	share, rest := h.Spend/discountfn.Money(h.Orders), h.Spend%discountfn.Money(h.Orders)
	for i := range h.Orders {
		o := discountfn.PastOrder{PlacedAt: now.Add(-time.Duration(24*(1+7*i)) * time.Hour), NetSpend: share}
		if i == 0 {
			o.NetSpend += rest
			for _, code := range h.UsedCodes {
				o.Codes = append(o.Codes, discountfn.NormalizeCode(code))
			}
			o.ProductIDs = slices.Clone(h.BoughtProductIDs)
		}
		past.Orders = append(past.Orders, o)
	}
	return past
}

// hasTagFold reports whether tags holds tag, without regard to case, as the platform's hasTags
// answers.
func hasTagFold(tags []string, tag string) bool {
	return slices.ContainsFunc(tags, func(t string) bool { return strings.EqualFold(t, tag) })
}

// optional is nil for "" and a pointer to s otherwise.
func optional(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}
