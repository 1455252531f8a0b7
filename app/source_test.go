package app

import (
	"context"
	"errors"
	"sync"
	"testing"

	"github.com/regularsapp/regulars/discountfn"
)

func TestMemorySource(t *testing.T) {
	ctx := context.Background()
	src := NewMemorySource()
	set := mustOfferSet(t, percentOffer(offerA, 500))
	codes := discountfn.MapCodeBook{"ABC": {OfferID: offerA}}
	src.SetOffers(shopA, set, codes)
	buyer := discountfn.Buyer{CustomerID: "gid://shopify/Customer/1", Email: "a@example.com"}
	facts := discountfn.Facts{History: discountfn.History{Orders: []discountfn.PastOrder{{NetSpend: 12_00}}}}
	src.SetFacts(shopA, buyer, facts)

	gotSet, gotCodes, err := src.Checkout(ctx, shopA)
	if err != nil || gotSet != set || gotCodes == nil {
		t.Fatalf("Checkout(shop A) = %v, %v, %v", gotSet, gotCodes, err)
	}
	if _, _, err := src.Checkout(ctx, shopB); !errors.Is(err, ErrUnknownShop) {
		t.Errorf("Checkout(shop B) err = %v, want ErrUnknownShop", err)
	}
	got, err := src.Facts(ctx, shopA, buyer)
	if err != nil || len(got.History.Orders) != 1 {
		t.Errorf("Facts(known buyer) = %+v, %v", got, err)
	}
	for name, tc := range map[string]struct {
		shop  string
		buyer discountfn.Buyer
	}{
		"other buyer":         {shopA, discountfn.Buyer{Email: "b@example.com"}},
		"same buyer, shop B":  {shopB, buyer},
		"guest (no identity)": {shopA, discountfn.Buyer{}},
	} {
		got, err := src.Facts(ctx, tc.shop, tc.buyer)
		if err != nil || len(got.History.Orders) != 0 {
			t.Errorf("%s: Facts = %+v, %v; want zero facts", name, got, err)
		}
	}

	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if _, _, err := src.Checkout(cancelled, shopA); !errors.Is(err, context.Canceled) {
		t.Errorf("Checkout with cancelled ctx err = %v", err)
	}
}

func TestMemorySourceConcurrent(t *testing.T) {
	src := NewMemorySource()
	set := mustOfferSet(t, percentOffer(offerA, 500))
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 100 {
				if i%2 == 0 {
					src.SetOffers(shopA, set, nil)
					src.SetFacts(shopA, discountfn.Buyer{CustomerID: "c"}, discountfn.Facts{})
				} else {
					_, _, _ = src.Checkout(context.Background(), shopA)
					_, _ = src.Facts(context.Background(), shopA, discountfn.Buyer{CustomerID: "c"})
				}
			}
		}()
	}
	wg.Wait()
}
