package app

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
	"slices"
	"sync"
	"time"

	"github.com/regularsapp/regulars/discountfn"
	"github.com/regularsapp/regulars/graphql"
	"github.com/regularsapp/regulars/store"
)

// Platform sync: every offer becomes one app discount on the platform, running our function
// (docs/PLATFORM.md, "Our platform discounts").
//
// Every offer change is written to the store's outbox (OfferChanged), and workers turn the
// outbox's jobs into Admin API calls (Sync.Run), in any process: the outbox keeps an offer's
// jobs in order and one at a time, and a job that fails is retried with exponential backoff
// until it succeeds. Each offer's sync state (store.OfferSync) says whether its discount
// matches it, and if not, why: the platform's userErrors are kept as its last error.
//
// How an offer maps onto its discount:
//   - application code or codes → a code app discount; automatic → an automatic app
//     discount. A shared code is the discount's code; for unique codes the discount is
//     created with the first code and the others are added 250 at a time
//     (discountRedeemCodeBulkAdd), each batch polled until the platform has imported it;
//   - title: the preview title, else the offer's name, else its id;
//   - functionHandle: our function's handle; discountClasses: Offer.Classes();
//     combinesWith: stacking.combines_with;
//   - startsAt: schedule.starts_at, else the offer's creation time (so an update never moves
//     it); endsAt: schedule.ends_at, or null (sent explicitly, so an update clears it);
//   - code discounts: usageLimit from limits.total_uses (null when unlimited),
//     appliesOncePerCustomer when limits.uses_per_customer is 1. Richer limits (N per
//     customer, daily caps, identity keys) stay with our engine, which sees every checkout;
//   - context: eligibility "customers" → customers {add, remove} (the ids removed since the
//     last sync are removed); every other audience → all buyers. Tag and segment audiences
//     become customerSegments only when SyncConfig.PlatformSegments knows the platform
//     segment for them; otherwise the platform runs the discount for every buyer and our
//     engine decides who qualifies (the same answer, one call more);
//   - the configuration metafield ($app:regulars / function-configuration, json):
//     discountfn.DiscountConfig with the offer id, a checkout token minted for the shop, our
//     endpoint (the app URL), and the collection ids and customer tags of the shop's whole
//     offer set. When those two lists change, every discount of the shop is updated;
//   - lifecycle: active → activated (before the update, which then sets the dates);
//     draft, paused, archived → deactivated (after every update, which would otherwise
//     reopen the dates); a deleted offer → its discount deleted. Scheduled and expired are
//     active offers whose dates the platform applies itself.

// Sync defaults.
const (
	// FunctionHandle is our discount function's extension handle.
	FunctionHandle = "regulars-discounts"
	// configNamespace and configKey name the discounts' configuration metafield.
	configNamespace = "$app:regulars"
	configKey       = "function-configuration"

	defaultSyncWorkers = 2
	maxSyncWorkers     = 64
	// The periodic reconciliation: every 6 hours by default, configurable within bounds.
	defaultReconcileInterval = 6 * time.Hour
	minReconcileInterval     = time.Minute
	maxReconcileInterval     = 7 * 24 * time.Hour
	// adminAPIPath is the Admin GraphQL endpoint under a shop (docs/PLATFORM.md).
	adminAPIPath          = "/admin/api/2025-10/graphql.json"
	defaultSyncPoll       = time.Second
	defaultSyncLease      = 10 * time.Minute
	defaultSyncBatch      = 4
	defaultCodeBatches    = 40 // 10,000 codes per job; the rest in a follow-up job
	defaultCodePolls      = 20
	defaultBulkPolls      = 40
	minSyncBackoff        = 2 * time.Second
	maxSyncBackoff        = time.Hour
	bulkStillRunningRetry = 15 * time.Second
	maxSyncDrainRounds    = 1000
	doneJobsKept          = 7 * 24 * time.Hour
)

// Platform discount kinds, as store.OfferSync.PlatformKind records them.
const (
	kindCode      = "code"
	kindAutomatic = "automatic"
)

