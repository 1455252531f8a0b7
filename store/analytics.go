package store

import (
	"context"
	"fmt"
	"slices"
	"time"

	"gorm.io/gorm"

	"github.com/regularsapp/regulars/discountfn"
)

// Analytics (PRODUCT.md G) over the redemption ledger and the orders table. Money is in the
// shop's minor units. The definitions:
//
//   - A counted order is a stored order that is neither a test order nor cancelled.
//   - A use of an offer is a ledger row of the offer that is not released, whose order is a
//     counted order, and whose placed_at is in the window [from, to).
//   - Uses counts those rows; Orders counts their distinct orders (the same as Uses for one
//     offer; for a campaign an order using two of its offers is one order and two uses).
//   - Discount sums the rows' amounts; Revenue sums the totals (orders.total) of the distinct
//     orders; AOVWith is Revenue / Orders, rounded to the nearest minor unit (0 without orders).
//   - AOVWithout is the average total of the shop's counted orders placed in the window that
//     have no unreleased ledger row for any offer of the shop; OrdersWithout counts them.
//   - A customer is an order's customer id, or its email when it has none (email is stored
//     normalized); orders with neither have no customer and are left out of the customer
//     figures. Customers counts the distinct customers of the uses.
//   - A redeeming customer is New when their first counted order ever (by placed_at, then id)
//     is one of the uses' orders; Returning = Customers - New.
//   - RepeatCustomers counts the redeeming customers who placed another counted order within
//     repeatWithinDays days after one of their uses' orders (strictly after its placed_at, at
//     most that many days later, which may reach past to); RepeatRate = RepeatCustomers /
//     Customers (0 without customers).
//
// Every query is indexed: redemptions_placed (shop, offer_id, placed_at) for the uses, the
// orders primary key for their orders, orders_placed (shop, placed_at) for the orders without
// offers (with the redemptions primary key for the "no ledger row" test), orders_customer and
// orders_email for the customers' orders.

// Stats are the figures of one offer, or of a group of offers (a campaign).
type Stats struct {
	Uses            int              `json:"uses"`
	Orders          int              `json:"orders"`
	Discount        discountfn.Money `json:"discount"`
	Revenue         discountfn.Money `json:"revenue"`
	AOVWith         discountfn.Money `json:"aov_with"`
	AOVWithout      discountfn.Money `json:"aov_without"`
	OrdersWithout   int              `json:"orders_without"`
	Customers       int              `json:"customers"`
	New             int              `json:"new_customers"`
	Returning       int              `json:"returning_customers"`
	RepeatCustomers int              `json:"repeat_customers"`
	RepeatRate      float64          `json:"repeat_rate"`
}

// OfferStat is the figures of one offer.
type OfferStat struct {
	OfferID string `json:"offer_id"`
	Stats
}

// CampaignOffers names a campaign and its offers.
type CampaignOffers struct {
	Campaign string
	OfferIDs []string
}

// CampaignStat is the figures of one campaign: its offers' uses taken together.
type CampaignStat struct {
	Campaign string   `json:"campaign"`
	OfferIDs []string `json:"offer_ids"`
	Stats
}

// DayStat is one shop-local day of an offer's uses.
type DayStat struct {
	Day      string           `json:"day"` // YYYY-MM-DD
	Uses     int              `json:"uses"`
	Discount discountfn.Money `json:"discount"`
	Revenue  discountfn.Money `json:"revenue"`
}

// useRow is one use (see above) with what the figures need of its order.
type useRow struct {
	OfferID    string    `gorm:"column:offer_id"`
	OrderID    string    `gorm:"column:order_id"`
	Amount     int64     `gorm:"column:amount"`
	Total      int64     `gorm:"column:total"`
	PlacedAt   time.Time `gorm:"column:placed_at"`
	CustomerID string    `gorm:"column:customer_id"`
	Email      string    `gorm:"column:email"`
}

// customerKey is the customer of an order ("" when it has neither customer id nor email).
func customerKey(customerID, email string) string {
	switch {
	case customerID != "":
		return "c:" + customerID
	case email != "":
		return "e:" + email
	}
	return ""
}

