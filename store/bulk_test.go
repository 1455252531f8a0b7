package store

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/regularsapp/regulars/discountfn"
)

// bulkTestShop is a small shop with a bit of everything BulkLoad writes: settings, offers,
// segments, codes (one used, one a customer's), customers with tags, orders with several
// lines, partial and full refunds, a cancelled order, a cash-on-delivery order, a guest
// order, and ledger rows with identity keys, one released.
func bulkTestShop(domain string, orders int) BulkShop {
	now := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
	settings := DefaultShopSettings()
	settings.Timezone = "" // the shop's own (BulkShop.Shop.Timezone)
	settings.CountCancelled = true
	settings.CODGateways = []string{" Cash on Delivery (COD) ", ""}
	customers := make([]Customer, 5)
	for i := range customers {
		customers[i] = Customer{
			ID:    fmt.Sprintf("gid://shopify/Customer/%d", 100+i),
			Email: fmt.Sprintf("c%d@example.com", i), Phone: fmt.Sprintf("+3361234567%d", i),
			Tags: []string{"vip", fmt.Sprintf("t%d", i%2)}[:1+i%2], UpdatedAt: now.Add(-time.Duration(i) * time.Hour),
		}
	}
	customers[4].Tags = nil
	var events []OrderEvent
	for i := range orders {
		c := customers[i%len(customers)]
		placed := now.Add(-time.Duration(orders-i) * 7 * time.Hour).Add(123456 * time.Microsecond)
		id := fmt.Sprint(1_000_000 + i)
		o := Order{
			ID: id, CustomerID: c.ID, Email: c.Email, Phone: c.Phone, AddressKey: "addr-" + c.ID, BrowserIP: "198.51.100.7",
			PlacedAt: placed, UpdatedAt: placed.Add(time.Minute), Currency: "EUR", PresentmentCurrency: "EUR",
			FinancialStatus: "paid", Gateways: []string{"shopify_payments"}, ShippingCity: "Paris",
			ShippingZip: "75001", ShippingCountry: "FR", DeliveryMethod: "Standard",
		}
		for l := range 1 + i%3 {
			o.Lines = append(o.Lines, OrderLine{
				ID: fmt.Sprintf("%s-%d", id, l), ProductID: fmt.Sprintf("gid://shopify/Product/%d", 1+l),
				VariantID: fmt.Sprintf("gid://shopify/ProductVariant/%d", 10+l), Quantity: 1 + l, Price: discountfn.Money(1000 + 100*l),
			})
			o.Subtotal += discountfn.Money(1000+100*l) * discountfn.Money(1+l)
		}
		o.Total = o.Subtotal + 499
		var rs []Redemption
		switch i % 7 {
		case 1:
			o.Refunds = []Refund{{ID: "r" + id, Amount: 300, CreatedAt: placed.Add(48 * time.Hour)}}
			o.FinancialStatus = "partially_refunded"
		case 2:
			o.Refunds = []Refund{{ID: "r" + id, Amount: o.Total, CreatedAt: placed.Add(24 * time.Hour)}}
			o.FinancialStatus = "refunded"
		case 3:
			cancelled := placed.Add(time.Hour)
			o.CancelledAt, o.UpdatedAt, o.FinancialStatus = &cancelled, cancelled, "voided"
			rs = []Redemption{{OfferID: "code-10", Code: "TEN", Amount: 100, OrderTotal: o.Total, PlacedAt: placed,
				IdentityKeys: []string{"customer:" + c.ID}, Released: true}}
		case 4:
			o.Gateways, o.FinancialStatus = []string{"Cash on Delivery (COD)"}, "pending"
		case 5:
			o.CustomerID, o.Email = "", "guest@example.com" // a guest
		}
		if i%3 == 0 {
			o.Codes = []string{"TEN"}
			o.Applications = []DiscountApplication{{Type: "discount_code", Code: "TEN", Amount: 100}}
			o.TotalDiscounts = 100
			rs = []Redemption{{OfferID: "code-10", Code: "TEN", Amount: 100, OrderTotal: o.Total, PlacedAt: placed,
				IdentityKeys: []string{"customer:" + c.ID, "email:" + c.Email}}}
			if i%2 == 0 {
				rs = append(rs, Redemption{OfferID: "auto-ship", Amount: 499, OrderTotal: o.Total, PlacedAt: placed})
			}
		}
		events = append(events, OrderEvent{Order: o, Redemptions: rs})
	}
	return BulkShop{
		Shop:     Shop{Domain: domain, Currency: "EUR", Timezone: "Europe/Paris"},
		Settings: &settings,
		Offers: []BulkOffer{
			{ID: "code-10", Status: "active", Config: []byte(`{"id":"code-10","name":"Ten"}`)},
			{ID: "auto-ship", Status: "active", Config: []byte(`{"id":"auto-ship","name":"Ship"}`)},
			{ID: "unique", Status: "paused", Config: []byte(`{"id":"unique","name":"Unique"}`)},
		},
		Segments: []Segment{
			{ID: "regulars", Priority: 2, Config: []byte(`{"name":"Regulars"}`)},
			{ID: "paris", Priority: 1, Config: []byte(`{"name":"Paris"}`)},
		},
		Codes: []Code{
			{OfferID: "unique", Code: " abc123 "},
			{OfferID: "unique", Code: "ABC124", SingleUse: true},
			{OfferID: "unique", Code: "ABC125", CustomerID: customers[0].ID},
		},
		Customers: slices.Values(customers),
		Orders:    slices.Values(events),
	}
}

