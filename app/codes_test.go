package app

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/regularsapp/regulars/codegen"
	"github.com/regularsapp/regulars/discountfn"
	"github.com/regularsapp/regulars/store"
	"github.com/regularsapp/regulars/store/storetest"
)

// codesHooks is recordingHooks that also hears of new codes (a CodesSyncer).
type codesHooks struct {
	*recordingHooks
	mu    sync.Mutex
	added []string // "shop/offer"
	fail  bool
}

func (h *codesHooks) CodesAdded(_ context.Context, shop, offerID string) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.added = append(h.added, shop+"/"+offerID)
	if h.fail {
		return errors.New("sync queue unavailable")
	}
	return nil
}

func (h *codesHooks) codesAdded() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return slices.Clone(h.added)
}

// codesEnv is adminOnlyEnv whose OfferSyncer is a codesHooks.
func codesEnv(t *testing.T, st *store.Store) (*authEnv, *codesHooks) {
	t.Helper()
	env := adminOnlyEnv(t, st)
	hooks := &codesHooks{recordingHooks: env.hooks}
	logger := slog.New(slog.NewJSONHandler(env.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	env.srv = New(env.srv.cfg, Deps{Store: st, Now: env.clock.Now, Logger: logger, Installer: env.hooks, OfferSync: hooks})
	return env, hooks
}

// codesOffer creates an offer of the given application kind through the API.
func createCodesOffer(t *testing.T, env *authEnv, shop, id string, kind discountfn.ApplicationKind) {
	t.Helper()
	o := percentOffer(id, 10*100)
	o.Application = discountfn.Application{Kind: kind}
	resp, body := env.call(t, http.MethodPost, "/api/offers", shop, o, nil)
	mustStatus(t, "create offer "+id, resp, body, http.StatusCreated)
}

// allCodes lists every code of the offer, page by page.
func allCodes(t *testing.T, st *store.Store, shop, offerID string) []store.Code {
	t.Helper()
	var all []store.Code
	after := ""
	for {
		page, err := st.ListCodes(context.Background(), shop, offerID, 700, after)
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, page...)
		if len(page) < 700 {
			return all
		}
		after = page[len(page)-1].Code
	}
}

func csvHeader() http.Header { return http.Header{"Content-Type": {"text/csv"}} }

func TestAdminCodesGenerate(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		env, hooks := codesEnv(t, st)
		mustShops(t, st, shopA, shopB)
		createCodesOffer(t, env, shopA, "unique", discountfn.ApplyCodes)
		createCodesOffer(t, env, shopA, "auto", discountfn.ApplyAutomatic)

		resp, body := env.call(t, http.MethodPost, "/api/offers/unique/codes/generate", shopA,
			map[string]any{"pattern": map[string]any{"length": 8, "prefix": "vip"}, "count": 2000, "single_use": true}, nil)
		mustStatus(t, "generate", resp, body, http.StatusCreated)
		var answer struct {
			Generated int      `json:"generated"`
			Sample    []string `json:"sample"`
		}
		decodeJSON(t, body, &answer)
		if answer.Generated != 2000 || len(answer.Sample) != 10 {
			t.Fatalf("answer = %s", body)
		}
		codes := allCodes(t, st, shopA, "unique")
		if len(codes) != 2000 {
			t.Fatalf("%d codes stored, want 2000", len(codes))
		}
		pattern := regexp.MustCompile(`^VIP[ABCDEFGHJKMNPQRSTUVWXYZ2-9]{8}$`)
		seen := map[string]bool{}
		for _, c := range codes {
			if seen[c.Code] || !pattern.MatchString(c.Code) || !c.SingleUse || c.CustomerID != "" {
				t.Fatalf("stored code %+v: repeated or off the pattern", c)
			}
			seen[c.Code] = true
		}
		for _, s := range answer.Sample {
			if !seen[s] {
				t.Errorf("sample code %s is not stored", s)
			}
		}
		if got := hooks.codesAdded(); !slices.Equal(got, []string{shopA + "/unique"}) {
			t.Errorf("CodesAdded calls = %v", got)
		}

		// Bad requests change nothing.
		for _, tc := range []struct {
			name, path, shop string
			body             any
			status           int
			problem          string
		}{
			{"count 0", "unique", shopA, map[string]any{"count": 0}, http.StatusUnprocessableEntity, "count"},
			{"count too large", "unique", shopA, map[string]any{"count": 100_001}, http.StatusUnprocessableEntity, "count"},
			{"length too long", "unique", shopA, map[string]any{"count": 1, "pattern": map[string]any{"length": 28, "prefix": "ABC"}}, http.StatusUnprocessableEntity, "pattern.length"},
			{"space too small", "unique", shopA, map[string]any{"count": 60, "pattern": map[string]any{"length": 4, "charset": "AB"}}, http.StatusUnprocessableEntity, "pattern.length"},
			{"bad charset", "unique", shopA, map[string]any{"count": 1, "pattern": map[string]any{"charset": "A-B"}}, http.StatusUnprocessableEntity, "pattern.charset"},
			{"automatic offer", "auto", shopA, map[string]any{"count": 1}, http.StatusUnprocessableEntity, "application.kind"},
			{"another shop's offer", "unique", shopB, map[string]any{"count": 1}, http.StatusNotFound, ""},
			{"no offer", "missing", shopA, map[string]any{"count": 1}, http.StatusNotFound, ""},
		} {
			resp, body := env.call(t, http.MethodPost, "/api/offers/"+tc.path+"/codes/generate", tc.shop, tc.body, nil)
			mustStatus(t, tc.name, resp, body, tc.status)
			if tc.problem != "" && !strings.Contains(string(body), `"path":"`+tc.problem+`"`) {
				t.Errorf("%s: %s does not name %s", tc.name, body, tc.problem)
			}
		}
		if n := len(allCodes(t, st, shopA, "unique")); n != 2000 {
			t.Errorf("%d codes after bad requests", n)
		}

		// A pattern whose codes are mostly taken collides twice: 409, nothing stored.
		createCodesOffer(t, env, shopA, "small", discountfn.ApplyCodes)
		small := map[string]any{"count": 5000, "pattern": map[string]any{"length": 4, "charset": "digits"}}
		resp, body = env.call(t, http.MethodPost, "/api/offers/small/codes/generate", shopA, small, nil)
		mustStatus(t, "first half of the space", resp, body, http.StatusCreated)
		resp, body = env.call(t, http.MethodPost, "/api/offers/small/codes/generate", shopA, small, nil)
		mustStatus(t, "second half of the space", resp, body, http.StatusConflict)
		if n := len(allCodes(t, st, shopA, "small")); n != 5000 {
			t.Errorf("%d codes after the conflict, want 5000", n)
		}
	})
}

