package store

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/regularsapp/regulars/discountfn"
)

// testClock is a clock tests move by hand. It is safe for concurrent use.
type testClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *testClock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// testNow is the fixed "now" of history tests: a Monday, 10:00 UTC.
func testNow() time.Time { return time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC) }

// fixClock makes s read its time from a testClock starting at testNow.
func fixClock(s *Store) *testClock {
	c := &testClock{now: testNow()}
	s.now = c.Now
	return c
}

// mustHistoryStore opens a migrated store with a fixed clock and the given shops.
func mustHistoryStore(t testing.TB, db testDB, shops ...string) (*Store, *testClock) {
	t.Helper()
	s := mustOpenMigrated(t, db)
	clock := fixClock(s)
	for _, shop := range shops {
		mustShop(t, s, shop)
	}
	return s, clock
}

// testOrder is a paid order of customer 1 placed a day before testNow; change it with mods.
func testOrder(shop, id string, mods ...func(*Order)) Order {
	placed := testNow().Add(-24 * time.Hour)
	o := Order{
		Shop:            shop,
		ID:              id,
		CustomerID:      "gid://shopify/Customer/1",
		Email:           "ada@example.com",
		PlacedAt:        placed,
		UpdatedAt:       placed,
		Currency:        "EUR",
		Subtotal:        10000,
		Total:           10000,
		FinancialStatus: "paid",
		Gateways:        []string{"shopify_payments"},
	}
	for _, m := range mods {
		m(&o)
	}
	return o
}

func mustUpsertOrder(t testing.TB, s *Store, o Order) {
	t.Helper()
	applied, err := s.UpsertOrder(context.Background(), o)
	if err != nil || !applied {
		t.Fatalf("UpsertOrder(%q) = %v, %v; want applied", o.ID, applied, err)
	}
}

func mustFacts(t testing.TB, s *Store, shop string, b discountfn.Buyer) discountfn.Facts {
	t.Helper()
	f, err := s.Facts(context.Background(), shop, b)
	if err != nil {
		t.Fatalf("Facts(%q, %+v): %v", shop, b, err)
	}
	return f
}

func mustRecord(t testing.TB, s *Store, shop, orderID string, rs ...Redemption) {
	t.Helper()
	if err := s.RecordRedemptions(context.Background(), shop, orderID, rs); err != nil {
		t.Fatalf("RecordRedemptions(%q): %v", orderID, err)
	}
}

func mustEnqueue(t testing.TB, s *Store, ev WebhookEvent) {
	t.Helper()
	inserted, err := s.EnqueueEvent(context.Background(), ev)
	if err != nil || !inserted {
		t.Fatalf("EnqueueEvent(%q) = %v, %v; want inserted", ev.EventID, inserted, err)
	}
}

func eventIDs(events []WebhookEvent) []int64 {
	ids := make([]int64, len(events))
	for i, ev := range events {
		ids[i] = ev.ID
	}
	return ids
}

// orderIDsOf lists the ids of orders, in order.
func orderIDsOf(orders []Order) []string {
	ids := make([]string, len(orders))
	for i, o := range orders {
		ids[i] = o.ID
	}
	return ids
}

// tableNames lists the database's tables (schema_migrations included).
func tableNames(t testing.TB, s *Store) []string {
	t.Helper()
	q := `SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'`
	if s.dialect == dialectPostgres {
		q = `SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'`
	}
	var names []string
	if err := s.db.Raw(q).Scan(&names).Error; err != nil {
		t.Fatalf("list tables: %v", err)
	}
	slices.Sort(names)
	return names
}

// shopColumn is the column that names a table's shop ("" for a table without one).
func shopColumn(t testing.TB, s *Store, table string) string {
	t.Helper()
	cols, err := s.db.Migrator().ColumnTypes(table)
	if err != nil {
		t.Fatalf("columns of %s: %v", table, err)
	}
	for _, c := range cols {
		if table == "shops" && c.Name() == "domain" {
			return "domain"
		}
		if c.Name() == "shop" {
			return "shop"
		}
	}
	return ""
}

// allRows reads every row of table as column -> value.
func allRows(t testing.TB, s *Store, table string) []map[string]any {
	t.Helper()
	var rows []map[string]any
	if err := s.db.Table(table).Find(&rows).Error; err != nil {
		t.Fatalf("read %s: %v", table, err)
	}
	return rows
}