// loadUses reads the uses of the offers in [from, to).
func loadUses(db *gorm.DB, shop string, offerIDs []string, from, to time.Time) ([]useRow, error) {
	var uses []useRow
	err := chunks(offerIDs, func(part []string) error {
		var rows []useRow
		err := db.Raw(`SELECT r.offer_id, r.order_id, r.amount, o.total, o.placed_at, o.customer_id, o.email
			FROM redemptions r JOIN orders o ON o.shop = r.shop AND o.id = r.order_id
			WHERE r.shop = ? AND r.offer_id IN ? AND r.placed_at >= ? AND r.placed_at < ?
				AND r.released = ? AND o.test = ? AND o.cancelled_at IS NULL`,
			shop, part, utc(from), utc(to), false, false).Scan(&rows).Error
		uses = append(uses, rows...)
		return err
	})
	return uses, err
}

// checkWindow rejects an empty shop or a window that ends before it starts.
func checkWindow(shop string, from, to time.Time) error {
	if err := requireNonEmpty("shop", shop); err != nil {
		return err
	}
	if to.Before(from) {
		return fmt.Errorf("%w: window ends (%s) before it starts (%s)", ErrInvalid, to.UTC().Format(time.RFC3339), from.UTC().Format(time.RFC3339))
	}
	return nil
}

// OfferStats returns the figures (see Stats) of each offer in offerIDs over [from, to), in
// the order given (duplicates dropped); an offer without uses has zero figures, also one the
// shop does not have. loc is the shop's timezone, used by callers to make the window; the
// figures themselves do not depend on it. repeatWithinDays must not be negative.
func (s *Store) OfferStats(ctx context.Context, shop string, offerIDs []string, from, to time.Time, loc *time.Location, repeatWithinDays int) ([]OfferStat, error) {
	groups := make([]CampaignOffers, 0, len(offerIDs))
	seen := map[string]bool{}
	for _, id := range offerIDs {
		if !seen[id] {
			seen[id] = true
			groups = append(groups, CampaignOffers{Campaign: id, OfferIDs: []string{id}})
		}
	}
	stats, err := s.groupStats(ctx, shop, groups, from, to, repeatWithinDays)
	if err != nil {
		return nil, fmt.Errorf("store: offer stats: %w", err)
	}
	out := make([]OfferStat, len(groups))
	for i, g := range groups {
		out[i] = OfferStat{OfferID: g.Campaign, Stats: stats[i]}
	}
	return out, nil
}

// CampaignStats returns the figures of each campaign over [from, to), in the order given: the
// uses of its offers taken together (a customer of two of its offers counts once; an order
// using two of them counts as one order and two uses). See OfferStats.
func (s *Store) CampaignStats(ctx context.Context, shop string, campaigns []CampaignOffers, from, to time.Time, loc *time.Location, repeatWithinDays int) ([]CampaignStat, error) {
	stats, err := s.groupStats(ctx, shop, campaigns, from, to, repeatWithinDays)
	if err != nil {
		return nil, fmt.Errorf("store: campaign stats: %w", err)
	}
	out := make([]CampaignStat, len(campaigns))
	for i, c := range campaigns {
		out[i] = CampaignStat{Campaign: c.Campaign, OfferIDs: slices.Clone(c.OfferIDs), Stats: stats[i]}
	}
	return out, nil
}

// roundedAverage is sum / n to the nearest unit (halves away from zero), 0 when n is 0.
func roundedAverage(sum int64, n int) discountfn.Money {
	if n == 0 {
		return 0
	}
	d := int64(n)
	if sum >= 0 {
		return discountfn.Money((sum + d/2) / d)
	}
	return discountfn.Money((sum - d/2) / d)
}

// customerOrder is a counted order of a redeeming customer.
type customerOrder struct {
	ID         string    `gorm:"column:id"`
	CustomerID string    `gorm:"column:customer_id"`
	Email      string    `gorm:"column:email"`
	PlacedAt   time.Time `gorm:"column:placed_at"`
}

