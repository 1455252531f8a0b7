package app

import (
	"context"
	"log/slog"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/regularsapp/regulars/discountfn"
	"github.com/regularsapp/regulars/store"
	"github.com/regularsapp/regulars/store/storetest"
)

// TestStoreSourceCachesFollowChanges: with Watch listening, the offer set and buyers' facts
// come from memory and follow every change, including changes written by another process
// (on PostgreSQL, a second Store on the same database plays it).
func TestStoreSourceCachesFollowChanges(t *testing.T) {
	run := func(t *testing.T, reader, writer *store.Store) {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		mustShops(t, writer, shopA)
		mustSaveOffers(t, writer, shopA, percentOffer("first", 10*100))
		src := watching(t, reader)

		offers := func() int {
			set, _, err := src.Checkout(ctx, shopA)
			if err != nil {
				t.Fatal(err)
			}
			n := 0
			for _, id := range []string{"first", "second"} {
				if _, ok := set.Offer(id); ok {
					n++
				}
			}
			return n
		}
		if n := offers(); n != 1 {
			t.Fatalf("offers = %d", n)
		}
		first, _, _ := src.Checkout(ctx, shopA)
		again, _, _ := src.Checkout(ctx, shopA)
		if first != again {
			t.Error("an unchanged shop's offer set is compiled again")
		}
		mustSaveOffers(t, writer, shopA, percentOffer("second", 5*100))
		waitFor(t, "the new offer", func() bool { return offers() == 2 })

		buyer := discountfn.Buyer{CustomerID: "gid://shopify/Customer/7", Email: "seven@example.com"}
		orders := func() int {
			f, err := src.Facts(ctx, shopA, buyer)
			if err != nil {
				t.Fatal(err)
			}
			return len(f.History.Orders)
		}
		if n := orders(); n != 0 {
			t.Fatalf("orders = %d", n)
		}
		placed := time.Now().Add(-time.Hour)
		if _, err := writer.UpsertOrder(ctx, store.Order{Shop: shopA, ID: "1", CustomerID: buyer.CustomerID, Email: buyer.Email,
			PlacedAt: placed, UpdatedAt: placed, Currency: "USD", Subtotal: 1000, Total: 1000, FinancialStatus: "paid"}); err != nil {
			t.Fatal(err)
		}
		waitFor(t, "the new order in the buyer's facts", func() bool { return orders() == 1 })
		if _, err := writer.BlockIdentity(ctx, shopA, "email:seven@example.com", "test"); err != nil {
			t.Fatal(err)
		}
		waitFor(t, "the block in the buyer's facts", func() bool {
			f, err := src.Facts(ctx, shopA, buyer)
			return err == nil && len(f.Blocked) > 0
		})
		if reader != writer {
			return
		}
		// Served from memory: with the database closed, the warm entries still answer.
		if err := reader.Close(); err != nil {
			t.Fatal(err)
		}
		if n := offers(); n != 2 {
			t.Errorf("offers from memory = %d", n)
		}
		if n := orders(); n != 1 {
			t.Errorf("orders from memory = %d", n)
		}
	}
	t.Run("sqlite", func(t *testing.T) {
		st := storetest.OpenMigrated(t, "sqlite:"+filepath.Join(t.TempDir(), "test.db"))
		run(t, st, st)
	})
	t.Run("postgres", func(t *testing.T) {
		dsn := storetest.NewPostgresDSN(t)
		run(t, storetest.OpenMigrated(t, dsn), storetest.OpenMigrated(t, dsn))
	})
}

// watching returns st's StoreSource, listening for changes until the test ends.
func watching(t *testing.T, st *store.Store) *StoreSource {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	src := NewStoreSource(st)
	done := make(chan struct{})
	go func() { defer close(done); src.Watch(ctx, slog.New(slog.DiscardHandler)) }()
	t.Cleanup(func() { cancel(); <-done })
	waitFor(t, "listening", func() bool { src.mu.Lock(); defer src.mu.Unlock(); return src.listening })
	return src
}

