package standin

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"go/ast"
	"go/parser"
	"go/token"
	"net/http"
	"net/url"
	"strconv"
	"testing"
	"time"
)

// The published test vectors of the query HMAC (reference 1.2), secret "hush".
func TestSignQueryPublishedVectors(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		query, want string
	}{
		{"code=0907a61c0c8d55e99db179b68161bc00&shop=some-shop.myshopify.com&state=0.6784241404160823&timestamp=1337178173",
			"700e2dadb827fcc8609e9d5ce208b2e9cdaab9df07390d2cbca10d7c328fc4bf"},
		{"code=0907a61c0c8d55e99db179b68161bc00&shop=some-shop.myshopify.com&timestamp=1337178173",
			"4712bf92ffc2917d15a2f5a273e39f0116667419aa4b6ac0b3baaf26fa3c4d20"},
	} {
		q, err := url.ParseQuery(tc.query)
		if err != nil {
			t.Fatal(err)
		}
		// The hmac itself (and a legacy signature) are not signed; key order does not matter.
		q.Set("hmac", "ignored")
		q.Set("signature", "ignored")
		if got := SignQuery([]byte("hush"), q); got != tc.want {
			t.Errorf("SignQuery(%s) = %s, want %s", tc.query, got, tc.want)
		}
	}
	// Spaces are signed as %20, not +.
	if got := signableQuery(url.Values{"b": {"x y"}, "a": {"1"}}); got != "a=1&b=x%20y" {
		t.Errorf("signable = %q", got)
	}
}

// The development secret is the app's: app.DevAppSecret (read from the source, because no
// package may import the composition root).
func TestDevSecretMatchesApp(t *testing.T) {
	t.Parallel()
	f, err := parser.ParseFile(token.NewFileSet(), "../app/config.go", nil, 0)
	if err != nil {
		t.Fatalf("parse app/config.go: %v", err)
	}
	found := false
	ast.Inspect(f, func(n ast.Node) bool {
		vs, ok := n.(*ast.ValueSpec)
		if !ok {
			return true
		}
		for i, name := range vs.Names {
			if name.Name == "DevAppSecret" && i < len(vs.Values) {
				lit, ok := vs.Values[i].(*ast.BasicLit)
				if !ok {
					t.Fatalf("DevAppSecret is not a string literal")
				}
				v, _ := strconv.Unquote(lit.Value)
				if v != DevClientSecret {
					t.Errorf("DevClientSecret %q, app.DevAppSecret %q", DevClientSecret, v)
				}
				found = true
			}
		}
		return true
	})
	if !found {
		t.Fatal("app.DevAppSecret not found in app/config.go")
	}
}

func testAuthorizeValidatesClientAndRedirect(t *testing.T, sc *Schemas) {
	h := newHarness(t, sc, nil)
	base := url.Values{"client_id": {DevClientID}, "scope": {"read_orders"}, "state": {"s"}, "redirect_uri": {DefaultAppURL + "/auth/callback"}}
	for name, mod := range map[string]func(url.Values){
		"client_id":    func(q url.Values) { q.Set("client_id", "someone-else") },
		"redirect_uri": func(q url.Values) { q.Set("redirect_uri", "https://evil.example/cb") },
	} {
		q := url.Values{}
		for k, v := range base {
			q[k] = v
		}
		mod(q)
		status, _ := getPage(t, h.shopURL("/admin/oauth/authorize?"+q.Encode()))
		if status != http.StatusBadRequest {
			t.Errorf("bad %s: status %d, want 400", name, status)
		}
	}
	// Without auto=1, the grant screen lists the scopes and has an Approve button.
	status, page := getPage(t, h.shopURL("/admin/oauth/authorize?"+base.Encode()))
	if status != http.StatusOK {
		t.Fatalf("grant screen: %d", status)
	}
	mustContain(t, page, "read_orders", ">Approve</button>", `name="state" value="s"`)
	// Approving with the button (POST) redirects like auto=1.
	form := url.Values{"decision": {"approve"}}
	for k, v := range base {
		form[k] = v
	}
	resp, err := noRedirect().PostForm(h.shopURL("/admin/oauth/authorize"), form)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusFound {
		t.Fatalf("approve: status %d", resp.StatusCode)
	}
}

