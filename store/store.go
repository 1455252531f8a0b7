// Package store keeps the app's data in SQLite (the zero-config default) or PostgreSQL.
//
// It is the only package that imports gorm. Callers see plain Go types defined here (Shop,
// Offer, Segment, Code) and the sentinel errors below; row structs with gorm tags stay
// unexported. Offer and segment configurations are opaque JSON ([]byte): the store checks that
// they are valid JSON and otherwise never looks inside.
//
// Every table is keyed by shop, and every method takes the shop and puts it in every
// statement, so no call can read or change another shop's rows. The exceptions are the
// webhook queue's worker methods (ClaimEvents, CompleteEvent, RetryEvent, and
// ApplyOrderEvents, whose orders each name their shop): a worker serves every shop, and finds
// the events it was handed by their unique row id.
package store

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/glebarez/sqlite"
	"gorm.io/driver/postgres"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"
)

// Errors returned by the store, wrapped with context; test them with errors.Is.
var (
	// ErrNotFound: the row does not exist for this shop (or was deleted), or a row it refers
	// to (its shop, its offer) does not exist.
	ErrNotFound = errors.New("not found")
	// ErrConflict: a unique key is taken (an offer id, a code) or an optimistic version
	// check failed.
	ErrConflict = errors.New("conflict")
	// ErrInvalid: the arguments cannot be stored (empty key, malformed JSON, bad version).
	ErrInvalid = errors.New("invalid")
	// ErrUnknownMigration: the database records a migration this binary does not have, so
	// it was written by a newer version of the app.
	ErrUnknownMigration = errors.New("database has a migration this binary does not know")
)

// DefaultSQLitePath is the SQLite file used when the DSN is empty.
const DefaultSQLitePath = "regulars.db"

// Dialect names, as gorm reports them.
const (
	dialectSQLite   = "sqlite"
	dialectPostgres = "postgres"
)

// PostgresMaxConns is how many connections one Store opens to PostgreSQL at most: enough for
// the webhook workers and a burst of concurrent requests (each request holds a connection for
// one short statement or transaction), while several app processes still fit in the
// server's default max_connections of 100.
const PostgresMaxConns = 24

// Store is the app's database. It is safe for concurrent use.
type Store struct {
	db      *gorm.DB
	dialect string
	now     func() time.Time // tests may replace it before the first write
	stats   statsRefresh     // see RefreshPlannerStats
	// listeners hear this Store's change notices on SQLite (changes.go).
	listeners listeners
}

// Open connects to the database named by dsn:
//
//   - "" (DefaultSQLitePath), "sqlite:PATH" or a path ending in ".db": SQLite, through a
//     pure-Go driver (no cgo);
//   - "postgres://..." or "postgresql://...": PostgreSQL. Query parameters are passed to the
//     server, so "?search_path=myschema" selects a schema.
//
// Open does not migrate (see Migrate), but it refuses a database whose recorded migrations
// include one this binary does not know (ErrUnknownMigration).
func Open(ctx context.Context, dsn string) (*Store, error) {
	dialect, target, err := parseDSN(dsn)
	if err != nil {
		return nil, err
	}
	s := &Store{dialect: dialect, now: time.Now}

	var d gorm.Dialector
	switch dialect {
	case dialectSQLite:
		d = sqlite.Open(sqliteDSN(target))
	case dialectPostgres:
		d = postgres.Open(target)
	}
	db, err := gorm.Open(d, &gorm.Config{
		Logger:                 logger.Discard, // the store returns errors; callers log them
		TranslateError:         true,           // unique and foreign-key errors become gorm's sentinels
		SkipDefaultTransaction: true,           // writes that must be atomic use explicit transactions
		NowFunc:                func() time.Time { return s.timestamp() },
	})
	if err != nil {
		// Never include the DSN: a Postgres DSN may hold a password.
		return nil, fmt.Errorf("store: open %s database: %w", dialect, err)
	}
	sqlDB, err := db.DB()
	if err != nil {
		return nil, fmt.Errorf("store: open %s database: %w", dialect, err)
	}
	if dialect == dialectSQLite {
		// SQLite allows one writer at a time. With several pooled connections, concurrent
		// writers fight over the file lock: they wait busy_timeout and then fail with
		// SQLITE_BUSY, and a transaction that read first and then writes can fail at once.
		// One connection makes Go's pool queue the writers instead, in order, with no busy
		// errors (the app's SQLite default is sized for that). The cost is that reads wait
		// behind a running write. Consequence for this package: inside a transaction, use
		// only tx; touching s.db there would wait forever for the one connection.
		sqlDB.SetMaxOpenConns(1)
	} else {
		// A PostgreSQL connection is a server process: opening one costs a fork and a cold
		// cache, so the pool keeps every connection it opens (until idle for 5 minutes)
		// instead of closing those above a small idle count after each burst, which under
		// steady load meant reconnecting for a large share of the requests. The cap bounds
		// what one app process takes of the server's max_connections (100 by default);
		// callers beyond it wait for a connection (see PostgresMaxConns).
		sqlDB.SetMaxOpenConns(PostgresMaxConns)
		sqlDB.SetMaxIdleConns(PostgresMaxConns)
		sqlDB.SetConnMaxIdleTime(5 * time.Minute)
	}
	s.db = db
	if err := sqlDB.PingContext(ctx); err != nil {
		_ = sqlDB.Close()
		return nil, fmt.Errorf("store: connect to %s database: %w", dialect, err)
	}
	if _, err := s.appliedVersions(ctx); err != nil {
		_ = sqlDB.Close()
		return nil, err
	}
	return s, nil
}

