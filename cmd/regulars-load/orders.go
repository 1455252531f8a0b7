package main

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"strings"
	"time"
)

// delivery is one webhook request the harness sends.
type delivery struct {
	topic     string
	eventID   string // the same for every delivery of one event
	webhookID string // new for every delivery
	body      []byte
	signature string
	order     int // index into plan.orders
	duplicate bool
}

// plannedOrder is what the harness expects the app to hold for one order once every event is
// processed: the newest version's code wins.
type plannedOrder struct {
	ID string
	// Code is the newest version's discount code, "" for none. ShopCode reports that it is
	// one of the shop's codes (so the order has one ledger row).
	Code     string
	ShopCode bool
	Updated  bool // an orders/updated version was sent too
}

// plan is the whole run, built before the clock starts so that building and signing bodies
// does not compete with the app for CPU while it is measured.
type plan struct {
	deliveries []delivery
	orders     []plannedOrder
	events     int // unique events (deliveries without the duplicates)
	duplicates int
	bodyBytes  int // total body bytes of the unique events
}

// planConfig shapes the orders.
type planConfig struct {
	secret     []byte
	orders     int
	duplicates float64 // fraction of events delivered twice
	updates    float64 // fraction of orders that also get an orders/updated version
	codes      []string
	codeRate   float64 // fraction of orders that use one of codes
	seed       uint64
	runID      string
	now        time.Time
}

// unknownCode is a code that is not the shop's: it must not produce a ledger row.
const unknownCode = "NOTOURS5"

// makePlan builds and signs every delivery. Duplicates are placed after their original, at a
// random later point (a retry after a lost acknowledgement); an order's update is placed
// anywhere, so it may arrive before its orders/create (deliveries come out of order).
func makePlan(c planConfig) plan {
	rng := rand.New(rand.NewPCG(c.seed, 0x9e3779b97f4a7c15))
	// Ids unique to this run (the run id is random), below 2^53 so that no reader rounds them.
	orderBase := int64(1_000_000_000_000) + rng.Int64N(8_000_000_000_000)
	customerBase := int64(1_000_000_000) + rng.Int64N(8_000_000_000)
	customers := max(c.orders/5, 1)

	type keyed struct {
		key float64
		d   delivery
	}
	var all []keyed
	p := plan{orders: make([]plannedOrder, c.orders)}
	for i := range c.orders {
		id := orderBase + int64(i)
		g := orderGen{
			rng: rng, id: id, customer: customerBase + rng.Int64N(int64(customers)),
			placed: c.now.Add(-time.Duration(rng.Int64N(int64(time.Hour)))).UTC().Truncate(time.Second),
			lines:  3 + rng.IntN(3),
		}
		switch r := rng.Float64(); {
		case r < c.codeRate && len(c.codes) > 0:
			g.code = c.codes[rng.IntN(len(c.codes))]
		case r < c.codeRate+0.05:
			g.code = unknownCode
		}
		po := plannedOrder{ID: fmt.Sprint(id), Code: g.code}
		body := g.body(false)
		all = append(all, keyed{float64(i), delivery{topic: "orders/create", eventID: fmt.Sprintf("%s-%d-create", c.runID, i), body: body, order: i}})
		p.bodyBytes += len(body)
		if rng.Float64() < c.updates {
			// The merchant edited the order: a newer version, paid, whose code changed.
			g.code = ""
			if len(c.codes) > 0 && rng.IntN(2) == 0 {
				g.code = c.codes[rng.IntN(len(c.codes))]
			}
			po.Code, po.Updated = g.code, true
			body := g.body(true)
			all = append(all, keyed{rng.Float64() * float64(c.orders), delivery{topic: "orders/updated", eventID: fmt.Sprintf("%s-%d-updated", c.runID, i), body: body, order: i}})
			p.bodyBytes += len(body)
		}
		po.ShopCode = po.Code != "" && slices.Contains(c.codes, po.Code)
		p.orders[i] = po
	}
	p.events = len(all)
	for _, k := range slices.Clone(all) {
		if rng.Float64() < c.duplicates {
			d := k.d
			d.duplicate = true
			all = append(all, keyed{k.key + 0.5 + rng.Float64()*(float64(c.orders)-k.key), d})
			p.duplicates++
		}
	}
	slices.SortStableFunc(all, func(a, b keyed) int {
		switch {
		case a.key < b.key:
			return -1
		case a.key > b.key:
			return 1
		}
		return 0
	})
	p.deliveries = make([]delivery, len(all))
	for i, k := range all {
		d := k.d
		d.webhookID = fmt.Sprintf("%s-delivery-%d", c.runID, i)
		d.signature = sign(c.secret, d.body)
		p.deliveries[i] = d
	}
	return p
}

