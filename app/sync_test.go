package app

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/regularsapp/regulars/discountfn"
	"github.com/regularsapp/regulars/graphql"
	"github.com/regularsapp/regulars/graphql/graphqltest"
	"github.com/regularsapp/regulars/store"
	"github.com/regularsapp/regulars/store/storetest"
)

const syncAppURL = "https://regulars.example"

// syncEnv is a store, the fake platform and a Sync between them. Its clock is the real one
// plus an offset a test may advance (the store's due times are real).
type syncEnv struct {
	st     *store.Store
	p      *fakePlatform
	y      *Sync
	waits  *recordedWaits
	offset atomic.Int64
}

func newSyncEnv(t *testing.T, st *store.Store, edit ...func(*SyncConfig)) *syncEnv {
	t.Helper()
	e := &syncEnv{st: st, p: newFakePlatform(t), waits: &recordedWaits{}}
	cfg := SyncConfig{AppURL: syncAppURL, SigningKey: []byte(testKey), Backoff: func(int) time.Duration { return 0 }}
	for _, f := range edit {
		f(&cfg)
	}
	e.y = NewSync(st, e.p.client(e.waits), nil, cfg, nil, e.now)
	e.y.wait = e.waits.wait
	if _, err := st.UpsertShop(context.Background(), store.Shop{Domain: shopA, Currency: "EUR", Timezone: "Europe/Paris"}); err != nil {
		t.Fatal(err)
	}
	return e
}

func (e *syncEnv) now() time.Time { return time.Now().Add(time.Duration(e.offset.Load())) }

// save stores the offer (creating it, or over version) and tells the sync, as the admin API
// does.
func (e *syncEnv) save(t *testing.T, o discountfn.Offer, version int64) store.Offer {
	t.Helper()
	ctx := context.Background()
	row, err := e.st.SaveOffer(ctx, shopA, o.ID, string(o.Status), mustJSON(t, o), version)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.y.OfferChanged(ctx, shopA, o.ID); err != nil {
		t.Fatal(err)
	}
	return row
}

func (e *syncEnv) drain(t *testing.T) {
	t.Helper()
	if _, err := e.y.DrainOnce(context.Background()); err != nil {
		t.Fatal(err)
	}
}

