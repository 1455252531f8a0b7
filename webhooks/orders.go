package webhooks

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"runtime/debug"
	"slices"
	"sync"
	"time"

	"github.com/regularsapp/regulars/discountfn"
	"github.com/regularsapp/regulars/store"
)

// isOrderTopic reports whether a topic's body is a version of an order.
func isOrderTopic(topic string) bool {
	switch topic {
	case TopicOrdersCreate, TopicOrdersUpdated, TopicOrdersPaid, TopicOrdersCancelled:
		return true
	}
	return false
}

// ProcessOrders applies order events (isOrderTopic) as one batch and returns one error per
// event, nil when the event was applied and marked done.
//
// Each body is read (ParseOrder) and attributed to the shop's offers (Attribute; a shop's
// offers and settings are cached while its store.OfferSetVersion stays the same, and its
// unique codes are looked up once per batch). Then every version, with its lines, refunds
// and ledger rows, and the completion of its event are one store transaction
// (store.ApplyOrderEvents): the newest updated_at wins, the ledger always belongs to the
// stored version, and an event is done exactly when its effect is written. If that write
// fails, each event is written alone, so that one bad event does not hold up the others.
//
// Errors start with the topic, as Process's do; a panic is an error of its event (or, in the
// batch's write, of the events written with it).
func (p *Processor) ProcessOrders(ctx context.Context, events []store.WebhookEvent) []error {
	errs := make([]error, len(events))
	writes := make([]store.OrderEvent, len(events))
	for i, ev := range events {
		errs[i] = recovered(ev.Topic, func() error {
			if !isOrderTopic(ev.Topic) {
				return fmt.Errorf("%s: %w: not an order topic", ev.Topic, ErrBadRequest)
			}
			o, err := ParseOrder(ev.Shop, ev.Body)
			if err != nil {
				return fmt.Errorf("%s: %w", ev.Topic, err)
			}
			writes[i] = store.OrderEvent{EventID: ev.ID, Order: o}
			return nil
		})
	}

	// Attribution, per shop, for the orders that name a code or an automatic discount.
	byShop := map[string][]int{}
	var shops []string
	for i := range events {
		if errs[i] == nil && usesDiscounts(writes[i].Order) {
			shop := writes[i].Order.Shop
			if byShop[shop] == nil {
				shops = append(shops, shop)
			}
			byShop[shop] = append(byShop[shop], i)
		}
	}
	for _, shop := range shops {
		is := byShop[shop]
		err := recovered(events[is[0]].Topic, func() error { return p.attribute(ctx, shop, writes, is) })
		if err != nil {
			for _, i := range is {
				errs[i] = withTopic(events[i].Topic, err)
			}
		}
	}

	var batch []store.OrderEvent
	var index []int // batch[k] is events[index[k]]
	for i := range events {
		if errs[i] == nil {
			batch, index = append(batch, writes[i]), append(index, i)
		}
	}
	if len(batch) == 0 {
		return errs
	}
	err := recovered(events[index[0]].Topic, func() error {
		applied, err := p.st.ApplyOrderEvents(ctx, batch)
		if err == nil {
			p.requestOrderTags(ctx, batch, applied)
		}
		return err
	})
	if err == nil {
		return errs
	}
	if len(batch) == 1 || ctx.Err() != nil {
		for _, i := range index {
			errs[i] = withTopic(events[i].Topic, err)
		}
		return errs
	}
	// Find the event at fault: each alone.
	for k, i := range index {
		errs[i] = recovered(events[i].Topic, func() error {
			applied, err := p.st.ApplyOrderEvents(ctx, batch[k:k+1])
			if err == nil {
				p.requestOrderTags(ctx, batch[k:k+1], applied)
			}
			return withTopic(events[i].Topic, err)
		})
	}
	return errs
}

// usesDiscounts reports whether an order names a code or an automatic discount: an order
// without either used none of our offers, and costs no look-ups.
func usesDiscounts(o store.Order) bool {
	return len(orderCodes(o)) > 0 || slices.ContainsFunc(o.Applications, func(a store.DiscountApplication) bool {
		return isAutomatic(a.Type) && a.Title != ""
	})
}

// attribute fills in the ledger rows of writes[i] for each i of is, orders of one shop: with
// the shop's offers and settings (cached), and its unique codes (looked up at once). The rows
// of a cancelled order are released when the shop's settings say so.
func (p *Processor) attribute(ctx context.Context, shop string, writes []store.OrderEvent, is []int) error {
	offers, err := p.shopOffers(ctx, shop)
	if err != nil {
		return err
	}
	var codes []string
	for _, i := range is {
		codes = append(codes, orderCodes(writes[i].Order)...)
	}
	var book map[string]string
	if len(codes) > 0 {
		if book, err = p.st.LookupCodes(ctx, shop, codes); err != nil {
			return err
		}
	}
	lookup := func(code string) (string, bool) {
		id, ok := book[code]
		return id, ok
	}
	for _, i := range is {
		o := writes[i].Order
		rs := Attribute(o, offers.offers, lookup, offers.loc)
		release := o.CancelledAt != nil && offers.settings.ReleaseUsageOnCancel
		for k := range rs {
			rs[k].Released = release
		}
		writes[i].Redemptions = rs
		writes[i].CODOffers = codOffers(o, rs, offers)
	}
	return nil
}

