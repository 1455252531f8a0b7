package app

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"testing"
	"time"

	"github.com/regularsapp/regulars/discountfn"
	"github.com/regularsapp/regulars/store"
	"github.com/regularsapp/regulars/store/storetest"
)

// The reference's published app proxy vectors (section 5): secret "hush".
func TestVerifyProxySignatureVectors(t *testing.T) {
	base := func() url.Values {
		return url.Values{
			"extra":       {"1", "2"},
			"path_prefix": {"/apps/awesome_reviews"},
			"shop":        {"shop-name.myshopify.com"},
			"timestamp":   {"1317327555"},
		}
	}
	tests := []struct {
		name      string
		customer  []string // nil: no logged_in_customer_id parameter
		message   string
		signature string
	}{
		{"logged in", []string{"1"},
			"extra=1,2logged_in_customer_id=1path_prefix=/apps/awesome_reviewsshop=shop-name.myshopify.comtimestamp=1317327555",
			"4c68c8624d737112c91818c11017d24d334b524cb5c2b8ba08daa056f7395ddb"},
		{"empty customer", []string{""},
			"extra=1,2logged_in_customer_id=path_prefix=/apps/awesome_reviewsshop=shop-name.myshopify.comtimestamp=1317327555",
			"e072b6d7e6622d85912a5214b860d3100dc1e73d9bc29f43796ac8c9ff8093cb"},
		{"no customer", nil,
			"extra=1,2path_prefix=/apps/awesome_reviewsshop=shop-name.myshopify.comtimestamp=1317327555",
			"a9718877bea71c2484f91608a7eaea1532bdf71f5c56825065fa4ccabe549ef3"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q := base()
			if tt.customer != nil {
				q["logged_in_customer_id"] = tt.customer
			}
			q.Set("signature", tt.signature)
			if got := proxySignatureMessage(q); got != tt.message {
				t.Errorf("message = %q; want %q", got, tt.message)
			}
			if err := VerifyProxySignature([]byte("hush"), q); err != nil {
				t.Errorf("VerifyProxySignature = %v; want nil", err)
			}
			if err := VerifyProxySignature([]byte("hush!"), q); !errors.Is(err, ErrProxySignature) {
				t.Errorf("with another secret = %v; want ErrProxySignature", err)
			}

			// Through the server at the vector's time: the signature passes, and the shop,
			// unknown here, is a 404 (not a 401).
			cfg := testConfig()
			cfg.AppSecrets = [][]byte{[]byte("previous"), []byte("hush")}
			srv := New(cfg, Deps{Source: NewMemorySource(), Now: func() time.Time { return time.Unix(1317327555+30, 0) }})
			resp, err := srv.App().Test(httptest.NewRequest(http.MethodGet, "/proxy/offers?"+q.Encode(), nil), -1)
			if err != nil {
				t.Fatal(err)
			}
			if resp.StatusCode != http.StatusNotFound {
				t.Errorf("GET with the vector = %d; want 404 (verified, unknown shop)", resp.StatusCode)
			}
		})
	}
}

// signProxy signs q as the platform does, with secret, at now.
func signProxy(secret string, q url.Values, now time.Time) url.Values {
	q = cloneValues(q)
	if q.Get("timestamp") == "" {
		q.Set("timestamp", strconv.FormatInt(now.Unix(), 10))
	}
	q.Del("signature")
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(proxySignatureMessage(q)))
	q.Set("signature", hex.EncodeToString(mac.Sum(nil)))
	return q
}

func cloneValues(q url.Values) url.Values {
	out := make(url.Values, len(q))
	for k, vs := range q {
		out[k] = append([]string(nil), vs...)
	}
	return out
}

