package discountfn

import (
	"slices"
	"sort"
	"strconv"
	"strings"
)

// Evaluate runs the whole offer set against one cart. It is deterministic and has no side
// effects: the same request always gives the same result. An error means the input is
// malformed (the caller answers 400); an offer that does not apply is not an error.
//
// The steps: find the offers the cart can trigger (by code, product, collection, or always);
// check each alone (lifecycle, code, eligibility, history, limits, cart condition) and value it
// on the undiscounted cart; rank the ones that apply by priority, then by value to the buyer,
// then by id, and keep each that combines with all kept before it; then compute the kept
// offers' final amounts in the platform's order (product, then order, then shipping), each on
// what the earlier ones left; and write the operations for the calling discount.
func (s *OfferSet) Evaluate(req Request) (Result, error) {
	cart, err := newCartView(req.Input, s.settings)
	if err != nil {
		return Result{}, err
	}
	ec := newEvalContext(s, cart, &req)
	res := Result{Currency: cart.currency}

	cands := s.candidates(cart, req.Codes, req.Explain)
	res.Outcomes = make([]Outcome, len(cands))
	var live []*liveOffer
	for i, c := range cands {
		out := &res.Outcomes[i]
		*out = Outcome{OfferID: c.ID, Title: c.title(), Classes: c.classes}
		lo := ec.evaluateOffer(c, out)
		if lo != nil {
			lo.out = out
			live = append(live, lo)
		}
		if req.NoHints {
			continue
		}
		if lo != nil {
			if h := ec.tierHint(lo); h != nil {
				res.Hints = append(res.Hints, *h)
			}
		} else if h := ec.conditionHint(c, out); h != nil {
			res.Hints = append(res.Hints, *h)
		}
	}

	kept := ec.stack(live)
	ec.finalAmounts(kept)
	res.Operations = ec.operations(kept, &req)
	return res, nil
}

// detailBelowFirstTier marks a tiered offer that reached no tier, so its hint points at the
// first tier rather than at the cart condition.
const detailBelowFirstTier = "below the first tier"

// liveOffer is an offer that applies on its own, waiting for stacking.
type liveOffer struct {
	c     *compiledOffer
	out   *Outcome
	code  string
	tier  *Tier
	value Money // stand-alone value to the buyer, items plus shipping
}

// candidates are the offers the cart can trigger, in the set's order. With explain, every
// offer is returned so the admin can see why each did not apply.
func (s *OfferSet) candidates(cart *cartView, codes CodeBook, explain bool) []*compiledOffer {
	if explain {
		return s.offers
	}
	out := make([]*compiledOffer, 0, len(s.alwaysOffers)+4)
	out = append(out, s.alwaysOffers...)
	for _, code := range cart.codes {
		if c, ok := s.sharedCodes[code]; ok {
			out = append(out, c)
			continue
		}
		if codes != nil {
			if e, ok := codes.Lookup(code); ok {
				if c, ok := s.uniqueCodes[e.OfferID]; ok {
					out = append(out, c)
				}
			}
		}
	}
	if id := cart.buyer.customerID; id != "" {
		out = append(out, s.byCustomer[id]...)
	}
	for _, tag := range cart.buyer.tags {
		out = append(out, s.byTag[strings.ToLower(tag)]...)
	}
	for i := range cart.lines {
		l := &cart.lines[i]
		out = append(out, s.byProduct[l.productID]...)
		if l.variantID != "" {
			out = append(out, s.byProduct[l.variantID]...)
		}
		for _, col := range l.collections {
			out = append(out, s.byCollection[col]...)
		}
	}
	sort.Slice(out, func(a, b int) bool { return out[a].order < out[b].order })
	uniq := out[:0]
	for i, c := range out {
		if i == 0 || c != out[i-1] {
			uniq = append(uniq, c)
		}
	}
	return uniq
}

