package store

import (
	"context"
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/regularsapp/regulars/discountfn"
)

// The reference: the figures computed straight from the orders and the ledger, as analytics.go
// did before the rollups (one query for the uses with their orders, one anti-join for the
// orders without offers, and the whole counted history of every redeeming customer).

type refUse struct {
	OfferID    string    `gorm:"column:offer_id"`
	OrderID    string    `gorm:"column:order_id"`
	Amount     int64     `gorm:"column:amount"`
	Total      int64     `gorm:"column:total"`
	PlacedAt   time.Time `gorm:"column:placed_at"`
	CustomerID string    `gorm:"column:customer_id"`
	Email      string    `gorm:"column:email"`
}

func refUses(t *testing.T, db *gorm.DB, shop string, offerIDs []string, from, to time.Time) []refUse {
	t.Helper()
	var uses []refUse
	if len(offerIDs) == 0 {
		return nil
	}
	err := db.Raw(`SELECT r.offer_id, r.order_id, r.amount, o.total, o.placed_at, o.customer_id, o.email
		FROM redemptions r JOIN orders o ON o.shop = r.shop AND o.id = r.order_id
		WHERE r.shop = ? AND r.offer_id IN ? AND r.placed_at >= ? AND r.placed_at < ?
			AND r.released = ? AND o.test = ? AND o.cancelled_at IS NULL`,
		shop, offerIDs, utc(from), utc(to), false, false).Scan(&uses).Error
	if err != nil {
		t.Fatal(err)
	}
	return uses
}

type refOrder struct {
	ID         string    `gorm:"column:id"`
	CustomerID string    `gorm:"column:customer_id"`
	Email      string    `gorm:"column:email"`
	PlacedAt   time.Time `gorm:"column:placed_at"`
}

// refHistories are the counted orders of every customer of the shop, oldest first (then by id).
func refHistories(t *testing.T, db *gorm.DB, shop string) map[string][]refOrder {
	t.Helper()
	var rows []refOrder
	err := db.Raw(`SELECT id, customer_id, email, placed_at FROM orders WHERE shop = ? AND test = ? AND cancelled_at IS NULL`,
		shop, false).Scan(&rows).Error
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]refOrder{}
	for _, r := range rows {
		if k := customerKey(r.CustomerID, r.Email); k != "" {
			out[k] = append(out[k], r)
		}
	}
	for _, list := range out {
		slices.SortFunc(list, func(a, b refOrder) int {
			if c := a.PlacedAt.Compare(b.PlacedAt); c != 0 {
				return c
			}
			return compareStrings(a.ID, b.ID)
		})
	}
	return out
}

