package store

import (
	"context"
	"fmt"
	"slices"
	"time"

	"gorm.io/gorm"

	"github.com/regularsapp/regulars/discountfn"
)

type redemptionRow struct {
	Shop       string    `gorm:"column:shop;primaryKey"`
	OrderID    string    `gorm:"column:order_id;primaryKey"`
	OfferID    string    `gorm:"column:offer_id;primaryKey"`
	Code       string    `gorm:"column:code"`
	Amount     int64     `gorm:"column:amount"`
	OrderTotal int64     `gorm:"column:order_total"`
	PlacedAt   time.Time `gorm:"column:placed_at"`
	Day        string    `gorm:"column:day"`
	Released   bool      `gorm:"column:released"`
}

func (redemptionRow) TableName() string { return "redemptions" }

func (r redemptionRow) redemption() Redemption {
	return Redemption{
		Shop:       r.Shop,
		OrderID:    r.OrderID,
		OfferID:    r.OfferID,
		Code:       r.Code,
		Amount:     discountfn.Money(r.Amount),
		OrderTotal: discountfn.Money(r.OrderTotal),
		PlacedAt:   r.PlacedAt.UTC(),
		Day:        r.Day,
		Released:   r.Released,
	}
}

// identityRow is one identity key of one redemption: per-identity usage counts these.
type identityRow struct {
	Shop        string `gorm:"column:shop;primaryKey"`
	OrderID     string `gorm:"column:order_id;primaryKey"`
	OfferID     string `gorm:"column:offer_id;primaryKey"`
	IdentityKey string `gorm:"column:identity_key;primaryKey"`
}

func (identityRow) TableName() string { return "redemption_identities" }

// redemptionRows checks rs and turns them into ledger and identity rows of the order. Each
// offer may appear once; a Redemption's Shop and OrderID may be empty (they are taken from
// the arguments) but not different. An empty Day is the order's date in loc.
func redemptionRows(shop, orderID string, rs []Redemption, loc func() (*time.Location, error)) ([]redemptionRow, []identityRow, error) {
	rows := make([]redemptionRow, 0, len(rs))
	var ids []identityRow
	seen := make(map[string]bool, len(rs))
	for i, r := range rs {
		switch {
		case r.OfferID == "":
			return nil, nil, fmt.Errorf("%w: redemption %d of %d has no offer id", ErrInvalid, i+1, len(rs))
		case seen[r.OfferID]:
			return nil, nil, fmt.Errorf("%w: offer %q is redeemed twice by one order (give one row per offer)", ErrInvalid, r.OfferID)
		case r.Shop != "" && r.Shop != shop:
			return nil, nil, fmt.Errorf("%w: redemption of offer %q is for shop %q, not %q", ErrInvalid, r.OfferID, r.Shop, shop)
		case r.OrderID != "" && r.OrderID != orderID:
			return nil, nil, fmt.Errorf("%w: redemption of offer %q is for order %q, not %q", ErrInvalid, r.OfferID, r.OrderID, orderID)
		}
		seen[r.OfferID] = true
		day := r.Day
		if day == "" {
			l, err := loc()
			if err != nil {
				return nil, nil, err
			}
			day = r.PlacedAt.In(l).Format(time.DateOnly)
		}
		rows = append(rows, redemptionRow{
			Shop: shop, OrderID: orderID, OfferID: r.OfferID, Code: r.Code,
			Amount: int64(r.Amount), OrderTotal: int64(r.OrderTotal),
			PlacedAt: utc(r.PlacedAt), Day: day, Released: r.Released,
		})
		keys := map[string]bool{}
		for _, k := range r.IdentityKeys {
			if k != "" && !keys[k] {
				keys[k] = true
				ids = append(ids, identityRow{Shop: shop, OrderID: orderID, OfferID: r.OfferID, IdentityKey: k})
			}
		}
	}
	return rows, ids, nil
}

