package store_test

import (
	"context"
	"fmt"
	"os"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/regularsapp/regulars/discountfn"
	"github.com/regularsapp/regulars/store"
	"github.com/regularsapp/regulars/store/storetest"
)

// analyticsOrder is one order of the analytics fixtures and the offers it redeemed.
type analyticsOrder struct {
	id, customer, email string
	placed              time.Time
	total               int64
	cancelled, test     bool
	uses                map[string]int64 // offer id → discount amount
	released            bool
}

func day(d, hour, minute int) time.Time { return time.Date(2026, 11, d, hour, minute, 0, 0, time.UTC) }

func analyticsEvent(shop string, o analyticsOrder) store.OrderEvent {
	order := store.Order{
		Shop: shop, ID: o.id, CustomerID: o.customer, Email: o.email, PlacedAt: o.placed,
		UpdatedAt: o.placed, Currency: "EUR", Total: discountfn.Money(o.total), Test: o.test,
	}
	if o.cancelled {
		at := o.placed.Add(time.Hour)
		order.CancelledAt = &at
	}
	var rs []store.Redemption
	for offer, amount := range o.uses {
		rs = append(rs, store.Redemption{OfferID: offer, Code: "CODE-" + offer, Amount: discountfn.Money(amount),
			OrderTotal: discountfn.Money(o.total), PlacedAt: o.placed, Released: o.released})
	}
	return store.OrderEvent{Order: order, Redemptions: rs}
}

func mustAnalyticsShop(t testing.TB, st *store.Store, shop, tz string, orders ...analyticsOrder) {
	t.Helper()
	ctx := context.Background()
	if _, err := st.UpsertShop(ctx, store.Shop{Domain: shop, Currency: "EUR", Timezone: tz}); err != nil {
		t.Fatal(err)
	}
	batch := make([]store.OrderEvent, len(orders))
	for i, o := range orders {
		batch[i] = analyticsEvent(shop, o)
	}
	if _, err := st.ApplyOrderEvents(ctx, batch); err != nil {
		t.Fatal(err)
	}
}

// analyticsOrders is shop a's history; the window is 2026-11-01 to 2026-11-07 (UTC).
func analyticsOrders() []analyticsOrder {
	return []analyticsOrder{
		{id: "o0", customer: "c2", placed: time.Date(2026, 10, 15, 9, 0, 0, 0, time.UTC), total: 7000},     // before the window
		{id: "o1", customer: "c1", placed: day(2, 10, 0), total: 10000, uses: map[string]int64{"A": 1000}}, // c1's first order
		{id: "o2", customer: "c2", placed: day(3, 10, 0), total: 5000, uses: map[string]int64{"A": 500}},   // c2 returns
		{id: "o3", email: "g@example.com", placed: day(4, 10, 0), total: 8000, uses: map[string]int64{"B": 800}},
		{id: "o4", customer: "c3", placed: day(4, 12, 0), total: 4000, uses: map[string]int64{"A": 1000, "B": 400}},
		{id: "o5", customer: "c1", placed: day(10, 10, 0), total: 1500},       // c1 repeats 8 days later
		{id: "o6", email: "g@example.com", placed: day(5, 9, 0), total: 3000}, // the guest repeats
		{id: "o7", customer: "c4", placed: day(5, 10, 0), total: 6000},        // no offer
		{id: "o8", customer: "c5", placed: day(5, 11, 0), total: 9000, cancelled: true, // cancelled
			uses: map[string]int64{"A": 900}},
		{id: "o9", customer: "c6", placed: day(6, 10, 0), total: 7000, test: true, uses: map[string]int64{"A": 700}},
		{id: "o10", customer: "c7", placed: day(6, 11, 0), total: 2000, released: true, uses: map[string]int64{"A": 200}},
		{id: "o11", customer: "c8", placed: day(9, 10, 0), total: 5000, uses: map[string]int64{"A": 100}}, // after the window
	}
}