func TestProxyRejects(t *testing.T) {
	now := testNow()
	src := &recordingSource{inner: NewMemorySource()}
	srv := New(testConfig(), Deps{Source: src, Now: func() time.Time { return now }})
	good := url.Values{"shop": {shopA}, "logged_in_customer_id": {"1"}, "path_prefix": {"/apps/regulars"}}
	tests := []struct {
		name  string
		query func() string
	}{
		{"no signature", func() string {
			q := signProxy(testAppSecret, good, now)
			q.Del("signature")
			return q.Encode()
		}},
		{"wrong secret", func() string { return signProxy("another-secret", good, now).Encode() }},
		{"tampered customer", func() string {
			q := signProxy(testAppSecret, good, now)
			q.Set("logged_in_customer_id", "2")
			return q.Encode()
		}},
		{"tampered shop", func() string {
			q := signProxy(testAppSecret, good, now)
			q.Set("shop", shopB)
			return q.Encode()
		}},
		{"added parameter", func() string {
			q := signProxy(testAppSecret, good, now)
			q.Set("subtotal", "100")
			return q.Encode()
		}},
		{"not hex", func() string {
			q := signProxy(testAppSecret, good, now)
			q.Set("signature", "zz")
			return q.Encode()
		}},
		{"stale", func() string {
			return signProxy(testAppSecret, good, now.Add(-91*time.Second)).Encode()
		}},
		{"from the future", func() string {
			return signProxy(testAppSecret, good, now.Add(91*time.Second)).Encode()
		}},
		{"repeated signature", func() string {
			q := signProxy(testAppSecret, good, now)
			return q.Encode() + "&signature=" + q.Get("signature")
		}},
		{"repeated shop", func() string {
			q := cloneValues(good)
			q["shop"] = []string{shopA, shopB}
			return signProxy(testAppSecret, q, now).Encode()
		}},
		{"repeated timestamp", func() string {
			q := cloneValues(good)
			q["timestamp"] = []string{strconv.FormatInt(now.Unix(), 10), strconv.FormatInt(now.Unix(), 10)}
			return signProxy(testAppSecret, q, now).Encode()
		}},
		{"no query", func() string { return "" }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, err := srv.App().Test(httptest.NewRequest(http.MethodGet, "/proxy/offers?"+tt.query(), nil), -1)
			if err != nil {
				t.Fatal(err)
			}
			body := readBody(t, resp)
			if resp.StatusCode != http.StatusUnauthorized {
				t.Errorf("status = %d %s; want 401", resp.StatusCode, body)
			}
		})
	}
	if calls := src.calls(); len(calls) != 0 {
		t.Errorf("rejected requests read the source: %v", calls)
	}
	// Within 90 s either way is accepted (then the shop is unknown to this source).
	for _, skew := range []time.Duration{-89 * time.Second, 89 * time.Second} {
		resp, err := srv.App().Test(httptest.NewRequest(http.MethodGet, "/proxy/offers?"+signProxy(testAppSecret, good, now.Add(skew)).Encode(), nil), -1)
		if err != nil {
			t.Fatal(err)
		}
		if resp.StatusCode != http.StatusNotFound {
			t.Errorf("skew %s: status %d; want 404", skew, resp.StatusCode)
		}
	}
}

// proxyOffers is the endpoint's answer as the storefront reads it.
type proxyOffers struct {
	Shop       string       `json:"shop"`
	Customer   string       `json:"customer"`
	Currency   string       `json:"currency"`
	Qualifying []proxyOffer `json:"qualifying"`
	Close      []proxyOffer `json:"close"`
}

func offerIDs(list []proxyOffer) []string {
	ids := make([]string, len(list))
	for i, o := range list {
		ids[i] = o.OfferID
	}
	return ids
}

func sameIDs(got []string, want ...string) bool {
	if len(got) != len(want) {
		return false
	}
	for i := range got {
		if got[i] != want[i] {
			return false
		}
	}
	return true
}

func mustSaveOffers(t *testing.T, st *store.Store, shop string, offers ...discountfn.Offer) {
	t.Helper()
	for _, o := range offers {
		if _, err := st.SaveOffer(context.Background(), shop, o.ID, string(o.Status), mustJSON(t, o), 0); err != nil {
			t.Fatal(err)
		}
	}
}

