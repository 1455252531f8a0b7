package webhooks

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/regularsapp/regulars/discountfn"
	"github.com/regularsapp/regulars/store"
	"github.com/regularsapp/regulars/store/storetest"
)

// The pipeline tests run Receive -> DrainOnce against the real store, on SQLite and (when
// TEST_DATABASE_URL is set) PostgreSQL, and check what the store holds afterwards.

func offerConfig(t testing.TB, o discountfn.Offer) []byte {
	t.Helper()
	o.Version = discountfn.ConfigVersion
	o.Status = discountfn.StatusActive
	o.Value = discountfn.Value{Kind: discountfn.ValuePercentage, Percentage: 1000}
	return marshal(t, o)
}

// seedOffers stores the shop and three offers: a shared code, unique codes, and an automatic
// offer; plus one whose configuration does not decode.
func seedOffers(t testing.TB, st *store.Store) {
	t.Helper()
	mustShop(t, st)
	mustOffer(t, st, "welcome", offerConfig(t, codeOffer("welcome", "welcome10")))
	mustOffer(t, st, "many", offerConfig(t, codesOffer("many")))
	mustOffer(t, st, "regulars", offerConfig(t, automaticOffer("regulars", "Regulars", "Thanks for coming back")))
	mustOffer(t, st, "broken", []byte(`{"id":"broken","value":{"kind":"percentage","percentage":"lots"}}`))
	if err := st.AddCodes(context.Background(), testShop, "many", []store.CodeRow{{Code: "unique-1"}, {Code: "UNIQUE-2"}}); err != nil {
		t.Fatalf("AddCodes: %v", err)
	}
}

func orderBody(t testing.TB, change func(o object)) []byte {
	t.Helper()
	o := baseOrder()
	if change != nil {
		change(o)
	}
	return marshal(t, o)
}

