package app

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/regularsapp/regulars/store"
)

// Tokens keeps each shop's offline access token (docs/PLATFORM.md, "Install"): it gets tokens
// from the platform's token endpoint (authorization code, ID-token exchange, refresh),
// checks the granted scopes, and stores them encrypted. AccessToken is what Admin API callers
// use. It is safe for concurrent use; the work on one shop's tokens (an exchange, a refresh)
// is serialized, so concurrent callers never rotate a shop's tokens twice.
//
// Within one process only: two processes refreshing the same shop at once each rotate the
// tokens, and the last save wins (the platform keeps the previous refresh token usable until
// its replacement is used, so neither breaks the other).
type Tokens struct {
	cfg    Config
	st     *store.Store
	cipher *TokenCipher
	client *http.Client
	now    func() time.Time
	locks  shopLocks
}

// ErrNotInstalled is returned by AccessToken for a shop without stored tokens: never
// installed, or uninstalled since.
var ErrNotInstalled = errors.New("shop has not installed the app")

// ErrReauthorize is returned by AccessToken when the shop's tokens have expired and cannot be
// refreshed (the refresh token expired or was refused): the merchant must open the app in the
// admin (token exchange) or install it again.
var ErrReauthorize = errors.New("shop must authorize the app again")

const (
	// refreshMargin: an access token expiring within this is refreshed before use.
	refreshMargin = 5 * time.Minute
	// maxTokenResponseBytes bounds what is read from the token endpoint.
	maxTokenResponseBytes = 1 << 20

	grantTypeRefresh       = "refresh_token"
	grantTypeTokenExchange = "urn:ietf:params:oauth:grant-type:token-exchange"
	tokenTypeIDToken       = "urn:ietf:params:oauth:token-type:id_token"
	tokenTypeOffline       = "urn:shopify:params:oauth:token-type:offline-access-token"
)

