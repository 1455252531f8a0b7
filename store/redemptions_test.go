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

func TestRecordRedemptionsExactly(t *testing.T) {
	ctx := context.Background()
	eachDB(t, func(t *testing.T, db testDB) {
		s, _ := mustHistoryStore(t, db, "a.example", "b.example")
		placed := testNow().Add(-time.Hour)
		r := func(offer string, amount int64, keys ...string) Redemption {
			return Redemption{OfferID: offer, Code: "CODE-" + offer, Amount: discountfn.Money(amount), OrderTotal: 9000,
				PlacedAt: placed, Day: "2026-11-23", IdentityKeys: keys}
		}
		list := func(offer string) []Redemption {
			t.Helper()
			rs, err := s.ListRedemptions(ctx, "a.example", offer)
			if err != nil {
				t.Fatal(err)
			}
			return rs
		}

		mustRecord(t, s, "a.example", "7", r("o1", 100, "customer:c1", "email:e1"), r("o2", 200, "customer:c1"))
		// The order is updated: o1 is gone, o2 changed, o3 added, keys rewritten.
		mustRecord(t, s, "a.example", "7", r("o2", 250, "email:e1", "email:e1"), r("o3", 300))
		// A replay changes nothing.
		mustRecord(t, s, "a.example", "7", r("o2", 250, "email:e1"), r("o3", 300))
		mustRecord(t, s, "a.example", "8", r("o2", 50, "customer:c2"))
		mustRecord(t, s, "b.example", "7", r("o1", 1))

		want := []Redemption{
			{Shop: "a.example", OrderID: "7", OfferID: "o2", Code: "CODE-o2", Amount: 250, OrderTotal: 9000,
				PlacedAt: placed, Day: "2026-11-23", IdentityKeys: []string{"email:e1"}},
			{Shop: "a.example", OrderID: "7", OfferID: "o3", Code: "CODE-o3", Amount: 300, OrderTotal: 9000,
				PlacedAt: placed, Day: "2026-11-23"},
			{Shop: "a.example", OrderID: "8", OfferID: "o2", Code: "CODE-o2", Amount: 50, OrderTotal: 9000,
				PlacedAt: placed, Day: "2026-11-23", IdentityKeys: []string{"customer:c2"}},
		}
		if got := list(""); !reflect.DeepEqual(got, want) {
			t.Errorf("ListRedemptions(all) =\n%+v\nwant\n%+v", got, want)
		}
		if got := list("o2"); !reflect.DeepEqual(got, []Redemption{want[0], want[2]}) {
			t.Errorf("ListRedemptions(o2) = %+v; want orders 7 and 8", got)
		}
		if got := list("o1"); len(got) != 0 {
			t.Errorf("ListRedemptions(o1) = %+v; want none (order 7 no longer redeems it)", got)
		}

		// Releasing and unreleasing keeps the rows.
		if err := s.ReleaseRedemptions(ctx, "a.example", "7", true); err != nil {
			t.Fatal(err)
		}
		for _, r := range list("") {
			if r.Released != (r.OrderID == "7") {
				t.Errorf("after releasing order 7: %+v", r)
			}
		}
		if got, err := s.ListRedemptions(ctx, "b.example", ""); err != nil || len(got) != 1 || got[0].Released {
			t.Errorf("shop b's ledger = %+v, %v; want its one row, not released", got, err)
		}
		if err := s.ReleaseRedemptions(ctx, "a.example", "7", false); err != nil {
			t.Fatal(err)
		}
		if err := s.ReleaseRedemptions(ctx, "a.example", "no-such-order", true); err != nil {
			t.Errorf("ReleaseRedemptions of an order without rows = %v; want nil", err)
		}

		// An order that no longer redeems anything has no rows.
		mustRecord(t, s, "a.example", "7")
		if got := list(""); len(got) != 1 || got[0].OrderID != "8" {
			t.Errorf("after recording no redemptions for order 7: %+v; want only order 8", got)
		}

		bad := [][]Redemption{
			{r("o1", 1), r("o1", 2)},
			{{OrderID: "7"}},
			{{OfferID: "o1", OrderID: "other"}},
			{{OfferID: "o1", Shop: "b.example"}},
		}
		for _, rs := range bad {
			if err := s.RecordRedemptions(ctx, "a.example", "7", rs); !errors.Is(err, ErrInvalid) {
				t.Errorf("RecordRedemptions(%+v) = %v; want ErrInvalid", rs, err)
			}
		}
		if err := s.RecordRedemptions(ctx, "missing.example", "7", []Redemption{r("o1", 1)}); !errors.Is(err, ErrNotFound) {
			t.Errorf("RecordRedemptions for a missing shop = %v; want ErrNotFound", err)
		}
	})
}

func TestRecordRedemptionsFillsTheShopLocalDay(t *testing.T) {
	ctx := context.Background()
	eachDB(t, func(t *testing.T, db testDB) {
		s, _ := mustHistoryStore(t, db, "a.example") // Europe/Paris, UTC+1 in November
		late := time.Date(2026, 11, 23, 23, 30, 0, 0, time.UTC)
		mustRecord(t, s, "a.example", "7", Redemption{OfferID: "o1", PlacedAt: late})
		rs, err := s.ListRedemptions(ctx, "a.example", "o1")
		if err != nil || len(rs) != 1 || rs[0].Day != "2026-11-24" {
			t.Errorf("ListRedemptions = %+v, %v; want the Paris date 2026-11-24", rs, err)
		}
	})
}

// TestRecordRedemptionsConcurrently: two workers (each with its own Store, as two processes)
// record two versions of one order's ledger at once, again and again. Each call must succeed,
// and the ledger must end as exactly one of the versions.
func TestRecordRedemptionsConcurrently(t *testing.T) {
	ctx := context.Background()
	eachDB(t, func(t *testing.T, db testDB) {
		s, _ := mustHistoryStore(t, db, "a.example")
		workers := []*Store{s, mustOpen(t, db)}
		versions := [][]Redemption{
			{{OfferID: "o1", Amount: 1, Day: "2026-11-23", IdentityKeys: []string{"customer:1", "email:a"}}},
			{{OfferID: "o1", Amount: 2, Day: "2026-11-23", IdentityKeys: []string{"customer:1"}},
				{OfferID: "o2", Amount: 3, Day: "2026-11-23", IdentityKeys: []string{"email:a"}}},
		}
		const rounds = 30
		errs := make(chan error, len(workers)*rounds)
		var wg sync.WaitGroup
		for w, ws := range workers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := range rounds {
					errs <- ws.RecordRedemptions(ctx, "a.example", fmt.Sprint(i), versions[w])
				}
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Fatalf("concurrent RecordRedemptions: %v", err)
			}
		}
		for i := range rounds {
			rs, err := s.ListRedemptions(ctx, "a.example", "")
			if err != nil {
				t.Fatal(err)
			}
			var got []Redemption
			for _, r := range rs {
				if r.OrderID == fmt.Sprint(i) {
					r.Shop, r.OrderID, r.PlacedAt = "", "", time.Time{}
					got = append(got, r)
				}
			}
			if !reflect.DeepEqual(got, versions[0]) && !reflect.DeepEqual(got, versions[1]) {
				t.Errorf("order %d ledger = %+v; want exactly one of the versions", i, got)
			}
		}
	})
}
