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
// The figures come from the rollups (rollups.go), which hold these definitions' results per
// use and per hour, so a report reads its offers' uses in its window and not the customers'
// histories.

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
	uses, err := loadUseFacts(db, shop, all, from, to)
	if err != nil {
		return nil, translate(err)
	}
	withoutN, withoutSum, err := withoutTotals(db, shop, from, to)
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
		st := Stats{AOVWithout: roundedAverage(withoutSum, int(withoutN)), OrdersWithout: int(withoutN)}
		orders := map[string]bool{}
		type customer struct{ new, repeat bool }
		customers := map[string]customer{}
		for _, id := range slices.Compact(slices.Sorted(slices.Values(g.OfferIDs))) {
			for _, i := range byOffer[id] {
				u := uses[i]
				st.Uses++
				st.Discount += discountfn.Money(u.Amount)
				if orders[u.OrderID] {
					continue
				}
				orders[u.OrderID] = true
				st.Orders++
				st.Revenue += discountfn.Money(u.Total)
				k := customerKey(u.CustomerID, u.Email)
				if k == "" {
					continue
				}
				// New: one of the uses' orders is the customer's first counted order.
				// Repeat: the customer's next counted order after one of them came soon enough.
				c := customers[k]
				c.new = c.new || u.First
				c.repeat = c.repeat || (u.NextAt != nil && !u.NextAt.After(u.PlacedAt.Add(repeatWindow)))
				customers[k] = c
			}
		}
		st.AOVWith = roundedAverage(int64(st.Revenue), st.Orders)
		st.Customers = len(customers)
		for _, c := range customers {
			if c.new {
				st.New++
			}
			if c.repeat {
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
	uses, err := loadUseFacts(s.db.WithContext(ctx), shop, []string{offerID}, from, to)
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
