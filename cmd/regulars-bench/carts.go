package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/regularsapp/regulars/cmd/regulars-gen/shopgen"
	"github.com/regularsapp/regulars/discountfn"
	"github.com/regularsapp/regulars/store"
)

// A cart pool is a set of checkout requests for one generated shop: function inputs built
// from the shop's catalog (shopgen) and its stored offers and customers, as the platform
// would send them, each with the answer the checkout must give. The answers come from an
// oracle of our own: the shop's offers and the buyer's facts read from the store and run
// through the engine here, independently of the app's caches.

// shopView is what the harness knows of a generated shop.
type shopView struct {
	domain    string
	set       *discountfn.OfferSet
	offers    []discountfn.Offer
	customers int // generated customers (found by probing the store)
	codes     map[string][]string
	st        *store.Store
	// Read once each while the carts are built.
	tags  map[string][]string
	facts map[discountfn.Buyer]discountfn.Facts
}

// loadShop reads a generated shop's offers from the store and counts its customers.
func loadShop(ctx context.Context, st *store.Store, domain string) (*shopView, error) {
	set, offers, err := compileShop(ctx, st, domain)
	if err != nil {
		return nil, err
	}
	v := &shopView{domain: domain, set: set, offers: offers, st: st, codes: map[string][]string{},
		tags: map[string][]string{}, facts: map[discountfn.Buyer]discountfn.Facts{}}
	if v.customers, err = countCustomers(ctx, st, domain); err != nil {
		return nil, err
	}
	// A few unique codes of the first codes offers, to enter at checkout.
	for _, o := range offers {
		if o.Application.Kind != discountfn.ApplyCodes || len(v.codes) >= 20 {
			continue
		}
		cs, err := st.ListCodes(ctx, domain, o.ID, 20, "")
		if err != nil {
			return nil, err
		}
		for _, c := range cs {
			if c.CustomerID == "" {
				v.codes[o.ID] = append(v.codes[o.ID], c.Code)
			}
		}
	}
	return v, nil
}

// compileShop compiles the shop's stored offers and segments as the checkout does.
func compileShop(ctx context.Context, st *store.Store, domain string) (*discountfn.OfferSet, []discountfn.Offer, error) {
	sh, err := st.GetShop(ctx, domain)
	if err != nil {
		return nil, nil, fmt.Errorf("shop %s (generate it with regulars-gen): %w", domain, err)
	}
	loc, err := time.LoadLocation(sh.Timezone)
	if err != nil {
		loc = time.UTC
	}
	rows, err := st.ListOffers(ctx, domain, false)
	if err != nil {
		return nil, nil, err
	}
	offers := make([]discountfn.Offer, 0, len(rows))
	for _, r := range rows {
		var o discountfn.Offer
		if err := json.Unmarshal(r.Config, &o); err != nil {
			return nil, nil, fmt.Errorf("offer %s: %w", r.ID, err)
		}
		o.ID, o.Status = r.ID, discountfn.Status(r.Status)
		offers = append(offers, o)
	}
	segRows, err := st.ListSegments(ctx, domain)
	if err != nil {
		return nil, nil, err
	}
	var segments []discountfn.Segment
	for _, r := range segRows {
		var s discountfn.Segment
		if err := json.Unmarshal(r.Config, &s); err != nil {
			return nil, nil, fmt.Errorf("segment %s: %w", r.ID, err)
		}
		s.ID, s.Priority = r.ID, r.Priority
		segments = append(segments, s)
	}
	set, err := discountfn.NewOfferSet(discountfn.Settings{Currency: sh.Currency, Location: loc}, offers, segments)
	if err != nil {
		return nil, nil, err
	}
	return set, offers, nil
}