// sign is the platform's webhook signature: base64 of the HMAC-SHA256 of the raw body.
func sign(secret, body []byte) string {
	m := hmac.New(sha256.New, secret)
	m.Write(body)
	return base64.StdEncoding.EncodeToString(m.Sum(nil))
}

// orderGen writes one order as the platform's REST Order resource, with the fields a real
// delivery carries (most of which the app ignores), about 2 to 4 KB.
type orderGen struct {
	rng      *rand.Rand
	id       int64
	customer int64
	placed   time.Time
	lines    int
	code     string
	items    []map[string]any // kept between the create and the update
	amounts  []int64          // each item's quantity times price
}

var (
	firstNames = []string{"Rita", "Oscar", "Nina", "Jo", "Sam", "Alex", "Maria", "Yuki", "Omar", "Lena"}
	lastNames  = []string{"Regular", "Occasional", "New", "Buyer", "Martin", "Dubois", "Tanaka", "Haddad", "Novak"}
	cities     = []struct{ city, zip, country, code string }{
		{"Paris", "75001", "France", "FR"}, {"Lyon", "69002", "France", "FR"}, {"Berlin", "10115", "Germany", "DE"},
		{"Ottawa", "K2P 0S0", "Canada", "CA"}, {"Austin", "78701", "United States", "US"},
	}
	products = []struct {
		id, variant int64
		title, sku  string
		price       int64
	}{
		{11, 1101, "Wool socks", "SOCK-W", 1200}, {12, 1201, "Cotton socks", "SOCK-C", 850},
		{21, 2101, "House blend coffee, 1 kg", "COF-HB", 2400}, {22, 2201, "Single origin coffee, 250 g", "COF-SO", 1175},
		{31, 3101, "Enamel mug", "MUG-E", 1500}, {41, 4101, "Pour-over kettle", "KET-P", 4900},
	}
)

func decimal(minor int64) string { return fmt.Sprintf("%d.%02d", minor/100, minor%100) }

func shopMoney(minor int64) map[string]any {
	return map[string]any{"shop_money": map[string]any{"amount": decimal(minor), "currency_code": "USD"}}
}

