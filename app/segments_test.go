package app

import (
	"log/slog"
	"net/http"
	"slices"
	"testing"

	"github.com/regularsapp/regulars/discountfn"
	"github.com/regularsapp/regulars/store"
	"github.com/regularsapp/regulars/store/storetest"
)

// adminStoreEnv is adminOnlyEnv serving checkouts (and the simulator) from the store.
func adminStoreEnv(t *testing.T, st *store.Store) *authEnv {
	t.Helper()
	env := adminOnlyEnv(t, st)
	cfg := authConfig("http://127.0.0.1:8081")
	logger := slog.New(slog.NewJSONHandler(env.logs, nil))
	env.srv = New(cfg, Deps{Store: st, Source: NewStoreSource(st), Now: env.clock.Now, Logger: logger,
		Installer: env.hooks, OfferSync: env.hooks})
	return env
}

func segmentIDs(list []discountfn.Segment) []string {
	ids := make([]string, len(list))
	for i, s := range list {
		ids[i] = s.ID
	}
	return ids
}

func TestAdminSegments(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		env := adminStoreEnv(t, st)
		mustShops(t, st, shopA, shopB)
		list := func(t *testing.T, shop string) []string {
			t.Helper()
			resp, body := env.call(t, http.MethodGet, "/api/segments", shop, nil, nil)
			mustStatus(t, "list", resp, body, http.StatusOK)
			var got segmentList
			decodeJSON(t, body, &got)
			return segmentIDs(got.Segments)
		}
		if got := list(t, shopA); len(got) != 0 {
			t.Fatalf("new shop has segments %v", got)
		}

		// Create: ids given or generated; without a priority a segment goes below the others.
		vip := discountfn.Segment{ID: "vip", Name: "VIP", Priority: 10, Rules: discountfn.SegmentRules{CustomerTags: []string{"VIP"}}}
		resp, body := env.call(t, http.MethodPost, "/api/segments", shopA, vip, nil)
		mustStatus(t, "create vip", resp, body, http.StatusCreated)
		london := discountfn.Segment{Name: "London", Rules: discountfn.SegmentRules{Cities: []string{"London"}}}
		resp, body = env.call(t, http.MethodPost, "/api/segments", shopA, london, nil)
		mustStatus(t, "create london", resp, body, http.StatusCreated)
		var created discountfn.Segment
		decodeJSON(t, body, &created)
		if created.ID == "" || created.Priority != 9 || created.Name != "London" {
			t.Fatalf("created = %+v; want a generated id and priority 9", created)
		}
		if got := list(t, shopA); !slices.Equal(got, []string{"vip", created.ID}) {
			t.Fatalf("list = %v", got)
		}
		resp, body = env.call(t, http.MethodPost, "/api/segments", shopA, vip, nil)
		mustStatus(t, "create an existing id", resp, body, http.StatusConflict)

		// Invalid segments change nothing and name the field.
		resp, body = env.call(t, http.MethodPost, "/api/segments", shopA, discountfn.Segment{ID: "bad id"}, nil)
		mustStatus(t, "create invalid", resp, body, http.StatusUnprocessableEntity)
		var problems errorBody
		decodeJSON(t, body, &problems)
		paths := make([]string, len(problems.Problems))
		for i, p := range problems.Problems {
			paths[i] = p.Path
		}
		if !slices.Contains(paths, "id") || !slices.Contains(paths, "name") {
			t.Errorf("problems = %+v; want id and name", problems.Problems)
		}
		resp, body = env.call(t, http.MethodPost, "/api/segments", shopA, []byte(`{"name": 3}`), nil)
		mustStatus(t, "malformed", resp, body, http.StatusBadRequest)
		if got := list(t, shopA); len(got) != 2 {
			t.Fatalf("after bad input: %v", got)
		}

		// Update; the URL's id wins and must agree with the body's.
		vip.Name = "Very important"
		resp, body = env.call(t, http.MethodPut, "/api/segments/vip", shopA, vip, nil)
		mustStatus(t, "update", resp, body, http.StatusOK)
		decodeJSON(t, body, &created)
		if created.Name != "Very important" || created.Priority != 10 {
			t.Errorf("updated = %+v", created)
		}
		resp, body = env.call(t, http.MethodPut, "/api/segments/other", shopA, vip, nil)
		mustStatus(t, "update with another id in the body", resp, body, http.StatusUnprocessableEntity)
		resp, body = env.call(t, http.MethodPut, "/api/segments/nope", shopA, discountfn.Segment{Name: "x"}, nil)
		mustStatus(t, "update unknown", resp, body, http.StatusNotFound)

		// Reorder: every segment once, first is highest.
		londonID := list(t, shopA)[1]
		for _, bad := range []reorderBody{{IDs: []string{"vip"}}, {IDs: []string{"vip", "vip"}}, {IDs: []string{"vip", "ghost"}}} {
			resp, body = env.call(t, http.MethodPost, "/api/segments/reorder", shopA, bad, nil)
			mustStatus(t, "bad reorder", resp, body, http.StatusUnprocessableEntity)
		}
		resp, body = env.call(t, http.MethodPost, "/api/segments/reorder", shopA, reorderBody{IDs: []string{londonID, "vip"}}, nil)
		mustStatus(t, "reorder", resp, body, http.StatusOK)
		var reordered segmentList
		decodeJSON(t, body, &reordered)
		if !slices.Equal(segmentIDs(reordered.Segments), []string{londonID, "vip"}) ||
			reordered.Segments[0].Priority != 2 || reordered.Segments[1].Priority != 1 {
			t.Fatalf("reordered = %+v", reordered.Segments)
		}
		// Another shop sees none of it and cannot change it.
		if got := list(t, shopB); len(got) != 0 {
			t.Errorf("shop B sees %v", got)
		}
		resp, body = env.call(t, http.MethodDelete, "/api/segments/vip", shopB, nil, nil)
		mustStatus(t, "delete from another shop", resp, body, http.StatusNotFound)

		// A segment an offer targets cannot be deleted.
		offer := percentOffer("vip-offer", 10*100)
		offer.Eligibility = discountfn.Eligibility{Audience: discountfn.AudienceSegment, SegmentID: "vip"}
		resp, body = env.call(t, http.MethodPost, "/api/offers", shopA, offer, nil)
		mustStatus(t, "segment offer", resp, body, http.StatusCreated)
		resp, body = env.call(t, http.MethodDelete, "/api/segments/vip", shopA, nil, nil)
		mustStatus(t, "delete a targeted segment", resp, body, http.StatusConflict)
		assertJSONError(t, resp, body, "vip-offer")
		resp, body = env.call(t, http.MethodDelete, "/api/segments/"+londonID, shopA, nil, nil)
		mustStatus(t, "delete", resp, body, http.StatusNoContent)
		if got := list(t, shopA); !slices.Equal(got, []string{"vip"}) {
			t.Errorf("after delete: %v", got)
		}
	})
}

