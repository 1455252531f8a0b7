package standin

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/regularsapp/regulars/discountfn"
	"github.com/vektah/gqlparser/v2/ast"
)

// Checkout: what the platform does with our discount function for a cart.
//
// For each active app discount with our function (automatic ones always; code ones when the
// buyer entered one of their codes, case-insensitively) whose context admits the buyer and
// whose usage limits are not reached, the stand-in builds the function input by running the
// extension's fetch input query (discountfn/extension/src/*_fetch.graphql) against the
// function schema, with $collectionIds and $customerTags from the configuration metafield;
// drops the token from the forwarded copy, as our fetch target does; and POSTs it to
// {endpoint}/checkout/cart-lines (discounts with the PRODUCT or ORDER class) and
// {endpoint}/checkout/delivery-options (SHIPPING), with "Authorization: Bearer {token}",
// within FunctionTimeout (2 s). An error, a timeout, a status other than 200 or a body
// without an operations array gives nothing (checkout goes on). As our run targets do, only
// the operations the target allows whose class is on the discount are kept.
//
// Applying the operations (amounts in minor units, percentages rounded half up):
//   - productDiscountsAdd: each candidate discounts its target lines (all units, or the
//     target's quantity); a fixed amount applies to each item when appliesToEachItem, else is
//     spread across the targets in proportion to their prices. Strategy ALL sums the
//     candidates, FIRST takes the first, MAXIMUM the largest;
//   - orderDiscountsAdd: a candidate discounts the subtotal after product discounts, minus
//     the excluded lines, if the orderMinimumSubtotal condition holds on that same amount; it
//     is allocated across those lines in proportion to what is left of them. FIRST or
//     MAXIMUM (ranked on the subtotal before product discounts);
//   - deliveryDiscountsAdd: candidates targeting the delivery group or the selected option
//     discount the selected option's price (ALL: summed, capped at the price);
//   - a candidate with associatedDiscountCode counts only when that code was entered.
//
// Combination (a simplification of the platform's rules): discounts are ranked by the value
// they would give alone, largest first (ties: title, then id), and taken greedily; a
// discount joins the chosen set only if, for every chosen discount, each combines with the
// classes the other actually produced (combinesWith). Among the chosen, one product discount
// applies per line (the largest for that line), each order discount applies to the subtotal
// after product discounts (they do not compound; together they never exceed what is left),
// and one shipping discount applies (the largest).

const (
	cartLinesPath       = "/checkout/cart-lines"
	deliveryOptionsPath = "/checkout/delivery-options"
	deliveryGroupID     = "gid://shopify/CartDeliveryGroup/1"
)

// cartRequest is what the buyer chose.
type cartRequest struct {
	CustomerID int64
	Email      string
	Lines      []cartLineRequest
	Codes      []string
	Delivery   string
	Payment    string // card | cod
}

type cartLineRequest struct {
	VariantID int64
	Quantity  int
}

// checkoutCart is the cart with prices, as the stand-in evaluated it.
type checkoutCart struct {
	Currency string
	Exp      int
	Lines    []checkoutLine
	Options  []deliveryOption
	Selected int // index into Options
	Codes    []string
}

type checkoutLine struct {
	ID           string
	VariantID    int64
	ProductID    int64
	Title        string
	VariantTitle string
	SKU          string
	Quantity     int
	UnitPrice    Money
	GiftCard     bool
}

func (l checkoutLine) subtotal() Money { return l.UnitPrice * Money(l.Quantity) }

func (c checkoutCart) subtotal() Money {
	var m Money
	for _, l := range c.Lines {
		m += l.subtotal()
	}
	return m
}

func (c checkoutCart) shipping() Money {
	if c.Selected < 0 || c.Selected >= len(c.Options) {
		return 0
	}
	return c.Options[c.Selected].Price
}

// fnDiscount is an applicable discount, as checkout saw it.
type fnDiscount struct {
	ID           int64
	Title        string
	IsCode       bool
	Code         string // the code that triggered it
	Classes      []string
	CombinesWith combinesWith
}

// fnCall is one fetch the platform makes.
type fnCall struct {
	Discount int // index into the discounts
	Path     string
	URL      string
	Token    string
	Body     []byte
	Allowed  map[string]string // operation -> class needed ("" : any)
}

// fnResult is what one discount's function gave.
type fnResult struct {
	Discount fnDiscount
	Ops      []discountfn.Operation
	Notes    []string
}

