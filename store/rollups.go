package store

import (
	"cmp"
	"context"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"gorm.io/gorm"
)

// Analytics rollups, read by analytics.go. Computing the figures from the orders and the
// ledger on each request read the whole order history of every redeeming customer (about
// 39,000 orders for 30 days of a 1,000,000-order shop) and anti-joined the window's orders
// with the ledger: seconds at that size. Two tables hold what those reads found, and every
// writer of orders or of the ledger keeps them in the same transaction:
//
//   - analytics_uses: one row per use (a ledger row not released whose order is counted),
//     with what the figures need of its order (placed_at, total, customer) and two facts of
//     the customer's history: whether the order is the customer's first counted order
//     (first_order: New), and when the customer's next counted order was placed (next_at:
//     the repeat figure). A report reads only its offers' uses in its window.
//   - analytics_hours: per shop and UTC hour, the count and total of the counted orders with
//     no use of any offer (AOVWithout). A window reads its whole hours here and the ends that
//     are not whole hours from the orders (withoutTotals), so the answer is exact for any
//     window; a shop-local day is whole hours except in the few timezones with a half-hour
//     offset, where the two ends cost a half hour of orders each.
//
// The writers: ApplyOrderEvents, UpsertOrder, RecordRedemptions, ReleaseRedemptions and
// RedactCustomer bracket their writes with beginRollups and finish; BulkLoad builds its
// shop's rows as it loads (bulkRollups); DeleteShopData deletes them; migration 0012 fills
// them from the data as it is. rollups_test.go checks, on random writes, that the figures
// equal a recomputation from the orders and the ledger.
//
// Concurrency (PostgreSQL): beginRollups takes the orders' ledger locks (lockLedgers) before
// reading what they were, so the "before" it reads is the one its write replaces. finish
// then takes a lock per customer (lockCustomers) before rewriting uses and recomputing a
// customer's facts from their orders, so the last of two writers touching one customer
// recomputes with the other's committed orders. Hour totals are changed by increments, in
// key order. Every path takes its locks in the same order (ledger locks, row locks, customer
// locks, hour rows), so none waits on another in a cycle.

// rollupLockClass is the first key of the advisory locks on a customer's rollup facts; the
// second is a hash of "shop/customer key" (see ledgerLockClass).
const rollupLockClass = 7_240_118

// rollupOrder is what the rollups depend on of one order.
type rollupOrder struct {
	ID          string     `gorm:"column:id"`
	CustomerID  string     `gorm:"column:customer_id"`
	Email       string     `gorm:"column:email"`
	PlacedAt    time.Time  `gorm:"column:placed_at"`
	Total       int64      `gorm:"column:total"`
	Test        bool       `gorm:"column:test"`
	CancelledAt *time.Time `gorm:"column:cancelled_at"`
	Used        bool       `gorm:"column:used"` // it has a ledger row that is not released
}

func (o rollupOrder) counted() bool { return !o.Test && o.CancelledAt == nil }

// hourTotal is one hour's orders without offers, or a change of them.
type hourTotal struct{ orders, total int64 }

// rollupChange is one transaction's change to the rollups: the orders it writes, as they
// were before.
type rollupChange struct {
	s      *Store
	orders map[string][]string // shop → order ids, sorted
	before map[orderKey]rollupOrder
}

// beginRollups locks the orders' ledgers and reads what the rollups know of them, before the
// caller writes them; finish, after the writes, brings the rollups up to date.
func (s *Store) beginRollups(tx *gorm.DB, keys []orderKey) (*rollupChange, error) {
	c := &rollupChange{s: s, orders: map[string][]string{}, before: map[orderKey]rollupOrder{}}
	locks := make([]orderWrite, 0, len(keys))
	for _, k := range keys {
		c.orders[k.shop] = append(c.orders[k.shop], k.id)
		locks = append(locks, orderWrite{row: orderRow{Shop: k.shop, ID: k.id}})
	}
	if len(keys) == 0 {
		return c, nil
	}
	if err := s.lockLedgers(tx, locks); err != nil {
		return nil, err
	}
	for shop, ids := range c.orders {
		slices.Sort(ids)
		ids = slices.Compact(ids)
		c.orders[shop] = ids
		got, err := readRollupOrders(tx, shop, ids)
		if err != nil {
			return nil, err
		}
		for id, o := range got {
			c.before[orderKey{shop, id}] = o
		}
	}
	return c, nil
}

