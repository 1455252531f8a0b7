package store

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"gorm.io/gorm"
)

// This file writes orders, their ledgers and their webhook events as sets: a batch of order
// events costs about a dozen statements and one commit, whatever its size. UpsertOrder and
// RecordRedemptions are the one-order cases of the same writers.

// OrderEvent is the effect of one order webhook event: a version of an order, and the ledger
// rows that version implies (see RecordRedemptions for their rules), which replace the order's
// ledger if, and only if, the version is stored.
type OrderEvent struct {
	// EventID is the webhook event's row id (WebhookEvent.ID), marked done with the write; 0
	// when the version did not come from the queue.
	EventID     int64
	Order       Order
	Redemptions []Redemption
	// CODOffers, set on a cash-on-delivery order, are the offers it used that switch cash on
	// delivery off: the stored version raises a FlagCODOffer flag (orderflags.go).
	CODOffers []string
}

// ApplyOrderEvents stores a batch of order versions, their lines, refunds and ledgers, and
// marks their events done, all in one transaction: either everything of the batch is written,
// or nothing is (and the caller may retry event by event to find the one at fault).
//
// Per order, the newest UpdatedAt wins, among the batch's versions and the stored one, as in
// UpsertOrder (an equal UpdatedAt is applied again; between equal versions in the batch, the
// later one). The winning version, when it is the batch's, replaces the stored order and its
// lines, and its Redemptions replace the order's ledger rows; an older version changes
// neither. Refunds of every version are added (they are keyed by id and never change).
// applied[i] reports whether batch[i]'s version is now the stored one.
//
// Because the version check, the lines and the ledger are one write, the ledger always belongs
// to the stored version, also when several processes apply versions of one order at once:
// on PostgreSQL the order's row lock orders them, and SQLite has one writer. Events are marked
// done as CompleteEvent does (an event that no longer exists is not an error: shop/redact
// may have deleted it). The usual validation applies (ErrInvalid); every order's shop must
// exist (ErrNotFound).
func (s *Store) ApplyOrderEvents(ctx context.Context, batch []OrderEvent) (applied []bool, err error) {
	if len(batch) == 0 {
		return nil, nil
	}
	// The version each order ends with among the batch's: the newest, the later on a tie.
	newest := make(map[orderKey]int, len(batch))
	for i, ev := range batch {
		if err := requireNonEmpty("shop", ev.Order.Shop, "order id", ev.Order.ID); err != nil {
			return nil, fmt.Errorf("store: apply order events: %w", err)
		}
		k := orderKey{ev.Order.Shop, ev.Order.ID}
		if j, ok := newest[k]; !ok || !batch[j].Order.UpdatedAt.After(ev.Order.UpdatedAt) {
			newest[k] = i
		}
	}
	now := s.timestamp()
	writes := make([]orderWrite, 0, len(newest))
	var refunds []refundRow
	for i, ev := range batch {
		o := ev.Order
		rows, err := refundRows(o.Shop, o.ID, o.Refunds)
		if err != nil {
			return nil, fmt.Errorf("store: apply order events: order %q: %w", o.ID, err)
		}
		refunds = append(refunds, rows...)
		if newest[orderKey{o.Shop, o.ID}] != i {
			continue
		}
		w, err := newOrderWrite(o, now)
		if err != nil {
			return nil, fmt.Errorf("store: apply order events: order %q: %w", o.ID, err)
		}
		w.index, w.redemptions, w.codOffers = i, ev.Redemptions, ev.CODOffers
		writes = append(writes, w)
	}
	events := make([]int64, 0, len(batch))
	for _, ev := range batch {
		if ev.EventID != 0 {
			events = append(events, ev.EventID)
		}
	}
	applied = make([]bool, len(batch))
	err = s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		rollups, err := s.beginRollups(tx, orderKeysOf(writes))
		if err != nil {
			return err
		}
		stored, err := s.writeOrders(tx, writes, refunds)
		if err != nil {
			return err
		}
		var ledgers []orderWrite
		for _, w := range writes {
			if stored[w.key()] {
				applied[w.index] = true
				ledgers = append(ledgers, w)
			}
		}
		if err := s.writeLedgers(tx, ledgers); err != nil {
			return err
		}
		if err := rollups.finish(tx, func(k orderKey) bool { return stored[k] }); err != nil {
			return err
		}
		if err := writeFlags(tx, ledgers, now); err != nil {
			return err
		}
		return s.completeEvents(tx, events, now)
	})
	if err != nil {
		return nil, fmt.Errorf("store: apply %d order events: %w", len(batch), translate(err))
	}
	published := map[string]bool{}
	for _, ev := range batch {
		if shop := ev.Order.Shop; !published[shop] {
			published[shop] = true
			s.publish(ctx, shop, ChangeFacts)
		}
	}
	return applied, nil
}

