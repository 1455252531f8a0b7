package standin

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/regularsapp/regulars/discountfn"
)

const paymentCreate = `mutation($p: PaymentCustomizationInput!) {
	paymentCustomizationCreate(paymentCustomization: $p) {
		paymentCustomization { id title enabled functionId shopifyFunction { apiType title }
			metafield(namespace: "$app:regulars", key: "function-configuration") { jsonValue ownerType } }
		userErrors { field message code }
	}
}`

// paymentInput is a payment customization input of our function with its configuration.
func paymentInput(title, endpoint, token string, enabled bool) map[string]any {
	conf := string(mustJSONNoT(map[string]any{"version": 1, "endpoint": endpoint, "token": token}))
	return map[string]any{
		"functionHandle": PaymentFunctionHandle, "title": title, "enabled": enabled,
		"metafields": []any{map[string]any{"namespace": "$app:regulars", "key": "function-configuration", "type": "json", "value": conf}},
	}
}

// createPayment creates a payment customization that must succeed and returns its id.
func (h *harness) createPayment(token string, in map[string]any) string {
	h.t.Helper()
	data := h.mustData(token, paymentCreate, map[string]any{"p": in})
	if errs := dig(data, "paymentCustomizationCreate", "userErrors").([]any); len(errs) > 0 {
		h.t.Fatalf("paymentCustomizationCreate: %v", errs)
	}
	return dig(data, "paymentCustomizationCreate", "paymentCustomization", "id").(string)
}

func testPaymentCustomizationMutations(t *testing.T, sc *Schemas) {
	h := newHarness(t, sc, nil)
	token := h.installToken()

	data := h.mustData(token, paymentCreate, map[string]any{"p": paymentInput("COD control", "https://app.example", "tok", true)})
	pc := dig(data, "paymentCustomizationCreate", "paymentCustomization")
	if dig(pc, "title") != "COD control" || dig(pc, "enabled") != true || dig(pc, "functionId") != h.srv.paymentFunctionID ||
		dig(pc, "shopifyFunction", "apiType") != "payment_customization" || dig(pc, "metafield", "jsonValue", "endpoint") != "https://app.example" ||
		dig(pc, "metafield", "ownerType") != "PAYMENT_CUSTOMIZATION" {
		t.Errorf("created %v", pc)
	}
	id := dig(pc, "id").(string)

	// Listed, found by id and as a node.
	data = h.mustData(token, `query($id: ID!) {
		all: paymentCustomizations(first: 10) { nodes { id enabled functionId } }
		off: paymentCustomizations(first: 10, query: "enabled:false") { nodes { id } }
		one: paymentCustomization(id: $id) { title }
		node(id: $id) { ... on PaymentCustomization { enabled } }
	}`, map[string]any{"id": id})
	if dig(data, "all", "nodes", 0, "id") != id || len(dig(data, "all", "nodes").([]any)) != 1 || len(dig(data, "off", "nodes").([]any)) != 0 ||
		dig(data, "one", "title") != "COD control" || dig(data, "node", "enabled") != true {
		t.Errorf("read back %v", data)
	}

	// userErrors, as the platform's.
	mod := func(f func(map[string]any)) map[string]any {
		in := paymentInput("x", "https://app.example", "tok", true)
		f(in)
		return in
	}
	for _, tt := range []struct {
		name  string
		in    map[string]any
		code  string
		field string
	}{
		{"no function", mod(func(in map[string]any) { delete(in, "functionHandle") }), "MISSING_FUNCTION_IDENTIFIER", "functionHandle"},
		{"unknown function", mod(func(in map[string]any) { in["functionHandle"] = "nope" }), "FUNCTION_NOT_FOUND", "functionHandle"},
		{"the discount function", mod(func(in map[string]any) { in["functionHandle"] = FunctionHandle }), "FUNCTION_DOES_NOT_IMPLEMENT", "functionHandle"},
		{"blank title", mod(func(in map[string]any) { in["title"] = " " }), "REQUIRED_INPUT_FIELD", "title"},
		{"no enabled", mod(func(in map[string]any) { delete(in, "enabled") }), "REQUIRED_INPUT_FIELD", "enabled"},
		{"metafield not JSON", mod(func(in map[string]any) {
			in["metafields"] = []any{map[string]any{"namespace": "$app:regulars", "key": "k", "type": "json", "value": "{"}}
		}), "INVALID_METAFIELDS", "metafields"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			data := h.mustData(token, paymentCreate, map[string]any{"p": tt.in})
			errs, _ := dig(data, "paymentCustomizationCreate", "userErrors").([]any)
			if len(errs) == 0 || dig(errs, 0, "code") != tt.code || dig(errs, 0, "field", 1) != tt.field ||
				dig(data, "paymentCustomizationCreate", "paymentCustomization") != nil {
				t.Errorf("answer %v; want %s on %s", data, tt.code, tt.field)
			}
		})
	}

	// At most 5 enabled: a sixth enabled one is refused, a disabled one is fine.
	for i := range 4 {
		h.createPayment(token, paymentInput(fmt.Sprintf("more %d", i), "https://app.example", "tok", true))
	}
	data = h.mustData(token, paymentCreate, map[string]any{"p": paymentInput("sixth", "https://app.example", "tok", true)})
	if dig(data, "paymentCustomizationCreate", "userErrors", 0, "code") != "MAXIMUM_ACTIVE_PAYMENT_CUSTOMIZATIONS" {
		t.Errorf("sixth enabled: %v", data)
	}
	off := h.createPayment(token, paymentInput("sixth, off", "https://app.example", "tok", false))

	// Activation: off, then on again; an unknown id changes nothing.
	act := `mutation($ids: [ID!]!, $on: Boolean!) { paymentCustomizationActivation(ids: $ids, enabled: $on) { ids userErrors { code } } }`
	data = h.mustData(token, act, map[string]any{"ids": []any{id}, "on": false})
	if dig(data, "paymentCustomizationActivation", "ids", 0) != id {
		t.Errorf("deactivate %v", data)
	}
	data = h.mustData(token, act, map[string]any{"ids": []any{off, "gid://shopify/PaymentCustomization/1"}, "on": true})
	if dig(data, "paymentCustomizationActivation", "userErrors", 0, "code") != "PAYMENT_CUSTOMIZATION_NOT_FOUND" {
		t.Errorf("unknown id %v", data)
	}
	data = h.mustData(token, `{ paymentCustomizations(first: 10, query: "enabled:true") { nodes { id } } }`, nil)
	if n := len(dig(data, "paymentCustomizations", "nodes").([]any)); n != 4 {
		t.Errorf("%d enabled; want 4 (one turned off, the unknown id changed nothing)", n)
	}

	// The scopes: without write_payment_customizations, ACCESS_DENIED.
	h2 := newHarness(t, sc, nil)
	readOnly := h2.install("read_orders,read_payment_customizations")["access_token"].(string)
	status, out := h2.gql(readOnly, paymentCreate, map[string]any{"p": paymentInput("x", "https://app.example", "tok", true)})
	if status != http.StatusOK || dig(out, "errors", 0, "extensions", "code") != "ACCESS_DENIED" {
		t.Errorf("without the scope: %d %v", status, out)
	}
	if data := h2.mustData(readOnly, `{ paymentCustomizations(first: 1) { nodes { id } } }`, nil); len(dig(data, "paymentCustomizations", "nodes").([]any)) != 0 {
		t.Errorf("read %v", data)
	}
}