// SyncConfig configures platform sync and install work.
type SyncConfig struct {
	// AppURL is our endpoint for the function's fetch target (Config.AppURL).
	AppURL string
	// SigningKey signs the checkout tokens put in the metafields (Config.CheckoutSigningKey).
	SigningKey []byte
	// FunctionHandle is our function's handle (default FunctionHandle).
	FunctionHandle string
	// PaymentFunctionHandle is our payment customization function's handle (default
	// PaymentFunctionHandle).
	PaymentFunctionHandle string
	// WebhookURI is where subscriptions deliver: a path relative to the app URL, as in
	// shopify.app.toml (default "/webhooks").
	WebhookURI string
	// Workers is how many goroutines run jobs (default 2); Poll is how often an idle worker
	// looks for work (default 1 s); Lease is how long a claimed job is reserved (default 10
	// minutes).
	Workers int
	Poll    time.Duration
	Lease   time.Duration
	// ReconcileEvery is how often the history backfill runs again for the orders updated
	// since the last one; 0 turns the periodic reconciliation off.
	ReconcileEvery time.Duration
	// CodeBatches bounds the batches of 250 codes one job sends (default 40); CodePolls and
	// BulkPolls bound the polls of one code batch (default 20) and of one bulk query per
	// attempt (default 40).
	CodeBatches int
	CodePolls   int
	BulkPolls   int
	// Backoff is how long a failed job waits before its next attempt, given its attempts so
	// far (default: 2 s doubling to an hour).
	Backoff func(attempts int) time.Duration
	// PlatformSegments maps a tag or segment audience to platform customer segment ids (nil:
	// none known, so such offers apply to all buyers and the engine decides).
	PlatformSegments func(ctx context.Context, shop string, e discountfn.Eligibility) ([]string, error)
}

func (c SyncConfig) withDefaults() SyncConfig {
	if c.FunctionHandle == "" {
		c.FunctionHandle = FunctionHandle
	}
	if c.PaymentFunctionHandle == "" {
		c.PaymentFunctionHandle = PaymentFunctionHandle
	}
	if c.WebhookURI == "" {
		c.WebhookURI = "/webhooks"
	}
	if c.Workers <= 0 {
		c.Workers = defaultSyncWorkers
	}
	if c.Poll <= 0 {
		c.Poll = defaultSyncPoll
	}
	if c.Lease <= 0 {
		c.Lease = defaultSyncLease
	}
	if c.CodeBatches <= 0 {
		c.CodeBatches = defaultCodeBatches
	}
	if c.CodePolls <= 0 {
		c.CodePolls = defaultCodePolls
	}
	if c.BulkPolls <= 0 {
		c.BulkPolls = defaultBulkPolls
	}
	if c.Backoff == nil {
		c.Backoff = SyncBackoff
	}
	return c
}

// SyncBackoff is the default wait before retrying a failed job: 2 s after the first failure,
// doubling up to an hour.
func SyncBackoff(attempts int) time.Duration {
	d := minSyncBackoff
	for i := 1; i < attempts; i++ {
		d *= 2
		if d >= maxSyncBackoff {
			return maxSyncBackoff
		}
	}
	return d
}

// Sync keeps the platform's discounts in step with the offers, and does each shop's install
// work. It implements Installer and OfferSyncer. It is safe for concurrent use.
type Sync struct {
	st    *store.Store
	admin *graphql.Client
	src   *StoreSource
	cfg   SyncConfig
	log   *slog.Logger
	now   func() time.Time
	// wait is how the reconciliation loop and workers idle (tests never wait).
	wait func(ctx context.Context, d time.Duration) error
}

