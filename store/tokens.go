package store

import (
	"context"
	"fmt"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// Tokens are a shop's offline access credentials, as the app hands them to the store: the
// token values are ciphertext (the app encrypts them; the store never sees a token in the
// clear).
type Tokens struct {
	AccessCiphertext []byte
	// AccessExpiresAt is when the access token stops working; zero for a token that does
	// not expire.
	AccessExpiresAt time.Time
	// RefreshCiphertext is nil when there is no refresh token (a non-expiring access token).
	RefreshCiphertext []byte
	// RefreshExpiresAt is when the refresh token stops working; zero when there is none.
	RefreshExpiresAt time.Time
	// Scopes are the granted access scopes, comma-separated, as the platform answered them.
	Scopes string
	// InstalledAt is when these credentials' install happened (InstallShop); SaveTokens
	// keeps it. UpdatedAt is the last write. Both are set by the store and ignored in
	// arguments.
	InstalledAt time.Time
	UpdatedAt   time.Time
}

type tokensRow struct {
	Shop                  string     `gorm:"column:shop;primaryKey"`
	AccessTokenEnc        []byte     `gorm:"column:access_token_enc"`
	AccessTokenExpiresAt  *time.Time `gorm:"column:access_token_expires_at"`
	RefreshTokenEnc       []byte     `gorm:"column:refresh_token_enc"`
	RefreshTokenExpiresAt *time.Time `gorm:"column:refresh_token_expires_at"`
	Scopes                string     `gorm:"column:scopes"`
	InstalledAt           time.Time  `gorm:"column:installed_at"`
	UpdatedAt             time.Time  `gorm:"column:updated_at"`
}

func (tokensRow) TableName() string { return "shop_tokens" }

func (r tokensRow) tokens() Tokens {
	t := Tokens{
		AccessCiphertext:  r.AccessTokenEnc,
		RefreshCiphertext: r.RefreshTokenEnc,
		Scopes:            r.Scopes,
		InstalledAt:       r.InstalledAt.UTC(),
		UpdatedAt:         r.UpdatedAt.UTC(),
	}
	if r.AccessTokenExpiresAt != nil {
		t.AccessExpiresAt = r.AccessTokenExpiresAt.UTC()
	}
	if r.RefreshTokenExpiresAt != nil {
		t.RefreshExpiresAt = r.RefreshTokenExpiresAt.UTC()
	}
	if len(t.RefreshCiphertext) == 0 {
		t.RefreshCiphertext = nil
	}
	return t
}

func (s *Store) tokensRow(shop string, t Tokens, now time.Time) (tokensRow, error) {
	if err := requireNonEmpty("shop", shop); err != nil {
		return tokensRow{}, err
	}
	if len(t.AccessCiphertext) == 0 {
		return tokensRow{}, fmt.Errorf("%w: access token is empty", ErrInvalid)
	}
	return tokensRow{
		Shop:                  shop,
		AccessTokenEnc:        t.AccessCiphertext,
		AccessTokenExpiresAt:  optionalTime(t.AccessExpiresAt),
		RefreshTokenEnc:       t.RefreshCiphertext,
		RefreshTokenExpiresAt: optionalTime(t.RefreshExpiresAt),
		Scopes:                t.Scopes,
		InstalledAt:           now,
		UpdatedAt:             now,
	}, nil
}

// tokenColumns are the columns a save replaces (installed_at is InstallShop's).
func tokenColumns() []string {
	return []string{
		"access_token_enc", "access_token_expires_at", "refresh_token_enc", "refresh_token_expires_at", "scopes", "updated_at",
	}
}

// SaveTokens stores the shop's credentials, replacing those it had (a refresh rotates both
// tokens). The installed time is kept when there were credentials, and now otherwise. The
// shop must exist (ErrNotFound); the access token must not be empty (ErrInvalid).
func (s *Store) SaveTokens(ctx context.Context, shop string, t Tokens) error {
	row, err := s.tokensRow(shop, t, s.timestamp())
	if err != nil {
		return fmt.Errorf("store: save tokens of %q: %w", shop, err)
	}
	err = s.db.WithContext(ctx).Clauses(clause.OnConflict{
		Columns:   []clause.Column{{Name: "shop"}},
		DoUpdates: clause.AssignmentColumns(tokenColumns()),
	}).Create(&row).Error
	if err != nil {
		return fmt.Errorf("store: save tokens of %q: %w", shop, translate(err))
	}
	return nil
}

// InstallShop records an install in one transaction: it creates the shop if it is new (with an
// empty currency and the UTC timezone until the install work reads the shop's own), clears
// an uninstall mark if it had one (keeping its currency, timezone and data), and stores the
// credentials with their installed time set to now. It returns the shop as stored.
func (s *Store) InstallShop(ctx context.Context, shop string, t Tokens) (Shop, error) {
	now := s.timestamp()
	row, err := s.tokensRow(shop, t, now)
	if err != nil {
		return Shop{}, fmt.Errorf("store: install %q: %w", shop, err)
	}
	var stored shopRow
	err = s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		newShop := shopRow{Domain: shop, Currency: "", Timezone: "UTC", CreatedAt: now, UpdatedAt: now}
		err := tx.Clauses(clause.OnConflict{
			Columns:   []clause.Column{{Name: "domain"}},
			DoUpdates: clause.Assignments(map[string]any{"uninstalled_at": nil, "updated_at": now}),
		}).Create(&newShop).Error
		if err != nil {
			return err
		}
		err = tx.Clauses(clause.OnConflict{
			Columns:   []clause.Column{{Name: "shop"}},
			DoUpdates: clause.AssignmentColumns(append([]string{"installed_at"}, tokenColumns()...)),
		}).Create(&row).Error
		if err != nil {
			return err
		}
		return tx.Where("domain = ?", shop).Take(&stored).Error
	})
	if err != nil {
		return Shop{}, fmt.Errorf("store: install %q: %w", shop, translate(err))
	}
	return stored.shop(), nil
}