// Close closes the database connections.
func (s *Store) Close() error {
	sqlDB, err := s.db.DB()
	if err != nil {
		return fmt.Errorf("store: close: %w", err)
	}
	if err := sqlDB.Close(); err != nil {
		return fmt.Errorf("store: close: %w", err)
	}
	return nil
}

// parseDSN returns the dialect and the driver's DSN.
func parseDSN(dsn string) (dialect, target string, err error) {
	switch {
	case dsn == "":
		return dialectSQLite, DefaultSQLitePath, nil
	case strings.HasPrefix(dsn, "sqlite:"):
		path := strings.TrimPrefix(dsn, "sqlite:")
		if path == "" {
			return "", "", fmt.Errorf("store: DSN %q has no path after \"sqlite:\"", dsn)
		}
		return dialectSQLite, path, nil
	case strings.HasPrefix(dsn, "postgres://"), strings.HasPrefix(dsn, "postgresql://"):
		return dialectPostgres, dsn, nil
	case strings.HasSuffix(dsn, ".db"):
		return dialectSQLite, dsn, nil
	}
	// Only the scheme goes into the message: the rest may hold a password.
	scheme, _, _ := strings.Cut(dsn, ":")
	return "", "", fmt.Errorf(`store: unsupported database %q: want "", "sqlite:PATH", "PATH.db", or "postgres://..."`, scheme)
}

// sqliteDSN adds the pragmas every connection needs (the driver runs them on each new
// connection):
//   - busy_timeout(5000): wait up to 5 s for a lock held by another process instead of failing;
//   - journal_mode(WAL): readers do not block the writer, and commits are cheaper;
//   - foreign_keys(1): SQLite does not enforce REFERENCES without it;
//   - synchronous(NORMAL): with WAL, a power loss can lose the last commits but never
//     corrupts the database, and commits do not wait for an fsync each.
//
// _txlock=immediate makes transactions take the write lock when they begin, so a transaction
// that reads and then writes cannot fail halfway with SQLITE_BUSY because another process
// wrote in between.
func sqliteDSN(path string) string {
	const params = "_pragma=busy_timeout(5000)&_pragma=journal_mode(WAL)" +
		"&_pragma=foreign_keys(1)&_pragma=synchronous(NORMAL)&_txlock=immediate"
	if strings.Contains(path, "?") {
		return path + "&" + params
	}
	return path + "?" + params
}

// timestamp is the time written to rows: UTC, to the microsecond (PostgreSQL's precision), so
// a value reads back equal on both databases.
func (s *Store) timestamp() time.Time {
	return s.now().UTC().Truncate(time.Microsecond)
}

// translate maps gorm's errors to the store's sentinels. It is the one place that knows
// them; every method passes its database errors through it.
func translate(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, gorm.ErrRecordNotFound):
		return ErrNotFound
	case errors.Is(err, gorm.ErrDuplicatedKey):
		return fmt.Errorf("%w: %w", ErrConflict, err)
	case errors.Is(err, gorm.ErrForeignKeyViolated):
		return fmt.Errorf("%w: the shop or offer it refers to does not exist: %w", ErrNotFound, err)
	}
	return err
}

// requireNonEmpty takes name, value pairs and rejects the first empty value before it reaches
// the database.
func requireNonEmpty(namesAndValues ...string) error {
	for i := 0; i+1 < len(namesAndValues); i += 2 {
		if namesAndValues[i+1] == "" {
			return fmt.Errorf("%w: %s is empty", ErrInvalid, namesAndValues[i])
		}
	}
	return nil
}

// utcPtr reads an optional time back from either driver in UTC.
func utcPtr(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC()
	return &u
}
