package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"iter"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/stdlib"
	"gorm.io/gorm"
)

// This file loads a whole new shop at once: its settings, offers, segments, codes, customers
// and order history with lines, refunds and ledger. It is for generated data sets (load and
// analytics measurements, cmd/regulars-gen) and imports, where the webhook pipeline's
// one-batch-at-a-time writes would take hours. The rows are exactly those the ordinary
// writers store (UpsertShop, SaveSettings, SaveOffer, SaveSegment, AddCodes, UpsertCustomer,
// ApplyOrderEvents), so the app serves the shop afterwards as if it had arrived through them;
// a test holds the two ways equal.
//
// On PostgreSQL the rows go through COPY (pgx's CopyFrom) in one transaction on one
// connection; on SQLite through multi-row INSERTs in one transaction. Indexes and foreign keys
// stay in place: dropping them and building them again after the load was measured about a
// quarter faster (300,000 orders: 37 s against 27 s), but it locks the tables of every shop
// for the whole load, and the work to rebuild grows with every shop's rows.

// BulkShop is a new shop's data for BulkLoad.
type BulkShop struct {
	// Shop gives the domain, currency and timezone (the times are ignored).
	Shop Shop
	// Settings are the shop's settings; nil leaves the defaults (as a shop that never saved
	// any). Their Timezone is ignored: the shop's is Shop.Timezone.
	Settings *ShopSettings
	Offers   []BulkOffer
	// Segments: Shop and the times are ignored.
	Segments []Segment
	// Codes are unique codes of Offers: Shop and CreatedAt are ignored, Code is normalized
	// (NormalizeCode), OfferID must be one of Offers. Unlike AddCodes, Used may be set.
	Codes []Code
	// Customers and Orders are read once, in order, while they are written; each may be nil.
	// Their Shop fields may be empty (they are the shop's). Each order appears once, with its
	// lines, refunds and ledger rows (OrderEvent.Redemptions, as in ApplyOrderEvents; EventID
	// must be 0).
	Customers iter.Seq[Customer]
	Orders    iter.Seq[OrderEvent]
}

// BulkOffer is one offer of a BulkShop, stored as SaveOffer creates it (version 1).
type BulkOffer struct {
	ID     string
	Status string
	Config []byte // JSON
}

// BulkCounts are the rows BulkLoad wrote, per table.
type BulkCounts struct {
	Offers, Segments, Codes           int64
	Customers, Orders, Lines, Refunds int64
	Redemptions, IdentityKeys         int64
}

// bulkChunk is how many customers or orders BulkLoad writes per round of statements.
const bulkChunk = 5000

// BulkLoad writes a new shop and everything in data, all or nothing, in one transaction, and
// then refreshes the planner statistics of the tables it wrote (PostgreSQL). The shop must
// not exist (ErrConflict), a key may not repeat (an offer, segment, code, customer, order or
// refund id: ErrConflict) and the usual validation applies (ErrInvalid). Times are stored in
// UTC to the microsecond, as elsewhere. progress, when not nil, is called with the counts so
// far after each round of customers and of orders.
//
// While it runs, its PostgreSQL transaction holds the locks of its own new rows and the
// ordinary row-exclusive locks of the tables, so other shops keep working. Loading a million
// orders takes a few minutes (docs/PERFORMANCE.md).
func (s *Store) BulkLoad(ctx context.Context, data BulkShop, progress func(BulkCounts)) (BulkCounts, error) {
	return s.bulkLoad(ctx, data, progress, bulkChunk)
}

