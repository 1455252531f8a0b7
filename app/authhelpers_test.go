package app

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/regularsapp/regulars/store"
)

// Test doubles for install and the admin API: a token endpoint that implements the contract
// (docs/PLATFORM.md, "Install") and checks what it receives, a clock the tests move, and
// recorders for the install and offer hooks.

const (
	testClientID  = "test-client-id"
	testAppSecret = "test-app-secret" // testConfig's AppSecrets[0]
	testAppURL    = "https://regulars.example.com"
)

// manualClock is a clock the tests move by hand; safe for concurrent use.
type manualClock struct {
	mu  sync.Mutex
	now time.Time
}

func newManualClock() *manualClock { return &manualClock{now: testNow()} }

func (c *manualClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *manualClock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// fakeTokenEndpoint is the platform's token endpoint at /shops/{shop}/admin/oauth/access_token:
// authorization codes it issued (single use), token exchange of valid ID tokens, and
// refresh with the current refresh token (both tokens rotate). It answers 400 with an OAuth
// error to anything else, and reports what it received through t.
type fakeTokenEndpoint struct {
	t      *testing.T
	srv    *httptest.Server
	clock  *manualClock
	secret string

	mu        sync.Mutex
	scope     string            // granted scopes
	codes     map[string]string // code → shop
	refresh   map[string]string // current refresh token → shop
	access    map[string]string // shop → latest access token
	serial    int
	calls     map[string]int // grant kind → count
	failNext  string         // when set, the next request gets 400 with this OAuth error
	lastGrant map[string]any // the last request body
}

func newFakeTokenEndpoint(t *testing.T, clock *manualClock) *fakeTokenEndpoint {
	t.Helper()
	p := &fakeTokenEndpoint{
		t: t, clock: clock, secret: testAppSecret, scope: DefaultScopes,
		codes: map[string]string{}, refresh: map[string]string{}, access: map[string]string{}, calls: map[string]int{},
	}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /shops/{shop}/admin/oauth/access_token", p.token)
	p.srv = httptest.NewServer(mux)
	t.Cleanup(p.srv.Close)
	return p
}

func (p *fakeTokenEndpoint) URL() string { return p.srv.URL }

// issueCode is the platform approving an install: a code for shop.
func (p *fakeTokenEndpoint) issueCode(shop string) string {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.serial++
	code := fmt.Sprintf("code%04d", p.serial)
	p.codes[code] = shop
	return code
}

func (p *fakeTokenEndpoint) setScope(scope string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.scope = scope
}

func (p *fakeTokenEndpoint) failNextWith(oauthError string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.failNext = oauthError
}

func (p *fakeTokenEndpoint) count(kind string) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.calls[kind]
}

func (p *fakeTokenEndpoint) accessToken(shop string) string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.access[shop]
}

func (p *fakeTokenEndpoint) token(w http.ResponseWriter, r *http.Request) {
	shop := r.PathValue("shop")
	refuse := func(code, format string, args ...any) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusBadRequest)
		_ = json.NewEncoder(w).Encode(map[string]string{"error": code, "error_description": fmt.Sprintf(format, args...)})
	}
	if ct := r.Header.Get("Content-Type"); ct != "application/json" {
		p.t.Errorf("token endpoint: Content-Type %q, want application/json", ct)
	}
	var body map[string]any
	if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
		p.t.Errorf("token endpoint: body is not JSON: %v", err)
		refuse("invalid_request", "body is not JSON")
		return
	}
	str := func(k string) string { s, _ := body[k].(string); return s }
	if str("client_id") != testClientID || str("client_secret") != p.secret {
		p.t.Errorf("token endpoint: client_id %q / client_secret %q, want the app's", str("client_id"), str("client_secret"))
		refuse("invalid_client", "bad client")
		return
	}

	p.mu.Lock()
	defer p.mu.Unlock()
	p.lastGrant = body
	if p.failNext != "" {
		code := p.failNext
		p.failNext = ""
		refuse(code, "refused as the test asked")
		return
	}
	switch grant := str("grant_type"); grant {
	case "": // authorization code
		p.calls["code"]++
		if p.codes[str("code")] != shop {
			refuse("invalid_grant", "unknown code")
			return
		}
		delete(p.codes, str("code"))
		if str("expiring") != "1" {
			p.t.Errorf("code grant: expiring = %v, want \"1\"", body["expiring"])
		}
	case "urn:ietf:params:oauth:grant-type:token-exchange":
		p.calls["exchange"]++
		if str("subject_token_type") != "urn:ietf:params:oauth:token-type:id_token" ||
			str("requested_token_type") != "urn:shopify:params:oauth:token-type:offline-access-token" || str("expiring") != "1" {
			p.t.Errorf("token exchange: unexpected body %v", body)
		}
		if got, err := (&Server{cfg: Config{ClientID: testClientID, AppSecrets: [][]byte{[]byte(p.secret)}}, now: p.clock.Now}).
			verifyIDToken(str("subject_token")); err != nil || got != shop {
			refuse("invalid_subject_token", "bad ID token")
			return
		}
	case "refresh_token":
		p.calls["refresh"]++
		if p.refresh[str("refresh_token")] != shop {
			refuse("invalid_grant", "unknown or used refresh token")
			return
		}
		delete(p.refresh, str("refresh_token"))
	default:
		refuse("unsupported_grant_type", "%s", grant)
		return
	}
	p.serial++
	access, refresh := fmt.Sprintf("shpat_%s_%d", shop, p.serial), fmt.Sprintf("shprt_%s_%d", shop, p.serial)
	p.access[shop] = access
	p.refresh[refresh] = shop
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{
		"access_token": access, "scope": p.scope, "expires_in": 3600,
		"refresh_token": refresh, "refresh_token_expires_in": 7776000,
	})
}

