package app

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/regularsapp/regulars/store"
	"github.com/regularsapp/regulars/store/storetest"
)

func hmacHex(secret, msg string) string {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(msg))
	return hex.EncodeToString(mac.Sum(nil))
}

// TestVerifyQueryHMAC uses the published test vectors of reference section 1.2 (secret
// "hush").
func TestVerifyQueryHMAC(t *testing.T) {
	const (
		withState = "code=0907a61c0c8d55e99db179b68161bc00&shop=some-shop.myshopify.com&state=0.6784241404160823&timestamp=1337178173"
		wantState = "700e2dadb827fcc8609e9d5ce208b2e9cdaab9df07390d2cbca10d7c328fc4bf"
		noState   = "code=0907a61c0c8d55e99db179b68161bc00&shop=some-shop.myshopify.com&timestamp=1337178173"
		wantNo    = "4712bf92ffc2917d15a2f5a273e39f0116667419aa4b6ac0b3baaf26fa3c4d20"
	)
	secret := []byte("hush")
	for _, v := range []struct{ message, hmac string }{{withState, wantState}, {noState, wantNo}} {
		q, err := url.ParseQuery(v.message)
		if err != nil {
			t.Fatal(err)
		}
		if got := queryHMACMessage(q); got != v.message {
			t.Errorf("message = %q, want %q", got, v.message)
		}
	}

	tests := []struct {
		name  string
		query string
		ok    bool
	}{
		{"vector with state", withState + "&hmac=" + wantState, true},
		{"vector without state", noState + "&hmac=" + wantNo, true},
		{"hmac first, keys unsorted", "hmac=" + wantState + "&timestamp=1337178173&state=0.6784241404160823&shop=some-shop.myshopify.com&code=0907a61c0c8d55e99db179b68161bc00", true},
		{"upper-case hex", noState + "&hmac=" + strings.ToUpper(wantNo), true},
		{"legacy signature parameter is not signed", noState + "&signature=whatever&hmac=" + wantNo, true},
		{"hmac of the other message", noState + "&hmac=" + wantState, false},
		{"changed shop", strings.Replace(noState, "some-shop", "other-shop", 1) + "&hmac=" + wantNo, false},
		{"added parameter", noState + "&host=YWRtaW4&hmac=" + wantNo, false},
		{"dropped parameter", "code=0907a61c0c8d55e99db179b68161bc00&shop=some-shop.myshopify.com&hmac=" + wantNo, false},
		{"no hmac", noState, false},
		{"two hmacs", noState + "&hmac=" + wantNo + "&hmac=" + wantNo, false},
		{"hmac not hex", noState + "&hmac=zz" + wantNo[2:], false},
		{"hmac too short", noState + "&hmac=" + wantNo[:62], false},
		{"malformed query", noState + "&hmac=" + wantNo + "&%zz", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := VerifyQueryHMAC(secret, tt.query)
			if tt.ok && err != nil {
				t.Fatalf("VerifyQueryHMAC = %v, want nil", err)
			}
			if !tt.ok && !errors.Is(err, ErrQuerySignature) {
				t.Fatalf("VerifyQueryHMAC = %v, want ErrQuerySignature", err)
			}
		})
	}
	if err := VerifyQueryHMAC([]byte("not-hush"), noState+"&hmac="+wantNo); !errors.Is(err, ErrQuerySignature) {
		t.Errorf("wrong secret: %v, want ErrQuerySignature", err)
	}
	if err := VerifyQueryHMAC(nil, noState+"&hmac="+wantNo); !errors.Is(err, ErrQuerySignature) {
		t.Errorf("empty secret: %v, want ErrQuerySignature", err)
	}

	// Spaces are signed as %20, not "+"; values with reserved characters are encoded.
	q := url.Values{"shop": {"some-shop.myshopify.com"}, "locale": {"en GB"}, "host": {"YWRtaW4+/x=="}, "timestamp": {"1"}}
	msg := queryHMACMessage(q)
	if want := "host=YWRtaW4%2B%2Fx%3D%3D&locale=en%20GB&shop=some-shop.myshopify.com&timestamp=1"; msg != want {
		t.Errorf("message = %q, want %q", msg, want)
	}
	if err := VerifyQueryHMAC(secret, msg+"&hmac="+hmacHex("hush", msg)); err != nil {
		t.Errorf("own signature with encoded values: %v", err)
	}
}

