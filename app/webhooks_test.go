package app

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/regularsapp/regulars/discountfn"
	"github.com/regularsapp/regulars/store"
	"github.com/regularsapp/regulars/store/storetest"
	"github.com/regularsapp/regulars/webhooks"
)

const hookShop = "hooks-shop.myshopify.com"

// hookEnv is the real server over a real store, with the receiver and a worker.
type hookEnv struct {
	srv    *Server
	st     *store.Store
	worker *webhooks.Worker
	secret []byte
	logs   *syncBuffer
}

func newHookEnv(t *testing.T, st *store.Store) *hookEnv {
	t.Helper()
	cfg := testConfig()
	e := &hookEnv{st: st, secret: cfg.AppSecrets[0], logs: &syncBuffer{}}
	logger := slog.New(slog.NewJSONHandler(e.logs, nil))
	rcv := webhooks.NewReceiver(st, cfg.AppSecrets, testNow)
	e.worker = webhooks.NewWorker(st, webhooks.NewProcessor(st, testNow, logger))
	e.srv = New(cfg, Deps{Source: NewStoreSource(st), Webhooks: rcv, Logger: logger, Now: testNow})
	if _, err := st.UpsertShop(context.Background(), store.Shop{Domain: hookShop, Currency: "USD", Timezone: "UTC"}); err != nil {
		t.Fatal(err)
	}
	return e
}

// post sends a webhook through the Fiber app as the platform would.
func (e *hookEnv) post(t *testing.T, topic, eventID string, body []byte, signature string) (int, string) {
	t.Helper()
	req := httptest.NewRequest(http.MethodPost, "/webhooks", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(headerTopic, topic)
	req.Header.Set(headerShopDomain, hookShop)
	req.Header.Set(headerEventID, eventID)
	req.Header.Set(headerWebhookID, "wh-"+eventID)
	req.Header.Set(headerHmac, signature)
	req.Header.Set(headerTriggeredAt, "2026-11-23T11:59:00.000Z")
	resp, err := e.srv.App().Test(req, -1)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	got, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(got)
}

func (e *hookEnv) drain(t *testing.T) {
	t.Helper()
	if _, err := e.worker.DrainOnce(context.Background()); err != nil {
		t.Fatal(err)
	}
}

// orderBody is an orders/create body for a customer's order placed days before testNow.
func orderBody(id int64, customer int64, email, total string, daysAgo int, codes ...string) []byte {
	placed := testNow().AddDate(0, 0, -daysAgo).Format("2006-01-02T15:04:05Z07:00")
	var dc []map[string]any
	for _, c := range codes {
		dc = append(dc, map[string]any{"code": c, "amount": "1.00", "type": "fixed_amount"})
	}
	b, _ := json.Marshal(map[string]any{
		"id": id, "email": email, "created_at": placed, "updated_at": placed, "currency": "USD",
		"total_price": total, "subtotal_price": total, "financial_status": "paid", "test": false,
		"customer":       map[string]any{"id": customer, "email": email},
		"line_items":     []map[string]any{{"id": id*10 + 1, "product_id": 7, "variant_id": 70, "quantity": 1, "price": total}},
		"discount_codes": dc, "payment_gateway_names": []string{"shopify_payments"},
		"unknown_future_field": map[string]any{"nested": true},
	})
	return b
}

func TestWebhookEndpoint(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		e := newHookEnv(t, st)
		body := orderBody(5743947296874, 42, "Jo@Example.com", "30.00", 3)
		good := webhooks.Sign(e.secret, body)

		tests := []struct {
			name      string
			topic     string
			eventID   string
			body      []byte
			signature string
			want      int
			wantBody  string
		}{
			{"valid delivery is stored", "orders/create", "ev-1", body, good, http.StatusOK, `"stored"`},
			{"the same event again is a duplicate", "orders/create", "ev-1", body, good, http.StatusOK, `"duplicate"`},
			{"forged signature", "orders/create", "ev-2", body, webhooks.Sign([]byte("not-the-secret"), body), http.StatusUnauthorized, "invalid webhook signature"},
			{"no signature", "orders/create", "ev-3", body, "", http.StatusUnauthorized, "invalid webhook signature"},
			{"tampered body", "orders/create", "ev-4", append(bytes.Clone(body[:len(body)-1]), []byte(`,"x":1}`)...), good, http.StatusUnauthorized, "invalid webhook signature"},
			{"signed but not JSON", "orders/create", "ev-5", []byte("not json"), webhooks.Sign(e.secret, []byte("not json")), http.StatusBadRequest, "JSON"},
			{"unknown topic", "products/create", "ev-6", body, good, http.StatusBadRequest, "topic"},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				status, got := e.post(t, tt.topic, tt.eventID, tt.body, tt.signature)
				if status != tt.want || !strings.Contains(got, tt.wantBody) {
					t.Fatalf("status %d %s, want %d containing %q", status, got, tt.want, tt.wantBody)
				}
			})
		}
		// Only the one valid event was stored, and processing it stores the order once.
		e.drain(t)
		done, err := st.ListEvents(context.Background(), hookShop, store.EventDone, 10)
		if err != nil || len(done) != 1 {
			t.Fatalf("done events: %d, %v; want exactly 1", len(done), err)
		}
		o, err := st.GetOrder(context.Background(), hookShop, "5743947296874")
		if err != nil || o.Email != "jo@example.com" || o.Total != 3000 {
			t.Fatalf("stored order %+v, %v", o, err)
		}
	})
}