// TestAdminSharedCodesUnique: a shared code belongs to one offer of the shop (any case); a
// duplicate gets a free code of its own.
func TestAdminSharedCodesUnique(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		env := adminOnlyEnv(t, st)
		mustShops(t, st, shopA, shopB)
		coupon := func(id, code string) discountfn.Offer {
			o := percentOffer(id, 10*100)
			o.Application = discountfn.Application{Kind: discountfn.ApplyCode, Code: code}
			return o
		}
		resp, body := env.call(t, http.MethodPost, "/api/offers", shopA, coupon("first", "SAVE10"), nil)
		mustStatus(t, "first", resp, body, http.StatusCreated)
		resp, body = env.call(t, http.MethodPost, "/api/offers", shopA, coupon("second", "save10"), nil)
		mustStatus(t, "same code, other case", resp, body, http.StatusUnprocessableEntity)
		assertJSONError(t, resp, body, "validation failed")
		var e errorBody
		decodeJSON(t, body, &e)
		if len(e.Problems) != 1 || e.Problems[0].Path != "application.code" {
			t.Errorf("problems = %+v", e.Problems)
		}
		resp, body = env.call(t, http.MethodPost, "/api/offers", shopB, coupon("second", "SAVE10"), nil)
		mustStatus(t, "another shop may use it", resp, body, http.StatusCreated)
		// Editing the offer that has it keeps it.
		resp, body = env.call(t, http.MethodPut, "/api/offers/first", shopA, map[string]any{"version": 1, "offer": coupon("first", "Save10")}, nil)
		mustStatus(t, "edit keeps its own code", resp, body, http.StatusOK)
		for _, want := range []string{"Save10COPY", "Save10COPY2"} {
			resp, body = env.call(t, http.MethodPost, "/api/offers/first/duplicate", shopA, nil, nil)
			mustStatus(t, "duplicate", resp, body, http.StatusCreated)
			var rec offerRecord
			decodeJSON(t, body, &rec)
			if rec.Offer.Application.Code != want || rec.Status != discountfn.StatusDraft {
				t.Errorf("copy = %q %s; want %q, draft", rec.Offer.Application.Code, rec.Status, want)
			}
		}
		if got := copyCode("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123", map[string]string{}); got != "ABCDEFGHIJKLMNOPQRSTUVWXYZCOPY" {
			t.Errorf("copyCode of a 30-character code = %q", got)
		}
	})
}
