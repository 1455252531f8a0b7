package webhooks

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/regularsapp/regulars/store"
)

// Worker defaults.
const (
	// DefaultBatch is how many events one claim takes.
	DefaultBatch = 32
	// DefaultLease is how long a claimed event is reserved for its worker: if the worker dies,
	// the event is due again after it.
	DefaultLease = time.Minute
	// Retry backoff: the first retry waits minBackoff, each further one twice as long, up to
	// maxBackoff.
	minBackoff = time.Second
	maxBackoff = 10 * time.Minute
	// maxDrainRounds bounds DrainOnce, in case the store keeps handing out events.
	maxDrainRounds = 10_000
)

// Worker claims stored events and processes them. One Worker may run in several goroutines
// (RunWorkers) and in several processes: the store's claims keep each event with one worker
// at a time.
type Worker struct {
	st    *store.Store
	p     *Processor
	batch int
	lease time.Duration
}

// NewWorker returns a worker that claims events from st for p, DefaultBatch at a time, under
// DefaultLease. Its clock and logger are p's.
func NewWorker(st *store.Store, p *Processor) *Worker {
	return &Worker{st: st, p: p, batch: DefaultBatch, lease: DefaultLease}
}

// RunWorkers runs n workers until ctx is cancelled, each polling every poll when it finds
// nothing to do, and returns when all have stopped.
func RunWorkers(ctx context.Context, st *store.Store, p *Processor, n int, poll time.Duration) {
	w := NewWorker(st, p)
	var wg sync.WaitGroup
	for range max(n, 1) {
		wg.Go(func() { w.Run(ctx, poll) })
	}
	wg.Wait()
}

// Run processes events until ctx is cancelled. After a full batch it claims again at once;
// otherwise (nothing due, or the store failing) it waits poll, or until ctx is done. While
// claiming keeps failing (the database is away) it logs the first failure and the recovery,
// not every poll.
func (w *Worker) Run(ctx context.Context, poll time.Duration) {
	if poll <= 0 {
		poll = time.Second
	}
	timer := time.NewTimer(poll)
	timer.Stop() // (since Go 1.23, Reset needs no draining)
	defer timer.Stop()
	failing := false
	for {
		n, err := w.Step(ctx)
		if ctx.Err() != nil {
			return
		}
		switch {
		case err != nil && !failing:
			w.p.log.ErrorContext(ctx, "claim webhook events; retrying quietly until it works", slog.Any("error", err))
			failing = true
		case err == nil && failing:
			w.p.log.InfoContext(ctx, "claim webhook events works again")
			failing = false
		}
		if err == nil && n >= w.batch {
			continue
		}
		timer.Reset(poll)
		select {
		case <-ctx.Done():
			return
		case <-timer.C:
		}
	}
}

// DrainOnce processes events until none is due, and returns how many it processed
// (successfully or not). Events retried by it are due again later, after their backoff, so it
// ends. For tests and for the app's start.
func (w *Worker) DrainOnce(ctx context.Context) (int, error) {
	total := 0
	for range maxDrainRounds {
		n, err := w.Step(ctx)
		total += n
		if err != nil {
			return total, err
		}
		if n == 0 {
			return total, nil
		}
	}
	return total, nil
}

// Step claims one batch of due events and handles each: done on success, retried with
// backoff on failure (the store marks an event failed after store.MaxEventAttempts). Runs of
// consecutive order events are processed together (Processor.ProcessOrders: one transaction
// for the run); other events one by one, in claim order. It returns how many it claimed; an
// error only when claiming failed. Once ctx is cancelled it handles no more events: their
// leases run out and another worker takes them.
func (w *Worker) Step(ctx context.Context) (int, error) {
	events, err := w.st.ClaimEvents(ctx, w.batch, w.lease)
	if err != nil {
		return 0, fmt.Errorf("webhooks: claim events: %w", err)
	}
	for start := 0; start < len(events) && ctx.Err() == nil; {
		if !isOrderTopic(events[start].Topic) {
			w.handle(ctx, events[start])
			start++
			continue
		}
		end := start + 1
		for end < len(events) && isOrderTopic(events[end].Topic) {
			end++
		}
		run := events[start:end]
		for i, err := range w.p.ProcessOrders(ctx, run) {
			if err != nil {
				w.fail(ctx, run[i], err)
			}
		}
		w.refreshStats(ctx)
		start = end
	}
	return len(events), nil
}

