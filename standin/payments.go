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
)

// Payment customizations: what the platform does with the app's payment customization
// function (handle "regulars-payments", target cart.payment-methods.transform.run).
//
// The Admin API keeps the shop's payment customizations (paymentCustomizationCreate,
// paymentCustomizationActivation, paymentCustomizations, paymentCustomization, node), each
// with its title, enabled flag, function and metafields.
//
// At checkout, once the discounts are applied, the stand-in runs every enabled payment
// customization of our function whose configuration metafield ($app:regulars /
// function-configuration, json {"endpoint", "token"}) is readable: it POSTs the function
// input to {endpoint}/checkout/payment-methods with "Authorization: Bearer {token}", within
// FunctionTimeout, as it calls the discount targets. The input is the part of the payment
// customization API pinned in discountfn/payments/schema.graphql: cart.discountApplications
// (one per applied discount), the lines' and the delivery group's discountAllocations, each
// with the discount's configuration metafield (value and jsonValue, without the token), and
// the checkout's paymentMethods. The answer's paymentMethodHide operations hide those methods
// in every placement; paymentMethodMove and paymentMethodRename are accepted and not modelled;
// an error, a timeout, a status other than 200 or a body without an operations array hides
// nothing (checkout goes on). The checkout page does not offer a hidden method, and placing
// an order with one is refused, as the platform would.

const (
	// PaymentFunctionHandle is the app's payment customization function.
	PaymentFunctionHandle = "regulars-payments"
	paymentMethodsPath    = "/checkout/payment-methods"
	// maxActivePaymentCustomizations is the platform's limit of enabled payment
	// customizations per shop.
	maxActivePaymentCustomizations = 5
	// codGateway is the gateway name of cash-on-delivery orders.
	codGateway = "Cash on Delivery (COD)"
)

// paymentCustomization is one of a shop's payment customizations.
type paymentCustomization struct {
	ID         int64
	Title      string
	Enabled    bool
	FunctionID string
	Metafields []*metafield
	CreatedAt  time.Time
	UpdatedAt  time.Time
}

func (p *paymentCustomization) gid() string { return gid("PaymentCustomization", p.ID) }

// paymentMethod is one way to pay at the stand-in's checkout.
type paymentMethod struct {
	Handle string // the form's value
	ID     string // the payment customization API's id
	Name   string // the name functions see
	Label  string // what the buyer reads
}

// paymentMethods are the checkout's payment methods, in their order.
func paymentMethods() []paymentMethod {
	return []paymentMethod{
		{Handle: "card", ID: "gid://shopify/PaymentCustomizationPaymentMethod/1", Name: "Card", Label: "Card (paid)"},
		{Handle: "cod", ID: "gid://shopify/PaymentCustomizationPaymentMethod/2", Name: codGateway, Label: "Cash on delivery (pending)"},
	}
}

// paymentChoice is a payment method as checkout offers it.
type paymentChoice struct {
	paymentMethod
	Hidden   bool
	HiddenBy string // the customization that hid it
}

// paymentCall is one run of a payment customization.
type paymentCall struct {
	Title string
	URL   string
	Token string
	Body  []byte
}

// --- Admin API ------------------------------------------------------------------------------

func (c *reqCtx) paymentFunctionObj() map[string]any {
	return map[string]any{
		"__typename":    "ShopifyFunction",
		"id":            c.s.paymentFunctionID,
		"title":         "Regulars payments",
		"apiType":       "payment_customization",
		"apiVersion":    "2025-10",
		"appKey":        c.s.cfg.ClientID,
		"description":   "Hides cash on delivery when the cart carries a Regulars offer that switches it off.",
		"inputQuery":    nil,
		"useCreationUi": false,
		"app":           c.appObj(),
		"appBridge":     map[string]any{"createPath": "", "detailsPath": ""},
	}
}

// functionsOf are the app's functions of an API type ("" or an unknown type: all of them,
// as the platform ignores a filter it does not know).
func (c *reqCtx) functionsOf(apiType string) []any {
	switch strings.ToLower(apiType) {
	case "discount":
		return []any{c.functionObj()}
	case "payment_customization":
		return []any{c.paymentFunctionObj()}
	case "":
		return []any{c.functionObj(), c.paymentFunctionObj()}
	}
	return nil
}

func (c *reqCtx) paymentCustomizationObj(p *paymentCustomization) map[string]any {
	m := c.metafieldsOf(p.Metafields, "PaymentCustomization")
	m["__typename"] = "PaymentCustomization"
	m["id"] = p.gid()
	m["title"] = p.Title
	m["enabled"] = p.Enabled
	m["functionId"] = p.FunctionID
	m["errorHistory"] = nil
	m["shopifyFunction"] = resolver(func(map[string]any) (any, error) {
		if p.FunctionID == c.s.functionID {
			return c.functionObj(), nil
		}
		return c.paymentFunctionObj(), nil
	})
	return m
}

