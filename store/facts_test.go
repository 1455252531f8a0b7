package store

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/regularsapp/regulars/discountfn"
)

func TestFactsCountingRules(t *testing.T) {
	ctx := context.Background()
	cancelled := testNow().Add(-time.Hour)
	refund := func(id string, amount discountfn.Money) Refund {
		return Refund{ID: id, Amount: amount, CreatedAt: testNow().Add(-time.Hour)}
	}
	tests := []struct {
		name    string
		order   func(*Order)
		refunds []Refund // added by refunds/create, before the order arrives
		counts  bool     // under the default settings
		net     discountfn.Money
		enable  func(*ShopSettings) // the setting that makes it count, if any
	}{
		{name: "paid", counts: true, net: 10000},
		{name: "test", order: func(o *Order) { o.Test = true },
			enable: func(s *ShopSettings) { s.CountTestOrders = true }, net: 10000},
		{name: "cancelled", order: func(o *Order) { o.CancelledAt = &cancelled; o.FinancialStatus = "voided" },
			enable: func(s *ShopSettings) { s.CountCancelled = true }, net: 10000},
		{name: "fully refunded by refunds", refunds: []Refund{refund("r1", 4000)},
			order:  func(o *Order) { o.Refunds = []Refund{refund("r2", 6000)} },
			enable: func(s *ShopSettings) { s.CountFullyRefunded = true }, net: 0},
		{name: "refunded more than the total", order: func(o *Order) { o.Refunds = []Refund{refund("r3", 12000)} },
			enable: func(s *ShopSettings) { s.CountFullyRefunded = true }, net: 0},
		{name: "refunded status", order: func(o *Order) { o.FinancialStatus = "refunded" },
			enable: func(s *ShopSettings) { s.CountFullyRefunded = true }, net: 10000},
		{name: "partially refunded", refunds: []Refund{refund("r4", 1500)},
			order:  func(o *Order) { o.FinancialStatus = "partially_refunded"; o.Refunds = []Refund{refund("r5", 1000)} },
			counts: true, net: 7500},
		{name: "unpaid cash on delivery", order: func(o *Order) { o.Gateways = []string{"Cash on Delivery (COD)"}; o.FinancialStatus = "pending" },
			enable: func(s *ShopSettings) { s.CountUnpaidCOD = true }, net: 10000},
		{name: "unpaid cash on delivery, other case", order: func(o *Order) {
			o.Gateways = []string{"gift_card", " cash ON delivery (cod)"}
			o.FinancialStatus = "pending"
		},
			enable: func(s *ShopSettings) { s.CountUnpaidCOD = true }, net: 10000},
		{name: "paid cash on delivery", order: func(o *Order) { o.Gateways = []string{"Cash on Delivery (COD)"}; o.FinancialStatus = "paid" },
			counts: true, net: 10000},
		{name: "pending, not cash on delivery", order: func(o *Order) { o.Gateways = []string{"bogus"}; o.FinancialStatus = "pending" },
			counts: true, net: 10000},
		{name: "free", order: func(o *Order) { o.Total = 0 }, counts: true, net: 0},
	}
	eachDB(t, func(t *testing.T, db testDB) {
		s, _ := mustHistoryStore(t, db, "a.example")
		buyers := make([]discountfn.Buyer, len(tests))
		for i, tt := range tests {
			customer := fmt.Sprintf("gid://shopify/Customer/%d", 100+i)
			buyers[i] = discountfn.Buyer{CustomerID: customer}
			id := fmt.Sprint(5743947296874 + i)
			for _, r := range tt.refunds {
				r.OrderID = id
				if _, err := s.AddRefund(ctx, "a.example", r); err != nil {
					t.Fatal(err)
				}
			}
			mustUpsertOrder(t, s, testOrder("a.example", id, func(o *Order) {
				o.CustomerID, o.Email = customer, ""
				if tt.order != nil {
					tt.order(o)
				}
			}))
		}
		check := func(settings string, i int, wantCount bool) {
			t.Helper()
			orders := mustFacts(t, s, "a.example", buyers[i]).History.Orders
			switch {
			case !wantCount && len(orders) != 0:
				t.Errorf("%s: %s: history = %+v; want the order left out", settings, tests[i].name, orders)
			case wantCount && len(orders) != 1:
				t.Errorf("%s: %s: history = %+v; want the order counted", settings, tests[i].name, orders)
			case wantCount && orders[0].NetSpend != tests[i].net:
				t.Errorf("%s: %s: net spend = %d; want %d", settings, tests[i].name, orders[0].NetSpend, tests[i].net)
			}
		}
		for i, tt := range tests {
			check("default settings", i, tt.counts)
		}
		for i, tt := range tests {
			if tt.enable == nil {
				continue
			}
			st := DefaultShopSettings()
			tt.enable(&st)
			if err := s.SaveSettings(ctx, "a.example", st); err != nil {
				t.Fatal(err)
			}
			check("with its setting", i, true)
		}

		// The merchant names their own cash-on-delivery gateway: the default names no longer
		// mean cash on delivery.
		st := DefaultShopSettings()
		st.CODGateways = []string{"Pay at the door"}
		if err := s.SaveSettings(ctx, "a.example", st); err != nil {
			t.Fatal(err)
		}
		mustUpsertOrder(t, s, testOrder("a.example", "900", func(o *Order) {
			o.CustomerID, o.Email = "gid://shopify/Customer/900", ""
			o.Gateways, o.FinancialStatus = []string{"PAY AT THE DOOR"}, "pending"
		}))
		if orders := mustFacts(t, s, "a.example", discountfn.Buyer{CustomerID: "gid://shopify/Customer/900"}).History.Orders; len(orders) != 0 {
			t.Errorf("unpaid order through the shop's own COD gateway = %+v; want it left out", orders)
		}
		for i, tt := range tests {
			if tt.name == "unpaid cash on delivery" {
				check("other COD gateways", i, true)
			}
		}
	})
}

