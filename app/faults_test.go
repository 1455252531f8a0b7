package app

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/regularsapp/regulars/discountfn"
	"github.com/regularsapp/regulars/store"
	"github.com/regularsapp/regulars/store/storetest"
	"github.com/regularsapp/regulars/webhooks"
)

// Fault tests over the whole public surface (docs/RELIABILITY.md): bad bodies, bad tokens and
// other shops' ids on every route, floods of duplicate deliveries, and many concurrent orders
// on a usage-limited offer. Each runs on SQLite and PostgreSQL, through the Fiber app built
// by New with every dependency a production process has (but the platform), and checks what
// the database holds afterwards by reading every row of every table.

const (
	faultOffer   = "fault-offer"   // shop A's offer, with unique codes
	faultSegment = "fault-segment" // shop A's segment
	faultOfferB  = "b-secret-offer"
	faultSegB    = "b-secret-segment"
	// Strings of shop B's data that shop A must never see.
	faultCodeB     = "BSECRETCODE"
	faultEmailB    = "b-buyer-secret@example.com"
	faultBlockedB  = "b-blocked-secret@example.com"
	faultSegNameB  = "B Secret Segment"
	faultOrderB    = 4_400_000_001
	faultCustomerB = 4_400_000_777
)

// faultEnv is the server with the admin API, checkout from the store, webhooks and the app
// proxy, over one real store, plus a second connection that reads every table.
type faultEnv struct {
	*authEnv
	raw     *sql.DB
	dialect string
	dsn     string
	secret  []byte
}

// eachFault runs f on SQLite and on PostgreSQL (when TEST_DATABASE_URL is set).
func eachFault(t *testing.T, f func(t *testing.T, e *faultEnv)) {
	t.Helper()
	t.Run("sqlite", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "faults.db")
		f(t, newFaultEnv(t, "sqlite:"+path, "sqlite", path))
	})
	t.Run("postgres", func(t *testing.T) {
		dsn := storetest.NewPostgresDSN(t)
		f(t, newFaultEnv(t, dsn, "pgx", dsn))
	})
}

func newFaultEnv(t *testing.T, dsn, driver, rawDSN string) *faultEnv {
	t.Helper()
	st := storetest.OpenMigrated(t, dsn)
	raw, err := sql.Open(driver, rawDSN)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = raw.Close() })
	env := adminOnlyEnv(t, st)
	cfg := env.srv.cfg
	logger := slog.New(slog.NewJSONHandler(env.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	env.srv = New(cfg, Deps{
		Source: NewStoreSource(st), Webhooks: webhooks.NewReceiver(st, cfg.AppSecrets, env.clock.Now),
		Store: st, Now: env.clock.Now, Logger: logger, Installer: env.hooks, OfferSync: env.hooks,
	})
	mustShops(t, st, shopA, shopB)
	return &faultEnv{authEnv: env, raw: raw, dialect: driver, dsn: dsn, secret: cfg.AppSecrets[0]}
}

// dbDump is every row of every table, each row printed, sorted by table then row.
type dbDump map[string][]string

func (e *faultEnv) dump(t *testing.T) dbDump {
	t.Helper()
	ctx := context.Background()
	q := `SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'`
	if e.dialect == "pgx" {
		q = `SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'`
	}
	var tables []string
	rows, err := e.raw.QueryContext(ctx, q)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			t.Fatal(err)
		}
		tables = append(tables, name)
	}
	if err := rows.Close(); err != nil {
		t.Fatal(err)
	}
	if len(tables) < 5 {
		t.Fatalf("found only tables %v", tables)
	}
	out := dbDump{}
	for _, table := range tables {
		rows, err := e.raw.QueryContext(ctx, `SELECT * FROM "`+table+`"`)
		if err != nil {
			t.Fatal(err)
		}
		cols, err := rows.Columns()
		if err != nil {
			t.Fatal(err)
		}
		var printed []string
		for rows.Next() {
			vals := make([]any, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			if err := rows.Scan(ptrs...); err != nil {
				t.Fatal(err)
			}
			var b strings.Builder
			for i, v := range vals {
				switch v := v.(type) {
				case []byte:
					fmt.Fprintf(&b, "%s=%q ", cols[i], v)
				case time.Time:
					fmt.Fprintf(&b, "%s=%s ", cols[i], v.UTC().Format(time.RFC3339Nano))
				default:
					fmt.Fprintf(&b, "%s=%v ", cols[i], v)
				}
			}
			printed = append(printed, b.String())
		}
		if err := rows.Close(); err != nil {
			t.Fatal(err)
		}
		slices.Sort(printed)
		out[table] = printed
	}
	return out
}

// mustUnchanged fails the test with the rows that differ between two dumps.
func mustUnchanged(t *testing.T, what string, before, after dbDump) {
	t.Helper()
	if reflect.DeepEqual(before, after) {
		return
	}
	for table, rows := range after {
		old := before[table]
		for _, r := range rows {
			if !slices.Contains(old, r) {
				t.Errorf("%s: table %s gained or changed row %s", what, table, r)
			}
		}
		for _, r := range old {
			if !slices.Contains(rows, r) {
				t.Errorf("%s: table %s lost or changed row %s", what, table, r)
			}
		}
	}
}

// serve runs the app on a real listener and returns its base URL.
func (e *faultEnv) serve(t *testing.T) string {
	t.Helper()
	return e.testEnv.serve(t)
}

// send sends a request through the Fiber app; header values replace the request's.
func (e *faultEnv) send(t *testing.T, method, target string, header http.Header, body []byte) (*http.Response, []byte) {
	t.Helper()
	req := httptest.NewRequest(method, target, bytes.NewReader(body))
	for k, vs := range header {
		req.Header[k] = vs
	}
	resp, err := e.srv.App().Test(req, -1)
	if err != nil {
		t.Fatalf("%s %s: %v", method, target, err)
	}
	return resp, readBody(t, resp)
}

// webhookHeader is the platform's headers for a delivery of body, signed with secret.
func webhookHeader(shop, topic, eventID string, secret []byte, body []byte) http.Header {
	return http.Header{
		"Content-Type":          {"application/json"},
		"X-Shopify-Topic":       {topic},
		"X-Shopify-Shop-Domain": {shop},
		"X-Shopify-Event-Id":    {eventID},
		"X-Shopify-Webhook-Id":  {"wh-" + eventID},
		"X-Shopify-Hmac-Sha256": {webhooks.Sign(secret, body)},
	}
}

