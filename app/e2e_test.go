package app

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/regularsapp/regulars/discountfn"
	"github.com/regularsapp/regulars/graphql"
	"github.com/regularsapp/regulars/standin"
	"github.com/regularsapp/regulars/store"
	"github.com/regularsapp/regulars/store/storetest"
	"github.com/regularsapp/regulars/webhooks"
)

// The whole product, end to end, as a merchant and shoppers use it: the real stand-in and the
// real app on real listeners, each calling the other (OAuth, Admin GraphQL, the function's
// fetch target, webhooks), over a real database. Only the workers are driven by the test
// (DrainOnce), so every step's outcome is checked deterministically.

const (
	e2eShop             = standin.DemoShop
	e2eCode             = "LOYAL15"
	e2eTitle            = "Loyal customers: 15% off"
	e2ePercent          = 15
	e2eWaitLimit        = 15 * time.Second
	e2eCheckoutDeadline = 1500 * time.Millisecond // under the stand-in's 2 s function limit
)

// TestE2EPurchaseDrivenCoupon: install through /auth and the stand-in's authorize page (tokens,
// subscriptions, history backfill); a purchase-driven code offer made through the admin API
// with the stand-in's ID tokens and synced as a code app discount; checkouts at the stand-in
// for a regular (15% off), a customer with too few orders and a guest (nothing); the order
// placed and delivered by webhooks (stored, ledger row); one use per customer; then
// customers/redact, the uninstall and shop/redact.
func TestE2EPurchaseDrivenCoupon(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		e := newE2EEnv(t, st)

		// 1. Install from the app's /auth, through the stand-in's authorize page.
		e.install(t)
		if _, err := st.GetTokens(ctx, e2eShop); err != nil {
			t.Fatalf("tokens after the callback: %v", err)
		}
		jobs, err := st.PendingSyncJobs(ctx, e2eShop)
		if err != nil || len(jobs) != 1 || jobs[0].Kind != store.SyncInstall {
			t.Fatalf("after the callback the outbox holds %+v, %v; want the install job", jobs, err)
		}
		e.drainSync(t) // install work, then the history backfill it queues
		ss, err := st.GetShopSync(ctx, e2eShop)
		if err != nil || ss.FunctionID == "" || ss.WebhooksAt == nil || ss.ReconciledAt == nil || ss.LastError != "" {
			t.Fatalf("install state = %+v, %v", ss, err)
		}
		if shop, err := st.GetShop(ctx, e2eShop); err != nil || shop.Currency != "USD" || shop.Timezone != "UTC" {
			t.Fatalf("shop = %+v, %v", shop, err)
		}
		e.assertSubscriptions(t)
		platformOrders := e.platformOrderIDs(t)
		if ss.BackfillOrders != len(platformOrders) {
			t.Fatalf("backfill read %d orders, the stand-in has %d", ss.BackfillOrders, len(platformOrders))
		}
		e.drainWebhooks(t)
		e.assertNoStuckEvents(t)
		for _, id := range platformOrders {
			if _, err := st.GetOrder(ctx, e2eShop, id); err != nil {
				t.Fatalf("the stand-in's order %s is not in the store after the backfill: %v", id, err)
			}
		}

		cat := e.catalog(t)
		customers := e.platformCustomers(t)
		regular, second, newcomer := pickE2ECustomers(t, customers)
		for _, c := range []e2eCustomer{regular, second} {
			if n := countedOrders(t, st, c.gid, time.Now()); n < 2 {
				t.Fatalf("customer %s has %d counted orders in the backfilled history; the test needs 2 or more", c.email, n)
			}
		}
		t.Logf("regular %s (%d orders), another regular %s (%d), newcomer %s (%d); %d orders backfilled",
			regular.email, regular.orders, second.email, second.orders, newcomer.email, newcomer.orders, len(platformOrders))
		if n := countedOrders(t, st, newcomer.gid, time.Now()); n >= 2 {
			t.Fatalf("customer %s has %d counted orders; the test needs fewer than 2", newcomer.email, n)
		}

		// 2. The merchant creates the coupon through the admin API (paused), then resumes it.
		offer := discountfn.Offer{
			Version:     discountfn.ConfigVersion,
			Name:        "Loyal customers",
			Status:      discountfn.StatusPaused,
			Application: discountfn.Application{Kind: discountfn.ApplyCode, Code: e2eCode},
			Value:       discountfn.Value{Kind: discountfn.ValuePercentage, Percentage: e2ePercent * 100},
			Behaviour: &discountfn.Behaviour{
				Period:    discountfn.Period{Unit: discountfn.PeriodDays, Count: 730},
				MinOrders: 2,
			},
			Condition:   discountfn.Condition{Qualifying: discountfn.ItemSet{Scope: discountfn.ScopeAll}},
			Eligibility: discountfn.Eligibility{Audience: discountfn.AudienceAll},
			Stacking:    discountfn.Stacking{Priority: 10},
			Preview:     discountfn.Preview{Title: e2eTitle, Visible: true},
		}
		rec := e.apiOffer(t, http.MethodPost, "/api/offers", offer, http.StatusCreated)
		offerID := rec.ID
		if rec.Status != discountfn.StatusPaused || offerID == "" {
			t.Fatalf("created offer = %+v", rec)
		}
		e.drainSync(t)
		offerSync := mustOfferSync(t, st, offerID)
		if d := e.platformDiscount(t, offerSync.PlatformID); d.Status == "ACTIVE" {
			t.Fatalf("the paused offer's discount is %s on the stand-in", d.Status)
		}
		rec = e.apiOffer(t, http.MethodPost, "/api/offers/"+offerID+"/resume", nil, http.StatusOK)
		if rec.Status != discountfn.StatusActive {
			t.Fatalf("resumed offer = %+v", rec)
		}
		e.drainSync(t)
		offerSync = mustOfferSync(t, st, offerID)
		d := e.platformDiscount(t, offerSync.PlatformID)
		if d.Typename != "DiscountCodeApp" || d.Title != e2eTitle || d.Status != "ACTIVE" || asJSON(d.Classes) != `["ORDER"]` ||
			d.FunctionID != ss.FunctionID || d.OncePerCustomer || d.UsageLimit != nil {
			t.Fatalf("the stand-in's discount = %+v (our function %s)", d, ss.FunctionID)
		}
		if byCode := e.codeDiscountID(t, strings.ToLower(e2eCode)); byCode != offerSync.PlatformID {
			t.Fatalf("codeDiscountNodeByCode(%q) = %q, want %q", strings.ToLower(e2eCode), byCode, offerSync.PlatformID)
		}
		if d.Config.OfferID != offerID || d.Config.Endpoint != e.appURL {
			t.Fatalf("configuration metafield = %+v; want offer %s at %s", d.Config, offerID, e.appURL)
		}
		if shop, err := VerifyCheckoutToken([]byte(testKey), d.Config.Token, time.Now()); err != nil || shop != e2eShop {
			t.Fatalf("the metafield's token verifies as %q, %v", shop, err)
		}
		checkoutToken := d.Config.Token

		// 3. Checkout at the stand-in. The cart: 2 × Merino Crew Socks (M), Striped Ankle Socks,
		// Decaf Colombia; standard shipping.
		lines := map[int64]int{
			cat.variant(t, "Merino Crew Socks", "M"):  2,
			cat.variant(t, "Striped Ankle Socks", ""): 1,
			cat.variant(t, "Decaf Colombia 250g", ""): 1,
		}
		subtotal := cat.subtotal(lines)
		discount := percentOf(t, subtotal, e2ePercent)
		const shipping = discountfn.Money(499) // the stand-in's standard delivery

		t.Logf("cart subtotal %d, %d%% off: %d", subtotal, e2ePercent, discount)
		mark := e.calls.len()
		got := e.checkout(t, e2eCartForm(regular.id, "", strings.ToLower(e2eCode), lines))
		if got.Subtotal != subtotal || got.Discounts != discount || got.Total != subtotal-discount+shipping ||
			!slices.Equal(got.Applied, []string{e2eTitle}) {
			t.Fatalf("the regular's checkout = %+v; want %d off %d, total %d, applied [%s]",
				got, discount, subtotal, subtotal-discount+shipping, e2eTitle)
		}
		fetches := e.calls.since(mark, cartLinesPath)
		if len(fetches) != 1 || fetches[0].auth != "Bearer "+checkoutToken || fetches[0].status != http.StatusOK ||
			!bytes.Contains(fetches[0].answer, []byte("orderDiscountsAdd")) {
			t.Fatalf("the stand-in's calls to %s: %s", cartLinesPath, describeCalls(fetches))
		}
		if out := e.engineOutcome(t, fetches[0].body, offerID); !out.Applied || out.Amount != discount {
			t.Fatalf("the engine's outcome for the regular = %+v", out)
		}

		for _, c := range []struct {
			name       string
			customerID string
			email      string
			reason     discountfn.Reason
		}{
			{"a customer without enough orders", newcomer.id, "", discountfn.ReasonBehaviour},
			{"a guest", "", "first-visit@example.org", ""},
		} {
			mark := e.calls.len()
			got := e.checkout(t, e2eCartForm(c.customerID, c.email, strings.ToLower(e2eCode), lines))
			if got.Subtotal != subtotal || got.Discounts != 0 || got.Total != subtotal+shipping || len(got.Applied) != 0 {
				t.Fatalf("%s: checkout = %+v; want no discount", c.name, got)
			}
			fetches := e.calls.since(mark, cartLinesPath)
			if len(fetches) != 1 || fetches[0].status != http.StatusOK {
				t.Fatalf("%s: the stand-in's calls to %s: %s", c.name, cartLinesPath, describeCalls(fetches))
			}
			out := e.engineOutcome(t, fetches[0].body, offerID)
			if out.Applied || (c.reason != "" && out.Reason != c.reason) {
				t.Fatalf("%s: the engine's outcome = %+v, want not applied (%s)", c.name, out, c.reason)
			}
		}

		// 4. The regular places the order: orders/create and orders/paid reach the app.
		placed := e.placeOrder(t, e2eCartForm(regular.id, "", strings.ToLower(e2eCode), lines))
		if placed.total != subtotal-discount+shipping {
			t.Fatalf("placed order total %d, want %d", placed.total, subtotal-discount+shipping)
		}
		e.awaitDelivery(t, "orders/create", placed.id)
		e.awaitDelivery(t, "orders/paid", placed.id)
		e.drainWebhooks(t)
		e.assertNoStuckEvents(t)
		order, err := st.GetOrder(ctx, e2eShop, placed.id)
		if err != nil {
			t.Fatalf("the placed order is not in the store: %v", err)
		}
		if order.CustomerID != regular.gid || order.Subtotal != subtotal-discount || order.Total != placed.total ||
			order.TotalDiscounts != discount || !slices.Equal(order.Codes, []string{e2eCode}) {
			t.Fatalf("stored order = %+v", order)
		}
		ledger, err := st.ListRedemptions(ctx, e2eShop, offerID)
		if err != nil {
			t.Fatal(err)
		}
		if len(ledger) != 1 || ledger[0].OrderID != placed.id || ledger[0].Amount != discount ||
			ledger[0].OrderTotal != placed.total || ledger[0].Released || len(ledger[0].IdentityKeys) == 0 {
			t.Fatalf("ledger of %s = %+v; want one row of %d for order %s", offerID, ledger, discount, placed.id)
		}

		// 5. One use per customer. Our engine enforces it at once, before the platform's
		// discount hears of it; then the platform's discount carries it too.
		edited := rec.Offer
		edited.Limits.UsesPerCustomer = 1
		rec = e.apiOffer(t, http.MethodPut, "/api/offers/"+offerID, offerUpdate{Version: &rec.Version, Offer: &edited}, http.StatusOK)
		if rec.Offer.Limits.UsesPerCustomer != 1 {
			t.Fatalf("edited offer = %+v", rec)
		}
		mark = e.calls.len()
		got = e.checkout(t, e2eCartForm(regular.id, "", strings.ToLower(e2eCode), lines))
		if got.Discounts != 0 || got.Total != subtotal+shipping || len(got.Applied) != 0 {
			t.Fatalf("the regular's second checkout = %+v; want no discount", got)
		}
		fetches = e.calls.since(mark, cartLinesPath)
		if len(fetches) != 1 || fetches[0].status != http.StatusOK || hasItemDiscount(t, fetches[0].answer) {
			t.Fatalf("second checkout: the stand-in's calls to %s: %s", cartLinesPath, describeCalls(fetches))
		}
		if out := e.engineOutcome(t, fetches[0].body, offerID); out.Applied || out.Reason != discountfn.ReasonCustomerLimit {
			t.Fatalf("the engine's outcome for the regular's second use = %+v, want %s", out, discountfn.ReasonCustomerLimit)
		}
		e.drainSync(t)
		if d := e.platformDiscount(t, offerSync.PlatformID); !d.OncePerCustomer || d.Status != "ACTIVE" {
			t.Fatalf("the stand-in's discount after the limit = %+v; want appliesOncePerCustomer", d)
		}
		mark = e.calls.len()
		if got := e.checkout(t, e2eCartForm(regular.id, "", strings.ToLower(e2eCode), lines)); got.Discounts != 0 || len(got.Applied) != 0 {
			t.Fatalf("the regular's third checkout = %+v; want no discount", got)
		}
		if fetches := e.calls.since(mark, cartLinesPath); len(fetches) != 0 {
			t.Fatalf("the stand-in ran the function for a customer its discount no longer admits: %s", describeCalls(fetches))
		}
		// Another regular still gets it; their function input is kept for after the uninstall.
		mark = e.calls.len()
		if got := e.checkout(t, e2eCartForm(second.id, "", strings.ToLower(e2eCode), lines)); got.Discounts != discount {
			t.Fatalf("another regular's checkout = %+v; want %d off", got, discount)
		}
		fetches = e.calls.since(mark, cartLinesPath)
		if len(fetches) != 1 || !hasItemDiscount(t, fetches[0].answer) {
			t.Fatalf("another regular: the stand-in's calls to %s: %s", cartLinesPath, describeCalls(fetches))
		}
		secondInput := fetches[0].body

		// 6. Compliance. customers/redact for the regular: their personal data goes, the
		// merchant's figures stay.
		before, err := st.CustomerData(ctx, e2eShop, regular.gid)
		if err != nil || len(before.Orders) < 3 || before.Customer == nil {
			t.Fatalf("before redaction the store holds %d orders and customer %v for the regular (%v)", len(before.Orders), before.Customer, err)
		}
		orderIDs := make([]json.Number, 0, len(before.Orders))
		for _, o := range before.Orders {
			orderIDs = append(orderIDs, json.Number(o.ID))
		}
		e.postWebhook(t, "customers/redact", map[string]any{
			"shop_id": json.Number(e.shopID), "shop_domain": e2eShop,
			"customer":         map[string]any{"id": json.Number(regular.id), "email": regular.email, "phone": regular.phone},
			"orders_to_redact": orderIDs,
		})
		e.drainWebhooks(t)
		e.assertNoStuckEvents(t)
		if _, err := st.GetCustomer(ctx, e2eShop, regular.gid); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("the redacted customer is still stored: %v", err)
		}
		for _, o := range before.Orders {
			after, err := st.GetOrder(ctx, e2eShop, o.ID)
			if err != nil {
				t.Fatalf("order %s after redaction: %v", o.ID, err)
			}
			if after.Email != "" || after.Phone != "" || after.CustomerID != "" || after.AddressKey != "" || after.BrowserIP != "" {
				t.Errorf("order %s keeps personal data after redaction: customer %q, email %q, phone %q, address %q, ip %q",
					o.ID, after.CustomerID, after.Email, after.Phone, after.AddressKey, after.BrowserIP)
			}
			if after.Total != o.Total || after.TotalDiscounts != o.TotalDiscounts {
				t.Errorf("order %s: amounts changed by redaction: total %d → %d, discounts %d → %d",
					o.ID, o.Total, after.Total, o.TotalDiscounts, after.TotalDiscounts)
			}
		}
		events, err := st.ListEvents(ctx, e2eShop, "", store.MaxEventsPage)
		if err != nil {
			t.Fatal(err)
		}
		// Nor does any stored webhook body, the customers/redact request's own included.
		for _, ev := range events {
			body := strings.ToLower(string(ev.Body))
			if strings.Contains(body, strings.ToLower(regular.email)) || (regular.phone != "" && strings.Contains(body, regular.phone)) {
				t.Errorf("webhook event %s (%s) keeps the redacted customer's email or phone", ev.EventID, ev.Topic)
			}
		}
		ledger, err = st.ListRedemptions(ctx, e2eShop, offerID)
		if err != nil {
			t.Fatal(err)
		}
		if len(ledger) != 1 || ledger[0].OrderID != placed.id || ledger[0].Amount != discount ||
			ledger[0].OrderTotal != placed.total || len(ledger[0].IdentityKeys) != 0 {
			t.Fatalf("after redaction the ledger = %+v; want the row of order %s with its amounts (%d of %d) and no identities",
				ledger, placed.id, discount, placed.total)
		}

		// Uninstall in the stand-in's admin: app/uninstalled revokes the tokens, and checkout
		// gives nothing, even to the input that got a discount a moment ago.
		if !hasItemDiscount(t, e.appCheckout(t, checkoutToken, secondInput)) {
			t.Fatal("before the uninstall our endpoint gives the other regular no discount")
		}
		e.uninstall(t)
		e.awaitDelivery(t, "app/uninstalled", e.shopID)
		e.drainWebhooks(t)
		e.assertNoStuckEvents(t)
		if _, err := st.GetTokens(ctx, e2eShop); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("tokens after app/uninstalled: %v, want ErrNotFound", err)
		}
		if _, err := e.tokens.AccessToken(ctx, e2eShop); !errors.Is(err, ErrNotInstalled) {
			t.Errorf("AccessToken after app/uninstalled: %v, want ErrNotInstalled", err)
		}
		if shop, err := st.GetShop(ctx, e2eShop); err != nil || shop.UninstalledAt == nil {
			t.Errorf("shop after app/uninstalled = %+v, %v; want it marked uninstalled", shop, err)
		}
		if answer := e.appCheckout(t, checkoutToken, secondInput); string(answer) != emptyRunResult {
			t.Errorf("checkout after the uninstall answers %s, want %s", answer, emptyRunResult)
		}

		// shop/redact: every row of the shop goes.
		e.postWebhook(t, "shop/redact", map[string]any{"shop_id": json.Number(e.shopID), "shop_domain": e2eShop})
		e.drainWebhooks(t)
		if _, err := st.GetShop(ctx, e2eShop); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("GetShop after shop/redact: %v, want ErrNotFound", err)
		}
		if _, err := st.GetOrder(ctx, e2eShop, placed.id); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("GetOrder after shop/redact: %v, want ErrNotFound", err)
		}
		if rs, err := st.ListRedemptions(ctx, e2eShop, ""); err != nil || len(rs) != 0 {
			t.Errorf("ledger after shop/redact: %d rows, %v", len(rs), err)
		}
		if offers, err := st.ListOffers(ctx, e2eShop, true); err != nil || len(offers) != 0 {
			t.Errorf("offers after shop/redact: %d, %v", len(offers), err)
		}
		if events, err := st.ListEvents(ctx, e2eShop, "", store.MaxEventsPage); err != nil || len(events) != 0 {
			t.Errorf("webhook events after shop/redact: %d, %v", len(events), err)
		}
		if jobs, err := st.PendingSyncJobs(ctx, e2eShop); err != nil || len(jobs) != 0 {
			t.Errorf("sync jobs after shop/redact: %+v, %v", jobs, err)
		}
		if _, err := st.GetOfferSync(ctx, e2eShop, offerID); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("offer sync state after shop/redact: %v, want ErrNotFound", err)
		}
	})
}

