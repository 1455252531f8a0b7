package discountfn

import (
	"fmt"
	"math"
	"strings"
	"unicode"
	"unicode/utf8"
)

// FieldError is one problem with one field, named by its JSON path
// ("value.tiers[2].threshold").
type FieldError struct {
	Path    string `json:"path"`
	Message string `json:"message"`
}

func (e FieldError) String() string { return e.Path + ": " + e.Message }

// ValidationError lists every problem found, in field order.
type ValidationError struct {
	Problems []FieldError `json:"problems"`
}

func (e *ValidationError) Error() string {
	parts := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		parts[i] = p.String()
	}
	return "invalid: " + strings.Join(parts, "; ")
}

// problems collects field errors.
type problems struct{ list []FieldError }

func (p *problems) add(path, format string, args ...any) {
	p.list = append(p.list, FieldError{Path: path, Message: fmt.Sprintf(format, args...)})
}

func (p *problems) err() error {
	if len(p.list) == 0 {
		return nil
	}
	return &ValidationError{Problems: p.list}
}

// Limits of the offer model. They keep offers readable in the admin, small enough for the
// platform's configuration metafield, and far from integer overflow in the engine.
const (
	maxIDLength          = 64
	maxNameLength        = 255
	maxCodeLength        = 30
	maxDescriptionLength = 1000
	maxTermLength        = 255 // a tag, city, postcode or delivery method
	maxTiers             = 20
	maxListLength        = 1000 // ids, codes, tags per list
	maxPriority          = 1000
	maxPeriodDays        = 3650
	maxPeriodWeeks       = 520
	maxPeriodMonths      = 120
	// maxMoney is 10^15 minor units: more than any real price, far from overflowing int64
	// when summed or converted.
	maxMoney Money = 1_000_000_000_000_000
	// maxQuantity bounds item counts (quantities, thresholds by quantity, order counts).
	maxQuantity = 1_000_000
)

// Platform id kinds, as they appear in a GID: gid://shopify/<kind>/<number>.
const (
	gidProduct    = "Product"
	gidVariant    = "ProductVariant"
	gidCollection = "Collection"
	gidCustomer   = "Customer"
)

const (
	msgProductGID    = "must be a gid://shopify/Product/… or gid://shopify/ProductVariant/… id"
	msgCollectionGID = "must be a gid://shopify/Collection/… id"
	msgCustomerGID   = "must be a gid://shopify/Customer/… id"
)

// Validate returns every problem with the offer, or nil.
func (o *Offer) Validate() error {
	var p problems
	if o == nil {
		p.add("", "offer is missing")
		return p.err()
	}
	if o.Version != ConfigVersion {
		p.add("version", "must be %d", ConfigVersion)
	}
	validateID(&p, "id", o.ID)
	validateRequiredText(&p, "name", o.Name, maxNameLength)
	validateText(&p, "campaign", o.Campaign, maxNameLength, false)
	validateStatus(&p, "status", o.Status)
	validateApplication(&p, "application", &o.Application)
	validateValue(&p, "value", &o.Value)
	if o.Behaviour != nil {
		validateBehaviour(&p, "behaviour", o.Behaviour)
	}
	validateCondition(&p, "condition", &o.Condition)
	validateEligibility(&p, "eligibility", &o.Eligibility, o.Behaviour)
	validateLimits(&p, "limits", &o.Limits)
	validateSchedule(&p, "schedule", &o.Schedule)
	validateStacking(&p, "stacking", &o.Stacking, o.Application.Kind)
	validatePreview(&p, "preview", &o.Preview)
	return p.err()
}

// Validate returns every problem with the segment, or nil.
func (s *Segment) Validate() error {
	var p problems
	if s == nil {
		p.add("", "segment is missing")
		return p.err()
	}
	validateID(&p, "id", s.ID)
	validateRequiredText(&p, "name", s.Name, maxNameLength)
	validatePriority(&p, "priority", s.Priority)
	validateSegmentRules(&p, "rules", &s.Rules)
	return p.err()
}

// --- sections ---

