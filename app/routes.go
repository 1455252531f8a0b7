package app

import (
	"strings"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/recover"

	"github.com/regularsapp/regulars/discountfn"
)

// routes registers every route of the service.
func (s *Server) routes(app *fiber.App) {
	// A panicking handler becomes an error for handleError (a logged 500), not a crash.
	app.Use(recover.New())
	app.Use(refuseEncodedBodies)

	app.Get("/healthz", s.healthHandler)

	// Called by the discount function's fetch target, with the function input as the body.
	checkout := app.Group("/checkout", s.requireCheckoutToken)
	checkout.Post("/cart-lines", s.checkoutHandler(discountfn.TargetCartLines))
	checkout.Post("/delivery-options", s.checkoutHandler(discountfn.TargetDeliveryOptions))
	checkout.Post("/payment-methods", s.paymentMethodsHandler) // payments.go
	// The platform's webhooks: verified by HMAC, not by a session.
	if s.hooks != nil {
		app.Post("/webhooks", s.webhookHandler)
	}

	// Install by the authorization code grant (auth.go).
	if s.st != nil && s.tokens != nil {
		app.Get("/auth", s.authHandler)
		app.Get(authCallbackPath, s.authCallbackHandler)
	}
	// The storefront qualification endpoint behind the app proxy: verified by its signature (proxy.go).
	if s.src != nil {
		app.Get("/proxy/offers", s.proxyOffersHandler)
	}
	// The admin UI the platform's admin embeds: the app shell for /app and its client routes,
	// and the build's assets under /app/assets/ (adminpage.go).
	app.Get("/app", s.appPageHandler)
	app.Get("/app/*", s.appPageHandler)
	// The admin API: the shop comes from the platform's ID token only (idtoken.go, admin.go).
	if s.st != nil {
		api := app.Group("/api", s.requireIDToken)
		api.Get("/offers", s.listOffersHandler)
		api.Post("/offers", s.createOfferHandler)
		api.Get("/offers/:id", s.getOfferHandler)
		api.Put("/offers/:id", s.updateOfferHandler)
		api.Delete("/offers/:id", s.deleteOfferHandler)
		api.Post("/offers/:id/pause", s.offerActionHandler("pause", discountfn.StatusPaused, discountfn.StatusActive))
		api.Post("/offers/:id/resume", s.offerActionHandler("resume", discountfn.StatusActive, discountfn.StatusPaused))
		api.Post("/offers/:id/archive", s.offerActionHandler("archive", discountfn.StatusArchived,
			discountfn.StatusDraft, discountfn.StatusActive, discountfn.StatusPaused))
		api.Post("/offers/:id/duplicate", s.duplicateOfferHandler)
		api.Get("/offers/:id/sync", s.offerSyncHandler) // platform sync state (sync_http.go)
		// Unique codes: generate, import and export (codes.go).
		api.Post("/offers/:id/codes/generate", s.generateCodesHandler)
		api.Post("/offers/:id/codes/import", s.importCodesHandler)
		api.Get("/offers/:id/codes.csv", s.exportCodesHandler)
		api.Get("/settings", s.getSettingsHandler)
		api.Put("/settings", s.putSettingsHandler)
		api.Get("/data-requests", s.listDataRequestsHandler)
		api.Get("/blocked", s.listBlockedHandler)           // abuse.go
		api.Post("/blocked", s.blockHandler)                // abuse.go
		api.Delete("/blocked", s.unblockHandler)            // abuse.go
		api.Get("/abuse/shared", s.sharedIdentitiesHandler) // abuse.go
		api.Post("/offers/backtest", s.backtestHandler)     // backtest.go
		api.Get("/backtests/:id", s.getBacktestHandler)     // backtest.go
		// Analytics (analytics.go).
		api.Get("/analytics/offers", s.offerStatsHandler)
		api.Get("/analytics/offers.csv", s.offerStatsCSVHandler)
		api.Get("/analytics/offers/:id/daily", s.dailySeriesHandler)
		api.Get("/analytics/campaigns", s.campaignStatsHandler)
		api.Get("/analytics/cod-orders", s.codOrdersHandler) // codorders.go
		// Segments (segments.go), the customer picker (customers.go), the simulator (simulate.go).
		api.Get("/segments", s.listSegmentsHandler)
		api.Post("/segments", s.createSegmentHandler)
		api.Post("/segments/reorder", s.reorderSegmentsHandler)
		api.Put("/segments/:id", s.updateSegmentHandler)
		api.Delete("/segments/:id", s.deleteSegmentHandler)
		api.Get("/customers", s.listCustomersHandler)
		api.Post("/simulate", s.simulateHandler)
		// Keep last in the group: any other /api path is a JSON 404 (adminpage.go).
		api.All("/*", s.apiNotFoundHandler)
	}

	// The simulator is for the app's own seeded demo shop (development mode without the
	// platform stand-in, whose checkout page takes its place).
	if s.cfg.Env == EnvDevelopment && s.cfg.PlatformURL == "" {
		s.devRoutes(app)
	}
	// Unknown routes fall through to Fiber's 404 (or 405), which handleError answers in JSON.
}

func (s *Server) healthHandler(c *fiber.Ctx) error {
	return c.JSON(fiber.Map{"status": "ok"})
}

// refuseEncodedBodies answers 415 to a body sent with a Content-Encoding. Handlers read bodies
// with c.Body(), which inflates a compressed body past the body limit (16 KiB of gzip can
// hold 16 MiB of JSON, and a body at the limit gigabytes); no client of ours compresses what
// it sends.
func refuseEncodedBodies(c *fiber.Ctx) error {
	enc := strings.TrimSpace(c.Get(fiber.HeaderContentEncoding))
	if enc != "" && !strings.EqualFold(enc, "identity") && len(c.BodyRaw()) > 0 {
		return fiber.ErrUnsupportedMediaType
	}
	return c.Next()
}