// --- The environment ------------------------------------------------------------------------

// e2eEnv is the app as Run composes it (receiver, processor, tokens, platform sync, store
// source), serving on a real listener, and the stand-in on another, configured with each
// other's addresses.
type e2eEnv struct {
	st       *store.Store
	appURL   string
	platform *httptest.Server
	calls    *e2eCalls // what the stand-in sent to the app, and what it answered
	tokens   *Tokens
	sync     *Sync
	worker   *webhooks.Worker
	src      *StoreSource
	client   *http.Client // the merchant's and shoppers' browser, without a cookie jar
	shopID   string       // the demo shop's numeric id
}

func newE2EEnv(t *testing.T, st *store.Store) *e2eEnv {
	t.Helper()
	logs := &syncBuffer{}
	logger := slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelWarn}))
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("warnings and errors logged by the app and the stand-in:\n%s", logs.String())
		}
	})

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	appURL := "http://" + ln.Addr().String()
	transport := http.DefaultTransport.(*http.Transport).Clone()
	calls := &e2eCalls{next: transport}
	sd, err := standin.New(standin.Config{
		Root: "..", AppURL: appURL, ClientID: testClientID, ClientSecret: testAppSecret,
		Logger: logger, HTTPClient: &http.Client{Transport: calls}, WebhookRetries: -1, AsyncDelay: -1,
	})
	if err != nil {
		t.Fatalf("standin.New: %v", err)
	}
	platform := httptest.NewServer(sd.Handler())

	cfg := authConfig(platform.URL)
	cfg.AppURL = appURL
	cfg.CheckoutDeadline = e2eCheckoutDeadline
	cipher, err := NewTokenCipher(cfg.TokenKey)
	if err != nil {
		t.Fatal(err)
	}
	e := &e2eEnv{
		st: st, appURL: appURL, platform: platform, calls: calls, src: NewStoreSource(st),
		client: &http.Client{Timeout: 30 * time.Second},
	}
	e.tokens = NewTokens(cfg, st, cipher, newPlatformClient(), time.Now)
	e.sync = newPlatformSync(cfg, st, e.tokens, e.src, logger)
	e.worker = webhooks.NewWorker(st, webhooks.NewProcessor(st, time.Now, logger))
	srv := New(cfg, Deps{
		Source: e.src, Webhooks: webhooks.NewReceiver(st, cfg.AppSecrets, time.Now), Logger: logger,
		Store: st, Tokens: e.tokens, Installer: e.sync, OfferSync: e.sync,
	})
	served := make(chan error, 1)
	go func() { served <- srv.App().Listener(ln) }()
	// Cleanups run last first: the stand-in stops (and its deliveries to the app end) before
	// the app does.
	t.Cleanup(func() {
		if err := srv.App().ShutdownWithContext(context.Background()); err != nil {
			t.Errorf("app shutdown: %v", err)
		}
		<-served
	})
	t.Cleanup(func() {
		platform.Close()
		sd.Close()
		transport.CloseIdleConnections()
	})
	return e
}