// checkoutPlan is everything evaluation needs, snapshot under the lock.
type checkoutPlan struct {
	Cart      checkoutCart
	Discounts []fnDiscount
	Calls     []fnCall
	Notes     []string
}

// planCheckout builds the cart and the function calls. The caller holds s.mu.
func (s *Server) planCheckout(sh *shop, req cartRequest, now time.Time) (checkoutPlan, error) {
	var plan checkoutPlan
	cart := checkoutCart{Currency: sh.Currency, Exp: sh.exponent(), Options: deliveryOptions(), Codes: req.Codes}
	for i, o := range cart.Options {
		if o.Handle == req.Delivery {
			cart.Selected = i
		}
	}
	for _, lr := range req.Lines {
		if lr.Quantity <= 0 {
			continue
		}
		p, v := sh.variant(lr.VariantID)
		if v == nil {
			return plan, fmt.Errorf("variant %d: %w", lr.VariantID, errNotFound)
		}
		cart.Lines = append(cart.Lines, checkoutLine{
			ID: "gid://shopify/CartLine/" + strconv.Itoa(len(cart.Lines)+1), VariantID: v.ID, ProductID: p.ID,
			Title: p.Title, VariantTitle: variantTitle(v), SKU: v.SKU, Quantity: lr.Quantity, UnitPrice: v.Price,
			GiftCard: p.IsGiftCard,
		})
	}
	plan.Cart = cart
	if len(cart.Lines) == 0 {
		return plan, nil
	}
	buyer := sh.customer(req.CustomerID)
	s.settle(sh, now)
	for _, d := range sh.Discounts {
		fd, note, ok := s.applicable(sh, d, buyer, req.Codes, now)
		if note != "" {
			plan.Notes = append(plan.Notes, note)
		}
		if !ok {
			continue
		}
		mf := findMetafield(d, s.resolveNamespace("$app:regulars"), "function-configuration")
		var cfg map[string]any
		if mf == nil || json.Unmarshal([]byte(mf.Value), &cfg) != nil {
			plan.Notes = append(plan.Notes, d.Title+": no readable configuration metafield, the function makes no request")
			continue
		}
		token, _ := cfg["token"].(string)
		endpoint, _ := cfg["endpoint"].(string)
		if token == "" || endpoint == "" {
			plan.Notes = append(plan.Notes, d.Title+": the configuration has no token or endpoint, the function makes no request")
			continue
		}
		idx := len(plan.Discounts)
		plan.Discounts = append(plan.Discounts, fd)
		targets := []struct {
			path    string
			doc     *ast.QueryDocument
			allowed map[string]string
			needs   []string
		}{
			{cartLinesPath, s.fetchLines, map[string]string{"productDiscountsAdd": "PRODUCT", "orderDiscountsAdd": "ORDER", "enteredDiscountCodesAccept": ""}, []string{"PRODUCT", "ORDER"}},
			{deliveryOptionsPath, s.fetchDelivery, map[string]string{"deliveryDiscountsAdd": "SHIPPING", "enteredDiscountCodesAccept": ""}, []string{"SHIPPING"}},
		}
		for _, t := range targets {
			if !slices.ContainsFunc(t.needs, func(c string) bool { return slices.Contains(d.Classes, c) }) {
				continue
			}
			body, err := s.functionInput(sh, t.doc, cart, buyer, req, d, fd, mf, cfg, now)
			if err != nil {
				plan.Notes = append(plan.Notes, d.Title+": building the function input failed: "+err.Error())
				continue
			}
			plan.Calls = append(plan.Calls, fnCall{
				Discount: idx, Path: t.path, URL: strings.TrimRight(endpoint, "/") + t.path, Token: token,
				Body: body, Allowed: t.allowed,
			})
		}
	}
	return plan, nil
}

