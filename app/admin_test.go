package app

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/regularsapp/regulars/discountfn"
	"github.com/regularsapp/regulars/store"
	"github.com/regularsapp/regulars/store/storetest"
)

// call sends an admin API request with shop's ID token, body encoded as JSON unless it is
// already bytes.
func (e *authEnv) call(t *testing.T, method, path, shop string, body any, header http.Header) (*http.Response, []byte) {
	t.Helper()
	var raw []byte
	switch b := body.(type) {
	case nil:
	case []byte:
		raw = b
	default:
		raw = mustJSON(t, b)
	}
	req := httptest.NewRequest(method, path, bytes.NewReader(raw))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+mintIDToken(t, testAppSecret, shop, e.clock.Now()))
	for k, vs := range header {
		req.Header[k] = vs
	}
	resp, err := e.srv.App().Test(req, -1)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	return resp, readBody(t, resp)
}

// mustStatus fails the test unless resp has status want.
func mustStatus(t *testing.T, what string, resp *http.Response, body []byte, want int) {
	t.Helper()
	if resp.StatusCode != want {
		t.Fatalf("%s: %d %s; want %d", what, resp.StatusCode, body, want)
	}
}

func mustShops(t *testing.T, st *store.Store, shops ...string) {
	t.Helper()
	for _, shop := range shops {
		if _, err := st.UpsertShop(context.Background(), store.Shop{Domain: shop, Currency: "USD", Timezone: "UTC"}); err != nil {
			t.Fatal(err)
		}
	}
}

