package store

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/regularsapp/regulars/discountfn"
)

// MarkUninstalled records that the app was uninstalled from the shop, at at (now when zero),
// and deletes the shop's access credentials, in one transaction: the app's access is revoked.
// The shop's data stays until shop/redact (DeleteShopData); UpsertShop or InstallShop, on a
// reinstall, clears the mark. ErrNotFound if the shop does not exist.
//
// An uninstall that happened before the shop's current credentials were installed (a late or
// retried app/uninstalled delivery after a reinstall) changes nothing: the newer install
// stands.
func (s *Store) MarkUninstalled(ctx context.Context, shop string, at time.Time) error {
	if at.IsZero() {
		at = s.timestamp()
	}
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var newer int64
		if err := tx.Model(&tokensRow{}).Where("shop = ? AND installed_at > ?", shop, utc(at)).
			Count(&newer).Error; err != nil {
			return err
		}
		if newer > 0 {
			return nil // the shop exists: its credentials refer to it
		}
		res := tx.Table("shops").Where("domain = ?", shop).
			Updates(map[string]any{"uninstalled_at": utc(at), "updated_at": s.timestamp()})
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 0 {
			return ErrNotFound
		}
		return deleteTokens(tx, shop, at)
	})
	if err != nil {
		return fmt.Errorf("store: mark %q uninstalled: %w", shop, translate(err))
	}
	s.publish(ctx, shop, ChangeOffers, ChangeFacts)
	return nil
}

// CustomerData collects everything held about a customer (customers/data_request): the
// customer row (nil if none is stored), the orders stored under the customer's id (with lines
// and refunds), and the ledger rows of those orders. A customer we hold nothing about gives
// empty data, not an error.
func (s *Store) CustomerData(ctx context.Context, shop, customerID string) (CustomerData, error) {
	if err := requireNonEmpty("customer id", customerID); err != nil {
		return CustomerData{}, fmt.Errorf("store: customer data: %w", err)
	}
	db := s.db.WithContext(ctx)
	var data CustomerData
	var row customerRow
	err := db.Where("shop = ? AND id = ?", shop, customerID).Take(&row).Error
	switch {
	case err == nil:
		c, err := row.customer()
		if err != nil {
			return CustomerData{}, fmt.Errorf("store: customer data: %w", err)
		}
		data.Customer = &c
	case !errors.Is(err, gorm.ErrRecordNotFound):
		return CustomerData{}, fmt.Errorf("store: customer data: %w", translate(err))
	}
	if data.Orders, err = loadOrders(db, shop, "customer_id = ?", customerID); err != nil {
		return CustomerData{}, fmt.Errorf("store: customer data: orders: %w", translate(err))
	}
	ids := make([]string, len(data.Orders))
	for i, o := range data.Orders {
		ids[i] = o.ID
	}
	err = chunks(ids, func(part []string) error {
		rs, err := loadRedemptions(db, shop, "order_id IN ?", part)
		data.Redemptions = append(data.Redemptions, rs...)
		return err
	})
	if err != nil {
		return CustomerData{}, fmt.Errorf("store: customer data: redemptions: %w", translate(err))
	}
	return data, nil
}

type dataRequestRow struct {
	Shop       string    `gorm:"column:shop;primaryKey"`
	RequestID  string    `gorm:"column:request_id;primaryKey"`
	CustomerID string    `gorm:"column:customer_id"`
	Payload    []byte    `gorm:"column:payload"`
	CreatedAt  time.Time `gorm:"column:created_at"`
}

func (dataRequestRow) TableName() string { return "data_requests" }

