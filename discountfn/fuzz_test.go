package discountfn

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"
)

// byteSource turns fuzz bytes into choices; when the bytes run out every choice is 0.
type byteSource struct {
	b []byte
	i int
}

func (s *byteSource) next() int {
	if s.i >= len(s.b) {
		return 0
	}
	v := int(s.b[s.i])
	s.i++
	return v
}

func (s *byteSource) intn(n int) int { return s.next() % n }

func (s *byteSource) bool() bool { return s.next()%2 == 1 }

// fuzzShop builds a random but valid offer set and cart from the fuzz bytes.
func fuzzShop(data []byte) ([]Offer, *shortCart) {
	src := &byteSource{b: data}
	collections := []string{"gid://shopify/Collection/1", "gid://shopify/Collection/2", "gid://shopify/Collection/3"}
	itemSet := func() ItemSet {
		switch src.intn(3) {
		case 0:
			return ItemSet{Scope: ScopeAll}
		case 1:
			return ItemSet{Scope: ScopeCollections, Collections: []string{collections[src.intn(3)]}}
		default:
			return ItemSet{Scope: ScopeProducts, ProductIDs: []string{fmt.Sprintf("gid://shopify/Product/%d", 1+src.intn(6))}}
		}
	}
	nOffers := 1 + src.intn(6)
	var offers []Offer
	for i := 0; i < nOffers; i++ {
		o := Offer{
			Version: ConfigVersion, ID: fmt.Sprintf("o%d", i), Name: fmt.Sprintf("Offer %d", i), Status: StatusActive,
			Application: Application{Kind: ApplyAutomatic},
			Condition:   Condition{Qualifying: itemSet(), MinQuantity: src.intn(3)},
			Eligibility: Eligibility{Audience: AudienceAll},
			Stacking: Stacking{Priority: src.intn(3), Exclusive: src.intn(8) == 0, CombinesWith: CombinesWith{
				OrderDiscounts: src.bool(), ProductDiscounts: src.bool(), ShippingDiscounts: src.bool()}},
			Preview: Preview{Title: fmt.Sprintf("Offer %d", i), Visible: src.bool()},
		}
		if src.intn(4) == 0 {
			o.Application = Application{Kind: ApplyCode, Code: fmt.Sprintf("CODE%d", i)}
		}
		switch src.intn(5) {
		case 0:
			o.Value = Value{Kind: ValuePercentage, Percentage: Percent(1 + src.next()*40%10000), MaxTargetQuantity: src.intn(3), Cap: Money(src.intn(4) * 250)}
		case 1:
			amount := Money(1 + src.next()*13)
			o.Value = Value{Kind: ValueFixed, Amount: amount, MaxTargetQuantity: src.intn(3)}
			if src.bool() {
				o.Value.Cap = amount + Money(src.intn(4)*300) // a cap below a fixed amount is refused
			}
		case 2:
			o.Value = Value{Kind: ValueFreeShipping, ShippingRateCeiling: Money(src.intn(3) * 700)}
		case 3:
			o.Value = Value{Kind: ValueBuyXGetY, Percentage: Percent(2500 * (1 + src.intn(4))),
				BuyXGetY: &BuyXGetY{Buy: itemSet(), BuyQuantity: 1 + src.intn(3), Get: itemSet(), GetQuantity: 1 + src.intn(2)}}
		default:
			o.Value = Value{Kind: ValueTiered, TierBasis: TierBySubtotal, Cap: Money(src.intn(3) * 500), Tiers: []Tier{
				{Threshold: int64(100 + src.intn(50)*100), Kind: ValueFixed, Amount: Money(50 + src.intn(20)*25)},
				{Threshold: int64(6000 + src.intn(50)*100), Kind: ValuePercentage, Percentage: Percent(500 + src.intn(20)*100), FreeShipping: src.bool()},
			}}
		}
		if o.Value.Kind != ValueFreeShipping && o.Value.Kind != ValueBuyXGetY && o.Value.Kind != ValueTiered && src.intn(3) == 0 {
			t := itemSet()
			o.Value.Targets = &t
		}
		offers = append(offers, o)
	}
	cart := &shortCart{}
	nLines := 1 + src.intn(8)
	for i := 0; i < nLines; i++ {
		var cols []string
		for _, c := range collections {
			if src.intn(3) == 0 {
				cols = append(cols, c)
			}
		}
		cart.Lines = append(cart.Lines, shortLine{
			ID:          fmt.Sprintf("gid://shopify/CartLine/%d", i),
			Product:     fmt.Sprintf("gid://shopify/Product/%d", 1+src.intn(6)),
			Price:       FormatMoney(Money(src.next()*src.next()%50000), 2),
			Quantity:    1 + src.intn(4),
			Collections: cols,
		})
	}
	for i := 0; i < nOffers; i++ {
		if src.intn(2) == 0 {
			cart.Codes = append(cart.Codes, fmt.Sprintf("code%d", i))
		}
	}
	cart.Delivery = []shortDeliv{{ID: "gid://shopify/CartDeliveryGroup/0", Selected: "standard", Options: []shortOption{
		{Handle: "standard", Cost: FormatMoney(Money(src.intn(20)*100), 2)},
		{Handle: "express", Cost: FormatMoney(Money(src.intn(40)*100), 2)},
	}}}
	return offers, cart
}