func validateStatus(p *problems, path string, s Status) {
	switch s {
	case StatusDraft, StatusActive, StatusPaused, StatusArchived:
	case StatusScheduled, StatusExpired:
		p.add(path, "%s is derived from the schedule and cannot be stored; use active", s)
	case "":
		p.add(path, "is required")
	default:
		p.add(path, "must be one of draft, active, paused, archived")
	}
}

func validateApplication(p *problems, path string, a *Application) {
	switch a.Kind {
	case ApplyCode:
		if a.Code == "" {
			p.add(path+".code", "is required for a code offer")
		} else {
			validateCode(p, path+".code", a.Code)
		}
	case ApplyCodes, ApplyAutomatic:
		if a.Code != "" {
			p.add(path+".code", "must not be set for %s %s offer", indefiniteArticle(string(a.Kind)), a.Kind)
		}
	case "":
		p.add(path+".kind", "is required")
	default:
		p.add(path+".kind", "must be one of code, codes, automatic")
	}
}

func validateValue(p *problems, path string, v *Value) {
	kind := v.Kind
	known := true
	switch kind {
	case ValuePercentage, ValueFixed, ValueFreeShipping, ValueBuyXGetY, ValueTiered:
	case "":
		p.add(path+".kind", "is required")
		known = false
	default:
		p.add(path+".kind", "must be one of percentage, fixed_amount, free_shipping, buy_x_get_y, tiered")
		known = false
	}
	// notFor reports a field set on an offer kind it does not belong to.
	notFor := func(field string) {
		if known {
			p.add(path+"."+field, "must not be set for %s %s offer", indefiniteArticle(string(kind)), kind)
		}
	}

	// percentage
	switch kind {
	case ValuePercentage, ValueBuyXGetY:
		validatePercent(p, path+".percentage", v.Percentage, fmt.Sprintf("%s %s offer", indefiniteArticle(string(kind)), kind))
	default:
		if v.Percentage != 0 {
			notFor("percentage")
		}
	}

	// amount
	if kind == ValueFixed {
		validatePositiveMoney(p, path+".amount", v.Amount, "is required for a fixed_amount offer")
	} else if v.Amount != 0 {
		notFor("amount")
	}

	// shipping_rate_ceiling: free shipping, or a tiered offer with a free-shipping tier.
	if kind == ValueFreeShipping || kind == ValueTiered && tiersShip(v.Tiers) {
		validateMoney(p, path+".shipping_rate_ceiling", v.ShippingRateCeiling)
	} else if v.ShippingRateCeiling != 0 {
		notFor("shipping_rate_ceiling")
	}

	// targets: free shipping discounts no items, and a buy-x-get-y discounts its get set.
	if v.Targets != nil {
		if kind == ValueFreeShipping || kind == ValueBuyXGetY {
			notFor("targets")
		} else {
			validateItemSet(p, path+".targets", v.Targets)
		}
	}

	// max_target_quantity
	switch {
	case v.MaxTargetQuantity == 0:
	case kind == ValueFreeShipping || kind == ValueTiered || kind == ValueBuyXGetY:
		notFor("max_target_quantity")
	default:
		validateCount(p, path+".max_target_quantity", v.MaxTargetQuantity, maxQuantity)
	}

	// cap
	switch {
	case v.Cap == 0:
	case kind == ValueFreeShipping:
		notFor("cap")
	default:
		validateMoney(p, path+".cap", v.Cap)
		if kind == ValueFixed && v.Cap > 0 && v.Amount > 0 && v.Cap < v.Amount {
			p.add(path+".cap", "must be at least the amount (%d); lower the amount instead", v.Amount)
		}
	}

	// buy_x_get_y
	if kind == ValueBuyXGetY {
		if v.BuyXGetY == nil {
			p.add(path+".buy_x_get_y", "is required for a buy_x_get_y offer")
		} else {
			validateBuyXGetY(p, path+".buy_x_get_y", v.BuyXGetY)
		}
	} else if v.BuyXGetY != nil {
		notFor("buy_x_get_y")
	}

	// tiers and tier_basis
	if kind == ValueTiered {
		validateTiers(p, path, v.Tiers, v.TierBasis)
	} else {
		if len(v.Tiers) > 0 {
			notFor("tiers")
		}
		if v.TierBasis != "" {
			notFor("tier_basis")
		}
	}
}

