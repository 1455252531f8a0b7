package standin

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

func testGraphQLValidQuery(t *testing.T, sc *Schemas) {
	h := newHarness(t, sc, nil)
	token := h.installToken()
	status, out := h.gql(token, `
		query Shop($n: Int = 2) {
			s: shop { ...ShopBits currencyCode __typename }
			fns: shopifyFunctions(first: 5) { nodes { id title apiType appKey } }
			products(first: $n, sortKey: TITLE) { edges { cursor node { id title } } pageInfo { hasNextPage } }
		}
		fragment ShopBits on Shop { name myshopifyDomain ianaTimezone }`, nil)
	if status != http.StatusOK || out["errors"] != nil {
		t.Fatalf("status %d errors %v", status, out["errors"])
	}
	data := out["data"].(map[string]any)
	if dig(data, "s", "myshopifyDomain") != DemoShop || dig(data, "s", "currencyCode") != "USD" ||
		dig(data, "s", "__typename") != "Shop" || dig(data, "s", "ianaTimezone") != "UTC" {
		t.Errorf("shop %v", data["s"])
	}
	if dig(data, "fns", "nodes", 0, "apiType") != "discount" || dig(data, "fns", "nodes", 0, "appKey") != DevClientID ||
		dig(data, "fns", "nodes", 1, "apiType") != "payment_customization" || dig(data, "fns", "nodes", 1, "title") != "Regulars payments" {
		t.Errorf("functions %v", data["fns"])
	}
	if n := len(dig(data, "products", "edges").([]any)); n != 2 || dig(data, "products", "pageInfo", "hasNextPage") != true {
		t.Errorf("products %v", data["products"])
	}
	// The keys keep the selection's order, aliases included.
	raw, _ := json.Marshal(out["data"])
	_ = raw
	cost := dig(out, "extensions", "cost").(map[string]any)
	if cost["requestedQueryCost"] == nil || cost["actualQueryCost"] == nil ||
		dig(cost, "throttleStatus", "maximumAvailable") != float64(1000) || dig(cost, "throttleStatus", "restoreRate") != float64(50) {
		t.Errorf("cost %v", cost)
	}
	// shop 1 + functions (2 + 5×1) + products (2 + 2×1) = 12 requested; 2 functions exist
	// (the discount function and the payment customization function).
	if cost["requestedQueryCost"] != float64(12) || cost["actualQueryCost"] != float64(9) {
		t.Errorf("cost %v", cost)
	}
	if dig(cost, "throttleStatus", "currentlyAvailable") != float64(991) {
		t.Errorf("available %v", dig(cost, "throttleStatus", "currentlyAvailable"))
	}
}

