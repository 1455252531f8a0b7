package discountfn

import (
	"fmt"
	"testing"
	"time"
)

// benchShop builds a shop of n offers with the mix a large shop has: most are code offers
// (the platform allows only a couple of dozen automatic discounts to be active), the rest are
// automatic offers scoped to one collection or product, or to tagged or listed customers, plus
// five storewide automatic offers. Each scoped offer has its own collection or product, so a
// cart triggers a handful of offers however many exist: that is what the index buys.
func benchShop(n int) []Offer {
	cw := CombinesWith{OrderDiscounts: true, ProductDiscounts: true, ShippingDiscounts: true}
	base := func(i int) Offer {
		return Offer{
			Version: ConfigVersion, ID: fmt.Sprintf("offer-%05d", i), Name: fmt.Sprintf("Offer %d", i), Status: StatusActive,
			Application: Application{Kind: ApplyAutomatic},
			Value:       Value{Kind: ValuePercentage, Percentage: 1000},
			Condition:   Condition{Qualifying: ItemSet{Scope: ScopeAll}},
			Eligibility: Eligibility{Audience: AudienceAll},
			Stacking:    Stacking{Priority: i % 3, CombinesWith: cw},
			Preview:     Preview{Title: fmt.Sprintf("Offer %d", i), Visible: true},
		}
	}
	var offers []Offer
	for i := 0; i < 5; i++ {
		o := base(100000 + i)
		o.Condition.MinSubtotal = Money(5000 * (i + 1))
		offers = append(offers, o)
	}
	for i := 5; i < n; i++ {
		o := base(i)
		switch i % 10 {
		case 0:
			o.Condition.Qualifying = ItemSet{Scope: ScopeCollections, Collections: []string{fmt.Sprintf("gid://shopify/Collection/%d", i)}}
		case 1:
			o.Value = Value{Kind: ValueBuyXGetY, Percentage: PercentWhole, BuyXGetY: &BuyXGetY{
				Buy:         ItemSet{Scope: ScopeProducts, ProductIDs: []string{fmt.Sprintf("gid://shopify/Product/%d", i)}},
				BuyQuantity: 1,
				Get:         ItemSet{Scope: ScopeProducts, ProductIDs: []string{fmt.Sprintf("gid://shopify/Product/%d", i)}},
				GetQuantity: 1}}
		case 2:
			o.Eligibility = Eligibility{Audience: AudienceTags, CustomerTags: []string{fmt.Sprintf("tier-%d", i)}}
			o.Value = Value{Kind: ValueTiered, TierBasis: TierBySubtotal, Tiers: []Tier{
				{Threshold: 5000, Kind: ValueFixed, Amount: 500},
				{Threshold: 15000, Kind: ValuePercentage, Percentage: 1000, FreeShipping: true}}}
		case 9:
			o.Eligibility = Eligibility{Audience: AudienceCustomers, CustomerIDs: []string{fmt.Sprintf("gid://shopify/Customer/%d", i)}}
			o.Value = Value{Kind: ValueFixed, Amount: 1000}
		default:
			o.Application = Application{Kind: ApplyCode, Code: fmt.Sprintf("CODE%d", i)}
			o.Behaviour = &Behaviour{Period: Period{Unit: PeriodMonths, Count: 6}, MinOrders: 2, MinSpend: 10000}
			o.Limits = Limits{TotalUses: 1000, UsesPerCustomer: 1}
		}
		offers = append(offers, o)
	}
	return offers
}

// benchCart is a cart of n lines; lines touch the collections and products of the scoped
// offers 10, 11, 20, 21 …, and the buyer enters two codes and has a year of history.
func benchRequest(b *testing.B, set *OfferSet, lines int) Request {
	sc := &shortCart{CustomerID: "gid://shopify/Customer/19", Email: "regular@example.com",
		Tags: []string{"tier-12", "vip"}, NumberOfOrders: 12, Codes: []string{"CODE13", "code14"}}
	for i := 0; i < lines; i++ {
		var cols []string
		if i < 4 {
			cols = []string{fmt.Sprintf("gid://shopify/Collection/%d", 10*(i+1))}
		}
		sc.Lines = append(sc.Lines, shortLine{
			ID:          fmt.Sprintf("gid://shopify/CartLine/%d", i),
			Product:     fmt.Sprintf("gid://shopify/Product/%d", 10*(i%4+1)+1),
			Price:       FormatMoney(Money(499+i*137%9000), 2),
			Quantity:    1 + i%3,
			Collections: cols,
		})
	}
	sc.Delivery = []shortDeliv{{ID: "gid://shopify/CartDeliveryGroup/0", City: "Leeds", Country: "GB", Selected: "standard",
		Options: []shortOption{{Handle: "standard", Cost: "4.99"}, {Handle: "express", Cost: "12.00"}}}}
	now := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
	var history History
	for i := 0; i < 12; i++ {
		history.Orders = append(history.Orders, PastOrder{PlacedAt: now.AddDate(0, -i, -3), NetSpend: 4200,
			Codes: []string{"WELCOME10"}, ProductIDs: []string{"gid://shopify/Product/1"}})
	}
	return Request{Input: expandCart(sc, set), Target: TargetCartLines, OfferID: "offer-00013", Now: now,
		Facts: Facts{History: history, Usage: Usage{Offers: map[string]OfferUsage{"offer-00013": {Total: 10}}}}}
}

func BenchmarkEvaluate(b *testing.B) {
	for _, offers := range []int{10, 1000, 10000} {
		set, err := NewOfferSet(Settings{Currency: "USD"}, benchShop(offers), nil)
		if err != nil {
			b.Fatal(err)
		}
		for _, lines := range []int{10, 50} {
			b.Run(fmt.Sprintf("offers=%d/lines=%d", offers, lines), func(b *testing.B) {
				req := benchRequest(b, set, lines)
				res, err := set.Evaluate(req)
				if err != nil {
					b.Fatal(err)
				}
				applied := 0
				for _, o := range res.Outcomes {
					if o.Applied {
						applied++
					}
				}
				b.ReportAllocs()
				for b.Loop() {
					if _, err := set.Evaluate(req); err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric(float64(len(res.Outcomes)), "offers-reached")
				b.ReportMetric(float64(applied), "offers-applied")
			})
		}
	}
}

// TestBenchShopExercisesTheEngine keeps the benchmark honest: its cart must really trigger
// and apply offers, or the figures would measure an empty loop.
func TestBenchShopExercisesTheEngine(t *testing.T) {
	set, err := NewOfferSet(Settings{Currency: "USD"}, benchShop(1000), nil)
	if err != nil {
		t.Fatal(err)
	}
	req := benchRequest(nil, set, 50)
	res, err := set.Evaluate(req)
	if err != nil {
		t.Fatal(err)
	}
	applied := map[string]bool{}
	for _, o := range res.Outcomes {
		if o.Applied {
			applied[o.OfferID] = true
		}
	}
	// Offer 10 and 40 are reached but find their lines already fully discounted.
	for _, id := range []string{"offer-00011", "offer-00012", "offer-00013", "offer-00014", "offer-00019", "offer-00021"} {
		if !applied[id] {
			t.Errorf("%s does not apply", id)
		}
	}
	if len(res.Outcomes) < 15 {
		t.Errorf("the cart reaches %d offers, want at least 15", len(res.Outcomes))
	}
	if len(res.Operations) == 0 {
		t.Error("the calling offer produced no operations")
	}
}
