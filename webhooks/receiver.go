// Package webhooks receives the platform's webhooks and turns them into purchase history.
//
// Receiving and processing are separate. Receiver.Receive verifies a delivery (HMAC of the raw
// body), checks its headers and that its body is a JSON object, and stores it durably in the
// store's event queue; only then may the HTTP layer answer 2xx, so nothing is lost if the
// process dies afterwards. Workers (RunWorkers, Worker.DrainOnce) claim stored events and
// hand them to a Processor, which applies each topic to the store idempotently, retrying
// failures with backoff; order events go in batches, each batch's effects and completions
// one transaction (Processor.ProcessOrders).
//
// The package knows no HTTP framework and no database: the app's handler copies headers and
// body into a Delivery, and everything durable goes through package store.
package webhooks

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"time"
	"unicode"

	"github.com/regularsapp/regulars/store"
)

// The topics we subscribe to.
const (
	TopicOrdersCreate         = "orders/create"
	TopicOrdersUpdated        = "orders/updated"
	TopicOrdersPaid           = "orders/paid"
	TopicOrdersCancelled      = "orders/cancelled"
	TopicRefundsCreate        = "refunds/create"
	TopicCustomersUpdate      = "customers/update"
	TopicAppUninstalled       = "app/uninstalled"
	TopicCustomersDataRequest = "customers/data_request"
	TopicCustomersRedact      = "customers/redact"
	TopicShopRedact           = "shop/redact"
)

// Topics lists the topics Receive accepts.
func Topics() []string {
	return []string{
		TopicOrdersCreate, TopicOrdersUpdated, TopicOrdersPaid, TopicOrdersCancelled,
		TopicRefundsCreate, TopicCustomersUpdate, TopicAppUninstalled,
		TopicCustomersDataRequest, TopicCustomersRedact, TopicShopRedact,
	}
}

func knownTopic(topic string) bool {
	switch topic {
	case TopicOrdersCreate, TopicOrdersUpdated, TopicOrdersPaid, TopicOrdersCancelled,
		TopicRefundsCreate, TopicCustomersUpdate, TopicAppUninstalled,
		TopicCustomersDataRequest, TopicCustomersRedact, TopicShopRedact:
		return true
	}
	return false
}

// shopDomainPattern is a shop's permanent domain, lowercased.
var shopDomainPattern = regexp.MustCompile(`^[a-z0-9][a-z0-9-]*\.myshopify\.com$`)

// maxEventIDLength bounds the event id we store (the platform's are UUID-sized).
const maxEventIDLength = 200

// Delivery is one webhook request as the HTTP layer received it: the X-Shopify-* headers and
// the raw body, unparsed.
type Delivery struct {
	Topic       string // X-Shopify-Topic
	Shop        string // X-Shopify-Shop-Domain
	EventID     string // X-Shopify-Event-Id: the same for every delivery of one event
	WebhookID   string // X-Shopify-Webhook-Id
	APIVersion  string // X-Shopify-API-Version
	Signature   string // X-Shopify-Hmac-Sha256
	TriggeredAt time.Time
	Body        []byte
}

// Receiver verifies deliveries and stores them durably. It is safe for concurrent use.
type Receiver struct {
	st      *store.Store
	secrets [][]byte
	now     func() time.Time
}

// NewReceiver returns a Receiver that stores into st and accepts deliveries signed with any
// of secrets (the client secret, and the previous one during a rotation). A nil now is
// time.Now.
func NewReceiver(st *store.Store, secrets [][]byte, now func() time.Time) *Receiver {
	if now == nil {
		now = time.Now
	}
	own := make([][]byte, 0, len(secrets))
	for _, s := range secrets {
		if len(s) > 0 {
			own = append(own, bytes.Clone(s))
		}
	}
	return &Receiver{st: st, secrets: own, now: now}
}