// FuzzEvaluate checks the engine's invariants on random shops and carts: no discount is
// negative or above its cap or what it targets; allocations sum exactly; together the offers
// never take more than a line or the subtotal; the answer does not depend on line order; and
// the same request always gives the same answer.
func FuzzEvaluate(f *testing.F) {
	f.Add([]byte{})
	f.Add([]byte{3, 1, 0, 2, 9, 200, 7, 1, 1, 0, 5, 3, 4, 4, 1, 250, 3, 2, 1})
	f.Add([]byte("buy x get y with tiers and free shipping, lots of bytes to spend on choices"))
	f.Fuzz(func(t *testing.T, data []byte) {
		offers, cart := fuzzShop(data)
		set, err := NewOfferSet(Settings{Currency: "USD"}, offers, nil)
		if err != nil {
			t.Fatalf("generated offers invalid: %v", err)
		}
		now := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
		eval := func(c *shortCart, target Target) Result {
			res, err := set.Evaluate(Request{Input: expandCart(c, set), Target: target, Now: now, Explain: true})
			if err != nil {
				t.Fatalf("evaluate: %v", err)
			}
			return res
		}
		for _, target := range []Target{TargetCartLines, TargetDeliveryOptions} {
			res := eval(cart, target)
			checkInvariants(t, set, cart, &res)

			again := eval(cart, target)
			a, _ := json.Marshal(res)
			b, _ := json.Marshal(again)
			if string(a) != string(b) {
				t.Fatalf("not deterministic:\n%s\n%s", a, b)
			}
			if len(a) > 0 {
				ops, _ := json.Marshal(res.RunResult())
				if len(ops) > 20000 {
					t.Fatalf("operations are %d bytes, over the platform's cap", len(ops))
				}
			}

			// A platform call evaluates only the offers the index says the cart can reach;
			// every offer it leaves out must fail in the explaining run too, and the ones it
			// evaluates must come out the same.
			for _, o := range offers {
				call, err := set.Evaluate(Request{Input: expandCart(cart, set), Target: target, Now: now, OfferID: o.ID})
				if err != nil {
					t.Fatal(err)
				}
				got, want := outcomeSummary(call), outcomeSummary(res)
				for id, w := range want {
					g, evaluated := got[id]
					applied := strings.HasPrefix(w, "true")
					if !evaluated && applied {
						t.Fatalf("offer %s applies when explained but the index skipped it", id)
					}
					if evaluated && strings.Fields(g)[0] != strings.Fields(w)[0] {
						t.Fatalf("offer %s: platform call %q, explained %q", id, g, w)
					}
				}
			}

			reversed := *cart
			reversed.Lines = slices.Clone(cart.Lines)
			slices.Reverse(reversed.Lines)
			rev := eval(&reversed, target)
			if fmt.Sprint(outcomeSummary(res)) != fmt.Sprint(outcomeSummary(rev)) {
				t.Fatalf("depends on line order:\n%v\n%v", outcomeSummary(res), outcomeSummary(rev))
			}
		}
	})
}

func outcomeSummary(r Result) map[string]string {
	m := map[string]string{}
	for _, o := range r.Outcomes {
		m[o.OfferID] = fmt.Sprintf("%v %s %d %v %d", o.Applied, o.Reason, o.Amount, o.Lines, o.ShippingAmount)
	}
	return m
}

func checkInvariants(t *testing.T, set *OfferSet, cart *shortCart, res *Result) {
	t.Helper()
	lineTotal := map[string]Money{}
	var subtotal Money
	for _, l := range cart.Lines {
		p, _ := ParseMoney(l.Price, 2)
		lineTotal[l.ID] = p * Money(l.Quantity)
		subtotal += p * Money(l.Quantity)
	}
	taken := map[string]Money{}
	var total Money
	for _, o := range res.Outcomes {
		offer, _ := set.Offer(o.OfferID)
		if o.Amount < 0 || o.ShippingAmount < 0 {
			t.Fatalf("%s: negative discount %d / %d", o.OfferID, o.Amount, o.ShippingAmount)
		}
		if !o.Applied {
			if o.Amount != 0 || len(o.Lines) != 0 {
				t.Fatalf("%s: not applied but carries %d", o.OfferID, o.Amount)
			}
			continue
		}
		if offer.Value.Cap > 0 && o.Amount > offer.Value.Cap {
			t.Fatalf("%s: %d above cap %d", o.OfferID, o.Amount, offer.Value.Cap)
		}
		var sum Money
		for _, a := range o.Lines {
			if a.Amount <= 0 || a.Amount > lineTotal[a.LineID] {
				t.Fatalf("%s: line %s gets %d of %d", o.OfferID, a.LineID, a.Amount, lineTotal[a.LineID])
			}
			sum += a.Amount
			taken[a.LineID] += a.Amount
		}
		if sum != o.Amount {
			t.Fatalf("%s: allocations sum to %d, discount is %d", o.OfferID, sum, o.Amount)
		}
		if offer.Value.Kind == ValueFixed && offer.Value.Amount < o.Amount {
			t.Fatalf("%s: fixed %d gave %d", o.OfferID, offer.Value.Amount, o.Amount)
		}
		total += o.Amount
	}
	for id, v := range taken {
		if v > lineTotal[id] {
			t.Fatalf("line %s: offers took %d of %d", id, v, lineTotal[id])
		}
	}
	if total > subtotal {
		t.Fatalf("offers took %d of a %d subtotal", total, subtotal)
	}
}
