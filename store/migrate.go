package store

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"gorm.io/gorm"
)

// A migration is one step of the schema's history. Its version is recorded in
// schema_migrations when it has run. Rules:
//   - never edit, reorder, rename or remove a released step: add a new one at the end;
//   - a step is plain SQL that works on SQLite and PostgreSQL (through tx.Exec), or uses frozen
//     struct copies local to the step; never the live row structs and never AutoMigrate, so
//     the schema's history stays reviewable and does not drift with the Go code;
//   - the only per-dialect difference is the SQL column type for timestamps, given to each
//     step as ts and frozen below.
type migration struct {
	version string
	up      func(tx *gorm.DB, ts string) error
}

// migrations lists every step, oldest first.
func migrations() []migration {
	return []migration{
		{version: "0001_shops_offers", up: migrateShopsOffers},
		{version: "0002_segments", up: migrateSegments},
		{version: "0003_offer_codes", up: migrateOfferCodes},
	}
}

// timestampType is the column type for times, per dialect. Frozen: steps depend on it.
func timestampType(dialect string) string {
	if dialect == dialectPostgres {
		return "TIMESTAMPTZ"
	}
	// The SQLite driver reads DATETIME columns back as time.Time.
	return "DATETIME"
}

// migrationLockKey serializes Migrate across processes sharing one PostgreSQL database
// (pg_advisory_xact_lock). SQLite needs no lock: its transactions begin immediate, which
// takes the database's write lock.
const migrationLockKey = 7_240_117_315

// Migrate runs the steps not yet recorded, in order, each once, in its own transaction
// together with its schema_migrations row. Running it again does nothing. It refuses a
// database that records a step this binary does not know (ErrUnknownMigration).
func (s *Store) Migrate(ctx context.Context) error {
	db := s.db.WithContext(ctx)
	ts := timestampType(s.dialect)
	err := db.Transaction(func(tx *gorm.DB) error {
		if err := s.lockMigrations(tx); err != nil {
			return err
		}
		return tx.Exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
			version TEXT PRIMARY KEY,
			applied_at ` + ts + ` NOT NULL
		)`).Error
	})
	if err != nil {
		return fmt.Errorf("store: create schema_migrations: %w", err)
	}
	applied, err := s.appliedVersions(ctx)
	if err != nil {
		return err
	}
	for _, m := range migrations() {
		if applied[m.version] {
			continue
		}
		err := db.Transaction(func(tx *gorm.DB) error {
			if err := s.lockMigrations(tx); err != nil {
				return err
			}
			// Another process may have run the step while this one waited for the lock.
			var n int64
			if err := tx.Raw(`SELECT COUNT(*) FROM schema_migrations WHERE version = ?`, m.version).
				Scan(&n).Error; err != nil {
				return err
			}
			if n > 0 {
				return nil
			}
			if err := m.up(tx, ts); err != nil {
				return err
			}
			return tx.Exec(`INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)`,
				m.version, s.timestamp()).Error
		})
		if err != nil {
			return fmt.Errorf("store: migration %s: %w", m.version, err)
		}
	}
	return nil
}

// PendingMigrations lists the versions Migrate would run, oldest first. The app can use it to
// refuse to start on a PostgreSQL database that has not been migrated.
func (s *Store) PendingMigrations(ctx context.Context) ([]string, error) {
	applied, err := s.appliedVersions(ctx)
	if err != nil {
		return nil, err
	}
	var pending []string
	for _, m := range migrations() {
		if !applied[m.version] {
			pending = append(pending, m.version)
		}
	}
	return pending, nil
}

// appliedVersions reads schema_migrations (none if the table does not exist yet) and fails if
// it records a version this binary does not know.
func (s *Store) appliedVersions(ctx context.Context) (map[string]bool, error) {
	db := s.db.WithContext(ctx)
	applied := map[string]bool{}
	if !db.Migrator().HasTable("schema_migrations") {
		return applied, nil
	}
	var versions []string
	if err := db.Raw(`SELECT version FROM schema_migrations ORDER BY version`).
		Scan(&versions).Error; err != nil {
		return nil, fmt.Errorf("store: read schema_migrations: %w", err)
	}
	known := migrations()
	var unknown []string
	for _, v := range versions {
		applied[v] = true
		if !slices.ContainsFunc(known, func(m migration) bool { return m.version == v }) {
			unknown = append(unknown, v)
		}
	}
	if len(unknown) > 0 {
		return nil, fmt.Errorf("store: %w: %s (the database was migrated by a newer version of the app; run that version or restore a matching backup)",
			ErrUnknownMigration, strings.Join(unknown, ", "))
	}
	return applied, nil
}

func (s *Store) lockMigrations(tx *gorm.DB) error {
	if s.dialect != dialectPostgres {
		return nil
	}
	return tx.Exec(`SELECT pg_advisory_xact_lock(?)`, migrationLockKey).Error
}

// execAll runs statements one by one (drivers differ on several statements in one Exec).
func execAll(tx *gorm.DB, statements ...string) error {
	for _, stmt := range statements {
		if err := tx.Exec(stmt).Error; err != nil {
			return err
		}
	}
	return nil
}

// The steps. Column types used: TEXT, INTEGER, BIGINT, BOOLEAN and ts, which mean the same on
// both databases. JSON configurations are TEXT so they come back byte for byte as written.

func migrateShopsOffers(tx *gorm.DB, ts string) error {
	return execAll(tx,
		`CREATE TABLE shops (
			domain     TEXT PRIMARY KEY,
			currency   TEXT NOT NULL,
			timezone   TEXT NOT NULL,
			created_at `+ts+` NOT NULL,
			updated_at `+ts+` NOT NULL
		)`,
		// version is for optimistic locking; deleted_at marks a soft delete (history stays).
		`CREATE TABLE offers (
			shop       TEXT NOT NULL REFERENCES shops (domain) ON DELETE CASCADE,
			id         TEXT NOT NULL,
			status     TEXT NOT NULL,
			config     TEXT NOT NULL,
			version    BIGINT NOT NULL,
			created_at `+ts+` NOT NULL,
			updated_at `+ts+` NOT NULL,
			deleted_at `+ts+`,
			PRIMARY KEY (shop, id)
		)`,
	)
}

func migrateSegments(tx *gorm.DB, ts string) error {
	return execAll(tx,
		`CREATE TABLE segments (
			shop       TEXT NOT NULL REFERENCES shops (domain) ON DELETE CASCADE,
			id         TEXT NOT NULL,
			priority   INTEGER NOT NULL,
			config     TEXT NOT NULL,
			created_at `+ts+` NOT NULL,
			updated_at `+ts+` NOT NULL,
			PRIMARY KEY (shop, id)
		)`,
		`CREATE INDEX segments_shop_priority ON segments (shop, priority)`,
	)
}

func migrateOfferCodes(tx *gorm.DB, ts string) error {
	return execAll(tx,
		// code is stored upper-case, so the primary key makes codes unique per shop without
		// regard to case.
		`CREATE TABLE offer_codes (
			shop        TEXT NOT NULL,
			code        TEXT NOT NULL,
			offer_id    TEXT NOT NULL,
			customer_id TEXT,
			single_use  BOOLEAN NOT NULL DEFAULT FALSE,
			used        BOOLEAN NOT NULL DEFAULT FALSE,
			created_at  `+ts+` NOT NULL,
			PRIMARY KEY (shop, code),
			FOREIGN KEY (shop, offer_id) REFERENCES offers (shop, id) ON DELETE CASCADE
		)`,
		`CREATE INDEX offer_codes_offer ON offer_codes (shop, offer_id, code)`,
	)
}
