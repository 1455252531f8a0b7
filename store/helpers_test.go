package store

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
)

// testDB names one fresh, empty database for a test.
type testDB struct {
	dialect string
	dsn     string
}

// eachDB runs f as two subtests, "sqlite" and "postgres", each on its own empty database:
// the same suite covers both.
func eachDB(t *testing.T, f func(t *testing.T, db testDB)) {
	t.Helper()
	t.Run(dialectSQLite, func(t *testing.T) { f(t, newSQLite(t)) })
	t.Run(dialectPostgres, func(t *testing.T) { f(t, newPostgres(t)) })
}

// newSQLite returns a SQLite file in a temporary directory (not ":memory:", which would be
// one database per connection and gone on close).
func newSQLite(tb testing.TB) testDB {
	tb.Helper()
	return testDB{dialect: dialectSQLite, dsn: "sqlite:" + filepath.Join(tb.TempDir(), "test.db")}
}

// newPostgres creates a schema of its own on the server named by TEST_DATABASE_URL, drops it
// when the test ends, and returns a DSN whose search_path selects it. Without
// TEST_DATABASE_URL it skips, or fails if REGULARS_REQUIRE_POSTGRES=1 (make test sets both).
func newPostgres(tb testing.TB) testDB {
	tb.Helper()
	base := os.Getenv("TEST_DATABASE_URL")
	if base == "" {
		if os.Getenv("REGULARS_REQUIRE_POSTGRES") == "1" {
			tb.Fatal("REGULARS_REQUIRE_POSTGRES=1 but TEST_DATABASE_URL is not set: " +
				"set it to a PostgreSQL URL such as postgres://postgres@127.0.0.1:5432/test?sslmode=disable, " +
				"or run `make test`, which starts PostgreSQL and creates a database for the run")
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
	schema := "t_" + randomHex(tb, 8)
	ctx := context.Background()
	if _, err := admin.ExecContext(ctx, "CREATE SCHEMA "+schema); err != nil {
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
	return testDB{dialect: dialectPostgres, dsn: u.String()}
}

func randomHex(tb testing.TB, n int) string {
	tb.Helper()
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		tb.Fatal(err)
	}
	return hex.EncodeToString(b)
}

// mustOpen opens db, closing it when the test ends.
func mustOpen(tb testing.TB, db testDB) *Store {
	tb.Helper()
	s, err := Open(context.Background(), db.dsn)
	if err != nil {
		tb.Fatalf("Open: %v", err)
	}
	tb.Cleanup(func() {
		if err := s.Close(); err != nil {
			tb.Errorf("Close: %v", err)
		}
	})
	return s
}

// mustOpenMigrated opens and migrates db.
func mustOpenMigrated(tb testing.TB, db testDB) *Store {
	tb.Helper()
	s := mustOpen(tb, db)
	if err := s.Migrate(context.Background()); err != nil {
		tb.Fatalf("Migrate: %v", err)
	}
	return s
}

// mustShop creates a shop.
func mustShop(tb testing.TB, s *Store, domain string) {
	tb.Helper()
	if _, err := s.UpsertShop(context.Background(), Shop{Domain: domain, Currency: "EUR", Timezone: "Europe/Paris"}); err != nil {
		tb.Fatalf("UpsertShop(%q): %v", domain, err)
	}
}

// mustOffer creates an offer at version 1.
func mustOffer(tb testing.TB, s *Store, shop, id string) Offer {
	tb.Helper()
	o, err := s.SaveOffer(context.Background(), shop, id, "active", []byte(`{"title":"`+id+`"}`), 0)
	if err != nil {
		tb.Fatalf("SaveOffer(%q, %q): %v", shop, id, err)
	}
	return o
}

// countCodes counts a shop's stored codes.
func countCodes(tb testing.TB, s *Store, shop string) int64 {
	tb.Helper()
	var n int64
	if err := s.db.Model(&codeRow{}).Where("shop = ?", shop).Count(&n).Error; err != nil {
		tb.Fatalf("count codes: %v", err)
	}
	return n
}
