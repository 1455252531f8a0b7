package app

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/regularsapp/regulars/store"
	"github.com/regularsapp/regulars/store/storetest"
)

// adminOnlyEnv is a server with the admin API over a real store, without the token service
// (no token exchange), on the test clock.
func adminOnlyEnv(t *testing.T, st *store.Store, edit ...func(*Config)) *authEnv {
	t.Helper()
	cfg := authConfig("http://127.0.0.1:8081")
	cfg.AppSecrets = [][]byte{[]byte(testAppSecret), []byte("previous-app-secret")}
	for _, e := range edit {
		e(&cfg)
	}
	env := &authEnv{testEnv: &testEnv{logs: &syncBuffer{}}, st: st, clock: newManualClock(), hooks: &recordingHooks{}}
	logger := slog.New(slog.NewJSONHandler(env.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	env.srv = New(cfg, Deps{Store: st, Now: env.clock.Now, Logger: logger, Installer: env.hooks, OfferSync: env.hooks})
	return env
}

func TestRequireIDToken(t *testing.T) {
	env := adminOnlyEnv(t, storetest.SQLite(t))
	now := env.clock.Now()
	mint := func(edit ...func(jwt.MapClaims)) string { return mintIDToken(t, testAppSecret, shopA, now, edit...) }
	signWith := func(method jwt.SigningMethod, key any) string {
		claims := jwt.MapClaims{"iss": "https://" + shopA + "/admin", "dest": "https://" + shopA, "aud": testClientID,
			"exp": now.Add(time.Minute).Unix(), "nbf": now.Unix()}
		tok, err := jwt.NewWithClaims(method, claims).SignedString(key)
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	// An RS256 header over an HMAC signature made with the app secret: algorithm confusion.
	rs256Shaped := func() string {
		enc := base64.RawURLEncoding
		header := enc.EncodeToString([]byte(`{"alg":"RS256","typ":"JWT"}`))
		payload := strings.Split(mint(), ".")[1]
		mac := hmac.New(sha256.New, []byte(testAppSecret))
		mac.Write([]byte(header + "." + payload))
		return header + "." + payload + "." + enc.EncodeToString(mac.Sum(nil))
	}
	set := func(k string, v any) func(jwt.MapClaims) { return func(c jwt.MapClaims) { c[k] = v } }
	del := func(k string) func(jwt.MapClaims) { return func(c jwt.MapClaims) { delete(c, k) } }

	tests := []struct {
		name   string
		header http.Header
		ok     bool
	}{
		{"good", bearerHeader(mint()), true},
		{"signed with the previous secret (rotation)", bearerHeader(mintIDToken(t, "previous-app-secret", shopA, now)), true},
		{"lower-case scheme", http.Header{"Authorization": {"bearer " + mint()}}, true},
		{"expired within the leeway", bearerHeader(mint(set("exp", now.Add(-9*time.Second).Unix()))), true},
		{"nbf within the leeway", bearerHeader(mint(set("nbf", now.Add(9*time.Second).Unix()))), true},
		{"upper-case shop", bearerHeader(mintIDToken(t, testAppSecret, "Shop-A.myshopify.com", now)), true},
		{"dest with a trailing slash", bearerHeader(mint(set("dest", "https://"+shopA+"/"))), true},

		{"alg none", bearerHeader(signWith(jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType)), false},
		{"alg HS512 with the right key", bearerHeader(signWith(jwt.SigningMethodHS512, []byte(testAppSecret))), false},
		{"alg RS256 shaped", bearerHeader(rs256Shaped()), false},
		{"wrong key", bearerHeader(mintIDToken(t, "another-app-secret", shopA, now)), false},
		{"wrong audience", bearerHeader(mint(set("aud", "another-client-id"))), false},
		{"no audience", bearerHeader(mint(del("aud"))), false},
		{"expired", bearerHeader(mint(set("exp", now.Add(-11*time.Second).Unix()))), false},
		{"nbf in the future", bearerHeader(mint(set("nbf", now.Add(11*time.Second).Unix()))), false},
		{"missing exp", bearerHeader(mint(del("exp"))), false},
		{"missing nbf", bearerHeader(mint(del("nbf"))), false},
		{"iss and dest name different shops", bearerHeader(mint(set("iss", "https://"+shopB+"/admin"))), false},
		{"iss without /admin", bearerHeader(mint(set("iss", "https://"+shopA))), false},
		{"dest over http", bearerHeader(mint(set("dest", "http://"+shopA))), false},
		{"dest with a port", bearerHeader(mint(set("dest", "https://"+shopA+":8443"), set("iss", "https://"+shopA+":8443/admin"))), false},
		{"dest with a path", bearerHeader(mint(set("dest", "https://"+shopA+"/x"))), false},
		{"missing dest", bearerHeader(mint(del("dest"))), false},
		{"bad shop", bearerHeader(mintIDToken(t, testAppSecret, "shop-a.example.com", now)), false},
		{"shop with a leading hyphen", bearerHeader(mintIDToken(t, testAppSecret, "-shop.myshopify.com", now)), false},
		{"no Authorization", nil, false},
		{"basic scheme", http.Header{"Authorization": {"Basic " + mint()}}, false},
		{"bearer without token", http.Header{"Authorization": {"Bearer "}}, false},
		{"malformed token", bearerHeader("not.a.token"), false},
		{"signature cut", bearerHeader(mint() + "x"), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := env.get(t, "/api/offers", tt.header)
			if tt.ok {
				if resp.StatusCode != http.StatusOK {
					t.Fatalf("status %d %s, want 200", resp.StatusCode, body)
				}
				return
			}
			if resp.StatusCode != http.StatusUnauthorized {
				t.Fatalf("status %d %s, want 401", resp.StatusCode, body)
			}
			if got := resp.Header.Get("X-Shopify-Retry-Invalid-Session-Request"); got != "1" {
				t.Errorf("X-Shopify-Retry-Invalid-Session-Request = %q, want 1", got)
			}
			assertJSONError(t, resp, body, "missing or invalid session token")
		})
	}
}

func TestShopFromIDToken(t *testing.T) {
	if shop, err := shopFromIDToken("https://Shop-A.myshopify.com/admin", "https://shop-a.myshopify.com"); err != nil || shop != shopA {
		t.Errorf("shopFromIDToken = %q, %v", shop, err)
	}
	for _, c := range [][2]string{
		{"https://" + shopA + "/admin", "https://" + shopB},
		{"https://" + shopA + "/admin?x=1", "https://" + shopA},
		{"https://user@" + shopA + "/admin", "https://" + shopA},
		{"https://" + shopA + "/admin", "https://" + shopA + "#x"},
		{"", ""},
	} {
		if shop, err := shopFromIDToken(c[0], c[1]); !errors.Is(err, errInvalidIDToken) {
			t.Errorf("shopFromIDToken(%q, %q) = %q, %v; want errInvalidIDToken", c[0], c[1], shop, err)
		}
	}
}

// TestIDTokenExchange: the first admin call of a shop the platform installed (managed
// install) exchanges its ID token for offline tokens and starts the install work; later calls
// use the stored tokens.
func TestIDTokenExchange(t *testing.T) {
	ctx := context.Background()
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		env := newAuthEnv(t, st)
		call := func() (*http.Response, []byte) {
			return env.get(t, "/api/offers", bearerHeader(mintIDToken(t, testAppSecret, shopA, env.clock.Now())))
		}

		resp, body := call()
		if resp.StatusCode != http.StatusOK || string(body) != `{"offers":[]}` {
			t.Fatalf("first call: %d %s", resp.StatusCode, body)
		}
		if n := env.platform.count("exchange"); n != 1 {
			t.Fatalf("token exchanges = %d, want 1", n)
		}
		if tok, err := env.tokens.AccessToken(ctx, shopA); err != nil || tok != env.platform.accessToken(shopA) {
			t.Errorf("AccessToken after the exchange = %q, %v", tok, err)
		}
		if got := env.hooks.installed(); len(got) != 1 || got[0] != shopA {
			t.Errorf("install hook calls = %v, want [%s]", got, shopA)
		}

		env.clock.Add(30 * time.Minute)
		if resp, body := call(); resp.StatusCode != http.StatusOK {
			t.Fatalf("second call: %d %s", resp.StatusCode, body)
		}
		if n, installs := env.platform.count("exchange"), env.hooks.installed(); n != 1 || len(installs) != 1 {
			t.Errorf("after a second call: %d exchanges and install calls %v; want 1 and one", n, installs)
		}

		// Tokens past refresh (and the shop reopened later): exchanged again, not reinstalled.
		env.clock.Add(91 * 24 * time.Hour)
		if resp, body := call(); resp.StatusCode != http.StatusOK {
			t.Fatalf("call after the tokens expired: %d %s", resp.StatusCode, body)
		}
		if n, installs := env.platform.count("exchange"), env.hooks.installed(); n != 2 || len(installs) != 1 {
			t.Errorf("after expiry: %d exchanges and install calls %v; want 2 and one", n, installs)
		}

		// After an uninstall the tokens are gone: the next load reinstalls.
		if err := st.MarkUninstalled(ctx, shopA, env.clock.Now()); err != nil {
			t.Fatal(err)
		}
		env.clock.Add(time.Second)
		if resp, body := call(); resp.StatusCode != http.StatusOK {
			t.Fatalf("call after uninstall: %d %s", resp.StatusCode, body)
		}
		if shop, err := st.GetShop(ctx, shopA); err != nil || shop.UninstalledAt != nil {
			t.Errorf("shop after reopening = %+v, %v; want installed", shop, err)
		}
		if installs := env.hooks.installed(); len(installs) != 2 {
			t.Errorf("install calls %v, want two", installs)
		}
	})
}

