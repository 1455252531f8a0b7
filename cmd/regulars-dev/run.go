package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"time"

	"github.com/regularsapp/regulars/app"
	"github.com/regularsapp/regulars/standin"
)

// run starts the stand-in and the app, installs the app into the demo shop, prints the URLs,
// and serves until ctx is cancelled.
func run(ctx context.Context, getenv func(string) string, stdout io.Writer) error {
	appAddr := envOr(getenv, "REGULARS_ADDR", "127.0.0.1:8080")
	platformAddr := envOr(getenv, "REGULARS_PLATFORM_ADDR", "127.0.0.1:8081")
	appURL, platformURL := "http://"+browsable(appAddr), "http://"+browsable(platformAddr)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

	// The stand-in, in this process.
	platformLog := slog.New(slog.NewTextHandler(stdout, &slog.HandlerOptions{Level: slog.LevelWarn}))
	platform, err := standin.New(standin.Config{AppURL: appURL, BaseURL: platformURL, Root: ".", Logger: platformLog})
	if err != nil {
		return fmt.Errorf("platform stand-in: %w", err)
	}
	defer platform.Close()
	ln, err := net.Listen("tcp", platformAddr)
	if err != nil {
		return fmt.Errorf("platform stand-in: listen on %s: %w", platformAddr, err)
	}
	platformSrv := &http.Server{Handler: platform.Handler(), ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = platformSrv.Serve(ln) }()
	defer platformSrv.Close() //nolint:errcheck // shutting down

	// The app, configured for the stand-in; its own logs go to stdout as JSON.
	appEnv := func(key string) string {
		switch key {
		case "REGULARS_ADDR":
			return appAddr
		case "REGULARS_APP_URL":
			return appURL
		case "REGULARS_PLATFORM_URL":
			return platformURL
		}
		return getenv(key)
	}
	appDone := make(chan error, 1)
	go func() { appDone <- app.Run(ctx, nil, appEnv, stdout) }()
	if err := waitHealthy(ctx, appURL+"/healthz", appDone); err != nil {
		return err
	}
	if err := install(ctx, appURL, standin.DemoShop); err != nil {
		return fmt.Errorf("install the app into %s: %w", standin.DemoShop, err)
	}
	fmt.Fprintf(stdout, `
Regulars is running against the local platform, installed in the demo shop %[1]s.
  Merchant admin (the app embedded):  %[2]s/shops/%[1]s/admin/apps/regulars
  Storefront checkout:                %[2]s/shops/%[1]s/checkout
  Platform index:                     %[2]s/
Stop with Ctrl-C.

`, standin.DemoShop, platformURL)
	select {
	case err := <-appDone:
		return err
	case <-ctx.Done():
		return <-appDone
	}
}

// install goes through the app's OAuth install as a merchant would, approving at once.
func install(ctx context.Context, appURL, shop string) error {
	jar, err := cookiejar.New(nil)
	if err != nil {
		return err
	}
	client := &http.Client{
		Jar:     jar,
		Timeout: 60 * time.Second,
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if len(via) > 10 {
				return errors.New("too many redirects")
			}
			// The merchant approves the grant screen.
			if strings.HasSuffix(req.URL.Path, "/admin/oauth/authorize") {
				q := req.URL.Query()
				q.Set("auto", "1")
				req.URL.RawQuery = q.Encode()
			}
			return nil
		},
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, appURL+"/auth?shop="+url.QueryEscape(shop), nil)
	if err != nil {
		return err
	}
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("install ended with %d: %s", resp.StatusCode, body)
	}
	return nil
}

// waitHealthy polls url until it answers 200, the app stops, or 30 s pass.
func waitHealthy(ctx context.Context, url string, appDone <-chan error) error {
	deadline := time.NewTimer(30 * time.Second)
	defer deadline.Stop()
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		if resp, err := http.Get(url); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case err := <-appDone:
			return fmt.Errorf("the app stopped: %w", err)
		case <-deadline.C:
			return fmt.Errorf("the app did not answer %s within 30 s", url)
		case <-ctx.Done():
			return ctx.Err()
		case <-tick.C:
		}
	}
}

func envOr(getenv func(string) string, key, def string) string {
	if v := strings.TrimSpace(getenv(key)); v != "" {
		return v
	}
	return def
}

// browsable is addr with an unspecified host replaced by 127.0.0.1.
func browsable(addr string) string {
	host, port, err := net.SplitHostPort(addr)
	if err != nil || host == "" || host == "0.0.0.0" || host == "::" {
		return net.JoinHostPort("127.0.0.1", port)
	}
	return addr
}