func refStats(t *testing.T, db *gorm.DB, shop string, groups []CampaignOffers, from, to time.Time, repeatWithinDays int) []Stats {
	t.Helper()
	var all []string
	for _, g := range groups {
		all = append(all, g.OfferIDs...)
	}
	uses := refUses(t, db, shop, all, from, to)
	var without struct {
		N   int   `gorm:"column:n"`
		Sum int64 `gorm:"column:total"`
	}
	err := db.Raw(`SELECT COUNT(*) AS n, CAST(COALESCE(SUM(o.total), 0) AS BIGINT) AS total FROM orders o
		WHERE o.shop = ? AND o.placed_at >= ? AND o.placed_at < ? AND o.test = ? AND o.cancelled_at IS NULL
			AND NOT EXISTS (SELECT 1 FROM redemptions r WHERE r.shop = o.shop AND r.order_id = o.id AND r.released = ?)`,
		shop, utc(from), utc(to), false, false).Scan(&without).Error
	if err != nil {
		t.Fatal(err)
	}
	histories := refHistories(t, db, shop)
	window := time.Duration(repeatWithinDays) * 24 * time.Hour
	out := make([]Stats, len(groups))
	for gi, g := range groups {
		st := Stats{AOVWithout: roundedAverage(without.Sum, without.N), OrdersWithout: without.N}
		orders := map[string]bool{}
		byCustomer := map[string][]refUse{}
		for _, u := range uses {
			if !slices.Contains(g.OfferIDs, u.OfferID) {
				continue
			}
			st.Uses++
			st.Discount += discountfn.Money(u.Amount)
			if orders[u.OrderID] {
				continue
			}
			orders[u.OrderID] = true
			st.Orders++
			st.Revenue += discountfn.Money(u.Total)
			if k := customerKey(u.CustomerID, u.Email); k != "" {
				byCustomer[k] = append(byCustomer[k], u)
			}
		}
		st.AOVWith = roundedAverage(int64(st.Revenue), st.Orders)
		st.Customers = len(byCustomer)
		for k, us := range byCustomer {
			history := histories[k]
			if slices.ContainsFunc(us, func(u refUse) bool { return u.OrderID == history[0].ID }) {
				st.New++
			}
			if slices.ContainsFunc(us, func(u refUse) bool {
				return slices.ContainsFunc(history, func(o refOrder) bool {
					return o.ID != u.OrderID && o.PlacedAt.After(u.PlacedAt) && !o.PlacedAt.After(u.PlacedAt.Add(window))
				})
			}) {
				st.RepeatCustomers++
			}
		}
		st.Returning = st.Customers - st.New
		if st.Customers > 0 {
			st.RepeatRate = float64(st.RepeatCustomers) / float64(st.Customers)
		}
		out[gi] = st
	}
	return out
}

func refDailySeries(t *testing.T, db *gorm.DB, shop, offerID string, from, to time.Time, loc *time.Location) []DayStat {
	t.Helper()
	var days []DayStat
	index := map[string]int{}
	if to.After(from) {
		first := from.In(loc)
		last := to.Add(-time.Nanosecond).In(loc).Format(time.DateOnly)
		for d := time.Date(first.Year(), first.Month(), first.Day(), 12, 0, 0, 0, loc); ; d = d.AddDate(0, 0, 1) {
			day := d.Format(time.DateOnly)
			index[day] = len(days)
			days = append(days, DayStat{Day: day})
			if day >= last {
				break
			}
		}
	}
	for _, u := range refUses(t, db, shop, []string{offerID}, from, to) {
		if i, ok := index[u.PlacedAt.In(loc).Format(time.DateOnly)]; ok {
			days[i].Uses++
			days[i].Discount += discountfn.Money(u.Amount)
			days[i].Revenue += discountfn.Money(u.Total)
		}
	}
	return days
}

// rollupWorld makes random orders and ledgers of a few customers, guests and offers, in a
// few weeks with many ties (orders placed at the same instant, ledger rows dated apart from
// their orders), and random windows over them.
type rollupWorld struct {
	rng     *rand.Rand
	start   time.Time
	offers  []string
	version map[string]time.Time
}

func (w *rollupWorld) placed() time.Time {
	t := w.start.Add(time.Duration(w.rng.IntN(20*48)) * 30 * time.Minute) // ties on the half hour
	if w.rng.IntN(4) == 0 {
		t = t.Add(time.Duration(w.rng.IntN(1800_000_000)) * time.Microsecond)
	}
	return t
}

func (w *rollupWorld) order(shop, id string) Order {
	key := shop + "/" + id
	w.version[key] = w.version[key].Add(time.Minute)
	if w.version[key].Before(w.start) {
		w.version[key] = w.start
	}
	o := Order{Shop: shop, ID: id, PlacedAt: w.placed(), UpdatedAt: w.version[key], Currency: "EUR",
		Total: discountfn.Money(500 + w.rng.IntN(20)*250)}
	switch n := w.rng.IntN(10); {
	case n < 6:
		o.CustomerID, o.Email = fmt.Sprintf("gid://shopify/Customer/%d", w.rng.IntN(6)), fmt.Sprintf("c%d@example.com", w.rng.IntN(8))
	case n < 9:
		o.Email = fmt.Sprintf("guest%d@example.com", w.rng.IntN(3))
	}
	if w.rng.IntN(12) == 0 {
		o.Test = true
	}
	if w.rng.IntN(8) == 0 {
		at := o.PlacedAt.Add(time.Hour)
		o.CancelledAt = &at
	}
	return o
}

