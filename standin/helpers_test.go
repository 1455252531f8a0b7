package standin

import (
	"bytes"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"
)

// testClock is a settable clock, safe for the server's goroutines.
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *testClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

type harness struct {
	t     *testing.T
	srv   *Server
	ts    *httptest.Server
	clock *testClock
}

// newHarness starts a stand-in on a frozen clock with immediate async jobs and fast webhook
// retries, on the shared schemas; mod adjusts the configuration.
func newHarness(t *testing.T, sc *Schemas, mod func(*Config)) *harness {
	t.Helper()
	clock := &testClock{t: time.Date(2026, 3, 14, 12, 0, 0, 0, time.UTC)}
	cfg := Config{
		Root:           "..",
		Schemas:        sc,
		Now:            clock.Now,
		Logger:         slog.New(slog.NewTextHandler(io.Discard, nil)),
		AsyncDelay:     -1,
		WebhookBackoff: 5 * time.Millisecond,
		WebhookRetries: 3,
	}
	if mod != nil {
		mod(&cfg)
	}
	srv, err := New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	ts := httptest.NewServer(srv.Handler())
	t.Cleanup(func() {
		ts.Close()
		srv.Close()
	})
	return &harness{t: t, srv: srv, ts: ts, clock: clock}
}

func (h *harness) shopURL(path string) string {
	return h.ts.URL + "/shops/" + DemoShop + path
}

// noRedirect is a client that returns redirects instead of following them.
func noRedirect() *http.Client {
	return &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

// authorize approves the install (auto=1) and returns the callback's query.
func (h *harness) authorize(scope string) url.Values {
	h.t.Helper()
	q := url.Values{
		"client_id": {h.srv.cfg.ClientID}, "scope": {scope}, "state": {"nonce-123"},
		"redirect_uri": {h.srv.cfg.AppURL + "/auth/callback"}, "auto": {"1"},
	}
	resp, err := noRedirect().Get(h.shopURL("/admin/oauth/authorize?" + q.Encode()))
	if err != nil {
		h.t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusFound {
		h.t.Fatalf("authorize: status %d", resp.StatusCode)
	}
	loc, err := url.Parse(resp.Header.Get("Location"))
	if err != nil {
		h.t.Fatal(err)
	}
	return loc.Query()
}

// postForm posts a form to the token endpoint and decodes the JSON answer.
func (h *harness) token(form url.Values) (int, map[string]any) {
	h.t.Helper()
	resp, err := http.PostForm(h.shopURL("/admin/oauth/access_token"), form)
	if err != nil {
		h.t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		h.t.Fatalf("token answer: %v", err)
	}
	return resp.StatusCode, out
}

func (h *harness) clientForm(extra url.Values) url.Values {
	f := url.Values{"client_id": {h.srv.cfg.ClientID}, "client_secret": {h.srv.cfg.ClientSecret}}
	for k, v := range extra {
		f[k] = v
	}
	return f
}

// install runs the code grant and returns the token answer.
func (h *harness) install(scope string) map[string]any {
	h.t.Helper()
	cb := h.authorize(scope)
	status, out := h.token(h.clientForm(url.Values{"code": {cb.Get("code")}, "expiring": {"1"}}))
	if status != http.StatusOK {
		h.t.Fatalf("token: %d %v", status, out)
	}
	return out
}

func (h *harness) installToken() string {
	return h.install(DefaultScopes)["access_token"].(string)
}

// gql posts a GraphQL request and decodes the answer.
func (h *harness) gql(token, query string, vars map[string]any) (int, map[string]any) {
	h.t.Helper()
	body, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	req, _ := http.NewRequest(http.MethodPost, h.shopURL("/admin/api/2025-10/graphql.json"), bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("X-Shopify-Access-Token", token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var out map[string]any
	if err := json.Unmarshal(raw, &out); err != nil {
		h.t.Fatalf("graphql answer %q: %v", raw, err)
	}
	return resp.StatusCode, out
}

// mustData runs a request that must succeed without errors and returns its data.
func (h *harness) mustData(token, query string, vars map[string]any) map[string]any {
	h.t.Helper()
	status, out := h.gql(token, query, vars)
	if status != http.StatusOK || out["errors"] != nil {
		h.t.Fatalf("graphql: status %d, errors %v", status, out["errors"])
	}
	return out["data"].(map[string]any)
}

// dig walks a decoded JSON value: keys for objects, ints for arrays.
func dig(v any, path ...any) any {
	for _, p := range path {
		switch k := p.(type) {
		case string:
			m, ok := v.(map[string]any)
			if !ok {
				return nil
			}
			v = m[k]
		case int:
			l, ok := v.([]any)
			if !ok || k >= len(l) {
				return nil
			}
			v = l[k]
		}
	}
	return v
}

func getPage(t *testing.T, u string) (int, string) {
	t.Helper()
	resp, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func mustContain(t *testing.T, s string, parts ...string) {
	t.Helper()
	for _, p := range parts {
		if !strings.Contains(s, p) {
			t.Errorf("missing %q", p)
		}
	}
}

// TestStandin runs the stand-in's server tests as subtests, in parallel, on schemas loaded
// once (the Admin schema is 3 MB; loading it per test would dominate the run).
func TestStandin(t *testing.T) {
	sc, err := LoadSchemas("..")
	if err != nil {
		t.Fatalf("LoadSchemas: %v", err)
	}
	for _, tc := range []struct {
		name string
		run  func(*testing.T, *Schemas)
	}{
		{"BulkOperationJSONL", testBulkOperationJSONL},
		{"BulkOperationWithoutResults", testBulkOperationWithoutResults},
		{"WebhookDeliverySignedWithRetry", testWebhookDeliverySignedWithRetry},
		{"UninstallSendsAppUninstalled", testUninstallSendsAppUninstalled},
		{"CheckoutFunctionInput", testCheckoutFunctionInput},
		{"CheckoutEndToEnd", testCheckoutEndToEnd},
		{"CheckoutFunctionTimeout", testCheckoutFunctionTimeout},
		{"PaymentCustomizationMutations", testPaymentCustomizationMutations},
		{"CheckoutHidesPaymentMethods", testCheckoutHidesPaymentMethods},
		{"PagesRender", testPagesRender},
		{"AdminOrderActionsSendWebhooks", testAdminOrderActionsSendWebhooks},
		{"GraphQLValidQuery", testGraphQLValidQuery},
		{"GraphQLResponseKeepsSelectionOrder", testGraphQLResponseKeepsSelectionOrder},
		{"GraphQLInvalidQuery", testGraphQLInvalidQuery},
		{"GraphQLNeedsToken", testGraphQLNeedsToken},
		{"GraphQLThrottled", testGraphQLThrottled},
		{"GraphQLScopes", testGraphQLScopes},
		{"GraphQLNodeAndUnions", testGraphQLNodeAndUnions},
		{"DiscountCodeAppMutations", testDiscountCodeAppMutations},
		{"DiscountAutomaticAppMutations", testDiscountAutomaticAppMutations},
		{"RedeemCodeBulkAdd", testRedeemCodeBulkAdd},
		{"WebhookSubscriptionAndTagsAdd", testWebhookSubscriptionAndTagsAdd},
		{"AuthorizeValidatesClientAndRedirect", testAuthorizeValidatesClientAndRedirect},
		{"OAuthCodeFlow", testOAuthCodeFlow},
		{"TokenExchange", testTokenExchange},
		{"RefreshRotation", testRefreshRotation},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.run(t, sc)
		})
	}
}