// countCustomers finds how many generated customers the shop has: customer i exists for every
// i below the count (shopgen numbers them), so a binary search over GetCustomer finds it.
func countCustomers(ctx context.Context, st *store.Store, domain string) (int, error) {
	exists := func(i int) (bool, error) {
		_, err := st.GetCustomer(ctx, domain, shopgen.CustomerIdentity(i).ID)
		if errors.Is(err, store.ErrNotFound) {
			return false, nil
		}
		return err == nil, err
	}
	if ok, err := exists(0); err != nil || !ok {
		return 0, fmt.Errorf("shop %s has no generated customers (generate it with regulars-gen): %w", domain, err)
	}
	lo, hi := 0, 1 // customer lo exists; find an hi that does not
	for {
		ok, err := exists(hi)
		if err != nil {
			return 0, err
		}
		if !ok {
			break
		}
		lo, hi = hi, hi*2
	}
	for hi-lo > 1 {
		mid := (lo + hi) / 2
		ok, err := exists(mid)
		if err != nil {
			return 0, err
		}
		if ok {
			lo = mid
		} else {
			hi = mid
		}
	}
	return hi, nil
}

// cartPool is the requests of one profile for one shop.
type cartPool struct {
	shop    string
	profile string
	lines   int
	bodies  [][]byte
	expect  [][]byte
	// expectMem is the answer of the memory app, which knows nothing of a buyer who is not
	// logged in (not even the shop's usage, which only limits apply to); the same as expect
	// for every other buyer.
	expectMem [][]byte
	callers   []string // the calling offer of each body
}

// Buyers and carts.
const (
	regularBuyers   = 80 // percent of carts: one of the shop's regulars (the first fifth of its customers)
	anonymousBuyers = 5  // percent: nobody logged in; the rest are any customer
	keepFirstCaller = 20 // percent of carts evaluated for whichever offer comes first, applying or not
	callerAttempts  = 12 // the others try this many offers for one that applies
)

// buildPool makes n carts of the given number of lines. Cart k has the same buyer in every
// pool of the shop. Most carts enter a code and are evaluated for that code's offer, the
// others for one of the automatic offers; a shopper mostly enters a code they are entitled
// to, so most carts keep trying offers until one applies to them.
func buildPool(ctx context.Context, v *shopView, profile string, lines, n int, now time.Time) (*cartPool, error) {
	catalog := shopgen.NewCatalog()
	var shared, automatic []discountfn.Offer
	var unique []string // offer ids with codes in v.codes
	for _, o := range v.offers {
		switch o.Application.Kind {
		case discountfn.ApplyCode:
			shared = append(shared, o)
		case discountfn.ApplyAutomatic:
			automatic = append(automatic, o)
		}
	}
	for id := range v.codes {
		unique = append(unique, id)
	}
	slices.Sort(unique)
	if len(shared) == 0 || len(automatic) == 0 {
		return nil, fmt.Errorf("shop %s has no shared-code or no automatic offer", v.domain)
	}
	p := &cartPool{shop: v.domain, profile: profile, lines: lines}
	for k := range n {
		spec := shopgen.CartSpec{Lines: lines, Collections: v.set.CollectionIDs(), CustomerTags: v.set.CustomerTags(),
			Seed: uint64(k)*1000 + uint64(lines)}
		buyers := rand.New(rand.NewPCG(uint64(k), 0xb0))
		keepFirst := buyers.IntN(100) < keepFirstCaller
		if err := v.pickBuyer(ctx, buyers, &spec); err != nil {
			return nil, err
		}
		rng := rand.New(rand.NewPCG(uint64(k), uint64(lines)))
		var body, want, wantMem []byte
		var caller discountfn.Offer
		for attempt := range callerAttempts {
			spec.Codes, spec.Triggering = nil, ""
			switch r := rng.IntN(100); {
			case r < 60:
				u := rng.Float64()
				caller = shared[int(u*u*float64(len(shared)))]
				spec.Codes = []string{caller.Application.Code}
				spec.Triggering = caller.Application.Code
			case r < 70 && len(unique) > 0:
				id := unique[rng.IntN(len(unique))]
				caller, _ = v.set.Offer(id)
				code := v.codes[id][rng.IntN(len(v.codes[id]))]
				spec.Codes, spec.Triggering = []string{code}, code
			default:
				caller = automatic[rng.IntN(len(automatic))]
				if rng.IntN(4) == 0 { // a code was entered too, for another discount
					spec.Codes = []string{shared[rng.IntN(len(shared))].Application.Code}
				}
			}
			spec.OfferID, spec.Classes = caller.ID, caller.Classes()
			in, err := catalog.Input(spec)
			if err != nil {
				return nil, err
			}
			if body, err = json.Marshal(in); err != nil {
				return nil, err
			}
			if want, wantMem, err = v.expectedAnswers(ctx, body, caller.ID, now); err != nil {
				return nil, err
			}
			if keepFirst || string(want) != emptyAnswer || attempt == callerAttempts-1 {
				break
			}
		}
		p.bodies, p.expect, p.expectMem = append(p.bodies, body), append(p.expect, want), append(p.expectMem, wantMem)
		p.callers = append(p.callers, caller.ID)
	}
	return p, nil
}