// applicable decides whether the platform runs discount d for this buyer and codes.
func (s *Server) applicable(sh *shop, d *discount, buyer *customer, codes []string, now time.Time) (fnDiscount, string, bool) {
	fd := fnDiscount{ID: d.ID, Title: d.Title, IsCode: d.IsCode, Classes: d.Classes, CombinesWith: d.CombinesWith}
	if d.FunctionID != s.functionID || d.status(now) != "ACTIVE" {
		return fd, "", false
	}
	if d.IsCode {
		var rc *redeemCode
		for _, entered := range codes {
			for _, c := range d.Codes {
				if strings.EqualFold(c.Code, entered) {
					rc = c
				}
			}
		}
		if rc == nil {
			return fd, "", false
		}
		fd.Code = rc.Code
	}
	switch d.Context.Kind {
	case "customers":
		if buyer == nil || !slices.Contains(d.Context.IDs, gid("Customer", buyer.ID)) {
			return fd, d.Title + ": the buyer is not among the discount's customers", false
		}
	case "segments":
		// The stand-in has no segment definitions: a segment discount admits any logged-in
		// customer (the app's function answer decides who really qualifies).
		if buyer == nil {
			return fd, d.Title + ": segment discounts need a logged-in customer", false
		}
	}
	if d.IsCode && d.UsageLimit != nil && d.UsageCount >= *d.UsageLimit {
		return fd, d.Title + ": usage limit reached", false
	}
	if d.IsCode && d.OncePerCustomer && buyer != nil {
		for _, o := range sh.Orders {
			if o.CustomerID != buyer.ID || o.CancelledAt != nil {
				continue
			}
			for _, a := range o.Applications {
				if a.DiscountID == d.ID {
					return fd, d.Title + ": already used by this customer", false
				}
			}
		}
	}
	return fd, "", true
}

// functionInput runs the fetch input query and returns the body the fetch target forwards
// (the input without the configuration's token).
func (s *Server) functionInput(sh *shop, doc *ast.QueryDocument, cart checkoutCart, buyer *customer, req cartRequest,
	d *discount, fd fnDiscount, mf *metafield, cfg map[string]any, now time.Time,
) ([]byte, error) {
	op := doc.Operations[0]
	vars := map[string]any{}
	for _, k := range []string{"collectionIds", "customerTags"} {
		if v, ok := cfg[k]; ok && v != nil {
			vars[k] = v
		}
	}
	vars, errs := coerceVariables(s.function, op, vars)
	if len(errs) > 0 {
		return nil, fmt.Errorf("variables: %s", errs[0].Message)
	}
	e := &executor{schema: s.function, vars: vars}
	data := e.run(op, s.functionRoot(sh, cart, buyer, req, d, fd, mf, now))
	if len(e.errors) > 0 {
		return nil, fmt.Errorf("input query: %s", e.errors[0].Message)
	}
	// The fetch target forwards a copy without the token.
	if disc, ok := data.get("discount"); ok {
		if dobj, ok := disc.(*object); ok {
			if m, ok := dobj.get("metafield"); ok {
				if mobj, ok := m.(*object); ok {
					if jv, ok := mobj.get("jsonValue"); ok {
						if raw, ok := jv.(json.RawMessage); ok {
							var cfgCopy map[string]any
							if json.Unmarshal(raw, &cfgCopy) == nil {
								delete(cfgCopy, "token")
								b, err := json.Marshal(cfgCopy)
								if err == nil {
									mobj.set("jsonValue", json.RawMessage(b))
								}
							}
						}
					}
				}
			}
		}
	}
	b, err := json.Marshal(data)
	if err != nil {
		return nil, fmt.Errorf("encode input: %w", err)
	}
	return b, nil
}

