package app

import (
	"context"
	"net/http"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/regularsapp/regulars/graphql"
	"github.com/regularsapp/regulars/graphql/graphqltest"
	"github.com/regularsapp/regulars/store"
	"github.com/regularsapp/regulars/store/storetest"
	"github.com/regularsapp/regulars/webhooks"
)

// TestWebhookTopicsMatchAppToml: install subscribes to exactly the topics shopify.app.toml
// declares (compliance topics are TOML-only), at the same uri.
func TestWebhookTopicsMatchAppToml(t *testing.T) {
	b, err := os.ReadFile("../shopify.app.toml")
	if err != nil {
		t.Fatal(err)
	}
	var toml []string
	for _, m := range regexp.MustCompile(`(?m)^\s*topics\s*=\s*\[([^\]]*)\]`).FindAllStringSubmatch(string(b), -1) {
		for _, q := range regexp.MustCompile(`"([^"]+)"`).FindAllStringSubmatch(m[1], -1) {
			toml = append(toml, q[1])
		}
	}
	for _, m := range regexp.MustCompile(`(?m)^\s*uri\s*=\s*"([^"]*)"`).FindAllStringSubmatch(string(b), -1) {
		if m[1] != "/webhooks" {
			t.Errorf("shopify.app.toml subscribes at uri %q; install subscribes at /webhooks", m[1])
		}
	}
	got := WebhookTopics()
	slices.Sort(toml)
	slices.Sort(got)
	if len(toml) == 0 || !slices.Equal(got, toml) {
		t.Errorf("install subscribes to %v; shopify.app.toml declares %v", got, toml)
	}
}