func TestIDTokenExchangeRefused(t *testing.T) {
	ctx := context.Background()
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		env := newAuthEnv(t, st)

		// The platform refuses the ID token (it expired on the way, say): 401, retry.
		env.platform.failNextWith("invalid_subject_token")
		resp, body := env.get(t, "/api/offers", bearerHeader(mintIDToken(t, testAppSecret, shopA, env.clock.Now())))
		if resp.StatusCode != http.StatusUnauthorized || resp.Header.Get("X-Shopify-Retry-Invalid-Session-Request") != "1" {
			t.Errorf("refused exchange: %d %s, retry header %q; want 401 with the retry header",
				resp.StatusCode, body, resp.Header.Get("X-Shopify-Retry-Invalid-Session-Request"))
		}

		// Scopes short of what the app needs: 403, nothing stored.
		env.platform.setScope("read_orders")
		resp, body = env.get(t, "/api/offers", bearerHeader(mintIDToken(t, testAppSecret, shopA, env.clock.Now())))
		if resp.StatusCode != http.StatusForbidden || !strings.Contains(string(body), "missing read_all_orders") {
			t.Errorf("short scopes: %d %s; want 403 naming the missing scopes", resp.StatusCode, body)
		}
		if _, err := st.GetTokens(ctx, shopA); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("tokens stored despite missing scopes: %v", err)
		}
		if got := env.hooks.installed(); len(got) != 0 {
			t.Errorf("install hook called: %v", got)
		}
	})
}

