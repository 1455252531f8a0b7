package app

import (
	"errors"
	"fmt"
	"net"
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

// Bounds and defaults of the settings.
const (
	defaultAddr             = ":8080"
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

	if err := errors.Join(errs...); err != nil {
		return Config{}, err
	}
	return cfg, nil
}
