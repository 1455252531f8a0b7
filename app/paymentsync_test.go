package app

import (
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/regularsapp/regulars/graphql"
	"github.com/regularsapp/regulars/graphql/graphqltest"
	"github.com/regularsapp/regulars/store"
	"github.com/regularsapp/regulars/store/storetest"
)

// TestInstallRegistersPaymentCustomization: install creates the payment customization once
// (install and reconciliation again create no second one, and leave one that exists, enabled
// or not); reconciliation creates it again when it is gone; the platform's userErrors and a
// missing function are recorded where the merchant sees them without holding up the install,
// and a transient failure fails the install job, to be retried.
func TestInstallRegistersPaymentCustomization(t *testing.T) {
	unavailable := graphqltest.Response{Status: http.StatusServiceUnavailable, Body: `{"errors":"unavailable"}`}
	tests := []struct {
		name string
		// before runs before the install; after, between the install and the check.
		before func(e *syncEnv)
		after  func(t *testing.T, e *syncEnv)
		// wantCreates is how many paymentCustomizationCreate calls the platform saw;
		// wantLive how many customizations it has at the end.
		wantCreates int
		wantLive    int
		wantError   []string // in the shop's LastError ("" when nil)
		wantRetry   bool     // the install job is pending, to be retried
	}{
		{name: "created once", wantCreates: 1, wantLive: 1},
		{name: "install and reconciliation again create no second", after: func(t *testing.T, e *syncEnv) {
			ctx := context.Background()
			if err := e.y.AfterInstall(ctx, shopA); err != nil {
				t.Fatal(err)
			}
			e.drain(t)
			e.reconcile(t)
		}, wantCreates: 1, wantLive: 1},
		{name: "an existing one is left, even disabled", before: func(e *syncEnv) {
			e.p.mu.Lock()
			e.p.payments = append(e.p.payments, &fakePayment{ID: "gid://shopify/PaymentCustomization/1", Title: "Turned off",
				FunctionID: fakePaymentFunctionID})
			e.p.mu.Unlock()
		}, wantCreates: 0, wantLive: 1},
		{name: "one of another function does not count", before: func(e *syncEnv) {
			e.p.mu.Lock()
			e.p.payments = append(e.p.payments, &fakePayment{ID: "gid://shopify/PaymentCustomization/1", Title: "Someone else's",
				FunctionID: "0e8a1c4b-0000-4000-8000-000000000001", Enabled: true})
			e.p.mu.Unlock()
		}, wantCreates: 1, wantLive: 2},
		{name: "deleted by the merchant, reconciliation creates it again", after: func(t *testing.T, e *syncEnv) {
			e.p.dropPaymentCustomizations()
			e.reconcile(t)
		}, wantCreates: 2, wantLive: 1},
		{name: "userErrors are recorded; the install completes", before: func(e *syncEnv) {
			e.p.inject("paymentCustomizationCreate", jsonAnswer(map[string]any{"paymentCustomizationCreate": map[string]any{
				"paymentCustomization": nil, "userErrors": userErrors("Shop must be on a Shopify Plus plan to activate payment customizations from a custom app.",
					"PAYMENT_CUSTOMIZATION_FUNCTION_NOT_ELIGIBLE", "paymentCustomization", "enabled")}}))
		}, wantCreates: 1, wantLive: 0,
			wantError: []string{"payment customization: paymentCustomization.enabled: Shop must be on a Shopify Plus plan", "(PAYMENT_CUSTOMIZATION_FUNCTION_NOT_ELIGIBLE)"}},
		{name: "after userErrors, reconciliation creates it and clears the error", before: func(e *syncEnv) {
			e.p.inject("paymentCustomizationCreate", jsonAnswer(map[string]any{"paymentCustomizationCreate": map[string]any{
				"paymentCustomization": nil, "userErrors": userErrors("Maximum payment customizations are already enabled.", "MAXIMUM_ACTIVE_PAYMENT_CUSTOMIZATIONS")}}))
		}, after: func(t *testing.T, e *syncEnv) { e.reconcile(t) }, wantCreates: 2, wantLive: 1},
		{name: "the function is not deployed", before: func(e *syncEnv) {
			e.p.setFunctions(e.p.functions[:2])
		}, wantCreates: 0, wantLive: 0, wantError: []string{"payment customization: ", "regulars-payments", "deploy the extension"}},
		{name: "a transient failure fails the install job", before: func(e *syncEnv) {
			e.p.inject("paymentCustomizations", unavailable, unavailable, unavailable, unavailable, unavailable)
		}, wantCreates: 0, wantLive: 0, wantError: []string{"install: list the payment customizations"}, wantRetry: true},
		{name: "which succeeds at its next attempt", before: func(e *syncEnv) {
			e.p.inject("paymentCustomizations", unavailable, unavailable, unavailable, unavailable, unavailable)
		}, after: func(t *testing.T, e *syncEnv) { e.drain(t) }, wantCreates: 1, wantLive: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			storetest.Each(t, func(t *testing.T, st *store.Store) {
				ctx := context.Background()
				e := newSyncEnv(t, st, func(c *SyncConfig) { c.ReconcileEvery = time.Hour })
				if tt.before != nil {
					tt.before(e)
				}
				if err := e.y.AfterInstall(ctx, shopA); err != nil {
					t.Fatal(err)
				}
				e.drain(t)
				if tt.after != nil {
					tt.after(t, e)
				}

				if n := e.p.opCount("paymentCustomizationCreate"); n != tt.wantCreates {
					t.Errorf("paymentCustomizationCreate calls = %d; want %d", n, tt.wantCreates)
				}
				if live := e.p.paymentCustomizations(); len(live) != tt.wantLive {
					t.Errorf("payment customizations = %+v; want %d", live, tt.wantLive)
				}
				ss, err := st.GetShopSync(ctx, shopA)
				if err != nil {
					t.Fatal(err)
				}
				if len(tt.wantError) == 0 && ss.LastError != "" {
					t.Errorf("shop error = %q; want none", ss.LastError)
				}
				for _, part := range tt.wantError {
					if !strings.Contains(ss.LastError, part) {
						t.Errorf("shop error = %q; want it to contain %q", ss.LastError, part)
					}
				}
				jobs, err := st.PendingSyncJobs(ctx, shopA)
				if err != nil {
					t.Fatal(err)
				}
				retrying := slices.ContainsFunc(jobs, func(j store.SyncJob) bool { return j.Kind == store.SyncInstall })
				if retrying != tt.wantRetry || (!tt.wantRetry && len(jobs) != 0) {
					t.Errorf("pending jobs = %+v; want the install to be retried: %v", jobs, tt.wantRetry)
				}
				if !tt.wantRetry && (ss.WebhooksAt == nil || ss.ReconciledAt == nil) {
					t.Errorf("the rest of the install did not happen: %+v", ss)
				}
			})
		})
	}
}

