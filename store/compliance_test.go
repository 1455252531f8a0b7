package store

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/regularsapp/regulars/discountfn"
)

func TestMarkUninstalled(t *testing.T) {
	ctx := context.Background()
	eachDB(t, func(t *testing.T, db testDB) {
		s, _ := mustHistoryStore(t, db, "a.example", "b.example")
		at := testNow().Add(-time.Minute)
		if err := s.MarkUninstalled(ctx, "a.example", at); err != nil {
			t.Fatal(err)
		}
		if shop, err := s.GetShop(ctx, "a.example"); err != nil || shop.UninstalledAt == nil || !shop.UninstalledAt.Equal(at) {
			t.Errorf("GetShop after MarkUninstalled = %+v, %v; want uninstalled at %v", shop, err, at)
		}
		if shop, err := s.GetShop(ctx, "b.example"); err != nil || shop.UninstalledAt != nil {
			t.Errorf("the other shop = %+v, %v; want it installed", shop, err)
		}
		// Reinstalling clears the mark.
		mustShop(t, s, "a.example")
		if shop, err := s.GetShop(ctx, "a.example"); err != nil || shop.UninstalledAt != nil {
			t.Errorf("GetShop after reinstalling = %+v, %v; want installed", shop, err)
		}
		if err := s.MarkUninstalled(ctx, "missing.example", at); !errors.Is(err, ErrNotFound) {
			t.Errorf("MarkUninstalled of a missing shop = %v; want ErrNotFound", err)
		}
	})
}

func TestCustomerData(t *testing.T) {
	ctx := context.Background()
	const ada = "gid://shopify/Customer/5743947296874"
	eachDB(t, func(t *testing.T, db testDB) {
		s, _ := mustHistoryStore(t, db, "a.example", "b.example")
		customer := Customer{Shop: "a.example", ID: ada, Email: "ada@example.com", Tags: []string{"vip"}, UpdatedAt: testNow()}
		if _, err := s.UpsertCustomer(ctx, customer); err != nil {
			t.Fatal(err)
		}
		line := OrderLine{ID: "1", ProductID: "gid://shopify/Product/1", Quantity: 1, Price: 10000}
		for _, id := range []string{"18446744073709551615", "2"} {
			mustUpsertOrder(t, s, testOrder("a.example", id, func(o *Order) { o.CustomerID, o.Lines = ada, []OrderLine{line} }))
		}
		mustUpsertOrder(t, s, testOrder("a.example", "3", func(o *Order) { o.CustomerID = "gid://shopify/Customer/2" }))
		mustUpsertOrder(t, s, testOrder("b.example", "4", func(o *Order) { o.CustomerID = ada }))
		mustRecord(t, s, "a.example", "2", Redemption{OfferID: "o1", Amount: 500, PlacedAt: testNow(), IdentityKeys: []string{"customer:" + ada}})
		mustRecord(t, s, "a.example", "3", Redemption{OfferID: "o1", Amount: 500, PlacedAt: testNow()})

		data, err := s.CustomerData(ctx, "a.example", ada)
		if err != nil {
			t.Fatal(err)
		}
		if data.Customer == nil || !reflect.DeepEqual(*data.Customer, customer) {
			t.Errorf("customer = %+v; want %+v", data.Customer, customer)
		}
		if ids := orderIDsOf(data.Orders); len(ids) != 2 || !equalSets(ids, []string{"18446744073709551615", "2"}) {
			t.Errorf("orders = %v; want Ada's two orders in shop a", ids)
		}
		for _, o := range data.Orders {
			if !reflect.DeepEqual(o.Lines, []OrderLine{line}) {
				t.Errorf("order %s lines = %+v; want %+v", o.ID, o.Lines, []OrderLine{line})
			}
		}
		if len(data.Redemptions) != 1 || data.Redemptions[0].OrderID != "2" || len(data.Redemptions[0].IdentityKeys) != 1 {
			t.Errorf("redemptions = %+v; want order 2's", data.Redemptions)
		}

		// A customer we hold nothing about, and Ada in another shop.
		if data, err := s.CustomerData(ctx, "a.example", "gid://shopify/Customer/404"); err != nil || data.Customer != nil || len(data.Orders) != 0 {
			t.Errorf("CustomerData of an unknown customer = %+v, %v; want empty", data, err)
		}
		if data, err := s.CustomerData(ctx, "b.example", ada); err != nil || data.Customer != nil || len(data.Orders) != 1 {
			t.Errorf("CustomerData in shop b = %+v, %v; want only shop b's order", data, err)
		}
		if _, err := s.CustomerData(ctx, "a.example", ""); !errors.Is(err, ErrInvalid) {
			t.Errorf("CustomerData without id = %v; want ErrInvalid", err)
		}
	})
}

