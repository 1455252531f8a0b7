package schemacheck

import (
	"errors"
	"strings"
	"sync"
	"testing"
)

const functionSchemaPath = "../../discountfn/extension/schema.graphql"

var (
	functionSchemaOnce sync.Once
	functionSchema     *Schema
	functionSchemaErr  error
)

// loadFunctionSchema loads the platform's Discount Function schema (API 2025-04) once.
func loadFunctionSchema(t *testing.T) *Schema {
	t.Helper()
	functionSchemaOnce.Do(func() {
		functionSchema, functionSchemaErr = LoadFiles(functionSchemaPath)
	})
	if functionSchemaErr != nil {
		t.Fatalf("load function schema: %v", functionSchemaErr)
	}
	return functionSchema
}

const (
	cartLinesResult = "CartLinesDiscountsGenerateRunResult"
	deliveryResult  = "CartDeliveryOptionsDiscountsGenerateRunResult"
)

func TestValidateValueAccepts(t *testing.T) {
	s := loadFunctionSchema(t)
	tests := []struct {
		name     string
		typeName string
		json     string
	}{
		{"no operations", cartLinesResult, `{"operations": []}`},
		{"product discounts", cartLinesResult, `{"operations": [{"productDiscountsAdd": {
			"selectionStrategy": "ALL",
			"candidates": [
				{"message": "10% off", "targets": [{"cartLine": {"id": "gid://shopify/CartLine/0", "quantity": 2}}],
				 "value": {"percentage": {"value": "10.0"}}},
				{"targets": [{"cartLine": {"id": "gid://shopify/CartLine/1", "quantity": null}}],
				 "value": {"fixedAmount": {"amount": "2.50", "appliesToEachItem": true}},
				 "associatedDiscountCode": {"code": "WELCOME10"}},
				{"targets": [{"cartLine": {"id": "gid://shopify/CartLine/2"}}],
				 "value": {"fixedAmount": {"amount": "1"}}, "message": null}
			]}}]}`},
		{"order discount with conditions", cartLinesResult, `{"operations": [{"orderDiscountsAdd": {
			"selectionStrategy": "MAXIMUM",
			"candidates": [{
				"message": "5 off over 50",
				"targets": [{"orderSubtotal": {"excludedCartLineIds": ["gid://shopify/CartLine/2"]}}],
				"value": {"fixedAmount": {"amount": "5.0"}},
				"conditions": [
					{"orderMinimumSubtotal": {"minimumAmount": "50.0", "excludedCartLineIds": []}},
					{"cartLineMinimumQuantity": {"ids": ["gid://shopify/CartLine/0"], "minimumQuantity": 2}},
					{"cartLineMinimumSubtotal": {"ids": ["gid://shopify/CartLine/0"], "minimumAmount": "20"}}
				],
				"associatedDiscountCode": {"code": "SPRING"}
			}]}}]}`},
		{"order discount, conditions null", cartLinesResult, `{"operations": [{"orderDiscountsAdd": {
			"selectionStrategy": "FIRST",
			"candidates": [{"targets": [{"orderSubtotal": {"excludedCartLineIds": []}}],
				"value": {"percentage": {"value": "-0.5"}}, "conditions": null}]}}]}`},
		{"entered codes accepted", cartLinesResult, `{"operations": [
			{"enteredDiscountCodesAccept": {"codes": [{"code": "WELCOME10"}, {"code": "VIP"}]}}]}`},
		{"all cart operations together", cartLinesResult, `{"operations": [
			{"productDiscountsAdd": {"selectionStrategy": "FIRST", "candidates": []}},
			{"orderDiscountsAdd": {"selectionStrategy": "FIRST", "candidates": []}},
			{"enteredDiscountCodesAccept": {"codes": []}}]}`},
		{"delivery discounts", deliveryResult, `{"operations": [
			{"deliveryDiscountsAdd": {"selectionStrategy": "ALL", "candidates": [
				{"message": "Free shipping", "targets": [{"deliveryGroup": {"id": "gid://shopify/CartDeliveryGroup/0"}}],
				 "value": {"percentage": {"value": "100"}}},
				{"targets": [{"deliveryOption": {"handle": "b0a1c2d3-standard"}}],
				 "value": {"fixedAmount": {"amount": "2.00"}}, "associatedDiscountCode": {"code": "SHIP"}}
			]}},
			{"enteredDiscountCodesAccept": {"codes": [{"code": "SHIP"}]}}]}`},
		{"fetch request", "CartLinesDiscountsGenerateFetchResult", `{"request": {
			"method": "POST", "url": "https://regulars.example.com/api/checkout/cart-lines",
			"headers": [{"name": "authorization", "value": "Bearer x"}],
			"jsonBody": {"cart": {"lines": []}, "anything": [1, "two", null]},
			"policy": {"readTimeoutMs": 2000}}}`},
		{"no fetch request", "CartDeliveryOptionsDiscountsGenerateFetchResult", `{"request": null}`},
		{"enum at the root", "DiscountClass", `"SHIPPING"`},
		{"scalar at the root", "Decimal", `"12.30"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := s.ValidateValue(tt.typeName, []byte(tt.json)); err != nil {
				t.Errorf("ValidateValue(%s) = %v, want nil", tt.typeName, err)
			}
		})
	}
}

func TestValidateValueRejects(t *testing.T) {
	s := loadFunctionSchema(t)
	const productOp = `{"operations": [{"productDiscountsAdd": {"selectionStrategy": "FIRST", "candidates": [
		{"targets": [{"cartLine": {"id": "gid://shopify/CartLine/0"}}], "value": {"percentage": {"value": "10"}}},
		%s]}}]}`
	product := func(candidate string) string { return strings.Replace(productOp, "%s", candidate, 1) }
	tests := []struct {
		name     string
		typeName string
		json     string
		// want lists "path: message fragment" pairs; every one must be among the errors, and
		// there must be no other error.
		want []string
	}{
		{
			name: "unknown field", typeName: cartLinesResult,
			json: product(`{"targets": [{"cartLine": {"id": "gid://shopify/CartLine/1"}}],
				"value": {"percentage": {"value": "5"}}, "title": "x"}`),
			want: []string{`operations[0].productDiscountsAdd.candidates[1].title: unknown field "title" on ProductDiscountCandidate`},
		},
		{
			name: "unknown field with an odd name", typeName: cartLinesResult,
			json: `{"operations": [], "a b": 1}`,
			want: []string{`["a b"]: unknown field "a b" on CartLinesDiscountsGenerateRunResult`},
		},
		{
			name: "missing required field", typeName: cartLinesResult,
			json: product(`{"value": {"percentage": {"value": "5"}}}`),
			want: []string{`operations[0].productDiscountsAdd.candidates[1].targets: required field ProductDiscountCandidate.targets ([ProductDiscountCandidateTarget!]!) is missing`},
		},
		{
			name: "missing operations", typeName: deliveryResult,
			json: `{}`,
			want: []string{`operations: required field`},
		},
		{
			name: "required field null", typeName: cartLinesResult,
			json: `{"operations": [{"enteredDiscountCodesAccept": {"codes": [{"code": null}]}}]}`,
			want: []string{`operations[0].enteredDiscountCodesAccept.codes[0].code: expected String!, got null`},
		},
		{
			name: "null list item", typeName: cartLinesResult,
			json: `{"operations": [null]}`,
			want: []string{`operations[0]: expected CartOperation!, got null`},
		},
		{
			name: "oneOf with 2 members", typeName: cartLinesResult,
			json: product(`{"targets": [{"cartLine": {"id": "gid://shopify/CartLine/1"}}],
				"value": {"percentage": {"value": "5"}, "fixedAmount": {"amount": "1.0"}}}`),
			want: []string{`operations[0].productDiscountsAdd.candidates[1].value: oneOf requires exactly one field, got 2`},
		},
		{
			name: "oneOf with 0 members", typeName: cartLinesResult,
			json: product(`{"targets": [{"cartLine": {"id": "gid://shopify/CartLine/1"}}], "value": {}}`),
			want: []string{`operations[0].productDiscountsAdd.candidates[1].value: oneOf requires exactly one field, got 0`},
		},
		{
			name: "oneOf operation with 2 members", typeName: cartLinesResult,
			json: `{"operations": [{"enteredDiscountCodesAccept": {"codes": []},
				"orderDiscountsAdd": {"selectionStrategy": "FIRST", "candidates": []}}]}`,
			want: []string{`operations[0]: oneOf requires exactly one field, got 2 (enteredDiscountCodesAccept, orderDiscountsAdd)`},
		},
		{
			name: "oneOf member null", typeName: cartLinesResult,
			json: `{"operations": [{"productDiscountsAdd": null}]}`,
			want: []string{`operations[0].productDiscountsAdd: oneOf field CartOperation.productDiscountsAdd must be non-null`},
		},
		{
			name: "operation not allowed on the target", typeName: cartLinesResult,
			json: `{"operations": [{"deliveryDiscountsAdd": {"selectionStrategy": "ALL", "candidates": []}}]}`,
			want: []string{
				`operations[0].deliveryDiscountsAdd: unknown field "deliveryDiscountsAdd" on CartOperation`,
				`operations[0]: oneOf requires exactly one field, got 0`,
			},
		},
		{
			name: "bad enum", typeName: cartLinesResult,
			json: `{"operations": [{"orderDiscountsAdd": {"selectionStrategy": "BEST", "candidates": []}}]}`,
			want: []string{`operations[0].orderDiscountsAdd.selectionStrategy: "BEST" is not a value of enum OrderDiscountSelectionStrategy (FIRST, MAXIMUM)`},
		},
		{
			name: "enum valid elsewhere but not here", typeName: deliveryResult,
			json: `{"operations": [{"deliveryDiscountsAdd": {"selectionStrategy": "FIRST", "candidates": []}}]}`,
			want: []string{`operations[0].deliveryDiscountsAdd.selectionStrategy: "FIRST" is not a value of enum DeliveryDiscountSelectionStrategy`},
		},
		{
			name: "enum not a string", typeName: cartLinesResult,
			json: `{"operations": [{"productDiscountsAdd": {"selectionStrategy": 1, "candidates": []}}]}`,
			want: []string{`operations[0].productDiscountsAdd.selectionStrategy: expected enum ProductDiscountSelectionStrategy, got number 1`},
		},
		{
			name: "Decimal given as number", typeName: cartLinesResult,
			json: product(`{"targets": [{"cartLine": {"id": "gid://shopify/CartLine/1"}}],
				"value": {"fixedAmount": {"amount": 5.5}}}`),
			want: []string{`operations[0].productDiscountsAdd.candidates[1].value.fixedAmount.amount: expected Decimal (a decimal number in a JSON string), got number 5.5`},
		},
		{
			name: "Decimal abc", typeName: cartLinesResult,
			json: product(`{"targets": [{"cartLine": {"id": "gid://shopify/CartLine/1"}}],
				"value": {"percentage": {"value": "abc"}}}`),
			want: []string{`operations[0].productDiscountsAdd.candidates[1].value.percentage.value: expected Decimal, got "abc" (not a decimal number)`},
		},
		{
			name: "Decimal with exponent", typeName: "Decimal", json: `"1e3"`,
			want: []string{`$: expected Decimal, got "1e3"`},
		},
		{
			name: "percentage value missing", typeName: cartLinesResult,
			json: product(`{"targets": [{"cartLine": {"id": "gid://shopify/CartLine/1"}}],
				"value": {"percentage": {}}}`),
			want: []string{`operations[0].productDiscountsAdd.candidates[1].value.percentage.value: required field Percentage.value (Decimal!) is missing`},
		},
		{
			name: "quantity as string", typeName: cartLinesResult,
			json: product(`{"targets": [{"cartLine": {"id": "gid://shopify/CartLine/1", "quantity": "2"}}],
				"value": {"percentage": {"value": "5"}}}`),
			want: []string{`operations[0].productDiscountsAdd.candidates[1].targets[0].cartLine.quantity: expected Int, got string "2"`},
		},
		{
			name: "quantity not integral", typeName: cartLinesResult,
			json: product(`{"targets": [{"cartLine": {"id": "gid://shopify/CartLine/1", "quantity": 1.5}}],
				"value": {"percentage": {"value": "5"}}}`),
			want: []string{`operations[0].productDiscountsAdd.candidates[1].targets[0].cartLine.quantity: expected Int, got non-integer number 1.5`},
		},
		{
			name: "quantity beyond int32", typeName: cartLinesResult,
			json: product(`{"targets": [{"cartLine": {"id": "gid://shopify/CartLine/1", "quantity": 2147483648}}],
				"value": {"percentage": {"value": "5"}}}`),
			want: []string{`operations[0].productDiscountsAdd.candidates[1].targets[0].cartLine.quantity: expected Int, got 2147483648 (outside the 32-bit range)`},
		},
		{
			name: "ID given as number", typeName: cartLinesResult,
			json: product(`{"targets": [{"cartLine": {"id": 7}}], "value": {"percentage": {"value": "5"}}}`),
			want: []string{`operations[0].productDiscountsAdd.candidates[1].targets[0].cartLine.id: expected ID (a JSON string), got number 7`},
		},
		{
			name: "Boolean given as string", typeName: cartLinesResult,
			json: product(`{"targets": [{"cartLine": {"id": "gid://shopify/CartLine/1"}}],
				"value": {"fixedAmount": {"amount": "1", "appliesToEachItem": "true"}}}`),
			want: []string{`operations[0].productDiscountsAdd.candidates[1].value.fixedAmount.appliesToEachItem: expected Boolean, got string "true"`},
		},
		{
			name: "list given as object", typeName: cartLinesResult,
			json: `{"operations": {"enteredDiscountCodesAccept": {"codes": []}}}`,
			want: []string{`operations: expected list [CartOperation!]!, got object`},
		},
		{
			name: "object given as list", typeName: cartLinesResult,
			json: `{"operations": [[]]}`,
			want: []string{`operations[0]: expected input object CartOperation, got list of 0`},
		},
		{
			name: "root not an object", typeName: cartLinesResult, json: `[]`,
			want: []string{`$: expected input object CartLinesDiscountsGenerateRunResult, got list of 0`},
		},
		{
			name: "root null", typeName: cartLinesResult, json: `null`,
			want: []string{`$: expected CartLinesDiscountsGenerateRunResult!, got null`},
		},
		{
			name: "bad URL and Handle", typeName: "CartLinesDiscountsGenerateFetchResult",
			json: `{"request": {"method": "PUT", "url": "/relative", "headers": [],
				"policy": {"readTimeoutMs": 2000}}}`,
			want: []string{
				`request.method: "PUT" is not a value of enum HttpRequestMethod (GET, POST)`,
				`request.url: expected URL, got "/relative"`,
			},
		},
		{
			name: "bad Handle", typeName: deliveryResult,
			json: `{"operations": [{"deliveryDiscountsAdd": {"selectionStrategy": "ALL", "candidates": [
				{"targets": [{"deliveryOption": {"handle": "two words"}}], "value": {"percentage": {"value": "5"}}}]}}]}`,
			want: []string{`operations[0].deliveryDiscountsAdd.candidates[0].targets[0].deliveryOption.handle: expected Handle, got "two words"`},
		},
		{
			name: "every problem is listed", typeName: cartLinesResult,
			json: `{"operations": [
				{"orderDiscountsAdd": {"selectionStrategy": "BEST", "candidates": [
					{"targets": [{"orderSubtotal": {}}], "value": {"percentage": {"value": 10}}}]}},
				{"enteredDiscountCodesAccept": {"codes": [{}]}}]}`,
			want: []string{
				`operations[0].orderDiscountsAdd.candidates[0].targets[0].orderSubtotal.excludedCartLineIds: required field`,
				`operations[0].orderDiscountsAdd.candidates[0].value.percentage.value: expected Decimal`,
				`operations[0].orderDiscountsAdd.selectionStrategy: "BEST" is not a value`,
				`operations[1].enteredDiscountCodesAccept.codes[0].code: required field DiscountCode.code (String!) is missing`,
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := s.ValidateValue(tt.typeName, []byte(tt.json))
			if err == nil {
				t.Fatalf("ValidateValue(%s) = nil, want errors %q", tt.typeName, tt.want)
			}
			var errs ValueErrors
			if !errors.As(err, &errs) {
				t.Fatalf("ValidateValue error is %T (%v), want ValueErrors", err, err)
			}
			got := make([]string, len(errs))
			for i, e := range errs {
				got[i] = e.Error()
			}
			if len(got) != len(tt.want) {
				t.Errorf("got %d errors, want %d:\n%s", len(got), len(tt.want), strings.Join(got, "\n"))
			}
			for _, w := range tt.want {
				found := false
				for _, g := range got {
					if strings.HasPrefix(g, w) {
						found = true
						break
					}
				}
				if !found {
					t.Errorf("no error starting with %q among:\n%s", w, strings.Join(got, "\n"))
				}
			}
		})
	}
}

func TestValidateValueScalars(t *testing.T) {
	s, err := LoadString("scalars.graphql", `
		scalar Decimal
		scalar Handle
		scalar URL
		scalar Date
		scalar DateTime
		scalar DateTimeWithoutTimezone
		scalar TimeWithoutTimezone
		scalar JSON
		scalar Void
		scalar Money
		type Query { ok: Boolean }
		input Values {
			s: String i: Int f: Float b: Boolean id: ID
			decimal: Decimal handle: Handle url: URL date: Date dateTime: DateTime
			local: DateTimeWithoutTimezone time: TimeWithoutTimezone json: JSON void: Void money: Money
			defaulted: Int! = 3
		}`)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		field string
		value string
		ok    bool
	}{
		{"s", `"x"`, true}, {"s", `1`, false},
		{"i", `-2147483648`, true}, {"i", `2147483647`, true}, {"i", `-2147483649`, false},
		{"i", `1.0`, false}, {"i", `1e2`, false}, {"i", `true`, false},
		{"f", `1.5e3`, true}, {"f", `2`, true}, {"f", `1e400`, false}, {"f", `"1.5"`, false},
		{"b", `false`, true}, {"b", `0`, false},
		{"id", `"gid://shopify/Product/1"`, true}, {"id", `1`, false},
		{"decimal", `"0"`, true}, {"decimal", `"-12.340"`, true}, {"decimal", `"1."`, false},
		{"decimal", `".5"`, false}, {"decimal", `"+1"`, false}, {"decimal", `" 1"`, false},
		{"decimal", `"NaN"`, false}, {"decimal", `1`, false},
		{"handle", `"standard-shipping"`, true}, {"handle", `""`, false}, {"handle", `"a\tb"`, false},
		{"url", `"https://example.com/x?y=1"`, true}, {"url", `"example.com"`, false}, {"url", `"https://"`, false},
		{"date", `"2025-04-01"`, true}, {"date", `"2025-4-1"`, false}, {"date", `"2025-02-30"`, false},
		{"dateTime", `"2025-04-01T10:00:00Z"`, true}, {"dateTime", `"2025-04-01T10:00:00.123+02:00"`, true},
		{"dateTime", `"2025-04-01T10:00:00"`, false},
		{"local", `"2025-04-01T10:00:00"`, true}, {"local", `"2025-04-01T10:00:00.5"`, true},
		{"local", `"2025-04-01"`, false},
		{"time", `"23:59:59"`, true}, {"time", `"24:00:00"`, false},
		{"json", `{"a": [1, null]}`, true}, {"json", `"x"`, true},
		{"void", `null`, true}, {"void", `0`, false},
		{"money", `{"any": "thing"}`, true},
		{"defaulted", `null`, false}, {"defaulted", `4`, true},
	}
	for _, tt := range tests {
		doc := `{"` + tt.field + `": ` + tt.value + `}`
		err := s.ValidateValue("Values", []byte(doc))
		if (err == nil) != tt.ok {
			t.Errorf("%s: err = %v, want ok=%v", doc, err, tt.ok)
		} else if err != nil && !strings.HasPrefix(err.Error(), tt.field+": ") {
			t.Errorf("%s: error %q does not name the path %q", doc, err, tt.field)
		}
	}
	if err := s.ValidateValue("Values", []byte(`{}`)); err != nil {
		t.Errorf("defaulted non-null field may be absent: %v", err)
	}
}

func TestValidateValueUsageErrors(t *testing.T) {
	s := loadFunctionSchema(t)
	var errs ValueErrors
	for _, tt := range []struct{ typeName, json string }{
		{"NoSuchType", `{}`},
		{"Cart", `{}`}, // an output type
		{cartLinesResult, `{"operations": [}`},
		{cartLinesResult, `{"operations": []} {}`},
		{cartLinesResult, ``},
	} {
		err := s.ValidateValue(tt.typeName, []byte(tt.json))
		if err == nil || errors.As(err, &errs) {
			t.Errorf("ValidateValue(%s, %q) = %v, want a plain error", tt.typeName, tt.json, err)
		}
	}
}
