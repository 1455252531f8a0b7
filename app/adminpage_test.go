package app

import (
	"context"
	"encoding/json"
	"io/fs"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/regularsapp/regulars/store"
	"github.com/regularsapp/regulars/store/storetest"
	"github.com/regularsapp/regulars/web"
)

// The admin UI's shell: App Bridge injected first, the shop's currency, the frame-ancestors
// policy, never cached; client routes fall back to it.
func TestAppShell(t *testing.T) {
	st := storetest.SQLite(t)
	if _, err := st.UpsertShop(context.Background(), store.Shop{Domain: shopA, Currency: "EUR", Timezone: "Europe/Paris"}); err != nil {
		t.Fatal(err)
	}
	env := adminOnlyEnv(t, st)
	token := mintIDToken(t, testAppSecret, shopA, env.clock.Now())
	const standIn = "frame-ancestors https://" + shopA + " http://127.0.0.1:8081;"

	for _, target := range []string{
		"/app?embedded=1&shop=" + shopA + "&id_token=" + token,
		"/app/?id_token=" + token,
		"/app/offers/123?id_token=" + token,
		"/app/segments/new?id_token=" + token,
		"/app/some/unknown/page?id_token=" + token,
	} {
		t.Run(target[:strings.IndexByte(target, '?')], func(t *testing.T) {
			resp, body := env.get(t, target, nil)
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("GET %s: %d %s", target, resp.StatusCode, body)
			}
			if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/html") {
				t.Errorf("Content-Type = %q", ct)
			}
			if got := resp.Header.Get("Cache-Control"); got != "no-store" {
				t.Errorf("Cache-Control = %q, want no-store", got)
			}
			if got := resp.Header.Get("Content-Security-Policy"); got != standIn {
				t.Errorf("Content-Security-Policy = %q, want %q", got, standIn)
			}
			page := string(body)
			for _, want := range []string{
				`<meta name="shopify-api-key" content="` + testClientID + `" />`,
				`<script src="http://127.0.0.1:8081/app-bridge.js" data-api-key="` + testClientID + `"></script>`,
				`<meta name="regulars-shop" content="` + shopA + `" />`,
				`<meta name="regulars-currency" content="EUR" />`,
				`<div id="root"></div>`,
			} {
				if !strings.Contains(page, want) {
					t.Errorf("page lacks %s:\n%s", want, page)
				}
			}
			if strings.Contains(page, web.AppBridgePlaceholder) {
				t.Errorf("the placeholder is still in the page")
			}
			// App Bridge is the first script, before the UI's module script.
			bridge := strings.Index(page, `<script src="http://127.0.0.1:8081/app-bridge.js"`)
			if first := strings.Index(page, "<script"); first != bridge {
				t.Errorf("the first script is at %d, App Bridge at %d:\n%s", first, bridge, page)
			}
			module := strings.Index(page, `<script type="module"`)
			if module < 0 || module < bridge {
				t.Errorf("module script at %d, App Bridge at %d", module, bridge)
			}
		})
	}

	// Without a proof of the shop: framing refused, no shop or currency given.
	resp, body := env.get(t, "/app/offers?shop="+shopA, nil)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /app/offers: %d", resp.StatusCode)
	}
	if got := resp.Header.Get("Content-Security-Policy"); got != "frame-ancestors 'none';" {
		t.Errorf("unproven shop: Content-Security-Policy = %q", got)
	}
	if !strings.Contains(string(body), `<meta name="regulars-shop" content="" />`) ||
		!strings.Contains(string(body), `<meta name="regulars-currency" content="" />`) {
		t.Errorf("unproven shop: page names a shop or currency:\n%s", body)
	}

	// On the real platform: the platform's App Bridge and admin.
	prod := adminOnlyEnv(t, st, func(c *Config) { c.PlatformURL = "" })
	resp, body = prod.get(t, "/app/analytics?id_token="+mintIDToken(t, testAppSecret, shopA, prod.clock.Now()), nil)
	if got, want := resp.Header.Get("Content-Security-Policy"), "frame-ancestors https://"+shopA+" https://admin.shopify.com;"; got != want {
		t.Errorf("Content-Security-Policy = %q, want %q", got, want)
	}
	if !strings.Contains(string(body), `<script src="`+appBridgeCDN+`" data-api-key="`+testClientID+`"></script>`) {
		t.Errorf("page does not load the platform's App Bridge:\n%s", body)
	}
}

