package standin

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/regularsapp/regulars/discountfn"
	"github.com/regularsapp/regulars/webhooks"
)

// fakeApp plays the app: it receives webhooks (verifying them) and answers the function's
// fetches with canned operations.
type fakeApp struct {
	t      *testing.T
	ts     *httptest.Server
	mu     sync.Mutex
	hooks  []hook
	fail   map[string]int // topic -> how many deliveries to refuse with 500
	inputs map[string][]discountfn.Input
	// payInputs are the payment customization inputs received.
	payInputs []discountfn.PaymentInput
	answers   map[string]string // path|Authorization -> body
	delay     time.Duration
	got       chan hook
	pending   []hook // received, not yet waited for (test goroutine only)
}

type hook struct {
	topic, webhookID, eventID string
	status                    int
	body                      map[string]any
}

func newFakeApp(t *testing.T) *fakeApp {
	a := &fakeApp{t: t, fail: map[string]int{}, inputs: map[string][]discountfn.Input{}, answers: map[string]string{}, got: make(chan hook, 100)}
	a.ts = httptest.NewServer(http.HandlerFunc(a.serve))
	t.Cleanup(a.ts.Close)
	return a
}

func (a *fakeApp) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	switch r.URL.Path {
	case "/webhooks":
		if err := webhooks.Verify([][]byte{[]byte(DevClientSecret)}, r.Header.Get("X-Shopify-Hmac-Sha256"), body); err != nil {
			a.t.Errorf("webhook signature: %v", err)
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		if r.Header.Get("X-Shopify-Shop-Domain") != DemoShop || r.Header.Get("X-Shopify-API-Version") != APIVersion ||
			r.Header.Get("X-Shopify-Triggered-At") == "" {
			a.t.Errorf("webhook headers %v", r.Header)
		}
		h := hook{topic: r.Header.Get("X-Shopify-Topic"), webhookID: r.Header.Get("X-Shopify-Webhook-Id"), eventID: r.Header.Get("X-Shopify-Event-Id"), status: http.StatusOK}
		_ = json.Unmarshal(body, &h.body)
		a.mu.Lock()
		if a.fail[h.topic] > 0 {
			a.fail[h.topic]--
			h.status = http.StatusInternalServerError
		}
		a.hooks = append(a.hooks, h)
		a.mu.Unlock()
		w.WriteHeader(h.status)
		a.got <- h
	case cartLinesPath, deliveryOptionsPath:
		if a.delay > 0 {
			time.Sleep(a.delay)
		}
		if !strings.HasPrefix(r.Header.Get("Authorization"), "Bearer tok-") {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		var in discountfn.Input
		dec := json.NewDecoder(bytes.NewReader(body))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&in); err != nil {
			a.t.Errorf("function input does not decode into discountfn.Input: %v\n%s", err, body)
		}
		a.mu.Lock()
		a.inputs[r.URL.Path] = append(a.inputs[r.URL.Path], in)
		answer := a.answers[r.URL.Path+"|"+r.Header.Get("Authorization")]
		a.mu.Unlock()
		if answer == "" {
			answer = `{"operations":[]}`
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(answer))
	case paymentMethodsPath:
		var in discountfn.PaymentInput
		dec := json.NewDecoder(bytes.NewReader(body))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&in); err != nil {
			a.t.Errorf("payment customization input does not decode into discountfn.PaymentInput: %v\n%s", err, body)
		}
		a.mu.Lock()
		a.payInputs = append(a.payInputs, in)
		answer, ok := a.answers[r.URL.Path+"|"+r.Header.Get("Authorization")]
		a.mu.Unlock()
		if !ok {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(answer))
	default:
		http.NotFound(w, r)
	}
}

// wait waits for n deliveries of topic (any status) and returns them; deliveries of other
// topics stay for later waits.
func (a *fakeApp) wait(topic string, n int) []hook {
	a.t.Helper()
	deadline := time.After(5 * time.Second)
	var got []hook
	take := func() {
		rest := a.pending[:0]
		for _, h := range a.pending {
			if h.topic == topic && len(got) < n {
				got = append(got, h)
			} else {
				rest = append(rest, h)
			}
		}
		a.pending = rest
	}
	take()
	for len(got) < n {
		select {
		case h := <-a.got:
			a.pending = append(a.pending, h)
			take()
		case <-deadline:
			a.t.Fatalf("waited for %d %s deliveries, got %d", n, topic, len(got))
		}
	}
	return got
}

