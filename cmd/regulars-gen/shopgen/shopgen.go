package shopgen

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/regularsapp/regulars/discountfn"
	"github.com/regularsapp/regulars/store"
)

// Config is what to generate.
type Config struct {
	Shop      string // myshopify.com domain
	Seed      uint64
	Offers    int // active offers of every kind; at least 10
	Customers int
	Orders    int
	// End is the generation's "now": orders are placed over the Days before it, and the
	// offers are active around it.
	End  time.Time
	Days int
}

// Bounds of a Config.
const (
	MinOffers    = 10
	MaxOffers    = 100_000
	MaxCustomers = 10_000_000
	MaxOrders    = 100_000_000
	MaxDays      = 3650
)

// Currency and Timezone of every generated shop.
const (
	Currency = "USD"
	Timezone = "America/New_York"
)

// Check reports what is wrong with c.
func (c Config) Check() error {
	var errs []error
	if c.Shop == "" {
		errs = append(errs, errors.New("shop: required"))
	}
	if c.Offers < MinOffers || c.Offers > MaxOffers {
		errs = append(errs, fmt.Errorf("offers %d: want %d to %d", c.Offers, MinOffers, MaxOffers))
	}
	if c.Customers < 1 || c.Customers > MaxCustomers {
		errs = append(errs, fmt.Errorf("customers %d: want 1 to %d", c.Customers, MaxCustomers))
	}
	if c.Orders < 0 || c.Orders > MaxOrders {
		errs = append(errs, fmt.Errorf("orders %d: want 0 to %d", c.Orders, MaxOrders))
	}
	if c.Days < 1 || c.Days > MaxDays {
		errs = append(errs, fmt.Errorf("days %d: want 1 to %d", c.Days, MaxDays))
	}
	if c.End.IsZero() {
		errs = append(errs, errors.New("end: required"))
	}
	return errors.Join(errs...)
}

// Salts of the random streams, so that each kind of thing draws its own numbers.
const (
	saltCustomer = 1 << 40
	saltOffer    = 2 << 40
	saltCodes    = 3 << 40
	saltOrders   = 4 << 40
	saltSegments = 5 << 40
)

// Generator holds a shop's catalog, offers, segments and codes, and generates its customers
// and orders on demand.
type Generator struct {
	cfg      Config
	catalog  Catalog
	start    time.Time     // the first order's earliest time
	span     time.Duration // End - start
	regulars int           // customers [0, regulars) place most orders

	offers   []discountfn.Offer
	segments []discountfn.Segment
	codes    []store.Code
	// Offers by how orders redeem them, and the unique codes of each codes offer.
	automatic, shared, unique []int
	uniqueCodes               map[string][]string
}

// New builds the generator: the catalog, segments, offers and codes (every offer and
// segment valid), ready to generate customers and orders.
func New(cfg Config) (*Generator, error) {
	if err := cfg.Check(); err != nil {
		return nil, fmt.Errorf("shopgen: %w", err)
	}
	end := cfg.End.UTC()
	cfg.End = end
	g := &Generator{
		cfg:         cfg,
		catalog:     NewCatalog(),
		start:       end.AddDate(0, 0, -cfg.Days),
		regulars:    max(cfg.Customers/5, 1),
		uniqueCodes: map[string][]string{},
	}
	g.span = end.Sub(g.start)
	g.segments = g.makeSegments()
	for _, s := range g.segments {
		if err := s.Validate(); err != nil {
			return nil, fmt.Errorf("shopgen: segment %s: %w", s.ID, err)
		}
	}
	if err := g.makeOffers(); err != nil {
		return nil, err
	}
	return g, nil
}

// Catalog is the shop's catalog.
func (g *Generator) Catalog() Catalog { return g.catalog }

// Offers are the shop's offers.
func (g *Generator) Offers() []discountfn.Offer { return g.offers }

// Segments are the shop's segments.
func (g *Generator) Segments() []discountfn.Segment { return g.segments }

// BulkShop is the whole shop for store.BulkLoad. Its customers and orders are generated while
// they are read, each time they are read.
func (g *Generator) BulkShop() (store.BulkShop, error) {
	data := store.BulkShop{
		Shop:      store.Shop{Domain: g.cfg.Shop, Currency: Currency, Timezone: Timezone},
		Codes:     g.codes,
		Customers: g.customers,
		Orders:    g.orders,
	}
	for _, o := range g.offers {
		doc, err := json.Marshal(o)
		if err != nil {
			return store.BulkShop{}, fmt.Errorf("shopgen: offer %s: %w", o.ID, err)
		}
		data.Offers = append(data.Offers, store.BulkOffer{ID: o.ID, Status: string(o.Status), Config: doc})
	}
	for _, s := range g.segments {
		doc, err := json.Marshal(s)
		if err != nil {
			return store.BulkShop{}, fmt.Errorf("shopgen: segment %s: %w", s.ID, err)
		}
		data.Segments = append(data.Segments, store.Segment{ID: s.ID, Priority: s.Priority, Config: doc})
	}
	return data, nil
}
