package shopgen

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"

	"github.com/regularsapp/regulars/discountfn"
)

// CartSpec describes a checkout of a generated shop, as the discount function's fetch target
// sends it: who buys (an identity and tags, or nobody logged in), how many lines, which codes
// were entered, and which of our offers' platform discount is calling. Collections and
// CustomerTags are what the input query asks the platform about: every collection and tag the
// shop's offers name (discountfn.OfferSet's CollectionIDs and CustomerTags).
type CartSpec struct {
	Buyer        *Identity // nil: a shopper who is not logged in
	BuyerTags    []string
	Lines        int
	Codes        []string
	Triggering   string // the code that triggered the calling discount ("" for an automatic one)
	OfferID      string
	Classes      []discountfn.DiscountClass // the calling discount's classes
	Collections  []string
	CustomerTags []string
	Seed         uint64 // which products, how many of each
}

// Input is the function input for spec, with prices and collection membership from the
// catalog.
func (c *Catalog) Input(spec CartSpec) (*discountfn.Input, error) {
	rng := rand.New(rand.NewPCG(spec.Seed, 0xca27))
	money := func(m discountfn.Money) discountfn.MoneyV2 {
		return discountfn.MoneyV2{Amount: discountfn.FormatMoney(m, 2), CurrencyCode: Currency}
	}
	in := &discountfn.Input{EnteredDiscountCodes: spec.Codes, PresentmentCurrencyRate: "1.0"}
	if in.EnteredDiscountCodes == nil {
		in.EnteredDiscountCodes = []string{}
	}
	var subtotal discountfn.Money
	for l := range spec.Lines {
		p := c.popularProduct(rng)
		qty := 1 + rng.IntN(3)
		member := make(map[string]bool, len(p.Collections))
		for _, col := range p.Collections {
			member[col] = true
		}
		product := &discountfn.Product{ID: p.ID, IsGiftCard: p.GiftCard}
		for _, col := range spec.Collections {
			product.InCollections = append(product.InCollections, discountfn.CollectionMembership{CollectionID: col, IsMember: member[col]})
		}
		in.Cart.Lines = append(in.Cart.Lines, discountfn.CartLine{
			ID:       fmt.Sprintf("gid://shopify/CartLine/%d", l+1),
			Quantity: qty,
			Cost: discountfn.CartLineCost{
				AmountPerQuantity: money(p.Price),
				SubtotalAmount:    money(p.Price * discountfn.Money(qty)),
			},
			Merchandise: discountfn.Merchandise{Typename: "ProductVariant", ID: p.VariantIDs[rng.IntN(len(p.VariantIDs))], Product: product},
		})
		subtotal += p.Price * discountfn.Money(qty)
	}
	in.Cart.Cost = &discountfn.CartCost{SubtotalAmount: money(subtotal)}

	standard, express := "Standard", "Express"
	group := discountfn.CartDeliveryGroup{
		ID: "gid://shopify/CartDeliveryGroup/1",
		DeliveryOptions: []discountfn.CartDeliveryOption{
			{Handle: "standard", Title: &standard, Code: &standard, Cost: money(499), DeliveryMethodType: "SHIPPING"},
			{Handle: "express", Title: &express, Code: &express, Cost: money(999), DeliveryMethodType: "SHIPPING"},
		},
	}
	group.SelectedDeliveryOption = &group.DeliveryOptions[rng.IntN(2)]
	if b := spec.Buyer; b != nil {
		group.DeliveryAddress = &discountfn.MailingAddress{Address1: &b.Address1, City: &b.City, CountryCode: &b.Country, Zip: &b.Zip}
		has := make(map[string]bool, len(spec.BuyerTags))
		for _, t := range spec.BuyerTags {
			has[t] = true
		}
		customer := &discountfn.Customer{ID: b.ID, Email: &b.Email}
		for _, t := range spec.CustomerTags {
			customer.HasTags = append(customer.HasTags, discountfn.HasTagResponse{Tag: t, HasTag: has[t]})
		}
		in.Cart.BuyerIdentity = &discountfn.BuyerIdentity{Customer: customer, Email: &b.Email, IsAuthenticated: true}
		if b.Phone != "" {
			in.Cart.BuyerIdentity.Phone = &b.Phone
		}
	}
	in.Cart.DeliveryGroups = []discountfn.CartDeliveryGroup{group}

	cfg, err := json.Marshal(discountfn.DiscountConfig{Version: 1, OfferID: spec.OfferID,
		Endpoint: "https://regulars.example/checkout", CollectionIDs: nonNil(spec.Collections), CustomerTags: nonNil(spec.CustomerTags)})
	if err != nil {
		return nil, fmt.Errorf("shopgen: discount configuration: %w", err)
	}
	in.Discount = discountfn.Discount{DiscountClasses: spec.Classes, Metafield: &discountfn.Metafield{JSONValue: cfg}}
	if spec.Triggering != "" {
		code := spec.Triggering
		in.TriggeringDiscountCode = &code
	}
	return in, nil
}

func nonNil(list []string) []string {
	if list == nil {
		return []string{}
	}
	return list
}