func TestDataRequests(t *testing.T) {
	ctx := context.Background()
	eachDB(t, func(t *testing.T, db testDB) {
		s, clock := mustHistoryStore(t, db, "a.example", "b.example")
		if err := s.SaveDataRequest(ctx, "a.example", "gid://shopify/Customer/1", "9999", []byte(`{"v":1}`)); err != nil {
			t.Fatal(err)
		}
		clock.Add(time.Minute)
		if err := s.SaveDataRequest(ctx, "a.example", "gid://shopify/Customer/2", "10000", []byte(`{"v":2}`)); err != nil {
			t.Fatal(err)
		}
		clock.Add(time.Minute)
		// A redelivery replaces the payload and keeps the date.
		if err := s.SaveDataRequest(ctx, "a.example", "gid://shopify/Customer/1", "9999", []byte(`{"v":3}`)); err != nil {
			t.Fatal(err)
		}
		if err := s.SaveDataRequest(ctx, "b.example", "gid://shopify/Customer/1", "1", []byte(`{}`)); err != nil {
			t.Fatal(err)
		}
		got, err := s.ListDataRequests(ctx, "a.example")
		if err != nil {
			t.Fatal(err)
		}
		want := []DataRequest{
			{Shop: "a.example", CustomerID: "gid://shopify/Customer/2", RequestID: "10000", CreatedAt: testNow().Add(time.Minute), Payload: []byte(`{"v":2}`)},
			{Shop: "a.example", CustomerID: "gid://shopify/Customer/1", RequestID: "9999", CreatedAt: testNow(), Payload: []byte(`{"v":3}`)},
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("ListDataRequests =\n%+v\nwant\n%+v", got, want)
		}
		if err := s.SaveDataRequest(ctx, "a.example", "c", "", nil); !errors.Is(err, ErrInvalid) {
			t.Errorf("SaveDataRequest without id = %v; want ErrInvalid", err)
		}
		if err := s.SaveDataRequest(ctx, "missing.example", "c", "1", nil); !errors.Is(err, ErrNotFound) {
			t.Errorf("SaveDataRequest for a missing shop = %v; want ErrNotFound", err)
		}
	})
}

