package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"time"
)

// shutdownTimeout is how long in-flight requests get to finish on shutdown.
const shutdownTimeout = 10 * time.Second

// Run is the whole service: it reads the configuration through getenv, logs JSON to stdout,
// serves until ctx is cancelled, then shuts down gracefully. Configuration comes from the
// environment only, so args must be empty.
func Run(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	if len(args) > 0 {
		return fmt.Errorf("unexpected arguments %q: regulars is configured through the environment", args)
	}
	cfg, err := LoadConfig(getenv)
	if err != nil {
		return fmt.Errorf("configuration: %w", err)
	}
	level := slog.LevelInfo
	if cfg.Env == EnvDevelopment {
		level = slog.LevelDebug
	}
	logger := slog.New(slog.NewJSONHandler(stdout, &slog.HandlerOptions{Level: level}))

	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", cfg.Addr, err)
	}
	defer ln.Close() //nolint:errcheck // closed by the server first; this covers early returns

	// The store will fill the source; until then it holds what development seeds.
	src := NewMemorySource()
	if cfg.Env == EnvDevelopment {
		if err := seedDemo(src, cfg.CheckoutSigningKey, ln.Addr(), time.Now(), stdout); err != nil {
			return err
		}
	}

	srv := New(cfg, src, logger, time.Now)
	serveErr := make(chan error, 1)
	go func() { serveErr <- srv.App().Listener(ln) }()
	logger.InfoContext(ctx, "listening", "addr", ln.Addr().String(), "env", string(cfg.Env),
		"checkout_deadline", cfg.CheckoutDeadline.String(), "max_body_bytes", cfg.MaxBodyBytes)

	select {
	case err := <-serveErr:
		if err == nil {
			err = errors.New("server stopped")
		}
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}

	logger.Info("shutting down")
	shutdownCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), shutdownTimeout)
	defer cancel()
	shutdownErr := srv.App().ShutdownWithContext(shutdownCtx)
	_ = ln.Close() // in case the server had not started serving yet
	<-serveErr     // after shutdown the serve error says nothing new
	if shutdownErr != nil {
		return fmt.Errorf("shutdown: %w", shutdownErr)
	}
	logger.Info("stopped")
	return nil
}