func TestAdminCodesImportExport(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		env, hooks := codesEnv(t, st)
		mustShops(t, st, shopA, shopB)
		createCodesOffer(t, env, shopA, "unique", discountfn.ApplyCodes)
		createCodesOffer(t, env, shopA, "other", discountfn.ApplyCodes)
		createCodesOffer(t, env, shopA, "auto", discountfn.ApplyAutomatic)
		if err := st.AddCodes(context.Background(), shopA, "other", []store.CodeRow{{Code: "TAKEN1"}}); err != nil {
			t.Fatal(err)
		}

		// 10 rows, 3 bad: a code off the rule, a bad customer id, a code another offer has.
		file := strings.Join([]string{
			"code,customer_id,single_use",
			"GOOD1,,true",
			"good2,gid://shopify/Customer/7,",
			"BAD-3,,",
			"GOOD4,,0",
			"GOOD5,customer-5,1",
			"GOOD6,,false",
			"taken1,,",
			"GOOD8,,1",
			"GOOD9,gid://shopify/Customer/9,true",
			"GOOD10,,",
		}, "\n") + "\n"

		// Strict: nothing stored.
		resp, body := env.call(t, http.MethodPost, "/api/offers/unique/codes/import?strict=1", shopA, []byte(file), csvHeader())
		mustStatus(t, "strict import", resp, body, http.StatusUnprocessableEntity)
		if n := len(allCodes(t, st, shopA, "unique")); n != 0 {
			t.Fatalf("strict import stored %d codes", n)
		}

		resp, body = env.call(t, http.MethodPost, "/api/offers/unique/codes/import", shopA, []byte(file), csvHeader())
		mustStatus(t, "import", resp, body, http.StatusOK)
		var answer importCodesAnswer
		decodeJSON(t, body, &answer)
		want := []codegen.RowProblem{
			{Line: 4, Field: "code", Message: "must contain only letters and digits"},
			{Line: 6, Field: "customer_id", Message: "must be empty or a gid://shopify/Customer/… id"},
			{Line: 8, Field: "code", Message: "already exists in another offer"},
		}
		if answer.Imported != 7 || !slices.Equal(answer.Problems, want) {
			t.Fatalf("import answer = %s", body)
		}
		codes := allCodes(t, st, shopA, "unique")
		if len(codes) != 7 || codes[0].Code != "GOOD1" || !codes[0].SingleUse {
			t.Fatalf("stored %+v", codes)
		}
		if got := hooks.codesAdded(); !slices.Equal(got, []string{shopA + "/unique"}) {
			t.Errorf("CodesAdded calls = %v", got)
		}

		// The same file again: every good row is now a duplicate in this offer.
		resp, body = env.call(t, http.MethodPost, "/api/offers/unique/codes/import", shopA, []byte(file), csvHeader())
		mustStatus(t, "import again", resp, body, http.StatusOK)
		decodeJSON(t, body, &answer)
		if answer.Imported != 0 || len(answer.Problems) != 10 || answer.Problems[0].Message != "already exists in this offer" {
			t.Fatalf("second import answer = %s", body)
		}

		// Add generated codes, then export: the file holds every code, and imports back.
		resp, body = env.call(t, http.MethodPost, "/api/offers/unique/codes/generate", shopA, map[string]any{"count": 12_000}, nil)
		mustStatus(t, "generate", resp, body, http.StatusCreated)
		resp, body = env.call(t, http.MethodGet, "/api/offers/unique/codes.csv", shopA, nil, nil)
		mustStatus(t, "export", resp, body, http.StatusOK)
		if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/csv") {
			t.Errorf("Content-Type %q", ct)
		}
		rows, report := codegen.ParseCSV(bytes.NewReader(body))
		stored := allCodes(t, st, shopA, "unique")
		if len(report) > 0 || len(rows) != len(stored) || len(stored) != 12_007 {
			t.Fatalf("export: %d rows, %d problems (%v), %d stored", len(rows), len(report), report[:min(3, len(report))], len(stored))
		}
		for i, r := range rows {
			s := stored[i]
			if r.Code != s.Code || r.CustomerID != s.CustomerID || r.SingleUse != s.SingleUse {
				t.Fatalf("export row %d = %+v, stored %+v", i, r, s)
			}
		}
		// Round trip into another shop's offer.
		createCodesOffer(t, env, shopB, "copy", discountfn.ApplyCodes)
		resp, body2 := env.call(t, http.MethodPost, "/api/offers/copy/codes/import?strict=1", shopB, body, csvHeader())
		mustStatus(t, "import the export", resp, body2, http.StatusOK)
		decodeJSON(t, body2, &answer)
		copied := allCodes(t, st, shopB, "copy")
		if answer.Imported != len(stored) || len(copied) != len(stored) {
			t.Fatalf("round trip: imported %d, stored %d of %d", answer.Imported, len(copied), len(stored))
		}
		for i := range copied {
			if copied[i].Code != stored[i].Code || copied[i].CustomerID != stored[i].CustomerID || copied[i].SingleUse != stored[i].SingleUse {
				t.Fatalf("round trip code %d: %+v, want %+v", i, copied[i], stored[i])
			}
		}

		// An empty offer exports the header only.
		resp, body = env.call(t, http.MethodGet, "/api/offers/other/codes.csv", shopB, nil, nil)
		mustStatus(t, "another shop's export", resp, body, http.StatusNotFound)
		createCodesOffer(t, env, shopA, "empty", discountfn.ApplyCodes)
		resp, body = env.call(t, http.MethodGet, "/api/offers/empty/codes.csv", shopA, nil, nil)
		mustStatus(t, "empty export", resp, body, http.StatusOK)
		if string(body) != "code,customer_id,single_use\n" {
			t.Errorf("empty export = %q", body)
		}

		// Cross-shop, wrong kind, bad query.
		for _, tc := range []struct {
			name, method, path, shop string
			status                   int
		}{
			{"import into another shop's offer", http.MethodPost, "/api/offers/unique/codes/import", shopB, http.StatusNotFound},
			{"export another shop's offer", http.MethodGet, "/api/offers/unique/codes.csv", shopB, http.StatusNotFound},
			{"import into an automatic offer", http.MethodPost, "/api/offers/auto/codes/import", shopA, http.StatusUnprocessableEntity},
			{"export an automatic offer", http.MethodGet, "/api/offers/auto/codes.csv", shopA, http.StatusUnprocessableEntity},
			{"bad strict", http.MethodPost, "/api/offers/unique/codes/import?strict=maybe", shopA, http.StatusBadRequest},
		} {
			var b any
			if tc.method == http.MethodPost {
				b = []byte("NEW1\n")
			}
			resp, body := env.call(t, tc.method, tc.path, tc.shop, b, csvHeader())
			mustStatus(t, tc.name, resp, body, tc.status)
		}
		if _, err := st.LookupCode(context.Background(), shopB, "NEW1"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("a refused import stored a code: %v", err)
		}
	})
}