func (g *orderGen) body(update bool) []byte {
	rng := g.rng
	first, last := firstNames[g.customer%int64(len(firstNames))], lastNames[g.customer%int64(len(lastNames))]
	email := fmt.Sprintf("%s.%s.%d@example.com", strings.ToLower(first), strings.ToLower(last), g.customer)
	place := cities[g.customer%int64(len(cities))]
	address := map[string]any{
		"first_name": first, "last_name": last, "name": first + " " + last, "company": nil,
		"address1": fmt.Sprintf("%d Market Street", 1+g.customer%200), "address2": "", "city": place.city,
		"zip": place.zip, "province": nil, "country": place.country, "country_code": place.code,
		"phone": fmt.Sprintf("+1 555 %07d", g.customer%10_000_000), "latitude": 45.4, "longitude": -75.7,
	}
	if g.items == nil {
		for n := range g.lines {
			pr := products[rng.IntN(len(products))]
			qty := 1 + rng.IntN(3)
			lineID := g.id*10 + int64(n) + 1
			g.items = append(g.items, map[string]any{
				"id": lineID, "title": pr.title, "sku": pr.sku, "product_id": pr.id, "variant_id": pr.variant,
				"quantity": qty, "price": decimal(pr.price), "price_set": shopMoney(pr.price),
				"tax_lines": []map[string]any{{"title": "VAT", "rate": 0.2, "price": decimal(pr.price * int64(qty) / 6)}},
			})
			g.amounts = append(g.amounts, pr.price*int64(qty))
		}
	}
	var subtotal int64
	for _, a := range g.amounts {
		subtotal += a
	}
	items := make([]map[string]any, len(g.items))
	for i, it := range g.items {
		items[i] = maps.Clone(it)
		items[i]["discount_allocations"] = []any{}
	}
	var discount int64
	var codes, apps []map[string]any
	if g.code != "" {
		discount = subtotal / 10
		codes = []map[string]any{{"code": strings.ToLower(g.code), "amount": decimal(discount), "type": "percentage"}}
		apps = []map[string]any{{
			"type": "discount_code", "code": g.code, "value": "10.0", "value_type": "percentage",
			"allocation_method": "across", "target_selection": "all", "target_type": "line_item",
		}}
		items[0]["discount_allocations"] = []map[string]any{{"amount": decimal(discount), "amount_set": shopMoney(discount), "discount_application_index": 0}}
	}
	const shipping = 499
	total := subtotal - discount + shipping
	updated := g.placed.Add(2 * time.Second)
	financial := "pending"
	if update {
		updated = g.placed.Add(10 * time.Minute)
		financial = "paid"
	}
	order := map[string]any{
		"id": g.id, "admin_graphql_api_id": fmt.Sprintf("gid://shopify/Order/%d", g.id),
		"app_id": 580111, "browser_ip": fmt.Sprintf("198.51.100.%d", 1+g.customer%250),
		"buyer_accepts_marketing": g.customer%2 == 0, "cancel_reason": nil, "cancelled_at": nil,
		"checkout_id": g.id + 7,
		"client_details": map[string]any{
			"accept_language": "en-US,en;q=0.9", "browser_height": 900, "browser_ip": fmt.Sprintf("198.51.100.%d", 1+g.customer%250),
			"browser_width": 1440, "session_hash": nil, "user_agent": "Mozilla/5.0 (X11; Linux x86_64) Chrome/126.0",
		},
		"confirmed": true, "contact_email": email, "created_at": g.placed.Format(time.RFC3339),
		"currency": "USD", "customer_locale": "en", "email": email,
		"financial_status": financial, "fulfillment_status": nil, "landing_site": "/", "name": fmt.Sprintf("#%d", g.id%1_000_000),
		"note": nil, "note_attributes": []any{}, "number": g.id % 1_000_000, "order_number": 1000 + g.id%1_000_000,
		"payment_gateway_names": []string{"shopify_payments"}, "phone": nil, "presentment_currency": "USD",
		"processed_at": g.placed.Format(time.RFC3339), "source_name": "web", "tags": "",
		"subtotal_price": decimal(subtotal - discount), "subtotal_price_set": shopMoney(subtotal - discount),
		"taxes_included": true, "test": false, "token": fmt.Sprintf("%x", g.id*15485863),
		"total_discounts": decimal(discount), "total_discounts_set": shopMoney(discount),
		"total_line_items_price": decimal(subtotal),
		"total_price":            decimal(total), "total_price_set": shopMoney(total), "total_tax": decimal(total / 6),
		"total_weight": 250 * len(items), "updated_at": updated.Format(time.RFC3339),
		"customer": map[string]any{
			"id": g.customer, "admin_graphql_api_id": fmt.Sprintf("gid://shopify/Customer/%d", g.customer),
			"email": email, "first_name": first, "last_name": last, "state": "enabled", "verified_email": true,
			"tags": "",
		},
		"shipping_address": address,
		"shipping_lines": []map[string]any{{
			"id": g.id + 3, "title": "Standard", "code": "STANDARD", "source": "shopify",
			"price": decimal(shipping), "discount_allocations": []any{},
		}},
		"discount_codes": codes, "discount_applications": apps, "line_items": items, "refunds": []any{},
	}
	if codes == nil {
		order["discount_codes"], order["discount_applications"] = []any{}, []any{}
	}
	b, err := json.Marshal(order)
	if err != nil {
		panic(err) // maps of plain values always marshal
	}
	return b
}