func (e *syncEnv) state(t *testing.T, offerID string) store.OfferSync {
	t.Helper()
	st, err := e.st.GetOfferSync(context.Background(), shopA, offerID)
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// metafieldConfig decodes the configuration metafield of a discount input.
func metafieldConfig(t *testing.T, in map[string]any) discountfn.DiscountConfig {
	t.Helper()
	mfs, _ := in["metafields"].([]any)
	if len(mfs) != 1 {
		t.Fatalf("metafields = %v, want one", in["metafields"])
	}
	mf := mfs[0].(map[string]any)
	if mf["namespace"] != "$app:regulars" || mf["key"] != "function-configuration" || mf["type"] != "json" {
		t.Errorf("metafield = %v", mf)
	}
	var cfg discountfn.DiscountConfig
	if err := json.Unmarshal([]byte(mf["value"].(string)), &cfg); err != nil {
		t.Fatalf("metafield value: %v", err)
	}
	return cfg
}

func asJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

func TestSyncOfferLifecycle(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		e := newSyncEnv(t, st)
		o := percentOffer("welcome-back", 1000)
		o.Stacking.CombinesWith = discountfn.CombinesWith{ShippingDiscounts: true}
		o.Value.Targets = &discountfn.ItemSet{Scope: discountfn.ScopeCollections, Collections: []string{"gid://shopify/Collection/7"}}
		o.Eligibility = discountfn.Eligibility{Audience: discountfn.AudienceTags, CustomerTags: []string{"VIP"}}
		row := e.save(t, o, 0)
		if got := e.state(t, o.ID).State; got != store.SyncPending {
			t.Errorf("state after the change = %q, want pending", got)
		}

		// An offer → create, with the mapped input.
		e.drain(t)
		st1 := e.state(t, o.ID)
		if st1.State != store.SyncSynced || st1.PlatformID == "" || st1.PlatformKind != kindAutomatic || !st1.PlatformActive || st1.SyncedAt == nil {
			t.Fatalf("state after create = %+v", st1)
		}
		d := e.p.discount(t, st1.PlatformID)
		in := d.Input()
		checks := map[string]string{
			"title":           `"welcome-back"`,
			"functionHandle":  `"regulars-discounts"`,
			"discountClasses": `["PRODUCT"]`,
			"combinesWith":    `{"shippingDiscounts":true}`,
			"context":         `{"all":"ALL"}`,
			"endsAt":          `null`,
			"startsAt":        asJSON(row.CreatedAt.UTC()),
		}
		for k, want := range checks {
			if got := asJSON(in[k]); got != want {
				t.Errorf("create input %s = %s, want %s", k, got, want)
			}
		}
		for _, absent := range []string{"code", "usageLimit", "appliesOncePerCustomer"} {
			if _, ok := in[absent]; ok {
				t.Errorf("automatic input has %s", absent)
			}
		}
		cfg := metafieldConfig(t, in)
		if cfg.Version != 1 || cfg.OfferID != o.ID || cfg.Endpoint != syncAppURL ||
			!slices.Equal(cfg.CollectionIDs, []string{"gid://shopify/Collection/7"}) || !slices.Equal(cfg.CustomerTags, []string{"VIP"}) {
			t.Errorf("metafield config = %+v", cfg)
		}
		if shop, err := VerifyCheckoutToken([]byte(testKey), cfg.Token, time.Now()); err != nil || shop != shopA {
			t.Errorf("metafield token: shop %q, %v", shop, err)
		}

		// An edit → update of the same discount.
		o.Preview.Title = "Welcome back, 10% off"
		ends := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
		o.Schedule.EndsAt = &ends
		row = e.save(t, o, row.Version)
		e.drain(t)
		d = e.p.discount(t, st1.PlatformID)
		if len(d.Inputs) != 2 || e.p.opCount("discountAutomaticAppCreate") != 1 || e.p.live() != 1 {
			t.Fatalf("edit: %d inputs, %d creates, %d live discounts", len(d.Inputs), e.p.opCount("discountAutomaticAppCreate"), e.p.live())
		}
		if in := d.Input(); in["title"] != "Welcome back, 10% off" || in["endsAt"] != "2030-01-01T00:00:00Z" {
			t.Errorf("update input = %v", in)
		}

		// Pause → deactivate; resume → activate.
		o.Status = discountfn.StatusPaused
		row = e.save(t, o, row.Version)
		e.drain(t)
		if d = e.p.discount(t, st1.PlatformID); d.Active || e.p.opCount("discountAutomaticDeactivate") != 1 {
			t.Errorf("paused: active %v, %d deactivations", d.Active, e.p.opCount("discountAutomaticDeactivate"))
		}
		if s := e.state(t, o.ID); s.PlatformActive || s.State != store.SyncSynced {
			t.Errorf("paused state = %+v", s)
		}
		o.Status = discountfn.StatusActive
		row = e.save(t, o, row.Version)
		e.drain(t)
		if d = e.p.discount(t, st1.PlatformID); !d.Active || e.p.opCount("discountAutomaticActivate") != 1 {
			t.Errorf("resumed: active %v, %d activations", d.Active, e.p.opCount("discountAutomaticActivate"))
		}

		// Delete → delete.
		if err := st.DeleteOffer(ctx, shopA, o.ID); err != nil {
			t.Fatal(err)
		}
		if err := e.y.OfferChanged(ctx, shopA, o.ID); err != nil {
			t.Fatal(err)
		}
		e.drain(t)
		if d = e.p.discount(t, st1.PlatformID); !d.Deleted {
			t.Error("deleted offer: discount not deleted")
		}
		if s := e.state(t, o.ID); !s.Deleted || s.PlatformID != "" || s.State != store.SyncSynced {
			t.Errorf("deleted state = %+v", s)
		}
		if jobs, _ := st.PendingSyncJobs(ctx, shopA); len(jobs) != 0 {
			t.Errorf("jobs left: %+v", jobs)
		}
	})
}

