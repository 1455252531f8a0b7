package app

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/regularsapp/regulars/discountfn"
	"github.com/regularsapp/regulars/graphql"
	"github.com/regularsapp/regulars/standin"
	"github.com/regularsapp/regulars/store"
	"github.com/regularsapp/regulars/store/storetest"
)

// The same flows against the real stand-in (package standin), in process: install, history
// backfill through the webhook pipeline, and offers synced as discounts, checked by reading
// them back through the stand-in's Admin API.

type standinEnv struct {
	ts    *httptest.Server
	token string
	y     *Sync
	st    *store.Store
}

func newStandinEnv(t *testing.T, st *store.Store) *standinEnv {
	t.Helper()
	sd, err := standin.New(standin.Config{
		Root: "..", AppURL: syncAppURL, AsyncDelay: -1, WebhookRetries: -1,
		Logger: slog.New(slog.DiscardHandler),
	})
	if err != nil {
		t.Fatalf("standin.New: %v", err)
	}
	ts := httptest.NewServer(sd.Handler())
	t.Cleanup(func() {
		ts.Close()
		sd.Close()
	})
	e := &standinEnv{ts: ts, token: standinInstall(t, ts), st: st}
	cfg := Config{PlatformURL: ts.URL}
	admin := graphql.New(ts.Client(), func(shop string) string { return platformURL(cfg, shop, adminAPIPath) },
		func(context.Context, string) (string, error) { return e.token, nil })
	e.y = NewSync(st, admin, nil, SyncConfig{AppURL: syncAppURL, SigningKey: []byte(testKey),
		Backoff: func(int) time.Duration { return 0 }}, nil, nil)
	return e
}

