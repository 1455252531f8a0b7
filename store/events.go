package store

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"gorm.io/gorm"
)

// The durable webhook queue. A delivery is stored (EnqueueEvent) before the platform gets its
// 200; workers in any process then claim due events for a lease (ClaimEvents), process them,
// and report CompleteEvent or RetryEvent; order events are marked done by ApplyOrderEvents,
// in the transaction that writes their effect. A worker that dies lets its lease run out, and
// the event is claimed again. Processing must therefore be idempotent (orders are newest-wins
// and the ledger is keyed by order), because in rare cases (a lease that ran out while its
// worker was still busy) an event is processed twice.
//
// Events are found by their row id in CompleteEvent, RetryEvent and ApplyOrderEvents: a
// worker serves all shops, and the id it was handed by ClaimEvents is unique across them.

type eventRow struct {
	ID            int64      `gorm:"column:id;primaryKey"`
	Shop          string     `gorm:"column:shop"`
	EventID       string     `gorm:"column:event_id"`
	WebhookID     string     `gorm:"column:webhook_id"`
	Topic         string     `gorm:"column:topic"`
	APIVersion    string     `gorm:"column:api_version"`
	TriggeredAt   *time.Time `gorm:"column:triggered_at"`
	ReceivedAt    time.Time  `gorm:"column:received_at"`
	Body          []byte     `gorm:"column:body"`
	Status        string     `gorm:"column:status"`
	Attempts      int        `gorm:"column:attempts"`
	NextAttemptAt time.Time  `gorm:"column:next_attempt_at"`
	LockedUntil   *time.Time `gorm:"column:locked_until"`
	LastError     string     `gorm:"column:last_error"`
	ProcessedAt   *time.Time `gorm:"column:processed_at"`
}

func (eventRow) TableName() string { return "webhook_events" }

// qualifiedEventColumns are eventColumns prefixed with the table, for a RETURNING next to
// another relation (the claim's CTE).
func qualifiedEventColumns() string {
	cols := strings.Split(eventColumns, ",")
	for i, c := range cols {
		cols[i] = "webhook_events." + strings.TrimSpace(c)
	}
	return strings.Join(cols, ", ")
}

// eventColumns are the columns of eventRow, for RETURNING.
const eventColumns = `id, shop, event_id, webhook_id, topic, api_version, triggered_at, received_at,
	body, status, attempts, next_attempt_at, locked_until, last_error, processed_at`

func (r eventRow) event() WebhookEvent {
	ev := WebhookEvent{
		ID:            r.ID,
		Shop:          r.Shop,
		EventID:       r.EventID,
		WebhookID:     r.WebhookID,
		Topic:         r.Topic,
		APIVersion:    r.APIVersion,
		ReceivedAt:    r.ReceivedAt.UTC(),
		Body:          r.Body,
		Status:        r.Status,
		Attempts:      r.Attempts,
		LastError:     r.LastError,
		NextAttemptAt: r.NextAttemptAt.UTC(),
		ProcessedAt:   utcPtr(r.ProcessedAt),
	}
	if r.TriggeredAt != nil {
		ev.TriggeredAt = r.TriggeredAt.UTC()
	}
	if ev.Body == nil {
		ev.Body = []byte{}
	}
	return ev
}

// Bounds of ClaimEvents and ListEvents.
const (
	MaxClaim          = 1000
	DefaultEventsPage = 100
	MaxEventsPage     = 1000
	// maxEventError is how much of a RetryEvent cause is kept.
	maxEventError = 2000
)

// utc normalizes a time for storage: UTC, to the microsecond (PostgreSQL's precision), so it
// reads back equal on both databases, and SQLite's text timestamps compare in time order.
func utc(t time.Time) time.Time { return t.UTC().Truncate(time.Microsecond) }

// optionalTime is nil for the zero time, for nullable columns.
func optionalTime(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	u := utc(t)
	return &u
}

