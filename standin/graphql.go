package standin

import (
	"bytes"
	"encoding/json"
	"io"
	"mime"
	"net/http"
	"strconv"
	"time"

	"github.com/vektah/gqlparser/v2/ast"
)

// gqlRequest is a GraphQL POST body.
type gqlRequest struct {
	Query         string         `json:"query"`
	Variables     map[string]any `json:"variables"`
	OperationName string         `json:"operationName"`
}

// gqlResponse is a GraphQL answer.
type gqlResponse struct {
	Data       any            `json:"data,omitempty"`
	Errors     []gqlError     `json:"errors,omitempty"`
	Extensions map[string]any `json:"extensions,omitempty"`
}

const maxGraphQLBody = 1 << 20

// reqCtx is what resolvers see of one request. Resolvers run with s.mu held.
type reqCtx struct {
	s       *Server
	sh      *shop
	now     time.Time
	scopes  []string
	baseURL string
}

func (c *reqCtx) need(scope, field string) error {
	if hasScope(c.scopes, scope) {
		return nil
	}
	return accessDenied(field, scope)
}

// handleGraphQL is the Admin API endpoint.
func (s *Server) handleGraphQL(w http.ResponseWriter, r *http.Request) {
	if v := r.PathValue("version"); v != APIVersion {
		writeJSON(w, http.StatusNotFound, map[string]string{"errors": "Not Found: the stand-in serves API version " + APIVersion + " only"})
		return
	}
	domain := r.PathValue("shop")
	body, err := io.ReadAll(io.LimitReader(r.Body, maxGraphQLBody+1))
	if err != nil || len(body) > maxGraphQLBody {
		writeJSON(w, http.StatusRequestEntityTooLarge, map[string]string{"errors": "Request body too large"})
		return
	}
	now := s.now()

	s.mu.Lock()
	defer s.mu.Unlock()
	sh := s.lookupShop(domain)
	if sh == nil {
		writeJSON(w, http.StatusNotFound, map[string]string{"errors": "Not Found"})
		return
	}
	tok := validToken(sh, r.Header.Get("X-Shopify-Access-Token"), now)
	if tok == nil {
		writeJSON(w, http.StatusUnauthorized, map[string]string{
			"errors": "[API] Invalid API key or access token (unrecognized login or wrong password)",
		})
		return
	}
	var req gqlRequest
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if ct == "application/graphql" {
		req.Query = string(body)
	} else {
		dec := json.NewDecoder(bytes.NewReader(body))
		dec.UseNumber()
		if err := dec.Decode(&req); err != nil || req.Query == "" {
			writeJSON(w, http.StatusBadRequest, map[string]any{"errors": map[string]string{"query": "Required parameter missing or invalid"}})
			return
		}
	}
	s.settle(sh, now)
	ctx := &reqCtx{s: s, sh: sh, now: now, scopes: tok.Scopes, baseURL: s.baseURL(r)}
	writeJSON(w, http.StatusOK, s.execute(ctx, req))
}

// execute validates, costs, throttles and runs one request. The caller holds s.mu.
func (s *Server) execute(ctx *reqCtx, req gqlRequest) gqlResponse {
	b := &ctx.sh.Bucket
	b.refill(ctx.now)
	ext := func(requested int, actual *int) map[string]any {
		return map[string]any{"cost": costExtension{
			RequestedQueryCost: requested, ActualQueryCost: actual,
			ThrottleStatus: throttleStatus{MaximumAvailable: bucketSize, CurrentlyAvailable: b.available(), RestoreRate: restoreRate},
		}}
	}
	doc, errs := parseAndValidate(s.admin, req.Query)
	if len(errs) > 0 {
		return gqlResponse{Errors: errs, Extensions: ext(0, nil)}
	}
	op, err := pickOperation(doc, req.OperationName)
	if err != nil {
		return gqlResponse{Errors: []gqlError{{Message: err.Error(), Extensions: map[string]any{"code": "OPERATION_NOT_FOUND"}}}, Extensions: ext(0, nil)}
	}
	if op.Operation == ast.Subscription {
		return gqlResponse{Errors: []gqlError{{Message: "Subscriptions are not supported", Extensions: map[string]any{"code": "GRAPHQL_VALIDATION_FAILED"}}}, Extensions: ext(0, nil)}
	}
	vars, errs := coerceVariables(s.admin, op, req.Variables)
	if len(errs) > 0 {
		return gqlResponse{Errors: errs, Extensions: ext(0, nil)}
	}
	requested := requestedCost(s.admin, op, vars)
	if requested > bucketSize {
		return gqlResponse{Errors: []gqlError{{
			Message:    "Query cost is " + strconv.Itoa(requested) + ", which exceeds the single query max cost limit (1000).",
			Extensions: map[string]any{"code": "MAX_COST_EXCEEDED", "cost": requested, "maxCost": bucketSize},
		}}, Extensions: ext(requested, nil)}
	}
	if requested > b.available() {
		return gqlResponse{Errors: []gqlError{{
			Message:    "Throttled",
			Extensions: map[string]any{"code": "THROTTLED", "documentation": "https://shopify.dev/api/usage/rate-limits"},
		}}, Extensions: ext(requested, nil)}
	}
	b.take(requested)
	e := &executor{schema: s.admin, vars: vars}
	var root map[string]any
	if op.Operation == ast.Mutation {
		root = s.mutationRoot(ctx)
	} else {
		root = s.queryRoot(ctx)
	}
	data := e.run(op, root)
	actual := e.cost
	if actual < requested {
		b.give(requested - actual)
	} else {
		b.take(actual - requested)
	}
	return gqlResponse{Data: data, Errors: e.errors, Extensions: ext(requested, &actual)}
}
