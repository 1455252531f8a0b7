package app

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/gofiber/fiber/v2"
)

func TestErrorResponses(t *testing.T) {
	const secret = "pq: password authentication failed for user regulars"
	tests := []struct {
		name       string
		method     string
		path       string
		handler    fiber.Handler // registered at path before the request, when set
		wantStatus int
		wantError  string
		wantLogged bool
	}{
		{"unknown route", http.MethodGet, "/nope/<b>x</b>", nil, http.StatusNotFound, "not found", false},
		{"wrong method", http.MethodPut, "/healthz", nil, http.StatusMethodNotAllowed, "method not allowed", false},
		{
			"internal error", http.MethodGet, "/test/fail",
			func(*fiber.Ctx) error { return fmt.Errorf("load shop: %w", errors.New(secret)) },
			http.StatusInternalServerError, "internal server error", true,
		},
		{
			"panic", http.MethodGet, "/test/panic",
			func(*fiber.Ctx) error { panic(secret) },
			http.StatusInternalServerError, "internal server error", true,
		},
		{
			"fiber 5xx", http.MethodGet, "/test/unavailable",
			func(*fiber.Ctx) error { return fiber.NewError(http.StatusServiceUnavailable, secret) },
			http.StatusServiceUnavailable, "service unavailable", true,
		},
		{
			"bad request keeps its message", http.MethodGet, "/test/bad",
			func(*fiber.Ctx) error { return badRequest(errors.New(secret), "offer_id is required") },
			http.StatusBadRequest, "offer_id is required", false,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := newTestEnv(t, testConfig())
			if tt.handler != nil {
				env.srv.App().Get(tt.path, tt.handler)
			}
			resp, got := env.do(t, tt.method, tt.path, "", nil)
			if resp.StatusCode != tt.wantStatus {
				t.Fatalf("status = %d, want %d; body %s", resp.StatusCode, tt.wantStatus, got)
			}
			assertJSONError(t, resp, got, tt.wantError)
			if strings.Contains(string(got), "password") || strings.Contains(string(got), "<b>") {
				t.Errorf("response leaks request or internal text: %s", got)
			}
			recs := env.logs.logRecords(t)
			wantErrors := 0
			if tt.wantLogged {
				wantErrors = 1
				if !hasLog(recs, "ERROR", secret, tt.path) {
					t.Errorf("want the error logged with its path; logs:\n%s", env.logs)
				}
			}
			if n := countLevel(recs, "ERROR"); n != wantErrors {
				t.Errorf("%d ERROR records, want %d; logs:\n%s", n, wantErrors, env.logs)
			}
		})
	}
}

func TestHealthz(t *testing.T) {
	env := newTestEnv(t, testConfig())
	resp, got := env.do(t, http.MethodGet, "/healthz", "", nil)
	if resp.StatusCode != http.StatusOK || string(got) != `{"status":"ok"}` {
		t.Fatalf("got %d %s", resp.StatusCode, got)
	}
}
