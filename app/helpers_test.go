package app

import (
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
	"sync"
	"testing"
	"time"

	"github.com/regularsapp/regulars/discountfn"
)

const (
	shopA   = "shop-a.myshopify.com"
	shopB   = "shop-b.myshopify.com"
	testKey = "test-only-checkout-signing-key-0123456789"

	offerA = "a-ten-percent" // shop A's offer
	offerB = "b-everything"  // shop B's offer: 100% off, which shop A must never get
)

// testNow is the fixed clock of the tests.
func testNow() time.Time { return time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC) }

func testConfig() Config {
	return Config{
		Addr:               "127.0.0.1:0",
		Env:                EnvDevelopment,
		CheckoutSigningKey: []byte(testKey),
		CheckoutDeadline:   100 * time.Millisecond,
		MaxBodyBytes:       minMaxBodyBytes,
		AppSecrets:         [][]byte{[]byte("test-app-secret")},
	}
}

// syncBuffer is a bytes.Buffer safe to write from the server's goroutines while a test reads.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// logRecords parses the JSON log lines written so far.
func (b *syncBuffer) logRecords(t *testing.T) []map[string]any {
	t.Helper()
	var recs []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(b.String()), "\n") {
		if line == "" {
			continue
		}
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatalf("log line is not JSON: %v: %s", err, line)
		}
		recs = append(recs, rec)
	}
	return recs
}

// recordingSource wraps a MemorySource, records which shops were asked for, and can be made
// slow, failing or panicking through its function fields.
type recordingSource struct {
	inner    CheckoutSource
	checkout func(ctx context.Context, shop string) (*discountfn.OfferSet, discountfn.CodeBook, error)
	facts    func(ctx context.Context, shop string, buyer discountfn.Buyer) (discountfn.Facts, error)

	mu     sync.Mutex
	shops  []string           // shops passed to Checkout or Facts
	buyers []discountfn.Buyer // buyers passed to Facts
}

func (r *recordingSource) record(shop string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.shops = append(r.shops, shop)
}

func (r *recordingSource) factsBuyers() []discountfn.Buyer {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]discountfn.Buyer(nil), r.buyers...)
}

func (r *recordingSource) calls() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.shops...)
}

func (r *recordingSource) Checkout(ctx context.Context, shop string) (*discountfn.OfferSet, discountfn.CodeBook, error) {
	r.record(shop)
	if r.checkout != nil {
		return r.checkout(ctx, shop)
	}
	return r.inner.Checkout(ctx, shop)
}

func (r *recordingSource) Facts(ctx context.Context, shop string, buyer discountfn.Buyer) (discountfn.Facts, error) {
	r.record(shop)
	r.mu.Lock()
	r.buyers = append(r.buyers, buyer)
	r.mu.Unlock()
	if r.facts != nil {
		return r.facts(ctx, shop, buyer)
	}
	return r.inner.Facts(ctx, shop, buyer)
}

// testEnv is a server built by New, as in production, over two shops' offers.
type testEnv struct {
	srv  *Server
	src  *recordingSource
	logs *syncBuffer
}