func testOAuthCodeFlow(t *testing.T, sc *Schemas) {
	h := newHarness(t, sc, nil)
	cb := h.authorize("read_orders,write_discounts")
	for _, k := range []string{"code", "hmac", "host", "shop", "state", "timestamp"} {
		if cb.Get(k) == "" {
			t.Errorf("callback lacks %s", k)
		}
	}
	if got := SignQuery([]byte(DevClientSecret), cb); got != cb.Get("hmac") {
		t.Errorf("hmac %s, recomputed %s", cb.Get("hmac"), got)
	}
	host, err := base64.RawStdEncoding.DecodeString(cb.Get("host"))
	if err != nil || string(host) != "admin.regulars.test/store/regulars-demo" {
		t.Errorf("host %q (%v)", host, err)
	}
	if cb.Get("shop") != DemoShop || cb.Get("state") != "nonce-123" {
		t.Errorf("shop %q state %q", cb.Get("shop"), cb.Get("state"))
	}
	if ts, _ := strconv.ParseInt(cb.Get("timestamp"), 10, 64); ts != h.clock.Now().Unix() {
		t.Errorf("timestamp %d", ts)
	}

	// Wrong secret: refused.
	bad := url.Values{"client_id": {DevClientID}, "client_secret": {"nope"}, "code": {cb.Get("code")}}
	if status, out := h.token(bad); status != http.StatusUnauthorized || out["error"] != "invalid_client" {
		t.Errorf("wrong secret: %d %v", status, out)
	}
	status, out := h.token(h.clientForm(url.Values{"code": {cb.Get("code")}, "expiring": {"1"}}))
	if status != http.StatusOK {
		t.Fatalf("exchange: %d %v", status, out)
	}
	if out["scope"] != "read_orders,write_discounts" || out["expires_in"] != float64(3600) ||
		out["refresh_token_expires_in"] != float64(7776000) || out["access_token"] == "" || out["refresh_token"] == "" {
		t.Errorf("token answer %v", out)
	}
	// Single use.
	if status, out := h.token(h.clientForm(url.Values{"code": {cb.Get("code")}})); status != http.StatusBadRequest {
		t.Errorf("reused code: %d %v", status, out)
	}
	// Expires after 60 s.
	cb2 := h.authorize("read_orders")
	h.clock.Advance(61 * time.Second)
	if status, _ := h.token(h.clientForm(url.Values{"code": {cb2.Get("code")}})); status != http.StatusBadRequest {
		t.Errorf("expired code: %d", status)
	}
	// Without expiring=1 the token does not expire and has no refresh token.
	cb3 := h.authorize("read_orders")
	_, out = h.token(h.clientForm(url.Values{"code": {cb3.Get("code")}}))
	if _, ok := out["refresh_token"]; ok || out["access_token"] == nil {
		t.Errorf("non-expiring answer %v", out)
	}
}

func (h *harness) exchangeJSON(idToken string) (int, map[string]any) {
	h.t.Helper()
	body, _ := json.Marshal(map[string]any{
		"client_id": DevClientID, "client_secret": DevClientSecret, "grant_type": grantTokenExchange,
		"subject_token": idToken, "subject_token_type": tokenTypeIDToken,
		"requested_token_type": tokenTypeOfflineAccess, "expiring": "1",
	})
	resp, err := http.Post(h.shopURL("/admin/oauth/access_token"), "application/json", bytes.NewReader(body))
	if err != nil {
		h.t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&out)
	return resp.StatusCode, out
}

