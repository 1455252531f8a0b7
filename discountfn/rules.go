package discountfn

import (
	"fmt"
	"strings"
	"time"
)

// evalContext is everything one evaluation shares across offers.
type evalContext struct {
	set   *OfferSet
	cart  *cartView
	facts *Facts
	codes CodeBook
	now   time.Time
	today string // shop-local date, for per-day caps

	lifetimeOrders int      // counted past orders, at least the platform's own count
	identityKeys   []string // every key of the buyer, for the block list
	topSegment     int      // index into set.segments of the buyer's highest segment; -1 none
	segmentDone    bool
	original       []Money // every line's undiscounted total, see originalAmounts
	matchCache     map[*matcher][]bool
	// Line allocations are published for the calling offer, or for every offer when the
	// request explains or names no offer; a platform call needs only its own.
	callingOffer string
	publishAll   bool
}

func newEvalContext(set *OfferSet, cart *cartView, req *Request) *evalContext {
	loc := set.settings.Location
	if loc == nil {
		loc = time.UTC
	}
	ec := &evalContext{
		set:        set,
		cart:       cart,
		facts:      &req.Facts,
		codes:      req.Codes,
		now:        req.Now,
		today:      req.Now.In(loc).Format(time.DateOnly),
		topSegment: -1,

		callingOffer: req.OfferID,
		publishAll:   req.Explain || req.OfferID == "",
	}
	// Our history is authoritative, but before the backfill finishes the platform may know of
	// more orders; taking the larger count never hands a first-order offer to a regular.
	ec.lifetimeOrders = len(req.Facts.History.Orders)
	if cart.buyer.numberOfOrders > ec.lifetimeOrders {
		ec.lifetimeOrders = cart.buyer.numberOfOrders
	}
	b := &cart.buyer
	for _, kv := range [...]struct {
		kind  IdentityKind
		value string
	}{{IdentityCustomer, b.customerID}, {IdentityEmail, b.email}, {IdentityPhone, b.phone}, {IdentityAddress, b.address}} {
		if kv.value != "" {
			ec.identityKeys = append(ec.identityKeys, IdentityKey(kv.kind, kv.value))
		}
	}
	return ec
}

// checkLifecycle: only active offers inside their window apply.
func (ec *evalContext) checkLifecycle(o *compiledOffer) (Reason, string) {
	switch st := o.Lifecycle(ec.now); st {
	case StatusActive:
		return "", ""
	case StatusScheduled:
		return ReasonScheduled, "starts " + o.Schedule.StartsAt.Format(time.RFC3339)
	case StatusExpired:
		return ReasonExpired, "ended " + o.Schedule.EndsAt.Format(time.RFC3339)
	default:
		return ReasonNotActive, "status is " + string(st)
	}
}

// checkCode finds the entered code that unlocks a code offer and checks its restrictions.
func (ec *evalContext) checkCode(o *compiledOffer) (code string, reason Reason, detail string) {
	if !o.IsCode() {
		return "", "", ""
	}
	reason, detail = ReasonCodeNotEntered, "no code of this offer was entered"
	for _, entered := range ec.cart.codes {
		if o.Application.Kind == ApplyCode {
			if entered == o.code {
				return entered, "", ""
			}
			continue
		}
		if ec.codes == nil {
			continue
		}
		e, ok := ec.codes.Lookup(entered)
		if !ok || e.OfferID != o.ID {
			continue
		}
		if e.CustomerID != "" && e.CustomerID != ec.cart.buyer.customerID {
			reason, detail = ReasonCodeNotForCustomer, entered+" was issued to another customer"
			continue
		}
		if e.SingleUse && e.Used {
			reason, detail = ReasonCodeUsed, entered+" has already been used"
			continue
		}
		return entered, "", ""
	}
	return "", reason, detail
}

// checkBlocked refuses every offer to a blocked identity.
func (ec *evalContext) checkBlocked() (Reason, string) {
	for _, k := range ec.identityKeys {
		if ec.facts.Blocked[k] {
			return ReasonBlocked, "identity is on the block list"
		}
	}
	return "", ""
}

// checkAudience applies the eligibility audience.
func (ec *evalContext) checkAudience(o *compiledOffer) (Reason, string) {
	b := &ec.cart.buyer
	switch o.Eligibility.Audience {
	case AudienceCustomers:
		if b.customerID == "" {
			return ReasonNoCustomer, "the offer is for specific customers and the buyer is not logged in"
		}
		for _, id := range o.Eligibility.CustomerIDs {
			if id == b.customerID {
				return "", ""
			}
		}
		return ReasonNotEligible, "the buyer is not one of the offer's customers"
	case AudienceTags:
		if b.customerID == "" {
			return ReasonNoCustomer, "the offer is for tagged customers and the buyer is not logged in"
		}
		if !b.hasAnyTag(o.Eligibility.CustomerTags) {
			return ReasonNotEligible, "the buyer has none of the tags " + strings.Join(o.Eligibility.CustomerTags, ", ")
		}
	case AudienceSegment:
		idx := ec.set.segIndex[o.Eligibility.SegmentID]
		top := ec.buyerTopSegment()
		switch {
		case top == idx:
		case top >= 0 && top < idx && ec.segmentMatches(ec.set.segments[idx]):
			return ReasonLowerSegment, "the buyer is in the higher-priority segment " + ec.set.segments[top].Name
		default:
			return ReasonSegmentNotMatched, "the buyer is not in the segment " + ec.set.segments[idx].Name
		}
	}
	return "", ""
}