func TestPipelineOrders(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		h := newHarness(t, st)
		seedOffers(t, st)

		// orders/create with the shared code and the automatic offer.
		created := orderBody(t, func(o object) {
			o["discount_codes"] = []object{{"code": "welcome10", "amount": "10.00"}}
			o["discount_applications"] = []object{
				{"type": "discount_code", "code": "WELCOME10"},
				{"type": "automatic", "title": "Thanks for coming back"},
			}
			o["line_items"] = []object{{
				"id": 501, "product_id": 601, "variant_id": 701, "quantity": 2, "price": "45.00",
				"discount_allocations": []object{
					{"amount": "10.00", "discount_application_index": 0},
					{"amount": "4.50", "discount_application_index": 1},
				},
			}}
		})
		h.receive(t, TopicOrdersCreate, "ev-create", created)
		if n := h.drain(t); n != 1 {
			t.Fatalf("DrainOnce processed %d events, want 1", n)
		}
		want, err := ParseOrder(testShop, created)
		if err != nil {
			t.Fatal(err)
		}
		got := mustGetOrder(t, st, "1001")
		if got.Total != want.Total || got.CustomerID != want.CustomerID || got.Email != want.Email ||
			len(got.Lines) != 1 || got.Lines[0] != want.Lines[0] || !got.UpdatedAt.Equal(want.UpdatedAt) {
			t.Errorf("stored order = %+v\nwant %+v", got, want)
		}
		if evs := h.events(t, store.EventDone); len(evs) != 1 || evs[0].EventID != EventKey(TopicOrdersCreate, "ev-create") {
			t.Errorf("done events = %+v", evs)
		}
		if !strings.Contains(h.logs.String(), "broken") {
			t.Errorf("no warning about the undecodable offer in the logs:\n%s", h.logs)
		}

		rs := mustRedemptions(t, st)
		if len(rs) != 2 || rs[0].OfferID != "regulars" || rs[1].OfferID != "welcome" {
			t.Fatalf("redemptions = %+v, want regulars and welcome", rs)
		}
		if rs[0].Amount != 450 || rs[0].Code != "" || rs[1].Amount != 1000 || rs[1].Code != "WELCOME10" {
			t.Errorf("redemptions = %+v", rs)
		}
		if rs[1].Day != "2026-03-01" || rs[1].OrderTotal != 9550 || rs[1].Released {
			t.Errorf("redemption = %+v", rs[1])
		}
		if !containsAll(rs[1].IdentityKeys, "customer:gid://shopify/Customer/7001", "email:jobuyer@gmail.com", "ip:203.0.113.7") {
			t.Errorf("identity keys = %q", rs[1].IdentityKeys)
		}

		// orders/updated: the code is replaced by a unique code; the ledger follows.
		updated := orderBody(t, func(o object) {
			o["updated_at"] = "2026-03-01T11:00:00+01:00"
			o["discount_codes"] = []object{{"code": "UNIQUE-2", "amount": "5.00"}}
			o["discount_applications"] = []object{{"type": "discount_code", "code": "unique-2"}}
			o["total_price"] = "85.00"
		})
		h.receive(t, TopicOrdersUpdated, "ev-updated", updated)
		h.drain(t)
		if got := mustGetOrder(t, st, "1001"); got.Total != 8500 {
			t.Errorf("after orders/updated: total = %d, want 8500", got.Total)
		}
		rs = mustRedemptions(t, st)
		// The amount is the allocations' (the line still carries 10.00 for application 0).
		if len(rs) != 1 || rs[0].OfferID != "many" || rs[0].Code != "UNIQUE-2" || rs[0].Amount != 1000 {
			t.Errorf("after orders/updated: redemptions = %+v, want one of offer many", rs)
		}

		// orders/paid.
		paid := orderBody(t, func(o object) {
			o["updated_at"] = "2026-03-01T12:00:00+01:00"
			o["financial_status"] = "paid"
			o["discount_codes"] = []object{{"code": "UNIQUE-2", "amount": "5.00"}}
			o["discount_applications"] = nil
		})
		h.receive(t, TopicOrdersPaid, "ev-paid", paid)
		h.drain(t)
		if got := mustGetOrder(t, st, "1001"); got.FinancialStatus != "paid" || got.Total != 9550 {
			t.Errorf("after orders/paid: %+v", got)
		}

		// orders/cancelled: the default settings release usage.
		cancelled := orderBody(t, func(o object) {
			o["updated_at"] = "2026-03-01T13:00:00+01:00"
			o["cancelled_at"] = "2026-03-01T13:00:00+01:00"
			o["financial_status"] = "voided"
			o["discount_codes"] = []object{{"code": "UNIQUE-2", "amount": "5.00"}}
			o["discount_applications"] = nil
		})
		h.receive(t, TopicOrdersCancelled, "ev-cancelled", cancelled)
		h.drain(t)
		if got := mustGetOrder(t, st, "1001"); got.CancelledAt == nil {
			t.Errorf("after orders/cancelled: not cancelled: %+v", got)
		}
		rs = mustRedemptions(t, st)
		if len(rs) != 1 || !rs[0].Released {
			t.Errorf("after orders/cancelled: redemptions = %+v, want one released", rs)
		}

		// refunds/create.
		refund := []byte(`{"id":930000000000000001,"order_id":1001,"created_at":"2026-03-02T10:00:00Z",
			"transactions":[{"kind":"refund","status":"success","amount":"20.00","currency":"USD"}]}`)
		h.receive(t, TopicRefundsCreate, "ev-refund", refund)
		h.drain(t)
		got = mustGetOrder(t, st, "1001")
		if len(got.Refunds) != 1 || got.Refunds[0].ID != "930000000000000001" || got.Refunds[0].Amount != 2000 {
			t.Errorf("after refunds/create: refunds = %+v", got.Refunds)
		}
		if evs := h.events(t, store.EventDone); len(evs) != 5 {
			t.Errorf("%d done events, want 5", len(evs))
		}
		if evs := h.events(t, store.EventFailed); len(evs) != 0 {
			t.Errorf("failed events: %+v", evs)
		}
	})
}