func validateBuyXGetY(p *problems, path string, b *BuyXGetY) {
	validateItemSet(p, path+".buy", &b.Buy)
	validateMinCount(p, path+".buy_quantity", b.BuyQuantity, 1, maxQuantity)
	validateItemSet(p, path+".get", &b.Get)
	validateMinCount(p, path+".get_quantity", b.GetQuantity, 1, maxQuantity)
}

// validateTiers checks a tiered value's tiers and basis; path is the value's path.
func validateTiers(p *problems, path string, tiers []Tier, basis TierBasis) {
	limit := int64(maxMoney)
	switch basis {
	case TierBySubtotal:
	case TierByQuantity:
		limit = maxQuantity
	case "":
		p.add(path+".tier_basis", "is required for a tiered offer")
	default:
		p.add(path+".tier_basis", "must be one of subtotal, quantity")
	}
	switch {
	case len(tiers) == 0:
		p.add(path+".tiers", "is required for a tiered offer: 1 to %d tiers", maxTiers)
	case len(tiers) > maxTiers:
		p.add(path+".tiers", "must have at most %d tiers", maxTiers)
	}
	for i := range tiers {
		t := &tiers[i]
		tp := fmt.Sprintf("%s.tiers[%d]", path, i)
		switch {
		case t.Threshold <= 0:
			p.add(tp+".threshold", "must be greater than 0")
		case t.Threshold > limit:
			p.add(tp+".threshold", "must be at most %d", limit)
		case i > 0 && t.Threshold <= tiers[i-1].Threshold:
			p.add(tp+".threshold", "must be greater than tier %d's threshold", i-1)
		}
		switch t.Kind {
		case ValuePercentage:
			validatePercent(p, tp+".percentage", t.Percentage, "a percentage tier")
			if t.Amount != 0 {
				p.add(tp+".amount", "must not be set for a percentage tier")
			}
		case ValueFixed:
			if t.Percentage != 0 {
				p.add(tp+".percentage", "must not be set for a fixed_amount tier")
			}
			validatePositiveMoney(p, tp+".amount", t.Amount, "is required for a fixed_amount tier")
		case ValueFreeShipping:
			if t.Percentage != 0 {
				p.add(tp+".percentage", "must not be set for a free_shipping tier")
			}
			if t.Amount != 0 {
				p.add(tp+".amount", "must not be set for a free_shipping tier")
			}
		case "":
			p.add(tp+".kind", "is required")
		default:
			p.add(tp+".kind", "must be one of percentage, fixed_amount, free_shipping")
		}
	}
}

// validateItemSet checks a selection of cart items: its scope, its ids, and its exclusions.
func validateItemSet(p *problems, path string, s *ItemSet) {
	scope := s.Scope
	switch scope {
	case "", ScopeAll:
		scope = ScopeAll
		if len(s.ProductIDs) > 0 {
			p.add(path+".product_ids", "must not be set when scope is all")
		}
		if len(s.Collections) > 0 {
			p.add(path+".collection_ids", "must not be set when scope is all")
		}
	case ScopeProducts:
		if len(s.ProductIDs) == 0 {
			p.add(path+".product_ids", "must list at least one product when scope is products")
		}
		if len(s.Collections) > 0 {
			p.add(path+".collection_ids", "must not be set when scope is products")
		}
	case ScopeCollections:
		if len(s.ProductIDs) > 0 {
			p.add(path+".product_ids", "must not be set when scope is collections")
		}
		if len(s.Collections) == 0 {
			p.add(path+".collection_ids", "must list at least one collection when scope is collections")
		}
	default:
		p.add(path+".scope", "must be one of all, products, collections")
	}
	validateProductIDs(p, path, "product_ids", s.ProductIDs)
	validateCollectionIDs(p, path, "collection_ids", s.Collections)
	validateProductIDs(p, path, "exclude_product_ids", s.ExcludeProductIDs)
	validateCollectionIDs(p, path, "exclude_collection_ids", s.ExcludeCollections)
	validateNotBoth(p, path, "product_ids", s.ProductIDs, "exclude_product_ids", s.ExcludeProductIDs, nil)
	validateNotBoth(p, path, "collection_ids", s.Collections, "exclude_collection_ids", s.ExcludeCollections, nil)
}

