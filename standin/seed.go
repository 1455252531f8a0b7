package standin

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"time"
)

// The demo shop is generated from the seed and the start time (the clock at New), so a given
// seed and start date always give the same shop: 12 products in 3 collections, 30 customers
// and about 300 orders over the two years before the start.

const (
	seedOrders    = 300
	seedHistory   = 730 * 24 * time.Hour
	firstEntityID = 7_100_000_000_000
)

type seedProduct struct {
	title, productType string
	collections        []string
	variants           []seedVariant
	giftCard           bool
}

type seedVariant struct {
	title string
	price Money
}

func seedCatalog() []seedProduct {
	def := func(p Money) []seedVariant { return []seedVariant{{"Default Title", p}} }
	return []seedProduct{
		{"Merino Crew Socks", "Socks", []string{"socks"}, []seedVariant{{"S", 1400}, {"M", 1400}, {"L", 1400}}, false},
		{"Striped Ankle Socks", "Socks", []string{"socks"}, def(950), false},
		{"Wool Hiking Socks", "Socks", []string{"socks"}, []seedVariant{{"M", 1800}, {"L", 1800}}, false},
		{"Socks 3-Pack", "Socks", []string{"socks"}, def(3200), false},
		{"House Blend 250g", "Coffee", []string{"coffee"}, []seedVariant{{"Whole bean", 1250}, {"Ground", 1250}}, false},
		{"Ethiopia Yirgacheffe 250g", "Coffee", []string{"coffee"}, def(1600), false},
		{"Decaf Colombia 250g", "Coffee", []string{"coffee"}, def(1350), false},
		{"Espresso Roast 1kg", "Coffee", []string{"coffee"}, def(3900), false},
		{"Stoneware Mug", "Mugs", []string{"mugs"}, []seedVariant{{"Blue", 1800}, {"Sand", 1800}}, false},
		{"Travel Mug", "Mugs", []string{"mugs"}, def(2400), false},
		{"Espresso Cups (pair)", "Mugs", []string{"mugs", "coffee"}, def(2200), false},
		{"Regulars Gift Card", "Gift card", nil, def(2500), true},
	}
}

type seedPlace struct {
	city, province, provinceCode, country, countryCode, zip, street string
}

func seedPlaces() []seedPlace {
	return []seedPlace{
		{"Paris", "", "", "France", "FR", "75011", "12 Rue Oberkampf"},
		{"Leeds", "England", "ENG", "United Kingdom", "GB", "LS1 4DY", "8 Briggate"},
		{"Lyon", "", "", "France", "FR", "69002", "3 Rue de la République"},
		{"Manchester", "England", "ENG", "United Kingdom", "GB", "M1 1AD", "21 Oldham Street"},
		{"Berlin", "", "", "Germany", "DE", "10115", "Torstraße 101"},
		{"Dublin", "Dublin", "D", "Ireland", "IE", "D02 X285", "5 Dame Street"},
		{"New York", "New York", "NY", "United States", "US", "10001", "350 5th Avenue"},
		{"Austin", "Texas", "TX", "United States", "US", "78701", "600 Congress Avenue"},
		{"Toronto", "Ontario", "ON", "Canada", "CA", "M5V 2T6", "290 Bremner Blvd"},
		{"Melbourne", "Victoria", "VIC", "Australia", "AU", "3000", "1 Flinders Street"},
	}
}

func seedNames() [][2]string {
	return [][2]string{
		{"Ada", "Lovelace"}, {"Grace", "Hopper"}, {"Alan", "Turing"}, {"Katherine", "Johnson"},
		{"Edsger", "Dijkstra"}, {"Barbara", "Liskov"}, {"Donald", "Knuth"}, {"Frances", "Allen"},
		{"Ken", "Thompson"}, {"Radia", "Perlman"}, {"Dennis", "Ritchie"}, {"Hedy", "Lamarr"},
		{"Tim", "Berners-Lee"}, {"Margaret", "Hamilton"}, {"Linus", "Torvalds"}, {"Sophie", "Wilson"},
		{"John", "McCarthy"}, {"Adele", "Goldberg"}, {"Niklaus", "Wirth"}, {"Shafi", "Goldwasser"},
		{"Charles", "Babbage"}, {"Jean", "Sammet"}, {"Leslie", "Lamport"}, {"Mary", "Kenneth"},
		{"Rob", "Pike"}, {"Anita", "Borg"}, {"Bjarne", "Stroustrup"}, {"Lynn", "Conway"},
		{"Guido", "Rossum"}, {"Evelyn", "Boyd"},
	}
}

