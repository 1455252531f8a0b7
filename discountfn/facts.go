package discountfn

import "time"

// Facts is what the engine knows about the buyer beyond the cart: purchase history and the
// recorded usage of offers. The caller loads them (from memory, kept coherent with the store);
// the engine only reads them.
type Facts struct {
	History History `json:"history"`
	Usage   Usage   `json:"usage"`
	// BuyerUsage counts this buyer's redemptions per offer and identity key, for a loader
	// that keeps them apart from Usage so that one Usage (totals and days, the same for every
	// buyer: thousands of offers in a large shop) can be shared by every buyer's facts. An
	// offer's per-customer count for a key is the larger of Usage's ByIdentity and this.
	BuyerUsage map[string]map[string]int `json:"buyer_usage,omitempty"`
	// Blocked lists identity keys (see IdentityKeys) that may use no offer.
	Blocked map[string]bool `json:"blocked,omitempty"`
}

// History is the buyer's past orders that the shop's settings count (test orders, cancelled
// and fully refunded orders and unpaid cash-on-delivery orders are left out by the loader,
// per the shop's settings). Orders are in any order.
type History struct {
	Orders []PastOrder `json:"orders"`
}

// PastOrder is one counted past order, reduced to what offers can ask about.
type PastOrder struct {
	PlacedAt time.Time `json:"placed_at"`
	// NetSpend is the order total in the shop's currency, net of refunds, in minor units.
	NetSpend Money `json:"net_spend"`
	// Codes are the discount codes used, normalized with NormalizeCode.
	Codes []string `json:"codes,omitempty"`
	// ProductIDs holds product and variant GIDs bought; CollectionIDs the collections they
	// were in when bought.
	ProductIDs    []string `json:"product_ids,omitempty"`
	CollectionIDs []string `json:"collection_ids,omitempty"`
	// DeliveryMethod is the shipping line's title or code ("Royal Mail").
	DeliveryMethod string `json:"delivery_method,omitempty"`
}

// Usage is the recorded redemptions of the shop's offers, counted from orders.
type Usage struct {
	Offers map[string]OfferUsage `json:"offers,omitempty"`
}

// OfferUsage is the redemptions of one offer.
type OfferUsage struct {
	Total int `json:"total"`
	// ByDay counts redemptions per shop-local date ("2026-11-23").
	ByDay map[string]int `json:"by_day,omitempty"`
	// ByIdentity counts redemptions per identity key (see IdentityKeys).
	ByIdentity map[string]int `json:"by_identity,omitempty"`
}

// CodeBook finds the offer behind a code of a many-codes offer. Shared codes live in the
// offer itself; unique codes (up to hundreds of thousands) live here.
type CodeBook interface {
	// Lookup takes a normalized code.
	Lookup(code string) (CodeEntry, bool)
}

// CodeEntry is one unique code.
type CodeEntry struct {
	OfferID string `json:"offer_id"`
	// CustomerID, when set, is the only customer who may use the code.
	CustomerID string `json:"customer_id,omitempty"`
	// SingleUse codes work once; Used says whether that once has happened.
	SingleUse bool `json:"single_use,omitempty"`
	Used      bool `json:"used,omitempty"`
}

// MapCodeBook is a CodeBook held in a map keyed by normalized code.
type MapCodeBook map[string]CodeEntry

// Lookup implements CodeBook.
func (m MapCodeBook) Lookup(code string) (CodeEntry, bool) {
	e, ok := m[code]
	return e, ok
}

// Settings are the shop-wide facts the engine needs.
type Settings struct {
	// Currency is the shop's currency, in which offer amounts are written.
	Currency string
	// Location is the shop's timezone, for per-day caps.
	Location *time.Location
}
