// Package storetest gives tests of other packages a real, empty, migrated store: a SQLite file
// in the test's temporary directory, or a PostgreSQL schema of its own on the server named by
// TEST_DATABASE_URL (make test provides one), dropped when the test ends.
package storetest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"os"
	"path/filepath"
	"testing"

	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" database/sql driver, for creating test schemas

	"github.com/regularsapp/regulars/store"
)

// Each runs f as two subtests, "sqlite" and "postgres", each on its own empty, migrated
// store: the same suite covers both databases.
func Each(t *testing.T, f func(t *testing.T, st *store.Store)) {
	t.Helper()
	t.Run("sqlite", func(t *testing.T) {
		f(t, OpenMigrated(t, "sqlite:"+filepath.Join(t.TempDir(), "test.db")))
	})
	t.Run("postgres", func(t *testing.T) {
		f(t, OpenMigrated(t, NewPostgresDSN(t)))
	})
}

// NewPostgresDSN creates a schema of its own on the server named by TEST_DATABASE_URL, drops
// it when the test ends, and returns a DSN whose search_path selects it. Without
// TEST_DATABASE_URL it skips, or fails if REGULARS_REQUIRE_POSTGRES=1 (make test sets both).
func NewPostgresDSN(tb testing.TB) string {
	tb.Helper()
	base := os.Getenv("TEST_DATABASE_URL")
	if base == "" {
		if os.Getenv("REGULARS_REQUIRE_POSTGRES") == "1" {
			tb.Fatal("REGULARS_REQUIRE_POSTGRES=1 but TEST_DATABASE_URL is not set: " +
				"set it to a PostgreSQL URL, or run `make test`, which starts PostgreSQL and creates a database for the run")
		}
		tb.Skip("TEST_DATABASE_URL is not set, so the PostgreSQL variant does not run " +
			"(`make test` sets it; REGULARS_REQUIRE_POSTGRES=1 turns this skip into a failure)")
	}
	u, err := url.Parse(base)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		tb.Fatalf("TEST_DATABASE_URL must be a postgres:// URL")
	}
	admin, err := sql.Open("pgx", base)
	if err != nil {
		tb.Fatalf("connect to TEST_DATABASE_URL: %v", err)
	}
	b := make([]byte, 8)
	if _, err := rand.Read(b); err != nil {
		tb.Fatal(err)
	}
	schema := "t_" + hex.EncodeToString(b)
	if _, err := admin.ExecContext(context.Background(), "CREATE SCHEMA "+schema); err != nil {
		_ = admin.Close()
		tb.Fatalf("create test schema on TEST_DATABASE_URL: %v", err)
	}
	tb.Cleanup(func() {
		if _, err := admin.ExecContext(context.Background(), "DROP SCHEMA "+schema+" CASCADE"); err != nil {
			tb.Errorf("drop test schema %s: %v", schema, err)
		}
		_ = admin.Close()
	})
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

// OpenMigrated opens and migrates a store, closing it when the test ends.
func OpenMigrated(tb testing.TB, dsn string) *store.Store {
	tb.Helper()
	ctx := context.Background()
	st, err := store.Open(ctx, dsn)
	if err != nil {
		tb.Fatalf("store.Open: %v", err)
	}
	tb.Cleanup(func() {
		if err := st.Close(); err != nil {
			tb.Errorf("Close: %v", err)
		}
	})
	if err := st.Migrate(ctx); err != nil {
		tb.Fatalf("Migrate: %v", err)
	}
	return st
}

// SQLite opens a migrated store on a SQLite file in the test's temporary directory.
func SQLite(tb testing.TB) *store.Store {
	tb.Helper()
	return OpenMigrated(tb, "sqlite:"+filepath.Join(tb.TempDir(), "test.db"))
}