// startInstall runs GET /auth for shop and returns the state and the state cookie.
func startInstall(t *testing.T, env *authEnv, shop string) (state string, cookie *http.Cookie) {
	t.Helper()
	resp, body := env.get(t, "/auth?shop="+url.QueryEscape(shop), nil)
	if resp.StatusCode != http.StatusFound {
		t.Fatalf("GET /auth: %d %s", resp.StatusCode, body)
	}
	loc, err := url.Parse(resp.Header.Get("Location"))
	if err != nil {
		t.Fatal(err)
	}
	state = loc.Query().Get("state")
	for _, c := range resp.Cookies() {
		if c.Name == stateCookieName {
			cookie = c
		}
	}
	if cookie == nil {
		t.Fatalf("GET /auth set no %s cookie", stateCookieName)
	}
	return state, cookie
}

// callbackQuery is what the platform sends to the callback after approval, signed.
func callbackQuery(env *authEnv, shop, code, state string, at time.Time) string {
	return signedQuery(testAppSecret, url.Values{
		"code": {code}, "host": {"YWRtaW4ucmVndWxhcnMudGVzdC9zdG9yZS9zaG9wLWE"}, "shop": {shop},
		"state": {state}, "timestamp": {unixParam(at)},
	})
}

func withCookie(c *http.Cookie) http.Header {
	return http.Header{"Cookie": {c.Name + "=" + c.Value}}
}

func TestInstallByAuthorizationCode(t *testing.T) {
	ctx := context.Background()
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		env := newAuthEnv(t, st)

		// 1. /auth sends the merchant to the authorize page with a signed state cookie.
		resp, body := env.get(t, "/auth?shop=Shop-A.myshopify.com", nil)
		if resp.StatusCode != http.StatusFound {
			t.Fatalf("GET /auth: %d %s", resp.StatusCode, body)
		}
		loc, err := url.Parse(resp.Header.Get("Location"))
		if err != nil {
			t.Fatal(err)
		}
		if base := loc.Scheme + "://" + loc.Host + loc.Path; base != env.platform.URL()+"/shops/"+shopA+"/admin/oauth/authorize" {
			t.Errorf("authorize URL %s, want the stand-in's authorize page of %s", base, shopA)
		}
		q := loc.Query()
		if q.Get("client_id") != testClientID || q.Get("scope") != DefaultScopes ||
			q.Get("redirect_uri") != testAppURL+"/auth/callback" || q.Has("grant_options[]") {
			t.Errorf("authorize query = %v", q)
		}
		state := q.Get("state")
		if !regexp.MustCompile(`^[0-9a-f]{64}$`).MatchString(state) {
			t.Errorf("state %q is not 32 random bytes in hex", state)
		}
		setCookie := resp.Header.Get("Set-Cookie")
		for _, want := range []string{stateCookieName + "=" + state + "|", "path=/auth", "max-age=600", "HttpOnly", "secure", "SameSite=Lax"} {
			if !strings.Contains(strings.ToLower(setCookie), strings.ToLower(want)) {
				t.Errorf("Set-Cookie %q lacks %q", setCookie, want)
			}
		}
		cookie := resp.Cookies()[0]

		// 2. The platform redirects back, signed; the app exchanges the code and stores the
		// tokens encrypted, runs the install work and opens the app in the admin.
		env.clock.Add(30 * time.Second)
		code := env.platform.issueCode(shopA)
		resp, body = env.get(t, "/auth/callback?"+callbackQuery(env, shopA, code, state, env.clock.Now()), withCookie(cookie))
		if resp.StatusCode != http.StatusFound {
			t.Fatalf("callback: %d %s", resp.StatusCode, body)
		}
		if got, want := resp.Header.Get("Location"), env.platform.URL()+"/shops/"+shopA+"/admin/apps/regulars"; got != want {
			t.Errorf("callback redirects to %q, want %q", got, want)
		}
		if !strings.Contains(resp.Header.Get("Set-Cookie"), "max-age=0") && !strings.Contains(strings.ToLower(resp.Header.Get("Set-Cookie")), "expires=thu, 01 jan 1970") {
			t.Errorf("the state cookie is not cleared: %q", resp.Header.Get("Set-Cookie"))
		}
		if n := env.platform.count("code"); n != 1 {
			t.Errorf("code grants = %d, want 1", n)
		}
		rec, err := st.GetTokens(ctx, shopA)
		if err != nil {
			t.Fatal(err)
		}
		access := env.platform.accessToken(shopA)
		if strings.Contains(string(rec.AccessCiphertext), access) {
			t.Error("the access token is stored in the clear")
		}
		if plain, err := env.cipher.Open(shopA, fieldAccessToken, rec.AccessCiphertext); err != nil || string(plain) != access {
			t.Errorf("stored access token opens to %q, %v; want %q", plain, err, access)
		}
		if !rec.AccessExpiresAt.Equal(env.clock.Now().Add(time.Hour)) || !rec.RefreshExpiresAt.Equal(env.clock.Now().Add(90*24*time.Hour)) ||
			rec.Scopes != DefaultScopes {
			t.Errorf("stored tokens = %+v", rec)
		}
		if shop, err := st.GetShop(ctx, shopA); err != nil || shop.UninstalledAt != nil {
			t.Errorf("shop after install = %+v, %v", shop, err)
		}
		if got := env.hooks.installed(); len(got) != 1 || got[0] != shopA {
			t.Errorf("install hook calls = %v, want [%s]", got, shopA)
		}
		if tok, err := env.tokens.AccessToken(ctx, shopA); err != nil || tok != access {
			t.Errorf("AccessToken = %q, %v; want %q", tok, err, access)
		}

		// The state is single use: replaying the callback fails without the cookie.
		resp, _ = env.get(t, "/auth/callback?"+callbackQuery(env, shopA, env.platform.issueCode(shopA), state, env.clock.Now()), nil)
		if resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("replayed callback without the cookie: %d, want 401", resp.StatusCode)
		}
	})
}