// SaveDataRequest keeps an assembled data request for the merchant to retrieve. Saving the same
// request id again (a redelivery) replaces its customer and payload and keeps its CreatedAt.
// Shop and requestID must be set (ErrInvalid); the shop must exist (ErrNotFound).
func (s *Store) SaveDataRequest(ctx context.Context, shop, customerID, requestID string, payload []byte) error {
	if err := requireNonEmpty("shop", shop, "data request id", requestID); err != nil {
		return fmt.Errorf("store: save data request: %w", err)
	}
	if payload == nil {
		payload = []byte{}
	}
	row := dataRequestRow{Shop: shop, RequestID: requestID, CustomerID: customerID, Payload: payload, CreatedAt: s.timestamp()}
	err := s.db.WithContext(ctx).Clauses(clause.OnConflict{
		Columns:   []clause.Column{{Name: "shop"}, {Name: "request_id"}},
		DoUpdates: clause.AssignmentColumns([]string{"customer_id", "payload"}),
	}).Create(&row).Error
	if err != nil {
		return fmt.Errorf("store: save data request %q: %w", requestID, translate(err))
	}
	return nil
}

// ListDataRequests returns the shop's stored data requests, newest first.
func (s *Store) ListDataRequests(ctx context.Context, shop string) ([]DataRequest, error) {
	var rows []dataRequestRow
	err := s.db.WithContext(ctx).Where("shop = ?", shop).Order("created_at DESC, request_id DESC").Find(&rows).Error
	if err != nil {
		return nil, fmt.Errorf("store: list data requests: %w", translate(err))
	}
	reqs := make([]DataRequest, len(rows))
	for i, r := range rows {
		reqs[i] = DataRequest{Shop: r.Shop, CustomerID: r.CustomerID, RequestID: r.RequestID, CreatedAt: r.CreatedAt.UTC(), Payload: r.Payload}
	}
	return reqs, nil
}

// RedactCustomer removes a customer's personal data (customers/redact), in one transaction:
//   - the customer row, and the data requests assembled for the customer;
//   - on the customer's orders (those stored under customerID, those in orderIDs, and guest
//     orders under an email of theirs): the customer id, email, phone, address key, browser
//     IP, and shipping city and postcode are blanked; amounts, dates, country, lines, codes
//     and ledger rows stay, without a person, so the merchant's figures do not change;
//   - the customer's phone on any other order;
//   - the identity keys of those orders' ledger rows, and the customer's own identity keys
//     (customer id, email, phone) wherever they are: their usage no longer counts per person;
//   - the bodies of processed and failed webhook events that name one of those orders, the
//     customer's id, email or phone (the body is emptied; the event row stays). Events still
//     pending are processed as delivered: the platform sends customers/redact long after.
//
// customerID or orderIDs must be given (ErrInvalid). Redacting again does nothing more.
func (s *Store) RedactCustomer(ctx context.Context, shop, customerID string, orderIDs []string) error {
	if err := requireNonEmpty("shop", shop); err != nil {
		return fmt.Errorf("store: redact customer: %w", err)
	}
	if customerID == "" && len(orderIDs) == 0 {
		return fmt.Errorf("store: redact customer: %w: neither a customer id nor order ids", ErrInvalid)
	}
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		return s.redact(tx, shop, customerID, orderIDs)
	})
	if err != nil {
		return fmt.Errorf("store: redact customer %q: %w", customerID, translate(err))
	}
	s.publish(ctx, shop, ChangeFacts)
	return nil
}

// redactedOrder is what redaction reads of an order to find the person's other traces.
type redactedOrder struct {
	ID    string `gorm:"column:id"`
	Email string `gorm:"column:email"`
	Phone string `gorm:"column:phone"`
}