func (c *reqCtx) paymentCustomizationByGID(id string) *paymentCustomization {
	typ, n, ok := parseGID(id)
	if !ok || typ != "PaymentCustomization" {
		return nil
	}
	for _, p := range c.sh.PaymentCustomizations {
		if p.ID == n {
			return p
		}
	}
	return nil
}

// paymentCustomizationsConn is the paymentCustomizations root field. Its query understands
// enabled:true|false and function_id:<id>.
func (c *reqCtx) paymentCustomizationsConn(args map[string]any) (any, error) {
	if err := c.need("read_payment_customizations", "paymentCustomizations"); err != nil {
		return nil, err
	}
	q, _ := strArg(args, "query")
	var items []any
	for _, p := range c.sh.PaymentCustomizations {
		if paymentCustomizationMatches(p, q) {
			items = append(items, c.paymentCustomizationObj(p))
		}
	}
	return conn{items: items}, nil
}

func paymentCustomizationMatches(p *paymentCustomization, q string) bool {
	for _, term := range strings.Fields(q) {
		k, v, ok := strings.Cut(term, ":")
		if !ok {
			continue
		}
		v = strings.Trim(v, `"'`)
		switch strings.ToLower(k) {
		case "enabled":
			if strconv.FormatBool(p.Enabled) != strings.ToLower(v) {
				return false
			}
		case "function_id":
			if p.FunctionID != v {
				return false
			}
		}
	}
	return true
}

func (c *reqCtx) paymentCustomizationField(args map[string]any) (any, error) {
	if err := c.need("read_payment_customizations", "paymentCustomization"); err != nil {
		return nil, err
	}
	id, _ := strArg(args, "id")
	if p := c.paymentCustomizationByGID(id); p != nil {
		return c.paymentCustomizationObj(p), nil
	}
	return nil, nil
}

// paymentCustomizationCreate creates a payment customization. userErrors as the platform's:
// MISSING_FUNCTION_IDENTIFIER, FUNCTION_NOT_FOUND (an unknown handle),
// FUNCTION_DOES_NOT_IMPLEMENT (our discount function), REQUIRED_INPUT_FIELD (title or
// enabled missing on create), INVALID_METAFIELDS, MAXIMUM_ACTIVE_PAYMENT_CUSTOMIZATIONS.
func (c *reqCtx) paymentCustomizationCreate(args map[string]any) (any, error) {
	if err := c.need("write_payment_customizations", "paymentCustomizationCreate"); err != nil {
		return nil, err
	}
	in, _ := mapArg(args, "paymentCustomization")
	var errs []userError
	add := func(code, msg, field string) {
		errs = append(errs, userError{Code: code, Field: []string{"paymentCustomization", field}, Message: msg})
	}
	p := &paymentCustomization{CreatedAt: c.now, UpdatedAt: c.now}
	switch h, _ := strArg(in, "functionHandle"); {
	case h == "":
		add("MISSING_FUNCTION_IDENTIFIER", "Either function_id or function_handle must be provided.", "functionHandle")
	case h == FunctionHandle:
		add("FUNCTION_DOES_NOT_IMPLEMENT", "Function does not implement the required interface for this payment customization.", "functionHandle")
	case h != PaymentFunctionHandle:
		add("FUNCTION_NOT_FOUND", fmt.Sprintf("Function %s not found. Ensure that it is released in the current app (%s), and that the app is installed.", h, c.s.cfg.ClientID), "functionHandle")
	default:
		p.FunctionID = c.s.paymentFunctionID
	}
	if title, _ := strArg(in, "title"); strings.TrimSpace(title) == "" {
		add("REQUIRED_INPUT_FIELD", "Title is required.", "title")
	} else {
		p.Title = title
	}
	if enabled, ok := boolArg(in, "enabled"); !ok {
		add("REQUIRED_INPUT_FIELD", "Enabled is required.", "enabled")
	} else {
		p.Enabled = enabled
	}
	if list, ok := listArg(in, "metafields"); ok {
		for _, e := range c.applyMetafields(&p.Metafields, list, []string{"paymentCustomization", "metafields"}) {
			e.Code = "INVALID_METAFIELDS"
			errs = append(errs, e)
		}
	}
	if len(errs) == 0 && p.Enabled && c.activePaymentCustomizations() >= maxActivePaymentCustomizations {
		errs = append(errs, userError{Code: "MAXIMUM_ACTIVE_PAYMENT_CUSTOMIZATIONS", Message: "Maximum payment customizations are already enabled."})
	}
	if len(errs) > 0 {
		return map[string]any{"paymentCustomization": nil, "userErrors": errorsObj(errs)}, nil
	}
	p.ID = c.s.w.id()
	c.sh.PaymentCustomizations = append(c.sh.PaymentCustomizations, p)
	c.s.log.Info("payment customization created", "shop", c.sh.Domain, "id", p.gid(), "title", p.Title, "enabled", p.Enabled)
	return map[string]any{"paymentCustomization": c.paymentCustomizationObj(p), "userErrors": []any{}}, nil
}