func validateCondition(p *problems, path string, c *Condition) {
	validateItemSet(p, path+".qualifying", &c.Qualifying)
	validateMoney(p, path+".min_subtotal", c.MinSubtotal)
	validateMoney(p, path+".max_subtotal", c.MaxSubtotal)
	if c.MinSubtotal > 0 && c.MaxSubtotal > 0 && c.MaxSubtotal < c.MinSubtotal {
		p.add(path+".max_subtotal", "must be at least min_subtotal (%d)", c.MinSubtotal)
	}
	validateCount(p, path+".min_quantity", c.MinQuantity, maxQuantity)
	validateCount(p, path+".max_quantity", c.MaxQuantity, maxQuantity)
	if c.MinQuantity > 0 && c.MaxQuantity > 0 && c.MaxQuantity < c.MinQuantity {
		p.add(path+".max_quantity", "must be at least min_quantity (%d)", c.MinQuantity)
	}
}

// validateBehaviour checks a purchase-history condition, of an offer or of a segment's rules.
func validateBehaviour(p *problems, path string, b *Behaviour) {
	pp := path + ".period"
	switch b.Period.Unit {
	case PeriodLifetime:
		if b.Period.Count != 0 {
			p.add(pp+".count", "must not be set for a lifetime period")
		}
	case PeriodDays:
		validateMinCount(p, pp+".count", b.Period.Count, 1, maxPeriodDays)
	case PeriodWeeks:
		validateMinCount(p, pp+".count", b.Period.Count, 1, maxPeriodWeeks)
	case PeriodMonths:
		validateMinCount(p, pp+".count", b.Period.Count, 1, maxPeriodMonths)
	case "":
		p.add(pp+".unit", "is required")
	default:
		p.add(pp+".unit", "must be one of lifetime, days, weeks, months")
	}
	validateMoney(p, path+".min_spend", b.MinSpend)
	validateCount(p, path+".min_orders", b.MinOrders, maxQuantity)
	validateCodeList(p, path, "used_codes", b.UsedCodes)
	validateCodeList(p, path, "not_used_codes", b.NotUsedCodes)
	validateNotBoth(p, path, "used_codes", b.UsedCodes, "not_used_codes", b.NotUsedCodes, NormalizeCode)
	validateProductIDs(p, path, "bought_product_ids", b.BoughtProductIDs)
	validateCollectionIDs(p, path, "bought_collection_ids", b.BoughtCollections)
	validateText(p, path+".delivery_method", b.DeliveryMethod, maxTermLength, false)
	if b.DeliveryMethod != "" && strings.TrimSpace(b.DeliveryMethod) == "" {
		p.add(path+".delivery_method", "must not be blank")
	}
	// The delivery method only narrows which past orders count; alone it asks nothing.
	if b.MinSpend == 0 && b.MinOrders == 0 && len(b.UsedCodes) == 0 && len(b.NotUsedCodes) == 0 &&
		len(b.BoughtProductIDs) == 0 && len(b.BoughtCollections) == 0 {
		p.add(path, "states no condition; remove it or add one")
	}
}

// behaviourNeedsPastOrder reports whether the behaviour can only hold for a customer with an
// order.
func behaviourNeedsPastOrder(b *Behaviour) bool {
	return b.MinSpend > 0 || b.MinOrders > 0 || len(b.UsedCodes) > 0 ||
		len(b.BoughtProductIDs) > 0 || len(b.BoughtCollections) > 0
}