// NewSync builds the sync. src compiles the shops' offer sets (for the metafields' variables);
// nil builds one on st. A nil logger discards logs; a nil now is time.Now.
func NewSync(st *store.Store, admin *graphql.Client, src *StoreSource, cfg SyncConfig, logger *slog.Logger, now func() time.Time) *Sync {
	if src == nil {
		src = NewStoreSource(st)
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	if now == nil {
		now = time.Now
	}
	return &Sync{st: st, admin: admin, src: src, cfg: cfg.withDefaults(), log: logger, now: now, wait: graphql.SleepContext}
}

// newPlatformSync builds the sync of the running service: an Admin API client authenticated
// with the shops' tokens, at the platform's addresses (platformURL).
func newPlatformSync(cfg Config, st *store.Store, tokens *Tokens, src *StoreSource, logger *slog.Logger) *Sync {
	admin := graphql.New(newPlatformClient(), func(shop string) string { return platformURL(cfg, shop, adminAPIPath) }, tokens.AccessToken)
	return NewSync(st, admin, src, SyncConfig{
		AppURL: cfg.AppURL, SigningKey: cfg.CheckoutSigningKey, Workers: cfg.SyncWorkers, ReconcileEvery: cfg.ReconcileInterval,
	}, logger, time.Now)
}

// OfferChanged queues the offer's sync (OfferSyncer): an upsert, or a delete when the offer
// was deleted.
func (y *Sync) OfferChanged(ctx context.Context, shop, offerID string) error {
	kind := store.SyncUpsert
	if _, err := y.st.GetOffer(ctx, shop, offerID); errors.Is(err, store.ErrNotFound) {
		kind = store.SyncDelete
	} else if err != nil {
		return fmt.Errorf("sync offer %s of %s: %w", offerID, shop, err)
	}
	if _, err := y.st.EnqueueSync(ctx, shop, offerID, kind); err != nil {
		return fmt.Errorf("sync offer %s of %s: %w", offerID, shop, err)
	}
	return nil
}

// CodesAdded queues sending an offer's new unique codes to the platform.
func (y *Sync) CodesAdded(ctx context.Context, shop, offerID string) error {
	if _, err := y.st.EnqueueSync(ctx, shop, offerID, store.SyncCodes); err != nil {
		return fmt.Errorf("sync codes of offer %s of %s: %w", offerID, shop, err)
	}
	return nil
}

// Run runs the workers, and the periodic reconciliation when configured, until ctx is
// cancelled.
func (y *Sync) Run(ctx context.Context) {
	var wg sync.WaitGroup
	for range y.cfg.Workers {
		wg.Go(func() { y.work(ctx) })
	}
	if y.cfg.ReconcileEvery > 0 {
		wg.Go(func() { y.reconcileLoop(ctx) })
	}
	wg.Wait()
}

// work claims and runs jobs until ctx is cancelled. While claiming fails (the database is
// away) it logs the first failure and the recovery, not every poll.
func (y *Sync) work(ctx context.Context) {
	failing := false
	for {
		n, err := y.step(ctx, nil, defaultSyncBatch)
		if ctx.Err() != nil {
			return
		}
		switch {
		case err != nil && !failing:
			y.log.ErrorContext(ctx, "claim sync jobs; retrying quietly until it works", slog.Any("error", err))
			failing = true
		case err == nil && failing:
			y.log.InfoContext(ctx, "claim sync jobs works again")
			failing = false
		}
		if err == nil && n >= defaultSyncBatch {
			continue
		}
		if y.wait(ctx, y.cfg.Poll) != nil {
			return
		}
	}
}

// DrainOnce runs due jobs until none is left, each job at most once (a job that fails is
// retried later, not in this call), and returns how many it ran. For tests and tools.
func (y *Sync) DrainOnce(ctx context.Context) (int, error) {
	seen := map[int64]bool{}
	total := 0
	for range maxSyncDrainRounds {
		n, err := y.step(ctx, seen, drainBatch)
		total += n
		if err != nil || n == 0 {
			return total, err
		}
	}
	return total, nil
}

// drainBatch is DrainOnce's claim size: large, so that jobs it ran already and hands back do
// not hide the others.
const drainBatch = 100

// step claims one batch and runs it. With seen, a job already run is handed back untouched.
func (y *Sync) step(ctx context.Context, seen map[int64]bool, batch int) (int, error) {
	jobs, err := y.st.ClaimSyncJobs(ctx, batch, y.cfg.Lease)
	if err != nil {
		return 0, fmt.Errorf("sync: claim jobs: %w", err)
	}
	ran := 0
	for _, j := range jobs {
		if ctx.Err() != nil {
			break
		}
		if seen != nil && seen[j.ID] {
			// Let it go again as it was (the claim's attempt is not a real one).
			_ = y.st.RetrySyncJob(ctx, j.ID, j.LastError, j.NextAttemptAt)
			continue
		}
		if seen != nil {
			seen[j.ID] = true
		}
		y.handle(ctx, j)
		ran++
	}
	return ran, nil
}

// errStillRunning is a job waiting for the platform (a bulk query still running): it is
// tried again soon, and is not a failure.
var errStillRunning = errors.New("the platform is still working on it")

// handle runs one job and records the outcome. Each failure is logged once.
func (y *Sync) handle(ctx context.Context, j store.SyncJob) {
	log := y.log.With(slog.Int64("job", j.ID), slog.String("kind", j.Kind), slog.String("shop", j.Shop))
	if j.OfferID != "" {
		log = log.With(slog.String("offer", j.OfferID))
	}
	err := y.runSafely(ctx, j)
	if err == nil {
		if cerr := y.st.CompleteSyncJob(ctx, j.ID); cerr != nil && ctx.Err() == nil {
			log.ErrorContext(ctx, "mark sync job done", slog.Any("error", cerr))
		}
		return
	}
	if ctx.Err() != nil {
		return // stopped mid-job; the lease runs out and another worker takes it
	}
	if errors.Is(err, ErrNotInstalled) || errors.Is(err, ErrUnknownShop) {
		// The shop uninstalled the app (or has not finished installing it: its install job
		// queues every offer again): nothing can reach its platform now.
		log.InfoContext(ctx, "sync job dropped: the shop has not installed the app", slog.Any("error", err))
		_ = y.st.CompleteSyncJob(ctx, j.ID)
		return
	}
	retryAt := y.now().Add(y.cfg.Backoff(j.Attempts))
	if errors.Is(err, errStillRunning) {
		retryAt = y.now().Add(bulkStillRunningRetry)
		log.DebugContext(ctx, "sync job waits for the platform", slog.Any("reason", err))
	} else {
		log.WarnContext(ctx, "sync job failed", slog.Int("attempt", j.Attempts), slog.Any("error", err), slog.Time("retry_at", retryAt))
		y.recordFailure(ctx, j, err)
	}
	if rerr := y.st.RetrySyncJob(ctx, j.ID, err.Error(), retryAt); rerr != nil && ctx.Err() == nil {
		log.ErrorContext(ctx, "record sync job failure", slog.Any("error", rerr))
	}
}

// runSafely runs a job, turning a panic into an error.
func (y *Sync) runSafely(ctx context.Context, j store.SyncJob) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%s job panicked: %v\n%s", j.Kind, r, debug.Stack())
		}
	}()
	switch j.Kind {
	case store.SyncUpsert, store.SyncCodes, store.SyncDelete:
		return y.syncOffer(ctx, j)
	case store.SyncInstall:
		return y.install(ctx, j.Shop)
	case store.SyncBackfill:
		return y.backfill(ctx, j.Shop)
	case store.SyncOrderTags:
		return y.tagOrders(ctx, j.Shop) // ordertags.go
	}
	return fmt.Errorf("unknown sync job kind %q", j.Kind)
}