func newTestEnv(t *testing.T, cfg Config) *testEnv {
	t.Helper()
	mem := NewMemorySource()
	mem.SetOffers(shopA, mustOfferSet(t, percentOffer(offerA, 10*100)), nil)
	mem.SetOffers(shopB, mustOfferSet(t, percentOffer(offerB, 100*100)), nil)
	env := &testEnv{src: &recordingSource{inner: mem}, logs: &syncBuffer{}}
	logger := slog.New(slog.NewJSONHandler(env.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	env.srv = New(cfg, Deps{Source: env.src, Logger: logger, Now: testNow})
	return env
}

// do sends a request through the real Fiber app.
func (e *testEnv) do(t *testing.T, method, path, token string, body []byte) (*http.Response, []byte) {
	t.Helper()
	req := httptest.NewRequest(method, path, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := e.srv.App().Test(req, -1)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	got, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("read body: %v", err)
	}
	return resp, got
}

// serve runs the app on a real listener, for what app.Test cannot show (the server's own
// refusal of an oversized body), and returns its base URL.
func (e *testEnv) serve(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- e.srv.App().Listener(ln) }()
	t.Cleanup(func() {
		if err := e.srv.App().ShutdownWithContext(context.Background()); err != nil {
			t.Errorf("shutdown: %v", err)
		}
		<-done
	})
	return "http://" + ln.Addr().String()
}

func mustToken(t *testing.T, shop string) string {
	t.Helper()
	tok, err := MintCheckoutToken([]byte(testKey), shop, testNow())
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// percentOffer is an automatic percentage off the whole order, for every customer.
func percentOffer(id string, pct discountfn.Percent) discountfn.Offer {
	return discountfn.Offer{
		Version:     discountfn.ConfigVersion,
		ID:          id,
		Name:        id,
		Status:      discountfn.StatusActive,
		Application: discountfn.Application{Kind: discountfn.ApplyAutomatic},
		Value:       discountfn.Value{Kind: discountfn.ValuePercentage, Percentage: pct},
		Condition:   discountfn.Condition{Qualifying: discountfn.ItemSet{Scope: discountfn.ScopeAll}},
		Eligibility: discountfn.Eligibility{Audience: discountfn.AudienceAll},
		Stacking:    discountfn.Stacking{Priority: 1},
		Preview:     discountfn.Preview{Title: id, Visible: true},
	}
}

func mustOfferSet(t *testing.T, offers ...discountfn.Offer) *discountfn.OfferSet {
	t.Helper()
	set, err := discountfn.NewOfferSet(discountfn.Settings{Currency: "USD", Location: time.UTC}, offers, nil)
	if err != nil {
		t.Fatal(err)
	}
	return set
}

// inputDoc is a Discount Function input in the platform's JSON form (decimals as strings,
// ids as GIDs) with n cart lines, one delivery group, and a configuration metafield naming
// offerID. Tests edit the map before encoding it with mustJSON.
func inputDoc(n int, offerID string) map[string]any {
	lines := make([]any, n)
	lineIDs := make([]any, n)
	var subtotal int64
	for i := range n {
		qty := i%3 + 1
		price := int64(1250 + 100*i) // minor units
		subtotal += price * int64(qty)
		lineIDs[i] = fmt.Sprintf("gid://shopify/CartLine/%d", i)
		lines[i] = map[string]any{
			"id":       lineIDs[i],
			"quantity": qty,
			"cost": map[string]any{
				"amountPerQuantity": money(price),
				"subtotalAmount":    money(price * int64(qty)),
			},
			"merchandise": map[string]any{
				"__typename": "ProductVariant",
				"id":         fmt.Sprintf("gid://shopify/ProductVariant/%d", 5000+i),
				"product": map[string]any{
					"id":         fmt.Sprintf("gid://shopify/Product/%d", 700+i),
					"isGiftCard": false,
					"inCollections": []any{
						map[string]any{"collectionId": "gid://shopify/Collection/1", "isMember": i%2 == 0},
					},
				},
			},
		}
	}
	return map[string]any{
		"cart": map[string]any{
			"lines": lines,
			"cost":  map[string]any{"subtotalAmount": money(subtotal)},
			"buyerIdentity": map[string]any{
				"email":           "regular@example.com",
				"phone":           nil,
				"isAuthenticated": true,
				"customer": map[string]any{
					"id":             "gid://shopify/Customer/42",
					"email":          "regular@example.com",
					"numberOfOrders": 3,
					"amountSpent":    money(123_45),
					"hasTags":        []any{map[string]any{"tag": "vip", "hasTag": false}},
				},
			},
			"deliveryGroups": []any{
				map[string]any{
					"id":              "gid://shopify/CartDeliveryGroup/0",
					"deliveryAddress": map[string]any{"city": "Leeds", "countryCode": "GB", "zip": "LS1 4AP"},
					"deliveryOptions": []any{
						map[string]any{"handle": "standard", "title": "Standard", "cost": money(4_99), "deliveryMethodType": "SHIPPING"},
						map[string]any{"handle": "express", "title": "Express", "cost": money(12_00), "deliveryMethodType": "SHIPPING"},
					},
					"selectedDeliveryOption": map[string]any{"handle": "standard", "title": "Standard", "cost": money(4_99), "deliveryMethodType": "SHIPPING"},
				},
			},
		},
		"discount": map[string]any{
			"discountClasses": []any{"ORDER", "PRODUCT", "SHIPPING"},
			"metafield": map[string]any{
				"jsonValue": map[string]any{"version": 1, "offer_id": offerID},
				"type":      "json",
			},
		},
		"enteredDiscountCodes":    []any{},
		"presentmentCurrencyRate": "1.0",
		"shop":                    map[string]any{"localTime": map[string]any{"date": "2026-11-23"}},
	}
}

func money(minor int64) map[string]any {
	return map[string]any{"amount": fmt.Sprintf("%d.%02d", minor/100, minor%100), "currencyCode": "USD"}
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func newRequest(t *testing.T, method, path string, body []byte) *http.Request {
	t.Helper()
	req := httptest.NewRequest(method, path, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	return req
}

func readBody(t *testing.T, resp *http.Response) []byte {
	t.Helper()
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("read body: %v", err)
	}
	return b
}
