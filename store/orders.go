package store

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/regularsapp/regulars/discountfn"
)

type orderRow struct {
	Shop                string     `gorm:"column:shop;primaryKey"`
	ID                  string     `gorm:"column:id;primaryKey"`
	CustomerID          string     `gorm:"column:customer_id"`
	Email               string     `gorm:"column:email"`
	Phone               string     `gorm:"column:phone"`
	AddressKey          string     `gorm:"column:address_key"`
	BrowserIP           string     `gorm:"column:browser_ip"`
	PlacedAt            time.Time  `gorm:"column:placed_at"`
	UpdatedAt           time.Time  `gorm:"column:updated_at"`
	Currency            string     `gorm:"column:currency"`
	PresentmentCurrency string     `gorm:"column:presentment_currency"`
	Subtotal            int64      `gorm:"column:subtotal"`
	Total               int64      `gorm:"column:total"`
	TotalDiscounts      int64      `gorm:"column:total_discounts"`
	FinancialStatus     string     `gorm:"column:financial_status"`
	CancelledAt         *time.Time `gorm:"column:cancelled_at"`
	Test                bool       `gorm:"column:test"`
	Gateways            string     `gorm:"column:gateways"` // JSON array of strings
	ShippingCity        string     `gorm:"column:shipping_city"`
	ShippingZip         string     `gorm:"column:shipping_zip"`
	ShippingCountry     string     `gorm:"column:shipping_country"`
	DeliveryMethod      string     `gorm:"column:delivery_method"`
	Codes               string     `gorm:"column:codes"`        // JSON array of strings
	Applications        string     `gorm:"column:applications"` // JSON array of applicationJSON
	StoredAt            time.Time  `gorm:"column:stored_at"`    // when this version was written
}

func (orderRow) TableName() string { return "orders" }

// orderUpdateColumns are what a newer version of an order replaces.
func orderUpdateColumns() []string {
	return []string{
		"customer_id", "email", "phone", "address_key", "browser_ip", "placed_at", "updated_at",
		"currency", "presentment_currency", "subtotal", "total", "total_discounts",
		"financial_status", "cancelled_at", "test", "gateways", "shipping_city", "shipping_zip",
		"shipping_country", "delivery_method", "codes", "applications", "stored_at",
	}
}

// applicationJSON is how a DiscountApplication is stored: its own type, so the stored form
// does not change with the Go struct.
type applicationJSON struct {
	Type   string `json:"type"`
	Title  string `json:"title,omitempty"`
	Code   string `json:"code,omitempty"`
	Amount int64  `json:"amount"`
}

type lineRow struct {
	Shop      string `gorm:"column:shop;primaryKey"`
	OrderID   string `gorm:"column:order_id;primaryKey"`
	LineNo    int    `gorm:"column:line_no;primaryKey"`
	LineID    string `gorm:"column:line_id"`
	ProductID string `gorm:"column:product_id"`
	VariantID string `gorm:"column:variant_id"`
	Quantity  int    `gorm:"column:quantity"`
	Price     int64  `gorm:"column:price"`
}

func (lineRow) TableName() string { return "order_lines" }

type refundRow struct {
	Shop      string    `gorm:"column:shop;primaryKey"`
	ID        string    `gorm:"column:id;primaryKey"`
	OrderID   string    `gorm:"column:order_id"`
	Amount    int64     `gorm:"column:amount"`
	CreatedAt time.Time `gorm:"column:created_at"`
}

func (refundRow) TableName() string { return "refunds" }

func (r refundRow) refund() Refund {
	return Refund{ID: r.ID, OrderID: r.OrderID, Amount: discountfn.Money(r.Amount), CreatedAt: r.CreatedAt.UTC()}
}

type customerRow struct {
	Shop      string    `gorm:"column:shop;primaryKey"`
	ID        string    `gorm:"column:id;primaryKey"`
	Email     string    `gorm:"column:email"`
	Phone     string    `gorm:"column:phone"`
	Tags      string    `gorm:"column:tags"` // JSON array of strings
	UpdatedAt time.Time `gorm:"column:updated_at"`
}

func (customerRow) TableName() string { return "customers" }