// orderKey names one order.
type orderKey struct{ shop, id string }

// orderWrite is one order version ready for writeOrders and writeLedgers.
type orderWrite struct {
	row         orderRow
	lines       []lineRow
	redemptions []Redemption
	codOffers   []string
	index       int // in the caller's batch
}

func (w orderWrite) key() orderKey { return orderKey{w.row.Shop, w.row.ID} }

func orderKeysOf(writes []orderWrite) []orderKey {
	keys := make([]orderKey, len(writes))
	for i, w := range writes {
		keys[i] = w.key()
	}
	return keys
}

func newOrderWrite(o Order, now time.Time) (orderWrite, error) {
	row, err := newOrderRow(o, now)
	if err != nil {
		return orderWrite{}, err
	}
	lines := make([]lineRow, len(o.Lines))
	for i, l := range o.Lines {
		lines[i] = lineRow{
			Shop: o.Shop, OrderID: o.ID, LineNo: i + 1, LineID: l.ID,
			ProductID: l.ProductID, VariantID: l.VariantID, Quantity: l.Quantity, Price: int64(l.Price),
		}
	}
	return orderWrite{row: row, lines: lines}, nil
}

// orderColumns are the orders table's columns in the order orderRow.values gives them; the
// first two are the key, the rest are what a newer version replaces (orderUpdateColumns).
func orderColumns() []string {
	return append([]string{"shop", "id"}, orderUpdateColumns()...)
}

func (r orderRow) values() []any {
	return []any{
		r.Shop, r.ID, r.CustomerID, r.Email, r.Phone, r.AddressKey, r.BrowserIP, r.PlacedAt, r.UpdatedAt,
		r.Currency, r.PresentmentCurrency, r.Subtotal, r.Total, r.TotalDiscounts,
		r.FinancialStatus, r.CancelledAt, r.Test, r.Gateways, r.ShippingCity, r.ShippingZip,
		r.ShippingCountry, r.DeliveryMethod, r.Codes, r.Applications, r.StoredAt,
	}
}

// writeOrders upserts one version per order (each newer-or-equal one replaces the stored
// one), replaces the lines of those stored, adds refunds, and returns which orders it stored.
// Rows are written in key order, so that concurrent batches lock shared orders in the same
// order (PostgreSQL; no deadlock between them).
//
// An inserted (fresh) order has no lines to delete, so it is left out of the delete: for a batch of new
// orders (the usual case) it is skipped, which also spares PostgreSQL a DELETE ... IN whose
// plan, with statistics that lag a new shop's first rows, can read a large neighbour's rows. PostgreSQL tells an inserted row by xmax = 0 (no transaction has
// replaced it); SQLite reports every row as updated, and deletes as before.
func (s *Store) writeOrders(tx *gorm.DB, writes []orderWrite, refunds []refundRow) (map[orderKey]bool, error) {
	slices.SortFunc(writes, func(a, b orderWrite) int {
		return cmp.Or(strings.Compare(a.row.Shop, b.row.Shop), strings.Compare(a.row.ID, b.row.ID))
	})
	columns := orderColumns()
	updates := make([]string, 0, len(columns)-2)
	for _, c := range columns[2:] {
		updates = append(updates, c+" = excluded."+c)
	}
	stored := make(map[orderKey]bool, len(writes))
	fresh := make(map[orderKey]bool, len(writes))
	err := s.inChunksOf(len(columns), len(writes), func(from, to int) error {
		args := make([]any, 0, (to-from)*len(columns))
		for _, w := range writes[from:to] {
			args = append(args, w.row.values()...)
		}
		var keys []struct {
			Shop     string `gorm:"column:shop"`
			ID       string `gorm:"column:id"`
			Inserted bool   `gorm:"column:inserted"`
		}
		inserted := "FALSE"
		if s.dialect == dialectPostgres {
			inserted = "(xmax = 0)"
		}
		// RETURNING lists the rows inserted or updated: not those the WHERE kept as they were.
		err := tx.Raw(`INSERT INTO orders (`+strings.Join(columns, ", ")+`) VALUES `+placeholders(to-from, len(columns))+`
			ON CONFLICT (shop, id) DO UPDATE SET `+strings.Join(updates, ", ")+`
			WHERE orders.updated_at <= excluded.updated_at
			RETURNING shop, id, `+inserted+` AS inserted`, args...).Scan(&keys).Error
		for _, k := range keys {
			stored[orderKey{k.Shop, k.ID}] = true
			fresh[orderKey{k.Shop, k.ID}] = k.Inserted
		}
		return s.driverError(err)
	})
	if err != nil {
		return nil, err
	}

	var lines []lineRow
	byShop := map[string][]string{}
	for _, w := range writes {
		if !stored[w.key()] {
			continue
		}
		if !fresh[w.key()] {
			byShop[w.row.Shop] = append(byShop[w.row.Shop], w.row.ID)
		}
		lines = append(lines, w.lines...)
	}
	if err := deleteByOrder(tx, "order_lines", byShop); err != nil {
		return nil, err
	}
	const lineColumns = 8
	err = s.inChunksOf(lineColumns, len(lines), func(from, to int) error {
		args := make([]any, 0, (to-from)*lineColumns)
		for _, l := range lines[from:to] {
			args = append(args, l.Shop, l.OrderID, l.LineNo, l.LineID, l.ProductID, l.VariantID, l.Quantity, l.Price)
		}
		return tx.Exec(`INSERT INTO order_lines (shop, order_id, line_no, line_id, product_id, variant_id, quantity, price)
			VALUES `+placeholders(to-from, lineColumns), args...).Error
	})
	if err != nil {
		return nil, err
	}
	if _, err := s.addRefunds(tx, refunds); err != nil {
		return nil, err
	}
	return stored, nil
}