// shopParam stands for the shop in the rollups' statements that look rows up by key within a
// shop. Compared with a constant, a small shop next to large ones looks like a few rows to
// PostgreSQL's planner, which then reads the whole shop through any index that starts with
// shop and filters the keys (docs/PERFORMANCE.md saw it with order_lines): a cost that grows
// with the shop, per statement. Through an uncorrelated subquery the value is unknown when
// planning, so the estimate is an average shop's and the index of the keys wins.
const shopParam = `(SELECT CAST(? AS TEXT))`

// readRollupOrders reads the stored orders among ids.
func readRollupOrders(tx *gorm.DB, shop string, ids []string) (map[string]rollupOrder, error) {
	out := make(map[string]rollupOrder, len(ids))
	err := chunks(ids, func(part []string) error {
		var rows []rollupOrder
		err := tx.Raw(`SELECT o.id, o.customer_id, o.email, o.placed_at, o.total, o.test, o.cancelled_at,
				EXISTS (SELECT 1 FROM redemptions r WHERE r.shop = o.shop AND r.order_id = o.id AND r.released = FALSE) AS used
			FROM orders o WHERE o.shop = `+shopParam+` AND o.id IN ?`, shop, part).Scan(&rows).Error
		for _, r := range rows {
			out[r.ID] = r
		}
		return err
	})
	return out, err
}

// finish brings the rollups of the orders written (all those begun when written is nil) up
// to date: their uses, their hours, and the facts of their customers, before and after.
func (c *rollupChange) finish(tx *gorm.DB, written func(orderKey) bool) error {
	for _, shop := range slices.Sorted(maps.Keys(c.orders)) {
		var ids []string
		for _, id := range c.orders[shop] {
			if written == nil || written(orderKey{shop, id}) {
				ids = append(ids, id)
			}
		}
		if len(ids) == 0 {
			continue
		}
		after, err := readRollupOrders(tx, shop, ids)
		if err != nil {
			return err
		}
		hours := map[time.Time]hourTotal{}
		customers := map[string]bool{}
		var span factsSpan
		var drop, add []string
		account := func(o rollupOrder, sign int64, uses *[]string) {
			if !o.counted() {
				return
			}
			if k := customerKey(o.CustomerID, o.Email); k != "" {
				customers[k] = true
				span.add(o.PlacedAt)
			}
			if o.Used {
				*uses = append(*uses, o.ID)
				return
			}
			h := hours[hourOf(o.PlacedAt)]
			h.orders += sign
			h.total += sign * o.Total
			hours[hourOf(o.PlacedAt)] = h
		}
		for _, id := range ids {
			if o, ok := c.before[orderKey{shop, id}]; ok {
				account(o, -1, &drop)
			}
			if o, ok := after[id]; ok {
				account(o, +1, &add)
			}
		}
		keys := slices.Sorted(maps.Keys(customers))
		if err := c.s.lockCustomers(tx, shop, keys); err != nil {
			return err
		}
		err = chunks(drop, func(part []string) error {
			return tx.Exec(`DELETE FROM analytics_uses WHERE shop = `+shopParam+` AND order_id IN ?`, shop, part).Error
		})
		if err != nil {
			return err
		}
		err = chunks(add, func(part []string) error {
			return tx.Exec(usesInsertSQL(` AND r.shop = `+shopParam+` AND r.order_id IN ?`), shop, part).Error
		})
		if err != nil {
			return err
		}
		if err := updateFacts(tx, c.s.dialect, shop, keys, span); err != nil {
			return err
		}
		if err := c.s.addHours(tx, shop, hours); err != nil {
			return err
		}
	}
	return nil
}

// hourOf is the UTC hour t falls in.
func hourOf(t time.Time) time.Time { return t.UTC().Truncate(time.Hour) }

// lockCustomers takes the rollup locks of a shop's customers (customer keys), in the order of
// their hashes, so that two transactions never hold them in a cycle even when keys collide.
func (s *Store) lockCustomers(tx *gorm.DB, shop string, keys []string) error {
	if s.dialect != dialectPostgres || len(keys) == 0 {
		return nil
	}
	args := make([]any, 0, len(keys)+1)
	args = append(args, rollupLockClass)
	for _, k := range keys {
		args = append(args, shop+"/"+k)
	}
	return tx.Exec(`SELECT pg_advisory_xact_lock(?, h) FROM (SELECT DISTINCT hashtext(k) AS h FROM (VALUES `+
		placeholders(len(keys), 1)+`) AS v (k) ORDER BY h) AS l`, args...).Error
}

