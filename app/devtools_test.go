package app

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"strings"
	"testing"

	"github.com/regularsapp/regulars/discountfn"
	"github.com/regularsapp/regulars/store"
	"github.com/regularsapp/regulars/store/storetest"
	"github.com/regularsapp/regulars/webhooks"
)

// newDemoEnv is a server over the demo shop seeded into a real store, its order history
// delivered as signed webhooks and processed by the real workers, as `make run` does.
func newDemoEnv(t *testing.T, env Env, st *store.Store) *testEnv {
	t.Helper()
	ctx := context.Background()
	cfg := testConfig()
	cfg.Env = env
	logs := &syncBuffer{}
	logger := slog.New(slog.NewJSONHandler(logs, nil))
	rcv := webhooks.NewReceiver(st, cfg.AppSecrets, testNow)
	if err := seedDemoShop(ctx, st, rcv, cfg.AppSecrets[0], testNow()); err != nil {
		t.Fatal(err)
	}
	processed, err := webhooks.NewWorker(st, webhooks.NewProcessor(st, testNow, logger)).DrainOnce(ctx)
	if err != nil || processed == 0 {
		t.Fatalf("processing the demo history: %d events, %v", processed, err)
	}
	e := &testEnv{src: &recordingSource{inner: NewStoreSource(st)}, logs: logs}
	e.srv = New(cfg, Deps{Source: e.src, Webhooks: rcv, Logger: logger, Now: testNow})
	return e
}

func TestDevtoolsOnlyInDevelopment(t *testing.T) {
	for _, tt := range []struct {
		env  Env
		want int
	}{{EnvDevelopment, http.StatusOK}, {EnvProduction, http.StatusNotFound}} {
		e := newDemoEnv(t, tt.env, storetest.SQLite(t))
		for _, path := range []string{"/dev/", "/dev/api/demo"} {
			resp, body := e.do(t, http.MethodGet, path, "", nil)
			if resp.StatusCode != tt.want {
				t.Errorf("%s %s: status %d, want %d", tt.env, path, resp.StatusCode, tt.want)
			}
			if tt.want == http.StatusOK && path == "/dev/" && !strings.Contains(string(body), "checkout simulator") {
				t.Errorf("%s: the simulator page is not served", path)
			}
		}
		resp, _ := e.do(t, http.MethodPost, "/dev/api/simulate", "", []byte(`{"cart":{"lines":[]}}`))
		if resp.StatusCode != tt.want {
			t.Errorf("%s simulate: status %d, want %d", tt.env, resp.StatusCode, tt.want)
		}
	}
}

// TestDevSimulateExplainsEveryOffer runs the demo regular's cart through the simulator: the
// regulars' reward applies with its code, and every other offer says why it did or did not.
func TestDevSimulateExplainsEveryOffer(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) { testDevSimulate(t, newDemoEnv(t, EnvDevelopment, st)) })
}

func testDevSimulate(t *testing.T, e *testEnv) {
	in := inputDoc(2, "")
	cart := in["cart"].(map[string]any)
	cart["buyerIdentity"] = map[string]any{"isAuthenticated": true, "email": "rita@example.com",
		"customer": map[string]any{"id": "gid://shopify/Customer/1", "email": "rita@example.com", "numberOfOrders": 6}}
	in["enteredDiscountCodes"] = []string{"regular15"}
	resp, body := e.do(t, http.MethodPost, "/dev/api/simulate", "", mustJSON(t, in))
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d: %s", resp.StatusCode, body)
	}
	var sim simulation
	if err := json.Unmarshal(body, &sim); err != nil {
		t.Fatal(err)
	}
	if len(sim.CartLines.Outcomes) != len(demoOffers()) {
		t.Fatalf("%d outcomes, want one per demo offer (%d)", len(sim.CartLines.Outcomes), len(demoOffers()))
	}
	byID := map[string]discountfn.Outcome{}
	for _, o := range sim.CartLines.Outcomes {
		byID[o.OfferID] = o
		if !o.Applied && o.Reason == "" {
			t.Errorf("%s neither applied nor explained", o.OfferID)
		}
	}
	if o := byID["demo-regulars-15"]; !o.Applied || o.Code != "REGULAR15" || o.Amount <= 0 {
		t.Errorf("the regulars' reward did not apply to a regular: %+v", o)
	}
	if o := byID["demo-welcome"]; o.Applied || o.Reason != discountfn.ReasonCodeNotEntered {
		t.Errorf("welcome offer: %+v", o)
	}
	if len(sim.CartLines.Operations) == 0 {
		t.Error("no operations for the cart lines target")
	}

	resp, body = e.do(t, http.MethodPost, "/dev/api/simulate", "", []byte(`{"cart": {"lines": [{"id": "x", "quantity": 1, "cost": {"amountPerQuantity": {"amount": "abc"}}}]}}`))
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(string(body), "amountPerQuantity") {
		t.Errorf("a malformed price: status %d %s, want 400 naming the field", resp.StatusCode, body)
	}
}
