package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"time"

	"github.com/regularsapp/regulars/store"
	"github.com/regularsapp/regulars/webhooks"
)

// shutdownTimeout is how long in-flight requests get to finish on shutdown.
const shutdownTimeout = 10 * time.Second

// workerPoll is how often an idle webhook worker looks for new events.
const workerPoll = 200 * time.Millisecond

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

	st, err := store.Open(ctx, cfg.DatabaseURL)
	if err != nil {
		return fmt.Errorf("open database: %w", err)
	}
	defer st.Close() //nolint:errcheck // nothing to do about a failed close at exit
	// Migrations are numbered and recorded, and serialized across processes by a database
	// lock, so every process may run them at start.
	if err := st.Migrate(ctx); err != nil {
		return fmt.Errorf("migrate database: %w", err)
	}
	receiver := webhooks.NewReceiver(st, cfg.AppSecrets, time.Now)
	processor := webhooks.NewProcessor(st, time.Now, logger)
	cipher, err := NewTokenCipher(cfg.TokenKey)
	if err != nil {
		return fmt.Errorf("%s: %w", envTokenKey, err)
	}
	// One client for every call to the platform, with timeouts on each step.
	platformClient := newPlatformClient()
	tokens := NewTokens(cfg, st, cipher, platformClient, time.Now)
	src := NewStoreSource(st)
	// Platform sync and install work (sync.go, install.go), queued in the store's outbox.
	platformSync := newPlatformSync(cfg, st, tokens, src, logger)

	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", cfg.Addr, err)
	}
	defer ln.Close() //nolint:errcheck // closed by the server first; this covers early returns

	// Alone, development mode seeds its own demo shop; next to the platform stand-in the demo
	// shop is the stand-in's, installed through OAuth like a real one.
	if cfg.Env == EnvDevelopment && cfg.PlatformURL == "" {
		if err := seedDemo(ctx, st, receiver, cfg.AppSecrets[0], cfg.CheckoutSigningKey, ln.Addr(), time.Now(), stdout); err != nil {
			return err
		}
	}

	// Workers process stored webhook events until the service stops; with none configured,
	// deliveries are stored and wait for a process that has workers.
	workersCtx, stopWorkers := context.WithCancel(context.WithoutCancel(ctx))
	workersDone := make(chan struct{})
	go func() {
		defer close(workersDone)
		if cfg.WebhookWorkers > 0 {
			webhooks.RunWorkers(workersCtx, st, processor, cfg.WebhookWorkers, workerPoll)
		}
	}()
	defer func() { stopWorkers(); <-workersDone }()
	syncDone := make(chan struct{})
	go func() {
		defer close(syncDone)
		if cfg.SyncWorkers > 0 {
			platformSync.Run(workersCtx)
		}
	}()
	defer func() { stopWorkers(); <-syncDone }()
	// The checkout caches follow the store's change notices (storesource.go).
	watchDone := make(chan struct{})
	go func() {
		defer close(watchDone)
		src.Watch(workersCtx, logger)
	}()
	defer func() { stopWorkers(); <-watchDone }()

	if cfg.DebugAddr != "" {
		_, stopDebug, err := startDebug(cfg.DebugAddr, logger)
		if err != nil {
			return err
		}
		defer stopDebug()
	}

	srv := New(cfg, Deps{Source: src, Webhooks: receiver, Logger: logger, Now: time.Now,
		Store: st, Tokens: tokens, Installer: platformSync, OfferSync: platformSync})
	serveErr := make(chan error, 1)
	go func() { serveErr <- srv.App().Listener(ln) }()
	logger.InfoContext(ctx, "listening", "addr", ln.Addr().String(), "env", string(cfg.Env),
		"database", st.Dialect(), "webhook_workers", cfg.WebhookWorkers, "sync_workers", cfg.SyncWorkers,
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