// seedShop builds the demo shop.
func seedShop(w *world, domain string, seed int64, now time.Time) *shop {
	rng := rand.New(rand.NewPCG(uint64(seed), 0x5eed_0f_0d15c0))
	if w.nextID < firstEntityID {
		w.nextID = firstEntityID
	}
	start := now.UTC().Truncate(24 * time.Hour).Add(-seedHistory)
	sh := &shop{
		ID:            w.id(),
		Domain:        domain,
		Name:          "Regulars Demo",
		Email:         "owner@regulars-demo.example",
		Currency:      "USD",
		Timezone:      "UTC",
		CreatedAt:     start.Add(-30 * 24 * time.Hour),
		nextOrderNo:   1001,
		AuthCodes:     map[string]*authCode{},
		AccessTokens:  map[string]*accessToken{},
		RefreshTokens: map[string]*refreshToken{},
		Bucket:        newBucket(now),
	}

	collections := map[string]*collection{}
	for _, c := range []struct{ handle, title string }{{"socks", "Socks"}, {"coffee", "Coffee"}, {"mugs", "Mugs"}} {
		col := &collection{ID: w.id(), Title: c.title, Handle: c.handle}
		collections[c.handle] = col
		sh.Collections = append(sh.Collections, col)
	}
	for _, sp := range seedCatalog() {
		p := &product{
			ID: w.id(), Title: sp.title, Handle: handleize(sp.title), Vendor: "Regulars Demo",
			ProductType: sp.productType, IsGiftCard: sp.giftCard, CreatedAt: sh.CreatedAt,
		}
		for _, h := range sp.collections {
			p.CollectionIDs = append(p.CollectionIDs, collections[h].ID)
		}
		for i, sv := range sp.variants {
			p.Variants = append(p.Variants, &variant{
				ID: w.id(), ProductID: p.ID, Title: sv.title, Price: sv.price,
				SKU: fmt.Sprintf("%s-%d", strings.ToUpper(p.Handle[:min(6, len(p.Handle))]), i+1),
			})
		}
		sh.Products = append(sh.Products, p)
	}

	places := seedPlaces()
	for i, n := range seedNames() {
		pl := places[i%len(places)]
		c := &customer{
			ID: w.id(), FirstName: n[0], LastName: n[1],
			Email: strings.ToLower(n[0] + "." + strings.ReplaceAll(n[1], "-", "") + "@example.com"),
			Address: address{
				Address1: pl.street, City: pl.city, Province: pl.province, ProvinceCode: pl.provinceCode,
				Country: pl.country, CountryCode: pl.countryCode, Zip: pl.zip,
			},
			CreatedAt: start.Add(-time.Duration(rng.IntN(200)) * 24 * time.Hour),
		}
		switch {
		case i%5 == 0:
			c.Tags = append(c.Tags, "VIP")
		case i%7 == 3:
			c.Tags = append(c.Tags, "wholesale")
		}
		if i%3 == 1 {
			c.Tags = append(c.Tags, "newsletter")
		}
		if i%4 == 2 {
			c.Phone = fmt.Sprintf("+1 555 01%02d", i)
			c.Address.Phone = c.Phone
		}
		// Mailbox-provider variants, for identity normalization.
		switch i {
		case 1:
			c.Email = "grace.hopper+shop@gmail.com"
		case 2:
			c.Email = "a.lan.turing@gmail.com"
		}
		c.UpdatedAt = c.CreatedAt
		sh.Customers = append(sh.Customers, c)
	}
	// Three accounts sharing one address and phone, for the abuse checks.
	shared := sh.Customers[27]
	shared.Phone = "+44 7700 900123"
	shared.Address.Phone = shared.Phone
	for _, c := range sh.Customers[28:30] {
		c.Address = shared.Address
		c.Phone = shared.Phone
	}

	times := make([]time.Time, seedOrders)
	for i := range times {
		times[i] = start.Add(time.Duration(rng.Int64N(int64(seedHistory))))
	}
	slices.SortFunc(times, func(a, b time.Time) int { return a.Compare(b) })
	// Regulars order more often: the first customers weigh more.
	weights := make([]int, len(sh.Customers))
	total := 0
	for i := range weights {
		weights[i] = 1
		switch {
		case i < 6:
			weights[i] = 6
		case i < 15:
			weights[i] = 3
		}
		total += weights[i]
	}
	pickCustomer := func() *customer {
		n := rng.IntN(total)
		for i, wgt := range weights {
			if n < wgt {
				return sh.Customers[i]
			}
			n -= wgt
		}
		return sh.Customers[len(sh.Customers)-1]
	}
	codIndexes := map[int]bool{seedOrders / 3: true, 2 * seedOrders / 3: true}
	for i, at := range times {
		var c *customer
		if rng.IntN(100) >= 18 {
			c = pickCustomer()
		}
		o := seedOrder(w, sh, rng, c, at, i)
		if codIndexes[i] {
			o.Gateways = []string{"Cash on Delivery (COD)"}
			o.FinancialStatus = "pending"
		}
		if i == seedOrders-5 {
			o.Test = true
			o.Gateways = []string{"bogus"}
		}
		sh.Orders = append(sh.Orders, o)
	}
	return sh
}