func TestAuthCallbackRefusals(t *testing.T) {
	ctx := context.Background()
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		env := newAuthEnv(t, st)
		tests := []struct {
			name       string
			shop       string
			setup      func()             // before the callback
			query      func(q url.Values) // edits the signed parameters before signing
			tamper     func(raw string) string
			noCookie   bool
			wantStatus int
			wantError  string
		}{
			{name: "malformed shop", shop: "evil.example.com", wantStatus: 400, wantError: "shop must be"},
			{name: "wrong hmac", tamper: func(raw string) string { return strings.Replace(raw, "code=", "code=x", 1) },
				wantStatus: 401, wantError: "missing or invalid request signature"},
			{name: "no hmac", tamper: func(raw string) string { return regexp.MustCompile(`&?hmac=[0-9a-f]+`).ReplaceAllString(raw, "") },
				wantStatus: 401, wantError: "request signature"},
			{name: "timestamp too old", query: func(q url.Values) { q.Set("timestamp", unixParam(env.clock.Now().Add(-91*time.Second))) },
				wantStatus: 401, wantError: "request signature"},
			{name: "timestamp in the future", query: func(q url.Values) { q.Set("timestamp", unixParam(env.clock.Now().Add(91*time.Second))) },
				wantStatus: 401, wantError: "request signature"},
			{name: "timestamp not a number", query: func(q url.Values) { q.Set("timestamp", "yesterday") },
				wantStatus: 401, wantError: "request signature"},
			{name: "state differs from the cookie", query: func(q url.Values) { q.Set("state", strings.Repeat("0", 64)) },
				wantStatus: 401, wantError: "missing or invalid OAuth state"},
			{name: "no state cookie", noCookie: true, wantStatus: 401, wantError: "OAuth state"},
			{name: "state cookie expired", setup: func() { env.clock.Add(stateTTL) }, wantStatus: 401, wantError: "OAuth state"},
			{name: "code refused by the platform", query: func(q url.Values) { q.Set("code", "never-issued") },
				wantStatus: 400, wantError: "the platform refused the authorization"},
			{name: "scopes not granted", setup: func() { env.platform.setScope("read_orders,read_products") },
				wantStatus: 403, wantError: "missing read_all_orders, write_orders, read_customers, read_discounts, write_discounts, write_payment_customizations"},
		}
		for i, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				shop := tt.shop
				if shop == "" {
					shop = "case-" + string(rune('a'+i)) + ".myshopify.com"
				}
				state, cookie := startInstall(t, env, "case-"+string(rune('a'+i))+".myshopify.com")
				t.Cleanup(func() { env.platform.setScope(DefaultScopes) })
				if tt.setup != nil {
					tt.setup()
				}
				q := url.Values{
					"code": {env.platform.issueCode(shop)}, "shop": {shop}, "state": {state},
					"timestamp": {unixParam(env.clock.Now())}, "host": {"YWRtaW4"},
				}
				if tt.query != nil {
					tt.query(q)
				}
				raw := signedQuery(testAppSecret, q)
				if tt.tamper != nil {
					raw = tt.tamper(raw)
				}
				header := withCookie(cookie)
				if tt.noCookie {
					header = nil
				}
				resp, body := env.get(t, "/auth/callback?"+raw, header)
				if resp.StatusCode != tt.wantStatus || !strings.Contains(string(body), tt.wantError) {
					t.Fatalf("callback = %d %s; want %d with %q", resp.StatusCode, body, tt.wantStatus, tt.wantError)
				}
				if _, err := st.GetTokens(ctx, shop); !errors.Is(err, store.ErrNotFound) {
					t.Errorf("tokens stored after a refused callback: %v", err)
				}
				if _, err := st.GetShop(ctx, shop); !errors.Is(err, store.ErrNotFound) {
					t.Errorf("shop stored after a refused callback: %v", err)
				}
			})
		}
		if got := env.hooks.installed(); len(got) != 0 {
			t.Errorf("install hook called for refused callbacks: %v", got)
		}
		if logs := env.logs.String(); strings.Contains(logs, "shpat_") || strings.Contains(logs, testAppSecret) {
			t.Errorf("logs hold a token or the secret:\n%s", logs)
		}
	})
}

