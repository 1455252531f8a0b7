package app

import (
	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/recover"

	"github.com/regularsapp/regulars/discountfn"
)

// routes registers every route of the service.
func (s *Server) routes(app *fiber.App) {
	// A panicking handler becomes an error for handleError (a logged 500), not a crash.
	app.Use(recover.New())

	app.Get("/healthz", s.healthHandler)

	// Called by the discount function's fetch target, with the function input as the body.
	checkout := app.Group("/checkout", s.requireCheckoutToken)
	checkout.Post("/cart-lines", s.checkoutHandler(discountfn.TargetCartLines))
	checkout.Post("/delivery-options", s.checkoutHandler(discountfn.TargetDeliveryOptions))
	// The platform's webhooks: verified by HMAC, not by a session.
	if s.hooks != nil {
		app.Post("/webhooks", s.webhookHandler)
	}

	if s.cfg.Env == EnvDevelopment {
		s.devRoutes(app)
	}
	// Unknown routes fall through to Fiber's 404 (or 405), which handleError answers in JSON.
}

func (s *Server) healthHandler(c *fiber.Ctx) error {
	return c.JSON(fiber.Map{"status": "ok"})
}