// recordFailure puts a failure where the merchant sees it: the offer's sync state, or the
// shop's install state.
func (y *Sync) recordFailure(ctx context.Context, j store.SyncJob, cause error) {
	msg := failureMessage(cause)
	if j.OfferID == "" {
		ss, err := y.st.GetShopSync(ctx, j.Shop)
		if err == nil {
			ss.LastError = j.Kind + ": " + msg
			err = y.st.SaveShopSync(ctx, ss)
		}
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			y.log.ErrorContext(ctx, "record install failure", slog.String("shop", j.Shop), slog.Any("error", err))
		}
		return
	}
	st, err := y.offerState(ctx, j.Shop, j.OfferID)
	if err == nil {
		st.State, st.LastError, st.Attempts = store.SyncFailed, msg, st.Attempts+1
		err = y.st.SaveOfferSync(ctx, st)
	}
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		y.log.ErrorContext(ctx, "record sync failure", slog.String("shop", j.Shop), slog.String("offer", j.OfferID), slog.Any("error", err))
	}
}

// failureMessage is what the merchant reads: the platform's userErrors as they are,
// anything else as its error text.
func failureMessage(err error) string {
	var ue *graphql.UserErrors
	if errors.As(err, &ue) {
		return ue.Message()
	}
	return err.Error()
}

// offerState reads the offer's sync state, a fresh one when it has none.
func (y *Sync) offerState(ctx context.Context, shop, offerID string) (store.OfferSync, error) {
	st, err := y.st.GetOfferSync(ctx, shop, offerID)
	if errors.Is(err, store.ErrNotFound) {
		return store.OfferSync{Shop: shop, OfferID: offerID, State: store.SyncPending}, nil
	}
	return st, err
}

// syncOffer makes the offer's platform discount match the offer.
func (y *Sync) syncOffer(ctx context.Context, j store.SyncJob) error {
	st, err := y.offerState(ctx, j.Shop, j.OfferID)
	if err != nil {
		return err
	}
	row, err := y.st.GetOffer(ctx, j.Shop, j.OfferID)
	if errors.Is(err, store.ErrNotFound) || j.Kind == store.SyncDelete {
		return y.deleteDiscount(ctx, &st)
	}
	if err != nil {
		return err
	}
	var o discountfn.Offer
	if err := json.Unmarshal(row.Config, &o); err != nil {
		return fmt.Errorf("offer %s: stored configuration: %w", row.ID, err)
	}
	o.ID, o.Status = row.ID, discountfn.Status(row.Status)
	if j.Kind == store.SyncCodes && st.PlatformID != "" && o.Application.Kind == discountfn.ApplyCodes {
		return y.finishCodes(ctx, &st)
	}
	return y.upsert(ctx, &st, row, &o)
}

