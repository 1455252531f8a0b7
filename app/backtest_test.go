package app

import (
	"context"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/regularsapp/regulars/discountfn"
	"github.com/regularsapp/regulars/store"
	"github.com/regularsapp/regulars/store/storetest"
)

// backtestShop stores 9 orders of shopA (8 counted) across a regular (R), customer A, a
// guest (G, email only) and customer B, relative to now.
func backtestShop(t *testing.T, st *store.Store, now time.Time) {
	t.Helper()
	day := func(d int) time.Time { return now.AddDate(0, 0, -d) }
	add := func(id, customer, email string, d int, price discountfn.Money, qty int, codes []string, test bool) {
		t.Helper()
		o := store.Order{Shop: shopA, ID: id, CustomerID: customer, Email: email, PlacedAt: day(d), UpdatedAt: day(d),
			Currency: "USD", Subtotal: price * discountfn.Money(qty), Total: price * discountfn.Money(qty),
			FinancialStatus: "paid", Codes: codes, Test: test,
			Lines: []store.OrderLine{{ID: "gid://shopify/LineItem/" + id, ProductID: "gid://shopify/Product/1",
				VariantID: "gid://shopify/ProductVariant/1", Quantity: qty, Price: price}}}
		if _, err := st.UpsertOrder(context.Background(), o); err != nil {
			t.Fatal(err)
		}
	}
	const r, a, b = "gid://shopify/Customer/1", "gid://shopify/Customer/2", "gid://shopify/Customer/3"
	add("100", r, "r@example.com", 60, 1000, 1, nil, false) // before the window: history only
	add("101", r, "r@example.com", 20, 1000, 1, nil, false) // 1 earlier order
	add("102", r, "r@example.com", 10, 3000, 2, nil, false) // 2 earlier: qualifies, 600
	add("103", r, "r@example.com", 5, 5000, 1, nil, false)  // 3 earlier: qualifies, 500
	add("201", a, "a@example.com", 25, 4000, 1, nil, false)
	add("202", a, "a@example.com", 3, 1500, 1, nil, false)
	add("301", "", "g@example.com", 12, 1000, 3, []string{"SAVE10"}, false)
	add("401", b, "b@example.com", 8, 2000, 1, []string{"SAVE10"}, false)
	add("402", b, "b@example.com", 2, 2000, 1, []string{"SAVE10"}, true) // test order: not counted
}