func TestAdminOffers(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		env := adminOnlyEnv(t, st)
		mustShops(t, st, shopA)

		// Create, with a generated id; a later start makes it scheduled.
		offer := percentOffer("", 15*100)
		offer.Name, offer.Preview.Title = "Regulars 15", "15% off for regulars"
		starts := env.clock.Now().Add(24 * time.Hour)
		offer.Schedule.StartsAt = &starts
		resp, body := env.call(t, http.MethodPost, "/api/offers", shopA, offer, nil)
		mustStatus(t, "create", resp, body, http.StatusCreated)
		var rec offerRecord
		decodeJSON(t, body, &rec)
		if !regexp.MustCompile(`^o[A-Za-z0-9_-]{16}$`).MatchString(rec.ID) || rec.Offer.ID != rec.ID {
			t.Errorf("generated id %q (offer id %q)", rec.ID, rec.Offer.ID)
		}
		if rec.Version != 1 || rec.Status != discountfn.StatusActive || rec.Lifecycle != discountfn.StatusScheduled ||
			resp.Header.Get("ETag") != `"1"` {
			t.Errorf("created record = %+v, ETag %s", rec, resp.Header.Get("ETag"))
		}
		id := rec.ID

		// List and get.
		resp, body = env.call(t, http.MethodGet, "/api/offers", shopA, nil, nil)
		mustStatus(t, "list", resp, body, http.StatusOK)
		var list struct{ Offers []offerSummary }
		decodeJSON(t, body, &list)
		if len(list.Offers) != 1 || list.Offers[0] != (offerSummary{
			ID: id, Name: "Regulars 15", Title: "15% off for regulars", Status: discountfn.StatusActive,
			Lifecycle: discountfn.StatusScheduled, Kind: discountfn.ValuePercentage, Application: discountfn.ApplyAutomatic,
			Version: 1, UpdatedAt: list.Offers[0].UpdatedAt, SyncState: "unknown",
		}) {
			t.Errorf("list = %+v", list.Offers)
		}
		resp, body = env.call(t, http.MethodGet, "/api/offers/"+id, shopA, nil, nil)
		mustStatus(t, "get", resp, body, http.StatusOK)

		// Edit: the version is required, and a stale one is a conflict.
		offer.ID, offer.Name = id, "Regulars 20"
		resp, body = env.call(t, http.MethodPut, "/api/offers/"+id, shopA, map[string]any{"offer": offer}, nil)
		mustStatus(t, "put without a version", resp, body, http.StatusBadRequest)
		resp, body = env.call(t, http.MethodPut, "/api/offers/"+id, shopA, map[string]any{"version": 1, "offer": offer}, nil)
		mustStatus(t, "put at version 1", resp, body, http.StatusOK)
		decodeJSON(t, body, &rec)
		if rec.Version != 2 || rec.Offer.Name != "Regulars 20" {
			t.Errorf("after edit: %+v", rec)
		}
		resp, body = env.call(t, http.MethodPut, "/api/offers/"+id, shopA, map[string]any{"version": 1, "offer": offer}, nil)
		mustStatus(t, "put at a stale version", resp, body, http.StatusConflict)
		assertJSONError(t, resp, body, "changed since version 1")
		resp, body = env.call(t, http.MethodPut, "/api/offers/"+id, shopA, map[string]any{"offer": offer}, http.Header{"If-Match": {`"2"`}})
		mustStatus(t, "put with If-Match", resp, body, http.StatusOK)
		resp, body = env.call(t, http.MethodPut, "/api/offers/"+id, shopA, map[string]any{"version": 3, "offer": offer}, http.Header{"If-Match": {`"2"`}})
		mustStatus(t, "If-Match and version disagree", resp, body, http.StatusBadRequest)
		other := offer
		other.ID = "another-id"
		resp, body = env.call(t, http.MethodPut, "/api/offers/"+id, shopA, map[string]any{"version": 3, "offer": other}, nil)
		mustStatus(t, "put with another id in the body", resp, body, http.StatusUnprocessableEntity)

		// Lifecycle.
		for _, step := range []struct {
			action string
			status int
			want   discountfn.Status
		}{
			{"pause", http.StatusOK, discountfn.StatusPaused},
			{"pause", http.StatusOK, discountfn.StatusPaused}, // already paused: as it is
			{"resume", http.StatusOK, discountfn.StatusActive},
			{"archive", http.StatusOK, discountfn.StatusArchived},
			{"resume", http.StatusConflict, ""},
			{"pause", http.StatusConflict, ""},
		} {
			resp, body = env.call(t, http.MethodPost, "/api/offers/"+id+"/"+step.action, shopA, nil, nil)
			mustStatus(t, step.action, resp, body, step.status)
			if step.want != "" {
				decodeJSON(t, body, &rec)
				if rec.Status != step.want || rec.Offer.Status != step.want {
					t.Errorf("after %s: status %s (offer %s), want %s", step.action, rec.Status, rec.Offer.Status, step.want)
				}
			}
		}
		if stored, err := st.GetOffer(context.Background(), shopA, id); err != nil || stored.Status != "archived" || stored.Version != 6 {
			t.Errorf("stored offer = %+v, %v; want archived at version 6", stored, err)
		}
		resp, body = env.call(t, http.MethodPost, "/api/offers/"+id+"/pause", shopA, nil, http.Header{"If-Match": {`"5"`}})
		mustStatus(t, "pause with a stale If-Match", resp, body, http.StatusConflict)

		// Duplicate: a draft copy with a new id.
		resp, body = env.call(t, http.MethodPost, "/api/offers/"+id+"/duplicate", shopA, nil, nil)
		mustStatus(t, "duplicate", resp, body, http.StatusCreated)
		var dup offerRecord
		decodeJSON(t, body, &dup)
		if dup.ID == id || dup.Status != discountfn.StatusDraft || dup.Offer.Name != "Regulars 20 (copy)" || dup.Version != 1 ||
			dup.Offer.Value.Percentage != offer.Value.Percentage {
			t.Errorf("duplicate = %+v", dup)
		}

		// Delete (soft): gone from the API, kept in the store for history.
		resp, body = env.call(t, http.MethodDelete, "/api/offers/"+id, shopA, nil, nil)
		mustStatus(t, "delete", resp, body, http.StatusNoContent)
		resp, body = env.call(t, http.MethodGet, "/api/offers/"+id, shopA, nil, nil)
		mustStatus(t, "get after delete", resp, body, http.StatusNotFound)
		resp, body = env.call(t, http.MethodDelete, "/api/offers/"+id, shopA, nil, nil)
		mustStatus(t, "delete again", resp, body, http.StatusNotFound)
		if all, err := st.ListOffers(context.Background(), shopA, true); err != nil || len(all) != 2 {
			t.Errorf("stored offers with deleted = %d, %v; want 2", len(all), err)
		}

		// Every change reached the sync hook, in order; no-op and refused ones did not.
		want := []string{id, id, id, id, id, id, dup.ID, id}
		for i := range want {
			want[i] = shopA + "/" + want[i]
		}
		if got := env.hooks.changed(); !slices.Equal(got, want) {
			t.Errorf("OfferChanged calls = %v, want %v", got, want)
		}
	})
}