func (s *Store) redact(tx *gorm.DB, shop, customerID string, orderIDs []string) error {
	// Who the person is: their customer row, the orders named, and their emails and phones.
	var emails, phones []string
	if customerID != "" {
		var c customerRow
		err := tx.Where("shop = ? AND id = ?", shop, customerID).Take(&c).Error
		if err == nil {
			emails, phones = appendNonEmpty(emails, c.Email), appendNonEmpty(phones, c.Phone)
		} else if !errors.Is(err, gorm.ErrRecordNotFound) {
			return err
		}
	}
	orders := map[string]bool{}
	collect := func(where string, args ...any) error {
		var rows []redactedOrder
		err := tx.Model(&orderRow{}).Select("id", "email", "phone").
			Where("shop = ?", shop).Where(where, args...).Find(&rows).Error
		for _, r := range rows {
			orders[r.ID] = true
			emails, phones = appendNonEmpty(emails, r.Email), appendNonEmpty(phones, r.Phone)
		}
		return err
	}
	if customerID != "" {
		if err := collect("customer_id = ?", customerID); err != nil {
			return err
		}
	}
	if err := chunks(orderIDs, func(part []string) error { return collect("id IN ?", part) }); err != nil {
		return err
	}
	emails, phones = uniq(emails), uniq(phones)
	if err := chunks(emails, func(part []string) error { return collect("email IN ?", part) }); err != nil {
		return err
	}
	emails, phones = uniq(emails), uniq(phones)
	ids := make([]string, 0, len(orders))
	for id := range orders {
		ids = append(ids, id)
	}
	slices.Sort(ids)

	written := make([]orderKey, len(ids))
	for i, id := range ids {
		written[i] = orderKey{shop, id}
	}
	rollups, err := s.beginRollups(tx, written)
	if err != nil {
		return err
	}
	err = chunks(ids, func(part []string) error {
		err := tx.Model(&orderRow{}).Where("shop = ? AND id IN ?", shop, part).Updates(map[string]any{
			"customer_id": "", "email": "", "phone": "", "address_key": "", "browser_ip": "",
			"shipping_city": "", "shipping_zip": "",
		}).Error
		if err != nil {
			return err
		}
		return tx.Where("shop = ? AND order_id IN ?", shop, part).Delete(&identityRow{}).Error
	})
	if err != nil {
		return err
	}
	// The orders' uses no longer name the customer (and their figures lose the customer).
	if err := rollups.finish(tx, nil); err != nil {
		return err
	}
	err = chunks(phones, func(part []string) error {
		return tx.Model(&orderRow{}).Where("shop = ? AND phone IN ?", shop, part).Update("phone", "").Error
	})
	if err != nil {
		return err
	}
	var keys []string
	if customerID != "" {
		keys = append(keys, discountfn.IdentityKey(discountfn.IdentityCustomer, customerID))
	}
	for _, e := range emails {
		keys = append(keys, discountfn.IdentityKey(discountfn.IdentityEmail, e))
	}
	for _, p := range phones {
		keys = append(keys, discountfn.IdentityKey(discountfn.IdentityPhone, p))
	}
	err = chunks(keys, func(part []string) error {
		return tx.Where("shop = ? AND identity_key IN ?", shop, part).Delete(&identityRow{}).Error
	})
	if err != nil {
		return err
	}
	if customerID != "" {
		if err := tx.Where("shop = ? AND id = ?", shop, customerID).Delete(&customerRow{}).Error; err != nil {
			return err
		}
		if err := tx.Where("shop = ? AND customer_id = ?", shop, customerID).Delete(&dataRequestRow{}).Error; err != nil {
			return err
		}
	}

	// Webhook bodies: numbers must stand alone (not be part of a longer number), text may
	// appear anywhere.
	var numbers, texts []string
	numbers = append(numbers, ids...)
	if customerID != "" {
		texts = append(texts, customerID)
		if n := customerID[strings.LastIndexByte(customerID, '/')+1:]; isDigits(n) {
			numbers = append(numbers, n)
		}
	}
	texts = append(append(texts, emails...), phones...)
	return s.clearEventBodies(tx, shop, numbers, texts)
}

