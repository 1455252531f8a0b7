package app

import (
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Env is the deployment environment.
type Env string

const (
	// EnvDevelopment runs with a fixed checkout signing key and a seeded demo shop.
	EnvDevelopment Env = "development"
	// EnvProduction requires every secret to come from the environment.
	EnvProduction Env = "production"
)

// DevAppSecret is the app's API secret in development when SHOPIFY_API_SECRET is not set:
// the local platform stand-in signs webhooks with it. It is public, so it is refused in
// production.
const DevAppSecret = "DEVELOPMENT-ONLY-regulars-app-secret-not-secret"

// DevCheckoutSigningKey signs checkout tokens in development when
// REGULARS_CHECKOUT_SIGNING_KEY is not set. It is public (it is in the source), so it is
// refused in production.
const DevCheckoutSigningKey = "DEVELOPMENT-ONLY-regulars-checkout-signing-key-not-secret"

// DevClientID is the app's client id (API key) when SHOPIFY_API_KEY is not set: the one in
// shopify.app.toml, which the local platform stand-in accepts.
const DevClientID = "regulars-dev-client-id"

// DevTokenKey encrypts the stored access tokens in development when REGULARS_TOKEN_KEY is not
// set: 32 bytes, an AES-256 key. It is public (it is in the source), so it is refused in
// production.
const DevTokenKey = "DEVELOPMENT-ONLY-regulars-tokens"

// DefaultScopes are the access scopes the app asks for and requires, as in shopify.app.toml
// ([access_scopes] scopes).
const DefaultScopes = "read_orders,read_all_orders,write_orders,read_customers,read_products,read_discounts,write_discounts,write_payment_customizations"

// Bounds and defaults of the settings.
const (
	defaultAddr             = ":8080"
	defaultAppURL           = "http://localhost:8080"
	tokenKeyBytes           = 32 // AES-256
	defaultCheckoutDeadline = 250 * time.Millisecond
	// The platform gives a fetch target 100 to 2000 ms; our answer must leave it time to
	// arrive, so the deadline stays well inside the largest timeout.
	minCheckoutDeadline = 10 * time.Millisecond
	maxCheckoutDeadline = 1900 * time.Millisecond
	// The limit covers every request. The platform caps function input at 128,000 bytes,
	// scaled up to ten times for large carts, so the limit may never be below 1,280,000 bytes
	// (a real checkout would be refused); order webhooks of very large orders are bigger still.
	defaultMaxBodyBytes   = 4 << 20
	minMaxBodyBytes       = 1_280_000
	maxMaxBodyBytes       = 32 << 20
	defaultWebhookWorkers = 4
	maxWebhookWorkers     = 64
	// minSigningKeyBytes is the shortest key accepted for HS256 (RFC 7518 section 3.2: a key
	// of at least the hash size).
	minSigningKeyBytes = 32
)

// The environment variables LoadConfig reads.
const (
	envAddr               = "REGULARS_ADDR"
	envEnv                = "REGULARS_ENV"
	envCheckoutSigningKey = "REGULARS_CHECKOUT_SIGNING_KEY"
	envCheckoutDeadline   = "REGULARS_CHECKOUT_DEADLINE"
	envMaxBodyBytes       = "REGULARS_MAX_BODY_BYTES"
	envDatabaseURL        = "DATABASE_URL"
	envAppSecret          = "SHOPIFY_API_SECRET"
	envPreviousAppSecret  = "SHOPIFY_API_SECRET_PREVIOUS"
	envWebhookWorkers     = "REGULARS_WEBHOOK_WORKERS"
	envClientID           = "SHOPIFY_API_KEY"
	envAppURL             = "REGULARS_APP_URL"
	envPlatformURL        = "REGULARS_PLATFORM_URL"
	envTokenKey           = "REGULARS_TOKEN_KEY"
	envScopes             = "SHOPIFY_SCOPES"
	envSyncWorkers        = "REGULARS_SYNC_WORKERS"
	envReconcileInterval  = "REGULARS_RECONCILE_INTERVAL"
	envDebugAddr          = "REGULARS_DEBUG_ADDR"
)

// Config is the whole configuration of the service, read once at start and passed down.
type Config struct {
	// Addr is the listen address (REGULARS_ADDR, default ":8080").
	Addr string
	// Env is development or production (REGULARS_ENV, default development).
	Env Env
	// CheckoutSigningKey signs and verifies the per-shop checkout tokens
	// (REGULARS_CHECKOUT_SIGNING_KEY; required in production).
	CheckoutSigningKey []byte
	// CheckoutDeadline bounds loading and evaluating one checkout call
	// (REGULARS_CHECKOUT_DEADLINE, a Go duration, default 250ms).
	CheckoutDeadline time.Duration
	// MaxBodyBytes is the largest request body accepted (REGULARS_MAX_BODY_BYTES).
	MaxBodyBytes int
	// DatabaseURL is the PostgreSQL DSN; empty means the embedded SQLite file regulars.db
	// (DATABASE_URL).
	DatabaseURL string
	// AppSecrets verify webhook signatures: the app's API secret (SHOPIFY_API_SECRET, required
	// in production) and, during a rotation, the previous one (SHOPIFY_API_SECRET_PREVIOUS).
	AppSecrets [][]byte
	// WebhookWorkers is how many goroutines process stored webhook events
	// (REGULARS_WEBHOOK_WORKERS, default 4; 0 stores deliveries without processing them).
	WebhookWorkers int
	// ClientID is the app's client id, the API key (SHOPIFY_API_KEY, default DevClientID): the
	// audience of ID tokens and the client_id of OAuth requests.
	ClientID string
	// AppURL is where the platform reaches the app, without a trailing slash
	// (REGULARS_APP_URL, default http://localhost:8080): the OAuth redirect goes to
	// {AppURL}/auth/callback.
	AppURL string
	// PlatformURL is the base URL of the local platform stand-in (REGULARS_PLATFORM_URL),
	// without a trailing slash; empty means the real platform. See platformURL.
	PlatformURL string
	// TokenKey is the AES-256 key that encrypts stored access tokens (REGULARS_TOKEN_KEY,
	// base64 of 32 bytes; required in production).
	TokenKey []byte
	// Scopes are the access scopes asked for at install and required of every grant
	// (SHOPIFY_SCOPES, comma-separated, default DefaultScopes).
	Scopes []string
	// SyncWorkers is how many goroutines send offers to the platform and do the install work
	// (REGULARS_SYNC_WORKERS, default 2; 0 queues the work for a process that has workers).
	SyncWorkers int
	// ReconcileInterval is how often each shop's orders updated since the last backfill are
	// read again from the platform (REGULARS_RECONCILE_INTERVAL, a Go duration, default 6h;
	// 0 turns the reconciliation off).
	ReconcileInterval time.Duration
	// DebugAddr, when set, serves Go's profiler (net/http/pprof) on this loopback address
	// (REGULARS_DEBUG_ADDR, such as 127.0.0.1:6060; default off), for profiling a running
	// process. Only loopback is accepted: the profiles show internals and cost CPU.
	DebugAddr string
}

// LoadConfig reads the configuration through getenv (os.Getenv in production, a map in
// tests) and validates it. The error lists every problem, each naming its variable.
func LoadConfig(getenv func(string) string) (Config, error) {
	cfg := Config{
		Addr:             defaultAddr,
		Env:              EnvDevelopment,
		CheckoutDeadline: defaultCheckoutDeadline,
		MaxBodyBytes:     defaultMaxBodyBytes,
		DatabaseURL:      strings.TrimSpace(getenv(envDatabaseURL)),
		WebhookWorkers:   defaultWebhookWorkers,
	}
	var errs []error

	if v := strings.TrimSpace(getenv(envAddr)); v != "" {
		cfg.Addr = v
	}
	if _, _, err := net.SplitHostPort(cfg.Addr); err != nil {
		errs = append(errs, fmt.Errorf("%s: %q is not a host:port address: %w", envAddr, cfg.Addr, err))
	}

	switch v := Env(strings.TrimSpace(getenv(envEnv))); v {
	case "":
	case EnvDevelopment, EnvProduction:
		cfg.Env = v
	default:
		errs = append(errs, fmt.Errorf("%s: %q must be %q or %q", envEnv, v, EnvDevelopment, EnvProduction))
	}

	// Trimmed: keys kept in secret files often end with a newline.
	key := strings.TrimSpace(getenv(envCheckoutSigningKey))
	switch {
	case key == "" && cfg.Env == EnvProduction:
		errs = append(errs, fmt.Errorf("%s is required in production", envCheckoutSigningKey))
	case key == "":
		cfg.CheckoutSigningKey = []byte(DevCheckoutSigningKey)
	case key == DevCheckoutSigningKey && cfg.Env == EnvProduction:
		errs = append(errs, fmt.Errorf("%s: the development key must not be used in production", envCheckoutSigningKey))
	case len(key) < minSigningKeyBytes:
		errs = append(errs, fmt.Errorf("%s: must be at least %d bytes, got %d", envCheckoutSigningKey, minSigningKeyBytes, len(key)))
	default:
		cfg.CheckoutSigningKey = []byte(key)
	}

	if v := strings.TrimSpace(getenv(envCheckoutDeadline)); v != "" {
		d, err := time.ParseDuration(v)
		switch {
		case err != nil:
			errs = append(errs, fmt.Errorf("%s: %q is not a duration such as 250ms: %w", envCheckoutDeadline, v, err))
		case d < minCheckoutDeadline || d > maxCheckoutDeadline:
			errs = append(errs, fmt.Errorf("%s: %s is outside %s..%s", envCheckoutDeadline, d, minCheckoutDeadline, maxCheckoutDeadline))
		default:
			cfg.CheckoutDeadline = d
		}
	}

	if v := strings.TrimSpace(getenv(envMaxBodyBytes)); v != "" {
		n, err := strconv.Atoi(v)
		switch {
		case err != nil:
			errs = append(errs, fmt.Errorf("%s: %q is not a whole number of bytes: %w", envMaxBodyBytes, v, err))
		case n < minMaxBodyBytes || n > maxMaxBodyBytes:
			errs = append(errs, fmt.Errorf("%s: %d is outside %d..%d (the platform sends up to %d bytes)",
				envMaxBodyBytes, n, minMaxBodyBytes, maxMaxBodyBytes, minMaxBodyBytes))
		default:
			cfg.MaxBodyBytes = n
		}
	}

	secret := strings.TrimSpace(getenv(envAppSecret))
	switch {
	case secret == "" && cfg.Env == EnvProduction:
		errs = append(errs, fmt.Errorf("%s is required in production", envAppSecret))
	case secret == "":
		cfg.AppSecrets = [][]byte{[]byte(DevAppSecret)}
	case secret == DevAppSecret && cfg.Env == EnvProduction:
		errs = append(errs, fmt.Errorf("%s: the development secret must not be used in production", envAppSecret))
	default:
		cfg.AppSecrets = [][]byte{[]byte(secret)}
	}
	if prev := strings.TrimSpace(getenv(envPreviousAppSecret)); prev != "" {
		cfg.AppSecrets = append(cfg.AppSecrets, []byte(prev))
	}

	if v := strings.TrimSpace(getenv(envWebhookWorkers)); v != "" {
		n, err := strconv.Atoi(v)
		switch {
		case err != nil:
			errs = append(errs, fmt.Errorf("%s: %q is not a whole number: %w", envWebhookWorkers, v, err))
		case n < 0 || n > maxWebhookWorkers:
			errs = append(errs, fmt.Errorf("%s: %d is outside 0..%d", envWebhookWorkers, n, maxWebhookWorkers))
		default:
			cfg.WebhookWorkers = n
		}
	}

	cfg.ClientID = strings.TrimSpace(getenv(envClientID))
	if cfg.ClientID == "" {
		cfg.ClientID = DevClientID
	}

	cfg.AppURL = defaultAppURL
	if v := strings.TrimSpace(getenv(envAppURL)); v != "" {
		u, err := parseBaseURL(v)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", envAppURL, err))
		}
		cfg.AppURL = u
	}
	if v := strings.TrimSpace(getenv(envPlatformURL)); v != "" {
		u, err := parseBaseURL(v)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", envPlatformURL, err))
		}
		cfg.PlatformURL = u
	}

	tokenKey, err := parseTokenKey(strings.TrimSpace(getenv(envTokenKey)), cfg.Env)
	if err != nil {
		errs = append(errs, err)
	}
	cfg.TokenKey = tokenKey

	scopes, err := parseScopes(getenv(envScopes))
	if err != nil {
		errs = append(errs, err)
	}
	cfg.Scopes = scopes

	cfg.SyncWorkers, cfg.ReconcileInterval = defaultSyncWorkers, defaultReconcileInterval
	if v := strings.TrimSpace(getenv(envSyncWorkers)); v != "" {
		n, err := strconv.Atoi(v)
		switch {
		case err != nil:
			errs = append(errs, fmt.Errorf("%s: %q is not a whole number: %w", envSyncWorkers, v, err))
		case n < 0 || n > maxSyncWorkers:
			errs = append(errs, fmt.Errorf("%s: %d is outside 0..%d", envSyncWorkers, n, maxSyncWorkers))
		default:
			cfg.SyncWorkers = n
		}
	}
	if v := strings.TrimSpace(getenv(envReconcileInterval)); v != "" {
		d, err := time.ParseDuration(v)
		switch {
		case err != nil:
			errs = append(errs, fmt.Errorf("%s: %q is not a duration such as 6h: %w", envReconcileInterval, v, err))
		case d != 0 && (d < minReconcileInterval || d > maxReconcileInterval):
			errs = append(errs, fmt.Errorf("%s: %s is outside %s..%s (or 0, off)", envReconcileInterval, d, minReconcileInterval, maxReconcileInterval))
		default:
			cfg.ReconcileInterval = d
		}
	}

	if v := strings.TrimSpace(getenv(envDebugAddr)); v != "" {
		if err := checkLoopbackAddr(v); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", envDebugAddr, err))
		} else {
			cfg.DebugAddr = v
		}
	}

	if err := errors.Join(errs...); err != nil {
		return Config{}, err
	}
	return cfg, nil
}