// evaluateOffer checks one offer alone and values it on the undiscounted cart. It fills the
// outcome's reason when the offer does not apply and returns nil then.
func (ec *evalContext) evaluateOffer(c *compiledOffer, out *Outcome) *liveOffer {
	fail := func(r Reason, d string) *liveOffer {
		out.Reason, out.Detail = r, d
		return nil
	}
	if r, d := ec.checkLifecycle(c); r != "" {
		return fail(r, d)
	}
	code, r, d := ec.checkCode(c)
	if r != "" {
		return fail(r, d)
	}
	out.Code = code
	if r, d := ec.checkBlocked(); r != "" {
		return fail(r, d)
	}
	if r, d := ec.checkAudience(c); r != "" {
		return fail(r, d)
	}
	if r, d := ec.checkOrderScope(c); r != "" {
		return fail(r, d)
	}
	if r, d := ec.checkBehaviour(c.Behaviour); r != "" {
		return fail(r, d)
	}
	if r, d := ec.checkLimits(c); r != "" {
		return fail(r, d)
	}
	if r, d := ec.checkCondition(c); r != "" {
		return fail(r, d)
	}
	lo := &liveOffer{c: c, code: code}
	if c.Value.Kind == ValueTiered {
		sub, qty := ec.measure(c.qual)
		lo.tier, _, _, _ = ec.chooseTier(&c.Value, sub, qty)
		if lo.tier == nil {
			if c.Value.TierBasis == TierByQuantity {
				return fail(ReasonQuantityTooLow, detailBelowFirstTier)
			}
			return fail(ReasonSubtotalTooLow, detailBelowFirstTier)
		}
	}
	items := ec.itemValue(lo, ec.originalAmounts(), false)
	ship, deliv := Money(0), []DeliveryAllocation(nil)
	if ceiling, ok := lo.shipping(); ok {
		ship, deliv = ec.freeShipping(ceiling, nil)
	}
	if r, d := ec.explainZero(lo, items, deliv); r != "" {
		return fail(r, d)
	}
	out.Amount = items.amount
	out.ShippingAmount, out.Delivery = ship, deliv
	lo.value = items.amount + ship
	return lo
}

// shipping reports whether the offer (or its reached tier) gives free shipping, and the rate
// ceiling.
func (lo *liveOffer) shipping() (Money, bool) {
	v := &lo.c.Value
	switch {
	case v.Kind == ValueFreeShipping:
		return v.ShippingRateCeiling, true
	case lo.tier != nil && (lo.tier.FreeShipping || lo.tier.Kind == ValueFreeShipping):
		return v.ShippingRateCeiling, true
	}
	return 0, false
}

// explainZero names why an offer that passed every check still gives nothing.
func (ec *evalContext) explainZero(lo *liveOffer, items itemValue, deliv []DeliveryAllocation) (Reason, string) {
	_, ships := lo.shipping()
	monetary := lo.c.Value.Kind != ValueFreeShipping && (lo.tier == nil || lo.tier.Kind != ValueFreeShipping)
	switch {
	case items.amount > 0 || len(deliv) > 0:
		return "", ""
	case ships && !monetary:
		return ReasonNoShipping, "no delivery option within the offer's shipping rate ceiling"
	case lo.c.Value.Kind == ValueBuyXGetY:
		return ReasonNoTargets, "no item of the get set to discount after the bought items"
	default:
		return ReasonNoTargets, "no cart item is a target of the offer"
	}
}

// originalAmounts is every line's undiscounted total. It is shared: callers must not write it.
func (ec *evalContext) originalAmounts() []Money {
	if ec.original == nil {
		ec.original = make([]Money, len(ec.cart.lines))
		for i := range ec.cart.lines {
			ec.original[i] = ec.cart.lines[i].total
		}
	}
	return ec.original
}