func (r customerRow) customer() (Customer, error) {
	tags, err := decodeList(r.Tags)
	if err != nil {
		return Customer{}, fmt.Errorf("customer %q tags: %w", r.ID, err)
	}
	return Customer{Shop: r.Shop, ID: r.ID, Email: r.Email, Phone: r.Phone, Tags: tags, UpdatedAt: r.UpdatedAt.UTC()}, nil
}

// encodeList writes a list as a JSON array ("[]" when empty).
func encodeList(list []string) string {
	if len(list) == 0 {
		return "[]"
	}
	b, _ := json.Marshal(list) // strings always marshal
	return string(b)
}

// decodeList reads a JSON array of strings; an empty array reads as nil.
func decodeList(doc string) ([]string, error) {
	var list []string
	if doc == "" {
		return nil, nil
	}
	if err := json.Unmarshal([]byte(doc), &list); err != nil {
		return nil, err
	}
	if len(list) == 0 {
		return nil, nil
	}
	return list, nil
}

// whereNewer makes an upsert update only when the incoming version is at least as new as the
// stored one (an equal version is a replay, applied again to the same effect).
func whereNewer(table string) clause.Where {
	return clause.Where{Exprs: []clause.Expression{
		clause.Expr{SQL: table + ".updated_at <= excluded.updated_at"},
	}}
}

func newOrderRow(o Order, now time.Time) (orderRow, error) {
	apps := make([]applicationJSON, len(o.Applications))
	for i, a := range o.Applications {
		apps[i] = applicationJSON{Type: a.Type, Title: a.Title, Code: a.Code, Amount: int64(a.Amount)}
	}
	appsDoc, err := json.Marshal(apps)
	if err != nil {
		return orderRow{}, err
	}
	return orderRow{
		Shop:                o.Shop,
		ID:                  o.ID,
		CustomerID:          o.CustomerID,
		Email:               o.Email,
		Phone:               o.Phone,
		AddressKey:          o.AddressKey,
		BrowserIP:           o.BrowserIP,
		PlacedAt:            utc(o.PlacedAt),
		UpdatedAt:           utc(o.UpdatedAt),
		Currency:            o.Currency,
		PresentmentCurrency: o.PresentmentCurrency,
		Subtotal:            int64(o.Subtotal),
		Total:               int64(o.Total),
		TotalDiscounts:      int64(o.TotalDiscounts),
		FinancialStatus:     o.FinancialStatus,
		CancelledAt:         optionalTimePtr(o.CancelledAt),
		Test:                o.Test,
		Gateways:            encodeList(o.Gateways),
		ShippingCity:        o.ShippingCity,
		ShippingZip:         o.ShippingZip,
		ShippingCountry:     o.ShippingCountry,
		DeliveryMethod:      o.DeliveryMethod,
		Codes:               encodeList(o.Codes),
		Applications:        string(appsDoc),
		StoredAt:            now,
	}, nil
}

// optionalTimePtr normalizes an optional time for storage (see utc).
func optionalTimePtr(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := utc(*t)
	return &u
}

func (r orderRow) order() (Order, error) {
	o := Order{
		Shop:                r.Shop,
		ID:                  r.ID,
		CustomerID:          r.CustomerID,
		Email:               r.Email,
		Phone:               r.Phone,
		AddressKey:          r.AddressKey,
		BrowserIP:           r.BrowserIP,
		PlacedAt:            r.PlacedAt.UTC(),
		UpdatedAt:           r.UpdatedAt.UTC(),
		Currency:            r.Currency,
		PresentmentCurrency: r.PresentmentCurrency,
		Subtotal:            discountfn.Money(r.Subtotal),
		Total:               discountfn.Money(r.Total),
		TotalDiscounts:      discountfn.Money(r.TotalDiscounts),
		FinancialStatus:     r.FinancialStatus,
		CancelledAt:         utcPtr(r.CancelledAt),
		Test:                r.Test,
		ShippingCity:        r.ShippingCity,
		ShippingZip:         r.ShippingZip,
		ShippingCountry:     r.ShippingCountry,
		DeliveryMethod:      r.DeliveryMethod,
	}
	var err error
	if o.Gateways, err = decodeList(r.Gateways); err != nil {
		return Order{}, fmt.Errorf("order %q gateways: %w", r.ID, err)
	}
	if o.Codes, err = decodeList(r.Codes); err != nil {
		return Order{}, fmt.Errorf("order %q codes: %w", r.ID, err)
	}
	var apps []applicationJSON
	if err := json.Unmarshal([]byte(r.Applications), &apps); err != nil {
		return Order{}, fmt.Errorf("order %q discount applications: %w", r.ID, err)
	}
	for _, a := range apps {
		o.Applications = append(o.Applications, DiscountApplication{
			Type: a.Type, Title: a.Title, Code: a.Code, Amount: discountfn.Money(a.Amount),
		})
	}
	return o, nil
}

