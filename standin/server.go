package standin

import (
	"context"
	"embed"
	"encoding/json"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/regularsapp/regulars/graphql/schemacheck"
	"github.com/vektah/gqlparser/v2/ast"
)

//go:embed templates/*.html static/*
var assets embed.FS

// Server is the platform stand-in. It is safe for concurrent use; all state sits behind one
// mutex.
type Server struct {
	cfg Config
	log *slog.Logger

	*Schemas
	functionID string
	// paymentFunctionID is our payment customization function's id.
	paymentFunctionID string
	appID             int64

	pages *template.Template

	mu sync.Mutex
	w  world

	// Background webhook deliveries.
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

// New builds the stand-in: it loads and validates the schemas (the Admin schema once, about
// 3 MB), validates the function's input queries against the function schema, and seeds the
// demo shop.
func New(cfg Config) (*Server, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	s := &Server{cfg: cfg, log: cfg.Logger, appID: 4_242_424, Schemas: cfg.Schemas}
	if s.Schemas == nil {
		if s.Schemas, err = LoadSchemas(cfg.Root); err != nil {
			return nil, err
		}
	}
	if s.pages, err = template.New("").Funcs(templateFuncs()).ParseFS(assets, "templates/*.html"); err != nil {
		return nil, fmt.Errorf("standin: templates: %w", err)
	}
	now := cfg.Now()
	s.w = world{shops: map[string]*shop{}, bulkFiles: map[string][]byte{}}
	s.w.shops[DemoShop] = seedShop(&s.w, DemoShop, cfg.Seed, now)
	s.functionID = seededUUID(cfg.Seed)
	s.paymentFunctionID = seededUUID(^cfg.Seed)
	s.ctx, s.cancel = context.WithCancel(context.Background())
	return s, nil
}

// Schemas are what the stand-in validates and executes against: the Admin API schema, the
// Discount Function schema and the function's fetch input queries. They are read-only once
// loaded, so several servers may share them.
type Schemas struct {
	admin    *ast.Schema // the Admin API schema (2025-10)
	function *ast.Schema // the Discount Function input schema
	// The function's fetch input queries, parsed and validated against the function schema.
	fetchLines    *ast.QueryDocument
	fetchDelivery *ast.QueryDocument
	fetchLinesSrc string
}

// LoadSchemas reads graphql/schema/*.graphql (the Admin schema with its roots block, about
// 3 MB) and discountfn/extension (the function schema and input queries) under root.
func LoadSchemas(root string) (*Schemas, error) {
	sc := &Schemas{}
	files, err := filepath.Glob(filepath.Join(root, "graphql", "schema", "*.graphql"))
	if err != nil || len(files) == 0 {
		return nil, fmt.Errorf("standin: no Admin schema under %s: %w", filepath.Join(root, "graphql", "schema"), errNotFound)
	}
	admin, err := schemacheck.LoadFiles(files...)
	if err != nil {
		return nil, fmt.Errorf("standin: Admin schema: %w", err)
	}
	if sc.admin = admin.AST(); sc.admin.Query == nil || sc.admin.Mutation == nil {
		return nil, fmt.Errorf("standin: the Admin schema has no query or mutation root: %w", errNotFound)
	}
	fnDir := filepath.Join(root, "discountfn", "extension")
	fn, err := schemacheck.LoadFiles(filepath.Join(fnDir, "schema.graphql"))
	if err != nil {
		return nil, fmt.Errorf("standin: function schema: %w", err)
	}
	sc.function = fn.AST()
	if sc.fetchLines, sc.fetchLinesSrc, err = loadFetchQuery(sc.function, filepath.Join(fnDir, "src", "cart_lines_discounts_generate_fetch.graphql")); err != nil {
		return nil, err
	}
	if sc.fetchDelivery, _, err = loadFetchQuery(sc.function, filepath.Join(fnDir, "src", "cart_delivery_options_discounts_generate_fetch.graphql")); err != nil {
		return nil, err
	}
	return sc, nil
}

func loadFetchQuery(schema *ast.Schema, path string) (*ast.QueryDocument, string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, "", fmt.Errorf("standin: function input query: %w", err)
	}
	doc, errs := parseAndValidate(schema, string(b))
	if len(errs) > 0 {
		return nil, "", fmt.Errorf("standin: function input query %s: %s: %w", filepath.Base(path), errs[0].Message, errNotFound)
	}
	return doc, string(b), nil
}