// install is the merchant installing the app: /auth, the stand-in's authorize page (approved
// at once with auto=1), the signed callback with the state cookie, and the app's page in the
// stand-in's admin.
func (e *e2eEnv) install(t *testing.T) {
	t.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	first := &http.Client{Jar: jar, Timeout: 30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := first.Get(e.appURL + "/auth?shop=" + e2eShop)
	if err != nil {
		t.Fatal(err)
	}
	_ = readBody(t, resp)
	authorize := resp.Header.Get("Location")
	if resp.StatusCode != http.StatusFound || !strings.HasPrefix(authorize, e.platform.URL+"/shops/"+e2eShop+"/admin/oauth/authorize?") {
		t.Fatalf("GET /auth: %d, Location %q", resp.StatusCode, authorize)
	}
	browser := &http.Client{Jar: jar, Timeout: 30 * time.Second}
	resp, err = browser.Get(authorize + "&auto=1")
	if err != nil {
		t.Fatal(err)
	}
	page := readBody(t, resp)
	if resp.StatusCode != http.StatusOK || resp.Request.URL.Path != "/shops/"+e2eShop+"/admin/apps/regulars" {
		t.Fatalf("install ended at %s with %d: %s", resp.Request.URL, resp.StatusCode, clipBytes(page))
	}
	gidShop, _ := e.gql(t, `{ shop { id } }`, nil)["shop"].(map[string]any)["id"].(string)
	if e.shopID = numericID(gidShop); e.shopID == "" {
		t.Fatalf("shop id %q", gidShop)
	}
}

// uninstall is the merchant removing the app in the stand-in's admin.
func (e *e2eEnv) uninstall(t *testing.T) {
	t.Helper()
	noRedirect := &http.Client{Timeout: 30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := noRedirect.Post(e.platform.URL+"/shops/"+e2eShop+"/admin/uninstall", "application/x-www-form-urlencoded", nil)
	if err != nil {
		t.Fatal(err)
	}
	if body := readBody(t, resp); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("uninstall: %d %s", resp.StatusCode, clipBytes(body))
	}
}

// drainSync runs the app's due sync jobs; none may be left (a failed job would be).
func (e *e2eEnv) drainSync(t *testing.T) {
	t.Helper()
	ctx := context.Background()
	if _, err := e.sync.DrainOnce(ctx); err != nil {
		t.Fatal(err)
	}
	jobs, err := e.st.PendingSyncJobs(ctx, e2eShop)
	if err != nil {
		t.Fatal(err)
	}
	for _, j := range jobs {
		t.Errorf("sync job %s (offer %q) is still pending after %d attempts: %s", j.Kind, j.OfferID, j.Attempts, j.LastError)
	}
	if len(jobs) > 0 {
		t.FailNow()
	}
}

// drainWebhooks processes every stored webhook event that is due.
func (e *e2eEnv) drainWebhooks(t *testing.T) {
	t.Helper()
	if _, err := e.worker.DrainOnce(context.Background()); err != nil {
		t.Fatal(err)
	}
}

// assertNoStuckEvents: after a drain every event is done (a failed attempt leaves it pending).
func (e *e2eEnv) assertNoStuckEvents(t *testing.T) {
	t.Helper()
	for _, status := range []string{store.EventPending, store.EventFailed} {
		events, err := e.st.ListEvents(context.Background(), e2eShop, status, store.MaxEventsPage)
		if err != nil {
			t.Fatal(err)
		}
		for _, ev := range events {
			t.Errorf("webhook event %s (%s) is %s after %d attempts: %s", ev.EventID, ev.Topic, ev.Status, ev.Attempts, ev.LastError)
		}
		if len(events) > 0 {
			t.FailNow()
		}
	}
}

// --- The stand-in's Admin API, as the app's stored token sees it -------------------------------

// gql queries the stand-in's Admin API with the app's stored token. A request the cost bucket
// (shared with the app's own calls) refuses is sent again once the bucket has refilled enough.
func (e *e2eEnv) gql(t *testing.T, query string, vars map[string]any) map[string]any {
	t.Helper()
	token, err := e.tokens.AccessToken(context.Background(), e2eShop)
	if err != nil {
		t.Fatalf("the app's access token: %v", err)
	}
	body := mustJSON(t, map[string]any{"query": query, "variables": vars})
	for attempt := 0; ; attempt++ {
		req, err := http.NewRequest(http.MethodPost, e.platform.URL+"/shops/"+e2eShop+adminAPIPath, bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set(graphql.AccessTokenHeader, token)
		resp, err := e.client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		raw := readBody(t, resp)
		var out struct {
			Data   map[string]any `json:"data"`
			Errors []struct {
				Extensions struct {
					Code string `json:"code"`
				} `json:"extensions"`
			} `json:"errors"`
			Extensions struct {
				Cost struct {
					Requested float64 `json:"requestedQueryCost"`
					Throttle  struct {
						Available float64 `json:"currentlyAvailable"`
						Restore   float64 `json:"restoreRate"`
					} `json:"throttleStatus"`
				} `json:"cost"`
			} `json:"extensions"`
		}
		if err := json.Unmarshal(raw, &out); err != nil {
			t.Fatalf("Admin API: %d %s", resp.StatusCode, clipBytes(raw))
		}
		if cost := out.Extensions.Cost; len(out.Errors) == 1 && out.Errors[0].Extensions.Code == "THROTTLED" &&
			attempt < 8 && cost.Throttle.Restore > 0 {
			time.Sleep(max(time.Duration((cost.Requested-cost.Throttle.Available)/cost.Throttle.Restore*float64(time.Second)), 100*time.Millisecond))
			continue
		}
		if resp.StatusCode != http.StatusOK || len(out.Errors) > 0 || out.Data == nil {
			t.Fatalf("Admin API: %d %s", resp.StatusCode, clipBytes(raw))
		}
		return out.Data
	}
}

func (e *e2eEnv) assertSubscriptions(t *testing.T) {
	t.Helper()
	subs, _ := e.gql(t, `{ webhookSubscriptions(first: 50) { nodes { topic uri } } }`, nil)["webhookSubscriptions"].(map[string]any)["nodes"].([]any)
	var topics, want []string
	for _, s := range subs {
		m, _ := s.(map[string]any)
		if m["uri"] != "/webhooks" {
			t.Errorf("subscription %v does not deliver to /webhooks", m)
		}
		topic, _ := m["topic"].(string)
		topics = append(topics, topic)
	}
	for _, topic := range WebhookTopics() {
		enum, _ := graphql.WebhookTopic(topic)
		want = append(want, string(enum))
	}
	slices.Sort(topics)
	slices.Sort(want)
	if len(want) == 0 || !slices.Equal(topics, want) {
		t.Fatalf("the stand-in's subscriptions %v, want %v", topics, want)
	}
}

// platformOrderIDs lists every order of the stand-in's demo shop (numeric ids). The test's
// queries ask for small pages: they share the Admin API's cost bucket with the app's calls.
func (e *e2eEnv) platformOrderIDs(t *testing.T) []string {
	t.Helper()
	var ids []string
	vars := map[string]any{"after": nil}
	for range 100 {
		page, _ := e.gql(t, `query($after: String) { orders(first: 100, after: $after) { pageInfo { hasNextPage endCursor } nodes { id } } }`,
			vars)["orders"].(map[string]any)
		nodes, _ := page["nodes"].([]any)
		for _, n := range nodes {
			id, _ := n.(map[string]any)["id"].(string)
			ids = append(ids, numericID(id))
		}
		info, _ := page["pageInfo"].(map[string]any)
		if more, _ := info["hasNextPage"].(bool); !more {
			if len(ids) == 0 {
				t.Fatal("the stand-in has no orders")
			}
			return ids
		}
		vars["after"] = info["endCursor"]
	}
	t.Fatal("the stand-in's orders never end")
	return nil
}

// e2eCatalog is the demo shop's variants by "product/variant" title.
type e2eCatalog map[string]e2eVariant

type e2eVariant struct {
	id    int64
	price discountfn.Money
}

func (e *e2eEnv) catalog(t *testing.T) e2eCatalog {
	t.Helper()
	products, _ := e.gql(t, `{ products(first: 20) { nodes { title variants(first: 3) { nodes { id title price } } } } }`,
		nil)["products"].(map[string]any)["nodes"].([]any)
	cat := e2eCatalog{}
	for _, p := range products {
		pm, _ := p.(map[string]any)
		variants, _ := pm["variants"].(map[string]any)["nodes"].([]any)
		for _, v := range variants {
			vm, _ := v.(map[string]any)
			title, _ := vm["title"].(string)
			if title == "Default Title" {
				title = ""
			}
			gidV, _ := vm["id"].(string)
			price, _ := vm["price"].(string)
			id, err := strconv.ParseInt(numericID(gidV), 10, 64)
			m, perr := discountfn.ParseMoney(price, 2)
			if err != nil || perr != nil {
				t.Fatalf("variant %v: %v %v", vm, err, perr)
			}
			cat[pm["title"].(string)+"/"+title] = e2eVariant{id: id, price: m}
		}
	}
	return cat
}

func (c e2eCatalog) variant(t *testing.T, product, variant string) int64 {
	t.Helper()
	v, ok := c[product+"/"+variant]
	if !ok {
		t.Fatalf("the demo shop has no %s %q", product, variant)
	}
	return v.id
}

func (c e2eCatalog) subtotal(lines map[int64]int) discountfn.Money {
	var m discountfn.Money
	for _, v := range c {
		m += v.price * discountfn.Money(lines[v.id])
	}
	return m
}

// percentOf is pct percent of m, which the test's cart makes exact.
func percentOf(t *testing.T, m discountfn.Money, pct int64) discountfn.Money {
	t.Helper()
	if int64(m)*pct%100 != 0 {
		t.Fatalf("%d%% of %d is not a whole number of cents: choose another cart", pct, m)
	}
	return discountfn.Money(int64(m) * pct / 100)
}

type e2eCustomer struct {
	id     string // numeric
	gid    string
	email  string
	phone  string
	orders int // the platform's numberOfOrders
}

func (e *e2eEnv) platformCustomers(t *testing.T) []e2eCustomer {
	t.Helper()
	nodes, _ := e.gql(t, `{ customers(first: 50) { nodes { id email phone numberOfOrders } } }`,
		nil)["customers"].(map[string]any)["nodes"].([]any)
	var out []e2eCustomer
	for _, n := range nodes {
		m, _ := n.(map[string]any)
		c := e2eCustomer{}
		c.gid, _ = m["id"].(string)
		c.email, _ = m["email"].(string)
		c.phone, _ = m["phone"].(string)
		c.id = numericID(c.gid)
		orders, _ := m["numberOfOrders"].(string)
		var err error
		if c.orders, err = strconv.Atoi(orders); err != nil || c.id == "" {
			t.Fatalf("customer %v", m)
		}
		out = append(out, c)
	}
	return out
}

// pickE2ECustomers picks, from the demo shop's generated customers: the regular with the most
// orders who has a phone (so redaction has an email and a phone to remove), another regular,
// and the customer with the fewest orders.
func pickE2ECustomers(t *testing.T, cs []e2eCustomer) (regular, second, newcomer e2eCustomer) {
	t.Helper()
	slices.SortStableFunc(cs, func(a, b e2eCustomer) int { return b.orders - a.orders })
	ri := slices.IndexFunc(cs, func(c e2eCustomer) bool { return c.phone != "" && c.email != "" })
	if ri < 0 {
		t.Fatal("no demo customer has a phone")
	}
	regular = cs[ri]
	rest := slices.Delete(slices.Clone(cs), ri, ri+1)
	second, newcomer = rest[0], rest[len(rest)-1]
	if newcomer.orders > 1 {
		t.Fatalf("every demo customer has 2 orders or more (fewest: %d)", newcomer.orders)
	}
	return regular, second, newcomer
}

// countedOrders counts the customer's stored orders that the default settings count, placed
// within the last 729 days (a day inside the offer's 730).
func countedOrders(t *testing.T, st *store.Store, customerGID string, now time.Time) int {
	t.Helper()
	data, err := st.CustomerData(context.Background(), e2eShop, customerGID)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, o := range data.Orders {
		if o.CancelledAt == nil && !o.Test && o.FinancialStatus == "paid" && o.PlacedAt.After(now.AddDate(0, 0, -729)) {
			n++
		}
	}
	return n
}

func (e *e2eEnv) platformDiscount(t *testing.T, id string) e2eDiscount {
	t.Helper()
	node, _ := e.gql(t, `query($id: ID!) {
  discountNode(id: $id) {
    metafield(namespace: "$app:regulars", key: "function-configuration") { value }
    discount {
      __typename
      ... on DiscountCodeApp { title status discountClasses usageLimit appliesOncePerCustomer appDiscountType { functionId } }
    }
  }
}`, map[string]any{"id": id})["discountNode"].(map[string]any)
	if node == nil {
		t.Fatalf("the stand-in has no discount %s", id)
	}
	var d e2eDiscount
	disc, _ := node["discount"].(map[string]any)
	if err := json.Unmarshal([]byte(asJSON(disc)), &d); err != nil {
		t.Fatalf("discount %v: %v", disc, err)
	}
	mf, _ := node["metafield"].(map[string]any)
	value, _ := mf["value"].(string)
	if err := json.Unmarshal([]byte(value), &d.Config); err != nil {
		t.Fatalf("the configuration metafield %v: %v", mf, err)
	}
	d.FunctionID = d.AppDiscountType.FunctionID
	return d
}

type e2eDiscount struct {
	Typename        string   `json:"__typename"`
	Title           string   `json:"title"`
	Status          string   `json:"status"`
	Classes         []string `json:"discountClasses"`
	UsageLimit      *int     `json:"usageLimit"`
	OncePerCustomer bool     `json:"appliesOncePerCustomer"`
	AppDiscountType struct {
		FunctionID string `json:"functionId"`
	} `json:"appDiscountType"`
	FunctionID string                    `json:"-"`
	Config     discountfn.DiscountConfig `json:"-"`
}

func (e *e2eEnv) codeDiscountID(t *testing.T, code string) string {
	t.Helper()
	node, _ := e.gql(t, `query($code: String!) { codeDiscountNodeByCode(code: $code) { id } }`,
		map[string]any{"code": code})["codeDiscountNodeByCode"].(map[string]any)
	id, _ := node["id"].(string)
	return id
}

// --- The admin API, with ID tokens from the stand-in's admin ---------------------------------

// idToken is a fresh ID token, as the stand-in's admin page gives the embedded app.
func (e *e2eEnv) idToken(t *testing.T) string {
	t.Helper()
	resp, err := e.client.Post(e.platform.URL+"/shops/"+e2eShop+"/admin/id-token", "application/json", nil)
	if err != nil {
		t.Fatal(err)
	}
	body := readBody(t, resp)
	var answer struct {
		Token string `json:"token"`
	}
	if resp.StatusCode != http.StatusOK || json.Unmarshal(body, &answer) != nil || answer.Token == "" {
		t.Fatalf("id-token: %d %s", resp.StatusCode, clipBytes(body))
	}
	return answer.Token
}

// apiOffer calls the admin API and decodes the offer record it answers.
func (e *e2eEnv) apiOffer(t *testing.T, method, path string, body any, want int) offerRecord {
	t.Helper()
	var reader io.Reader
	if body != nil {
		reader = bytes.NewReader(mustJSON(t, body))
	}
	req, err := http.NewRequest(method, e.appURL+path, reader)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+e.idToken(t))
	req.Header.Set("Content-Type", "application/json")
	resp, err := e.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	got := readBody(t, resp)
	var rec offerRecord
	if resp.StatusCode != want || json.Unmarshal(got, &rec) != nil {
		t.Fatalf("%s %s: %d %s; want %d", method, path, resp.StatusCode, clipBytes(got), want)
	}
	return rec
}

// --- Shoppers at the stand-in's checkout ------------------------------------------------------

// e2eCartForm is the checkout form: a customer (numeric id, "" for a guest with email), the
// codes entered, the quantities, standard delivery, card payment.
func e2eCartForm(customerID, email, codes string, lines map[int64]int) url.Values {
	form := url.Values{"customer": {customerID}, "email": {email}, "codes": {codes},
		"delivery": {"standard"}, "payment": {"card"}}
	for id, q := range lines {
		form.Set("qty_"+strconv.FormatInt(id, 10), strconv.Itoa(q))
	}
	return form
}

// e2eCart is the evaluated cart as the stand-in's checkout page shows it.
type e2eCart struct {
	Subtotal  discountfn.Money // before discounts
	Discounts discountfn.Money // product and order discounts
	Shipping  discountfn.Money
	Total     discountfn.Money
	Applied   []string // titles of the discounts applied
	Notes     []string
	Payments  []string // the payment methods offered ("card", "cod")
}

// checkout evaluates the cart on the stand-in's checkout page (which runs the functions).
func (e *e2eEnv) checkout(t *testing.T, form url.Values) e2eCart {
	t.Helper()
	resp, err := e.client.Get(e.platform.URL + "/shops/" + e2eShop + "/checkout?" + form.Encode())
	if err != nil {
		t.Fatal(err)
	}
	page := string(readBody(t, resp))
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("checkout page: %d %s", resp.StatusCode, clipBytes([]byte(page)))
	}
	return parseE2ECart(t, page)
}