// refundRows checks an order's refunds and turns them into rows of the order.
func refundRows(shop, orderID string, refunds []Refund) ([]refundRow, error) {
	rows := make([]refundRow, 0, len(refunds))
	for i, r := range refunds {
		if r.ID == "" {
			return nil, fmt.Errorf("%w: refund %d of %d has no id", ErrInvalid, i+1, len(refunds))
		}
		if r.OrderID != "" && r.OrderID != orderID {
			return nil, fmt.Errorf("%w: refund %q belongs to order %q, not %q", ErrInvalid, r.ID, r.OrderID, orderID)
		}
		rows = append(rows, refundRow{Shop: shop, ID: r.ID, OrderID: orderID, Amount: int64(r.Amount), CreatedAt: utc(r.CreatedAt)})
	}
	return rows, nil
}

// UpsertOrder stores an order unless the stored one has a newer UpdatedAt (applied false then;
// an equal UpdatedAt is a replay and is applied again). When applied, the order's lines are
// replaced by o.Lines. The refunds in o.Refunds are added if not stored yet, whether or not the
// order is applied, and refunds stored before (by AddRefund) are kept: refunds are keyed by id
// and never change. Shop and ID must be set, and each refund's ID (ErrInvalid); the shop must
// exist (ErrNotFound). Times are stored in UTC to the microsecond; empty lists read back nil.
func (s *Store) UpsertOrder(ctx context.Context, o Order) (applied bool, err error) {
	if err := requireNonEmpty("shop", o.Shop, "order id", o.ID); err != nil {
		return false, fmt.Errorf("store: upsert order: %w", err)
	}
	w, err := newOrderWrite(o, s.timestamp())
	if err != nil {
		return false, fmt.Errorf("store: upsert order %q: %w", o.ID, err)
	}
	refunds, err := refundRows(o.Shop, o.ID, o.Refunds)
	if err != nil {
		return false, fmt.Errorf("store: upsert order %q: %w", o.ID, err)
	}
	err = s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		rollups, err := s.beginRollups(tx, []orderKey{w.key()})
		if err != nil {
			return err
		}
		stored, err := s.writeOrders(tx, []orderWrite{w}, refunds)
		if err != nil {
			return err
		}
		applied = stored[w.key()]
		return rollups.finish(tx, func(k orderKey) bool { return stored[k] })
	})
	if err != nil {
		return false, fmt.Errorf("store: upsert order %q: %w", o.ID, translate(err))
	}
	if applied {
		s.publish(ctx, o.Shop, ChangeFacts)
	}
	return applied, nil
}

// GetOrder returns one order with its lines (in payload order) and all its stored refunds
// (oldest first), or ErrNotFound.
func (s *Store) GetOrder(ctx context.Context, shop, id string) (Order, error) {
	orders, err := loadOrders(s.db.WithContext(ctx), shop, "id = ?", id)
	if err != nil {
		return Order{}, fmt.Errorf("store: get order %q: %w", id, translate(err))
	}
	if len(orders) == 0 {
		return Order{}, fmt.Errorf("store: get order %q: %w", id, ErrNotFound)
	}
	return orders[0], nil
}

// inChunk is how many values go into one IN list (both databases cap bound parameters).
const inChunk = 500

// chunks calls f with consecutive parts of ids of at most inChunk values.
func chunks(ids []string, f func(part []string) error) error {
	for start := 0; start < len(ids); start += inChunk {
		if err := f(ids[start:min(start+inChunk, len(ids))]); err != nil {
			return err
		}
	}
	return nil
}