func TestProxyOffers(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		now := testNow()
		mustShops(t, st, shopA, shopB)

		regulars := percentOffer("regulars", 10*100)
		regulars.Preview = discountfn.Preview{Title: "Regulars 10", Description: "For our regulars", Visible: true}
		regulars.Behaviour = &discountfn.Behaviour{Period: discountfn.Period{Unit: discountfn.PeriodLifetime}, MinOrders: 2}
		welcome := percentOffer("welcome", 5*100)
		welcome.Application = discountfn.Application{Kind: discountfn.ApplyCode, Code: "WELCOME5"}
		welcome.Eligibility.FirstOrderOnly = true
		welcome.Preview = discountfn.Preview{Title: "Welcome 5", Visible: true}
		big := percentOffer("big", 15*100)
		big.Condition.MinSubtotal = 50_00
		big.Preview = discountfn.Preview{Title: "Big basket", Visible: true}
		hidden := percentOffer("hidden", 20*100)
		hidden.Preview = discountfn.Preview{Title: "Staff", Visible: false}
		hiddenCode := percentOffer("hidden-code", 20*100)
		hiddenCode.Application = discountfn.Application{Kind: discountfn.ApplyCode, Code: "SECRET20"}
		hiddenCode.Preview = discountfn.Preview{Title: "Secret", Visible: false}
		mustSaveOffers(t, st, shopA, regulars, welcome, big, hidden, hiddenCode)
		// Shop B's offer is never seen from shop A.
		mustSaveOffers(t, st, shopB, percentOffer("b-only", 50*100))

		// Customer 1 is a regular (two orders), customer 2 a newcomer.
		for i, id := range []string{"1001", "1002"} {
			placed := now.Add(-time.Duration(i+1) * 24 * time.Hour)
			if _, err := st.UpsertOrder(ctx, store.Order{Shop: shopA, ID: id, CustomerID: "gid://shopify/Customer/1",
				Email: "regular@example.com", PlacedAt: placed, UpdatedAt: placed, Currency: "USD",
				Subtotal: 40_00, Total: 40_00, FinancialStatus: "paid"}); err != nil {
				t.Fatal(err)
			}
		}

		src := &recordingSource{inner: NewStoreSource(st)}
		srv := New(testConfig(), Deps{Source: src, Store: st, Now: func() time.Time { return now }})
		ask := func(t *testing.T, customer, subtotal string) proxyOffers {
			t.Helper()
			q := url.Values{"shop": {shopA}, "logged_in_customer_id": {customer}, "path_prefix": {"/apps/regulars"}}
			if subtotal != "" {
				q.Set("subtotal", subtotal)
			}
			resp, err := srv.App().Test(httptest.NewRequest(http.MethodGet, "/proxy/offers?"+signProxy(testAppSecret, q, now).Encode(), nil), -1)
			if err != nil {
				t.Fatal(err)
			}
			body := readBody(t, resp)
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("status %d %s", resp.StatusCode, body)
			}
			if cc := resp.Header.Get("Cache-Control"); cc != "no-store" {
				t.Errorf("Cache-Control = %q", cc)
			}
			var got proxyOffers
			decodeJSON(t, body, &got)
			return got
		}

		t.Run("regular", func(t *testing.T) {
			got := ask(t, "1", "")
			if got.Shop != shopA || got.Customer != "gid://shopify/Customer/1" || got.Currency != "USD" {
				t.Errorf("answer = %+v", got)
			}
			if !sameIDs(offerIDs(got.Qualifying), "regulars") || !sameIDs(offerIDs(got.Close), "big") {
				t.Fatalf("qualifying %v, close %v; want [regulars], [big]", offerIDs(got.Qualifying), offerIDs(got.Close))
			}
			if q := got.Qualifying[0]; q.Title != "Regulars 10" || q.Description != "For our regulars" || q.Code != "" {
				t.Errorf("regulars = %+v", q)
			}
			if c := got.Close[0]; c.MissingAmount != 50_00 || c.Message != "Spend 50.00 USD more to get Big basket" {
				t.Errorf("close hint = %+v", c)
			}
			// With a cart of 30.00, 20.00 is missing; with 60.00 the offer qualifies.
			got = ask(t, "1", "3000")
			if len(got.Close) != 1 || got.Close[0].MissingAmount != 20_00 || got.Close[0].Message != "Spend 20.00 USD more to get Big basket" {
				t.Errorf("close at 30.00 = %+v", got.Close)
			}
			got = ask(t, "1", "6000")
			if !sameIDs(offerIDs(got.Qualifying), "big", "regulars") || len(got.Close) != 0 {
				t.Errorf("at 60.00: qualifying %v, close %v", offerIDs(got.Qualifying), offerIDs(got.Close))
			}
		})
		t.Run("newcomer", func(t *testing.T) {
			got := ask(t, "2", "")
			if !sameIDs(offerIDs(got.Qualifying), "welcome") || !sameIDs(offerIDs(got.Close), "big") {
				t.Fatalf("qualifying %v, close %v; want [welcome], [big]", offerIDs(got.Qualifying), offerIDs(got.Close))
			}
			if got.Qualifying[0].Code != "WELCOME5" {
				t.Errorf("welcome = %+v; want its shared code", got.Qualifying[0])
			}
		})
		t.Run("guest", func(t *testing.T) {
			// Neither the regulars' offer nor the first-order offer can be shown to nobody.
			got := ask(t, "", "")
			if got.Customer != "" || len(got.Qualifying) != 0 || !sameIDs(offerIDs(got.Close), "big") {
				t.Errorf("guest: %+v", got)
			}
		})
		t.Run("blocked", func(t *testing.T) {
			if _, err := st.BlockIdentity(ctx, shopA, "customer:gid://shopify/Customer/1", "abuse"); err != nil {
				t.Fatal(err)
			}
			got := ask(t, "1", "")
			if len(got.Qualifying) != 0 || len(got.Close) != 0 {
				t.Errorf("blocked customer: %+v; want nothing", got)
			}
		})
		t.Run("bad signature reads nothing", func(t *testing.T) {
			before := len(src.calls())
			q := signProxy(testAppSecret, url.Values{"shop": {shopA}, "logged_in_customer_id": {"1"}}, now)
			q.Set("logged_in_customer_id", "2")
			resp, err := srv.App().Test(httptest.NewRequest(http.MethodGet, "/proxy/offers?"+q.Encode(), nil), -1)
			if err != nil {
				t.Fatal(err)
			}
			if resp.StatusCode != http.StatusUnauthorized {
				t.Errorf("status %d; want 401", resp.StatusCode)
			}
			if after := len(src.calls()); after != before {
				t.Errorf("a rejected request read the source")
			}
		})
		t.Run("bad parameters", func(t *testing.T) {
			for _, q := range []url.Values{
				{"shop": {shopA}, "logged_in_customer_id": {"x1"}},
				{"shop": {shopA}, "subtotal": {"-1"}},
				{"shop": {"evil.example.com"}},
			} {
				resp, err := srv.App().Test(httptest.NewRequest(http.MethodGet, "/proxy/offers?"+signProxy(testAppSecret, q, now).Encode(), nil), -1)
				if err != nil {
					t.Fatal(err)
				}
				if resp.StatusCode != http.StatusBadRequest {
					t.Errorf("%v: status %d; want 400", q, resp.StatusCode)
				}
			}
		})
	})
}