func TestAdminOfferValidation(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		env := adminOnlyEnv(t, st)
		mustShops(t, st, shopA)

		bad := percentOffer("bad id!", 150*100)
		bad.Name = ""
		resp, body := env.call(t, http.MethodPost, "/api/offers", shopA, bad, nil)
		mustStatus(t, "invalid offer", resp, body, http.StatusUnprocessableEntity)
		var e struct {
			Error    string
			Problems []discountfn.FieldError
		}
		decodeJSON(t, body, &e)
		paths := map[string]bool{}
		for _, p := range e.Problems {
			paths[p.Path] = p.Message != ""
		}
		if e.Error == "" || !paths["id"] || !paths["name"] || !paths["value.percentage"] {
			t.Errorf("422 body = %s; want problems for id, name and value.percentage", body)
		}

		for name, raw := range map[string]string{
			"empty body": "", "malformed": `{"name":`, "not an object": `[1]`, "trailing data": `{} {}`,
			"wrong type": `{"name": 5}`,
		} {
			resp, body := env.call(t, http.MethodPost, "/api/offers", shopA, []byte(raw), nil)
			if resp.StatusCode != http.StatusBadRequest {
				t.Errorf("%s: %d %s; want 400", name, resp.StatusCode, body)
			}
		}

		// An id in use is a conflict; status defaults to draft.
		ok := percentOffer("taken", 10*100)
		ok.Status = ""
		resp, body = env.call(t, http.MethodPost, "/api/offers", shopA, ok, nil)
		mustStatus(t, "create", resp, body, http.StatusCreated)
		var rec offerRecord
		decodeJSON(t, body, &rec)
		if rec.Status != discountfn.StatusDraft {
			t.Errorf("status = %s, want draft", rec.Status)
		}
		resp, body = env.call(t, http.MethodPost, "/api/offers", shopA, ok, nil)
		mustStatus(t, "create with a taken id", resp, body, http.StatusConflict)
		assertJSONError(t, resp, body, `an offer with id "taken" exists already`)
		if got := env.hooks.changed(); len(got) != 1 {
			t.Errorf("OfferChanged calls = %v, want one", got)
		}
	})
}

// TestAdminCrossShop: a token for shop A never reads or changes shop B's offers.
func TestAdminCrossShop(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		env := adminOnlyEnv(t, st)
		mustShops(t, st, shopA, shopB)
		resp, body := env.call(t, http.MethodPost, "/api/offers", shopB, percentOffer(offerB, 100*100), nil)
		mustStatus(t, "create in B", resp, body, http.StatusCreated)

		edit := percentOffer(offerB, 100*100)
		for _, req := range []struct {
			method, path string
			body         any
		}{
			{http.MethodGet, "/api/offers/" + offerB, nil},
			{http.MethodPut, "/api/offers/" + offerB, map[string]any{"version": 1, "offer": edit}},
			{http.MethodPost, "/api/offers/" + offerB + "/pause", nil},
			{http.MethodPost, "/api/offers/" + offerB + "/archive", nil},
			{http.MethodPost, "/api/offers/" + offerB + "/duplicate", nil},
			{http.MethodDelete, "/api/offers/" + offerB, nil},
		} {
			resp, body := env.call(t, req.method, req.path, shopA, req.body, nil)
			if resp.StatusCode != http.StatusNotFound {
				t.Errorf("%s %s with shop A's token: %d %s; want 404", req.method, req.path, resp.StatusCode, body)
			}
		}
		// Shop A (no shop row needed for a list) sees none of B's offers; creating one with
		// B's id makes A's own offer.
		resp, body = env.call(t, http.MethodGet, "/api/offers", shopA, nil, nil)
		if resp.StatusCode != http.StatusOK || string(body) != `{"offers":[]}` {
			t.Errorf("A's list: %d %s", resp.StatusCode, body)
		}
		resp, body = env.call(t, http.MethodPost, "/api/offers", shopA, percentOffer(offerB, 10*100), nil)
		mustStatus(t, "A creates an offer with B's id", resp, body, http.StatusCreated)

		b, err := st.GetOffer(context.Background(), shopB, offerB)
		if err != nil || b.Version != 1 || b.Status != "active" {
			t.Errorf("B's offer = %+v, %v; want untouched", b, err)
		}
		if got := env.hooks.changed(); !slices.Equal(got, []string{shopB + "/" + offerB, shopA + "/" + offerB}) {
			t.Errorf("OfferChanged calls = %v", got)
		}
	})
}

