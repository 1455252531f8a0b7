package store

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"gorm.io/gorm"
)

// Offer is a merchant's offer: its lifecycle status and its configuration, which the store
// keeps as opaque JSON.
type Offer struct {
	Shop    string
	ID      string
	Status  string
	Config  []byte // JSON, exactly as saved
	Version int64  // 1 when created, one more on every change; see SaveOffer
	// CreatedAt, UpdatedAt and DeletedAt are in UTC. DeletedAt is nil unless the offer was
	// deleted: a deleted offer keeps its row (and its codes) for history.
	CreatedAt time.Time
	UpdatedAt time.Time
	DeletedAt *time.Time
}

type offerRow struct {
	Shop      string     `gorm:"column:shop;primaryKey"`
	ID        string     `gorm:"column:id;primaryKey"`
	Status    string     `gorm:"column:status"`
	Config    string     `gorm:"column:config"`
	Version   int64      `gorm:"column:version"`
	CreatedAt time.Time  `gorm:"column:created_at"`
	UpdatedAt time.Time  `gorm:"column:updated_at"`
	DeletedAt *time.Time `gorm:"column:deleted_at"`
}

func (offerRow) TableName() string { return "offers" }

func (r offerRow) offer() Offer {
	return Offer{
		Shop:      r.Shop,
		ID:        r.ID,
		Status:    r.Status,
		Config:    []byte(r.Config),
		Version:   r.Version,
		CreatedAt: r.CreatedAt.UTC(),
		UpdatedAt: r.UpdatedAt.UTC(),
		DeletedAt: utcPtr(r.DeletedAt),
	}
}

// SaveOffer creates or updates an offer, with an optimistic version check:
//   - expectedVersion 0 creates the offer at version 1; ErrConflict if the id is taken in
//     this shop (also by a deleted offer: ids are never reused);
//   - otherwise it updates the offer only if its current version is expectedVersion, and
//     increments the version; ErrConflict if the version differs (someone saved in
//     between), ErrNotFound if the offer does not exist or was deleted.
//
// The shop must exist (ErrNotFound otherwise); status must not be empty and config must be
// valid JSON (ErrInvalid). The store does not interpret status.
// It returns the offer as stored.
func (s *Store) SaveOffer(ctx context.Context, shop, id, status string, config []byte, expectedVersion int64) (Offer, error) {
	if err := validOffer(shop, id, status, config, expectedVersion); err != nil {
		return Offer{}, fmt.Errorf("store: save offer %q: %w", id, err)
	}
	now := s.timestamp()
	var saved offerRow
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if expectedVersion == 0 {
			saved = offerRow{
				Shop:      shop,
				ID:        id,
				Status:    status,
				Config:    string(config),
				Version:   1,
				CreatedAt: now,
				UpdatedAt: now,
			}
			return tx.Create(&saved).Error
		}
		res := tx.Model(&offerRow{}).
			Where("shop = ? AND id = ? AND version = ? AND deleted_at IS NULL", shop, id, expectedVersion).
			Updates(map[string]any{
				"status":     status,
				"config":     string(config),
				"version":    gorm.Expr("version + 1"),
				"updated_at": now,
			})
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 0 {
			return whyNotUpdated(tx, shop, id, expectedVersion)
		}
		return tx.Where("shop = ? AND id = ?", shop, id).Take(&saved).Error
	})
	if err != nil {
		return Offer{}, fmt.Errorf("store: save offer %q: %w", id, translate(err))
	}
	s.publish(ctx, shop, ChangeOffers)
	return saved.offer(), nil
}

func validOffer(shop, id, status string, config []byte, expectedVersion int64) error {
	if err := requireNonEmpty("shop", shop, "offer id", id, "status", status); err != nil {
		return err
	}
	if expectedVersion < 0 {
		return fmt.Errorf("%w: expected version %d is negative", ErrInvalid, expectedVersion)
	}
	if !json.Valid(config) {
		return fmt.Errorf("%w: config is not valid JSON", ErrInvalid)
	}
	return nil
}

// whyNotUpdated explains a versioned update that matched no row: the offer is missing (or
// deleted), or its version moved on.
func whyNotUpdated(tx *gorm.DB, shop, id string, expectedVersion int64) error {
	var cur offerRow
	err := tx.Select("version", "deleted_at").Where("shop = ? AND id = ?", shop, id).Take(&cur).Error
	if err != nil {
		return err // ErrRecordNotFound becomes ErrNotFound
	}
	if cur.DeletedAt != nil {
		return fmt.Errorf("offer was deleted: %w", ErrNotFound)
	}
	return fmt.Errorf("%w: offer is at version %d, not %d", ErrConflict, cur.Version, expectedVersion)
}

// GetOffer returns the offer, or ErrNotFound if it does not exist in this shop or was deleted
// (ListOffers with includeDeleted shows deleted offers).
func (s *Store) GetOffer(ctx context.Context, shop, id string) (Offer, error) {
	var row offerRow
	err := s.db.WithContext(ctx).
		Where("shop = ? AND id = ? AND deleted_at IS NULL", shop, id).
		Take(&row).Error
	if err != nil {
		return Offer{}, fmt.Errorf("store: get offer %q: %w", id, translate(err))
	}
	return row.offer(), nil
}

// ListOffers returns the shop's offers, oldest first; deleted ones only if includeDeleted.
func (s *Store) ListOffers(ctx context.Context, shop string, includeDeleted bool) ([]Offer, error) {
	q := s.db.WithContext(ctx).Where("shop = ?", shop)
	if !includeDeleted {
		q = q.Where("deleted_at IS NULL")
	}
	var rows []offerRow
	if err := q.Order("created_at, id").Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("store: list offers: %w", translate(err))
	}
	offers := make([]Offer, len(rows))
	for i, r := range rows {
		offers[i] = r.offer()
	}
	return offers, nil
}

// DeleteOffer soft-deletes the offer: it disappears from GetOffer and ListOffers but its row,
// configuration and codes stay for history, and its version is incremented. ErrNotFound if it
// does not exist in this shop or is already deleted.
func (s *Store) DeleteOffer(ctx context.Context, shop, id string) error {
	now := s.timestamp()
	res := s.db.WithContext(ctx).Model(&offerRow{}).
		Where("shop = ? AND id = ? AND deleted_at IS NULL", shop, id).
		Updates(map[string]any{
			"deleted_at": now,
			"updated_at": now,
			"version":    gorm.Expr("version + 1"),
		})
	if res.Error != nil {
		return fmt.Errorf("store: delete offer %q: %w", id, translate(res.Error))
	}
	if res.RowsAffected == 0 {
		return fmt.Errorf("store: delete offer %q: %w", id, ErrNotFound)
	}
	s.publish(ctx, shop, ChangeOffers)
	return nil
}
