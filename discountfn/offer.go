package discountfn

import (
	"strings"
	"time"
)

// ConfigVersion is the version of the JSON form of an offer. It is written into the platform
// discount's configuration metafield, so a newer binary can still read what an older one wrote.
const ConfigVersion = 1

// Offer is one coupon or automatic offer of a shop: everything PRODUCT.md section C names.
// Money fields are minor units of the shop's currency.
type Offer struct {
	Version     int         `json:"version"`
	ID          string      `json:"id"`
	Name        string      `json:"name"`
	Campaign    string      `json:"campaign,omitempty"`
	Status      Status      `json:"status"`
	Application Application `json:"application"`
	Value       Value       `json:"value"`
	Behaviour   *Behaviour  `json:"behaviour,omitempty"`
	Condition   Condition   `json:"condition"`
	Eligibility Eligibility `json:"eligibility"`
	Limits      Limits      `json:"limits"`
	Schedule    Schedule    `json:"schedule"`
	Stacking    Stacking    `json:"stacking"`
	Preview     Preview     `json:"preview"`
}

// Status is the stored lifecycle state. Scheduled and expired are derived from the schedule
// (see Offer.Lifecycle), so they are never stored and never drift from the dates.
type Status string

const (
	StatusDraft    Status = "draft"
	StatusActive   Status = "active"
	StatusPaused   Status = "paused"
	StatusArchived Status = "archived"
	// Derived states, reported by Lifecycle only.
	StatusScheduled Status = "scheduled"
	StatusExpired   Status = "expired"
)

// ApplicationKind says how a shopper gets the offer.
type ApplicationKind string

const (
	ApplyCode      ApplicationKind = "code"      // one shared code
	ApplyCodes     ApplicationKind = "codes"     // many unique codes, kept in the code book
	ApplyAutomatic ApplicationKind = "automatic" // applies by itself when conditions hold
)

// Application is how the offer is applied.
type Application struct {
	Kind ApplicationKind `json:"kind"`
	// Code is the shared code for Kind "code". Codes are compared case-insensitively.
	Code string `json:"code,omitempty"`
}

// ValueKind is what the offer gives.
type ValueKind string

const (
	ValuePercentage   ValueKind = "percentage"
	ValueFixed        ValueKind = "fixed_amount"
	ValueFreeShipping ValueKind = "free_shipping"
	ValueBuyXGetY     ValueKind = "buy_x_get_y"
	ValueTiered       ValueKind = "tiered"
)

// Value is the benefit and the items it applies to.
type Value struct {
	Kind ValueKind `json:"kind"`
	// Percentage for "percentage", and the discount on the Y items for "buy_x_get_y".
	Percentage Percent `json:"percentage,omitempty"`
	// Amount for "fixed_amount": taken off the target items, cheapest units first.
	Amount Money `json:"amount,omitempty"`
	// ShippingRateCeiling for "free_shipping": only delivery options costing at most this
	// much are made free. Zero means no ceiling.
	ShippingRateCeiling Money `json:"shipping_rate_ceiling,omitempty"`
	// Targets are the items the discount is taken off. Nil means the qualifying items
	// (the condition's scope); for an entire-cart target the offer is an order discount.
	Targets *ItemSet `json:"targets,omitempty"`
	// MaxTargetQuantity limits the discounted units to the cheapest N targets. Zero means all.
	MaxTargetQuantity int `json:"max_target_quantity,omitempty"`
	// Cap is the most the discount may ever be. Zero means no cap.
	Cap Money `json:"cap,omitempty"`
	// BuyXGetY is set for "buy_x_get_y".
	BuyXGetY *BuyXGetY `json:"buy_x_get_y,omitempty"`
	// Tiers are set for "tiered", in ascending threshold order.
	Tiers []Tier `json:"tiers,omitempty"`
	// TierBasis is what the tier thresholds measure: the qualifying subtotal or quantity.
	TierBasis TierBasis `json:"tier_basis,omitempty"`
}

