package store

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// The sync outbox: durable work for the platform. Every offer change writes a job (in the same
// process, right after the change is stored); workers in any process claim due jobs for a
// lease (ClaimSyncJobs), do them through the Admin API, and report CompleteSyncJob or
// RetrySyncJob. A worker that dies lets its lease run out and the job is claimed again, so
// jobs must be idempotent.
//
// Jobs are keyed by (shop, offer_id): an offer's jobs run one at a time, oldest first (only the
// oldest unfinished job of a key can be claimed), so two workers never create one offer's
// discount twice. A shop's own jobs (install, backfill) use the offer id "". A new job for a
// key whose newest unfinished job is not running yet is merged into it (see EnqueueSync).

// Job kinds.
const (
	// SyncUpsert makes the offer's platform discount match the offer: create or update it,
	// activate or deactivate it, and send its unsent unique codes.
	SyncUpsert = "upsert"
	// SyncDelete deletes the offer's platform discount.
	SyncDelete = "delete"
	// SyncCodes sends the offer's unsent unique codes.
	SyncCodes = "codes"
	// SyncInstall is a shop's install work: shop details, function, webhook subscriptions,
	// every offer's discount, then the history backfill.
	SyncInstall = "install"
	// SyncBackfill reads the shop's orders through a bulk query into the webhook pipeline.
	SyncBackfill = "backfill"
	// SyncOrderTags tags the shop's flagged orders on the platform (orderflags.go).
	SyncOrderTags = "order_tags"
)

// SyncJob is one job of the outbox.
type SyncJob struct {
	ID            int64
	Shop          string
	OfferID       string // "" for a shop's own jobs
	Kind          string
	CreatedAt     time.Time
	Attempts      int // claims so far, this one included
	NextAttemptAt time.Time
	LastError     string
	DoneAt        *time.Time
}

type syncJobRow struct {
	ID            int64      `gorm:"column:id;primaryKey"`
	Shop          string     `gorm:"column:shop"`
	OfferID       string     `gorm:"column:offer_id"`
	Kind          string     `gorm:"column:kind"`
	CreatedAt     time.Time  `gorm:"column:created_at"`
	Attempts      int        `gorm:"column:attempts"`
	NextAttemptAt time.Time  `gorm:"column:next_attempt_at"`
	LockedUntil   *time.Time `gorm:"column:locked_until"`
	LastError     string     `gorm:"column:last_error"`
	DoneAt        *time.Time `gorm:"column:done_at"`
}

func (syncJobRow) TableName() string { return "sync_outbox" }

const syncJobColumns = `id, shop, offer_id, kind, created_at, attempts, next_attempt_at, locked_until, last_error, done_at`

func (r syncJobRow) job() SyncJob {
	return SyncJob{
		ID: r.ID, Shop: r.Shop, OfferID: r.OfferID, Kind: r.Kind, CreatedAt: r.CreatedAt.UTC(),
		Attempts: r.Attempts, NextAttemptAt: r.NextAttemptAt.UTC(), LastError: r.LastError, DoneAt: utcPtr(r.DoneAt),
	}
}

// offerJobRank orders the offer job kinds by what they include: a delete makes the others
// moot, and an upsert also sends the codes.
func offerJobRank(kind string) int {
	switch kind {
	case SyncCodes:
		return 1
	case SyncUpsert:
		return 2
	case SyncDelete:
		return 3
	}
	return 0
}

func validSyncKind(offerID, kind string) bool {
	if offerID == "" {
		return kind == SyncInstall || kind == SyncBackfill || kind == SyncOrderTags
	}
	return offerJobRank(kind) > 0
}