// RecordRedemptions makes the order's ledger rows exactly rs: rows are keyed by (order, offer),
// so a replayed or updated order never counts twice; rows of the order for offers not in rs
// are deleted, and each row's identity keys are replaced. rs may be empty (the order redeemed
// none of our offers, or no longer does). Each offer may appear once in rs (ErrInvalid
// otherwise); a Redemption's Shop and OrderID may be left empty. An empty Day is filled with
// PlacedAt's date in the shop's timezone. The shop must exist (ErrNotFound).
func (s *Store) RecordRedemptions(ctx context.Context, shop, orderID string, rs []Redemption) error {
	if err := requireNonEmpty("shop", shop, "order id", orderID); err != nil {
		return fmt.Errorf("store: record redemptions: %w", err)
	}
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		// beginRollups takes the order's ledger lock (lockLedgers) first.
		rollups, err := s.beginRollups(tx, []orderKey{{shop, orderID}})
		if err != nil {
			return err
		}
		if err := s.writeLedgers(tx, []orderWrite{{row: orderRow{Shop: shop, ID: orderID}, redemptions: rs}}); err != nil {
			return err
		}
		return rollups.finish(tx, nil)
	})
	if err != nil {
		return fmt.Errorf("store: record redemptions of order %q: %w", orderID, translate(err))
	}
	s.publish(ctx, shop, ChangeFacts)
	return nil
}

// ledgerLockClass is the first key of the PostgreSQL advisory locks that serialize writes of
// one order's ledger; the second is a hash of "shop/order" (a domain has no slash). Two-key
// advisory locks never conflict with the one-key lock of Migrate.
const ledgerLockClass = 7_240_117

// ReleaseRedemptions marks the order's ledger rows released (or not): released rows stay in
// the ledger for analytics but no longer count toward limits. An order without ledger rows is
// not an error.
func (s *Store) ReleaseRedemptions(ctx context.Context, shop, orderID string, released bool) error {
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := s.lockLedgers(tx, []orderWrite{{row: orderRow{Shop: shop, ID: orderID}}}); err != nil {
			return err
		}
		var flipped []redemptionRow
		err := tx.Select("shop", "order_id", "offer_id", "released").
			Where("shop = ? AND order_id = ? AND released = ?", shop, orderID, !released).Find(&flipped).Error
		if err != nil || len(flipped) == 0 {
			return err
		}
		rollups, err := s.beginRollups(tx, []orderKey{{shop, orderID}})
		if err != nil {
			return err
		}
		err = tx.Model(&redemptionRow{}).
			Where("shop = ? AND order_id = ? AND released = ?", shop, orderID, !released).
			Update("released", released).Error
		if err != nil {
			return err
		}
		usage := usageDelta{}
		for _, r := range flipped {
			if released {
				usage[usageKey{r.Shop, r.OfferID}]--
			} else {
				usage[usageKey{r.Shop, r.OfferID}]++
			}
		}
		if err := usage.apply(tx); err != nil {
			return err
		}
		return rollups.finish(tx, nil)
	})
	if err != nil {
		return fmt.Errorf("store: release redemptions of order %q: %w", orderID, translate(err))
	}
	s.publish(ctx, shop, ChangeFacts)
	return nil
}

// ListRedemptions lists the ledger rows of one offer (all offers when offerID is ""), released
// ones included, oldest order first, each with its identity keys (sorted).
func (s *Store) ListRedemptions(ctx context.Context, shop, offerID string) ([]Redemption, error) {
	db := s.db.WithContext(ctx)
	var rs []Redemption
	var err error
	if offerID == "" {
		rs, err = loadRedemptions(db, shop, "1 = 1")
	} else {
		rs, err = loadRedemptions(db, shop, "offer_id = ?", offerID)
	}
	if err != nil {
		return nil, fmt.Errorf("store: list redemptions: %w", translate(err))
	}
	return rs, nil
}

// loadRedemptions reads the shop's ledger rows matching where (a condition on redemptions'
// columns), with their identity keys.
func loadRedemptions(db *gorm.DB, shop, where string, args ...any) ([]Redemption, error) {
	var rows []redemptionRow
	err := db.Where("shop = ?", shop).Where(where, args...).Order("placed_at, order_id, offer_id").Find(&rows).Error
	if err != nil {
		return nil, err
	}
	type key struct{ order, offer string }
	rs := make([]Redemption, len(rows))
	index := make(map[key]int, len(rows))
	orders := make([]string, len(rows))
	for i, r := range rows {
		rs[i] = r.redemption()
		index[key{r.OrderID, r.OfferID}] = i
		orders[i] = r.OrderID
	}
	slices.Sort(orders)
	orders = slices.Compact(orders)
	err = chunks(orders, func(part []string) error {
		var ids []identityRow
		err := db.Where("shop = ? AND order_id IN ?", shop, part).Order("order_id, offer_id, identity_key").Find(&ids).Error
		if err != nil {
			return err
		}
		for _, id := range ids {
			if i, ok := index[key{id.OrderID, id.OfferID}]; ok {
				rs[i].IdentityKeys = append(rs[i].IdentityKeys, id.IdentityKey)
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return rs, nil
}
