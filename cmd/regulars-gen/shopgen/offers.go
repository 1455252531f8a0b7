package shopgen

import (
	"fmt"
	"math/rand/v2"

	"github.com/regularsapp/regulars/discountfn"
	"github.com/regularsapp/regulars/store"
)

// The offer mix of a large shop. The platform allows only a couple of dozen active automatic
// discounts, so most offers are codes: shared codes (campaigns, influencers, staff) and
// offers with many unique codes (one per newsletter recipient, say). A few automatic offers
// apply storewide or to a collection, a product, tagged or listed customers; some belong to
// the segments.
const (
	maxAutomatic    = 25
	maxSegmentOffer = 8
	uniqueShare     = 0.15 // of the code offers
	codesPerOffer   = 100  // unique codes of each codes offer
)

// offerID is offer number i's id.
func offerID(i int) string { return fmt.Sprintf("gen-%05d", i) }

// SegmentID is segment number i's id.
func SegmentID(i int) string { return fmt.Sprintf("seg-%d", i) }

// makeSegments builds the shop's segments, the highest priority first.
func (g *Generator) makeSegments() []discountfn.Segment {
	rules := []struct {
		name  string
		rules discountfn.SegmentRules
	}{
		{"VIP", discountfn.SegmentRules{CustomerTags: []string{"vip"}}},
		{"Gold tier", discountfn.SegmentRules{CustomerTags: []string{"tier-gold"}}},
		{"Big spenders", discountfn.SegmentRules{Behaviour: &discountfn.Behaviour{
			Period: discountfn.Period{Unit: discountfn.PeriodLifetime}, MinSpend: 100_000}}},
		{"Regulars", discountfn.SegmentRules{Behaviour: &discountfn.Behaviour{
			Period: discountfn.Period{Unit: discountfn.PeriodMonths, Count: 12}, MinOrders: 5}}},
		{"France", discountfn.SegmentRules{Countries: []string{"FR"}}},
		{"Express lovers", discountfn.SegmentRules{DeliveryMethods: []string{"Express"}}},
		{"Londoners", discountfn.SegmentRules{Cities: []string{"London"}, Postcodes: []string{"SW1", "EC1"}}},
		{"Silver tier", discountfn.SegmentRules{CustomerTags: []string{"tier-silver"}}},
	}
	segments := make([]discountfn.Segment, len(rules))
	for i, r := range rules {
		segments[i] = discountfn.Segment{ID: SegmentID(i), Name: r.name, Priority: len(rules) - i, Rules: r.rules}
	}
	return segments
}

// makeOffers builds cfg.Offers active offers, all valid, with the unique codes of the codes
// offers.
func (g *Generator) makeOffers() error {
	n := g.cfg.Offers
	automatic := min(max(n/40, 3), maxAutomatic)
	segmentOffers := min(max(n/100, 1), maxSegmentOffer, len(g.segments))
	for i := range n {
		rng := rand.New(rand.NewPCG(g.cfg.Seed, saltOffer+uint64(i)))
		var o discountfn.Offer
		switch {
		case i < automatic:
			o = g.automaticOffer(rng, i)
			g.automatic = append(g.automatic, i)
		case i < automatic+segmentOffers:
			o = g.segmentOffer(rng, i, i-automatic)
			g.automatic = append(g.automatic, i)
		default:
			o = g.codeOffer(rng, i)
			if o.Application.Kind == discountfn.ApplyCodes {
				g.unique = append(g.unique, i)
				g.makeCodes(o.ID)
			} else {
				g.shared = append(g.shared, i)
			}
		}
		if err := o.Validate(); err != nil {
			return fmt.Errorf("shopgen: offer %s: %w", o.ID, err)
		}
		g.offers = append(g.offers, o)
	}
	return nil
}