// parseE2ECart reads the totals, the applied discounts and the notes off the checkout page
// (standin/templates/checkout.html).
func parseE2ECart(t *testing.T, page string) e2eCart {
	t.Helper()
	row := func(label string, required bool) discountfn.Money {
		re := regexp.MustCompile(`<th scope="row" colspan="4">` + regexp.QuoteMeta(label) + `</th><td class="num">−?([0-9]+\.[0-9]{2})</td>`)
		m := re.FindStringSubmatch(page)
		if m == nil {
			if required {
				t.Fatalf("the checkout page has no %q row:\n%s", label, page)
			}
			return 0
		}
		v, err := discountfn.ParseMoney(m[1], 2)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	c := e2eCart{
		Subtotal:  row("Subtotal", true),
		Discounts: row("Product discounts", false) + row("Order discounts", false),
		Shipping:  row("Shipping", true) - row("Shipping discount", false),
		Total:     row("Total (USD)", true),
	}
	for _, m := range regexp.MustCompile(`<li><strong>([^<]*)</strong>`).FindAllStringSubmatch(page, -1) {
		c.Applied = append(c.Applied, html.UnescapeString(m[1]))
	}
	for _, m := range regexp.MustCompile(`<input type="radio" id="pay-[a-z]+" name="payment" value="([a-z]+)"`).FindAllStringSubmatch(page, -1) {
		c.Payments = append(c.Payments, m[1])
	}
	if m := regexp.MustCompile(`(?s)<h3>Notes</h3><ul>(.*?)</ul>`).FindStringSubmatch(page); m != nil {
		for _, n := range regexp.MustCompile(`(?s)<li>(.*?)</li>`).FindAllStringSubmatch(m[1], -1) {
			c.Notes = append(c.Notes, html.UnescapeString(n[1]))
		}
	}
	return c
}

type e2ePlaced struct {
	id    string
	name  string
	total discountfn.Money
}

// placeOrder places the cart as an order (the page's Place order button) and finds its id in
// the orders/create delivery.
func (e *e2eEnv) placeOrder(t *testing.T, form url.Values) e2ePlaced {
	t.Helper()
	noRedirect := &http.Client{Timeout: 30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := noRedirect.PostForm(e.platform.URL+"/shops/"+e2eShop+"/checkout", form)
	if err != nil {
		t.Fatal(err)
	}
	body := readBody(t, resp)
	loc, err := url.Parse(resp.Header.Get("Location"))
	if resp.StatusCode != http.StatusSeeOther || err != nil || loc.Query().Get("placed") == "" {
		t.Fatalf("place order: %d, Location %q: %s", resp.StatusCode, resp.Header.Get("Location"), clipBytes(body))
	}
	p := e2ePlaced{name: loc.Query().Get("placed")}
	if p.total, err = discountfn.ParseMoney(loc.Query().Get("total"), 2); err != nil {
		t.Fatal(err)
	}
	created := e.awaitCall(t, "orders/create of "+p.name, func(c e2eCall) bool {
		return c.topic == "orders/create" && jsonField(c.body, "name") == p.name
	})
	p.id = jsonField(created.body, "id")
	return p
}

// appCheckout calls our cart-lines endpoint as the function's fetch target does.
func (e *e2eEnv) appCheckout(t *testing.T, token string, input []byte) []byte {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, e.appURL+cartLinesPath, bytes.NewReader(input))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := e.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body := readBody(t, resp)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("POST %s: %d %s", cartLinesPath, resp.StatusCode, clipBytes(body))
	}
	return body
}