func TestAuthRejectsBadShops(t *testing.T) {
	env := newAuthEnv(t, storetest.SQLite(t))
	for _, shop := range []string{
		"", "shop", "shop.example.com", "https://shop-a.myshopify.com", "shop-a.myshopify.com/admin",
		"shop-a.myshopify.com.evil.com", "evil.com#shop-a.myshopify.com", "-shop.myshopify.com", "shop_a.myshopify.com",
		"shop-a.myshopify.com\n", " shop-a.myshopify.com", "shop-a.myshopify.com:443", "shop-a.MYSHOPIFY.com.example",
	} {
		resp, body := env.get(t, "/auth?shop="+url.QueryEscape(shop), nil)
		if resp.StatusCode != http.StatusBadRequest || resp.Header.Get("Location") != "" {
			t.Errorf("GET /auth?shop=%q: %d %s (Location %q); want 400", shop, resp.StatusCode, body, resp.Header.Get("Location"))
		}
	}
	// Upper case is accepted and lower-cased.
	if resp, _ := env.get(t, "/auth?shop=SHOP-A.MYSHOPIFY.COM", nil); resp.StatusCode != http.StatusFound ||
		!strings.Contains(resp.Header.Get("Location"), "/shops/"+shopA+"/") {
		t.Errorf("upper-case shop: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
}

func TestStateCookie(t *testing.T) {
	now := testNow()
	secret := []byte("current")
	signed := signState(secret, "abc", now.Add(stateTTL))
	if got, err := openState([][]byte{secret}, signed, now); err != nil || got != "abc" {
		t.Fatalf("openState = %q, %v", got, err)
	}
	if got, err := openState([][]byte{[]byte("next"), secret}, signed, now); err != nil || got != "abc" {
		t.Errorf("openState during a secret rotation = %q, %v", got, err)
	}
	refused := map[string]string{
		"expired":          signed,
		"other secret":     signState([]byte("other"), "abc", now.Add(stateTTL)),
		"changed state":    strings.Replace(signed, "abc", "abd", 1),
		"changed expiry":   signState(secret, "abc", now.Add(stateTTL)) + "0",
		"empty":            "",
		"missing parts":    "abc|123",
		"signature as hex": "abc|123|zz",
	}
	for name, cookie := range refused {
		at := now
		if name == "expired" {
			at = now.Add(stateTTL)
		}
		if got, err := openState([][]byte{secret}, cookie, at); err == nil {
			t.Errorf("%s: openState = %q, want an error", name, got)
		}
	}
}

func TestProductionURLs(t *testing.T) {
	cfg := Config{ClientID: "abc123"}
	if got, want := embeddedAdminURL(cfg, "shop-a.myshopify.com"), "https://admin.shopify.com/store/shop-a/apps/abc123"; got != want {
		t.Errorf("embeddedAdminURL = %q, want %q", got, want)
	}
	if got := adminOrigin(cfg); got != "https://admin.shopify.com" {
		t.Errorf("adminOrigin = %q", got)
	}
	cfg.PlatformURL = "http://127.0.0.1:8081/base"
	if got := adminOrigin(cfg); got != "http://127.0.0.1:8081" {
		t.Errorf("adminOrigin of the stand-in = %q", got)
	}
}