func validateEligibility(p *problems, path string, e *Eligibility, behaviour *Behaviour) {
	audience := e.Audience
	switch audience {
	case AudienceAll, AudienceCustomers, AudienceTags, AudienceSegment:
	case "":
		p.add(path+".audience", "is required")
	default:
		p.add(path+".audience", "must be one of all, customers, tags, segment")
	}
	known := audience == AudienceAll || audience == AudienceCustomers ||
		audience == AudienceTags || audience == AudienceSegment

	if audience == AudienceCustomers && len(e.CustomerIDs) == 0 {
		p.add(path+".customer_ids", "must list at least one customer when audience is customers")
	} else if known && audience != AudienceCustomers && len(e.CustomerIDs) > 0 {
		p.add(path+".customer_ids", "must not be set when audience is %s", audience)
	}
	validateGIDList(p, path, "customer_ids", e.CustomerIDs, msgCustomerGID, gidCustomer)

	if audience == AudienceTags && len(e.CustomerTags) == 0 {
		p.add(path+".customer_tags", "must list at least one tag when audience is tags")
	} else if known && audience != AudienceTags && len(e.CustomerTags) > 0 {
		p.add(path+".customer_tags", "must not be set when audience is %s", audience)
	}
	validateTerms(p, path, "customer_tags", e.CustomerTags)

	if audience == AudienceSegment {
		if e.SegmentID == "" {
			p.add(path+".segment_id", "is required when audience is segment")
		} else {
			validateID(p, path+".segment_id", e.SegmentID)
		}
	} else if known && e.SegmentID != "" {
		p.add(path+".segment_id", "must not be set when audience is %s", audience)
	}

	if e.FirstOrderOnly && behaviour != nil && behaviourNeedsPastOrder(behaviour) {
		p.add(path+".first_order_only", "conflicts with behaviour, which needs past orders; a first order has none")
	}

	if r := e.OrderNumber; r != nil {
		rp := path + ".order_number"
		validateCount(p, rp+".min", r.Min, maxQuantity)
		validateCount(p, rp+".max", r.Max, maxQuantity)
		if r.Min > 0 && r.Max > 0 && r.Max < r.Min {
			p.add(rp+".max", "must be at least min (%d)", r.Min)
		}
		if e.FirstOrderOnly && (r.Min > 1 || r.Max > 1) {
			p.add(rp, "conflicts with first_order_only, which allows only order 1")
		}
	}
}

func validateLimits(p *problems, path string, l *Limits) {
	validateCount(p, path+".total_uses", l.TotalUses, math.MaxInt32)
	validateCount(p, path+".uses_per_customer", l.UsesPerCustomer, math.MaxInt32)
	if len(l.IdentityKeys) > 0 && l.UsesPerCustomer <= 0 {
		p.add(path+".identity_keys", "only apply to uses_per_customer, which is not set")
	}
	seen := make(map[IdentityKind]int, len(l.IdentityKeys))
	for i, k := range l.IdentityKeys {
		kp := fmt.Sprintf("%s.identity_keys[%d]", path, i)
		switch k {
		case IdentityCustomer, IdentityEmail, IdentityPhone, IdentityAddress, IdentityIP:
		default:
			p.add(kp, "must be one of customer, email, phone, address, ip")
			continue
		}
		if j, dup := seen[k]; dup {
			p.add(kp, "duplicates identity_keys[%d]", j)
			continue
		}
		seen[k] = i
	}
	validateCount(p, path+".uses_per_day", l.UsesPerDay, math.MaxInt32)
}

func validateSchedule(p *problems, path string, s *Schedule) {
	if s.StartsAt != nil && s.StartsAt.IsZero() {
		p.add(path+".starts_at", "must be a real instant, or left out")
	}
	if s.EndsAt != nil && s.EndsAt.IsZero() {
		p.add(path+".ends_at", "must be a real instant, or left out")
	}
	if s.StartsAt != nil && s.EndsAt != nil && !s.EndsAt.After(*s.StartsAt) {
		p.add(path+".ends_at", "must be after starts_at")
	}
}

func validateStacking(p *problems, path string, s *Stacking, kind ApplicationKind) {
	validatePriority(p, path+".priority", s.Priority)
	if s.CombinesWithCodes != nil && (kind == ApplyCode || kind == ApplyCodes) {
		p.add(path+".combines_with_codes", "only applies to automatic offers")
	}
	if s.CombinesWithAutomatic != nil && kind == ApplyAutomatic {
		p.add(path+".combines_with_automatic", "only applies to code offers")
	}
}

func validatePreview(p *problems, path string, pv *Preview) {
	if pv.Visible {
		validateRequiredText(p, path+".title", pv.Title, maxNameLength)
	} else {
		validateText(p, path+".title", pv.Title, maxNameLength, false)
	}
	validateText(p, path+".description", pv.Description, maxDescriptionLength, true)
	validateText(p, path+".unlock_message", pv.UnlockMessage, maxNameLength, false)
	for _, name := range unlockPlaceholders(pv.UnlockMessage) {
		if name != "amount" && name != "title" {
			p.add(path+".unlock_message", "has unknown placeholder {%s}; only {amount} and {title} are replaced", name)
		}
	}
}