// TestAdminCodesFallbackHook: an OfferSyncer without CodesAdded hears of new codes through
// OfferChanged; a failing hook is logged and the codes stay stored.
func TestAdminCodesFallbackHook(t *testing.T) {
	st := storetest.SQLite(t)
	env := adminOnlyEnv(t, st)
	mustShops(t, st, shopA)
	createCodesOffer(t, env, shopA, "unique", discountfn.ApplyCodes)
	env.hooks.failOffers = true
	resp, body := env.call(t, http.MethodPost, "/api/offers/unique/codes/import", shopA, []byte("A1\nB2\n"), csvHeader())
	mustStatus(t, "import", resp, body, http.StatusOK)
	if got := env.hooks.changed(); !slices.Equal(got, []string{shopA + "/unique", shopA + "/unique"}) {
		t.Errorf("OfferChanged calls = %v (create, then codes)", got)
	}
	if n := len(allCodes(t, st, shopA, "unique")); n != 2 {
		t.Errorf("%d codes stored", n)
	}
	if !strings.Contains(env.logs.String(), "codes added: sync hook failed") {
		t.Error("the hook's failure is not logged")
	}
}

// BenchmarkGenerateAndStore100k: 100,000 codes of the default pattern generated and stored in
// one AddCodes call, each iteration into a fresh offer of a fresh shop on the same database.
func BenchmarkGenerateAndStore100k(b *testing.B) {
	b.Run("sqlite", func(b *testing.B) { benchGenerateAndStore(b, storetest.SQLite(b)) })
	b.Run("postgres", func(b *testing.B) {
		benchGenerateAndStore(b, storetest.OpenMigrated(b, storetest.NewPostgresDSN(b)))
	})
}

func benchGenerateAndStore(b *testing.B, st *store.Store) {
	ctx := context.Background()
	o := percentOffer("bench", 10*100)
	o.Application = discountfn.Application{Kind: discountfn.ApplyCodes}
	config, err := json.Marshal(o)
	if err != nil {
		b.Fatal(err)
	}
	const n = 100_000
	i := 0
	for b.Loop() {
		b.StopTimer()
		i++
		shop := fmt.Sprintf("bench-%d.myshopify.com", i)
		if _, err := st.UpsertShop(ctx, store.Shop{Domain: shop, Currency: "USD", Timezone: "UTC"}); err != nil {
			b.Fatal(err)
		}
		if _, err := st.SaveOffer(ctx, shop, "bench", string(o.Status), config, 0); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		codes, err := codegen.Generate(codegen.Pattern{}, n, nil)
		if err != nil {
			b.Fatal(err)
		}
		rows := make([]store.CodeRow, n)
		for j, c := range codes {
			rows[j] = store.CodeRow{Code: c}
		}
		if err := st.AddCodes(ctx, shop, "bench", rows); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(n*i)/b.Elapsed().Seconds(), "codes/s")
}