// addRefunds adds the refunds not stored yet (a refund never changes) and returns how many it
// added. A refund listed twice is added once.
func (s *Store) addRefunds(tx *gorm.DB, rows []refundRow) (int64, error) {
	const refundColumns = 5
	var added int64
	err := s.inChunksOf(refundColumns, len(rows), func(from, to int) error {
		args := make([]any, 0, (to-from)*refundColumns)
		for _, r := range rows[from:to] {
			args = append(args, r.Shop, r.ID, r.OrderID, r.Amount, r.CreatedAt)
		}
		res := tx.Exec(`INSERT INTO refunds (shop, id, order_id, amount, created_at) VALUES `+placeholders(to-from, refundColumns)+`
			ON CONFLICT (shop, id) DO NOTHING`, args...)
		added += res.RowsAffected
		return res.Error
	})
	return added, err
}

// writeLedgers makes each order's ledger rows exactly its redemptions (see
// RecordRedemptions): the orders' old rows and identity keys go, the new ones are inserted.
// The caller holds what keeps other writers of these ledgers out: the orders' row locks
// (ApplyOrderEvents) or their ledger locks (RecordRedemptions).
func (s *Store) writeLedgers(tx *gorm.DB, writes []orderWrite) error {
	if len(writes) == 0 {
		return nil
	}
	if err := s.lockLedgers(tx, writes); err != nil {
		return err
	}
	var rows []redemptionRow
	var ids []identityRow
	byShop := map[string][]string{}
	locations := map[string]*time.Location{}
	for _, w := range writes {
		shop := w.row.Shop
		byShop[shop] = append(byShop[shop], w.row.ID)
		loc := func() (*time.Location, error) {
			if l, ok := locations[shop]; ok {
				return l, nil
			}
			st, err := loadSettings(tx, shop)
			if err != nil {
				return nil, err
			}
			locations[shop] = shopLocation(st.Timezone)
			return locations[shop], nil
		}
		r, i, err := redemptionRows(shop, w.row.ID, w.redemptions, loc)
		if err != nil {
			return fmt.Errorf("order %q: %w", w.row.ID, err)
		}
		rows, ids = append(rows, r...), append(ids, i...)
	}
	// Read the old rows first: the counters need them, and only orders that have some need
	// the deletes (a new order has none, unless RecordRedemptions wrote its ledger first).
	old, err := ledgerRowsOf(tx, byShop)
	if err != nil {
		return err
	}
	usage := usageDelta{}
	usage.add(old, -1)
	usage.add(rows, +1)
	withRows := map[string][]string{}
	seen := map[orderKey]bool{}
	for _, r := range old {
		if k := (orderKey{r.Shop, r.OrderID}); !seen[k] {
			seen[k] = true
			withRows[r.Shop] = append(withRows[r.Shop], r.OrderID)
		}
	}
	if err := deleteByOrder(tx, "redemption_identities", withRows); err != nil {
		return err
	}
	if err := deleteByOrder(tx, "redemptions", withRows); err != nil {
		return err
	}
	const redemptionColumns = 9
	err = s.inChunksOf(redemptionColumns, len(rows), func(from, to int) error {
		args := make([]any, 0, (to-from)*redemptionColumns)
		for _, r := range rows[from:to] {
			args = append(args, r.Shop, r.OrderID, r.OfferID, r.Code, r.Amount, r.OrderTotal, r.PlacedAt, r.Day, r.Released)
		}
		return tx.Exec(`INSERT INTO redemptions (shop, order_id, offer_id, code, amount, order_total, placed_at, day, released)
			VALUES `+placeholders(to-from, redemptionColumns), args...).Error
	})
	if err != nil {
		return err
	}
	const identityColumns = 4
	err = s.inChunksOf(identityColumns, len(ids), func(from, to int) error {
		args := make([]any, 0, (to-from)*identityColumns)
		for _, id := range ids[from:to] {
			args = append(args, id.Shop, id.OrderID, id.OfferID, id.IdentityKey)
		}
		return tx.Exec(`INSERT INTO redemption_identities (shop, order_id, offer_id, identity_key)
			VALUES `+placeholders(to-from, identityColumns), args...).Error
	})
	if err != nil {
		return err
	}
	return usage.apply(tx)
}