// upsert creates or updates the discount, sets its activation, and sends its codes.
func (y *Sync) upsert(ctx context.Context, st *store.OfferSync, row store.Offer, o *discountfn.Offer) error {
	shop := st.Shop
	kind := kindAutomatic
	if o.IsCode() {
		kind = kindCode
	}
	if st.PlatformID != "" && st.PlatformKind != kind {
		// Code became automatic or the other way round: a discount cannot change kind.
		if err := y.deletePlatform(ctx, st); err != nil {
			return err
		}
	}
	metafield, err := y.configMetafield(ctx, shop, o.ID)
	if err != nil {
		return err
	}
	in, err := y.discountInput(ctx, st, row, o, metafield)
	if err != nil {
		return err
	}
	active := o.Status == discountfn.StatusActive

	if st.PlatformID != "" {
		if active && !st.PlatformActive {
			if err := y.admin.SetDiscountActive(ctx, shop, st.PlatformID, kind == kindAutomatic, true); err != nil {
				return err
			}
			st.PlatformActive = true
		}
		err := y.update(ctx, st, kind, in)
		var ue *graphql.UserErrors
		if errors.As(err, &ue) {
			// Deleted in the platform's admin? Then it is created again below.
			exists, xerr := y.admin.NodeExists(ctx, shop, st.PlatformID)
			if xerr != nil {
				return errors.Join(err, xerr)
			}
			if exists {
				return err
			}
			y.log.InfoContext(ctx, "platform discount is gone; creating it again", slog.String("shop", shop),
				slog.String("offer", o.ID), slog.String("platform_id", st.PlatformID))
			st.PlatformID, st.PlatformKind, st.PlatformActive = "", "", false
		} else if err != nil {
			return err
		}
	}
	if st.PlatformID == "" {
		created, err := y.create(ctx, st, kind, o, in)
		if err != nil || !created {
			return err
		}
	}
	st.Customers = in.customers
	if !active {
		// After every update: an update's dates would otherwise reopen a paused discount.
		if err := y.admin.SetDiscountActive(ctx, shop, st.PlatformID, kind == kindAutomatic, false); err != nil {
			return err
		}
		st.PlatformActive = false
	}
	if err := y.st.SaveOfferSync(ctx, *st); err != nil {
		return err
	}
	if o.Application.Kind == discountfn.ApplyCodes {
		return y.finishCodes(ctx, st)
	}
	return y.synced(ctx, st)
}

// create creates the discount. A unique-codes offer without codes yet cannot be created
// (created false): it is, once its first codes are added.
func (y *Sync) create(ctx context.Context, st *store.OfferSync, kind string, o *discountfn.Offer, in discountInput) (created bool, err error) {
	shop := st.Shop
	if kind == kindAutomatic {
		id, err := y.admin.CreateAutomaticDiscount(ctx, shop, in.automatic())
		if err != nil {
			return false, err
		}
		st.PlatformID = id
	} else {
		code := o.Application.Code
		var firstUnique []string
		if o.Application.Kind == discountfn.ApplyCodes {
			if firstUnique, err = y.st.UnsyncedCodes(ctx, shop, o.ID, 1); err != nil {
				return false, err
			}
			if len(firstUnique) == 0 {
				st.State, st.LastError = store.SyncPending, "waiting for the offer's first code: the platform discount is created with it"
				return false, y.st.SaveOfferSync(ctx, *st)
			}
			code = firstUnique[0]
		}
		ci := in.code()
		ci.Code = code
		id, err := y.admin.CreateCodeDiscount(ctx, shop, ci)
		if err != nil {
			return false, err
		}
		st.PlatformID = id
		if len(firstUnique) > 0 {
			// Recorded with the id: if either write were lost, the next attempt would send
			// the code again, which the platform refuses as taken (counted, not fatal).
			if err := y.st.MarkCodesSynced(ctx, shop, o.ID, firstUnique); err != nil {
				return false, err
			}
		}
	}
	st.PlatformKind, st.PlatformActive, st.Deleted = kind, true, false
	// Saved at once, so a failure after this point never creates a second discount.
	if err := y.st.SaveOfferSync(ctx, *st); err != nil {
		return false, err
	}
	y.log.InfoContext(ctx, "platform discount created", slog.String("shop", shop), slog.String("offer", o.ID),
		slog.String("platform_id", st.PlatformID))
	return true, nil
}

