package app

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
)

// Install by the authorization code grant (docs/PLATFORM.md, "Install"):
//
//  1. GET /auth?shop={shop} sends the merchant to the platform's authorize page, with a random
//     state that is also kept in a signed cookie;
//  2. the platform redirects to GET /auth/callback?code&hmac&host&shop&state&timestamp; we
//     check the shop domain, the query signature and its timestamp, and the state; exchange
//     the code for tokens at the token endpoint; check the granted scopes; store the tokens
//     encrypted; start the install work (Installer); and send the merchant to the app's page
//     in the platform's admin.
//
// Embedded loads get their tokens by token exchange instead (idtoken.go, Tokens).

// Installer does the install work for a newly installed shop: webhook subscriptions, finding
// our discount function, the history backfill. It is called after the shop's tokens are
// stored (after the OAuth callback, and after a token exchange for a shop that had no
// tokens), within the request that installed it, so it should return quickly and leave long
// work to the background. It may be called again for a shop already set up (a reinstall), so
// it must be idempotent.
type Installer interface {
	AfterInstall(ctx context.Context, shop string) error
}

const (
	authCallbackPath = "/auth/callback"
	stateCookieName  = "regulars_oauth_state"
	stateCookiePath  = "/auth"
	stateTTL         = 10 * time.Minute
	stateNonceBytes  = 32
	// queryHMACTolerance is how far a signed query's timestamp may be from our clock.
	queryHMACTolerance = 90 * time.Second
	// embeddedAppHandle is the app's path in the stand-in's admin.
	embeddedAppHandle = "regulars"
	// productionAdminOrigin is the platform's admin, which frames embedded apps.
	productionAdminOrigin = "https://admin.shopify.com"
)

// ErrQuerySignature is returned, wrapped with the reason, for a query whose hmac does not
// verify.
var ErrQuerySignature = errors.New("invalid query signature")

// normalizeShop lower-cases a shop domain and reports whether it is a myshopify.com domain.
func normalizeShop(raw string) (string, bool) {
	shop := strings.ToLower(raw)
	return shop, ValidShopDomain(shop)
}

// errBadShop is the 400 for a shop parameter that is not a shop's domain.
func errBadShop() error {
	return badRequest(nil, "shop must be a shop's myshopify.com domain, such as example-shop.myshopify.com")
}

// authHandler starts an install: GET /auth?shop={shop}.
func (s *Server) authHandler(c *fiber.Ctx) error {
	shop, ok := normalizeShop(c.Query("shop"))
	if !ok {
		return errBadShop()
	}
	state, err := randomHex(stateNonceBytes)
	if err != nil {
		return err
	}
	expires := s.now().Add(stateTTL)
	c.Cookie(&fiber.Cookie{
		Name:     stateCookieName,
		Value:    signState(s.cfg.AppSecrets[0], state, expires),
		Path:     stateCookiePath,
		Expires:  expires,
		MaxAge:   int(stateTTL / time.Second),
		Secure:   strings.HasPrefix(s.cfg.AppURL, "https://"),
		HTTPOnly: true,
		SameSite: fiber.CookieSameSiteLaxMode,
	})
	q := url.Values{
		"client_id":    {s.cfg.ClientID},
		"scope":        {strings.Join(s.cfg.Scopes, ",")},
		"redirect_uri": {s.cfg.AppURL + authCallbackPath},
		"state":        {state},
	}
	return c.Redirect(platformURL(s.cfg, shop, "/admin/oauth/authorize")+"?"+q.Encode(), fiber.StatusFound)
}