func TestPipelineOrderWithoutDiscountsClearsItsLedger(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		h := newHarness(t, st)
		seedOffers(t, st)
		h.receive(t, TopicOrdersCreate, "ev-1", orderBody(t, nil))
		h.drain(t)
		if rs := mustRedemptions(t, st); len(rs) != 1 {
			t.Fatalf("redemptions = %+v, want 1", rs)
		}
		// The merchant edited the discount away.
		h.receive(t, TopicOrdersUpdated, "ev-2", orderBody(t, func(o object) {
			o["updated_at"] = "2026-03-02T10:00:00Z"
			o["discount_codes"] = nil
			o["discount_applications"] = nil
		}))
		h.drain(t)
		if rs := mustRedemptions(t, st); len(rs) != 0 {
			t.Errorf("redemptions = %+v, want none", rs)
		}
	})
}

// Two versions of one order (orders/create and orders/paid fire together) processed at the
// same time by two workers, in two processes, leave the newest version and its ledger, in
// whichever order their writes land.
func TestLedgerConvergesToTheNewestVersion(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		seedOffers(t, st)
		ctx := context.Background()
		const orders = 20
		v1 := func(id int) []byte { return orderBody(t, func(o object) { o["id"] = id }) } // welcome
		v2 := func(id int) []byte {
			return orderBody(t, func(o object) {
				o["id"] = id
				o["updated_at"] = "2026-03-02T10:00:00Z"
				o["discount_codes"] = []object{{"code": "UNIQUE-1"}}
				o["discount_applications"] = nil
			})
		}
		procs := []*Processor{NewProcessor(st, nil, nil), NewProcessor(st, nil, nil)}
		var wg sync.WaitGroup
		errs := make(chan error, 2*orders)
		for w, body := range []func(int) []byte{v1, v2} {
			wg.Go(func() {
				for id := range orders {
					ev := store.WebhookEvent{Shop: testShop, Topic: TopicOrdersUpdated, Body: body(id)}
					if err := procs[w].Process(ctx, ev); err != nil {
						errs <- err
					}
				}
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatal(err)
		}
		byOrder := map[string][]string{}
		for _, r := range mustRedemptions(t, st) {
			byOrder[r.OrderID] = append(byOrder[r.OrderID], r.OfferID)
		}
		for id := range orders {
			if got := byOrder[fmt.Sprint(id)]; len(got) != 1 || got[0] != "many" {
				t.Errorf("order %d ledger = %v; want v2's (many)", id, got)
			}
		}
	})
}

func containsAll(have []string, want ...string) bool {
	set := map[string]bool{}
	for _, h := range have {
		set[h] = true
	}
	for _, w := range want {
		if !set[w] {
			return false
		}
	}
	return true
}

func TestPipelineCancelKeepsUsageWhenSettingsSaySo(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		h := newHarness(t, st)
		seedOffers(t, st)
		ctx := context.Background()
		settings := store.DefaultShopSettings()
		settings.ReleaseUsageOnCancel = false
		if err := st.SaveSettings(ctx, testShop, settings); err != nil {
			t.Fatalf("SaveSettings: %v", err)
		}
		h.receive(t, TopicOrdersCancelled, "ev-1", orderBody(t, func(o object) {
			o["cancelled_at"] = "2026-03-01T13:00:00+01:00"
		}))
		h.drain(t)
		rs := mustRedemptions(t, st)
		if len(rs) != 1 || rs[0].OfferID != "welcome" || rs[0].Released {
			t.Errorf("redemptions = %+v, want welcome, not released", rs)
		}
	})
}

