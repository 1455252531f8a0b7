package app

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/regularsapp/regulars/webhooks"
)

// The platform's webhook headers.
const (
	headerTopic       = "X-Shopify-Topic"
	headerShopDomain  = "X-Shopify-Shop-Domain"
	headerHmac        = "X-Shopify-Hmac-Sha256"
	headerWebhookID   = "X-Shopify-Webhook-Id"
	headerEventID     = "X-Shopify-Event-Id"
	headerAPIVersion  = "X-Shopify-API-Version"
	headerTriggeredAt = "X-Shopify-Triggered-At"
)

// webhookStoreTimeout bounds storing a delivery. The platform waits 5 s for the answer and
// retries what it does not get; past this the delivery is answered 5xx instead, so a database
// that stops answering (a network partition) makes webhooks fail fast rather than hang, each
// holding a request and a database connection until the network heals.
const webhookStoreTimeout = 4 * time.Second

// webhookHandler hands a delivery to the receiver, which verifies it and stores it durably;
// the 200 goes out only after that. Processing happens later, in the workers, so the platform
// is answered fast and a crash after the 200 loses nothing.
func (s *Server) webhookHandler(c *fiber.Ctx) error {
	d := webhooks.Delivery{
		Topic:      c.Get(headerTopic),
		Shop:       c.Get(headerShopDomain),
		EventID:    c.Get(headerEventID),
		WebhookID:  c.Get(headerWebhookID),
		APIVersion: c.Get(headerAPIVersion),
		Signature:  c.Get(headerHmac),
		// Fiber reuses the body's buffer after the handler returns; the store keeps a copy.
		Body: bytes.Clone(c.BodyRaw()),
	}
	if t, err := time.Parse(time.RFC3339Nano, c.Get(headerTriggeredAt)); err == nil {
		d.TriggeredAt = t
	}
	ctx, cancel := context.WithTimeout(c.UserContext(), webhookStoreTimeout)
	defer cancel()
	duplicate, err := s.hooks.Receive(ctx, d)
	switch {
	case errors.Is(err, webhooks.ErrUnauthorized):
		return unauthorized("webhook signature", err)
	case errors.Is(err, webhooks.ErrBadRequest):
		return badRequest(err, "%v", err)
	case err != nil:
		// A 5xx (logged once by the error handler): the platform retries, so a failing
		// database loses nothing.
		return fmt.Errorf("store webhook %s for %s: %w", d.Topic, d.Shop, err)
	}
	if duplicate {
		return c.JSON(fiber.Map{"status": "duplicate"})
	}
	return c.JSON(fiber.Map{"status": "stored"})
}
