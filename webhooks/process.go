package webhooks

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/regularsapp/regulars/discountfn"
	"github.com/regularsapp/regulars/store"
)

// Processor applies stored webhook events to the store. Every topic's effect is idempotent
// (orders by id with the newest updated_at winning, refunds by id, ledger rows by order and
// offer), so an event processed twice, after a crash or a lost lease, changes nothing more.
// It is safe for concurrent use.
type Processor struct {
	st  *store.Store
	now func() time.Time
	log *slog.Logger
}

// NewProcessor returns a Processor writing to st. A nil now is time.Now; a nil logger
// discards logs.
func NewProcessor(st *store.Store, now func() time.Time, logger *slog.Logger) *Processor {
	if now == nil {
		now = time.Now
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &Processor{st: st, now: now, log: logger}
}

// Process applies one event. An error means the event should be tried again later (a
// *PayloadError will fail again; the worker retries it anyway, then marks it failed, where
// the merchant sees it). Errors start with the topic: "orders/create: line_items[3].price:
// ...".
func (p *Processor) Process(ctx context.Context, ev store.WebhookEvent) error {
	var err error
	switch ev.Topic {
	case TopicOrdersCreate, TopicOrdersUpdated, TopicOrdersPaid, TopicOrdersCancelled:
		err = p.order(ctx, ev)
	case TopicRefundsCreate:
		err = p.refund(ctx, ev)
	case TopicCustomersUpdate:
		err = p.customer(ctx, ev)
	case TopicAppUninstalled:
		err = p.uninstalled(ctx, ev)
	case TopicCustomersRedact:
		err = p.customersRedact(ctx, ev)
	case TopicShopRedact:
		err = p.shopRedact(ctx, ev)
	case TopicCustomersDataRequest:
		err = p.dataRequest(ctx, ev)
	default:
		err = fmt.Errorf("%w: no handler for this topic", ErrBadRequest)
	}
	if err != nil {
		return fmt.Errorf("%s: %w", ev.Topic, err)
	}
	return nil
}

// order stores the order and, when it is the newest version, its ledger rows.
//
// Two versions of one order (orders/create and orders/paid fire together) may be processed at
// the same time by two workers, and the store cannot make the order and its ledger one write.
// So after writing the ledger, the worker reads the order back: if a newer version landed
// meanwhile, it writes that version's ledger too. Whichever worker writes last checks last, so
// the ledger converges to the newest version.
func (p *Processor) order(ctx context.Context, ev store.WebhookEvent) error {
	o, err := ParseOrder(ev.Shop, ev.Body)
	if err != nil {
		return err
	}
	applied, err := p.st.UpsertOrder(ctx, o)
	if err != nil {
		return err
	}
	if !applied {
		return nil // a newer version is stored; its own event attributes it
	}
	return p.settle(ctx, o)
}

// settle writes the ledger of o, an order version just stored, then of any newer version
// stored meanwhile (see order).
func (p *Processor) settle(ctx context.Context, o store.Order) error {
	for range maxLedgerRounds {
		if err := p.ledger(ctx, o); err != nil {
			return err
		}
		stored, err := p.st.GetOrder(ctx, o.Shop, o.ID)
		if errors.Is(err, store.ErrNotFound) {
			return nil // redacted meanwhile
		}
		if err != nil {
			return err
		}
		if !stored.UpdatedAt.After(o.UpdatedAt) {
			return nil
		}
		o = stored
	}
	return nil
}

// maxLedgerRounds bounds the re-checks of Processor.order.
const maxLedgerRounds = 3

// ledger makes the order's ledger rows those of o.
func (p *Processor) ledger(ctx context.Context, o store.Order) error {
	rs, release, err := p.redemptions(ctx, o)
	if err != nil {
		return err
	}
	// RecordRedemptions is called even with no rows: an edited order that no longer carries
	// a code loses its ledger row.
	if err := p.st.RecordRedemptions(ctx, o.Shop, o.ID, rs); err != nil {
		return err
	}
	if release {
		return p.st.ReleaseRedemptions(ctx, o.Shop, o.ID, true)
	}
	return nil
}

// redemptions attributes the order to the shop's offers (see Attribute). The rows of a
// cancelled order are released when the shop's settings say so (release reports it). An
// order without codes and without automatic discounts used none of our offers, and costs no
// look-ups.
func (p *Processor) redemptions(ctx context.Context, o store.Order) (rs []store.Redemption, release bool, err error) {
	codes := orderCodes(o)
	automatic := slices.ContainsFunc(o.Applications, func(a store.DiscountApplication) bool {
		return isAutomatic(a.Type) && a.Title != ""
	})
	if len(codes) == 0 && !automatic {
		return nil, false, nil
	}
	settings, err := p.st.GetSettings(ctx, o.Shop)
	if err != nil {
		return nil, false, err
	}
	offers, err := p.offers(ctx, o.Shop)
	if err != nil {
		return nil, false, err
	}
	book, err := p.codeBook(ctx, o.Shop, codes)
	if err != nil {
		return nil, false, err
	}
	loc := p.location(ctx, o.Shop, settings)
	rs = Attribute(o, offers, func(code string) (string, bool) {
		id, ok := book[code]
		return id, ok
	}, loc)
	release = o.CancelledAt != nil && settings.ReleaseUsageOnCancel && len(rs) > 0
	for i := range rs {
		rs[i].Released = release
	}
	return rs, release, nil
}

// offers loads the shop's offers, deleted ones included: an order placed just before an
// offer was deleted still used it. A configuration that does not decode is skipped, with a
// warning: one broken offer must not hold up the shop's history.
func (p *Processor) offers(ctx context.Context, shop string) ([]discountfn.Offer, error) {
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

// codeBook looks the order's codes up in the shop's unique codes: code -> offer id.
func (p *Processor) codeBook(ctx context.Context, shop string, codes []string) (map[string]string, error) {
	book := make(map[string]string, len(codes))
	for _, c := range codes {
		found, err := p.st.LookupCode(ctx, shop, c)
		if errors.Is(err, store.ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, err
		}
		book[c] = found.OfferID
	}
	return book, nil
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

// shopCurrency is the shop's currency, "" when the shop is not stored.
func (p *Processor) shopCurrency(ctx context.Context, shop string) (string, error) {
	sh, err := p.st.GetShop(ctx, shop)
	if errors.Is(err, store.ErrNotFound) {
		return "", nil
	}
	if err != nil {
		return "", err
	}
	return sh.Currency, nil
}

func (p *Processor) refund(ctx context.Context, ev store.WebhookEvent) error {
	currency, err := p.shopCurrency(ctx, ev.Shop)
	if err != nil {
		return err
	}
	r, err := ParseRefundIn(ev.Shop, currency, ev.Body)
	if err != nil {
		return err
	}
	_, err = p.st.AddRefund(ctx, ev.Shop, r)
	return err
}

func (p *Processor) customer(ctx context.Context, ev store.WebhookEvent) error {
	c, err := ParseCustomer(ev.Shop, ev.Body)
	if err != nil {
		return err
	}
	_, err = p.st.UpsertCustomer(ctx, c)
	return err
}

// uninstalled records the uninstall at the time the event fired (else when it arrived). Shop
// data stays until shop/redact.
func (p *Processor) uninstalled(ctx context.Context, ev store.WebhookEvent) error {
	at := ev.TriggeredAt
	if at.IsZero() {
		at = ev.ReceivedAt
	}
	if at.IsZero() {
		at = p.now()
	}
	return p.st.MarkUninstalled(ctx, ev.Shop, at.UTC())
}

func (p *Processor) customersRedact(ctx context.Context, ev store.WebhookEvent) error {
	req, err := ParseCustomersRedact(ev.Body)
	if err != nil {
		return err
	}
	if err := sameShop(req.ShopDomain, ev.Shop); err != nil {
		return err
	}
	return p.st.RedactCustomer(ctx, ev.Shop, req.Customer.ID, req.OrderIDs)
}

func (p *Processor) shopRedact(ctx context.Context, ev store.WebhookEvent) error {
	req, err := ParseShopRedact(ev.Body)
	if err != nil {
		return err
	}
	if err := sameShop(req.ShopDomain, ev.Shop); err != nil {
		return err
	}
	return p.st.DeleteShopData(ctx, ev.Shop)
}

// sameShop guards the destructive topics: the body must name the event's shop (Receive
// checks it too; this keeps an event stored by an older receiver from touching another shop).
func sameShop(bodyShop, shop string) error {
	if bodyShop != shop {
		return &PayloadError{Field: "shop_domain", Problem: fmt.Sprintf("%q is not the shop %q", bodyShop, shop)}
	}
	return nil
}

// dataRequest assembles everything held about the customer as JSON and keeps it for the
// merchant (store.SaveDataRequest). Without a data_request.id, the event's key stands in.
func (p *Processor) dataRequest(ctx context.Context, ev store.WebhookEvent) error {
	req, err := ParseCustomersDataRequest(ev.Body)
	if err != nil {
		return err
	}
	if err := sameShop(req.ShopDomain, ev.Shop); err != nil {
		return err
	}
	data, err := p.st.CustomerData(ctx, ev.Shop, req.Customer.ID)
	if err != nil {
		return err
	}
	currency, err := p.shopCurrency(ctx, ev.Shop)
	if err != nil {
		return err
	}
	requestID := req.RequestID
	if requestID == "" {
		requestID = ev.EventID
	}
	payload, err := json.MarshalIndent(exportCustomerData(ev.Shop, requestID, currency, p.now(), req, data), "", "  ")
	if err != nil {
		return fmt.Errorf("encode data request: %w", err)
	}
	return p.st.SaveDataRequest(ctx, ev.Shop, req.Customer.ID, requestID, payload)
}
