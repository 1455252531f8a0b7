package store

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"gorm.io/gorm"
)

// The webhook pipeline grows its tables from nothing, fast. PostgreSQL plans a statement from
// the tables' statistics, and keeps the plan of a prepared statement, and of each foreign-key
// check, for as long as the connection lives unless new statistics invalidate it. A plan made
// while a table was small (or had never been analyzed) can scan a whole shop where an index
// lookup was meant: on a fresh database, inserting an order's lines checked each line's order
// by reading every order of the shop, and inserting ledger identity keys checked each ledger
// row through the (shop, offer) index. Autovacuum's ANALYZE fixes that after a while, when it
// runs at all (it may be switched off, and it waits for its naptime). So the pipeline asks the
// store to refresh the statistics of those tables itself when they changed much since their
// last analysis, with autovacuum's own threshold.

// pipelineTables are the tables the webhook pipeline grows.
func pipelineTables() []string {
	return []string{"webhook_events", "orders", "order_lines", "refunds", "redemptions", "redemption_identities", "customers",
		"analytics_uses", "analytics_hours"}
}

// statsRefreshInterval is how often, at most, one Store looks whether statistics are stale.
const statsRefreshInterval = 5 * time.Second

// statsLockKey serializes the refresh across processes sharing the database (a process that
// finds another one refreshing skips its turn).
const statsLockKey = 7_240_117_316

// statsRefresh is when a Store looks next. The zero value looks at once.
type statsRefresh struct {
	mu   sync.Mutex
	next time.Time
}

// due reports whether it is time to look, and if so sets the next time.
func (r *statsRefresh) due(now time.Time) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if now.Before(r.next) {
		return false
	}
	r.next = now.Add(statsRefreshInterval)
	return true
}

// RefreshPlannerStats analyzes the webhook pipeline's tables whose rows changed by more than
// autovacuum's default analyze threshold (50 rows plus 10% of the table) since their last
// analysis, on PostgreSQL, at most once every few seconds per Store and by one process at a
// time; otherwise it does nothing. The webhook workers call it after their writes. It returns
// the tables it analyzed.
func (s *Store) RefreshPlannerStats(ctx context.Context) ([]string, error) {
	if s.dialect != dialectPostgres || !s.stats.due(time.Now()) {
		return nil, nil
	}
	var stale []string
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var locked bool
		if err := tx.Raw(`SELECT pg_try_advisory_xact_lock(?)`, statsLockKey).Scan(&locked).Error; err != nil || !locked {
			return err
		}
		err := tx.Raw(`SELECT s.relname FROM pg_stat_user_tables s JOIN pg_class c ON c.oid = s.relid
			WHERE s.schemaname = current_schema() AND s.relname IN ?
				AND s.n_mod_since_analyze > 50 + 0.1 * GREATEST(c.reltuples, 0)
			ORDER BY s.relname`, pipelineTables()).Scan(&stale).Error
		if err != nil || len(stale) == 0 {
			return err
		}
		// The names come from pipelineTables, not from input.
		return tx.Exec(`ANALYZE ` + strings.Join(stale, ", ")).Error
	})
	if err != nil {
		return nil, fmt.Errorf("store: refresh planner statistics: %w", err)
	}
	return stale, nil
}