func TestPipelineDuplicateDeliveryAppliedOnce(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		h := newHarness(t, st)
		seedOffers(t, st)
		ctx := context.Background()
		body := orderBody(t, nil)
		h.receive(t, TopicOrdersCreate, "ev-1", body)
		// The same event again (a retry after a lost 200), with another webhook id.
		d := delivery(TopicOrdersCreate, "ev-1", body)
		d.WebhookID = "another-delivery"
		dup, err := h.recv.Receive(ctx, d)
		if err != nil || !dup {
			t.Fatalf("second Receive = %v, %v; want duplicate", dup, err)
		}
		if n := h.drain(t); n != 1 {
			t.Errorf("processed %d events, want 1", n)
		}
		// A third time after processing.
		dup, err = h.recv.Receive(ctx, d)
		if err != nil || !dup {
			t.Fatalf("third Receive = %v, %v; want duplicate", dup, err)
		}
		if n := h.drain(t); n != 0 {
			t.Errorf("processed %d events, want 0", n)
		}
		if evs := h.events(t, store.EventDone); len(evs) != 1 {
			t.Errorf("%d done events, want 1", len(evs))
		}
		if rs := mustRedemptions(t, st); len(rs) != 1 {
			t.Errorf("redemptions = %+v, want 1", rs)
		}

		// Without an event id, the webhook id stands in.
		d2 := delivery(TopicOrdersUpdated, "", body)
		d2.WebhookID = "wh-only"
		for i, wantDup := range []bool{false, true} {
			dup, err := h.recv.Receive(ctx, d2)
			if err != nil || dup != wantDup {
				t.Errorf("delivery %d without event id: Receive = %v, %v; want %v", i+1, dup, err, wantDup)
			}
		}
		// The same event id under another topic is another delivery.
		dup, err = h.recv.Receive(ctx, delivery(TopicOrdersPaid, "ev-1", body))
		if err != nil || dup {
			t.Errorf("same event id, other topic: Receive = %v, %v; want stored", dup, err)
		}
	})
}

func TestPipelineOutOfOrderUpdatesConverge(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		h := newHarness(t, st)
		seedOffers(t, st)
		version := func(updatedAt, total string, code string) []byte {
			return orderBody(t, func(o object) {
				o["updated_at"] = updatedAt
				o["total_price"] = total
				o["discount_codes"] = []object{{"code": code}}
				o["discount_applications"] = nil
			})
		}
		newest := version("2026-03-01T12:00:00Z", "70.00", "UNIQUE-1")
		middle := version("2026-03-01T11:00:00Z", "80.00", "WELCOME10")
		oldest := version("2026-03-01T10:00:00Z", "90.00", "WELCOME10")

		// The newest arrives first and is processed; the older ones arrive late.
		h.receive(t, TopicOrdersUpdated, "ev-3", newest)
		h.drain(t)
		h.receive(t, TopicOrdersUpdated, "ev-1", oldest)
		h.receive(t, TopicOrdersCreate, "ev-0", middle)
		h.drain(t)

		got := mustGetOrder(t, st, "1001")
		if got.Total != 7000 || !got.UpdatedAt.Equal(mustTime(t, "2026-03-01T12:00:00Z")) {
			t.Errorf("order = total %d, updated %v; want the newest (7000)", got.Total, got.UpdatedAt)
		}
		rs := mustRedemptions(t, st)
		if len(rs) != 1 || rs[0].OfferID != "many" || rs[0].Code != "UNIQUE-1" {
			t.Errorf("redemptions = %+v, want the newest version's (many)", rs)
		}
		if evs := h.events(t, store.EventDone); len(evs) != 3 {
			t.Errorf("%d done events, want 3 (stale versions are done, not failed)", len(evs))
		}
	})
}

