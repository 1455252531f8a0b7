package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/regularsapp/regulars/app"
	"github.com/regularsapp/regulars/discountfn"
	"github.com/regularsapp/regulars/store"
	"github.com/regularsapp/regulars/store/storetest"
)

const (
	outageShop     = "outage-test.myshopify.com"
	outageOffer    = "loyal"
	outageTitle    = "Regulars 10%"
	outageDeadline = 250 * time.Millisecond
	// noDiscount is the checkout's "no discount" answer.
	noDiscount = `{"operations":[]}`
	// platformTimeout is how long the platform waits for a webhook answer.
	platformTimeout = 5 * time.Second
)

// TestPostgresStoppedAndRestarted runs the real binary on a private PostgreSQL cluster under a
// steady load of webhook deliveries and checkout calls, stops the cluster at once (pg_ctl stop
// -m immediate: every connection cut, crash recovery at the next start), keeps the load on
// through the outage, starts the cluster again, and checks what runDatabaseFault lists.
func TestPostgresStoppedAndRestarted(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a PostgreSQL cluster and runs the binary")
	}
	pg := startPGCluster(t)
	runDatabaseFault(t, databaseFault{
		what: "PostgreSQL stopped", appDSN: pg.dsn(), storeDSN: pg.dsn(),
		begin: pg.stopImmediately, end: pg.start,
	})
}

// TestPostgresPartitionedAndHealed runs the real binary against PostgreSQL (the test server,
// in a schema of its own) through a TCP proxy, and partitions the network under load: while
// partitioned, the proxy forwards nothing and holds new connections unanswered, so every
// database call hangs instead of failing fast. Checkout must answer "no discount" within its
// deadline even so (each call is for a new customer, so nothing comes from the caches), and
// webhooks must answer 5xx before the platform's 5 s timeout; then what runDatabaseFault lists.
func TestPostgresPartitionedAndHealed(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the binary")
	}
	dsn := storetest.NewPostgresDSN(t)
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	target := u.Host
	if u.Port() == "" {
		target = net.JoinHostPort(u.Hostname(), "5432")
	}
	proxy := startFaultProxy(t, target)
	u.Host = proxy.addr()
	runDatabaseFault(t, databaseFault{
		what: "network to PostgreSQL partitioned", appDSN: u.String(), storeDSN: dsn, newBuyers: true,
		begin: func(*testing.T) { proxy.partition() }, end: func(*testing.T) { proxy.heal() },
	})
}

// databaseFault is something that happens to the app's database, and its end.
type databaseFault struct {
	what      string
	appDSN    string // the app's DATABASE_URL
	storeDSN  string // the database, for the test's own setup and checks
	newBuyers bool   // every checkout call for a new customer (see startLoad)
	begin     func(t *testing.T)
	end       func(t *testing.T)
}

