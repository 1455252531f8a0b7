package store

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"gorm.io/gorm"
)

// CodeRow is one discount code to add to an offer.
type CodeRow struct {
	Code       string // stored trimmed and upper-case: codes are case-insensitive
	CustomerID string // "" for any customer; otherwise only this customer may use it
	SingleUse  bool
}

// Code is a stored discount code.
type Code struct {
	Shop       string
	Code       string // upper-case
	OfferID    string
	CustomerID string // "" for any customer
	SingleUse  bool
	Used       bool
	CreatedAt  time.Time
}

type codeRow struct {
	Shop       string    `gorm:"column:shop;primaryKey"`
	Code       string    `gorm:"column:code;primaryKey"`
	OfferID    string    `gorm:"column:offer_id"`
	CustomerID *string   `gorm:"column:customer_id"`
	SingleUse  bool      `gorm:"column:single_use"`
	Used       bool      `gorm:"column:used"`
	CreatedAt  time.Time `gorm:"column:created_at"`
}

func (codeRow) TableName() string { return "offer_codes" }

func (r codeRow) code() Code {
	c := Code{
		Shop:      r.Shop,
		Code:      r.Code,
		OfferID:   r.OfferID,
		SingleUse: r.SingleUse,
		Used:      r.Used,
		CreatedAt: r.CreatedAt.UTC(),
	}
	if r.CustomerID != nil {
		c.CustomerID = *r.CustomerID
	}
	return c
}

// NormalizeCode is the form codes are stored and looked up in: trimmed, upper-case.
func NormalizeCode(code string) string {
	return strings.ToUpper(strings.TrimSpace(code))
}

// codeBatchSize is how many rows go into one multi-row INSERT (7 bound parameters each).
// PostgreSQL takes large statements well (limit: 65,535 parameters). The SQLite driver binds
// parameters in time quadratic in their number per statement, so it gets small batches.
func (s *Store) codeBatchSize() int {
	if s.dialect == dialectPostgres {
		return 1000
	}
	return 100
}

// AddCodes adds codes to one of the shop's offers, all or nothing, in one transaction with
// multi-row INSERTs. Codes are normalized (NormalizeCode). A code that is repeated in codes
// or already exists in the shop fails the whole call with ErrConflict, naming the code. The
// offer must exist and not be deleted (ErrNotFound).
func (s *Store) AddCodes(ctx context.Context, shop, offerID string, codes []CodeRow) error {
	if err := requireNonEmpty("shop", shop, "offer id", offerID); err != nil {
		return fmt.Errorf("store: add codes: %w", err)
	}
	rows, err := s.codeRows(shop, offerID, codes)
	if err != nil {
		return fmt.Errorf("store: add codes: %w", err)
	}
	if len(rows) == 0 {
		return nil
	}
	// Inserted in key order: random codes (generated ones) would otherwise land all over the
	// primary key's B-tree, which makes the inserts several times slower on both databases.
	slices.SortFunc(rows, func(a, b codeRow) int { return strings.Compare(a.Code, b.Code) })
	size := s.codeBatchSize()
	failed := -1 // start of the batch that hit a duplicate
	err = s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var n int64
		err := tx.Model(&offerRow{}).
			Where("shop = ? AND id = ? AND deleted_at IS NULL", shop, offerID).
			Count(&n).Error
		if err != nil {
			return err
		}
		if n == 0 {
			return fmt.Errorf("offer %q: %w", offerID, ErrNotFound)
		}
		for start := 0; start < len(rows); start += size {
			batch := rows[start:min(start+size, len(rows))]
			if err := tx.Create(&batch).Error; err != nil {
				if errors.Is(translate(err), ErrConflict) {
					failed = start
				}
				return err
			}
		}
		return nil
	})
	if err == nil {
		return nil
	}
	if failed >= 0 {
		// The transaction was rolled back; find which code of the failed batch exists.
		if code, ok := s.existingCode(ctx, shop, rows[failed:min(failed+size, len(rows))]); ok {
			return fmt.Errorf("store: add codes: code %q already exists: %w", code, ErrConflict)
		}
	}
	return fmt.Errorf("store: add codes: %w", translate(err))
}