func readBulkSample(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile("../graphql/testdata/orders-bulk.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// processWebhooks runs the webhook pipeline's workers over every queued event.
func processWebhooks(t *testing.T, st *store.Store) int {
	t.Helper()
	n, err := webhooks.NewWorker(st, webhooks.NewProcessor(st, nil, nil)).DrainOnce(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func TestInstallSubscribesAndBackfills(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		e := newSyncEnv(t, st)
		if _, err := st.UpsertShop(ctx, store.Shop{Domain: shopA, Currency: "USD", Timezone: "UTC"}); err != nil {
			t.Fatal(err)
		}
		e.save(t, percentOffer("existing", 500), 0) // an offer from before (a reinstall)
		e.p.setBulkResult(readBulkSample(t))

		if err := e.y.AfterInstall(ctx, shopA); err != nil {
			t.Fatal(err)
		}
		e.drain(t)

		sh, err := st.GetShop(ctx, shopA)
		if err != nil || sh.Currency != "EUR" || sh.Timezone != "Europe/Paris" {
			t.Errorf("shop = %+v, %v; want the platform's EUR, Europe/Paris", sh, err)
		}
		ss, err := st.GetShopSync(ctx, shopA)
		if err != nil {
			t.Fatal(err)
		}
		if ss.FunctionID != "0e8a1c4b-0000-4000-8000-000000000002" || ss.WebhooksAt == nil || ss.LastError != "" {
			t.Errorf("shop sync = %+v", ss)
		}
		if ss.ReconciledAt == nil || ss.BackfillOp != "" || ss.BackfillOrders != 2 {
			t.Errorf("backfill state = %+v", ss)
		}
		var subs []string
		for _, s := range e.p.subscriptions() {
			if s.URI != "/webhooks" {
				t.Errorf("subscription %s delivers to %q", s.Topic, s.URI)
			}
			subs = append(subs, s.Topic)
		}
		var want []string
		for _, topic := range WebhookTopics() {
			enum, _ := graphql.WebhookTopic(topic)
			want = append(want, string(enum))
		}
		slices.Sort(subs)
		slices.Sort(want)
		if !slices.Equal(subs, want) {
			t.Errorf("subscribed to %v, want %v", subs, want)
		}
		if s := e.state(t, "existing"); s.State != store.SyncSynced || s.PlatformID == "" {
			t.Errorf("the existing offer was not synced at install: %+v", s)
		}
		// The bulk query was the backfill's, unfiltered, and was polled until done.
		reqs := e.p.srv.Requests()
		var bulk []graphqltest.Request
		for _, r := range reqs {
			if r.Op == "bulkOperationRunQuery" {
				bulk = append(bulk, r)
			}
		}
		if len(bulk) != 1 || bulk[0].Vars["query"] != graphql.OrdersBulkQuery(time.Time{}) {
			t.Fatalf("bulk queries = %+v", bulk)
		}
		if n := e.p.opCount("bulkOperationByID"); n != 2 {
			t.Errorf("%d polls of the bulk operation, want 2 (running, completed)", n)
		}

		// The orders went into the webhook pipeline, as events, and its workers stored them.
		events, err := st.ListEvents(ctx, shopA, "", 100)
		if err != nil {
			t.Fatal(err)
		}
		var keys []string
		for _, ev := range events {
			keys = append(keys, ev.EventID)
		}
		slices.Sort(keys)
		wantKeys := []string{
			"customers/update:backfill:77:2025-09-02T08:00:00Z",
			"orders/updated:backfill:1001:2025-09-02T08:30:00Z",
			"orders/updated:backfill:1002:2025-09-03T10:00:00Z",
		}
		if !slices.Equal(keys, wantKeys) {
			t.Errorf("event keys = %v, want %v", keys, wantKeys)
		}
		if n := processWebhooks(t, st); n != 3 {
			t.Errorf("the pipeline processed %d events, want 3", n)
		}
		o, err := st.GetOrder(ctx, shopA, "1001")
		if err != nil {
			t.Fatalf("GetOrder(1001): %v", err)
		}
		if o.CustomerID != "gid://shopify/Customer/77" || o.Email != "ann.lee+shop@example.com" ||
			o.Total != 5000 || o.Subtotal != 4500 || o.TotalDiscounts != 500 || o.FinancialStatus != "partially_refunded" ||
			!slices.Equal(o.Codes, []string{"WELCOME10"}) || len(o.Lines) != 2 || o.ShippingCountry != "FR" ||
			o.DeliveryMethod != "Colissimo" || o.BrowserIP != "203.0.113.9" {
			t.Errorf("order 1001 = %+v", o)
		}
		if len(o.Lines) == 2 && (o.Lines[0].ProductID != "gid://shopify/Product/21" || o.Lines[0].Quantity != 2 || o.Lines[0].Price != 1250) {
			t.Errorf("line 0 = %+v", o.Lines[0])
		}
		if len(o.Applications) != 1 || o.Applications[0].Code != "WELCOME10" || o.Applications[0].Amount != 500 {
			t.Errorf("applications = %+v", o.Applications)
		}
		guest, err := st.GetOrder(ctx, shopA, "1002")
		if err != nil || !guest.Test || guest.CancelledAt == nil || guest.CustomerID != "" {
			t.Errorf("order 1002 = %+v, %v", guest, err)
		}
		c, err := st.GetCustomer(ctx, shopA, "gid://shopify/Customer/77")
		if err != nil || !slices.Equal(c.Tags, []string{"VIP", "newsletter"}) {
			t.Errorf("customer 77 = %+v, %v", c, err)
		}

		// A reinstall: subscriptions that exist are fine, the offer's discount is updated, and
		// the backfill reads only what changed since, applying nothing twice.
		if err := e.y.AfterInstall(ctx, shopA); err != nil {
			t.Fatal(err)
		}
		e.drain(t)
		if ss, _ := st.GetShopSync(ctx, shopA); ss.LastError != "" || ss.BackfillOp != "" {
			t.Errorf("after the reinstall: %+v", ss)
		}
		if e.p.live() != 1 || len(e.p.subscriptions()) != len(want) {
			t.Errorf("after the reinstall: %d discounts, %d subscriptions", e.p.live(), len(e.p.subscriptions()))
		}
		var queries []string
		for _, r := range e.p.srv.Requests() {
			if r.Op == "bulkOperationRunQuery" {
				queries = append(queries, r.Vars["query"].(string))
			}
		}
		if len(queries) != 2 || !strings.Contains(queries[1], "updated_at:>") {
			t.Errorf("backfill queries after the reinstall = %q; want a second one, filtered", queries)
		}
		if n := processWebhooks(t, st); n != 0 {
			t.Errorf("the reinstall's backfill queued %d new events for versions already applied", n)
		}
	})
}

func TestInstallWithoutOurFunctionFails(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		e := newSyncEnv(t, st)
		e.p.setFunctions(e.p.functions[:1]) // only another app function
		if err := e.y.AfterInstall(ctx, shopA); err != nil {
			t.Fatal(err)
		}
		e.drain(t)
		ss, _ := st.GetShopSync(ctx, shopA)
		if !strings.Contains(ss.LastError, "deploy the extension") {
			t.Errorf("install error = %q", ss.LastError)
		}
		jobs, _ := st.PendingSyncJobs(ctx, shopA)
		if len(jobs) != 1 || jobs[0].Kind != store.SyncInstall {
			t.Errorf("jobs = %+v, want the install, to be retried", jobs)
		}
		if len(e.p.subscriptions()) != 0 {
			t.Errorf("subscribed before finding the function: %v", e.p.subscriptions())
		}
	})
}

