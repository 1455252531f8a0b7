package store

import (
	"context"
	"fmt"
	"maps"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/regularsapp/regulars/discountfn"
)

// ledgerUsage counts the shop's ledger rows that are not released, per offer: what the
// counters must say.
func ledgerUsage(t *testing.T, s *Store, shop string) map[string]int {
	t.Helper()
	var rows []struct {
		OfferID string `gorm:"column:offer_id"`
		N       int    `gorm:"column:n"`
	}
	err := s.db.Raw(`SELECT offer_id, COUNT(*) AS n FROM redemptions WHERE shop = ? AND released = ? GROUP BY offer_id`,
		shop, false).Scan(&rows).Error
	if err != nil {
		t.Fatal(err)
	}
	counts := map[string]int{}
	for _, r := range rows {
		counts[r.OfferID] = r.N
	}
	return counts
}

func counterUsage(t *testing.T, s *Store, shop string) map[string]int {
	t.Helper()
	got, err := offerUsageTotals(s.db, shop)
	if err != nil {
		t.Fatal(err)
	}
	return got
}

// TestOfferUsageCountersFollowTheLedger drives the ledger's writers with random operations
// and, after each, compares the counters (and the totals Facts reports) with a count of the
// ledger.
func TestOfferUsageCountersFollowTheLedger(t *testing.T) {
	ctx := context.Background()
	eachDB(t, func(t *testing.T, db testDB) {
		s, _ := mustHistoryStore(t, db, "a.example", "b.example")
		rng := rand.New(rand.NewPCG(7, 11))
		offers := []string{"o1", "o2", "o3", "o4"}
		redemptions := func(shop string) []Redemption {
			var rs []Redemption
			for _, offer := range offers {
				if rng.IntN(3) == 0 {
					rs = append(rs, Redemption{OfferID: offer, Amount: 100, OrderTotal: 1000,
						PlacedAt: testNow(), Released: rng.IntN(5) == 0, IdentityKeys: []string{"email:" + shop}})
				}
			}
			return rs
		}
		version := map[string]time.Time{}
		for step := range 120 {
			shop := []string{"a.example", "b.example"}[rng.IntN(2)]
			order := fmt.Sprint(rng.IntN(12))
			var op string
			switch rng.IntN(4) {
			case 0, 1: // a new order or a newer version of one, alone or in a batch
				var batch []OrderEvent
				for range 1 + rng.IntN(3) {
					id := fmt.Sprint(rng.IntN(12))
					key := shop + "/" + id
					version[key] = version[key].Add(time.Minute)
					if version[key].Before(testNow()) {
						version[key] = testNow()
					}
					o := testOrder(shop, id, func(o *Order) { o.UpdatedAt = version[key] })
					batch = append(batch, OrderEvent{Order: o, Redemptions: redemptions(shop)})
				}
				op = fmt.Sprintf("apply %d order events", len(batch))
				if _, err := s.ApplyOrderEvents(ctx, batch); err != nil {
					t.Fatalf("step %d: %v", step, err)
				}
			case 2:
				op = "record order " + order
				if err := s.RecordRedemptions(ctx, shop, order, redemptions(shop)); err != nil {
					t.Fatalf("step %d: %v", step, err)
				}
			case 3:
				released := rng.IntN(2) == 0
				op = fmt.Sprintf("release order %s: %v", order, released)
				if err := s.ReleaseRedemptions(ctx, shop, order, released); err != nil {
					t.Fatalf("step %d: %v", step, err)
				}
			}
			for _, sh := range []string{"a.example", "b.example"} {
				want := ledgerUsage(t, s, sh)
				if got := counterUsage(t, s, sh); !maps.Equal(got, want) {
					t.Fatalf("step %d (%s on %s): counters of %s = %v; the ledger counts %v", step, op, shop, sh, got, want)
				}
				facts := mustFacts(t, s, sh, discountfn.Buyer{Email: "nobody@example.com"})
				for offer, n := range want {
					if facts.Usage.Offers[offer].Total != n {
						t.Fatalf("step %d: Facts total of %s on %s = %d; want %d", step, offer, sh, facts.Usage.Offers[offer].Total, n)
					}
				}
				if len(facts.Usage.Offers) != len(want) {
					t.Fatalf("step %d: Facts has usage of %d offers on %s; want %d", step, len(facts.Usage.Offers), sh, len(want))
				}
			}
		}
	})
}

// TestOfferUsageMigrationCountsTheExistingLedger replays the step on a database whose ledger
// predates it: the counters start from the ledger as it is.
func TestOfferUsageMigrationCountsTheExistingLedger(t *testing.T) {
	eachDB(t, func(t *testing.T, db testDB) {
		s, _ := mustHistoryStore(t, db, "a.example", "b.example")
		r := func(offer string, released bool) Redemption {
			return Redemption{OfferID: offer, Amount: 100, OrderTotal: 1000, PlacedAt: testNow(), Released: released}
		}
		mustRecord(t, s, "a.example", "1", r("o1", false), r("o2", true))
		mustRecord(t, s, "a.example", "2", r("o1", false))
		mustRecord(t, s, "b.example", "1", r("o1", false), r("o3", false))
		rerunMigration(t, s, "0011_offer_usage", "offer_usage")
		for shop, want := range map[string]map[string]int{
			"a.example": {"o1": 2},
			"b.example": {"o1": 1, "o3": 1},
		} {
			if got := counterUsage(t, s, shop); !maps.Equal(got, want) {
				t.Errorf("after the migration, counters of %s = %v; want %v", shop, got, want)
			}
		}
	})
}

// rerunMigration drops the tables a migration step created, forgets the step and migrates
// again: the step then runs on the data as it is, as on a database that predates it.
func rerunMigration(t *testing.T, s *Store, version string, tables ...string) {
	t.Helper()
	for _, table := range tables {
		if err := s.db.Exec(`DROP TABLE ` + table).Error; err != nil {
			t.Fatal(err)
		}
	}
	if err := s.db.Exec(`DELETE FROM schema_migrations WHERE version = ?`, version).Error; err != nil {
		t.Fatal(err)
	}
	if err := s.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
}
