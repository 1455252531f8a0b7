// Package graphqltest is a fake of the platform's Admin GraphQL API for tests: an httptest
// server that validates every request against the pinned schema (the query with all of the
// spec's rules, and its variables against their input types) the way the platform does, and
// answers with whatever the test's handler returns (recorded JSON). A request that does not
// validate is answered as the platform answers it, and recorded as a failure of the test.
package graphqltest

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"

	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
	"github.com/vektah/gqlparser/v2/parser"
	"github.com/vektah/gqlparser/v2/validator"

	"github.com/regularsapp/regulars/graphql/schemacheck"
)

// APIPath is the Admin API's path under a shop (the contract's version).
const APIPath = "/admin/api/2025-10/graphql.json"

// Request is one validated request.
type Request struct {
	Shop  string // from the path /shops/{shop}/admin/api/2025-10/graphql.json
	Token string // X-Shopify-Access-Token
	Op    string // operationName
	Query string
	// Vars are the variables as sent (decoded JSON).
	Vars map[string]any
	// RawVars are the variables' JSON text.
	RawVars json.RawMessage
}

// Response is what the fake answers. A zero Status is 200.
type Response struct {
	Status int
	Header http.Header
	Body   string
}

// Handler answers one request.
type Handler func(r Request) Response

// Server is the fake platform.
type Server struct {
	*httptest.Server
	tb      testing.TB
	schema  *ast.Schema
	handler Handler

	mu       sync.Mutex
	requests []Request
}

// SchemaFiles are the pinned schema's files.
func SchemaFiles() []string {
	_, file, _, _ := runtime.Caller(0)
	dir := filepath.Join(filepath.Dir(file), "..", "schema")
	return []string{filepath.Join(dir, "shopify-admin-2025-10.graphql"), filepath.Join(dir, "roots.graphql")}
}

// LoadSchema loads the pinned schema.
func LoadSchema(tb testing.TB) *schemacheck.Schema {
	tb.Helper()
	s, err := schemacheck.LoadFiles(SchemaFiles()...)
	if err != nil {
		tb.Fatalf("load the pinned schema: %v", err)
	}
	return s
}

// New starts a fake answering with h; it is closed when the test ends.
func New(tb testing.TB, h Handler) *Server {
	tb.Helper()
	s := &Server{tb: tb, schema: LoadSchema(tb).AST(), handler: h}
	s.Server = httptest.NewServer(http.HandlerFunc(s.serve))
	tb.Cleanup(s.Close)
	return s
}

// URL is the shop's Admin API endpoint on the fake (the stand-in's address scheme).
func (s *Server) URL(shop string) string { return s.Server.URL + "/shops/" + shop + APIPath }

// Requests returns the validated requests so far.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.requests...)
}

