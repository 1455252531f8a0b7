package discountfn

import (
	"cmp"
	"fmt"
	"math/bits"
	"slices"
)

// matcher is a compiled ItemSet.
type matcher struct {
	all                       bool
	plain                     bool // all items, no exclusions: matches every line
	products, collections     map[string]struct{}
	exProducts, exCollections map[string]struct{}
	exGiftCards, exSellPlans  bool
}

func newMatcher(set *ItemSet) *matcher {
	if set == nil {
		return &matcher{all: true, plain: true}
	}
	m := &matcher{
		all:           set.Scope == "" || set.Scope == ScopeAll,
		products:      toSet(set.ProductIDs),
		collections:   toSet(set.Collections),
		exProducts:    toSet(set.ExcludeProductIDs),
		exCollections: toSet(set.ExcludeCollections),
		exGiftCards:   set.ExcludeGiftCards,
		exSellPlans:   set.ExcludeSubscription,
	}
	m.plain = m.all && m.exProducts == nil && m.exCollections == nil && !m.exGiftCards && !m.exSellPlans
	return m
}

func toSet(ids []string) map[string]struct{} {
	if len(ids) == 0 {
		return nil
	}
	m := make(map[string]struct{}, len(ids))
	for _, id := range ids {
		m[id] = struct{}{}
	}
	return m
}

// matches says, for each cart line, whether the matcher selects it. It is computed once per
// matcher per evaluation: several checks and the final amounts ask the same question.
func (ec *evalContext) matches(m *matcher) []bool {
	if v, ok := ec.matchCache[m]; ok {
		return v
	}
	v := make([]bool, len(ec.cart.lines))
	for i := range ec.cart.lines {
		v[i] = m.match(&ec.cart.lines[i])
	}
	if ec.matchCache == nil {
		ec.matchCache = make(map[*matcher][]bool, 8)
	}
	ec.matchCache[m] = v
	return v
}

func (m *matcher) match(l *lineView) bool {
	if m.plain {
		return true
	}
	if m.exGiftCards && l.giftCard || m.exSellPlans && l.sellingPlan {
		return false
	}
	if hasID(m.exProducts, l.productID) || hasID(m.exProducts, l.variantID) || hasAnyID(m.exCollections, l.collections) {
		return false
	}
	if m.all {
		return true
	}
	return hasID(m.products, l.productID) || hasID(m.products, l.variantID) || hasAnyID(m.collections, l.collections)
}

func hasID(set map[string]struct{}, id string) bool {
	if set == nil || id == "" {
		return false
	}
	_, ok := set[id]
	return ok
}

func hasAnyID(set map[string]struct{}, ids []string) bool {
	if set == nil {
		return false
	}
	for _, id := range ids {
		if _, ok := set[id]; ok {
			return true
		}
	}
	return false
}

// pick is some units of one line chosen for a discount, and the most that may come off them.
type pick struct {
	line     int
	units    int
	capacity Money
}

// pickCheapest chooses up to maxUnits units (0: all) of the matching lines, cheapest units
// first. Ties go by line id, never by position, so the answer does not depend on line order.
// When every unit is taken the order does not matter, and the picks come in line-id order.
func (ec *evalContext) pickCheapest(m *matcher, maxUnits int, remaining []Money) []pick {
	lines := ec.cart.lines
	selected := ec.matches(m)
	idx := make([]int, 0, len(lines))
	for _, i := range ec.cart.byRank {
		if remaining[i] > 0 && selected[i] {
			idx = append(idx, i)
		}
	}
	if maxUnits > 0 {
		ec.sortCheapest(idx)
	}
	picks := make([]pick, 0, len(idx))
	left := maxUnits
	for _, i := range idx {
		units := lines[i].quantity
		if maxUnits > 0 {
			if left == 0 {
				break
			}
			units = min(units, left)
			left -= units
		}
		picks = append(picks, pick{line: i, units: units, capacity: min(lines[i].unit*Money(units), remaining[i])})
	}
	return picks
}

// sortCheapest orders line indexes by unit price, then by line id (through the precomputed
// rank, so no string is compared in the hot path).
func (ec *evalContext) sortCheapest(idx []int) {
	lines, rank := ec.cart.lines, ec.cart.rank
	slices.SortFunc(idx, func(a, b int) int {
		if c := cmp.Compare(lines[a].unit, lines[b].unit); c != 0 {
			return c
		}
		return cmp.Compare(rank[a], rank[b])
	})
}

