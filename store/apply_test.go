package store

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/regularsapp/regulars/discountfn"
)

// ledgerOf is the order's ledger rows, offer ids and amounts only.
func ledgerOf(t testing.TB, s *Store, shop, orderID string) map[string]int64 {
	t.Helper()
	rs, err := s.ListRedemptions(context.Background(), shop, "")
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]int64{}
	for _, r := range rs {
		if r.OrderID == orderID {
			got[r.OfferID] = int64(r.Amount)
		}
	}
	return got
}

func redemption(offer string, amount int64, keys ...string) Redemption {
	return Redemption{OfferID: offer, Amount: discountfn.Money(amount), Day: "2026-11-22", IdentityKeys: keys}
}

func TestApplyOrderEvents(t *testing.T) {
	ctx := context.Background()
	eachDB(t, func(t *testing.T, db testDB) {
		s, _ := mustHistoryStore(t, db, "a.example", "b.example")
		for i := 1; i <= 4; i++ {
			mustEnqueue(t, s, testEvent("a.example", fmt.Sprint(i)))
		}
		claimed, err := s.ClaimEvents(ctx, 10, time.Minute)
		if err != nil || len(claimed) != 4 {
			t.Fatalf("ClaimEvents = %d, %v", len(claimed), err)
		}
		later := func(d time.Duration) func(*Order) {
			return func(o *Order) { o.UpdatedAt = o.UpdatedAt.Add(d) }
		}
		v1 := testOrder("a.example", "1", func(o *Order) {
			o.Lines = []OrderLine{{ID: "l1", Quantity: 1, Price: 100}, {ID: "l2", Quantity: 2, Price: 50}}
			o.Refunds = []Refund{{ID: "r1", Amount: 10, CreatedAt: testNow()}}
		})
		v2 := testOrder("a.example", "1", later(time.Hour), func(o *Order) {
			o.Total = 5000
			o.Lines = []OrderLine{{ID: "l3", Quantity: 3, Price: 30}}
			o.Refunds = []Refund{{ID: "r2", Amount: 20, CreatedAt: testNow()}}
		})
		other := testOrder("b.example", "1")
		applied, err := s.ApplyOrderEvents(ctx, []OrderEvent{
			// The newer version first: the older one, later in the batch, must not win.
			{EventID: claimed[0].ID, Order: v2, Redemptions: []Redemption{redemption("o2", 200, "customer:1")}},
			{EventID: claimed[1].ID, Order: v1, Redemptions: []Redemption{redemption("o1", 100, "customer:1", "email:a")}},
			{EventID: claimed[2].ID, Order: other, Redemptions: []Redemption{redemption("o1", 7)}},
			// And the other way round: the newer version later.
			{Order: testOrder("b.example", "2"), Redemptions: []Redemption{redemption("o1", 1)}},
			{Order: testOrder("b.example", "2", later(time.Minute)), Redemptions: []Redemption{redemption("o2", 2)}},
		})
		if err != nil || !reflect.DeepEqual(applied, []bool{true, false, true, false, true}) {
			t.Fatalf("ApplyOrderEvents = %v, %v; want [true false true false true]", applied, err)
		}
		if l := ledgerOf(t, s, "b.example", "2"); !reflect.DeepEqual(l, map[string]int64{"o2": 2}) {
			t.Errorf("ledger of b.example/2 = %v; want its newer version's", l)
		}
		got, err := s.GetOrder(ctx, "a.example", "1")
		if err != nil {
			t.Fatal(err)
		}
		if got.Total != 5000 || len(got.Lines) != 1 || got.Lines[0].ID != "l3" || len(got.Refunds) != 2 {
			t.Errorf("stored order = %+v; want v2 with both versions' refunds", got)
		}
		if l := ledgerOf(t, s, "a.example", "1"); !reflect.DeepEqual(l, map[string]int64{"o2": 200}) {
			t.Errorf("ledger of a.example/1 = %v; want v2's", l)
		}
		if l := ledgerOf(t, s, "b.example", "1"); !reflect.DeepEqual(l, map[string]int64{"o1": 7}) {
			t.Errorf("ledger of b.example/1 = %v", l)
		}
		done, err := s.ListEvents(ctx, "a.example", EventDone, 10)
		if err != nil || len(done) != 3 || done[0].ProcessedAt == nil {
			t.Fatalf("done events = %+v, %v; want the batch's 3", done, err)
		}

		// A late, older version changes nothing but its event, which is done.
		applied, err = s.ApplyOrderEvents(ctx, []OrderEvent{
			{EventID: claimed[3].ID, Order: v1, Redemptions: []Redemption{redemption("o1", 100)}},
		})
		if err != nil || !reflect.DeepEqual(applied, []bool{false}) {
			t.Fatalf("ApplyOrderEvents(older) = %v, %v; want [false]", applied, err)
		}
		if got, _ := s.GetOrder(ctx, "a.example", "1"); got.Total != 5000 || len(got.Lines) != 1 {
			t.Errorf("after an older version: %+v; want v2 kept", got)
		}
		if l := ledgerOf(t, s, "a.example", "1"); !reflect.DeepEqual(l, map[string]int64{"o2": 200}) {
			t.Errorf("ledger after an older version = %v; want v2's", l)
		}
		if pending, _ := s.ListEvents(ctx, "a.example", EventPending, 10); len(pending) != 0 {
			t.Errorf("pending events = %+v; want none", pending)
		}

		// A replay of the stored version (equal updated_at) is applied again; with no
		// redemptions, the ledger is emptied.
		applied, err = s.ApplyOrderEvents(ctx, []OrderEvent{{Order: v2}})
		if err != nil || !applied[0] {
			t.Fatalf("ApplyOrderEvents(replay) = %v, %v; want applied", applied, err)
		}
		if l := ledgerOf(t, s, "a.example", "1"); len(l) != 0 {
			t.Errorf("ledger after a version without redemptions = %v; want none", l)
		}
	})
}

