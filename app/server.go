// Package app is the HTTP layer and composition root of the service: configuration, the
// Fiber app, its handlers, and Run. It is the only package that imports Fiber.
package app

import (
	"log/slog"
	"time"

	"github.com/gofiber/fiber/v2"
)

// Server holds the handlers' dependencies.
type Server struct {
	cfg Config
	src CheckoutSource
	log *slog.Logger
	now func() time.Time
	app *fiber.App
}

// New builds the server and its Fiber app. now is the clock offers are evaluated at
// (time.Now in production); a nil logger discards logs and a nil clock is time.Now.
func New(cfg Config, src CheckoutSource, logger *slog.Logger, now func() time.Time) *Server {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	if now == nil {
		now = time.Now
	}
	s := &Server{cfg: cfg, src: src, log: logger, now: now}
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