// checkOrderScope applies first-order-only and the order-number range.
func (ec *evalContext) checkOrderScope(o *compiledOffer) (Reason, string) {
	e := &o.Eligibility
	if !e.FirstOrderOnly && e.OrderNumber == nil {
		return "", ""
	}
	if !ec.cart.buyer.known() {
		return ReasonNoCustomer, "the buyer's order history cannot be known without an account or email"
	}
	n := ec.lifetimeOrders + 1
	if e.FirstOrderOnly && n != 1 {
		return ReasonNotFirstOrder, fmt.Sprintf("the buyer has %d earlier orders", ec.lifetimeOrders)
	}
	if r := e.OrderNumber; r != nil && (r.Min > 0 && n < r.Min || r.Max > 0 && n > r.Max) {
		return ReasonOrderNumber, fmt.Sprintf("this would be order %d, the offer wants %s", n, rangeText(*r))
	}
	return "", ""
}

func rangeText(r IntRange) string {
	switch {
	case r.Min > 0 && r.Max > 0:
		return fmt.Sprintf("%d to %d", r.Min, r.Max)
	case r.Min > 0:
		return fmt.Sprintf("%d or later", r.Min)
	default:
		return fmt.Sprintf("%d or earlier", r.Max)
	}
}

// checkBehaviour applies the purchase-behaviour conditions to the buyer's history.
func (ec *evalContext) checkBehaviour(b *Behaviour) (Reason, string) {
	if b == nil {
		return "", ""
	}
	if !ec.cart.buyer.known() {
		return ReasonNoCustomer, "purchase history needs a logged-in buyer or an email"
	}
	since := periodStart(b.Period, ec.now)
	var orders int
	var spend Money
	usedAny, usedForbidden := len(b.UsedCodes) == 0, ""
	boughtProduct := len(b.BoughtProductIDs) == 0
	boughtCollection := len(b.BoughtCollections) == 0
	for i := range ec.facts.History.Orders {
		po := &ec.facts.History.Orders[i]
		if po.PlacedAt.Before(since) || po.PlacedAt.After(ec.now) {
			continue
		}
		if b.DeliveryMethod != "" && !strings.EqualFold(strings.TrimSpace(po.DeliveryMethod), strings.TrimSpace(b.DeliveryMethod)) {
			continue
		}
		orders++
		spend += po.NetSpend
		for _, c := range po.Codes {
			if !usedAny && containsFold(b.UsedCodes, c) {
				usedAny = true
			}
			if usedForbidden == "" && containsFold(b.NotUsedCodes, c) {
				usedForbidden = c
			}
		}
		if !boughtProduct && intersects(b.BoughtProductIDs, po.ProductIDs) {
			boughtProduct = true
		}
		if !boughtCollection && intersects(b.BoughtCollections, po.CollectionIDs) {
			boughtCollection = true
		}
	}
	window := periodText(b.Period)
	switch {
	case b.MinOrders > 0 && orders < b.MinOrders:
		return ReasonBehaviour, fmt.Sprintf("%d orders %s, needs %d", orders, window, b.MinOrders)
	case b.MinSpend > 0 && spend < b.MinSpend:
		exp := CurrencyExponent(ec.set.settings.Currency)
		return ReasonBehaviour, fmt.Sprintf("spent %s %s, needs %s", FormatMoney(spend, exp), window, FormatMoney(b.MinSpend, exp))
	case !usedAny:
		return ReasonBehaviour, "has not used " + strings.Join(b.UsedCodes, " or ") + " " + window
	case usedForbidden != "":
		return ReasonBehaviour, "already used " + usedForbidden + " " + window
	case !boughtProduct:
		return ReasonBehaviour, "has not bought the required products " + window
	case !boughtCollection:
		return ReasonBehaviour, "has not bought from the required collections " + window
	}
	return "", ""
}

// periodStart is the start of a look-back window ending at now.
func periodStart(p Period, now time.Time) time.Time {
	switch p.Unit {
	case PeriodDays:
		return now.AddDate(0, 0, -p.Count)
	case PeriodWeeks:
		return now.AddDate(0, 0, -7*p.Count)
	case PeriodMonths:
		return now.AddDate(0, -p.Count, 0)
	default:
		return time.Time{}
	}
}

func periodText(p Period) string {
	if p.Unit == PeriodLifetime || p.Unit == "" {
		return "in total"
	}
	return fmt.Sprintf("in the last %d %s", p.Count, p.Unit)
}

