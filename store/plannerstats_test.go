package store

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"
)

func TestRefreshPlannerStats(t *testing.T) {
	ctx := context.Background()
	eachDB(t, func(t *testing.T, db testDB) {
		s, _ := mustHistoryStore(t, db, "a.example")
		if db.dialect == dialectSQLite {
			if analyzed, err := s.RefreshPlannerStats(ctx); err != nil || analyzed != nil {
				t.Errorf("RefreshPlannerStats on SQLite = %v, %v; want nothing done", analyzed, err)
			}
			return
		}
		// One connection, so that its statistics can be flushed at once.
		sqlDB, err := s.db.DB()
		if err != nil {
			t.Fatal(err)
		}
		sqlDB.SetMaxOpenConns(1)
		var batch []OrderEvent
		for i := range 120 {
			batch = append(batch, OrderEvent{Order: testOrder("a.example", fmt.Sprint(i), func(o *Order) {
				o.Lines = []OrderLine{{ID: "1", Quantity: 1, Price: 100}}
			})})
		}
		if _, err := s.ApplyOrderEvents(ctx, batch); err != nil {
			t.Fatal(err)
		}
		if err := s.db.Exec(`SELECT pg_stat_force_next_flush()`).Error; err != nil {
			t.Fatal(err)
		}
		s.stats.next = time.Time{} // whatever ran before, look now
		analyzed, err := s.RefreshPlannerStats(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Contains(analyzed, "orders") || !slices.Contains(analyzed, "order_lines") || slices.Contains(analyzed, "refunds") {
			t.Errorf("analyzed %v; want orders and order_lines (120 new rows each), not refunds (none)", analyzed)
		}
		var n int64
		if err := s.db.Raw(`SELECT COUNT(*) FROM pg_stat_user_tables WHERE schemaname = current_schema()
			AND relname = 'orders' AND last_analyze IS NOT NULL`).Scan(&n).Error; err != nil || n != 1 {
			t.Errorf("orders analyzed: %d, %v", n, err)
		}
		// Not again before the interval.
		if again, err := s.RefreshPlannerStats(ctx); err != nil || again != nil {
			t.Errorf("RefreshPlannerStats right after = %v, %v; want nothing done", again, err)
		}
	})
}