func TestFactsHistory(t *testing.T) {
	const ada, bob = "gid://shopify/Customer/5743947296874", "gid://shopify/Customer/18446744073709551615"
	eachDB(t, func(t *testing.T, db testDB) {
		s, _ := mustHistoryStore(t, db, "a.example", "b.example")
		day := func(n int) time.Time { return testNow().AddDate(0, 0, -n) }
		mustUpsertOrder(t, s, testOrder("a.example", "1", func(o *Order) {
			o.CustomerID, o.Email, o.PlacedAt = ada, "ada@example.com", day(30)
			o.Codes = []string{"WELCOME10"}
			o.DeliveryMethod = "Royal Mail"
			o.Lines = []OrderLine{
				{ID: "11", ProductID: "gid://shopify/Product/1", VariantID: "gid://shopify/ProductVariant/10", Quantity: 1, Price: 6000},
				{ID: "12", ProductID: "gid://shopify/Product/1", VariantID: "gid://shopify/ProductVariant/11", Quantity: 1, Price: 4000},
				{ID: "13", Quantity: 1}, // custom item
			}
		}))
		// A guest order under Ada's email counts for her.
		mustUpsertOrder(t, s, testOrder("a.example", "2", func(o *Order) {
			o.CustomerID, o.Email, o.PlacedAt, o.Total = "", "ada@example.com", day(3), 2500
		}))
		// Other people's orders, including a guest without email, do not.
		mustUpsertOrder(t, s, testOrder("a.example", "3", func(o *Order) { o.CustomerID, o.Email = bob, "bob@example.com" }))
		mustUpsertOrder(t, s, testOrder("a.example", "4", func(o *Order) { o.CustomerID, o.Email = "", "" }))
		// Ada's id in another shop is another person.
		mustUpsertOrder(t, s, testOrder("b.example", "5", func(o *Order) { o.CustomerID, o.Email = ada, "ada@example.com" }))

		first := discountfn.PastOrder{
			PlacedAt:       utc(day(30)),
			NetSpend:       10000,
			Codes:          []string{"WELCOME10"},
			ProductIDs:     []string{"gid://shopify/Product/1", "gid://shopify/ProductVariant/10", "gid://shopify/ProductVariant/11"},
			DeliveryMethod: "Royal Mail",
		}
		guest := discountfn.PastOrder{PlacedAt: utc(day(3)), NetSpend: 2500}
		tests := []struct {
			name  string
			shop  string
			buyer discountfn.Buyer
			want  []discountfn.PastOrder
		}{
			{"customer and email", "a.example", discountfn.Buyer{CustomerID: ada, Email: "ada@example.com"}, []discountfn.PastOrder{first, guest}},
			{"customer only", "a.example", discountfn.Buyer{CustomerID: ada}, []discountfn.PastOrder{first}},
			{"email only", "a.example", discountfn.Buyer{Email: "ada@example.com"}, []discountfn.PastOrder{first, guest}},
			{"phone only", "a.example", discountfn.Buyer{Phone: "+33612345678"}, []discountfn.PastOrder{}},
			{"nobody", "a.example", discountfn.Buyer{}, []discountfn.PastOrder{}},
			{"a new customer", "a.example", discountfn.Buyer{CustomerID: "gid://shopify/Customer/3", Email: "new@example.com"}, []discountfn.PastOrder{}},
			{"another shop", "b.example", discountfn.Buyer{CustomerID: ada, Email: "ada@example.com"}, []discountfn.PastOrder{{PlacedAt: utc(day(1)), NetSpend: 10000}}},
		}
		for _, tt := range tests {
			got := mustFacts(t, s, tt.shop, tt.buyer).History.Orders
			if len(got) == 0 && len(tt.want) == 0 {
				continue
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("%s: history =\n%+v\nwant\n%+v", tt.name, got, tt.want)
			}
		}
		if _, err := s.Facts(context.Background(), "missing.example", discountfn.Buyer{CustomerID: ada}); !errors.Is(err, ErrNotFound) {
			t.Errorf("Facts in a missing shop = %v; want ErrNotFound", err)
		}
	})
}

