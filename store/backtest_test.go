package store

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/regularsapp/regulars/discountfn"
)

func TestListCountedOrders(t *testing.T) {
	eachDB(t, func(t *testing.T, db testDB) {
		s, _ := mustHistoryStore(t, db, "a.myshopify.com", "b.myshopify.com")
		ctx := context.Background()
		base := testNow().Add(-10 * 24 * time.Hour)
		at := func(h int) func(*Order) {
			return func(o *Order) { o.PlacedAt, o.UpdatedAt = base.Add(time.Duration(h)*time.Hour), base }
		}
		// Orders 1 and 2 share a placed time, so the cursor must break the tie by id.
		mustUpsertOrder(t, s, testOrder("a.myshopify.com", "1", at(0), func(o *Order) {
			o.Lines = []OrderLine{{ID: "l1", ProductID: "gid://shopify/Product/1", VariantID: "gid://shopify/ProductVariant/11", Quantity: 2, Price: 2500}}
			o.Codes = []string{"WELCOME"}
			o.Refunds = []Refund{{ID: "r1", Amount: 1000, CreatedAt: base}}
		}))
		mustUpsertOrder(t, s, testOrder("a.myshopify.com", "2", at(0)))
		mustUpsertOrder(t, s, testOrder("a.myshopify.com", "3", at(1), func(o *Order) { o.Test = true }))
		mustUpsertOrder(t, s, testOrder("a.myshopify.com", "4", at(2), func(o *Order) { c := base; o.CancelledAt = &c }))
		mustUpsertOrder(t, s, testOrder("a.myshopify.com", "5", at(3)))
		mustUpsertOrder(t, s, testOrder("a.myshopify.com", "6", at(400))) // after until
		mustUpsertOrder(t, s, testOrder("b.myshopify.com", "7", at(1)))   // another shop

		until := base.Add(100 * time.Hour)
		n, err := s.CountOrdersBetween(ctx, "a.myshopify.com", time.Time{}, until)
		if err != nil || n != 5 {
			t.Fatalf("CountOrdersBetween = %d, %v; want 5", n, err)
		}
		var got []string
		var scanned, pages int
		cur := OrderCursor{}
		for {
			page, err := s.ListCountedOrders(ctx, "a.myshopify.com", time.Time{}, until, cur, 2)
			if err != nil {
				t.Fatal(err)
			}
			pages++
			scanned += page.Scanned
			for _, o := range page.Orders {
				got = append(got, o.Order.ID)
				if o.Order.ID == "1" {
					want := discountfn.PastOrder{PlacedAt: base, NetSpend: 9000, Codes: []string{"WELCOME"},
						ProductIDs: []string{"gid://shopify/Product/1", "gid://shopify/ProductVariant/11"}}
					if !o.Past.PlacedAt.Equal(want.PlacedAt) || o.Past.NetSpend != want.NetSpend ||
						!slices.Equal(o.Past.Codes, want.Codes) || !slices.Equal(o.Past.ProductIDs, want.ProductIDs) ||
						len(o.Order.Lines) != 1 || o.Order.Lines[0].Price != 2500 {
						t.Errorf("order 1 = %+v, past %+v", o.Order, o.Past)
					}
				}
			}
			cur = page.Next
			if !page.More {
				break
			}
		}
		if want := []string{"1", "2", "5"}; !slices.Equal(got, want) {
			t.Errorf("counted orders = %v; want %v", got, want)
		}
		if scanned != 5 || pages != 3 {
			t.Errorf("scanned %d orders in %d pages; want 5 in 3", scanned, pages)
		}

		// A window that starts later leaves the earlier orders out.
		page, err := s.ListCountedOrders(ctx, "a.myshopify.com", base.Add(time.Hour), until, OrderCursor{}, MaxOrderPage)
		if err != nil || len(page.Orders) != 1 || page.Orders[0].Order.ID != "5" || page.More {
			t.Errorf("later window = %+v, %v", page, err)
		}
		if _, err := s.ListCountedOrders(ctx, "a.myshopify.com", time.Time{}, until, OrderCursor{}, 0); !errors.Is(err, ErrInvalid) {
			t.Errorf("limit 0: %v; want ErrInvalid", err)
		}
		if _, err := s.ListCountedOrders(ctx, "missing.myshopify.com", time.Time{}, until, OrderCursor{}, 10); !errors.Is(err, ErrNotFound) {
			t.Errorf("unknown shop: %v; want ErrNotFound", err)
		}
	})
}