func (w *rollupWorld) redemptions(o Order) []Redemption {
	var rs []Redemption
	for _, offer := range w.offers {
		if w.rng.IntN(4) != 0 {
			continue
		}
		placed := o.PlacedAt
		if w.rng.IntN(6) == 0 {
			placed = placed.Add(time.Duration(w.rng.IntN(72)-36) * time.Hour)
		}
		rs = append(rs, Redemption{OfferID: offer, Code: "C-" + offer, Amount: discountfn.Money(50 + w.rng.IntN(10)*25),
			OrderTotal: o.Total, PlacedAt: placed, Released: w.rng.IntN(6) == 0})
	}
	return rs
}

// window is a random window: shop-local days, or instants on the minute, or anywhere (to the
// nanosecond).
func (w *rollupWorld) window(loc *time.Location) (time.Time, time.Time) {
	switch w.rng.IntN(3) {
	case 0:
		from := time.Date(2026, 11, 1+w.rng.IntN(22), 0, 0, 0, 0, loc)
		return from, from.AddDate(0, 0, w.rng.IntN(10))
	case 1:
		from := w.start.Add(time.Duration(w.rng.IntN(20*24*60)-600) * time.Minute)
		return from, from.Add(time.Duration(w.rng.IntN(8*24*60)) * time.Minute)
	}
	from := w.start.Add(time.Duration(w.rng.Int64N(int64(20 * 24 * time.Hour))))
	return from, from.Add(time.Duration(w.rng.Int64N(int64(6 * 24 * time.Hour))))
}

// checkFigures compares OfferStats, CampaignStats and DailySeries with the reference on a few
// random windows.
func checkFigures(t *testing.T, s *Store, w *rollupWorld, shop string, loc *time.Location, step string) {
	t.Helper()
	ctx := context.Background()
	for range 3 {
		from, to := w.window(loc)
		repeat := w.rng.IntN(8)
		ids := append(slices.Clone(w.offers), "nope")
		got, err := s.OfferStats(ctx, shop, ids, from, to, loc, repeat)
		if err != nil {
			t.Fatal(err)
		}
		groups := make([]CampaignOffers, len(ids))
		for i, id := range ids {
			groups[i] = CampaignOffers{Campaign: id, OfferIDs: []string{id}}
		}
		want := refStats(t, s.db, shop, groups, from, to, repeat)
		for i := range ids {
			if !reflect.DeepEqual(got[i].Stats, want[i]) {
				t.Fatalf("%s: OfferStats(%s, %s .. %s, %d days) =\n%+v\nrecomputed\n%+v", step, ids[i], from, to, repeat, got[i].Stats, want[i])
			}
		}
		campaigns := []CampaignOffers{{Campaign: "all", OfferIDs: w.offers}, {Campaign: "two", OfferIDs: []string{w.offers[0], w.offers[2], w.offers[0]}}}
		gotC, err := s.CampaignStats(ctx, shop, campaigns, from, to, loc, repeat)
		if err != nil {
			t.Fatal(err)
		}
		for i, c := range refStats(t, s.db, shop, campaigns, from, to, repeat) {
			if !reflect.DeepEqual(gotC[i].Stats, c) {
				t.Fatalf("%s: CampaignStats(%s, %s .. %s, %d days) =\n%+v\nrecomputed\n%+v", step, campaigns[i].Campaign, from, to, repeat, gotC[i].Stats, c)
			}
		}
		offer := w.offers[w.rng.IntN(len(w.offers))]
		days, err := s.DailySeries(ctx, shop, offer, from, to, loc)
		if err != nil {
			t.Fatal(err)
		}
		if want := refDailySeries(t, s.db, shop, offer, from, to, loc); !reflect.DeepEqual(days, want) {
			t.Fatalf("%s: DailySeries(%s, %s .. %s) =\n%+v\nrecomputed\n%+v", step, offer, from, to, days, want)
		}
	}
}