func (c *reqCtx) activePaymentCustomizations() int {
	n := 0
	for _, p := range c.sh.PaymentCustomizations {
		if p.Enabled {
			n++
		}
	}
	return n
}

// paymentCustomizationActivation enables or disables payment customizations; an unknown id
// is PAYMENT_CUSTOMIZATION_NOT_FOUND and changes nothing.
func (c *reqCtx) paymentCustomizationActivation(args map[string]any) (any, error) {
	if err := c.need("write_payment_customizations", "paymentCustomizationActivation"); err != nil {
		return nil, err
	}
	enabled, _ := boolArg(args, "enabled")
	var targets []*paymentCustomization
	for i, id := range stringList(args, "ids") {
		p := c.paymentCustomizationByGID(id)
		if p == nil {
			return map[string]any{"ids": nil, "userErrors": errorsObj([]userError{{
				Code: "PAYMENT_CUSTOMIZATION_NOT_FOUND", Field: []string{"ids", strconv.Itoa(i)},
				Message: "Could not find payment customization with id: " + id,
			}})}, nil
		}
		targets = append(targets, p)
	}
	if enabled {
		turningOn := 0
		for _, p := range targets {
			if !p.Enabled {
				turningOn++
			}
		}
		if c.activePaymentCustomizations()+turningOn > maxActivePaymentCustomizations {
			return map[string]any{"ids": nil, "userErrors": errorsObj([]userError{{
				Code: "MAXIMUM_ACTIVE_PAYMENT_CUSTOMIZATIONS", Message: "Maximum payment customizations are already enabled.",
			}})}, nil
		}
	}
	ids := make([]any, 0, len(targets))
	for _, p := range targets {
		p.Enabled, p.UpdatedAt = enabled, c.now
		ids = append(ids, p.gid())
	}
	return map[string]any{"ids": ids, "userErrors": []any{}}, nil
}

// --- Checkout -------------------------------------------------------------------------------

// planPayments builds the payment customization calls for the evaluated cart. The caller
// holds s.mu.
func (s *Server) planPayments(sh *shop, cart checkoutCart, t checkoutTotals) ([]paymentCall, []string) {
	var notes []string
	var active []*paymentCustomization
	for _, p := range sh.PaymentCustomizations {
		if p.Enabled && p.FunctionID == s.paymentFunctionID {
			active = append(active, p)
		}
	}
	if len(active) == 0 || len(cart.Lines) == 0 {
		return nil, nil
	}
	ns := s.resolveNamespace("$app:regulars")
	// Each applied discount as the input shows it: its configuration metafield, without the
	// token.
	apps := make([]map[string]any, len(t.Applied))
	for i, a := range t.Applied {
		var mf any
		if d := sh.discount(a.Discount.ID); d != nil {
			if m := findMetafield(d, ns, "function-configuration"); m != nil {
				mf = paymentInputMetafield(m)
			}
		}
		apps[i] = map[string]any{"metafield": mf}
	}
	var lines []any
	for _, l := range t.Lines {
		allocs := []any{}
		for _, al := range l.Allocations {
			allocs = append(allocs, map[string]any{"discountApplication": apps[al.Applied]})
		}
		lines = append(lines, map[string]any{"discountAllocations": allocs})
	}
	groupAllocs := []any{}
	discountApps := make([]any, 0, len(apps))
	for i, a := range t.Applied {
		if a.Shipping > 0 {
			groupAllocs = append(groupAllocs, map[string]any{"discountApplication": apps[i]})
		}
		discountApps = append(discountApps, apps[i])
	}
	methods := []any{}
	for _, m := range paymentMethods() {
		methods = append(methods, map[string]any{"id": m.ID, "name": m.Name})
	}
	body, err := json.Marshal(map[string]any{
		"cart": map[string]any{
			"discountApplications": discountApps, "lines": lines,
			"deliveryGroups": []any{map[string]any{"discountAllocations": groupAllocs}},
		},
		"paymentMethods": methods,
	})
	if err != nil {
		return nil, []string{"payment customizations: encoding the input failed: " + err.Error()}
	}
	var calls []paymentCall
	for _, p := range active {
		var cfg struct {
			Endpoint string `json:"endpoint"`
			Token    string `json:"token"`
		}
		m := metafieldIn(p.Metafields, ns, "function-configuration")
		if m == nil || json.Unmarshal([]byte(m.Value), &cfg) != nil || cfg.Endpoint == "" || cfg.Token == "" {
			notes = append(notes, p.Title+": no readable configuration metafield with an endpoint and a token, the function hides nothing")
			continue
		}
		calls = append(calls, paymentCall{Title: p.Title, URL: strings.TrimRight(cfg.Endpoint, "/") + paymentMethodsPath, Token: cfg.Token, Body: body})
	}
	return calls, notes
}