// functionRoot is the function input's values (type Input of the function schema).
func (s *Server) functionRoot(sh *shop, cart checkoutCart, buyer *customer, req cartRequest, d *discount,
	fd fnDiscount, mf *metafield, now time.Time,
) map[string]any {
	money := func(m Money) map[string]any {
		return map[string]any{"amount": discountfn.FormatMoney(m, cart.Exp), "currencyCode": cart.Currency}
	}
	var lines []any
	for _, l := range cart.Lines {
		p := sh.product(l.ProductID)
		var collections []int64
		var ptags []string
		if p != nil {
			collections, ptags = p.CollectionIDs, p.Tags
		}
		lines = append(lines, map[string]any{
			"id": l.ID, "quantity": l.Quantity, "sellingPlanAllocation": nil,
			"attribute": resolver(func(map[string]any) (any, error) { return nil, nil }),
			"cost": map[string]any{
				"amountPerQuantity": money(l.UnitPrice), "subtotalAmount": money(l.subtotal()),
				"totalAmount": money(l.subtotal()), "compareAtAmountPerQuantity": nil,
			},
			"merchandise": map[string]any{
				"__typename": "ProductVariant", "id": gid("ProductVariant", l.VariantID), "title": l.VariantTitle,
				"sku": l.SKU, "requiresShipping": !l.GiftCard, "weightUnit": "KILOGRAMS",
				"product": map[string]any{
					"id": gid("Product", l.ProductID), "title": l.Title, "handle": handleize(l.Title),
					"isGiftCard": l.GiftCard, "vendor": "Regulars Demo",
					"inCollections": resolver(func(args map[string]any) (any, error) {
						var out []any
						for _, id := range stringList(args, "ids") {
							_, n, _ := parseGID(id)
							out = append(out, map[string]any{"collectionId": id, "isMember": slices.Contains(collections, n)})
						}
						return out, nil
					}),
					"inAnyCollection": resolver(func(args map[string]any) (any, error) {
						for _, id := range stringList(args, "ids") {
							if _, n, _ := parseGID(id); slices.Contains(collections, n) {
								return true, nil
							}
						}
						return false, nil
					}),
					"hasTags":   resolver(func(args map[string]any) (any, error) { return hasTags(ptags, args), nil }),
					"hasAnyTag": resolver(func(args map[string]any) (any, error) { return hasAnyTag(ptags, args), nil }),
				},
			},
		})
	}
	var buyerIdentity any
	email := req.Email
	if buyer != nil {
		n, spent := sh.customerStats(buyer.ID)
		tags := buyer.Tags
		email = buyer.Email
		buyerIdentity = map[string]any{
			"customer": map[string]any{
				"id": gid("Customer", buyer.ID), "email": nilIfEmpty(buyer.Email), "numberOfOrders": n,
				"amountSpent": money(spent), "displayName": buyer.name(), "firstName": buyer.FirstName,
				"lastName":  buyer.LastName,
				"hasTags":   resolver(func(args map[string]any) (any, error) { return hasTags(tags, args), nil }),
				"hasAnyTag": resolver(func(args map[string]any) (any, error) { return hasAnyTag(tags, args), nil }),
			},
			"email": nilIfEmpty(buyer.Email), "phone": nilIfEmpty(buyer.Phone), "isAuthenticated": true,
		}
	} else if email != "" {
		buyerIdentity = map[string]any{"customer": nil, "email": email, "phone": nil, "isAuthenticated": false}
	}
	var addr any
	if buyer != nil {
		a := buyer.Address
		addr = map[string]any{
			"address1": a.Address1, "city": a.City, "countryCode": a.CountryCode,
			"provinceCode": nilIfEmpty(a.ProvinceCode), "zip": a.Zip, "firstName": buyer.FirstName,
			"lastName": buyer.LastName, "phone": nilIfEmpty(a.Phone),
		}
	}
	var options []any
	var selected any
	for i, o := range cart.Options {
		opt := map[string]any{
			"handle": o.Handle, "title": o.Title, "code": o.Code, "cost": money(o.Price),
			"deliveryMethodType": o.MethodType, "description": nil,
		}
		options = append(options, opt)
		if i == cart.Selected {
			selected = opt
		}
	}
	var triggering any
	if fd.Code != "" {
		triggering = fd.Code
	}
	loc := time.UTC
	if l, err := time.LoadLocation(sh.Timezone); err == nil {
		loc = l
	}
	return map[string]any{
		"cart": map[string]any{
			"lines": lines,
			"cost": map[string]any{
				"subtotalAmount": money(cart.subtotal()), "totalAmount": money(cart.subtotal() + cart.shipping()),
			},
			"buyerIdentity": buyerIdentity,
			"deliveryGroups": []any{map[string]any{
				"id": deliveryGroupID, "deliveryAddress": addr, "deliveryOptions": options,
				"selectedDeliveryOption": selected, "cartLines": lines,
			}},
			"deliverableLines": []any{},
		},
		"discount": map[string]any{
			"discountClasses": d.Classes,
			"metafield": resolver(func(args map[string]any) (any, error) {
				ns, _ := strArg(args, "namespace")
				key, _ := strArg(args, "key")
				if ns == "" {
					ns = "$app"
				}
				m := findMetafield(d, s.resolveNamespace(ns), key)
				if m == nil {
					return nil, nil
				}
				var jv any = m.Value
				if m.Type == "json" && json.Valid([]byte(m.Value)) {
					jv = json.RawMessage(m.Value)
				}
				return map[string]any{"value": m.Value, "jsonValue": jv, "type": m.Type}, nil
			}),
		},
		"enteredDiscountCodes":    cart.Codes,
		"triggeringDiscountCode":  triggering,
		"presentmentCurrencyRate": "1.0",
		"shop": map[string]any{
			"localTime": map[string]any{"date": now.In(loc).Format("2006-01-02")},
		},
	}
}

