package shopgen

import (
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"hash"
	"testing"
	"time"

	"github.com/regularsapp/regulars/discountfn"
)

func testConfig(seed uint64, offers, customers, orders int) Config {
	return Config{Shop: "gen-test.myshopify.com", Seed: seed, Offers: offers, Customers: customers, Orders: orders,
		End: time.Date(2026, 11, 23, 0, 0, 0, 0, time.UTC), Days: 730}
}

func TestConfigCheck(t *testing.T) {
	good := testConfig(1, 10, 1, 0)
	if err := good.Check(); err != nil {
		t.Fatalf("Check(%+v) = %v", good, err)
	}
	for name, change := range map[string]func(c *Config){
		"no shop":         func(c *Config) { c.Shop = "" },
		"too few offers":  func(c *Config) { c.Offers = MinOffers - 1 },
		"too many offers": func(c *Config) { c.Offers = MaxOffers + 1 },
		"no customers":    func(c *Config) { c.Customers = 0 },
		"negative orders": func(c *Config) { c.Orders = -1 },
		"no days":         func(c *Config) { c.Days = 0 },
		"no end":          func(c *Config) { c.End = time.Time{} },
	} {
		c := good
		change(&c)
		if _, err := New(c); err == nil {
			t.Errorf("%s: New accepted %+v", name, c)
		}
	}
}

// The offers are valid (New validates each) and cover every kind the product has.
func TestOffersCoverEveryKind(t *testing.T) {
	for _, n := range []int{MinOffers, 1000} {
		g, err := New(testConfig(7, n, 1000, 0))
		if err != nil {
			t.Fatal(err)
		}
		seen := map[string]int{}
		for _, o := range g.Offers() {
			if o.Status != discountfn.StatusActive || o.Lifecycle(g.cfg.End) != discountfn.StatusActive {
				t.Errorf("offer %s is %s at the end; want active", o.ID, o.Lifecycle(g.cfg.End))
			}
			seen["application "+string(o.Application.Kind)]++
			seen["value "+string(o.Value.Kind)]++
			seen["audience "+string(o.Eligibility.Audience)]++
			if o.Behaviour != nil {
				seen["behaviour"]++
			}
			if o.Limits.TotalUses > 0 || o.Limits.UsesPerCustomer > 0 || o.Limits.UsesPerDay > 0 {
				seen["limits"]++
			}
			if o.Schedule.EndsAt != nil {
				seen["schedule"]++
			}
			if o.Eligibility.FirstOrderOnly {
				seen["first order"]++
			}
		}
		if len(g.Offers()) != n {
			t.Errorf("%d offers; want %d", len(g.Offers()), n)
		}
		want := []string{"application code", "application automatic", "value percentage", "value tiered",
			"value free_shipping", "audience all", "audience segment", "first order"}
		if n >= 1000 {
			want = append(want, "application codes", "value fixed_amount", "value buy_x_get_y", "audience tags",
				"audience customers", "behaviour", "limits", "schedule")
		}
		for _, k := range want {
			if seen[k] == 0 {
				t.Errorf("%d offers: none with %s (%v)", n, k, seen)
			}
		}
		if n >= 1000 && seen["application automatic"] > maxAutomatic+maxSegmentOffer {
			t.Errorf("%d automatic offers; a shop has a couple of dozen at most", seen["application automatic"])
		}
	}
}

// digest hashes everything a generator produces (orders up to n).
func digest(t *testing.T, g *Generator, n int) string {
	t.Helper()
	data, err := g.BulkShop()
	if err != nil {
		t.Fatal(err)
	}
	h := sha256.New()
	write := func(h hash.Hash, v any) {
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		h.Write(b)
	}
	write(h, data.Offers)
	write(h, data.Segments)
	write(h, data.Codes)
	for c := range data.Customers {
		write(h, c)
	}
	i := 0
	for ev := range data.Orders {
		if i++; i > n {
			break
		}
		write(h, ev)
	}
	return fmt.Sprintf("%x", h.Sum(nil))
}

func TestSameSeedSameData(t *testing.T) {
	gen := func(seed uint64) *Generator {
		g, err := New(testConfig(seed, 200, 500, 3000))
		if err != nil {
			t.Fatal(err)
		}
		return g
	}
	a, b, c := digest(t, gen(3), 3000), digest(t, gen(3), 3000), digest(t, gen(4), 3000)
	if a != b {
		t.Error("two generators of the same config made different data")
	}
	if a == c {
		t.Error("two seeds made the same data")
	}
	// Reading the orders twice from one generator gives the same orders.
	g := gen(3)
	if digest(t, g, 3000) != digest(t, g, 3000) {
		t.Error("one generator's orders differ between two reads")
	}
}