// TestPaymentCustomizationInput: what install sends: our function's handle, the title,
// enabled, and the configuration metafield with our endpoint and a checkout token of the shop.
func TestPaymentCustomizationInput(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		e := newSyncEnv(t, st)
		if err := e.y.AfterInstall(ctx, shopA); err != nil {
			t.Fatal(err)
		}
		e.drain(t)
		live := e.p.paymentCustomizations()
		if len(live) != 1 {
			t.Fatalf("payment customizations = %+v", live)
		}
		in := live[0].Input
		if in["functionHandle"] != PaymentFunctionHandle || in["title"] != PaymentCustomizationTitle || in["enabled"] != true {
			t.Errorf("input = %v", in)
		}
		mfs, _ := in["metafields"].([]any)
		if len(mfs) != 1 {
			t.Fatalf("metafields = %v", in["metafields"])
		}
		mf := mfs[0].(map[string]any)
		if mf["namespace"] != "$app:regulars" || mf["key"] != "function-configuration" || mf["type"] != "json" {
			t.Errorf("metafield = %v", mf)
		}
		var cfg paymentConfig
		if err := json.Unmarshal([]byte(mf["value"].(string)), &cfg); err != nil {
			t.Fatal(err)
		}
		if cfg.Version != 1 || cfg.Endpoint != syncAppURL {
			t.Errorf("configuration = %+v", cfg)
		}
		if shop, err := VerifyCheckoutToken([]byte(testKey), cfg.Token, time.Now()); err != nil || shop != shopA {
			t.Errorf("token for %q, %v; want one of %s", shop, err, shopA)
		}
	})
}

// TestFindPaymentFunction: by the extension's name, by its handle, else the only function of
// the payment customization API.
func TestFindPaymentFunction(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		discount := graphql.Function{ID: "d", Title: "Regulars discounts", APIType: "discount"}
		tests := []struct {
			name   string
			fns    []graphql.Function
			wantID string
		}{
			{"by name", []graphql.Function{discount, {ID: "p", Title: "Regulars payments", APIType: "payment_customization"}}, "p"},
			{"by handle", []graphql.Function{{ID: "x", Title: "Other", APIType: "payment_customization"}, {ID: "p", Title: "regulars-payments", APIType: "payment_customization"}}, "p"},
			{"the only one of its API", []graphql.Function{discount, {ID: "p", Title: "Renamed", APIType: "payment_customization"}}, "p"},
			{"two of its API, neither named", []graphql.Function{{ID: "a", Title: "A", APIType: "payment_customization"}, {ID: "b", Title: "B", APIType: "payment_customization"}}, ""},
			{"none", []graphql.Function{discount}, ""},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				e := newSyncEnv(t, st)
				e.p.setFunctions(tt.fns)
				fn, err := e.y.findPaymentFunction(context.Background(), shopA)
				if fn.ID != tt.wantID || (tt.wantID == "") != (err != nil) {
					t.Errorf("found %+v, %v; want %q", fn, err, tt.wantID)
				}
			})
		}
	})
}

// reconcile runs a reconciliation that is due (the clock moves past ReconcileEvery) and the
// jobs it queued.
func (e *syncEnv) reconcile(t *testing.T) {
	t.Helper()
	e.offset.Add(int64(2 * time.Hour))
	if err := e.y.Reconcile(context.Background()); err != nil {
		t.Fatal(err)
	}
	e.drain(t)
}
