package discountfn

// The run targets' result types (schema 2025-04: CartLinesDiscountsGenerateRunResult and
// CartDeliveryOptionsDiscountsGenerateRunResult). Field names and optionality follow the
// schema exactly; outputs are validated against it in tests.

// MaxOutputBytes is the platform's cap on a function's output; an answer above it is dropped.
const MaxOutputBytes = 20_000

// RunResult is the JSON both run targets return: {"operations": [...]}.
type RunResult struct {
	Operations []Operation `json:"operations"`
}

// Operation is a oneOf: exactly one field is set.
type Operation struct {
	EnteredDiscountCodesAccept *EnteredDiscountCodesAccept `json:"enteredDiscountCodesAccept,omitempty"`
	OrderDiscountsAdd          *OrderDiscountsAdd          `json:"orderDiscountsAdd,omitempty"`
	ProductDiscountsAdd        *ProductDiscountsAdd        `json:"productDiscountsAdd,omitempty"`
	DeliveryDiscountsAdd       *DeliveryDiscountsAdd       `json:"deliveryDiscountsAdd,omitempty"`
}

// EnteredDiscountCodesAccept accepts entered codes.
type EnteredDiscountCodesAccept struct {
	Codes []DiscountCode `json:"codes"`
}

// DiscountCode is one code.
type DiscountCode struct {
	Code string `json:"code"`
}

// OrderDiscountsAdd adds order discounts.
type OrderDiscountsAdd struct {
	Candidates        []OrderCandidate `json:"candidates"`
	SelectionStrategy string           `json:"selectionStrategy"` // FIRST | MAXIMUM
}

// OrderCandidate is one order discount.
type OrderCandidate struct {
	AssociatedDiscountCode *DiscountCode    `json:"associatedDiscountCode,omitempty"`
	Message                string           `json:"message,omitempty"`
	Targets                []OrderTarget    `json:"targets"`
	Value                  CandidateValue   `json:"value"`
	Conditions             []OrderCondition `json:"conditions,omitempty"`
}

// OrderTarget is a oneOf with one member.
type OrderTarget struct {
	OrderSubtotal *OrderSubtotalTarget `json:"orderSubtotal,omitempty"`
}

// OrderSubtotalTarget discounts the subtotal minus excluded lines.
type OrderSubtotalTarget struct {
	ExcludedCartLineIDs []string `json:"excludedCartLineIds"`
}

// OrderCondition is a oneOf of order conditions; we only emit the minimum subtotal.
type OrderCondition struct {
	OrderMinimumSubtotal *OrderMinimumSubtotal `json:"orderMinimumSubtotal,omitempty"`
}

// OrderMinimumSubtotal guards an order discount.
type OrderMinimumSubtotal struct {
	ExcludedCartLineIDs []string `json:"excludedCartLineIds"`
	MinimumAmount       string   `json:"minimumAmount"`
}

// CandidateValue is a oneOf: a fixed amount or a percentage.
type CandidateValue struct {
	FixedAmount *FixedAmount    `json:"fixedAmount,omitempty"`
	Percentage  *PercentageJSON `json:"percentage,omitempty"`
}

// FixedAmount is an amount in the cart's currency, as a decimal string.
type FixedAmount struct {
	Amount            string `json:"amount"`
	AppliesToEachItem *bool  `json:"appliesToEachItem,omitempty"` // product candidates only
}

// PercentageJSON is a percentage value, as a decimal string.
type PercentageJSON struct {
	Value string `json:"value"`
}

// ProductDiscountsAdd adds product discounts.
type ProductDiscountsAdd struct {
	Candidates        []ProductCandidate `json:"candidates"`
	SelectionStrategy string             `json:"selectionStrategy"` // ALL | FIRST | MAXIMUM
}

// ProductCandidate is one product discount.
type ProductCandidate struct {
	AssociatedDiscountCode *DiscountCode   `json:"associatedDiscountCode,omitempty"`
	Message                string          `json:"message,omitempty"`
	Targets                []ProductTarget `json:"targets"`
	Value                  CandidateValue  `json:"value"`
}

// ProductTarget is a oneOf with one member.
type ProductTarget struct {
	CartLine *CartLineTarget `json:"cartLine,omitempty"`
}

// CartLineTarget targets some units of a line.
type CartLineTarget struct {
	ID       string `json:"id"`
	Quantity *int   `json:"quantity,omitempty"`
}

// DeliveryDiscountsAdd adds delivery discounts.
type DeliveryDiscountsAdd struct {
	Candidates        []DeliveryCandidate `json:"candidates"`
	SelectionStrategy string              `json:"selectionStrategy"` // ALL
}

// DeliveryCandidate is one delivery discount.
type DeliveryCandidate struct {
	AssociatedDiscountCode *DiscountCode    `json:"associatedDiscountCode,omitempty"`
	Message                string           `json:"message,omitempty"`
	Targets                []DeliveryTarget `json:"targets"`
	Value                  CandidateValue   `json:"value"`
}

// DeliveryTarget is a oneOf: a delivery group or one delivery option.
type DeliveryTarget struct {
	DeliveryGroup  *DeliveryGroupTarget  `json:"deliveryGroup,omitempty"`
	DeliveryOption *DeliveryOptionTarget `json:"deliveryOption,omitempty"`
}

// DeliveryGroupTarget targets a whole delivery group.
type DeliveryGroupTarget struct {
	ID string `json:"id"`
}

// DeliveryOptionTarget targets one delivery option.
type DeliveryOptionTarget struct {
	Handle string `json:"handle"`
}
