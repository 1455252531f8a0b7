package store

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"
)

func TestOrderFlags(t *testing.T) {
	ctx := context.Background()
	eachDB(t, func(t *testing.T, db testDB) {
		s, _ := mustHistoryStore(t, db, "a.example", "b.example")
		cod := func(id string, updated time.Time, offers ...string) OrderEvent {
			return OrderEvent{Order: testOrder("a.example", id, func(o *Order) {
				o.Gateways, o.UpdatedAt, o.Total = []string{"Cash on Delivery (COD)"}, updated, 4200
			}), CODOffers: offers}
		}
		t0 := testNow().Add(-time.Hour)
		// Order 1 raises a flag; order 2 none; an older version of order 3 raises none
		// because its newer version is in the same batch and carries no offers.
		applied, err := s.ApplyOrderEvents(ctx, []OrderEvent{
			cod("1", t0, "no-cod"), cod("2", t0), cod("3", t0, "no-cod"), cod("3", t0.Add(time.Minute)),
		})
		if err != nil || !slices.Equal(applied, []bool{true, true, false, true}) {
			t.Fatalf("apply = %v, %v", applied, err)
		}
		flags, err := s.ListOrderFlags(ctx, "a.example", true)
		if err != nil {
			t.Fatal(err)
		}
		if len(flags) != 1 || flags[0].OrderID != "1" || flags[0].Kind != FlagCODOffer ||
			!slices.Equal(flags[0].OfferIDs, []string{"no-cod"}) || flags[0].Total != 4200 || flags[0].TaggedAt != nil {
			t.Fatalf("flags = %+v", flags)
		}
		// A later version keeps the flag as it was; an older one is not stored at all.
		if _, err := s.ApplyOrderEvents(ctx, []OrderEvent{cod("1", t0.Add(time.Hour), "other")}); err != nil {
			t.Fatal(err)
		}
		if err := s.MarkOrderFlagTagged(ctx, "a.example", "1", FlagCODOffer); err != nil {
			t.Fatal(err)
		}
		if flags, _ = s.ListOrderFlags(ctx, "a.example", true); len(flags) != 0 {
			t.Errorf("untagged after tagging: %+v", flags)
		}
		flags, _ = s.ListOrderFlags(ctx, "a.example", false)
		if len(flags) != 1 || flags[0].TaggedAt == nil || !slices.Equal(flags[0].OfferIDs, []string{"no-cod"}) {
			t.Errorf("all flags = %+v", flags)
		}
		if flags, _ = s.ListOrderFlags(ctx, "b.example", false); len(flags) != 0 {
			t.Errorf("shop b sees %+v", flags)
		}
		if err := s.MarkOrderFlagTagged(ctx, "b.example", "1", FlagCODOffer); !errors.Is(err, ErrNotFound) {
			t.Errorf("tag another shop's flag: %v", err)
		}
	})
}
