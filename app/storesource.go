package app

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"golang.org/x/sync/singleflight"

	"github.com/regularsapp/regulars/discountfn"
	"github.com/regularsapp/regulars/store"
)

// StoreSource serves the checkout from the database, through two in-memory caches kept
// coherent by the store's change notices (store.Listen: PostgreSQL LISTEN/NOTIFY across
// processes, in-process on SQLite):
//
//   - a shop's compiled offer set, reused until a notice says the shop's offers changed. A
//     notice starts one compile in the background, and checkouts keep the previous set until
//     it is ready: compiling thousands of offers inside each checkout's deadline, once per
//     concurrent checkout, would miss the deadline right after every edit. Only a shop's
//     first checkout waits, and concurrent ones share its compile;
//   - buyers' facts (history, their own usage, block list), reused until a notice says the
//     shop's orders, ledger, block list or settings changed;
//   - a shop's usage of its offers (totals and recent days, the same for every buyer:
//     thousands of rows in a large shop), reused until such a notice too. It is read once per
//     change for everyone, with a timeout of its own: read per buyer inside each checkout's
//     deadline, a 10,000-offer shop under load timed out every read and never warmed up.
//
// While Watch is not listening (not started, or its connection failed), the offer set is
// checked against the shop's offer-set version on every call (one small query) and facts are
// read per call, as without caches. Entries also expire after maxCacheAge, which bounds the
// staleness a lost notice could cause (a process that died between its commit and its notice).
type StoreSource struct {
	st *store.Store

	mu        sync.Mutex
	listening bool
	gen       map[cacheKey]uint64 // bumped by each notice
	sets      map[string]compiledShop
	facts     map[factsKey]cachedFacts
	now       func() time.Time
	usage     map[string]cachedUsage
	compiles  singleflight.Group // by shop
	usageRead singleflight.Group // by shop
}

type cachedUsage struct {
	gen   uint64
	at    time.Time
	usage discountfn.Usage
}

// cacheKey is one shop's cache of one kind.
type cacheKey struct {
	shop string
	kind store.ChangeKind
}

type compiledShop struct {
	version string // the offer-set version it was compiled at ("" when loaded while listening)
	gen     uint64
	at      time.Time
	set     *discountfn.OfferSet
}

type factsKey struct {
	shop  string
	buyer discountfn.Buyer
}

type cachedFacts struct {
	gen   uint64
	at    time.Time
	facts discountfn.Facts
}

const (
	// compileTimeout bounds one compile, which runs for every caller waiting on it and so
	// outlives any one checkout's deadline.
	compileTimeout = 30 * time.Second
	// maxCacheAge bounds how long an entry is trusted without a notice.
	maxCacheAge = 30 * time.Second
	// maxCachedFacts bounds the facts cache; when it is full, entries are dropped at random.
	maxCachedFacts = 200_000
)

// NewStoreSource serves checkouts from st.
func NewStoreSource(st *store.Store) *StoreSource {
	return &StoreSource{st: st, gen: map[cacheKey]uint64{}, sets: map[string]compiledShop{},
		facts: map[factsKey]cachedFacts{}, usage: map[string]cachedUsage{}, now: time.Now}
}

// Watch listens to the store's change notices until ctx ends, serving from the caches while
// it listens. When listening fails it falls back to per-call reads and tries again after a
// pause.
func (s *StoreSource) Watch(ctx context.Context, logger *slog.Logger) {
	for ctx.Err() == nil {
		err := s.st.Listen(ctx, func() {
			s.mu.Lock()
			// Whatever was cached before listening may have missed notices.
			s.sets, s.facts, s.usage = map[string]compiledShop{}, map[factsKey]cachedFacts{}, map[string]cachedUsage{}
			s.listening = true
			s.mu.Unlock()
		}, s.changed)
		s.mu.Lock()
		s.listening = false
		s.mu.Unlock()
		if ctx.Err() != nil {
			return
		}
		logger.WarnContext(ctx, "checkout caches: listening for changes failed; reading per call until it works again",
			slog.Any("error", err))
		select {
		case <-ctx.Done():
			return
		case <-time.After(time.Second):
		}
	}
}

// changed records a notice: entries of the shop and kind loaded before it are stale. A shop
// whose offer set is cached gets it compiled again now, before its next checkout asks.
func (s *StoreSource) changed(c store.Change) {
	s.mu.Lock()
	s.gen[cacheKey{c.Shop, c.Kind}]++
	_, cached := s.sets[c.Shop]
	s.mu.Unlock()
	if cached && c.Kind == store.ChangeOffers {
		s.compiles.DoChan(c.Shop, func() (any, error) { return s.compileAndKeep(c.Shop) })
	}
}

// Checkout implements CheckoutSource.
func (s *StoreSource) Checkout(ctx context.Context, shop string) (*discountfn.OfferSet, discountfn.CodeBook, error) {
	s.mu.Lock()
	listening := s.listening
	gen := s.gen[cacheKey{shop, store.ChangeOffers}]
	cached, ok := s.sets[shop]
	s.mu.Unlock()
	book := &storeCodeBook{ctx: ctx, st: s.st, shop: shop}
	if listening && ok && cached.version == "" {
		if cached.gen != gen || s.now().Sub(cached.at) >= maxCacheAge {
			// Stale: the previous set serves until the new one is compiled.
			s.compiles.DoChan(shop, func() (any, error) { return s.compileAndKeep(shop) })
		}
		return cached.set, book, nil
	}
	if !listening {
		v, err := s.st.OfferSetVersion(ctx, shop)
		if errors.Is(err, store.ErrNotFound) {
			return nil, nil, ErrUnknownShop
		}
		if err != nil {
			return nil, nil, err
		}
		if ok && cached.version == v {
			return cached.set, book, nil
		}
	}
	select {
	case r := <-s.compiles.DoChan(shop, func() (any, error) { return s.compileAndKeep(shop) }):
		if r.Err != nil {
			return nil, nil, r.Err
		}
		return r.Val.(*discountfn.OfferSet), book, nil
	case <-ctx.Done():
		return nil, nil, ctx.Err()
	}
}