// deliver sends one signed delivery and fails the test unless it is acknowledged.
func (e *faultEnv) deliver(t *testing.T, shop, topic, eventID string, body []byte) {
	t.Helper()
	resp, got := e.send(t, http.MethodPost, "/webhooks", webhookHeader(shop, topic, eventID, e.secret, body), body)
	mustStatus(t, "delivery "+eventID, resp, got, http.StatusOK)
}

// drain processes every stored delivery.
func (e *faultEnv) drain(t *testing.T) {
	t.Helper()
	w := webhooks.NewWorker(e.st, webhooks.NewProcessor(e.st, e.clock.Now, nil))
	for {
		n, err := w.DrainOnce(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			return
		}
	}
}

// orderWith is an orders/create body of an order of shop's customer that used codes.
func orderWith(id, customer int64, email string, codes ...string) []byte {
	return orderBody(id, customer, email, "30.00", 2, codes...)
}

// seed gives both shops the same kinds of data through the public endpoints: an offer with a
// shared and unique codes, a segment, a block, orders that used the offer (with a customer),
// and a data request. Shop B's carry the strings A must never see.
func (e *faultEnv) seed(t *testing.T) {
	t.Helper()
	type shopData struct {
		shop, offer, code, segment, segName, email, blocked string
		order, customer                                     int64
	}
	for _, d := range []shopData{
		{shopA, faultOffer, "ACODE", faultSegment, "A segment", "a-buyer@example.com", "a-blocked@example.com", 4_300_000_001, 4_300_000_777},
		{shopB, faultOfferB, faultCodeB, faultSegB, faultSegNameB, faultEmailB, faultBlockedB, faultOrderB, faultCustomerB},
	} {
		o := percentOffer(d.offer, 10*100)
		o.Application = discountfn.Application{Kind: discountfn.ApplyCode, Code: d.code}
		o.Limits.TotalUses = 100
		resp, body := e.call(t, http.MethodPost, "/api/offers", d.shop, o, nil)
		mustStatus(t, "seed offer", resp, body, http.StatusCreated)
		u := percentOffer(d.offer+"-unique", 10*100)
		u.Application = discountfn.Application{Kind: discountfn.ApplyCodes}
		resp, body = e.call(t, http.MethodPost, "/api/offers", d.shop, u, nil)
		mustStatus(t, "seed unique-code offer", resp, body, http.StatusCreated)
		resp, body = e.call(t, http.MethodPost, "/api/offers/"+d.offer+"-unique/codes/generate", d.shop,
			map[string]any{"count": 3, "pattern": map[string]any{"prefix": d.code + "U"}}, nil)
		mustStatus(t, "seed codes", resp, body, http.StatusCreated)
		seg := discountfn.Segment{ID: d.segment, Name: d.segName, Priority: 5, Rules: discountfn.SegmentRules{CustomerTags: []string{"vip"}}}
		resp, body = e.call(t, http.MethodPost, "/api/segments", d.shop, seg, nil)
		mustStatus(t, "seed segment", resp, body, http.StatusCreated)
		resp, body = e.call(t, http.MethodPost, "/api/blocked", d.shop, map[string]any{"kind": "email", "value": d.blocked}, nil)
		mustStatus(t, "seed block", resp, body, http.StatusCreated)
		for i := range int64(3) {
			e.deliver(t, d.shop, "orders/create", fmt.Sprint(d.shop, "-order-", i), orderWith(d.order+i, d.customer, d.email, d.code))
		}
		req := []byte(fmt.Sprintf(`{"shop_domain":%q,"customer":{"id":%d,"email":%q},"orders_requested":[%d],"data_request":{"id":9}}`,
			d.shop, d.customer, d.email, d.order))
		e.deliver(t, d.shop, "customers/data_request", d.shop+"-data-request", req)
	}
	e.drain(t)
	for _, shop := range []string{shopA, shopB} {
		rs, err := e.st.ListRedemptions(context.Background(), shop, "")
		if err != nil || len(rs) != 3 {
			t.Fatalf("seed: %s has %d ledger rows (%v), want 3", shop, len(rs), err)
		}
	}
}

// routeCase is one route of the app with the path to call it at and a body a valid caller
// would send.
type routeCase struct {
	method, pattern, path string
	body                  []byte
	contentType           string
}

// apiRoutes is every /api route the app registers (so a new route cannot be left out), called
// with ids (offer, segment) and bodies valid for shop A; the catch-all /api/* with every method.
func apiRoutes(t *testing.T, srv *Server, offerID, segmentID string) []routeCase {
	t.Helper()
	offer := percentOffer("fault-new", 5*100)
	bodies := map[string]any{
		"POST /api/offers":                    offer,
		"PUT /api/offers/:id":                 map[string]any{"version": 1, "offer": percentOffer(offerID, 20*100)},
		"POST /api/offers/:id/codes/generate": map[string]any{"count": 2},
		"POST /api/offers/:id/codes/import":   []byte("code\nFAULTNEW1\n"),
		"PUT /api/settings":                   store.DefaultShopSettings(),
		"POST /api/blocked":                   map[string]any{"kind": "email", "value": "fault-new@example.com"},
		"POST /api/offers/backtest":           map[string]any{"offer": offer, "days": 30},
		"POST /api/segments":                  discountfn.Segment{ID: "fault-new", Name: "New", Priority: 1},
		"POST /api/segments/reorder":          map[string]any{"ids": []string{segmentID}},
		"PUT /api/segments/:id":               discountfn.Segment{ID: segmentID, Name: "Renamed", Priority: 1},
		"POST /api/simulate":                  map[string]any{"lines": []map[string]any{{"product_id": "p", "quantity": 1, "unit_price": 1000}}},
		"POST /api/offers/:id/pause":          nil,
		"POST /api/offers/:id/resume":         nil,
		"POST /api/offers/:id/archive":        nil,
		"POST /api/offers/:id/duplicate":      nil,
		"DELETE /api/offers/:id":              nil,
		"DELETE /api/segments/:id":            nil,
		"DELETE /api/blocked":                 nil,
		"GET /api/analytics/offers/:id/daily": nil,
		"GET /api/offers/:id/codes.csv":       nil,
		"GET /api/offers/:id/sync":            nil,
		"GET /api/offers/:id":                 nil,
		"GET /api/backtests/:id":              nil,
		"GET /api/customers":                  nil,
		"GET /api/abuse/shared":               nil,
		"GET /api/analytics/offers":           nil,
		"GET /api/analytics/offers.csv":       nil,
		"GET /api/analytics/campaigns":        nil,
		"GET /api/analytics/cod-orders":       nil,
		"GET /api/blocked":                    nil,
		"GET /api/data-requests":              nil,
		"GET /api/offers":                     nil,
		"GET /api/segments":                   nil,
		"GET /api/settings":                   nil,
	}
	var out []routeCase
	for _, r := range srv.App().GetRoutes(true) {
		if !strings.HasPrefix(r.Path, "/api") || r.Method == http.MethodHead {
			continue
		}
		key := r.Method + " " + r.Path
		if _, known := bodies[key]; !known && r.Path != "/api/*" {
			t.Errorf("route %s is new to the fault tests: add its body to apiRoutes (nil when it reads none)", key)
		}
		path := r.Path
		switch {
		case strings.Contains(path, "segments/:id"):
			path = strings.Replace(path, ":id", segmentID, 1)
		default:
			path = strings.Replace(path, ":id", url.PathEscape(offerID), 1)
		}
		path = strings.Replace(path, "*", "no-such-route", 1)
		if r.Path == "/api/blocked" && r.Method == http.MethodDelete {
			path += "?kind=email&value=" + url.QueryEscape("a-blocked@example.com")
		}
		c := routeCase{method: r.Method, pattern: r.Path, path: path, contentType: "application/json"}
		switch b := bodies[key].(type) {
		case nil:
		case []byte:
			c.body, c.contentType = b, "text/csv"
		default:
			c.body = mustJSON(t, b)
		}
		out = append(out, c)
	}
	if len(out) < 30 {
		t.Fatalf("found only %d /api routes", len(out))
	}
	return out
}

