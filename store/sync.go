package store

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// Platform sync state: what the app knows of each offer's platform discount (offer_sync), of
// each shop's install work and history backfill (shop_sync), and which unique codes the
// platform has (offer_codes.platform_synced_at). The work itself is queued in sync_outbox
// (outbox.go).

// Per-offer sync states.
const (
	// SyncPending: a change waits to reach the platform.
	SyncPending = "pending"
	// SyncSynced: the platform discount matches the offer as last changed.
	SyncSynced = "synced"
	// SyncFailed: the last attempt failed (LastError says why); it is retried with backoff.
	SyncFailed = "failed"
)

// OfferSync is the platform side of one offer.
type OfferSync struct {
	Shop    string
	OfferID string
	// PlatformID is the platform discount's id ("gid://shopify/DiscountCodeNode/1"), "" until
	// it is created (and again after it was deleted).
	PlatformID string
	// PlatformKind is "code" or "automatic": which kind of app discount PlatformID is.
	PlatformKind string
	// PlatformActive: the discount is active on the platform (not deactivated).
	PlatformActive bool
	// Customers are the customer ids last sent as the discount's context, so the next update
	// can remove the ones no longer listed.
	Customers []string
	State     string // SyncPending, SyncSynced or SyncFailed
	LastError string // the last failure, for the merchant ("" after a success)
	Attempts  int    // failed attempts since the last success
	SyncedAt  *time.Time
	UpdatedAt time.Time
	// CodesBulkID is a bulk code creation the platform may still be running, polled before
	// more codes are sent.
	CodesBulkID string
	// CodesFailed counts unique codes the platform refused (duplicates, invalid ones).
	CodesFailed int
	// Deleted: the offer was deleted and so was its platform discount.
	Deleted bool
}

type offerSyncRow struct {
	Shop           string     `gorm:"column:shop;primaryKey"`
	OfferID        string     `gorm:"column:offer_id;primaryKey"`
	PlatformID     string     `gorm:"column:platform_id"`
	PlatformKind   string     `gorm:"column:platform_kind"`
	PlatformActive bool       `gorm:"column:platform_active"`
	Customers      string     `gorm:"column:customers"`
	State          string     `gorm:"column:state"`
	LastError      string     `gorm:"column:last_error"`
	Attempts       int        `gorm:"column:attempts"`
	SyncedAt       *time.Time `gorm:"column:synced_at"`
	UpdatedAt      time.Time  `gorm:"column:updated_at"`
	CodesBulkID    string     `gorm:"column:codes_bulk_id"`
	CodesFailed    int        `gorm:"column:codes_failed"`
	Deleted        bool       `gorm:"column:deleted"`
}

func (offerSyncRow) TableName() string { return "offer_sync" }

func (r offerSyncRow) sync() OfferSync {
	o := OfferSync{
		Shop: r.Shop, OfferID: r.OfferID, PlatformID: r.PlatformID, PlatformKind: r.PlatformKind,
		PlatformActive: r.PlatformActive, State: r.State, LastError: r.LastError, Attempts: r.Attempts,
		SyncedAt: utcPtr(r.SyncedAt), UpdatedAt: r.UpdatedAt.UTC(), CodesBulkID: r.CodesBulkID,
		CodesFailed: r.CodesFailed, Deleted: r.Deleted,
	}
	_ = json.Unmarshal([]byte(r.Customers), &o.Customers) // written by SaveOfferSync only
	return o
}

// maxSyncError is how much of a failure's message is kept.
const maxSyncError = 2000

func clipError(msg string) string {
	if len(msg) <= maxSyncError {
		return msg
	}
	return strings.ToValidUTF8(msg[:maxSyncError], "")
}

// GetOfferSync returns the offer's sync state; ErrNotFound when nothing was ever queued for it.
func (s *Store) GetOfferSync(ctx context.Context, shop, offerID string) (OfferSync, error) {
	var row offerSyncRow
	err := s.db.WithContext(ctx).Where("shop = ? AND offer_id = ?", shop, offerID).Take(&row).Error
	if err != nil {
		return OfferSync{}, fmt.Errorf("store: get sync state of offer %q: %w", offerID, translate(err))
	}
	return row.sync(), nil
}

// ListOfferSyncs returns the sync state of every offer of the shop that has one.
func (s *Store) ListOfferSyncs(ctx context.Context, shop string) ([]OfferSync, error) {
	var rows []offerSyncRow
	if err := s.db.WithContext(ctx).Where("shop = ?", shop).Order("offer_id").Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("store: list sync states: %w", translate(err))
	}
	out := make([]OfferSync, len(rows))
	for i, r := range rows {
		out[i] = r.sync()
	}
	return out, nil
}