func testCheckoutHidesPaymentMethods(t *testing.T, sc *Schemas) {
	app := newFakeApp(t)
	h := newHarness(t, sc, func(c *Config) { c.AppURL = app.ts.URL })
	token := h.installToken()
	_, vip, sock, _ := h.demo()
	h.createDiscount(token, discountInput("No COD", "NOCOD", app.ts.URL, "tok-nocod", []string{"PRODUCT"}, nil, nil))
	app.answers[cartLinesPath+"|Bearer tok-nocod"] = `{"operations":[{"productDiscountsAdd":{"selectionStrategy":"ALL","candidates":[
		{"targets":[{"cartLine":{"id":"gid://shopify/CartLine/1"}}],"value":{"percentage":{"value":"10"}}}]}}]}`
	codID := paymentMethods()[1].ID
	form := url.Values{"customer": {fmt.Sprint(vip.ID)}, "codes": {"nocod"}, "delivery": {"standard"}, "payment": {"cod"},
		"qty_" + fmt.Sprint(sock.ID): {"1"}}
	page := func() string {
		t.Helper()
		status, page := getPage(t, h.shopURL("/checkout?"+form.Encode()))
		if status != http.StatusOK {
			t.Fatalf("checkout page: %d", status)
		}
		return page
	}
	place := func(payment string) int {
		t.Helper()
		f := maps(form)
		f.Set("payment", payment)
		resp, err := noRedirect().PostForm(h.shopURL("/checkout"), f)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}

	// No payment customization: cash on delivery is offered, and nothing is called.
	if p := page(); !strings.Contains(p, `id="pay-cod"`) || strings.Contains(p, "pay-cod-hidden") {
		t.Errorf("without a customization, cash on delivery is not offered")
	}

	// With ours, the endpoint decides: hidden.
	h.createPayment(token, paymentInput("Regulars COD", app.ts.URL, "tok-pay", true))
	app.answers[paymentMethodsPath+"|Bearer tok-pay"] = `{"operations":[{"paymentMethodHide":{"paymentMethodId":"` + codID + `"}}]}`
	p := page()
	if strings.Contains(p, `id="pay-cod"`) || !strings.Contains(p, `id="pay-cod-hidden"`) || !strings.Contains(p, `id="pay-card" name="payment" value="card" checked`) {
		t.Errorf("cash on delivery still offered, or card not checked:\n%s", p)
	}
	app.mu.Lock()
	in := app.payInputs[len(app.payInputs)-1]
	app.mu.Unlock()
	if len(in.PaymentMethods) != 2 || in.PaymentMethods[1].Name != codGateway || len(in.Cart.DiscountApplications) != 1 ||
		in.Cart.DiscountApplications[0].Metafield == nil || len(in.Cart.Lines) != 1 || len(in.Cart.Lines[0].DiscountAllocations) != 1 {
		t.Fatalf("payment input %+v", in)
	}
	var cfg discountfn.DiscountConfig
	if err := json.Unmarshal(in.Cart.DiscountApplications[0].Metafield.JSONValue, &cfg); err != nil || cfg.OfferID != "No COD" || cfg.Token != "" {
		t.Errorf("the discount's metafield in the input: %+v, %v (want the offer id, no token)", cfg, err)
	}
	// An order by the hidden method is refused; by card it is placed.
	if status := place("cod"); status != http.StatusUnprocessableEntity {
		t.Errorf("placing by a hidden method: %d", status)
	}
	if status := place("card"); status != http.StatusSeeOther {
		t.Errorf("placing by card: %d", status)
	}

	// The endpoint hides nothing (another cart), fails, or answers garbage: offered.
	for _, answer := range []string{`{"operations":[]}`, ``, `{"nope":1}`} {
		app.mu.Lock()
		if answer == "" {
			delete(app.answers, paymentMethodsPath+"|Bearer tok-pay") // the fake answers 401
		} else {
			app.answers[paymentMethodsPath+"|Bearer tok-pay"] = answer
		}
		app.mu.Unlock()
		if p := page(); !strings.Contains(p, `id="pay-cod" name="payment" value="cod" checked`) {
			t.Errorf("answer %q: cash on delivery not offered", answer)
		}
	}

	// A disabled customization is not run.
	app.mu.Lock()
	app.answers[paymentMethodsPath+"|Bearer tok-pay"] = `{"operations":[{"paymentMethodHide":{"paymentMethodId":"` + codID + `"}}]}`
	calls := len(app.payInputs)
	app.mu.Unlock()
	ids := dig(h.mustData(token, `{ paymentCustomizations(first: 5) { nodes { id } } }`, nil), "paymentCustomizations", "nodes", 0, "id")
	h.mustData(token, `mutation($ids: [ID!]!) { paymentCustomizationActivation(ids: $ids, enabled: false) { userErrors { code } } }`, map[string]any{"ids": []any{ids}})
	if p := page(); !strings.Contains(p, `id="pay-cod"`) {
		t.Errorf("disabled customization still hides cash on delivery")
	}
	app.mu.Lock()
	if len(app.payInputs) != calls {
		t.Errorf("a disabled customization was run")
	}
	app.mu.Unlock()
	if status := place("cod"); status != http.StatusSeeOther {
		t.Errorf("placing by cash on delivery once offered: %d", status)
	}
}

