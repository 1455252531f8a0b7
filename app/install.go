package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/regularsapp/regulars/graphql"
	"github.com/regularsapp/regulars/store"
	"github.com/regularsapp/regulars/webhooks"
)

// Install work (PRODUCT.md A): once a shop has installed the app, read its currency and
// timezone, find our discount function, subscribe to the webhooks of shopify.app.toml, create
// a discount for every offer, backfill the shop's order history through a bulk query into
// the same pipeline as order webhooks, and register the payment customization that hides
// cash on delivery (paymentsync.go). The work is a job of the sync outbox, so it is
// durable and retried like any other; AfterInstall only queues it.

// backfillOverlap is how far before the last backfill's start a reconciliation reads: orders
// updated while it ran are read again (the pipeline applies each version once).
const backfillOverlap = 5 * time.Minute

// AfterInstall queues the shop's install work (Installer). It may be called again for a shop
// already set up: the work is idempotent.
func (y *Sync) AfterInstall(ctx context.Context, shop string) error {
	if _, err := y.st.EnqueueSync(ctx, shop, "", store.SyncInstall); err != nil {
		return fmt.Errorf("queue the install work of %s: %w", shop, err)
	}
	return nil
}

// WebhookTopics are the topics install subscribes to: every topic the webhooks package
// handles that the Admin API can subscribe to (the compliance topics are configured in
// shopify.app.toml only). They match shopify.app.toml's subscriptions (a test checks it).
func WebhookTopics() []string {
	var topics []string
	for _, t := range webhooks.Topics() {
		if _, ok := graphql.WebhookTopic(t); ok {
			topics = append(topics, t)
		}
	}
	return topics
}

// install is the install job.
func (y *Sync) install(ctx context.Context, shop string) error {
	info, err := y.admin.Shop(ctx, shop)
	if err != nil {
		return fmt.Errorf("read the shop: %w", err)
	}
	if _, err := y.st.UpsertShop(ctx, store.Shop{Domain: shop, Currency: info.Currency, Timezone: info.Timezone}); err != nil {
		return err
	}
	fn, err := y.findFunction(ctx, shop)
	if err != nil {
		return err
	}
	for _, topic := range WebhookTopics() {
		if err := y.subscribe(ctx, shop, topic); err != nil {
			return err
		}
	}
	ss, err := y.st.GetShopSync(ctx, shop)
	if err != nil {
		return err
	}
	now := y.now()
	ss.FunctionID, ss.WebhooksAt, ss.LastError = fn.ID, &now, ""
	if err := y.st.SaveShopSync(ctx, ss); err != nil {
		return err
	}
	if err := y.enqueueOffers(ctx, shop, ""); err != nil {
		return err
	}
	if _, err := y.st.EnqueueSync(ctx, shop, "", store.SyncBackfill); err != nil {
		return err
	}
	// Last: its lasting failures are recorded, not returned, so they hold up nothing above.
	if err := y.settlePaymentCustomization(ctx, shop); err != nil {
		return err
	}
	y.log.InfoContext(ctx, "install work done; history backfill queued", slog.String("shop", shop),
		slog.String("function", fn.ID), slog.String("currency", info.Currency), slog.String("timezone", info.Timezone))
	return nil
}

// functionTitle is our function's name (the extension's name in
// discountfn/extension/shopify.extension.toml).
const functionTitle = "Regulars discounts"

// findFunction finds our discount function among the app's functions. The 2025-10 schema
// has no handle on ShopifyFunction, so it is recognised by its title (the extension's name,
// or the handle), else as the app's only function of the discount API.
func (y *Sync) findFunction(ctx context.Context, shop string) (graphql.Function, error) {
	fns, err := y.admin.Functions(ctx, shop)
	if err != nil {
		return graphql.Function{}, fmt.Errorf("list the app's functions: %w", err)
	}
	var discount []graphql.Function
	for _, f := range fns {
		if strings.EqualFold(f.Title, functionTitle) || strings.EqualFold(f.Title, y.cfg.FunctionHandle) {
			return f, nil
		}
		if f.APIType == "discount" {
			discount = append(discount, f)
		}
	}
	if len(discount) == 1 {
		return discount[0], nil
	}
	return graphql.Function{}, fmt.Errorf("the shop has no %q function of this app (%d functions found): deploy the extension", y.cfg.FunctionHandle, len(fns))
}

// subscribe subscribes to one topic; a subscription that exists already is fine.
func (y *Sync) subscribe(ctx context.Context, shop, topic string) error {
	_, err := y.admin.SubscribeWebhook(ctx, shop, topic, y.cfg.WebhookURI)
	var ue *graphql.UserErrors
	if errors.As(err, &ue) && strings.Contains(strings.ToLower(ue.Message()), "already been taken") {
		return nil
	}
	if err != nil {
		return fmt.Errorf("subscribe to %s: %w", topic, err)
	}
	return nil
}

// backfill is the backfill job: start (or pick up) the bulk query, wait for it, and queue
// every order it read as an orders/updated event of the webhook pipeline.
func (y *Sync) backfill(ctx context.Context, shop string) error {
	ss, err := y.st.GetShopSync(ctx, shop)
	if err != nil {
		return err
	}
	if ss.BackfillOp == "" {
		if err := y.startBackfill(ctx, &ss); err != nil {
			return err
		}
	}
	op, err := y.admin.WaitBulkOperation(ctx, shop, ss.BackfillOp, y.cfg.BulkPolls)
	if errors.Is(err, graphql.ErrNotDone) {
		return fmt.Errorf("history backfill %s: %w", ss.BackfillOp, errStillRunning)
	}
	if err != nil {
		return err
	}
	if op.Status != graphql.BulkOperationStatusCompleted {
		// Start over at the next attempt.
		ss.BackfillOp = ""
		if err := y.st.SaveShopSync(ctx, ss); err != nil {
			return err
		}
		return fmt.Errorf("history backfill %s ended %s (%s)", op.ID, op.Status, op.ErrorCode)
	}
	n := 0
	if op.URL != "" {
		if n, err = y.queueBulkOrders(ctx, shop, string(op.URL)); err != nil {
			return err
		}
	}
	ss.ReconciledAt, ss.BackfillOp, ss.BackfillSince, ss.BackfillOrders = ss.BackfillStartedAt, "", nil, n
	ss.LastError = lastingError(ss.LastError)
	if err := y.st.SaveShopSync(ctx, ss); err != nil {
		return err
	}
	y.log.InfoContext(ctx, "history backfill queued", slog.String("shop", shop), slog.Int("orders", n))
	return nil
}