// usesInsertSQL inserts the uses of the ledger rows that filter (on r, redemptions) keeps,
// without their customers' facts (updateFacts fills them).
func usesInsertSQL(filter string) string {
	return `INSERT INTO analytics_uses (shop, order_id, offer_id, placed_at, amount, order_placed_at, total, customer_id, email)
		SELECT r.shop, r.order_id, r.offer_id, r.placed_at, r.amount, o.placed_at, o.total, o.customer_id,
			CASE WHEN o.customer_id = '' THEN o.email ELSE '' END
		FROM redemptions r JOIN orders o ON o.shop = r.shop AND o.id = r.order_id
		WHERE r.released = FALSE AND o.test = FALSE AND o.cancelled_at IS NULL` + filter
}

// factsUpdateSQL recomputes first_order and next_at of the uses that filter keeps, for
// customers with an id or, when guests, for guests (by email among orders without customer
// id): as analytics.go defines them, from the customer's counted orders, ties on placed_at
// broken by order id in byte order (Go's, and PostgreSQL's "C" collation). Only the rows
// whose facts change are written.
func factsUpdateSQL(dialect string, guests bool, filter string) string {
	match, scope := `o.customer_id = analytics_uses.customer_id`, `analytics_uses.customer_id <> ''`
	if guests {
		match = `o.customer_id = '' AND o.email = analytics_uses.email`
		scope = `analytics_uses.customer_id = '' AND analytics_uses.email <> ''`
	}
	idBefore := `o.id < analytics_uses.order_id`
	if dialect == dialectPostgres {
		idBefore = `o.id COLLATE "C" < analytics_uses.order_id`
	}
	orders := `FROM orders o WHERE o.shop = analytics_uses.shop AND ` + match + ` AND o.test = FALSE AND o.cancelled_at IS NULL`
	first := `NOT EXISTS (SELECT 1 ` + orders + ` AND (o.placed_at < analytics_uses.order_placed_at
		OR (o.placed_at = analytics_uses.order_placed_at AND ` + idBefore + `)))`
	next := `(SELECT MIN(o.placed_at) ` + orders + ` AND o.placed_at > analytics_uses.order_placed_at)`
	return `UPDATE analytics_uses SET first_order = ` + first + `, next_at = ` + next + `
		WHERE ` + scope + filter + ` AND (first_order <> ` + first + ` OR next_at IS DISTINCT FROM ` + next + `)`
}

// factsSpan is when the counted orders that changed were placed, before and after the
// change: the facts of a use can change only if its order is placed at or after the first of
// those times (first_order), or before the last of them with no next order before the first
// (next_at). Limiting the recomputation to those uses keeps a new order of a customer with a
// long history from recomputing every use of theirs.
type factsSpan struct{ first, last time.Time }

func (s *factsSpan) add(t time.Time) {
	if s.first.IsZero() || t.Before(s.first) {
		s.first = t
	}
	if t.After(s.last) {
		s.last = t
	}
}

// updateFacts recomputes the facts of the uses of a shop's customers (customer keys) that
// the changes in span may have changed.
func updateFacts(tx *gorm.DB, dialect, shop string, keys []string, span factsSpan) error {
	var ids, emails []string
	for _, k := range keys {
		if id, ok := strings.CutPrefix(k, "c:"); ok {
			ids = append(ids, id)
		} else if email, ok := strings.CutPrefix(k, "e:"); ok {
			emails = append(emails, email)
		}
	}
	const affected = ` AND (analytics_uses.order_placed_at >= ? OR (analytics_uses.order_placed_at < ?
		AND (analytics_uses.next_at IS NULL OR analytics_uses.next_at >= ?)))`
	first, last := utc(span.first), utc(span.last)
	err := chunks(ids, func(part []string) error {
		return tx.Exec(factsUpdateSQL(dialect, false, ` AND analytics_uses.shop = `+shopParam+` AND analytics_uses.customer_id IN ?`+affected),
			shop, part, first, last, first).Error
	})
	if err != nil {
		return err
	}
	return chunks(emails, func(part []string) error {
		return tx.Exec(factsUpdateSQL(dialect, true, ` AND analytics_uses.shop = `+shopParam+` AND analytics_uses.email IN ?`+affected),
			shop, part, first, last, first).Error
	})
}