// The shell's assets: served with a year's cache, by their hashed names; a missing one is a
// JSON 404, not the shell.
func TestAppAssets(t *testing.T) {
	env := adminOnlyEnv(t, storetest.SQLite(t))
	_, shell := env.get(t, "/app", nil)
	refs := regexp.MustCompile(`(?:src|href)="(/app/assets/[^"]+)"`).FindAllStringSubmatch(string(shell), -1)
	if len(refs) < 2 {
		t.Fatalf("the shell references %d assets, want the script and the stylesheet:\n%s", len(refs), shell)
	}
	for _, ref := range refs {
		resp, body := env.get(t, ref[1], nil)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("GET %s: %d", ref[1], resp.StatusCode)
		}
		if got := resp.Header.Get("Cache-Control"); got != "public, max-age=31536000, immutable" {
			t.Errorf("%s: Cache-Control = %q", ref[1], got)
		}
		want, err := fs.ReadFile(web.Admin, strings.TrimPrefix(ref[1], "/app/"))
		if err != nil || string(body) != string(want) {
			t.Errorf("%s: body differs from the build (%v)", ref[1], err)
		}
		ct := resp.Header.Get("Content-Type")
		switch {
		case strings.HasSuffix(ref[1], ".js") && !strings.Contains(ct, "javascript"),
			strings.HasSuffix(ref[1], ".css") && !strings.HasPrefix(ct, "text/css"):
			t.Errorf("%s: Content-Type = %q", ref[1], ct)
		}
	}
	for _, missing := range []string{"/app/assets/x.js", "/app/assets/../index.html", "/app/assets/"} {
		resp, body := env.get(t, missing, nil)
		if resp.StatusCode != http.StatusNotFound {
			t.Errorf("GET %s: %d, want 404", missing, resp.StatusCode)
			continue
		}
		assertShellJSONError(t, missing, resp, body)
	}
}

// Unknown admin API paths are a JSON 404 with a valid ID token; without one the request is
// refused first, in JSON too, asking App Bridge for a fresh token.
func TestAPINotFound(t *testing.T) {
	env := adminOnlyEnv(t, storetest.SQLite(t))
	token := mintIDToken(t, testAppSecret, shopA, env.clock.Now())
	for _, path := range []string{"/api/nope", "/api/offers/o1/nope", "/api/", "/api/app"} {
		resp, body := env.get(t, path, bearerHeader(token))
		if resp.StatusCode != http.StatusNotFound {
			t.Errorf("GET %s with the ID token: %d %s, want 404", path, resp.StatusCode, body)
			continue
		}
		assertShellJSONError(t, path, resp, body)
		if strings.Contains(string(body), "<html") {
			t.Errorf("GET %s: answered the app shell", path)
		}

		resp, body = env.get(t, path, nil)
		if resp.StatusCode != http.StatusUnauthorized || resp.Header.Get(headerRetryInvalidSession) != "1" {
			t.Errorf("GET %s without a token: %d (retry header %q), want 401 with the retry header",
				path, resp.StatusCode, resp.Header.Get(headerRetryInvalidSession))
		}
		assertShellJSONError(t, path, resp, body)
	}
	// Other methods too.
	resp, body := env.do(t, http.MethodPost, "/api/nope", token, []byte(`{}`))
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("POST /api/nope: %d %s", resp.StatusCode, body)
	}
}

// The build's index.html must keep the placeholder before any script.
func TestLoadAppShell(t *testing.T) {
	if _, err := loadAppShell(web.Admin); err != nil {
		t.Fatalf("the committed build: %v", err)
	}
	for name, index := range map[string]string{
		"no placeholder":          `<html><head><script type="module" src="/app/assets/a.js"></script></head></html>`,
		"script before it":        `<html><head><script src="x.js"></script>` + web.AppBridgePlaceholder + `</head></html>`,
		"no index.html (missing)": "",
	} {
		fsys := fstest.MapFS{}
		if index != "" {
			fsys["index.html"] = &fstest.MapFile{Data: []byte(index)}
		}
		if _, err := loadAppShell(fsys); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

func assertShellJSONError(t *testing.T, what string, resp *http.Response, body []byte) {
	t.Helper()
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("%s: Content-Type = %q, want JSON", what, ct)
	}
	var e struct {
		Error string `json:"error"`
	}
	if err := json.Unmarshal(body, &e); err != nil || e.Error == "" {
		t.Errorf("%s: body %s is not {\"error\": ...} (%v)", what, body, err)
	}
}
