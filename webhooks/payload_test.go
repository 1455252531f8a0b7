package webhooks

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/regularsapp/regulars/discountfn"
	"github.com/regularsapp/regulars/store"
)

const testShop = "regulars-test.myshopify.com"

func readTestdata(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func mustTime(t *testing.T, s string) time.Time {
	t.Helper()
	tm, err := time.Parse(time.RFC3339, s)
	if err != nil {
		t.Fatal(err)
	}
	return tm.UTC()
}

// object is a JSON object under construction; json.Number values keep ids exact.
type object = map[string]any

// baseOrder is a small, complete order payload in USD.
func baseOrder() object {
	return object{
		"id":                    json.Number("1001"),
		"admin_graphql_api_id":  "gid://shopify/Order/1001",
		"email":                 "Jo.Buyer+shop@GoogleMail.com",
		"created_at":            "2026-03-01T10:00:00+01:00",
		"updated_at":            "2026-03-01T10:05:00+01:00",
		"currency":              "USD",
		"presentment_currency":  "USD",
		"subtotal_price":        "90.00",
		"total_price":           "95.50",
		"total_discounts":       "10.00",
		"financial_status":      "paid",
		"test":                  false,
		"browser_ip":            "203.0.113.7",
		"payment_gateway_names": []string{"shopify_payments"},
		"customer": object{
			"id":                   json.Number("7001"),
			"email":                "jo.buyer@gmail.com",
			"admin_graphql_api_id": "gid://shopify/Customer/7001",
		},
		"shipping_address": object{
			"address1": "12 Rue de Rivoli", "city": "Paris", "zip": "75001",
			"country": "France", "country_code": "fr", "phone": "+33 1 23 45 67 89",
		},
		"shipping_lines": []object{{"title": "Colissimo", "price": "5.50"}},
		"discount_codes": []object{{"code": " welcome10 ", "amount": "10.00", "type": "fixed_amount"}},
		"discount_applications": []object{
			{"type": "discount_code", "code": "welcome10", "value": "10.0", "value_type": "fixed_amount"},
		},
		"line_items": []object{
			{
				"id": json.Number("501"), "product_id": json.Number("601"), "variant_id": json.Number("701"),
				"quantity": 2, "price": "45.00",
				"discount_allocations": []object{{"amount": "10.00", "discount_application_index": 0}},
			},
		},
		"refunds": []object{},
	}
}

func marshal(t testing.TB, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestParseOrderFixture(t *testing.T) {
	o, err := ParseOrder(testShop, readTestdata(t, "order-rest-sample.json"))
	if err != nil {
		t.Fatal(err)
	}
	cancelled := mustTime(t, "2016-05-17T08:14:36Z")
	want := store.Order{
		Shop:            testShop,
		ID:              "123456",
		CustomerID:      "", // the sample's customer has a null id
		Email:           "jon@doe.ca",
		Phone:           "555555", // the shipping address's "555-555-SHIP"
		AddressKey:      discountfn.AddressFingerprint("123 Shipping Street", "Shippington", "K2P0S0", "US"),
		PlacedAt:        mustTime(t, "2016-05-17T04:14:36Z"),
		UpdatedAt:       mustTime(t, "2016-05-17T08:14:36Z"),
		Currency:        "USD",
		Subtotal:        0,
		Total:           1000,
		TotalDiscounts:  500,
		FinancialStatus: "voided",
		CancelledAt:     &cancelled,
		Test:            true,
		Gateways:        []string{"visa", "bogus"},
		ShippingCity:    "Shippington",
		ShippingZip:     "K2P0S0",
		ShippingCountry: "US",
		DeliveryMethod:  "Generic Shipping",
		Lines: []store.OrderLine{
			{ID: "254721536", ProductID: "gid://shopify/Product/111475476", Quantity: 1, Price: 0},
			{ID: "5", ProductID: "gid://shopify/Product/5410685889", Quantity: 1, Price: 500},
		},
	}
	if !reflect.DeepEqual(o, want) {
		t.Errorf("ParseOrder(fixture) =\n%+v\nwant\n%+v", o, want)
	}
}

func TestParseOrderBuilt(t *testing.T) {
	o, err := ParseOrder(testShop, marshal(t, baseOrder()))
	if err != nil {
		t.Fatal(err)
	}
	want := store.Order{
		Shop:                testShop,
		ID:                  "1001",
		CustomerID:          "gid://shopify/Customer/7001",
		Email:               "jobuyer@gmail.com",
		Phone:               "+33123456789",
		AddressKey:          discountfn.AddressFingerprint("12 Rue de Rivoli", "Paris", "75001", "FR"),
		BrowserIP:           "203.0.113.7",
		PlacedAt:            mustTime(t, "2026-03-01T09:00:00Z"),
		UpdatedAt:           mustTime(t, "2026-03-01T09:05:00Z"),
		Currency:            "USD",
		PresentmentCurrency: "USD",
		Subtotal:            9000,
		Total:               9550,
		TotalDiscounts:      1000,
		FinancialStatus:     "paid",
		Gateways:            []string{"shopify_payments"},
		ShippingCity:        "Paris",
		ShippingZip:         "75001",
		ShippingCountry:     "FR",
		DeliveryMethod:      "Colissimo",
		Codes:               []string{"WELCOME10"},
		Applications:        []store.DiscountApplication{{Type: "discount_code", Code: "WELCOME10", Amount: 1000}},
		Lines: []store.OrderLine{{
			ID: "501", ProductID: "gid://shopify/Product/601", VariantID: "gid://shopify/ProductVariant/701",
			Quantity: 2, Price: 4500,
		}},
	}
	if !reflect.DeepEqual(o, want) {
		t.Errorf("ParseOrder =\n%+v\nwant\n%+v", o, want)
	}
}

func TestParseOrderCases(t *testing.T) {
	tests := []struct {
		name   string
		change func(o object)
		check  func(t *testing.T, o store.Order)
	}{
		{
			name: "guest: customer null",
			change: func(o object) {
				o["customer"] = nil
				o["email"] = nil
				o["contact_email"] = "Guest@Example.com"
				o["phone"] = nil
			},
			check: func(t *testing.T, o store.Order) {
				if o.CustomerID != "" || o.Email != "guest@example.com" || o.Phone != "+33123456789" {
					t.Errorf("customer, email, phone = %q, %q, %q", o.CustomerID, o.Email, o.Phone)
				}
			},
		},
		{
			name: "customer id without admin_graphql_api_id; email from the customer",
			change: func(o object) {
				o["customer"] = object{"id": json.Number("42"), "email": "c@example.com", "phone": "0612345678"}
				delete(o, "email")
				delete(o, "shipping_address")
			},
			check: func(t *testing.T, o store.Order) {
				if o.CustomerID != "gid://shopify/Customer/42" || o.Email != "c@example.com" || o.Phone != "0612345678" {
					t.Errorf("customer, email, phone = %q, %q, %q", o.CustomerID, o.Email, o.Phone)
				}
				if o.AddressKey != "" || o.ShippingCountry != "" {
					t.Errorf("address = %q, %q; want none", o.AddressKey, o.ShippingCountry)
				}
			},
		},
		{
			name: "64-bit ids stay exact",
			change: func(o object) {
				o["id"] = json.Number("18446744073709551615")
				o["customer"] = object{"id": json.Number("9223372036854775807")}
				o["line_items"] = []object{{
					"id": json.Number("18446744073709551614"), "product_id": json.Number("820982911946154508"),
					"variant_id": "820982911946154509", "quantity": 1, "price": "1.00",
				}}
			},
			check: func(t *testing.T, o store.Order) {
				if o.ID != "18446744073709551615" {
					t.Errorf("ID = %q", o.ID)
				}
				if o.CustomerID != "gid://shopify/Customer/9223372036854775807" {
					t.Errorf("CustomerID = %q", o.CustomerID)
				}
				l := o.Lines[0]
				if l.ID != "18446744073709551614" || l.ProductID != "gid://shopify/Product/820982911946154508" ||
					l.VariantID != "gid://shopify/ProductVariant/820982911946154509" {
					t.Errorf("line = %+v", l)
				}
			},
		},
		{
			name: "shop money wins over presentment: EUR presentment, USD shop",
			change: func(o object) {
				o["currency"] = "USD"
				o["presentment_currency"] = "EUR"
				// The plain fields are shop money too, but the sets are preferred.
				o["total_price"] = "0.00"
				o["total_price_set"] = object{
					"shop_money":        object{"amount": "108.70", "currency_code": "USD"},
					"presentment_money": object{"amount": "100.00", "currency_code": "EUR"},
				}
				o["subtotal_price_set"] = object{
					"shop_money":        object{"amount": "97.83", "currency_code": "USD"},
					"presentment_money": object{"amount": "90.00", "currency_code": "EUR"},
				}
				o["line_items"] = []object{{
					"id": 1, "quantity": 1, "price": "90.00",
					"price_set": object{
						"shop_money":        object{"amount": "97.83", "currency_code": "USD"},
						"presentment_money": object{"amount": "90.00", "currency_code": "EUR"},
					},
					"discount_allocations": []object{{
						"amount": "10.00", "discount_application_index": 0,
						"amount_set": object{
							"shop_money":        object{"amount": "10.87", "currency_code": "USD"},
							"presentment_money": object{"amount": "10.00", "currency_code": "EUR"},
						},
					}},
				}}
			},
			check: func(t *testing.T, o store.Order) {
				if o.Currency != "USD" || o.PresentmentCurrency != "EUR" {
					t.Errorf("currencies = %q, %q", o.Currency, o.PresentmentCurrency)
				}
				if o.Total != 10870 || o.Subtotal != 9783 || o.TotalDiscounts != 1000 {
					t.Errorf("total, subtotal, discounts = %d, %d, %d", o.Total, o.Subtotal, o.TotalDiscounts)
				}
				if o.Lines[0].Price != 9783 {
					t.Errorf("line price = %d", o.Lines[0].Price)
				}
				if o.Applications[0].Amount != 1087 {
					t.Errorf("application amount = %d", o.Applications[0].Amount)
				}
			},
		},
		{
			name: "unknown fields and nulls are ignored",
			change: func(o object) {
				o["brand_new_field"] = object{"nested": []any{1, "two", nil}}
				o["line_items"] = []object{{
					"id": 1, "product_id": nil, "variant_id": nil, "quantity": 3, "price": "2.50",
					"properties": nil, "future": true,
				}}
				o["payment_gateway_names"] = nil
				o["gateway"] = "manual"
				o["shipping_lines"] = nil
				o["discount_codes"] = nil
				o["discount_applications"] = nil
				o["cancelled_at"] = nil
				o["refunds"] = nil
				o["test"] = nil
				o["browser_ip"] = nil
				o["client_details"] = object{"browser_ip": "::ffff:198.51.100.1"}
			},
			check: func(t *testing.T, o store.Order) {
				if len(o.Lines) != 1 || o.Lines[0].ProductID != "" || o.Lines[0].Quantity != 3 || o.Lines[0].Price != 250 {
					t.Errorf("lines = %+v", o.Lines)
				}
				if !reflect.DeepEqual(o.Gateways, []string{"manual"}) {
					t.Errorf("gateways = %q", o.Gateways)
				}
				if o.DeliveryMethod != "" || o.Codes != nil || o.Applications != nil || o.CancelledAt != nil || o.Test {
					t.Errorf("order = %+v", o)
				}
				if o.BrowserIP != "198.51.100.1" {
					t.Errorf("BrowserIP = %q", o.BrowserIP)
				}
			},
		},
		{
			name: "JPY has no decimals",
			change: func(o object) {
				o["currency"] = "JPY"
				o["presentment_currency"] = "JPY"
				o["subtotal_price"] = "12000"
				o["total_price"] = "12500"
				o["total_discounts"] = "0"
				o["line_items"] = []object{{"id": 1, "quantity": 1, "price": "12000"}}
			},
			check: func(t *testing.T, o store.Order) {
				if o.Total != 12500 || o.Subtotal != 12000 || o.Lines[0].Price != 12000 {
					t.Errorf("total, subtotal, price = %d, %d, %d", o.Total, o.Subtotal, o.Lines[0].Price)
				}
			},
		},
		{
			name: "ids and quantities as strings, money as numbers",
			change: func(o object) {
				o["id"] = "1001"
				o["total_price"] = json.Number("95.5")
				o["line_items"] = []object{{"id": "501", "quantity": "2", "price": json.Number("45")}}
			},
			check: func(t *testing.T, o store.Order) {
				if o.ID != "1001" || o.Total != 9550 || o.Lines[0].Quantity != 2 || o.Lines[0].Price != 4500 {
					t.Errorf("order = %+v", o)
				}
			},
		},
		{
			name: "cancelled order",
			change: func(o object) {
				o["cancelled_at"] = "2026-03-02T12:00:00-05:00"
				o["cancel_reason"] = "customer"
			},
			check: func(t *testing.T, o store.Order) {
				if o.CancelledAt == nil || !o.CancelledAt.Equal(mustTime(t, "2026-03-02T17:00:00Z")) {
					t.Errorf("CancelledAt = %v", o.CancelledAt)
				}
			},
		},
		{
			name: "automatic and code applications, amounts from line and shipping allocations",
			change: func(o object) {
				o["discount_codes"] = []object{{"code": "SAVE5", "amount": "5.00"}}
				o["discount_applications"] = []object{
					{"type": "automatic", "title": "Regulars 10% off", "value": "10.0", "value_type": "percentage"},
					{"type": "discount_code", "code": "save5"},
					{"type": "automatic", "title": "Free delivery"},
				}
				o["line_items"] = []object{
					{"id": 1, "quantity": 1, "price": "30.00", "discount_allocations": []object{
						{"amount": "3.00", "discount_application_index": 0},
						{"amount": "2.50", "discount_application_index": 1},
					}},
					{"id": 2, "quantity": 1, "price": "20.00", "discount_allocations": []object{
						{"amount": "2.00", "discount_application_index": 0},
						{"amount": "9.99", "discount_application_index": 7}, // no such application
					}},
				}
				o["shipping_lines"] = []object{{"title": "Post", "discount_allocations": []object{
					{"amount": "4.90", "discount_application_index": 2},
				}}}
			},
			check: func(t *testing.T, o store.Order) {
				want := []store.DiscountApplication{
					{Type: "automatic", Title: "Regulars 10% off", Amount: 500},
					{Type: "discount_code", Code: "SAVE5", Amount: 250},
					{Type: "automatic", Title: "Free delivery", Amount: 490},
				}
				if !reflect.DeepEqual(o.Applications, want) {
					t.Errorf("Applications = %+v, want %+v", o.Applications, want)
				}
				if !reflect.DeepEqual(o.Codes, []string{"SAVE5"}) {
					t.Errorf("Codes = %q", o.Codes)
				}
			},
		},
		{
			name: "code application without allocations takes the discount code's amount",
			change: func(o object) {
				o["line_items"] = []object{{"id": 1, "quantity": 1, "price": "90.00"}}
			},
			check: func(t *testing.T, o store.Order) {
				if o.Applications[0].Amount != 1000 {
					t.Errorf("amount = %d", o.Applications[0].Amount)
				}
			},
		},
		{
			name: "refunds on the order: transactions, else refunded lines",
			change: func(o object) {
				o["refunds"] = []object{
					{
						"id": json.Number("9001"), "created_at": "2026-03-05T10:00:00Z",
						"transactions": []object{
							{"kind": "refund", "status": "success", "amount": "20.00", "currency": "USD"},
							{"kind": "refund", "status": "failure", "amount": "99.00"},
							{"kind": "refund", "amount": "1.50"},
							{"kind": "sale", "status": "success", "amount": "50.00"},
						},
						"refund_line_items": []object{{"subtotal": "45.00"}},
					},
					{
						"id": json.Number("9002"), "created_at": "2026-03-06T10:00:00Z",
						"transactions": []object{},
						"refund_line_items": []object{
							{"subtotal": "45.00", "total_tax": "4.50"},
							{"subtotal_set": object{"shop_money": object{"amount": "10.00", "currency_code": "USD"}}},
						},
					},
				}
			},
			check: func(t *testing.T, o store.Order) {
				want := []store.Refund{
					{ID: "9001", OrderID: "1001", Amount: 2150, CreatedAt: mustTime(t, "2026-03-05T10:00:00Z")},
					{ID: "9002", OrderID: "1001", Amount: 5950, CreatedAt: mustTime(t, "2026-03-06T10:00:00Z")},
				}
				if !reflect.DeepEqual(o.Refunds, want) {
					t.Errorf("Refunds = %+v, want %+v", o.Refunds, want)
				}
			},
		},
		{
			name: "updated_at missing: created_at stands in",
			change: func(o object) {
				delete(o, "updated_at")
			},
			check: func(t *testing.T, o store.Order) {
				if !o.UpdatedAt.Equal(o.PlacedAt) {
					t.Errorf("UpdatedAt = %v, PlacedAt = %v", o.UpdatedAt, o.PlacedAt)
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			payload := baseOrder()
			tt.change(payload)
			o, err := ParseOrder(testShop, marshal(t, payload))
			if err != nil {
				t.Fatal(err)
			}
			tt.check(t, o)
		})
	}
}

func TestParseOrder250Lines(t *testing.T) {
	payload := baseOrder()
	lines := make([]object, 250)
	for i := range lines {
		lines[i] = object{
			"id": json.Number(fmt.Sprint(10_000_000_000 + i)), "product_id": json.Number(fmt.Sprint(20_000_000_000 + i)),
			"variant_id": json.Number(fmt.Sprint(30_000_000_000 + i)), "quantity": i%5 + 1,
			"price": fmt.Sprintf("%d.%02d", i, i%100),
		}
	}
	payload["line_items"] = lines
	o, err := ParseOrder(testShop, marshal(t, payload))
	if err != nil {
		t.Fatal(err)
	}
	if len(o.Lines) != 250 {
		t.Fatalf("%d lines, want 250", len(o.Lines))
	}
	for i, l := range o.Lines {
		want := store.OrderLine{
			ID:        fmt.Sprint(10_000_000_000 + i),
			ProductID: fmt.Sprintf("gid://shopify/Product/%d", 20_000_000_000+i),
			VariantID: fmt.Sprintf("gid://shopify/ProductVariant/%d", 30_000_000_000+i),
			Quantity:  i%5 + 1,
			Price:     discountfn.Money(i*100 + i%100),
		}
		if l != want {
			t.Fatalf("line %d = %+v, want %+v", i, l, want)
		}
	}
}

func TestParseOrderErrors(t *testing.T) {
	tests := []struct {
		name    string
		body    func() []byte
		wantErr string
	}{
		{"malformed line price", func() []byte {
			o := baseOrder()
			lines := make([]object, 5)
			for i := range lines {
				lines[i] = object{"id": i + 1, "quantity": 1, "price": "1.00"}
			}
			lines[3]["price"] = "abc"
			o["line_items"] = lines
			return marshal(t, o)
		}, `line_items[3].price: "abc" is not a decimal`},
		{"malformed shop money", func() []byte {
			o := baseOrder()
			o["total_price_set"] = object{"shop_money": object{"amount": "1,000.00", "currency_code": "USD"}}
			return marshal(t, o)
		}, `total_price_set.shop_money.amount: "1,000.00" is not a decimal`},
		{"money as an object", func() []byte {
			o := baseOrder()
			o["subtotal_price"] = object{"amount": "1"}
			return marshal(t, o)
		}, `subtotal_price: {"amount":"1"} is not a decimal`},
		{"malformed allocation", func() []byte {
			o := baseOrder()
			o["line_items"] = []object{{"id": 1, "quantity": 1, "price": "1.00",
				"discount_allocations": []object{{"amount": "x", "discount_application_index": 0}}}}
			return marshal(t, o)
		}, `line_items[0].discount_allocations[0].amount: "x" is not a decimal`},
		{"missing id", func() []byte {
			o := baseOrder()
			delete(o, "id")
			return marshal(t, o)
		}, `id: is missing`},
		{"null id", func() []byte {
			o := baseOrder()
			o["id"] = nil
			return marshal(t, o)
		}, `id: is missing`},
		{"fractional id", func() []byte {
			o := baseOrder()
			o["id"] = json.Number("1001.5")
			return marshal(t, o)
		}, `id: 1001.5 is not an id`},
		{"id in exponent form (a float's)", func() []byte {
			o := baseOrder()
			o["id"] = json.Number("8.209829119461545e+17")
			return marshal(t, o)
		}, `id: 8.209829119461545e+17 is not an id`},
		{"id beyond 64 bits", func() []byte {
			o := baseOrder()
			o["id"] = json.Number("18446744073709551616")
			return marshal(t, o)
		}, `id: 18446744073709551616 is not an id`},
		{"negative product id", func() []byte {
			o := baseOrder()
			o["line_items"] = []object{{"id": 1, "product_id": -4, "quantity": 1, "price": "1"}}
			return marshal(t, o)
		}, `line_items[0].product_id: -4 is not an id`},
		{"negative quantity", func() []byte {
			o := baseOrder()
			o["line_items"] = []object{{"id": 1, "quantity": -1, "price": "1"}}
			return marshal(t, o)
		}, `line_items[0].quantity: -1 is not a quantity`},
		{"bad created_at", func() []byte {
			o := baseOrder()
			o["created_at"] = "yesterday"
			return marshal(t, o)
		}, `created_at: "yesterday" is not an RFC 3339 time`},
		{"missing created_at", func() []byte {
			o := baseOrder()
			delete(o, "created_at")
			return marshal(t, o)
		}, `created_at: is missing`},
		{"missing currency", func() []byte {
			o := baseOrder()
			delete(o, "currency")
			return marshal(t, o)
		}, `currency: is missing`},
		{"wrong JSON type", func() []byte {
			o := baseOrder()
			o["line_items"] = "none"
			return marshal(t, o)
		}, `line_items: a JSON string is not expected here`},
		{"array body", func() []byte { return []byte(`[{"id":1}]`) }, `body: is not a JSON object`},
		{"null body", func() []byte { return []byte(`null`) }, `body: is not a JSON object`},
		{"empty body", func() []byte { return nil }, `body: is not a JSON object`},
		{"string body", func() []byte { return []byte(`"order"`) }, `body: is not a JSON object`},
		{"truncated body", func() []byte { return []byte(`{"id":1001,`) }, `body: is not valid JSON`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseOrder(testShop, tt.body())
			if err == nil {
				t.Fatalf("ParseOrder: no error, want %q", tt.wantErr)
			}
			if !strings.HasPrefix(err.Error(), tt.wantErr) {
				t.Errorf("ParseOrder error = %q, want it to start with %q", err, tt.wantErr)
			}
			if !errors.Is(err, ErrBadRequest) {
				t.Errorf("ParseOrder error %v is not ErrBadRequest", err)
			}
			var pe *PayloadError
			if !errors.As(err, &pe) {
				t.Errorf("ParseOrder error %T is not a *PayloadError", err)
			}
		})
	}
}

func TestParseRefund(t *testing.T) {
	tests := []struct {
		name         string
		shopCurrency string
		body         string
		want         store.Refund
		wantErr      string
	}{
		{
			name: "transactions",
			body: `{"id":930000000000000001,"order_id":820982911946154508,"created_at":"2026-03-05T10:00:00-05:00",
				"note":"damaged","restock":true,"unknown":{"a":1},
				"transactions":[{"kind":"refund","status":"success","amount":"12.34","currency":"USD","gateway":"bogus"},
					{"kind":"refund","status":"pending","amount":"1.00","currency":"USD"}],
				"refund_line_items":[{"subtotal":"99.00"}]}`,
			want: store.Refund{ID: "930000000000000001", OrderID: "820982911946154508", Amount: 1234, CreatedAt: mustTime(t, "2026-03-05T15:00:00Z")},
		},
		{
			name:         "presentment transactions: the lines' shop money instead",
			shopCurrency: "USD",
			body: `{"id":1,"order_id":2,"created_at":"2026-03-05T10:00:00Z",
				"transactions":[{"kind":"refund","status":"success","amount":"10.00","currency":"EUR"}],
				"refund_line_items":[{"subtotal":"10.00","subtotal_set":{"shop_money":{"amount":"10.87","currency_code":"USD"},"presentment_money":{"amount":"10.00","currency_code":"EUR"}},
					"total_tax":"0.00"}]}`,
			want: store.Refund{ID: "1", OrderID: "2", Amount: 1087, CreatedAt: mustTime(t, "2026-03-05T10:00:00Z")},
		},
		{
			name: "shop currency learned from the payload's shop money",
			body: `{"id":1,"order_id":2,"processed_at":"2026-03-05T10:00:00Z",
				"transactions":[{"kind":"refund","amount":"10.00","currency":"EUR"}],
				"refund_line_items":[{"subtotal_set":{"shop_money":{"amount":"10.87","currency_code":"USD"}}}]}`,
			want: store.Refund{ID: "1", OrderID: "2", Amount: 1087, CreatedAt: mustTime(t, "2026-03-05T10:00:00Z")},
		},
		{
			name: "transaction shop money",
			body: `{"id":1,"order_id":2,"created_at":"2026-03-05T10:00:00Z",
				"transactions":[{"kind":"refund","status":"success","amount":"1000","currency":"JPY",
					"amount_set":{"shop_money":{"amount":"6.70","currency_code":"USD"}}}]}`,
			want: store.Refund{ID: "1", OrderID: "2", Amount: 670, CreatedAt: mustTime(t, "2026-03-05T10:00:00Z")},
		},
		{name: "missing order id", body: `{"id":1,"transactions":[]}`, wantErr: "order_id: is missing"},
		{name: "missing id", body: `{"order_id":1}`, wantErr: "id: is missing"},
		{name: "bad amount", body: `{"id":1,"order_id":2,"transactions":[{"kind":"refund","amount":"ten"}]}`,
			wantErr: `transactions[0].amount: "ten" is not a decimal`},
		{name: "not an object", body: `[]`, wantErr: "body: is not a JSON object"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := ParseRefundIn(testShop, tt.shopCurrency, []byte(tt.body))
			if tt.wantErr != "" {
				if err == nil || err.Error() != tt.wantErr {
					t.Fatalf("error = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if r != tt.want {
				t.Errorf("refund = %+v, want %+v", r, tt.want)
			}
		})
	}
}

func TestParseCustomer(t *testing.T) {
	c, err := ParseCustomer(testShop, readTestdata(t, "customer-rest-sample.json"))
	if err != nil {
		t.Fatal(err)
	}
	want := store.Customer{
		Shop:      testShop,
		ID:        "gid://shopify/Customer/1",
		Email:     "test@example.com",
		Tags:      []string{"tag1", "tag2"},
		UpdatedAt: mustTime(t, "2017-09-23T18:15:47Z"),
	}
	if !reflect.DeepEqual(c, want) {
		t.Errorf("ParseCustomer(fixture) = %+v, want %+v", c, want)
	}

	tests := []struct {
		name, body string
		want       store.Customer
		wantErr    string
	}{
		{
			name: "tags trimmed, empty dropped; gid preferred; 64-bit id",
			body: `{"id":18446744073709551615,"admin_graphql_api_id":"gid://shopify/Customer/18446744073709551615",
				"email":"A.B+x@gmail.com","phone":"+1 (613) 555-1111","tags":" VIP ,, wholesale,  ","updated_at":"2026-01-01T00:00:00Z"}`,
			want: store.Customer{Shop: testShop, ID: "gid://shopify/Customer/18446744073709551615", Email: "ab@gmail.com",
				Phone: "+16135551111", Tags: []string{"VIP", "wholesale"}, UpdatedAt: mustTime(t, "2026-01-01T00:00:00Z")},
		},
		{
			name: "tags as a list, null fields",
			body: `{"id":"5","email":null,"phone":null,"tags":["a"," b "],"updated_at":null,"created_at":"2026-01-01T00:00:00Z"}`,
			want: store.Customer{Shop: testShop, ID: "gid://shopify/Customer/5", Tags: []string{"a", "b"}, UpdatedAt: mustTime(t, "2026-01-01T00:00:00Z")},
		},
		{name: "empty tags", body: `{"id":5,"tags":""}`, want: store.Customer{Shop: testShop, ID: "gid://shopify/Customer/5"}},
		{name: "missing id", body: `{"email":"a@b.c"}`, wantErr: "id: is missing"},
		{name: "bad tags", body: `{"id":5,"tags":7}`, wantErr: "tags: 7 is not a comma-separated string"},
		{name: "not an object", body: `"x"`, wantErr: "body: is not a JSON object"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := ParseCustomer(testShop, []byte(tt.body))
			if tt.wantErr != "" {
				if err == nil || err.Error() != tt.wantErr {
					t.Fatalf("error = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(c, tt.want) {
				t.Errorf("customer = %+v, want %+v", c, tt.want)
			}
		})
	}
}

func TestParseCompliance(t *testing.T) {
	redact, err := ParseCustomersRedact([]byte(`{"shop_id":954889,"shop_domain":"Some-Shop.myshopify.com",
		"customer":{"id":191167,"email":"john@example.com","phone":"555-625-1199"},
		"orders_to_redact":[299938,280263,"220458",18446744073709551615]}`))
	if err != nil {
		t.Fatal(err)
	}
	wantRedact := CustomersRedact{
		ShopDomain: "some-shop.myshopify.com",
		Customer:   ComplianceCustomer{ID: "gid://shopify/Customer/191167", Email: "john@example.com", Phone: "555-625-1199"},
		OrderIDs:   []string{"299938", "280263", "220458", "18446744073709551615"},
	}
	if !reflect.DeepEqual(redact, wantRedact) {
		t.Errorf("ParseCustomersRedact = %+v, want %+v", redact, wantRedact)
	}

	req, err := ParseCustomersDataRequest([]byte(`{"shop_id":954889,"shop_domain":"some-shop.myshopify.com",
		"orders_requested":[299938],"customer":{"id":191167,"email":"john@example.com","phone":"555-625-1199"},
		"data_request":{"id":9999}}`))
	if err != nil {
		t.Fatal(err)
	}
	wantReq := CustomersDataRequest{
		ShopDomain: "some-shop.myshopify.com",
		Customer:   ComplianceCustomer{ID: "gid://shopify/Customer/191167", Email: "john@example.com", Phone: "555-625-1199"},
		OrderIDs:   []string{"299938"},
		RequestID:  "9999",
	}
	if !reflect.DeepEqual(req, wantReq) {
		t.Errorf("ParseCustomersDataRequest = %+v, want %+v", req, wantReq)
	}

	shop, err := ParseShopRedact([]byte(`{"shop_id":954889,"shop_domain":"some-shop.myshopify.com"}`))
	if err != nil {
		t.Fatal(err)
	}
	if shop != (ShopRedact{ShopDomain: "some-shop.myshopify.com", ShopID: "954889"}) {
		t.Errorf("ParseShopRedact = %+v", shop)
	}

	for _, tt := range []struct {
		name    string
		parse   func([]byte) error
		body    string
		wantErr string
	}{
		{"redact without customer", func(b []byte) error { _, err := ParseCustomersRedact(b); return err },
			`{"shop_domain":"a.myshopify.com"}`, "customer: is missing"},
		{"redact without customer id", func(b []byte) error { _, err := ParseCustomersRedact(b); return err },
			`{"shop_domain":"a.myshopify.com","customer":{"email":"x@y.z"}}`, "customer.id: is missing"},
		{"redact with a bad order id", func(b []byte) error { _, err := ParseCustomersRedact(b); return err },
			`{"customer":{"id":1},"orders_to_redact":[1,"x"]}`, `orders_to_redact[1]: "x" is not an id`},
		{"data request with a bad request id", func(b []byte) error { _, err := ParseCustomersDataRequest(b); return err },
			`{"customer":{"id":1},"data_request":{"id":1.5}}`, `data_request.id: 1.5 is not an id`},
		{"shop redact not an object", func(b []byte) error { _, err := ParseShopRedact(b); return err },
			`[]`, "body: is not a JSON object"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.parse([]byte(tt.body))
			if err == nil || err.Error() != tt.wantErr {
				t.Errorf("error = %v, want %q", err, tt.wantErr)
			}
		})
	}
}
