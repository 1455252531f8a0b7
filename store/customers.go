package store

import (
	"context"
	"fmt"
	"strings"

	"github.com/regularsapp/regulars/discountfn"
)

// CustomerSummary is a stored customer with a count of their orders, for the admin's customer
// picker. Orders and Spend count every order on the customer's account that is neither a test
// nor cancelled (Spend is the order totals, before refunds); what offers count is the shop's
// settings' business (Facts).
type CustomerSummary struct {
	Customer
	Orders int
	Spend  discountfn.Money
}

// maxCustomerSearch bounds one page of SearchCustomers.
const maxCustomerSearch = 100

// SearchCustomers returns up to limit of the shop's customers whose email or id contains query
// (case-insensitive; an empty query matches all), by id.
func (s *Store) SearchCustomers(ctx context.Context, shop, query string, limit int) ([]CustomerSummary, error) {
	if limit <= 0 || limit > maxCustomerSearch {
		limit = maxCustomerSearch
	}
	q := s.db.WithContext(ctx).Where("shop = ?", shop)
	if query = strings.ToLower(strings.TrimSpace(query)); query != "" {
		pattern := "%" + escapeLike(query) + "%"
		q = q.Where(`(LOWER(email) LIKE ? ESCAPE '\' OR LOWER(id) LIKE ? ESCAPE '\')`, pattern, pattern)
	}
	var rows []customerRow
	if err := q.Order("id").Limit(limit).Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("store: search customers: %w", translate(err))
	}
	if len(rows) == 0 {
		return nil, nil
	}
	ids := make([]string, len(rows))
	for i, r := range rows {
		ids[i] = r.ID
	}
	var counts []struct {
		CustomerID string `gorm:"column:customer_id"`
		Orders     int    `gorm:"column:orders"`
		Spend      int64  `gorm:"column:spend"`
	}
	err := s.db.WithContext(ctx).Table("orders").
		Select("customer_id, COUNT(*) AS orders, CAST(COALESCE(SUM(total), 0) AS BIGINT) AS spend").
		Where("shop = ? AND customer_id IN ? AND test = ? AND cancelled_at IS NULL", shop, ids, false).
		Group("customer_id").Scan(&counts).Error
	if err != nil {
		return nil, fmt.Errorf("store: search customers: order counts: %w", translate(err))
	}
	byID := make(map[string]int, len(counts))
	for i, c := range counts {
		byID[c.CustomerID] = i
	}
	out := make([]CustomerSummary, len(rows))
	for i, r := range rows {
		c, err := r.customer()
		if err != nil {
			return nil, fmt.Errorf("store: search customers: %w", err)
		}
		out[i].Customer = c
		if j, ok := byID[r.ID]; ok {
			out[i].Orders, out[i].Spend = counts[j].Orders, discountfn.Money(counts[j].Spend)
		}
	}
	return out, nil
}

// escapeLike escapes LIKE's wildcards and its escape character, so a query matches literally.
func escapeLike(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}
