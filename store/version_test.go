package store

import (
	"context"
	"errors"
	"testing"
	"time"
)

func TestOfferSetVersion(t *testing.T) {
	ctx := context.Background()
	eachDB(t, func(t *testing.T, db testDB) {
		s, clock := mustHistoryStore(t, db, "a.example", "b.example")
		if s.Dialect() != db.dialect {
			t.Errorf("Dialect = %q; want %q", s.Dialect(), db.dialect)
		}
		// A checkout caches the version it compiled at: every change must give another one.
		last := ""
		check := func(step string, wantChange bool) {
			t.Helper()
			v, err := s.OfferSetVersion(ctx, "a.example")
			if err != nil {
				t.Fatalf("%s: OfferSetVersion: %v", step, err)
			}
			if changed := v != last; changed != wantChange {
				t.Errorf("%s: version %q, was %q; want changed %v", step, v, last, wantChange)
			}
			last = v
		}
		check("start", true)
		check("nothing changed", false)
		o := mustOffer(t, s, "a.example", "o1")
		check("offer created", true)
		// Changes stamped at the same instant are still seen.
		if _, err := s.SaveOffer(ctx, "a.example", "o1", "paused", []byte(`{}`), o.Version); err != nil {
			t.Fatal(err)
		}
		check("offer saved", true)
		if err := s.DeleteOffer(ctx, "a.example", "o1"); err != nil {
			t.Fatal(err)
		}
		check("offer deleted", true)
		clock.Add(time.Second)
		if _, err := s.SaveSegment(ctx, "a.example", "vip", 1, []byte(`{}`)); err != nil {
			t.Fatal(err)
		}
		check("segment created", true)
		clock.Add(time.Second)
		if _, err := s.SaveSegment(ctx, "a.example", "vip", 2, []byte(`{}`)); err != nil {
			t.Fatal(err)
		}
		check("segment saved", true)
		if err := s.DeleteSegment(ctx, "a.example", "vip"); err != nil {
			t.Fatal(err)
		}
		check("segment deleted", true)
		clock.Add(time.Second)
		if err := s.SaveSettings(ctx, "a.example", DefaultShopSettings()); err != nil {
			t.Fatal(err)
		}
		check("settings saved", true)
		clock.Add(time.Second)
		if err := s.MarkUninstalled(ctx, "a.example", time.Time{}); err != nil {
			t.Fatal(err)
		}
		check("uninstalled", true)
		// Another shop's changes are not this shop's.
		mustOffer(t, s, "b.example", "o1")
		check("other shop's offer", false)

		if _, err := s.OfferSetVersion(ctx, "missing.example"); !errors.Is(err, ErrNotFound) {
			t.Errorf("OfferSetVersion of a missing shop = %v; want ErrNotFound", err)
		}
	})
}
