package store

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/regularsapp/regulars/discountfn"
)

// What counts as an order in a buyer's history (Facts), per the shop's settings:
//   - test orders count only with CountTestOrders;
//   - cancelled orders (CancelledAt set) count only with CountCancelled;
//   - fully refunded orders count only with CountFullyRefunded: financial status "refunded",
//     or refunds of at least the total (an order that cost nothing and was not refunded is
//     not refunded);
//   - unpaid cash-on-delivery orders count only with CountUnpaidCOD: an order paid through a
//     gateway named in CODGateways (without regard to case or surrounding spaces) whose
//     financial status is not paid, partially_refunded or refunded;
//   - every other order counts, with NetSpend = total - refunds, never below zero.
//
// The rules apply to what is stored now, so a refund or a payment arriving later changes the
// history from then on.

// isPaid reports whether a financial status says the order's money was received.
func isPaid(financialStatus string) bool {
	switch financialStatus {
	case "paid", "partially_refunded", "refunded":
		return true
	}
	return false
}

// historyRow is what Facts reads of one order.
type historyRow struct {
	ID              string     `gorm:"column:id"`
	PlacedAt        time.Time  `gorm:"column:placed_at"`
	Total           int64      `gorm:"column:total"`
	FinancialStatus string     `gorm:"column:financial_status"`
	CancelledAt     *time.Time `gorm:"column:cancelled_at"`
	Test            bool       `gorm:"column:test"`
	Gateways        string     `gorm:"column:gateways"`
	Codes           string     `gorm:"column:codes"`
	DeliveryMethod  string     `gorm:"column:delivery_method"`
	Refunded        int64      `gorm:"column:refunded"`
}

// counts applies the shop's settings to one order.
func (r historyRow) counts(st ShopSettings, gateways []string) bool {
	switch {
	case r.Test && !st.CountTestOrders:
		return false
	case r.CancelledAt != nil && !st.CountCancelled:
		return false
	case !st.CountFullyRefunded && (r.FinancialStatus == "refunded" || (r.Refunded > 0 && r.Refunded >= r.Total)):
		return false
	case !st.CountUnpaidCOD && isCOD(st.CODGateways, gateways) && !isPaid(r.FinancialStatus):
		return false
	}
	return true
}

// isCOD reports whether one of an order's gateways is a cash-on-delivery gateway.
func isCOD(codGateways, gateways []string) bool {
	for _, g := range gateways {
		for _, cod := range codGateways {
			if strings.EqualFold(strings.TrimSpace(g), strings.TrimSpace(cod)) {
				return true
			}
		}
	}
	return false
}

// buyerOrders is the condition on orders (aliased o) that selects a buyer's orders: by
// customer id, and by email (so guest orders under the same email count for the customer).
// ok is false for a buyer with neither.
func buyerOrders(b discountfn.Buyer) (where string, args []any, ok bool) {
	switch {
	case b.CustomerID != "" && b.Email != "":
		return "(o.customer_id = ? OR o.email = ?)", []any{b.CustomerID, b.Email}, true
	case b.CustomerID != "":
		return "o.customer_id = ?", []any{b.CustomerID}, true
	case b.Email != "":
		return "o.email = ?", []any{b.Email}, true
	}
	return "", nil, false
}