// waitFor polls cond for up to five seconds.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("waited 5 s for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestStoreSourceCompilesOnceAndNotInsideCheckouts: concurrent first checkouts of a shop
// share one compile, and after a change a checkout answers with the previous set at once
// (even with its deadline already gone) while the new one compiles in the background.
func TestStoreSourceCompilesOnceAndNotInsideCheckouts(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	st := storetest.OpenMigrated(t, "sqlite:"+filepath.Join(t.TempDir(), "test.db"))
	mustShops(t, st, shopA)
	mustSaveOffers(t, st, shopA, percentOffer("first", 10*100))
	src := watching(t, st)

	const callers = 16
	sets := make(chan *discountfn.OfferSet, callers)
	start := make(chan struct{})
	for range callers {
		go func() {
			<-start
			set, _, err := src.Checkout(ctx, shopA)
			if err != nil {
				t.Error(err)
			}
			sets <- set
		}()
	}
	close(start)
	first := <-sets
	for range callers - 1 {
		if set := <-sets; set != first {
			t.Fatal("concurrent first checkouts compiled the offer set more than once")
		}
	}

	mustSaveOffers(t, st, shopA, percentOffer("second", 5*100))
	gone, stop := context.WithCancel(ctx)
	stop()
	set, _, err := src.Checkout(gone, shopA)
	if err != nil || set == nil {
		t.Fatalf("checkout right after a change, its deadline gone = %v, %v; want a set from memory", set, err)
	}
	waitFor(t, "the new set, compiled in the background", func() bool {
		set, _, err := src.Checkout(gone, shopA)
		if err != nil {
			t.Fatal(err)
		}
		_, ok := set.Offer("second")
		return ok
	})
}

// TestStoreSourceSharesShopUsage: the shop's usage is read once for every buyer, follows the
// ledger, and a read the checkout gave up on still completes and warms the cache.
func TestStoreSourceSharesShopUsage(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	st := storetest.OpenMigrated(t, "sqlite:"+filepath.Join(t.TempDir(), "test.db"))
	mustShops(t, st, shopA)
	mustSaveOffers(t, st, shopA, percentOffer("first", 10*100))
	src := watching(t, st)

	ada := discountfn.Buyer{CustomerID: "gid://shopify/Customer/1", Email: "ada@example.com"}
	bob := discountfn.Buyer{CustomerID: "gid://shopify/Customer/2", Email: "bob@example.com"}
	placed := time.Now().Add(-time.Hour)
	redeem := func(orderID string, b discountfn.Buyer) {
		t.Helper()
		_, err := st.ApplyOrderEvents(ctx, []store.OrderEvent{{
			Order: store.Order{Shop: shopA, ID: orderID, CustomerID: b.CustomerID, Email: b.Email, PlacedAt: placed,
				UpdatedAt: placed, Currency: "USD", Subtotal: 1000, Total: 900, FinancialStatus: "paid"},
			Redemptions: []store.Redemption{{OfferID: "first", Amount: 100, OrderTotal: 900, PlacedAt: placed,
				IdentityKeys: b.IdentityKeys()}},
		}})
		if err != nil {
			t.Fatal(err)
		}
	}
	redeem("1", ada)

	// A checkout that gave up before the read: the read goes on and fills the cache.
	gone, stop := context.WithCancel(ctx)
	stop()
	if _, err := src.Facts(gone, shopA, ada); err == nil {
		t.Fatal("Facts with its deadline gone answered; want the context's error")
	}
	waitFor(t, "the usage read to finish", func() bool {
		src.mu.Lock()
		defer src.mu.Unlock()
		return src.usage[shopA].usage.Offers["first"].Total == 1
	})
	fa, err := src.Facts(ctx, shopA, ada)
	if err != nil {
		t.Fatal(err)
	}
	fb, err := src.Facts(ctx, shopA, bob)
	if err != nil {
		t.Fatal(err)
	}
	if reflect.ValueOf(fa.Usage.Offers).Pointer() != reflect.ValueOf(fb.Usage.Offers).Pointer() {
		t.Error("two buyers' facts hold two copies of the shop's usage")
	}
	if fa.BuyerUsage["first"][ada.IdentityKeys()[0]] != 1 || len(fb.BuyerUsage) != 0 {
		t.Errorf("buyer usage: ada %v, bob %v; want ada's one redemption only", fa.BuyerUsage, fb.BuyerUsage)
	}

	redeem("2", bob)
	waitFor(t, "the new redemption in the shop's usage", func() bool {
		f, err := src.Facts(ctx, shopA, ada)
		return err == nil && f.Usage.Offers["first"].Total == 2
	})
}
