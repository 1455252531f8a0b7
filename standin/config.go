package standin

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// Development identity of the app, the pair the app uses when SHOPIFY_API_KEY and
// SHOPIFY_API_SECRET are not set. DevClientSecret duplicates app.DevAppSecret on purpose (app
// is a composition root and no package imports it); TestDevSecretMatchesApp keeps the two
// equal.
const (
	DevClientID     = "regulars-dev-client-id"
	DevClientSecret = "DEVELOPMENT-ONLY-regulars-app-secret-not-secret"
)

// Defaults of Config.
const (
	DefaultAppURL  = "http://localhost:8080"
	DefaultScopes  = "read_orders,read_all_orders,write_orders,read_customers,read_products,read_discounts,write_discounts,write_payment_customizations"
	DefaultSeed    = 1
	DemoShop       = "regulars-demo.myshopify.com"
	APIVersion     = "2025-10"
	FunctionHandle = "regulars-discounts"
)

// Platform limits and lifetimes the stand-in reproduces.
const (
	authCodeTTL            = 60 * time.Second
	accessTokenTTL         = 60 * time.Minute
	refreshTokenTTL        = 90 * 24 * time.Hour
	idTokenTTL             = time.Minute
	functionTimeout        = 2 * time.Second
	webhookAttemptTimeout  = 5 * time.Second
	defaultWebhookRetries  = 4
	defaultWebhookBackoff  = time.Second
	defaultAsyncDelay      = 500 * time.Millisecond
	maxRedeemCodesPerCall  = 250
	maxActiveAutomaticApps = 25
	readAllOrdersWindow    = 60 * 24 * time.Hour
)

// Config is the stand-in's configuration.
type Config struct {
	// AppURL is the app's base URL: OAuth redirects to {AppURL}/auth/callback, the admin page
	// embeds {AppURL}/app, and subscriptions with a relative uri are delivered to
	// {AppURL}{uri}.
	AppURL string
	// RedirectURLs are the allowed redirect_uri values (default {AppURL}/auth/callback).
	RedirectURLs []string
	// ClientID and ClientSecret are the app's credentials; the secret signs OAuth query
	// HMACs, ID tokens and webhooks.
	ClientID     string
	ClientSecret string
	// Scopes are the app's configured access scopes, granted by token exchange (managed
	// installation) and used when an authorize request names none.
	Scopes string
	// BaseURL is the stand-in's own public base URL (e.g. http://127.0.0.1:8081); empty
	// derives it from each request's Host.
	BaseURL string
	// Root is the repository root: the Admin schema is read from Root/graphql/schema and the
	// function's schema and input queries from Root/discountfn/extension.
	Root string
	// Schemas, when set, are used instead of loading them from Root (servers may share them).
	Schemas *Schemas
	// Seed makes the demo shop deterministic.
	Seed int64
	// Now is the clock (default time.Now); tests freeze it.
	Now func() time.Time
	// Logger receives the stand-in's logs (default slog.Default()).
	Logger *slog.Logger
	// HTTPClient sends webhooks and function fetches (default: a plain client; each call has
	// its own deadline).
	HTTPClient *http.Client
	// WebhookRetries is how many times a non-2xx delivery is retried (default 4; negative:
	// none), WebhookBackoff the first wait, doubled after each failure (default 1 s).
	WebhookRetries int
	WebhookBackoff time.Duration
	// AsyncDelay is how long bulk operations and redeem-code imports stay in progress before
	// they complete (default 500 ms; negative: complete at the next request).
	AsyncDelay time.Duration
	// FunctionTimeout bounds each call of the function's fetch target (default 2 s).
	FunctionTimeout time.Duration
}

func (c Config) withDefaults() (Config, error) {
	if c.AppURL == "" {
		c.AppURL = DefaultAppURL
	}
	c.AppURL = strings.TrimRight(c.AppURL, "/")
	u, err := url.Parse(c.AppURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return c, fmt.Errorf("standin: app URL %q must be an absolute http(s) URL", c.AppURL)
	}
	if len(c.RedirectURLs) == 0 {
		c.RedirectURLs = []string{c.AppURL + "/auth/callback"}
	}
	if c.ClientID == "" {
		c.ClientID = DevClientID
	}
	if c.ClientSecret == "" {
		c.ClientSecret = DevClientSecret
	}
	if c.Scopes == "" {
		c.Scopes = DefaultScopes
	}
	c.BaseURL = strings.TrimRight(c.BaseURL, "/")
	if c.Root == "" {
		c.Root = "."
	}
	if c.Seed == 0 {
		c.Seed = DefaultSeed
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.HTTPClient == nil {
		c.HTTPClient = &http.Client{}
	}
	switch {
	case c.WebhookRetries == 0:
		c.WebhookRetries = defaultWebhookRetries
	case c.WebhookRetries < 0:
		c.WebhookRetries = 0
	}
	if c.WebhookBackoff <= 0 {
		c.WebhookBackoff = defaultWebhookBackoff
	}
	switch {
	case c.AsyncDelay == 0:
		c.AsyncDelay = defaultAsyncDelay
	case c.AsyncDelay < 0:
		c.AsyncDelay = 0
	}
	if c.FunctionTimeout <= 0 {
		c.FunctionTimeout = functionTimeout
	}
	return c, nil
}

// errNotFound is a lookup that found nothing.
var errNotFound = errors.New("not found")