func TestOfferStats(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		mustAnalyticsShop(t, st, "a.example", "UTC", analyticsOrders()...)
		// Another shop with the same offer and order ids changes nothing of shop a's.
		mustAnalyticsShop(t, st, "b.example", "UTC",
			analyticsOrder{id: "o1", customer: "c1", placed: day(3, 0, 0), total: 99999, uses: map[string]int64{"A": 9999}},
			analyticsOrder{id: "x1", customer: "c9", placed: day(3, 0, 0), total: 99999})
		from, to := day(1, 0, 0), day(8, 0, 0)

		// Without offers: o6 3000, o7 6000, o10 2000 (its ledger row is released) → 3667.
		a := store.Stats{Uses: 3, Orders: 3, Discount: 2500, Revenue: 19000, AOVWith: 6333, AOVWithout: 3667,
			OrdersWithout: 3, Customers: 3, New: 2, Returning: 1, RepeatCustomers: 1, RepeatRate: 1.0 / 3}
		b := store.Stats{Uses: 2, Orders: 2, Discount: 1200, Revenue: 12000, AOVWith: 6000, AOVWithout: 3667,
			OrdersWithout: 3, Customers: 2, New: 2, Returning: 0, RepeatCustomers: 1, RepeatRate: 0.5}
		none := store.Stats{AOVWithout: 3667, OrdersWithout: 3}
		got, err := st.OfferStats(ctx, "a.example", []string{"A", "B", "A", "nope"}, from, to, time.UTC, 30)
		if err != nil {
			t.Fatal(err)
		}
		want := []store.OfferStat{{OfferID: "A", Stats: a}, {OfferID: "B", Stats: b}, {OfferID: "nope", Stats: none}}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("OfferStats =\n%+v\nwant\n%+v", got, want)
		}

		// Within 7 days c1's repeat (8 days later) no longer counts; the guest's (1 day) does.
		got, err = st.OfferStats(ctx, "a.example", []string{"A", "B"}, from, to, time.UTC, 7)
		if err != nil {
			t.Fatal(err)
		}
		a7, b7 := a, b
		a7.RepeatCustomers, a7.RepeatRate = 0, 0
		if want := []store.OfferStat{{OfferID: "A", Stats: a7}, {OfferID: "B", Stats: b7}}; !reflect.DeepEqual(got, want) {
			t.Errorf("OfferStats(7 days) =\n%+v\nwant\n%+v", got, want)
		}

		// A campaign of both: o4 is one order of two uses; c3 counts once.
		camps, err := st.CampaignStats(ctx, "a.example", []store.CampaignOffers{{Campaign: "fall", OfferIDs: []string{"A", "B"}}}, from, to, time.UTC, 30)
		if err != nil {
			t.Fatal(err)
		}
		wantCamp := []store.CampaignStat{{Campaign: "fall", OfferIDs: []string{"A", "B"}, Stats: store.Stats{
			Uses: 5, Orders: 4, Discount: 3700, Revenue: 27000, AOVWith: 6750, AOVWithout: 3667, OrdersWithout: 3,
			Customers: 4, New: 3, Returning: 1, RepeatCustomers: 2, RepeatRate: 0.5}}}
		if !reflect.DeepEqual(camps, wantCamp) {
			t.Errorf("CampaignStats =\n%+v\nwant\n%+v", camps, wantCamp)
		}

		// Shop b sees only its own order.
		got, err = st.OfferStats(ctx, "b.example", []string{"A"}, from, to, time.UTC, 30)
		if err != nil {
			t.Fatal(err)
		}
		wantB := []store.OfferStat{{OfferID: "A", Stats: store.Stats{Uses: 1, Orders: 1, Discount: 9999, Revenue: 99999,
			AOVWith: 99999, AOVWithout: 99999, OrdersWithout: 1, Customers: 1, New: 1}}}
		if !reflect.DeepEqual(got, wantB) {
			t.Errorf("OfferStats(shop b) =\n%+v\nwant\n%+v", got, wantB)
		}

		if _, err := st.OfferStats(ctx, "a.example", []string{"A"}, to, from, time.UTC, 30); err == nil {
			t.Error("OfferStats with to before from: no error")
		}
	})
}