func TestSyncCodeOfferInput(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		e := newSyncEnv(t, st)
		o := percentOffer("vip-code", 1500)
		o.Application = discountfn.Application{Kind: discountfn.ApplyCode, Code: "VIP15"}
		o.Limits = discountfn.Limits{TotalUses: 100, UsesPerCustomer: 1}
		o.Eligibility = discountfn.Eligibility{Audience: discountfn.AudienceCustomers,
			CustomerIDs: []string{"gid://shopify/Customer/2", "gid://shopify/Customer/1"}}
		o.Status = discountfn.StatusDraft
		row := e.save(t, o, 0)
		e.drain(t)
		s := e.state(t, o.ID)
		d := e.p.discount(t, s.PlatformID)
		in := d.Inputs[0]
		checks := map[string]string{
			"code": `"VIP15"`, "usageLimit": `100`, "appliesOncePerCustomer": `true`, "discountClasses": `["ORDER"]`,
			"context": `{"customers":{"add":["gid://shopify/Customer/1","gid://shopify/Customer/2"]}}`,
		}
		for k, want := range checks {
			if got := asJSON(in[k]); got != want {
				t.Errorf("code input %s = %s, want %s", k, got, want)
			}
		}
		// A draft is created, then deactivated.
		if d.Active || s.PlatformActive || s.PlatformKind != kindCode {
			t.Errorf("draft: platform active %v, state %+v", d.Active, s)
		}
		if !slices.Equal(s.Customers, []string{"gid://shopify/Customer/1", "gid://shopify/Customer/2"}) {
			t.Errorf("remembered customers = %v", s.Customers)
		}

		// One customer fewer, limits lifted: the update removes it and clears the limit.
		o.Eligibility.CustomerIDs = []string{"gid://shopify/Customer/2"}
		o.Limits = discountfn.Limits{UsesPerCustomer: 3}
		e.save(t, o, row.Version)
		e.drain(t)
		in = e.p.discount(t, s.PlatformID).Input()
		checks = map[string]string{
			"code": `"VIP15"`, "usageLimit": `null`, "appliesOncePerCustomer": `false`,
			"context": `{"customers":{"add":["gid://shopify/Customer/2"],"remove":["gid://shopify/Customer/1"]}}`,
		}
		for k, want := range checks {
			if got := asJSON(in[k]); got != want {
				t.Errorf("update input %s = %s, want %s", k, got, want)
			}
		}
		if e.p.opCount("discountCodeDeactivate") != 2 {
			t.Errorf("%d deactivations, want one after each save of the draft", e.p.opCount("discountCodeDeactivate"))
		}
	})
}

func TestSyncUniqueCodesInBatches(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		e := newSyncEnv(t, st)
		o := percentOffer("many-codes", 500)
		o.Application = discountfn.Application{Kind: discountfn.ApplyCodes}
		e.save(t, o, 0)
		// No codes yet: nothing can be created.
		e.drain(t)
		if s := e.state(t, o.ID); s.PlatformID != "" || s.State != store.SyncPending || !strings.Contains(s.LastError, "first code") {
			t.Fatalf("without codes: %+v", s)
		}
		codes := make([]store.CodeRow, 600)
		for i := range codes {
			codes[i] = store.CodeRow{Code: fmt.Sprintf("MC%04d", i)}
		}
		if err := st.AddCodes(ctx, shopA, o.ID, codes); err != nil {
			t.Fatal(err)
		}
		if err := e.y.CodesAdded(ctx, shopA, o.ID); err != nil {
			t.Fatal(err)
		}
		e.drain(t)
		s := e.state(t, o.ID)
		if s.State != store.SyncSynced || s.PlatformID == "" || s.CodesBulkID != "" {
			t.Fatalf("after the codes: %+v", s)
		}
		d := e.p.discount(t, s.PlatformID)
		if d.Inputs[0]["code"] != "MC0000" {
			t.Errorf("created with code %v, want the first one", d.Inputs[0]["code"])
		}
		// The first code with the discount, the other 599 in batches of 250, 250 and 99.
		if n := e.p.opCount("discountRedeemCodeBulkAdd"); n != 3 {
			t.Errorf("%d bulk adds, want 3", n)
		}
		if len(d.Codes) != 600 {
			t.Errorf("the platform has %d codes, want 600", len(d.Codes))
		}
		seen := map[string]bool{}
		for _, c := range d.Codes {
			if seen[c] {
				t.Errorf("code %s sent twice", c)
			}
			seen[c] = true
		}
		if n, _ := st.CountUnsyncedCodes(ctx, shopA, o.ID); n != 0 {
			t.Errorf("%d codes left unsent", n)
		}
		// Each batch was polled until done (the fake needs two polls).
		if n := e.p.opCount("discountRedeemCodeBulkCreation"); n != 6 {
			t.Errorf("%d polls, want 6", n)
		}

		// Codes added later go out on their own.
		if err := st.AddCodes(ctx, shopA, o.ID, []store.CodeRow{{Code: "LATE1"}, {Code: "LATE2"}}); err != nil {
			t.Fatal(err)
		}
		if err := e.y.CodesAdded(ctx, shopA, o.ID); err != nil {
			t.Fatal(err)
		}
		e.drain(t)
		if d = e.p.discount(t, s.PlatformID); len(d.Codes) != 602 || len(d.Inputs) != 1 {
			t.Errorf("late codes: %d codes, %d inputs (no update needed)", len(d.Codes), len(d.Inputs))
		}
	})
}