func hasTags(have []string, args map[string]any) []any {
	var out []any
	for _, t := range stringList(args, "tags") {
		out = append(out, map[string]any{"tag": t, "hasTag": slices.ContainsFunc(have, func(h string) bool { return strings.EqualFold(h, t) })})
	}
	return out
}

func hasAnyTag(have []string, args map[string]any) bool {
	for _, t := range stringList(args, "tags") {
		if slices.ContainsFunc(have, func(h string) bool { return strings.EqualFold(h, t) }) {
			return true
		}
	}
	return false
}

// callFunctions makes the plan's fetches concurrently, each within the function timeout.
func (s *Server) callFunctions(ctx context.Context, plan checkoutPlan) []fnResult {
	results := make([]fnResult, len(plan.Discounts))
	for i, d := range plan.Discounts {
		results[i].Discount = d
	}
	var mu sync.Mutex
	var wg sync.WaitGroup
	for _, call := range plan.Calls {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ops, note := s.fetch(ctx, call, plan.Discounts[call.Discount])
			mu.Lock()
			defer mu.Unlock()
			r := &results[call.Discount]
			r.Ops = append(r.Ops, ops...)
			if note != "" {
				r.Notes = append(r.Notes, note)
			}
		}()
	}
	wg.Wait()
	return results
}

// fetch is one fetch target call and the run target's filtering of its answer.
func (s *Server) fetch(ctx context.Context, call fnCall, d fnDiscount) ([]discountfn.Operation, string) {
	ctx, cancel := context.WithTimeout(ctx, s.cfg.FunctionTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, call.URL, bytes.NewReader(call.Body))
	if err != nil {
		return nil, call.Path + ": " + err.Error()
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+call.Token)
	start := time.Now()
	resp, err := s.cfg.HTTPClient.Do(req)
	if err != nil {
		s.log.Warn("function fetch failed", "url", call.URL, "err", err)
		return nil, call.Path + ": no answer (" + err.Error() + "), no discount"
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return nil, call.Path + ": reading the answer failed, no discount"
	}
	s.log.Debug("function fetch", "url", call.URL, "status", resp.StatusCode, "duration", time.Since(start).Round(time.Millisecond))
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Sprintf("%s: HTTP %d, no discount", call.Path, resp.StatusCode)
	}
	if len(body) > discountfn.MaxOutputBytes {
		return nil, fmt.Sprintf("%s: the answer has %d bytes, over the function output limit", call.Path, len(body))
	}
	return filterOperations(body, call.Allowed, d.Classes)
}

// filterOperations is the run targets' filter: the answer's operations the target allows
// whose class is on the discount, each a oneOf with exactly one member.
func filterOperations(body []byte, allowed map[string]string, classes []string) ([]discountfn.Operation, string) {
	var answer struct {
		Operations []json.RawMessage `json:"operations"`
	}
	if err := json.Unmarshal(body, &answer); err != nil || answer.Operations == nil {
		return nil, "the answer has no operations array, no discount"
	}
	var out []discountfn.Operation
	dropped := 0
	for _, raw := range answer.Operations {
		var members map[string]json.RawMessage
		if json.Unmarshal(raw, &members) != nil || len(members) != 1 {
			dropped++
			continue
		}
		ok := false
		for name, v := range members {
			need, known := allowed[name]
			ok = known && len(v) > 0 && v[0] == '{' && (need == "" || slices.Contains(classes, need))
		}
		var op discountfn.Operation
		if !ok || json.Unmarshal(raw, &op) != nil {
			dropped++
			continue
		}
		out = append(out, op)
	}
	note := ""
	if dropped > 0 {
		note = fmt.Sprintf("%d operation(s) dropped (not allowed for this target or class)", dropped)
	}
	return out, note
}

// --- Applying operations ------------------------------------------------------------------

// checkoutTotals is the evaluated cart.
type checkoutTotals struct {
	Lines            []lineTotal
	Subtotal         Money // before discounts
	ProductDiscount  Money
	OrderDiscount    Money
	Shipping         Money
	ShippingDiscount Money
	Total            Money
	Applied          []appliedDiscount
	Notes            []string
	Accepted         []string
	// Payments are the checkout's payment methods, those a payment customization hid
	// marked (payments.go).
	Payments []paymentChoice
}