func testGraphQLResponseKeepsSelectionOrder(t *testing.T, sc *Schemas) {
	h := newHarness(t, sc, nil)
	token := h.installToken()
	body := fmt.Sprintf(`{"query":%q}`, `{ shop { zz: name aa: myshopifyDomain id } }`)
	req, _ := http.NewRequest(http.MethodPost, h.shopURL("/admin/api/2025-10/graphql.json"), strings.NewReader(body))
	req.Header.Set("X-Shopify-Access-Token", token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if !strings.Contains(string(raw), `{"data":{"shop":{"zz":"Regulars Demo","aa":"regulars-demo.myshopify.com","id":"gid://shopify/Shop/`) {
		t.Errorf("answer %s", raw)
	}
}

func testGraphQLInvalidQuery(t *testing.T, sc *Schemas) {
	h := newHarness(t, sc, nil)
	token := h.installToken()
	status, out := h.gql(token, "{\n  shop { name nope }\n}", nil)
	if status != http.StatusOK || out["data"] != nil {
		t.Fatalf("status %d data %v", status, out["data"])
	}
	e := dig(out, "errors", 0).(map[string]any)
	if !strings.Contains(e["message"].(string), "nope") || dig(e, "extensions", "code") != "undefinedField" ||
		dig(e, "locations", 0, "line") != float64(2) || dig(e, "locations", 0, "column") != float64(15) {
		t.Errorf("error %v", e)
	}
	if dig(out, "extensions", "cost", "throttleStatus", "maximumAvailable") != float64(1000) {
		t.Errorf("no cost extension: %v", out["extensions"])
	}
	// A syntax error and a bad variable, in the same shape.
	_, out = h.gql(token, "{ shop { ", nil)
	if dig(out, "errors", 0, "extensions", "code") != "PARSE_ERROR" {
		t.Errorf("parse error %v", out["errors"])
	}
	_, out = h.gql(token, "query($id: ID!) { node(id: $id) { id } }", nil)
	if dig(out, "errors", 0, "extensions", "code") != "INVALID_VARIABLE" {
		t.Errorf("variable error %v", out["errors"])
	}
}

func testGraphQLNeedsToken(t *testing.T, sc *Schemas) {
	h := newHarness(t, sc, nil)
	if status, out := h.gql("", `{ shop { name } }`, nil); status != http.StatusUnauthorized || !strings.Contains(fmt.Sprint(out["errors"]), "Invalid API key or access token") {
		t.Errorf("no token: %d %v", status, out)
	}
	if status, _ := h.gql("shpat_unknown", `{ shop { name } }`, nil); status != http.StatusUnauthorized {
		t.Errorf("unknown token: %d", status)
	}
}

func testGraphQLThrottled(t *testing.T, sc *Schemas) {
	h := newHarness(t, sc, nil)
	token := h.installToken()
	// 2 + 100 × (order 1 + shipping line 1) = 202 points requested and used (300 orders).
	q := `{ orders(first: 100) { nodes { id shippingLine { title } } } }`
	for i := 0; i < 4; i++ {
		_, out := h.gql(token, q, nil)
		if out["errors"] != nil || dig(out, "extensions", "cost", "actualQueryCost") != float64(202) {
			t.Fatalf("request %d: %v %v", i, out["errors"], dig(out, "extensions", "cost"))
		}
	}
	status, out := h.gql(token, q, nil)
	if status != http.StatusOK || dig(out, "errors", 0, "message") != "Throttled" ||
		dig(out, "errors", 0, "extensions", "code") != "THROTTLED" || out["data"] != nil {
		t.Fatalf("not throttled: %d %v", status, out)
	}
	if dig(out, "extensions", "cost", "requestedQueryCost") != float64(202) ||
		dig(out, "extensions", "cost", "throttleStatus", "currentlyAvailable") != float64(192) {
		t.Errorf("cost %v", dig(out, "extensions", "cost"))
	}
	// 50 points a second come back.
	h.clock.Advance(time.Second)
	if _, out := h.gql(token, q, nil); out["errors"] != nil {
		t.Errorf("after a second: %v", out["errors"])
	}
	// A query above the bucket's size can never run.
	_, out = h.gql(token, `{ orders(first: 250) { nodes { id customer { id } lineItems(first: 10) { nodes { id } } } } }`, nil)
	if dig(out, "errors", 0, "extensions", "code") != "MAX_COST_EXCEEDED" {
		t.Errorf("max cost: %v", out["errors"])
	}
}

func testGraphQLScopes(t *testing.T, sc *Schemas) {
	h := newHarness(t, sc, nil)
	token := h.install("read_discounts")["access_token"].(string)
	_, out := h.gql(token, `{ orders(first: 1) { nodes { id } } }`, nil)
	if dig(out, "errors", 0, "extensions", "code") != "ACCESS_DENIED" || dig(out, "errors", 0, "path", 0) != "orders" {
		t.Errorf("orders without read_orders: %v", out["errors"])
	}
	// Without read_all_orders only the last 60 days of orders are visible.
	token = h.install("read_orders")["access_token"].(string)
	data := h.mustData(token, `{ orders(first: 250) { nodes { createdAt } } }`, nil)
	nodes := dig(data, "orders", "nodes").([]any)
	if len(nodes) == 0 || len(nodes) > 60 {
		t.Errorf("%d orders visible without read_all_orders", len(nodes))
	}
	for _, n := range nodes {
		at, _ := time.Parse(time.RFC3339, n.(map[string]any)["createdAt"].(string))
		if at.Before(h.clock.Now().Add(-61 * 24 * time.Hour)) {
			t.Errorf("old order visible: %v", at)
		}
	}
}

func testGraphQLNodeAndUnions(t *testing.T, sc *Schemas) {
	h := newHarness(t, sc, nil)
	token := h.installToken()
	data := h.mustData(token, `{ orders(first: 250, query: "status:any", reverse: true) { nodes { id } } customers(first: 1) { nodes { id tags numberOfOrders amountSpent { amount currencyCode } } } }`, nil)
	orderID := dig(data, "orders", "nodes", 0, "id").(string)
	custID := dig(data, "customers", "nodes", 0, "id").(string)
	if n := dig(data, "customers", "nodes", 0, "numberOfOrders").(string); n == "" || n == "0" {
		t.Errorf("numberOfOrders %q", n)
	}
	data = h.mustData(token, `query($o: ID!, $c: ID!) {
		o: node(id: $o) { __typename id ... on Order { name totalPriceSet { shopMoney { amount currencyCode } } lineItems(first: 5) { nodes { quantity product { id } } } } }
		c: node(id: $c) { ... on Customer { displayName defaultEmailAddress { emailAddress } } }
		missing: node(id: "gid://shopify/Order/1") { id }
	}`, map[string]any{"o": orderID, "c": custID})
	if dig(data, "o", "__typename") != "Order" || !strings.HasPrefix(dig(data, "o", "name").(string), "#") ||
		dig(data, "o", "totalPriceSet", "shopMoney", "currencyCode") != "USD" || dig(data, "o", "lineItems", "nodes", 0, "quantity") == nil {
		t.Errorf("order node %v", data["o"])
	}
	if dig(data, "c", "displayName") == nil || dig(data, "missing") != nil {
		t.Errorf("customer %v missing %v", data["c"], data["missing"])
	}
}

// --- Discounts --------------------------------------------------------------------------------

const codeCreate = `mutation($d: DiscountCodeAppInput!) {
	discountCodeAppCreate(codeAppDiscount: $d) {
		codeAppDiscount { discountId title status startsAt endsAt discountClasses usageLimit appliesOncePerCustomer
			combinesWith { productDiscounts orderDiscounts shippingDiscounts }
			codes(first: 5) { nodes { code } } codesCount { count }
			context { __typename ... on DiscountCustomers { customers { id } } ... on DiscountBuyerSelectionAll { all } }
			appDiscountType { functionId } }
		userErrors { field code message }
	}
}`

const automaticCreate = `mutation($d: DiscountAutomaticAppInput!) {
	discountAutomaticAppCreate(automaticAppDiscount: $d) {
		automaticAppDiscount { discountId title status discountClasses }
		userErrors { field code message }
	}
}`

func codeInput(title, code string) map[string]any {
	return map[string]any{
		"title": title, "code": code, "functionHandle": FunctionHandle, "startsAt": "2026-03-01T00:00:00Z",
		"discountClasses": []string{"ORDER", "PRODUCT"}, "usageLimit": 100, "appliesOncePerCustomer": true,
		"combinesWith": map[string]any{"productDiscounts": true},
		"metafields": []any{map[string]any{
			"namespace": "$app:regulars", "key": "function-configuration", "type": "json",
			"value": `{"version":1,"offer_id":"o1","token":"tok","endpoint":"http://app.test","collectionIds":[],"customerTags":["VIP"]}`,
		}},
	}
}

func userErrors(out map[string]any, mutation string) []any {
	l, _ := dig(out, "data", mutation, "userErrors").([]any)
	return l
}

func testDiscountCodeAppMutations(t *testing.T, sc *Schemas) {
	h := newHarness(t, sc, nil)
	token := h.installToken()
	_, out := h.gql(token, codeCreate, map[string]any{"d": codeInput("Welcome back", "BACK10")})
	if errs := userErrors(out, "discountCodeAppCreate"); len(errs) != 0 || out["errors"] != nil {
		t.Fatalf("create: %v %v", errs, out["errors"])
	}
	d := dig(out, "data", "discountCodeAppCreate", "codeAppDiscount").(map[string]any)
	id := d["discountId"].(string)
	if !strings.HasPrefix(id, "gid://shopify/DiscountCodeNode/") || d["status"] != "ACTIVE" || d["usageLimit"] != float64(100) ||
		dig(d, "codes", "nodes", 0, "code") != "BACK10" || dig(d, "codesCount", "count") != float64(1) ||
		dig(d, "combinesWith", "productDiscounts") != true || dig(d, "combinesWith", "orderDiscounts") != false ||
		dig(d, "context", "__typename") != "DiscountBuyerSelectionAll" || dig(d, "appDiscountType", "functionId") != h.srv.functionID {
		t.Errorf("created %v", d)
	}
	if got := fmt.Sprint(d["discountClasses"]); got != "[ORDER PRODUCT]" {
		t.Errorf("classes %s", got)
	}
	if dig(out, "extensions", "cost", "requestedQueryCost").(float64) < 10 {
		t.Errorf("mutation cost %v", dig(out, "extensions", "cost"))
	}

	// userErrors as the platform gives them.
	for name, tc := range map[string]struct {
		mod  func(map[string]any)
		code string
		path string
	}{
		"duplicate code":   {func(m map[string]any) { m["code"] = "back10" }, "TAKEN", "[codeAppDiscount code]"},
		"unknown function": {func(m map[string]any) { m["functionHandle"] = "someone-elses" }, "INVALID", "[codeAppDiscount functionHandle]"},
		"no function":      {func(m map[string]any) { delete(m, "functionHandle") }, "MISSING_FUNCTION_IDENTIFIER", "[codeAppDiscount functionHandle]"},
		"ends before":      {func(m map[string]any) { m["endsAt"] = "2026-02-01T00:00:00Z" }, "END_DATE_BEFORE_START_DATE", "[codeAppDiscount endsAt]"},
		"blank title":      {func(m map[string]any) { m["title"] = " " }, "BLANK", "[codeAppDiscount title]"},
		"usage limit":      {func(m map[string]any) { m["usageLimit"] = 0 }, "GREATER_THAN", "[codeAppDiscount usageLimit]"},
		"bad json":         {func(m map[string]any) { m["metafields"].([]any)[0].(map[string]any)["value"] = "{" }, "INVALID", "[codeAppDiscount metafields 0 value]"},
		"two contexts": {func(m map[string]any) {
			m["context"] = map[string]any{"all": "ALL", "customers": map[string]any{"add": []string{}}}
		}, "INVALID", "[codeAppDiscount context]"},
	} {
		in := codeInput("Other", "OTHER-"+strings.ReplaceAll(name, " ", "-"))
		tc.mod(in)
		_, out := h.gql(token, codeCreate, map[string]any{"d": in})
		errs := userErrors(out, "discountCodeAppCreate")
		if len(errs) == 0 || dig(errs, 0, "code") != tc.code || fmt.Sprint(dig(errs, 0, "field")) != tc.path ||
			dig(out, "data", "discountCodeAppCreate", "codeAppDiscount") != nil {
			t.Errorf("%s: %v %v", name, errs, out["errors"])
		}
	}

	// Update: a new title, an end date, customers as the context; unknown id is a userError.
	const update = `mutation($id: ID!, $d: DiscountCodeAppInput!) {
		discountCodeAppUpdate(id: $id, codeAppDiscount: $d) {
			codeAppDiscount { title endsAt status context { __typename ... on DiscountCustomers { customers { id } } } codes(first: 2) { nodes { code } } }
			userErrors { field code message }
		}
	}`
	custID := dig(h.mustData(token, `{ customers(first: 1) { nodes { id } } }`, nil), "customers", "nodes", 0, "id")
	_, out = h.gql(token, update, map[string]any{"id": id, "d": map[string]any{
		"title": "Welcome back!", "endsAt": "2026-12-31T00:00:00Z", "code": "BACK15",
		"context": map[string]any{"customers": map[string]any{"add": []any{custID}}},
	}})
	u := dig(out, "data", "discountCodeAppUpdate", "codeAppDiscount")
	if len(userErrors(out, "discountCodeAppUpdate")) != 0 || dig(u, "title") != "Welcome back!" || dig(u, "endsAt") != "2026-12-31T00:00:00Z" ||
		dig(u, "context", "customers", 0, "id") != custID || dig(u, "codes", "nodes", 0, "code") != "BACK15" {
		t.Errorf("update: %v %v", u, userErrors(out, "discountCodeAppUpdate"))
	}
	_, out = h.gql(token, update, map[string]any{"id": "gid://shopify/DiscountCodeNode/42", "d": map[string]any{"title": "x"}})
	if errs := userErrors(out, "discountCodeAppUpdate"); len(errs) != 1 || fmt.Sprint(dig(errs, 0, "field")) != "[id]" {
		t.Errorf("unknown id: %v", errs)
	}
	_, out = h.gql(token, update, map[string]any{"id": id, "d": map[string]any{"endsAt": "2020-01-01T00:00:00Z"}})
	if errs := userErrors(out, "discountCodeAppUpdate"); len(errs) != 1 || dig(errs, 0, "code") != "END_DATE_BEFORE_START_DATE" {
		t.Errorf("update ends before: %v", errs)
	}

	// Pause and resume.
	const deactivate = `mutation($id: ID!) { discountCodeDeactivate(id: $id) { codeDiscountNode { codeDiscount { ... on DiscountCodeApp { status endsAt } } } userErrors { message } } }`
	const activate = `mutation($id: ID!) { discountCodeActivate(id: $id) { codeDiscountNode { codeDiscount { ... on DiscountCodeApp { status endsAt } } } userErrors { message } } }`
	data := h.mustData(token, deactivate, map[string]any{"id": id})
	if dig(data, "discountCodeDeactivate", "codeDiscountNode", "codeDiscount", "status") != "EXPIRED" {
		t.Errorf("deactivate %v", data)
	}
	data = h.mustData(token, activate, map[string]any{"id": id})
	if dig(data, "discountCodeActivate", "codeDiscountNode", "codeDiscount", "status") != "ACTIVE" ||
		dig(data, "discountCodeActivate", "codeDiscountNode", "codeDiscount", "endsAt") != nil {
		t.Errorf("activate %v", data)
	}

	// Reconciliation reads: discountNodes and discountNode with the configuration metafield.
	data = h.mustData(token, `query($id: ID!) {
		discountNodes(first: 10, query: "method:code") { nodes { id discount { __typename ... on DiscountCodeApp { title } } } }
		discountNode(id: $id) { id metafield(namespace: "$app:regulars", key: "function-configuration") { namespace key type jsonValue value } }
	}`, map[string]any{"id": id})
	if dig(data, "discountNodes", "nodes", 0, "discount", "__typename") != "DiscountCodeApp" ||
		dig(data, "discountNode", "metafield", "jsonValue", "offer_id") != "o1" || dig(data, "discountNode", "metafield", "type") != "json" {
		t.Errorf("reads %v", data)
	}

	// Delete.
	data = h.mustData(token, `mutation($id: ID!) { discountCodeDelete(id: $id) { deletedCodeDiscountId userErrors { message } } }`, map[string]any{"id": id})
	if dig(data, "discountCodeDelete", "deletedCodeDiscountId") != id {
		t.Errorf("delete %v", data)
	}
	data = h.mustData(token, `mutation($id: ID!) { discountCodeDelete(id: $id) { deletedCodeDiscountId userErrors { field message } } }`, map[string]any{"id": id})
	if dig(data, "discountCodeDelete", "deletedCodeDiscountId") != nil || dig(data, "discountCodeDelete", "userErrors", 0, "message") == nil {
		t.Errorf("delete twice %v", data)
	}
}

func testDiscountAutomaticAppMutations(t *testing.T, sc *Schemas) {
	h := newHarness(t, sc, nil)
	token := h.installToken()
	in := codeInput("VIP 10%", "")
	delete(in, "code")
	delete(in, "usageLimit")
	delete(in, "appliesOncePerCustomer")
	_, out := h.gql(token, automaticCreate, map[string]any{"d": in})
	if errs := userErrors(out, "discountAutomaticAppCreate"); len(errs) != 0 {
		t.Fatalf("create: %v %v", errs, out["errors"])
	}
	id := dig(out, "data", "discountAutomaticAppCreate", "automaticAppDiscount", "discountId").(string)
	if !strings.HasPrefix(id, "gid://shopify/DiscountAutomaticNode/") {
		t.Errorf("id %s", id)
	}
	// A code field is not part of the automatic input: validation refuses it.
	bad := codeInput("x", "CODE")
	_, out = h.gql(token, automaticCreate, map[string]any{"d": bad})
	if dig(out, "errors", 0, "extensions", "code") != "INVALID_VARIABLE" {
		t.Errorf("code on automatic: %v", out["errors"])
	}
	data := h.mustData(token, `mutation($id: ID!, $d: DiscountAutomaticAppInput!) {
		discountAutomaticAppUpdate(id: $id, automaticAppDiscount: $d) { automaticAppDiscount { title discountClasses } userErrors { message } } }`,
		map[string]any{"id": id, "d": map[string]any{"title": "VIP 15%", "discountClasses": []string{"SHIPPING"}}})
	if dig(data, "discountAutomaticAppUpdate", "automaticAppDiscount", "title") != "VIP 15%" {
		t.Errorf("update %v", data)
	}
	data = h.mustData(token, `mutation($id: ID!) { discountAutomaticDeactivate(id: $id) { automaticDiscountNode { automaticDiscount { ... on DiscountAutomaticApp { status } } } userErrors { message } } }`, map[string]any{"id": id})
	if dig(data, "discountAutomaticDeactivate", "automaticDiscountNode", "automaticDiscount", "status") != "EXPIRED" {
		t.Errorf("deactivate %v", data)
	}
	data = h.mustData(token, `mutation($id: ID!) { discountAutomaticActivate(id: $id) { automaticDiscountNode { automaticDiscount { ... on DiscountAutomaticApp { status } } } userErrors { message } } }`, map[string]any{"id": id})
	if dig(data, "discountAutomaticActivate", "automaticDiscountNode", "automaticDiscount", "status") != "ACTIVE" {
		t.Errorf("activate %v", data)
	}
	// A code mutation on an automatic discount: the discount does not exist for it.
	data = h.mustData(token, `mutation($id: ID!) { discountCodeDeactivate(id: $id) { userErrors { field message } } }`, map[string]any{"id": id})
	if dig(data, "discountCodeDeactivate", "userErrors", 0, "message") != "Discount does not exist" {
		t.Errorf("wrong kind %v", data)
	}
	data = h.mustData(token, `mutation($id: ID!) { discountAutomaticDelete(id: $id) { deletedAutomaticDiscountId userErrors { message } } }`, map[string]any{"id": id})
	if dig(data, "discountAutomaticDelete", "deletedAutomaticDiscountId") != id {
		t.Errorf("delete %v", data)
	}
}

func testRedeemCodeBulkAdd(t *testing.T, sc *Schemas) {
	h := newHarness(t, sc, func(c *Config) { c.AsyncDelay = time.Second })
	token := h.installToken()
	h.mustData(token, codeCreate, map[string]any{"d": codeInput("Other", "TAKEN1")})
	_, out := h.gql(token, codeCreate, map[string]any{"d": codeInput("Bulk", "BULK-0")})
	id := dig(out, "data", "discountCodeAppCreate", "codeAppDiscount", "discountId").(string)

	const add = `mutation($id: ID!, $codes: [DiscountRedeemCodeInput!]!) {
		discountRedeemCodeBulkAdd(discountId: $id, codes: $codes) {
			bulkCreation { id done codesCount importedCount failedCount }
			userErrors { field code message }
		}
	}`
	codes := func(list ...string) []any {
		out := make([]any, len(list))
		for i, c := range list {
			out[i] = map[string]any{"code": c}
		}
		return out
	}
	var many []string
	for i := 0; i < 251; i++ {
		many = append(many, fmt.Sprintf("MANY-%03d", i))
	}
	_, out = h.gql(token, add, map[string]any{"id": id, "codes": codes(many...)})
	if errs := userErrors(out, "discountRedeemCodeBulkAdd"); len(errs) != 1 || dig(errs, 0, "code") != "EXCEEDED_MAX" ||
		dig(out, "data", "discountRedeemCodeBulkAdd", "bulkCreation") != nil {
		t.Errorf("251 codes: %v", errs)
	}
	_, out = h.gql(token, add, map[string]any{"id": "gid://shopify/DiscountCodeNode/9", "codes": codes("A")})
	if errs := userErrors(out, "discountRedeemCodeBulkAdd"); len(errs) != 1 || fmt.Sprint(dig(errs, 0, "field")) != "[discountId]" {
		t.Errorf("unknown discount: %v", errs)
	}
	// 250 is fine; here: two new codes, one taken elsewhere, one repeated, one blank.
	data := h.mustData(token, add, map[string]any{"id": id, "codes": codes("BULK-1", "taken1", "BULK-2", "bulk-1", "")})
	bc := dig(data, "discountRedeemCodeBulkAdd", "bulkCreation").(map[string]any)
	if bc["done"] != false || bc["codesCount"] != float64(5) || bc["importedCount"] != float64(0) {
		t.Errorf("bulk creation %v", bc)
	}
	const poll = `query($id: ID!) { discountRedeemCodeBulkCreation(id: $id) { done codesCount importedCount failedCount codes(first: 10) { nodes { code errors { code } } } } }`
	data = h.mustData(token, poll, map[string]any{"id": bc["id"]})
	if dig(data, "discountRedeemCodeBulkCreation", "done") != false {
		t.Errorf("done before its time %v", data)
	}
	h.clock.Advance(time.Second)
	data = h.mustData(token, poll, map[string]any{"id": bc["id"]})
	got := data["discountRedeemCodeBulkCreation"].(map[string]any)
	if got["done"] != true || got["importedCount"] != float64(2) || got["failedCount"] != float64(3) {
		t.Errorf("after import %v", got)
	}
	if dig(got, "codes", "nodes", 1, "errors", 0, "code") != "TAKEN" || dig(got, "codes", "nodes", 4, "errors", 0, "code") != "BLANK" {
		t.Errorf("code errors %v", got["codes"])
	}
	data = h.mustData(token, `query($id: ID!) { discountNode(id: $id) { discount { ... on DiscountCodeApp { codesCount { count } } } } }`, map[string]any{"id": id})
	if dig(data, "discountNode", "discount", "codesCount", "count") != float64(3) {
		t.Errorf("codes after import %v", data)
	}
}

func testWebhookSubscriptionAndTagsAdd(t *testing.T, sc *Schemas) {
	h := newHarness(t, sc, nil)
	token := h.installToken()
	const create = `mutation($uri: String!) { webhookSubscriptionCreate(topic: CUSTOMERS_UPDATE, webhookSubscription: {uri: $uri, format: JSON}) {
		webhookSubscription { id topic uri } userErrors { field message } } }`
	data := h.mustData(token, create, map[string]any{"uri": "/webhooks"})
	if dig(data, "webhookSubscriptionCreate", "webhookSubscription", "topic") != "CUSTOMERS_UPDATE" {
		t.Errorf("create %v", data)
	}
	data = h.mustData(token, create, map[string]any{"uri": "/webhooks"})
	if dig(data, "webhookSubscriptionCreate", "userErrors", 0, "message") != "Address for this topic has already been taken" {
		t.Errorf("duplicate %v", data)
	}
	data = h.mustData(token, create, map[string]any{"uri": "ftp://x"})
	if dig(data, "webhookSubscriptionCreate", "userErrors", 0, "message") != "Address is invalid" {
		t.Errorf("invalid %v", data)
	}
	// The app's scopes have write_orders, not write_customers.
	ids := h.mustData(token, `{ customers(first: 1) { nodes { id } } orders(first: 1) { nodes { id } } }`, nil)
	_, out := h.gql(token, `mutation($id: ID!) { tagsAdd(id: $id, tags: ["x"]) { userErrors { message } } }`, map[string]any{"id": dig(ids, "customers", "nodes", 0, "id")})
	if dig(out, "errors", 0, "extensions", "code") != "ACCESS_DENIED" {
		t.Errorf("customer tags without write_customers: %v", out["errors"])
	}
	data = h.mustData(token, `mutation($id: ID!) { tagsAdd(id: $id, tags: ["regulars-cod, checked", "VIP"]) { node { ... on Order { tags } } userErrors { message } } }`, map[string]any{"id": dig(ids, "orders", "nodes", 0, "id")})
	if tags := fmt.Sprint(dig(data, "tagsAdd", "node", "tags")); tags != "[regulars-cod checked VIP]" {
		t.Errorf("tags %s", tags)
	}
}
