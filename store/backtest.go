package store

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/regularsapp/regulars/discountfn"
)

// OrderCursor is a position in a shop's orders ordered by (placed_at, id): a page starts
// after it. The zero cursor is the start.
type OrderCursor struct {
	PlacedAt time.Time `json:"placed_at"`
	ID       string    `json:"id"`
}

// CountedOrder is one order that counts in purchase history (see the rules in facts.go), with
// its lines and refunds, and its history form as Facts would give it.
type CountedOrder struct {
	Order Order
	Past  discountfn.PastOrder
}

// CountedOrderPage is one page of ListCountedOrders.
type CountedOrderPage struct {
	// Orders are the page's orders that count, oldest first.
	Orders []CountedOrder
	// Scanned is how many stored orders the page read, counted or not.
	Scanned int
	// Next is the cursor for the following page; More is false when this page was the last.
	Next OrderCursor
	More bool
}

// MaxOrderPage is the most orders one ListCountedOrders page reads.
const MaxOrderPage = inChunk

// CountOrdersBetween counts the shop's stored orders (counted or not) placed in [from, until).
// A zero from means from the start.
func (s *Store) CountOrdersBetween(ctx context.Context, shop string, from, until time.Time) (int64, error) {
	var n int64
	err := s.db.WithContext(ctx).Model(&orderRow{}).
		Where("shop = ? AND placed_at >= ? AND placed_at < ?", shop, utc(from), utc(until)).Count(&n).Error
	if err != nil {
		return 0, fmt.Errorf("store: count orders of %q: %w", shop, translate(err))
	}
	return n, nil
}

// ListCountedOrders reads one page of the shop's orders placed in [from, until) after the
// cursor, ordered by (placed_at, id), at most limit (1 to MaxOrderPage) orders read, and keeps
// those that count per the shop's settings. Each kept order has its lines (in payload order)
// and refunds, and its discountfn.PastOrder exactly as Facts builds it (net spend, codes,
// product and variant ids, delivery method). ErrNotFound if the shop does not exist.
func (s *Store) ListCountedOrders(ctx context.Context, shop string, from, until time.Time, after OrderCursor, limit int) (CountedOrderPage, error) {
	if limit < 1 || limit > MaxOrderPage {
		return CountedOrderPage{}, fmt.Errorf("store: list counted orders: %w: limit %d is not 1 to %d", ErrInvalid, limit, MaxOrderPage)
	}
	db := s.db.WithContext(ctx)
	st, err := loadSettings(db, shop)
	if err != nil {
		return CountedOrderPage{}, fmt.Errorf("store: list counted orders: %w", translate(err))
	}
	var keys []struct {
		ID       string    `gorm:"column:id"`
		PlacedAt time.Time `gorm:"column:placed_at"`
	}
	q := db.Model(&orderRow{}).Select("id", "placed_at").
		Where("shop = ? AND placed_at >= ? AND placed_at < ?", shop, utc(from), utc(until))
	if after.ID != "" || !after.PlacedAt.IsZero() {
		at := utc(after.PlacedAt)
		q = q.Where("(placed_at > ? OR (placed_at = ? AND id > ?))", at, at, after.ID)
	}
	if err := q.Order("placed_at, id").Limit(limit).Scan(&keys).Error; err != nil {
		return CountedOrderPage{}, fmt.Errorf("store: list counted orders: %w", translate(err))
	}
	page := CountedOrderPage{Scanned: len(keys), More: len(keys) == limit, Next: after}
	if len(keys) == 0 {
		return page, nil
	}
	last := keys[len(keys)-1]
	page.Next = OrderCursor{PlacedAt: last.PlacedAt.UTC(), ID: last.ID}
	ids := make([]string, len(keys))
	for i, k := range keys {
		ids[i] = k.ID
	}
	orders, err := loadOrders(db, shop, "id IN ?", ids)
	if err != nil {
		return CountedOrderPage{}, fmt.Errorf("store: list counted orders: %w", translate(err))
	}
	for _, o := range orders {
		var refunded int64
		for _, r := range o.Refunds {
			refunded += int64(r.Amount)
		}
		h := historyRow{
			ID: o.ID, PlacedAt: o.PlacedAt, Total: int64(o.Total), FinancialStatus: o.FinancialStatus,
			CancelledAt: o.CancelledAt, Test: o.Test, Refunded: refunded,
		}
		if !h.counts(st, o.Gateways) {
			continue
		}
		past := discountfn.PastOrder{
			PlacedAt:       o.PlacedAt,
			NetSpend:       discountfn.Money(max(int64(o.Total)-refunded, 0)),
			Codes:          o.Codes,
			DeliveryMethod: o.DeliveryMethod,
		}
		for _, l := range o.Lines {
			for _, id := range [...]string{l.ProductID, l.VariantID} {
				if id != "" && !slices.Contains(past.ProductIDs, id) {
					past.ProductIDs = append(past.ProductIDs, id)
				}
			}
		}
		page.Orders = append(page.Orders, CountedOrder{Order: o, Past: past})
	}
	return page, nil
}
