package discountfn

import "time"

// Target is which run target is asking: the cart lines (product and order discounts) or the
// delivery options (shipping discounts).
type Target string

const (
	TargetCartLines       Target = "cart_lines"
	TargetDeliveryOptions Target = "delivery_options"
)

// Request is one evaluation: a cart, who is buying, what we know of them, and when.
type Request struct {
	Input  *Input
	Target Target
	// OfferID is the offer behind the calling platform discount. The whole offer set is
	// evaluated so cross-offer rules hold; Operations then carry only this offer's share.
	// Empty means all applied offers (the admin simulator and the local stand-in).
	OfferID string
	Facts   Facts
	Codes   CodeBook // may be nil when no offer uses unique codes
	Now     time.Time
	// Explain evaluates every offer, not only those the cart can trigger, so the admin's
	// simulator can say why each one did not apply.
	Explain bool
	// NoHints leaves Result.Hints empty: the checkout's answer carries operations only, and
	// working out how close the cart is to each threshold was 7% of its CPU.
	NoHints bool
}

// Result is the answer: the operations for the platform, and for every offer whether it
// applied or why not.
type Result struct {
	Operations []Operation `json:"operations"`
	Outcomes   []Outcome   `json:"outcomes"`
	Hints      []Hint      `json:"hints,omitempty"`
	Currency   string      `json:"currency"`
}

// RunResult is the platform-facing part of the result.
func (r *Result) RunResult() RunResult {
	ops := r.Operations
	if ops == nil {
		ops = []Operation{}
	}
	return RunResult{Operations: ops}
}

// Outcome explains one offer.
type Outcome struct {
	OfferID string          `json:"offer_id"`
	Title   string          `json:"title"`
	Classes []DiscountClass `json:"classes"`
	Applied bool            `json:"applied"`
	Reason  Reason          `json:"reason,omitempty"`
	Detail  string          `json:"detail,omitempty"`
	Code    string          `json:"code,omitempty"`
	// Amount is the item discount (product or order) in the cart currency's minor units.
	Amount Money `json:"amount"`
	// Lines splits Amount over the cart lines. It is filled for the calling offer, and for
	// every offer when the request explains or names no offer.
	Lines []LineAllocation `json:"lines,omitempty"`
	// ShippingAmount is the shipping discount, per delivery option in Delivery.
	ShippingAmount Money                `json:"shipping_amount"`
	Delivery       []DeliveryAllocation `json:"delivery,omitempty"`
}

// LineAllocation is the share of a discount taken off one cart line.
type LineAllocation struct {
	LineID   string `json:"line_id"`
	Quantity int    `json:"quantity"` // discounted units
	Amount   Money  `json:"amount"`
}

// DeliveryAllocation is a delivery option made cheaper.
type DeliveryAllocation struct {
	GroupID string `json:"group_id"`
	Handle  string `json:"handle"`
	Amount  Money  `json:"amount"`
}

// Hint tells the shopper how close they are to an offer ("spend 5.00 more").
type Hint struct {
	OfferID string `json:"offer_id"`
	Title   string `json:"title"`
	// MissingAmount (cart currency minor units) or MissingQuantity, whichever is short.
	MissingAmount   Money  `json:"missing_amount,omitempty"`
	MissingQuantity int    `json:"missing_quantity,omitempty"`
	Message         string `json:"message"`
}

// Reason says why an offer did not apply. The set is closed so the admin can explain each.
type Reason string

const (
	ReasonNotActive          Reason = "not_active"            // draft, paused or archived
	ReasonScheduled          Reason = "scheduled"             // before its start
	ReasonExpired            Reason = "expired"               // after its end
	ReasonCodeNotEntered     Reason = "code_not_entered"      // code offer, no code of it entered
	ReasonCodeNotForCustomer Reason = "code_not_for_customer" // code issued to someone else
	ReasonCodeUsed           Reason = "code_used"             // single-use code already used
	ReasonNotEligible        Reason = "customer_not_eligible" // not in the customer list / tags
	ReasonNoCustomer         Reason = "customer_unknown"      // offer needs a known customer
	ReasonSegmentNotMatched  Reason = "segment_not_matched"
	ReasonLowerSegment       Reason = "lower_priority_segment" // in a higher segment too
	ReasonBehaviour          Reason = "purchase_behaviour_not_met"
	ReasonNotFirstOrder      Reason = "not_first_order"
	ReasonOrderNumber        Reason = "order_number_out_of_range"
	ReasonSubtotalTooLow     Reason = "cart_subtotal_below_minimum"
	ReasonSubtotalTooHigh    Reason = "cart_subtotal_above_maximum"
	ReasonQuantityTooLow     Reason = "cart_quantity_below_minimum"
	ReasonQuantityTooHigh    Reason = "cart_quantity_above_maximum"
	ReasonNoTargets          Reason = "no_target_items"
	ReasonNoShipping         Reason = "no_eligible_shipping"
	ReasonTotalLimit         Reason = "usage_limit_reached"
	ReasonCustomerLimit      Reason = "customer_limit_reached"
	ReasonDailyLimit         Reason = "daily_limit_reached"
	ReasonBlocked            Reason = "identity_blocked"
	ReasonExclusive          Reason = "excluded_by_exclusive_offer"
	ReasonNotCombinable      Reason = "does_not_combine"
	ReasonNothingLeft        Reason = "nothing_left_to_discount"
	ReasonZero               Reason = "zero_discount"
	ReasonWrongClass         Reason = "class_not_on_discount" // calling discount lacks the class
)