// addHours adds changes to a shop's hour totals, in hour order, and drops the hours left
// without orders.
func (s *Store) addHours(tx *gorm.DB, shop string, changes map[time.Time]hourTotal) error {
	var hours []time.Time
	for h, d := range changes {
		if d != (hourTotal{}) {
			hours = append(hours, h)
		}
	}
	if len(hours) == 0 {
		return nil
	}
	slices.SortFunc(hours, time.Time.Compare)
	const columns = 4
	err := s.inChunksOf(columns, len(hours), func(from, to int) error {
		args := make([]any, 0, (to-from)*columns)
		for _, h := range hours[from:to] {
			args = append(args, shop, h, changes[h].orders, changes[h].total)
		}
		return tx.Exec(`INSERT INTO analytics_hours (shop, hour_start, orders, total) VALUES `+placeholders(to-from, columns)+`
			ON CONFLICT (shop, hour_start) DO UPDATE SET orders = analytics_hours.orders + excluded.orders,
				total = analytics_hours.total + excluded.total`, args...).Error
	})
	if err != nil {
		return err
	}
	for start := 0; start < len(hours); start += inChunk {
		part := hours[start:min(start+inChunk, len(hours))]
		if err := tx.Exec(`DELETE FROM analytics_hours WHERE shop = `+shopParam+` AND orders = 0 AND hour_start IN ?`, shop, part).Error; err != nil {
			return err
		}
	}
	return nil
}

// useFact is one use as analytics_uses holds it.
type useFact struct {
	OfferID    string     `gorm:"column:offer_id"`
	OrderID    string     `gorm:"column:order_id"`
	Amount     int64      `gorm:"column:amount"`
	Total      int64      `gorm:"column:total"`
	PlacedAt   time.Time  `gorm:"column:order_placed_at"` // the order's
	CustomerID string     `gorm:"column:customer_id"`
	Email      string     `gorm:"column:email"`
	First      bool       `gorm:"column:first_order"`
	NextAt     *time.Time `gorm:"column:next_at"`
}

// loadUseFacts reads the uses of the offers whose ledger rows' placed_at is in [from, to).
func loadUseFacts(db *gorm.DB, shop string, offerIDs []string, from, to time.Time) ([]useFact, error) {
	var uses []useFact
	err := chunks(offerIDs, func(part []string) error {
		var rows []useFact
		err := db.Raw(`SELECT offer_id, order_id, amount, total, order_placed_at, customer_id, email, first_order, next_at
			FROM analytics_uses WHERE shop = ? AND offer_id IN ? AND placed_at >= ? AND placed_at < ?`,
			shop, part, utc(from), utc(to)).Scan(&rows).Error
		uses = append(uses, rows...)
		return err
	})
	return uses, err
}

// withoutTotals counts and sums the shop's counted orders placed in [from, to) that have no
// use of any offer: the window's whole UTC hours from analytics_hours, its ends that are not
// whole hours from the orders.
func withoutTotals(db *gorm.DB, shop string, from, to time.Time) (int64, int64, error) {
	first, last := hourOf(from), hourOf(to)
	if first.Before(from) {
		first = first.Add(time.Hour)
	}
	if !first.Before(last) {
		return ordersWithout(db, shop, utc(from), utc(to))
	}
	var whole struct {
		N   int64 `gorm:"column:n"`
		Sum int64 `gorm:"column:total"`
	}
	err := db.Raw(`SELECT CAST(COALESCE(SUM(orders), 0) AS BIGINT) AS n, CAST(COALESCE(SUM(total), 0) AS BIGINT) AS total
		FROM analytics_hours WHERE shop = ? AND hour_start >= ? AND hour_start < ?`, shop, first, last).Scan(&whole).Error
	if err != nil {
		return 0, 0, err
	}
	n, sum := whole.N, whole.Sum
	for _, part := range [][2]time.Time{{utc(from), first}, {last, utc(to)}} {
		if !part[0].Before(part[1]) {
			continue
		}
		pn, psum, err := ordersWithout(db, shop, part[0], part[1])
		if err != nil {
			return 0, 0, err
		}
		n, sum = n+pn, sum+psum
	}
	return n, sum, nil
}