func TestFactsUsage(t *testing.T) {
	ctx := context.Background()
	const ada = "gid://shopify/Customer/1"
	eachDB(t, func(t *testing.T, db testDB) {
		s, _ := mustHistoryStore(t, db, "a.example", "b.example")
		buyer := discountfn.Buyer{CustomerID: ada, Email: "ada@example.com"}
		keys := buyer.IdentityKeys()
		customerKey, emailKey := keys[0], keys[1]
		today, yesterday := "2026-11-23", "2026-11-22"
		use := func(offer, day string, keys ...string) Redemption {
			return Redemption{OfferID: offer, PlacedAt: testNow(), Day: day, IdentityKeys: keys}
		}
		mustRecord(t, s, "a.example", "1", use("o1", today, customerKey, emailKey))
		mustRecord(t, s, "a.example", "2", use("o1", yesterday, emailKey), use("o2", yesterday, "customer:gid://shopify/Customer/2"))
		mustRecord(t, s, "a.example", "3", use("o1", "2026-11-13", "customer:gid://shopify/Customer/2"))
		mustRecord(t, s, "a.example", "4", use("o2", today, customerKey, "phone:+33612345678"))
		mustRecord(t, s, "a.example", "5", use("o3", today, customerKey)) // released below
		mustRecord(t, s, "b.example", "1", use("o1", today, customerKey))
		if err := s.ReleaseRedemptions(ctx, "a.example", "5", true); err != nil {
			t.Fatal(err)
		}

		want := discountfn.Usage{Offers: map[string]discountfn.OfferUsage{
			"o1": {Total: 3, ByDay: map[string]int{today: 1, yesterday: 1}, ByIdentity: map[string]int{customerKey: 1, emailKey: 2}},
			"o2": {Total: 2, ByDay: map[string]int{today: 1, yesterday: 1}, ByIdentity: map[string]int{customerKey: 1}},
		}}
		if got := mustFacts(t, s, "a.example", buyer).Usage; !reflect.DeepEqual(got, want) {
			t.Errorf("usage =\n%+v\nwant\n%+v", got, want)
		}

		// An anonymous buyer sees totals and days, but no identity counts.
		anon := mustFacts(t, s, "a.example", discountfn.Buyer{}).Usage
		if anon.Offers["o1"].Total != 3 || anon.Offers["o1"].ByIdentity != nil {
			t.Errorf("anonymous usage of o1 = %+v; want total 3 and no identities", anon.Offers["o1"])
		}
		// The phone counts for a buyer known by it.
		if u := mustFacts(t, s, "a.example", discountfn.Buyer{Phone: "+33612345678"}).Usage; u.Offers["o2"].ByIdentity["phone:+33612345678"] != 1 {
			t.Errorf("usage of o2 by phone = %+v; want 1", u.Offers["o2"])
		}

		// Unreleasing counts again; released rows never count.
		if err := s.ReleaseRedemptions(ctx, "a.example", "5", false); err != nil {
			t.Fatal(err)
		}
		if u := mustFacts(t, s, "a.example", buyer).Usage.Offers["o3"]; u.Total != 1 || u.ByIdentity[customerKey] != 1 {
			t.Errorf("usage of o3 after unreleasing = %+v; want 1", u)
		}
		if err := s.ReleaseRedemptions(ctx, "a.example", "1", true); err != nil {
			t.Fatal(err)
		}
		if u := mustFacts(t, s, "a.example", buyer).Usage.Offers["o1"]; u.Total != 2 || u.ByDay[today] != 0 || u.ByIdentity[emailKey] != 1 || u.ByIdentity[customerKey] != 0 {
			t.Errorf("usage of o1 after releasing order 1 = %+v; want total 2, nothing today, email 1", u)
		}

		// Shop b's usage is its own.
		wantB := discountfn.Usage{Offers: map[string]discountfn.OfferUsage{
			"o1": {Total: 1, ByDay: map[string]int{today: 1}, ByIdentity: map[string]int{customerKey: 1}},
		}}
		if got := mustFacts(t, s, "b.example", buyer).Usage; !reflect.DeepEqual(got, wantB) {
			t.Errorf("shop b usage = %+v; want %+v", got, wantB)
		}
		if got := mustFacts(t, s, "a.example", buyer); got.Blocked != nil {
			t.Errorf("Blocked = %v; want nil", got.Blocked)
		}
	})
}