// checkLoopbackAddr accepts host:port with a loopback IP or localhost as the host.
func checkLoopbackAddr(v string) error {
	host, port, err := net.SplitHostPort(v)
	if err != nil {
		return fmt.Errorf("%q is not host:port: %w", v, err)
	}
	if _, err := strconv.ParseUint(port, 10, 16); err != nil {
		return fmt.Errorf("%q has no port number", v)
	}
	if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return fmt.Errorf("%q is not a loopback address such as 127.0.0.1:6060", v)
	}
	return nil
}

// parseBaseURL checks an absolute http(s) URL with a host and no query or fragment, and
// returns it without a trailing slash.
func parseBaseURL(v string) (string, error) {
	u, err := url.Parse(v)
	switch {
	case err != nil:
		return "", fmt.Errorf("%q is not a URL: %w", v, err)
	case u.Scheme != "http" && u.Scheme != "https":
		return "", fmt.Errorf("%q must be an absolute http:// or https:// URL", v)
	case u.Host == "" || u.Hostname() == "":
		return "", fmt.Errorf("%q has no host", v)
	case u.User != nil || u.RawQuery != "" || u.Fragment != "" || u.Opaque != "":
		return "", fmt.Errorf("%q must be a base URL, without credentials, query or fragment", v)
	}
	return strings.TrimRight(u.String(), "/"), nil
}