// ordersWithout counts and sums, from the orders, the shop's counted orders placed in
// [from, to) that have no ledger row that is not released.
func ordersWithout(db *gorm.DB, shop string, from, to time.Time) (int64, int64, error) {
	var without struct {
		N   int64 `gorm:"column:n"`
		Sum int64 `gorm:"column:total"`
	}
	err := db.Raw(`SELECT COUNT(*) AS n, CAST(COALESCE(SUM(o.total), 0) AS BIGINT) AS total FROM orders o
		WHERE o.shop = ? AND o.placed_at >= ? AND o.placed_at < ? AND o.test = ? AND o.cancelled_at IS NULL
			AND NOT EXISTS (SELECT 1 FROM redemptions r WHERE r.shop = o.shop AND r.order_id = o.id AND r.released = ?)`,
		shop, from, to, false, false).Scan(&without).Error
	return without.N, without.Sum, err
}

// bulkRollups are the rollup rows of a bulk load's orders, built with them; the facts are
// computed once the orders are in (finish).
type bulkRollups struct {
	uses  [][]any // usesBulkColumns
	hours map[time.Time]hourTotal
}

var usesBulkColumns = []string{"shop", "order_id", "offer_id", "placed_at", "amount", "order_placed_at", "total", "customer_id", "email"}

// add takes one order and its ledger rows.
func (r *bulkRollups) add(o orderRow, ledger []redemptionRow) {
	if o.Test || o.CancelledAt != nil {
		return
	}
	used := false
	for _, l := range ledger {
		if l.Released {
			continue
		}
		used = true
		email := o.Email
		if o.CustomerID != "" {
			email = ""
		}
		r.uses = append(r.uses, []any{l.Shop, l.OrderID, l.OfferID, l.PlacedAt, l.Amount, o.PlacedAt, o.Total, o.CustomerID, email})
	}
	if used {
		return
	}
	if r.hours == nil {
		r.hours = map[time.Time]hourTotal{}
	}
	h := r.hours[hourOf(o.PlacedAt)]
	h.orders++
	h.total += o.Total
	r.hours[hourOf(o.PlacedAt)] = h
}

// merge adds another round's hours into r's.
func (r *bulkRollups) merge(other bulkRollups) {
	if r.hours == nil {
		r.hours = map[time.Time]hourTotal{}
	}
	for h, t := range other.hours {
		sum := r.hours[h]
		sum.orders += t.orders
		sum.total += t.total
		r.hours[h] = sum
	}
}

// finish writes the load's hour totals and computes its customers' facts.
func (r *bulkRollups) finish(ctx context.Context, sink bulkSink, dialect, shop string) error {
	hours := slices.SortedFunc(maps.Keys(r.hours), time.Time.Compare)
	rows := make([][]any, 0, len(hours))
	for _, h := range hours {
		rows = append(rows, []any{shop, h, r.hours[h].orders, r.hours[h].total})
	}
	if err := sink.insert(ctx, "analytics_hours", []string{"shop", "hour_start", "orders", "total"}, rows); err != nil {
		return err
	}
	for _, guests := range []bool{false, true} {
		if err := sink.exec(ctx, factsUpdateSQL(dialect, guests, ` AND analytics_uses.shop = ?`), shop); err != nil {
			return err
		}
	}
	return nil
}

func (p *pgxSink) exec(ctx context.Context, sql string, args ...any) error {
	// pgx numbers its placeholders.
	var b strings.Builder
	n := 0
	for _, r := range sql {
		if r == '?' {
			n++
			b.WriteString("$" + strconv.Itoa(n))
			continue
		}
		b.WriteRune(r)
	}
	_, err := p.tx.Exec(ctx, b.String(), args...)
	return err
}

func (g *gormSink) exec(_ context.Context, sql string, args ...any) error {
	return g.tx.Exec(sql, args...).Error
}