type lineTotal struct {
	checkoutLine
	Discount    Money
	Allocations []lineAllocation
}

func (l lineTotal) Total() Money { return l.subtotal() - l.Discount }

type lineAllocation struct {
	Applied int    // index into Applied
	Class   string // PRODUCT | ORDER
	Amount  Money
}

// appliedDiscount is one discount that gave something.
type appliedDiscount struct {
	Discount fnDiscount
	Product  Money
	Order    Money
	Shipping Money
	Messages []string
}

func (a appliedDiscount) Total() Money { return a.Product + a.Order + a.Shipping }

// proposal is what one discount would give alone.
type proposal struct {
	result   fnResult
	product  map[int]Money // line index -> amount
	orders   []orderProposal
	shipping Money
	messages []string
	estimate Money
}

type orderProposal struct {
	value    discountfn.CandidateValue
	excluded []string
	minimum  *Money
	message  string
}

func (p proposal) classes() []string {
	var out []string
	if len(p.product) > 0 {
		out = append(out, "PRODUCT")
	}
	if len(p.orders) > 0 {
		out = append(out, "ORDER")
	}
	if p.shipping > 0 {
		out = append(out, "SHIPPING")
	}
	return out
}

// applyOperations computes the cart's totals from the functions' answers.
func applyOperations(cart checkoutCart, results []fnResult) checkoutTotals {
	t := checkoutTotals{Subtotal: cart.subtotal(), Shipping: cart.shipping()}
	for _, l := range cart.Lines {
		t.Lines = append(t.Lines, lineTotal{checkoutLine: l})
	}
	var props []proposal
	for _, r := range results {
		for _, n := range r.Notes {
			t.Notes = append(t.Notes, r.Discount.Title+": "+n)
		}
		p := propose(cart, r)
		for _, op := range r.Ops {
			if op.EnteredDiscountCodesAccept != nil {
				for _, c := range op.EnteredDiscountCodesAccept.Codes {
					if !slices.Contains(t.Accepted, c.Code) {
						t.Accepted = append(t.Accepted, c.Code)
					}
				}
			}
		}
		if p.estimate > 0 {
			props = append(props, p)
		}
	}
	slices.SortStableFunc(props, func(a, b proposal) int {
		switch {
		case a.estimate != b.estimate:
			return cmpInt64(int64(b.estimate), int64(a.estimate))
		case a.result.Discount.Title != b.result.Discount.Title:
			return strings.Compare(a.result.Discount.Title, b.result.Discount.Title)
		}
		return cmpInt64(a.result.Discount.ID, b.result.Discount.ID)
	})
	var chosen []proposal
	for _, p := range props {
		ok := true
		for _, c := range chosen {
			if !combines(p, c) {
				ok = false
				t.Notes = append(t.Notes, fmt.Sprintf("%s: does not combine with %s, not applied", p.result.Discount.Title, c.result.Discount.Title))
				break
			}
		}
		if ok {
			chosen = append(chosen, p)
		}
	}
	for _, p := range chosen {
		t.Applied = append(t.Applied, appliedDiscount{Discount: p.result.Discount, Messages: p.messages})
	}
	// Product: one discount per line, the largest.
	for i := range t.Lines {
		best, bestAmt := -1, Money(0)
		for k, p := range chosen {
			if a := p.product[i]; a > bestAmt {
				best, bestAmt = k, a
			}
		}
		if best >= 0 {
			bestAmt = min(bestAmt, t.Lines[i].subtotal())
			t.Lines[i].Discount += bestAmt
			t.Lines[i].Allocations = append(t.Lines[i].Allocations, lineAllocation{Applied: best, Class: "PRODUCT", Amount: bestAmt})
			t.Applied[best].Product += bestAmt
			t.ProductDiscount += bestAmt
		}
	}
	// Order: each on the subtotal after product discounts, capped at what is left.
	afterProduct := make([]Money, len(t.Lines))
	for i, l := range t.Lines {
		afterProduct[i] = l.Total()
	}
	for k, p := range chosen {
		for _, op := range p.orders {
			var idx []int
			var bases []Money
			var base, left Money
			for i, l := range t.Lines {
				if slices.Contains(op.excluded, l.ID) {
					continue
				}
				idx = append(idx, i)
				bases = append(bases, l.Total())
				base += afterProduct[i]
				left += l.Total()
			}
			if op.minimum != nil && base < *op.minimum {
				t.Notes = append(t.Notes, fmt.Sprintf("%s: the order minimum of %s is not reached", p.result.Discount.Title, discountfn.FormatMoney(*op.minimum, cart.Exp)))
				continue
			}
			amount := min(candidateAmount(op.value, base, 1, cart.Exp, false), left)
			for j, a := range allocate(amount, bases) {
				if a <= 0 {
					continue
				}
				i := idx[j]
				t.Lines[i].Discount += a
				t.Lines[i].Allocations = append(t.Lines[i].Allocations, lineAllocation{Applied: k, Class: "ORDER", Amount: a})
				t.Applied[k].Order += a
				t.OrderDiscount += a
			}
		}
	}
	// Shipping: the largest one.
	best := -1
	for k, p := range chosen {
		if p.shipping > 0 && (best < 0 || p.shipping > chosen[best].shipping) {
			best = k
		}
	}
	if best >= 0 {
		amt := min(chosen[best].shipping, t.Shipping)
		t.Applied[best].Shipping = amt
		t.ShippingDiscount = amt
	}
	t.Applied = slices.DeleteFunc(t.Applied, func(a appliedDiscount) bool { return a.Total() == 0 })
	// Re-index allocations after dropping discounts that ended up giving nothing.
	remap := map[string]int{}
	for i, a := range t.Applied {
		remap[strconv.FormatInt(a.Discount.ID, 10)] = i
	}
	for i := range t.Lines {
		for j := range t.Lines[i].Allocations {
			a := &t.Lines[i].Allocations[j]
			a.Applied = remap[strconv.FormatInt(chosen[a.Applied].result.Discount.ID, 10)]
		}
	}
	t.Total = t.Subtotal - t.ProductDiscount - t.OrderDiscount + t.Shipping - t.ShippingDiscount
	return t
}

