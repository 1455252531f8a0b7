package app

import (
	"context"
	"errors"
	"sync"

	"github.com/regularsapp/regulars/discountfn"
)

// ErrUnknownShop is returned by a CheckoutSource for a shop it holds nothing for (never
// installed, or uninstalled).
var ErrUnknownShop = errors.New("unknown shop")

// CheckoutSource is what the checkout endpoint reads: a shop's compiled offers and codes, and
// what is known of a buyer. Both must be fast (served from memory) and honour ctx, because
// the endpoint answers "no discount" when they are late.
type CheckoutSource interface {
	// Checkout returns the shop's offer set and its book of unique codes (nil when no offer
	// uses unique codes). It returns ErrUnknownShop for a shop it knows nothing of.
	Checkout(ctx context.Context, shop string) (*discountfn.OfferSet, discountfn.CodeBook, error)
	// Facts returns the buyer's purchase history and offer usage in shop. An unknown buyer
	// has zero facts, which is not an error.
	Facts(ctx context.Context, shop string, buyer discountfn.Buyer) (discountfn.Facts, error)
}

// MemorySource is a CheckoutSource held in maps, for tests and development runs. It is safe
// for concurrent use. What is set must not be modified afterwards: the engine reads it from
// many requests at once.
type MemorySource struct {
	mu     sync.RWMutex
	offers map[string]shopOffers
	facts  map[buyerKey]discountfn.Facts
}

type shopOffers struct {
	set   *discountfn.OfferSet
	codes discountfn.CodeBook
}

// buyerKey is one identity key of a buyer in a shop (see discountfn.Buyer.IdentityKeys).
type buyerKey struct {
	shop     string
	identity string
}

// NewMemorySource returns an empty MemorySource.
func NewMemorySource() *MemorySource {
	return &MemorySource{
		offers: map[string]shopOffers{},
		facts:  map[buyerKey]discountfn.Facts{},
	}
}

// SetOffers replaces shop's offer set and code book (codes may be nil).
func (m *MemorySource) SetOffers(shop string, set *discountfn.OfferSet, codes discountfn.CodeBook) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.offers[shop] = shopOffers{set: set, codes: codes}
}

// SetFacts replaces what is known of buyer in shop, under each of the buyer's identity keys,
// so a checkout that names the buyer by any one of them finds the facts.
func (m *MemorySource) SetFacts(shop string, buyer discountfn.Buyer, facts discountfn.Facts) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, k := range buyer.IdentityKeys() {
		m.facts[buyerKey{shop: shop, identity: k}] = facts
	}
}

// Checkout implements CheckoutSource.
func (m *MemorySource) Checkout(ctx context.Context, shop string) (*discountfn.OfferSet, discountfn.CodeBook, error) {
	if err := ctx.Err(); err != nil {
		return nil, nil, err
	}
	m.mu.RLock()
	defer m.mu.RUnlock()
	o, ok := m.offers[shop]
	if !ok || o.set == nil {
		return nil, nil, ErrUnknownShop
	}
	return o.set, o.codes, nil
}

// Facts implements CheckoutSource.
func (m *MemorySource) Facts(ctx context.Context, shop string, buyer discountfn.Buyer) (discountfn.Facts, error) {
	if err := ctx.Err(); err != nil {
		return discountfn.Facts{}, err
	}
	m.mu.RLock()
	defer m.mu.RUnlock()
	// The customer id is the most specific key, so it is tried first.
	for _, k := range buyer.IdentityKeys() {
		if f, ok := m.facts[buyerKey{shop: shop, identity: k}]; ok {
			return f, nil
		}
	}
	return discountfn.Facts{}, nil
}