// EnqueueEvent stores a delivery durably, pending and due at once. A second delivery of the
// same (shop, EventID) stores nothing and reports inserted false. When EventID is empty (the
// header is optional) the WebhookID takes its place as the key. Shop and Topic must be set,
// and EventID or WebhookID (ErrInvalid). The shop need not exist. ReceivedAt defaults to now;
// ID, Status, Attempts, LastError, NextAttemptAt and ProcessedAt are ignored.
func (s *Store) EnqueueEvent(ctx context.Context, ev WebhookEvent) (inserted bool, err error) {
	if ev.EventID == "" {
		ev.EventID = ev.WebhookID
	}
	if err := requireNonEmpty("shop", ev.Shop, "topic", ev.Topic, "event id (or webhook id)", ev.EventID); err != nil {
		return false, fmt.Errorf("store: enqueue event: %w", err)
	}
	now := s.timestamp()
	received := now
	if !ev.ReceivedAt.IsZero() {
		received = utc(ev.ReceivedAt)
	}
	body := ev.Body
	if body == nil {
		body = []byte{}
	}
	var triggered any
	if t := optionalTime(ev.TriggeredAt); t != nil {
		triggered = *t
	}
	res := s.db.WithContext(ctx).Exec(`INSERT INTO webhook_events
		(shop, event_id, webhook_id, topic, api_version, triggered_at, received_at, body, status, attempts, next_attempt_at, last_error)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 0, ?, '')
		ON CONFLICT (shop, event_id) DO NOTHING`,
		ev.Shop, ev.EventID, ev.WebhookID, ev.Topic, ev.APIVersion, triggered, received, body, EventPending, now)
	if res.Error != nil {
		return false, fmt.Errorf("store: enqueue event %s %q: %w", ev.Topic, ev.EventID, translate(res.Error))
	}
	return res.RowsAffected == 1, nil
}

// ClaimEvents hands up to limit pending events that are due to the caller for lease, oldest
// first, so each is processed by one worker at a time across processes (PostgreSQL: FOR UPDATE
// SKIP LOCKED; SQLite: its single writer). An event whose lease ran out (its worker died) is
// due again. Each claim counts as an attempt (Attempts is the count including this one).
// limit must be 1 to MaxClaim and lease positive (ErrInvalid).
//
// A claim reads about limit rows however many events wait: it walks the pending events in id
// order (the partial index webhook_events_pending) and stops at the first limit that are due
// and not leased.
func (s *Store) ClaimEvents(ctx context.Context, limit int, lease time.Duration) ([]WebhookEvent, error) {
	if limit < 1 || limit > MaxClaim || lease <= 0 {
		return nil, fmt.Errorf("store: claim events: %w: limit %d (want 1 to %d), lease %v (want > 0)",
			ErrInvalid, limit, MaxClaim, lease)
	}
	now := s.timestamp()
	until := now.Add(lease)
	var rows []eventRow
	db := s.db.WithContext(ctx)
	var err error
	if s.dialect == dialectPostgres {
		// One statement. The due rows are picked and locked in a MATERIALIZED CTE, evaluated
		// exactly once: a LIMIT inside "WHERE id IN (subquery)" may be re-evaluated by the
		// planner and hand out more than limit rows. SKIP LOCKED passes over rows another
		// claimer holds, and a row claimed meanwhile fails the recheck of the WHERE on its
		// new version (locked_until is in the future), so no row is handed out twice.
		err = db.Raw(`WITH picked AS MATERIALIZED (
				SELECT id FROM webhook_events
				WHERE `+pendingCondition+` AND next_attempt_at <= ? AND (locked_until IS NULL OR locked_until < ?)
				ORDER BY id LIMIT ?
				FOR UPDATE SKIP LOCKED)
			UPDATE webhook_events SET locked_until = ?, attempts = attempts + 1
			FROM picked WHERE webhook_events.id = picked.id
			RETURNING `+qualifiedEventColumns(),
			now, now, limit, until).Scan(&rows).Error
	} else {
		// SQLite has one writer: the immediate transaction holds the write lock from the
		// SELECT to the UPDATE, so no other claimer sees the rows in between.
		err = db.Transaction(func(tx *gorm.DB) error {
			var ids []int64
			// Without statistics SQLite would rather use webhook_events_due and sort.
			err := tx.Raw(`SELECT id FROM webhook_events INDEXED BY webhook_events_pending
				WHERE `+pendingCondition+` AND next_attempt_at <= ? AND (locked_until IS NULL OR locked_until < ?)
				ORDER BY id LIMIT ?`,
				now, now, limit).Scan(&ids).Error
			if err != nil || len(ids) == 0 {
				return err
			}
			err = tx.Exec(`UPDATE webhook_events SET locked_until = ?, attempts = attempts + 1 WHERE id IN ?`,
				until, ids).Error
			if err != nil {
				return err
			}
			return tx.Where("id IN ?", ids).Find(&rows).Error
		})
	}
	if err != nil {
		return nil, fmt.Errorf("store: claim events: %w", translate(err))
	}
	slices.SortFunc(rows, func(a, b eventRow) int { return cmp.Compare(a.ID, b.ID) })
	events := make([]WebhookEvent, len(rows))
	for i, r := range rows {
		events[i] = r.event()
	}
	return events, nil
}