// combines: each discount combines with the classes the other produced.
func combines(a, b proposal) bool {
	for _, c := range b.classes() {
		if !a.result.Discount.CombinesWith.allows(c) {
			return false
		}
	}
	for _, c := range a.classes() {
		if !b.result.Discount.CombinesWith.allows(c) {
			return false
		}
	}
	return true
}

// propose works out what one discount's operations give on their own.
func propose(cart checkoutCart, r fnResult) proposal {
	p := proposal{result: r, product: map[int]Money{}}
	lineIdx := map[string]int{}
	for i, l := range cart.Lines {
		lineIdx[l.ID] = i
	}
	codeOK := func(c *discountfn.DiscountCode) bool {
		return c == nil || slices.ContainsFunc(cart.Codes, func(e string) bool { return strings.EqualFold(e, c.Code) })
	}
	for _, op := range r.Ops {
		if pd := op.ProductDiscountsAdd; pd != nil {
			var cands []map[int]Money
			var msgs []string
			for _, cand := range pd.Candidates {
				if !codeOK(cand.AssociatedDiscountCode) {
					continue
				}
				cands = append(cands, productCandidate(cart, lineIdx, cand))
				msgs = append(msgs, cand.Message)
			}
			for k, m := range pickCandidates(cands, pd.SelectionStrategy) {
				for i, a := range m {
					p.product[i] = min(p.product[i]+a, cart.Lines[i].subtotal())
				}
				if msgs[k] != "" {
					p.messages = append(p.messages, msgs[k])
				}
			}
		}
		if od := op.OrderDiscountsAdd; od != nil {
			var cands []orderProposal
			var est []Money
			for _, cand := range od.Candidates {
				if !codeOK(cand.AssociatedDiscountCode) {
					continue
				}
				o := orderProposal{value: cand.Value, message: cand.Message}
				for _, tg := range cand.Targets {
					if tg.OrderSubtotal != nil {
						o.excluded = append(o.excluded, tg.OrderSubtotal.ExcludedCartLineIDs...)
					}
				}
				for _, c := range cand.Conditions {
					if c.OrderMinimumSubtotal != nil {
						if m, err := discountfn.ParseMoney(c.OrderMinimumSubtotal.MinimumAmount, cart.Exp); err == nil {
							o.minimum = &m
						}
					}
				}
				var base Money
				for _, l := range cart.Lines {
					if !slices.Contains(o.excluded, l.ID) {
						base += l.subtotal()
					}
				}
				cands = append(cands, o)
				est = append(est, candidateAmount(o.value, base, 1, cart.Exp, false))
			}
			if len(cands) > 0 {
				pick := 0
				if od.SelectionStrategy == "MAXIMUM" {
					for i := range est {
						if est[i] > est[pick] {
							pick = i
						}
					}
				}
				p.orders = append(p.orders, cands[pick])
				p.estimate += est[pick]
				if cands[pick].message != "" {
					p.messages = append(p.messages, cands[pick].message)
				}
			}
		}
		if dd := op.DeliveryDiscountsAdd; dd != nil && cart.Selected >= 0 && cart.Selected < len(cart.Options) {
			opt := cart.Options[cart.Selected]
			for _, cand := range dd.Candidates {
				if !codeOK(cand.AssociatedDiscountCode) {
					continue
				}
				hit := false
				for _, tg := range cand.Targets {
					hit = hit || (tg.DeliveryGroup != nil && tg.DeliveryGroup.ID == deliveryGroupID) ||
						(tg.DeliveryOption != nil && tg.DeliveryOption.Handle == opt.Handle)
				}
				if !hit {
					continue
				}
				p.shipping = min(p.shipping+candidateAmount(cand.Value, opt.Price, 1, cart.Exp, false), opt.Price)
				if cand.Message != "" {
					p.messages = append(p.messages, cand.Message)
				}
			}
		}
	}
	for i, a := range p.product {
		if a <= 0 {
			delete(p.product, i)
			continue
		}
		p.estimate += a
	}
	p.estimate += p.shipping
	return p
}