func validateSegmentRules(p *problems, path string, r *SegmentRules) {
	validateTerms(p, path, "customer_tags", r.CustomerTags)
	validateTerms(p, path, "cities", r.Cities)
	validateTerms(p, path, "postcodes", r.Postcodes)
	validateListLength(p, path+".countries", len(r.Countries), "countries")
	seen := make(map[string]int, len(r.Countries))
	for i, c := range r.Countries {
		cp := fmt.Sprintf("%s.countries[%d]", path, i)
		switch {
		case !isCountryShape(c):
			p.add(cp, "must be a 2-letter upper-case ISO 3166-1 country code")
			continue
		case c == "UK":
			p.add(cp, "is not an ISO 3166-1 country code; the United Kingdom is GB")
			continue
		case !isCountryCode(c):
			p.add(cp, "is not an ISO 3166-1 country code")
			continue
		}
		if j, dup := seen[c]; dup {
			p.add(cp, "duplicates countries[%d]", j)
			continue
		}
		seen[c] = i
	}
	validateTerms(p, path, "delivery_methods", r.DeliveryMethods)
	if r.Behaviour != nil {
		validateBehaviour(p, path+".behaviour", r.Behaviour)
	}
	if len(r.CustomerTags) == 0 && len(r.Cities) == 0 && len(r.Postcodes) == 0 &&
		len(r.Countries) == 0 && len(r.DeliveryMethods) == 0 && r.Behaviour == nil {
		p.add(path, "states no condition; add at least one rule")
	}
}

// --- fields ---

// validateID checks an offer or segment id: 1 to 64 letters, digits, '-' or '_'.
func validateID(p *problems, path, id string) {
	switch {
	case id == "":
		p.add(path, "is required")
	case len(id) > maxIDLength:
		p.add(path, "must be at most %d characters", maxIDLength)
	case !isIDChars(id):
		p.add(path, "must contain only letters, digits, '-' and '_'")
	}
}

func isIDChars(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !isCodeChar(c) && c != '-' && c != '_' {
			return false
		}
	}
	return true
}

// validateCode checks a discount code: 1 to 30 letters and digits. Case does not matter, as
// codes are compared after NormalizeCode.
func validateCode(p *problems, path, code string) {
	if code == "" {
		p.add(path, "must not be empty")
		return
	}
	if n := utf8.RuneCountInString(code); n > maxCodeLength {
		p.add(path, "must be at most %d characters", maxCodeLength)
	}
	for i := 0; i < len(code); i++ {
		if !isCodeChar(code[i]) {
			p.add(path, "must contain only letters and digits")
			break
		}
	}
}

func validateCodeList(p *problems, path, field string, codes []string) {
	validateListLength(p, path+"."+field, len(codes), "codes")
	seen := make(map[string]int, len(codes))
	for i, c := range codes {
		cp := fmt.Sprintf("%s.%s[%d]", path, field, i)
		n := len(p.list)
		validateCode(p, cp, c)
		if len(p.list) > n {
			continue
		}
		key := NormalizeCode(c)
		if j, dup := seen[key]; dup {
			p.add(cp, "duplicates %s[%d]", field, j)
			continue
		}
		seen[key] = i
	}
}

// validateNotBoth reports each entry of list b that is also in list a (compared after norm,
// when given).
func validateNotBoth(p *problems, path, fieldA string, a []string, fieldB string, b []string, norm func(string) string) {
	if len(a) == 0 || len(b) == 0 {
		return
	}
	if norm == nil {
		norm = func(s string) string { return s }
	}
	inA := make(map[string]int, len(a))
	for i, s := range a {
		if _, ok := inA[norm(s)]; !ok {
			inA[norm(s)] = i
		}
	}
	for i, s := range b {
		if j, ok := inA[norm(s)]; ok && s != "" {
			p.add(fmt.Sprintf("%s.%s[%d]", path, fieldB, i), "is also in %s (%s[%d])", fieldA, fieldA, j)
		}
	}
}