func (y *Sync) update(ctx context.Context, st *store.OfferSync, kind string, in discountInput) error {
	if kind == kindAutomatic {
		return y.admin.UpdateAutomaticDiscount(ctx, st.Shop, st.PlatformID, in.automatic())
	}
	ci := in.code()
	ci.Code = "" // the discount keeps its code (unique codes are added separately)
	if in.sharedCode != "" {
		ci.Code = in.sharedCode
	}
	return y.admin.UpdateCodeDiscount(ctx, st.Shop, st.PlatformID, ci)
}

// synced records a successful sync.
func (y *Sync) synced(ctx context.Context, st *store.OfferSync) error {
	now := y.now()
	st.State, st.LastError, st.Attempts, st.SyncedAt = store.SyncSynced, "", 0, &now
	return y.st.SaveOfferSync(ctx, *st)
}

// finishCodes sends the offer's unsent unique codes (at most CodeBatches batches, then a
// follow-up job) and records the sync.
func (y *Sync) finishCodes(ctx context.Context, st *store.OfferSync) error {
	more, err := y.pushCodes(ctx, st)
	if err != nil {
		return err
	}
	if err := y.synced(ctx, st); err != nil {
		return err
	}
	if more {
		if _, err := y.st.EnqueueSync(ctx, st.Shop, st.OfferID, store.SyncCodes); err != nil {
			return err
		}
	}
	return nil
}

// pushCodes sends unsent codes in batches of 250, each polled until the platform has
// imported it. Progress is recorded per batch: a code is marked sent when its batch is
// accepted, and a batch still importing is polled first by the next attempt.
func (y *Sync) pushCodes(ctx context.Context, st *store.OfferSync) (more bool, err error) {
	shop := st.Shop
	if st.CodesBulkID != "" {
		if err := y.awaitCodes(ctx, st); err != nil {
			return false, err
		}
	}
	for range y.cfg.CodeBatches {
		codes, err := y.st.UnsyncedCodes(ctx, shop, st.OfferID, graphql.MaxRedeemCodes)
		if err != nil {
			return false, err
		}
		if len(codes) == 0 {
			return false, nil
		}
		bulkID, err := y.admin.AddRedeemCodes(ctx, shop, st.PlatformID, codes)
		if err != nil {
			return false, err
		}
		if err := y.st.MarkCodesSynced(ctx, shop, st.OfferID, codes); err != nil {
			return false, err
		}
		st.CodesBulkID = bulkID
		if err := y.st.SaveOfferSync(ctx, *st); err != nil {
			return false, err
		}
		if err := y.awaitCodes(ctx, st); err != nil {
			return false, err
		}
	}
	n, err := y.st.CountUnsyncedCodes(ctx, shop, st.OfferID)
	return n > 0, err
}

// awaitCodes polls the batch in st.CodesBulkID until it is done and counts its failures.
func (y *Sync) awaitCodes(ctx context.Context, st *store.OfferSync) error {
	b, err := y.admin.WaitRedeemCodeBulk(ctx, st.Shop, st.CodesBulkID, y.cfg.CodePolls)
	if err != nil {
		return fmt.Errorf("codes batch %s: %w", st.CodesBulkID, err)
	}
	st.CodesBulkID = ""
	st.CodesFailed += b.FailedCount
	if b.FailedCount > 0 {
		y.log.WarnContext(ctx, "the platform refused some codes", slog.String("shop", st.Shop), slog.String("offer", st.OfferID),
			slog.Int("failed", b.FailedCount), slog.Any("examples", b.Failures[:min(len(b.Failures), 3)]))
	}
	return y.st.SaveOfferSync(ctx, *st)
}

// deleteDiscount deletes the offer's discount, if it has one.
func (y *Sync) deleteDiscount(ctx context.Context, st *store.OfferSync) error {
	if err := y.deletePlatform(ctx, st); err != nil {
		return err
	}
	st.Deleted = true
	if err := y.synced(ctx, st); err != nil && !errors.Is(err, store.ErrNotFound) {
		return err // ErrNotFound: the shop's data is gone (shop/redact); nothing to record
	}
	return nil
}