func testTokenExchange(t *testing.T, sc *Schemas) {
	h := newHarness(t, sc, nil)
	now := h.clock.Now()
	valid, err := MintIDToken([]byte(DevClientSecret), DevClientID, DemoShop, now)
	if err != nil {
		t.Fatal(err)
	}
	// Not installed yet: refused.
	if status, out := h.exchangeJSON(valid); status != http.StatusBadRequest || out["error"] != "invalid_subject_token" {
		t.Errorf("not installed: %d %v", status, out)
	}
	h.install(DefaultScopes)
	status, out := h.exchangeJSON(valid)
	if status != http.StatusOK || out["scope"] != DefaultScopes || out["expires_in"] != float64(3600) || out["refresh_token"] == nil {
		t.Fatalf("valid: %d %v", status, out)
	}
	token := out["access_token"].(string)
	if data := h.mustData(token, `{ shop { myshopifyDomain } }`, nil); dig(data, "shop", "myshopifyDomain") != DemoShop {
		t.Errorf("shop %v", data)
	}

	expired, _ := MintIDToken([]byte(DevClientSecret), DevClientID, DemoShop, now.Add(-2*time.Minute))
	forged, _ := MintIDToken([]byte("not-the-secret"), DevClientID, DemoShop, now)
	otherAud, _ := MintIDToken([]byte(DevClientSecret), "another-app", DemoShop, now)
	otherShop, _ := MintIDToken([]byte(DevClientSecret), DevClientID, "elsewhere.myshopify.com", now)
	for name, tok := range map[string]string{
		"expired": expired, "forged": forged, "audience": otherAud, "shop": otherShop, "garbage": "a.b.c",
	} {
		if status, out := h.exchangeJSON(tok); status != http.StatusBadRequest || out["error"] != "invalid_subject_token" {
			t.Errorf("%s: %d %v", name, status, out)
		}
	}
}

func testRefreshRotation(t *testing.T, sc *Schemas) {
	h := newHarness(t, sc, nil)
	first := h.install(DefaultScopes)
	oldAccess, oldRefresh := first["access_token"].(string), first["refresh_token"].(string)

	h.clock.Advance(50 * time.Minute)
	status, out := h.token(h.clientForm(url.Values{"grant_type": {"refresh_token"}, "refresh_token": {oldRefresh}}))
	if status != http.StatusOK {
		t.Fatalf("refresh: %d %v", status, out)
	}
	newAccess, newRefresh := out["access_token"].(string), out["refresh_token"].(string)
	if newAccess == oldAccess || newRefresh == oldRefresh || out["expires_in"] != float64(3600) {
		t.Errorf("not rotated: %v", out)
	}
	// The old refresh token is spent.
	if status, out := h.token(h.clientForm(url.Values{"grant_type": {"refresh_token"}, "refresh_token": {oldRefresh}})); status != http.StatusBadRequest || out["error"] != "invalid_grant" {
		t.Errorf("reused refresh token: %d %v", status, out)
	}
	// The old access token lives until its own expiry, then answers 401.
	if status, _ := h.gql(oldAccess, `{ shop { name } }`, nil); status != http.StatusOK {
		t.Errorf("old access token before expiry: %d", status)
	}
	h.clock.Advance(11 * time.Minute)
	if status, _ := h.gql(oldAccess, `{ shop { name } }`, nil); status != http.StatusUnauthorized {
		t.Errorf("old access token after expiry: %d", status)
	}
	if status, _ := h.gql(newAccess, `{ shop { name } }`, nil); status != http.StatusOK {
		t.Errorf("new access token: %d", status)
	}
	// A refresh token expires after 90 days.
	h.clock.Advance(91 * 24 * time.Hour)
	if status, _ := h.token(h.clientForm(url.Values{"grant_type": {"refresh_token"}, "refresh_token": {newRefresh}})); status != http.StatusBadRequest {
		t.Errorf("expired refresh token: %d", status)
	}
}