func TestPipelineRejectsBadDeliveries(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		h := newHarness(t, st)
		mustShop(t, st)
		ctx := context.Background()
		body := orderBody(t, nil)
		signed := func(d Delivery) Delivery { d.Signature = sign([]byte(testSecret), d.Body); return d }

		tests := []struct {
			name string
			d    Delivery
			want error
		}{
			{"bad HMAC", func() Delivery {
				d := delivery(TopicOrdersCreate, "e1", body)
				d.Signature = sign([]byte("not the secret"), body)
				return d
			}(), ErrUnauthorized},
			{"missing HMAC", func() Delivery { d := delivery(TopicOrdersCreate, "e2", body); d.Signature = ""; return d }(), ErrUnauthorized},
			{"tampered body", func() Delivery {
				d := delivery(TopicOrdersCreate, "e3", body)
				d.Body = []byte(strings.Replace(string(body), "95.50", "0.01", 1))
				return d
			}(), ErrUnauthorized},
			{"bad HMAC on an unknown topic is still 401", func() Delivery {
				d := delivery("orders/nope", "e4", body)
				d.Signature = "AAAA"
				return d
			}(), ErrUnauthorized},
			{"bad HMAC on a compliance topic", func() Delivery {
				d := delivery(TopicShopRedact, "e5", []byte(`{"shop_domain":"`+testShop+`"}`))
				d.Signature = sign([]byte("wrong"), d.Body)
				return d
			}(), ErrUnauthorized},
			{"unknown topic", delivery("products/create", "e6", body), ErrBadRequest},
			{"bad shop domain", func() Delivery { d := delivery(TopicOrdersCreate, "e7", body); d.Shop = "evil.example.com"; return d }(), ErrBadRequest},
			{"shop domain with a path", func() Delivery {
				d := delivery(TopicOrdersCreate, "e8", body)
				d.Shop = "a.myshopify.com/../b"
				return d
			}(), ErrBadRequest},
			{"no event id nor webhook id", func() Delivery {
				d := delivery(TopicOrdersCreate, "", body)
				d.WebhookID = ""
				return d
			}(), ErrBadRequest},
			{"array body", signed(delivery(TopicOrdersCreate, "e9", []byte(`[1,2]`))), ErrBadRequest},
			{"null body", signed(delivery(TopicOrdersCreate, "e10", []byte(`null`))), ErrBadRequest},
			{"empty body", signed(delivery(TopicOrdersCreate, "e11", nil)), ErrBadRequest},
			{"malformed JSON", signed(delivery(TopicOrdersCreate, "e12", []byte(`{"id":1`))), ErrBadRequest},
			{"compliance body for another shop", signed(delivery(TopicShopRedact, "e13",
				[]byte(`{"shop_id":1,"shop_domain":"other.myshopify.com"}`))), ErrBadRequest},
			{"compliance body without shop", signed(delivery(TopicCustomersRedact, "e14",
				[]byte(`{"customer":{"id":1}}`))), ErrBadRequest},
			{"uninstall body for another shop", signed(delivery(TopicAppUninstalled, "e15",
				[]byte(`{"id":1,"myshopify_domain":"other.myshopify.com"}`))), ErrBadRequest},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				dup, err := h.recv.Receive(ctx, tt.d)
				if !errors.Is(err, tt.want) || dup {
					t.Fatalf("Receive = %v, %v; want %v", dup, err, tt.want)
				}
			})
		}
		for _, status := range []string{store.EventPending, store.EventDone, store.EventFailed} {
			if evs := h.events(t, status); len(evs) != 0 {
				t.Errorf("%d %s events stored by rejected deliveries: %+v", len(evs), status, evs)
			}
		}
		if n := h.drain(t); n != 0 {
			t.Errorf("processed %d events, want 0", n)
		}
		if _, err := st.GetOrder(ctx, testShop, "1001"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("GetOrder after rejected deliveries: %v, want ErrNotFound", err)
		}
	})
}