// Close stops retrying webhooks and waits for deliveries in flight.
func (s *Server) Close() {
	s.cancel()
	s.wg.Wait()
}

// Handler is the stand-in's HTTP interface (routes in doc.go).
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", s.handleIndex)
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		_, _ = w.Write([]byte("ok\n"))
	})
	static, _ := fs.Sub(assets, "static")
	mux.Handle("GET /static/", http.StripPrefix("/static/", http.FileServerFS(static)))
	mux.HandleFunc("GET /app-bridge.js", s.handleAppBridge)
	mux.HandleFunc("GET /bulk/{file}", s.handleBulkFile)

	mux.HandleFunc("GET /shops/{shop}/admin/oauth/authorize", s.handleAuthorize)
	mux.HandleFunc("POST /shops/{shop}/admin/oauth/authorize", s.handleAuthorize)
	mux.HandleFunc("POST /shops/{shop}/admin/oauth/access_token", s.handleAccessToken)
	mux.HandleFunc("POST /shops/{shop}/admin/api/{version}/graphql.json", s.handleGraphQL)

	mux.HandleFunc("GET /shops/{shop}/admin", s.handleAdminHome)
	mux.HandleFunc("GET /shops/{shop}/admin/apps/regulars", s.handleAdminApp)
	mux.HandleFunc("GET /shops/{shop}/admin/apps/regulars/{path...}", s.handleAdminApp)
	mux.HandleFunc("POST /shops/{shop}/admin/id-token", s.handleIDToken)
	mux.HandleFunc("POST /shops/{shop}/admin/uninstall", s.handleUninstall)
	mux.HandleFunc("GET /shops/{shop}/admin/orders", s.handleAdminOrders)
	mux.HandleFunc("POST /shops/{shop}/admin/orders/{id}/cancel", s.handleOrderCancel)
	mux.HandleFunc("POST /shops/{shop}/admin/orders/{id}/refund", s.handleOrderRefund)
	mux.HandleFunc("GET /shops/{shop}/admin/customers", s.handleAdminCustomers)
	mux.HandleFunc("POST /shops/{shop}/admin/customers/{id}/tags", s.handleCustomerTags)

	mux.HandleFunc("GET /shops/{shop}/checkout", s.handleCheckout)
	mux.HandleFunc("POST /shops/{shop}/checkout", s.handleCheckout)
	return s.logRequests(mux)
}

func (s *Server) logRequests(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
		next.ServeHTTP(rec, r)
		s.log.Debug("request", "method", r.Method, "path", r.URL.Path, "status", rec.status,
			"duration", time.Since(start).Round(time.Microsecond))
	})
}

type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (r *statusRecorder) WriteHeader(code int) {
	r.status = code
	r.ResponseWriter.WriteHeader(code)
}

// baseURL is the stand-in's public base URL.
func (s *Server) baseURL(r *http.Request) string {
	if s.cfg.BaseURL != "" {
		return s.cfg.BaseURL
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}

func (s *Server) now() time.Time { return s.cfg.Now() }

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		http.Error(w, "encoding the answer failed", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// lookupShop returns the shop or nil; the caller holds s.mu.
func (s *Server) lookupShop(domain string) *shop { return s.w.shops[domain] }

// seededUUID is a UUID derived from the seed, stable across runs: our function's id.
func seededUUID(seed int64) string {
	u := uint64(seed)*0x9E3779B97F4A7C15 + 0x243F6A8885A308D3
	v := u ^ 0xB7E151628AED2A6A
	return fmt.Sprintf("%08x-%04x-4%03x-a%03x-%012x", uint32(u>>32), uint16(u>>16), uint16(u)&0xfff, uint16(v>>48)&0xfff, v&0xffffffffffff)
}
