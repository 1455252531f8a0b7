// Command regulars-platform runs the local platform stand-in (package standin): OAuth, the
// Admin GraphQL API, signed webhooks, the embedded admin and a checkout, with a seeded demo
// shop. Flags override the environment; the defaults pair with the app's development
// defaults:
//
//	-addr           REGULARS_PLATFORM_ADDR   127.0.0.1:8081
//	-base-url       REGULARS_PLATFORM_URL    http://{addr}
//	-app-url        REGULARS_APP_URL         http://localhost:8080
//	-client-id      SHOPIFY_API_KEY          regulars-dev-client-id
//	-client-secret  SHOPIFY_API_SECRET       the app's development secret
//	-seed           REGULARS_PLATFORM_SEED   1
//	-root           REGULARS_REPO_ROOT       . (where graphql/schema and discountfn/extension are)
//	-log-level      REGULARS_LOG_LEVEL       info
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/regularsapp/regulars/standin"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Getenv, os.Stderr)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "regulars-platform:", err)
		os.Exit(1)
	}
}

type options struct {
	addr, baseURL, appURL, clientID, clientSecret, root, logLevel string
	seed                                                          int64
}

func parseOptions(args []string, getenv func(string) string, stderr io.Writer) (options, error) {
	env := func(key, def string) string {
		if v := strings.TrimSpace(getenv(key)); v != "" {
			return v
		}
		return def
	}
	var o options
	fs := flag.NewFlagSet("regulars-platform", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&o.addr, "addr", env("REGULARS_PLATFORM_ADDR", "127.0.0.1:8081"), "listen address")
	fs.StringVar(&o.baseURL, "base-url", env("REGULARS_PLATFORM_URL", ""), "public base URL (default http://{addr})")
	fs.StringVar(&o.appURL, "app-url", env("REGULARS_APP_URL", standin.DefaultAppURL), "the app's base URL")
	fs.StringVar(&o.clientID, "client-id", env("SHOPIFY_API_KEY", standin.DevClientID), "the app's client id")
	fs.StringVar(&o.clientSecret, "client-secret", env("SHOPIFY_API_SECRET", standin.DevClientSecret), "the app's client secret")
	fs.StringVar(&o.root, "root", env("REGULARS_REPO_ROOT", "."), "repository root (schemas and the function's input queries)")
	fs.StringVar(&o.logLevel, "log-level", env("REGULARS_LOG_LEVEL", "info"), "debug, info, warn or error")
	seed, err := strconv.ParseInt(env("REGULARS_PLATFORM_SEED", strconv.Itoa(standin.DefaultSeed)), 10, 64)
	if err != nil {
		return o, fmt.Errorf("REGULARS_PLATFORM_SEED: %w", err)
	}
	fs.Int64Var(&o.seed, "seed", seed, "seed of the demo shop")
	if err := fs.Parse(args); err != nil {
		return o, fmt.Errorf("flags: %w", err)
	}
	if _, _, err := net.SplitHostPort(o.addr); err != nil {
		return o, fmt.Errorf("-addr %q: %w", o.addr, err)
	}
	if o.baseURL == "" {
		o.baseURL = "http://" + o.addr
	}
	return o, nil
}

func run(ctx context.Context, args []string, getenv func(string) string, stderr io.Writer) error {
	o, err := parseOptions(args, getenv, stderr)
	if err != nil {
		return err
	}
	var level slog.Level
	if err := level.UnmarshalText([]byte(o.logLevel)); err != nil {
		return fmt.Errorf("-log-level: %w", err)
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))
	srv, err := standin.New(standin.Config{
		AppURL: o.appURL, ClientID: o.clientID, ClientSecret: o.clientSecret, BaseURL: o.baseURL,
		Root: o.root, Seed: o.seed, Logger: log,
	})
	if err != nil {
		return fmt.Errorf("start: %w", err)
	}
	defer srv.Close()
	ln, err := net.Listen("tcp", o.addr)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	hs := &http.Server{Handler: srv.Handler(), ReadHeaderTimeout: 10 * time.Second}
	log.Info("platform stand-in listening", "url", o.baseURL, "app", o.appURL, "shop", standin.DemoShop,
		"admin", o.baseURL+"/shops/"+standin.DemoShop+"/admin/apps/regulars")
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	select {
	case err := <-errc:
		if !errors.Is(err, http.ErrServerClosed) {
			return fmt.Errorf("serve: %w", err)
		}
		return nil
	case <-ctx.Done():
	}
	shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := hs.Shutdown(shutdown); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	log.Info("platform stand-in stopped")
	return nil
}
