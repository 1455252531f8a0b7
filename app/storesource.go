package app

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/regularsapp/regulars/discountfn"
	"github.com/regularsapp/regulars/store"
)

// StoreSource serves the checkout from the database. A shop's offers are compiled into an
// offer set once and reused while the shop's offer-set version (one small indexed query per
// call) is unchanged, so an edit made by any process is seen by the next checkout; a buyer's
// facts are read per call.
type StoreSource struct {
	st *store.Store

	mu   sync.Mutex
	sets map[string]compiledShop
}

type compiledShop struct {
	version string
	set     *discountfn.OfferSet
}

// NewStoreSource serves checkouts from st.
func NewStoreSource(st *store.Store) *StoreSource {
	return &StoreSource{st: st, sets: map[string]compiledShop{}}
}

// Checkout implements CheckoutSource.
func (s *StoreSource) Checkout(ctx context.Context, shop string) (*discountfn.OfferSet, discountfn.CodeBook, error) {
	version, err := s.st.OfferSetVersion(ctx, shop)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil, ErrUnknownShop
	}
	if err != nil {
		return nil, nil, err
	}
	s.mu.Lock()
	cached, ok := s.sets[shop]
	s.mu.Unlock()
	if !ok || cached.version != version {
		set, err := s.compile(ctx, shop)
		if err != nil {
			return nil, nil, err
		}
		cached = compiledShop{version: version, set: set}
		s.mu.Lock()
		s.sets[shop] = cached
		s.mu.Unlock()
	}
	return cached.set, &storeCodeBook{ctx: ctx, st: s.st, shop: shop}, nil
}

// compile loads and compiles a shop's offers and segments.
func (s *StoreSource) compile(ctx context.Context, shop string) (*discountfn.OfferSet, error) {
	sh, err := s.st.GetShop(ctx, shop)
	if errors.Is(err, store.ErrNotFound) {
		return nil, ErrUnknownShop
	}
	if err != nil {
		return nil, err
	}
	if sh.UninstalledAt != nil {
		return nil, ErrUnknownShop
	}
	loc, err := time.LoadLocation(sh.Timezone)
	if err != nil {
		loc = time.UTC
	}
	rows, err := s.st.ListOffers(ctx, shop, false)
	if err != nil {
		return nil, err
	}
	offers := make([]discountfn.Offer, 0, len(rows))
	for _, r := range rows {
		var o discountfn.Offer
		if err := json.Unmarshal(r.Config, &o); err != nil {
			return nil, fmt.Errorf("offer %q: stored configuration: %w", r.ID, err)
		}
		// The row's status is the lifecycle the merchant last set (pause, resume, archive).
		o.ID, o.Status = r.ID, discountfn.Status(r.Status)
		offers = append(offers, o)
	}
	segRows, err := s.st.ListSegments(ctx, shop)
	if err != nil {
		return nil, err
	}
	segments := make([]discountfn.Segment, 0, len(segRows))
	for _, r := range segRows {
		var seg discountfn.Segment
		if err := json.Unmarshal(r.Config, &seg); err != nil {
			return nil, fmt.Errorf("segment %q: stored configuration: %w", r.ID, err)
		}
		seg.ID, seg.Priority = r.ID, r.Priority
		segments = append(segments, seg)
	}
	return discountfn.NewOfferSet(discountfn.Settings{Currency: sh.Currency, Location: loc}, offers, segments)
}

// Facts implements CheckoutSource.
func (s *StoreSource) Facts(ctx context.Context, shop string, buyer discountfn.Buyer) (discountfn.Facts, error) {
	return s.st.Facts(ctx, shop, buyer)
}

// storeCodeBook looks unique codes up in the store, within the checkout call's context. A
// failed lookup is an unknown code: the engine cannot fail a checkout, and the call's own
// deadline bounds the wait.
type storeCodeBook struct {
	ctx  context.Context
	st   *store.Store
	shop string
}

func (b *storeCodeBook) Lookup(code string) (discountfn.CodeEntry, bool) {
	c, err := b.st.LookupCode(b.ctx, b.shop, code)
	if err != nil {
		return discountfn.CodeEntry{}, false
	}
	return discountfn.CodeEntry{OfferID: c.OfferID, CustomerID: c.CustomerID, SingleUse: c.SingleUse, Used: c.Used}, true
}