// codOffers are the offers of rs that switch cash on delivery off, when o was paid by cash on
// delivery (one of its gateways is a configured cash-on-delivery name): the payment
// customization should have hidden that method, so the order is flagged for the merchant.
func codOffers(o store.Order, rs []store.Redemption, offers *shopOffers) []string {
	if !slices.ContainsFunc(o.Gateways, func(g string) bool { return discountfn.IsCashOnDelivery(g, offers.settings.CODGateways) }) {
		return nil
	}
	var ids []string
	for _, r := range rs {
		for i := range offers.offers {
			if off := &offers.offers[i]; off.ID == r.OfferID && off.Limits.DisableCashOnDelivery && !slices.Contains(ids, off.ID) {
				ids = append(ids, off.ID)
			}
		}
	}
	return ids
}

// requestOrderTags queues the platform sync's order tagging for each shop with a newly stored
// flagged order. A failure is logged only: the flag is stored, and reconciliation queues the
// tagging again.
func (p *Processor) requestOrderTags(ctx context.Context, batch []store.OrderEvent, applied []bool) {
	var shops []string
	for k, ev := range batch {
		if k < len(applied) && applied[k] && len(ev.CODOffers) > 0 && !slices.Contains(shops, ev.Order.Shop) {
			shops = append(shops, ev.Order.Shop)
		}
	}
	for _, shop := range shops {
		if _, err := p.st.EnqueueSync(ctx, shop, "", store.SyncOrderTags); err != nil {
			p.log.WarnContext(ctx, "queue order tagging; reconciliation will retry", slog.String("shop", shop), slog.Any("error", err))
		}
	}
}

// shopOffers is what attribution needs of a shop, as of its current OfferSetVersion: one
// query when the cached copy is current, a reload otherwise.
func (p *Processor) shopOffers(ctx context.Context, shop string) (*shopOffers, error) {
	version, err := p.st.OfferSetVersion(ctx, shop)
	if err != nil {
		return nil, err
	}
	if cached := p.offers.get(shop); cached != nil && cached.version == version {
		return cached, nil
	}
	// Read after the version: what is loaded is at least as new as the version it is kept
	// under, so a change made meanwhile only causes one more reload.
	settings, err := p.st.GetSettings(ctx, shop)
	if err != nil {
		return nil, err
	}
	offers, err := p.loadOffers(ctx, shop)
	if err != nil {
		return nil, err
	}
	so := &shopOffers{version: version, settings: settings, offers: offers, loc: p.location(ctx, shop, settings)}
	p.offers.put(shop, so)
	return so, nil
}

// loadOffers loads the shop's offers, deleted ones included: an order placed just before an
// offer was deleted still used it. A configuration that does not decode is skipped, with a
// warning: one broken offer must not hold up the shop's history.
func (p *Processor) loadOffers(ctx context.Context, shop string) ([]discountfn.Offer, error) {
	rows, err := p.st.ListOffers(ctx, shop, true)
	if err != nil {
		return nil, err
	}
	offers := make([]discountfn.Offer, 0, len(rows))
	for _, r := range rows {
		var o discountfn.Offer
		if err := json.Unmarshal(r.Config, &o); err != nil {
			p.log.WarnContext(ctx, "offer configuration does not decode; orders are not attributed to it",
				slog.String("shop", shop), slog.String("offer", r.ID), slog.Any("error", err))
			continue
		}
		o.ID, o.Status = r.ID, discountfn.Status(r.Status)
		offers = append(offers, o)
	}
	return offers, nil
}

// location is the shop's timezone, which per-day caps count in (the settings carry the
// shop's own); UTC when this machine does not know it.
func (p *Processor) location(ctx context.Context, shop string, settings store.ShopSettings) *time.Location {
	if settings.Timezone == "" {
		return time.UTC
	}
	loc, err := time.LoadLocation(settings.Timezone)
	if err != nil {
		p.log.WarnContext(ctx, "shop timezone is unknown; using UTC", slog.String("shop", shop), slog.String("timezone", settings.Timezone))
		return time.UTC
	}
	return loc
}

// shopOffers is a shop's offers and settings as of one OfferSetVersion. It is never changed
// once cached.
type shopOffers struct {
	version  string
	settings store.ShopSettings
	offers   []discountfn.Offer
	loc      *time.Location
}

// maxCachedShops bounds the offer cache; past it, an arbitrary shop is dropped for each one
// added (it is reloaded when it comes back).
const maxCachedShops = 1000

// offerCache keeps shopOffers per shop for a Processor. It is safe for concurrent use.
type offerCache struct {
	mu    sync.Mutex
	shops map[string]*shopOffers
}

func newOfferCache() *offerCache { return &offerCache{shops: map[string]*shopOffers{}} }

func (c *offerCache) get(shop string) *shopOffers {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.shops[shop]
}

func (c *offerCache) put(shop string, so *shopOffers) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.shops[shop]; !ok && len(c.shops) >= maxCachedShops {
		for other := range c.shops {
			delete(c.shops, other)
			break
		}
	}
	c.shops[shop] = so
}

// withTopic prefixes an error with the event's topic, as Process does; a panic's error names
// its topic already.
func withTopic(topic string, err error) error {
	if err == nil {
		return nil
	}
	if _, ok := err.(*panicError); ok {
		return err
	}
	return fmt.Errorf("%s: %w", topic, err)
}

// recovered runs f, turning a panic into a *panicError (a failed attempt of the event).
func recovered(topic string, f func() error) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = &panicError{topic: topic, value: r, stack: string(debug.Stack())}
		}
	}()
	return f()
}
