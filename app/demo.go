package app

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/regularsapp/regulars/discountfn"
	"github.com/regularsapp/regulars/store"
	"github.com/regularsapp/regulars/webhooks"
)

// In development, Run seeds a demo shop so the checkout endpoint can be tried at once.

const (
	demoShop          = "regulars-demo.myshopify.com"
	demoOrderOfferID  = "demo-regulars-10"
	demoFreeShipOffer = "demo-free-shipping"
)

// demoProduct is one product of the demo catalog.
type demoProduct struct {
	ID          string   `json:"id"`
	Title       string   `json:"title"`
	Price       string   `json:"price"`
	Collections []string `json:"collections"`
}

// demoCustomer is a demo buyer with a purchase history.
type demoCustomer struct {
	ID      string   `json:"id"`
	Name    string   `json:"name"`
	Email   string   `json:"email"`
	Tags    []string `json:"tags"`
	Summary string   `json:"summary"`
	orders  int      // past orders, one a month back from now
	spend   discountfn.Money
	codes   []string
}

const (
	demoCollectionSocks  = "gid://shopify/Collection/1"
	demoCollectionCoffee = "gid://shopify/Collection/2"
)

func demoCatalog() []demoProduct {
	return []demoProduct{
		{"gid://shopify/Product/11", "Wool socks", "12.00", []string{demoCollectionSocks}},
		{"gid://shopify/Product/12", "Cotton socks", "8.50", []string{demoCollectionSocks}},
		{"gid://shopify/Product/21", "House blend coffee, 1 kg", "24.00", []string{demoCollectionCoffee}},
		{"gid://shopify/Product/22", "Single origin coffee, 250 g", "11.75", []string{demoCollectionCoffee}},
		{"gid://shopify/Product/31", "Enamel mug", "15.00", nil},
	}
}

func demoCustomers() []demoCustomer {
	return []demoCustomer{
		{ID: "gid://shopify/Customer/1", Name: "Rita Regular", Email: "rita@example.com", Tags: []string{"VIP"},
			Summary: "6 orders in the last 6 months, 180.00 spent, used WELCOME10", orders: 6, spend: 3000, codes: []string{"WELCOME10"}},
		{ID: "gid://shopify/Customer/2", Name: "Oscar Occasional", Email: "oscar@example.com",
			Summary: "1 order, 25.00 spent", orders: 1, spend: 2500},
		{ID: "gid://shopify/Customer/3", Name: "Nina New", Email: "nina@example.com",
			Summary: "no orders yet"},
	}
}