// validateProductIDs checks a list of product or variant GIDs at path.field.
func validateProductIDs(p *problems, path, field string, ids []string) {
	validateGIDList(p, path, field, ids, msgProductGID, gidProduct, gidVariant)
}

// validateCollectionIDs checks a list of collection GIDs at path.field.
func validateCollectionIDs(p *problems, path, field string, ids []string) {
	validateGIDList(p, path, field, ids, msgCollectionGID, gidCollection)
}

// validateGIDList checks that each id is a GID of one of the kinds, that none repeats, and
// that the list is not too long.
func validateGIDList(p *problems, path, field string, ids []string, msg string, kinds ...string) {
	validateListLength(p, path+"."+field, len(ids), "ids")
	seen := make(map[string]int, len(ids))
	for i, id := range ids {
		ip := fmt.Sprintf("%s.%s[%d]", path, field, i)
		if !isGIDOf(id, kinds...) {
			p.add(ip, "%s", msg)
			continue
		}
		if j, dup := seen[id]; dup {
			p.add(ip, "duplicates %s[%d]", field, j)
			continue
		}
		seen[id] = i
	}
}

// isGIDOf reports whether s is gid://shopify/<kind>/<positive number> for one of the kinds.
func isGIDOf(s string, kinds ...string) bool {
	rest, ok := strings.CutPrefix(s, "gid://shopify/")
	if !ok {
		return false
	}
	kind, num, ok := strings.Cut(rest, "/")
	if !ok || len(num) == 0 || len(num) > 19 || num[0] == '0' || !allDigits(num) {
		return false
	}
	for _, k := range kinds {
		if kind == k {
			return true
		}
	}
	return false
}

// validateTerms checks a list of free-text terms (tags, cities, postcodes, delivery methods):
// none blank, none too long, none padded with spaces (the engine compares them as written,
// ignoring case), none repeated.
func validateTerms(p *problems, path, field string, terms []string) {
	validateListLength(p, path+"."+field, len(terms), "entries")
	seen := make(map[string]int, len(terms))
	for i, t := range terms {
		tp := fmt.Sprintf("%s.%s[%d]", path, field, i)
		key := strings.ToLower(strings.TrimSpace(t))
		if key == "" {
			p.add(tp, "must not be blank")
			continue
		}
		n := len(p.list)
		validateText(p, tp, t, maxTermLength, false)
		if strings.TrimSpace(t) != t {
			p.add(tp, "must not begin or end with spaces")
		}
		if len(p.list) > n {
			continue
		}
		if j, dup := seen[key]; dup {
			p.add(tp, "duplicates %s[%d]", field, j)
			continue
		}
		seen[key] = i
	}
}

func validateListLength(p *problems, path string, n int, what string) {
	if n > maxListLength {
		p.add(path, "must list at most %d %s", maxListLength, what)
	}
}

// validateRequiredText checks a required single-line text.
func validateRequiredText(p *problems, path, s string, max int) {
	if strings.TrimSpace(s) == "" {
		p.add(path, "is required")
		return
	}
	validateText(p, path, s, max, false)
}

// validateText checks an optional text: valid UTF-8, at most max characters, and no control
// characters (line breaks and tabs are allowed in multi-line text).
func validateText(p *problems, path, s string, max int, multiline bool) {
	if s == "" {
		return
	}
	if !utf8.ValidString(s) {
		p.add(path, "must be valid UTF-8")
		return
	}
	if utf8.RuneCountInString(s) > max {
		p.add(path, "must be at most %d characters", max)
	}
	for _, r := range s {
		if multiline && (r == '\n' || r == '\r' || r == '\t') {
			continue
		}
		if unicode.IsControl(r) {
			p.add(path, "must not contain control characters")
			return
		}
	}
}

// validatePercent checks a percentage that must be more than 0% and at most 100%; what names
// the owner for the "required" message ("a percentage offer").
func validatePercent(p *problems, path string, v Percent, what string) {
	switch {
	case v == 0:
		p.add(path, "is required for %s", what)
	case v < 0 || v > PercentWhole:
		p.add(path, "must be more than 0%% and at most 100%% (got %s)", v)
	}
}