func TestPipelineRotatedSecret(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		mustShop(t, st)
		oldSecret, newSecret := []byte("old-secret"), []byte("new-secret")
		recv := NewReceiver(st, [][]byte{newSecret, oldSecret, nil}, time.Now)
		body := orderBody(t, nil)
		for i, secret := range [][]byte{oldSecret, newSecret} {
			d := delivery(TopicOrdersCreate, "ev-"+string(secret), body)
			d.Signature = sign(secret, body)
			dup, err := recv.Receive(context.Background(), d)
			if err != nil || dup {
				t.Errorf("delivery %d: Receive = %v, %v; want stored", i, dup, err)
			}
		}
		d := delivery(TopicOrdersCreate, "ev-3", body)
		d.Signature = sign([]byte("retired-secret"), body)
		if _, err := recv.Receive(context.Background(), d); !errors.Is(err, ErrUnauthorized) {
			t.Errorf("retired secret: %v, want ErrUnauthorized", err)
		}
	})
}

func TestPipelineFailingEventRetriedThenFailed(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		h := newHarness(t, st)
		mustShop(t, st)
		bad := func(id int) []byte {
			return orderBody(t, func(o object) {
				o["id"] = id
				o["line_items"] = []object{{"id": 1, "quantity": 1, "price": "abc"}}
			})
		}
		wantErr := `orders/create: line_items[0].price: "abc" is not a decimal`

		// With the clock at the present, a failure is retried after its backoff (1 s): not now.
		h.receive(t, TopicOrdersCreate, "ev-bad-1", bad(1))
		before := time.Now()
		if n := h.drain(t); n != 1 {
			t.Fatalf("first drain processed %d events, want 1", n)
		}
		evs := h.events(t, store.EventPending)
		if len(evs) != 1 || evs[0].Attempts != 1 || evs[0].LastError != wantErr {
			t.Fatalf("pending events = %+v, want one with 1 attempt and error %q", evs, wantErr)
		}
		if next := evs[0].NextAttemptAt; next.Before(before.Add(time.Second-time.Millisecond)) || next.After(time.Now().Add(time.Second)) {
			t.Errorf("NextAttemptAt = %v, want about 1 s after %v", next, before)
		}

		// Done with ev-bad-1: on a loaded machine its 1 s backoff could pass before the next
		// drain, which would then retry it too.
		if err := st.CompleteEvent(context.Background(), evs[0].ID); err != nil {
			t.Fatal(err)
		}

		// With the processor's clock a day behind, every retry is due at once: a second event
		// is tried until the store gives up on it, one log line per attempt.
		h.clock.Shift(-24 * time.Hour)
		h.receive(t, TopicOrdersCreate, "ev-bad-2", bad(2))
		h.drain(t)
		failed := h.events(t, store.EventFailed)
		if len(failed) != 1 || failed[0].EventID != EventKey(TopicOrdersCreate, "ev-bad-2") ||
			failed[0].Attempts != store.MaxEventAttempts || failed[0].LastError != wantErr {
			t.Fatalf("failed events = %+v, want ev-bad-2 after %d attempts", failed, store.MaxEventAttempts)
		}
		if got := strings.Count(h.logs.String(), "webhook event failed"); got != 1+store.MaxEventAttempts {
			t.Errorf("%d failure log lines, want one per attempt (%d):\n%s", got, 1+store.MaxEventAttempts, h.logs)
		}
		if got := strings.Count(h.logs.String(), "gave_up=true"); got != 1 {
			t.Errorf("%d give-up log lines, want 1", got)
		}
		for _, id := range []string{"1", "2"} {
			if _, err := st.GetOrder(context.Background(), testShop, id); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("GetOrder(%s): %v, want ErrNotFound", id, err)
			}
		}
	})
}

func TestPipelinePanicIsAFailedAttempt(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		h := newHarness(t, st)
		mustShop(t, st)
		h.receive(t, TopicOrdersCreate, "ev-1", orderBody(t, nil))
		// A processor without a store panics on its first store call.
		broken := NewProcessor(nil, h.clock.Now, slog.New(slog.NewTextHandler(h.logs, nil)))
		w := NewWorker(st, broken)
		if n, err := w.DrainOnce(context.Background()); n != 1 || err != nil {
			t.Fatalf("DrainOnce = %d, %v; want 1, nil", n, err)
		}
		evs := h.events(t, store.EventPending)
		if len(evs) != 1 || evs[0].Attempts != 1 || !strings.HasPrefix(evs[0].LastError, "orders/create: panic: ") {
			t.Fatalf("pending events = %+v, want one failed attempt by panic", evs)
		}
		if !strings.Contains(h.logs.String(), "stack=") {
			t.Errorf("the panic's stack is not logged:\n%s", h.logs)
		}
	})
}