func TestReconcileBackfillsRecentOrders(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		e := newSyncEnv(t, st, func(c *SyncConfig) { c.ReconcileEvery = time.Hour })
		e.p.setBulkResult(readBulkSample(t))
		if err := e.y.AfterInstall(ctx, shopA); err != nil {
			t.Fatal(err)
		}
		e.drain(t)
		first, _ := st.GetShopSync(ctx, shopA)
		if first.ReconciledAt == nil {
			t.Fatalf("no backfill: %+v", first)
		}
		// Not due yet.
		if err := e.y.Reconcile(ctx); err != nil {
			t.Fatal(err)
		}
		if jobs, _ := st.PendingSyncJobs(ctx, shopA); len(jobs) != 0 {
			t.Fatalf("reconciliation before it is due: %+v", jobs)
		}
		e.offset.Store(int64(2 * time.Hour))
		if err := e.y.Reconcile(ctx); err != nil {
			t.Fatal(err)
		}
		e.drain(t)
		var queries []string
		for _, r := range e.p.srv.Requests() {
			if r.Op == "bulkOperationRunQuery" {
				queries = append(queries, r.Vars["query"].(string))
			}
		}
		since := first.ReconciledAt.Add(-backfillOverlap)
		if len(queries) != 2 || queries[1] != graphql.OrdersBulkQuery(since) {
			t.Errorf("bulk queries = %d, the second %q; want it filtered on %v", len(queries), queries[len(queries)-1], since)
		}
		second, _ := st.GetShopSync(ctx, shopA)
		if second.ReconciledAt == nil || !second.ReconciledAt.After(*first.ReconciledAt) {
			t.Errorf("reconciled at %v after %v", second.ReconciledAt, first.ReconciledAt)
		}
	})
}

// TestBackfillPicksUpRunningOperation: a bulk query the app started but did not record (it
// died) is picked up instead of failing.
func TestBackfillPicksUpRunningOperation(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		e := newSyncEnv(t, st)
		e.p.setBulkResult(readBulkSample(t))
		e.p.mu.Lock()
		running := e.p.gid("BulkOperation")
		e.p.bulkOps[running] = &fakeBulkOp{query: graphql.OrdersBulkQuery(time.Time{}), polls: 2, status: "RUNNING"}
		e.p.mu.Unlock()
		if _, err := st.EnqueueSync(ctx, shopA, "", store.SyncBackfill); err != nil {
			t.Fatal(err)
		}
		e.drain(t)
		ss, _ := st.GetShopSync(ctx, shopA)
		if ss.BackfillOrders != 2 || ss.BackfillOp != "" || ss.ReconciledAt == nil {
			t.Errorf("shop sync = %+v", ss)
		}
	})
}

// TestOfferSyncRoute: GET /api/offers/:id/sync answers the offer's state, for its own shop only.
func TestOfferSyncRoute(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		e := newSyncEnv(t, st)
		e.save(t, percentOffer("routed", 500), 0)
		e.drain(t)
		env := newAuthEnv(t, st)
		resp, body := env.call(t, http.MethodGet, "/api/offers/routed/sync", shopA, nil, nil)
		if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), `"state":"synced"`) ||
			!strings.Contains(string(body), `"platform_id":"gid://shopify/DiscountAutomaticNode/`) {
			t.Errorf("GET sync = %d %s", resp.StatusCode, body)
		}
		if resp, body := env.call(t, http.MethodGet, "/api/offers/routed/sync", shopB, nil, nil); resp.StatusCode != http.StatusNotFound {
			t.Errorf("another shop's offer: %d %s", resp.StatusCode, body)
		}
	})
}
