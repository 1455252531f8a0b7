package app

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/golang-jwt/jwt/v5"
)

// Every admin API call (/api/*) carries the platform's ID token (reference section 2): a JWT
// signed with HS256 under the app secret, aud = the client id, iss = https://{shop}/admin,
// dest = https://{shop}, valid for one minute. requireIDToken verifies it and records the
// shop, which handlers read with adminShop: the shop comes from the token only, never from
// the request.

const (
	// idTokenLeeway is the clock skew allowed on exp and nbf (the platform's libraries use
	// 10 s).
	idTokenLeeway = 10 * time.Second
	// headerRetryInvalidSession asks App Bridge to fetch a new ID token and retry.
	headerRetryInvalidSession = "X-Shopify-Retry-Invalid-Session-Request"
)

// errInvalidIDToken is wrapped around every reason an ID token is refused.
var errInvalidIDToken = errors.New("invalid ID token")

// adminShopKey is the fiber.Ctx local under which requireIDToken leaves the shop.
type adminShopKey struct{}

// idTokenClaims are the claims of an ID token we check; the others (sub, sid, jti) are
// ignored.
type idTokenClaims struct {
	jwt.RegisteredClaims
	Dest string `json:"dest"`
}

// requireIDToken is the middleware of /api/*: it verifies the bearer ID token, makes sure the
// shop has usable offline tokens (token exchange, for an embedded app installed by the
// platform), and records the shop for adminShop.
func (s *Server) requireIDToken(c *fiber.Ctx) error {
	token, ok := bearerToken(c)
	if !ok {
		c.Set(headerRetryInvalidSession, "1")
		return unauthorized("session token", errors.New("no bearer token"))
	}
	shop, err := s.verifyIDToken(token)
	if err != nil {
		c.Set(headerRetryInvalidSession, "1")
		return unauthorized("session token", err)
	}
	if s.tokens != nil {
		ctx := c.UserContext()
		installed, err := s.tokens.ensureOfflineToken(ctx, shop, token)
		var endpointErr *tokenEndpointError
		if errors.As(err, &endpointErr) && endpointErr.clientError() {
			// The platform refused the exchange (the token expired meanwhile, say): a
			// fresh ID token may do.
			c.Set(headerRetryInvalidSession, "1")
			return unauthorized("session token", err)
		}
		if err != nil {
			return authError(err)
		}
		if installed {
			if err := s.afterInstall(ctx, shop); err != nil {
				return err
			}
		}
	}
	c.Locals(adminShopKey{}, shop)
	return c.Next()
}

// adminShop is the shop of the verified ID token: the only source of the shop for admin
// handlers.
func adminShop(c *fiber.Ctx) (string, error) {
	shop, ok := c.Locals(adminShopKey{}).(string)
	if !ok || shop == "" {
		return "", errors.New("admin: route is not behind requireIDToken")
	}
	return shop, nil
}

// bearerToken is the token of an "Authorization: Bearer" header.
func bearerToken(c *fiber.Ctx) (string, bool) {
	scheme, token, ok := strings.Cut(c.Get(fiber.HeaderAuthorization), " ")
	token = strings.TrimSpace(token)
	if !ok || !strings.EqualFold(scheme, "Bearer") || token == "" {
		return "", false
	}
	return token, true
}

// verifyIDToken checks an ID token and returns its shop (lower case). The token must be
// HS256 under the app secret (or the previous one, during a rotation), for our client id,
// with exp and nbf, valid now within idTokenLeeway, and with iss and dest naming the same
// myshopify.com shop.
func (s *Server) verifyIDToken(raw string) (string, error) {
	keys := make([]jwt.VerificationKey, 0, len(s.cfg.AppSecrets))
	for _, secret := range s.cfg.AppSecrets {
		keys = append(keys, secret)
	}
	var claims idTokenClaims
	_, err := jwt.ParseWithClaims(raw, &claims,
		func(*jwt.Token) (any, error) { return jwt.VerificationKeySet{Keys: keys}, nil },
		jwt.WithValidMethods([]string{jwt.SigningMethodHS256.Alg()}),
		jwt.WithAudience(s.cfg.ClientID),
		jwt.WithExpirationRequired(),
		jwt.WithNotBeforeRequired(),
		jwt.WithLeeway(idTokenLeeway),
		jwt.WithTimeFunc(s.now),
	)
	if err != nil {
		return "", fmt.Errorf("%w: %w", errInvalidIDToken, err)
	}
	return shopFromIDToken(claims.Issuer, claims.Dest)
}

// shopFromIDToken checks that iss is https://{shop}/admin and dest is https://{shop} for one
// myshopify.com shop, and returns the shop.
func shopFromIDToken(iss, dest string) (string, error) {
	destShop, err := shopFromURL(dest, "")
	if err != nil {
		return "", fmt.Errorf("%w: dest: %w", errInvalidIDToken, err)
	}
	issShop, err := shopFromURL(iss, "/admin")
	if err != nil {
		return "", fmt.Errorf("%w: iss: %w", errInvalidIDToken, err)
	}
	if issShop != destShop {
		return "", fmt.Errorf("%w: iss names %s but dest names %s", errInvalidIDToken, issShop, destShop)
	}
	return destShop, nil
}

// shopFromURL reads the shop of https://{shop}{path} (a trailing slash allowed).
func shopFromURL(raw, path string) (string, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return "", fmt.Errorf("%q is not a URL", raw)
	}
	if u.Scheme != "https" || u.User != nil || u.Port() != "" || u.RawQuery != "" || u.Fragment != "" ||
		strings.TrimSuffix(u.Path, "/") != path {
		return "", fmt.Errorf("%q is not https://{shop}%s", raw, path)
	}
	shop, ok := normalizeShop(u.Host)
	if !ok {
		return "", fmt.Errorf("%q does not name a myshopify.com shop", raw)
	}
	return shop, nil
}

// setFrameAncestors sets the Content-Security-Policy of a document response: the shop's
// admin may frame it when the shop is known (from a verified ID token or signed query),
// nothing may otherwise.
func (s *Server) setFrameAncestors(c *fiber.Ctx, shop string) {
	policy := "frame-ancestors 'none';"
	if shop != "" {
		policy = "frame-ancestors https://" + shop + " " + adminOrigin(s.cfg) + ";"
	}
	c.Set(fiber.HeaderContentSecurityPolicy, policy)
}

// documentShop is the shop a document request proves: from its id_token parameter when that
// verifies, else from its shop parameter when the query's hmac and timestamp verify; "" when
// neither does.
func (s *Server) documentShop(c *fiber.Ctx) string {
	if tok := c.Query("id_token"); tok != "" {
		if shop, err := s.verifyIDToken(tok); err == nil {
			return shop
		}
	}
	rawQuery := string(c.Request().URI().QueryString())
	q, err := url.ParseQuery(rawQuery)
	if err != nil || q.Get("hmac") == "" {
		return ""
	}
	shop, ok := normalizeShop(q.Get("shop"))
	if !ok || s.verifySignedQuery(rawQuery, q) != nil {
		return ""
	}
	return shop
}