// runDatabaseFault starts the binary on f.appDSN with a shop and an automatic offer, puts it
// under a steady load of webhook deliveries and checkout calls, begins the fault, keeps the
// load on through it, ends it, and checks that:
//   - webhooks answer 5xx (within the platform's 5 s) while the database is away, never a 4xx,
//     and 2xx again after it is back, without a restart of the app;
//   - checkout always answers 200 within its deadline plus 1 s, "no discount" when it cannot
//     decide, and gives the discount again after the database is back;
//   - every delivery acknowledged, before, during or after the fault, and every one refused
//     then delivered again, is processed into exactly one stored order with exactly one ledger
//     row, and no event is left pending or failed;
//   - an offer changed afterwards reaches checkout (the caches follow changes again).
//
// The figures (answer times during the fault, time to recover) are logged, not asserted
// beyond generous bounds: the machine may be loaded.
func runDatabaseFault(t *testing.T, f databaseFault) {
	t.Helper()
	bin := buildBinary(t)
	ctx := context.Background()
	withStore(t, f.storeDSN, func(st *store.Store) {
		if err := st.Migrate(ctx); err != nil {
			t.Fatal(err)
		}
		if _, err := st.UpsertShop(ctx, store.Shop{Domain: outageShop, Currency: "USD", Timezone: "UTC"}); err != nil {
			t.Fatal(err)
		}
		saveOutageOffer(t, st, 10)
	})

	running := startApp(t, bin, f.appDSN, 2, "REGULARS_CHECKOUT_DEADLINE="+outageDeadline.String())
	defer running.kill(t)
	token, err := app.MintCheckoutToken([]byte(crashCheckoutKey), outageShop, time.Now())
	if err != nil {
		t.Fatal(err)
	}

	rec, stopLoad := startLoad(running.url, token, f.newBuyers)
	defer stopLoad()

	// Healthy: deliveries are stored and checkout gives the discount.
	if !rec.waitFor(30*time.Second, func(w []webhookSample, c []checkoutSample) bool {
		return countWebhooks(w, time.Time{}, 200) >= 20 && countDiscounts(c, time.Time{}) >= 5
	}) {
		stopLoad()
		t.Fatalf("before the fault: %s", rec.summary(time.Time{}))
	}
	healthy := rec.checkoutAnswer()

	faultAt := time.Now()
	f.begin(t)
	begun := time.Now()
	// The fault lasts until every sender has seen it and then 2 s more.
	if !rec.waitFor(30*time.Second, func(w []webhookSample, c []checkoutSample) bool {
		return countWebhookFailures(w, begun) >= 4 && countNoDiscount(c, begun) >= 10
	}) {
		stopLoad()
		t.Fatalf("%s: %s", f.what, rec.summary(begun))
	}
	time.Sleep(2 * time.Second)
	endAt := time.Now()
	f.end(t)
	ended := time.Now()

	var webhookBack, checkoutBack time.Time
	if !rec.waitFor(60*time.Second, func(w []webhookSample, c []checkoutSample) bool {
		webhookBack = firstWebhook(w, ended, 200)
		checkoutBack = firstDiscount(c, ended)
		return !webhookBack.IsZero() && !checkoutBack.IsZero()
	}) {
		stopLoad()
		t.Fatalf("no recovery within 60 s of the end of the fault: %s", rec.summary(ended))
	}
	time.Sleep(500 * time.Millisecond) // some load after the recovery too
	stopLoad()

	hooks, checkouts := rec.snapshot()
	t.Logf("%s: %d deliveries, %d checkout calls; the fault took %v to begin, lasted %v, took %v to end",
		f.what, len(hooks), len(checkouts), begun.Sub(faultAt).Round(time.Millisecond),
		endAt.Sub(begun).Round(time.Millisecond), ended.Sub(endAt).Round(time.Millisecond))

	// Webhooks: 2xx or 5xx within the platform's timeout, never a 4xx (which the platform
	// would not retry).
	statuses := map[int]int{}
	for _, h := range hooks {
		if h.err != nil {
			t.Errorf("delivery %d sent %v into the fault got no answer within the platform's %v: %v",
				h.id, h.at.Sub(begun).Round(time.Millisecond), platformTimeout, h.err)
			continue
		}
		statuses[h.status]++
		if h.status/100 != 2 && h.status/100 != 5 {
			t.Errorf("delivery %d: status %d, want 2xx or 5xx", h.id, h.status)
		}
	}
	var refusalTimes []time.Duration
	for _, h := range between(hooks, begun, endAt, func(h webhookSample) time.Time { return h.at }) {
		// Answered before the fault even began to end: it cannot have been stored.
		if h.err == nil && h.status/100 == 2 && h.at.Add(h.took).Before(endAt) {
			t.Errorf("delivery %d acknowledged during the fault", h.id)
		}
		if h.err == nil {
			refusalTimes = append(refusalTimes, h.took)
		}
	}
	slices.Sort(refusalTimes)
	t.Logf("webhooks: statuses %v; during the fault %d answered, answer time p50 %v, max %v; first 2xx %v after the fault ended",
		statuses, len(refusalTimes), pct(refusalTimes, 50), pct(refusalTimes, 100), webhookBack.Sub(ended).Round(time.Millisecond))

	// Checkout: always 200 within the deadline plus 1 s; "no discount" or the healthy answer.
	bound := outageDeadline + time.Second
	var faultTimes []time.Duration
	kinds := map[string]int{}
	for _, c := range checkouts {
		switch {
		case c.err != nil:
			t.Errorf("checkout call %v into the fault got no answer: %v", c.at.Sub(begun), c.err)
			continue
		case c.status != http.StatusOK:
			t.Errorf("checkout call %v into the fault: status %d %s, want 200", c.at.Sub(begun), c.status, c.body)
		case c.took > bound:
			t.Errorf("checkout call %v into the fault took %v, more than the deadline plus 1 s (%v)", c.at.Sub(begun), c.took, bound)
		case c.body != noDiscount && c.body != healthy:
			t.Errorf("checkout answered %s, want no discount or the healthy answer %s", c.body, healthy)
		}
		if !c.at.Before(begun) && c.at.Before(endAt) {
			faultTimes = append(faultTimes, c.took)
			if c.body == noDiscount {
				kinds["no discount"]++
			} else {
				kinds["discount"]++
			}
		}
	}
	slices.Sort(faultTimes)
	t.Logf("checkout during the fault: %d calls %v, answer time p50 %v, p99 %v, max %v (deadline %v); discount again %v after the fault ended",
		len(faultTimes), kinds, pct(faultTimes, 50), pct(faultTimes, 99), pct(faultTimes, 100),
		outageDeadline, checkoutBack.Sub(ended).Round(time.Millisecond))

	// The platform delivers each refused delivery again until it is acknowledged.
	client := &http.Client{Timeout: platformTimeout}
	var ids []int64
	redelivered := 0
	for _, h := range hooks {
		ids = append(ids, h.id)
		if h.err == nil && h.status/100 == 2 {
			continue
		}
		redelivered++
		deadline := time.Now().Add(30 * time.Second)
		for {
			status, err := deliverOrder(client, running.url, h.id)
			if err == nil && status/100 == 2 {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("delivery %d is still refused after the recovery: %d %v", h.id, status, err)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	t.Logf("%d refused deliveries delivered again and acknowledged", redelivered)

	// Nothing acknowledged is lost, nothing is applied twice.
	withStore(t, f.storeDSN, func(st *store.Store) {
		waitProcessed(t, st, ids)
		ledger, err := st.ListRedemptions(ctx, outageShop, outageOffer)
		if err != nil {
			t.Fatal(err)
		}
		perOrder := map[string]int{}
		for _, r := range ledger {
			perOrder[r.OrderID]++
		}
		for _, id := range ids {
			if n := perOrder[fmt.Sprint(id)]; n != 1 {
				t.Errorf("order %d has %d ledger rows, want 1", id, n)
			}
		}
		if len(ledger) != len(ids) {
			t.Errorf("%d ledger rows for %d orders", len(ledger), len(ids))
		}

		// The caches follow changes again: an edit made now reaches checkout.
		edited := time.Now()
		saveOutageOffer(t, st, 20)
		deadline := time.Now().Add(30 * time.Second)
		for {
			// 20% of the 20.00 cart.
			_, body, err := checkoutCall(client, running.url, token, 1)
			if err == nil && strings.Contains(body, `"amount":"4.00"`) {
				t.Logf("an offer edited after the fault reached checkout in %v", time.Since(edited).Round(time.Millisecond))
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("30 s after the edit checkout still answers %s", body)
			}
			time.Sleep(20 * time.Millisecond)
		}
	})
}

// startLoad starts four webhook senders (new orders, with the platform's 5 s timeout) and two
// checkout callers against the app at url, recording every answer, until the returned stop
// is called. With newBuyers each checkout call is for another customer, so that no answer can
// come from the facts cache.
func startLoad(url, token string, newBuyers bool) (*outageLog, func()) {
	rec := &outageLog{}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	var nextID, nextBuyer atomic.Int64
	nextID.Store(8_000_000_000)
	for range 4 {
		wg.Go(func() {
			client := &http.Client{Timeout: platformTimeout}
			for !stopped(stop) {
				id := nextID.Add(1)
				start := time.Now()
				status, err := deliverOrder(client, url, id)
				rec.addWebhook(webhookSample{id: id, at: start, took: time.Since(start), status: status, err: err})
				time.Sleep(5 * time.Millisecond)
			}
		})
	}
	for range 2 {
		wg.Go(func() {
			client := &http.Client{Timeout: 10 * time.Second}
			for !stopped(stop) {
				buyer := int64(1)
				if newBuyers {
					buyer = nextBuyer.Add(1)
				}
				start := time.Now()
				status, body, err := checkoutCall(client, url, token, buyer)
				rec.addCheckout(checkoutSample{at: start, took: time.Since(start), status: status, body: body, err: err})
				time.Sleep(5 * time.Millisecond)
			}
		})
	}
	return rec, sync.OnceFunc(func() { close(stop); wg.Wait() })
}

// withStore opens a store of its own on dsn (never one whose connections saw the outage),
// runs f and closes it.
func withStore(t *testing.T, dsn string, f func(st *store.Store)) {
	t.Helper()
	st, err := store.Open(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close() //nolint:errcheck // a test store
	f(st)
}

// waitProcessed waits until every order of ids is stored and no event of the shop is pending,
// then checks that no event failed and that there is exactly one event per order.
func waitProcessed(t *testing.T, st *store.Store, ids []int64) {
	t.Helper()
	ctx := context.Background()
	deadline := time.Now().Add(60 * time.Second)
	for {
		missing := 0
		for _, id := range ids {
			if _, err := st.GetOrder(ctx, outageShop, fmt.Sprint(id)); err != nil {
				missing++
			}
		}
		stats, err := st.EventStats(ctx, outageShop)
		if err != nil {
			t.Fatal(err)
		}
		if missing == 0 && stats.Pending == 0 {
			if stats.Failed != 0 || stats.Done != len(ids) {
				t.Errorf("events: %d done, %d failed; want %d done (one per order), none failed", stats.Done, stats.Failed, len(ids))
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("60 s after the load: %d of %d acknowledged orders not stored, %d events pending", missing, len(ids), stats.Pending)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// saveOutageOffer saves the automatic offer the load uses, pct percent off the order.
func saveOutageOffer(t *testing.T, st *store.Store, pct int) {
	t.Helper()
	ctx := context.Background()
	version := int64(0)
	if cur, err := st.GetOffer(ctx, outageShop, outageOffer); err == nil {
		version = cur.Version
	}
	offer := discountfn.Offer{
		Version:     discountfn.ConfigVersion,
		ID:          outageOffer,
		Name:        outageOffer,
		Status:      discountfn.StatusActive,
		Application: discountfn.Application{Kind: discountfn.ApplyAutomatic},
		Value:       discountfn.Value{Kind: discountfn.ValuePercentage, Percentage: discountfn.Percent(pct * 100)},
		Condition:   discountfn.Condition{Qualifying: discountfn.ItemSet{Scope: discountfn.ScopeAll}},
		Eligibility: discountfn.Eligibility{Audience: discountfn.AudienceAll},
		Stacking:    discountfn.Stacking{Priority: 1},
		Preview:     discountfn.Preview{Title: outageTitle, Visible: true},
	}
	config, err := json.Marshal(offer)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.SaveOffer(ctx, outageShop, outageOffer, string(offer.Status), config, version); err != nil {
		t.Fatal(err)
	}
}

// deliverOrder posts one signed orders/create delivery of an order that used the offer, and
// returns the status.
func deliverOrder(client *http.Client, url string, id int64) (int, error) {
	body, _ := json.Marshal(map[string]any{
		"id": id, "email": fmt.Sprintf("buyer%d@example.com", id%50), "created_at": "2026-11-20T10:00:00Z",
		"updated_at": "2026-11-20T10:00:00Z", "currency": "USD", "total_price": "18.00", "subtotal_price": "20.00",
		"financial_status": "paid", "customer": map[string]any{"id": id % 50},
		"discount_applications": []map[string]any{{"type": "automatic", "title": outageTitle, "value": "10.0",
			"value_type": "percentage"}},
		"line_items": []map[string]any{{"id": id * 10, "product_id": 1, "variant_id": 2, "quantity": 1, "price": "20.00",
			"discount_allocations": []map[string]any{{"amount": "2.00", "discount_application_index": 0}}}},
	})
	return postOrderCreate(client, url, outageShop, id, body)
}

// checkoutInput is a one-line cart of the given customer for the outage shop's offer, as the
// platform sends it.
func checkoutInput(buyer int64) []byte {
	return []byte(fmt.Sprintf(`{"cart":{"lines":[{"id":"gid://shopify/CartLine/1","quantity":2,
"cost":{"amountPerQuantity":{"amount":"10.00","currencyCode":"USD"},"subtotalAmount":{"amount":"20.00","currencyCode":"USD"}},
"merchandise":{"__typename":"ProductVariant","id":"gid://shopify/ProductVariant/2","product":{"id":"gid://shopify/Product/1"}}}],
"cost":{"subtotalAmount":{"amount":"20.00","currencyCode":"USD"}},
"buyerIdentity":{"email":"buyer%[1]d@example.com","isAuthenticated":true,"customer":{"id":"gid://shopify/Customer/%[1]d","email":"buyer%[1]d@example.com","numberOfOrders":1}}},
"discount":{"discountClasses":["ORDER"],"metafield":{"jsonValue":{"version":1,"offer_id":%[2]q},"type":"json"}},
"enteredDiscountCodes":[],"presentmentCurrencyRate":"1.0","shop":{"localTime":{"date":"2026-11-23"}}}`, buyer, outageOffer))
}

// checkoutCall posts the buyer's cart to the checkout endpoint and returns the status and
// answer.
func checkoutCall(client *http.Client, url, token string, buyer int64) (int, string, error) {
	req, _ := http.NewRequest(http.MethodPost, url+"/checkout/cart-lines", bytes.NewReader(checkoutInput(buyer)))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := client.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body), err
}

func stopped(stop <-chan struct{}) bool {
	select {
	case <-stop:
		return true
	default:
		return false
	}
}

type webhookSample struct {
	id     int64
	at     time.Time
	took   time.Duration
	status int
	err    error
}

type checkoutSample struct {
	at     time.Time
	took   time.Duration
	status int
	body   string
	err    error
}

// outageLog records every call the load makes; safe for concurrent use.
type outageLog struct {
	mu        sync.Mutex
	webhooks  []webhookSample
	checkouts []checkoutSample
}

func (l *outageLog) addWebhook(s webhookSample) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.webhooks = append(l.webhooks, s)
}

func (l *outageLog) addCheckout(s checkoutSample) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.checkouts = append(l.checkouts, s)
}

func (l *outageLog) snapshot() ([]webhookSample, []checkoutSample) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.webhooks), slices.Clone(l.checkouts)
}

// waitFor polls the samples until ok holds, for at most d.
func (l *outageLog) waitFor(d time.Duration, ok func([]webhookSample, []checkoutSample) bool) bool {
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		if ok(l.snapshot()) {
			return true
		}
		time.Sleep(20 * time.Millisecond)
	}
	return ok(l.snapshot())
}

// checkoutAnswer is the latest discount answer.
func (l *outageLog) checkoutAnswer() string {
	_, cs := l.snapshot()
	for i := len(cs) - 1; i >= 0; i-- {
		if cs[i].err == nil && cs[i].status == http.StatusOK && cs[i].body != noDiscount {
			return cs[i].body
		}
	}
	return ""
}

// summary counts the answers since from, for a failure message.
func (l *outageLog) summary(from time.Time) string {
	ws, cs := l.snapshot()
	hooks, checkouts := map[string]int{}, map[string]int{}
	for _, w := range ws {
		if !w.at.Before(from) {
			hooks[fmt.Sprint(w.status, " ", w.err)]++
		}
	}
	for _, c := range cs {
		if !c.at.Before(from) {
			body := c.body
			if len(body) > 80 {
				body = body[:80] + "…"
			}
			checkouts[fmt.Sprint(c.status, " ", body, " ", c.err)]++
		}
	}
	return fmt.Sprintf("webhook answers %v; checkout answers %v", hooks, checkouts)
}

// countWebhooks counts the deliveries sent from from on answered with status (any 5xx for 500).
func countWebhooks(ws []webhookSample, from time.Time, status int) int {
	n := 0
	for _, w := range ws {
		if !w.at.Before(from) && w.err == nil && sameClass(w.status, status) {
			n++
		}
	}
	return n
}

// countWebhookFailures counts the deliveries answered from from on with a 5xx, or given up
// on, whenever they were sent.
func countWebhookFailures(ws []webhookSample, from time.Time) int {
	n := 0
	for _, w := range ws {
		if !w.at.Add(w.took).Before(from) && (w.err != nil || w.status/100 == 5) {
			n++
		}
	}
	return n
}

func firstWebhook(ws []webhookSample, from time.Time, status int) time.Time {
	for _, w := range ws {
		if !w.at.Before(from) && w.err == nil && sameClass(w.status, status) {
			return w.at.Add(w.took)
		}
	}
	return time.Time{}
}

func sameClass(got, want int) bool {
	if want == 500 {
		return got/100 == 5
	}
	return got == want
}

func countDiscounts(cs []checkoutSample, from time.Time) int {
	n := 0
	for _, c := range cs {
		if !c.at.Before(from) && c.err == nil && c.status == http.StatusOK && c.body != noDiscount {
			n++
		}
	}
	return n
}

func countNoDiscount(cs []checkoutSample, from time.Time) int {
	n := 0
	for _, c := range cs {
		if !c.at.Before(from) && c.err == nil && c.status == http.StatusOK && c.body == noDiscount {
			n++
		}
	}
	return n
}

func firstDiscount(cs []checkoutSample, from time.Time) time.Time {
	for _, c := range cs {
		if !c.at.Before(from) && c.err == nil && c.status == http.StatusOK && c.body != noDiscount {
			return c.at.Add(c.took)
		}
	}
	return time.Time{}
}

// between keeps the samples whose time is in [from, to).
func between[S any](samples []S, from, to time.Time, at func(S) time.Time) []S {
	var out []S
	for _, s := range samples {
		if t := at(s); !t.Before(from) && t.Before(to) {
			out = append(out, s)
		}
	}
	return out
}

// pct is the p-th percentile of sorted durations.
func pct(sorted []time.Duration, p int) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	return sorted[(len(sorted)-1)*p/100].Round(100 * time.Microsecond)
}