// lockLedgers takes the ledger locks of the orders, in one statement, in key order, until the
// transaction ends. Two writers of one order's ledger (two versions of it processed at once,
// in two processes) must not interleave: both would delete the old identity keys before
// either inserts, and the second insert would collide with the first. ApplyOrderEvents holds
// its orders' row locks already; RecordRedemptions, which does not lock the order's row,
// relies on these. SQLite needs no lock: its transactions begin immediate, one writer at a
// time. A hash collision only makes two orders wait in turn.
func (s *Store) lockLedgers(tx *gorm.DB, writes []orderWrite) error {
	if s.dialect != dialectPostgres {
		return nil
	}
	keys := make([]any, 0, len(writes)+1)
	keys = append(keys, ledgerLockClass)
	for _, w := range writes {
		keys = append(keys, w.row.Shop+"/"+w.row.ID)
	}
	slices.SortFunc(keys[1:], func(a, b any) int { return strings.Compare(a.(string), b.(string)) })
	return tx.Exec(`SELECT pg_advisory_xact_lock(?, hashtext(k)) FROM (VALUES `+
		placeholders(len(writes), 1)+`) AS v (k)`, keys...).Error
}

// completeEvents marks events done at now (CompleteEvent for many; missing ones are skipped).
func (s *Store) completeEvents(tx *gorm.DB, ids []int64, now time.Time) error {
	for start := 0; start < len(ids); start += inChunk {
		part := ids[start:min(start+inChunk, len(ids))]
		err := tx.Exec(`UPDATE webhook_events SET status = ?, processed_at = ?, locked_until = NULL WHERE id IN ?`,
			EventDone, now, part).Error
		if err != nil {
			return err
		}
	}
	return nil
}

// deleteByOrder deletes table's rows of the given orders (a shop's order ids per shop).
func deleteByOrder(tx *gorm.DB, table string, byShop map[string][]string) error {
	for shop, ids := range byShop {
		err := chunks(ids, func(part []string) error {
			return tx.Exec(`DELETE FROM `+table+` WHERE shop = ? AND order_id IN ?`, shop, part).Error
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// driverError translates a driver's error into gorm's sentinels (as TranslateError does for
// Exec; a Raw query's Scan leaves it untranslated), for translate.
func (s *Store) driverError(err error) error {
	if t, ok := s.db.Dialector.(gorm.ErrorTranslator); ok && err != nil {
		return t.Translate(err)
	}
	return err
}

// maxParams is how many bound parameters go into one multi-row statement. PostgreSQL takes
// up to 65,535; the SQLite driver binds in time quadratic in their number (see codeBatchSize).
func (s *Store) maxParams() int {
	if s.dialect == dialectPostgres {
		return 16_000
	}
	return 800
}

// inChunksOf calls f on consecutive ranges [from, to) of n rows of cols columns, each small
// enough for one statement.
func (s *Store) inChunksOf(cols, n int, f func(from, to int) error) error {
	per := max(s.maxParams()/cols, 1)
	for from := 0; from < n; from += per {
		if err := f(from, min(from+per, n)); err != nil {
			return err
		}
	}
	return nil
}

// placeholders is "(?, ?), (?, ?)" for rows rows of cols columns.
func placeholders(rows, cols int) string {
	one := "(" + strings.Repeat("?, ", cols-1) + "?)"
	var b strings.Builder
	b.Grow(rows * (len(one) + 2))
	for i := range rows {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(one)
	}
	return b.String()
}
