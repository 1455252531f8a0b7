package app

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// The checkout token is what the discount function's fetch target sends to our checkout
// endpoint as "Authorization: Bearer <token>". The app mints one per shop and stores it in
// the configuration metafield of each platform discount; the endpoint takes the shop from the
// verified token only, never from the request body.
//
// It is a JWT signed with HS256: iss "regulars", aud "regulars-checkout", sub the shop's
// myshopify.com domain, iat the minting time. It has no expiry, because it lives in the
// metafield until the discount is re-synced; rotating the signing key revokes every token.
const (
	checkoutTokenIssuer   = "regulars"
	checkoutTokenAudience = "regulars-checkout"
	checkoutTokenLeeway   = 10 * time.Second
)

// ErrInvalidCheckoutToken is returned, wrapped with the reason, for any token that does not
// verify.
var ErrInvalidCheckoutToken = errors.New("invalid checkout token")

// shopDomainPattern is a shop's permanent domain: "example-shop.myshopify.com".
var shopDomainPattern = regexp.MustCompile(`^[a-zA-Z0-9][a-zA-Z0-9-]*\.myshopify\.com$`)

// ValidShopDomain reports whether shop is a shop's myshopify.com domain.
func ValidShopDomain(shop string) bool {
	return shopDomainPattern.MatchString(shop)
}

// MintCheckoutToken signs a checkout token for shop, issued at now. The shop domain is
// stored in lower case, the form every lookup uses.
func MintCheckoutToken(key []byte, shop string, now time.Time) (string, error) {
	if len(key) == 0 {
		return "", errors.New("mint checkout token: empty signing key")
	}
	if !ValidShopDomain(shop) {
		return "", fmt.Errorf("mint checkout token: %q is not a myshopify.com shop domain", shop)
	}
	claims := jwt.RegisteredClaims{
		Issuer:   checkoutTokenIssuer,
		Subject:  strings.ToLower(shop),
		Audience: jwt.ClaimStrings{checkoutTokenAudience},
		IssuedAt: jwt.NewNumericDate(now),
	}
	signed, err := jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SignedString(key)
	if err != nil {
		return "", fmt.Errorf("mint checkout token: %w", err)
	}
	return signed, nil
}

// VerifyCheckoutToken checks a checkout token signed with key, as seen at now, and returns
// the shop domain it was minted for (lower case). Every failure wraps
// ErrInvalidCheckoutToken.
func VerifyCheckoutToken(key []byte, token string, now time.Time) (string, error) {
	if len(key) == 0 {
		return "", fmt.Errorf("%w: empty signing key", ErrInvalidCheckoutToken)
	}
	var claims jwt.RegisteredClaims
	_, err := jwt.ParseWithClaims(token, &claims,
		func(t *jwt.Token) (any, error) {
			// WithValidMethods already limits alg to HS256; this keeps the key from ever
			// being handed to another kind of method.
			if _, ok := t.Method.(*jwt.SigningMethodHMAC); !ok {
				return nil, fmt.Errorf("unexpected signing method %q", t.Method.Alg())
			}
			return key, nil
		},
		jwt.WithValidMethods([]string{jwt.SigningMethodHS256.Alg()}),
		jwt.WithAudience(checkoutTokenAudience),
		jwt.WithIssuer(checkoutTokenIssuer),
		jwt.WithIssuedAt(),
		jwt.WithLeeway(checkoutTokenLeeway),
		jwt.WithTimeFunc(func() time.Time { return now }),
	)
	if err != nil {
		return "", fmt.Errorf("%w: %w", ErrInvalidCheckoutToken, err)
	}
	if claims.IssuedAt == nil {
		return "", fmt.Errorf("%w: iat is required", ErrInvalidCheckoutToken)
	}
	if !ValidShopDomain(claims.Subject) {
		return "", fmt.Errorf("%w: subject %q is not a shop domain", ErrInvalidCheckoutToken, claims.Subject)
	}
	return strings.ToLower(claims.Subject), nil
}

// verifiedTokens remembers the checkout tokens that verified, with their shop. The platform
// sends a shop's one token with every checkout, and checking its signature each time was a
// tenth of a checkout's CPU. Remembering a success is safe: a checkout token has no expiry,
// its issue time only grows older, and the signing key is fixed for the server's life.
// Failures are not remembered, so a flood of forged tokens cannot fill the map.
type verifiedTokens struct {
	mu    sync.RWMutex
	shops map[string]string // token: shop
}

// maxVerifiedTokens bounds the map (one token per installed shop is the usual count); when
// it is full, it starts over.
const maxVerifiedTokens = 10_000

// verify is VerifyCheckoutToken, answered from memory for a token that verified before.
func (v *verifiedTokens) verify(key []byte, token string, now time.Time) (string, error) {
	v.mu.RLock()
	shop, ok := v.shops[token]
	v.mu.RUnlock()
	if ok {
		return shop, nil
	}
	shop, err := VerifyCheckoutToken(key, token, now)
	if err != nil {
		return "", err
	}
	v.mu.Lock()
	if v.shops == nil || len(v.shops) >= maxVerifiedTokens {
		v.shops = map[string]string{}
	}
	// A copy: the caller's string may share memory with a request buffer that is reused
	// (Fiber's header values do), which would change the key under the map.
	v.shops[strings.Clone(token)] = shop
	v.mu.Unlock()
	return shop, nil
}
