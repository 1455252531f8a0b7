package standin

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// The checkout page: a form (GET re-evaluates, POST places the order), rendered on the server.

func parseCartForm(form url.Values) cartRequest {
	req := cartRequest{Delivery: form.Get("delivery"), Payment: form.Get("payment"), Email: strings.TrimSpace(form.Get("email"))}
	if req.Delivery == "" {
		req.Delivery = "standard"
	}
	if id, err := strconv.ParseInt(form.Get("customer"), 10, 64); err == nil {
		req.CustomerID = id
	}
	for k, v := range form {
		rest, ok := strings.CutPrefix(k, "qty_")
		if !ok || len(v) == 0 {
			continue
		}
		id, err1 := strconv.ParseInt(rest, 10, 64)
		q, err2 := strconv.Atoi(strings.TrimSpace(v[0]))
		if err1 == nil && err2 == nil && q > 0 {
			req.Lines = append(req.Lines, cartLineRequest{VariantID: id, Quantity: min(q, 999)})
		}
	}
	// Map iteration has no order: lines go in variant id order (the catalogue's order).
	slices.SortFunc(req.Lines, func(a, b cartLineRequest) int { return cmpInt64(a.VariantID, b.VariantID) })
	for _, c := range strings.FieldsFunc(form.Get("codes"), func(r rune) bool { return r == ',' || r == ' ' || r == '\n' || r == '\t' }) {
		if c = strings.TrimSpace(c); c != "" {
			req.Codes = append(req.Codes, c)
		}
	}
	return req
}

// evaluateCart plans, calls the functions and applies their answers.
func (s *Server) evaluateCart(ctx context.Context, domain string, req cartRequest) (checkoutCart, checkoutTotals, error) {
	now := s.now()
	s.mu.Lock()
	sh := s.lookupShop(domain)
	if sh == nil {
		s.mu.Unlock()
		return checkoutCart{}, checkoutTotals{}, errNotFound
	}
	plan, err := s.planCheckout(sh, req, now)
	s.mu.Unlock()
	if err != nil {
		return checkoutCart{}, checkoutTotals{}, err
	}
	results := s.callFunctions(ctx, plan)
	totals := applyOperations(plan.Cart, results)
	totals.Notes = append(plan.Notes, totals.Notes...)
	// Then the payment customizations, on the cart with its discounts.
	s.mu.Lock()
	var calls []paymentCall
	var notes []string
	if sh := s.lookupShop(domain); sh != nil {
		calls, notes = s.planPayments(sh, plan.Cart, totals)
	}
	s.mu.Unlock()
	choices, more := s.runPayments(ctx, calls)
	totals.Payments = choices
	totals.Notes = append(append(totals.Notes, notes...), more...)
	for _, c := range choices {
		if c.Hidden {
			totals.Notes = append(totals.Notes, c.Label+": not offered, hidden by "+c.HiddenBy)
		}
	}
	return plan.Cart, totals, nil
}

// paymentChoices are the payment methods the page offers: all of them before the cart is
// evaluated, else those no payment customization hid. selected is the one checked: the
// buyer's choice if offered, else the first.
func paymentChoices(evaluated bool, totals checkoutTotals, chosen string) (offered []paymentChoice, selected string) {
	all := totals.Payments
	if !evaluated || all == nil {
		all = nil
		for _, m := range paymentMethods() {
			all = append(all, paymentChoice{paymentMethod: m})
		}
	}
	for _, c := range all {
		if !c.Hidden {
			offered = append(offered, c)
		}
	}
	if chosen == "" {
		chosen = "card"
	}
	for _, c := range offered {
		if c.Handle == chosen {
			return offered, chosen
		}
	}
	if len(offered) > 0 {
		return offered, offered[0].Handle
	}
	return offered, ""
}

// hiddenPayment is the chosen payment method when a payment customization hid it.
func hiddenPayment(totals checkoutTotals, chosen string) (paymentChoice, bool) {
	if chosen == "" {
		chosen = "card"
	}
	for _, c := range totals.Payments {
		if c.Handle == chosen && c.Hidden {
			return c, true
		}
	}
	return paymentChoice{}, false
}

