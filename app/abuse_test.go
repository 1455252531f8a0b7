package app

import (
	"context"
	"log/slog"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/regularsapp/regulars/discountfn"
	"github.com/regularsapp/regulars/store"
	"github.com/regularsapp/regulars/store/storetest"
)

// abuseEnv is the admin API and the checkout endpoint over one real store.
func abuseEnv(t *testing.T, st *store.Store) *authEnv {
	t.Helper()
	cfg := authConfig("http://127.0.0.1:8081")
	cfg.AppSecrets = [][]byte{[]byte(testAppSecret)}
	cfg.CheckoutDeadline = maxCheckoutDeadline // a real database under the race detector
	env := &authEnv{testEnv: &testEnv{logs: &syncBuffer{}}, st: st, clock: newManualClock()}
	logger := slog.New(slog.NewJSONHandler(env.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	env.srv = New(cfg, Deps{Source: NewStoreSource(st), Store: st, Now: env.clock.Now, Logger: logger})
	return env
}

func TestBlockedBuyerGetsNoDiscount(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		env := abuseEnv(t, st)
		mustShops(t, st, shopA, shopB)
		mustSaveOffers(t, st, shopA, percentOffer(offerA, 10*100))
		doc := inputDoc(2, offerA) // the buyer is regular@example.com, customer 42
		checkout := func() string {
			t.Helper()
			resp, body := env.do(t, http.MethodPost, "/checkout/cart-lines", mustToken(t, shopA), mustJSON(t, doc))
			mustStatus(t, "checkout", resp, body, http.StatusOK)
			return string(body)
		}
		if got := checkout(); got == emptyRunResult {
			t.Fatalf("before blocking: %s; want a discount", got)
		}

		// The email as the merchant types it is normalized to the key checkout computes.
		resp, body := env.call(t, http.MethodPost, "/api/blocked", shopA,
			map[string]any{"kind": "email", "value": " Regular@Example.com ", "reason": "chargebacks"}, nil)
		mustStatus(t, "block", resp, body, http.StatusCreated)
		var created blockedView
		decodeJSON(t, body, &created)
		if created.IdentityKey != "email:regular@example.com" || created.Kind != discountfn.IdentityEmail ||
			created.Value != "regular@example.com" || created.Reason != "chargebacks" {
			t.Errorf("created = %+v", created)
		}
		if got := checkout(); got != emptyRunResult {
			t.Errorf("blocked buyer: %s; want no discount", got)
		}

		// The engine's reason, through the store-backed source.
		src := NewStoreSource(st)
		set, codes, err := src.Checkout(ctx, shopA)
		if err != nil {
			t.Fatal(err)
		}
		in, err := decodeInput(mustJSON(t, doc))
		if err != nil {
			t.Fatal(err)
		}
		facts, err := src.Facts(ctx, shopA, discountfn.BuyerFromInput(in))
		if err != nil {
			t.Fatal(err)
		}
		res, err := set.Evaluate(discountfn.Request{Input: in, Target: discountfn.TargetCartLines, Facts: facts, Codes: codes, Now: testNow(), Explain: true})
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Outcomes) != 1 || res.Outcomes[0].Reason != discountfn.ReasonBlocked {
			t.Errorf("outcomes = %+v; want %s", res.Outcomes, discountfn.ReasonBlocked)
		}

		// Shop B sees nothing of shop A's block list and cannot lift it.
		resp, body = env.call(t, http.MethodGet, "/api/blocked", shopB, nil, nil)
		mustStatus(t, "list as B", resp, body, http.StatusOK)
		var list struct{ Blocked []blockedView }
		decodeJSON(t, body, &list)
		if len(list.Blocked) != 0 {
			t.Errorf("shop B's list = %+v", list.Blocked)
		}
		resp, body = env.call(t, http.MethodDelete, "/api/blocked?kind=email&value=regular@example.com", shopB, nil, nil)
		mustStatus(t, "unblock as B", resp, body, http.StatusNotFound)

		resp, body = env.call(t, http.MethodGet, "/api/blocked", shopA, nil, nil)
		mustStatus(t, "list", resp, body, http.StatusOK)
		decodeJSON(t, body, &list)
		if len(list.Blocked) != 1 || list.Blocked[0].IdentityKey != "email:regular@example.com" {
			t.Errorf("list = %+v", list.Blocked)
		}
		resp, body = env.call(t, http.MethodDelete, "/api/blocked?kind=email&value="+url.QueryEscape("Regular@example.com"), shopA, nil, nil)
		mustStatus(t, "unblock", resp, body, http.StatusNoContent)
		if got := checkout(); got == emptyRunResult {
			t.Errorf("after unblocking: %s; want a discount", got)
		}
		resp, body = env.call(t, http.MethodDelete, "/api/blocked?identity_key=email:regular@example.com", shopA, nil, nil)
		mustStatus(t, "unblock again", resp, body, http.StatusNotFound)

		// Invalid identities.
		for _, bad := range []map[string]any{
			{"kind": "nickname", "value": "ada"},
			{"kind": "email", "value": "not an address"},
			{"kind": "phone", "value": "12"},
			{"kind": "ip", "value": "10.0.0"},
			{"kind": "address", "value": "not-a-fingerprint"},
			{"kind": "customer", "value": "gid://shopify/Order/1"},
		} {
			resp, body := env.call(t, http.MethodPost, "/api/blocked", shopA, bad, nil)
			mustStatus(t, "block "+bad["kind"].(string), resp, body, http.StatusUnprocessableEntity)
		}
	})
}