// bulkLoad is BulkLoad with rounds of chunk rows (tests make them small).
func (s *Store) bulkLoad(ctx context.Context, data BulkShop, progress func(BulkCounts), chunk int) (BulkCounts, error) {
	shop := data.Shop.Domain
	if err := requireNonEmpty("shop domain", shop); err != nil {
		return BulkCounts{}, fmt.Errorf("store: bulk load: %w", err)
	}
	b := &bulkLoad{s: s, data: data, shop: shop, now: s.timestamp(), loc: shopLocation(data.Shop.Timezone),
		progress: progress, chunk: chunk}
	var err error
	if s.dialect == dialectPostgres {
		err = s.bulkPostgres(ctx, b)
	} else {
		err = s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
			return b.run(ctx, &gormSink{s: s, tx: tx})
		})
	}
	if ctxErr := ctx.Err(); err != nil && ctxErr != nil && !errors.Is(err, ctxErr) {
		err = fmt.Errorf("%w: %w", ctxErr, err) // the SQLite driver says only "interrupted"
	}
	if err != nil {
		return BulkCounts{}, fmt.Errorf("store: bulk load of shop %q: %w", shop, translate(err))
	}
	if s.dialect == dialectPostgres {
		// Fresh statistics, or the first queries plan for empty tables (see plannerstats.go).
		if err := s.db.WithContext(ctx).Exec(`ANALYZE ` + strings.Join(bulkTables(), ", ")).Error; err != nil {
			return b.counts, fmt.Errorf("store: bulk load of shop %q: analyze: %w", shop, translate(err))
		}
	}
	return b.counts, nil
}

// bulkTables are the tables BulkLoad writes.
func bulkTables() []string {
	return []string{"shops", "offers", "segments", "offer_codes", "customers", "orders", "order_lines",
		"refunds", "redemptions", "redemption_identities", "offer_usage", "analytics_uses", "analytics_hours"}
}

// bulkSink writes rows into one table; columns name the rows' values in order.
type bulkSink interface {
	insert(ctx context.Context, table string, columns []string, rows [][]any) error
	// analyze refreshes the planner statistics of tables, within the load's transaction.
	analyze(ctx context.Context, tables []string) error
	// exec runs one statement (? placeholders) in the load's transaction.
	exec(ctx context.Context, sql string, args ...any) error
}

// bulkPostgres runs the load in one transaction on one connection, through pgx, so that it
// can COPY.
func (s *Store) bulkPostgres(ctx context.Context, b *bulkLoad) error {
	sqlDB, err := s.db.DB()
	if err != nil {
		return err
	}
	conn, err := sqlDB.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close() //nolint:errcheck // returned to the pool; nothing to do about an error
	err = conn.Raw(func(driverConn any) error {
		sc, ok := driverConn.(*stdlib.Conn)
		if !ok {
			return fmt.Errorf("bulk load needs the pgx driver, got %T", driverConn)
		}
		tx, err := sc.Conn().Begin(ctx)
		if err != nil {
			return err
		}
		defer tx.Rollback(context.WithoutCancel(ctx)) //nolint:errcheck // after Commit it does nothing
		if err := b.run(ctx, &pgxSink{tx: tx}); err != nil {
			return err
		}
		return tx.Commit(ctx)
	})
	if errors.Is(err, sql.ErrConnDone) {
		return fmt.Errorf("connection lost: %w", err)
	}
	return s.pgError(err)
}

// pgError translates a PostgreSQL error found anywhere in err's chain into gorm's sentinels,
// for translate.
func (s *Store) pgError(err error) error {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		return fmt.Errorf("%w (%w)", s.driverError(pgErr), err)
	}
	return err
}

// pgxSink writes through COPY.
type pgxSink struct{ tx pgx.Tx }

func (p *pgxSink) insert(ctx context.Context, table string, columns []string, rows [][]any) error {
	if len(rows) == 0 {
		return nil
	}
	_, err := p.tx.CopyFrom(ctx, pgx.Identifier{table}, columns, pgx.CopyFromRows(rows))
	if err != nil {
		return fmt.Errorf("copy into %s: %w", table, err)
	}
	return nil
}

// analyze matters on a fresh database: PostgreSQL plans each foreign-key check once per
// connection, from the statistics it has; for tables never analyzed it may check each order
// line's order, or each ledger identity key's ledger row, through an index that reads every
// row of the shop, which made the load several times slower (see plannerstats.go).
// ANALYZE in the transaction counts the transaction's own rows.
func (p *pgxSink) analyze(ctx context.Context, tables []string) error {
	_, err := p.tx.Exec(ctx, `ANALYZE `+strings.Join(tables, ", "))
	if err != nil {
		return fmt.Errorf("analyze: %w", err)
	}
	return nil
}

// gormSink writes through multi-row INSERTs (SQLite).
type gormSink struct {
	s  *Store
	tx *gorm.DB
}