// Receive verifies a delivery and stores it, in this order:
//
//  1. the signature, before anything else is read (ErrUnauthorized);
//  2. the headers (ErrBadRequest): the topic must be one we subscribe to; the shop domain,
//     lowercased, must be a "*.myshopify.com" domain; an event id is required, and when
//     X-Shopify-Event-Id is absent the webhook id stands in for it (then only repeated
//     deliveries of the same webhook are recognised as duplicates);
//  3. the body must be a JSON object (ErrBadRequest). For the compliance topics its
//     shop_domain (and for app/uninstalled its myshopify_domain, when present) must name the
//     same shop as the header: the header is not covered by the signature, so a replayed
//     body must not be pointed at another shop;
//  4. the delivery is enqueued (store.EnqueueEvent) under the key "<topic>:<event id>", so
//     that one event is applied once per topic; duplicate reports a delivery already stored.
//
// Any other error comes from the store: the HTTP layer answers it with a 5xx, and the
// platform delivers again later.
func (r *Receiver) Receive(ctx context.Context, d Delivery) (duplicate bool, err error) {
	if err := Verify(r.secrets, d.Signature, d.Body); err != nil {
		return false, err
	}
	topic := strings.ToLower(strings.TrimSpace(d.Topic))
	if !knownTopic(topic) {
		return false, fmt.Errorf("%w: topic %q is not one we subscribe to", ErrBadRequest, clipString(d.Topic))
	}
	shop := normalizeShop(d.Shop)
	if !shopDomainPattern.MatchString(shop) {
		return false, fmt.Errorf("%w: shop domain %q is not a *.myshopify.com domain", ErrBadRequest, clipString(d.Shop))
	}
	eventID := strings.TrimSpace(d.EventID)
	if eventID == "" {
		eventID = strings.TrimSpace(d.WebhookID)
	}
	if eventID == "" {
		return false, fmt.Errorf("%w: the delivery has neither an event id nor a webhook id", ErrBadRequest)
	}
	if len(eventID) > maxEventIDLength || strings.ContainsFunc(eventID, unicode.IsControl) {
		return false, fmt.Errorf("%w: the event id is not a plain id of at most %d characters", ErrBadRequest, maxEventIDLength)
	}
	if err := checkBody(topic, shop, d.Body); err != nil {
		return false, err
	}
	ev := store.WebhookEvent{
		Shop:        shop,
		EventID:     EventKey(topic, eventID),
		WebhookID:   strings.TrimSpace(d.WebhookID),
		Topic:       topic,
		APIVersion:  strings.TrimSpace(d.APIVersion),
		TriggeredAt: d.TriggeredAt,
		ReceivedAt:  r.now(),
		Body:        d.Body,
		Status:      store.EventPending,
	}
	inserted, err := r.st.EnqueueEvent(ctx, ev)
	if err != nil {
		return false, fmt.Errorf("webhooks: store %s delivery for %s: %w", topic, shop, err)
	}
	return !inserted, nil
}

// EventKey is the idempotency key a delivery is stored under: its topic and its event id.
func EventKey(topic, eventID string) string { return topic + ":" + eventID }

// checkBody requires a JSON object and, where the body names the shop, the header's shop.
func checkBody(topic, shop string, body []byte) error {
	trimmed := bytes.TrimSpace(body)
	if len(trimmed) == 0 || trimmed[0] != '{' || !json.Valid(trimmed) {
		return fmt.Errorf("%w: the body is not a JSON object", ErrBadRequest)
	}
	var named struct {
		ShopDomain      string `json:"shop_domain"`
		MyshopifyDomain string `json:"myshopify_domain"`
	}
	switch topic {
	case TopicCustomersDataRequest, TopicCustomersRedact, TopicShopRedact:
		if err := json.Unmarshal(trimmed, &named); err != nil {
			return fmt.Errorf("%w: shop_domain: %w", ErrBadRequest, err)
		}
		if normalizeShop(named.ShopDomain) != shop {
			return fmt.Errorf("%w: the body's shop_domain %q is not the shop %q", ErrBadRequest, clipString(named.ShopDomain), shop)
		}
	case TopicAppUninstalled:
		if err := json.Unmarshal(trimmed, &named); err != nil {
			return fmt.Errorf("%w: myshopify_domain: %w", ErrBadRequest, err)
		}
		if named.MyshopifyDomain != "" && normalizeShop(named.MyshopifyDomain) != shop {
			return fmt.Errorf("%w: the body's myshopify_domain %q is not the shop %q", ErrBadRequest, clipString(named.MyshopifyDomain), shop)
		}
	}
	return nil
}

// clipString shortens a header value for an error message.
func clipString(s string) string {
	if len(s) > 80 {
		return s[:77] + "..."
	}
	return s
}

// QueueStats summarizes the shop's stored deliveries (store.EventStats): how many wait, how
// many were processed or gave up, and when the last one was processed. For development tools
// and load tests.
func (r *Receiver) QueueStats(ctx context.Context, shop string) (store.EventStats, error) {
	stats, err := r.st.EventStats(ctx, normalizeShop(shop))
	if err != nil {
		return store.EventStats{}, fmt.Errorf("webhooks: queue stats for %s: %w", shop, err)
	}
	return stats, nil
}
