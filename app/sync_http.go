package app

import (
	"context"
	"errors"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/regularsapp/regulars/store"
)

// offerSyncStatus is the answer of GET /api/offers/:id/sync.
type offerSyncStatus struct {
	OfferID string `json:"offer_id"`
	// State is pending, synced or failed; unknown for an offer nothing was queued for.
	State        string     `json:"state"`
	PlatformID   string     `json:"platform_id,omitempty"`
	PlatformKind string     `json:"platform_kind,omitempty"`
	Active       bool       `json:"active"`
	Deleted      bool       `json:"deleted,omitempty"`
	LastError    string     `json:"last_error,omitempty"`
	Attempts     int        `json:"attempts"`
	SyncedAt     *time.Time `json:"synced_at"`
	CodesFailed  int        `json:"codes_failed,omitempty"`
	// Queued: a job for the offer waits (or runs); NextAttemptAt is when it is due.
	Queued        bool       `json:"queued"`
	NextAttemptAt *time.Time `json:"next_attempt_at,omitempty"`
}

// offerSyncHandler answers the offer's platform sync state: GET /api/offers/:id/sync.
func (s *Server) offerSyncHandler(c *fiber.Ctx) error {
	shop, err := adminShop(c)
	if err != nil {
		return err
	}
	st, err := offerSyncStatusOf(c.UserContext(), s.st, shop, c.Params("id"))
	if err != nil {
		return err
	}
	return c.JSON(st)
}

// offerSyncStatusOf is an offer's sync state with its queued work. store.ErrNotFound when the
// shop has no such offer (deleted ones count: deleting their discount is part of the sync).
func offerSyncStatusOf(ctx context.Context, st *store.Store, shop, offerID string) (offerSyncStatus, error) {
	out := offerSyncStatus{OfferID: offerID, State: syncStateUnknown}
	sync, err := st.GetOfferSync(ctx, shop, offerID)
	switch {
	case errors.Is(err, store.ErrNotFound):
		if _, err := st.GetOffer(ctx, shop, offerID); err != nil {
			return out, err
		}
	case err != nil:
		return out, err
	default:
		out.State, out.PlatformID, out.PlatformKind = sync.State, sync.PlatformID, sync.PlatformKind
		out.Active, out.Deleted, out.LastError, out.Attempts = sync.PlatformActive, sync.Deleted, sync.LastError, sync.Attempts
		out.SyncedAt, out.CodesFailed = sync.SyncedAt, sync.CodesFailed
	}
	jobs, err := st.PendingSyncJobs(ctx, shop)
	if err != nil {
		return out, err
	}
	for _, j := range jobs {
		if j.OfferID == offerID {
			at := j.NextAttemptAt
			out.Queued, out.NextAttemptAt = true, &at
			break
		}
	}
	return out, nil
}