// recordingHooks records the install and offer hooks' calls, and can fail them.
type recordingHooks struct {
	mu         sync.Mutex
	installs   []string
	changes    []string // "shop/offer"
	failOffers bool
}

func (h *recordingHooks) AfterInstall(_ context.Context, shop string) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.installs = append(h.installs, shop)
	return nil
}

func (h *recordingHooks) OfferChanged(_ context.Context, shop, offerID string) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.changes = append(h.changes, shop+"/"+offerID)
	if h.failOffers {
		return errors.New("sync queue unavailable")
	}
	return nil
}

func (h *recordingHooks) installed() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]string(nil), h.installs...)
}

func (h *recordingHooks) changed() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]string(nil), h.changes...)
}

// authEnv is a server built by New over a real store, with the token service pointed at a
// fake platform.
type authEnv struct {
	*testEnv
	st       *store.Store
	clock    *manualClock
	platform *fakeTokenEndpoint
	tokens   *Tokens
	hooks    *recordingHooks
	cipher   *TokenCipher
}

// authConfig is testConfig with the install settings, against platformURL.
func authConfig(platformURL string) Config {
	cfg := testConfig()
	cfg.ClientID = testClientID
	cfg.AppURL = testAppURL
	cfg.PlatformURL = platformURL
	cfg.TokenKey = []byte(DevTokenKey)
	cfg.Scopes = strings.Split(DefaultScopes, ",")
	return cfg
}

func newAuthEnv(t *testing.T, st *store.Store, edit ...func(*Config)) *authEnv {
	t.Helper()
	clock := newManualClock()
	platform := newFakeTokenEndpoint(t, clock)
	cfg := authConfig(platform.URL())
	for _, e := range edit {
		e(&cfg)
	}
	cipher, err := NewTokenCipher(cfg.TokenKey)
	if err != nil {
		t.Fatal(err)
	}
	env := &authEnv{
		testEnv: &testEnv{src: &recordingSource{inner: NewMemorySource()}, logs: &syncBuffer{}},
		st:      st, clock: clock, platform: platform, cipher: cipher, hooks: &recordingHooks{},
	}
	env.tokens = NewTokens(cfg, st, cipher, &http.Client{Timeout: 10 * time.Second}, clock.Now)
	logger := slog.New(slog.NewJSONHandler(env.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	env.srv = New(cfg, Deps{
		Source: env.src, Logger: logger, Now: clock.Now, Store: st, Tokens: env.tokens,
		Installer: env.hooks, OfferSync: env.hooks,
	})
	return env
}

// get sends a GET with extra headers through the app.
func (e *authEnv) get(t *testing.T, target string, header http.Header) (*http.Response, []byte) {
	t.Helper()
	req := httptest.NewRequest(http.MethodGet, target, nil)
	for k, vs := range header {
		req.Header[k] = vs
	}
	resp, err := e.srv.App().Test(req, -1)
	if err != nil {
		t.Fatalf("GET %s: %v", target, err)
	}
	return resp, readBody(t, resp)
}

// signedQuery is q with the platform's hmac under secret.
func signedQuery(secret string, q url.Values) string {
	q.Set("hmac", hmacHex(secret, queryHMACMessage(q)))
	return strings.ReplaceAll(q.Encode(), "+", "%20")
}

// idToken mints an ID token for shop valid at now, as the platform does; edit changes its
// claims before signing.
func mintIDToken(t *testing.T, secret, shop string, now time.Time, edit ...func(jwt.MapClaims)) string {
	t.Helper()
	claims := jwt.MapClaims{
		"iss": "https://" + shop + "/admin", "dest": "https://" + shop, "aud": testClientID, "sub": "42",
		"exp": now.Add(time.Minute).Unix(), "nbf": now.Unix(), "iat": now.Unix(),
		"jti": "f8912129-1af6-4cad-9ca3-76b0f7621087", "sid": "session-1",
	}
	for _, e := range edit {
		e(claims)
	}
	tok, err := jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SignedString([]byte(secret))
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func bearerHeader(token string) http.Header {
	return http.Header{"Authorization": {"Bearer " + token}}
}

// unix is a timestamp parameter.
func unixParam(t time.Time) string { return strconv.FormatInt(t.Unix(), 10) }