// SaveOfferSync writes the offer's sync state (creating it), stamped now. Its shop must exist
// (ErrNotFound).
func (s *Store) SaveOfferSync(ctx context.Context, o OfferSync) error {
	if err := requireNonEmpty("shop", o.Shop, "offer id", o.OfferID, "state", o.State); err != nil {
		return fmt.Errorf("store: save sync state: %w", err)
	}
	customers := o.Customers
	if customers == nil {
		customers = []string{}
	}
	cj, err := json.Marshal(customers)
	if err != nil {
		return fmt.Errorf("store: save sync state: %w", err)
	}
	var synced *time.Time
	if o.SyncedAt != nil {
		t := utc(*o.SyncedAt)
		synced = &t
	}
	row := offerSyncRow{
		Shop: o.Shop, OfferID: o.OfferID, PlatformID: o.PlatformID, PlatformKind: o.PlatformKind,
		PlatformActive: o.PlatformActive, Customers: string(cj), State: o.State, LastError: clipError(o.LastError),
		Attempts: o.Attempts, SyncedAt: synced, UpdatedAt: s.timestamp(), CodesBulkID: o.CodesBulkID,
		CodesFailed: o.CodesFailed, Deleted: o.Deleted,
	}
	err = s.db.WithContext(ctx).Clauses(clause.OnConflict{
		Columns:   []clause.Column{{Name: "shop"}, {Name: "offer_id"}},
		UpdateAll: true,
	}).Create(&row).Error
	if err != nil {
		return fmt.Errorf("store: save sync state of offer %q: %w", o.OfferID, translate(err))
	}
	return nil
}

// markOfferSyncPending sets the offer's state to pending (creating the row), in tx.
func (s *Store) markOfferSyncPending(tx *gorm.DB, shop, offerID string) error {
	row := offerSyncRow{Shop: shop, OfferID: offerID, Customers: "[]", State: SyncPending, UpdatedAt: s.timestamp()}
	return tx.Clauses(clause.OnConflict{
		Columns:   []clause.Column{{Name: "shop"}, {Name: "offer_id"}},
		DoUpdates: clause.AssignmentColumns([]string{"state", "updated_at"}),
	}).Create(&row).Error
}

// ShopSync is the state of a shop's install work and history backfill.
type ShopSync struct {
	Shop string
	// FunctionID is our discount function's id in the shop, found at install.
	FunctionID string
	// ConfigHash identifies the configuration variables last written to the shop's discount
	// metafields (collection ids and customer tags): when it changes, every discount is
	// updated.
	ConfigHash string
	// WebhooksAt is when the webhook subscriptions were last made.
	WebhooksAt *time.Time
	// BackfillOp is the bulk operation of a backfill in progress, "" when none runs.
	BackfillOp string
	// BackfillSince is the running backfill's filter: orders updated after it (nil: all).
	BackfillSince *time.Time
	// BackfillStartedAt is when the running backfill was started.
	BackfillStartedAt *time.Time
	// ReconciledAt is when the last completed backfill started: the next reconciliation reads
	// the orders updated since then. Nil until the first backfill completes.
	ReconciledAt *time.Time
	// BackfillOrders is how many orders the last completed backfill queued.
	BackfillOrders int
	// LastError is the install work's last failure ("" after a success).
	LastError string
	UpdatedAt time.Time
}

type shopSyncRow struct {
	Shop              string     `gorm:"column:shop;primaryKey"`
	FunctionID        string     `gorm:"column:function_id"`
	ConfigHash        string     `gorm:"column:config_hash"`
	WebhooksAt        *time.Time `gorm:"column:webhooks_at"`
	BackfillOp        string     `gorm:"column:backfill_op"`
	BackfillSince     *time.Time `gorm:"column:backfill_since"`
	BackfillStartedAt *time.Time `gorm:"column:backfill_started_at"`
	ReconciledAt      *time.Time `gorm:"column:reconciled_at"`
	BackfillOrders    int        `gorm:"column:backfill_orders"`
	LastError         string     `gorm:"column:last_error"`
	UpdatedAt         time.Time  `gorm:"column:updated_at"`
}

func (shopSyncRow) TableName() string { return "shop_sync" }

func utcOpt(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := utc(*t)
	return &u
}