// groupStats computes the figures of each group of offers.
func (s *Store) groupStats(ctx context.Context, shop string, groups []CampaignOffers, from, to time.Time, repeatWithinDays int) ([]Stats, error) {
	if err := checkWindow(shop, from, to); err != nil {
		return nil, err
	}
	if repeatWithinDays < 0 {
		return nil, fmt.Errorf("%w: repeat window of %d days", ErrInvalid, repeatWithinDays)
	}
	db := s.db.WithContext(ctx)
	var all []string
	for _, g := range groups {
		all = append(all, g.OfferIDs...)
	}
	slices.Sort(all)
	all = slices.Compact(all)
	uses, err := loadUses(db, shop, all, from, to)
	if err != nil {
		return nil, translate(err)
	}

	// The shop's counted orders without offers.
	var without struct {
		N   int   `gorm:"column:n"`
		Sum int64 `gorm:"column:total"`
	}
	err = db.Raw(`SELECT COUNT(*) AS n, CAST(COALESCE(SUM(o.total), 0) AS BIGINT) AS total FROM orders o
		WHERE o.shop = ? AND o.placed_at >= ? AND o.placed_at < ? AND o.test = ? AND o.cancelled_at IS NULL
			AND NOT EXISTS (SELECT 1 FROM redemptions r WHERE r.shop = o.shop AND r.order_id = o.id AND r.released = ?)`,
		shop, utc(from), utc(to), false, false).Scan(&without).Error
	if err != nil {
		return nil, translate(err)
	}

	// The counted orders of the redeeming customers, up to the end of the repeat window.
	byCustomer, err := customersOrders(db, shop, all, from, to, to.Add(time.Duration(repeatWithinDays)*24*time.Hour))
	if err != nil {
		return nil, translate(err)
	}
	repeatWindow := time.Duration(repeatWithinDays) * 24 * time.Hour

	byOffer := make(map[string][]int, len(all))
	for i, u := range uses {
		byOffer[u.OfferID] = append(byOffer[u.OfferID], i)
	}
	out := make([]Stats, len(groups))
	for gi, g := range groups {
		st := Stats{AOVWithout: roundedAverage(without.Sum, without.N), OrdersWithout: without.N}
		orders := map[string]bool{}
		useOrders := map[string][]useRow{} // per customer
		for _, id := range slices.Compact(slices.Sorted(slices.Values(g.OfferIDs))) {
			for _, i := range byOffer[id] {
				u := uses[i]
				st.Uses++
				st.Discount += discountfn.Money(u.Amount)
				if !orders[u.OrderID] {
					orders[u.OrderID] = true
					st.Orders++
					st.Revenue += discountfn.Money(u.Total)
					if k := customerKey(u.CustomerID, u.Email); k != "" {
						useOrders[k] = append(useOrders[k], u)
					}
				}
			}
		}
		st.AOVWith = roundedAverage(int64(st.Revenue), st.Orders)
		st.Customers = len(useOrders)
		for k, us := range useOrders {
			history := byCustomer[k] // oldest first
			if len(history) > 0 && slices.ContainsFunc(us, func(u useRow) bool { return u.OrderID == history[0].ID }) {
				st.New++
			}
			repeat := slices.ContainsFunc(us, func(u useRow) bool {
				placed, until := u.PlacedAt, u.PlacedAt.Add(repeatWindow)
				return slices.ContainsFunc(history, func(o customerOrder) bool {
					return o.ID != u.OrderID && o.PlacedAt.After(placed) && !o.PlacedAt.After(until)
				})
			})
			if repeat {
				st.RepeatCustomers++
			}
		}
		st.Returning = st.Customers - st.New
		if st.Customers > 0 {
			st.RepeatRate = float64(st.RepeatCustomers) / float64(st.Customers)
		}
		out[gi] = st
	}
	return out, nil
}