func pickCandidates(cands []map[int]Money, strategy string) map[int]map[int]Money {
	out := map[int]map[int]Money{}
	if len(cands) == 0 {
		return out
	}
	switch strategy {
	case "FIRST":
		out[0] = cands[0]
	case "MAXIMUM":
		best, bestSum := 0, Money(-1)
		for i, c := range cands {
			var sum Money
			for _, a := range c {
				sum += a
			}
			if sum > bestSum {
				best, bestSum = i, sum
			}
		}
		out[best] = cands[best]
	default: // ALL
		for i, c := range cands {
			out[i] = c
		}
	}
	return out
}

// productCandidate is one product candidate's amount per line.
func productCandidate(cart checkoutCart, lineIdx map[string]int, cand discountfn.ProductCandidate) map[int]Money {
	out := map[int]Money{}
	type target struct {
		i   int
		qty int
	}
	var targets []target
	for _, tg := range cand.Targets {
		if tg.CartLine == nil {
			continue
		}
		i, ok := lineIdx[tg.CartLine.ID]
		if !ok {
			continue
		}
		q := cart.Lines[i].Quantity
		if tg.CartLine.Quantity != nil {
			q = min(max(*tg.CartLine.Quantity, 0), q)
		}
		targets = append(targets, target{i, q})
	}
	each := cand.Value.FixedAmount != nil && cand.Value.FixedAmount.AppliesToEachItem != nil && *cand.Value.FixedAmount.AppliesToEachItem
	if cand.Value.FixedAmount != nil && !each {
		bases := make([]Money, len(targets))
		for k, tg := range targets {
			bases[k] = cart.Lines[tg.i].UnitPrice * Money(tg.qty)
		}
		amount := candidateAmount(cand.Value, 0, 1, cart.Exp, false)
		for k, a := range allocate(amount, bases) {
			out[targets[k].i] += a
		}
		return out
	}
	for _, tg := range targets {
		base := cart.Lines[tg.i].UnitPrice * Money(tg.qty)
		out[tg.i] += min(candidateAmount(cand.Value, base, tg.qty, cart.Exp, each), base)
	}
	return out
}

// candidateAmount is a candidate value applied to base: a percentage of base, or a fixed
// amount (times qty when each), never above base when base > 0.
func candidateAmount(v discountfn.CandidateValue, base Money, qty, exp int, each bool) Money {
	switch {
	case v.Percentage != nil:
		var p discountfn.Percent
		if err := p.UnmarshalJSON([]byte(strconv.Quote(v.Percentage.Value))); err != nil || p <= 0 {
			return 0
		}
		return percentOfMoney(base, int64(min(p, discountfn.PercentWhole)))
	case v.FixedAmount != nil:
		m, err := discountfn.ParseMoney(v.FixedAmount.Amount, exp)
		if err != nil || m <= 0 {
			return 0
		}
		if each {
			m *= Money(qty)
		}
		if base > 0 {
			m = min(m, base)
		}
		return m
	}
	return 0
}
