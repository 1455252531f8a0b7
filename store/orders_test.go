package store

import (
	"context"
	"errors"
	"reflect"
	"slices"
	"testing"
	"time"
)

func TestOrderRoundTrip(t *testing.T) {
	ctx := context.Background()
	eachDB(t, func(t *testing.T, db testDB) {
		s, _ := mustHistoryStore(t, db, "a.example")
		placed := time.Date(2026, 3, 1, 12, 30, 15, 123456789, time.FixedZone("CET", 3600))
		cancelled := placed.Add(48 * time.Hour)
		// 64-bit ids, up to the largest unsigned value, stay exact as strings.
		want := Order{
			Shop:                "a.example",
			ID:                  "18446744073709551615",
			CustomerID:          "gid://shopify/Customer/5743947296874",
			Email:               "ada@example.com",
			Phone:               "+33612345678",
			AddressKey:          "f00d",
			BrowserIP:           "203.0.113.7",
			PlacedAt:            placed,
			UpdatedAt:           placed.Add(time.Hour),
			Currency:            "EUR",
			PresentmentCurrency: "CHF",
			Subtotal:            12345,
			Total:               13345,
			TotalDiscounts:      1000,
			FinancialStatus:     "partially_refunded",
			CancelledAt:         &cancelled,
			Test:                true,
			Gateways:            []string{"shopify_payments", "gift_card"},
			ShippingCity:        "Lyon",
			ShippingZip:         "69001",
			ShippingCountry:     "FR",
			DeliveryMethod:      "Colissimo",
			Codes:               []string{"WELCOME10"},
			Applications: []DiscountApplication{
				{Type: "discount_code", Code: "WELCOME10", Amount: 1000},
				{Type: "automatic", Title: "Regulars: VIP"},
			},
			Lines: []OrderLine{
				{ID: "5743947296874", ProductID: "gid://shopify/Product/18446744073709551615", VariantID: "gid://shopify/ProductVariant/2", Quantity: 2, Price: 5000},
				{ID: "3", Quantity: 1, Price: 2345}, // a custom item
			},
			Refunds: []Refund{{ID: "9223372036854775807", Amount: 500, CreatedAt: placed.Add(72 * time.Hour)}},
		}
		mustUpsertOrder(t, s, want)

		got, err := s.GetOrder(ctx, "a.example", want.ID)
		if err != nil {
			t.Fatal(err)
		}
		want.PlacedAt = utc(want.PlacedAt)
		want.UpdatedAt = utc(want.UpdatedAt)
		cancelledUTC := utc(cancelled)
		want.CancelledAt = &cancelledUTC
		want.Refunds[0].OrderID = want.ID
		want.Refunds[0].CreatedAt = utc(want.Refunds[0].CreatedAt)
		if !reflect.DeepEqual(got, want) {
			t.Errorf("GetOrder =\n%+v\nwant\n%+v", got, want)
		}

		// An order with nothing optional reads back with nil lists.
		bare := Order{Shop: "a.example", ID: "1", PlacedAt: testNow(), UpdatedAt: testNow()}
		mustUpsertOrder(t, s, bare)
		if got, err := s.GetOrder(ctx, "a.example", "1"); err != nil || !reflect.DeepEqual(got, bare) {
			t.Errorf("GetOrder of a bare order = %+v, %v; want %+v", got, err, bare)
		}

		if _, err := s.GetOrder(ctx, "a.example", "404"); !errors.Is(err, ErrNotFound) {
			t.Errorf("GetOrder of a missing order = %v; want ErrNotFound", err)
		}
		if _, err := s.UpsertOrder(ctx, Order{Shop: "a.example"}); !errors.Is(err, ErrInvalid) {
			t.Errorf("UpsertOrder without id = %v; want ErrInvalid", err)
		}
		if _, err := s.UpsertOrder(ctx, testOrder("a.example", "2", func(o *Order) { o.Refunds = []Refund{{Amount: 1}} })); !errors.Is(err, ErrInvalid) {
			t.Errorf("UpsertOrder with a refund without id = %v; want ErrInvalid", err)
		}
		if _, err := s.UpsertOrder(ctx, testOrder("missing.example", "2")); !errors.Is(err, ErrNotFound) {
			t.Errorf("UpsertOrder for a missing shop = %v; want ErrNotFound", err)
		}
	})
}

func TestUpsertOrderNewestWins(t *testing.T) {
	ctx := context.Background()
	eachDB(t, func(t *testing.T, db testDB) {
		s, _ := mustHistoryStore(t, db, "a.example")
		t0 := testNow().Add(-time.Hour)
		version := func(minutes int, status string, lines ...OrderLine) Order {
			return testOrder("a.example", "7", func(o *Order) {
				o.UpdatedAt = t0.Add(time.Duration(minutes) * time.Minute)
				o.FinancialStatus = status
				o.Lines = lines
			})
		}
		shirt := OrderLine{ID: "1", ProductID: "gid://shopify/Product/1", Quantity: 1, Price: 10000}
		socks := OrderLine{ID: "2", ProductID: "gid://shopify/Product/2", Quantity: 3, Price: 500}

		// Deliveries arrive out of order: paid (t+2) first, then created (t+0), then a
		// replay of paid, then an edit (t+5) that swaps the lines.
		steps := []struct {
			order       Order
			wantApplied bool
			wantStatus  string
			wantLines   []OrderLine
		}{
			{version(2, "paid", shirt), true, "paid", []OrderLine{shirt}},
			{version(0, "pending", shirt, socks), false, "paid", []OrderLine{shirt}},
			{version(2, "paid", shirt), true, "paid", []OrderLine{shirt}},
			{version(5, "partially_refunded", socks), true, "partially_refunded", []OrderLine{socks}},
			{version(4, "paid", shirt), false, "partially_refunded", []OrderLine{socks}},
		}
		for i, st := range steps {
			applied, err := s.UpsertOrder(ctx, st.order)
			if err != nil || applied != st.wantApplied {
				t.Fatalf("step %d: UpsertOrder = %v, %v; want %v", i, applied, err, st.wantApplied)
			}
			got, err := s.GetOrder(ctx, "a.example", "7")
			if err != nil {
				t.Fatal(err)
			}
			if got.FinancialStatus != st.wantStatus || !reflect.DeepEqual(got.Lines, st.wantLines) {
				t.Errorf("step %d: stored %s with lines %+v; want %s with %+v", i, got.FinancialStatus, got.Lines, st.wantStatus, st.wantLines)
			}
		}
	})
}