// BenchmarkFacts reads the facts of a buyer with 50 orders among 20,000 orders of the shop,
// with 2,000 redemptions of 20 offers.
func BenchmarkFacts(b *testing.B) {
	eachDBBench(b, func(b *testing.B, db testDB) {
		s, _ := mustHistoryStore(b, db, "a.example")
		const orders, buyerEvery, offers = 20_000, 400, 20
		buyer := discountfn.Buyer{CustomerID: "gid://shopify/Customer/1", Email: "ada@example.com"}
		var rows []orderRow
		var lines []lineRow
		var ledger []redemptionRow
		var keys []identityRow
		for i := range orders {
			o := testOrder("a.example", fmt.Sprint(5743947296874+i), func(o *Order) {
				o.CustomerID = fmt.Sprintf("gid://shopify/Customer/%d", 2+i%5000)
				o.Email = fmt.Sprintf("c%d@example.com", 2+i%5000)
				if i%buyerEvery == 0 { // 50 orders
					o.CustomerID, o.Email = buyer.CustomerID, buyer.Email
				}
				o.PlacedAt = testNow().Add(-time.Duration(i) * time.Hour)
				o.Codes = []string{"WELCOME"}
			})
			row, err := newOrderRow(o, testNow())
			if err != nil {
				b.Fatal(err)
			}
			rows = append(rows, row)
			for l := range 2 {
				lines = append(lines, lineRow{Shop: o.Shop, OrderID: o.ID, LineNo: l + 1, LineID: fmt.Sprint(i*2 + l),
					ProductID: fmt.Sprintf("gid://shopify/Product/%d", i%300+l), VariantID: fmt.Sprintf("gid://shopify/ProductVariant/%d", i%900+l),
					Quantity: 1, Price: 5000})
			}
			if i%10 == 0 {
				r := redemptionRow{Shop: o.Shop, OrderID: o.ID, OfferID: fmt.Sprintf("o%d", (i/10)%offers), Amount: 500, OrderTotal: 10000,
					PlacedAt: o.PlacedAt, Day: o.PlacedAt.Format(time.DateOnly)}
				ledger = append(ledger, r)
				keys = append(keys, identityRow{Shop: o.Shop, OrderID: o.ID, OfferID: r.OfferID, IdentityKey: "customer:" + o.CustomerID},
					identityRow{Shop: o.Shop, OrderID: o.ID, OfferID: r.OfferID, IdentityKey: "email:" + o.Email})
			}
		}
		batch := s.codeBatchSize()
		for _, data := range []any{&rows, &lines, &ledger, &keys} {
			if err := s.db.CreateInBatches(data, batch/4).Error; err != nil {
				b.Fatal(err)
			}
		}
		if err := s.db.Exec("ANALYZE").Error; err != nil {
			b.Fatal(err)
		}
		f := mustFacts(b, s, "a.example", buyer)
		if len(f.History.Orders) != orders/buyerEvery || len(f.Usage.Offers) != offers {
			b.Fatalf("facts: %d orders, %d offers; want %d and %d", len(f.History.Orders), len(f.Usage.Offers), orders/buyerEvery, offers)
		}
		ctx := context.Background()
		for b.Loop() {
			if _, err := s.Facts(ctx, "a.example", buyer); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// eachDBBench runs a benchmark on SQLite and on PostgreSQL (skipped without TEST_DATABASE_URL).
func eachDBBench(b *testing.B, f func(b *testing.B, db testDB)) {
	b.Run(dialectSQLite, func(b *testing.B) { f(b, newSQLite(b)) })
	b.Run(dialectPostgres, func(b *testing.B) { f(b, newPostgres(b)) })
}