// GetShopSync returns the shop's sync state; a shop with none yet gets the zero state (with
// Shop set), not an error.
func (s *Store) GetShopSync(ctx context.Context, shop string) (ShopSync, error) {
	var rows []shopSyncRow
	if err := s.db.WithContext(ctx).Where("shop = ?", shop).Limit(1).Find(&rows).Error; err != nil {
		return ShopSync{}, fmt.Errorf("store: get shop sync state: %w", translate(err))
	}
	if len(rows) == 0 {
		return ShopSync{Shop: shop}, nil
	}
	r := rows[0]
	return ShopSync{
		Shop: r.Shop, FunctionID: r.FunctionID, ConfigHash: r.ConfigHash, WebhooksAt: utcPtr(r.WebhooksAt),
		BackfillOp: r.BackfillOp, BackfillSince: utcPtr(r.BackfillSince), BackfillStartedAt: utcPtr(r.BackfillStartedAt),
		ReconciledAt: utcPtr(r.ReconciledAt), BackfillOrders: r.BackfillOrders, LastError: r.LastError,
		UpdatedAt: r.UpdatedAt.UTC(),
	}, nil
}

// SaveShopSync writes the shop's sync state, stamped now, except ConfigHash once the row
// exists (see SaveShopConfigHash). The shop must exist (ErrNotFound).
func (s *Store) SaveShopSync(ctx context.Context, st ShopSync) error {
	if err := requireNonEmpty("shop", st.Shop); err != nil {
		return fmt.Errorf("store: save shop sync state: %w", err)
	}
	row := shopSyncRow{
		Shop: st.Shop, FunctionID: st.FunctionID, ConfigHash: st.ConfigHash, WebhooksAt: utcOpt(st.WebhooksAt),
		BackfillOp: st.BackfillOp, BackfillSince: utcOpt(st.BackfillSince), BackfillStartedAt: utcOpt(st.BackfillStartedAt),
		ReconciledAt: utcOpt(st.ReconciledAt), BackfillOrders: st.BackfillOrders, LastError: clipError(st.LastError),
		UpdatedAt: s.timestamp(),
	}
	// config_hash is written on insert only: SaveShopConfigHash owns it, so a job that read
	// the state before an offer's job changed the hash does not put the old one back.
	err := s.db.WithContext(ctx).Clauses(clause.OnConflict{
		Columns: []clause.Column{{Name: "shop"}},
		DoUpdates: clause.AssignmentColumns([]string{"function_id", "webhooks_at", "backfill_op", "backfill_since",
			"backfill_started_at", "reconciled_at", "backfill_orders", "last_error", "updated_at"}),
	}).Create(&row).Error
	if err != nil {
		return fmt.Errorf("store: save sync state of shop %q: %w", st.Shop, translate(err))
	}
	return nil
}

// SaveShopConfigHash records the configuration hash of the shop's discount metafields (see
// ShopSync.ConfigHash), leaving the rest of its state as it is. The shop must exist
// (ErrNotFound).
func (s *Store) SaveShopConfigHash(ctx context.Context, shop, hash string) error {
	if err := requireNonEmpty("shop", shop); err != nil {
		return fmt.Errorf("store: save config hash: %w", err)
	}
	row := shopSyncRow{Shop: shop, ConfigHash: hash, UpdatedAt: s.timestamp()}
	err := s.db.WithContext(ctx).Clauses(clause.OnConflict{
		Columns:   []clause.Column{{Name: "shop"}},
		DoUpdates: clause.AssignmentColumns([]string{"config_hash", "updated_at"}),
	}).Create(&row).Error
	if err != nil {
		return fmt.Errorf("store: save config hash of shop %q: %w", shop, translate(err))
	}
	return nil
}

// ShopsToReconcile lists the installed shops whose last completed backfill started before
// before and that run none now: the periodic reconciliation's work list.
func (s *Store) ShopsToReconcile(ctx context.Context, before time.Time) ([]string, error) {
	var shops []string
	err := s.db.WithContext(ctx).Raw(`SELECT s.domain FROM shops s JOIN shop_sync y ON y.shop = s.domain
		WHERE s.uninstalled_at IS NULL AND y.backfill_op = '' AND y.reconciled_at IS NOT NULL AND y.reconciled_at < ?
		ORDER BY s.domain`, utc(before)).Scan(&shops).Error
	if err != nil {
		return nil, fmt.Errorf("store: shops to reconcile: %w", translate(err))
	}
	return shops, nil
}

// UnsyncedCodes returns up to limit of the offer's unique codes that have not been sent to the
// platform yet, in code order.
func (s *Store) UnsyncedCodes(ctx context.Context, shop, offerID string, limit int) ([]string, error) {
	if limit <= 0 {
		limit = DefaultCodePage
	}
	var codes []string
	err := s.db.WithContext(ctx).Model(&codeRow{}).
		Where("shop = ? AND offer_id = ? AND platform_synced_at IS NULL", shop, offerID).
		Order("code").Limit(min(limit, MaxCodePage)).Pluck("code", &codes).Error
	if err != nil {
		return nil, fmt.Errorf("store: unsynced codes: %w", translate(err))
	}
	return codes, nil
}