// TestWebhookEndpointDatabaseDown: with the database gone, a delivery gets a 5xx so the
// platform delivers it again, and the cause is logged without reaching the response.
func TestWebhookEndpointDatabaseDown(t *testing.T) {
	st := storetest.SQLite(t)
	e := newHookEnv(t, st)
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	body := orderBody(1, 42, "jo@example.com", "30.00", 3)
	status, got := e.post(t, "orders/create", "ev-down", body, webhooks.Sign(e.secret, body))
	if status < 500 {
		t.Fatalf("status %d %s, want a 5xx", status, got)
	}
	if strings.Contains(got, "sql") || strings.Contains(got, "closed") {
		t.Errorf("the response leaks the internal error: %s", got)
	}
	if !strings.Contains(e.logs.String(), "ev-down") && !strings.Contains(e.logs.String(), "orders/create") {
		t.Errorf("the failure was not logged: %s", e.logs.String())
	}
}

// TestCheckoutFromStoredHistory is the whole path: orders arrive as webhooks, the workers
// store them, and the checkout endpoint gives a purchase-driven offer to the customer whose
// stored history qualifies, and not to one whose history does not.
func TestCheckoutFromStoredHistory(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		e := newHookEnv(t, st)
		ctx := context.Background()
		offer := percentOffer("loyal", 10*100)
		offer.Behaviour = &discountfn.Behaviour{Period: discountfn.Period{Unit: discountfn.PeriodDays, Count: 90}, MinOrders: 2, MinSpend: 50_00}
		config, _ := json.Marshal(offer)
		if _, err := st.SaveOffer(ctx, hookShop, offer.ID, string(offer.Status), config, 0); err != nil {
			t.Fatal(err)
		}
		// Customer 42: two orders in the window, 60.00 in all. Customer 43: one order.
		for i, b := range [][]byte{
			orderBody(9001, 42, "regular@example.com", "25.00", 10),
			orderBody(9002, 42, "regular@example.com", "35.00", 40),
			orderBody(9003, 43, "once@example.com", "80.00", 5),
			orderBody(9004, 42, "regular@example.com", "500.00", 200), // outside the window
		} {
			if status, got := e.post(t, "orders/create", fmt.Sprint("hist-", i), b, webhooks.Sign(e.secret, b)); status != http.StatusOK {
				t.Fatalf("delivery %d: %d %s", i, status, got)
			}
		}
		e.drain(t)

		token, err := MintCheckoutToken([]byte(testKey), hookShop, testNow())
		if err != nil {
			t.Fatal(err)
		}
		checkout := func(customer int64, email string) []byte {
			in := inputDoc(2, "loyal")
			in["cart"].(map[string]any)["buyerIdentity"] = map[string]any{"isAuthenticated": true, "email": email,
				"customer": map[string]any{"id": fmt.Sprintf("gid://shopify/Customer/%d", customer), "email": email, "numberOfOrders": 0}}
			req := httptest.NewRequest(http.MethodPost, "/checkout/cart-lines", bytes.NewReader(mustJSON(t, in)))
			req.Header.Set("Authorization", "Bearer "+token)
			req.Header.Set("Content-Type", "application/json")
			resp, err := e.srv.App().Test(req, -1)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			got, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("checkout: %d %s", resp.StatusCode, got)
			}
			return got
		}
		if got := checkout(42, "regular@example.com"); !strings.Contains(string(got), "orderDiscountsAdd") {
			t.Errorf("the regular gets no discount: %s", got)
		}
		if got := checkout(43, "once@example.com"); string(got) != emptyRunResult {
			t.Errorf("a one-time customer gets %s, want no discount", got)
		}

		// Once the app is uninstalled, the shop's checkout gets no discount at all.
		body := []byte(`{"id": 1, "name": "Hooks", "domain": "hooks.example", "myshopify_domain": "` + hookShop + `"}`)
		if status, got := e.post(t, "app/uninstalled", "bye", body, webhooks.Sign(e.secret, body)); status != http.StatusOK {
			t.Fatalf("app/uninstalled: %d %s", status, got)
		}
		e.drain(t)
		if got := checkout(42, "regular@example.com"); string(got) != emptyRunResult {
			t.Errorf("after uninstall the regular gets %s, want no discount", got)
		}
	})
}