func TestApplyOrderEventsIsAllOrNothing(t *testing.T) {
	ctx := context.Background()
	eachDB(t, func(t *testing.T, db testDB) {
		s, _ := mustHistoryStore(t, db, "a.example")
		mustEnqueue(t, s, testEvent("a.example", "1"))
		claimed, err := s.ClaimEvents(ctx, 1, time.Minute)
		if err != nil || len(claimed) != 1 {
			t.Fatalf("ClaimEvents = %d, %v", len(claimed), err)
		}
		_, err = s.ApplyOrderEvents(ctx, []OrderEvent{
			{EventID: claimed[0].ID, Order: testOrder("a.example", "1"), Redemptions: []Redemption{redemption("o1", 1)}},
			{Order: testOrder("missing.example", "2")},
		})
		if !errors.Is(err, ErrNotFound) {
			t.Fatalf("ApplyOrderEvents with a missing shop = %v; want ErrNotFound", err)
		}
		if _, err := s.GetOrder(ctx, "a.example", "1"); !errors.Is(err, ErrNotFound) {
			t.Errorf("GetOrder after a failed batch: %v; want ErrNotFound (nothing written)", err)
		}
		if l := ledgerOf(t, s, "a.example", "1"); len(l) != 0 {
			t.Errorf("ledger after a failed batch = %v; want none", l)
		}
		if pending, _ := s.ListEvents(ctx, "a.example", EventPending, 10); len(pending) != 1 {
			t.Errorf("pending events after a failed batch = %d; want 1", len(pending))
		}
		for _, bad := range [][]OrderEvent{
			{{Order: testOrder("a.example", "")}},
			{{Order: testOrder("a.example", "1"), Redemptions: []Redemption{redemption("o1", 1), redemption("o1", 2)}}},
			{{Order: testOrder("a.example", "1", func(o *Order) { o.Refunds = []Refund{{Amount: 1}} })}},
		} {
			if _, err := s.ApplyOrderEvents(ctx, bad); !errors.Is(err, ErrInvalid) {
				t.Errorf("ApplyOrderEvents(%+v) = %v; want ErrInvalid", bad, err)
			}
		}
	})
}