// TestFaultEveryRouteIsGuarded: every route the app registers is either public (health, the
// app shell, the install redirect and callback) or behind one of the checks the tests below
// and TestAuthCallbackRefusals cover. A new route has to be added here, and so to the
// fault tests.
func TestFaultEveryRouteIsGuarded(t *testing.T) {
	path := filepath.Join(t.TempDir(), "routes.db")
	e := newFaultEnv(t, "sqlite:"+path, "sqlite", path)
	public := map[string]bool{"/healthz": true, "/app": true, "/app/*": true, "/auth": true, authCallbackPath: true}
	for _, r := range e.srv.App().GetRoutes(true) {
		switch {
		case strings.HasPrefix(r.Path, "/api/"), strings.HasPrefix(r.Path, "/checkout/"),
			r.Path == "/webhooks", r.Path == "/proxy/offers", public[r.Path]:
		default:
			t.Errorf("route %s %s is not covered by the fault tests (faults_test.go)", r.Method, r.Path)
		}
	}
}

// badBodies are request bodies no endpoint may accept: each must get a 4xx with a JSON error.
var badBodies = []struct {
	name string
	body []byte
}{
	{"empty", nil},
	{"malformed JSON", []byte(`{"offer": {"id": `)},
	{"not an object", []byte(`[1, 2, 3]`)},
	{"a bare string", []byte(`"hello"`)},
	{"wrong types", []byte(`{"id": 5, "name": [], "offer": "x", "version": "one", "cart": 7, "lines": "x", "count": "many",
		"kind": 3, "ids": {}, "value": false, "priority": "high", "days": [], "customer": 1, "discount": [],
		"timezone": 5, "count_test_orders": "yes", "cod_gateways": "cod"}`)},
	{"trailing data", []byte(`{} {"second": true}`)},
	{"deeply nested", bytes.Repeat([]byte("["), 100_000)},
	{"invalid UTF-8 and NUL", []byte("{\"name\": \"\xff\xfe\x00\"")},
	{"number out of range", []byte(`{"count": 1e400, "version": 1e400, "days": 1e400, "priority": 1e400,
		"offer": {"id": "x", "value": {"kind": "percentage", "percentage": 1e400}}, "release_usage_on_cancel": 1e400,
		"lines": [{"quantity": 1e400}], "kind": 1e400, "ids": [1e400], "cart": {"lines": [{"quantity": 1e400}]}}`)},
	{"binary", []byte{0x1f, 0x8b, 0x08, 0x00, 0xde, 0xad, 0xbe, 0xef}},
}

