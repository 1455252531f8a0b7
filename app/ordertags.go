package app

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/regularsapp/regulars/store"
)

// Tagging flagged orders on the platform: a cash-on-delivery order that used an offer which
// switches cash on delivery off gets the tag codOfferTag, so the merchant finds it in the
// platform's order list (and can hold it before shipping). The flag itself is written with
// the order (store.OrderEvent.CODOffers); this job, store.SyncOrderTags, sends the tags and
// records each one sent. tagsAdd is idempotent, so a job cut short is simply run again.

// codOfferTag is the order tag of store.FlagCODOffer.
const codOfferTag = "regulars-cod-offer"

// orderGID is an order's platform id from its numeric REST id.
func orderGID(id string) string {
	if strings.HasPrefix(id, "gid://") {
		return id
	}
	return "gid://shopify/Order/" + id
}

// tagOrders sends the tag of each of the shop's untagged flags. It stops at the first failure
// (the job is retried with backoff); the flags tagged before it stay recorded.
func (y *Sync) tagOrders(ctx context.Context, shop string) error {
	flags, err := y.st.ListOrderFlags(ctx, shop, true)
	if err != nil {
		return err
	}
	for _, f := range flags {
		if f.Kind != store.FlagCODOffer {
			continue
		}
		if err := y.admin.AddTags(ctx, shop, orderGID(f.OrderID), []string{codOfferTag}); err != nil {
			return fmt.Errorf("tag order %s: %w", f.OrderID, err)
		}
		if err := y.st.MarkOrderFlagTagged(ctx, shop, f.OrderID, f.Kind); err != nil {
			return err
		}
	}
	return nil
}

// queueUntaggedOrders queues tagging for the shop when some flag is still untagged (the
// processor queues it when it stores a flag; this catches a queueing that failed).
func (y *Sync) queueUntaggedOrders(ctx context.Context, shop string) error {
	flags, err := y.st.ListOrderFlags(ctx, shop, true)
	if err != nil || !slices.ContainsFunc(flags, func(f store.OrderFlag) bool { return f.Kind == store.FlagCODOffer }) {
		return err
	}
	_, err = y.st.EnqueueSync(ctx, shop, "", store.SyncOrderTags)
	return err
}