// BuyXGetY: buy BuyQuantity units of Buy, get GetQuantity units of Get at Value.Percentage
// off, cheapest first. It applies once per order.
type BuyXGetY struct {
	Buy         ItemSet `json:"buy"`
	BuyQuantity int     `json:"buy_quantity"`
	Get         ItemSet `json:"get"`
	GetQuantity int     `json:"get_quantity"`
}

// TierBasis is what tier thresholds are compared with.
type TierBasis string

const (
	TierBySubtotal TierBasis = "subtotal"
	TierByQuantity TierBasis = "quantity"
)

// Tier is one step of a tiered offer: at or above Threshold (minor units or units, per the
// basis), the tier's value applies, with free shipping if set.
type Tier struct {
	Threshold    int64     `json:"threshold"`
	Kind         ValueKind `json:"kind"` // percentage, fixed_amount, or free_shipping alone
	Percentage   Percent   `json:"percentage,omitempty"`
	Amount       Money     `json:"amount,omitempty"`
	FreeShipping bool      `json:"free_shipping,omitempty"`
}

// ItemScope is which cart items a set covers.
type ItemScope string

const (
	ScopeAll         ItemScope = "all"
	ScopeProducts    ItemScope = "products"
	ScopeCollections ItemScope = "collections"
)

// ItemSet selects cart lines by product or collection, minus exclusions. IDs are platform
// GIDs: gid://shopify/Product/1, gid://shopify/ProductVariant/2, gid://shopify/Collection/3.
type ItemSet struct {
	Scope       ItemScope `json:"scope"`
	ProductIDs  []string  `json:"product_ids,omitempty"` // product or variant GIDs
	Collections []string  `json:"collection_ids,omitempty"`
	// Exclusions remove items that the scope would otherwise take.
	ExcludeProductIDs   []string `json:"exclude_product_ids,omitempty"`
	ExcludeCollections  []string `json:"exclude_collection_ids,omitempty"`
	ExcludeGiftCards    bool     `json:"exclude_gift_cards,omitempty"`
	ExcludeSubscription bool     `json:"exclude_subscriptions,omitempty"`
}

// Condition is what the current cart must satisfy. Subtotal and quantity are measured over
// the qualifying items: those in Qualifying (default: the whole cart).
type Condition struct {
	Qualifying  ItemSet `json:"qualifying"`
	MinSubtotal Money   `json:"min_subtotal,omitempty"`
	MaxSubtotal Money   `json:"max_subtotal,omitempty"` // zero: no maximum
	MinQuantity int     `json:"min_quantity,omitempty"`
	MaxQuantity int     `json:"max_quantity,omitempty"` // zero: no maximum
}

// PeriodUnit is the unit of a look-back window.
type PeriodUnit string

const (
	PeriodLifetime PeriodUnit = "lifetime"
	PeriodDays     PeriodUnit = "days"
	PeriodWeeks    PeriodUnit = "weeks"
	PeriodMonths   PeriodUnit = "months"
)

// Period is a look-back window ending now: the last Count days, weeks or months, or lifetime.
type Period struct {
	Unit  PeriodUnit `json:"unit"`
	Count int        `json:"count,omitempty"`
}

// Behaviour is the purchase history the customer must have. All set conditions must hold.
// Orders counted are those the shop's settings count (see History), inside Period.
type Behaviour struct {
	Period    Period `json:"period"`
	MinSpend  Money  `json:"min_spend,omitempty"` // net of refunds, shop currency
	MinOrders int    `json:"min_orders,omitempty"`
	// UsedCodes: the customer used at least one of these codes in the period.
	UsedCodes []string `json:"used_codes,omitempty"`
	// NotUsedCodes: the customer used none of these codes in the period.
	NotUsedCodes []string `json:"not_used_codes,omitempty"`
	// BoughtProductIDs / BoughtCollections: bought at least one of these in the period.
	BoughtProductIDs  []string `json:"bought_product_ids,omitempty"`
	BoughtCollections []string `json:"bought_collection_ids,omitempty"`
	// DeliveryMethod, when set, counts only past orders delivered that way ("Royal Mail").
	DeliveryMethod string `json:"delivery_method,omitempty"`
}