// pickBuyer fills in the cart's buyer: a regular, another customer, or nobody.
func (v *shopView) pickBuyer(ctx context.Context, rng *rand.Rand, spec *shopgen.CartSpec) error {
	r := rng.IntN(100)
	if r < anonymousBuyers {
		return nil
	}
	i := rng.IntN(max(v.customers/5, 1))
	if r >= anonymousBuyers+regularBuyers {
		i = rng.IntN(v.customers)
	}
	id := shopgen.CustomerIdentity(i)
	tags, ok := v.tags[id.ID]
	if !ok {
		c, err := v.st.GetCustomer(ctx, v.domain, id.ID)
		if err != nil {
			return fmt.Errorf("customer %s: %w", id.ID, err)
		}
		tags = c.Tags
		v.tags[id.ID] = tags
	}
	spec.Buyer, spec.BuyerTags = &id, tags
	return nil
}

// expectedAnswers are what the checkout must answer for body, evaluated for offerID at now
// with the shop's offers as compiled here and the buyer's facts from the store (read once
// per buyer): the app's evaluation, done independently. The second answer is the memory
// app's (see cartPool.expectMem).
func (v *shopView) expectedAnswers(ctx context.Context, body []byte, offerID string, now time.Time) (want, wantMem []byte, err error) {
	var in discountfn.Input
	if err := json.Unmarshal(body, &in); err != nil {
		return nil, nil, err
	}
	buyer := discountfn.BuyerFromInput(&in)
	facts, ok := v.facts[buyer]
	if !ok {
		if facts, err = v.st.Facts(ctx, v.domain, buyer); err != nil {
			return nil, nil, err
		}
		v.facts[buyer] = facts
	}
	evaluate := func(facts discountfn.Facts) ([]byte, error) {
		res, err := v.set.Evaluate(discountfn.Request{Input: &in, Target: discountfn.TargetCartLines, OfferID: offerID,
			Facts: facts, Codes: codeBook{ctx: ctx, st: v.st, shop: v.domain}, Now: now})
		if err != nil {
			return nil, fmt.Errorf("evaluate: %w", err)
		}
		return json.Marshal(res.RunResult())
	}
	if want, err = evaluate(facts); err != nil {
		return nil, nil, err
	}
	if buyer.Known() {
		return want, want, nil
	}
	wantMem, err = evaluate(discountfn.Facts{})
	return want, wantMem, err
}

// codeBook looks unique codes up in the store.
type codeBook struct {
	ctx  context.Context
	st   *store.Store
	shop string
}

func (b codeBook) Lookup(code string) (discountfn.CodeEntry, bool) {
	c, err := b.st.LookupCode(b.ctx, b.shop, code)
	if err != nil {
		return discountfn.CodeEntry{}, false
	}
	return discountfn.CodeEntry{OfferID: c.OfferID, CustomerID: c.CustomerID, SingleUse: c.SingleUse, Used: c.Used}, true
}

// stats of a pool: average body and answer sizes, and the share of answers with a discount.
func (p *cartPool) stats() (bodyBytes, answerBytes int, discounted float64) {
	n := 0
	for i := range p.bodies {
		bodyBytes += len(p.bodies[i])
		answerBytes += len(p.expect[i])
		if string(p.expect[i]) != emptyAnswer {
			n++
		}
	}
	k := max(len(p.bodies), 1)
	return bodyBytes / k, answerBytes / k, float64(n) / float64(k)
}
