package app

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/regularsapp/regulars/standin"
	"github.com/regularsapp/regulars/store"
	"github.com/regularsapp/regulars/store/storetest"
)

// TestInstallAgainstStandIn runs the whole install against the platform stand-in: /auth, the
// stand-in's authorize page (approved at once), the signed callback, the code exchanged at the
// stand-in's token endpoint, and the stored token used on its Admin GraphQL API; then an
// embedded load whose tokens are gone (token exchange), and a refresh.
func TestInstallAgainstStandIn(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		const appURL = "http://regulars-app.test" // requests to it go through app.Test
		shop := standin.DemoShop
		platform, err := standin.New(standin.Config{
			AppURL: appURL, ClientID: testClientID, ClientSecret: testAppSecret, Root: "..",
			Logger: slog.New(slog.DiscardHandler), WebhookRetries: -1,
		})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(platform.Close)
		platformSrv := httptest.NewServer(platform.Handler())
		t.Cleanup(platformSrv.Close)

		cfg := authConfig(platformSrv.URL)
		cfg.AppURL = appURL
		cipher, err := NewTokenCipher(cfg.TokenKey)
		if err != nil {
			t.Fatal(err)
		}
		// The token service's clock can be moved ahead to make it refresh; the platform and
		// the server keep the real time, so the query HMAC's timestamp and ID tokens verify.
		tokenClock := &manualClock{now: time.Now()}
		tokens := NewTokens(cfg, st, cipher, newPlatformClient(), tokenClock.Now)
		hooks := &recordingHooks{}
		srv := New(cfg, Deps{Store: st, Tokens: tokens, Installer: hooks, OfferSync: hooks})
		do := func(target string, header http.Header) *http.Response {
			t.Helper()
			req := httptest.NewRequest(http.MethodGet, target, nil)
			for k, vs := range header {
				req.Header[k] = vs
			}
			resp, err := srv.App().Test(req, -1)
			if err != nil {
				t.Fatal(err)
			}
			return resp
		}
		noRedirects := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

		// /auth → the stand-in's authorize page, approved at once.
		resp := do("/auth?shop="+shop, nil)
		if resp.StatusCode != http.StatusFound {
			t.Fatalf("GET /auth: %d", resp.StatusCode)
		}
		authorize := resp.Header.Get("Location")
		if !strings.HasPrefix(authorize, platformSrv.URL+"/shops/"+shop+"/admin/oauth/authorize?") {
			t.Fatalf("authorize URL %s", authorize)
		}
		var cookie *http.Cookie
		for _, c := range resp.Cookies() {
			if c.Name == stateCookieName {
				cookie = c
			}
		}
		approved, err := noRedirects.Get(authorize + "&auto=1")
		if err != nil {
			t.Fatal(err)
		}
		approved.Body.Close()
		callback, err := url.Parse(approved.Header.Get("Location"))
		if err != nil || approved.StatusCode != http.StatusFound || !strings.HasPrefix(callback.String(), appURL+"/auth/callback?") {
			t.Fatalf("the stand-in answered %d, Location %q", approved.StatusCode, approved.Header.Get("Location"))
		}

		// The signed callback: tokens exchanged and stored, the install hook run.
		resp = do(callback.RequestURI(), withCookie(cookie))
		if resp.StatusCode != http.StatusFound || resp.Header.Get("Location") != platformSrv.URL+"/shops/"+shop+"/admin/apps/regulars" {
			t.Fatalf("callback: %d, Location %q", resp.StatusCode, resp.Header.Get("Location"))
		}
		if got := hooks.installed(); len(got) != 1 || got[0] != shop {
			t.Errorf("install hook calls = %v", got)
		}
		access, err := tokens.AccessToken(ctx, shop)
		if err != nil {
			t.Fatal(err)
		}
		assertAdminAPIWorks(t, platformSrv.URL, shop, access)

		// An embedded load with the stand-in's ID token: the stored tokens serve it.
		idToken, err := standin.MintIDToken([]byte(testAppSecret), testClientID, shop, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		if resp := do("/api/offers", bearerHeader(idToken)); resp.StatusCode != http.StatusOK {
			t.Fatalf("GET /api/offers: %d", resp.StatusCode)
		}
		// With the tokens gone, the ID token is exchanged for new ones at the stand-in.
		if err := st.DeleteTokens(ctx, shop); err != nil {
			t.Fatal(err)
		}
		if resp := do("/api/offers", bearerHeader(idToken)); resp.StatusCode != http.StatusOK {
			t.Fatalf("GET /api/offers after the tokens were deleted: %d", resp.StatusCode)
		}
		exchanged, err := tokens.AccessToken(ctx, shop)
		if err != nil || exchanged == access {
			t.Fatalf("AccessToken after the exchange = %q, %v; want a new token", exchanged, err)
		}
		assertAdminAPIWorks(t, platformSrv.URL, shop, exchanged)

		// Five minutes before expiry (by the token service's clock): refreshed at the stand-in.
		tokenClock.Add(56 * time.Minute)
		refreshed, err := tokens.AccessToken(ctx, shop)
		if err != nil || refreshed == exchanged {
			t.Fatalf("AccessToken near expiry = %q, %v; want a refreshed token", refreshed, err)
		}
		assertAdminAPIWorks(t, platformSrv.URL, shop, refreshed)

		// Uninstalled (app/uninstalled processed): no token any more.
		if err := st.MarkUninstalled(ctx, shop, time.Time{}); err != nil {
			t.Fatal(err)
		}
		if _, err := tokens.AccessToken(ctx, shop); !errors.Is(err, ErrNotInstalled) {
			t.Errorf("AccessToken after uninstall = %v, want ErrNotInstalled", err)
		}
	})
}

// assertAdminAPIWorks queries the stand-in's Admin GraphQL API with token.
func assertAdminAPIWorks(t *testing.T, base, shop, token string) {
	t.Helper()
	body, _ := json.Marshal(map[string]string{"query": "{ shop { name } }"})
	req, err := http.NewRequest(http.MethodPost, base+"/shops/"+shop+"/admin/api/2025-10/graphql.json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Shopify-Access-Token", token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	got := readBody(t, resp)
	var answer struct {
		Data struct {
			Shop struct{ Name string }
		}
		Errors json.RawMessage
	}
	if resp.StatusCode != http.StatusOK || json.Unmarshal(got, &answer) != nil || answer.Data.Shop.Name == "" || len(answer.Errors) > 0 {
		t.Fatalf("Admin API with the stored token: %d %s", resp.StatusCode, got)
	}
}