// authCallbackHandler finishes an install: GET /auth/callback.
func (s *Server) authCallbackHandler(c *fiber.Ctx) error {
	rawQuery := string(c.Request().URI().QueryString()) // a copy: Fiber reuses its buffers
	q, err := url.ParseQuery(rawQuery)
	if err != nil {
		return badRequest(err, "malformed query string")
	}
	shop, ok := normalizeShop(q.Get("shop"))
	if !ok {
		return errBadShop()
	}
	if err := s.verifySignedQuery(rawQuery, q); err != nil {
		return unauthorized("request signature", err)
	}
	// The state proves this browser started the install (no login CSRF); it is single use.
	cookieState, err := openState(s.cfg.AppSecrets, c.Cookies(stateCookieName), s.now())
	c.Cookie(&fiber.Cookie{Name: stateCookieName, Path: stateCookiePath, Expires: time.Unix(0, 0), MaxAge: -1,
		HTTPOnly: true, SameSite: fiber.CookieSameSiteLaxMode, Secure: strings.HasPrefix(s.cfg.AppURL, "https://")})
	if err != nil {
		return unauthorized("OAuth state", err)
	}
	if !hmac.Equal([]byte(cookieState), []byte(q.Get("state"))) {
		return unauthorized("OAuth state", errors.New("the state does not match the cookie"))
	}
	code := q.Get("code")
	if code == "" {
		return badRequest(nil, "code is required")
	}

	ctx := c.UserContext()
	if err := s.tokens.installWithCode(ctx, shop, code); err != nil {
		return authError(err)
	}
	if err := s.afterInstall(ctx, shop); err != nil {
		return err
	}
	return c.Redirect(embeddedAdminURL(s.cfg, shop), fiber.StatusFound)
}

// afterInstall runs the install hook, if any.
func (s *Server) afterInstall(ctx context.Context, shop string) error {
	if s.installer == nil {
		return nil
	}
	s.log.InfoContext(ctx, "shop installed", "shop", shop)
	if err := s.installer.AfterInstall(ctx, shop); err != nil {
		return fmt.Errorf("install work for %s: %w", shop, err)
	}
	return nil
}

// authError maps what Tokens returns to a response: missing scopes are a 403 saying which,
// a platform that refuses the grant a 400 (start again), anything else a 500.
func authError(err error) error {
	var (
		scopeErr    *scopeError
		endpointErr *tokenEndpointError
	)
	switch {
	case errors.As(err, &scopeErr):
		return forbidden(err, "the shop did not grant the access the app needs (missing %s); install the app again and approve every requested permission",
			strings.Join(scopeErr.missing, ", "))
	case errors.As(err, &endpointErr) && endpointErr.clientError():
		return badRequest(err, "the platform refused the authorization; install the app again")
	}
	return err
}

// verifySignedQuery checks a query the platform signed (reference section 1.2): its hmac
// under the app secret (or the previous one, during a rotation), and a timestamp within
// queryHMACTolerance of now.
func (s *Server) verifySignedQuery(rawQuery string, q url.Values) error {
	var err error
	for _, secret := range s.cfg.AppSecrets {
		if err = VerifyQueryHMAC(secret, rawQuery); err == nil {
			break
		}
	}
	if err != nil {
		return err
	}
	ts, perr := strconv.ParseInt(q.Get("timestamp"), 10, 64)
	if perr != nil {
		return fmt.Errorf("%w: timestamp %q is not a number", ErrQuerySignature, q.Get("timestamp"))
	}
	if skew := s.now().Sub(time.Unix(ts, 0)).Abs(); skew > queryHMACTolerance {
		return fmt.Errorf("%w: timestamp is %s away from now (at most %s)", ErrQuerySignature, skew.Round(time.Second), queryHMACTolerance)
	}
	return nil
}