// itemValue values the offer's item discount against what is left of each line; with split,
// it also says how much comes off each line.
func (ec *evalContext) itemValue(lo *liveOffer, remaining []Money, split bool) itemValue {
	c := lo.c
	v := &c.Value
	if !split && v.MaxTargetQuantity == 0 && (v.Kind == ValuePercentage || v.Kind == ValueFixed || v.Kind == ValueTiered) {
		return ec.amountOnAll(lo, remaining)
	}
	switch v.Kind {
	case ValuePercentage:
		return ec.applyPercentage(v.Percentage, v.Cap, ec.pickCheapest(c.targets, v.MaxTargetQuantity, remaining), split)
	case ValueFixed:
		return ec.applyFixed(v.Amount, v.Cap, ec.pickCheapest(c.targets, v.MaxTargetQuantity, remaining), split)
	case ValueBuyXGetY:
		picks, _ := ec.pickBuyXGetY(c, remaining)
		return ec.applyPercentage(v.Percentage, v.Cap, picks, split)
	case ValueTiered:
		switch t := lo.tier; {
		case t == nil:
		case t.Kind == ValuePercentage:
			return ec.applyPercentage(t.Percentage, v.Cap, ec.pickCheapest(c.targets, 0, remaining), split)
		case t.Kind == ValueFixed:
			return ec.applyFixed(t.Amount, v.Cap, ec.pickCheapest(c.targets, 0, remaining), split)
		}
	}
	return itemValue{}
}

// amountOnAll is itemValue's amount for an offer on all its target units, without picking
// lines: ranking needs only the amount, and this is the common case.
func (ec *evalContext) amountOnAll(lo *liveOffer, remaining []Money) itemValue {
	v := &lo.c.Value
	p, fixed := v.Percentage, v.Amount
	kind := v.Kind
	if kind == ValueTiered {
		if lo.tier == nil {
			return itemValue{}
		}
		kind, p, fixed = lo.tier.Kind, lo.tier.Percentage, lo.tier.Amount
	}
	base := ec.capacity(lo.c.targets, remaining)
	var amount Money
	switch kind {
	case ValuePercentage:
		amount = percentOf(base, p)
	case ValueFixed:
		amount = min(ec.cart.rate.Convert(fixed), base)
	default:
		return itemValue{}
	}
	if v.Cap > 0 {
		amount = min(amount, ec.cart.rate.Convert(v.Cap))
	}
	return itemValue{amount: amount}
}

// measure is the subtotal and quantity of the lines a matcher selects, undiscounted.
func (ec *evalContext) measure(m *matcher) (Money, int) {
	if m.plain {
		return ec.cart.subtotal, ec.cart.quantity
	}
	var sub Money
	var qty int
	selected := ec.matches(m)
	for i := range ec.cart.lines {
		if selected[i] {
			sub += ec.cart.lines[i].total
			qty += ec.cart.lines[i].quantity
		}
	}
	return sub, qty
}

// checkCondition applies the cart condition to the qualifying items.
func (ec *evalContext) checkCondition(c *compiledOffer) (Reason, string) {
	cond := &c.Condition
	sub, qty := ec.measure(c.qual)
	rate := ec.cart.rate
	switch {
	case qty == 0 && !c.qual.all && cond.MinQuantity == 0 && cond.MinSubtotal == 0:
		// A scoped qualifying set needs at least one of its items (an explicit minimum says so
		// itself, with a hint): this is also what lets the index skip offers whose products
		// are not in the cart.
		return ReasonNoTargets, "no qualifying item in the cart"
	case cond.MinSubtotal > 0 && sub < rate.Convert(cond.MinSubtotal):
		return ReasonSubtotalTooLow, "qualifying subtotal " + ec.formatAmount(sub) + ", needs " + ec.formatAmount(rate.Convert(cond.MinSubtotal))
	case cond.MaxSubtotal > 0 && sub > rate.Convert(cond.MaxSubtotal):
		return ReasonSubtotalTooHigh, "qualifying subtotal " + ec.formatAmount(sub) + ", at most " + ec.formatAmount(rate.Convert(cond.MaxSubtotal))
	case cond.MinQuantity > 0 && qty < cond.MinQuantity:
		return ReasonQuantityTooLow, strconv.Itoa(qty) + " qualifying items, needs " + strconv.Itoa(cond.MinQuantity)
	case cond.MaxQuantity > 0 && qty > cond.MaxQuantity:
		return ReasonQuantityTooHigh, strconv.Itoa(qty) + " qualifying items, at most " + strconv.Itoa(cond.MaxQuantity)
	}
	if b := c.Value.BuyXGetY; b != nil && c.Value.Kind == ValueBuyXGetY {
		if _, buyUnits := ec.pickBuyXGetY(c, ec.originalAmounts()); buyUnits < b.BuyQuantity {
			return ReasonQuantityTooLow, strconv.Itoa(buyUnits) + " items of the buy set, needs " + strconv.Itoa(b.BuyQuantity)
		}
	}
	return "", ""
}