// demoOffers shows the main kinds: a reward for regulars (purchase behaviour), buy one get one,
// tiers for VIPs, first-order welcome, an automatic order discount and free shipping by code.
func demoOffers() []discountfn.Offer {
	cw := func(order, product, shipping bool) discountfn.CombinesWith {
		return discountfn.CombinesWith{OrderDiscounts: order, ProductDiscounts: product, ShippingDiscounts: shipping}
	}
	base := func(id, name, title string) discountfn.Offer {
		return discountfn.Offer{
			Version: discountfn.ConfigVersion, ID: id, Name: name, Status: discountfn.StatusActive,
			Application: discountfn.Application{Kind: discountfn.ApplyAutomatic},
			Condition:   discountfn.Condition{Qualifying: discountfn.ItemSet{Scope: discountfn.ScopeAll}},
			Eligibility: discountfn.Eligibility{Audience: discountfn.AudienceAll},
			Preview:     discountfn.Preview{Title: title, Visible: true},
		}
	}
	regulars := base("demo-regulars-15", "Regulars reward", "15% off for our regulars")
	regulars.Application = discountfn.Application{Kind: discountfn.ApplyCode, Code: "REGULAR15"}
	regulars.Value = discountfn.Value{Kind: discountfn.ValuePercentage, Percentage: 15_00, Cap: 30_00}
	regulars.Behaviour = &discountfn.Behaviour{Period: discountfn.Period{Unit: discountfn.PeriodMonths, Count: 6}, MinOrders: 3, MinSpend: 100_00}
	regulars.Limits = discountfn.Limits{UsesPerCustomer: 1}
	regulars.Stacking = discountfn.Stacking{Priority: 20, CombinesWith: cw(false, true, true)}

	bogo := base("demo-socks-bogo", "Socks BOGO", "Buy one pair of socks, get one free")
	bogo.Value = discountfn.Value{Kind: discountfn.ValuePercentage, Percentage: discountfn.PercentWhole, MaxTargetQuantity: 1}
	bogo.Condition = discountfn.Condition{Qualifying: discountfn.ItemSet{Scope: discountfn.ScopeCollections,
		Collections: []string{demoCollectionSocks}}, MinQuantity: 2}
	bogo.Stacking = discountfn.Stacking{Priority: 10, CombinesWith: cw(true, false, true)}

	vip := base("demo-vip-tiers", "VIP tiers", "VIP savings")
	vip.Eligibility = discountfn.Eligibility{Audience: discountfn.AudienceTags, CustomerTags: []string{"VIP"}}
	vip.Value = discountfn.Value{Kind: discountfn.ValueTiered, TierBasis: discountfn.TierBySubtotal, Tiers: []discountfn.Tier{
		{Threshold: 50_00, Kind: discountfn.ValueFixed, Amount: 5_00},
		{Threshold: 150_00, Kind: discountfn.ValuePercentage, Percentage: 10_00, FreeShipping: true},
	}}
	vip.Stacking = discountfn.Stacking{Priority: 15, CombinesWith: cw(false, true, true)}

	welcome := base("demo-welcome", "Welcome", "10% off your first order")
	welcome.Application = discountfn.Application{Kind: discountfn.ApplyCode, Code: "WELCOME10"}
	welcome.Value = discountfn.Value{Kind: discountfn.ValuePercentage, Percentage: 10_00}
	welcome.Eligibility.FirstOrderOnly = true
	welcome.Limits = discountfn.Limits{UsesPerCustomer: 1}
	welcome.Stacking = discountfn.Stacking{Priority: 5, CombinesWith: cw(false, true, true)}

	order := base(demoOrderOfferID, "Regulars 10% off", "10% off orders over 50.00")
	order.Value = discountfn.Value{Kind: discountfn.ValuePercentage, Percentage: 10_00}
	order.Condition.MinSubtotal = 50_00
	order.Stacking = discountfn.Stacking{Priority: 1, CombinesWith: cw(false, true, true)}

	ship := base(demoFreeShipOffer, "Free shipping code", "Free shipping")
	ship.Application = discountfn.Application{Kind: discountfn.ApplyCode, Code: "FREESHIP"}
	ship.Value = discountfn.Value{Kind: discountfn.ValueFreeShipping, ShippingRateCeiling: 20_00}
	ship.Stacking = discountfn.Stacking{Priority: 5, CombinesWith: cw(true, true, false)}

	return []discountfn.Offer{regulars, bogo, vip, welcome, order, ship}
}

// demoOfferSet compiles the demo offers.
func demoOfferSet() (*discountfn.OfferSet, error) {
	set, err := discountfn.NewOfferSet(discountfn.Settings{Currency: "USD", Location: time.UTC}, demoOffers(), nil)
	if err != nil {
		return nil, fmt.Errorf("demo offers: %w", err)
	}
	return set, nil
}

// seedDemo puts the demo shop into the store, unless it is there already (a merchant's edits
// on an existing development database are kept): the shop, its offers, and its customers'
// order history, delivered as signed webhooks through the same receiver the platform uses.
// It then prints a checkout token for the shop with a curl command for addr.
func seedDemo(ctx context.Context, st *store.Store, rcv *webhooks.Receiver, secret, key []byte, addr net.Addr, now time.Time, w io.Writer) error {
	if _, err := st.GetShop(ctx, demoShop); errors.Is(err, store.ErrNotFound) {
		if err := seedDemoShop(ctx, st, rcv, secret, now); err != nil {
			return fmt.Errorf("seed demo shop: %w", err)
		}
	} else if err != nil {
		return fmt.Errorf("seed demo shop: %w", err)
	}
	token, err := MintCheckoutToken(key, demoShop, now)
	if err != nil {
		return fmt.Errorf("demo token: %w", err)
	}
	body, err := json.Marshal(demoInput(demoOrderOfferID))
	if err != nil {
		return fmt.Errorf("demo input: %w", err)
	}
	base := "http://" + browsableHost(addr)
	_, err = fmt.Fprintf(w, `
DEVELOPMENT MODE: demo shop %s (offers, customers and their order history) is in the database.
Open the checkout simulator:
  %s/
Checkout token (signed with the development key):
  %s
Try the checkout endpoint:
  curl -sS -X POST '%s/checkout/cart-lines' -H 'Authorization: Bearer %s' -H 'Content-Type: application/json' --data '%s'

`, demoShop, base, token, base, token, body)
	if err != nil {
		return fmt.Errorf("print demo: %w", err)
	}
	return nil
}