func TestPipelineCustomersAndCompliance(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		h := newHarness(t, st)
		seedOffers(t, st)
		ctx := context.Background()
		customer := "gid://shopify/Customer/7001"

		// An order and a customer.
		h.receive(t, TopicOrdersCreate, "ev-order", orderBody(t, nil))
		h.receive(t, TopicCustomersUpdate, "ev-customer", []byte(`{"id":7001,"email":"Jo.Buyer@gmail.com",
			"phone":"+33 1 23 45 67 89","tags":"vip, regular","updated_at":"2026-03-01T09:00:00Z","unknown":[1]}`))
		h.drain(t)
		data, err := st.CustomerData(ctx, testShop, customer)
		if err != nil {
			t.Fatalf("CustomerData: %v", err)
		}
		if data.Customer == nil || data.Customer.Email != "jobuyer@gmail.com" || len(data.Customer.Tags) != 2 ||
			data.Customer.Tags[0] != "vip" || data.Customer.Tags[1] != "regular" {
			t.Errorf("customer = %+v", data.Customer)
		}

		// customers/data_request: the assembled document is kept.
		h.receive(t, TopicCustomersDataRequest, "ev-request", []byte(`{"shop_id":954889,"shop_domain":"`+testShop+`",
			"orders_requested":[1001],"customer":{"id":7001,"email":"jo.buyer@gmail.com"},"data_request":{"id":9999}}`))
		h.drain(t)
		reqs, err := st.ListDataRequests(ctx, testShop)
		if err != nil {
			t.Fatalf("ListDataRequests: %v", err)
		}
		if len(reqs) != 1 || reqs[0].RequestID != "9999" || reqs[0].CustomerID != customer {
			t.Fatalf("data requests = %+v", reqs)
		}
		var doc struct {
			CustomerID string `json:"customer_id"`
			Customer   struct {
				Email string   `json:"email"`
				Tags  []string `json:"tags"`
			} `json:"customer"`
			Orders []struct {
				ID    string `json:"id"`
				Total string `json:"total"`
			} `json:"orders"`
			Redemptions []struct {
				OfferID string `json:"offer_id"`
				Amount  string `json:"amount"`
			} `json:"redemptions"`
		}
		if err := json.Unmarshal(reqs[0].Payload, &doc); err != nil {
			t.Fatalf("data request payload: %v\n%s", err, reqs[0].Payload)
		}
		if doc.CustomerID != customer || doc.Customer.Email != "jobuyer@gmail.com" || len(doc.Orders) != 1 ||
			doc.Orders[0].ID != "1001" || doc.Orders[0].Total != "95.50" ||
			len(doc.Redemptions) != 1 || doc.Redemptions[0].OfferID != "welcome" || doc.Redemptions[0].Amount != "10.00" {
			t.Errorf("data request document:\n%s", reqs[0].Payload)
		}

		// customers/redact: the person goes, the amounts stay.
		h.receive(t, TopicCustomersRedact, "ev-redact", []byte(`{"shop_id":954889,"shop_domain":"`+testShop+`",
			"customer":{"id":7001,"email":"jo.buyer@gmail.com","phone":"555-625-1199"},"orders_to_redact":[1001]}`))
		h.drain(t)
		if evs := h.events(t, store.EventPending); len(evs) != 0 {
			t.Fatalf("customers/redact not processed: %+v\n%s", evs, h.logs)
		}
		o := mustGetOrder(t, st, "1001")
		if o.Email != "" || o.Phone != "" || o.AddressKey != "" || o.BrowserIP != "" || o.Total != 9550 {
			t.Errorf("order after customers/redact = %+v", o)
		}
		if data, err := st.CustomerData(ctx, testShop, customer); err != nil || data.Customer != nil {
			t.Errorf("CustomerData after redact = %+v, %v; want no customer", data.Customer, err)
		}

		// app/uninstalled: recorded; data stays.
		h.receive(t, TopicAppUninstalled, "ev-uninstalled", []byte(`{"id":954889,"myshopify_domain":"`+testShop+`","name":"Test"}`))
		h.drain(t)
		sh, err := st.GetShop(ctx, testShop)
		if err != nil {
			t.Fatalf("GetShop: %v", err)
		}
		if sh.UninstalledAt == nil {
			t.Errorf("shop not marked uninstalled: %+v", sh)
		}
		mustGetOrder(t, st, "1001")

		// shop/redact: everything of the shop goes.
		h.receive(t, TopicShopRedact, "ev-shop-redact", []byte(`{"shop_id":954889,"shop_domain":"`+testShop+`"}`))
		h.drain(t)
		if _, err := st.GetOrder(ctx, testShop, "1001"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("GetOrder after shop/redact: %v, want ErrNotFound", err)
		}
		if rs := mustRedemptions(t, st); len(rs) != 0 {
			t.Errorf("redemptions after shop/redact: %+v", rs)
		}
		if _, err := st.GetShop(ctx, testShop); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("GetShop after shop/redact: %v, want ErrNotFound", err)
		}
		// The shop/redact event went with the shop's rows: that is not an error.
		if strings.Contains(h.logs.String(), "level=ERROR") {
			t.Errorf("errors logged:\n%s", h.logs)
		}
	})
}