// loadOrders reads the shop's orders matching where (a condition on orders' columns), oldest
// first, with their lines and refunds.
func loadOrders(db *gorm.DB, shop string, where string, args ...any) ([]Order, error) {
	var rows []orderRow
	if err := db.Where("shop = ?", shop).Where(where, args...).Order("placed_at, id").Find(&rows).Error; err != nil {
		return nil, err
	}
	orders := make([]Order, len(rows))
	index := make(map[string]int, len(rows))
	ids := make([]string, len(rows))
	for i, r := range rows {
		o, err := r.order()
		if err != nil {
			return nil, err
		}
		orders[i], index[r.ID], ids[i] = o, i, r.ID
	}
	err := chunks(ids, func(part []string) error {
		var lines []lineRow
		err := db.Where("shop = ? AND order_id IN ?", shop, part).Order("order_id, line_no").Find(&lines).Error
		if err != nil {
			return err
		}
		for _, l := range lines {
			o := &orders[index[l.OrderID]]
			o.Lines = append(o.Lines, OrderLine{
				ID: l.LineID, ProductID: l.ProductID, VariantID: l.VariantID,
				Quantity: l.Quantity, Price: discountfn.Money(l.Price),
			})
		}
		var refunds []refundRow
		err = db.Where("shop = ? AND order_id IN ?", shop, part).Order("order_id, created_at, id").Find(&refunds).Error
		if err != nil {
			return err
		}
		for _, r := range refunds {
			o := &orders[index[r.OrderID]]
			o.Refunds = append(o.Refunds, r.refund())
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return orders, nil
}

// AddRefund stores a refund once (by id) and reports whether it was new. The order may not
// have arrived yet: the refund counts once it does. ID and OrderID must be set (ErrInvalid);
// the shop must exist (ErrNotFound).
func (s *Store) AddRefund(ctx context.Context, shop string, r Refund) (inserted bool, err error) {
	if err := requireNonEmpty("shop", shop, "refund id", r.ID, "refund order id", r.OrderID); err != nil {
		return false, fmt.Errorf("store: add refund: %w", err)
	}
	rows, err := refundRows(shop, r.OrderID, []Refund{r})
	if err != nil {
		return false, fmt.Errorf("store: add refund %q: %w", r.ID, err)
	}
	n, err := s.addRefunds(s.db.WithContext(ctx), rows)
	if err != nil {
		return false, fmt.Errorf("store: add refund %q: %w", r.ID, translate(err))
	}
	if n > 0 {
		s.publish(ctx, shop, ChangeFacts)
	}
	return n > 0, nil
}

// UpsertCustomer stores a customer unless the stored one has a newer UpdatedAt (applied false
// then; an equal UpdatedAt is applied again). Email and Phone are stored as given: callers
// normalize them (discountfn.NormalizeEmail, NormalizePhone). Shop and ID must be set
// (ErrInvalid); the shop must exist (ErrNotFound).
func (s *Store) UpsertCustomer(ctx context.Context, c Customer) (applied bool, err error) {
	if err := requireNonEmpty("shop", c.Shop, "customer id", c.ID); err != nil {
		return false, fmt.Errorf("store: upsert customer: %w", err)
	}
	row := customerRow{Shop: c.Shop, ID: c.ID, Email: c.Email, Phone: c.Phone, Tags: encodeList(c.Tags), UpdatedAt: utc(c.UpdatedAt)}
	res := s.db.WithContext(ctx).Clauses(clause.OnConflict{
		Columns:   []clause.Column{{Name: "shop"}, {Name: "id"}},
		DoUpdates: clause.AssignmentColumns([]string{"email", "phone", "tags", "updated_at"}),
		Where:     whereNewer("customers"),
	}).Create(&row)
	if res.Error != nil {
		return false, fmt.Errorf("store: upsert customer %q: %w", c.ID, translate(res.Error))
	}
	return res.RowsAffected > 0, nil
}

// GetCustomer returns a stored customer, or ErrNotFound.
func (s *Store) GetCustomer(ctx context.Context, shop, id string) (Customer, error) {
	var row customerRow
	if err := s.db.WithContext(ctx).Where("shop = ? AND id = ?", shop, id).Take(&row).Error; err != nil {
		return Customer{}, fmt.Errorf("store: get customer %q: %w", id, translate(err))
	}
	c, err := row.customer()
	if err != nil {
		return Customer{}, fmt.Errorf("store: get customer %q: %w", id, err)
	}
	return c, nil
}