func TestRedactCustomer(t *testing.T) {
	ctx := context.Background()
	const (
		ada      = "gid://shopify/Customer/191167"
		adaEmail = "ada@example.com"
		adaPhone = "+15556251199"
		bob      = "gid://shopify/Customer/2"
	)
	eachDB(t, func(t *testing.T, db testDB) {
		s, _ := mustHistoryStore(t, db, "a.example", "b.example")
		if _, err := s.UpsertCustomer(ctx, Customer{Shop: "a.example", ID: ada, Email: adaEmail, Phone: adaPhone, UpdatedAt: testNow()}); err != nil {
			t.Fatal(err)
		}
		adaOrder := func(o *Order) {
			o.CustomerID, o.Email, o.Phone = ada, adaEmail, adaPhone
			o.AddressKey, o.BrowserIP, o.ShippingCity, o.ShippingZip, o.ShippingCountry = "addr-ada", "198.51.100.1", "Ottawa", "K1A 0A6", "CA"
		}
		mustUpsertOrder(t, s, testOrder("a.example", "299938", adaOrder))
		// A guest order under her email, and one the platform names though it has no
		// customer (placed with another email).
		mustUpsertOrder(t, s, testOrder("a.example", "280263", adaOrder, func(o *Order) { o.CustomerID = "" }))
		mustUpsertOrder(t, s, testOrder("a.example", "220458", func(o *Order) {
			o.CustomerID, o.Email, o.BrowserIP = "", "ada.work@example.com", "198.51.100.9"
		}))
		// Bob shares her phone; his other data stays.
		mustUpsertOrder(t, s, testOrder("a.example", "5", func(o *Order) {
			o.CustomerID, o.Email, o.Phone, o.ShippingCity = bob, "bob@example.com", adaPhone, "Ottawa"
		}))
		// Ada in shop b is not redacted by shop a's request.
		mustUpsertOrder(t, s, testOrder("b.example", "299938", adaOrder))

		keys := []string{"customer:" + ada, "email:" + adaEmail, "phone:" + adaPhone, "address:addr-ada", "ip:198.51.100.1"}
		mustRecord(t, s, "a.example", "299938", Redemption{OfferID: "o1", Amount: 700, OrderTotal: 10000, PlacedAt: testNow(), IdentityKeys: keys})
		mustRecord(t, s, "a.example", "5", Redemption{OfferID: "o1", Amount: 700, OrderTotal: 10000, PlacedAt: testNow(),
			IdentityKeys: []string{"customer:" + bob, "email:bob@example.com", "phone:" + adaPhone}})
		if err := s.SaveDataRequest(ctx, "a.example", ada, "9999", []byte(`{"email":"`+adaEmail+`"}`)); err != nil {
			t.Fatal(err)
		}

		// Processed events that carry her data, and one that only looks like it (her id is
		// part of a longer number).
		bodies := map[string]string{
			"e1": `{"id":299938,"email":"` + adaEmail + `","customer":{"id":191167}}`,
			"e2": `{"id":280263,"contact_email":"ADA@example.com"}`,
			"e3": `{"id": 191167, "phone": "555-625-1199"}`,
			"e4": `{"id":5,"email":"bob@example.com","line_items":[{"product_id":81911670}]}`,
		}
		for _, id := range []string{"e1", "e2", "e3", "e4"} {
			ev := testEvent("a.example", id)
			ev.Body = []byte(bodies[id])
			mustEnqueue(t, s, ev)
		}
		claimed, err := s.ClaimEvents(ctx, 10, time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		for _, ev := range claimed {
			if err := s.CompleteEvent(ctx, ev.ID); err != nil {
				t.Fatal(err)
			}
		}
		spentBefore := totalSpend(t, s, "a.example")

		if err := s.RedactCustomer(ctx, "a.example", ada, []string{"220458"}); err != nil {
			t.Fatal(err)
		}

		// Nothing of hers is left in shop a, in any table.
		for _, table := range tableNames(t, s) {
			for _, row := range allRows(t, s, table) {
				if shopOf(row) == "b.example" {
					continue
				}
				for col, v := range row {
					text := fmt.Sprint(v)
					if b, ok := v.([]byte); ok {
						text = string(b)
					}
					for _, secret := range []string{adaEmail, "ada.work@example.com", adaPhone, ada, "addr-ada", "198.51.100.1", "198.51.100.9", "K1A 0A6"} {
						if strings.Contains(strings.ToLower(text), strings.ToLower(secret)) {
							t.Errorf("%s.%s still holds %q: %q", table, col, secret, text)
						}
					}
				}
			}
		}
		// Her orders, without her: amounts and the ledger stay.
		o, err := s.GetOrder(ctx, "a.example", "299938")
		if err != nil {
			t.Fatal(err)
		}
		if o.CustomerID != "" || o.ShippingCity != "" || o.ShippingCountry != "CA" || o.Total != 10000 {
			t.Errorf("redacted order = %+v; want no person, country and amounts kept", o)
		}
		if after := totalSpend(t, s, "a.example"); after != spentBefore {
			t.Errorf("total spend after redaction = %d; want %d", after, spentBefore)
		}
		rs, err := s.ListRedemptions(ctx, "a.example", "o1")
		if err != nil || len(rs) != 2 || rs[0].Amount != 700 {
			t.Fatalf("ledger after redaction = %+v, %v; want both rows", rs, err)
		}
		for _, r := range rs {
			wantKeys := []string(nil)
			if r.OrderID == "5" {
				wantKeys = []string{"customer:" + bob, "email:bob@example.com"}
			}
			if !reflect.DeepEqual(r.IdentityKeys, wantKeys) {
				t.Errorf("order %s identity keys = %v; want %v", r.OrderID, r.IdentityKeys, wantKeys)
			}
		}
		// Bob keeps what is his; the event that only looked like hers keeps its body.
		if bobOrder, err := s.GetOrder(ctx, "a.example", "5"); err != nil || bobOrder.CustomerID != bob || bobOrder.Email != "bob@example.com" || bobOrder.ShippingCity != "Ottawa" {
			t.Errorf("Bob's order = %+v, %v; want only the phone removed", bobOrder, err)
		}
		events, err := s.ListEvents(ctx, "a.example", EventDone, 10)
		if err != nil {
			t.Fatal(err)
		}
		for _, ev := range events {
			if cleared := len(ev.Body) == 0; cleared != (ev.EventID != "e4") {
				t.Errorf("event %s body = %q; want it cleared only if it names her", ev.EventID, ev.Body)
			}
		}
		if f := mustFacts(t, s, "a.example", discountfn.Buyer{CustomerID: ada, Email: adaEmail}); len(f.History.Orders) != 0 {
			t.Errorf("history after redaction = %+v; want none", f.History.Orders)
		}
		// Shop b is untouched.
		if o, err := s.GetOrder(ctx, "b.example", "299938"); err != nil || o.Email != adaEmail || o.CustomerID != ada {
			t.Errorf("shop b's order = %+v, %v; want it untouched", o, err)
		}
		// Redacting again does nothing more; redacting nobody is refused.
		if err := s.RedactCustomer(ctx, "a.example", ada, []string{"220458"}); err != nil {
			t.Errorf("second RedactCustomer = %v", err)
		}
		if err := s.RedactCustomer(ctx, "a.example", "", nil); !errors.Is(err, ErrInvalid) {
			t.Errorf("RedactCustomer of nobody = %v; want ErrInvalid", err)
		}
	})
}

// totalSpend sums the totals of a shop's orders.
func totalSpend(t testing.TB, s *Store, shop string) int64 {
	t.Helper()
	var n int64
	if err := s.db.Raw(`SELECT COALESCE(SUM(total), 0) FROM orders WHERE shop = ?`, shop).Scan(&n).Error; err != nil {
		t.Fatal(err)
	}
	return n
}

// shopOf is the shop a row read by allRows belongs to ("" if it names none).
func shopOf(row map[string]any) string {
	if v, ok := row["shop"]; ok {
		return fmt.Sprint(v)
	}
	if v, ok := row["domain"]; ok {
		return fmt.Sprint(v)
	}
	return ""
}

// fillShop gives a shop a row in every table.
func fillShop(t testing.TB, s *Store, shop string) {
	t.Helper()
	ctx := context.Background()
	mustShop(t, s, shop)
	mustOffer(t, s, shop, "o1")
	if err := s.AddCodes(ctx, shop, "o1", []CodeRow{{Code: "C1"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.SaveSegment(ctx, shop, "vip", 1, []byte(`{}`)); err != nil {
		t.Fatal(err)
	}
	if err := s.SaveSettings(ctx, shop, DefaultShopSettings()); err != nil {
		t.Fatal(err)
	}
	mustEnqueue(t, s, testEvent(shop, "1"))
	mustUpsertOrder(t, s, testOrder(shop, "1", func(o *Order) {
		o.Lines = []OrderLine{{ID: "1", Quantity: 1, Price: 1}}
		o.Refunds = []Refund{{ID: "1", Amount: 1}}
	}))
	if _, err := s.UpsertCustomer(ctx, Customer{Shop: shop, ID: "gid://shopify/Customer/1", UpdatedAt: testNow()}); err != nil {
		t.Fatal(err)
	}
	mustRecord(t, s, shop, "1", Redemption{OfferID: "o1", PlacedAt: testNow(), IdentityKeys: []string{"customer:gid://shopify/Customer/1"}})
	if err := s.SaveDataRequest(ctx, shop, "gid://shopify/Customer/1", "1", []byte(`{}`)); err != nil {
		t.Fatal(err)
	}
	if err := s.SaveTokens(ctx, shop, Tokens{AccessCiphertext: []byte("sealed"), Scopes: "read_orders"}); err != nil {
		t.Fatal(err)
	}
	// Platform sync (sync.go, outbox.go): a queued job, the offer's state, the shop's state.
	if _, err := s.EnqueueSync(ctx, shop, "o1", SyncUpsert); err != nil {
		t.Fatal(err)
	}
	if err := s.SaveShopSync(ctx, ShopSync{Shop: shop, FunctionID: "fn-1"}); err != nil {
		t.Fatal(err)
	}
	// The block list (blocklist.go).
	if _, err := s.BlockIdentity(ctx, shop, "email:ada@example.com", "chargebacks"); err != nil {
		t.Fatal(err)
	}
	// An order flag (orderflags.go).
	if _, err := s.ApplyOrderEvents(ctx, []OrderEvent{{Order: testOrder(shop, "2"), CODOffers: []string{"o1"}}}); err != nil {
		t.Fatal(err)
	}
}

func TestDeleteShopData(t *testing.T) {
	ctx := context.Background()
	eachDB(t, func(t *testing.T, db testDB) {
		s, _ := mustHistoryStore(t, db)
		fillShop(t, s, "a.example")
		fillShop(t, s, "b.example")
		rowsOf := func(shop string) map[string]int {
			counts := map[string]int{}
			for _, table := range tableNames(t, s) {
				for _, row := range allRows(t, s, table) {
					if shopOf(row) == shop {
						counts[table]++
					}
				}
			}
			return counts
		}
		before := rowsOf("b.example")
		for _, table := range tableNames(t, s) {
			if table != "schema_migrations" && shopColumn(t, s, table) == "" {
				t.Errorf("table %s has no shop column: DeleteShopData cannot find its rows", table)
			}
			if table != "schema_migrations" && rowsOf("a.example")[table] == 0 {
				t.Errorf("fillShop left table %s empty: the test would not see it deleted", table)
			}
		}

		if err := s.DeleteShopData(ctx, "a.example"); err != nil {
			t.Fatal(err)
		}
		if left := rowsOf("a.example"); len(left) != 0 {
			t.Errorf("rows of the deleted shop left: %v", left)
		}
		if after := rowsOf("b.example"); !reflect.DeepEqual(after, before) {
			t.Errorf("the other shop's rows = %v; want %v", after, before)
		}
		if err := s.DeleteShopData(ctx, "a.example"); err != nil {
			t.Errorf("DeleteShopData again = %v; want nil", err)
		}
		// The shop can install again from nothing.
		fillShop(t, s, "a.example")
	})
}

// TestHistoryShopIsolation: every read of shop b sees nothing of shop a's history.
func TestHistoryShopIsolation(t *testing.T) {
	ctx := context.Background()
	eachDB(t, func(t *testing.T, db testDB) {
		s, _ := mustHistoryStore(t, db)
		fillShop(t, s, "a.example")
		mustShop(t, s, "b.example")
		if n, err := s.RequeueFailed(ctx, "b.example"); err != nil || n != 0 {
			t.Errorf("RequeueFailed as b = %d, %v", n, err)
		}
		reads := []struct {
			name string
			do   func() error
			want error
		}{
			{name: "GetOrder", want: ErrNotFound, do: func() error { _, err := s.GetOrder(ctx, "b.example", "1"); return err }},
			{name: "GetCustomer", want: ErrNotFound, do: func() error {
				_, err := s.GetCustomer(ctx, "b.example", "gid://shopify/Customer/1")
				return err
			}},
			{name: "ListEvents", do: func() error { return wantEmpty(s.ListEvents(ctx, "b.example", "", 0)) }},
			{name: "ListRedemptions", do: func() error { return wantEmpty(s.ListRedemptions(ctx, "b.example", "")) }},
			{name: "ListDataRequests", do: func() error { return wantEmpty(s.ListDataRequests(ctx, "b.example")) }},
			{name: "CustomerData", do: func() error {
				d, err := s.CustomerData(ctx, "b.example", "gid://shopify/Customer/1")
				if err == nil && (d.Customer != nil || len(d.Orders) != 0 || len(d.Redemptions) != 0) {
					return errors.New("not empty")
				}
				return err
			}},
			{name: "Facts", do: func() error {
				f, err := s.Facts(ctx, "b.example", discountfn.Buyer{CustomerID: "gid://shopify/Customer/1", Email: "ada@example.com"})
				if err == nil && (len(f.History.Orders) != 0 || len(f.Usage.Offers) != 0) {
					return errors.New("not empty")
				}
				return err
			}},
			{name: "GetSettings", do: func() error {
				st, err := s.GetSettings(ctx, "b.example")
				if err == nil && !reflect.DeepEqual(st.CODGateways, DefaultShopSettings().CODGateways) {
					return errors.New("not the defaults")
				}
				return err
			}},
		}
		for _, r := range reads {
			if err := r.do(); !errors.Is(err, r.want) {
				t.Errorf("as shop b, %s = %v; want %v", r.name, err, r.want)
			}
		}
		// Shop b's writes with shop a's ids stay in shop b.
		if inserted, err := s.AddRefund(ctx, "b.example", Refund{ID: "1", OrderID: "1", Amount: 5}); err != nil || !inserted {
			t.Errorf("AddRefund in b with a's refund id = %v, %v; want inserted", inserted, err)
		}
		if err := s.ReleaseRedemptions(ctx, "b.example", "1", true); err != nil {
			t.Fatal(err)
		}
		if rs, err := s.ListRedemptions(ctx, "a.example", ""); err != nil || len(rs) != 1 || rs[0].Released {
			t.Errorf("a's ledger after b released its order 1 = %+v, %v; want untouched", rs, err)
		}
		if err := s.RedactCustomer(ctx, "b.example", "gid://shopify/Customer/1", []string{"1"}); err != nil {
			t.Fatal(err)
		}
		if o, err := s.GetOrder(ctx, "a.example", "1"); err != nil || o.Email != "ada@example.com" {
			t.Errorf("a's order after b redacted the same ids = %+v, %v; want untouched", o, err)
		}
		events, err := s.ListEvents(ctx, "a.example", "", 0)
		if err != nil || len(events) != 1 || !bytes.Equal(events[0].Body, testEvent("a.example", "1").Body) {
			t.Errorf("a's events after b's redaction = %+v, %v; want untouched", events, err)
		}
	})
}

// BenchmarkEnqueueEvent stores 2 KB deliveries, one at a time.
func BenchmarkEnqueueEvent(b *testing.B) {
	eachDBBench(b, func(b *testing.B, db testDB) {
		s := mustOpenMigrated(b, db)
		body := bytes.Repeat([]byte("x"), 2048)
		ctx := context.Background()
		i := 0
		for b.Loop() {
			i++
			_, err := s.EnqueueEvent(ctx, WebhookEvent{
				Shop: "a.example", EventID: fmt.Sprint(i), WebhookID: fmt.Sprint(i),
				Topic: "orders/create", APIVersion: "2025-10", Body: body,
			})
			if err != nil {
				b.Fatal(err)
			}
		}
	})
}