func runBacktest(t *testing.T, env *authEnv, shop string, body any) backtestJobView {
	t.Helper()
	resp, raw := env.call(t, http.MethodPost, "/api/offers/backtest", shop, body, nil)
	mustStatus(t, "backtest", resp, raw, http.StatusAccepted)
	var started struct {
		JobID string `json:"job_id"`
	}
	decodeJSON(t, raw, &started)
	deadline := time.Now().Add(time.Minute)
	for {
		resp, raw = env.call(t, http.MethodGet, "/api/backtests/"+started.JobID, shop, nil, nil)
		mustStatus(t, "backtest job", resp, raw, http.StatusOK)
		var v backtestJobView
		decodeJSON(t, raw, &v)
		if v.State != backtestRunning {
			if v.State != backtestDone || v.Result == nil {
				t.Fatalf("backtest job = %s", raw)
			}
			return v
		}
		if time.Now().After(deadline) {
			t.Fatalf("backtest job still running: %s", raw)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func orderIDsOfVariant(v backtestVariant) []string {
	var ids []string
	for _, o := range v.Orders {
		ids = append(ids, o.OrderID)
	}
	return ids
}

func TestBacktest(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		env := adminOnlyEnv(t, st)
		mustShops(t, st, shopA, shopB)
		backtestShop(t, st, env.clock.Now())

		// 10% off for customers with at least 2 earlier orders, a draft.
		regulars := percentOffer("regulars", 10*100)
		regulars.Status = discountfn.StatusDraft
		regulars.Behaviour = &discountfn.Behaviour{Period: discountfn.Period{Unit: discountfn.PeriodLifetime}, MinOrders: 2}
		job := runBacktest(t, env, shopA, map[string]any{"offer": regulars, "days": 30})
		res := job.Result
		if job.Processed != job.Total || job.Total != 9 {
			t.Errorf("progress %d/%d; want 9/9", job.Processed, job.Total)
		}
		if res.OrdersConsidered != 7 || res.CodeEnteredByEveryone != nil {
			t.Errorf("result = %+v", res)
		}
		v := res.AsPlaced
		if got := orderIDsOfVariant(v); !slices.Equal(got, []string{"102", "103"}) || v.QualifyingOrders != 2 ||
			v.Customers != 1 || v.Cost != 1100 {
			t.Errorf("regulars: orders %v, %+v", got, v)
		}
		if !slices.Equal(v.NotQualified, []backtestReason{{Reason: discountfn.ReasonBehaviour, Orders: 5}}) {
			t.Errorf("regulars: not qualified %+v", v.NotQualified)
		}

		// A code offer: as placed, the two orders that used SAVE10; and if everyone had entered it.
		code := percentOffer("save10", 10*100)
		code.Application = discountfn.Application{Kind: discountfn.ApplyCode, Code: "SAVE10"}
		job = runBacktest(t, env, shopA, map[string]any{"offer": code, "days": 30})
		res = job.Result
		v = res.AsPlaced
		if got := orderIDsOfVariant(v); !slices.Equal(got, []string{"301", "401"}) || v.Customers != 2 || v.Cost != 500 ||
			!slices.Equal(v.NotQualified, []backtestReason{{Reason: discountfn.ReasonCodeNotEntered, Orders: 5}}) {
			t.Errorf("code as placed: orders %v, %+v", got, v)
		}
		all := res.CodeEnteredByEveryone
		if all == nil || all.QualifyingOrders != 7 || all.Customers != 4 || all.Cost != 2250 || len(all.NotQualified) != 0 {
			t.Errorf("code entered by everyone: %+v", all)
		}

		// Another shop cannot read the job.
		resp, raw := env.call(t, http.MethodGet, "/api/backtests/"+job.JobID, shopB, nil, nil)
		mustStatus(t, "another shop's job", resp, raw, http.StatusNotFound)
		resp, raw = env.call(t, http.MethodGet, "/api/backtests/nope", shopA, nil, nil)
		mustStatus(t, "unknown job", resp, raw, http.StatusNotFound)

		// Bad requests.
		bad := regulars
		bad.Value.Percentage = 0
		resp, raw = env.call(t, http.MethodPost, "/api/offers/backtest", shopA, map[string]any{"offer": bad, "days": 30}, nil)
		mustStatus(t, "invalid offer", resp, raw, http.StatusUnprocessableEntity)
		for _, days := range []int{0, 731} {
			resp, raw = env.call(t, http.MethodPost, "/api/offers/backtest", shopA, map[string]any{"offer": regulars, "days": days}, nil)
			mustStatus(t, "days out of range", resp, raw, http.StatusBadRequest)
		}
		resp, raw = env.call(t, http.MethodPost, "/api/offers/backtest", shopA, map[string]any{"days": 30}, nil)
		mustStatus(t, "no offer", resp, raw, http.StatusBadRequest)
	})
}

// TestBacktestSegmentOffer: a segment offer is evaluated against the shop's segments, with
// each order's shipping address and delivery method standing for the cart's.
func TestBacktestSegmentOffer(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		env := adminOnlyEnv(t, st)
		mustShops(t, st, shopA)
		now := env.clock.Now()
		add := func(id, city, method string, price discountfn.Money) {
			t.Helper()
			placed := now.AddDate(0, 0, -3)
			o := store.Order{Shop: shopA, ID: id, Email: id + "@example.com", PlacedAt: placed, UpdatedAt: placed,
				Currency: "USD", Subtotal: price, Total: price, FinancialStatus: "paid",
				ShippingCity: city, ShippingCountry: "GB", DeliveryMethod: method,
				Lines: []store.OrderLine{{ID: "gid://shopify/LineItem/" + id, ProductID: "gid://shopify/Product/1", Quantity: 1, Price: price}}}
			if _, err := st.UpsertOrder(context.Background(), o); err != nil {
				t.Fatal(err)
			}
		}
		add("1", "London", "Royal Mail", 6000)
		add("2", "london", "Courier", 2000)
		add("3", "Leeds", "Royal Mail", 6000)
		add("4", "", "", 6000)
		for _, seg := range []discountfn.Segment{
			{ID: "london", Name: "London", Priority: 2, Rules: discountfn.SegmentRules{Cities: []string{"London"}}},
			{ID: "royal-mail", Name: "Royal Mail", Priority: 1, Rules: discountfn.SegmentRules{DeliveryMethods: []string{"royal mail"}}},
		} {
			resp, body := env.call(t, http.MethodPost, "/api/segments", shopA, seg, nil)
			mustStatus(t, "segment", resp, body, http.StatusCreated)
		}
		// Tiers by cart value for the Royal Mail segment; London ranks above it.
		offer := percentOffer("royal", 0)
		offer.Value = discountfn.Value{Kind: discountfn.ValueTiered, TierBasis: discountfn.TierBySubtotal, Tiers: []discountfn.Tier{
			{Threshold: 5000, Kind: discountfn.ValuePercentage, Percentage: 10 * 100}}}
		offer.Eligibility = discountfn.Eligibility{Audience: discountfn.AudienceSegment, SegmentID: "royal-mail"}
		job := runBacktest(t, env, shopA, map[string]any{"offer": offer, "days": 30})
		v := job.Result.AsPlaced
		// Order 1 is in London (the higher segment), 2 is not Royal Mail, 4 has no address:
		// only order 3 qualifies, 10% of 60.00.
		if !slices.Equal(orderIDsOfVariant(v), []string{"3"}) || v.Cost != 600 || job.Result.OrdersConsidered != 4 {
			t.Errorf("as placed = %+v", v)
		}
		reasons := map[discountfn.Reason]int{}
		for _, r := range v.NotQualified {
			reasons[r.Reason] = r.Orders
		}
		if reasons[discountfn.ReasonLowerSegment] != 1 || reasons[discountfn.ReasonSegmentNotMatched] != 2 {
			t.Errorf("reasons = %+v", v.NotQualified)
		}
		offer.Eligibility.SegmentID = "ghost"
		resp, body := env.call(t, http.MethodPost, "/api/offers/backtest", shopA, map[string]any{"offer": offer, "days": 30}, nil)
		mustStatus(t, "unknown segment", resp, body, http.StatusBadRequest)
	})
}
