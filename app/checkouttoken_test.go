package app

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

func TestMintCheckoutToken(t *testing.T) {
	now := testNow()
	tests := []struct {
		name    string
		key     []byte
		shop    string
		wantErr bool
	}{
		{"valid", []byte(testKey), shopA, false},
		{"upper case shop is stored lower case", []byte(testKey), "Shop-A.myshopify.com", false},
		{"empty key", nil, shopA, true},
		{"custom domain", []byte(testKey), "shop.example.com", true},
		{"scheme included", []byte(testKey), "https://" + shopA, true},
		{"path included", []byte(testKey), shopA + "/admin", true},
		{"leading hyphen", []byte(testKey), "-shop.myshopify.com", true},
		{"empty", []byte(testKey), "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tok, err := MintCheckoutToken(tt.key, tt.shop, now)
			if tt.wantErr {
				if err == nil {
					t.Fatalf("minted %q, want an error", tok)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			shop, err := VerifyCheckoutToken(tt.key, tok, now)
			if err != nil {
				t.Fatalf("verify own token: %v", err)
			}
			if want := strings.ToLower(tt.shop); shop != want {
				t.Errorf("shop = %q, want %q", shop, want)
			}
		})
	}
}

func TestVerifyCheckoutToken(t *testing.T) {
	key := []byte(testKey)
	now := testNow()
	valid := func() jwt.RegisteredClaims {
		return jwt.RegisteredClaims{
			Issuer: checkoutTokenIssuer, Audience: jwt.ClaimStrings{checkoutTokenAudience},
			Subject: shopA, IssuedAt: jwt.NewNumericDate(now.Add(-time.Hour)),
		}
	}
	sign := func(method jwt.SigningMethod, claims jwt.Claims, key any) string {
		t.Helper()
		s, err := jwt.NewWithClaims(method, claims).SignedString(key)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	with := func(edit func(*jwt.RegisteredClaims)) string {
		c := valid()
		edit(&c)
		return sign(jwt.SigningMethodHS256, c, key)
	}
	// An RS256 header over an HMAC signature made with our key: the algorithm-confusion attack.
	rs256Shaped := func() string {
		enc := base64.RawURLEncoding
		header := enc.EncodeToString([]byte(`{"alg":"RS256","typ":"JWT"}`))
		tok := sign(jwt.SigningMethodHS256, valid(), key)
		payload := strings.Split(tok, ".")[1]
		mac := hmac.New(sha256.New, key)
		mac.Write([]byte(header + "." + payload))
		return header + "." + payload + "." + enc.EncodeToString(mac.Sum(nil))
	}

	tests := []struct {
		name  string
		token string
		want  string // shop; empty means invalid
	}{
		{"valid", sign(jwt.SigningMethodHS256, valid(), key), shopA},
		{"iat within leeway", with(func(c *jwt.RegisteredClaims) { c.IssuedAt = jwt.NewNumericDate(now.Add(5 * time.Second)) }), shopA},
		{"alg none", sign(jwt.SigningMethodNone, valid(), jwt.UnsafeAllowNoneSignatureType), ""},
		{"alg HS512 with the right key", sign(jwt.SigningMethodHS512, valid(), key), ""},
		{"alg RS256 shaped", rs256Shaped(), ""},
		{"wrong key", sign(jwt.SigningMethodHS256, valid(), []byte("another-key-another-key-another-key")), ""},
		{"wrong audience", with(func(c *jwt.RegisteredClaims) { c.Audience = jwt.ClaimStrings{"some-client-id"} }), ""},
		{"no audience", with(func(c *jwt.RegisteredClaims) { c.Audience = nil }), ""},
		{"wrong issuer", with(func(c *jwt.RegisteredClaims) { c.Issuer = "shopify" }), ""},
		{"subject not a shop", with(func(c *jwt.RegisteredClaims) { c.Subject = "shop.example.com" }), ""},
		{"subject empty", with(func(c *jwt.RegisteredClaims) { c.Subject = "" }), ""},
		{"iat in the future", with(func(c *jwt.RegisteredClaims) { c.IssuedAt = jwt.NewNumericDate(now.Add(time.Minute)) }), ""},
		{"iat missing", with(func(c *jwt.RegisteredClaims) { c.IssuedAt = nil }), ""},
		{"malformed", "not-a-token", ""},
		{"empty", "", ""},
		{"signature cut", sign(jwt.SigningMethodHS256, valid(), key) + "x", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			shop, err := VerifyCheckoutToken(key, tt.token, now)
			if tt.want == "" {
				if err == nil {
					t.Fatalf("accepted, shop %q; want rejected", shop)
				}
				if !errors.Is(err, ErrInvalidCheckoutToken) {
					t.Errorf("err = %v, want it to wrap ErrInvalidCheckoutToken", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("rejected: %v", err)
			}
			if shop != tt.want {
				t.Errorf("shop = %q, want %q", shop, tt.want)
			}
		})
	}
}

// TestVerifiedTokensRemembersSuccessesOnly: a token that verified is answered from memory
// (here, with a key that could not verify it), and a forged one is checked every time.
func TestVerifiedTokensRemembersSuccessesOnly(t *testing.T) {
	now := time.Now()
	key := []byte(testKey)
	token, err := MintCheckoutToken(key, shopA, now)
	if err != nil {
		t.Fatal(err)
	}
	var v verifiedTokens
	if shop, err := v.verify(key, token, now); err != nil || shop != shopA {
		t.Fatalf("verify = %q, %v; want %q", shop, err, shopA)
	}
	if shop, err := v.verify([]byte("another key"), token, now); err != nil || shop != shopA {
		t.Errorf("verify again = %q, %v; want %q from memory", shop, err, shopA)
	}
	forged := token[:len(token)-2] + "xx"
	for range 2 {
		if shop, err := v.verify(key, forged, now); !errors.Is(err, ErrInvalidCheckoutToken) {
			t.Errorf("verify(forged) = %q, %v; want ErrInvalidCheckoutToken", shop, err)
		}
	}
	if len(v.shops) != 1 {
		t.Errorf("remembered %d tokens; want 1", len(v.shops))
	}
}