func (g *gormSink) insert(_ context.Context, table string, columns []string, rows [][]any) error {
	return g.s.inChunksOf(len(columns), len(rows), func(from, to int) error {
		args := make([]any, 0, (to-from)*len(columns))
		for _, r := range rows[from:to] {
			args = append(args, r...)
		}
		err := g.tx.Exec(`INSERT INTO `+table+` (`+strings.Join(columns, ", ")+`) VALUES `+
			placeholders(to-from, len(columns)), args...).Error
		if err != nil {
			return fmt.Errorf("insert into %s: %w", table, err)
		}
		return nil
	})
}

// analyze does nothing: SQLite plans each statement afresh.
func (g *gormSink) analyze(context.Context, []string) error { return nil }

// bulkLoad is one BulkLoad call.
type bulkLoad struct {
	s        *Store
	data     BulkShop
	shop     string
	now      time.Time
	loc      *time.Location
	progress func(BulkCounts)
	chunk    int // rows per round
	counts   BulkCounts
	usage    map[string]int64 // offer id: ledger rows not released (offer_usage, usage.go)
	rollups  bulkRollups      // the hours of the rounds written (rollups.go)
}

// run writes everything through sink, parents before children.
func (b *bulkLoad) run(ctx context.Context, sink bulkSink) error {
	if err := b.writeShop(ctx, sink); err != nil {
		return err
	}
	if err := b.writeCatalog(ctx, sink); err != nil {
		return err
	}
	if err := b.writeCustomers(ctx, sink); err != nil {
		return err
	}
	if err := b.writeOrders(ctx, sink); err != nil {
		return err
	}
	if err := b.rollups.finish(ctx, sink, b.s.dialect, b.shop); err != nil {
		return err
	}
	return b.writeUsage(ctx, sink)
}

// writeUsage inserts the offers' usage counters, counted as the rounds were written.
func (b *bulkLoad) writeUsage(ctx context.Context, sink bulkSink) error {
	offers := slices.Sorted(maps.Keys(b.usage))
	rows := make([][]any, 0, len(offers))
	for _, offer := range offers {
		rows = append(rows, []any{b.shop, offer, b.usage[offer]})
	}
	return sink.insert(ctx, "offer_usage", []string{"shop", "offer_id", "uses"}, rows)
}

func (b *bulkLoad) writeShop(ctx context.Context, sink bulkSink) error {
	var settings any // NULL: the defaults
	if st := b.data.Settings; st != nil {
		doc, err := bulkSettingsDoc(*st)
		if err != nil {
			return err
		}
		settings = doc
	}
	sh := b.data.Shop
	return sink.insert(ctx, "shops", []string{"domain", "currency", "timezone", "settings", "created_at", "updated_at"}, [][]any{{b.shop, sh.Currency, sh.Timezone, settings, b.now, b.now}})
}

// bulkSettingsDoc is the settings column as SaveSettings writes it.
func bulkSettingsDoc(st ShopSettings) (string, error) {
	gateways := make([]string, 0, len(st.CODGateways))
	for _, g := range st.CODGateways {
		if g = strings.TrimSpace(g); g != "" {
			gateways = append(gateways, g)
		}
	}
	st.CODGateways = gateways
	st.Timezone = "" // kept in shops.timezone only
	doc, err := json.Marshal(st)
	if err != nil {
		return "", fmt.Errorf("settings: %w", err)
	}
	return string(doc), nil
}