// Facts assembles what the engine needs about a buyer: their counted orders (by customer id,
// and guest orders under the same email), per the shop's settings (see the rules above), as
// discountfn.PastOrder; and the usage of every offer (total, per shop-local day, and per
// identity key of this buyer).
//
//   - PastOrder.ProductIDs holds the product and variant ids of the order's lines;
//     CollectionIDs stays empty (orders do not say which collections their products were in).
//   - Usage counts the ledger rows that are not released, for every offer that has any.
//     ByDay holds only the days from two days before today (UTC) onward, which include today
//     and yesterday in every timezone: per-day caps look at today only. ByIdentity holds the
//     buyer's own identity keys (buyer.IdentityKeys()) only.
//   - Blocked holds those of the buyer's own identity keys (buyer.IdentityKeys()) that are on
//     the shop's block list (BlockIdentity); nil when none is.
//
// A buyer with neither customer id nor email has no history (usage is still filled in).
// ErrNotFound if the shop does not exist. Seven indexed queries at most.
//
// Facts is BuyerFacts and ShopUsage in one value, the buyer's per-identity counts in Usage.
func (s *Store) Facts(ctx context.Context, shop string, buyer discountfn.Buyer) (discountfn.Facts, error) {
	facts, err := s.BuyerFacts(ctx, shop, buyer)
	if err != nil {
		return discountfn.Facts{}, err
	}
	usage, err := s.ShopUsage(ctx, shop)
	if err != nil {
		return discountfn.Facts{}, err
	}
	for offer, byKey := range facts.BuyerUsage {
		if usage.Offers == nil {
			usage.Offers = map[string]discountfn.OfferUsage{}
		}
		u := usage.Offers[offer]
		u.ByIdentity = byKey
		usage.Offers[offer] = u
	}
	facts.Usage, facts.BuyerUsage = usage, nil
	return facts, nil
}

// BuyerFacts is what Facts says of the buyer alone: History, Blocked, and the per-identity
// usage of the buyer's own keys in BuyerUsage (offer id, then identity key); Usage stays
// empty. With ShopUsage, which is the same for every buyer, it makes the whole (the checkout
// caches the two apart: a large shop's usage is thousands of rows, read once per change rather
// than once per buyer). ErrNotFound if the shop does not exist. Five indexed queries at most.
func (s *Store) BuyerFacts(ctx context.Context, shop string, buyer discountfn.Buyer) (discountfn.Facts, error) {
	db := s.db.WithContext(ctx)
	st, err := loadSettings(db, shop)
	if err != nil {
		return discountfn.Facts{}, fmt.Errorf("store: facts: %w", translate(err))
	}
	history, err := buyerHistory(db, shop, buyer, st)
	if err != nil {
		return discountfn.Facts{}, fmt.Errorf("store: facts: history: %w", translate(err))
	}
	byKey, err := identityUsage(db, shop, buyer.IdentityKeys())
	if err != nil {
		return discountfn.Facts{}, fmt.Errorf("store: facts: usage: %w", translate(err))
	}
	blocked, err := blockedKeys(db, shop, buyer.IdentityKeys())
	if err != nil {
		return discountfn.Facts{}, fmt.Errorf("store: facts: block list: %w", translate(err))
	}
	return discountfn.Facts{History: history, BuyerUsage: byKey, Blocked: blocked}, nil
}

// buyerHistory reads the buyer's orders and keeps those that count, oldest first.
func buyerHistory(db *gorm.DB, shop string, buyer discountfn.Buyer, st ShopSettings) (discountfn.History, error) {
	cond, args, ok := buyerOrders(buyer)
	if !ok {
		return discountfn.History{}, nil
	}
	var rows []historyRow
	err := db.Raw(`SELECT o.id, o.placed_at, o.total, o.financial_status, o.cancelled_at, o.test,
			o.gateways, o.codes, o.delivery_method,
			(SELECT CAST(COALESCE(SUM(r.amount), 0) AS BIGINT) FROM refunds r
				WHERE r.shop = o.shop AND r.order_id = o.id) AS refunded
		FROM orders o
		WHERE o.shop = ? AND `+cond+`
		ORDER BY o.placed_at, o.id`,
		append([]any{shop}, args...)...).Scan(&rows).Error
	if err != nil {
		return discountfn.History{}, err
	}
	orders := make([]discountfn.PastOrder, 0, len(rows))
	index := make(map[string]int, len(rows))
	for _, r := range rows {
		gateways, err := decodeList(r.Gateways)
		if err != nil {
			return discountfn.History{}, fmt.Errorf("order %q gateways: %w", r.ID, err)
		}
		if !r.counts(st, gateways) {
			continue
		}
		codes, err := decodeList(r.Codes)
		if err != nil {
			return discountfn.History{}, fmt.Errorf("order %q codes: %w", r.ID, err)
		}
		index[r.ID] = len(orders)
		orders = append(orders, discountfn.PastOrder{
			PlacedAt:       r.PlacedAt.UTC(),
			NetSpend:       discountfn.Money(max(r.Total-r.Refunded, 0)),
			Codes:          codes,
			DeliveryMethod: r.DeliveryMethod,
		})
	}
	if len(orders) == 0 {
		return discountfn.History{}, nil
	}
	var lines []struct {
		OrderID   string `gorm:"column:order_id"`
		ProductID string `gorm:"column:product_id"`
		VariantID string `gorm:"column:variant_id"`
	}
	err = db.Raw(`SELECT l.order_id, l.product_id, l.variant_id
		FROM order_lines l JOIN orders o ON o.shop = l.shop AND o.id = l.order_id
		WHERE o.shop = ? AND `+cond+`
		ORDER BY l.order_id, l.line_no`,
		append([]any{shop}, args...)...).Scan(&lines).Error
	if err != nil {
		return discountfn.History{}, err
	}
	for _, l := range lines {
		i, counted := index[l.OrderID]
		if !counted {
			continue
		}
		o := &orders[i]
		for _, id := range [...]string{l.ProductID, l.VariantID} {
			if id != "" && !slices.Contains(o.ProductIDs, id) {
				o.ProductIDs = append(o.ProductIDs, id)
			}
		}
	}
	return discountfn.History{Orders: orders}, nil
}