// baseOffer is an active offer with the fields every offer has.
func (g *Generator) baseOffer(rng *rand.Rand, i int, name string) discountfn.Offer {
	title := fmt.Sprintf("%s (%d)", name, i)
	o := discountfn.Offer{
		Version: discountfn.ConfigVersion, ID: offerID(i), Name: title, Status: discountfn.StatusActive,
		Application: discountfn.Application{Kind: discountfn.ApplyAutomatic},
		Condition:   discountfn.Condition{Qualifying: discountfn.ItemSet{Scope: discountfn.ScopeAll}},
		Eligibility: discountfn.Eligibility{Audience: discountfn.AudienceAll},
		Stacking: discountfn.Stacking{Priority: rng.IntN(11), CombinesWith: discountfn.CombinesWith{
			OrderDiscounts: rng.IntN(5) > 0, ProductDiscounts: rng.IntN(5) > 0, ShippingDiscounts: rng.IntN(10) > 0}},
		Preview: discountfn.Preview{Title: title, Visible: rng.IntN(10) < 7},
	}
	if rng.IntN(10) < 4 {
		o.Campaign = campaigns[rng.IntN(len(campaigns))]
	}
	if o.Preview.Visible && rng.IntN(2) == 0 {
		o.Preview.Description = "Thank you for shopping with us again."
		o.Preview.UnlockMessage = "Spend {amount} more to get {title}"
	}
	if rng.IntN(10) < 3 {
		// An active window around the generation's end: started within the last 90 days,
		// ending 30 to 365 days after it.
		starts := g.cfg.End.AddDate(0, 0, -1-rng.IntN(90))
		ends := g.cfg.End.AddDate(0, 0, 30+rng.IntN(335))
		o.Schedule = discountfn.Schedule{StartsAt: &starts, EndsAt: &ends}
	}
	return o
}

// automaticOffer is one of the shop's few automatic offers.
func (g *Generator) automaticOffer(rng *rand.Rand, i int) discountfn.Offer {
	cat := &g.catalog
	switch i {
	case 0:
		o := g.baseOffer(rng, i, "Spend more, save more")
		o.Value = discountfn.Value{Kind: discountfn.ValueTiered, TierBasis: discountfn.TierBySubtotal, Tiers: []discountfn.Tier{
			{Threshold: 5000, Kind: discountfn.ValuePercentage, Percentage: 500},
			{Threshold: 10000, Kind: discountfn.ValuePercentage, Percentage: 1000},
			{Threshold: 15000, Kind: discountfn.ValuePercentage, Percentage: 1000, FreeShipping: true},
		}, ShippingRateCeiling: 2000}
		return o
	case 1:
		o := g.baseOffer(rng, i, "Free shipping over $75")
		o.Value = discountfn.Value{Kind: discountfn.ValueFreeShipping, ShippingRateCeiling: 1500}
		o.Condition.MinSubtotal = 7500
		o.Stacking.CombinesWith = discountfn.CombinesWith{OrderDiscounts: true, ProductDiscounts: true, ShippingDiscounts: false}
		return o
	case 2:
		o := g.baseOffer(rng, i, "Welcome")
		o.Value = discountfn.Value{Kind: discountfn.ValuePercentage, Percentage: 1000, Cap: 2500}
		o.Eligibility.FirstOrderOnly = true
		return o
	}
	col := cat.Collections[i%len(cat.Collections)]
	prod := cat.Products[(i*13)%(len(cat.Products)-1)]
	switch i % 6 {
	case 0:
		o := g.baseOffer(rng, i, "Collection sale")
		o.Value = discountfn.Value{Kind: discountfn.ValuePercentage, Percentage: discountfn.Percent(500 + 250*rng.IntN(5))}
		o.Condition.Qualifying = discountfn.ItemSet{Scope: discountfn.ScopeCollections, Collections: []string{col},
			ExcludeProductIDs: []string{cat.Products[(i*17)%(len(cat.Products)-1)].ID}, ExcludeGiftCards: true}
		return o
	case 1:
		o := g.baseOffer(rng, i, "Buy two, get one half price")
		set := discountfn.ItemSet{Scope: discountfn.ScopeProducts, ProductIDs: []string{prod.ID}}
		o.Value = discountfn.Value{Kind: discountfn.ValueBuyXGetY, Percentage: 5000,
			BuyXGetY: &discountfn.BuyXGetY{Buy: set, BuyQuantity: 2, Get: set, GetQuantity: 1}}
		return o
	case 2:
		o := g.baseOffer(rng, i, "VIP thank you")
		o.Value = discountfn.Value{Kind: discountfn.ValueFixed, Amount: discountfn.Money(500 * (1 + rng.IntN(4)))}
		o.Eligibility = discountfn.Eligibility{Audience: discountfn.AudienceTags, CustomerTags: []string{"vip", "ambassador"}}
		o.Condition.MinSubtotal = 3000
		return o
	case 3:
		o := g.baseOffer(rng, i, "Friends of the shop")
		o.Value = discountfn.Value{Kind: discountfn.ValuePercentage, Percentage: 1500}
		o.Eligibility = discountfn.Eligibility{Audience: discountfn.AudienceCustomers, CustomerIDs: g.someCustomers(rng, 3+rng.IntN(20))}
		return o
	case 4:
		o := g.baseOffer(rng, i, "Fifth order reward")
		o.Value = discountfn.Value{Kind: discountfn.ValueFixed, Amount: 1000, Targets: &discountfn.ItemSet{Scope: discountfn.ScopeAll}}
		o.Eligibility.OrderNumber = &discountfn.IntRange{Min: 5, Max: 5}
		return o
	default:
		o := g.baseOffer(rng, i, "Regulars' collection")
		o.Value = discountfn.Value{Kind: discountfn.ValuePercentage, Percentage: 2000, MaxTargetQuantity: 2}
		o.Condition.Qualifying = discountfn.ItemSet{Scope: discountfn.ScopeCollections, Collections: []string{col}}
		o.Behaviour = &discountfn.Behaviour{Period: discountfn.Period{Unit: discountfn.PeriodMonths, Count: 12}, MinOrders: 3}
		o.Limits = discountfn.Limits{UsesPerCustomer: 2}
		return o
	}
}