// rollupRows reads a rollup table's rows of a shop, as sorted text.
func rollupRows(t *testing.T, s *Store, table, shop string) []string {
	t.Helper()
	var rows []map[string]any
	if err := s.db.Table(table).Where("shop = ?", shop).Find(&rows).Error; err != nil {
		t.Fatal(err)
	}
	out := make([]string, len(rows))
	for i, r := range rows {
		for k, v := range r {
			if tm, ok := v.(time.Time); ok {
				r[k] = tm.UTC()
			}
		}
		out[i] = fmt.Sprint(r)
	}
	slices.Sort(out)
	return out
}

// TestRollupsMatchRecomputation drives every writer of orders and ledgers with random
// operations and, after each, compares the figures with a recomputation from the orders and
// the ledger; then it checks that migration 0012 (from the data as it is) and BulkLoad (the
// same shop loaded anew) build the same rollups.
func TestRollupsMatchRecomputation(t *testing.T) {
	ctx := context.Background()
	for _, tz := range []string{"UTC", "Asia/Kolkata", "America/New_York", "Asia/Kathmandu"} {
		t.Run(tz, func(t *testing.T) {
			eachDB(t, func(t *testing.T, db testDB) {
				s := mustOpenMigrated(t, db)
				loc, err := time.LoadLocation(tz)
				if err != nil {
					t.Fatal(err)
				}
				for _, shop := range []string{"r.example", "other.example"} {
					if _, err := s.UpsertShop(ctx, Shop{Domain: shop, Currency: "EUR", Timezone: tz}); err != nil {
						t.Fatal(err)
					}
				}
				w := &rollupWorld{rng: rand.New(rand.NewPCG(uint64(len(tz)), 5)), start: time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC),
					offers: []string{"A", "B", "C", "D"}, version: map[string]time.Time{}}
				const shop = "r.example"
				for step := range 70 {
					var op string
					target := shop
					if w.rng.IntN(5) == 0 {
						target = "other.example" // the same ids in another shop change nothing here
					}
					id := fmt.Sprint(w.rng.IntN(25))
					switch n := w.rng.IntN(20); {
					case n < 10:
						var batch []OrderEvent
						for range 1 + w.rng.IntN(4) {
							o := w.order(target, fmt.Sprint(w.rng.IntN(25)))
							batch = append(batch, OrderEvent{Order: o, Redemptions: w.redemptions(o)})
						}
						op = fmt.Sprintf("apply %d order events", len(batch))
						_, err = s.ApplyOrderEvents(ctx, batch)
					case n < 13:
						op = "upsert order " + id
						_, err = s.UpsertOrder(ctx, w.order(target, id))
					case n < 16:
						op = "record redemptions of order " + id // perhaps one not stored yet
						err = s.RecordRedemptions(ctx, target, id, w.redemptions(w.order(target, id)))
					case n < 19:
						released := w.rng.IntN(2) == 0
						op = fmt.Sprintf("release order %s: %v", id, released)
						err = s.ReleaseRedemptions(ctx, target, id, released)
					default:
						customer := fmt.Sprintf("gid://shopify/Customer/%d", w.rng.IntN(6))
						op = "redact " + customer
						err = s.RedactCustomer(ctx, target, customer, []string{id})
					}
					if err != nil {
						t.Fatalf("step %d (%s): %v", step, op, err)
					}
					checkFigures(t, s, w, shop, loc, fmt.Sprintf("step %d (%s on %s)", step, op, target))
				}

				// The migration, from the data as it is, builds what the writers kept.
				uses, hours := rollupRows(t, s, "analytics_uses", shop), rollupRows(t, s, "analytics_hours", shop)
				if len(uses) == 0 || len(hours) == 0 {
					t.Fatalf("no rollups: %d uses, %d hours", len(uses), len(hours))
				}
				rerunMigration(t, s, "0012_analytics_rollups", "analytics_uses", "analytics_hours")
				if got := rollupRows(t, s, "analytics_uses", shop); !reflect.DeepEqual(got, uses) {
					t.Errorf("uses after the migration =\n%v\nkept by the writers\n%v", got, uses)
				}
				if got := rollupRows(t, s, "analytics_hours", shop); !reflect.DeepEqual(got, hours) {
					t.Errorf("hours after the migration =\n%v\nkept by the writers\n%v", got, hours)
				}

				// The same shop bulk-loaded gives the same figures.
				orders, err := loadOrders(s.db, shop, "1 = 1")
				if err != nil {
					t.Fatal(err)
				}
				ledger, err := s.ListRedemptions(ctx, shop, "")
				if err != nil {
					t.Fatal(err)
				}
				byOrder := map[string][]Redemption{}
				for _, r := range ledger {
					r.Shop = ""
					byOrder[r.OrderID] = append(byOrder[r.OrderID], r)
				}
				const copyShop = "copy.example"
				_, err = s.BulkLoad(ctx, BulkShop{Shop: Shop{Domain: copyShop, Currency: "EUR", Timezone: tz},
					Orders: func(yield func(OrderEvent) bool) {
						for _, o := range orders {
							o.Shop = ""
							if !yield(OrderEvent{Order: o, Redemptions: byOrder[o.ID]}) {
								return
							}
						}
					}}, nil)
				if err != nil {
					t.Fatal(err)
				}
				for range 5 {
					from, to := w.window(loc)
					repeat := w.rng.IntN(8)
					a, err := s.OfferStats(ctx, shop, w.offers, from, to, loc, repeat)
					if err != nil {
						t.Fatal(err)
					}
					b, err := s.OfferStats(ctx, copyShop, w.offers, from, to, loc, repeat)
					if err != nil {
						t.Fatal(err)
					}
					if !reflect.DeepEqual(a, b) {
						t.Fatalf("bulk-loaded copy, %s .. %s: OfferStats =\n%+v\nthe shop's\n%+v", from, to, b, a)
					}
				}
				checkFigures(t, s, w, copyShop, loc, "bulk-loaded copy")
			})
		})
	}
}