// EnqueueSync queues a job, due now. Offer jobs (SyncUpsert, SyncDelete, SyncCodes) need an
// offer id and shop jobs (SyncInstall, SyncBackfill) none (ErrInvalid otherwise). When the
// key's newest unfinished job is not running, the new one is merged into it instead (merged
// true): it becomes due now with its attempts reset, and for an offer its kind becomes the
// stronger of the two (delete over upsert over codes); shop jobs merge with their own kind
// only. An offer job also marks the offer's sync state pending.
func (s *Store) EnqueueSync(ctx context.Context, shop, offerID, kind string) (merged bool, err error) {
	if err := requireNonEmpty("shop", shop, "kind", kind); err != nil {
		return false, fmt.Errorf("store: enqueue sync: %w", err)
	}
	if !validSyncKind(offerID, kind) {
		return false, fmt.Errorf("store: enqueue sync: %w: kind %q for offer %q", ErrInvalid, kind, offerID)
	}
	now := s.timestamp()
	err = s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var tail []syncJobRow
		q := tx.Where("shop = ? AND offer_id = ? AND done_at IS NULL", shop, offerID).Order("id DESC").Limit(1)
		if s.dialect == dialectPostgres {
			q = q.Clauses(lockForUpdate())
		}
		if err := q.Find(&tail).Error; err != nil {
			return err
		}
		if len(tail) == 1 {
			t := tail[0]
			running := t.LockedUntil != nil && !t.LockedUntil.Before(now)
			mergeable := t.Kind == kind || (offerID != "" && offerJobRank(t.Kind) > 0)
			if !running && mergeable {
				newKind := t.Kind
				if offerID != "" && offerJobRank(kind) > offerJobRank(t.Kind) {
					newKind = kind
				}
				merged = true
				if err := tx.Model(&syncJobRow{}).Where("id = ?", t.ID).Updates(map[string]any{
					"kind": newKind, "next_attempt_at": now, "attempts": 0,
				}).Error; err != nil {
					return err
				}
				return s.markPendingIfOffer(tx, shop, offerID)
			}
		}
		row := syncJobRow{Shop: shop, OfferID: offerID, Kind: kind, CreatedAt: now, NextAttemptAt: now}
		if err := tx.Create(&row).Error; err != nil {
			return err
		}
		return s.markPendingIfOffer(tx, shop, offerID)
	})
	if err != nil {
		return false, fmt.Errorf("store: enqueue %s for %s %q: %w", kind, shop, offerID, translate(err))
	}
	return merged, nil
}

func (s *Store) markPendingIfOffer(tx *gorm.DB, shop, offerID string) error {
	if offerID == "" {
		return nil
	}
	// Without the shop's row (install work not done yet) there is no state to mark: the
	// install job writes it. Checked first: a failed statement would abort a PostgreSQL
	// transaction.
	var n int64
	if err := tx.Model(&shopRow{}).Where("domain = ?", shop).Count(&n).Error; err != nil || n == 0 {
		return err
	}
	return s.markOfferSyncPending(tx, shop, offerID)
}

// qualified prefixes each of a comma-separated column list with table.
func qualified(table, columns string) string {
	parts := strings.Split(columns, ",")
	for i, p := range parts {
		parts[i] = table + "." + strings.TrimSpace(p)
	}
	return strings.Join(parts, ", ")
}

// lockForUpdate is SELECT ... FOR UPDATE.
func lockForUpdate() clause.Locking { return clause.Locking{Strength: "UPDATE"} }

// ClaimSyncJobs hands up to limit due jobs to the caller for lease: for each key, only its
// oldest unfinished job, and only when no other worker holds it (PostgreSQL: FOR UPDATE SKIP
// LOCKED; SQLite: its single writer). A job whose lease ran out is due again. Each claim counts
// as an attempt. limit must be 1 to MaxClaim and lease positive (ErrInvalid).
func (s *Store) ClaimSyncJobs(ctx context.Context, limit int, lease time.Duration) ([]SyncJob, error) {
	if limit < 1 || limit > MaxClaim || lease <= 0 {
		return nil, fmt.Errorf("store: claim sync jobs: %w: limit %d (want 1 to %d), lease %v (want > 0)",
			ErrInvalid, limit, MaxClaim, lease)
	}
	now := s.timestamp()
	until := now.Add(lease)
	const due = `o.done_at IS NULL AND o.next_attempt_at <= ? AND (o.locked_until IS NULL OR o.locked_until < ?)
		AND NOT EXISTS (SELECT 1 FROM sync_outbox e
			WHERE e.shop = o.shop AND e.offer_id = o.offer_id AND e.done_at IS NULL AND e.id < o.id)`
	var rows []syncJobRow
	db := s.db.WithContext(ctx)
	var err error
	if s.dialect == dialectPostgres {
		// The CTE runs once (MATERIALIZED: a subquery under IN may run again and pick more
		// rows than the limit); it locks the rows it picks and skips those another claimer
		// holds. The update checks the conditions again on the row's latest version, so a job
		// claimed meanwhile is not handed out twice.
		err = db.Raw(`WITH picked AS MATERIALIZED (
				SELECT o.id FROM sync_outbox o WHERE `+due+`
				ORDER BY o.next_attempt_at, o.id LIMIT ?
				FOR UPDATE OF o SKIP LOCKED)
			UPDATE sync_outbox SET locked_until = ?, attempts = attempts + 1
			FROM picked
			WHERE sync_outbox.id = picked.id
				AND sync_outbox.done_at IS NULL AND (sync_outbox.locked_until IS NULL OR sync_outbox.locked_until < ?)
			RETURNING `+qualified("sync_outbox", syncJobColumns),
			now, now, limit, until, now).Scan(&rows).Error
	} else {
		err = db.Transaction(func(tx *gorm.DB) error {
			var ids []int64
			if err := tx.Raw(`SELECT o.id FROM sync_outbox o WHERE `+due+` ORDER BY o.next_attempt_at, o.id LIMIT ?`,
				now, now, limit).Scan(&ids).Error; err != nil || len(ids) == 0 {
				return err
			}
			if err := tx.Exec(`UPDATE sync_outbox SET locked_until = ?, attempts = attempts + 1 WHERE id IN ?`,
				until, ids).Error; err != nil {
				return err
			}
			return tx.Where("id IN ?", ids).Find(&rows).Error
		})
	}
	if err != nil {
		return nil, fmt.Errorf("store: claim sync jobs: %w", translate(err))
	}
	slices.SortFunc(rows, func(a, b syncJobRow) int {
		return cmp.Or(a.NextAttemptAt.Compare(b.NextAttemptAt), cmp.Compare(a.ID, b.ID))
	})
	jobs := make([]SyncJob, len(rows))
	for i, r := range rows {
		jobs[i] = r.job()
	}
	return jobs, nil
}

