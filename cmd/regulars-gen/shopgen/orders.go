package shopgen

import (
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/regularsapp/regulars/discountfn"
	"github.com/regularsapp/regulars/store"
	"github.com/regularsapp/regulars/webhooks"
)

// What the order history looks like.
const (
	guestShare      = 0.05  // orders without a customer account
	regularShare    = 0.70  // orders placed by the regulars (a fifth of the customers)
	redeemShare     = 0.15  // orders that redeem one of our offers
	foreignCodeRate = 0.02  // orders with a code that is not one of ours
	codShare        = 0.05  // cash on delivery
	cancelShare     = 0.02  // cancelled
	fullRefundRate  = 0.02  // refunded in full
	partRefundRate  = 0.04  // refunded in part
	testShare       = 0.003 // test orders
	codGateway      = "Cash on Delivery (COD)"
	unpaidCODWindow = 14 * 24 * time.Hour // cash-on-delivery orders younger than this are unpaid
)

// Id bases of the platform's numbers.
const (
	orderBase  = 5_000_000_000_000
	lineBase   = 30_000_000_000_000
	refundBase = 6_000_000_000_000
)

// shippingOption is one way of delivering: its title (the order's delivery method), its
// price, and the subtotal from which it is free.
type shippingOption struct {
	title  string
	price  discountfn.Money
	freeAt discountfn.Money // 0: never free
}

var shippingOptions = []shippingOption{
	{"Standard", 499, 7500}, {"Express", 999, 0}, {"Pickup", 0, 0},
}

// orders yields the shop's orders, oldest first, spread evenly over the generation's span.
func (g *Generator) orders(yield func(store.OrderEvent) bool) {
	rng := rand.New(rand.NewPCG(g.cfg.Seed, saltOrders))
	slot := g.span / time.Duration(max(g.cfg.Orders, 1))
	uses := map[string]int{} // unique codes handed out so far, per codes offer
	loc := shopLocation()
	for k := range g.cfg.Orders {
		if !yield(g.order(rng, k, slot, uses, loc)) {
			return
		}
	}
}

// shopLocation is the generated shops' timezone.
func shopLocation() *time.Location {
	if loc, err := time.LoadLocation(Timezone); err == nil {
		return loc
	}
	return time.UTC
}

// order is order number k with its ledger rows, as the webhook pipeline would store them.
func (g *Generator) order(rng *rand.Rand, k int, slot time.Duration, uses map[string]int, loc *time.Location) store.OrderEvent {
	placed := g.start.Add(slot * time.Duration(k)).Add(duration(rng, slot)).Truncate(time.Second)
	id := fmt.Sprint(orderBase + k)
	o := store.Order{
		ID: id, PlacedAt: placed, Currency: Currency, PresentmentCurrency: Currency,
		FinancialStatus: "paid", Gateways: []string{"shopify_payments"},
	}

	// The buyer.
	var who Identity
	switch r := rng.Float64(); {
	case r < guestShare:
		who = CustomerIdentity(rng.IntN(g.cfg.Customers))
		who.ID = ""
		if rng.IntN(10) < 6 { // most guests are new; some use a customer's email
			who.Email = fmt.Sprintf("guest.%d@example.com", k)
			who.Phone = ""
		}
	case r < guestShare+regularShare:
		who = CustomerIdentity(rng.IntN(g.regulars))
	default:
		who = CustomerIdentity(rng.IntN(g.cfg.Customers))
	}
	o.CustomerID, o.Email, o.Phone = who.ID, who.Email, who.Phone
	o.AddressKey = who.AddressKey()
	o.BrowserIP = fmt.Sprintf("203.0.%d.%d", 113+rng.IntN(2), 1+rng.IntN(250))
	o.ShippingCity, o.ShippingZip, o.ShippingCountry = who.City, who.Zip, who.Country
	if rng.IntN(30) == 0 {
		o.PresentmentCurrency = "EUR"
	}

	// Lines.
	lines := 1
	switch r := rng.IntN(100); {
	case r < 35:
	case r < 65:
		lines = 2
	case r < 80:
		lines = 3
	default:
		lines = 4 + rng.IntN(3)
	}
	for l := range lines {
		p := g.catalog.popularProduct(rng)
		qty := 1
		if r := rng.IntN(100); r >= 75 {
			qty = 2 + r/93
		}
		o.Lines = append(o.Lines, store.OrderLine{
			ID: fmt.Sprint(lineBase + k*8 + l), ProductID: p.ID, VariantID: p.VariantIDs[rng.IntN(len(p.VariantIDs))],
			Quantity: qty, Price: p.Price,
		})
		o.Subtotal += p.Price * discountfn.Money(qty)
	}

	// Delivery and payment.
	ship := shippingOptions[0]
	switch r := rng.IntN(10); {
	case r < 2:
		ship = shippingOptions[1]
	case r < 3:
		ship = shippingOptions[2]
	}
	o.DeliveryMethod = ship.title
	shipping := ship.price
	if ship.freeAt > 0 && o.Subtotal >= ship.freeAt {
		shipping = 0
	}
	switch r := rng.Float64(); {
	case r < codShare:
		o.Gateways = []string{codGateway}
		if g.cfg.End.Sub(placed) < unpaidCODWindow {
			o.FinancialStatus = "pending"
		}
	case r < codShare+0.15:
		o.Gateways = []string{"paypal"}
	}
	o.Test = rng.Float64() < testShare

	// A discount: one of our offers, or a code that is not ours.
	var redeemed []discountfn.Offer
	var lookup func(string) (string, bool)
	switch r := rng.Float64(); {
	case r < redeemShare && !o.Test:
		off, code := g.redeemedOffer(rng, uses)
		if off != nil {
			amount := discountAmount(off, o, shipping)
			if off.IsCode() {
				o.Codes = []string{code}
				o.Applications = []store.DiscountApplication{{Type: "discount_code", Code: code, Amount: amount}}
			} else {
				o.Applications = []store.DiscountApplication{{Type: "automatic", Title: off.Preview.Title, Amount: amount}}
			}
			if off.Value.Kind == discountfn.ValueFreeShipping {
				shipping = 0
			} else {
				o.TotalDiscounts = amount
			}
			redeemed = []discountfn.Offer{*off}
			if off.Application.Kind == discountfn.ApplyCodes {
				lookup = func(c string) (string, bool) { return off.ID, c == code }
			}
		}
	case r < redeemShare+foreignCodeRate:
		o.Codes = []string{"NOTOURS10"}
		o.TotalDiscounts = o.Subtotal / 10
		o.Applications = []store.DiscountApplication{{Type: "discount_code", Code: "NOTOURS10", Amount: o.TotalDiscounts}}
	}
	o.Total = o.Subtotal - o.TotalDiscounts + shipping

	// What happened afterwards: a cancellation, a refund.
	o.UpdatedAt = placed.Add(2 * time.Minute)
	later := func(after, within time.Duration) time.Time {
		t := placed.Add(after + duration(rng, within))
		if t.After(g.cfg.End) {
			t = g.cfg.End.Add(-time.Minute)
		}
		if t.Before(placed.Add(time.Minute)) {
			t = placed.Add(time.Minute)
		}
		return t.Truncate(time.Second)
	}
	switch r := rng.Float64(); {
	case r < cancelShare:
		at := later(time.Hour, 48*time.Hour)
		o.CancelledAt, o.FinancialStatus, o.UpdatedAt = &at, "voided", at
	case r < cancelShare+fullRefundRate && o.FinancialStatus == "paid":
		at := later(24*time.Hour, 20*24*time.Hour)
		o.Refunds = []store.Refund{{ID: fmt.Sprint(refundBase + k), Amount: o.Total, CreatedAt: at}}
		o.FinancialStatus, o.UpdatedAt = "refunded", at
	case r < cancelShare+fullRefundRate+partRefundRate && o.FinancialStatus == "paid":
		at := later(24*time.Hour, 20*24*time.Hour)
		o.Refunds = []store.Refund{{ID: fmt.Sprint(refundBase + k), Amount: o.Total * discountfn.Money(1+rng.IntN(5)) / 10, CreatedAt: at}}
		o.FinancialStatus, o.UpdatedAt = "partially_refunded", at
	}

	// The ledger, as the pipeline attributes it; a cancelled order gives its uses back (the
	// default settings).
	rs := webhooks.Attribute(o, redeemed, lookup, loc)
	for i := range rs {
		rs[i].Released = o.CancelledAt != nil
	}
	return store.OrderEvent{Order: o, Redemptions: rs}
}