// TestWebhookBodyLimit: a delivery larger than the body limit is refused with 413 before it is
// read, and nothing is stored; a very large order under the limit is stored.
func TestWebhookBodyLimit(t *testing.T) {
	st := storetest.SQLite(t)
	e := newHookEnv(t, st)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = e.srv.App().Listener(ln) }()
	t.Cleanup(func() { _ = e.srv.App().Shutdown() })
	cfg := testConfig()

	conn, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "POST /webhooks HTTP/1.1\r\nHost: regulars.test\r\nX-Shopify-Topic: orders/create\r\n"+
		"X-Shopify-Shop-Domain: %s\r\nX-Shopify-Hmac-Sha256: x\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n{",
		hookShop, cfg.MaxBodyBytes+1)
	if err := conn.SetReadDeadline(time.Now().Add(10 * time.Second)); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusRequestEntityTooLarge {
		t.Fatalf("oversized delivery: status %d, want 413", resp.StatusCode)
	}

	// A 1,000-line order, far larger than any checkout input, is still under the limit.
	lines := make([]map[string]any, 1000)
	for i := range lines {
		lines[i] = map[string]any{"id": 1_000_000 + i, "product_id": i + 1, "variant_id": 10_000 + i, "quantity": 1,
			"price": "1.00", "title": strings.Repeat("A long product title ", 5)}
	}
	body, _ := json.Marshal(map[string]any{"id": 77, "email": "big@example.com", "created_at": "2026-11-20T10:00:00Z",
		"updated_at": "2026-11-20T10:00:00Z", "currency": "USD", "total_price": "1000.00", "line_items": lines})
	if status, got := e.post(t, "orders/create", "big", body, webhooks.Sign(e.secret, body)); status != http.StatusOK {
		t.Fatalf("a %d-byte order: %d %s", len(body), status, got)
	}
	e.drain(t)
	if o, err := st.GetOrder(context.Background(), hookShop, "77"); err != nil || len(o.Lines) != 1000 {
		t.Fatalf("large order stored with %d lines, %v", len(o.Lines), err)
	}
	if events, _ := st.ListEvents(context.Background(), hookShop, store.EventDone, 10); len(events) != 1 {
		t.Errorf("%d events stored, want only the large order's", len(events))
	}
}
