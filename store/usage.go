package store

import (
	"cmp"
	"slices"

	"gorm.io/gorm"
)

// offer_usage holds, per offer, the number of ledger rows that are not released: the total
// usage a checkout compares with an offer's limit. Counting it from the ledger on every
// checkout reads every redemption of the shop (158 ms at 150,000 rows, most of the checkout's
// deadline), so the writers of the ledger keep it instead, in the same transaction as the
// rows they change:
//   - writeLedgers (ApplyOrderEvents, RecordRedemptions) adds the new rows and takes away
//     the replaced ones;
//   - ReleaseRedemptions takes away or gives back the rows whose state it flips;
//   - BulkLoad inserts its shop's counts;
//   - DeleteShopData deletes them with the shop.
//
// Counters are updated in key order, so two transactions never wait on each other's counters
// in a cycle. On PostgreSQL a counter's row lock makes concurrent orders of one offer commit
// one after the other; the count stays exact (a fault test checks 1,000 concurrent orders).

// usageKey names one offer's counter.
type usageKey struct{ shop, offer string }

// usageDelta is a change of counters, by offer.
type usageDelta map[usageKey]int64

// add counts the ledger rows that count toward usage (not released) with sign.
func (d usageDelta) add(rows []redemptionRow, sign int64) {
	for _, r := range rows {
		if !r.Released {
			d[usageKey{r.Shop, r.OfferID}] += sign
		}
	}
}

// apply adds the delta to the counters, creating the missing ones.
func (d usageDelta) apply(tx *gorm.DB) error {
	keys := make([]usageKey, 0, len(d))
	for k, n := range d {
		if n != 0 {
			keys = append(keys, k)
		}
	}
	slices.SortFunc(keys, func(a, b usageKey) int {
		return cmp.Or(cmp.Compare(a.shop, b.shop), cmp.Compare(a.offer, b.offer))
	})
	for _, k := range keys {
		err := tx.Exec(`INSERT INTO offer_usage (shop, offer_id, uses) VALUES (?, ?, ?)
			ON CONFLICT (shop, offer_id) DO UPDATE SET uses = offer_usage.uses + excluded.uses`,
			k.shop, k.offer, d[k]).Error
		if err != nil {
			return err
		}
	}
	return nil
}

// ledgerRowsOf reads the ledger rows of the given orders (a shop's order ids per shop); only
// the columns the counters need.
func ledgerRowsOf(tx *gorm.DB, byShop map[string][]string) ([]redemptionRow, error) {
	var rows []redemptionRow
	for shop, ids := range byShop {
		err := chunks(ids, func(part []string) error {
			var got []redemptionRow
			err := tx.Select("shop", "order_id", "offer_id", "released").
				Where("shop = ? AND order_id IN ?", shop, part).Find(&got).Error
			rows = append(rows, got...)
			return err
		})
		if err != nil {
			return nil, err
		}
	}
	return rows, nil
}

// offerUsageTotals reads the shop's counters that are not zero. The rows are scanned by hand:
// a shop with 10,000 offers has as many, and gorm's reflection made this a checkout's largest
// cost.
func offerUsageTotals(db *gorm.DB, shop string) (map[string]int, error) {
	rows, err := db.Raw(`SELECT offer_id, uses FROM offer_usage WHERE shop = ? AND uses <> 0`, shop).Rows()
	if err != nil {
		return nil, err
	}
	defer rows.Close() //nolint:errcheck // rows.Err below reports what matters
	totals := map[string]int{}
	for rows.Next() {
		var offer string
		var uses int
		if err := rows.Scan(&offer, &uses); err != nil {
			return nil, err
		}
		totals[offer] = uses
	}
	return totals, rows.Err()
}

// migrateOfferUsage creates the counters and fills them from the ledger as it is.
func migrateOfferUsage(tx *gorm.DB, _ string) error {
	for _, stmt := range []string{
		`CREATE TABLE offer_usage (
			shop     TEXT NOT NULL REFERENCES shops (domain) ON DELETE CASCADE,
			offer_id TEXT NOT NULL,
			uses     BIGINT NOT NULL,
			PRIMARY KEY (shop, offer_id)
		)`,
		`INSERT INTO offer_usage (shop, offer_id, uses)
			SELECT shop, offer_id, COUNT(*) FROM redemptions WHERE released = FALSE GROUP BY shop, offer_id`,
	} {
		if err := tx.Exec(stmt).Error; err != nil {
			return err
		}
	}
	return nil
}