// duration is a random duration in [0, d).
func duration(rng *rand.Rand, d time.Duration) time.Duration {
	if d <= 0 {
		return 0
	}
	return time.Duration(rng.Int64N(int64(d)))
}

// redeemedOffer picks the offer an order redeems, popular ones more often, and the code it
// enters (the shared code, or the next of a codes offer's unique codes). nil when the shop
// has no offer of the kind picked.
func (g *Generator) redeemedOffer(rng *rand.Rand, uses map[string]int) (*discountfn.Offer, string) {
	pick := func(list []int) *discountfn.Offer {
		if len(list) == 0 {
			return nil
		}
		u := rng.Float64()
		return &g.offers[list[int(u*u*float64(len(list)))]]
	}
	var off *discountfn.Offer
	switch r := rng.IntN(100); {
	case r < 40:
		off = pick(g.automatic)
	case r < 85:
		off = pick(g.shared)
	default:
		off = pick(g.unique)
	}
	if off == nil {
		return nil, ""
	}
	switch off.Application.Kind {
	case discountfn.ApplyCode:
		return off, discountfn.NormalizeCode(off.Application.Code)
	case discountfn.ApplyCodes:
		codes := g.uniqueCodes[off.ID]
		n := uses[off.ID]
		uses[off.ID] = n + 1
		return off, codes[n%len(codes)]
	}
	return off, ""
}

// discountAmount is roughly what the offer takes off the order: enough for analytics to add
// up, not an evaluation (the engine is not run over history).
func discountAmount(off *discountfn.Offer, o store.Order, shipping discountfn.Money) discountfn.Money {
	v := &off.Value
	pct := func(p discountfn.Percent) discountfn.Money {
		return o.Subtotal * discountfn.Money(p) / discountfn.Money(discountfn.PercentWhole)
	}
	var amount discountfn.Money
	switch v.Kind {
	case discountfn.ValuePercentage:
		amount = pct(v.Percentage)
	case discountfn.ValueFixed:
		amount = min(v.Amount, o.Subtotal)
	case discountfn.ValueFreeShipping:
		amount = shipping
	case discountfn.ValueBuyXGetY:
		cheapest := o.Lines[0].Price
		for _, l := range o.Lines {
			cheapest = min(cheapest, l.Price)
		}
		amount = cheapest * discountfn.Money(v.Percentage) / discountfn.Money(discountfn.PercentWhole)
	case discountfn.ValueTiered:
		t := v.Tiers[0]
		if t.Kind == discountfn.ValueFixed {
			amount = min(t.Amount, o.Subtotal)
		} else {
			amount = pct(t.Percentage)
		}
	}
	if v.Cap > 0 {
		amount = min(amount, v.Cap)
	}
	return amount
}