// Ops returns the operation names of the requests so far.
func (s *Server) Ops() []string {
	var ops []string
	for _, r := range s.Requests() {
		ops = append(ops, r.Op)
	}
	return ops
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	shop, ok := strings.CutPrefix(r.URL.Path, "/shops/")
	if ok {
		shop, ok = strings.CutSuffix(shop, APIPath)
	}
	if r.Method != http.MethodPost || !ok || shop == "" {
		s.tb.Errorf("graphqltest: unexpected %s %s", r.Method, r.URL.Path)
		http.NotFound(w, r)
		return
	}
	token := r.Header.Get("X-Shopify-Access-Token")
	if token == "" {
		s.tb.Errorf("graphqltest: request without X-Shopify-Access-Token")
		writeJSON(w, http.StatusUnauthorized, `{"errors":"[API] Invalid API key or access token (unrecognized login or wrong password)"}`)
		return
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	var req struct {
		Query         string          `json:"query"`
		OperationName string          `json:"operationName"`
		Variables     json.RawMessage `json:"variables"`
	}
	if err := json.Unmarshal(body, &req); err != nil {
		s.tb.Errorf("graphqltest: body is not JSON: %v", err)
		writeJSON(w, http.StatusBadRequest, `{"errors":[{"message":"invalid JSON"}]}`)
		return
	}
	vars := map[string]any{}
	if len(req.Variables) > 0 && string(req.Variables) != "null" {
		if err := json.Unmarshal(req.Variables, &vars); err != nil {
			s.tb.Errorf("graphqltest: variables are not a JSON object: %v", err)
		}
	}
	if errs := Validate(s.schema, req.Query, req.OperationName, vars); len(errs) > 0 {
		s.tb.Errorf("graphqltest: %s does not validate against the pinned schema: %v", req.OperationName, errs)
		b, _ := json.Marshal(map[string]any{"errors": errs})
		writeJSON(w, http.StatusOK, string(b))
		return
	}
	rec := Request{Shop: shop, Token: token, Op: req.OperationName, Query: req.Query, Vars: vars, RawVars: req.Variables}
	s.mu.Lock()
	s.requests = append(s.requests, rec)
	s.mu.Unlock()
	resp := s.handler(rec)
	for k, vs := range resp.Header {
		for _, v := range vs {
			w.Header().Add(k, v)
		}
	}
	status := resp.Status
	if status == 0 {
		status = http.StatusOK
	}
	writeJSON(w, status, resp.Body)
}

func writeJSON(w http.ResponseWriter, status int, body string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = io.WriteString(w, body)
}

// Validate checks a request as the platform does: the document against the schema with the
// spec's rules, the named operation's variables against their types, and (the schema printed
// from introspection lost the directive) the one-of rule of DiscountContextInput.
func Validate(schema *ast.Schema, query, opName string, vars map[string]any) gqlerror.List {
	doc, err := parser.ParseQuery(&ast.Source{Name: "request", Input: query})
	if err != nil {
		return gqlerror.List{gqlerror.WrapIfUnwrapped(err)}
	}
	if errs := validator.Validate(schema, doc); len(errs) > 0 {
		return errs
	}
	op := doc.Operations.ForName(opName)
	if op == nil {
		return gqlerror.List{gqlerror.Errorf("operation %q is not in the document", opName)}
	}
	coerced, gerr := validator.VariableValues(schema, op, vars)
	if gerr != nil {
		return gqlerror.List{gqlerror.WrapIfUnwrapped(gerr)}
	}
	if msg := checkOneOf(schema, op, coerced); msg != "" {
		return gqlerror.List{gqlerror.Errorf("%s", msg)}
	}
	return nil
}

// oneOfInput reports the platform's one-of input types among those we send.
func oneOfInput(name string) bool { return name == "DiscountContextInput" }

func checkOneOf(schema *ast.Schema, op *ast.OperationDefinition, vars map[string]any) string {
	var walk func(t *ast.Type, v any, path string) string
	walk = func(t *ast.Type, v any, path string) string {
		if v == nil || t == nil {
			return ""
		}
		if t.Elem != nil {
			list, _ := v.([]any)
			for i, item := range list {
				if msg := walk(t.Elem, item, fmt.Sprintf("%s[%d]", path, i)); msg != "" {
					return msg
				}
			}
			return ""
		}
		def := schema.Types[t.NamedType]
		obj, ok := v.(map[string]any)
		if def == nil || def.Kind != ast.InputObject || !ok {
			return ""
		}
		if oneOfInput(def.Name) {
			set := 0
			for _, fv := range obj {
				if fv != nil {
					set++
				}
			}
			if set != 1 || len(obj) != 1 {
				return fmt.Sprintf("%s: %s requires exactly one key with a non-null value, got %d keys", path, def.Name, len(obj))
			}
		}
		for _, f := range def.Fields {
			if msg := walk(f.Type, obj[f.Name], path+"."+f.Name); msg != "" {
				return msg
			}
		}
		return ""
	}
	for _, vd := range op.VariableDefinitions {
		if msg := walk(vd.Type, vars[vd.Variable], "$"+vd.Variable); msg != "" {
			return msg
		}
	}
	return ""
}