// paymentInputMetafield is a discount's configuration metafield as the payment function's
// input carries it, without the token.
func paymentInputMetafield(m *metafield) map[string]any {
	value := m.Value
	var cfg map[string]any
	if json.Unmarshal([]byte(value), &cfg) == nil && cfg != nil {
		delete(cfg, "token")
		if b, err := json.Marshal(cfg); err == nil {
			value = string(b)
		}
	}
	var jv any = value
	if json.Valid([]byte(value)) {
		jv = json.RawMessage(value)
	}
	return map[string]any{"value": value, "jsonValue": jv}
}

// runPayments makes the calls concurrently and returns the checkout's payment methods with
// the hidden ones marked, and notes.
func (s *Server) runPayments(ctx context.Context, calls []paymentCall) ([]paymentChoice, []string) {
	choices := make([]paymentChoice, 0, 2)
	for _, m := range paymentMethods() {
		choices = append(choices, paymentChoice{paymentMethod: m})
	}
	hidden := make([][]string, len(calls))
	notes := make([]string, len(calls))
	var wg sync.WaitGroup
	for i, call := range calls {
		wg.Go(func() { hidden[i], notes[i] = s.runPayment(ctx, call) })
	}
	wg.Wait()
	var out []string
	for i, call := range calls {
		if notes[i] != "" {
			out = append(out, call.Title+": "+notes[i])
		}
		for _, id := range hidden[i] {
			for k := range choices {
				if choices[k].ID == id && !choices[k].Hidden {
					choices[k].Hidden, choices[k].HiddenBy = true, call.Title
				}
			}
		}
	}
	return choices, out
}

// runPayment is one payment customization run: the ids of the methods it hides.
func (s *Server) runPayment(ctx context.Context, call paymentCall) ([]string, string) {
	ctx, cancel := context.WithTimeout(ctx, s.cfg.FunctionTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, call.URL, bytes.NewReader(call.Body))
	if err != nil {
		return nil, err.Error()
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+call.Token)
	resp, err := s.cfg.HTTPClient.Do(req)
	if err != nil {
		s.log.Warn("payment customization call failed", "url", call.URL, "err", err)
		return nil, "no answer (" + err.Error() + "), nothing hidden"
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return nil, "reading the answer failed, nothing hidden"
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Sprintf("HTTP %d, nothing hidden", resp.StatusCode)
	}
	return hiddenPaymentMethods(body)
}

// hiddenPaymentMethods reads a run result: the paymentMethodHide operations' method ids.
// Each operation is a oneOf with exactly one member.
func hiddenPaymentMethods(body []byte) ([]string, string) {
	var answer struct {
		Operations []map[string]json.RawMessage `json:"operations"`
	}
	if err := json.Unmarshal(body, &answer); err != nil || answer.Operations == nil {
		return nil, "the answer has no operations array, nothing hidden"
	}
	var ids []string
	dropped := 0
	for _, op := range answer.Operations {
		if len(op) != 1 {
			dropped++
			continue
		}
		raw, ok := op["paymentMethodHide"]
		if !ok {
			if _, known := op["paymentMethodMove"]; !known {
				if _, known = op["paymentMethodRename"]; !known {
					dropped++
				}
			}
			continue
		}
		var hide struct {
			PaymentMethodID string `json:"paymentMethodId"`
		}
		if json.Unmarshal(raw, &hide) != nil || hide.PaymentMethodID == "" {
			dropped++
			continue
		}
		if !slices.Contains(ids, hide.PaymentMethodID) {
			ids = append(ids, hide.PaymentMethodID)
		}
	}
	if dropped > 0 {
		return ids, fmt.Sprintf("%d operation(s) dropped (not a payment customization operation)", dropped)
	}
	return ids, ""
}