// deletePlatform deletes st's platform discount (gone already counts as deleted) and forgets
// it.
func (y *Sync) deletePlatform(ctx context.Context, st *store.OfferSync) error {
	if st.PlatformID == "" {
		return nil
	}
	err := y.admin.DeleteDiscount(ctx, st.Shop, st.PlatformID, st.PlatformKind == kindAutomatic)
	var ue *graphql.UserErrors
	if errors.As(err, &ue) {
		exists, xerr := y.admin.NodeExists(ctx, st.Shop, st.PlatformID)
		if xerr != nil {
			return errors.Join(err, xerr)
		}
		if exists {
			return err
		}
	} else if err != nil {
		return err
	}
	y.log.InfoContext(ctx, "platform discount deleted", slog.String("shop", st.Shop), slog.String("offer", st.OfferID),
		slog.String("platform_id", st.PlatformID))
	st.PlatformID, st.PlatformKind, st.PlatformActive, st.Customers = "", "", false, nil
	return nil
}

// --- Input ------------------------------------------------------------------------------

// discountInput is what the code and automatic inputs share.
type discountInput struct {
	title      string
	classes    []graphql.DiscountClass
	combines   graphql.DiscountCombinesWithInput
	startsAt   time.Time
	endsAt     *time.Time
	context    graphql.DiscountContextInput
	customers  []string // the context's customers, remembered for the next update
	metafield  graphql.MetafieldInput
	handle     string
	usageLimit *int
	oncePer    bool
	sharedCode string
}

func (in discountInput) code() graphql.DiscountCodeAppInput {
	starts, cw, ctx := in.startsAt, in.combines, in.context
	return graphql.DiscountCodeAppInput{
		Title: in.title, FunctionHandle: in.handle, DiscountClasses: in.classes, CombinesWith: &cw,
		StartsAt: &starts, EndsAt: in.endsAt, Context: &ctx, UsageLimit: in.usageLimit,
		AppliesOncePerCustomer: in.oncePer, Metafields: []graphql.MetafieldInput{in.metafield},
	}
}

func (in discountInput) automatic() graphql.DiscountAutomaticAppInput {
	starts, cw, ctx := in.startsAt, in.combines, in.context
	return graphql.DiscountAutomaticAppInput{
		Title: in.title, FunctionHandle: in.handle, DiscountClasses: in.classes, CombinesWith: &cw,
		StartsAt: &starts, EndsAt: in.endsAt, Context: &ctx, Metafields: []graphql.MetafieldInput{in.metafield},
	}
}

// discountInput maps an offer onto its discount (see the top of this file).
func (y *Sync) discountInput(ctx context.Context, st *store.OfferSync, row store.Offer, o *discountfn.Offer, metafield graphql.MetafieldInput) (discountInput, error) {
	in := discountInput{
		title:     offerTitle(o),
		combines:  graphql.DiscountCombinesWithInput{ProductDiscounts: o.Stacking.CombinesWith.ProductDiscounts, OrderDiscounts: o.Stacking.CombinesWith.OrderDiscounts, ShippingDiscounts: o.Stacking.CombinesWith.ShippingDiscounts},
		startsAt:  row.CreatedAt.UTC(),
		metafield: metafield,
		handle:    y.cfg.FunctionHandle,
		oncePer:   o.Limits.UsesPerCustomer == 1,
	}
	for _, c := range o.Classes() {
		in.classes = append(in.classes, graphql.DiscountClass(c))
	}
	if s := o.Schedule.StartsAt; s != nil {
		in.startsAt = s.UTC()
	}
	if e := o.Schedule.EndsAt; e != nil {
		end := e.UTC()
		in.endsAt = &end
	}
	if n := o.Limits.TotalUses; n > 0 {
		in.usageLimit = &n
	}
	if o.Application.Kind == discountfn.ApplyCode {
		in.sharedCode = o.Application.Code
	}
	var err error
	in.context, in.customers, err = y.buyerContext(ctx, st, o)
	return in, err
}

// offerTitle is the discount's title: the shopper-facing title, else the name, else the id.
func offerTitle(o *discountfn.Offer) string {
	switch {
	case o.Preview.Title != "":
		return o.Preview.Title
	case o.Name != "":
		return o.Name
	}
	return o.ID
}