// clearEventBodies empties the bodies of the shop's processed and failed events that contain
// one of numbers (as a whole number) or texts. The database finds the candidates; Go checks
// that a number is not part of a longer one.
func (s *Store) clearEventBodies(tx *gorm.DB, shop string, numbers, texts []string) error {
	var needles []string
	for _, n := range append(slices.Clone(numbers), texts...) {
		if n != "" {
			needles = append(needles, n)
		}
	}
	// Needles are bound as text (gorm would expand a []byte into a list) and compared as
	// bytes.
	contains := "instr(body, CAST(? AS BLOB)) > 0"
	if s.dialect == dialectPostgres {
		contains = "position(convert_to(?, 'UTF8') in body) > 0"
	}
	const perQuery = 50
	var hits []int64
	for start := 0; start < len(needles); start += perQuery {
		part := needles[start:min(start+perQuery, len(needles))]
		conds := make([]string, len(part))
		args := []any{shop, EventPending}
		for i, n := range part {
			conds[i] = contains
			args = append(args, n)
		}
		var rows []struct {
			ID   int64  `gorm:"column:id"`
			Body []byte `gorm:"column:body"`
		}
		err := tx.Raw(`SELECT id, body FROM webhook_events WHERE shop = ? AND status <> ? AND (`+
			strings.Join(conds, " OR ")+`)`, args...).Scan(&rows).Error
		if err != nil {
			return err
		}
		for _, r := range rows {
			if mentions(r.Body, numbers, texts) && !slices.Contains(hits, r.ID) {
				hits = append(hits, r.ID)
			}
		}
	}
	for start := 0; start < len(hits); start += inChunk {
		part := hits[start:min(start+inChunk, len(hits))]
		if err := tx.Model(&eventRow{}).Where("shop = ? AND id IN ?", shop, part).Update("body", []byte{}).Error; err != nil {
			return err
		}
	}
	return nil
}

// mentions reports whether body contains one of texts, or one of numbers not as part of a
// longer number.
func mentions(body []byte, numbers, texts []string) bool {
	for _, t := range texts {
		if t != "" && bytes.Contains(body, []byte(t)) {
			return true
		}
	}
	isDigit := func(b []byte, i int) bool { return i >= 0 && i < len(b) && b[i] >= '0' && b[i] <= '9' }
	for _, n := range numbers {
		if n == "" {
			continue
		}
		for from := 0; ; {
			i := bytes.Index(body[from:], []byte(n))
			if i < 0 {
				break
			}
			i += from
			if !isDigit(body, i-1) && !isDigit(body, i+len(n)) {
				return true
			}
			from = i + 1
		}
	}
	return false
}

func isDigits(s string) bool {
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return s != ""
}

func appendNonEmpty(list []string, v string) []string {
	if v == "" {
		return list
	}
	return append(list, v)
}

func uniq(list []string) []string {
	slices.Sort(list)
	return slices.Compact(list)
}

// DeleteShopData removes every row of the shop (shop/redact), in one transaction: orders and
// their lines, refunds, customers, the ledger, data requests, webhook events (including the
// shop/redact event being processed: its CompleteEvent then reports ErrNotFound), offers,
// codes, segments, the block list and the shop itself. Another shop's rows are untouched.
// Deleting a shop that does not exist (a redelivery) does nothing.
func (s *Store) DeleteShopData(ctx context.Context, shop string) error {
	if err := requireNonEmpty("shop", shop); err != nil {
		return fmt.Errorf("store: delete shop data: %w", err)
	}
	// Children before parents, so no reference is ever left dangling.
	tables := []string{
		"redemption_identities", "redemptions", "order_lines", "refunds", "orders",
		"customers", "data_requests", "webhook_events", "offer_codes", "offers", "segments",
		"shop_tokens", "sync_outbox", "offer_sync", "shop_sync", "blocked_identities", "order_flags",
		"offer_usage", "analytics_uses", "analytics_hours",
	}
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		for _, t := range tables {
			if err := tx.Exec(`DELETE FROM `+t+` WHERE shop = ?`, shop).Error; err != nil {
				return fmt.Errorf("%s: %w", t, err)
			}
		}
		return tx.Exec(`DELETE FROM shops WHERE domain = ?`, shop).Error
	})
	if err != nil {
		return fmt.Errorf("store: delete data of shop %q: %w", shop, translate(err))
	}
	s.publish(ctx, shop, ChangeOffers, ChangeFacts)
	return nil
}