func totalCapacity(picks []pick) Money {
	var t Money
	for _, p := range picks {
		t += p.capacity
	}
	return t
}

// share is an amount taken off some units of one line. It holds no pointers, so sorting
// and copying shares is cheap; string ids are attached only when a result is published.
type share struct {
	line   int
	units  int
	amount Money
}

// allocateProportional splits amount over the picks in proportion to their capacity, with the
// largest-remainder method, so the shares sum exactly to amount and none exceeds its capacity.
// amount must not exceed the total capacity.
func (ec *evalContext) allocateProportional(amount Money, picks []pick) []share {
	total := totalCapacity(picks)
	if amount <= 0 || total <= 0 {
		return nil
	}
	type remainder struct {
		i   int
		rem uint64
	}
	out := make([]share, len(picks))
	rems := make([]remainder, len(picks))
	var given Money
	for i, p := range picks {
		hi, lo := bits.Mul64(uint64(amount), uint64(p.capacity))
		q, r := bits.Div64(hi, lo, uint64(total))
		out[i] = share{line: p.line, units: p.units, amount: Money(q)}
		rems[i] = remainder{i: i, rem: r}
		given += Money(q)
	}
	// The leftover units (fewer than the lines) go to the largest remainders, ties by line id.
	rank := ec.cart.rank
	better := func(a, b remainder) bool {
		if a.rem != b.rem {
			return a.rem > b.rem
		}
		return rank[out[a.i].line] < rank[out[b.i].line]
	}
	for ; given < amount; given++ {
		best := -1
		for j, r := range rems {
			if r.i >= 0 && (best < 0 || better(r, rems[best])) {
				best = j
			}
		}
		out[rems[best].i].amount++
		rems[best].i = -1 // taken
	}
	return ec.compactShares(out)
}

// allocateCheapestFirst takes amount off the picks in order (cheapest first), each up to its
// capacity: how a fixed amount is applied.
func (ec *evalContext) allocateCheapestFirst(amount Money, picks []pick) []share {
	out := make([]share, 0, len(picks))
	for _, p := range picks {
		if amount <= 0 {
			break
		}
		take := min(amount, p.capacity)
		amount -= take
		out = append(out, share{line: p.line, units: p.units, amount: take})
	}
	return ec.compactShares(out)
}

// compactShares drops zero shares and orders by line id for a stable output.
func (ec *evalContext) compactShares(in []share) []share {
	out := in[:0]
	for _, a := range in {
		if a.amount > 0 {
			out = append(out, a)
		}
	}
	rank := ec.cart.rank
	byRank := func(a, b share) int { return cmp.Compare(rank[a.line], rank[b.line]) }
	if !slices.IsSortedFunc(out, byRank) {
		slices.SortFunc(out, byRank)
	}
	return out
}

// publish turns shares into the outcome's line allocations.
func (ec *evalContext) publish(shares []share) []LineAllocation {
	if len(shares) == 0 {
		return nil
	}
	out := make([]LineAllocation, len(shares))
	for i, s := range shares {
		out[i] = LineAllocation{LineID: ec.cart.lines[s.line].id, Quantity: s.units, Amount: s.amount}
	}
	return out
}

// itemValue is what an offer takes off the items.
type itemValue struct {
	amount Money
	shares []share
}

// capacity is what the matching lines have left: the base of a discount on all their units.
func (ec *evalContext) capacity(m *matcher, remaining []Money) Money {
	var t Money
	selected := ec.matches(m)
	for i := range ec.cart.lines {
		if remaining[i] > 0 && selected[i] {
			t += remaining[i]
		}
	}
	return t
}

// applyPercentage takes p off the picks, capped, rounded once (percentOf) and split exactly.
// Without split only the amount is computed (ranking needs no more).
func (ec *evalContext) applyPercentage(p Percent, cap Money, picks []pick, split bool) itemValue {
	amount := percentOf(totalCapacity(picks), p)
	if cap > 0 {
		amount = min(amount, ec.cart.rate.Convert(cap))
	}
	if !split {
		return itemValue{amount: amount}
	}
	return itemValue{amount: amount, shares: ec.allocateProportional(amount, picks)}
}

