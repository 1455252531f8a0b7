package discountfn

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"slices"
	"testing"

	"github.com/regularsapp/regulars/graphql/schemacheck"
)

func TestHideCashOnDelivery(t *testing.T) {
	noCOD, plain := validPercentageOffer(), validPercentageOffer()
	noCOD.ID, plain.ID = "no-cod", "plain"
	noCOD.Limits.DisableCashOnDelivery = true
	set, err := NewOfferSet(Settings{Currency: "USD"}, []Offer{noCOD, plain}, nil)
	if err != nil {
		t.Fatal(err)
	}
	schema, err := schemacheck.LoadFiles(filepath.Join("payments", "schema.graphql"))
	if err != nil {
		t.Fatal(err)
	}
	ours := func(offerID string) PaymentDiscount {
		return PaymentDiscount{Metafield: &Metafield{JSONValue: json.RawMessage(fmt.Sprintf(`{"version":1,"offer_id":%q}`, offerID))}}
	}
	methods := []PaymentMethod{
		{ID: "gid://shopify/PaymentCustomizationPaymentMethod/1", Name: "Credit card"},
		{ID: "gid://shopify/PaymentCustomizationPaymentMethod/2", Name: " cash on delivery (cod) "},
		{ID: "gid://shopify/PaymentCustomizationPaymentMethod/3", Name: "COD"},
	}
	codNames := []string{"Cash on Delivery (COD)", "COD"}
	for _, tc := range []struct {
		name       string
		cart       PaymentCart
		codNames   []string
		wantOffers []string
		wantHidden []string
	}{
		{name: "no discounts", cart: PaymentCart{}},
		{name: "an offer without the switch", cart: PaymentCart{DiscountApplications: []PaymentDiscount{ours("plain")}}},
		{name: "order discount with the switch", cart: PaymentCart{DiscountApplications: []PaymentDiscount{ours("plain"), ours("no-cod")}},
			wantOffers: []string{"no-cod"}, wantHidden: []string{" cash on delivery (cod) ", "COD"}},
		{name: "found on a line", cart: PaymentCart{Lines: []PaymentLine{{}, {DiscountAllocations: []PaymentAllocation{{DiscountApplication: ours("no-cod")}}}}},
			wantOffers: []string{"no-cod"}, wantHidden: []string{" cash on delivery (cod) ", "COD"}},
		{name: "found on shipping, value as a string", cart: PaymentCart{DeliveryGroups: []PaymentGroup{{DiscountAllocations: []PaymentAllocation{
			{DiscountApplication: PaymentDiscount{Metafield: &Metafield{Value: `{"offer_id":"no-cod"}`}}}}}}},
			wantOffers: []string{"no-cod"}, wantHidden: []string{" cash on delivery (cod) ", "COD"}},
		{name: "once however often applied", cart: PaymentCart{DiscountApplications: []PaymentDiscount{ours("no-cod")},
			Lines: []PaymentLine{{DiscountAllocations: []PaymentAllocation{{DiscountApplication: ours("no-cod")}}}}},
			wantOffers: []string{"no-cod"}, wantHidden: []string{" cash on delivery (cod) ", "COD"}},
		{name: "only the configured names", cart: PaymentCart{DiscountApplications: []PaymentDiscount{ours("no-cod")}}, codNames: []string{"cod"},
			wantOffers: []string{"no-cod"}, wantHidden: []string{"COD"}},
		{name: "no names configured", cart: PaymentCart{DiscountApplications: []PaymentDiscount{ours("no-cod")}}, codNames: []string{},
			wantOffers: []string{"no-cod"}},
		{name: "unknown offer, foreign and broken metafields", cart: PaymentCart{DiscountApplications: []PaymentDiscount{
			ours("deleted"), {}, {Metafield: &Metafield{Value: "not json"}}, {Metafield: &Metafield{JSONValue: json.RawMessage(`{"x":1}`)}}}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			names := codNames
			if tc.codNames != nil {
				names = tc.codNames
			}
			d := set.HideCashOnDelivery(&PaymentInput{Cart: tc.cart, PaymentMethods: methods}, names)
			if !slices.Equal(d.Offers, tc.wantOffers) || !slices.Equal(d.Hidden, tc.wantHidden) {
				t.Errorf("offers %q hidden %q; want %q %q", d.Offers, d.Hidden, tc.wantOffers, tc.wantHidden)
			}
			if len(d.Result.Operations) != len(tc.wantHidden) {
				t.Errorf("%d operations for %d hidden methods", len(d.Result.Operations), len(tc.wantHidden))
			}
			out, err := json.Marshal(d.Result)
			if err != nil {
				t.Fatal(err)
			}
			if err := schema.ValidateValue("CartPaymentMethodsTransformRunResult", out); err != nil {
				t.Errorf("output %s does not match the schema: %v", out, err)
			}
		})
	}
}