// loadOrdinarily writes data through the ordinary writers, as the app and the webhook
// pipeline would.
func loadOrdinarily(t *testing.T, s *Store, data BulkShop) {
	t.Helper()
	ctx := context.Background()
	shop := data.Shop.Domain
	if _, err := s.UpsertShop(ctx, data.Shop); err != nil {
		t.Fatal(err)
	}
	if data.Settings != nil {
		if err := s.SaveSettings(ctx, shop, *data.Settings); err != nil {
			t.Fatal(err)
		}
	}
	for _, o := range data.Offers {
		if _, err := s.SaveOffer(ctx, shop, o.ID, o.Status, o.Config, 0); err != nil {
			t.Fatal(err)
		}
	}
	for _, g := range data.Segments {
		if _, err := s.SaveSegment(ctx, shop, g.ID, g.Priority, g.Config); err != nil {
			t.Fatal(err)
		}
	}
	for _, c := range data.Codes {
		if err := s.AddCodes(ctx, shop, c.OfferID, []CodeRow{{Code: c.Code, CustomerID: c.CustomerID, SingleUse: c.SingleUse}}); err != nil {
			t.Fatal(err)
		}
	}
	for c := range data.Customers {
		c.Shop = shop
		if _, err := s.UpsertCustomer(ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	var batch []OrderEvent
	for ev := range data.Orders {
		ev.Order.Shop = shop
		batch = append(batch, ev)
	}
	if _, err := s.ApplyOrderEvents(ctx, batch); err != nil {
		t.Fatal(err)
	}
}

// shopView is everything the app reads of a shop, for comparing two stores.
type shopView struct {
	Shop        [2]string
	Settings    ShopSettings
	Offers      [][4]any
	Segments    []Segment
	Codes       []Code
	Customers   []Customer
	Orders      []Order
	Redemptions []Redemption
	Facts       []discountfn.Facts
	Stats       []OfferStat
}

func viewShop(t *testing.T, s *Store, data BulkShop) shopView {
	t.Helper()
	ctx := context.Background()
	shop := data.Shop.Domain
	var v shopView
	sh, err := s.GetShop(ctx, shop)
	if err != nil {
		t.Fatal(err)
	}
	v.Shop = [2]string{sh.Currency, sh.Timezone}
	if v.Settings, err = s.GetSettings(ctx, shop); err != nil {
		t.Fatal(err)
	}
	offers, err := s.ListOffers(ctx, shop, true)
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range offers {
		v.Offers = append(v.Offers, [4]any{o.ID, o.Status, string(o.Config), o.Version})
		codes, err := s.ListCodes(ctx, shop, o.ID, MaxCodePage, "")
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range codes {
			c.CreatedAt = time.Time{}
			v.Codes = append(v.Codes, c)
		}
	}
	slices.SortFunc(v.Offers, func(a, b [4]any) int { return compareStrings(a[0].(string), b[0].(string)) })
	segments, err := s.ListSegments(ctx, shop)
	if err != nil {
		t.Fatal(err)
	}
	for _, g := range segments {
		g.CreatedAt, g.UpdatedAt = time.Time{}, time.Time{}
		v.Segments = append(v.Segments, g)
	}
	for c := range data.Customers {
		got, err := s.GetCustomer(ctx, shop, c.ID)
		if err != nil {
			t.Fatal(err)
		}
		v.Customers = append(v.Customers, got)
		facts, err := s.Facts(ctx, shop, discountfn.Buyer{CustomerID: c.ID, Email: c.Email, Phone: c.Phone})
		if err != nil {
			t.Fatal(err)
		}
		v.Facts = append(v.Facts, facts)
	}
	for ev := range data.Orders {
		o, err := s.GetOrder(ctx, shop, ev.Order.ID)
		if err != nil {
			t.Fatal(err)
		}
		v.Orders = append(v.Orders, o)
	}
	if v.Redemptions, err = s.ListRedemptions(ctx, shop, ""); err != nil {
		t.Fatal(err)
	}
	from, to := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)
	if v.Stats, err = s.OfferStats(ctx, shop, []string{"code-10", "auto-ship"}, from, to, time.UTC, 30); err != nil {
		t.Fatal(err)
	}
	return v
}

func compareStrings(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// TestBulkLoadWritesWhatTheOrdinaryWritersWrite: a shop bulk-loaded reads back, through every
// reader the app uses, exactly as the same shop written through the ordinary writers.
func TestBulkLoadWritesWhatTheOrdinaryWritersWrite(t *testing.T) {
	eachDB(t, func(t *testing.T, db testDB) {
		s := mustOpenMigrated(t, db)
		data := bulkTestShop("bulk.example", 60)
		var reports int
		counts, err := s.BulkLoad(context.Background(), data, func(BulkCounts) { reports++ })
		if err != nil {
			t.Fatalf("BulkLoad: %v", err)
		}
		want := BulkCounts{Offers: 3, Segments: 2, Codes: 3, Customers: 5, Orders: 60, Lines: 120, Refunds: 18,
			Redemptions: 36, IdentityKeys: 46}
		if counts != want || reports == 0 {
			t.Errorf("BulkLoad counts = %+v (%d progress reports); want %+v", counts, reports, want)
		}

		ref := bulkTestShop("ordinary.example", 60)
		loadOrdinarily(t, s, ref)
		got, wantView := viewShop(t, s, data), viewShop(t, s, ref)
		// The shops differ by name only.
		for i := range wantView.Codes {
			wantView.Codes[i].Shop = data.Shop.Domain
		}
		for i := range wantView.Segments {
			wantView.Segments[i].Shop = data.Shop.Domain
		}
		for i := range wantView.Customers {
			wantView.Customers[i].Shop = data.Shop.Domain
		}
		for i := range wantView.Orders {
			wantView.Orders[i].Shop = data.Shop.Domain
		}
		for i := range wantView.Redemptions {
			wantView.Redemptions[i].Shop = data.Shop.Domain
		}
		if !reflect.DeepEqual(got, wantView) {
			for _, f := range []string{"Shop", "Settings", "Offers", "Segments", "Codes", "Customers", "Orders", "Redemptions", "Facts", "Stats"} {
				g, w := reflect.ValueOf(got).FieldByName(f).Interface(), reflect.ValueOf(wantView).FieldByName(f).Interface()
				if !reflect.DeepEqual(g, w) {
					t.Errorf("%s differ:\nbulk:     %+v\nordinary: %+v", f, g, w)
				}
			}
		}
		if len(got.Facts[0].History.Orders) == 0 || got.Facts[0].Usage.Offers["code-10"].Total == 0 || len(got.Stats) != 2 {
			t.Errorf("the shop's facts and stats are empty: %+v, %+v", got.Facts[0], got.Stats)
		}
		code, err := s.LookupCode(context.Background(), "bulk.example", "abc123")
		if err != nil || code.OfferID != "unique" {
			t.Errorf("LookupCode(abc123) = %+v, %v", code, err)
		}
	})
}

// TestBulkLoadManyRounds crosses the round size (made small) with orders and customers, and
// loads a used code.
func TestBulkLoadManyRounds(t *testing.T) {
	eachDB(t, func(t *testing.T, db testDB) {
		s := mustOpenMigrated(t, db)
		const chunk = 100
		const n = chunk*2 + 17
		placed := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
		orders := func(yield func(OrderEvent) bool) {
			for i := range n {
				o := Order{ID: fmt.Sprint(i + 1), CustomerID: fmt.Sprintf("c%d", i%(n/2)), PlacedAt: placed, UpdatedAt: placed,
					Lines: []OrderLine{{ID: "l", Quantity: 1, Price: 100}}, Total: 100}
				if !yield(OrderEvent{Order: o}) {
					return
				}
			}
		}
		customers := func(yield func(Customer) bool) {
			for i := range n / 2 {
				if !yield(Customer{ID: fmt.Sprintf("c%d", i), UpdatedAt: placed}) {
					return
				}
			}
		}
		data := BulkShop{Shop: Shop{Domain: "many.example", Currency: "USD", Timezone: "UTC"},
			Offers:    []BulkOffer{{ID: "o", Status: "active", Config: []byte(`{}`)}},
			Codes:     []Code{{OfferID: "o", Code: "USED1", SingleUse: true, Used: true}},
			Customers: customers, Orders: orders}
		var last BulkCounts
		counts, err := s.bulkLoad(context.Background(), data, func(c BulkCounts) { last = c }, chunk)
		if err != nil {
			t.Fatal(err)
		}
		if counts.Orders != n || counts.Lines != n || counts.Customers != n/2 || last != counts {
			t.Errorf("counts = %+v, last progress %+v; want %d orders and lines, %d customers", counts, last, n, n/2)
		}
		for _, id := range []string{"1", fmt.Sprint(chunk), fmt.Sprint(n)} {
			if o, err := s.GetOrder(context.Background(), "many.example", id); err != nil || len(o.Lines) != 1 {
				t.Errorf("GetOrder(%s) = %+v, %v", id, o, err)
			}
		}
		facts, err := s.Facts(context.Background(), "many.example", discountfn.Buyer{CustomerID: "c3"})
		if err != nil || len(facts.History.Orders) != 2 {
			t.Errorf("Facts(c3) = %d orders, %v; want 2", len(facts.History.Orders), err)
		}
		if c, err := s.LookupCode(context.Background(), "many.example", "used1"); err != nil || !c.Used || !c.SingleUse {
			t.Errorf("LookupCode(used1) = %+v, %v; want a used single-use code", c, err)
		}
	})
}

// TestBulkLoadAllOrNothing: a load that fails writes nothing, and an existing shop is never
// loaded over.
func TestBulkLoadAllOrNothing(t *testing.T) {
	ctx := context.Background()
	eachDB(t, func(t *testing.T, db testDB) {
		s := mustOpenMigrated(t, db)
		if _, err := s.BulkLoad(ctx, bulkTestShop("taken.example", 10), nil); err != nil {
			t.Fatal(err)
		}
		withOrders := func(data BulkShop, extra ...OrderEvent) BulkShop {
			events := slices.Collect(data.Orders)
			data.Orders = slices.Values(append(events, extra...))
			return data
		}
		fresh := func(domain string) BulkShop { return bulkTestShop(domain, 10) }
		badOffer := fresh("bad-offer.example")
		badOffer.Offers = append(badOffer.Offers, BulkOffer{ID: "x", Status: "active", Config: []byte(`{`)})
		badCode := fresh("bad-code.example")
		badCode.Codes = append(badCode.Codes, Code{OfferID: "nope", Code: "X1"})
		for _, tc := range []struct {
			name string
			data BulkShop
			want error
		}{
			{"the shop exists", fresh("taken.example"), ErrConflict},
			{"an order twice", withOrders(fresh("twice.example"), OrderEvent{Order: Order{ID: "1000003", PlacedAt: time.Now(), UpdatedAt: time.Now()}}), ErrConflict},
			{"another shop's order", withOrders(fresh("other.example"), OrderEvent{Order: Order{Shop: "x.example", ID: "9"}}), ErrInvalid},
			{"an order from an event", withOrders(fresh("event.example"), OrderEvent{EventID: 3, Order: Order{ID: "9"}}), ErrInvalid},
			{"an offer that is not JSON", badOffer, ErrInvalid},
			{"a code of no offer", badCode, ErrNotFound},
			{"a customer twice", func() BulkShop {
				d := fresh("customer-twice.example")
				cs := slices.Collect(d.Customers)
				d.Customers = slices.Values(append(cs, cs[0]))
				return d
			}(), ErrConflict},
			{"no domain", BulkShop{}, ErrInvalid},
		} {
			t.Run(tc.name, func(t *testing.T) {
				_, err := s.BulkLoad(ctx, tc.data, nil)
				if !errors.Is(err, tc.want) {
					t.Fatalf("BulkLoad = %v; want %v", err, tc.want)
				}
				if tc.data.Shop.Domain == "taken.example" || tc.data.Shop.Domain == "" {
					return
				}
				if _, err := s.GetShop(ctx, tc.data.Shop.Domain); !errors.Is(err, ErrNotFound) {
					t.Errorf("after the failed load, GetShop = %v; want ErrNotFound (nothing written)", err)
				}
				var n int64
				if err := s.db.Table("orders").Where("shop = ?", tc.data.Shop.Domain).Count(&n).Error; err != nil || n != 0 {
					t.Errorf("after the failed load, %d orders, %v; want none", n, err)
				}
			})
		}
		// The existing shop is as it was.
		if o, err := s.GetOrder(ctx, "taken.example", "1000003"); err != nil || o.Total == 0 {
			t.Errorf("GetOrder(taken) = %+v, %v", o, err)
		}
	})
}

// TestBulkLoadStopsWithItsContext: cancelling the context stops the load and writes nothing.
func TestBulkLoadStopsWithItsContext(t *testing.T) {
	eachDB(t, func(t *testing.T, db testDB) {
		s := mustOpenMigrated(t, db)
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		orders := func(yield func(OrderEvent) bool) {
			placed := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
			for i := 0; ; i++ {
				if i == 250 {
					cancel()
				}
				if !yield(OrderEvent{Order: Order{ID: fmt.Sprint(i + 1), PlacedAt: placed, UpdatedAt: placed}}) {
					return
				}
			}
		}
		data := BulkShop{Shop: Shop{Domain: "endless.example", Currency: "USD", Timezone: "UTC"}, Orders: iter.Seq[OrderEvent](orders)}
		if _, err := s.bulkLoad(ctx, data, nil, 100); !errors.Is(err, context.Canceled) {
			t.Fatalf("BulkLoad = %v; want context.Canceled", err)
		}
		if _, err := s.GetShop(context.Background(), "endless.example"); !errors.Is(err, ErrNotFound) {
			t.Errorf("GetShop = %v; want ErrNotFound (nothing written)", err)
		}
	})
}
