package discountfn

import (
	"encoding/json"
	"slices"
	"strings"
)

// Cash-on-delivery control: the platform's payment customization contract (target
// cart.payment-methods.transform.run). When the cart carries one of our discounts whose offer
// has Limits.DisableCashOnDelivery, the shop's cash-on-delivery payment methods are hidden.
// Which discounts the cart carries is read from the discount applications' configuration
// metafield (DiscountConfig), the same document the discount function reads.

// PaymentInput is the payment customization function's input, reduced to what we read.
type PaymentInput struct {
	Cart           PaymentCart     `json:"cart"`
	PaymentMethods []PaymentMethod `json:"paymentMethods"`
}

// PaymentCart is the cart: the discounts applied to it as a whole and to each line.
type PaymentCart struct {
	DiscountApplications []PaymentDiscount `json:"discountApplications"`
	Lines                []PaymentLine     `json:"lines"`
	DeliveryGroups       []PaymentGroup    `json:"deliveryGroups"`
}

// PaymentLine is a cart line's discount allocations.
type PaymentLine struct {
	DiscountAllocations []PaymentAllocation `json:"discountAllocations"`
}

// PaymentGroup is a delivery group's discount allocations (shipping discounts).
type PaymentGroup struct {
	DiscountAllocations []PaymentAllocation `json:"discountAllocations"`
}

// PaymentAllocation is one discount's share of a line or delivery group.
type PaymentAllocation struct {
	DiscountApplication PaymentDiscount `json:"discountApplication"`
}

// PaymentDiscount is an applied discount with its configuration metafield, when it is ours.
type PaymentDiscount struct {
	Metafield *Metafield `json:"metafield"`
}

// PaymentMethod is one payment method offered at checkout.
type PaymentMethod struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// PaymentRunResult is the target's result: {"operations": [...]}.
type PaymentRunResult struct {
	Operations []PaymentOperation `json:"operations"`
}

// PaymentOperation is a oneOf; we only hide.
type PaymentOperation struct {
	PaymentMethodHide *PaymentMethodHide `json:"paymentMethodHide,omitempty"`
}

// PaymentMethodHide hides one payment method in every placement.
type PaymentMethodHide struct {
	PaymentMethodID string `json:"paymentMethodId"`
}

// PaymentDecision is what HideCashOnDelivery decided and why.
type PaymentDecision struct {
	Result PaymentRunResult
	// Offers are the applied offers that switch cash on delivery off, in the order found.
	Offers []string
	// Hidden are the names of the hidden payment methods.
	Hidden []string
}

// HideCashOnDelivery hides every payment method whose name is one of codNames (compared
// without case and surrounding space) when a discount applied to the cart belongs to an
// offer of s that disables cash on delivery. Discounts that are not ours, or whose offer no
// longer exists, are ignored. The result always has a non-nil operation list.
func (s *OfferSet) HideCashOnDelivery(in *PaymentInput, codNames []string) PaymentDecision {
	d := PaymentDecision{Result: PaymentRunResult{Operations: []PaymentOperation{}}}
	consider := func(pd PaymentDiscount) {
		id := configOfferID(pd.Metafield)
		if id == "" || slices.Contains(d.Offers, id) {
			return
		}
		if o, ok := s.byID[id]; ok && o.Limits.DisableCashOnDelivery {
			d.Offers = append(d.Offers, id)
		}
	}
	for _, pd := range in.Cart.DiscountApplications {
		consider(pd)
	}
	for _, l := range in.Cart.Lines {
		for _, a := range l.DiscountAllocations {
			consider(a.DiscountApplication)
		}
	}
	for _, g := range in.Cart.DeliveryGroups {
		for _, a := range g.DiscountAllocations {
			consider(a.DiscountApplication)
		}
	}
	if len(d.Offers) == 0 {
		return d
	}
	for _, m := range in.PaymentMethods {
		if m.ID != "" && IsCashOnDelivery(m.Name, codNames) {
			d.Result.Operations = append(d.Result.Operations, PaymentOperation{PaymentMethodHide: &PaymentMethodHide{PaymentMethodID: m.ID}})
			d.Hidden = append(d.Hidden, m.Name)
		}
	}
	return d
}

// IsCashOnDelivery reports whether a payment method or gateway name is one of codNames,
// without regard to case or surrounding space.
func IsCashOnDelivery(name string, codNames []string) bool {
	name = strings.TrimSpace(name)
	return name != "" && slices.ContainsFunc(codNames, func(c string) bool { return strings.EqualFold(strings.TrimSpace(c), name) })
}

// configOfferID is the offer id in a discount's configuration metafield, or "" when the
// metafield is missing or not ours.
func configOfferID(m *Metafield) string {
	if m == nil {
		return ""
	}
	raw := m.JSONValue
	if len(raw) == 0 || string(raw) == "null" {
		raw = json.RawMessage(m.Value)
	}
	var cfg DiscountConfig
	if len(raw) == 0 || json.Unmarshal(raw, &cfg) != nil {
		return ""
	}
	return cfg.OfferID
}