// CountUnsyncedCodes counts the offer's codes not sent to the platform yet.
func (s *Store) CountUnsyncedCodes(ctx context.Context, shop, offerID string) (int, error) {
	var n int64
	err := s.db.WithContext(ctx).Model(&codeRow{}).
		Where("shop = ? AND offer_id = ? AND platform_synced_at IS NULL", shop, offerID).Count(&n).Error
	if err != nil {
		return 0, fmt.Errorf("store: count unsynced codes: %w", translate(err))
	}
	return int(n), nil
}

// MarkCodesSynced records that the platform was given the codes (normalized) of the offer.
func (s *Store) MarkCodesSynced(ctx context.Context, shop, offerID string, codes []string) error {
	if len(codes) == 0 {
		return nil
	}
	normalized := make([]string, len(codes))
	for i, c := range codes {
		normalized[i] = NormalizeCode(c)
	}
	err := s.db.WithContext(ctx).Model(&codeRow{}).
		Where("shop = ? AND offer_id = ? AND code IN ?", shop, offerID, normalized).
		Update("platform_synced_at", s.timestamp()).Error
	if err != nil {
		return fmt.Errorf("store: mark codes synced: %w", translate(err))
	}
	return nil
}

// migratePlatformSync adds the platform sync: the outbox of work for the platform, the
// per-offer and per-shop sync state, and which unique codes the platform has.
func migratePlatformSync(tx *gorm.DB, ts string) error {
	autoID := autoIDType(stepDialect(tx))
	return execAll(tx,
		// No reference to shops: install work is queued before the shop's details are known.
		// offer_id is '' for a shop's own work (install, backfill).
		`CREATE TABLE sync_outbox (
			id              `+autoID+`,
			shop            TEXT NOT NULL,
			offer_id        TEXT NOT NULL DEFAULT '',
			kind            TEXT NOT NULL,
			created_at      `+ts+` NOT NULL,
			attempts        INTEGER NOT NULL DEFAULT 0,
			next_attempt_at `+ts+` NOT NULL,
			locked_until    `+ts+`,
			last_error      TEXT NOT NULL DEFAULT '',
			done_at         `+ts+`
		)`,
		`CREATE INDEX sync_outbox_due ON sync_outbox (done_at, next_attempt_at, id)`,
		`CREATE INDEX sync_outbox_offer ON sync_outbox (shop, offer_id, done_at, id)`,
		// No reference to offers: the state of a deleted offer's discount stays.
		`CREATE TABLE offer_sync (
			shop            TEXT NOT NULL REFERENCES shops (domain) ON DELETE CASCADE,
			offer_id        TEXT NOT NULL,
			platform_id     TEXT NOT NULL DEFAULT '',
			platform_kind   TEXT NOT NULL DEFAULT '',
			platform_active BOOLEAN NOT NULL DEFAULT FALSE,
			customers       TEXT NOT NULL DEFAULT '[]',
			state           TEXT NOT NULL,
			last_error      TEXT NOT NULL DEFAULT '',
			attempts        INTEGER NOT NULL DEFAULT 0,
			synced_at       `+ts+`,
			updated_at      `+ts+` NOT NULL,
			codes_bulk_id   TEXT NOT NULL DEFAULT '',
			codes_failed    INTEGER NOT NULL DEFAULT 0,
			deleted         BOOLEAN NOT NULL DEFAULT FALSE,
			PRIMARY KEY (shop, offer_id)
		)`,
		`CREATE TABLE shop_sync (
			shop                TEXT PRIMARY KEY REFERENCES shops (domain) ON DELETE CASCADE,
			function_id         TEXT NOT NULL DEFAULT '',
			config_hash         TEXT NOT NULL DEFAULT '',
			webhooks_at         `+ts+`,
			backfill_op         TEXT NOT NULL DEFAULT '',
			backfill_since      `+ts+`,
			backfill_started_at `+ts+`,
			reconciled_at       `+ts+`,
			backfill_orders     INTEGER NOT NULL DEFAULT 0,
			last_error          TEXT NOT NULL DEFAULT '',
			updated_at          `+ts+` NOT NULL
		)`,
		`ALTER TABLE offer_codes ADD COLUMN platform_synced_at `+ts,
		`CREATE INDEX offer_codes_unsynced ON offer_codes (shop, offer_id, platform_synced_at, code)`,
	)
}