func seedOrder(w *world, sh *shop, rng *rand.Rand, c *customer, at time.Time, i int) *order {
	o := &order{
		ID: w.id(), Number: sh.nextOrderNo, CreatedAt: at, UpdatedAt: at,
		FinancialStatus: "paid", Gateways: []string{"shopify_payments"}, SourceName: "web",
		BrowserIP: fmt.Sprintf("203.0.113.%d", 1+rng.IntN(250)),
	}
	sh.nextOrderNo++
	wholesale := false
	if c != nil {
		o.CustomerID = c.ID
		o.Email = c.Email
		o.Phone = c.Phone
		a := c.Address
		o.ShippingAddress = &a
		wholesale = slices.Contains(c.Tags, "wholesale")
	} else {
		o.Email = fmt.Sprintf("guest%03d@example.net", i)
		pl := seedPlaces()[rng.IntN(len(seedPlaces()))]
		o.ShippingAddress = &address{
			Address1: pl.street, City: pl.city, Province: pl.province, ProvinceCode: pl.provinceCode,
			Country: pl.country, CountryCode: pl.countryCode, Zip: pl.zip,
		}
	}
	// 1 to 3 distinct products; the gift card rarely.
	n := 1 + rng.IntN(3)
	used := map[int64]bool{}
	for len(o.Lines) < n {
		p := sh.Products[rng.IntN(len(sh.Products))]
		if used[p.ID] || (p.IsGiftCard && rng.IntN(4) != 0) {
			continue
		}
		used[p.ID] = true
		v := p.Variants[rng.IntN(len(p.Variants))]
		qty := 1 + rng.IntN(3)
		if wholesale && !p.IsGiftCard {
			qty = 6 + rng.IntN(7)
		}
		o.Lines = append(o.Lines, &orderLine{
			ID: w.id(), ProductID: p.ID, VariantID: v.ID, Title: p.Title, VariantTitle: variantTitle(v),
			SKU: v.SKU, Quantity: qty, Price: v.Price, GiftCard: p.IsGiftCard,
		})
	}
	opts := deliveryOptions()
	switch r := rng.IntN(100); {
	case r < 60:
		o.Shipping = opts[0].line(w)
	case r < 85:
		o.Shipping = opts[1].line(w)
	default:
		o.Shipping = opts[2].line(w)
	}
	switch r := rng.IntN(100); {
	case r < 8:
		// WELCOME10: 10% off the order, allocated across the lines.
		base := o.lineItemsTotal()
		amount := percentOfMoney(base, 1000)
		o.Applications = append(o.Applications, orderApplication{
			Type: "discount_code", Code: "WELCOME10", Title: "WELCOME10", Value: "10.0", ValueType: "percentage",
			AllocationMethod: "across", TargetSelection: "all", TargetType: "line_item",
		})
		bases := make([]Money, len(o.Lines))
		for j, l := range o.Lines {
			bases[j] = l.Price * Money(l.Quantity)
		}
		for j, a := range allocate(amount, bases) {
			if a > 0 {
				o.Lines[j].Allocations = append(o.Lines[j].Allocations, allocation{Amount: a, AppIndex: 0})
			}
		}
		o.DiscountCodes = append(o.DiscountCodes, orderCode{Code: "WELCOME10", Amount: amount, Type: "percentage"})
	case r < 11 && o.Shipping.Price > 0:
		o.Applications = append(o.Applications, orderApplication{
			Type: "discount_code", Code: "FREESHIP", Title: "FREESHIP", Value: "100.0", ValueType: "percentage",
			AllocationMethod: "each", TargetSelection: "all", TargetType: "shipping_line",
		})
		o.Shipping.Allocations = append(o.Shipping.Allocations, allocation{Amount: o.Shipping.Price})
		o.DiscountCodes = append(o.DiscountCodes, orderCode{Code: "FREESHIP", Amount: o.Shipping.Price, Type: "shipping"})
	}
	switch r := rng.IntN(100); {
	case r < 4:
		t := at.Add(time.Duration(1+rng.IntN(48)) * time.Hour)
		o.CancelledAt = &t
		o.CancelReason = []string{"customer", "inventory", "fraud"}[rng.IntN(3)]
		o.FinancialStatus = "voided"
		o.UpdatedAt = t
	case r < 8:
		t := at.Add(time.Duration(2+rng.IntN(20)) * 24 * time.Hour)
		o.Refunds = append(o.Refunds, fullRefund(w, o, t, "Returned"))
		o.FinancialStatus = "refunded"
		o.UpdatedAt = t
	case r < 10:
		t := at.Add(time.Duration(2+rng.IntN(20)) * 24 * time.Hour)
		l := o.Lines[0]
		o.Refunds = append(o.Refunds, &refund{
			ID: w.id(), CreatedAt: t, Note: "One item damaged",
			Lines: []refundLine{{ID: w.id(), LineID: l.ID, Quantity: 1, Subtotal: lineUnitNet(l)}},
		})
		o.FinancialStatus = "partially_refunded"
		o.UpdatedAt = t
	}
	return o
}