func (h *harness) subscribe(token string, topics ...string) {
	h.t.Helper()
	for _, topic := range topics {
		data := h.mustData(token, `mutation($t: WebhookSubscriptionTopic!) { webhookSubscriptionCreate(topic: $t, webhookSubscription: {uri: "/webhooks"}) { userErrors { message } } }`, map[string]any{"t": topic})
		if errs := dig(data, "webhookSubscriptionCreate", "userErrors").([]any); len(errs) > 0 {
			h.t.Fatalf("subscribe %s: %v", topic, errs)
		}
	}
}

func testWebhookDeliverySignedWithRetry(t *testing.T, sc *Schemas) {
	app := newFakeApp(t)
	h := newHarness(t, sc, func(c *Config) { c.AppURL = app.ts.URL })
	token := h.installToken()
	h.subscribe(token, "ORDERS_UPDATED")
	app.fail["orders/updated"] = 2
	order := dig(h.mustData(token, `{ orders(first: 1) { nodes { id } } }`, nil), "orders", "nodes", 0, "id")
	h.mustData(token, `mutation($id: ID!) { tagsAdd(id: $id, tags: ["checked"]) { userErrors { message } } }`, map[string]any{"id": order})
	got := app.wait("orders/updated", 3)
	if got[0].status != 500 || got[1].status != 500 || got[2].status != 200 {
		t.Errorf("statuses %d %d %d", got[0].status, got[1].status, got[2].status)
	}
	if got[0].webhookID != got[2].webhookID || got[0].eventID != got[2].eventID || got[0].eventID == "" {
		t.Errorf("ids change across retries: %+v", got)
	}
	if got[2].body["admin_graphql_api_id"] != order || !strings.Contains(fmt.Sprint(got[2].body["tags"]), "checked") {
		t.Errorf("body %v", got[2].body)
	}
	// The body parses as the REST order the app expects.
	if _, err := webhooks.ParseOrder(DemoShop, mustJSON(t, got[2].body)); err != nil {
		t.Errorf("webhooks.ParseOrder: %v", err)
	}
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func testUninstallSendsAppUninstalled(t *testing.T, sc *Schemas) {
	app := newFakeApp(t)
	h := newHarness(t, sc, func(c *Config) { c.AppURL = app.ts.URL })
	token := h.installToken()
	h.subscribe(token, "APP_UNINSTALLED")
	_, page := getPage(t, h.shopURL("/admin/apps/regulars"))
	mustContain(t, page, "Uninstall app", `title="Regulars app"`, app.ts.URL+"/app?embedded=1&amp;hmac=")
	resp, err := noRedirect().Post(h.shopURL("/admin/uninstall"), "application/x-www-form-urlencoded", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	got := app.wait("app/uninstalled", 1)
	if got[0].body["myshopify_domain"] != DemoShop {
		t.Errorf("body %v", got[0].body)
	}
	if status, _ := h.gql(token, `{ shop { name } }`, nil); status != http.StatusUnauthorized {
		t.Errorf("token after uninstall: %d", status)
	}
	_, page = getPage(t, h.shopURL("/admin/apps/regulars"))
	mustContain(t, page, "Install Regulars", app.ts.URL+"/auth?shop="+DemoShop)
}

// discountInput is a code or automatic discount input with our configuration metafield.
func discountInput(title, code, endpoint, token string, classes []string, combines map[string]any, cfg map[string]any) map[string]any {
	conf := map[string]any{"version": 1, "offer_id": title, "token": token, "endpoint": endpoint}
	for k, v := range cfg {
		conf[k] = v
	}
	in := map[string]any{
		"title": title, "functionHandle": FunctionHandle, "startsAt": "2026-01-01T00:00:00Z",
		"discountClasses": classes, "combinesWith": combines,
		"metafields": []any{map[string]any{
			"namespace": "$app:regulars", "key": "function-configuration", "type": "json", "value": string(mustJSONNoT(conf)),
		}},
	}
	if code != "" {
		in["code"] = code
	}
	return in
}

func mustJSONNoT(v any) []byte {
	b, _ := json.Marshal(v)
	return b
}

func (h *harness) createDiscount(token string, in map[string]any) string {
	h.t.Helper()
	if _, ok := in["code"]; ok {
		data := h.mustData(token, codeCreate, map[string]any{"d": in})
		if errs := dig(data, "discountCodeAppCreate", "userErrors").([]any); len(errs) > 0 {
			h.t.Fatalf("create: %v", errs)
		}
		return dig(data, "discountCodeAppCreate", "codeAppDiscount", "discountId").(string)
	}
	data := h.mustData(token, automaticCreate, map[string]any{"d": in})
	if errs := dig(data, "discountAutomaticAppCreate", "userErrors").([]any); len(errs) > 0 {
		h.t.Fatalf("create: %v", errs)
	}
	return dig(data, "discountAutomaticAppCreate", "automaticAppDiscount", "discountId").(string)
}

// demo looks up seeded entities by name.
func (h *harness) demo() (socks *collection, vip *customer, sockVariant, mugVariant *variant) {
	h.srv.mu.Lock()
	defer h.srv.mu.Unlock()
	sh := h.srv.w.shops[DemoShop]
	for _, c := range sh.Collections {
		if c.Handle == "socks" {
			socks = c
		}
	}
	for _, c := range sh.Customers {
		if len(c.Tags) > 0 && c.Tags[0] == "VIP" && vip == nil {
			vip = c
		}
	}
	for _, p := range sh.Products {
		switch p.Title {
		case "Merino Crew Socks":
			sockVariant = p.Variants[1]
		case "Stoneware Mug":
			mugVariant = p.Variants[0]
		}
	}
	return
}

func testCheckoutFunctionInput(t *testing.T, sc *Schemas) {
	app := newFakeApp(t)
	h := newHarness(t, sc, func(c *Config) { c.AppURL = app.ts.URL })
	token := h.installToken()
	socks, vip, sock, mug := h.demo()
	h.createDiscount(token, discountInput("Regulars", "", app.ts.URL, "tok-1", []string{"PRODUCT", "SHIPPING"}, nil, map[string]any{
		"collectionIds": []string{gid("Collection", socks.ID), "gid://shopify/Collection/999"},
		"customerTags":  []string{"vip", "wholesale"},
	}))
	req := cartRequest{
		CustomerID: vip.ID, Codes: []string{"SUMMER"}, Delivery: "express",
		Lines: []cartLineRequest{{VariantID: sock.ID, Quantity: 3}, {VariantID: mug.ID, Quantity: 1}},
	}
	h.srv.mu.Lock()
	plan, err := h.srv.planCheckout(h.srv.w.shops[DemoShop], req, h.clock.Now())
	h.srv.mu.Unlock()
	if err != nil {
		t.Fatal(err)
	}
	if len(plan.Calls) != 2 || plan.Calls[0].URL != app.ts.URL+cartLinesPath || plan.Calls[1].URL != app.ts.URL+deliveryOptionsPath ||
		plan.Calls[0].Token != "tok-1" {
		t.Fatalf("calls %+v", plan.Calls)
	}
	var in discountfn.Input
	dec := json.NewDecoder(bytes.NewReader(plan.Calls[0].Body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&in); err != nil {
		t.Fatalf("decode: %v\n%s", err, plan.Calls[0].Body)
	}
	if len(in.Cart.Lines) != 2 {
		t.Fatalf("lines %+v", in.Cart.Lines)
	}
	l0 := in.Cart.Lines[0]
	if l0.Quantity != 3 || l0.Cost.AmountPerQuantity.Amount != "14.00" || l0.Cost.SubtotalAmount.Amount != "42.00" ||
		l0.Cost.AmountPerQuantity.CurrencyCode != "USD" || l0.Merchandise.Typename != "ProductVariant" ||
		l0.Merchandise.ID != gid("ProductVariant", sock.ID) || l0.Merchandise.Product == nil {
		t.Errorf("line 0 %+v", l0)
	}
	member := l0.Merchandise.Product.InCollections
	if len(member) != 2 || !member[0].IsMember || member[1].IsMember || member[0].CollectionID != gid("Collection", socks.ID) {
		t.Errorf("inCollections %+v", member)
	}
	if m := in.Cart.Lines[1].Merchandise.Product.InCollections; m[0].IsMember {
		t.Errorf("the mug is not a sock: %+v", m)
	}
	b := in.Cart.BuyerIdentity
	if b == nil || b.Customer == nil || b.Customer.ID != gid("Customer", vip.ID) || !b.IsAuthenticated || b.Customer.NumberOfOrders == 0 ||
		b.Customer.AmountSpent == nil || len(b.Customer.HasTags) != 2 || !b.Customer.HasTags[0].HasTag || b.Customer.HasTags[1].HasTag {
		t.Errorf("buyer %+v %+v", b, b.Customer)
	}
	if in.Cart.Cost == nil || in.Cart.Cost.SubtotalAmount.Amount != "60.00" {
		t.Errorf("cart cost %+v", in.Cart.Cost)
	}
	g := in.Cart.DeliveryGroups
	if len(g) != 1 || len(g[0].DeliveryOptions) != 3 || g[0].SelectedDeliveryOption == nil || g[0].SelectedDeliveryOption.Handle != "express" ||
		g[0].SelectedDeliveryOption.Cost.Amount != "14.99" || g[0].DeliveryAddress == nil || g[0].DeliveryOptions[2].DeliveryMethodType != "PICK_UP" {
		t.Errorf("delivery %+v", g)
	}
	if fmt.Sprint(in.Discount.DiscountClasses) != "[PRODUCT SHIPPING]" || in.Discount.Metafield == nil {
		t.Errorf("discount %+v", in.Discount)
	}
	var cfg discountfn.DiscountConfig
	if err := json.Unmarshal(in.Discount.Metafield.JSONValue, &cfg); err != nil || cfg.Token != "" || cfg.Endpoint != app.ts.URL || cfg.OfferID != "Regulars" {
		t.Errorf("config %s (%v): the token must be removed", in.Discount.Metafield.JSONValue, err)
	}
	if fmt.Sprint(in.EnteredDiscountCodes) != "[SUMMER]" || in.PresentmentCurrencyRate != "1.0" || in.Shop == nil ||
		in.Shop.LocalTime == nil || in.Shop.LocalTime.Date != "2026-03-14" {
		t.Errorf("input %+v", in)
	}
	// The raw JSON follows the input query: selected nullable fields are present as null.
	if !bytes.Contains(plan.Calls[0].Body, []byte(`"sellingPlanAllocation":null`)) {
		t.Errorf("body %s", plan.Calls[0].Body)
	}

	// A guest with an email: no customer, not authenticated, no delivery address.
	req.CustomerID, req.Email = 0, "guest@example.net"
	h.srv.mu.Lock()
	plan, _ = h.srv.planCheckout(h.srv.w.shops[DemoShop], req, h.clock.Now())
	h.srv.mu.Unlock()
	in = discountfn.Input{}
	if err := json.Unmarshal(plan.Calls[0].Body, &in); err != nil {
		t.Fatal(err)
	}
	if in.Cart.BuyerIdentity == nil || in.Cart.BuyerIdentity.Customer != nil || in.Cart.BuyerIdentity.IsAuthenticated ||
		*in.Cart.BuyerIdentity.Email != "guest@example.net" {
		t.Errorf("guest buyer %+v", in.Cart.BuyerIdentity)
	}
}

func ptrInt(n int) *int    { return &n }
func ptrBool(b bool) *bool { return &b }

func TestApplyOperations(t *testing.T) {
	t.Parallel()
	cart := checkoutCart{
		Currency: "USD", Exp: 2, Options: deliveryOptions(), Selected: 1, // express 14.99
		Lines: []checkoutLine{
			{ID: "gid://shopify/CartLine/1", Title: "Socks", Quantity: 3, UnitPrice: 1400},
			{ID: "gid://shopify/CartLine/2", Title: "Mug", Quantity: 1, UnitPrice: 1800},
		},
		Codes: []string{"back10"},
	}
	all := combinesWith{Product: true, Order: true, Shipping: true}
	regulars := fnResult{
		Discount: fnDiscount{ID: 1, Title: "Regulars", Classes: []string{"PRODUCT", "ORDER", "SHIPPING"}, CombinesWith: all},
		Ops: []discountfn.Operation{
			{ProductDiscountsAdd: &discountfn.ProductDiscountsAdd{SelectionStrategy: "ALL", Candidates: []discountfn.ProductCandidate{{
				Message: "10% off socks",
				Targets: []discountfn.ProductTarget{{CartLine: &discountfn.CartLineTarget{ID: "gid://shopify/CartLine/1", Quantity: ptrInt(2)}}},
				Value:   discountfn.CandidateValue{Percentage: &discountfn.PercentageJSON{Value: "10.0"}},
			}}}},
			{OrderDiscountsAdd: &discountfn.OrderDiscountsAdd{SelectionStrategy: "FIRST", Candidates: []discountfn.OrderCandidate{{
				Targets: []discountfn.OrderTarget{{OrderSubtotal: &discountfn.OrderSubtotalTarget{ExcludedCartLineIDs: []string{}}}},
				Value:   discountfn.CandidateValue{FixedAmount: &discountfn.FixedAmount{Amount: "5.00"}},
				Conditions: []discountfn.OrderCondition{{OrderMinimumSubtotal: &discountfn.OrderMinimumSubtotal{
					ExcludedCartLineIDs: []string{}, MinimumAmount: "50.00",
				}}},
			}}}},
			{DeliveryDiscountsAdd: &discountfn.DeliveryDiscountsAdd{SelectionStrategy: "ALL", Candidates: []discountfn.DeliveryCandidate{{
				Targets: []discountfn.DeliveryTarget{{DeliveryGroup: &discountfn.DeliveryGroupTarget{ID: deliveryGroupID}}},
				Value:   discountfn.CandidateValue{Percentage: &discountfn.PercentageJSON{Value: "50"}},
			}}}},
		},
	}
	// Subtotal 60.00; socks: 10% of 2 × 14.00 = 2.80; order: 5.00 on 57.20 (minimum 50 met),
	// allocated 39.20:18.00 -> 3.43 + 1.57; shipping: 50% of 14.99 = 7.50 (half up).
	got := applyOperations(cart, []fnResult{regulars})
	want := checkoutTotals{Subtotal: 6000, ProductDiscount: 280, OrderDiscount: 500, Shipping: 1499, ShippingDiscount: 750}
	want.Total = 6000 - 280 - 500 + 1499 - 750
	if got.Subtotal != want.Subtotal || got.ProductDiscount != want.ProductDiscount || got.OrderDiscount != want.OrderDiscount ||
		got.Shipping != want.Shipping || got.ShippingDiscount != want.ShippingDiscount || got.Total != want.Total {
		t.Fatalf("totals %+v, want %+v", got, want)
	}
	if got.Lines[0].Discount != 280+343 || got.Lines[1].Discount != 157 || got.Lines[0].Total() != 4200-623 {
		t.Errorf("lines %+v", got.Lines)
	}
	if len(got.Applied) != 1 || got.Applied[0].Total() != 280+500+750 || got.Applied[0].Messages[0] != "10% off socks" {
		t.Errorf("applied %+v", got.Applied)
	}

	// A second discount worth more (30% of 60.00 = 18.00 > 15.30) that combines with nothing
	// wins; the first is dropped.
	big := fnResult{
		Discount: fnDiscount{ID: 2, Title: "Big", IsCode: true, Code: "BACK10", Classes: []string{"ORDER"}},
		Ops: []discountfn.Operation{{OrderDiscountsAdd: &discountfn.OrderDiscountsAdd{SelectionStrategy: "MAXIMUM", Candidates: []discountfn.OrderCandidate{
			{Targets: []discountfn.OrderTarget{{OrderSubtotal: &discountfn.OrderSubtotalTarget{}}}, Value: discountfn.CandidateValue{Percentage: &discountfn.PercentageJSON{Value: "10"}}},
			{Targets: []discountfn.OrderTarget{{OrderSubtotal: &discountfn.OrderSubtotalTarget{}}}, Value: discountfn.CandidateValue{Percentage: &discountfn.PercentageJSON{Value: "30"}},
				AssociatedDiscountCode: &discountfn.DiscountCode{Code: "BACK10"}},
		}}}},
	}
	got = applyOperations(cart, []fnResult{regulars, big})
	if len(got.Applied) != 1 || got.Applied[0].Discount.ID != 2 || got.OrderDiscount != 1800 || got.ProductDiscount != 0 ||
		got.ShippingDiscount != 0 || got.Total != 6000-1800+1499 || !strings.Contains(strings.Join(got.Notes, ";"), "Regulars: does not combine with Big") {
		t.Errorf("exclusive %+v", got)
	}
	// When both combine with each other's classes, both apply: each order discount on the
	// subtotal after product discounts (30% of 57.20 = 17.16, and 5.00), one product discount
	// per line.
	big.Discount.CombinesWith = all
	got = applyOperations(cart, []fnResult{regulars, big})
	if len(got.Applied) != 2 || got.OrderDiscount != 1716+500 || got.ProductDiscount != 280 ||
		got.Lines[0].Discount+got.Lines[1].Discount != 280+1716+500 {
		t.Errorf("combined %+v", got)
	}
	// A fixed amount per item, capped at the line, and an unentered code's candidate is ignored.
	each := fnResult{
		Discount: fnDiscount{ID: 3, Title: "Each", Classes: []string{"PRODUCT"}},
		Ops: []discountfn.Operation{{ProductDiscountsAdd: &discountfn.ProductDiscountsAdd{SelectionStrategy: "ALL", Candidates: []discountfn.ProductCandidate{
			{Targets: []discountfn.ProductTarget{{CartLine: &discountfn.CartLineTarget{ID: "gid://shopify/CartLine/1"}}},
				Value: discountfn.CandidateValue{FixedAmount: &discountfn.FixedAmount{Amount: "20.00", AppliesToEachItem: ptrBool(true)}}},
			{Targets: []discountfn.ProductTarget{{CartLine: &discountfn.CartLineTarget{ID: "gid://shopify/CartLine/2"}}},
				Value: discountfn.CandidateValue{FixedAmount: &discountfn.FixedAmount{Amount: "1.00"}}, AssociatedDiscountCode: &discountfn.DiscountCode{Code: "OTHER"}},
		}}}},
	}
	got = applyOperations(cart, []fnResult{each})
	if got.ProductDiscount != 4200 || got.Lines[1].Discount != 0 {
		t.Errorf("each %+v", got)
	}
}

func TestFilterOperations(t *testing.T) {
	t.Parallel()
	allowed := map[string]string{"productDiscountsAdd": "PRODUCT", "orderDiscountsAdd": "ORDER", "enteredDiscountCodesAccept": ""}
	body := `{"operations":[
		{"productDiscountsAdd":{"candidates":[],"selectionStrategy":"ALL"}},
		{"orderDiscountsAdd":{"candidates":[],"selectionStrategy":"FIRST"}},
		{"deliveryDiscountsAdd":{"candidates":[],"selectionStrategy":"ALL"}},
		{"enteredDiscountCodesAccept":{"codes":[{"code":"A"}]}},
		{"productDiscountsAdd":{"candidates":[],"selectionStrategy":"ALL"},"orderDiscountsAdd":{"candidates":[],"selectionStrategy":"FIRST"}},
		"nonsense"]}`
	ops, note := filterOperations([]byte(body), allowed, []string{"PRODUCT"})
	if len(ops) != 2 || ops[0].ProductDiscountsAdd == nil || ops[1].EnteredDiscountCodesAccept == nil || note == "" {
		t.Errorf("ops %+v note %q", ops, note)
	}
	if ops, _ := filterOperations([]byte(`{"nope":1}`), allowed, nil); ops != nil {
		t.Errorf("no operations array: %+v", ops)
	}
}

func testCheckoutEndToEnd(t *testing.T, sc *Schemas) {
	app := newFakeApp(t)
	h := newHarness(t, sc, func(c *Config) { c.AppURL = app.ts.URL; c.FunctionTimeout = 300 * time.Millisecond })
	token := h.installToken()
	h.subscribe(token, "ORDERS_CREATE", "ORDERS_PAID")
	_, vip, sock, mug := h.demo()
	none := map[string]any{}
	h.createDiscount(token, discountInput("Welcome back", "WELCOME-BACK", app.ts.URL, "tok-code", []string{"ORDER"},
		map[string]any{"shippingDiscounts": true}, nil))
	h.createDiscount(token, discountInput("Free shipping for regulars", "", app.ts.URL, "tok-ship", []string{"SHIPPING"},
		map[string]any{"orderDiscounts": true}, nil))
	h.createDiscount(token, discountInput("Not entered", "NOT-ENTERED", app.ts.URL, "tok-never", []string{"ORDER"}, none, nil))
	h.createDiscount(token, discountInput("Slow", "", app.ts.URL+"/slow", "tok-slow", []string{"PRODUCT"}, none, nil))
	app.answers[cartLinesPath+"|Bearer tok-code"] = `{"operations":[{"orderDiscountsAdd":{"selectionStrategy":"FIRST","candidates":[
		{"message":"Welcome back: 10% off","targets":[{"orderSubtotal":{"excludedCartLineIds":[]}}],"value":{"percentage":{"value":"10"}}}]}}]}`
	app.answers[deliveryOptionsPath+"|Bearer tok-ship"] = `{"operations":[{"deliveryDiscountsAdd":{"selectionStrategy":"ALL","candidates":[
		{"message":"Free shipping","targets":[{"deliveryGroup":{"id":"gid://shopify/CartDeliveryGroup/1"}}],"value":{"percentage":{"value":"100"}}}]}}]}`

	form := url.Values{
		"customer": {fmt.Sprint(vip.ID)}, "codes": {"welcome-back"}, "delivery": {"standard"}, "payment": {"card"},
		"qty_" + fmt.Sprint(sock.ID): {"2"}, "qty_" + fmt.Sprint(mug.ID): {"1"},
	}
	status, page := getPage(t, h.shopURL("/checkout?"+form.Encode()))
	if status != http.StatusOK {
		t.Fatalf("checkout page: %d", status)
	}
	// 2 × 14.00 + 18.00 = 46.00; 10% = 4.60; shipping 4.99 free: total 41.40.
	mustContain(t, page, "46.00", "−4.60", "−4.99", ">41.40<", "Welcome back", "Free shipping for regulars", "Place order")
	app.mu.Lock()
	if n := len(app.inputs[cartLinesPath]); n != 1 {
		t.Errorf("cart-lines calls: %d (the code discount only)", n)
	}
	app.mu.Unlock()

	// The slow endpoint (a 404 here, as its path is not served) gives nothing; nothing breaks.
	resp, err := noRedirect().PostForm(h.shopURL("/checkout"), form)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther || !strings.Contains(resp.Header.Get("Location"), "placed=%23") {
		t.Fatalf("place: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	created := app.wait("orders/create", 1)[0].body
	app.wait("orders/paid", 1)
	if created["total_price"] != "41.40" || created["subtotal_price"] != "41.40" || created["total_discounts"] != "9.59" ||
		dig(created, "discount_codes", 0, "code") != "WELCOME-BACK" || dig(created, "discount_codes", 0, "amount") != "4.60" ||
		dig(created, "customer", "id") != float64(vip.ID) || created["financial_status"] != "paid" {
		t.Errorf("orders/create %v", created)
	}
	apps := map[string]map[string]any{}
	for _, a := range created["discount_applications"].([]any) {
		apps[a.(map[string]any)["title"].(string)] = a.(map[string]any)
	}
	if apps["Welcome back"]["type"] != "discount_code" || apps["Welcome back"]["code"] != "WELCOME-BACK" ||
		apps["Free shipping for regulars"]["type"] != "automatic" || apps["Free shipping for regulars"]["target_type"] != "shipping_line" ||
		dig(created, "shipping_lines", 0, "discounted_price") != "0.00" || len(apps) != 2 {
		t.Errorf("applications %v shipping %v", created["discount_applications"], created["shipping_lines"])
	}
	order, err := webhooks.ParseOrder(DemoShop, mustJSON(t, created))
	if err != nil {
		t.Fatalf("webhooks.ParseOrder: %v", err)
	}
	_ = order

	// The platform counted the usage.
	data := h.mustData(token, `{ discountNodes(first: 10, query: "method:code") { nodes { discount { ... on DiscountCodeApp { title asyncUsageCount } } } } }`, nil)
	if dig(data, "discountNodes", "nodes", 0, "discount", "asyncUsageCount") != float64(1) {
		t.Errorf("usage %v", data)
	}
}

func testCheckoutFunctionTimeout(t *testing.T, sc *Schemas) {
	app := newFakeApp(t)
	app.delay = 300 * time.Millisecond
	h := newHarness(t, sc, func(c *Config) { c.AppURL = app.ts.URL; c.FunctionTimeout = 50 * time.Millisecond })
	token := h.installToken()
	_, _, sock, _ := h.demo()
	h.createDiscount(token, discountInput("Slow", "", app.ts.URL, "tok-slow", []string{"PRODUCT"}, nil, nil))
	app.answers[cartLinesPath+"|Bearer tok-slow"] = `{"operations":[{"productDiscountsAdd":{"selectionStrategy":"ALL","candidates":[
		{"targets":[{"cartLine":{"id":"gid://shopify/CartLine/1"}}],"value":{"percentage":{"value":"50"}}}]}}]}`
	start := time.Now()
	_, totals, err := h.srv.evaluateCart(t.Context(), DemoShop, cartRequest{Lines: []cartLineRequest{{VariantID: sock.ID, Quantity: 1}}, Delivery: "pickup"})
	if err != nil {
		t.Fatal(err)
	}
	if totals.Total != 1400 || len(totals.Applied) != 0 || time.Since(start) > 250*time.Millisecond {
		t.Errorf("totals %+v after %v", totals, time.Since(start))
	}
	if !strings.Contains(strings.Join(totals.Notes, "\n"), "no answer") {
		t.Errorf("notes %v", totals.Notes)
	}
}

func testPagesRender(t *testing.T, sc *Schemas) {
	h := newHarness(t, sc, nil)
	_, page := getPage(t, h.ts.URL+"/")
	mustContain(t, page, DemoShop, "/shops/"+DemoShop+"/checkout")
	_, page = getPage(t, h.shopURL("/admin/apps/regulars"))
	mustContain(t, page, "Install Regulars", DefaultAppURL+"/auth?shop="+DemoShop)
	_, page = getPage(t, h.shopURL("/checkout"))
	mustContain(t, page, `<label for="customer">`, "Merino Crew Socks", `for="delivery-express"`, "Express (14.99)", "Update cart")
	_, page = getPage(t, h.shopURL("/admin/orders"))
	mustContain(t, page, "Cancel order #", "Refund order #")
	_, page = getPage(t, h.shopURL("/admin/customers"))
	mustContain(t, page, "Tags of Ada Lovelace")
	status, js := getPage(t, h.ts.URL+"/app-bridge.js")
	if status != http.StatusOK {
		t.Errorf("app-bridge.js: %d", status)
	}
	mustContain(t, js, "window.shopify", "idToken", "config")
	if status, _ := getPage(t, h.ts.URL+"/shops/nope.myshopify.com/checkout"); status != http.StatusNotFound {
		t.Errorf("unknown shop: %d", status)
	}
	// ID tokens for the embedded app only once installed.
	resp, _ := http.Post(h.shopURL("/admin/id-token"), "application/json", nil)
	resp.Body.Close()
	if resp.StatusCode != http.StatusConflict {
		t.Errorf("id token before install: %d", resp.StatusCode)
	}
	h.installToken()
	resp, _ = http.Post(h.shopURL("/admin/id-token"), "application/json", nil)
	var out map[string]string
	_ = json.NewDecoder(resp.Body).Decode(&out)
	resp.Body.Close()
	if err := verifyIDToken([]byte(DevClientSecret), DevClientID, DemoShop, out["token"], h.clock.Now()); err != nil {
		t.Errorf("minted id token: %v", err)
	}
}

func testAdminOrderActionsSendWebhooks(t *testing.T, sc *Schemas) {
	app := newFakeApp(t)
	h := newHarness(t, sc, func(c *Config) { c.AppURL = app.ts.URL })
	token := h.installToken()
	h.subscribe(token, "ORDERS_CANCELLED", "REFUNDS_CREATE", "CUSTOMERS_UPDATE")
	h.srv.mu.Lock()
	sh := h.srv.w.shops[DemoShop]
	var paid *order
	for _, o := range sh.Orders {
		if o.FinancialStatus == "paid" && o.CancelledAt == nil {
			paid = o
		}
	}
	cust := sh.Customers[0]
	h.srv.mu.Unlock()
	resp, err := noRedirect().PostForm(h.shopURL(fmt.Sprintf("/admin/orders/%d/cancel", paid.ID)), nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	refund := app.wait("refunds/create", 1)[0].body
	cancelled := app.wait("orders/cancelled", 1)[0].body
	if cancelled["cancel_reason"] != "customer" || cancelled["financial_status"] != "refunded" || refund["order_id"] != float64(paid.ID) {
		t.Errorf("cancelled %v refund %v", cancelled, refund)
	}
	if _, err := webhooks.ParseOrder(DemoShop, mustJSON(t, cancelled)); err != nil {
		t.Errorf("ParseOrder: %v", err)
	}
	resp, err = noRedirect().PostForm(h.shopURL(fmt.Sprintf("/admin/customers/%d/tags", cust.ID)), url.Values{"tags": {"VIP, regular"}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	upd := app.wait("customers/update", 1)[0].body
	if upd["tags"] != "VIP, regular" || upd["admin_graphql_api_id"] != gid("Customer", cust.ID) {
		t.Errorf("customers/update %v", upd)
	}
}