// engineOutcome runs a function input the stand-in sent through the engine, with the same
// offers and facts the checkout endpoint uses, and returns the offer's outcome.
func (e *e2eEnv) engineOutcome(t *testing.T, input []byte, offerID string) discountfn.Outcome {
	t.Helper()
	ctx := context.Background()
	in, err := decodeInput(input)
	if err != nil {
		t.Fatalf("the stand-in's function input: %v", err)
	}
	set, codes, err := e.src.Checkout(ctx, e2eShop)
	if err != nil {
		t.Fatal(err)
	}
	facts, err := e.src.Facts(ctx, e2eShop, discountfn.BuyerFromInput(in))
	if err != nil {
		t.Fatal(err)
	}
	res, err := set.Evaluate(discountfn.Request{Input: in, Target: discountfn.TargetCartLines, OfferID: offerID,
		Facts: facts, Codes: codes, Now: time.Now()})
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range res.Outcomes {
		if o.OfferID == offerID {
			return o
		}
	}
	t.Fatalf("the engine gave no outcome for offer %s: %+v", offerID, res.Outcomes)
	return discountfn.Outcome{}
}

// hasItemDiscount reports whether a run result discounts products or the order.
func hasItemDiscount(t *testing.T, answer []byte) bool {
	t.Helper()
	var rr discountfn.RunResult
	if err := json.Unmarshal(answer, &rr); err != nil {
		t.Fatalf("run result %s: %v", clipBytes(answer), err)
	}
	for _, op := range rr.Operations {
		if (op.ProductDiscountsAdd != nil && len(op.ProductDiscountsAdd.Candidates) > 0) ||
			(op.OrderDiscountsAdd != nil && len(op.OrderDiscountsAdd.Candidates) > 0) {
			return true
		}
	}
	return false
}