// writeCatalog writes the offers, segments and codes.
func (b *bulkLoad) writeCatalog(ctx context.Context, sink bulkSink) error {
	offers := make([][]any, 0, len(b.data.Offers))
	ids := make(map[string]bool, len(b.data.Offers))
	for _, o := range b.data.Offers {
		if err := validOffer(b.shop, o.ID, o.Status, o.Config, 0); err != nil {
			return fmt.Errorf("offer %q: %w", o.ID, err)
		}
		ids[o.ID] = true
		offers = append(offers, []any{b.shop, o.ID, o.Status, string(o.Config), int64(1), b.now, b.now})
	}
	if err := sink.insert(ctx, "offers", []string{"shop", "id", "status", "config", "version", "created_at", "updated_at"}, offers); err != nil {
		return err
	}
	b.counts.Offers = int64(len(offers))

	segments := make([][]any, 0, len(b.data.Segments))
	for _, g := range b.data.Segments {
		if err := requireNonEmpty("segment id", g.ID); err != nil {
			return err
		}
		if !json.Valid(g.Config) {
			return fmt.Errorf("segment %q: %w: config is not valid JSON", g.ID, ErrInvalid)
		}
		segments = append(segments, []any{b.shop, g.ID, g.Priority, string(g.Config), b.now, b.now})
	}
	if err := sink.insert(ctx, "segments", []string{"shop", "id", "priority", "config", "created_at", "updated_at"}, segments); err != nil {
		return err
	}
	b.counts.Segments = int64(len(segments))

	codeColumns := []string{"shop", "code", "offer_id", "customer_id", "single_use", "used", "created_at"}
	for start := 0; start < len(b.data.Codes); start += b.chunk {
		part := b.data.Codes[start:min(start+b.chunk, len(b.data.Codes))]
		rows := make([][]any, 0, len(part))
		for _, c := range part {
			code := NormalizeCode(c.Code)
			if code == "" {
				return fmt.Errorf("%w: a code of offer %q is empty", ErrInvalid, c.OfferID)
			}
			if !ids[c.OfferID] {
				return fmt.Errorf("code %q: offer %q: %w", code, c.OfferID, ErrNotFound)
			}
			var customer *string
			if c.CustomerID != "" {
				id := c.CustomerID
				customer = &id
			}
			rows = append(rows, []any{b.shop, code, c.OfferID, customer, c.SingleUse, c.Used, b.now})
		}
		if err := sink.insert(ctx, "offer_codes", codeColumns, rows); err != nil {
			return err
		}
		b.counts.Codes += int64(len(rows))
	}
	return nil
}

// writeCustomers writes the customers in rounds.
func (b *bulkLoad) writeCustomers(ctx context.Context, sink bulkSink) error {
	if b.data.Customers == nil {
		return nil
	}
	columns := []string{"shop", "id", "email", "phone", "tags", "updated_at"}
	rows := make([][]any, 0, b.chunk)
	flush := func() error {
		if err := sink.insert(ctx, "customers", columns, rows); err != nil {
			return err
		}
		b.counts.Customers += int64(len(rows))
		rows = rows[:0]
		b.report()
		return nil
	}
	for c := range b.data.Customers {
		if err := b.ownShop("customer", c.ID, c.Shop); err != nil {
			return err
		}
		rows = append(rows, []any{b.shop, c.ID, c.Email, c.Phone, encodeList(c.Tags), utc(c.UpdatedAt)})
		if len(rows) == b.chunk {
			if err := flush(); err != nil {
				return err
			}
		}
		if err := ctx.Err(); err != nil {
			return err
		}
	}
	if len(rows) > 0 {
		return flush()
	}
	return nil
}

// ownShop checks that a row with a Shop field belongs to the shop being loaded.
func (b *bulkLoad) ownShop(kind, id, shop string) error {
	if err := requireNonEmpty(kind+" id", id); err != nil {
		return err
	}
	if shop != "" && shop != b.shop {
		return fmt.Errorf("%w: %s %q is of shop %q, not %q", ErrInvalid, kind, id, shop, b.shop)
	}
	return nil
}

// orderRound is one round of orders, as rows of each table.
type orderRound struct {
	orders, lines, refunds, redemptions, identities [][]any
	rollups                                         bulkRollups // rollups.go
}

// writeOrders turns the orders into rows in one goroutine while it writes the previous round
// in this one, so that building rows (and whatever the iterator computes) overlaps with the
// database's work.
func (b *bulkLoad) writeOrders(ctx context.Context, sink bulkSink) error {
	if b.data.Orders == nil {
		return nil
	}
	rounds := make(chan orderRound, 1)
	stop := make(chan struct{})
	built := make(chan error, 1)
	go func() {
		defer close(rounds)
		built <- b.buildOrders(rounds, stop)
	}()
	var err error
	first := true
	for r := range rounds {
		if err == nil {
			err = b.writeRound(ctx, sink, r)
			if err == nil && first {
				// The tables have rows now: plan the rest of the load with them.
				err = sink.analyze(ctx, []string{"customers", "orders", "order_lines", "refunds", "redemptions", "redemption_identities"})
				first = false
			}
			if err == nil {
				err = ctx.Err()
			}
			if err != nil {
				close(stop) // the builder stops at its next round; drain until it does
			}
		}
	}
	if buildErr := <-built; err == nil {
		err = buildErr
	}
	return err
}