// Versions of the same orders applied at once by several writers (two processes) leave each
// order at its newest version, with that version's ledger.
func TestApplyOrderEventsConcurrently(t *testing.T) {
	ctx := context.Background()
	eachDB(t, func(t *testing.T, db testDB) {
		s, _ := mustHistoryStore(t, db, "a.example")
		writers := []*Store{s, mustOpen(t, db)}
		const orders, versions = 20, 6
		version := func(id, v int) OrderEvent {
			o := testOrder("a.example", fmt.Sprint(id), func(o *Order) {
				o.UpdatedAt = o.UpdatedAt.Add(time.Duration(v) * time.Minute)
				o.Total = discountfn.Money(1000 + v)
				o.Lines = []OrderLine{{ID: fmt.Sprint("l", v), Quantity: v + 1, Price: 10}}
			})
			rs := []Redemption{redemption(fmt.Sprint("o", v), int64(v), "customer:1", fmt.Sprint("email:", v))}
			if v%2 == 1 {
				rs = append(rs, redemption("shared", int64(v), "customer:1"))
			}
			return OrderEvent{Order: o, Redemptions: rs}
		}
		var wg sync.WaitGroup
		errs := make(chan error, 64)
		for w, ws := range writers {
			for g := range 2 {
				wg.Go(func() {
					// Each goroutine applies every version, in its own order, in batches
					// that mix orders.
					for round := range versions {
						v := (round + w*2 + g*3) % versions
						var batch []OrderEvent
						for id := range orders {
							batch = append(batch, version(id, v))
						}
						if _, err := ws.ApplyOrderEvents(ctx, batch); err != nil {
							errs <- err
							return
						}
					}
				})
			}
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatalf("concurrent ApplyOrderEvents: %v", err)
		}
		newest := version(0, versions-1)
		for id := range orders {
			o, err := s.GetOrder(ctx, "a.example", fmt.Sprint(id))
			if err != nil {
				t.Fatal(err)
			}
			if o.Total != newest.Order.Total || len(o.Lines) != 1 || o.Lines[0].ID != newest.Order.Lines[0].ID {
				t.Errorf("order %d = total %d, lines %+v; want the newest version", id, o.Total, o.Lines)
			}
			want := map[string]int64{}
			for _, r := range newest.Redemptions {
				want[r.OfferID] = int64(r.Amount)
			}
			if l := ledgerOf(t, s, "a.example", fmt.Sprint(id)); !reflect.DeepEqual(l, want) {
				t.Errorf("order %d ledger = %v; want the newest version's %v", id, l, want)
			}
		}
	})
}

func TestLookupCodes(t *testing.T) {
	ctx := context.Background()
	eachDB(t, func(t *testing.T, db testDB) {
		s, _ := mustHistoryStore(t, db, "a.example", "b.example")
		for _, shop := range []string{"a.example", "b.example"} {
			if _, err := s.SaveOffer(ctx, shop, "o1", "active", []byte(`{}`), 0); err != nil {
				t.Fatal(err)
			}
		}
		if err := s.AddCodes(ctx, "a.example", "o1", []CodeRow{{Code: "spring-1"}, {Code: "SPRING-2"}}); err != nil {
			t.Fatal(err)
		}
		if err := s.AddCodes(ctx, "b.example", "o1", []CodeRow{{Code: "OTHER"}}); err != nil {
			t.Fatal(err)
		}
		got, err := s.LookupCodes(ctx, "a.example", []string{" Spring-1 ", "spring-2", "SPRING-1", "other", "nope", ""})
		if err != nil {
			t.Fatal(err)
		}
		if want := map[string]string{"SPRING-1": "o1", "SPRING-2": "o1"}; !reflect.DeepEqual(got, want) {
			t.Errorf("LookupCodes = %v; want %v", got, want)
		}
		if got, err := s.LookupCodes(ctx, "a.example", nil); err != nil || len(got) != 0 {
			t.Errorf("LookupCodes(nil) = %v, %v; want empty", got, err)
		}
	})
}
