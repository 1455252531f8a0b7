package discountfn

import (
	"fmt"
	"sort"
	"strings"
)

// OfferSet is a shop's offers and segments, compiled for evaluation: validated, ordered, and
// indexed by what can trigger them, so a call touches only the offers a cart can reach.
// It is immutable; the caller builds a new one when an offer changes.
type OfferSet struct {
	settings Settings
	offers   []*compiledOffer
	byID     map[string]*compiledOffer
	segments []*Segment // highest priority first
	segIndex map[string]int

	// Indexes. An offer is in exactly one trigger bucket.
	sharedCodes   map[string]*compiledOffer   // normalized shared code -> offer
	uniqueCodes   map[string]*compiledOffer   // id -> offer, for offers whose codes are in the CodeBook
	byProduct     map[string][]*compiledOffer // automatic offers triggered by a product or variant
	byCollection  map[string][]*compiledOffer // automatic offers triggered by a collection
	byCustomer    map[string][]*compiledOffer // automatic offers for listed customers
	byTag         map[string][]*compiledOffer // automatic offers for tagged customers (lower case)
	alwaysOffers  []*compiledOffer            // automatic offers any cart may trigger
	collectionIDs []string                    // every collection any offer or segment names
	customerTags  []string                    // every customer tag any offer or segment names
}

// compiledOffer is an offer with its derived facts precomputed.
type compiledOffer struct {
	Offer
	order   int // position in the set's deterministic order
	classes []DiscountClass
	code    string // normalized shared code

	qual    *matcher // the condition's qualifying items
	targets *matcher // the items discounted (the qualifying items unless targets are set)
	buy     *matcher // buy-x-get-y sets
	get     *matcher
}

// NewOfferSet validates and indexes a shop's offers and segments. It rejects the whole set if
// any offer or segment is invalid, naming each problem.
func NewOfferSet(settings Settings, offers []Offer, segments []Segment) (*OfferSet, error) {
	if settings.Currency == "" {
		return nil, fmt.Errorf("offer set: shop currency is required")
	}
	s := &OfferSet{
		settings:     settings,
		byID:         make(map[string]*compiledOffer, len(offers)),
		segIndex:     make(map[string]int, len(segments)),
		sharedCodes:  map[string]*compiledOffer{},
		uniqueCodes:  map[string]*compiledOffer{},
		byProduct:    map[string][]*compiledOffer{},
		byCollection: map[string][]*compiledOffer{},
		byCustomer:   map[string][]*compiledOffer{},
		byTag:        map[string][]*compiledOffer{},
	}
	segIDs := make(map[string]bool, len(segments))
	for i := range segments {
		if err := segments[i].Validate(); err != nil {
			return nil, fmt.Errorf("segment %q: %w", segments[i].ID, err)
		}
		if segIDs[segments[i].ID] {
			return nil, fmt.Errorf("segment %q: duplicate id", segments[i].ID)
		}
		segIDs[segments[i].ID] = true
		seg := segments[i]
		s.segments = append(s.segments, &seg)
	}
	sort.SliceStable(s.segments, func(i, j int) bool {
		if s.segments[i].Priority != s.segments[j].Priority {
			return s.segments[i].Priority > s.segments[j].Priority
		}
		return s.segments[i].ID < s.segments[j].ID
	})
	for i, seg := range s.segments {
		s.segIndex[seg.ID] = i
	}

	tags := map[string]bool{}
	collections := map[string]bool{}
	for i := range offers {
		o := offers[i]
		if err := o.Validate(); err != nil {
			return nil, fmt.Errorf("offer %q: %w", o.ID, err)
		}
		if _, dup := s.byID[o.ID]; dup {
			return nil, fmt.Errorf("offer %q: duplicate id", o.ID)
		}
		if o.Eligibility.Audience == AudienceSegment && !segIDs[o.Eligibility.SegmentID] {
			return nil, fmt.Errorf("offer %q: eligibility.segment_id: unknown segment %q", o.ID, o.Eligibility.SegmentID)
		}
		c := &compiledOffer{Offer: o, classes: o.Classes(), qual: newMatcher(&o.Condition.Qualifying)}
		c.targets = c.qual
		if o.Value.Targets != nil {
			c.targets = newMatcher(o.Value.Targets)
		}
		if b := o.Value.BuyXGetY; b != nil {
			c.buy, c.get = newMatcher(&b.Buy), newMatcher(&b.Get)
		}
		if o.Application.Kind == ApplyCode {
			c.code = NormalizeCode(o.Application.Code)
			if other, dup := s.sharedCodes[c.code]; dup {
				return nil, fmt.Errorf("offer %q: application.code: %s is already used by offer %q", o.ID, c.code, other.ID)
			}
		}
		s.byID[o.ID] = c
		s.offers = append(s.offers, c)
		for _, t := range o.Eligibility.CustomerTags {
			tags[t] = true
		}
		o.collectCollections(collections)
	}
	for _, seg := range s.segments {
		for _, t := range seg.Rules.CustomerTags {
			tags[t] = true
		}
		if b := seg.Rules.Behaviour; b != nil {
			for _, id := range b.BoughtCollections {
				collections[id] = true
			}
		}
	}
	// Deterministic order: priority (high first), then id. Ties in amount are decided at
	// evaluation; this order is the final tie-break.
	sort.SliceStable(s.offers, func(i, j int) bool {
		a, b := s.offers[i], s.offers[j]
		if a.Stacking.Priority != b.Stacking.Priority {
			return a.Stacking.Priority > b.Stacking.Priority
		}
		return a.ID < b.ID
	})
	for i, c := range s.offers {
		c.order = i
		s.index(c)
	}
	s.customerTags = sortedKeys(tags)
	s.collectionIDs = sortedKeys(collections)
	return s, nil
}