func TestRunWorkersStopsWithContext(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		h := newHarness(t, st)
		seedOffers(t, st)
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		done := make(chan struct{})
		go func() {
			RunWorkers(ctx, st, h.proc, 3, 10*time.Millisecond)
			close(done)
		}()
		h.receive(t, TopicOrdersCreate, "ev-1", orderBody(t, nil))
		deadline := time.Now().Add(10 * time.Second)
		for len(h.events(t, store.EventDone)) == 0 {
			if time.Now().After(deadline) {
				t.Fatal("the workers did not process the event within 10 s")
			}
			time.Sleep(5 * time.Millisecond) // polling from the test only
		}
		cancel()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Fatal("RunWorkers did not return after cancel")
		}
		mustGetOrder(t, st, "1001")
	})
}

func TestBackoff(t *testing.T) {
	tests := []struct {
		attempts int
		want     time.Duration
	}{
		{-1, time.Second}, {0, time.Second}, {1, 2 * time.Second}, {2, 4 * time.Second},
		{9, 512 * time.Second}, {10, 10 * time.Minute}, {1000, 10 * time.Minute},
	}
	for _, tt := range tests {
		if got := Backoff(tt.attempts); got != tt.want {
			t.Errorf("Backoff(%d) = %v, want %v", tt.attempts, got, tt.want)
		}
	}
}

func TestRunLogsAnUnavailableStoreOnce(t *testing.T) {
	ctx := context.Background()
	st, err := store.Open(ctx, "sqlite:"+filepath.Join(t.TempDir(), "gone.db"))
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	if err := st.Close(); err != nil { // the database goes away
		t.Fatal(err)
	}
	logs := &syncBuffer{}
	p := NewProcessor(st, nil, slog.New(slog.NewTextHandler(logs, nil)))
	wctx, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
	defer cancel()
	RunWorkers(wctx, st, p, 1, 5*time.Millisecond) // returns when wctx ends
	if got := strings.Count(logs.String(), "claim webhook events"); got != 1 {
		t.Errorf("%d log lines about failing claims, want 1:\n%s", got, logs)
	}
}