// migrateAnalyticsRollups creates the rollups and fills them from the orders and the ledger
// as they are. Its statements are frozen copies of usesInsertSQL and factsUpdateSQL (a step
// must not change with the code).
func migrateAnalyticsRollups(tx *gorm.DB, ts string) error {
	idBefore := `o.id < analytics_uses.order_id`
	if stepDialect(tx) == dialectPostgres {
		idBefore = `o.id COLLATE "C" < analytics_uses.order_id`
	}
	facts := func(match, scope string) string {
		orders := `FROM orders o WHERE o.shop = analytics_uses.shop AND ` + match + ` AND o.test = FALSE AND o.cancelled_at IS NULL`
		return `UPDATE analytics_uses SET
			first_order = NOT EXISTS (SELECT 1 ` + orders + ` AND (o.placed_at < analytics_uses.order_placed_at
				OR (o.placed_at = analytics_uses.order_placed_at AND ` + idBefore + `))),
			next_at = (SELECT MIN(o.placed_at) ` + orders + ` AND o.placed_at > analytics_uses.order_placed_at)
			WHERE ` + scope
	}
	err := execAll(tx,
		// placed_at is the ledger row's (the window), order_placed_at the order's; email is
		// kept for guests only (customer_id empty), as analytics.go names customers.
		`CREATE TABLE analytics_uses (
			shop            TEXT NOT NULL REFERENCES shops (domain) ON DELETE CASCADE,
			order_id        TEXT NOT NULL,
			offer_id        TEXT NOT NULL,
			placed_at       `+ts+` NOT NULL,
			amount          BIGINT NOT NULL,
			order_placed_at `+ts+` NOT NULL,
			total           BIGINT NOT NULL,
			customer_id     TEXT NOT NULL,
			email           TEXT NOT NULL,
			first_order     BOOLEAN NOT NULL DEFAULT FALSE,
			next_at         `+ts+`,
			PRIMARY KEY (shop, order_id, offer_id)
		)`,
		`CREATE INDEX analytics_uses_offer ON analytics_uses (shop, offer_id, placed_at)`,
		`CREATE INDEX analytics_uses_customer ON analytics_uses (shop, customer_id, email)`,
		`CREATE TABLE analytics_hours (
			shop       TEXT NOT NULL REFERENCES shops (domain) ON DELETE CASCADE,
			hour_start `+ts+` NOT NULL,
			orders     BIGINT NOT NULL,
			total      BIGINT NOT NULL,
			PRIMARY KEY (shop, hour_start)
		)`,
		`INSERT INTO analytics_uses (shop, order_id, offer_id, placed_at, amount, order_placed_at, total, customer_id, email)
			SELECT r.shop, r.order_id, r.offer_id, r.placed_at, r.amount, o.placed_at, o.total, o.customer_id,
				CASE WHEN o.customer_id = '' THEN o.email ELSE '' END
			FROM redemptions r JOIN orders o ON o.shop = r.shop AND o.id = r.order_id
			WHERE r.released = FALSE AND o.test = FALSE AND o.cancelled_at IS NULL`,
		facts(`o.customer_id = analytics_uses.customer_id`, `analytics_uses.customer_id <> ''`),
		facts(`o.customer_id = '' AND o.email = analytics_uses.email`, `analytics_uses.customer_id = '' AND analytics_uses.email <> ''`),
	)
	if err != nil {
		return err
	}
	return migrateAnalyticsHours(tx)
}

// migrateAnalyticsHours fills analytics_hours from the orders, read once in key order and
// summed here (bucketing times in SQL differs between the databases).
func migrateAnalyticsHours(tx *gorm.DB) error {
	rows, err := tx.Raw(`SELECT o.shop, o.placed_at, o.total FROM orders o
		WHERE o.test = FALSE AND o.cancelled_at IS NULL
			AND NOT EXISTS (SELECT 1 FROM redemptions r WHERE r.shop = o.shop AND r.order_id = o.id AND r.released = FALSE)`).Rows()
	if err != nil {
		return err
	}
	type key struct {
		shop string
		hour time.Time
	}
	sums := map[key]hourTotal{}
	for rows.Next() {
		var shop string
		var placed time.Time
		var total int64
		if err := rows.Scan(&shop, &placed, &total); err != nil {
			rows.Close() //nolint:errcheck // the scan error is the one to report
			return err
		}
		k := key{shop, hourOf(placed)}
		t := sums[k]
		t.orders++
		t.total += total
		sums[k] = t
	}
	if err := rows.Close(); err != nil {
		return err
	}
	if err := rows.Err(); err != nil {
		return err
	}
	keys := slices.SortedFunc(maps.Keys(sums), func(a, b key) int {
		return cmp.Or(strings.Compare(a.shop, b.shop), a.hour.Compare(b.hour))
	})
	const columns, per = 4, 200
	for start := 0; start < len(keys); start += per {
		part := keys[start:min(start+per, len(keys))]
		args := make([]any, 0, len(part)*columns)
		for _, k := range part {
			args = append(args, k.shop, k.hour, sums[k].orders, sums[k].total)
		}
		err := tx.Exec(`INSERT INTO analytics_hours (shop, hour_start, orders, total) VALUES `+placeholders(len(part), columns), args...).Error
		if err != nil {
			return err
		}
	}
	return nil
}