func TestDailySeriesInShopTimezone(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		utcAt := func(d, h, m int) time.Time {
			return time.Date(2026, 10, 31, 0, 0, 0, 0, time.UTC).AddDate(0, 0, d).Add(time.Duration(h)*time.Hour + time.Duration(m)*time.Minute)
		}
		use := func(id string, placed time.Time, total, amount int64) analyticsOrder {
			return analyticsOrder{id: id, customer: "c-" + id, placed: placed, total: total, uses: map[string]int64{"A": amount}}
		}
		mustAnalyticsShop(t, st, "k.example", "Asia/Kolkata",
			use("k1", utcAt(0, 18, 0), 500, 50),   // 2026-10-31 23:30 in Kolkata: before the window
			use("k2", utcAt(0, 19, 0), 1000, 100), // 2026-11-01 00:30
			use("k3", utcAt(1, 18, 29), 2000, 200),
			use("k4", utcAt(1, 18, 31), 3000, 300), // 2026-11-02 00:01
			use("k5", utcAt(2, 18, 30), 4000, 400), // 2026-11-03 00:00: after the window
		)
		loc, err := time.LoadLocation("Asia/Kolkata")
		if err != nil {
			t.Fatal(err)
		}
		from := time.Date(2026, 11, 1, 0, 0, 0, 0, loc)
		got, err := st.DailySeries(ctx, "k.example", "A", from, from.AddDate(0, 0, 3), loc)
		if err != nil {
			t.Fatal(err)
		}
		want := []store.DayStat{
			{Day: "2026-11-01", Uses: 2, Discount: 300, Revenue: 3000},
			{Day: "2026-11-02", Uses: 1, Discount: 300, Revenue: 3000},
			{Day: "2026-11-03", Uses: 1, Discount: 400, Revenue: 4000},
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("DailySeries =\n%+v\nwant\n%+v", got, want)
		}
		got, err = st.DailySeries(ctx, "k.example", "A", from, from.AddDate(0, 0, 2), loc)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, want[:2]) {
			t.Errorf("DailySeries(2 days) =\n%+v\nwant\n%+v", got, want[:2])
		}
		// In UTC the same uses fall on other days.
		got, err = st.DailySeries(ctx, "k.example", "A", time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC), time.Date(2026, 11, 3, 0, 0, 0, 0, time.UTC), time.UTC)
		if err != nil {
			t.Fatal(err)
		}
		wantUTC := []store.DayStat{
			{Day: "2026-11-01", Uses: 2, Discount: 500, Revenue: 5000},
			{Day: "2026-11-02", Uses: 1, Discount: 400, Revenue: 4000},
		}
		if !reflect.DeepEqual(got, wantUTC) {
			t.Errorf("DailySeries(UTC) =\n%+v\nwant\n%+v", got, wantUTC)
		}
		// Another shop has no uses of the offer.
		mustAnalyticsShop(t, st, "other.example", "UTC")
		got, err = st.DailySeries(ctx, "other.example", "A", from, from.AddDate(0, 0, 1), loc)
		if err != nil {
			t.Fatal(err)
		}
		if want := []store.DayStat{{Day: "2026-11-01"}}; !reflect.DeepEqual(got, want) {
			t.Errorf("DailySeries(other shop) = %+v; want %+v", got, want)
		}
	})
}