func TestAdminSettings(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		env := adminOnlyEnv(t, st)
		mustShops(t, st, shopA, shopB)

		resp, body := env.call(t, http.MethodGet, "/api/settings", shopA, nil, nil)
		mustStatus(t, "get", resp, body, http.StatusOK)
		var got store.ShopSettings
		decodeJSON(t, body, &got)
		if def := store.DefaultShopSettings(); got.Timezone != "UTC" || !slices.Equal(got.CODGateways, def.CODGateways) {
			t.Errorf("settings = %+v, want the defaults", got)
		}

		bad := store.ShopSettings{Timezone: "Mars/Olympus", CODGateways: []string{"COD", " "}}
		resp, body = env.call(t, http.MethodPut, "/api/settings", shopA, bad, nil)
		mustStatus(t, "invalid settings", resp, body, http.StatusUnprocessableEntity)
		for _, want := range []string{`"path":"timezone"`, `"path":"cod_gateways[1]"`} {
			if !strings.Contains(string(body), want) {
				t.Errorf("422 body %s lacks %s", body, want)
			}
		}

		good := store.ShopSettings{Timezone: "Europe/Paris", CountTestOrders: true, CODGateways: []string{" Cash on Delivery "}}
		resp, body = env.call(t, http.MethodPut, "/api/settings", shopA, good, nil)
		mustStatus(t, "put", resp, body, http.StatusOK)
		decodeJSON(t, body, &got)
		if got.Timezone != "Europe/Paris" || !got.CountTestOrders || !slices.Equal(got.CODGateways, []string{"Cash on Delivery"}) {
			t.Errorf("saved settings = %+v", got)
		}
		if b, err := st.GetSettings(context.Background(), shopB); err != nil || b.Timezone != "UTC" || b.CountTestOrders {
			t.Errorf("shop B's settings = %+v, %v; want untouched", b, err)
		}
		// PUT replaces every setting: one left out, or misspelt, is refused and changes nothing.
		for _, tc := range []struct {
			name, body, path string
		}{
			{"empty object", `{}`, `"path":"release_usage_on_cancel"`},
			{"one left out", `{"timezone":"UTC","count_test_orders":false,"count_cancelled":false,"count_fully_refunded":false,
				"count_unpaid_cod":false,"cod_gateways":["COD"]}`, `"path":"release_usage_on_cancel"`},
			{"misspelt", `{"timezone":"UTC","count_test_orders":false,"count_cancelled":false,"count_fully_refunded":false,
				"count_unpaid_cod":false,"cod_gateways":["COD"],"release_usage_on_cancel":true,"release_usage_on_cancle":false}`,
				`"path":"release_usage_on_cancle"`},
		} {
			resp, body = env.call(t, http.MethodPut, "/api/settings", shopA, json.RawMessage(tc.body), nil)
			mustStatus(t, tc.name, resp, body, http.StatusUnprocessableEntity)
			if !strings.Contains(string(body), tc.path) {
				t.Errorf("%s: 422 body %s lacks %s", tc.name, body, tc.path)
			}
			if now, err := st.GetSettings(context.Background(), shopA); err != nil || now.Timezone != "Europe/Paris" || !now.CountTestOrders {
				t.Errorf("%s: settings now %+v, %v; want unchanged", tc.name, now, err)
			}
		}

		resp, body = env.call(t, http.MethodGet, "/api/settings", "unknown-shop.myshopify.com", nil, nil)
		mustStatus(t, "settings of a shop not in the store", resp, body, http.StatusNotFound)
	})
}