// newPlatformClient is the HTTP client for the platform's endpoints: every step has a
// timeout, and no call takes more than 30 s in all.
func newPlatformClient() *http.Client {
	transport := http.DefaultTransport.(*http.Transport).Clone()
	transport.DialContext = (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext
	transport.TLSHandshakeTimeout = 5 * time.Second
	transport.ResponseHeaderTimeout = 20 * time.Second
	transport.IdleConnTimeout = 90 * time.Second
	return &http.Client{Transport: transport, Timeout: 30 * time.Second}
}

// NewTokens builds the token service: cfg gives the client id and secret, the platform's
// address and the required scopes; client calls the token endpoint (it should have
// timeouts); now is the clock.
func NewTokens(cfg Config, st *store.Store, cipher *TokenCipher, client *http.Client, now func() time.Time) *Tokens {
	if now == nil {
		now = time.Now
	}
	return &Tokens{cfg: cfg, st: st, cipher: cipher, client: client, now: now}
}

// AccessToken returns a valid access token for the shop's Admin API, refreshing it first
// (and storing both rotated tokens) when it expires within five minutes. It returns
// ErrNotInstalled for a shop without tokens and ErrReauthorize when they can no longer be
// refreshed. Concurrent calls for one shop refresh once.
func (t *Tokens) AccessToken(ctx context.Context, shop string) (string, error) {
	rec, err := t.get(ctx, shop)
	if err != nil {
		return "", err
	}
	if !t.needsRefresh(rec) {
		return t.open(shop, fieldAccessToken, rec.AccessCiphertext)
	}
	unlock, err := t.locks.lock(ctx, shop)
	if err != nil {
		return "", err
	}
	defer unlock()
	// Whoever held the lock may have refreshed already.
	if rec, err = t.get(ctx, shop); err != nil {
		return "", err
	}
	if !t.needsRefresh(rec) {
		return t.open(shop, fieldAccessToken, rec.AccessCiphertext)
	}
	now := t.now()
	if len(rec.RefreshCiphertext) == 0 || !now.Before(rec.RefreshExpiresAt) {
		if now.Before(rec.AccessExpiresAt) {
			return t.open(shop, fieldAccessToken, rec.AccessCiphertext) // last minutes of it
		}
		return "", fmt.Errorf("tokens of %s: %w: the access token expired and cannot be refreshed", shop, ErrReauthorize)
	}
	refresh, err := t.open(shop, fieldRefreshToken, rec.RefreshCiphertext)
	if err != nil {
		return "", err
	}
	// The refresh is not cut short by the caller going away: once the platform has rotated
	// the tokens, the new ones must be stored.
	work := context.WithoutCancel(ctx)
	g, err := t.post(work, shop, map[string]string{"grant_type": grantTypeRefresh, "refresh_token": refresh})
	var endpointErr *tokenEndpointError
	if errors.As(err, &endpointErr) && endpointErr.clientError() {
		return "", fmt.Errorf("refresh tokens of %s: %w: %w", shop, ErrReauthorize, err)
	}
	if err != nil {
		return "", fmt.Errorf("refresh tokens of %s: %w", shop, err)
	}
	sealed, err := t.seal(shop, g)
	if err != nil {
		return "", err
	}
	if sealed.Scopes == "" {
		sealed.Scopes = rec.Scopes // a refresh answer need not repeat them
	}
	if err := t.st.SaveTokens(work, shop, sealed); err != nil {
		return "", fmt.Errorf("refresh tokens of %s: %w", shop, err)
	}
	return g.AccessToken, nil
}

// installWithCode exchanges an authorization code (the OAuth callback) for the shop's
// tokens, checks the granted scopes and stores the tokens, installing the shop. Missing
// scopes are a *scopeError, and nothing is stored.
func (t *Tokens) installWithCode(ctx context.Context, shop, code string) error {
	unlock, err := t.locks.lock(ctx, shop)
	if err != nil {
		return err
	}
	defer unlock()
	return t.install(context.WithoutCancel(ctx), shop, map[string]string{"code": code, "expiring": "1"})
}

// ensureOfflineToken makes sure the shop has usable tokens for an embedded load with a
// verified ID token, exchanging the ID token for new ones when it has none (or they can no
// longer be refreshed, or lack a required scope). It reports whether the shop was newly
// installed (it had no tokens), so the install work can start.
func (t *Tokens) ensureOfflineToken(ctx context.Context, shop, idToken string) (installed bool, err error) {
	rec, err := t.get(ctx, shop)
	if err == nil && t.usable(rec) {
		return false, nil
	}
	if err != nil && !errors.Is(err, ErrNotInstalled) {
		return false, err
	}
	unlock, err := t.locks.lock(ctx, shop)
	if err != nil {
		return false, err
	}
	defer unlock()
	rec, err = t.get(ctx, shop)
	hadTokens := err == nil
	switch {
	case hadTokens && t.usable(rec):
		return false, nil
	case !hadTokens && !errors.Is(err, ErrNotInstalled):
		return false, err
	}
	if err := t.exchangeIDToken(context.WithoutCancel(ctx), shop, idToken); err != nil {
		return false, err
	}
	return !hadTokens, nil
}

// exchangeIDToken exchanges a verified ID token for the shop's expiring offline tokens
// (token exchange), checks the granted scopes and stores the tokens, installing the shop.
// The caller holds the shop's lock.
func (t *Tokens) exchangeIDToken(ctx context.Context, shop, idToken string) error {
	return t.install(ctx, shop, map[string]string{
		"grant_type":           grantTypeTokenExchange,
		"subject_token":        idToken,
		"subject_token_type":   tokenTypeIDToken,
		"requested_token_type": tokenTypeOffline,
		"expiring":             "1",
	})
}

// install gets tokens with the given grant, checks their scopes and stores them with the shop.
func (t *Tokens) install(ctx context.Context, shop string, grant map[string]string) error {
	g, err := t.post(ctx, shop, grant)
	if err != nil {
		return fmt.Errorf("get tokens of %s: %w", shop, err)
	}
	if missing := missingScopes(t.cfg.Scopes, g.Scope); len(missing) > 0 {
		return &scopeError{shop: shop, missing: missing, granted: g.Scope}
	}
	sealed, err := t.seal(shop, g)
	if err != nil {
		return err
	}
	if _, err := t.st.InstallShop(ctx, shop, sealed); err != nil {
		return fmt.Errorf("store tokens of %s: %w", shop, err)
	}
	return nil
}

// get reads the shop's stored tokens; ErrNotInstalled when there are none.
func (t *Tokens) get(ctx context.Context, shop string) (store.Tokens, error) {
	rec, err := t.st.GetTokens(ctx, shop)
	if errors.Is(err, store.ErrNotFound) {
		return store.Tokens{}, fmt.Errorf("tokens of %s: %w", shop, ErrNotInstalled)
	}
	if err != nil {
		return store.Tokens{}, fmt.Errorf("tokens of %s: %w", shop, err)
	}
	return rec, nil
}

// needsRefresh: the access token expires within refreshMargin.
func (t *Tokens) needsRefresh(rec store.Tokens) bool {
	return !rec.AccessExpiresAt.IsZero() && rec.AccessExpiresAt.Sub(t.now()) < refreshMargin
}

// usable: AccessToken can give a token without a new grant (the access token is still valid,
// or can be refreshed), and the tokens carry every required scope.
func (t *Tokens) usable(rec store.Tokens) bool {
	if len(missingScopes(t.cfg.Scopes, rec.Scopes)) > 0 {
		return false
	}
	now := t.now()
	accessValid := rec.AccessExpiresAt.IsZero() || now.Before(rec.AccessExpiresAt)
	refreshValid := len(rec.RefreshCiphertext) > 0 && now.Before(rec.RefreshExpiresAt)
	return accessValid || refreshValid
}

func (t *Tokens) open(shop, field string, sealed []byte) (string, error) {
	plain, err := t.cipher.Open(shop, field, sealed)
	if err != nil {
		return "", fmt.Errorf("tokens of %s: %w", shop, err)
	}
	return string(plain), nil
}

// seal encrypts a grant for storage, with expiry times from now.
func (t *Tokens) seal(shop string, g tokenGrant) (store.Tokens, error) {
	now := t.now()
	access, err := t.cipher.Seal(shop, fieldAccessToken, []byte(g.AccessToken))
	if err != nil {
		return store.Tokens{}, err
	}
	rec := store.Tokens{AccessCiphertext: access, Scopes: g.Scope}
	if g.ExpiresIn > 0 {
		rec.AccessExpiresAt = now.Add(time.Duration(g.ExpiresIn) * time.Second)
	}
	if g.RefreshToken != "" {
		if rec.RefreshCiphertext, err = t.cipher.Seal(shop, fieldRefreshToken, []byte(g.RefreshToken)); err != nil {
			return store.Tokens{}, err
		}
		if g.RefreshTokenExpiresIn > 0 {
			rec.RefreshExpiresAt = now.Add(time.Duration(g.RefreshTokenExpiresIn) * time.Second)
		}
	}
	return rec, nil
}

// tokenGrant is the token endpoint's answer.
type tokenGrant struct {
	AccessToken           string `json:"access_token"`
	Scope                 string `json:"scope"`
	ExpiresIn             int64  `json:"expires_in"`
	RefreshToken          string `json:"refresh_token"`
	RefreshTokenExpiresIn int64  `json:"refresh_token_expires_in"`
}

// tokenEndpointError is a non-200 answer of the token endpoint.
type tokenEndpointError struct {
	status      int
	code        string // the OAuth error code, e.g. invalid_grant, invalid_subject_token
	description string
}

func (e *tokenEndpointError) Error() string {
	msg := fmt.Sprintf("token endpoint answered %d", e.status)
	if e.code != "" {
		msg += " " + e.code
	}
	if e.description != "" {
		msg += ": " + e.description
	}
	return msg
}

// clientError: the platform refused the grant itself (a used or expired code, a bad ID
// token, a revoked refresh token), as opposed to failing.
func (e *tokenEndpointError) clientError() bool { return e.status >= 400 && e.status < 500 }

// post sends one grant to the shop's token endpoint, as JSON with the app's client id and
// secret. Neither the secret nor any token appears in its errors.
func (t *Tokens) post(ctx context.Context, shop string, grant map[string]string) (tokenGrant, error) {
	body := map[string]string{"client_id": t.cfg.ClientID, "client_secret": string(t.cfg.AppSecrets[0])}
	for k, v := range grant {
		body[k] = v
	}
	b, err := json.Marshal(body)
	if err != nil {
		return tokenGrant{}, fmt.Errorf("token request: %w", err)
	}
	endpoint := platformURL(t.cfg, shop, "/admin/oauth/access_token")
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, bytes.NewReader(b))
	if err != nil {
		return tokenGrant{}, fmt.Errorf("token request: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	resp, err := t.client.Do(req)
	if err != nil {
		return tokenGrant{}, fmt.Errorf("token endpoint: %w", err)
	}
	defer resp.Body.Close() //nolint:errcheck // read fully below; nothing to do about a failed close
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxTokenResponseBytes))
	if err != nil {
		return tokenGrant{}, fmt.Errorf("token endpoint: read answer: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		e := &tokenEndpointError{status: resp.StatusCode}
		var answer struct {
			Error            string `json:"error"`
			ErrorDescription string `json:"error_description"`
		}
		if json.Unmarshal(data, &answer) == nil {
			e.code, e.description = clip(answer.Error, 100), clip(answer.ErrorDescription, 300)
		}
		return tokenGrant{}, e
	}
	var g tokenGrant
	if err := json.Unmarshal(data, &g); err != nil {
		return tokenGrant{}, fmt.Errorf("token endpoint: answer is not the expected JSON: %w", err)
	}
	if g.AccessToken == "" {
		return tokenGrant{}, errors.New("token endpoint: answer has no access_token")
	}
	if g.ExpiresIn < 0 || g.RefreshTokenExpiresIn < 0 {
		return tokenGrant{}, errors.New("token endpoint: answer has a negative lifetime")
	}
	return g, nil
}

func clip(s string, n int) string {
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}

// scopeError: the grant lacks required scopes.
type scopeError struct {
	shop    string
	missing []string
	granted string
}

func (e *scopeError) Error() string {
	return fmt.Sprintf("%s granted %q, missing %s", e.shop, e.granted, strings.Join(e.missing, ", "))
}

// missingScopes lists the required scopes that granted (comma-separated) does not cover. A
// write scope covers its read scope (write_orders covers read_orders), as on the platform.
func missingScopes(required []string, granted string) []string {
	have := map[string]bool{}
	for _, s := range strings.Split(granted, ",") {
		s = strings.TrimSpace(s)
		have[s] = true
		if rest, ok := strings.CutPrefix(s, "write_"); ok {
			have["read_"+rest] = true
		}
	}
	var missing []string
	for _, s := range required {
		if !have[s] && !slices.Contains(missing, s) {
			missing = append(missing, s)
		}
	}
	return missing
}

// shopLocks serializes work per shop: lock waits for the shop's lock (or ctx), and the
// returned func releases it. Entries exist only while someone holds or waits for them.
type shopLocks struct {
	mu sync.Mutex
	m  map[string]*shopLock
}

type shopLock struct {
	held chan struct{} // capacity 1: full while held
	refs int           // holders and waiters
}

func (l *shopLocks) lock(ctx context.Context, shop string) (unlock func(), err error) {
	l.mu.Lock()
	if l.m == nil {
		l.m = map[string]*shopLock{}
	}
	e := l.m[shop]
	if e == nil {
		e = &shopLock{held: make(chan struct{}, 1)}
		l.m[shop] = e
	}
	e.refs++
	l.mu.Unlock()

	select {
	case e.held <- struct{}{}:
		return func() {
			<-e.held
			l.release(shop, e)
		}, nil
	case <-ctx.Done():
		l.release(shop, e)
		return nil, ctx.Err()
	}
}

func (l *shopLocks) release(shop string, e *shopLock) {
	l.mu.Lock()
	defer l.mu.Unlock()
	e.refs--
	if e.refs == 0 {
		delete(l.m, shop)
	}
}