// TestFaultBadBodiesChangeNothing sends every bad body to every endpoint that reads a body,
// each with valid credentials so that only the body is wrong: each answer is a 4xx with a
// JSON error, and the database is the same afterwards, row for row.
func TestFaultBadBodiesChangeNothing(t *testing.T) {
	eachFault(t, func(t *testing.T, e *faultEnv) {
		e.seed(t)
		before := e.dump(t)
		checkoutToken := mustToken(t, shopA)
		type target struct {
			name   string
			method string
			path   string
			header func(body []byte) http.Header
		}
		targets := []target{
			{"webhook", http.MethodPost, "/webhooks", func(b []byte) http.Header {
				return webhookHeader(shopA, "orders/create", "bad-"+fmt.Sprint(len(b)), e.secret, b)
			}},
			{"compliance webhook", http.MethodPost, "/webhooks", func(b []byte) http.Header {
				return webhookHeader(shopA, "customers/redact", "bad-redact-"+fmt.Sprint(len(b)), e.secret, b)
			}},
		}
		for _, p := range []string{"/checkout/cart-lines", "/checkout/delivery-options", "/checkout/payment-methods"} {
			targets = append(targets, target{p, http.MethodPost, p, func([]byte) http.Header {
				return http.Header{"Content-Type": {"application/json"}, "Authorization": {"Bearer " + checkoutToken}}
			}})
		}
		for _, r := range apiRoutes(t, e.srv, faultOffer, faultSegment) {
			if r.body == nil || r.contentType != "application/json" {
				continue // reads no JSON body (the CSV import is below)
			}
			targets = append(targets, target{r.method + " " + r.pattern, r.method, r.path, func([]byte) http.Header {
				return http.Header{"Content-Type": {"application/json"},
					"Authorization": {"Bearer " + mintIDToken(t, testAppSecret, shopA, e.clock.Now())}}
			}})
		}
		var signedObjects [][]byte // deliveries that are JSON objects, for the second phase
		for _, tg := range targets {
			for _, bb := range badBodies {
				if tg.path == "/webhooks" && json.Valid(bb.body) && bytes.HasPrefix(bb.body, []byte("{")) {
					signedObjects = append(signedObjects, bb.body)
					continue
				}
				t.Run(tg.name+"/"+bb.name, func(t *testing.T) {
					resp, got := e.send(t, tg.method, tg.path, tg.header(bb.body), bb.body)
					if resp.StatusCode < 400 || resp.StatusCode >= 500 || resp.StatusCode == http.StatusUnauthorized {
						t.Fatalf("status %d %s; want a 4xx other than 401", resp.StatusCode, got)
					}
					assertJSONError(t, resp, got, "")
				})
			}
		}
		// The CSV import: nothing that is not a CSV of codes is imported.
		for _, body := range [][]byte{nil, []byte("\x00\x01\x02"), []byte("code\n\"unterminated\n"), []byte("not,a,codes,file\n,,,\n")} {
			resp, got := e.call(t, http.MethodPost, "/api/offers/"+faultOffer+"-unique/codes/import?strict=true", shopA, body,
				http.Header{"Content-Type": {"text/csv"}})
			if resp.StatusCode < 400 || resp.StatusCode >= 500 {
				t.Errorf("codes import of %q: %d %s; want a 4xx", body, resp.StatusCode, got)
			}
		}
		mustUnchanged(t, "after the bad bodies", before, e.dump(t))

		// A delivery that verifies and is a JSON object is acknowledged: it is stored as the
		// platform sent it (the platform would deliver it again for days otherwise). The
		// worker then fails to apply it, so it changes nothing but its own event row, which
		// is left pending for a retry with its error, and in the end set aside as failed.
		for i, body := range signedObjects {
			for _, topic := range []string{"orders/create", "customers/redact"} {
				header := webhookHeader(shopA, topic, fmt.Sprint("signed-object-", i), e.secret, body)
				resp, got := e.send(t, http.MethodPost, "/webhooks", header, body)
				if resp.StatusCode != http.StatusOK && (resp.StatusCode < 400 || resp.StatusCode >= 500 || resp.StatusCode == 401) {
					t.Errorf("%s delivery of a signed %s: %d %s; want 200 or a 4xx", topic, body, resp.StatusCode, got)
				}
			}
		}
		e.drain(t)
		after := e.dump(t)
		events := after["webhook_events"]
		delete(after, "webhook_events")
		old := maps.Clone(before)
		delete(old, "webhook_events")
		mustUnchanged(t, "after signed deliveries that are not payloads", old, after)
		for _, row := range events {
			if !slices.Contains(before["webhook_events"], row) && strings.Contains(row, "status=done") {
				t.Errorf("a delivery that is not a payload was applied: %s", row)
			}
		}
	})
}

// TestFaultOversizedBodiesChangeNothing: a body over the limit is refused with 413 by the
// server itself, before any handler reads it, on every route that takes a body (and on the
// others); a compressed body that would inflate beyond the limit is refused too, unread.
func TestFaultOversizedBodiesChangeNothing(t *testing.T) {
	eachFault(t, func(t *testing.T, e *faultEnv) {
		e.seed(t)
		before := e.dump(t)
		base := e.serve(t)
		limit := e.srv.cfg.MaxBodyBytes
		paths := []string{"POST /webhooks", "POST /checkout/cart-lines", "POST /checkout/delivery-options",
			"POST /checkout/payment-methods", "GET /proxy/offers"}
		for _, r := range apiRoutes(t, e.srv, faultOffer, faultSegment) {
			paths = append(paths, r.method+" "+r.path)
		}
		for _, p := range paths {
			method, path, _ := strings.Cut(p, " ")
			status := rawOversized(t, base, method, path, limit+1)
			if status != http.StatusRequestEntityTooLarge {
				t.Errorf("%s with a %d-byte body: status %d, want 413", p, limit+1, status)
			}
		}

		// A gzip body of 16 KiB that inflates to 16 MiB of valid JSON, with valid credentials.
		var bomb bytes.Buffer
		zw := gzip.NewWriter(&bomb)
		_, _ = zw.Write([]byte(`{"name":"`))
		_, _ = zw.Write(bytes.Repeat([]byte("a"), 16<<20))
		_, _ = zw.Write([]byte(`"}`))
		_ = zw.Close()
		for _, r := range apiRoutes(t, e.srv, faultOffer, faultSegment) {
			if r.body == nil || r.contentType != "application/json" {
				continue
			}
			header := http.Header{"Content-Type": {"application/json"}, "Content-Encoding": {"gzip"},
				"Authorization": {"Bearer " + mintIDToken(t, testAppSecret, shopA, e.clock.Now())}}
			resp, got := e.send(t, r.method, r.path, header, bomb.Bytes())
			if resp.StatusCode != http.StatusUnsupportedMediaType && resp.StatusCode != http.StatusRequestEntityTooLarge {
				t.Errorf("%s %s with a gzip body inflating to %d bytes (limit %d): %d %.200s; want 415 or 413, unread",
					r.method, r.pattern, 16<<20, limit, resp.StatusCode, got)
			}
		}
		checkoutHeader := http.Header{"Content-Type": {"application/json"}, "Content-Encoding": {"gzip"},
			"Authorization": {"Bearer " + mustToken(t, shopA)}}
		if resp, got := e.send(t, http.MethodPost, "/checkout/cart-lines", checkoutHeader, bomb.Bytes()); resp.StatusCode != http.StatusUnsupportedMediaType {
			t.Errorf("checkout with a gzip body: %d %s; want 415", resp.StatusCode, got)
		}
		mustUnchanged(t, "after the oversized bodies", before, e.dump(t))
	})
}