// --- Webhooks ---------------------------------------------------------------------------------

// postWebhook delivers a compliance topic as the platform does: signed with the app secret.
func (e *e2eEnv) postWebhook(t *testing.T, topic string, payload any) {
	t.Helper()
	body := mustJSON(t, payload)
	req, err := http.NewRequest(http.MethodPost, e.appURL+"/webhooks", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	id := fmt.Sprintf("%s-%d", strings.ReplaceAll(topic, "/", "-"), time.Now().UnixNano())
	h := req.Header
	h.Set("Content-Type", "application/json")
	h.Set(headerTopic, topic)
	h.Set(headerShopDomain, e2eShop)
	h.Set(headerHmac, webhooks.Sign([]byte(testAppSecret), body))
	h.Set(headerWebhookID, "wh-"+id)
	h.Set(headerEventID, id)
	h.Set(headerAPIVersion, standin.APIVersion)
	h.Set(headerTriggeredAt, time.Now().UTC().Format(time.RFC3339Nano))
	resp, err := e.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if got := readBody(t, resp); resp.StatusCode != http.StatusOK || !bytes.Contains(got, []byte(`"stored"`)) {
		t.Fatalf("%s: %d %s", topic, resp.StatusCode, clipBytes(got))
	}
}

// awaitDelivery waits for the stand-in's delivery of topic for the resource id, which the app
// must have verified and stored (200 "stored").
func (e *e2eEnv) awaitDelivery(t *testing.T, topic, id string) {
	t.Helper()
	c := e.awaitCall(t, topic+" "+id, func(c e2eCall) bool { return c.topic == topic && jsonField(c.body, "id") == id })
	if c.err != nil || c.status != http.StatusOK || !bytes.Contains(c.answer, []byte(`"stored"`)) {
		t.Fatalf("the app answered %s of %s with %d %s (%v)", topic, id, c.status, clipBytes(c.answer), c.err)
	}
}

// awaitCall waits, within e2eWaitLimit, for a completed call of the stand-in that matches.
// Webhook deliveries are the one asynchronous step: the stand-in sends them in the background.
func (e *e2eEnv) awaitCall(t *testing.T, what string, match func(e2eCall) bool) e2eCall {
	t.Helper()
	deadline := time.Now().Add(e2eWaitLimit)
	for {
		if c, ok := e.calls.find(match); ok {
			return c
		}
		if time.Now().After(deadline) {
			t.Fatalf("the stand-in did not send %s within %s; its calls: %s", what, e2eWaitLimit, describeCalls(e.calls.since(0, "")))
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// e2eCalls records what the stand-in sends (function fetches, webhook deliveries) and the
// answers, as the transport of its HTTP client.
type e2eCalls struct {
	next http.RoundTripper

	mu   sync.Mutex
	list []e2eCall
}

type e2eCall struct {
	path   string
	topic  string
	auth   string
	body   []byte
	status int
	answer []byte
	err    error
}

func (r *e2eCalls) RoundTrip(req *http.Request) (*http.Response, error) {
	var body []byte
	if req.Body != nil {
		b, err := io.ReadAll(req.Body)
		_ = req.Body.Close()
		if err != nil {
			return nil, err
		}
		body = b
	}
	out := req.Clone(req.Context())
	out.Body = io.NopCloser(bytes.NewReader(body))
	out.ContentLength = int64(len(body))
	c := e2eCall{path: req.URL.Path, topic: req.Header.Get(headerTopic), auth: req.Header.Get("Authorization"), body: body}
	resp, err := r.next.RoundTrip(out)
	if err == nil {
		c.answer, err = io.ReadAll(resp.Body)
		_ = resp.Body.Close()
		c.status = resp.StatusCode
		resp.Body = io.NopCloser(bytes.NewReader(c.answer))
	}
	c.err = err
	r.mu.Lock()
	r.list = append(r.list, c)
	r.mu.Unlock()
	if err != nil {
		return nil, err
	}
	return resp, nil
}

func (r *e2eCalls) len() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.list)
}

// since returns the calls recorded from index mark on, to path ("" for any).
func (r *e2eCalls) since(mark int, path string) []e2eCall {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []e2eCall
	for _, c := range r.list[mark:] {
		if path == "" || c.path == path {
			out = append(out, c)
		}
	}
	return out
}

func (r *e2eCalls) find(match func(e2eCall) bool) (e2eCall, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, c := range r.list {
		if match(c) {
			return c, true
		}
	}
	return e2eCall{}, false
}

func describeCalls(calls []e2eCall) string {
	if len(calls) == 0 {
		return "none"
	}
	var b strings.Builder
	for _, c := range calls {
		fmt.Fprintf(&b, "\n  %s %s auth=%t → %d %s", c.path, c.topic, c.auth != "", c.status, clipBytes(c.answer))
		if c.err != nil {
			fmt.Fprintf(&b, " (%v)", c.err)
		}
	}
	return b.String()
}

// --- Small helpers ----------------------------------------------------------------------------

// jsonField is a top-level field of a JSON object as text (numbers exactly as sent).
func jsonField(body []byte, key string) string {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var m map[string]any
	if dec.Decode(&m) != nil {
		return ""
	}
	switch v := m[key].(type) {
	case string:
		return v
	case json.Number:
		return v.String()
	}
	return ""
}

// numericID is the number at the end of a platform gid.
func numericID(gid string) string {
	n := gid[strings.LastIndexByte(gid, '/')+1:]
	if _, err := strconv.ParseInt(n, 10, 64); err != nil {
		return ""
	}
	return n
}

func clipBytes(b []byte) string {
	const n = 2000
	if len(b) > n {
		return string(b[:n]) + "…"
	}
	return string(b)
}
