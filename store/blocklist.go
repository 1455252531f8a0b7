package store

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/regularsapp/regulars/discountfn"
)

// The block list (abuse): identity keys (discountfn.IdentityKey, "email:jo@gmail.com") that may
// use no offer of the shop. Facts reports which of the buyer's keys are on it; the engine
// refuses every offer to them (reason identity_blocked).

type blockedRow struct {
	Shop        string    `gorm:"column:shop;primaryKey"`
	IdentityKey string    `gorm:"column:identity_key;primaryKey"`
	Reason      string    `gorm:"column:reason"`
	CreatedAt   time.Time `gorm:"column:created_at"`
}

func (blockedRow) TableName() string { return "blocked_identities" }

// BlockedIdentity is one entry of a shop's block list.
type BlockedIdentity struct {
	Shop        string
	IdentityKey string // discountfn.IdentityKey: kind and normalized value
	Reason      string
	CreatedAt   time.Time
}

func (r blockedRow) blocked() BlockedIdentity {
	return BlockedIdentity{Shop: r.Shop, IdentityKey: r.IdentityKey, Reason: r.Reason, CreatedAt: r.CreatedAt.UTC()}
}

// validIdentityKey reports whether key is "kind:value" with a known kind and a value.
func validIdentityKey(key string) bool {
	kind, value, ok := strings.Cut(key, ":")
	if !ok || value == "" {
		return false
	}
	switch discountfn.IdentityKind(kind) {
	case discountfn.IdentityCustomer, discountfn.IdentityEmail, discountfn.IdentityPhone,
		discountfn.IdentityAddress, discountfn.IdentityIP:
		return true
	}
	return false
}

// BlockIdentity puts an identity key on the shop's block list. Blocking a key again replaces
// its reason and keeps its CreatedAt. The key must be a discountfn.IdentityKey of a known kind,
// already normalized (ErrInvalid); the shop must exist (ErrNotFound).
func (s *Store) BlockIdentity(ctx context.Context, shop, identityKey, reason string) (BlockedIdentity, error) {
	if err := requireNonEmpty("shop", shop, "identity key", identityKey); err != nil {
		return BlockedIdentity{}, fmt.Errorf("store: block identity: %w", err)
	}
	if !validIdentityKey(identityKey) {
		return BlockedIdentity{}, fmt.Errorf("store: block identity: %w: %q is not kind:value with a known kind", ErrInvalid, identityKey)
	}
	row := blockedRow{Shop: shop, IdentityKey: identityKey, Reason: reason, CreatedAt: s.timestamp()}
	db := s.db.WithContext(ctx)
	err := db.Transaction(func(tx *gorm.DB) error {
		if err := tx.Clauses(clause.OnConflict{
			Columns:   []clause.Column{{Name: "shop"}, {Name: "identity_key"}},
			DoUpdates: clause.AssignmentColumns([]string{"reason"}),
		}).Create(&row).Error; err != nil {
			return err
		}
		return tx.Where("shop = ? AND identity_key = ?", shop, identityKey).Take(&row).Error
	})
	if err != nil {
		return BlockedIdentity{}, fmt.Errorf("store: block identity %q: %w", identityKey, translate(err))
	}
	s.publish(ctx, shop, ChangeFacts)
	return row.blocked(), nil
}

// UnblockIdentity takes an identity key off the shop's block list. ErrNotFound if it is not on
// it.
func (s *Store) UnblockIdentity(ctx context.Context, shop, identityKey string) error {
	res := s.db.WithContext(ctx).Where("shop = ? AND identity_key = ?", shop, identityKey).Delete(&blockedRow{})
	if res.Error != nil {
		return fmt.Errorf("store: unblock identity %q: %w", identityKey, translate(res.Error))
	}
	if res.RowsAffected == 0 {
		return fmt.Errorf("store: unblock identity %q: %w", identityKey, ErrNotFound)
	}
	s.publish(ctx, shop, ChangeFacts)
	return nil
}

// ListBlocked returns the shop's block list, newest first.
func (s *Store) ListBlocked(ctx context.Context, shop string) ([]BlockedIdentity, error) {
	var rows []blockedRow
	err := s.db.WithContext(ctx).Where("shop = ?", shop).Order("created_at DESC, identity_key").Find(&rows).Error
	if err != nil {
		return nil, fmt.Errorf("store: list blocked: %w", translate(err))
	}
	out := make([]BlockedIdentity, len(rows))
	for i, r := range rows {
		out[i] = r.blocked()
	}
	return out, nil
}

