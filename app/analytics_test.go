package app

import (
	"context"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/regularsapp/regulars/discountfn"
	"github.com/regularsapp/regulars/store"
	"github.com/regularsapp/regulars/store/storetest"
)

// analyticsFixture: shop A has offers A (campaign fall), "a-second" (fall) and "a-third" (no
// campaign); customer c1 orders with A, then three days later with a-second; c2 orders
// without an offer; a test order uses A. Shop B has offer B.
func analyticsFixture(t *testing.T, st *store.Store) {
	t.Helper()
	ctx := context.Background()
	mustShops(t, st, shopA, shopB)
	a, second, third := percentOffer(offerA, 10*100), percentOffer("a-second", 5*100), percentOffer("a-third", 5*100)
	a.Campaign, second.Campaign = "fall", "fall"
	mustSaveOffers(t, st, shopA, a, second, third)
	mustSaveOffers(t, st, shopB, percentOffer(offerB, 100*100))
	order := func(shop, id, customer string, placed time.Time, total int64, test bool, offer string, amount int64) store.OrderEvent {
		ev := store.OrderEvent{Order: store.Order{Shop: shop, ID: id, CustomerID: customer, PlacedAt: placed, UpdatedAt: placed,
			Currency: "USD", Total: discountfn.Money(total), Test: test}}
		if offer != "" {
			ev.Redemptions = []store.Redemption{{OfferID: offer, Amount: discountfn.Money(amount), OrderTotal: discountfn.Money(total), PlacedAt: placed}}
		}
		return ev
	}
	at := func(d, h int) time.Time { return time.Date(2026, 11, d, h, 0, 0, 0, time.UTC) }
	_, err := st.ApplyOrderEvents(ctx, []store.OrderEvent{
		order(shopA, "p1", "c1", at(2, 20), 10000, false, offerA, 1000), // 2026-11-03 01:30 in Kolkata
		order(shopA, "p2", "c1", at(5, 10), 4000, false, "a-second", 400),
		order(shopA, "p3", "c2", at(3, 10), 6000, false, "", 0),
		order(shopA, "p4", "c3", at(4, 10), 8000, true, offerA, 800),
		order(shopB, "p1", "c1", at(2, 10), 50000, false, offerB, 50000),
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestAnalyticsAPI(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		env := abuseEnv(t, st)
		analyticsFixture(t, st)
		get := func(path, shop string, want int) []byte {
			t.Helper()
			resp, body := env.call(t, http.MethodGet, path, shop, nil, nil)
			mustStatus(t, path, resp, body, want)
			return body
		}
		const window = "from=2026-11-01&to=2026-11-07"

		var offers struct {
			From, To, Timezone string
			RepeatDays         int `json:"repeat_days"`
			Offers             []offerStatView
		}
		decodeJSON(t, get("/api/analytics/offers?"+window, shopA, http.StatusOK), &offers)
		view := func(id string, s store.Stats) offerStatView {
			s.AOVWithout, s.OrdersWithout = 6000, 1
			return offerStatView{OfferStat: store.OfferStat{OfferID: id, Stats: s}, Name: id}
		}
		wantA := view(offerA, store.Stats{Uses: 1, Orders: 1, Discount: 1000, Revenue: 10000, AOVWith: 10000,
			Customers: 1, New: 1, RepeatCustomers: 1, RepeatRate: 1})
		wantSecond := view("a-second", store.Stats{Uses: 1, Orders: 1, Discount: 400, Revenue: 4000, AOVWith: 4000,
			Customers: 1, Returning: 1})
		wantThird := view("a-third", store.Stats{})
		if offers.From != "2026-11-01" || offers.To != "2026-11-07" || offers.Timezone != "UTC" || offers.RepeatDays != 30 {
			t.Errorf("window = %s..%s %s %d", offers.From, offers.To, offers.Timezone, offers.RepeatDays)
		}
		if want := []offerStatView{wantA, wantSecond, wantThird}; !reflect.DeepEqual(offers.Offers, want) {
			t.Errorf("offers =\n%+v\nwant\n%+v", offers.Offers, want)
		}

		// One offer, a shorter repeat window: c1's second order is 2.5 days later.
		decodeJSON(t, get("/api/analytics/offers?"+window+"&offer_id="+offerA+"&repeat_days=2", shopA, http.StatusOK), &offers)
		wantA2 := wantA
		wantA2.RepeatCustomers, wantA2.RepeatRate = 0, 0
		if want := []offerStatView{wantA2}; !reflect.DeepEqual(offers.Offers, want) {
			t.Errorf("offers (A, 2 days) =\n%+v\nwant\n%+v", offers.Offers, want)
		}

		// The default window is the last 30 days, today (2026-11-23) included.
		decodeJSON(t, get("/api/analytics/offers", shopA, http.StatusOK), &offers)
		if offers.From != "2026-10-25" || offers.To != "2026-11-23" || len(offers.Offers) != 3 {
			t.Errorf("default window = %s..%s with %d offers", offers.From, offers.To, len(offers.Offers))
		}

		// CSV.
		resp, body := env.call(t, http.MethodGet, "/api/analytics/offers.csv?"+window+"&offer_id="+offerA+"&offer_id=a-second", shopA, nil, nil)
		mustStatus(t, "csv", resp, body, http.StatusOK)
		if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/csv") {
			t.Errorf("csv content type %q", ct)
		}
		wantCSV := "offer_id,name,uses,orders,discount,revenue,aov_with,aov_without,orders_without,customers,new_customers,returning_customers,repeat_customers,repeat_rate\n" +
			offerA + "," + offerA + ",1,1,1000,10000,10000,6000,1,1,1,0,1,1.0000\n" +
			"a-second,a-second,1,1,400,4000,4000,6000,1,1,0,1,0,0.0000\n"
		if string(body) != wantCSV {
			t.Errorf("csv =\n%s\nwant\n%s", body, wantCSV)
		}

		// Campaigns: A and a-second; a-third has none.
		var camps struct{ Campaigns []store.CampaignStat }
		decodeJSON(t, get("/api/analytics/campaigns?"+window, shopA, http.StatusOK), &camps)
		wantCamps := []store.CampaignStat{{Campaign: "fall", OfferIDs: []string{offerA, "a-second"}, Stats: store.Stats{
			Uses: 2, Orders: 2, Discount: 1400, Revenue: 14000, AOVWith: 7000, AOVWithout: 6000, OrdersWithout: 1,
			Customers: 1, New: 1, RepeatCustomers: 1, RepeatRate: 1}}}
		if !reflect.DeepEqual(camps.Campaigns, wantCamps) {
			t.Errorf("campaigns =\n%+v\nwant\n%+v", camps.Campaigns, wantCamps)
		}

		// Daily, in UTC and then in the shop's new timezone.
		var daily struct {
			OfferID  string `json:"offer_id"`
			Timezone string
			Days     []store.DayStat
		}
		decodeJSON(t, get("/api/analytics/offers/"+offerA+"/daily?from=2026-11-02&to=2026-11-03", shopA, http.StatusOK), &daily)
		if want := []store.DayStat{{Day: "2026-11-02", Uses: 1, Discount: 1000, Revenue: 10000}, {Day: "2026-11-03"}}; !reflect.DeepEqual(daily.Days, want) {
			t.Errorf("daily (UTC) = %+v; want %+v", daily.Days, want)
		}
		if err := st.SaveSettings(context.Background(), shopA, store.ShopSettings{Timezone: "Asia/Kolkata"}); err != nil {
			t.Fatal(err)
		}
		decodeJSON(t, get("/api/analytics/offers/"+offerA+"/daily?from=2026-11-02&to=2026-11-03", shopA, http.StatusOK), &daily)
		if want := []store.DayStat{{Day: "2026-11-02"}, {Day: "2026-11-03", Uses: 1, Discount: 1000, Revenue: 10000}}; daily.Timezone != "Asia/Kolkata" || !reflect.DeepEqual(daily.Days, want) {
			t.Errorf("daily (%s) = %+v; want %+v", daily.Timezone, daily.Days, want)
		}

		// Bad requests.
		for _, q := range []string{"from=2026-13-01", "to=yesterday", "from=2026-11-05&to=2026-11-01", "repeat_days=-1", "repeat_days=x",
			"from=2020-01-01&to=2026-11-01"} {
			get("/api/analytics/offers?"+q, shopA, http.StatusBadRequest)
			get("/api/analytics/offers.csv?"+q, shopA, http.StatusBadRequest)
		}
		get("/api/analytics/campaigns?from=2026-11-05&to=2026-11-01", shopA, http.StatusBadRequest)
		get("/api/analytics/offers/"+offerA+"/daily?from=2026-11-05&to=2026-11-01", shopA, http.StatusBadRequest)

		// Another shop's offer is not found; shop B sees only its own.
		get("/api/analytics/offers?offer_id="+offerB, shopA, http.StatusNotFound)
		get("/api/analytics/offers/"+offerB+"/daily", shopA, http.StatusNotFound)
		get("/api/analytics/offers?offer_id="+offerA, shopB, http.StatusNotFound)
		decodeJSON(t, get("/api/analytics/offers?"+window, shopB, http.StatusOK), &offers)
		if len(offers.Offers) != 1 || offers.Offers[0].OfferID != offerB || offers.Offers[0].Uses != 1 || offers.Offers[0].Revenue != 50000 {
			t.Errorf("shop B offers = %+v", offers.Offers)
		}
		decodeJSON(t, get("/api/analytics/campaigns?"+window, shopB, http.StatusOK), &camps)
		if len(camps.Campaigns) != 0 {
			t.Errorf("shop B campaigns = %+v", camps.Campaigns)
		}
	})
}
