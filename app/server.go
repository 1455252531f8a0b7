// Package app is the HTTP layer and composition root of the service: configuration, the
// Fiber app, its handlers, and Run. It is the only package that imports Fiber.
package app

import (
	"log/slog"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/regularsapp/regulars/store"
	"github.com/regularsapp/regulars/webhooks"
)

// Server holds the handlers' dependencies.
type Server struct {
	cfg   Config
	src   CheckoutSource
	hooks *webhooks.Receiver
	log   *slog.Logger
	now   func() time.Time
	app   *fiber.App
	// Install, the admin API and the embedded page (auth.go, idtoken.go, admin.go).
	st        *store.Store
	tokens    *Tokens
	installer Installer
	offerSync OfferSyncer
	backtests backtestJobs // backtest.go
	// checkoutTokens remembers verified checkout tokens (checkouttoken.go).
	checkoutTokens verifiedTokens
}

// Deps are the server's collaborators, built by Run (or a test).
type Deps struct {
	// Source serves the checkout endpoint's offers and facts.
	Source CheckoutSource
	// Webhooks stores verified deliveries; nil leaves /webhooks unregistered.
	Webhooks *webhooks.Receiver
	// Logger receives the server's logs; nil discards them.
	Logger *slog.Logger
	// Now is the clock offers are evaluated at; nil is time.Now.
	Now func() time.Time
	// Store backs the admin API; nil leaves /api unregistered.
	Store *store.Store
	// Tokens holds the shops' access tokens; with Store, it enables the install routes
	// (/auth) and token exchange for embedded loads. Nil leaves both off.
	Tokens *Tokens
	// Installer starts the install work after a shop installs; nil does nothing.
	Installer Installer
	// OfferSync hears of every offer change made through the admin API; nil does nothing.
	OfferSync OfferSyncer
}

// New builds the server and its Fiber app.
func New(cfg Config, deps Deps) *Server {
	logger, now := deps.Logger, deps.Now
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	if now == nil {
		now = time.Now
	}
	s := &Server{cfg: cfg, src: deps.Source, hooks: deps.Webhooks, log: logger, now: now,
		st: deps.Store, tokens: deps.Tokens, installer: deps.Installer, offerSync: deps.OfferSync}
	s.app = fiber.New(fiber.Config{
		AppName:               "regulars",
		BodyLimit:             cfg.MaxBodyBytes,
		ErrorHandler:          s.handleError,
		DisableStartupMessage: true,
		// A checkout call is small and must be quick; slow clients are cut off.
		ReadTimeout:  10 * time.Second,
		WriteTimeout: 10 * time.Second,
		IdleTimeout:  2 * time.Minute,
	})
	s.routes(s.app)
	return s
}

// App returns the Fiber app, to listen with or to test through.
func (s *Server) App() *fiber.App { return s.app }
