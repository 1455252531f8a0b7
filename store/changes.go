package store

import (
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/jackc/pgx/v5/stdlib"
)

// Change notices: every write that changes what a checkout reads announces it, so processes
// that serve checkouts from memory know when to reload. On PostgreSQL a notice is a NOTIFY on
// one channel, heard by every process that LISTENs (Listen); on SQLite, which has one process,
// it goes straight to this Store's listeners. A notice is sent after its write commits, so a
// reader that reloads on hearing it sees the write. (A process that dies between its commit and
// its notice leaves the others stale: readers bound that with a maximum age.)

// ChangeKind says what changed.
type ChangeKind string

const (
	// ChangeOffers: the shop's offers, segments, settings or shop record (the offer set).
	ChangeOffers ChangeKind = "offers"
	// ChangeFacts: the shop's orders, ledger, block list or settings (buyers' facts).
	ChangeFacts ChangeKind = "facts"
)

// Change is one notice.
type Change struct {
	Kind ChangeKind
	Shop string
}

// changeChannel is the PostgreSQL notification channel.
const changeChannel = "regulars_changes"

// listeners are the in-process listeners of a Store (SQLite).
type listeners struct {
	mu  sync.Mutex
	fns map[int]func(Change)
	seq int
}

func (l *listeners) add(fn func(Change)) (remove func()) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.fns == nil {
		l.fns = map[int]func(Change){}
	}
	l.seq++
	id := l.seq
	l.fns[id] = fn
	return func() {
		l.mu.Lock()
		defer l.mu.Unlock()
		delete(l.fns, id)
	}
}

func (l *listeners) send(c Change) {
	l.mu.Lock()
	fns := make([]func(Change), 0, len(l.fns))
	for _, fn := range l.fns {
		fns = append(fns, fn)
	}
	l.mu.Unlock()
	for _, fn := range fns {
		fn(c)
	}
}

// publish announces committed changes of a shop. A failed NOTIFY is returned for logging by
// nobody: the write itself succeeded, and readers' maximum age bounds the staleness.
func (s *Store) publish(ctx context.Context, shop string, kinds ...ChangeKind) {
	if shop == "" {
		return
	}
	for _, k := range kinds {
		c := Change{Kind: k, Shop: shop}
		if s.dialect != dialectPostgres {
			s.listeners.send(c)
			continue
		}
		_ = s.db.WithContext(context.WithoutCancel(ctx)).Exec(`SELECT pg_notify(?, ?)`, changeChannel, string(k)+":"+shop).Error
	}
}

// Listen calls fn with every change notice until ctx ends or, on PostgreSQL, the listening
// connection fails (the error is returned; the caller should treat everything it caches as
// stale and listen again). ready is called once notices are being received. fn runs on the
// listening goroutine and must not block.
func (s *Store) Listen(ctx context.Context, ready func(), fn func(Change)) error {
	if s.dialect != dialectPostgres {
		remove := s.listeners.add(fn)
		defer remove()
		ready()
		<-ctx.Done()
		return ctx.Err()
	}
	sqlDB, err := s.db.DB()
	if err != nil {
		return fmt.Errorf("store: listen: %w", err)
	}
	conn, err := sqlDB.Conn(ctx)
	if err != nil {
		return fmt.Errorf("store: listen: %w", err)
	}
	defer conn.Close()
	err = conn.Raw(func(dc any) error {
		sc, ok := dc.(*stdlib.Conn)
		if !ok {
			return fmt.Errorf("unexpected driver connection %T", dc)
		}
		pc := sc.Conn()
		if _, err := pc.Exec(ctx, "LISTEN "+changeChannel); err != nil {
			return err
		}
		ready()
		for {
			n, err := pc.WaitForNotification(ctx)
			if err != nil {
				return err
			}
			kind, shop, ok := strings.Cut(n.Payload, ":")
			if ok {
				fn(Change{Kind: ChangeKind(kind), Shop: shop})
			}
		}
	})
	if errors.Is(err, context.Canceled) || errors.Is(ctx.Err(), context.Canceled) {
		// The connection may be mid-wait; it is not handed back to the pool in that state.
		_ = conn.Raw(func(any) error { return driver.ErrBadConn })
		return ctx.Err()
	}
	return fmt.Errorf("store: listen: %w", err)
}