// TestWithoutTotalsAtHourEdges checks the orders without offers of windows that start or end
// inside an hour, at its first and last microsecond, and inside one hour.
func TestWithoutTotalsAtHourEdges(t *testing.T) {
	ctx := context.Background()
	eachDB(t, func(t *testing.T, db testDB) {
		s := mustOpenMigrated(t, db)
		if _, err := s.UpsertShop(ctx, Shop{Domain: "h.example", Currency: "EUR", Timezone: "UTC"}); err != nil {
			t.Fatal(err)
		}
		h := time.Date(2026, 11, 2, 10, 0, 0, 0, time.UTC)
		var batch []OrderEvent
		for i, at := range []time.Time{h.Add(-time.Microsecond), h, h.Add(time.Microsecond), h.Add(30 * time.Minute),
			h.Add(time.Hour - time.Microsecond), h.Add(time.Hour), h.Add(2 * time.Hour)} {
			batch = append(batch, OrderEvent{Order: Order{Shop: "h.example", ID: fmt.Sprint(i), PlacedAt: at, UpdatedAt: at, Total: discountfn.Money(1 << i)}})
		}
		if _, err := s.ApplyOrderEvents(ctx, batch); err != nil {
			t.Fatal(err)
		}
		for _, c := range []struct{ from, to time.Time }{
			{h, h.Add(time.Hour)},
			{h.Add(time.Microsecond), h.Add(2 * time.Hour)},
			{h.Add(-time.Microsecond), h.Add(time.Hour + time.Nanosecond)},
			{h.Add(time.Nanosecond), h.Add(time.Hour - time.Nanosecond)},
			{h.Add(10 * time.Minute), h.Add(40 * time.Minute)},
			{h.Add(-time.Hour), h.Add(3 * time.Hour)},
			{h, h},
		} {
			n, sum, err := withoutTotals(s.db, "h.example", c.from, c.to)
			if err != nil {
				t.Fatal(err)
			}
			wn, wsum, err := ordersWithout(s.db, "h.example", utc(c.from), utc(c.to))
			if err != nil {
				t.Fatal(err)
			}
			if n != wn || sum != wsum {
				t.Errorf("withoutTotals(%s .. %s) = %d orders, %d; the orders say %d, %d", c.from, c.to, n, sum, wn, wsum)
			}
		}
	})
}