// Audience is who may use the offer.
type Audience string

const (
	AudienceAll       Audience = "all"
	AudienceCustomers Audience = "customers" // CustomerIDs
	AudienceTags      Audience = "tags"      // CustomerTags
	AudienceSegment   Audience = "segment"   // SegmentID
)

// Eligibility restricts who may use the offer and which of their orders count.
type Eligibility struct {
	Audience     Audience `json:"audience"`
	CustomerIDs  []string `json:"customer_ids,omitempty"`  // customer GIDs
	CustomerTags []string `json:"customer_tags,omitempty"` // any of
	SegmentID    string   `json:"segment_id,omitempty"`
	// FirstOrderOnly: the customer has no counted order yet (by account or email).
	FirstOrderOnly bool `json:"first_order_only,omitempty"`
	// OrderNumber limits which of the customer's orders this may be: 3 means the third.
	OrderNumber *IntRange `json:"order_number,omitempty"`
}

// IntRange is an inclusive range; a zero bound is open.
type IntRange struct {
	Min int `json:"min,omitempty"`
	Max int `json:"max,omitempty"`
}

// IdentityKind is a way of recognising the same shopper across accounts.
type IdentityKind string

const (
	IdentityCustomer IdentityKind = "customer" // platform customer id
	IdentityEmail    IdentityKind = "email"    // normalized email
	IdentityPhone    IdentityKind = "phone"    // normalized phone
	IdentityAddress  IdentityKind = "address"  // delivery address fingerprint
	IdentityIP       IdentityKind = "ip"       // browser IP, known from orders only
)

// Limits caps how often the offer is used. Zero means unlimited.
type Limits struct {
	TotalUses       int `json:"total_uses,omitempty"`
	UsesPerCustomer int `json:"uses_per_customer,omitempty"`
	// IdentityKeys decide who counts as the same customer for UsesPerCustomer. Customer id and
	// email are always used; phone, address and ip may be added.
	IdentityKeys []IdentityKind `json:"identity_keys,omitempty"`
	UsesPerDay   int            `json:"uses_per_day,omitempty"`
	// DisableCashOnDelivery hides cash-on-delivery payment when the offer is used.
	DisableCashOnDelivery bool `json:"disable_cash_on_delivery,omitempty"`
}

// Schedule is the active window; a nil bound is open. Instants are absolute; the admin shows
// and enters them in the shop's timezone.
type Schedule struct {
	StartsAt *time.Time `json:"starts_at,omitempty"`
	EndsAt   *time.Time `json:"ends_at,omitempty"`
}

// Stacking is how the offer combines with others.
type Stacking struct {
	// Priority orders our offers: higher first. Ties go to the better discount, then the id.
	Priority int `json:"priority"`
	// Exclusive: when it applies, none of our other offers apply.
	Exclusive bool `json:"exclusive,omitempty"`
	// CombinesWith mirrors the platform's combinesWith: which discount classes this one may
	// be used together with.
	CombinesWith CombinesWith `json:"combines_with"`
	// CombinesWithCodes (automatic offers): may apply together with a code offer.
	// Nil means yes.
	CombinesWithCodes *bool `json:"combines_with_codes,omitempty"`
	// CombinesWithAutomatic (code offers): may apply together with automatic offers.
	// Nil means yes.
	CombinesWithAutomatic *bool `json:"combines_with_automatic,omitempty"`
}

// CombinesWith is the platform's per-class combination switch.
type CombinesWith struct {
	OrderDiscounts    bool `json:"order_discounts"`
	ProductDiscounts  bool `json:"product_discounts"`
	ShippingDiscounts bool `json:"shipping_discounts"`
}

// Preview is what the shopper sees.
type Preview struct {
	Title       string `json:"title"`
	Description string `json:"description,omitempty"`
	// Visible: listed to shoppers (qualification endpoint, checkout message).
	Visible bool `json:"visible"`
	// UnlockMessage is shown when the cart is close to a threshold. "{amount}" is replaced by
	// what is missing and "{title}" by the title. Empty means the default wording.
	UnlockMessage string `json:"unlock_message,omitempty"`
}

