package webhooks

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/regularsapp/regulars/store"
)

// Processor applies stored webhook events to the store. Every topic's effect is idempotent
// (orders by id with the newest updated_at winning, refunds by id, ledger rows by order and
// offer), so an event processed twice, after a crash or a lost lease, changes nothing more.
// It is safe for concurrent use.
type Processor struct {
	st     *store.Store
	now    func() time.Time
	log    *slog.Logger
	offers *offerCache
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
	return &Processor{st: st, now: now, log: logger, offers: newOfferCache()}
}

// Process applies one event. An error means the event should be tried again later (a
// *PayloadError will fail again; the worker retries it anyway, then marks it failed, where
// the merchant sees it). Errors start with the topic: "orders/create: line_items[3].price:
// ...".
//
// An order event (isOrderTopic) is also marked done by Process, in the same transaction as its
// effect (see ProcessOrders); the caller marks other events done (store.CompleteEvent).
func (p *Processor) Process(ctx context.Context, ev store.WebhookEvent) error {
	if isOrderTopic(ev.Topic) {
		return p.ProcessOrders(ctx, []store.WebhookEvent{ev})[0]
	}
	var err error
	switch ev.Topic {
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
	if err := p.st.RedactCustomer(ctx, ev.Shop, req.Customer.ID, req.OrderIDs); err != nil {
		return err
	}
	// The request itself names the person it erases: keep only that it happened.
	return p.st.ForgetEventBody(ctx, ev.ID)
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
