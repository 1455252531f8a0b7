package store

import (
	"context"
	"fmt"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// Order flags: orders the merchant should look at. Today one kind: an order paid by cash on
// delivery that used an offer which switches cash on delivery off (the payment customization
// should have hidden it; the flag is the defence in depth). A flag is written with the order
// version that raised it, in the same transaction (ApplyOrderEvents), and tagged on the
// platform afterwards by the platform sync (SyncOrderTags).

// FlagCODOffer is the kind of flag for a cash-on-delivery order that used a no-COD offer.
const FlagCODOffer = "cod_offer"

// OrderFlag is one flagged order.
type OrderFlag struct {
	Shop      string
	OrderID   string
	Kind      string
	OfferIDs  []string // the offers that raised it
	Total     int64    // the order's total, minor units of the shop's currency
	PlacedAt  time.Time
	CreatedAt time.Time
	TaggedAt  *time.Time // when the platform order got its tag; nil until then
}

type orderFlagRow struct {
	Shop      string     `gorm:"column:shop;primaryKey"`
	OrderID   string     `gorm:"column:order_id;primaryKey"`
	Kind      string     `gorm:"column:kind;primaryKey"`
	OfferIDs  string     `gorm:"column:offer_ids"` // JSON array
	CreatedAt time.Time  `gorm:"column:created_at"`
	TaggedAt  *time.Time `gorm:"column:tagged_at"`
}

func (orderFlagRow) TableName() string { return "order_flags" }

func migrateOrderFlags(tx *gorm.DB, ts string) error {
	return execAll(tx,
		`CREATE TABLE order_flags (
			shop       TEXT NOT NULL REFERENCES shops (domain) ON DELETE CASCADE,
			order_id   TEXT NOT NULL,
			kind       TEXT NOT NULL,
			offer_ids  TEXT NOT NULL DEFAULT '[]',
			created_at `+ts+` NOT NULL,
			tagged_at  `+ts+`,
			PRIMARY KEY (shop, order_id, kind)
		)`,
		`CREATE INDEX order_flags_untagged ON order_flags (shop) WHERE tagged_at IS NULL`,
	)
}

// writeFlags inserts the flags of the stored order versions; a flag raised before stays as it
// was (its tag is not sent twice).
func writeFlags(tx *gorm.DB, writes []orderWrite, now time.Time) error {
	var rows []orderFlagRow
	for _, w := range writes {
		if len(w.codOffers) > 0 {
			rows = append(rows, orderFlagRow{Shop: w.row.Shop, OrderID: w.row.ID, Kind: FlagCODOffer,
				OfferIDs: encodeList(w.codOffers), CreatedAt: now})
		}
	}
	if len(rows) == 0 {
		return nil
	}
	return tx.Clauses(clause.OnConflict{DoNothing: true}).CreateInBatches(rows, 500).Error
}

// ListOrderFlags returns the shop's flags, newest order first, with each order's total and
// time; untaggedOnly keeps those not yet tagged on the platform.
func (s *Store) ListOrderFlags(ctx context.Context, shop string, untaggedOnly bool) ([]OrderFlag, error) {
	var rows []struct {
		Shop      string     `gorm:"column:shop"`
		OrderID   string     `gorm:"column:order_id"`
		Kind      string     `gorm:"column:kind"`
		OfferIDs  string     `gorm:"column:offer_ids"`
		CreatedAt time.Time  `gorm:"column:created_at"`
		TaggedAt  *time.Time `gorm:"column:tagged_at"`
		Total     *int64     `gorm:"column:total"`
		PlacedAt  *time.Time `gorm:"column:placed_at"`
	}
	q := s.db.WithContext(ctx).Table("order_flags f").
		Select("f.shop, f.order_id, f.kind, f.offer_ids, f.created_at, f.tagged_at, o.total, o.placed_at").
		Joins("LEFT JOIN orders o ON o.shop = f.shop AND o.id = f.order_id").
		Where("f.shop = ?", shop)
	if untaggedOnly {
		q = q.Where("f.tagged_at IS NULL")
	}
	if err := q.Order("o.placed_at DESC, f.order_id").Scan(&rows).Error; err != nil {
		return nil, fmt.Errorf("store: list order flags: %w", translate(err))
	}
	out := make([]OrderFlag, len(rows))
	for i, r := range rows {
		offers, err := decodeList(r.OfferIDs)
		if err != nil {
			return nil, fmt.Errorf("store: list order flags: order %q: %w", r.OrderID, err)
		}
		out[i] = OrderFlag{Shop: r.Shop, OrderID: r.OrderID, Kind: r.Kind, OfferIDs: offers,
			CreatedAt: r.CreatedAt.UTC(), TaggedAt: utcPtr(r.TaggedAt)}
		if r.Total != nil {
			out[i].Total = *r.Total
		}
		if r.PlacedAt != nil {
			out[i].PlacedAt = r.PlacedAt.UTC()
		}
	}
	return out, nil
}

// MarkOrderFlagTagged records that the flag's tag is on the platform order.
func (s *Store) MarkOrderFlagTagged(ctx context.Context, shop, orderID, kind string) error {
	res := s.db.WithContext(ctx).Model(&orderFlagRow{}).
		Where("shop = ? AND order_id = ? AND kind = ?", shop, orderID, kind).
		Update("tagged_at", s.timestamp())
	if res.Error != nil {
		return fmt.Errorf("store: mark order flag tagged: %w", translate(res.Error))
	}
	if res.RowsAffected == 0 {
		return fmt.Errorf("store: mark order flag tagged: order %q: %w", orderID, ErrNotFound)
	}
	return nil
}