func TestRefunds(t *testing.T) {
	ctx := context.Background()
	eachDB(t, func(t *testing.T, db testDB) {
		s, _ := mustHistoryStore(t, db, "a.example")
		early := Refund{ID: "100", OrderID: "7", Amount: 1000, CreatedAt: testNow().Add(-2 * time.Hour)}

		// refunds/create before the order: stored once.
		if inserted, err := s.AddRefund(ctx, "a.example", early); err != nil || !inserted {
			t.Fatalf("AddRefund = %v, %v; want inserted", inserted, err)
		}
		if inserted, err := s.AddRefund(ctx, "a.example", early); err != nil || inserted {
			t.Fatalf("AddRefund again = %v, %v; want not inserted", inserted, err)
		}
		// The order arrives carrying the same refund and a new one: each is kept once.
		late := Refund{ID: "101", Amount: 250, CreatedAt: testNow().Add(-time.Hour)}
		mustUpsertOrder(t, s, testOrder("a.example", "7", func(o *Order) {
			o.Refunds = []Refund{{ID: "100", Amount: 1000, CreatedAt: early.CreatedAt}, late}
		}))
		// A stale order still adds a refund it carries (refunds never change).
		stale := Refund{ID: "102", Amount: 5, CreatedAt: testNow().Add(-time.Minute)}
		applied, err := s.UpsertOrder(ctx, testOrder("a.example", "7", func(o *Order) {
			o.UpdatedAt = o.UpdatedAt.Add(-time.Hour)
			o.Refunds = []Refund{stale}
		}))
		if err != nil || applied {
			t.Fatalf("stale UpsertOrder = %v, %v; want not applied", applied, err)
		}
		got, err := s.GetOrder(ctx, "a.example", "7")
		if err != nil {
			t.Fatal(err)
		}
		late.OrderID, stale.OrderID = "7", "7"
		want := []Refund{early, late, stale}
		if !reflect.DeepEqual(got.Refunds, want) {
			t.Errorf("refunds = %+v; want %+v", got.Refunds, want)
		}

		for _, bad := range []Refund{{OrderID: "7"}, {ID: "1"}} {
			if _, err := s.AddRefund(ctx, "a.example", bad); !errors.Is(err, ErrInvalid) {
				t.Errorf("AddRefund(%+v) = %v; want ErrInvalid", bad, err)
			}
		}
		_, err = s.UpsertOrder(ctx, testOrder("a.example", "8", func(o *Order) { o.Refunds = []Refund{{ID: "1", OrderID: "9"}} }))
		if !errors.Is(err, ErrInvalid) {
			t.Errorf("UpsertOrder with another order's refund = %v; want ErrInvalid", err)
		}
	})
}

func TestUpsertCustomerNewestWins(t *testing.T) {
	ctx := context.Background()
	eachDB(t, func(t *testing.T, db testDB) {
		s, _ := mustHistoryStore(t, db, "a.example")
		id := "gid://shopify/Customer/18446744073709551615"
		v := func(minutes int, tags ...string) Customer {
			return Customer{
				Shop: "a.example", ID: id, Email: "ada@example.com", Phone: "+33612345678",
				Tags: tags, UpdatedAt: testNow().Add(time.Duration(minutes) * time.Minute),
			}
		}
		steps := []struct {
			c           Customer
			wantApplied bool
			wantTags    []string
		}{
			{v(10, "vip", "wholesale"), true, []string{"vip", "wholesale"}},
			{v(5, "new"), false, []string{"vip", "wholesale"}},
			{v(10, "vip", "wholesale"), true, []string{"vip", "wholesale"}},
			{v(20), true, nil},
		}
		for i, st := range steps {
			applied, err := s.UpsertCustomer(ctx, st.c)
			if err != nil || applied != st.wantApplied {
				t.Fatalf("step %d: UpsertCustomer = %v, %v; want %v", i, applied, err, st.wantApplied)
			}
			got, err := s.GetCustomer(ctx, "a.example", id)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got.Tags, st.wantTags) || got.Email != "ada@example.com" || got.ID != id {
				t.Errorf("step %d: GetCustomer = %+v; want tags %v", i, got, st.wantTags)
			}
		}
		if _, err := s.GetCustomer(ctx, "a.example", "gid://shopify/Customer/2"); !errors.Is(err, ErrNotFound) {
			t.Errorf("GetCustomer of a missing customer = %v; want ErrNotFound", err)
		}
		if _, err := s.UpsertCustomer(ctx, Customer{Shop: "a.example"}); !errors.Is(err, ErrInvalid) {
			t.Errorf("UpsertCustomer without id = %v; want ErrInvalid", err)
		}
	})
}