// applyFixed takes a fixed shop-currency amount off the picks, cheapest first, never more
// than they cost.
func (ec *evalContext) applyFixed(amount, cap Money, picks []pick, split bool) itemValue {
	a := min(ec.cart.rate.Convert(amount), totalCapacity(picks))
	if cap > 0 {
		a = min(a, ec.cart.rate.Convert(cap))
	}
	if !split {
		return itemValue{amount: a}
	}
	return itemValue{amount: a, shares: ec.allocateCheapestFirst(a, picks)}
}

// pickBuyXGetY chooses the Y units to discount: the cheapest of the get set, while keeping at
// least X units of the buy set paid for. At equal price a unit outside the buy set is taken
// first, so overlapping sets ("buy 2 get 1 from the same collection") work.
func (ec *evalContext) pickBuyXGetY(c *compiledOffer, remaining []Money) (picks []pick, buyUnits int) {
	b := c.Value.BuyXGetY
	lines := ec.cart.lines
	inBuy, inGet := ec.matches(c.buy), ec.matches(c.get)
	for i := range lines {
		if inBuy[i] {
			buyUnits += lines[i].quantity
		}
	}
	if buyUnits < b.BuyQuantity {
		return nil, buyUnits
	}
	idx := make([]int, 0, len(lines))
	for i := range lines {
		if remaining[i] > 0 && inGet[i] {
			idx = append(idx, i)
		}
	}
	rank := ec.cart.rank
	slices.SortFunc(idx, func(x, y int) int {
		if c := cmp.Compare(lines[x].unit, lines[y].unit); c != 0 {
			return c
		}
		if inBuy[x] != inBuy[y] {
			if inBuy[y] {
				return -1
			}
			return 1
		}
		return cmp.Compare(rank[x], rank[y])
	})
	spare := buyUnits - b.BuyQuantity // buy units that may also be taken as get units
	want := b.GetQuantity
	for _, i := range idx {
		if want == 0 {
			break
		}
		units := min(lines[i].quantity, want)
		if inBuy[i] {
			units = min(units, spare)
			spare -= units
		}
		if units == 0 {
			continue
		}
		want -= units
		picks = append(picks, pick{line: i, units: units, capacity: min(lines[i].unit*Money(units), remaining[i])})
	}
	return picks, buyUnits
}

// chooseTier returns the highest tier reached by the measure, and the next one, if any.
// Subtotal thresholds are shop currency and are converted first.
func (ec *evalContext) chooseTier(v *Value, subtotal Money, quantity int) (reached, next *Tier, measure, nextAt int64) {
	measure = int64(quantity)
	if v.TierBasis != TierByQuantity {
		measure = int64(subtotal)
	}
	for i := range v.Tiers {
		t := &v.Tiers[i]
		at := t.Threshold
		if v.TierBasis != TierByQuantity {
			at = int64(ec.cart.rate.Convert(Money(at)))
		}
		if measure >= at {
			reached = t
			continue
		}
		next, nextAt = t, at
		break
	}
	return reached, next, measure, nextAt
}

// freeShipping makes every delivery option free whose cost is within the ceiling, less what
// other offers already took. The amount is what the buyer saves on the selected options (or
// the dearest eligible option of a group where none is selected yet).
func (ec *evalContext) freeShipping(ceiling Money, remainingShip map[string]Money) (Money, []DeliveryAllocation) {
	limit := ec.cart.rate.Convert(ceiling)
	var total Money
	var allocs []DeliveryAllocation
	for _, g := range ec.cart.groups {
		var best Money
		for _, o := range g.options {
			cost := o.cost
			if r, taken := remainingShip[g.id+"\x00"+o.handle]; taken {
				cost = r
			}
			if cost <= 0 || ceiling > 0 && o.cost > limit {
				continue
			}
			allocs = append(allocs, DeliveryAllocation{GroupID: g.id, Handle: o.handle, Amount: cost})
			if g.selected == nil {
				best = max(best, cost)
			} else if g.selected.handle == o.handle {
				best = cost
			}
		}
		total += best
	}
	return total, allocs
}

// formatAmount writes a cart-currency amount for a shopper: "5.00 USD".
func (ec *evalContext) formatAmount(m Money) string {
	return fmt.Sprintf("%s %s", FormatMoney(m, ec.cart.exp), ec.cart.currency)
}