// buyerContext is the discount's context (see the top of this file), and the customers it
// lists.
func (y *Sync) buyerContext(ctx context.Context, st *store.OfferSync, o *discountfn.Offer) (graphql.DiscountContextInput, []string, error) {
	all := graphql.DiscountContextInput{All: graphql.DiscountBuyerSelectionAll}
	e := o.Eligibility
	switch e.Audience {
	case discountfn.AudienceCustomers:
		if len(e.CustomerIDs) == 0 {
			return all, nil, nil
		}
		ids := slices.Clone(e.CustomerIDs)
		slices.Sort(ids)
		ids = slices.Compact(ids)
		var removed []string
		for _, prev := range st.Customers {
			if _, found := slices.BinarySearch(ids, prev); !found {
				removed = append(removed, prev)
			}
		}
		return graphql.DiscountContextInput{Customers: &graphql.DiscountCustomersInput{Add: ids, Remove: removed}}, ids, nil
	case discountfn.AudienceTags, discountfn.AudienceSegment:
		if y.cfg.PlatformSegments == nil {
			return all, nil, nil
		}
		segs, err := y.cfg.PlatformSegments(ctx, st.Shop, e)
		if err != nil {
			return all, nil, fmt.Errorf("platform segments for offer %s: %w", o.ID, err)
		}
		if len(segs) == 0 {
			return all, nil, nil
		}
		return graphql.DiscountContextInput{CustomerSegments: &graphql.DiscountCustomerSegmentsInput{Add: segs}}, nil, nil
	}
	return all, nil, nil
}

// configMetafield is the discount's configuration metafield. When the shop's configuration
// variables (collection ids, customer tags, endpoint) changed since the metafields were last
// written, every other offer of the shop is queued for an update too.
func (y *Sync) configMetafield(ctx context.Context, shop, offerID string) (graphql.MetafieldInput, error) {
	set, _, err := y.src.Checkout(ctx, shop)
	if err != nil {
		return graphql.MetafieldInput{}, fmt.Errorf("compile the offers of %s: %w", shop, err)
	}
	token, err := MintCheckoutToken(y.cfg.SigningKey, shop, y.now())
	if err != nil {
		return graphql.MetafieldInput{}, err
	}
	cfg := discountfn.DiscountConfig{
		Version: discountfn.ConfigVersion, OfferID: offerID, Token: token, Endpoint: y.cfg.AppURL,
		CollectionIDs: nonNil(set.CollectionIDs()), CustomerTags: nonNil(set.CustomerTags()),
	}
	value, err := json.Marshal(cfg)
	if err != nil {
		return graphql.MetafieldInput{}, fmt.Errorf("encode the configuration metafield: %w", err)
	}
	if err := y.checkConfigHash(ctx, shop, offerID, configHash(cfg)); err != nil {
		return graphql.MetafieldInput{}, err
	}
	return graphql.MetafieldInput{Namespace: configNamespace, Key: configKey, Type: "json", Value: string(value)}, nil
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// configHash identifies what every metafield of a shop shares.
func configHash(cfg discountfn.DiscountConfig) string {
	b, _ := json.Marshal([]any{cfg.Endpoint, cfg.CollectionIDs, cfg.CustomerTags})
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:8])
}

// checkConfigHash records hash as the shop's, and when it differs from the recorded one
// queues an update of every other offer's discount (except for the shop's first discount).
func (y *Sync) checkConfigHash(ctx context.Context, shop, offerID, hash string) error {
	ss, err := y.st.GetShopSync(ctx, shop)
	if err != nil {
		return err
	}
	if ss.ConfigHash == hash {
		return nil
	}
	first := ss.ConfigHash == ""
	if err := y.st.SaveShopConfigHash(ctx, shop, hash); err != nil {
		return err
	}
	if first {
		return nil
	}
	return y.enqueueOffers(ctx, shop, offerID)
}

// enqueueOffers queues an upsert of every offer of the shop that has (or should have) a
// discount, except skip.
func (y *Sync) enqueueOffers(ctx context.Context, shop, skip string) error {
	offers, err := y.st.ListOffers(ctx, shop, false)
	if err != nil {
		return err
	}
	for _, o := range offers {
		if o.ID == skip {
			continue
		}
		if _, err := y.st.EnqueueSync(ctx, shop, o.ID, store.SyncUpsert); err != nil {
			return err
		}
	}
	return nil
}

// checkShopConfig queues updates of the shop's discounts when the configuration variables
// changed without an offer changing (a segment edit adds a customer tag).
func (y *Sync) checkShopConfig(ctx context.Context, shop string) error {
	set, _, err := y.src.Checkout(ctx, shop)
	if err != nil {
		return err
	}
	hash := configHash(discountfn.DiscountConfig{Endpoint: y.cfg.AppURL, CollectionIDs: nonNil(set.CollectionIDs()), CustomerTags: nonNil(set.CustomerTags())})
	return y.checkConfigHash(ctx, shop, "", hash)
}
