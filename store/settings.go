package store

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"gorm.io/gorm"
)

// settingsRow is the part of a shops row that holds its settings. The timezone is the shop's
// own column (UpsertShop writes it too), so there is one timezone per shop; the JSON keeps the
// rest and is NULL until the merchant saves settings.
type settingsRow struct {
	Timezone string  `gorm:"column:timezone"`
	Settings *string `gorm:"column:settings"`
}

// settings decodes the row over the defaults, so a setting added after the merchant saved
// theirs starts at its default.
func (r settingsRow) settings() (ShopSettings, error) {
	st := DefaultShopSettings()
	if r.Settings != nil && *r.Settings != "" {
		if err := json.Unmarshal([]byte(*r.Settings), &st); err != nil {
			return ShopSettings{}, fmt.Errorf("stored settings: %w", err)
		}
	}
	st.Timezone = r.Timezone
	if st.Timezone == "" {
		st.Timezone = "UTC"
	}
	return st, nil
}

// loadSettings reads the shop's settings through db (s.db or a transaction's tx).
func loadSettings(db *gorm.DB, shop string) (ShopSettings, error) {
	var row settingsRow
	if err := db.Table("shops").Select("timezone", "settings").Where("domain = ?", shop).Take(&row).Error; err != nil {
		return ShopSettings{}, err
	}
	return row.settings()
}

// shopLocation is the shop's timezone, UTC when it is unknown to this machine.
func shopLocation(tz string) *time.Location {
	if loc, err := time.LoadLocation(tz); err == nil {
		return loc
	}
	return time.UTC
}

// GetSettings returns the shop's settings, DefaultShopSettings when it has saved none (with
// the shop's timezone, "UTC" if it has none). ErrNotFound if the shop does not exist.
func (s *Store) GetSettings(ctx context.Context, shop string) (ShopSettings, error) {
	st, err := loadSettings(s.db.WithContext(ctx), shop)
	if err != nil {
		return ShopSettings{}, fmt.Errorf("store: get settings of %q: %w", shop, translate(err))
	}
	return st, nil
}

// SaveSettings replaces the shop's settings. A Timezone given replaces the shop's (it must be
// an IANA name this machine knows, ErrInvalid otherwise); an empty one keeps the shop's.
// CODGateways are trimmed and empty names dropped. ErrNotFound if the shop does not exist.
func (s *Store) SaveSettings(ctx context.Context, shop string, settings ShopSettings) error {
	if err := requireNonEmpty("shop", shop); err != nil {
		return fmt.Errorf("store: save settings: %w", err)
	}
	updates := map[string]any{"updated_at": s.timestamp()}
	if tz := strings.TrimSpace(settings.Timezone); tz != "" {
		if _, err := time.LoadLocation(tz); err != nil {
			return fmt.Errorf("store: save settings of %q: %w: unknown timezone %q", shop, ErrInvalid, tz)
		}
		updates["timezone"] = tz
	}
	gateways := make([]string, 0, len(settings.CODGateways))
	for _, g := range settings.CODGateways {
		if g = strings.TrimSpace(g); g != "" {
			gateways = append(gateways, g)
		}
	}
	settings.CODGateways = gateways
	settings.Timezone = "" // kept in shops.timezone only
	doc, err := json.Marshal(settings)
	if err != nil {
		return fmt.Errorf("store: save settings of %q: %w", shop, err)
	}
	updates["settings"] = string(doc)
	res := s.db.WithContext(ctx).Table("shops").Where("domain = ?", shop).Updates(updates)
	if res.Error != nil {
		return fmt.Errorf("store: save settings of %q: %w", shop, translate(res.Error))
	}
	if res.RowsAffected == 0 {
		return fmt.Errorf("store: save settings of %q: %w", shop, ErrNotFound)
	}
	s.publish(ctx, shop, ChangeOffers, ChangeFacts)
	return nil
}