func (s *Server) handleCheckout(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		s.renderError(w, http.StatusBadRequest, "The form could not be read.")
		return
	}
	domain := r.PathValue("shop")
	req := parseCartForm(r.Form)
	var cart checkoutCart
	var totals checkoutTotals
	evaluated := false
	if len(req.Lines) > 0 {
		var err error
		cart, totals, err = s.evaluateCart(r.Context(), domain, req)
		if err != nil {
			s.renderError(w, http.StatusNotFound, "The shop or a product does not exist.")
			return
		}
		evaluated = len(cart.Lines) > 0
	}
	if r.Method == http.MethodPost {
		if !evaluated {
			s.renderError(w, http.StatusBadRequest, "The cart is empty.")
			return
		}
		if c, hidden := hiddenPayment(totals, req.Payment); hidden {
			// The platform never offers a hidden method, so it never takes an order by one.
			s.renderError(w, http.StatusUnprocessableEntity, c.Label+" is not available for this cart (hidden by "+c.HiddenBy+"). Choose another payment method.")
			return
		}
		s.mu.Lock()
		sh := s.lookupShop(domain)
		o := s.placeOrder(sh, req, cart, totals, s.now())
		s.mu.Unlock()
		q := url.Values{"placed": {o.name()}, "total": {sh.money(o.total())}}
		http.Redirect(w, r, "/shops/"+domain+"/checkout?"+q.Encode(), http.StatusSeeOther)
		return
	}

	s.mu.Lock()
	sh := s.shopOr404(w, r)
	if sh == nil {
		s.mu.Unlock()
		return
	}
	type variantRow struct {
		ID                   int64
		Product, Title, Coll string
		Price                Money
		Qty                  int
	}
	qty := map[int64]int{}
	for _, l := range req.Lines {
		qty[l.VariantID] = l.Quantity
	}
	var variants []variantRow
	for _, p := range sh.Products {
		var cols []string
		for _, id := range p.CollectionIDs {
			if c := sh.collection(id); c != nil {
				cols = append(cols, c.Title)
			}
		}
		for _, v := range p.Variants {
			variants = append(variants, variantRow{
				ID: v.ID, Product: p.Title, Title: variantTitle(v), Coll: strings.Join(cols, ", "), Price: v.Price, Qty: qty[v.ID],
			})
		}
	}
	type customerRow struct {
		ID       int64
		Label    string
		Selected bool
	}
	customers := make([]customerRow, 0, len(sh.Customers))
	for _, cu := range sh.Customers {
		label := cu.name() + " (" + cu.Email
		if len(cu.Tags) > 0 {
			label += "; " + strings.Join(cu.Tags, ", ")
		}
		customers = append(customers, customerRow{ID: cu.ID, Label: label + ")", Selected: cu.ID == req.CustomerID})
	}
	var discounts []map[string]any
	for _, d := range sh.Discounts {
		codes := make([]string, 0, len(d.Codes))
		for i, c := range d.Codes {
			if i == 5 {
				codes = append(codes, "…")
				break
			}
			codes = append(codes, c.Code)
		}
		discounts = append(discounts, map[string]any{
			"Title": d.Title, "Status": d.status(s.now()), "Code": d.IsCode, "Codes": strings.Join(codes, ", "),
			"Classes": strings.Join(d.Classes, ", "),
		})
	}
	currency := sh.Currency
	s.mu.Unlock()
	payments, payment := paymentChoices(evaluated, totals, req.Payment)

	s.render(w, http.StatusOK, "checkout.html", map[string]any{
		"Title": "Checkout · " + domain, "Shop": domain, "Currency": currency, "Variants": variants,
		"Customers": customers, "Guest": req.CustomerID == 0, "Email": req.Email,
		"Codes": strings.Join(req.Codes, ", "), "Options": deliveryOptions(), "Delivery": req.Delivery,
		"Payments": payments, "Payment": payment, "Evaluated": evaluated, "Cart": cart, "Totals": totals, "Discounts": discounts,
		"Placed": r.URL.Query().Get("placed"), "PlacedTotal": r.URL.Query().Get("total"),
	})
}

