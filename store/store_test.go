package store

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
)

func TestParseDSN(t *testing.T) {
	tests := []struct {
		dsn         string
		wantDialect string
		wantTarget  string
		wantErr     bool
	}{
		{dsn: "", wantDialect: dialectSQLite, wantTarget: DefaultSQLitePath},
		{dsn: "sqlite:data/app.sqlite", wantDialect: dialectSQLite, wantTarget: "data/app.sqlite"},
		{dsn: "sqlite::memory:", wantDialect: dialectSQLite, wantTarget: ":memory:"},
		{dsn: "local.db", wantDialect: dialectSQLite, wantTarget: "local.db"},
		{dsn: "postgres://u@h:5432/d?sslmode=disable", wantDialect: dialectPostgres, wantTarget: "postgres://u@h:5432/d?sslmode=disable"},
		{dsn: "postgresql://u@h/d", wantDialect: dialectPostgres, wantTarget: "postgresql://u@h/d"},
		{dsn: "sqlite:", wantErr: true},
		{dsn: "mysql://u:secret@h/d", wantErr: true},
		{dsn: "local.sqlite", wantErr: true},
	}
	for _, tt := range tests {
		dialect, target, err := parseDSN(tt.dsn)
		if tt.wantErr {
			if err == nil {
				t.Errorf("parseDSN(%q) = %q, %q; want an error", tt.dsn, dialect, target)
			} else if strings.Contains(err.Error(), "secret") {
				t.Errorf("parseDSN(%q) error %q shows the password", tt.dsn, err)
			}
			continue
		}
		if err != nil || dialect != tt.wantDialect || target != tt.wantTarget {
			t.Errorf("parseDSN(%q) = %q, %q, %v; want %q, %q", tt.dsn, dialect, target, err, tt.wantDialect, tt.wantTarget)
		}
	}
}

func knownVersions() []string {
	var vs []string
	for _, m := range migrations() {
		vs = append(vs, m.version)
	}
	return vs
}

func TestMigrateRecordsEachStepOnce(t *testing.T) {
	ctx := context.Background()
	eachDB(t, func(t *testing.T, db testDB) {
		s := mustOpen(t, db)
		pending, err := s.PendingMigrations(ctx)
		if err != nil || !slices.Equal(pending, knownVersions()) {
			t.Fatalf("PendingMigrations on an empty database = %v, %v; want %v", pending, err, knownVersions())
		}
		if err := s.Migrate(ctx); err != nil {
			t.Fatalf("Migrate: %v", err)
		}

		type record struct {
			Version   string
			AppliedAt string
		}
		recorded := func(s *Store) []record {
			t.Helper()
			var rs []record
			if err := s.db.Raw(`SELECT version, CAST(applied_at AS TEXT) AS applied_at FROM schema_migrations ORDER BY version`).
				Scan(&rs).Error; err != nil {
				t.Fatalf("read schema_migrations: %v", err)
			}
			return rs
		}
		first := recorded(s)
		var got []string
		for _, r := range first {
			got = append(got, r.Version)
			if r.AppliedAt == "" {
				t.Errorf("version %s has no applied_at", r.Version)
			}
		}
		if !slices.Equal(got, knownVersions()) {
			t.Fatalf("recorded versions = %v; want %v", got, knownVersions())
		}

		// Migrating again, and again after reopening, changes nothing.
		if err := s.Migrate(ctx); err != nil {
			t.Fatalf("second Migrate: %v", err)
		}
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
		s2 := mustOpenMigrated(t, db)
		if again := recorded(s2); !slices.Equal(again, first) {
			t.Errorf("after reopening and migrating again, schema_migrations = %v; want %v", again, first)
		}
		if pending, err := s2.PendingMigrations(ctx); err != nil || len(pending) != 0 {
			t.Errorf("PendingMigrations after Migrate = %v, %v; want none", pending, err)
		}
		// The tables are usable.
		mustShop(t, s2, "a.example")
		mustOffer(t, s2, "a.example", "o1")
	})
}

// TestMigrateConcurrently starts several app processes' worth of stores on one new database at
// once: each step must still run exactly once.
func TestMigrateConcurrently(t *testing.T) {
	ctx := context.Background()
	eachDB(t, func(t *testing.T, db testDB) {
		const n = 4
		errs := make(chan error, n)
		for range n {
			go func() {
				s, err := Open(ctx, db.dsn)
				if err != nil {
					errs <- err
					return
				}
				defer s.Close()
				errs <- s.Migrate(ctx)
			}()
		}
		for range n {
			if err := <-errs; err != nil {
				t.Errorf("concurrent Open+Migrate: %v", err)
			}
		}
		s := mustOpen(t, db)
		var versions []string
		if err := s.db.Raw(`SELECT version FROM schema_migrations ORDER BY version`).Scan(&versions).Error; err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(versions, knownVersions()) {
			t.Errorf("recorded versions = %v; want each of %v once", versions, knownVersions())
		}
	})
}

