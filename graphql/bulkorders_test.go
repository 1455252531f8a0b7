package graphql_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/regularsapp/regulars/graphql"
	"github.com/regularsapp/regulars/graphql/graphqltest"
)

func TestOrdersBulkQueryValidates(t *testing.T) {
	s := graphqltest.LoadSchema(t)
	for _, since := range []time.Time{{}, time.Date(2025, 9, 1, 12, 0, 0, 0, time.FixedZone("CEST", 2*3600))} {
		q := graphql.OrdersBulkQuery(since)
		if err := s.ValidateQuery(q); err != nil {
			t.Errorf("OrdersBulkQuery(%v) does not validate against the schema: %v\n%s", since, err, q)
		}
		if since.IsZero() && strings.Contains(q, "updated_at") {
			t.Errorf("full backfill is filtered: %s", q)
		}
		if !since.IsZero() && !strings.Contains(q, `orders(query: "updated_at:>'2025-09-01T10:00:00Z'")`) {
			t.Errorf("reconciliation query has no UTC filter: %s", q)
		}
	}
}

func readSample(t *testing.T) []graphql.BulkOrder {
	t.Helper()
	f, err := os.Open("testdata/orders-bulk.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var orders []graphql.BulkOrder
	n, err := graphql.ReadBulkOrders(f, func(o graphql.BulkOrder) error {
		orders = append(orders, o)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if n != len(orders) {
		t.Errorf("n = %d, %d orders", n, len(orders))
	}
	return orders
}

func TestReadBulkOrdersReassembles(t *testing.T) {
	orders := readSample(t)
	if len(orders) != 2 {
		t.Fatalf("%d orders, want 2", len(orders))
	}
	first := orders[0]
	if first.ID != "gid://shopify/Order/1001" || first.UpdatedAt != "2025-09-02T08:30:00Z" {
		t.Errorf("first = %s %s", first.ID, first.UpdatedAt)
	}
	var rest map[string]any
	if err := json.Unmarshal(first.REST, &rest); err != nil {
		t.Fatal(err)
	}
	check := func(path string, got, want any) {
		t.Helper()
		if g, _ := json.Marshal(got); string(g) != want {
			t.Errorf("%s = %s, want %s", path, g, want)
		}
	}
	check("id", rest["id"], `"1001"`)
	check("financial_status", rest["financial_status"], `"partially_refunded"`)
	check("total_price_set", rest["total_price_set"], `{"shop_money":{"amount":"50.0","currency_code":"EUR"}}`)
	check("discount_codes", rest["discount_codes"], `[{"code":"WELCOME10"}]`)
	check("discount_applications", rest["discount_applications"], `[{"code":"WELCOME10","type":"discount_code"}]`)
	check("shipping_lines", rest["shipping_lines"], `[{"title":"Colissimo"}]`)
	check("shipping_address.country_code", rest["shipping_address"].(map[string]any)["country_code"], `"FR"`)
	check("customer.tags", rest["customer"].(map[string]any)["tags"], `"VIP, newsletter"`)
	lines := rest["line_items"].([]any)
	if len(lines) != 2 {
		t.Fatalf("%d line items, want 2", len(lines))
	}
	l0 := lines[0].(map[string]any)
	check("line_items[0].product_id", l0["product_id"], `"21"`)
	check("line_items[0].variant_id", l0["variant_id"], `"31"`)
	check("line_items[0].price", l0["price"], `"12.5"`)
	check("line_items[0].discount_allocations", l0["discount_allocations"], `[{"amount":"2.5","amount_set":{"shop_money":{"amount":"2.5","currency_code":"EUR"}},"discount_application_index":0}]`)
	check("line_items[1].product_id", lines[1].(map[string]any)["product_id"], `null`)
	check("refunds", rest["refunds"], `[{"created_at":"2025-09-02T08:30:00Z","id":"9","order_id":"1001","transactions":[{"amount":"10.00","amount_set":{"shop_money":{"amount":"10.00","currency_code":"EUR"}},"currency":"EUR","kind":"refund","status":"success"}]}]`)

	if first.Customer == nil || first.Customer.ID != "gid://shopify/Customer/77" {
		t.Fatalf("customer = %+v", first.Customer)
	}
	var cust map[string]any
	if err := json.Unmarshal(first.Customer.REST, &cust); err != nil {
		t.Fatal(err)
	}
	check("customer body", cust, `{"admin_graphql_api_id":"gid://shopify/Customer/77","email":"ann.lee@example.com","id":"77","phone":"+33612345678","tags":"VIP, newsletter","updated_at":"2025-09-02T08:00:00Z"}`)

	second := orders[1]
	if second.Customer != nil {
		t.Errorf("guest order has a customer: %+v", second.Customer)
	}
	if err := json.Unmarshal(second.REST, &rest); err != nil {
		t.Fatal(err)
	}
	check("cancelled_at", rest["cancelled_at"], `"2025-09-03T11:00:00Z"`)
	check("test", rest["test"], `true`)
	check("discount_applications", rest["discount_applications"], `[{"title":"Regulars: 10% off","type":"automatic"}]`)
	check("customer", rest["customer"], `null`)
}

func TestReadBulkOrdersRejectsOrphans(t *testing.T) {
	jsonl := `{"id":"gid://shopify/LineItem/1","quantity":1,"__parentId":"gid://shopify/Order/404"}` + "\n"
	_, err := graphql.ReadBulkOrders(strings.NewReader(jsonl), func(graphql.BulkOrder) error { return nil })
	if err == nil || !strings.Contains(err.Error(), "line 1") {
		t.Fatalf("err = %v, want an error naming line 1", err)
	}
}

func TestReadBulkOrdersStopsAtCallbackError(t *testing.T) {
	f, err := os.Open("testdata/orders-bulk.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	stop := errors.New("stop")
	n, err := graphql.ReadBulkOrders(f, func(graphql.BulkOrder) error { return stop })
	if !errors.Is(err, stop) || n != 0 {
		t.Fatalf("n, err = %d, %v", n, err)
	}
}

func TestOpenBulkResultHasNoToken(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get(graphql.AccessTokenHeader) != "" {
			t.Error("the access token was sent to the result file's host")
		}
		_, _ = w.Write([]byte("{}\n"))
	}))
	defer srv.Close()
	c := graphql.New(srv.Client(), func(string) string { return srv.URL }, func(context.Context, string) (string, error) { return "secret", nil })
	body, err := c.OpenBulkResult(context.Background(), srv.URL+"/result.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	_ = body.Close()
}