// CompleteSyncJob marks a claimed job done. ErrNotFound if there is no such job.
func (s *Store) CompleteSyncJob(ctx context.Context, id int64) error {
	res := s.db.WithContext(ctx).Exec(`UPDATE sync_outbox SET done_at = ?, locked_until = NULL, last_error = '' WHERE id = ?`,
		s.timestamp(), id)
	if res.Error != nil {
		return fmt.Errorf("store: complete sync job %d: %w", id, translate(res.Error))
	}
	if res.RowsAffected == 0 {
		return fmt.Errorf("store: complete sync job %d: %w", id, ErrNotFound)
	}
	return nil
}

// RetrySyncJob records a failed attempt of a claimed job: its cause is kept (clipped), its
// lease released, and it is due again at retryAt. Sync jobs are never given up: the platform
// must eventually match the offers. ErrNotFound if there is no such job.
func (s *Store) RetrySyncJob(ctx context.Context, id int64, cause string, retryAt time.Time) error {
	res := s.db.WithContext(ctx).Exec(`UPDATE sync_outbox SET next_attempt_at = ?, locked_until = NULL, last_error = ?
		WHERE id = ? AND done_at IS NULL`, utc(retryAt), clipError(cause), id)
	if res.Error != nil {
		return fmt.Errorf("store: retry sync job %d: %w", id, translate(res.Error))
	}
	if res.RowsAffected == 0 {
		var n int64
		if err := s.db.WithContext(ctx).Model(&syncJobRow{}).Where("id = ?", id).Count(&n).Error; err != nil {
			return fmt.Errorf("store: retry sync job %d: %w", id, translate(err))
		}
		if n == 0 {
			return fmt.Errorf("store: retry sync job %d: %w", id, ErrNotFound)
		}
	}
	return nil
}

// PendingSyncJobs lists the shop's unfinished jobs, oldest first.
func (s *Store) PendingSyncJobs(ctx context.Context, shop string) ([]SyncJob, error) {
	var rows []syncJobRow
	if err := s.db.WithContext(ctx).Where("shop = ? AND done_at IS NULL", shop).Order("id").Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("store: pending sync jobs: %w", translate(err))
	}
	jobs := make([]SyncJob, len(rows))
	for i, r := range rows {
		jobs[i] = r.job()
	}
	return jobs, nil
}

// PruneSyncJobs deletes the jobs done before before, and returns how many there were.
func (s *Store) PruneSyncJobs(ctx context.Context, before time.Time) (int, error) {
	res := s.db.WithContext(ctx).Exec(`DELETE FROM sync_outbox WHERE done_at IS NOT NULL AND done_at < ?`, utc(before))
	if res.Error != nil {
		return 0, fmt.Errorf("store: prune sync jobs: %w", translate(res.Error))
	}
	return int(res.RowsAffected), nil
}