func TestOpenRefusesUnknownMigration(t *testing.T) {
	ctx := context.Background()
	eachDB(t, func(t *testing.T, db testDB) {
		s := mustOpenMigrated(t, db)
		const future = "9999_from_a_newer_binary"
		if err := s.db.Exec(`INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)`, future, s.timestamp()).Error; err != nil {
			t.Fatal(err)
		}

		err := s.Migrate(ctx)
		if !errors.Is(err, ErrUnknownMigration) || !strings.Contains(err.Error(), future) {
			t.Errorf("Migrate = %v; want ErrUnknownMigration naming %s", err, future)
		}

		s2, err := Open(ctx, db.dsn)
		if err == nil {
			_ = s2.Close()
			t.Fatalf("Open succeeded on a database with migration %s", future)
		}
		if !errors.Is(err, ErrUnknownMigration) || !strings.Contains(err.Error(), future) {
			t.Errorf("Open = %v; want ErrUnknownMigration naming %s", err, future)
		}
	})
}

func TestSQLiteSettings(t *testing.T) {
	s := mustOpenMigrated(t, newSQLite(t))
	pragmas := []struct {
		pragma string
		want   string
	}{
		{pragma: "foreign_keys", want: "1"},
		{pragma: "journal_mode", want: "wal"},
		{pragma: "busy_timeout", want: "5000"},
		{pragma: "synchronous", want: "1"}, // NORMAL
	}
	for _, p := range pragmas {
		var got string
		if err := s.db.Raw("PRAGMA " + p.pragma).Scan(&got).Error; err != nil {
			t.Fatalf("PRAGMA %s: %v", p.pragma, err)
		}
		if got != p.want {
			t.Errorf("PRAGMA %s = %q; want %q", p.pragma, got, p.want)
		}
	}
	sqlDB, err := s.db.DB()
	if err != nil {
		t.Fatal(err)
	}
	if got := sqlDB.Stats().MaxOpenConnections; got != 1 {
		t.Errorf("MaxOpenConnections = %d; want 1 (one writer)", got)
	}
}

func TestReferencesEnforced(t *testing.T) {
	ctx := context.Background()
	eachDB(t, func(t *testing.T, db testDB) {
		s := mustOpenMigrated(t, db)
		if _, err := s.SaveOffer(ctx, "missing.example", "o1", "draft", []byte(`{}`), 0); !errors.Is(err, ErrNotFound) {
			t.Errorf("SaveOffer for a shop that does not exist = %v; want ErrNotFound", err)
		}
		if _, err := s.SaveSegment(ctx, "missing.example", "s1", 1, []byte(`{}`)); !errors.Is(err, ErrNotFound) {
			t.Errorf("SaveSegment for a shop that does not exist = %v; want ErrNotFound", err)
		}
		mustShop(t, s, "a.example")
		if err := s.AddCodes(ctx, "a.example", "nope", []CodeRow{{Code: "X1"}}); !errors.Is(err, ErrNotFound) {
			t.Errorf("AddCodes for an offer that does not exist = %v; want ErrNotFound", err)
		}
		// The database itself refuses a code for a missing offer (foreign keys are on).
		err := s.db.Exec(`INSERT INTO offer_codes (shop, code, offer_id, single_use, used, created_at) VALUES (?, ?, ?, ?, ?, ?)`,
			"a.example", "X1", "nope", false, false, s.timestamp()).Error
		if !errors.Is(translate(err), ErrNotFound) {
			t.Errorf("inserting a code for a missing offer = %v; want a foreign key violation", err)
		}
	})
}

func TestShops(t *testing.T) {
	ctx := context.Background()
	eachDB(t, func(t *testing.T, db testDB) {
		s := mustOpenMigrated(t, db)
		if _, err := s.GetShop(ctx, "a.example"); !errors.Is(err, ErrNotFound) {
			t.Errorf("GetShop before install = %v; want ErrNotFound", err)
		}
		created, err := s.UpsertShop(ctx, Shop{Domain: "a.example", Currency: "EUR", Timezone: "Europe/Paris"})
		if err != nil {
			t.Fatal(err)
		}
		updated, err := s.UpsertShop(ctx, Shop{Domain: "a.example", Currency: "USD", Timezone: "America/New_York"})
		if err != nil {
			t.Fatal(err)
		}
		got, err := s.GetShop(ctx, "a.example")
		if err != nil {
			t.Fatal(err)
		}
		if got.Currency != "USD" || got.Timezone != "America/New_York" || !got.UpdatedAt.Equal(updated.UpdatedAt) {
			t.Errorf("GetShop = %+v; want %+v", got, updated)
		}
		if !got.CreatedAt.Equal(created.CreatedAt) {
			t.Errorf("CreatedAt changed on update: %v, was %v", got.CreatedAt, created.CreatedAt)
		}
		if _, err := s.UpsertShop(ctx, Shop{}); !errors.Is(err, ErrInvalid) {
			t.Errorf("UpsertShop with no domain = %v; want ErrInvalid", err)
		}
	})
}