// pendingCondition selects pending events. It is written out, not bound, so that the
// databases see it implies the predicate of the partial index webhook_events_pending.
const pendingCondition = "status = '" + EventPending + "'"

// migrateWebhookEventsPending indexes the pending events by id, the order ClaimEvents takes
// them in. webhook_events_due (status, next_attempt_at, id) gives them in due order, so
// claiming the oldest meant sorting every due event on each claim: with a backlog of 20,000
// events, 27 ms per claim on PostgreSQL. The partial index holds only pending events.
func migrateWebhookEventsPending(tx *gorm.DB, _ string) error {
	return tx.Exec(`CREATE INDEX webhook_events_pending ON webhook_events (id) WHERE status = 'pending'`).Error
}

// CompleteEvent marks a claimed event done, at now. Its body is kept as the audit trail of
// what was applied (RedactCustomer clears the bodies that name a redacted customer, and
// DeleteShopData deletes the shop's events). Completing an event again changes only
// ProcessedAt. ErrNotFound if there is no such event, which is what a shop/redact event
// meets: DeleteShopData deleted it with the rest of the shop's rows.
func (s *Store) CompleteEvent(ctx context.Context, id int64) error {
	res := s.db.WithContext(ctx).Exec(`UPDATE webhook_events
		SET status = ?, processed_at = ?, locked_until = NULL WHERE id = ?`,
		EventDone, s.timestamp(), id)
	if res.Error != nil {
		return fmt.Errorf("store: complete event %d: %w", id, translate(res.Error))
	}
	if res.RowsAffected == 0 {
		return fmt.Errorf("store: complete event %d: %w", id, ErrNotFound)
	}
	return nil
}

// ForgetEventBody replaces a processed event's stored body with {}: for a customers/redact
// request, whose body names the very person it erases. ErrNotFound if there is no such event.
func (s *Store) ForgetEventBody(ctx context.Context, id int64) error {
	res := s.db.WithContext(ctx).Exec(`UPDATE webhook_events SET body = ? WHERE id = ?`, []byte("{}"), id)
	if res.Error != nil {
		return fmt.Errorf("store: forget event body %d: %w", id, translate(res.Error))
	}
	if res.RowsAffected == 0 {
		return fmt.Errorf("store: forget event body %d: %w", id, ErrNotFound)
	}
	return nil
}