func maps(v url.Values) url.Values {
	out := url.Values{}
	for k, vs := range v {
		out[k] = slices.Clone(vs)
	}
	return out
}

func TestHiddenPaymentMethods(t *testing.T) {
	for _, tt := range []struct {
		name, body string
		want       []string
		note       string
	}{
		{"hide", `{"operations":[{"paymentMethodHide":{"paymentMethodId":"a"}},{"paymentMethodHide":{"paymentMethodId":"a","placements":["PAYMENT_METHOD"]}}]}`, []string{"a"}, ""},
		{"nothing", `{"operations":[]}`, nil, ""},
		{"move and rename are not modelled", `{"operations":[{"paymentMethodMove":{"paymentMethodId":"a","index":0}},{"paymentMethodRename":{"paymentMethodId":"a","name":"x"}}]}`, nil, ""},
		{"two members", `{"operations":[{"paymentMethodHide":{"paymentMethodId":"a"},"paymentMethodMove":{"paymentMethodId":"b","index":0}}]}`, nil, "1 operation(s) dropped"},
		{"unknown operation", `{"operations":[{"productDiscountsAdd":{}},{"paymentMethodHide":{"paymentMethodId":"b"}}]}`, []string{"b"}, "1 operation(s) dropped"},
		{"no id", `{"operations":[{"paymentMethodHide":{}}]}`, nil, "1 operation(s) dropped"},
		{"no operations", `{}`, nil, "no operations array"},
		{"not JSON", `<html>`, nil, "no operations array"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, note := hiddenPaymentMethods([]byte(tt.body))
			if !slices.Equal(got, tt.want) || (tt.note == "") != (note == "") || !strings.Contains(note, tt.note) {
				t.Errorf("got %v, %q; want %v, %q", got, note, tt.want, tt.note)
			}
		})
	}
}