// customersOrders reads the counted orders placed before until of the customers who used
// one of offerIDs in [from, to) (by customer id; by email, among orders without customer id,
// for guests), oldest first per customer (then by id). The customers are found by the
// database in the same statement (a semi-join), not sent back to it as long IN lists.
func customersOrders(db *gorm.DB, shop string, offerIDs []string, from, to, until time.Time) (map[string][]customerOrder, error) {
	out := map[string][]customerOrder{}
	seen := map[string]bool{}
	read := func(column, who, extra string) error {
		return chunks(offerIDs, func(part []string) error {
			var rows []customerOrder
			err := db.Raw(`SELECT o.id, o.customer_id, o.email, o.placed_at FROM orders o
				WHERE o.shop = ? AND o.placed_at < ? AND o.test = ? AND o.cancelled_at IS NULL`+extra+`
					AND o.`+column+` IN (SELECT u.`+column+` FROM redemptions r
						JOIN orders u ON u.shop = r.shop AND u.id = r.order_id
						WHERE r.shop = ? AND r.offer_id IN ? AND r.placed_at >= ? AND r.placed_at < ?
							AND r.released = ? AND u.test = ? AND u.cancelled_at IS NULL AND `+who+`)`,
				shop, utc(until), false, shop, part, utc(from), utc(to), false, false).Scan(&rows).Error
			if err != nil {
				return err
			}
			for _, r := range rows {
				if seen[r.ID] {
					continue
				}
				seen[r.ID] = true
				k := customerKey(r.CustomerID, r.Email)
				out[k] = append(out[k], r)
			}
			return nil
		})
	}
	if err := read("customer_id", "u.customer_id <> ''", ""); err != nil {
		return nil, err
	}
	if err := read("email", "u.customer_id = '' AND u.email <> ''", " AND o.customer_id = ''"); err != nil {
		return nil, err
	}
	for _, list := range out {
		slices.SortFunc(list, func(a, b customerOrder) int {
			if c := a.PlacedAt.Compare(b.PlacedAt); c != 0 {
				return c
			}
			return cmpString(a.ID, b.ID)
		})
	}
	return out, nil
}

func cmpString(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// DailySeries returns one offer's uses (see Stats) per shop-local day over [from, to): every
// day from from's date to the date of to's last instant in loc, days without uses included
// with zeros. The day of a use is its order's placed_at in loc, computed here (not the
// ledger's stored day column, which keeps the timezone the shop had when the row was written).
func (s *Store) DailySeries(ctx context.Context, shop, offerID string, from, to time.Time, loc *time.Location) ([]DayStat, error) {
	if err := checkWindow(shop, from, to); err != nil {
		return nil, fmt.Errorf("store: daily series: %w", err)
	}
	if loc == nil {
		loc = time.UTC
	}
	uses, err := loadUses(s.db.WithContext(ctx), shop, []string{offerID}, from, to)
	if err != nil {
		return nil, fmt.Errorf("store: daily series of offer %q: %w", offerID, translate(err))
	}
	var days []DayStat
	index := map[string]int{}
	if to.After(from) {
		first := from.In(loc)
		last := to.Add(-time.Nanosecond).In(loc).Format(time.DateOnly)
		for d := time.Date(first.Year(), first.Month(), first.Day(), 12, 0, 0, 0, loc); ; d = d.AddDate(0, 0, 1) {
			day := d.Format(time.DateOnly)
			index[day] = len(days)
			days = append(days, DayStat{Day: day})
			if day >= last {
				break
			}
		}
	}
	for _, u := range uses {
		i, ok := index[u.PlacedAt.In(loc).Format(time.DateOnly)]
		if !ok {
			continue
		}
		days[i].Uses++
		days[i].Discount += discountfn.Money(u.Amount)
		days[i].Revenue += discountfn.Money(u.Total)
	}
	return days, nil
}

// migrateAnalyticsIndexes adds the indexes of the analytics queries: uses by offer and time,
// and a shop's orders by time.
func migrateAnalyticsIndexes(tx *gorm.DB, _ string) error {
	return execAll(tx,
		`CREATE INDEX redemptions_placed ON redemptions (shop, offer_id, placed_at)`,
		`CREATE INDEX orders_placed ON orders (shop, placed_at)`,
	)
}
