package app

import (
	"net/http"
	"net/url"
	"slices"
	"testing"
	"time"

	"github.com/regularsapp/regulars/discountfn"
	"github.com/regularsapp/regulars/store"
	"github.com/regularsapp/regulars/store/storetest"
)

// outcomeOf is the named offer's outcome in r, failing the test when it is missing.
func outcomeOf(t *testing.T, r discountfn.Result, offerID string) discountfn.Outcome {
	t.Helper()
	for _, o := range r.Outcomes {
		if o.OfferID == offerID {
			return o
		}
	}
	t.Fatalf("no outcome for %q in %+v", offerID, r.Outcomes)
	return discountfn.Outcome{}
}

func TestAdminSimulateAndCustomers(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := t.Context()
		env := adminStoreEnv(t, st)
		mustShops(t, st, shopA, shopB)
		now := env.clock.Now()

		regulars := percentOffer("regulars", 10*100)
		regulars.Behaviour = &discountfn.Behaviour{Period: discountfn.Period{Unit: discountfn.PeriodLifetime}, MinOrders: 2}
		welcome := percentOffer("welcome", 5*100)
		welcome.Application = discountfn.Application{Kind: discountfn.ApplyCode, Code: "WELCOME5"}
		welcome.Eligibility.FirstOrderOnly = true
		london := percentOffer("london-tiers", 0)
		london.Value = discountfn.Value{Kind: discountfn.ValueTiered, TierBasis: discountfn.TierBySubtotal, Tiers: []discountfn.Tier{
			{Threshold: 50_00, Kind: discountfn.ValuePercentage, Percentage: 5 * 100},
			{Threshold: 100_00, Kind: discountfn.ValuePercentage, Percentage: 10 * 100},
		}}
		london.Eligibility = discountfn.Eligibility{Audience: discountfn.AudienceSegment, SegmentID: "london"}
		vipOnly := percentOffer("vip-only", 20*100)
		vipOnly.Eligibility = discountfn.Eligibility{Audience: discountfn.AudienceTags, CustomerTags: []string{"VIP"}}
		vipOnly.Application = discountfn.Application{Kind: discountfn.ApplyCode, Code: "VIP20"}
		for _, o := range []*discountfn.Offer{&regulars, &vipOnly} {
			o.Stacking.CombinesWith.OrderDiscounts = true
		}
		resp, body := env.call(t, http.MethodPost, "/api/segments", shopA,
			discountfn.Segment{ID: "london", Name: "London", Rules: discountfn.SegmentRules{Cities: []string{"London"}}}, nil)
		mustStatus(t, "segment", resp, body, http.StatusCreated)
		mustSaveOffers(t, st, shopA, regulars, welcome, london, vipOnly)

		// Customer 1 has two orders; customer 2 none. A test order does not count in the list.
		for _, c := range []store.Customer{
			{Shop: shopA, ID: "gid://shopify/Customer/1", Email: "regular@example.com", Tags: []string{"VIP"}, UpdatedAt: now},
			{Shop: shopA, ID: "gid://shopify/Customer/2", Email: "new_100%@example.com", UpdatedAt: now},
			{Shop: shopB, ID: "gid://shopify/Customer/3", Email: "regular-b@example.com", UpdatedAt: now},
		} {
			if _, err := st.UpsertCustomer(ctx, c); err != nil {
				t.Fatal(err)
			}
		}
		for i, id := range []string{"1001", "1002", "1003"} {
			placed := now.Add(-time.Duration(i+1) * 24 * time.Hour)
			if _, err := st.UpsertOrder(ctx, store.Order{Shop: shopA, ID: id, CustomerID: "gid://shopify/Customer/1",
				Email: "regular@example.com", PlacedAt: placed, UpdatedAt: placed, Currency: "USD",
				Subtotal: 40_00, Total: 40_00, FinancialStatus: "paid", Test: id == "1003"}); err != nil {
				t.Fatal(err)
			}
		}

		t.Run("customers", func(t *testing.T) {
			for _, tc := range []struct {
				query string
				want  []customerView
			}{
				{"", []customerView{
					{ID: "gid://shopify/Customer/1", Email: "regular@example.com", Tags: []string{"VIP"}, Orders: 2, Spend: 80_00},
					{ID: "gid://shopify/Customer/2", Email: "new_100%@example.com", Tags: []string{}},
				}},
				{"REGULAR", []customerView{{ID: "gid://shopify/Customer/1", Email: "regular@example.com", Tags: []string{"VIP"}, Orders: 2, Spend: 80_00}}},
				{"Customer/2", []customerView{{ID: "gid://shopify/Customer/2", Email: "new_100%@example.com", Tags: []string{}}}},
				{"_100%", []customerView{{ID: "gid://shopify/Customer/2", Email: "new_100%@example.com", Tags: []string{}}}},
				{"%", []customerView{{ID: "gid://shopify/Customer/2", Email: "new_100%@example.com", Tags: []string{}}}},
				{"regular-b", nil}, // shop B's customer
			} {
				resp, body := env.call(t, http.MethodGet, "/api/customers?query="+url.QueryEscape(tc.query), shopA, nil, nil)
				mustStatus(t, "customers", resp, body, http.StatusOK)
				var got struct{ Customers []customerView }
				decodeJSON(t, body, &got)
				if !slices.EqualFunc(got.Customers, tc.want, func(a, b customerView) bool {
					return a.ID == b.ID && a.Email == b.Email && slices.Equal(a.Tags, b.Tags) && a.Orders == b.Orders && a.Spend == b.Spend
				}) {
					t.Errorf("query %q: %+v; want %+v", tc.query, got.Customers, tc.want)
				}
			}
			resp, body := env.call(t, http.MethodGet, "/api/customers?limit=0", shopA, nil, nil)
			mustStatus(t, "limit 0", resp, body, http.StatusBadRequest)
		})

		simulate := func(t *testing.T, req simulateRequest) simulateResponse {
			t.Helper()
			resp, body := env.call(t, http.MethodPost, "/api/simulate", shopA, req, nil)
			mustStatus(t, "simulate", resp, body, http.StatusOK)
			var got simulateResponse
			decodeJSON(t, body, &got)
			if got.Currency != "USD" {
				t.Errorf("currency %q", got.Currency)
			}
			return got
		}
		cart := func(unit discountfn.Money, qty int) []simLine {
			return []simLine{{ProductID: "gid://shopify/Product/1", Title: "Socks", Quantity: qty, UnitPrice: unit}}
		}
		regular := &simCustomer{ID: "gid://shopify/Customer/1", Email: "regular@example.com", Tags: []string{"vip"}}

		t.Run("stored history", func(t *testing.T) {
			got := simulate(t, simulateRequest{Customer: regular, Lines: cart(20_00, 1), Codes: []string{"vip20"}})
			// VIP20 (20%) goes first, being the better discount; 10% of the 16.00 left is 1.60.
			if o := outcomeOf(t, got.CartLines, "regulars"); !o.Applied || o.Amount != 1_60 {
				t.Errorf("regulars: %+v; want applied 1.60", o)
			}
			if o := outcomeOf(t, got.CartLines, "vip-only"); !o.Applied {
				t.Errorf("vip-only for a customer tagged vip: %+v", o)
			}
			if o := outcomeOf(t, got.CartLines, "welcome"); o.Applied || o.Reason != discountfn.ReasonCodeNotEntered {
				t.Errorf("welcome: %+v", o)
			}
			if o := outcomeOf(t, got.CartLines, "london-tiers"); o.Applied || o.Reason != discountfn.ReasonSegmentNotMatched {
				t.Errorf("london-tiers without an address: %+v", o)
			}
			if len(got.CartLines.Operations) == 0 {
				t.Error("no operations for applied offers")
			}
		})
		t.Run("typed history replaces the stored one", func(t *testing.T) {
			got := simulate(t, simulateRequest{Customer: regular, History: &simHistory{}, Lines: cart(20_00, 1), Codes: []string{"welcome5"}})
			if o := outcomeOf(t, got.CartLines, "regulars"); o.Applied || o.Reason != discountfn.ReasonBehaviour {
				t.Errorf("regulars with no typed orders: %+v", o)
			}
			if o := outcomeOf(t, got.CartLines, "welcome"); !o.Applied || o.Amount != 1_00 {
				t.Errorf("welcome on a typed first order: %+v", o)
			}
			got = simulate(t, simulateRequest{History: &simHistory{Orders: 3, Spend: 90_00},
				Customer: &simCustomer{ID: "gid://shopify/Customer/2"}, Lines: cart(20_00, 1)})
			if o := outcomeOf(t, got.CartLines, "regulars"); !o.Applied {
				t.Errorf("regulars with three typed orders: %+v", o)
			}
		})
		t.Run("segment by address, tier by cart value", func(t *testing.T) {
			for _, tc := range []struct {
				unit discountfn.Money
				want discountfn.Money
			}{{40_00, 0}, {60_00, 3_00}, {120_00, 12_00}} {
				got := simulate(t, simulateRequest{Lines: cart(tc.unit, 1), Address: &simAddress{CountryCode: "GB", City: "london"}})
				o := outcomeOf(t, got.CartLines, "london-tiers")
				if o.Amount != tc.want || o.Applied != (tc.want > 0) {
					t.Errorf("cart %d: %+v; want %d", tc.unit, o, tc.want)
				}
			}
		})
		t.Run("bad input changes nothing", func(t *testing.T) {
			for _, tc := range []struct {
				name string
				req  any
				want int
				path string
			}{
				{"no lines", simulateRequest{}, http.StatusUnprocessableEntity, "lines"},
				{"zero quantity", simulateRequest{Lines: cart(1_00, 0)}, http.StatusUnprocessableEntity, "lines[0].quantity"},
				{"negative price", simulateRequest{Lines: cart(-1, 1)}, http.StatusUnprocessableEntity, "lines[0].unit_price"},
				{"spend without orders", simulateRequest{Lines: cart(1_00, 1), History: &simHistory{Spend: 5}}, http.StatusUnprocessableEntity, "history.spend"},
				{"float money", []byte(`{"lines":[{"product_id":"p","quantity":1,"unit_price":1.5}]}`), http.StatusBadRequest, ""},
			} {
				resp, body := env.call(t, http.MethodPost, "/api/simulate", shopA, tc.req, nil)
				mustStatus(t, tc.name, resp, body, tc.want)
				if tc.path != "" {
					var e errorBody
					decodeJSON(t, body, &e)
					if !slices.ContainsFunc(e.Problems, func(p discountfn.FieldError) bool { return p.Path == tc.path }) {
						t.Errorf("%s: problems %+v; want %s", tc.name, e.Problems, tc.path)
					}
				}
			}
		})
	})
}