// startBackfill starts the bulk query: every order, or for a reconciliation the orders
// updated since the last backfill started (less an overlap).
func (y *Sync) startBackfill(ctx context.Context, ss *store.ShopSync) error {
	var since time.Time
	if ss.ReconciledAt != nil {
		since = ss.ReconciledAt.Add(-backfillOverlap)
	}
	started := y.now()
	op, err := y.admin.RunBulkQuery(ctx, ss.Shop, graphql.OrdersBulkQuery(since))
	var ue *graphql.UserErrors
	if errors.As(err, &ue) && ue.HasCode("OPERATION_IN_PROGRESS") {
		// Ours, started by an attempt that did not live to record it: pick it up.
		cur, ok, cerr := y.admin.CurrentBulkOperation(ctx, ss.Shop)
		if cerr != nil || !ok || cur.Finished() {
			return errors.Join(err, cerr)
		}
		op, err = cur, nil
	}
	if err != nil {
		return fmt.Errorf("start the history backfill: %w", err)
	}
	ss.BackfillOp, ss.BackfillStartedAt = op.ID, &started
	if !since.IsZero() {
		ss.BackfillSince = &since
	}
	return y.st.SaveShopSync(ctx, *ss)
}

// queueBulkOrders reads the bulk result and queues each order (and its customer, for tags)
// into the webhook pipeline under a key of its own version, so a version already applied,
// by a webhook or an earlier backfill, is applied once.
func (y *Sync) queueBulkOrders(ctx context.Context, shop, url string) (int, error) {
	body, err := y.admin.OpenBulkResult(ctx, url)
	if err != nil {
		return 0, err
	}
	defer body.Close() //nolint:errcheck // read only
	received := y.now()
	n, err := graphql.ReadBulkOrders(body, func(o graphql.BulkOrder) error {
		if c := o.Customer; c != nil {
			if err := y.queueEvent(ctx, shop, webhooks.TopicCustomersUpdate, c.ID, c.UpdatedAt, c.REST, received); err != nil {
				return err
			}
		}
		return y.queueEvent(ctx, shop, webhooks.TopicOrdersUpdated, o.ID, o.UpdatedAt, o.REST, received)
	})
	if err != nil {
		return n, fmt.Errorf("read the history backfill: %w", err)
	}
	return n, nil
}

// queueEvent stores one backfilled resource as a webhook event: event id
// "backfill:<id>:<updatedAt>" (the numeric id, as the store keys orders).
func (y *Sync) queueEvent(ctx context.Context, shop, topic, gid, updatedAt string, body []byte, received time.Time) error {
	id := gid[strings.LastIndex(gid, "/")+1:]
	ev := store.WebhookEvent{
		Shop:       shop,
		EventID:    webhooks.EventKey(topic, "backfill:"+id+":"+updatedAt),
		Topic:      topic,
		APIVersion: "2025-10",
		ReceivedAt: received,
		Body:       body,
	}
	if t, err := time.Parse(time.RFC3339Nano, updatedAt); err == nil {
		ev.TriggeredAt = t
	}
	if _, err := y.st.EnqueueEvent(ctx, ev); err != nil {
		return fmt.Errorf("queue backfilled %s %s: %w", topic, gid, err)
	}
	return nil
}

// reconcileLoop runs the reconciliation every ReconcileEvery until ctx is cancelled.
func (y *Sync) reconcileLoop(ctx context.Context) {
	for {
		if y.wait(ctx, y.cfg.ReconcileEvery) != nil {
			return
		}
		if err := y.Reconcile(ctx); err != nil && ctx.Err() == nil {
			y.log.ErrorContext(ctx, "reconciliation", slog.Any("error", err))
		}
	}
}

// Reconcile queues a backfill of the orders updated since the last one for every installed
// shop whose last backfill is older than ReconcileEvery, queues discount updates where the
// shop's configuration variables changed, registers the payment customization again where it
// is missing, and forgets jobs done a week ago.
func (y *Sync) Reconcile(ctx context.Context) error {
	shops, err := y.st.ShopsToReconcile(ctx, y.now().Add(-y.cfg.ReconcileEvery))
	if err != nil {
		return err
	}
	var errs []error
	for _, shop := range shops {
		if _, err := y.st.EnqueueSync(ctx, shop, "", store.SyncBackfill); err != nil {
			errs = append(errs, err)
		}
		if err := y.checkShopConfig(ctx, shop); err != nil && !errors.Is(err, ErrUnknownShop) {
			errs = append(errs, fmt.Errorf("%s: %w", shop, err))
		}
		if err := y.queueUntaggedOrders(ctx, shop); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", shop, err))
		}
		if err := y.settlePaymentCustomization(ctx, shop); err != nil && !errors.Is(err, ErrNotInstalled) {
			errs = append(errs, fmt.Errorf("%s: %w", shop, err))
		}
	}
	if _, err := y.st.PruneSyncJobs(ctx, y.now().Add(-doneJobsKept)); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}