// GetTokens returns the shop's credentials, or ErrNotFound when it has none (never
// installed, or uninstalled since).
func (s *Store) GetTokens(ctx context.Context, shop string) (Tokens, error) {
	var row tokensRow
	if err := s.db.WithContext(ctx).Where("shop = ?", shop).Take(&row).Error; err != nil {
		return Tokens{}, fmt.Errorf("store: get tokens of %q: %w", shop, translate(err))
	}
	return row.tokens(), nil
}

// DeleteTokens forgets the shop's credentials. Deleting credentials the shop does not have
// is not an error.
func (s *Store) DeleteTokens(ctx context.Context, shop string) error {
	if err := deleteTokens(s.db.WithContext(ctx), shop, time.Time{}); err != nil {
		return fmt.Errorf("store: delete tokens of %q: %w", shop, translate(err))
	}
	return nil
}

// deleteTokens deletes the shop's credentials through db (s.db or a transaction's tx); with a
// non-zero installedBy, only credentials installed at or before it.
func deleteTokens(db *gorm.DB, shop string, installedBy time.Time) error {
	q := db.Where("shop = ?", shop)
	if !installedBy.IsZero() {
		q = q.Where("installed_at <= ?", utc(installedBy))
	}
	return q.Delete(&tokensRow{}).Error
}

// migrateShopTokens (step 0005) adds the shops' encrypted offline credentials: one row per
// shop, deleted with the shop, and by MarkUninstalled.
func migrateShopTokens(tx *gorm.DB, ts string) error {
	blob := blobType(stepDialect(tx))
	return execAll(tx,
		`CREATE TABLE shop_tokens (
			shop                     TEXT PRIMARY KEY REFERENCES shops (domain) ON DELETE CASCADE,
			access_token_enc         `+blob+` NOT NULL,
			access_token_expires_at  `+ts+`,
			refresh_token_enc        `+blob+`,
			refresh_token_expires_at `+ts+`,
			scopes                   TEXT NOT NULL DEFAULT '',
			installed_at             `+ts+` NOT NULL,
			updated_at               `+ts+` NOT NULL
		)`,
	)
}