// fullRefund refunds every remaining unit and the shipping.
func fullRefund(w *world, o *order, at time.Time, note string) *refund {
	r := &refund{ID: w.id(), CreatedAt: at, Note: note}
	if len(o.Refunds) == 0 {
		r.Shipping = o.shippingPrice() - o.shippingDiscount()
	}
	refundedQty := map[int64]int{}
	for _, prev := range o.Refunds {
		for _, l := range prev.Lines {
			refundedQty[l.LineID] += l.Quantity
		}
	}
	for _, l := range o.Lines {
		q := l.Quantity - refundedQty[l.ID]
		if q <= 0 {
			continue
		}
		net := l.Price*Money(l.Quantity) - l.discount()
		sub := net
		if q != l.Quantity {
			sub = lineUnitNet(l) * Money(q)
		}
		r.Lines = append(r.Lines, refundLine{ID: w.id(), LineID: l.ID, Quantity: q, Subtotal: sub})
	}
	return r
}

// lineUnitNet is one unit's price after the line's discounts (rounded down).
func lineUnitNet(l *orderLine) Money {
	return (l.Price*Money(l.Quantity) - l.discount()) / Money(l.Quantity)
}

func variantTitle(v *variant) string {
	if v.Title == "Default Title" {
		return ""
	}
	return v.Title
}

func handleize(s string) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(s) {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9':
			b.WriteRune(r)
			dash = false
		case !dash && b.Len() > 0:
			b.WriteByte('-')
			dash = true
		}
	}
	return strings.TrimSuffix(b.String(), "-")
}

// deliveryOption is one of the checkout's shipping choices.
type deliveryOption struct {
	Handle     string
	Title      string
	Code       string
	Price      Money
	MethodType string // SHIPPING | PICK_UP
}

func deliveryOptions() []deliveryOption {
	return []deliveryOption{
		{"standard", "Standard", "STANDARD", 499, "SHIPPING"},
		{"express", "Express", "EXPRESS", 1499, "SHIPPING"},
		{"pickup", "Pickup", "PICKUP", 0, "PICK_UP"},
	}
}

func (d deliveryOption) line(w *world) *shippingLine {
	return &shippingLine{ID: w.id(), Title: d.Title, Code: d.Code, Price: d.Price}
}

// percentOfMoney is amount × bp / 10000, rounded half up (bp in basis points).
func percentOfMoney(amount Money, bp int64) Money {
	if amount <= 0 || bp <= 0 {
		return 0
	}
	return Money((int64(amount)*bp + 5000) / 10000)
}

// allocate splits amount across bases in proportion to them (largest remainder, ties to the
// earlier base); the parts sum to amount, capped at the sum of the bases.
func allocate(amount Money, bases []Money) []Money {
	out := make([]Money, len(bases))
	var sum Money
	for _, b := range bases {
		if b > 0 {
			sum += b
		}
	}
	if amount <= 0 || sum <= 0 {
		return out
	}
	amount = min(amount, sum)
	type rem struct {
		i int
		r int64
	}
	var rems []rem
	var given Money
	for i, b := range bases {
		if b <= 0 {
			continue
		}
		q := int64(amount) * int64(b)
		out[i] = Money(q / int64(sum))
		given += out[i]
		rems = append(rems, rem{i, q % int64(sum)})
	}
	slices.SortStableFunc(rems, func(a, b rem) int {
		switch {
		case a.r > b.r:
			return -1
		case a.r < b.r:
			return 1
		}
		return 0
	})
	for k := 0; given < amount && k < len(rems); k++ {
		out[rems[k].i]++
		given++
	}
	return out
}