// refreshStats lets the store refresh the planner's statistics of the tables orders grow
// (store.RefreshPlannerStats: rarely, and only when they are stale).
func (w *Worker) refreshStats(ctx context.Context) {
	analyzed, err := w.st.RefreshPlannerStats(ctx)
	switch {
	case err != nil && ctx.Err() == nil:
		w.p.log.WarnContext(ctx, "refresh planner statistics", slog.Any("error", err))
	case len(analyzed) > 0:
		w.p.log.DebugContext(ctx, "refreshed planner statistics", slog.Any("tables", analyzed))
	}
}

// handle processes one claimed event that is not an order event and records the outcome.
func (w *Worker) handle(ctx context.Context, ev store.WebhookEvent) {
	err := recovered(ev.Topic, func() error { return w.p.Process(ctx, ev) })
	if err != nil {
		w.fail(ctx, ev, err)
		return
	}
	err = w.st.CompleteEvent(ctx, ev.ID)
	// ErrNotFound: the event went with its shop's data (shop/redact deletes it).
	if err != nil && !errors.Is(err, store.ErrNotFound) && ctx.Err() == nil {
		// Processing is idempotent: when the lease runs out the event is applied again.
		w.log(ev).ErrorContext(ctx, "mark webhook event done", slog.Any("error", err))
	}
}

// log is the processor's logger with the event's identity.
func (w *Worker) log(ev store.WebhookEvent) *slog.Logger {
	return w.p.log.With(slog.Int64("event", ev.ID), slog.String("topic", ev.Topic),
		slog.String("shop", ev.Shop), slog.String("event_id", ev.EventID))
}

// fail records a failed attempt of a claimed event: logged once, and due again after its
// backoff (or failed for good after store.MaxEventAttempts).
func (w *Worker) fail(ctx context.Context, ev store.WebhookEvent, err error) {
	if ctx.Err() != nil {
		return // stopped mid-event: not the event's fault; its lease runs out
	}
	attempt := max(ev.Attempts, 1) // the store counted this attempt when it was claimed
	retryAt := w.p.now().Add(Backoff(attempt - 1))
	attrs := []any{slog.Int("attempt", attempt), slog.Any("error", err)}
	var pe *panicError
	if errors.As(err, &pe) {
		attrs = append(attrs, slog.String("stack", pe.stack))
	}
	level := slog.LevelWarn
	if attempt >= store.MaxEventAttempts {
		level = slog.LevelError // the store marks it failed now; the merchant can requeue it
		attrs = append(attrs, slog.Bool("gave_up", true))
	} else {
		attrs = append(attrs, slog.Time("retry_at", retryAt))
	}
	log := w.log(ev)
	log.Log(ctx, level, "webhook event failed", attrs...)
	rerr := w.st.RetryEvent(ctx, ev.ID, err.Error(), retryAt)
	if rerr != nil && !errors.Is(rerr, store.ErrNotFound) && ctx.Err() == nil {
		log.ErrorContext(ctx, "record webhook event failure", slog.Any("error", rerr))
	}
}

// panicError is a panic recovered while processing an event. Its message (stored as the
// event's last error) leaves the stack out; the log has it.
type panicError struct {
	topic string
	value any
	stack string
}

func (e *panicError) Error() string { return fmt.Sprintf("%s: panic: %v", e.topic, e.value) }

// Backoff is how long to wait before retrying an event after its failed attempt number
// attempts+1: 1 s after the first failure, then 2 s, 4 s, ... doubling up to 10 minutes.
func Backoff(attempts int) time.Duration {
	if attempts < 0 {
		attempts = 0
	}
	d := minBackoff
	for range attempts {
		d *= 2
		if d >= maxBackoff {
			return maxBackoff
		}
	}
	return d
}