func TestAppPageFrameAncestors(t *testing.T) {
	env := adminOnlyEnv(t, storetest.SQLite(t))
	now := env.clock.Now()
	const standIn = "frame-ancestors https://" + shopA + " http://127.0.0.1:8081;"
	hmacQuery := signedQuery(testAppSecret, url.Values{"shop": {shopA}, "host": {"YWRtaW4"}, "embedded": {"1"}, "timestamp": {unixParam(now)}})
	tests := []struct {
		name, query, want string
	}{
		{"verified id_token", "?embedded=1&shop=" + shopA + "&id_token=" + mintIDToken(t, testAppSecret, shopA, now), standIn},
		{"signed query", "?" + hmacQuery, standIn},
		{"no proof", "?shop=" + shopA, "frame-ancestors 'none';"},
		{"nothing", "", "frame-ancestors 'none';"},
		{"id_token with another key", "?shop=" + shopA + "&id_token=" + mintIDToken(t, "another-secret", shopA, now), "frame-ancestors 'none';"},
		{"signed query with a changed shop", "?" + strings.Replace(hmacQuery, shopA, shopB, 1), "frame-ancestors 'none';"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := env.get(t, "/app"+tt.query, nil)
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("GET /app: %d %s", resp.StatusCode, body)
			}
			if got := resp.Header.Get("Content-Security-Policy"); got != tt.want {
				t.Errorf("Content-Security-Policy = %q, want %q", got, tt.want)
			}
			if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/html") {
				t.Errorf("Content-Type = %q", ct)
			}
			if !strings.Contains(string(body), `<div id="root"></div>`) || !strings.Contains(string(body), `<script type="module"`) {
				t.Errorf("page is not the admin UI's shell:\n%s", body)
			}
		})
	}
	// Expired id_token: not a proof.
	env.clock.Add(2 * time.Minute)
	resp, _ := env.get(t, "/app?id_token="+mintIDToken(t, testAppSecret, shopA, now), nil)
	if got := resp.Header.Get("Content-Security-Policy"); got != "frame-ancestors 'none';" {
		t.Errorf("expired id_token: Content-Security-Policy = %q", got)
	}

	// On the real platform: the platform's admin, and App Bridge with the client id.
	prod := adminOnlyEnv(t, storetest.SQLite(t), func(c *Config) { c.PlatformURL = "" })
	resp, body := prod.get(t, "/app?id_token="+mintIDToken(t, testAppSecret, shopA, prod.clock.Now()), nil)
	if got, want := resp.Header.Get("Content-Security-Policy"), "frame-ancestors https://"+shopA+" https://admin.shopify.com;"; got != want {
		t.Errorf("Content-Security-Policy = %q, want %q", got, want)
	}
	if !strings.Contains(string(body), `data-api-key="`+testClientID+`"`) {
		t.Errorf("page does not load App Bridge with the client id:\n%s", body)
	}
}

// decodeJSON decodes a response body for the admin tests.
func decodeJSON(t *testing.T, body []byte, v any) {
	t.Helper()
	if err := json.Unmarshal(body, v); err != nil {
		t.Fatalf("decode %s: %v", body, err)
	}
}