// ShopUsage counts the shop's ledger rows that are not released, per offer (from the
// counters, usage.go) and per offer and recent day, as Facts' Usage without ByIdentity. Two
// queries.
func (s *Store) ShopUsage(ctx context.Context, shop string) (discountfn.Usage, error) {
	db := s.db.WithContext(ctx)
	totals, err := offerUsageTotals(db, shop)
	if err != nil {
		return discountfn.Usage{}, fmt.Errorf("store: usage: %w", translate(err))
	}
	if len(totals) == 0 {
		return discountfn.Usage{}, nil
	}
	offers := make(map[string]discountfn.OfferUsage, len(totals))
	for offer, n := range totals {
		offers[offer] = discountfn.OfferUsage{Total: n}
	}

	since := s.timestamp().AddDate(0, 0, -2).Format(time.DateOnly)
	var days []struct {
		OfferID string `gorm:"column:offer_id"`
		Day     string `gorm:"column:day"`
		N       int    `gorm:"column:n"`
	}
	err = db.Raw(`SELECT offer_id, day, COUNT(*) AS n FROM redemptions
		WHERE shop = ? AND day >= ? AND released = ? GROUP BY offer_id, day`, shop, since, false).Scan(&days).Error
	if err != nil {
		return discountfn.Usage{}, fmt.Errorf("store: usage by day: %w", translate(err))
	}
	for _, d := range days {
		u := offers[d.OfferID]
		if u.ByDay == nil {
			u.ByDay = map[string]int{}
		}
		u.ByDay[d.Day] = d.N
		offers[d.OfferID] = u
	}
	return discountfn.Usage{Offers: offers}, nil
}

// identityUsage counts the shop's ledger rows that are not released per offer and one of
// keys: offer id, then key. Nil when there are none.
func identityUsage(db *gorm.DB, shop string, keys []string) (map[string]map[string]int, error) {
	if len(keys) == 0 {
		return nil, nil
	}
	var rows []struct {
		OfferID     string `gorm:"column:offer_id"`
		IdentityKey string `gorm:"column:identity_key"`
		N           int    `gorm:"column:n"`
	}
	err := db.Raw(`SELECT i.offer_id, i.identity_key, COUNT(*) AS n
		FROM redemption_identities i
		JOIN redemptions r ON r.shop = i.shop AND r.order_id = i.order_id AND r.offer_id = i.offer_id
		WHERE i.shop = ? AND i.identity_key IN ? AND r.released = ?
		GROUP BY i.offer_id, i.identity_key`, shop, keys, false).Scan(&rows).Error
	if err != nil || len(rows) == 0 {
		return nil, err
	}
	byOffer := map[string]map[string]int{}
	for _, r := range rows {
		if byOffer[r.OfferID] == nil {
			byOffer[r.OfferID] = map[string]int{}
		}
		byOffer[r.OfferID][r.IdentityKey] = r.N
	}
	return byOffer, nil
}