// rawOversized announces a body of n bytes, sends its first byte, and returns the status the
// server answers with (it must not wait for the rest).
func rawOversized(t *testing.T, base, method, path string, n int) int {
	t.Helper()
	conn, err := net.Dial("tcp", strings.TrimPrefix(base, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "%s %s HTTP/1.1\r\nHost: regulars.test\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n{",
		method, path, n)
	if err := conn.SetReadDeadline(time.Now().Add(10 * time.Second)); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// TestFaultBadTokensChangeNothing calls every route that needs credentials with each kind of
// bad credential (and an otherwise valid request): each answer is 401, and the database is
// the same afterwards. The token checks themselves are tested case by case in
// TestRequireIDToken, TestVerifyCheckoutToken, TestWebhookEndpoint and TestProxyRejects.
func TestFaultBadTokensChangeNothing(t *testing.T) {
	eachFault(t, func(t *testing.T, e *faultEnv) {
		e.seed(t)
		before := e.dump(t)
		now := e.clock.Now()
		set := func(k string, v any) func(jwt.MapClaims) { return func(c jwt.MapClaims) { c[k] = v } }
		noneToken, err := jwt.NewWithClaims(jwt.SigningMethodNone, jwt.MapClaims{
			"iss": "https://" + shopA + "/admin", "dest": "https://" + shopA, "aud": testClientID,
			"exp": now.Add(time.Minute).Unix(), "nbf": now.Unix(),
		}).SignedString(jwt.UnsafeAllowNoneSignatureType)
		if err != nil {
			t.Fatal(err)
		}
		idTokens := map[string]string{
			"wrong signature":   mintIDToken(t, "not-the-app-secret", shopA, now),
			"wrong audience":    mintIDToken(t, testAppSecret, shopA, now, set("aud", "another-app")),
			"expired":           mintIDToken(t, testAppSecret, shopA, now, set("exp", now.Add(-time.Minute).Unix())),
			"not yet valid":     mintIDToken(t, testAppSecret, shopA, now, set("nbf", now.Add(time.Minute).Unix())),
			"alg none":          noneToken,
			"shop B's iss":      mintIDToken(t, testAppSecret, shopA, now, set("iss", "https://"+shopB+"/admin")),
			"no token":          "",
			"signature removed": strings.Join(strings.Split(mintIDToken(t, testAppSecret, shopA, now), ".")[:2], ".") + ".",
		}
		for _, r := range apiRoutes(t, e.srv, faultOffer, faultSegment) {
			for name, tok := range idTokens {
				header := http.Header{"Content-Type": {r.contentType}}
				if tok != "" {
					header.Set("Authorization", "Bearer "+tok)
				}
				resp, got := e.send(t, r.method, r.path, header, r.body)
				if resp.StatusCode != http.StatusUnauthorized {
					t.Errorf("%s %s with an ID token %s: %d %s; want 401", r.method, r.pattern, name, resp.StatusCode, got)
				}
			}
		}

		checkoutClaims := func(edit func(*jwt.RegisteredClaims)) jwt.RegisteredClaims {
			c := jwt.RegisteredClaims{Issuer: checkoutTokenIssuer, Subject: shopA,
				Audience: jwt.ClaimStrings{checkoutTokenAudience}, IssuedAt: jwt.NewNumericDate(now)}
			edit(&c)
			return c
		}
		signCheckout := func(method jwt.SigningMethod, key any, edit func(*jwt.RegisteredClaims)) string {
			tok, err := jwt.NewWithClaims(method, checkoutClaims(edit)).SignedString(key)
			if err != nil {
				t.Fatal(err)
			}
			return tok
		}
		same := func(*jwt.RegisteredClaims) {}
		checkoutTokens := map[string]string{
			"wrong key":      signCheckout(jwt.SigningMethodHS256, []byte("someone-elses-key-0123456789"), same),
			"alg none":       signCheckout(jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, same),
			"wrong audience": signCheckout(jwt.SigningMethodHS256, []byte(testKey), func(c *jwt.RegisteredClaims) { c.Audience = jwt.ClaimStrings{"other"} }),
			"wrong issuer":   signCheckout(jwt.SigningMethodHS256, []byte(testKey), func(c *jwt.RegisteredClaims) { c.Issuer = "other" }),
			"expired":        signCheckout(jwt.SigningMethodHS256, []byte(testKey), func(c *jwt.RegisteredClaims) { c.ExpiresAt = jwt.NewNumericDate(now.Add(-time.Minute)) }),
			"not yet valid":  signCheckout(jwt.SigningMethodHS256, []byte(testKey), func(c *jwt.RegisteredClaims) { c.NotBefore = jwt.NewNumericDate(now.Add(time.Minute)) }),
			"issued in the future": signCheckout(jwt.SigningMethodHS256, []byte(testKey), func(c *jwt.RegisteredClaims) {
				c.IssuedAt = jwt.NewNumericDate(now.Add(time.Hour))
			}),
			"an ID token": mintIDToken(t, testAppSecret, shopA, now),
		}
		body := mustJSON(t, inputDoc(1, faultOffer))
		for _, p := range []string{"/checkout/cart-lines", "/checkout/delivery-options", "/checkout/payment-methods"} {
			for name, tok := range checkoutTokens {
				resp, got := e.send(t, http.MethodPost, p, http.Header{"Authorization": {"Bearer " + tok}}, body)
				if resp.StatusCode != http.StatusUnauthorized {
					t.Errorf("%s with a checkout token %s: %d %s; want 401", p, name, resp.StatusCode, got)
				}
			}
		}

		order := orderWith(4_300_000_999, 4_300_000_777, "a-buyer@example.com", "ACODE")
		for name, sig := range map[string]string{
			"forged":           webhooks.Sign([]byte("not-the-app-secret"), order),
			"of another body":  webhooks.Sign(e.secret, []byte(`{"id":1}`)),
			"hex, not base64":  fmt.Sprintf("%x", []byte(webhooks.Sign(e.secret, order))),
			"missing":          "",
			"cut short":        webhooks.Sign(e.secret, order)[:20],
			"the ID token key": webhooks.Sign([]byte(testKey), order),
		} {
			for _, topic := range []string{"orders/create", "app/uninstalled", "shop/redact", "customers/redact"} {
				header := webhookHeader(shopA, topic, "forged-"+name, e.secret, order)
				header.Set("X-Shopify-Hmac-Sha256", sig)
				resp, got := e.send(t, http.MethodPost, "/webhooks", header, order)
				if resp.StatusCode != http.StatusUnauthorized {
					t.Errorf("%s webhook with a signature %s: %d %s; want 401", topic, name, resp.StatusCode, got)
				}
			}
		}

		q := signProxy("not-the-app-secret", url.Values{"shop": {shopA}, "logged_in_customer_id": {"4300000777"},
			"path_prefix": {"/apps/regulars"}}, now)
		if resp, got := e.send(t, http.MethodGet, "/proxy/offers?"+q.Encode(), nil, nil); resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("app proxy with a forged signature: %d %s; want 401", resp.StatusCode, got)
		}
		mustUnchanged(t, "after the bad credentials", before, e.dump(t))
	})
}

// TestFaultOtherShopsData calls every admin route with shop A's ID token and shop B's ids
// (offers, segments, codes, blocked identities, customers, orders): nothing of B's is
// changed, and no answer holds any of B's data.
func TestFaultOtherShopsData(t *testing.T) {
	eachFault(t, func(t *testing.T, e *faultEnv) {
		e.seed(t)
		before := e.dump(t)
		secrets := []string{faultOfferB, faultSegB, faultCodeB, faultEmailB, faultBlockedB, faultSegNameB,
			fmt.Sprint(faultOrderB), fmt.Sprint(faultCustomerB), shopB}
		// leaks reports B's strings in an answer, but for those the request itself named.
		leaks := func(what, request string, body []byte) {
			t.Helper()
			for _, s := range secrets {
				if strings.Contains(strings.ToLower(request), strings.ToLower(s)) {
					continue
				}
				if bytes.Contains(bytes.ToLower(body), []byte(strings.ToLower(s))) {
					t.Errorf("%s: the answer holds shop B's %q: %.300s", what, s, body)
				}
			}
		}
		for _, id := range []string{faultOfferB, faultOfferB + "-unique"} {
			for _, r := range apiRoutes(t, e.srv, id, faultSegB) {
				if r.pattern == "/api/offers" && r.method == http.MethodPost {
					continue // creates A's own offer; B's ids are not in it
				}
				hasID := strings.Contains(r.pattern, ":id")
				if !hasID && r.method != http.MethodGet && r.pattern != "/api/segments/reorder" && r.pattern != "/api/blocked" {
					continue // changes A's own data only; tested above and in each resource's tests
				}
				path, body := r.path, r.body
				switch {
				case r.pattern == "/api/segments/reorder":
					body = mustJSON(t, map[string]any{"ids": []string{faultSegB, faultSegment}})
				case r.pattern == "/api/blocked" && r.method == http.MethodDelete:
					path = "/api/blocked?kind=email&value=" + url.QueryEscape(faultBlockedB)
				case r.pattern == "/api/blocked" && r.method == http.MethodPost:
					continue // blocks for A
				}
				resp, got := e.call(t, r.method, path, shopA, body, http.Header{"Content-Type": {r.contentType}})
				what := fmt.Sprintf("%s %s with shop B's ids", r.method, path)
				if hasID && resp.StatusCode != http.StatusNotFound {
					t.Errorf("%s: %d %.300s; want 404", what, resp.StatusCode, got)
				}
				if resp.StatusCode >= 500 {
					t.Errorf("%s: %d %s", what, resp.StatusCode, got)
				}
				leaks(what, path+string(body), got)
			}
		}
		// Lookups by B's customer, email, code and order.
		for _, q := range []string{
			"/api/customers?query=" + url.QueryEscape(faultEmailB),
			"/api/customers?query=" + fmt.Sprint(faultCustomerB),
			"/api/customers?query=b-buyer",
			"/api/abuse/shared?min=1",
			"/api/analytics/offers?offer_ids=" + faultOfferB,
			"/api/analytics/campaigns",
			"/api/analytics/cod-orders",
			"/api/data-requests",
			"/api/blocked",
		} {
			resp, got := e.call(t, http.MethodGet, q, shopA, nil, nil)
			if resp.StatusCode >= 500 {
				t.Errorf("GET %s: %d %s", q, resp.StatusCode, got)
			}
			leaks("GET "+q, q, got)
		}
		// The simulator with B's customer and code: A's offers only, and no history of B's.
		sim := map[string]any{
			"customer": map[string]any{"id": fmt.Sprint("gid://shopify/Customer/", faultCustomerB), "email": faultEmailB},
			"codes":    []string{faultCodeB, faultCodeB + "U"},
			"lines":    []map[string]any{{"product_id": "p", "quantity": 1, "unit_price": 5000}},
		}
		resp, got := e.call(t, http.MethodPost, "/api/simulate", shopA, sim, nil)
		if resp.StatusCode != http.StatusOK {
			t.Errorf("simulate: %d %s", resp.StatusCode, got)
		}
		for _, s := range []string{faultOfferB, faultSegB, faultSegNameB, fmt.Sprint(faultOrderB), shopB} {
			if bytes.Contains(got, []byte(s)) {
				t.Errorf("simulate with B's customer shows B's %q: %.300s", s, got)
			}
		}
		// Checkout with A's token naming B's offer: no discount.
		resp, got = e.do(t, http.MethodPost, "/checkout/cart-lines", mustToken(t, shopA), mustJSON(t, inputDoc(1, faultOfferB)))
		if resp.StatusCode != http.StatusOK || string(got) != emptyRunResult {
			t.Errorf("checkout naming B's offer with A's token: %d %s; want no discount", resp.StatusCode, got)
		}
		mustUnchanged(t, "after shop A's calls with shop B's ids", before, e.dump(t))
	})
}

// postDelivery sends one delivery to a running server and returns its status and answer.
func postDelivery(client *http.Client, base string, header http.Header, body []byte) (int, string, error) {
	req, err := http.NewRequest(http.MethodPost, base+"/webhooks", bytes.NewReader(body))
	if err != nil {
		return 0, "", err
	}
	req.Header = header.Clone()
	resp, err := client.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	got, err := io.ReadAll(resp.Body)
	return resp.StatusCode, string(got), err
}

// TestFaultDuplicateDeliveryFlood: the platform delivers the same event many times at once
// (retries racing each other, across processes). Exactly one delivery is stored, the others
// are answered "duplicate", and workers racing over the queue apply it once: one event, one
// order, one ledger row. Then many different events about the same order at once (create,
// paid and updated racing): each is stored, and the order still has one ledger row.
func TestFaultDuplicateDeliveryFlood(t *testing.T) {
	eachFault(t, func(t *testing.T, e *faultEnv) {
		ctx := context.Background()
		code := percentOffer("flood", 10*100)
		code.Application = discountfn.Application{Kind: discountfn.ApplyCode, Code: "FLOOD10"}
		resp, body := e.call(t, http.MethodPost, "/api/offers", shopA, code, nil)
		mustStatus(t, "offer", resp, body, http.StatusCreated)
		base := e.serve(t)
		client := &http.Client{Timeout: 30 * time.Second}
		t.Cleanup(client.CloseIdleConnections) // before the server's shutdown, which waits for them

		const copies = 64
		order := orderWith(4_500_000_001, 4_500_000_777, "flood@example.com", "FLOOD10")
		header := webhookHeader(shopA, "orders/create", "flood-event", e.secret, order)
		flood := func(header http.Header, body []byte) map[string]int {
			t.Helper()
			answers := map[string]int{}
			var mu sync.Mutex
			var wg sync.WaitGroup
			start := make(chan struct{})
			for range copies {
				wg.Go(func() {
					<-start
					status, got, err := postDelivery(client, base, header, body)
					mu.Lock()
					defer mu.Unlock()
					if err != nil {
						answers["error: "+err.Error()]++
						return
					}
					answers[fmt.Sprint(status, " ", strings.TrimSpace(got))]++
				})
			}
			close(start)
			wg.Wait()
			return answers
		}
		answers := flood(header, order)
		want := map[string]int{`200 {"status":"stored"}`: 1, `200 {"status":"duplicate"}`: copies - 1}
		if !reflect.DeepEqual(answers, want) {
			t.Fatalf("%d copies of one event at once: answers %v; want %v", copies, answers, want)
		}

		// Workers of two processes race over the queue while the flood goes on.
		other := storetest.OpenMigrated(t, e.dsn)
		var wg sync.WaitGroup
		for _, st := range []*store.Store{e.st, other, e.st, other} {
			wg.Go(func() {
				w := webhooks.NewWorker(st, webhooks.NewProcessor(st, e.clock.Now, nil))
				for range 20 {
					if _, err := w.DrainOnce(ctx); err != nil {
						t.Error(err)
						return
					}
				}
			})
		}
		again := flood(header, order)
		wg.Wait()
		e.drain(t)
		if again[`200 {"status":"duplicate"}`] != copies {
			t.Errorf("the same event again, while and after it is processed: answers %v; want %d duplicates", again, copies)
		}
		stats, err := e.st.EventStats(ctx, shopA)
		if err != nil || stats.Done != 1 || stats.Pending != 0 || stats.Failed != 0 {
			t.Errorf("events = %+v, %v; want exactly one, done", stats, err)
		}
		ledger, err := e.st.ListRedemptions(ctx, shopA, "flood")
		if err != nil || len(ledger) != 1 {
			t.Errorf("ledger = %+v, %v; want exactly one row", ledger, err)
		}

		// Many events about one order at once (each event id sent twice): each stored once,
		// the order's ledger still one row.
		var hwg sync.WaitGroup
		statuses := make(chan int, 2*copies)
		for i := range copies {
			topic := []string{"orders/updated", "orders/paid", "orders/create"}[i%3]
			h := webhookHeader(shopA, topic, fmt.Sprint("flood-update-", i), e.secret, order)
			for range 2 {
				hwg.Go(func() {
					status, got, err := postDelivery(client, base, h, order)
					if err != nil || status != http.StatusOK {
						t.Errorf("update %d: %d %s %v", i, status, got, err)
					}
					statuses <- status
				})
			}
		}
		hwg.Wait()
		e.drain(t)
		stats, err = e.st.EventStats(ctx, shopA)
		if err != nil || stats.Done != 1+copies || stats.Pending != 0 || stats.Failed != 0 {
			t.Errorf("events = %+v, %v; want %d done", stats, err, 1+copies)
		}
		ledger, err = e.st.ListRedemptions(ctx, shopA, "flood")
		if err != nil || len(ledger) != 1 || ledger[0].OrderID != "4500000001" {
			t.Errorf("ledger = %+v, %v; want the order's one row", ledger, err)
		}
	})
}

// TestFaultConcurrentOrdersExactLedger: 1,000 orders on an offer limited to 1,000 uses arrive
// at once from 16 senders, a tenth of them delivered twice and a tenth followed by an
// orders/paid of the same order, and are processed by four workers (in two processes on
// PostgreSQL). Every order ends with exactly one ledger row, the usage checkout counts is
// exactly 1,000, the analytics count 1,000 uses, and checkout then gives the offer no more.
// Then 100 orders are cancelled while 100 others are updated, all at once: 900 uses.
func TestFaultConcurrentOrdersExactLedger(t *testing.T) {
	eachFault(t, func(t *testing.T, e *faultEnv) {
		ctx := context.Background()
		const orders, limit = 1000, 1000
		offer := percentOffer("limited", 10*100)
		offer.Limits.TotalUses = limit
		offer.Preview.Title = "Limited 10%"
		resp, body := e.call(t, http.MethodPost, "/api/offers", shopA, offer, nil)
		mustStatus(t, "offer", resp, body, http.StatusCreated)
		checkout := func() string {
			t.Helper()
			resp, got := e.do(t, http.MethodPost, "/checkout/cart-lines", mustToken(t, shopA), mustJSON(t, inputDoc(1, "limited")))
			mustStatus(t, "checkout", resp, got, http.StatusOK)
			return string(got)
		}
		if got := checkout(); got == emptyRunResult {
			t.Fatalf("before the orders: no discount")
		}

		workersCtx, stopWorkers := context.WithCancel(ctx)
		var workers sync.WaitGroup
		stores := []*store.Store{e.st}
		if e.dialect == "pgx" {
			stores = append(stores, storetest.OpenMigrated(t, e.dsn)) // a second process
		}
		for _, st := range stores {
			workers.Go(func() {
				webhooks.RunWorkers(workersCtx, st, webhooks.NewProcessor(st, e.clock.Now, nil), 4/len(stores), 10*time.Millisecond)
			})
		}
		defer func() { stopWorkers(); workers.Wait() }()

		base := e.serve(t)
		client := &http.Client{Timeout: 30 * time.Second}
		t.Cleanup(client.CloseIdleConnections) // before the server's shutdown, which waits for them
		// version 0 is the order as placed, 1 an update a minute later, 2 its cancellation.
		orderVersion := func(i, version int) []byte {
			at := testNow().Add(-time.Duration(i) * time.Second)
			placed, updated := at.Format(time.RFC3339), at.Add(time.Duration(version)*time.Minute).Format(time.RFC3339)
			cancelled := any(nil)
			if version == 2 {
				cancelled = updated
			}
			return mustJSON(t, map[string]any{
				"id": 4_600_000_000 + i, "email": fmt.Sprintf("buyer%d@example.com", i), "created_at": placed,
				"updated_at": updated, "cancelled_at": cancelled,
				"currency": "USD", "total_price": "27.00", "subtotal_price": "30.00", "financial_status": "paid",
				"customer": map[string]any{"id": 4_700_000_000 + i},
				"discount_applications": []map[string]any{{"type": "automatic", "title": "Limited 10%", "value": "10.0",
					"value_type": "percentage"}},
				"line_items": []map[string]any{{"id": i + 1, "product_id": 7, "variant_id": 70, "quantity": 1, "price": "30.00",
					"discount_allocations": []map[string]any{{"amount": "3.00", "discount_application_index": 0}}}},
			})
		}
		started := time.Now()
		jobs := make(chan int)
		var senders sync.WaitGroup
		var failures sync.Map
		for range 16 {
			senders.Go(func() {
				for i := range jobs {
					body := orderVersion(i, 0)
					sends := []http.Header{webhookHeader(shopA, "orders/create", fmt.Sprint("limited-", i), e.secret, body)}
					if i%10 == 3 {
						sends = append(sends, sends[0]) // a retry of the same event
					}
					if i%10 == 7 {
						sends = append(sends, webhookHeader(shopA, "orders/paid", fmt.Sprint("limited-paid-", i), e.secret, body))
					}
					for _, h := range sends {
						if status, got, err := postDelivery(client, base, h, body); err != nil || status != http.StatusOK {
							failures.Store(i, fmt.Sprint(status, got, err))
						}
					}
				}
			})
		}
		for i := range orders {
			jobs <- i
		}
		close(jobs)
		senders.Wait()
		acked := time.Since(started)
		failures.Range(func(k, v any) bool {
			t.Errorf("order %v: %v", k, v)
			return true
		})

		deadline := time.Now().Add(2 * time.Minute)
		for {
			stats, err := e.st.EventStats(ctx, shopA)
			if err != nil {
				t.Fatal(err)
			}
			if stats.Pending == 0 {
				if stats.Failed != 0 || stats.Done != orders+orders/10 {
					t.Errorf("events = %+v; want %d done, none failed", stats, orders+orders/10)
				}
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("events still pending after 2 minutes: %+v", stats)
			}
			time.Sleep(20 * time.Millisecond)
		}
		t.Logf("%s: %d orders (%d deliveries) acknowledged in %v, processed in %v", e.dialect, orders, orders+orders/5,
			acked.Round(time.Millisecond), time.Since(started).Round(time.Millisecond))

		ledger, err := e.st.ListRedemptions(ctx, shopA, "limited")
		if err != nil {
			t.Fatal(err)
		}
		perOrder := map[string]int{}
		var amount int64
		for _, r := range ledger {
			perOrder[r.OrderID]++
			amount += int64(r.Amount)
			if r.Released {
				t.Errorf("order %s: released", r.OrderID)
			}
		}
		for i := range orders {
			if n := perOrder[fmt.Sprint(4_600_000_000+i)]; n != 1 {
				t.Errorf("order %d has %d ledger rows, want 1", i, n)
			}
		}
		if len(ledger) != orders || amount != orders*300 {
			t.Errorf("ledger: %d rows, %d discounted; want %d rows, %d", len(ledger), amount, orders, orders*300)
		}
		facts, err := e.st.Facts(ctx, shopA, discountfn.Buyer{Email: "someone-new@example.com"})
		if err != nil {
			t.Fatal(err)
		}
		if got := facts.Usage.Offers["limited"].Total; got != orders {
			t.Errorf("usage counted for the limit = %d, want %d", got, orders)
		}
		stats, err := e.st.OfferStats(ctx, shopA, []string{"limited"}, testNow().AddDate(0, 0, -1), testNow().Add(time.Hour), time.UTC, 30)
		if err != nil || len(stats) != 1 || stats[0].Uses != orders || stats[0].Orders != orders || stats[0].Customers != orders {
			t.Errorf("analytics = %+v, %v; want %d uses, orders and customers", stats, err, orders)
		}
		// The limit is reached: checkout gives the offer no more.
		if got := checkout(); got != emptyRunResult {
			t.Errorf("after %d uses of an offer limited to %d: %s; want no discount", orders, limit, got)
		}

		// Then a tenth of the orders are cancelled (which releases their uses) while another
		// tenth are updated, all at once, each twice: the counts follow exactly.
		var changes sync.WaitGroup
		for i := range orders {
			version := map[int]int{5: 2, 6: 1}[i%10]
			if version == 0 {
				continue
			}
			topic := map[int]string{1: "orders/updated", 2: "orders/cancelled"}[version]
			body := orderVersion(i, version)
			for range 2 {
				changes.Go(func() {
					h := webhookHeader(shopA, topic, fmt.Sprint("limited-v", version, "-", i), e.secret, body)
					if status, got, err := postDelivery(client, base, h, body); err != nil || status != http.StatusOK {
						t.Errorf("order %d version %d: %d %s %v", i, version, status, got, err)
					}
				})
			}
		}
		changes.Wait()
		for {
			stats, err := e.st.EventStats(ctx, shopA)
			if err != nil {
				t.Fatal(err)
			}
			if stats.Pending == 0 {
				if want := orders + orders/10 + orders/5; stats.Failed != 0 || stats.Done != want {
					t.Errorf("events = %+v; want %d done, none failed", stats, want)
				}
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("events still pending after 2 minutes: %+v", stats)
			}
			time.Sleep(20 * time.Millisecond)
		}
		ledger, err = e.st.ListRedemptions(ctx, shopA, "limited")
		released := 0
		for _, r := range ledger {
			if r.Released {
				released++
			}
		}
		if err != nil || len(ledger) != orders || released != orders/10 {
			t.Errorf("ledger after the cancellations: %d rows, %d released (%v); want %d, %d", len(ledger), released, err, orders, orders/10)
		}
		facts, err = e.st.Facts(ctx, shopA, discountfn.Buyer{Email: "someone-new@example.com"})
		if got := facts.Usage.Offers["limited"].Total; err != nil || got != orders-orders/10 {
			t.Errorf("usage counted for the limit after the cancellations = %d (%v), want %d", got, err, orders-orders/10)
		}
		stats, err = e.st.OfferStats(ctx, shopA, []string{"limited"}, testNow().AddDate(0, 0, -1), testNow().Add(time.Hour), time.UTC, 30)
		if err != nil || len(stats) != 1 || stats[0].Uses != orders-orders/10 {
			t.Errorf("analytics after the cancellations = %+v, %v; want %d uses", stats, err, orders-orders/10)
		}
		if got := checkout(); got == emptyRunResult {
			t.Errorf("with %d of %d uses left: no discount", orders/10, limit)
		}
	})
}