// RetryEvent records a failed attempt of a claimed event: its cause is kept (the first 2,000
// bytes) and its lease released. The attempt was counted when the event was claimed: after
// MaxEventAttempts attempts the event is marked failed (see RequeueFailed); otherwise it is
// due again at retryAt (at once when retryAt is zero). An event that is no longer pending (a
// worker whose lease ran out reports after another completed it) is left as it is.
// ErrNotFound if there is no such event.
func (s *Store) RetryEvent(ctx context.Context, id int64, cause string, retryAt time.Time) error {
	if len(cause) > maxEventError {
		cause = strings.ToValidUTF8(cause[:maxEventError], "")
	}
	if retryAt.IsZero() {
		retryAt = s.timestamp()
	}
	db := s.db.WithContext(ctx)
	res := db.Exec(`UPDATE webhook_events SET
			status = CASE WHEN attempts >= ? THEN ? ELSE status END,
			next_attempt_at = ?, locked_until = NULL, last_error = ?
		WHERE id = ? AND status = ?`,
		MaxEventAttempts, EventFailed, utc(retryAt), cause, id, EventPending)
	if res.Error != nil {
		return fmt.Errorf("store: retry event %d: %w", id, translate(res.Error))
	}
	if res.RowsAffected == 0 {
		var n int64
		if err := db.Model(&eventRow{}).Where("id = ?", id).Count(&n).Error; err != nil {
			return fmt.Errorf("store: retry event %d: %w", id, translate(err))
		}
		if n == 0 {
			return fmt.Errorf("store: retry event %d: %w", id, ErrNotFound)
		}
	}
	return nil
}

// ListEvents lists a shop's events with the given status ("" for any), newest first, bodies
// included: up to limit events (DefaultEventsPage when limit is 0 or less, at most
// MaxEventsPage).
func (s *Store) ListEvents(ctx context.Context, shop, status string, limit int) ([]WebhookEvent, error) {
	if limit <= 0 {
		limit = DefaultEventsPage
	}
	limit = min(limit, MaxEventsPage)
	q := s.db.WithContext(ctx).Where("shop = ?", shop)
	if status != "" {
		q = q.Where("status = ?", status)
	}
	var rows []eventRow
	if err := q.Order("id DESC").Limit(limit).Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("store: list events: %w", translate(err))
	}
	events := make([]WebhookEvent, len(rows))
	for i, r := range rows {
		events[i] = r.event()
	}
	return events, nil
}

// RequeueFailed gives the shop's failed events a new set of MaxEventAttempts attempts, due at
// once (the merchant's "retry"), and returns how many there were. Their last error is kept
// until the next attempt replaces it.
func (s *Store) RequeueFailed(ctx context.Context, shop string) (int, error) {
	res := s.db.WithContext(ctx).Exec(`UPDATE webhook_events
		SET status = ?, attempts = 0, next_attempt_at = ?, locked_until = NULL
		WHERE shop = ? AND status = ?`,
		EventPending, s.timestamp(), shop, EventFailed)
	if res.Error != nil {
		return 0, fmt.Errorf("store: requeue failed events: %w", translate(res.Error))
	}
	return int(res.RowsAffected), nil
}

// EventStats is a summary of one shop's webhook queue.
type EventStats struct {
	Pending int
	Done    int
	Failed  int
	// LastProcessedAt is when the most recently processed event was done (nil if none was).
	LastProcessedAt *time.Time
}

// EventStats counts the shop's events by status and finds when the last one was processed:
// two queries over the shop's events (a load test polls it to see its events through; it is
// not meant for hot paths).
func (s *Store) EventStats(ctx context.Context, shop string) (EventStats, error) {
	db := s.db.WithContext(ctx)
	var counts []struct {
		Status string `gorm:"column:status"`
		N      int    `gorm:"column:n"`
	}
	if err := db.Raw(`SELECT status, COUNT(*) AS n FROM webhook_events WHERE shop = ? GROUP BY status`, shop).
		Scan(&counts).Error; err != nil {
		return EventStats{}, fmt.Errorf("store: event stats: %w", translate(err))
	}
	var stats EventStats
	for _, c := range counts {
		switch c.Status {
		case EventPending:
			stats.Pending = c.N
		case EventDone:
			stats.Done = c.N
		case EventFailed:
			stats.Failed = c.N
		}
	}
	if stats.Done == 0 {
		return stats, nil
	}
	var last []eventRow
	err := db.Select("processed_at").Where("shop = ? AND status = ?", shop, EventDone).
		Order("processed_at DESC").Limit(1).Find(&last).Error
	if err != nil {
		return EventStats{}, fmt.Errorf("store: event stats: %w", translate(err))
	}
	if len(last) == 1 {
		stats.LastProcessedAt = utcPtr(last[0].ProcessedAt)
	}
	return stats, nil
}