func TestSyncUserErrorFailsThenRetries(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		e := newSyncEnv(t, st)
		e.p.inject("discountAutomaticAppCreate", jsonAnswer(map[string]any{"discountAutomaticAppCreate": map[string]any{
			"automaticAppDiscount": nil,
			"userErrors":           userErrors("Maximum number of active automatic discounts reached", "MAX_APP_DISCOUNTS", "automaticAppDiscount"),
		}}))
		o := percentOffer("refused", 1000)
		e.save(t, o, 0)
		e.drain(t)
		s := e.state(t, o.ID)
		if s.State != store.SyncFailed || s.PlatformID != "" || s.Attempts != 1 ||
			s.LastError != "automaticAppDiscount: Maximum number of active automatic discounts reached (MAX_APP_DISCOUNTS)" {
			t.Fatalf("after the refusal: %+v", s)
		}
		status, err := offerSyncStatusOf(ctx, st, shopA, o.ID)
		if err != nil || status.State != store.SyncFailed || !status.Queued || status.LastError == "" {
			t.Errorf("status = %+v, %v", status, err)
		}
		// The job is retried (here at once) and succeeds.
		e.drain(t)
		s = e.state(t, o.ID)
		if s.State != store.SyncSynced || s.PlatformID == "" || s.LastError != "" || s.Attempts != 0 {
			t.Fatalf("after the retry: %+v", s)
		}
		if status, _ := offerSyncStatusOf(ctx, st, shopA, o.ID); status.Queued || status.State != store.SyncSynced {
			t.Errorf("status after the retry = %+v", status)
		}
		if _, err := offerSyncStatusOf(ctx, st, shopA, "nope"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("status of an unknown offer: %v", err)
		}
	})
}

func TestSyncBackoffGrows(t *testing.T) {
	var prev time.Duration
	for i := 1; i <= 20; i++ {
		d := SyncBackoff(i)
		if d < prev || d > time.Hour {
			t.Errorf("SyncBackoff(%d) = %v after %v", i, d, prev)
		}
		prev = d
	}
	if SyncBackoff(1) != 2*time.Second || SyncBackoff(20) != time.Hour {
		t.Errorf("SyncBackoff(1) = %v, (20) = %v", SyncBackoff(1), SyncBackoff(20))
	}
}

func TestSyncHonoursThrottling(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		e := newSyncEnv(t, st)
		e.p.inject("discountAutomaticAppCreate", graphqltest.Response{Body: `{"errors":[{"message":"Throttled","extensions":{"code":"THROTTLED"}}],
			"extensions":{"cost":{"requestedQueryCost":110,"actualQueryCost":null,"throttleStatus":{"maximumAvailable":1000,"currentlyAvailable":10,"restoreRate":50}}}}`},
			graphqltest.Response{Status: http.StatusTooManyRequests, Header: http.Header{"Retry-After": {"1"}}, Body: `{"errors":"Too many requests"}`})
		o := percentOffer("throttled", 1000)
		e.save(t, o, 0)
		e.drain(t)
		if s := e.state(t, o.ID); s.State != store.SyncSynced || s.PlatformID == "" {
			t.Fatalf("state = %+v", s)
		}
		if n := e.p.opCount("discountAutomaticAppCreate"); n != 3 || e.p.live() != 1 {
			t.Errorf("%d creates sent, %d discounts: want 3 sent (two refused), one created", n, e.p.live())
		}
		// (110 - 10) / 50 = 2 s from the cost extension, then Retry-After.
		if got := e.waits.all(); !slices.Equal(got, []time.Duration{2 * time.Second, time.Second}) {
			t.Errorf("waits = %v", got)
		}
	})
}