// codeRows normalizes and checks codes, rejecting empty and repeated ones.
func (s *Store) codeRows(shop, offerID string, codes []CodeRow) ([]codeRow, error) {
	now := s.timestamp()
	seen := make(map[string]struct{}, len(codes))
	rows := make([]codeRow, len(codes))
	for i, c := range codes {
		code := NormalizeCode(c.Code)
		if code == "" {
			return nil, fmt.Errorf("%w: code %d of %d is empty", ErrInvalid, i+1, len(codes))
		}
		if _, dup := seen[code]; dup {
			return nil, fmt.Errorf("code %q is given twice: %w", code, ErrConflict)
		}
		seen[code] = struct{}{}
		rows[i] = codeRow{
			Shop:      shop,
			Code:      code,
			OfferID:   offerID,
			SingleUse: c.SingleUse,
			CreatedAt: now,
		}
		if c.CustomerID != "" {
			customer := c.CustomerID
			rows[i].CustomerID = &customer
		}
	}
	return rows, nil
}

// existingCode returns one of rows' codes that is already stored in the shop.
func (s *Store) existingCode(ctx context.Context, shop string, rows []codeRow) (string, bool) {
	codes := make([]string, len(rows))
	for i, r := range rows {
		codes[i] = r.Code
	}
	var found []string
	err := s.db.WithContext(ctx).Model(&codeRow{}).
		Where("shop = ? AND code IN ?", shop, codes).
		Order("code").Limit(1).Pluck("code", &found).Error
	if err != nil || len(found) == 0 {
		return "", false
	}
	return found[0], true
}

// LookupCode finds a code in the shop, without regard to case or surrounding spaces.
// ErrNotFound if there is none. The code's offer may since have been deleted.
func (s *Store) LookupCode(ctx context.Context, shop, code string) (Code, error) {
	normalized := NormalizeCode(code)
	var row codeRow
	err := s.db.WithContext(ctx).Where("shop = ? AND code = ?", shop, normalized).Take(&row).Error
	if err != nil {
		return Code{}, fmt.Errorf("store: lookup code %q: %w", normalized, translate(err))
	}
	return row.code(), nil
}

// LookupCodes finds several codes of the shop at once (LookupCode for many, in one query per
// 500 codes): it maps each code found, normalized (NormalizeCode), to its offer's id. Codes
// the shop does not have are left out.
func (s *Store) LookupCodes(ctx context.Context, shop string, codes []string) (map[string]string, error) {
	normalized := make([]string, 0, len(codes))
	for _, c := range codes {
		if c = NormalizeCode(c); c != "" && !slices.Contains(normalized, c) {
			normalized = append(normalized, c)
		}
	}
	found := make(map[string]string, len(normalized))
	err := chunks(normalized, func(part []string) error {
		var rows []codeRow
		err := s.db.WithContext(ctx).Select("code", "offer_id").Where("shop = ? AND code IN ?", shop, part).Find(&rows).Error
		for _, r := range rows {
			found[r.Code] = r.OfferID
		}
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("store: lookup codes: %w", translate(err))
	}
	return found, nil
}

// Bounds on a page of ListCodes.
const (
	DefaultCodePage = 100
	MaxCodePage     = 10_000
)

// ListCodes returns a page of an offer's codes in code order: up to limit codes after the
// code after ("" for the first page). Pass the last code of a page as after to get the next
// one; a short page is the last. A limit of 0 or less means DefaultCodePage, and limits above
// MaxCodePage are lowered to it.
func (s *Store) ListCodes(ctx context.Context, shop, offerID string, limit int, after string) ([]Code, error) {
	if limit <= 0 {
		limit = DefaultCodePage
	}
	limit = min(limit, MaxCodePage)
	var rows []codeRow
	err := s.db.WithContext(ctx).
		Where("shop = ? AND offer_id = ? AND code > ?", shop, offerID, NormalizeCode(after)).
		Order("code").Limit(limit).Find(&rows).Error
	if err != nil {
		return nil, fmt.Errorf("store: list codes: %w", translate(err))
	}
	codes := make([]Code, len(rows))
	for i, r := range rows {
		codes[i] = r.code()
	}
	return codes, nil
}