func seedDemoShop(ctx context.Context, st *store.Store, rcv *webhooks.Receiver, secret []byte, now time.Time) error {
	if _, err := st.UpsertShop(ctx, store.Shop{Domain: demoShop, Currency: "USD", Timezone: "UTC"}); err != nil {
		return err
	}
	for _, o := range demoOffers() {
		config, err := json.Marshal(o)
		if err != nil {
			return err
		}
		if _, err := st.SaveOffer(ctx, demoShop, o.ID, string(o.Status), config, 0); err != nil {
			return err
		}
	}
	for _, c := range demoCustomers() {
		for i, order := range demoOrders(c, now) {
			body, err := json.Marshal(order)
			if err != nil {
				return err
			}
			_, err = rcv.Receive(ctx, webhooks.Delivery{
				Topic: "orders/create", Shop: demoShop, EventID: fmt.Sprintf("demo-%s-%d", c.ID, i),
				Signature: webhooks.Sign(secret, body), Body: body, TriggeredAt: now,
			})
			if err != nil {
				return err
			}
		}
	}
	return nil
}

// demoOrders is a demo customer's history as order webhook bodies: one order a month, ending
// a week ago, the oldest using the customer's codes.
func demoOrders(c demoCustomer, now time.Time) []map[string]any {
	var orders []map[string]any
	for i := 0; i < c.orders; i++ {
		placed := now.AddDate(0, -i, -7).UTC().Format(time.RFC3339)
		id := 1_000_000*demoCustomerNumber(c.ID) + int64(i) + 1
		order := map[string]any{
			"id": id, "email": c.Email, "created_at": placed, "updated_at": placed,
			"currency": "USD", "presentment_currency": "USD", "financial_status": "paid", "test": false,
			"total_price": discountfn.FormatMoney(c.spend, 2), "subtotal_price": discountfn.FormatMoney(c.spend, 2),
			"total_discounts":       "0.00",
			"payment_gateway_names": []string{"shopify_payments"},
			"customer":              map[string]any{"id": demoCustomerNumber(c.ID), "email": c.Email, "tags": strings.Join(c.Tags, ", ")},
			"shipping_lines":        []map[string]any{{"title": "Standard", "price": "4.99"}},
			"line_items": []map[string]any{{
				"id": id*10 + 1, "product_id": 21, "variant_id": 2101, "quantity": 1, "price": discountfn.FormatMoney(c.spend, 2),
			}},
		}
		if i == c.orders-1 {
			var codes []map[string]any
			for _, code := range c.codes {
				codes = append(codes, map[string]any{"code": code, "amount": "0.00", "type": "percentage"})
			}
			order["discount_codes"] = codes
		}
		orders = append(orders, order)
	}
	return orders
}

// demoCustomerNumber is the numeric id in a customer gid.
func demoCustomerNumber(gid string) int64 {
	n, _ := strconv.ParseInt(gid[strings.LastIndexByte(gid, '/')+1:], 10, 64)
	return n
}

// demoInput is a function input for a 60.00 cart of two lines, called by offerID's discount.
func demoInput(offerID string) map[string]any {
	line := func(n int, price string, qty int, subtotal string) map[string]any {
		return map[string]any{
			"id":       fmt.Sprintf("gid://shopify/CartLine/%d", n),
			"quantity": qty,
			"cost": map[string]any{
				"amountPerQuantity": map[string]any{"amount": price, "currencyCode": "USD"},
				"subtotalAmount":    map[string]any{"amount": subtotal, "currencyCode": "USD"},
			},
			"merchandise": map[string]any{
				"__typename": "ProductVariant",
				"id":         fmt.Sprintf("gid://shopify/ProductVariant/%d", 100+n),
				"product":    map[string]any{"id": fmt.Sprintf("gid://shopify/Product/%d", 10+n), "isGiftCard": false},
			},
		}
	}
	return map[string]any{
		"cart": map[string]any{
			"lines": []any{line(0, "20.0", 2, "40.0"), line(1, "20.0", 1, "20.0")},
			"cost":  map[string]any{"subtotalAmount": map[string]any{"amount": "60.0", "currencyCode": "USD"}},
			"buyerIdentity": map[string]any{
				"email": "regular@example.com", "isAuthenticated": false,
			},
			"deliveryGroups": []any{},
		},
		"discount": map[string]any{
			"discountClasses": []string{"ORDER", "PRODUCT"},
			"metafield": map[string]any{
				"jsonValue": map[string]any{"version": 1, "offer_id": offerID},
			},
		},
		"enteredDiscountCodes":    []string{},
		"presentmentCurrencyRate": "1.0",
	}
}

// browsableHost is addr with an unspecified IP (":8080") replaced by localhost.
func browsableHost(addr net.Addr) string {
	tcp, ok := addr.(*net.TCPAddr)
	if !ok {
		return addr.String()
	}
	host := "localhost"
	if tcp.IP != nil && !tcp.IP.IsUnspecified() {
		host = tcp.IP.String()
	}
	return net.JoinHostPort(host, fmt.Sprint(tcp.Port))
}