// conditionHint is the "spend X more" message for a visible offer that fails only on the cart
// being too small.
func (ec *evalContext) conditionHint(c *compiledOffer, out *Outcome) *Hint {
	if !c.Preview.Visible {
		return nil
	}
	sub, qty := ec.measure(c.qual)
	if c.Value.Kind == ValueTiered && (out.Reason == ReasonSubtotalTooLow || out.Reason == ReasonQuantityTooLow) &&
		out.Detail == detailBelowFirstTier {
		_, _, measure, nextAt := ec.chooseTier(&c.Value, sub, qty)
		if c.Value.TierBasis == TierByQuantity {
			return ec.quantityHint(c, int(nextAt-measure))
		}
		return ec.amountHint(c, Money(nextAt-measure))
	}
	switch out.Reason {
	case ReasonSubtotalTooLow:
		return ec.amountHint(c, ec.cart.rate.Convert(c.Condition.MinSubtotal)-sub)
	case ReasonQuantityTooLow:
		missing := c.Condition.MinQuantity - qty
		if b := c.Value.BuyXGetY; c.Value.Kind == ValueBuyXGetY && b != nil {
			_, buyUnits := ec.pickBuyXGetY(c, ec.originalAmounts())
			missing = max(missing, b.BuyQuantity-buyUnits)
		}
		return ec.quantityHint(c, missing)
	}
	return nil
}

// tierHint tells a buyer who reached a tier how far the next one is.
func (ec *evalContext) tierHint(lo *liveOffer) *Hint {
	c := lo.c
	if c.Value.Kind != ValueTiered || !c.Preview.Visible {
		return nil
	}
	sub, qty := ec.measure(c.qual)
	_, next, measure, nextAt := ec.chooseTier(&c.Value, sub, qty)
	if next == nil {
		return nil
	}
	if c.Value.TierBasis == TierByQuantity {
		return ec.quantityHint(c, int(nextAt-measure))
	}
	return ec.amountHint(c, Money(nextAt-measure))
}

func (ec *evalContext) amountHint(c *compiledOffer, missing Money) *Hint {
	if missing <= 0 {
		return nil
	}
	msg := c.Preview.UnlockMessage
	if msg == "" {
		msg = "Spend {amount} more to get {title}"
	}
	msg = strings.NewReplacer("{amount}", ec.formatAmount(missing), "{title}", c.title()).Replace(msg)
	return &Hint{OfferID: c.ID, Title: c.title(), MissingAmount: missing, Message: msg}
}

func (ec *evalContext) quantityHint(c *compiledOffer, missing int) *Hint {
	if missing <= 0 {
		return nil
	}
	msg := c.Preview.UnlockMessage
	if msg == "" {
		msg = "Add {amount} more items to get {title}"
	}
	msg = strings.NewReplacer("{amount}", strconv.Itoa(missing), "{title}", c.title()).Replace(msg)
	return &Hint{OfferID: c.ID, Title: c.title(), MissingQuantity: missing, Message: msg}
}

func (c *compiledOffer) title() string {
	if c.Preview.Title != "" {
		return c.Preview.Title
	}
	return c.Name
}