func TestAdminDataRequests(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		env := adminOnlyEnv(t, st)
		mustShops(t, st, shopA, shopB)
		ctx := context.Background()
		if err := st.SaveDataRequest(ctx, shopA, "gid://shopify/Customer/1", "9001", []byte(`{"orders":[]}`)); err != nil {
			t.Fatal(err)
		}
		if err := st.SaveDataRequest(ctx, shopB, "gid://shopify/Customer/2", "9002", []byte(`{}`)); err != nil {
			t.Fatal(err)
		}
		resp, body := env.call(t, http.MethodGet, "/api/data-requests", shopA, nil, nil)
		mustStatus(t, "list", resp, body, http.StatusOK)
		var got struct {
			DataRequests []struct {
				RequestID  string          `json:"request_id"`
				CustomerID string          `json:"customer_id"`
				Payload    json.RawMessage `json:"payload"`
			} `json:"data_requests"`
		}
		decodeJSON(t, body, &got)
		if len(got.DataRequests) != 1 || got.DataRequests[0].RequestID != "9001" ||
			got.DataRequests[0].CustomerID != "gid://shopify/Customer/1" || string(got.DataRequests[0].Payload) != `{"orders":[]}` {
			t.Errorf("data requests = %s", body)
		}
	})
}

// TestAdminSyncHookFailure: a failing OfferChanged hook is logged; the change stays saved and
// the answer says so.
func TestAdminSyncHookFailure(t *testing.T) {
	env := adminOnlyEnv(t, storetest.SQLite(t))
	mustShops(t, env.st, shopA)
	env.hooks.failOffers = true
	resp, body := env.call(t, http.MethodPost, "/api/offers", shopA, percentOffer(offerA, 10*100), nil)
	mustStatus(t, "create", resp, body, http.StatusCreated)
	if !hasLog(env.logs.logRecords(t), "ERROR", "sync hook failed", offerA, "sync queue unavailable") {
		t.Errorf("hook failure not logged:\n%s", env.logs)
	}
}

func TestAdminUnknownAPIRoute(t *testing.T) {
	env := adminOnlyEnv(t, storetest.SQLite(t))
	resp, body := env.call(t, http.MethodGet, "/api/nope", shopA, nil, nil)
	mustStatus(t, "unknown route", resp, body, http.StatusNotFound)
	assertJSONError(t, resp, body, "not found")
	resp, body = env.get(t, "/api/nope", nil)
	mustStatus(t, "unknown route without a token", resp, body, http.StatusUnauthorized)
}

func TestExpectedVersion(t *testing.T) {
	v := func(n int64) *int64 { return &n }
	tests := []struct {
		ifMatch string
		body    *int64
		want    int64
		ok      bool
	}{
		{`"3"`, nil, 3, true},
		{`W/"3"`, nil, 3, true},
		{`3`, nil, 3, true},
		{"", v(4), 4, true},
		{`"4"`, v(4), 4, true},
		{`"4"`, v(5), 0, false},
		{"", nil, 0, false},
		{"", v(0), 0, false},
		{`"abc"`, nil, 0, false},
		{`"0"`, nil, 0, false},
		{`*`, nil, 0, false},
	}
	for _, tt := range tests {
		got, err := expectedVersion(tt.ifMatch, tt.body)
		if (err == nil) != tt.ok || got != tt.want {
			t.Errorf("expectedVersion(%q, %v) = %d, %v; want %d ok=%v", tt.ifMatch, tt.body, got, err, tt.want, tt.ok)
		}
	}
	if got := copyName(strings.Repeat("é", 300)); len([]rune(got)) != 255 || !strings.HasSuffix(got, " (copy)") {
		t.Errorf("copyName of a long name = %d runes", len([]rune(got)))
	}
}