// TestOutboxSurvivesRestart: changes queued by a process that stops before syncing are
// synced by the next process.
func TestOutboxSurvivesRestart(t *testing.T) {
	for name, dsn := range map[string]func(t *testing.T) string{
		"sqlite":   func(t *testing.T) string { return "sqlite:" + filepath.Join(t.TempDir(), "test.db") },
		"postgres": func(t *testing.T) string { return storetest.NewPostgresDSN(t) },
	} {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			dsn := dsn(t)
			st1 := storetest.OpenMigrated(t, dsn)
			e1 := newSyncEnv(t, st1)
			for _, id := range []string{"first", "second"} {
				e1.save(t, percentOffer(id, 500), 0)
			}
			// The process stops (its workers never ran); another one starts on the database.
			if err := st1.Close(); err != nil {
				t.Fatal(err)
			}
			st2, err := store.Open(ctx, dsn)
			if err != nil {
				t.Fatal(err)
			}
			defer st2.Close() //nolint:errcheck // test
			waits := &recordedWaits{}
			y2 := NewSync(st2, e1.p.client(waits), nil, SyncConfig{AppURL: syncAppURL, SigningKey: []byte(testKey)}, nil, nil)
			if n, err := y2.DrainOnce(ctx); err != nil || n != 2 {
				t.Fatalf("DrainOnce = %d, %v; want the 2 queued jobs", n, err)
			}
			for _, id := range []string{"first", "second"} {
				if s, err := st2.GetOfferSync(ctx, shopA, id); err != nil || s.State != store.SyncSynced || s.PlatformID == "" {
					t.Errorf("%s: %+v, %v", id, s, err)
				}
			}
			if e1.p.live() != 2 {
				t.Errorf("%d discounts, want 2", e1.p.live())
			}
		})
	}
}

// TestSyncConfigChangeUpdatesEveryDiscount: a new collection in one offer changes every
// discount's metafield variables.
func TestSyncConfigChangeUpdatesEveryDiscount(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		e := newSyncEnv(t, st)
		a := e.save(t, percentOffer("a", 500), 0)
		e.save(t, percentOffer("b", 700), 0)
		e.drain(t)
		if e.p.live() != 2 {
			t.Fatalf("%d discounts", e.p.live())
		}
		o := percentOffer("a", 500)
		o.Condition.Qualifying = discountfn.ItemSet{Scope: discountfn.ScopeCollections, Collections: []string{"gid://shopify/Collection/9"}}
		e.save(t, o, a.Version)
		e.drain(t)
		bState := e.state(t, "b")
		in := e.p.discount(t, bState.PlatformID).Input()
		if cfg := metafieldConfig(t, in); !slices.Equal(cfg.CollectionIDs, []string{"gid://shopify/Collection/9"}) {
			t.Errorf("offer b's metafield was not updated: %+v", cfg)
		}
	})
}

// TestSyncRecreatesDiscountDeletedOnPlatform: a discount deleted in the platform's admin is
// created again by the next update.
func TestSyncRecreatesDiscountDeletedOnPlatform(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		e := newSyncEnv(t, st)
		row := e.save(t, percentOffer("again", 500), 0)
		e.drain(t)
		first := e.state(t, "again").PlatformID
		e.p.mu.Lock()
		e.p.discounts[first].Deleted = true
		e.p.mu.Unlock()
		e.save(t, percentOffer("again", 600), row.Version)
		e.drain(t)
		s := e.state(t, "again")
		if s.State != store.SyncSynced || s.PlatformID == "" || s.PlatformID == first {
			t.Errorf("state = %+v (first id %s)", s, first)
		}
	})
}

func TestSyncDropsJobsOfUninstalledShops(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		e := newSyncEnv(t, st)
		e.y.admin = graphql.New(e.p.srv.Client(), e.p.srv.URL, func(context.Context, string) (string, error) {
			return "", fmt.Errorf("tokens: %w", ErrNotInstalled)
		})
		e.save(t, percentOffer("orphan", 500), 0)
		e.drain(t)
		if jobs, _ := st.PendingSyncJobs(ctx, shopA); len(jobs) != 0 {
			t.Errorf("jobs left: %+v", jobs)
		}
		if len(e.p.srv.Requests()) != 0 {
			t.Error("requests reached the platform")
		}
	})
}
