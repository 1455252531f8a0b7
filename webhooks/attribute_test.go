package webhooks

import (
	"reflect"
	"testing"
	"time"

	"github.com/regularsapp/regulars/discountfn"
	"github.com/regularsapp/regulars/store"
)

func codeOffer(id, code string) discountfn.Offer {
	return discountfn.Offer{ID: id, Name: id, Application: discountfn.Application{Kind: discountfn.ApplyCode, Code: code}}
}

func codesOffer(id string) discountfn.Offer {
	return discountfn.Offer{ID: id, Name: id, Application: discountfn.Application{Kind: discountfn.ApplyCodes}}
}

func automaticOffer(id, name, title string) discountfn.Offer {
	return discountfn.Offer{ID: id, Name: name, Application: discountfn.Application{Kind: discountfn.ApplyAutomatic},
		Preview: discountfn.Preview{Title: title}}
}

func TestAttribute(t *testing.T) {
	paris, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		t.Fatal(err)
	}
	// 23:30 UTC on the 1st is already the 2nd in Paris.
	placed := mustTime(t, "2026-03-01T23:30:00Z")
	base := store.Order{
		Shop: testShop, ID: "1001", CustomerID: "gid://shopify/Customer/7", Email: "jo@gmail.com",
		Phone: "+33123456789", AddressKey: "abc123", BrowserIP: "203.0.113.7",
		PlacedAt: placed, Total: 9000,
	}
	allKeys := []string{"customer:gid://shopify/Customer/7", "email:jo@gmail.com", "phone:+33123456789", "address:abc123", "ip:203.0.113.7"}
	book := map[string]string{"UNIQUE-1": "many", "ORPHAN": "deleted-offer"}
	lookup := func(code string) (string, bool) { id, ok := book[code]; return id, ok }
	offers := []discountfn.Offer{
		automaticOffer("regulars", "Regulars", "Thanks for coming back"),
		codeOffer("welcome", " welcome10 "),
		codesOffer("many"),
		automaticOffer("vip", "VIP tier", ""),
		codeOffer("unused", "NOPE"),
	}
	red := func(offer, code string, amount discountfn.Money) store.Redemption {
		return store.Redemption{Shop: testShop, OrderID: "1001", OfferID: offer, Code: code, Amount: amount,
			OrderTotal: 9000, PlacedAt: placed, Day: "2026-03-02", IdentityKeys: allKeys}
	}

	tests := []struct {
		name   string
		change func(o *store.Order)
		offers []discountfn.Offer
		loc    *time.Location
		want   []store.Redemption
	}{
		{
			name:   "no discount",
			change: func(o *store.Order) {},
			want:   nil,
		},
		{
			name: "shared code, case-insensitive, amount from its application",
			change: func(o *store.Order) {
				o.Codes = []string{"WELCOME10"}
				o.Applications = []store.DiscountApplication{{Type: "discount_code", Code: "WELCOME10", Amount: 1000}}
			},
			want: []store.Redemption{red("welcome", "WELCOME10", 1000)},
		},
		{
			name: "unique code from the code book; amount unknown is 0",
			change: func(o *store.Order) {
				o.Codes = []string{"UNIQUE-1"}
			},
			want: []store.Redemption{red("many", "UNIQUE-1", 0)},
		},
		{
			name: "code only in a discount application",
			change: func(o *store.Order) {
				o.Applications = []store.DiscountApplication{{Type: "discount_code", Code: "welcome10", Amount: 700}}
			},
			want: []store.Redemption{red("welcome", "WELCOME10", 700)},
		},
		{
			name: "automatic by preview title, without case",
			change: func(o *store.Order) {
				o.Applications = []store.DiscountApplication{{Type: "automatic", Title: "THANKS for coming back ", Amount: 450}}
			},
			want: []store.Redemption{red("regulars", "", 450)},
		},
		{
			name: "automatic by name when it has no preview title",
			change: func(o *store.Order) {
				o.Applications = []store.DiscountApplication{{Type: "automatic", Title: "vip tier", Amount: 300}}
			},
			want: []store.Redemption{red("vip", "", 300)},
		},
		{
			name: "a manual discount with our title is not ours",
			change: func(o *store.Order) {
				o.Applications = []store.DiscountApplication{{Type: "manual", Title: "Thanks for coming back", Amount: 450}}
			},
			want: nil,
		},
		{
			name: "a code offer is never matched by title",
			change: func(o *store.Order) {
				o.Applications = []store.DiscountApplication{{Type: "automatic", Title: "welcome", Amount: 1}}
			},
			want: nil,
		},
		{
			name: "several offers, ordered by offer id; automatic amounts summed",
			change: func(o *store.Order) {
				o.Codes = []string{"unique-1", "WELCOME10", "UNKNOWN"}
				o.Applications = []store.DiscountApplication{
					{Type: "automatic", Title: "Thanks for coming back", Amount: 100},
					{Type: "discount_code", Code: "WELCOME10", Amount: 1000},
					{Type: "automatic", Title: "Thanks for coming back", Amount: 490}, // its shipping part
				}
			},
			want: []store.Redemption{
				red("many", "UNIQUE-1", 0),
				red("regulars", "", 590),
				red("welcome", "WELCOME10", 1000),
			},
		},
		{
			name: "a code of an offer not in the list is ignored",
			change: func(o *store.Order) {
				o.Codes = []string{"ORPHAN"}
			},
			want: nil,
		},
		{
			name: "guest: only the keys it has",
			change: func(o *store.Order) {
				o.CustomerID, o.Phone, o.AddressKey, o.BrowserIP = "", "", "", ""
				o.Codes = []string{"WELCOME10"}
			},
			want: []store.Redemption{{Shop: testShop, OrderID: "1001", OfferID: "welcome", Code: "WELCOME10",
				OrderTotal: 9000, PlacedAt: placed, Day: "2026-03-02", IdentityKeys: []string{"email:jo@gmail.com"}}},
		},
		{
			name: "day in UTC when no location",
			change: func(o *store.Order) {
				o.Codes = []string{"WELCOME10"}
			},
			loc: time.UTC,
			want: []store.Redemption{{Shop: testShop, OrderID: "1001", OfferID: "welcome", Code: "WELCOME10",
				OrderTotal: 9000, PlacedAt: placed, Day: "2026-03-01", IdentityKeys: allKeys}},
		},
		{
			name:   "duplicate offer ids give one row",
			offers: []discountfn.Offer{codeOffer("welcome", "WELCOME10"), codeOffer("welcome", "WELCOME10")},
			change: func(o *store.Order) {
				o.Codes = []string{"WELCOME10"}
			},
			want: []store.Redemption{red("welcome", "WELCOME10", 0)},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := base
			tt.change(&o)
			offs := tt.offers
			if offs == nil {
				offs = offers
			}
			loc := paris
			if tt.loc != nil {
				loc = tt.loc
			}
			got := Attribute(o, offs, lookup, loc)
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Attribute =\n%+v\nwant\n%+v", got, tt.want)
			}
		})
	}
}