// The history has the mix the product's rules care about, in plausible shares, and each
// order is consistent.
func TestOrdersLookRight(t *testing.T) {
	cfg := testConfig(11, 1000, 2000, 20000)
	g, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	offers := map[string]discountfn.Offer{}
	for _, o := range g.Offers() {
		offers[o.ID] = o
	}
	count := map[string]int{}
	var prev time.Time
	for ev := range g.orders {
		o := ev.Order
		if o.PlacedAt.Before(g.start) || o.PlacedAt.After(cfg.End) || o.PlacedAt.Before(prev) {
			t.Fatalf("order %s placed %v: want increasing times within %v to %v", o.ID, o.PlacedAt, g.start, cfg.End)
		}
		prev = o.PlacedAt
		if o.UpdatedAt.Before(o.PlacedAt) || o.Total < 0 || len(o.Lines) == 0 {
			t.Errorf("order %+v is inconsistent", o)
		}
		var sum discountfn.Money
		for _, l := range o.Lines {
			sum += l.Price * discountfn.Money(l.Quantity)
		}
		if sum != o.Subtotal {
			t.Errorf("order %s: subtotal %d, lines sum to %d", o.ID, o.Subtotal, sum)
		}
		switch {
		case o.CustomerID == "":
			count["guest"]++
		case o.CustomerID < CustomerIdentity(g.regulars).ID && len(o.CustomerID) == len(CustomerIdentity(g.regulars).ID):
			count["regular"]++
		}
		if o.CancelledAt != nil {
			count["cancelled"]++
		}
		if len(o.Refunds) > 0 {
			count["refunded"]++
		}
		if len(o.Gateways) > 0 && o.Gateways[0] == codGateway {
			count["cod"]++
			if o.FinancialStatus == "pending" {
				count["unpaid cod"]++
			}
		}
		if o.Test {
			count["test"]++
		}
		for _, r := range ev.Redemptions {
			count["redemption"]++
			off, ok := offers[r.OfferID]
			if !ok {
				t.Fatalf("order %s redeems unknown offer %s", o.ID, r.OfferID)
			}
			if off.IsCode() != (r.Code != "") || (off.Application.Kind == discountfn.ApplyCode && r.Code != off.Application.Code) {
				t.Errorf("order %s: redemption %+v of offer %+v", o.ID, r, off.Application)
			}
			if r.Released != (o.CancelledAt != nil) || len(r.IdentityKeys) == 0 {
				t.Errorf("order %s: redemption %+v", o.ID, r)
			}
		}
	}
	n := float64(cfg.Orders)
	for k, want := range map[string][2]float64{
		"guest": {0.02, 0.08}, "regular": {0.6, 0.8}, "cancelled": {0.01, 0.03}, "refunded": {0.04, 0.08},
		"cod": {0.03, 0.07}, "test": {0.0005, 0.01}, "redemption": {0.1, 0.2},
	} {
		if share := float64(count[k]) / n; share < want[0] || share > want[1] {
			t.Errorf("%s: %.3f of the orders; want %.3f to %.3f", k, share, want[0], want[1])
		}
	}
	if count["unpaid cod"] == 0 {
		t.Error("no unpaid cash-on-delivery order")
	}
}

// Customer identities do not depend on the seed; tags do.
func TestCustomers(t *testing.T) {
	a, _ := New(testConfig(1, 10, 100, 0))
	b, _ := New(testConfig(2, 10, 100, 0))
	tagged := 0
	for i := range 100 {
		ca, cb := a.customer(i), b.customer(i)
		id := CustomerIdentity(i)
		if ca.ID != id.ID || cb.ID != id.ID || ca.Email != id.Email || ca.Phone != id.Phone {
			t.Errorf("customer %d: %+v / %+v; identity %+v", i, ca, cb, id)
		}
		if len(ca.Tags) > 0 {
			tagged++
		}
		if id.Email != discountfn.NormalizeEmail(id.Email) || id.AddressKey() == "" {
			t.Errorf("identity %+v is not normalized", id)
		}
	}
	if tagged == 0 {
		t.Error("no customer has tags")
	}
}