// stack ranks the offers that apply alone and keeps each that combines with every offer kept
// before it: priority first, then the better deal for the buyer, then the set's order.
func (ec *evalContext) stack(live []*liveOffer) []*liveOffer {
	sort.SliceStable(live, func(a, b int) bool {
		x, y := live[a], live[b]
		if x.c.Stacking.Priority != y.c.Stacking.Priority {
			return x.c.Stacking.Priority > y.c.Stacking.Priority
		}
		if x.value != y.value {
			return x.value > y.value
		}
		return x.c.order < y.c.order
	})
	kept := make([]*liveOffer, 0, len(live))
	for _, lo := range live {
		reason, detail := Reason(""), ""
		for _, k := range kept {
			if k.c.Stacking.Exclusive || lo.c.Stacking.Exclusive {
				reason, detail = ReasonExclusive, "cannot be used with "+k.c.title()+" (exclusive)"
				break
			}
			if !combines(k.c, lo.c) {
				reason, detail = ReasonNotCombinable, "does not combine with "+k.c.title()
				break
			}
		}
		if reason != "" {
			lo.out.Reason, lo.out.Detail = reason, detail
			lo.out.Amount, lo.out.Lines, lo.out.ShippingAmount, lo.out.Delivery = 0, nil, 0, nil
			continue
		}
		kept = append(kept, lo)
	}
	return kept
}

// combines applies the platform's class rule both ways, plus our code/automatic switches.
func combines(a, b *compiledOffer) bool {
	if !a.combinesWithClasses(b.classes) || !b.combinesWithClasses(a.classes) {
		return false
	}
	return codeRuleAllows(a, b) && codeRuleAllows(b, a)
}

func (c *compiledOffer) combinesWithClasses(classes []DiscountClass) bool {
	cw := c.Stacking.CombinesWith
	for _, cl := range classes {
		switch {
		case cl == ClassOrder && !cw.OrderDiscounts,
			cl == ClassProduct && !cw.ProductDiscounts,
			cl == ClassShipping && !cw.ShippingDiscounts:
			return false
		}
	}
	return true
}

// codeRuleAllows: an automatic offer a may refuse code offers, and a code offer may refuse
// automatic ones.
func codeRuleAllows(a, b *compiledOffer) bool {
	switch {
	case !a.IsCode() && b.IsCode():
		return a.Stacking.CombinesWithCodes == nil || *a.Stacking.CombinesWithCodes
	case a.IsCode() && !b.IsCode():
		return a.Stacking.CombinesWithAutomatic == nil || *a.Stacking.CombinesWithAutomatic
	}
	return true
}

// finalAmounts recomputes the kept offers in the platform's order, product discounts first,
// then order discounts on what is left, then shipping, so together they never exceed a line,
// the subtotal or a shipping rate. An offer left with nothing is dropped.
func (ec *evalContext) finalAmounts(kept []*liveOffer) {
	remaining := slices.Clone(ec.originalAmounts())
	for _, class := range [...]DiscountClass{ClassProduct, ClassOrder} {
		for _, lo := range kept {
			if !lo.c.hasItemClass(class) {
				continue
			}
			items := ec.itemValue(lo, remaining, true)
			for _, sh := range items.shares {
				remaining[sh.line] -= sh.amount
			}
			lo.out.Amount = items.amount
			if ec.publishAll || lo.c.ID == ec.callingOffer {
				lo.out.Lines = ec.publish(items.shares)
			}
		}
	}
	remainingShip := map[string]Money{}
	for _, lo := range kept {
		ceiling, ok := lo.shipping()
		if !ok {
			continue
		}
		ship, deliv := ec.freeShipping(ceiling, remainingShip)
		for _, d := range deliv {
			remainingShip[d.GroupID+"\x00"+d.Handle] = 0
		}
		lo.out.ShippingAmount, lo.out.Delivery = ship, deliv
	}
	for _, lo := range kept {
		if lo.out.Amount > 0 || len(lo.out.Delivery) > 0 {
			lo.out.Applied = true
			continue
		}
		lo.out.Reason, lo.out.Detail = ReasonNothingLeft, "earlier offers already took the full price"
	}
}

// hasItemClass reports whether the offer's item discount is of the class.
func (c *compiledOffer) hasItemClass(class DiscountClass) bool {
	for _, cl := range c.classes {
		if cl == class {
			return true
		}
	}
	return false
}