// index files an offer under what can trigger it.
func (s *OfferSet) index(c *compiledOffer) {
	switch c.Application.Kind {
	case ApplyCode:
		s.sharedCodes[c.code] = c
		return
	case ApplyCodes:
		s.uniqueCodes[c.ID] = c
		return
	}
	trigger := c.triggerSet()
	if trigger == nil || trigger.Scope == ScopeAll {
		switch c.Eligibility.Audience {
		case AudienceCustomers:
			for _, id := range c.Eligibility.CustomerIDs {
				s.byCustomer[id] = append(s.byCustomer[id], c)
			}
		case AudienceTags:
			for _, tag := range c.Eligibility.CustomerTags {
				s.byTag[strings.ToLower(tag)] = append(s.byTag[strings.ToLower(tag)], c)
			}
		default:
			s.alwaysOffers = append(s.alwaysOffers, c)
		}
		return
	}
	for _, id := range trigger.ProductIDs {
		s.byProduct[id] = append(s.byProduct[id], c)
	}
	for _, id := range trigger.Collections {
		s.byCollection[id] = append(s.byCollection[id], c)
	}
}

// triggerSet is the item set a cart must touch for the offer to possibly apply: the buy set
// of a buy-x-get-y, else the qualifying set. Nil or "all" means any cart.
func (c *compiledOffer) triggerSet() *ItemSet {
	if c.Value.Kind == ValueBuyXGetY && c.Value.BuyXGetY != nil {
		return &c.Value.BuyXGetY.Buy
	}
	q := &c.Condition.Qualifying
	if q.Scope == "" || q.Scope == ScopeAll {
		return nil
	}
	return q
}

func (o *Offer) collectCollections(into map[string]bool) {
	add := func(set *ItemSet) {
		if set == nil {
			return
		}
		for _, id := range set.Collections {
			into[id] = true
		}
		for _, id := range set.ExcludeCollections {
			into[id] = true
		}
	}
	add(&o.Condition.Qualifying)
	add(o.Value.Targets)
	if b := o.Value.BuyXGetY; b != nil {
		add(&b.Buy)
		add(&b.Get)
	}
	if b := o.Behaviour; b != nil {
		for _, id := range b.BoughtCollections {
			into[id] = true
		}
	}
}

// CollectionIDs is every collection an offer or segment names: the input query's
// $collectionIds variable, so the platform tells us each line's membership.
func (s *OfferSet) CollectionIDs() []string { return s.collectionIDs }

// CustomerTags is every customer tag an offer or segment names: the input query's
// $customerTags variable.
func (s *OfferSet) CustomerTags() []string { return s.customerTags }

// Offer returns the offer with the given id.
func (s *OfferSet) Offer(id string) (Offer, bool) {
	c, ok := s.byID[id]
	if !ok {
		return Offer{}, false
	}
	return c.Offer, true
}

// Len is the number of offers.
func (s *OfferSet) Len() int { return len(s.offers) }

// Settings returns the shop settings the set was built with.
func (s *OfferSet) Settings() Settings { return s.settings }

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