// BenchmarkOfferStats measures OfferStats over a generated shop on PostgreSQL: ordersN orders
// of customersN customers over 180 days, one in ten redeeming one of offersN offers, and a
// 30-day window of all offers with a 30-day repeat window.
func BenchmarkOfferStats(b *testing.B) {
	const (
		ordersN    = 200_000
		customersN = 40_000
		offersN    = 10
		batchN     = 2_000
	)
	st := storetest.OpenMigrated(b, storetest.NewPostgresDSN(b))
	ctx := context.Background()
	if _, err := st.UpsertShop(ctx, store.Shop{Domain: "bench.example", Currency: "EUR", Timezone: "Europe/Paris"}); err != nil {
		b.Fatal(err)
	}
	start := time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC)
	step := 180 * 24 * time.Hour / ordersN
	offers := make([]string, offersN)
	for i := range offers {
		offers[i] = fmt.Sprintf("offer-%d", i)
	}
	batch := make([]store.OrderEvent, 0, batchN)
	redemptions := 0
	for i := range ordersN {
		o := analyticsOrder{
			id: fmt.Sprintf("%d", 100000+i), customer: fmt.Sprintf("%d", (i*7919)%customersN),
			placed: start.Add(time.Duration(i) * step), total: int64(2000 + (i%50)*100),
			test: i%97 == 0, cancelled: i%89 == 0,
		}
		if i%10 == 0 {
			o.uses = map[string]int64{offers[(i/10)%offersN]: 200 + int64(i%7)*10}
			redemptions++
		}
		batch = append(batch, analyticsEvent("bench.example", o))
		if len(batch) == batchN || i == ordersN-1 {
			if _, err := st.ApplyOrderEvents(ctx, batch); err != nil {
				b.Fatal(err)
			}
			batch = batch[:0]
			// As the webhook workers do after writes: the rollups' writers read orders by key,
			// which PostgreSQL plans as a scan of the shop while the table has no statistics.
			if _, err := st.RefreshPlannerStats(ctx); err != nil {
				b.Fatal(err)
			}
		}
	}
	// As the webhook workers do after writes (autovacuum may be off).
	if _, err := st.RefreshPlannerStats(ctx); err != nil {
		b.Fatal(err)
	}
	from := start.Add(150 * 24 * time.Hour)
	to := from.Add(30 * 24 * time.Hour)
	b.ResetTimer()
	for b.Loop() {
		stats, err := st.OfferStats(ctx, "bench.example", offers, from, to, time.UTC, 30)
		if err != nil {
			b.Fatal(err)
		}
		if stats[0].Uses == 0 {
			b.Fatal("no uses in the window")
		}
	}
	b.ReportMetric(float64(redemptions), "redemptions")
}

// BenchmarkOfferStatsAtScale measures OfferStats on a shop made by cmd/regulars-gen (for
// example 1,000,000 orders): the last 30 days, with a 30-day repeat window, for the ten
// most used offers and for every offer of the shop (the offers list of the admin). It needs
// REGULARS_BENCH_DSN and REGULARS_BENCH_SHOP; docs/PERFORMANCE.md has the commands.
func BenchmarkOfferStatsAtScale(b *testing.B) {
	dsn, shop := os.Getenv("REGULARS_BENCH_DSN"), os.Getenv("REGULARS_BENCH_SHOP")
	if dsn == "" || shop == "" {
		b.Skip("set REGULARS_BENCH_DSN and REGULARS_BENCH_SHOP to a database and shop made by cmd/regulars-gen")
	}
	ctx := context.Background()
	st, err := store.Open(ctx, dsn)
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	rows, err := st.ListOffers(ctx, shop, false)
	if err != nil || len(rows) == 0 {
		b.Fatalf("offers of %s: %d, %v", shop, len(rows), err)
	}
	all := make([]string, len(rows))
	for i, r := range rows {
		all[i] = r.ID
	}
	to := time.Now().UTC()
	from := to.AddDate(0, 0, -30)
	// The ten most used offers over the window.
	stats, err := st.OfferStats(ctx, shop, all, from, to, time.UTC, 30)
	if err != nil {
		b.Fatal(err)
	}
	order := make([]int, len(all))
	for i := range order {
		order[i] = i
	}
	slices.SortFunc(order, func(x, y int) int { return stats[y].Uses - stats[x].Uses })
	top := make([]string, 0, 10)
	for _, i := range order[:min(10, len(order))] {
		top = append(top, all[i])
	}
	for _, bc := range []struct {
		name   string
		offers []string
	}{{"top10", top}, {fmt.Sprintf("all%d", len(all)), all}} {
		b.Run(bc.name, func(b *testing.B) {
			uses := 0
			for b.Loop() {
				stats, err := st.OfferStats(ctx, shop, bc.offers, from, to, time.UTC, 30)
				if err != nil {
					b.Fatal(err)
				}
				uses = 0
				for _, s := range stats {
					uses += s.Uses
				}
			}
			b.ReportMetric(float64(uses), "uses")
		})
	}
}