// compileAndKeep compiles the shop's offer set and caches it, for every caller waiting on it
// (so within its own timeout, not a caller's deadline). A shop that is gone leaves the cache.
func (s *StoreSource) compileAndKeep(shop string) (*discountfn.OfferSet, error) {
	ctx, cancel := context.WithTimeout(context.Background(), compileTimeout)
	defer cancel()
	s.mu.Lock()
	listening := s.listening
	gen := s.gen[cacheKey{shop, store.ChangeOffers}]
	s.mu.Unlock()
	version := ""
	if !listening {
		v, err := s.st.OfferSetVersion(ctx, shop)
		if errors.Is(err, store.ErrNotFound) {
			err = ErrUnknownShop
		}
		if err != nil {
			s.forget(shop, err)
			return nil, err
		}
		version = v
	}
	// Compiled after reading gen (and the version): a change committed meanwhile bumps gen
	// (or the version) again, so this entry cannot hide it.
	at := s.now()
	set, err := s.compile(ctx, shop)
	if err != nil {
		s.forget(shop, err)
		return nil, err
	}
	s.mu.Lock()
	s.sets[shop] = compiledShop{version: version, gen: gen, at: at, set: set}
	s.mu.Unlock()
	return set, nil
}

// forget drops a shop's cached set when err says the shop is gone (uninstalled); after other
// errors (the database away) the set it had keeps serving.
func (s *StoreSource) forget(shop string, err error) {
	if errors.Is(err, ErrUnknownShop) {
		s.mu.Lock()
		delete(s.sets, shop)
		s.mu.Unlock()
	}
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

// Facts implements CheckoutSource: the buyer's own facts and the shop's usage, each from its
// cache. Cached facts are shared between calls: the engine only reads them.
func (s *StoreSource) Facts(ctx context.Context, shop string, buyer discountfn.Buyer) (discountfn.Facts, error) {
	// The shop's usage first: its read, once started, goes on for the next checkouts even if
	// this one gives up.
	usage, err := s.shopUsage(ctx, shop)
	if err != nil {
		return discountfn.Facts{}, err
	}
	facts, err := s.buyerFacts(ctx, shop, buyer)
	if err != nil {
		return discountfn.Facts{}, err
	}
	facts.Usage = usage
	return facts, nil
}

// buyerFacts is store.BuyerFacts through the per-buyer cache.
func (s *StoreSource) buyerFacts(ctx context.Context, shop string, buyer discountfn.Buyer) (discountfn.Facts, error) {
	key := factsKey{shop, buyer}
	s.mu.Lock()
	listening := s.listening
	gen := s.gen[cacheKey{shop, store.ChangeFacts}]
	cached, ok := s.facts[key]
	s.mu.Unlock()
	now := s.now()
	if listening && ok && cached.gen == gen && now.Sub(cached.at) < maxCacheAge {
		return cached.facts, nil
	}
	facts, err := s.st.BuyerFacts(ctx, shop, buyer)
	if err != nil || !listening {
		return facts, err
	}
	s.mu.Lock()
	if len(s.facts) >= maxCachedFacts {
		for k := range s.facts { // map order is random enough to spread the evictions
			delete(s.facts, k)
			if len(s.facts) < maxCachedFacts*9/10 {
				break
			}
		}
	}
	s.facts[key] = cachedFacts{gen: gen, at: now, facts: facts}
	s.mu.Unlock()
	return facts, nil
}

// shopUsage is store.ShopUsage through the per-shop cache: one read at a time per shop,
// shared by the checkouts waiting for it and finished even when they give up.
func (s *StoreSource) shopUsage(ctx context.Context, shop string) (discountfn.Usage, error) {
	s.mu.Lock()
	listening := s.listening
	gen := s.gen[cacheKey{shop, store.ChangeFacts}]
	cached, ok := s.usage[shop]
	s.mu.Unlock()
	if listening && ok && cached.gen == gen && s.now().Sub(cached.at) < maxCacheAge {
		return cached.usage, nil
	}
	if !listening {
		return s.st.ShopUsage(ctx, shop)
	}
	read := s.usageRead.DoChan(shop, func() (any, error) {
		readCtx, cancel := context.WithTimeout(context.Background(), compileTimeout)
		defer cancel()
		at := s.now()
		// gen is read again here, before the read: a change committed meanwhile bumps it.
		s.mu.Lock()
		gen := s.gen[cacheKey{shop, store.ChangeFacts}]
		s.mu.Unlock()
		usage, err := s.st.ShopUsage(readCtx, shop)
		if err != nil {
			return nil, err
		}
		s.mu.Lock()
		s.usage[shop] = cachedUsage{gen: gen, at: at, usage: usage}
		s.mu.Unlock()
		return usage, nil
	})
	select {
	case r := <-read:
		if r.Err != nil {
			return discountfn.Usage{}, r.Err
		}
		return r.Val.(discountfn.Usage), nil
	case <-ctx.Done():
		return discountfn.Usage{}, ctx.Err()
	}
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