// TestRollupsUnderConcurrentWriters applies versions of the same orders of the same
// customers from several goroutines at once (on PostgreSQL, several transactions interleave):
// no writer deadlocks, and the rollups end as a rebuild from the data makes them.
func TestRollupsUnderConcurrentWriters(t *testing.T) {
	ctx := context.Background()
	eachDB(t, func(t *testing.T, db testDB) {
		s := mustOpenMigrated(t, db)
		const shop = "c.example"
		if _, err := s.UpsertShop(ctx, Shop{Domain: shop, Currency: "EUR", Timezone: "UTC"}); err != nil {
			t.Fatal(err)
		}
		const writers, steps = 4, 25
		errs := make(chan error, writers)
		for g := range writers {
			go func() {
				w := &rollupWorld{rng: rand.New(rand.NewPCG(uint64(g), 9)), start: time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC),
					offers: []string{"A", "B", "C"}, version: map[string]time.Time{}}
				for step := range steps {
					var err error
					id := fmt.Sprint(w.rng.IntN(15))
					switch w.rng.IntN(4) {
					case 0, 1:
						var batch []OrderEvent
						for range 1 + w.rng.IntN(5) {
							o := w.order(shop, fmt.Sprint(w.rng.IntN(15)))
							// Versions of one order from several writers: distinct, so the newest wins.
							o.UpdatedAt = o.UpdatedAt.Add(time.Duration(step*writers+g) * time.Second)
							batch = append(batch, OrderEvent{Order: o, Redemptions: w.redemptions(o)})
						}
						_, err = s.ApplyOrderEvents(ctx, batch)
					case 2:
						err = s.ReleaseRedemptions(ctx, shop, id, w.rng.IntN(2) == 0)
					default:
						err = s.RecordRedemptions(ctx, shop, id, w.redemptions(w.order(shop, id)))
					}
					if err != nil {
						errs <- fmt.Errorf("writer %d, step %d: %w", g, step, err)
						return
					}
				}
				errs <- nil
			}()
		}
		for range writers {
			if err := <-errs; err != nil {
				t.Fatal(err)
			}
		}
		uses, hours := rollupRows(t, s, "analytics_uses", shop), rollupRows(t, s, "analytics_hours", shop)
		w := &rollupWorld{rng: rand.New(rand.NewPCG(1, 2)), start: time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC),
			offers: []string{"A", "B", "C"}}
		checkFigures(t, s, w, shop, time.UTC, "after the concurrent writers")
		rerunMigration(t, s, "0012_analytics_rollups", "analytics_uses", "analytics_hours")
		if got := rollupRows(t, s, "analytics_uses", shop); !reflect.DeepEqual(got, uses) {
			t.Errorf("uses rebuilt =\n%v\nkept by the concurrent writers\n%v", got, uses)
		}
		if got := rollupRows(t, s, "analytics_hours", shop); !reflect.DeepEqual(got, hours) {
			t.Errorf("hours rebuilt =\n%v\nkept by the concurrent writers\n%v", got, hours)
		}
	})
}