// standinInstall installs the app in the stand-in's demo shop by the authorization code
// grant and returns the access token.
func standinInstall(t *testing.T, ts *httptest.Server) string {
	t.Helper()
	q := url.Values{"client_id": {standin.DevClientID}, "scope": {standin.DefaultScopes},
		"redirect_uri": {syncAppURL + "/auth/callback"}, "state": {"nonce"}, "auto": {"1"}}
	noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := noRedirect.Get(ts.URL + "/shops/" + standin.DemoShop + "/admin/oauth/authorize?" + q.Encode())
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	loc, err := url.Parse(resp.Header.Get("Location"))
	if err != nil || loc.Query().Get("code") == "" {
		t.Fatalf("authorize: %d, Location %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	form := url.Values{"client_id": {standin.DevClientID}, "client_secret": {standin.DevClientSecret}, "code": {loc.Query().Get("code")}}
	resp, err = http.PostForm(ts.URL+"/shops/"+standin.DemoShop+"/admin/oauth/access_token", form)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&tok); err != nil || tok.AccessToken == "" {
		t.Fatalf("token: %d, %v", resp.StatusCode, err)
	}
	return tok.AccessToken
}

// query sends a raw query to the stand-in's Admin API and returns its data.
func (e *standinEnv) query(t *testing.T, query string, vars map[string]any) map[string]any {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	req, _ := http.NewRequest(http.MethodPost, e.ts.URL+"/shops/"+standin.DemoShop+adminAPIPath, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(graphql.AccessTokenHeader, e.token)
	resp, err := e.ts.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var out struct {
		Data   map[string]any `json:"data"`
		Errors []any          `json:"errors"`
	}
	if err := json.Unmarshal(raw, &out); err != nil || len(out.Errors) > 0 {
		t.Fatalf("query: %v %s", err, raw)
	}
	return out.Data
}

func (e *standinEnv) drain(t *testing.T) {
	t.Helper()
	if _, err := e.y.DrainOnce(context.Background()); err != nil {
		t.Fatal(err)
	}
}

func (e *standinEnv) save(t *testing.T, o discountfn.Offer, version int64) store.Offer {
	t.Helper()
	row, err := e.st.SaveOffer(context.Background(), standin.DemoShop, o.ID, string(o.Status), mustJSON(t, o), version)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.y.OfferChanged(context.Background(), standin.DemoShop, o.ID); err != nil {
		t.Fatal(err)
	}
	return row
}

const standinDiscountQuery = `query($id: ID!) {
  discountNode(id: $id) {
    id
    metafield(namespace: "$app:regulars", key: "function-configuration") { value }
    discount {
      __typename
      ... on DiscountAutomaticApp { title status discountClasses combinesWith { productDiscounts orderDiscounts shippingDiscounts } endsAt }
      ... on DiscountCodeApp { title status discountClasses usageLimit appliesOncePerCustomer endsAt codesCount { count } }
    }
  }
}`

func TestInstallAndSyncAgainstStandin(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		e := newStandinEnv(t, st)

		// Install: shop details, our function, every topic subscribed, the history backfilled.
		if err := e.y.AfterInstall(ctx, standin.DemoShop); err != nil {
			t.Fatal(err)
		}
		e.drain(t)
		ss, err := st.GetShopSync(ctx, standin.DemoShop)
		if err != nil || ss.FunctionID == "" || ss.LastError != "" || ss.ReconciledAt == nil || ss.BackfillOrders == 0 {
			t.Fatalf("install state = %+v, %v", ss, err)
		}
		subs := e.query(t, `{ webhookSubscriptions(first: 50) { nodes { topic uri } } }`, nil)["webhookSubscriptions"].(map[string]any)["nodes"].([]any)
		var topics []string
		for _, s := range subs {
			m := s.(map[string]any)
			if m["uri"] != "/webhooks" {
				t.Errorf("subscription %v", m)
			}
			topics = append(topics, m["topic"].(string))
		}
		var want []string
		for _, topic := range WebhookTopics() {
			enum, _ := graphql.WebhookTopic(topic)
			want = append(want, string(enum))
		}
		slices.Sort(topics)
		slices.Sort(want)
		if !slices.Equal(topics, want) {
			t.Errorf("stand-in subscriptions %v, want %v", topics, want)
		}
		if n := processWebhooks(t, st); n < ss.BackfillOrders {
			t.Errorf("the pipeline processed %d events for %d backfilled orders", n, ss.BackfillOrders)
		}
		events, err := st.ListEvents(ctx, standin.DemoShop, "", 1000)
		if err != nil {
			t.Fatal(err)
		}
		found := 0
		for _, ev := range events {
			if ev.Status != store.EventDone {
				t.Errorf("event %s: %s %s", ev.EventID, ev.Status, ev.LastError)
			}
			id, ok := strings.CutPrefix(ev.EventID, "orders/updated:backfill:")
			if !ok {
				continue
			}
			id, _, _ = strings.Cut(id, ":")
			if _, err := st.GetOrder(ctx, standin.DemoShop, id); err != nil {
				t.Errorf("backfilled order %s: %v", id, err)
			}
			found++
		}
		if found != ss.BackfillOrders {
			t.Errorf("%d order events, %d orders backfilled", found, ss.BackfillOrders)
		}

		// An automatic offer → an automatic app discount with our metafield.
		o := percentOffer("standin-auto", 1000)
		o.Stacking.CombinesWith = discountfn.CombinesWith{ShippingDiscounts: true}
		row := e.save(t, o, 0)
		e.drain(t)
		s := mustOfferSync(t, st, o.ID)
		node := e.query(t, standinDiscountQuery, map[string]any{"id": s.PlatformID})["discountNode"].(map[string]any)
		d := node["discount"].(map[string]any)
		if d["__typename"] != "DiscountAutomaticApp" || d["title"] != "standin-auto" || asJSON(d["discountClasses"]) != `["ORDER"]` ||
			asJSON(d["combinesWith"]) != `{"orderDiscounts":false,"productDiscounts":false,"shippingDiscounts":true}` || d["status"] != "ACTIVE" {
			t.Errorf("automatic discount = %v", d)
		}
		var cfg discountfn.DiscountConfig
		if err := json.Unmarshal([]byte(node["metafield"].(map[string]any)["value"].(string)), &cfg); err != nil || cfg.OfferID != o.ID {
			t.Errorf("metafield = %v, %v", node["metafield"], err)
		}
		if shop, err := VerifyCheckoutToken([]byte(testKey), cfg.Token, time.Now()); err != nil || shop != standin.DemoShop {
			t.Errorf("metafield token: %q, %v", shop, err)
		}

		// Edit, pause, delete.
		o.Preview.Title = "Ten percent"
		o.Status = discountfn.StatusPaused
		row = e.save(t, o, row.Version)
		e.drain(t)
		d = e.query(t, standinDiscountQuery, map[string]any{"id": s.PlatformID})["discountNode"].(map[string]any)["discount"].(map[string]any)
		if d["title"] != "Ten percent" || d["status"] == "ACTIVE" {
			t.Errorf("paused discount = %v", d)
		}
		if err := st.DeleteOffer(ctx, standin.DemoShop, o.ID); err != nil {
			t.Fatal(err)
		}
		if err := e.y.OfferChanged(ctx, standin.DemoShop, o.ID); err != nil {
			t.Fatal(err)
		}
		e.drain(t)
		if n := e.query(t, standinDiscountQuery, map[string]any{"id": s.PlatformID})["discountNode"]; n != nil {
			t.Errorf("deleted offer's discount still there: %v", n)
		}

		// Unique codes: created with the first, the rest in batches of 250.
		c := percentOffer("standin-codes", 500)
		c.Application = discountfn.Application{Kind: discountfn.ApplyCodes}
		c.Limits = discountfn.Limits{TotalUses: 50, UsesPerCustomer: 1}
		if _, err := st.SaveOffer(ctx, standin.DemoShop, c.ID, string(c.Status), mustJSON(t, c), 0); err != nil {
			t.Fatal(err)
		}
		codes := make([]store.CodeRow, 600)
		for i := range codes {
			codes[i] = store.CodeRow{Code: fmt.Sprintf("SI%04d", i)}
		}
		if err := st.AddCodes(ctx, standin.DemoShop, c.ID, codes); err != nil {
			t.Fatal(err)
		}
		if err := e.y.OfferChanged(ctx, standin.DemoShop, c.ID); err != nil {
			t.Fatal(err)
		}
		e.drain(t)
		cs := mustOfferSync(t, st, c.ID)
		d = e.query(t, standinDiscountQuery, map[string]any{"id": cs.PlatformID})["discountNode"].(map[string]any)["discount"].(map[string]any)
		if d["__typename"] != "DiscountCodeApp" || asJSON(d["usageLimit"]) != "50" || d["appliesOncePerCustomer"] != true ||
			asJSON(d["codesCount"]) != `{"count":600}` {
			t.Errorf("code discount = %v", d)
		}
		if cs.State != store.SyncSynced || cs.CodesFailed != 0 {
			t.Errorf("codes state = %+v", cs)
		}
	})
}

func mustOfferSync(t *testing.T, st *store.Store, offerID string) store.OfferSync {
	t.Helper()
	s, err := st.GetOfferSync(context.Background(), standin.DemoShop, offerID)
	if err != nil {
		t.Fatal(err)
	}
	if s.State != store.SyncSynced || s.PlatformID == "" {
		t.Fatalf("offer %s: %+v", offerID, s)
	}
	return s
}
