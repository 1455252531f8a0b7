package discountfn

// perLineCandidatesMax is how many cart lines an offer may name one candidate each for. Past
// it, one candidate with all the targets and the total keeps the answer under the platform's
// 20,000-byte output cap, at the cost of letting the platform split the amount itself.
const perLineCandidatesMax = 60

// operations writes the platform's operations for the calling offer (every kept offer when
// the request names none), for the requested target and only in the calling discount's classes.
func (ec *evalContext) operations(kept []*liveOffer, req *Request) []Operation {
	ops := []Operation{}
	var accepted []DiscountCode
	allowed := req.Input.Discount.DiscountClasses
	for _, lo := range kept {
		if !lo.out.Applied || req.OfferID != "" && lo.c.ID != req.OfferID {
			continue
		}
		var code *DiscountCode
		if lo.code != "" {
			code = &DiscountCode{Code: lo.code}
		}
		n := len(ops)
		switch req.Target {
		case TargetCartLines:
			if lo.out.Amount <= 0 {
				break
			}
			if lo.c.hasItemClass(ClassOrder) && classAllowed(allowed, ClassOrder) {
				ops = append(ops, ec.orderOperation(lo, code))
			} else if lo.c.hasItemClass(ClassProduct) && classAllowed(allowed, ClassProduct) {
				ops = append(ops, ec.productOperation(lo, code))
			}
		case TargetDeliveryOptions:
			if len(lo.out.Delivery) > 0 && classAllowed(allowed, ClassShipping) {
				ops = append(ops, ec.deliveryOperation(lo, code))
			}
		}
		if code != nil && len(ops) > n {
			accepted = append(accepted, *code)
		}
	}
	if len(accepted) > 0 {
		ops = append(ops, Operation{EnteredDiscountCodesAccept: &EnteredDiscountCodesAccept{Codes: accepted}})
	}
	return ops
}

// classAllowed: the platform refuses operations of a class the discount does not have. An
// empty list (a simulator call) allows all.
func classAllowed(allowed []DiscountClass, c DiscountClass) bool {
	if len(allowed) == 0 {
		return true
	}
	for _, a := range allowed {
		if a == c {
			return true
		}
	}
	return false
}

func (ec *evalContext) orderOperation(lo *liveOffer, code *DiscountCode) Operation {
	excluded := []string{}
	targets := ec.matches(lo.c.targets)
	for i := range ec.cart.lines {
		if !targets[i] {
			excluded = append(excluded, ec.cart.lines[i].id)
		}
	}
	return Operation{OrderDiscountsAdd: &OrderDiscountsAdd{
		SelectionStrategy: "FIRST",
		Candidates: []OrderCandidate{{
			AssociatedDiscountCode: code,
			Message:                lo.c.title(),
			Targets:                []OrderTarget{{OrderSubtotal: &OrderSubtotalTarget{ExcludedCartLineIDs: excluded}}},
			Value:                  CandidateValue{FixedAmount: &FixedAmount{Amount: FormatMoney(lo.out.Amount, ec.cart.exp)}},
		}},
	}}
}

func (ec *evalContext) productOperation(lo *liveOffer, code *DiscountCode) Operation {
	lines := lo.out.Lines
	target := func(a LineAllocation) ProductTarget {
		q := a.Quantity
		return ProductTarget{CartLine: &CartLineTarget{ID: a.LineID, Quantity: &q}}
	}
	var cands []ProductCandidate
	if len(lines) <= perLineCandidatesMax {
		cands = make([]ProductCandidate, 0, len(lines))
		for _, a := range lines {
			cands = append(cands, ProductCandidate{
				AssociatedDiscountCode: code,
				Message:                lo.c.title(),
				Targets:                []ProductTarget{target(a)},
				Value:                  CandidateValue{FixedAmount: &FixedAmount{Amount: FormatMoney(a.Amount, ec.cart.exp)}},
			})
		}
	} else {
		targets := make([]ProductTarget, 0, len(lines))
		for _, a := range lines {
			targets = append(targets, target(a))
		}
		cands = []ProductCandidate{{
			AssociatedDiscountCode: code,
			Message:                lo.c.title(),
			Targets:                targets,
			Value:                  CandidateValue{FixedAmount: &FixedAmount{Amount: FormatMoney(lo.out.Amount, ec.cart.exp)}},
		}}
	}
	return Operation{ProductDiscountsAdd: &ProductDiscountsAdd{SelectionStrategy: "ALL", Candidates: cands}}
}

func (ec *evalContext) deliveryOperation(lo *liveOffer, code *DiscountCode) Operation {
	targets := make([]DeliveryTarget, 0, len(lo.out.Delivery))
	for _, d := range lo.out.Delivery {
		targets = append(targets, DeliveryTarget{DeliveryOption: &DeliveryOptionTarget{Handle: d.Handle}})
	}
	return Operation{DeliveryDiscountsAdd: &DeliveryDiscountsAdd{
		SelectionStrategy: "ALL",
		Candidates: []DeliveryCandidate{{
			AssociatedDiscountCode: code,
			Message:                lo.c.title(),
			Targets:                targets,
			Value:                  CandidateValue{Percentage: &PercentageJSON{Value: "100"}},
		}},
	}}
}