// segmentOffer is the automatic offer of segment number seg.
func (g *Generator) segmentOffer(rng *rand.Rand, i, seg int) discountfn.Offer {
	s := g.segments[seg]
	o := g.baseOffer(rng, i, s.Name+" offer")
	o.Eligibility = discountfn.Eligibility{Audience: discountfn.AudienceSegment, SegmentID: s.ID}
	if seg%2 == 0 {
		o.Value = discountfn.Value{Kind: discountfn.ValueTiered, TierBasis: discountfn.TierBySubtotal, Tiers: []discountfn.Tier{
			{Threshold: 4000, Kind: discountfn.ValuePercentage, Percentage: discountfn.Percent(500 + 100*seg)},
			{Threshold: 12000, Kind: discountfn.ValuePercentage, Percentage: discountfn.Percent(1000 + 100*seg)},
		}}
	} else {
		o.Value = discountfn.Value{Kind: discountfn.ValuePercentage, Percentage: discountfn.Percent(700 + 100*seg)}
	}
	no := false
	if seg%3 == 1 {
		o.Stacking.CombinesWithCodes = &no
	}
	return o
}

// codeOffer is a shared-code or unique-codes offer with a random value, condition, purchase
// behaviour, audience and limits.
func (g *Generator) codeOffer(rng *rand.Rand, i int) discountfn.Offer {
	cat := &g.catalog
	word := codeWords[rng.IntN(len(codeWords))]
	o := g.baseOffer(rng, i, word+" code")
	if rng.Float64() < uniqueShare {
		o.Application = discountfn.Application{Kind: discountfn.ApplyCodes}
	} else {
		o.Application = discountfn.Application{Kind: discountfn.ApplyCode, Code: SharedCode(word, i)}
	}
	if rng.IntN(10) == 0 {
		no := false
		o.Stacking.CombinesWithAutomatic = &no
	}
	o.Stacking.Exclusive = rng.IntN(50) == 0

	col := func() string { return cat.Collections[rng.IntN(len(cat.Collections))] }
	switch r := rng.IntN(100); {
	case r < 45:
		o.Value = discountfn.Value{Kind: discountfn.ValuePercentage, Percentage: discountfn.Percent(500 * (1 + rng.IntN(6)))}
		if rng.IntN(4) == 0 {
			o.Value.Cap = discountfn.Money(2000 + 1000*rng.IntN(5))
		}
	case r < 65:
		o.Value = discountfn.Value{Kind: discountfn.ValueFixed, Amount: discountfn.Money(500 * (1 + rng.IntN(5)))}
	case r < 75:
		o.Value = discountfn.Value{Kind: discountfn.ValueFreeShipping, ShippingRateCeiling: discountfn.Money(1000 * rng.IntN(3))}
	case r < 85:
		buy := discountfn.ItemSet{Scope: discountfn.ScopeCollections, Collections: []string{col()}}
		get := discountfn.ItemSet{Scope: discountfn.ScopeProducts, ProductIDs: []string{cat.popularProduct(rng).ID}}
		o.Value = discountfn.Value{Kind: discountfn.ValueBuyXGetY, Percentage: discountfn.PercentWhole,
			BuyXGetY: &discountfn.BuyXGetY{Buy: buy, BuyQuantity: 1 + rng.IntN(3), Get: get, GetQuantity: 1}}
	default:
		basis := discountfn.TierBySubtotal
		first, step := int64(3000+1000*rng.IntN(5)), int64(5000)
		if rng.IntN(3) == 0 {
			basis, first, step = discountfn.TierByQuantity, int64(2+rng.IntN(2)), 3
		}
		o.Value = discountfn.Value{Kind: discountfn.ValueTiered, TierBasis: basis, Tiers: []discountfn.Tier{
			{Threshold: first, Kind: discountfn.ValueFixed, Amount: 500},
			{Threshold: first + step, Kind: discountfn.ValuePercentage, Percentage: 1000},
			{Threshold: first + 2*step, Kind: discountfn.ValuePercentage, Percentage: 1500, FreeShipping: true},
		}}
	}

	// The cart condition.
	if o.Value.Kind != discountfn.ValueBuyXGetY && o.Value.Kind != discountfn.ValueFreeShipping {
		switch r := rng.IntN(10); {
		case r < 3:
			o.Condition.Qualifying = discountfn.ItemSet{Scope: discountfn.ScopeCollections, Collections: []string{col()}}
			if rng.IntN(3) == 0 {
				o.Condition.Qualifying.ExcludeProductIDs = []string{cat.popularProduct(rng).ID}
			}
		case r < 4:
			o.Condition.Qualifying = discountfn.ItemSet{Scope: discountfn.ScopeProducts,
				ProductIDs: uniqueIDs(cat.popularProduct(rng).ID, cat.popularProduct(rng).ID, cat.popularProduct(rng).ID)}
		}
	}
	if rng.IntN(10) < 4 {
		o.Condition.MinSubtotal = discountfn.Money(2000 + 1000*rng.IntN(8))
	}
	if rng.IntN(20) == 0 {
		o.Condition.MinQuantity = 2
	}

	// Purchase behaviour, the point of the app: half of the code offers ask for some.
	if rng.IntN(2) == 0 {
		o.Behaviour = g.behaviour(rng)
	}

	// Audience.
	switch r := rng.IntN(20); {
	case r < 3:
		o.Eligibility = discountfn.Eligibility{Audience: discountfn.AudienceTags, CustomerTags: []string{tagOdds[rng.IntN(4)].tag}}
	case r < 4:
		o.Eligibility = discountfn.Eligibility{Audience: discountfn.AudienceCustomers, CustomerIDs: g.someCustomers(rng, 1+rng.IntN(50))}
	case r < 5 && o.Behaviour == nil:
		o.Eligibility.FirstOrderOnly = true
	case r < 6:
		o.Eligibility.OrderNumber = &discountfn.IntRange{Min: 2 + rng.IntN(5)}
	}

	// Limits.
	if rng.IntN(10) < 3 {
		o.Limits.TotalUses = 1000 * (1 + rng.IntN(100))
	}
	if rng.IntN(10) < 4 {
		o.Limits.UsesPerCustomer = 1 + rng.IntN(3)
		if rng.IntN(4) == 0 {
			o.Limits.IdentityKeys = []discountfn.IdentityKind{discountfn.IdentityEmail, discountfn.IdentityPhone, discountfn.IdentityAddress}
		}
	}
	if rng.IntN(20) == 0 {
		o.Limits.UsesPerDay = 100 * (1 + rng.IntN(10))
	}
	o.Limits.DisableCashOnDelivery = rng.IntN(10) == 0
	return o
}