// DiscountClass is the platform's discount class.
type DiscountClass string

const (
	ClassOrder    DiscountClass = "ORDER"
	ClassProduct  DiscountClass = "PRODUCT"
	ClassShipping DiscountClass = "SHIPPING"
)

// Classes derives the platform discount classes from the value, so the class can never
// disagree with what the offer actually discounts.
func (o *Offer) Classes() []DiscountClass {
	v := &o.Value
	switch v.Kind {
	case ValueFreeShipping:
		return []DiscountClass{ClassShipping}
	case ValueBuyXGetY:
		return []DiscountClass{ClassProduct}
	case ValueTiered:
		var classes []DiscountClass
		monetary, shipping := false, false
		for _, t := range v.Tiers {
			monetary = monetary || t.Kind == ValuePercentage || t.Kind == ValueFixed
			shipping = shipping || t.FreeShipping || t.Kind == ValueFreeShipping
		}
		if monetary {
			classes = append(classes, o.itemClass())
		}
		if shipping {
			classes = append(classes, ClassShipping)
		}
		return classes
	default:
		return []DiscountClass{o.itemClass()}
	}
}

// itemClass is ORDER when the discount is taken off the order subtotal and PRODUCT when it
// is taken off chosen items.
func (o *Offer) itemClass() DiscountClass {
	if o.Value.MaxTargetQuantity > 0 {
		return ClassProduct
	}
	if t := o.Value.Targets; t != nil {
		if t.Scope != ScopeAll {
			return ClassProduct
		}
		return ClassOrder
	}
	if o.Condition.Qualifying.Scope != "" && o.Condition.Qualifying.Scope != ScopeAll {
		return ClassProduct
	}
	return ClassOrder
}

// HasClass reports whether the offer discounts in class c.
func (o *Offer) HasClass(c DiscountClass) bool {
	for _, x := range o.Classes() {
		if x == c {
			return true
		}
	}
	return false
}

// Lifecycle is the status a merchant sees at time now: the stored status, with an active
// offer shown as scheduled before its start and expired after its end.
func (o *Offer) Lifecycle(now time.Time) Status {
	if o.Status != StatusActive {
		return o.Status
	}
	if o.Schedule.StartsAt != nil && now.Before(*o.Schedule.StartsAt) {
		return StatusScheduled
	}
	if o.Schedule.EndsAt != nil && !now.Before(*o.Schedule.EndsAt) {
		return StatusExpired
	}
	return StatusActive
}

// IsCode reports whether a shopper must enter a code.
func (o *Offer) IsCode() bool {
	return o.Application.Kind == ApplyCode || o.Application.Kind == ApplyCodes
}

// NormalizeCode is the one spelling of a code used for comparison: trimmed, upper case.
func NormalizeCode(code string) string {
	return strings.ToUpper(strings.TrimSpace(code))
}

// Segment is a merchant-defined group of customers with a priority. A customer who matches
// several segments gets only the offers of the highest-priority one.
type Segment struct {
	ID       string `json:"id"`
	Name     string `json:"name"`
	Priority int    `json:"priority"` // higher wins
	// Rules must all hold.
	Rules SegmentRules `json:"rules"`
}

// SegmentRules describe who is in a segment. Empty lists are not checked.
type SegmentRules struct {
	CustomerTags []string `json:"customer_tags,omitempty"` // any of
	// Delivery location of the current cart: any listed city, postcode (prefix) or country.
	Cities    []string `json:"cities,omitempty"`
	Postcodes []string `json:"postcodes,omitempty"`
	Countries []string `json:"countries,omitempty"` // ISO 3166 alpha-2
	// DeliveryMethods: the cart's selected delivery option matches one of these (its title,
	// code or method type, compared case-insensitively).
	DeliveryMethods []string `json:"delivery_methods,omitempty"`
	// History the customer must have (order count, spend, products bought, past delivery method).
	Behaviour *Behaviour `json:"behaviour,omitempty"`
}