// validateMoney checks an optional amount: zero or positive, within maxMoney.
func validateMoney(p *problems, path string, m Money) {
	switch {
	case m < 0:
		p.add(path, "must not be negative")
	case m > maxMoney:
		p.add(path, "must be at most %d", maxMoney)
	}
}

// validatePositiveMoney checks a required amount; missing is the message for zero.
func validatePositiveMoney(p *problems, path string, m Money, missing string) {
	if m == 0 {
		p.add(path, "%s", missing)
		return
	}
	if m < 0 {
		p.add(path, "must be greater than 0")
		return
	}
	validateMoney(p, path, m)
}

// validateCount checks an optional count: zero (unset) to max.
func validateCount(p *problems, path string, n, max int) {
	switch {
	case n < 0:
		p.add(path, "must not be negative")
	case n > max:
		p.add(path, "must be at most %d", max)
	}
}

// validateMinCount checks a required count: min to max.
func validateMinCount(p *problems, path string, n, min, max int) {
	if n < min || n > max {
		p.add(path, "must be between %d and %d", min, max)
	}
}

func validatePriority(p *problems, path string, n int) {
	if n < -maxPriority || n > maxPriority {
		p.add(path, "must be between %d and %d", -maxPriority, maxPriority)
	}
}

// unlockPlaceholders lists the names of the {name} placeholders in s.
func unlockPlaceholders(s string) []string {
	var names []string
	for {
		open := strings.IndexByte(s, '{')
		if open < 0 {
			return names
		}
		s = s[open+1:]
		end := strings.IndexByte(s, '}')
		if end < 0 {
			return names
		}
		if name := s[:end]; isPlaceholderName(name) {
			names = append(names, name)
			s = s[end+1:]
		}
	}
}

func isPlaceholderName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '_') {
			return false
		}
	}
	return true
}

func isCodeChar(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

func isCountryShape(s string) bool {
	return len(s) == 2 && s[0] >= 'A' && s[0] <= 'Z' && s[1] >= 'A' && s[1] <= 'Z'
}

// indefiniteArticle is the indefinite article for a word: "an automatic", "a code".
func indefiniteArticle(word string) string {
	if word != "" && strings.IndexByte("aeiou", word[0]) >= 0 {
		return "an"
	}
	return "a"
}

// isoCountryCodes is the ISO 3166-1 alpha-2 list, plus the codes the platform also uses for
// Ascension Island (AC), Tristan da Cunha (TA) and Kosovo (XK): two letters and a space each.
const isoCountryCodes = "" +
	"AC AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ " +
	"BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ BR BS BT BV BW BY BZ " +
	"CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ " +
	"DE DJ DK DM DO DZ " +
	"EC EE EG EH ER ES ET " +
	"FI FJ FK FM FO FR " +
	"GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW GY " +
	"HK HM HN HR HT HU " +
	"ID IE IL IM IN IO IQ IR IS IT " +
	"JE JM JO JP " +
	"KE KG KH KI KM KN KP KR KW KY KZ " +
	"LA LB LC LI LK LR LS LT LU LV LY " +
	"MA MC MD ME MF MG MH MK ML MM MN MO MP MQ MR MS MT MU MV MW MX MY MZ " +
	"NA NC NE NF NG NI NL NO NP NR NU NZ " +
	"OM " +
	"PA PE PF PG PH PK PL PM PN PR PS PT PW PY " +
	"QA " +
	"RE RO RS RU RW " +
	"SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV SX SY SZ " +
	"TA TC TD TF TG TH TJ TK TL TM TN TO TR TT TV TW TZ " +
	"UA UG UM US UY UZ " +
	"VA VC VE VG VI VN VU " +
	"WF WS " +
	"XK " +
	"YE YT " +
	"ZA ZM ZW "

// isCountryCode reports whether c is one of isoCountryCodes.
func isCountryCode(c string) bool {
	if len(c) != 2 {
		return false
	}
	for i := 0; i+2 <= len(isoCountryCodes); i += 3 {
		if isoCountryCodes[i:i+2] == c {
			return true
		}
	}
	return false
}

// tiersShip reports whether any tier gives free shipping.
func tiersShip(tiers []Tier) bool {
	for _, t := range tiers {
		if t.FreeShipping || t.Kind == ValueFreeShipping {
			return true
		}
	}
	return false
}