// checkLimits applies total, per-day and per-customer caps to the recorded usage.
func (ec *evalContext) checkLimits(o *compiledOffer) (Reason, string) {
	l := &o.Limits
	if l.TotalUses == 0 && l.UsesPerDay == 0 && l.UsesPerCustomer == 0 {
		return "", ""
	}
	u := ec.facts.Usage.Offers[o.ID]
	if l.TotalUses > 0 && u.Total >= l.TotalUses {
		return ReasonTotalLimit, fmt.Sprintf("used %d of %d times", u.Total, l.TotalUses)
	}
	if l.UsesPerDay > 0 && u.ByDay[ec.today] >= l.UsesPerDay {
		return ReasonDailyLimit, fmt.Sprintf("used %d of %d times today", u.ByDay[ec.today], l.UsesPerDay)
	}
	if l.UsesPerCustomer > 0 {
		used := 0
		apart := ec.facts.BuyerUsage[o.ID]
		for _, key := range ec.limitKeys(o) {
			used = max(used, u.ByIdentity[key], apart[key])
		}
		if used >= l.UsesPerCustomer {
			return ReasonCustomerLimit, fmt.Sprintf("this customer used it %d of %d times", used, l.UsesPerCustomer)
		}
	}
	return "", ""
}

// limitKeys are the buyer's identity keys an offer counts per-customer usage by: always the
// customer id and email, plus the kinds the merchant added. (The IP is known from orders only,
// so at checkout it never matches; it still counts when orders are recorded.)
func (ec *evalContext) limitKeys(o *compiledOffer) []string {
	b := &ec.cart.buyer
	keys := make([]string, 0, 4)
	if b.customerID != "" {
		keys = append(keys, IdentityKey(IdentityCustomer, b.customerID))
	}
	if b.email != "" {
		keys = append(keys, IdentityKey(IdentityEmail, b.email))
	}
	for _, kind := range o.Limits.IdentityKeys {
		switch {
		case kind == IdentityPhone && b.phone != "":
			keys = append(keys, IdentityKey(IdentityPhone, b.phone))
		case kind == IdentityAddress && b.address != "":
			keys = append(keys, IdentityKey(IdentityAddress, b.address))
		}
	}
	return keys
}

// buyerTopSegment is the highest-priority segment the buyer is in, or -1.
func (ec *evalContext) buyerTopSegment() int {
	if !ec.segmentDone {
		ec.segmentDone = true
		for i, seg := range ec.set.segments {
			if ec.segmentMatches(seg) {
				ec.topSegment = i
				break
			}
		}
	}
	return ec.topSegment
}

// segmentMatches applies a segment's rules to the buyer and cart.
func (ec *evalContext) segmentMatches(seg *Segment) bool {
	r := &seg.Rules
	b := &ec.cart.buyer
	if len(r.CustomerTags) > 0 && !b.hasAnyTag(r.CustomerTags) {
		return false
	}
	if len(r.Cities) > 0 || len(r.Postcodes) > 0 || len(r.Countries) > 0 {
		if !ec.deliveryLocationMatches(r) {
			return false
		}
	}
	if len(r.DeliveryMethods) > 0 && !ec.deliveryMethodMatches(r.DeliveryMethods) {
		return false
	}
	if r.Behaviour != nil {
		if reason, _ := ec.checkBehaviour(r.Behaviour); reason != "" {
			return false
		}
	}
	return true
}

func (ec *evalContext) deliveryLocationMatches(r *SegmentRules) bool {
	for _, g := range ec.cart.groups {
		if len(r.Cities) > 0 && !containsFold(r.Cities, strings.TrimSpace(g.city)) {
			continue
		}
		if len(r.Countries) > 0 && !containsFold(r.Countries, g.country) {
			continue
		}
		if len(r.Postcodes) > 0 && !hasPrefixFold(r.Postcodes, g.zip) {
			continue
		}
		return true
	}
	return false
}

func (ec *evalContext) deliveryMethodMatches(methods []string) bool {
	for _, g := range ec.cart.groups {
		if s := g.selected; s != nil {
			for _, m := range methods {
				if strings.EqualFold(m, s.title) || strings.EqualFold(m, s.code) || strings.EqualFold(m, s.method) {
					return true
				}
			}
		}
	}
	return false
}

func containsFold(list []string, s string) bool {
	for _, x := range list {
		if strings.EqualFold(x, s) {
			return true
		}
	}
	return false
}

func hasPrefixFold(prefixes []string, s string) bool {
	norm := func(x string) string { return strings.ToUpper(strings.ReplaceAll(x, " ", "")) }
	s = norm(s)
	for _, p := range prefixes {
		if p = norm(p); p != "" && strings.HasPrefix(s, p) {
			return true
		}
	}
	return false
}

func intersects(a, b []string) bool {
	for _, x := range a {
		for _, y := range b {
			if x == y {
				return true
			}
		}
	}
	return false
}