// behaviour is a random purchase-behaviour condition.
func (g *Generator) behaviour(rng *rand.Rand) *discountfn.Behaviour {
	b := &discountfn.Behaviour{}
	switch rng.IntN(4) {
	case 0:
		b.Period = discountfn.Period{Unit: discountfn.PeriodLifetime}
	case 1:
		b.Period = discountfn.Period{Unit: discountfn.PeriodDays, Count: 30 * (1 + rng.IntN(6))}
	default:
		b.Period = discountfn.Period{Unit: discountfn.PeriodMonths, Count: []int{3, 6, 12, 24}[rng.IntN(4)]}
	}
	switch r := rng.IntN(10); {
	case r < 4:
		b.MinOrders = 2 + rng.IntN(4)
	case r < 7:
		b.MinSpend = discountfn.Money(10_000 * (1 + rng.IntN(10)))
	case r < 8:
		b.MinOrders = 1
		b.BoughtProductIDs = []string{g.catalog.popularProduct(rng).ID}
	case r < 9:
		b.BoughtCollections = []string{g.catalog.Collections[rng.IntN(len(g.catalog.Collections))]}
	default:
		b.MinOrders = 1
		b.NotUsedCodes = []string{"NEVERUSED1"}
	}
	if rng.IntN(10) == 0 {
		b.DeliveryMethod = "Standard"
	}
	return b
}