// placeOrder records the evaluated cart as an order, as the platform would, counts the
// discounts' usage and sends orders/create (and orders/paid). The caller holds s.mu.
func (s *Server) placeOrder(sh *shop, req cartRequest, cart checkoutCart, t checkoutTotals, now time.Time) *order {
	o := &order{
		ID: s.w.id(), Number: sh.nextOrderNo, CustomerID: req.CustomerID, Email: req.Email, CreatedAt: now,
		UpdatedAt: now, SourceName: "web", BrowserIP: "192.0.2.10",
		FinancialStatus: "paid", Gateways: []string{"shopify_payments"},
	}
	sh.nextOrderNo++
	if cu := sh.customer(req.CustomerID); cu != nil {
		o.Email, o.Phone = cu.Email, cu.Phone
		a := cu.Address
		o.ShippingAddress = &a
	} else {
		o.CustomerID = 0
	}
	if req.Payment == "cod" {
		o.Gateways, o.FinancialStatus = []string{codGateway}, "pending"
	}
	// One discount application per applied discount and class.
	type key struct {
		applied int
		class   string
	}
	appIndex := map[key]int{}
	addApp := func(k int, class string, amount Money, message string) {
		a := t.Applied[k]
		app := orderApplication{
			Type: "automatic", Title: a.Discount.Title, Description: message, Value: sh.money(amount),
			ValueType: "fixed_amount", AllocationMethod: "across", TargetSelection: "all",
			TargetType: "line_item", DiscountID: a.Discount.ID,
		}
		if a.Discount.IsCode {
			app.Type, app.Code = "discount_code", a.Discount.Code
		}
		switch class {
		case "PRODUCT":
			app.TargetSelection, app.AllocationMethod = "explicit", "each"
		case "SHIPPING":
			app.TargetType = "shipping_line"
		}
		appIndex[key{k, class}] = len(o.Applications)
		o.Applications = append(o.Applications, app)
	}
	for k, a := range t.Applied {
		msg := ""
		if len(a.Messages) > 0 {
			msg = a.Messages[0]
		}
		if a.Product > 0 {
			addApp(k, "PRODUCT", a.Product, msg)
		}
		if a.Order > 0 {
			addApp(k, "ORDER", a.Order, msg)
		}
		if a.Shipping > 0 {
			addApp(k, "SHIPPING", a.Shipping, msg)
		}
	}
	for _, l := range t.Lines {
		ol := &orderLine{
			ID: s.w.id(), ProductID: l.ProductID, VariantID: l.VariantID, Title: l.Title, VariantTitle: l.VariantTitle,
			SKU: l.SKU, Quantity: l.Quantity, Price: l.UnitPrice, GiftCard: l.GiftCard,
		}
		for _, al := range l.Allocations {
			ol.Allocations = append(ol.Allocations, allocation{Amount: al.Amount, AppIndex: appIndex[key{al.Applied, al.Class}]})
		}
		o.Lines = append(o.Lines, ol)
	}
	opt := cart.Options[cart.Selected]
	o.Shipping = opt.line(&s.w)
	for k, a := range t.Applied {
		if a.Shipping > 0 {
			o.Shipping.Allocations = append(o.Shipping.Allocations, allocation{Amount: a.Shipping, AppIndex: appIndex[key{k, "SHIPPING"}]})
		}
	}
	for _, a := range t.Applied {
		if d := sh.discount(a.Discount.ID); d != nil {
			d.UsageCount++
			for _, rc := range d.Codes {
				if a.Discount.IsCode && strings.EqualFold(rc.Code, a.Discount.Code) {
					rc.UsageCount++
				}
			}
		}
		if !a.Discount.IsCode {
			continue
		}
		typ := "fixed_amount"
		if a.Product == 0 && a.Order == 0 {
			typ = "shipping"
		}
		o.DiscountCodes = append(o.DiscountCodes, orderCode{Code: a.Discount.Code, Amount: a.Total(), Type: typ})
	}
	sh.Orders = append(sh.Orders, o)
	s.log.Info("order placed", "shop", sh.Domain, "order", o.name(), "total", sh.money(o.total()), "discounts", len(t.Applied))
	s.emitOrder(sh, "orders/create", o, now)
	if o.FinancialStatus == "paid" {
		s.emitOrder(sh, "orders/paid", o, now)
	}
	return o
}