func TestAttributeNilLookupAndLocation(t *testing.T) {
	o := store.Order{Shop: testShop, ID: "1", Codes: []string{"WELCOME10"}, PlacedAt: mustTime(t, "2026-03-01T23:30:00Z")}
	got := Attribute(o, []discountfn.Offer{codeOffer("welcome", "welcome10"), codesOffer("many")}, nil, nil)
	if len(got) != 1 || got[0].OfferID != "welcome" || got[0].Day != "2026-03-01" || got[0].IdentityKeys != nil {
		t.Errorf("Attribute = %+v", got)
	}
}

// TestAttributeSkipsDrafts: a draft was never live, so an order using its code (a duplicate
// keeps its original's code) is the original's use only.
func TestAttributeSkipsDrafts(t *testing.T) {
	o := store.Order{Shop: testShop, ID: "1", Codes: []string{"E2E15"}, PlacedAt: mustTime(t, "2026-03-01T12:00:00Z")}
	live, copied := codeOffer("live", "E2E15"), codeOffer("copy", "E2E15")
	live.Status, copied.Status = discountfn.StatusPaused, discountfn.StatusDraft
	got := Attribute(o, []discountfn.Offer{copied, live}, nil, nil)
	if len(got) != 1 || got[0].OfferID != "live" {
		t.Errorf("Attribute = %+v; want the live offer's use only", got)
	}
}