// parseTokenKey decodes REGULARS_TOKEN_KEY: base64 (standard or URL alphabet, padded or not)
// of exactly 32 bytes. Unset, it is DevTokenKey in development and an error in production.
func parseTokenKey(v string, env Env) ([]byte, error) {
	if v == "" {
		if env == EnvProduction {
			return nil, fmt.Errorf("%s is required in production: the base64 of 32 random bytes (for example `openssl rand -base64 32`)", envTokenKey)
		}
		return []byte(DevTokenKey), nil
	}
	var key []byte
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if b, err := enc.DecodeString(v); err == nil {
			key = b
			break
		}
	}
	switch {
	case key == nil:
		return nil, fmt.Errorf("%s is not base64", envTokenKey)
	case len(key) != tokenKeyBytes:
		return nil, fmt.Errorf("%s must decode to %d bytes, got %d", envTokenKey, tokenKeyBytes, len(key))
	case string(key) == DevTokenKey && env == EnvProduction:
		return nil, fmt.Errorf("%s: the development key must not be used in production", envTokenKey)
	}
	return key, nil
}

// parseScopes reads a comma-separated scope list (DefaultScopes when empty); duplicates are
// dropped.
func parseScopes(v string) ([]string, error) {
	if strings.TrimSpace(v) == "" {
		v = DefaultScopes
	}
	var scopes []string
	seen := map[string]bool{}
	for _, s := range strings.Split(v, ",") {
		s = strings.TrimSpace(s)
		if !validScope(s) {
			return nil, fmt.Errorf("%s: %q is not a scope such as read_orders", envScopes, s)
		}
		if !seen[s] {
			seen[s] = true
			scopes = append(scopes, s)
		}
	}
	return scopes, nil
}

// validScope reports whether s looks like an access scope: lower-case letters and
// underscores, as in "read_all_orders".
func validScope(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; (c < 'a' || c > 'z') && c != '_' {
			return false
		}
	}
	return true
}

// platformURL is the one place platform URLs are built (docs/PLATFORM.md, "Addresses"): with
// a stand-in configured, {PlatformURL}/shops/{shop}{path}; otherwise https://{shop}{path}.
// path starts with "/", e.g. "/admin/oauth/access_token".
func platformURL(cfg Config, shop, path string) string {
	if cfg.PlatformURL != "" {
		return cfg.PlatformURL + "/shops/" + shop + path
	}
	return "https://" + shop + path
}