// buildOrders reads the orders and sends rounds of rows until they are done or stop closes.
func (b *bulkLoad) buildOrders(rounds chan<- orderRound, stop <-chan struct{}) error {
	var r orderRound
	n := 0
	send := func() bool {
		select {
		case rounds <- r:
			r, n = orderRound{}, 0
			return true
		case <-stop:
			return false
		}
	}
	for ev := range b.data.Orders {
		if err := b.addOrder(&r, ev); err != nil {
			return err
		}
		if n++; n == b.chunk && !send() {
			return nil
		}
	}
	if n > 0 {
		send()
	}
	return nil
}

// addOrder adds one order's rows to a round, as ApplyOrderEvents would write them.
func (b *bulkLoad) addOrder(r *orderRound, ev OrderEvent) error {
	o := ev.Order
	if err := b.ownShop("order", o.ID, o.Shop); err != nil {
		return err
	}
	if ev.EventID != 0 {
		return fmt.Errorf("%w: order %q names webhook event %d; bulk-loaded orders come from no event", ErrInvalid, o.ID, ev.EventID)
	}
	o.Shop = b.shop
	w, err := newOrderWrite(o, b.now)
	if err != nil {
		return fmt.Errorf("order %q: %w", o.ID, err)
	}
	refunds, err := refundRows(b.shop, o.ID, o.Refunds)
	if err != nil {
		return fmt.Errorf("order %q: %w", o.ID, err)
	}
	loc := func() (*time.Location, error) { return b.loc, nil }
	ledger, ids, err := redemptionRows(b.shop, o.ID, ev.Redemptions, loc)
	if err != nil {
		return fmt.Errorf("order %q: %w", o.ID, err)
	}
	r.orders = append(r.orders, w.row.values())
	for _, l := range w.lines {
		r.lines = append(r.lines, []any{l.Shop, l.OrderID, l.LineNo, l.LineID, l.ProductID, l.VariantID, l.Quantity, l.Price})
	}
	for _, f := range refunds {
		r.refunds = append(r.refunds, []any{f.Shop, f.ID, f.OrderID, f.Amount, f.CreatedAt})
	}
	for _, l := range ledger {
		r.redemptions = append(r.redemptions, []any{l.Shop, l.OrderID, l.OfferID, l.Code, l.Amount, l.OrderTotal, l.PlacedAt, l.Day, l.Released})
	}
	for _, k := range ids {
		r.identities = append(r.identities, []any{k.Shop, k.OrderID, k.OfferID, k.IdentityKey})
	}
	r.rollups.add(w.row, ledger)
	return nil
}

// writeRound writes one round, parents before children.
func (b *bulkLoad) writeRound(ctx context.Context, sink bulkSink, r orderRound) error {
	for _, t := range []struct {
		table   string
		columns []string
		rows    [][]any
	}{
		{"orders", orderColumns(), r.orders},
		{"order_lines", []string{"shop", "order_id", "line_no", "line_id", "product_id", "variant_id", "quantity", "price"}, r.lines},
		{"refunds", []string{"shop", "id", "order_id", "amount", "created_at"}, r.refunds},
		{"redemptions", []string{"shop", "order_id", "offer_id", "code", "amount", "order_total", "placed_at", "day", "released"}, r.redemptions},
		{"redemption_identities", []string{"shop", "order_id", "offer_id", "identity_key"}, r.identities},
		{"analytics_uses", usesBulkColumns, r.rollups.uses},
	} {
		if err := sink.insert(ctx, t.table, t.columns, t.rows); err != nil {
			return err
		}
	}
	b.rollups.merge(r.rollups)
	c := &b.counts
	c.Orders += int64(len(r.orders))
	c.Lines += int64(len(r.lines))
	c.Refunds += int64(len(r.refunds))
	c.Redemptions += int64(len(r.redemptions))
	if b.usage == nil {
		b.usage = map[string]int64{}
	}
	for _, row := range r.redemptions {
		if released := row[8].(bool); !released { // columns as in the table above
			b.usage[row[2].(string)]++
		}
	}
	c.IdentityKeys += int64(len(r.identities))
	b.report()
	return nil
}

func (b *bulkLoad) report() {
	if b.progress != nil {
		b.progress(b.counts)
	}
}