// SharedCode is the code of shared-code offer number i.
func SharedCode(word string, i int) string { return fmt.Sprintf("%s%d", word, i) }

// someCustomers picks n distinct customers' ids, mostly regulars.
func (g *Generator) someCustomers(rng *rand.Rand, n int) []string {
	seen := map[int]bool{}
	var ids []string
	for len(ids) < min(n, g.cfg.Customers) {
		i := rng.IntN(g.regulars)
		if rng.IntN(4) == 0 {
			i = rng.IntN(g.cfg.Customers)
		}
		if !seen[i] {
			seen[i] = true
			ids = append(ids, CustomerIdentity(i).ID)
		}
	}
	return ids
}

// makeCodes gives a codes offer its unique codes: a tenth issued to one customer, half
// single-use.
func (g *Generator) makeCodes(offerID string) {
	rng := rand.New(rand.NewPCG(g.cfg.Seed, saltCodes+uint64(len(g.uniqueCodes))))
	const charset = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
	for range codesPerOffer {
		b := make([]byte, 10)
		for j := range b {
			b[j] = charset[rng.IntN(len(charset))]
		}
		// The offer's number makes the code unique in the shop.
		code := fmt.Sprintf("%s%s", offerID[len("gen-"):], b)
		c := store.Code{OfferID: offerID, Code: code, SingleUse: rng.IntN(2) == 0}
		if rng.IntN(10) == 0 {
			c.CustomerID = CustomerIdentity(rng.IntN(g.cfg.Customers)).ID
		}
		g.codes = append(g.codes, c)
		g.uniqueCodes[offerID] = append(g.uniqueCodes[offerID], code)
	}
}

// uniqueIDs drops repeated ids, keeping the first of each.
func uniqueIDs(ids ...string) []string {
	var out []string
	for _, id := range ids {
		dup := false
		for _, o := range out {
			dup = dup || o == id
		}
		if !dup {
			out = append(out, id)
		}
	}
	return out
}

var (
	campaigns = []string{"Spring 2026", "Summer sale", "Black Friday", "Newsletter", "Influencers", "Loyalty"}
	codeWords = []string{"SAVE", "VIP", "LOYAL", "THANKS", "SPRING", "FALL", "HELLO", "CREW", "FRIEND", "BACK", "REGULAR", "TREAT"}
)
