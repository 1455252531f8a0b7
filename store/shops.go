package store

import (
	"context"
	"fmt"
	"time"

	"gorm.io/gorm/clause"
)

// Shop is an installed shop.
type Shop struct {
	Domain    string // e.g. "example.myshopify.com"; the key of every other table
	Currency  string // ISO 4217 code of the shop's money
	Timezone  string // IANA name, e.g. "Europe/Paris"
	CreatedAt time.Time
	UpdatedAt time.Time
	// UninstalledAt is when the app was last uninstalled (MarkUninstalled), nil while it is
	// installed. UpsertShop (a reinstall) clears it.
	UninstalledAt *time.Time
}

type shopRow struct {
	Domain    string    `gorm:"column:domain;primaryKey"`
	Currency  string    `gorm:"column:currency"`
	Timezone  string    `gorm:"column:timezone"`
	CreatedAt time.Time `gorm:"column:created_at"`
	UpdatedAt time.Time `gorm:"column:updated_at"`
	// UninstalledAt is written only by MarkUninstalled, and cleared by UpsertShop.
	UninstalledAt *time.Time `gorm:"column:uninstalled_at"`
}

func (shopRow) TableName() string { return "shops" }

func (r shopRow) shop() Shop {
	return Shop{
		Domain:        r.Domain,
		Currency:      r.Currency,
		Timezone:      r.Timezone,
		CreatedAt:     r.CreatedAt.UTC(),
		UpdatedAt:     r.UpdatedAt.UTC(),
		UninstalledAt: utcPtr(r.UninstalledAt),
	}
}

// UpsertShop creates the shop or updates its currency and timezone, and returns it as stored.
// It marks the shop installed: UninstalledAt is cleared. CreatedAt, UpdatedAt and
// UninstalledAt in the argument are ignored.
func (s *Store) UpsertShop(ctx context.Context, shop Shop) (Shop, error) {
	if err := requireNonEmpty("shop domain", shop.Domain); err != nil {
		return Shop{}, fmt.Errorf("store: upsert shop: %w", err)
	}
	now := s.timestamp()
	row := shopRow{
		Domain:    shop.Domain,
		Currency:  shop.Currency,
		Timezone:  shop.Timezone,
		CreatedAt: now,
		UpdatedAt: now,
	}
	db := s.db.WithContext(ctx)
	err := db.Clauses(clause.OnConflict{
		Columns:   []clause.Column{{Name: "domain"}},
		DoUpdates: clause.AssignmentColumns([]string{"currency", "timezone", "updated_at", "uninstalled_at"}),
	}).Create(&row).Error
	if err != nil {
		return Shop{}, fmt.Errorf("store: upsert shop %q: %w", shop.Domain, translate(err))
	}
	s.publish(ctx, shop.Domain, ChangeOffers)
	return s.GetShop(ctx, shop.Domain)
}

// GetShop returns the shop, or ErrNotFound.
func (s *Store) GetShop(ctx context.Context, domain string) (Shop, error) {
	var row shopRow
	err := s.db.WithContext(ctx).Where("domain = ?", domain).Take(&row).Error
	if err != nil {
		return Shop{}, fmt.Errorf("store: get shop %q: %w", domain, translate(err))
	}
	return row.shop(), nil
}