// VerifyQueryHMAC checks the hmac parameter of a query the platform signed with secret
// (reference section 1.2): hex HMAC-SHA256 over the other parameters (without hmac and
// signature), sorted by key, form-encoded with spaces as %20, repeated keys joined with ",".
// It does not check the timestamp.
func VerifyQueryHMAC(secret []byte, rawQuery string) error {
	if len(secret) == 0 {
		return fmt.Errorf("%w: empty secret", ErrQuerySignature)
	}
	q, err := url.ParseQuery(rawQuery)
	if err != nil {
		return fmt.Errorf("%w: malformed query: %w", ErrQuerySignature, err)
	}
	if len(q["hmac"]) != 1 {
		return fmt.Errorf("%w: want exactly one hmac parameter, got %d", ErrQuerySignature, len(q["hmac"]))
	}
	got, err := hex.DecodeString(q.Get("hmac"))
	if err != nil || len(got) != sha256.Size {
		return fmt.Errorf("%w: hmac is not %d hex bytes", ErrQuerySignature, sha256.Size)
	}
	mac := hmac.New(sha256.New, secret)
	mac.Write([]byte(queryHMACMessage(q)))
	if !hmac.Equal(mac.Sum(nil), got) {
		return fmt.Errorf("%w: hmac does not match", ErrQuerySignature)
	}
	return nil
}

// queryHMACMessage is the string a query's hmac signs.
func queryHMACMessage(q url.Values) string {
	rest := make(url.Values, len(q))
	for k, vs := range q {
		if k == "hmac" || k == "signature" {
			continue
		}
		rest.Set(k, strings.Join(vs, ","))
	}
	return strings.ReplaceAll(rest.Encode(), "+", "%20")
}

// The state cookie is "state|expiry|sig": expiry in Unix seconds, sig the hex HMAC-SHA256 of
// "regulars-oauth-state|state|expiry" under the app secret.

func stateMAC(secret []byte, state, expiry string) []byte {
	mac := hmac.New(sha256.New, secret)
	mac.Write([]byte("regulars-oauth-state|" + state + "|" + expiry))
	return mac.Sum(nil)
}

func signState(secret []byte, state string, expires time.Time) string {
	expiry := strconv.FormatInt(expires.Unix(), 10)
	return state + "|" + expiry + "|" + hex.EncodeToString(stateMAC(secret, state, expiry))
}

// openState verifies a state cookie signed with any of secrets and not expired at now, and
// returns its state.
func openState(secrets [][]byte, cookie string, now time.Time) (string, error) {
	parts := strings.Split(cookie, "|")
	if len(parts) != 3 || parts[0] == "" {
		return "", errors.New("no state cookie")
	}
	state, expiry := parts[0], parts[1]
	sig, err := hex.DecodeString(parts[2])
	if err != nil {
		return "", errors.New("state cookie signature is not hex")
	}
	ok := false
	for _, secret := range secrets {
		ok = ok || hmac.Equal(stateMAC(secret, state, expiry), sig)
	}
	if !ok {
		return "", errors.New("state cookie signature does not match")
	}
	exp, err := strconv.ParseInt(expiry, 10, 64)
	if err != nil || !now.Before(time.Unix(exp, 0)) {
		return "", errors.New("state cookie expired")
	}
	return state, nil
}

func randomHex(n int) (string, error) {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("random: %w", err)
	}
	return hex.EncodeToString(b), nil
}

// embeddedAdminURL is the app's page in the shop's admin (docs/PLATFORM.md, "Addresses").
func embeddedAdminURL(cfg Config, shop string) string {
	if cfg.PlatformURL != "" {
		return platformURL(cfg, shop, "/admin/apps/"+embeddedAppHandle)
	}
	name := strings.TrimSuffix(shop, ".myshopify.com")
	return productionAdminOrigin + "/store/" + name + "/apps/" + url.PathEscape(cfg.ClientID)
}

// adminOrigin is the origin of the admin that frames the app: the platform's, or the
// stand-in's.
func adminOrigin(cfg Config) string {
	if cfg.PlatformURL == "" {
		return productionAdminOrigin
	}
	u, err := url.Parse(cfg.PlatformURL)
	if err != nil {
		return productionAdminOrigin // LoadConfig validated it
	}
	return u.Scheme + "://" + u.Host
}