func TestSharedIdentitiesAPI(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		env := abuseEnv(t, st)
		mustShops(t, st, shopA, shopB)
		placed := testNow().Add(-time.Hour)
		for i, customer := range []string{"1", "2", "3"} {
			if _, err := st.UpsertOrder(ctx, store.Order{Shop: shopA, ID: "10" + customer,
				CustomerID: "gid://shopify/Customer/" + customer, Phone: discountfn.NormalizePhone("+44 1111 111"),
				BrowserIP: "10.0.0." + customer, PlacedAt: placed.Add(time.Duration(i) * time.Minute), UpdatedAt: placed,
				Currency: "USD", Total: 10_00, FinancialStatus: "paid"}); err != nil {
				t.Fatal(err)
			}
		}

		shared := func(shop, query string) []sharedView {
			t.Helper()
			resp, body := env.call(t, http.MethodGet, "/api/abuse/shared"+query, shop, nil, nil)
			mustStatus(t, "shared", resp, body, http.StatusOK)
			var got struct{ Shared []sharedView }
			decodeJSON(t, body, &got)
			return got.Shared
		}
		got := shared(shopA, "?min=3")
		if len(got) != 1 || got[0] != (sharedView{IdentityKey: "phone:+441111111", Kind: discountfn.IdentityPhone, Accounts: 3, Orders: 3}) {
			t.Errorf("shared = %+v", got)
		}
		if got := shared(shopA, "?min=4"); len(got) != 0 {
			t.Errorf("shared at 4 = %+v", got)
		}
		if got := shared(shopB, ""); len(got) != 0 {
			t.Errorf("shop B's shared = %+v", got)
		}
		resp, body := env.call(t, http.MethodGet, "/api/abuse/shared?min=1", shopA, nil, nil)
		mustStatus(t, "min=1", resp, body, http.StatusBadRequest)

		// Blocking the phone from the view marks it.
		resp, body = env.call(t, http.MethodPost, "/api/blocked", shopA, map[string]any{"kind": "phone", "value": "+44 (1111) 111"}, nil)
		mustStatus(t, "block phone", resp, body, http.StatusCreated)
		if got := shared(shopA, ""); len(got) != 1 || !got[0].Blocked {
			t.Errorf("shared after blocking = %+v", got)
		}
	})
}