// blockedKeys returns which of keys are on the shop's block list (nil when none): one query
// on the primary key.
func blockedKeys(db *gorm.DB, shop string, keys []string) (map[string]bool, error) {
	if len(keys) == 0 {
		return nil, nil
	}
	var hits []string
	err := db.Model(&blockedRow{}).Where("shop = ? AND identity_key IN ?", shop, keys).
		Pluck("identity_key", &hits).Error
	if err != nil || len(hits) == 0 {
		return nil, err
	}
	blocked := make(map[string]bool, len(hits))
	for _, k := range hits {
		blocked[k] = true
	}
	return blocked, nil
}

// SharedIdentity is a phone, address or IP seen on the orders of several accounts.
type SharedIdentity struct {
	IdentityKey string // discountfn.IdentityKey
	Kind        discountfn.IdentityKind
	// Accounts is the number of distinct accounts: customer ids, and for guest orders their
	// emails.
	Accounts int
	Orders   int
}

// sharedColumn is an order column SharedIdentities looks at, with its identity kind.
type sharedColumn struct {
	kind   discountfn.IdentityKind
	column string
}

func sharedColumns() [3]sharedColumn {
	return [...]sharedColumn{
		{discountfn.IdentityPhone, "phone"},
		{discountfn.IdentityAddress, "address_key"},
		{discountfn.IdentityIP, "browser_ip"},
	}
}

// SharedIdentities lists the identity keys (phone, delivery address fingerprint, browser IP)
// seen on the shop's orders of at least minCustomers distinct accounts (customer ids; a guest
// order counts under its email), most accounts first, then by key. minCustomers below 2 is
// taken as 2: one account sharing with itself is not abuse. Redacted orders (blanked
// identities) and orders with neither customer id nor email do not count. Three queries, one
// per kind, each over the shop's orders.
func (s *Store) SharedIdentities(ctx context.Context, shop string, minCustomers int) ([]SharedIdentity, error) {
	minCustomers = max(minCustomers, 2)
	db := s.db.WithContext(ctx)
	var out []SharedIdentity
	for _, sc := range sharedColumns() {
		var rows []struct {
			Value    string `gorm:"column:value"`
			Accounts int    `gorm:"column:accounts"`
			Orders   int    `gorm:"column:orders"`
		}
		// The column name is from the fixed list above, never from the caller.
		err := db.Raw(`SELECT `+sc.column+` AS value,
				COUNT(DISTINCT CASE WHEN customer_id <> '' THEN 'customer:' || customer_id ELSE 'email:' || email END) AS accounts,
				COUNT(*) AS orders
			FROM orders
			WHERE shop = ? AND `+sc.column+` <> '' AND (customer_id <> '' OR email <> '')
			GROUP BY `+sc.column+`
			HAVING COUNT(DISTINCT CASE WHEN customer_id <> '' THEN 'customer:' || customer_id ELSE 'email:' || email END) >= ?`,
			shop, minCustomers).Scan(&rows).Error
		if err != nil {
			return nil, fmt.Errorf("store: shared identities (%s): %w", sc.kind, translate(err))
		}
		for _, r := range rows {
			out = append(out, SharedIdentity{
				IdentityKey: discountfn.IdentityKey(sc.kind, r.Value), Kind: sc.kind,
				Accounts: r.Accounts, Orders: r.Orders,
			})
		}
	}
	sort.Slice(out, func(a, b int) bool {
		if out[a].Accounts != out[b].Accounts {
			return out[a].Accounts > out[b].Accounts
		}
		return out[a].IdentityKey < out[b].IdentityKey
	})
	return out, nil
}

// migrateBlockedIdentities adds the block list. Frozen: a released step (see migrate.go).
func migrateBlockedIdentities(tx *gorm.DB, ts string) error {
	return execAll(tx,
		`CREATE TABLE blocked_identities (
			shop         TEXT NOT NULL REFERENCES shops (domain) ON DELETE CASCADE,
			identity_key TEXT NOT NULL,
			reason       TEXT NOT NULL DEFAULT '',
			created_at   `+ts+` NOT NULL,
			PRIMARY KEY (shop, identity_key)
		)`,
	)
}
