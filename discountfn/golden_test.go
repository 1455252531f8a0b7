package discountfn

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

// A golden vector is a shop (offers, segments, codes), what we know of one buyer, a moment,
// and one or more carts with the answer worked out by hand. The files in testdata/ are the
// engine's specification: each seed example and each offer type has one.
type goldenVector struct {
	Name        string          `json:"name"`
	Description string          `json:"description"`
	Settings    goldenSettings  `json:"settings"`
	Offers      []Offer         `json:"offers"`
	Segments    []Segment       `json:"segments"`
	Codes       MapCodeBook     `json:"codes"`
	Facts       Facts           `json:"facts"`
	Now         time.Time       `json:"now"`
	Requests    []goldenRequest `json:"requests"`
}

type goldenSettings struct {
	Currency string `json:"currency"`
	Timezone string `json:"timezone"`
}

type goldenRequest struct {
	Name    string          `json:"name"`
	Target  Target          `json:"target"`
	OfferID string          `json:"offer_id"`
	Explain bool            `json:"explain"`
	Input   json.RawMessage `json:"input"` // the platform's function input, verbatim
	Cart    *shortCart      `json:"cart"`  // or a shorthand expanded by expandCart
	Want    goldenWant      `json:"want"`
}

// goldenWant: operations are compared exactly; outcomes and hints on the fields given.
type goldenWant struct {
	Operations json.RawMessage `json:"operations"`
	Outcomes   []wantOutcome   `json:"outcomes"`
	Hints      []Hint          `json:"hints"`
	Error      string          `json:"error"`
}

type wantOutcome struct {
	OfferID        string           `json:"offer_id"`
	Applied        bool             `json:"applied"`
	Reason         Reason           `json:"reason"`
	Amount         *Money           `json:"amount"`
	ShippingAmount *Money           `json:"shipping_amount"`
	Lines          []LineAllocation `json:"lines"`
}

// shortCart is a compact way to write a function input in a vector.
type shortCart struct {
	Currency       string          `json:"currency"`
	Rate           string          `json:"rate"`
	Lines          []shortLine     `json:"lines"`
	CustomerID     string          `json:"customer_id"`
	Email          string          `json:"email"`
	Phone          string          `json:"phone"`
	NumberOfOrders int             `json:"number_of_orders"`
	Tags           []string        `json:"tags"`
	Codes          []string        `json:"codes"`
	Delivery       []shortDeliv    `json:"delivery"`
	Classes        []DiscountClass `json:"discount_classes"`
}

type shortLine struct {
	ID          string   `json:"id"`
	Product     string   `json:"product"`
	Variant     string   `json:"variant"`
	Price       string   `json:"price"`
	Quantity    int      `json:"qty"`
	Collections []string `json:"collections"`
	GiftCard    bool     `json:"gift_card"`
}

type shortDeliv struct {
	ID       string        `json:"id"`
	City     string        `json:"city"`
	Zip      string        `json:"zip"`
	Country  string        `json:"country"`
	Address1 string        `json:"address1"`
	Selected string        `json:"selected"` // handle of the selected option
	Options  []shortOption `json:"options"`
}

type shortOption struct {
	Handle string `json:"handle"`
	Title  string `json:"title"`
	Method string `json:"method"`
	Cost   string `json:"cost"`
}

// expandCart writes the function input a shorthand cart stands for. Every collection any
// offer names is asked about, as the input query does with $collectionIds.
func expandCart(sc *shortCart, set *OfferSet) *Input {
	cur := sc.Currency
	if cur == "" {
		cur = set.settings.Currency
	}
	money := func(a string) MoneyV2 { return MoneyV2{Amount: a, CurrencyCode: cur} }
	in := &Input{PresentmentCurrencyRate: sc.Rate, EnteredDiscountCodes: sc.Codes}
	if in.PresentmentCurrencyRate == "" {
		in.PresentmentCurrencyRate = "1.0"
	}
	if in.EnteredDiscountCodes == nil {
		in.EnteredDiscountCodes = []string{}
	}
	in.Discount.DiscountClasses = sc.Classes
	for _, l := range sc.Lines {
		var members []CollectionMembership
		for _, col := range set.CollectionIDs() {
			isMember := false
			for _, have := range l.Collections {
				isMember = isMember || have == col
			}
			members = append(members, CollectionMembership{CollectionID: col, IsMember: isMember})
		}
		variant := l.Variant
		if variant == "" {
			variant = strings.Replace(l.Product, "Product/", "ProductVariant/", 1)
		}
		in.Cart.Lines = append(in.Cart.Lines, CartLine{
			ID: l.ID, Quantity: l.Quantity,
			Cost: CartLineCost{AmountPerQuantity: money(l.Price), SubtotalAmount: money(l.Price)},
			Merchandise: Merchandise{Typename: "ProductVariant", ID: variant,
				Product: &Product{ID: l.Product, IsGiftCard: l.GiftCard, InCollections: members}},
		})
	}
	in.Cart.Cost = &CartCost{SubtotalAmount: money("0.0")}
	bi := &BuyerIdentity{}
	if sc.Email != "" {
		bi.Email = &sc.Email
	}
	if sc.Phone != "" {
		bi.Phone = &sc.Phone
	}
	if sc.CustomerID != "" {
		bi.IsAuthenticated = true
		cu := &Customer{ID: sc.CustomerID, NumberOfOrders: sc.NumberOfOrders}
		for _, t := range set.CustomerTags() {
			has := false
			for _, mine := range sc.Tags {
				has = has || strings.EqualFold(mine, t)
			}
			cu.HasTags = append(cu.HasTags, HasTagResponse{Tag: t, HasTag: has})
		}
		bi.Customer = cu
	}
	in.Cart.BuyerIdentity = bi
	in.Cart.DeliveryGroups = []CartDeliveryGroup{}
	for _, d := range sc.Delivery {
		g := CartDeliveryGroup{ID: d.ID, DeliveryAddress: &MailingAddress{
			Address1: ptr(d.Address1), City: ptr(d.City), Zip: ptr(d.Zip), CountryCode: ptr(d.Country)}}
		for _, o := range d.Options {
			opt := CartDeliveryOption{Handle: o.Handle, Title: ptr(o.Title), Cost: money(o.Cost), DeliveryMethodType: o.Method}
			if opt.DeliveryMethodType == "" {
				opt.DeliveryMethodType = "SHIPPING"
			}
			g.DeliveryOptions = append(g.DeliveryOptions, opt)
			if o.Handle == d.Selected {
				sel := opt
				g.SelectedDeliveryOption = &sel
			}
		}
		in.Cart.DeliveryGroups = append(in.Cart.DeliveryGroups, g)
	}
	return in
}

func ptr(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func loadGolden(t *testing.T) map[string]goldenVector {
	t.Helper()
	files, err := filepath.Glob(filepath.Join("testdata", "*.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no golden vectors in testdata: %v", err)
	}
	out := map[string]goldenVector{}
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var v goldenVector
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&v); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		out[filepath.Base(f)] = v
	}
	return out
}

func (v *goldenVector) offerSet(t *testing.T) *OfferSet {
	t.Helper()
	loc := time.UTC
	if v.Settings.Timezone != "" {
		var err error
		if loc, err = time.LoadLocation(v.Settings.Timezone); err != nil {
			t.Fatal(err)
		}
	}
	for i := range v.Offers {
		if v.Offers[i].Version == 0 {
			v.Offers[i].Version = ConfigVersion
		}
	}
	set, err := NewOfferSet(Settings{Currency: v.Settings.Currency, Location: loc}, v.Offers, v.Segments)
	if err != nil {
		t.Fatalf("offer set: %v", err)
	}
	return set
}

func (r *goldenRequest) input(t *testing.T, set *OfferSet) *Input {
	t.Helper()
	if r.Cart != nil {
		return expandCart(r.Cart, set)
	}
	var in Input
	if err := json.Unmarshal(r.Input, &in); err != nil {
		t.Fatalf("input: %v", err)
	}
	return &in
}

func TestGoldenVectors(t *testing.T) {
	for file, v := range loadGolden(t) {
		t.Run(file, func(t *testing.T) {
			set := v.offerSet(t)
			for _, r := range v.Requests {
				t.Run(r.Name, func(t *testing.T) {
					target := r.Target
					if target == "" {
						target = TargetCartLines
					}
					var codes CodeBook
					if v.Codes != nil {
						codes = v.Codes
					}
					req := Request{Input: r.input(t, set), Target: target, OfferID: r.OfferID,
						Facts: v.Facts, Codes: codes, Now: v.Now, Explain: r.Explain}
					res, err := set.Evaluate(req)
					if r.Want.Error != "" {
						if err == nil || !strings.Contains(err.Error(), r.Want.Error) {
							t.Fatalf("error = %v, want it to contain %q", err, r.Want.Error)
						}
						return
					}
					if err != nil {
						t.Fatal(err)
					}
					// A platform call publishes line allocations for the calling offer only;
					// an explaining run publishes them for every offer.
					req.Explain = true
					full, err := set.Evaluate(req)
					if err != nil {
						t.Fatal(err)
					}
					checkGolden(t, &r.Want, &res, &full)

					// The checkout asks for no hints; nothing else may change.
					req.Explain, req.NoHints = r.Explain, true
					bare, err := set.Evaluate(req)
					if err != nil {
						t.Fatal(err)
					}
					if len(bare.Hints) != 0 {
						t.Errorf("NoHints: hints %+v, want none", bare.Hints)
					}
					if !reflect.DeepEqual(bare.Operations, res.Operations) || !reflect.DeepEqual(bare.Outcomes, res.Outcomes) {
						t.Errorf("NoHints changed the result:\n got %+v\nwant %+v", bare, res)
					}

					// A loader may keep the buyer's per-identity counts apart from the shop's
					// usage (Facts.BuyerUsage): the same answer.
					if apart, moved := identityUsageApart(v.Facts); moved {
						req.Facts = apart
						got, err := set.Evaluate(req)
						if err != nil {
							t.Fatal(err)
						}
						if !reflect.DeepEqual(got, bare) {
							t.Errorf("with BuyerUsage:\n got %+v\nwant %+v", got, bare)
						}
					}
				})
			}
		})
	}
}

func checkGolden(t *testing.T, want *goldenWant, res, full *Result) {
	t.Helper()
	if want.Operations != nil {
		got, _ := json.Marshal(res.RunResult().Operations)
		if !jsonEqual(t, got, want.Operations) {
			t.Errorf("operations\n got: %s\nwant: %s", got, compactJSON(want.Operations))
		}
	}
	byID := map[string]Outcome{}
	for _, o := range res.Outcomes {
		byID[o.OfferID] = o
	}
	linesByID := map[string][]LineAllocation{}
	for _, o := range full.Outcomes {
		linesByID[o.OfferID] = o.Lines
	}
	for _, w := range want.Outcomes {
		got, ok := byID[w.OfferID]
		if !ok {
			if w.Applied || w.Reason != "" {
				t.Errorf("offer %s: no outcome, want applied=%v reason=%q", w.OfferID, w.Applied, w.Reason)
			}
			continue
		}
		if got.Applied != w.Applied || got.Reason != w.Reason {
			t.Errorf("offer %s: applied=%v reason=%q (%s), want applied=%v reason=%q", w.OfferID, got.Applied, got.Reason, got.Detail, w.Applied, w.Reason)
		}
		if w.Amount != nil && got.Amount != *w.Amount {
			t.Errorf("offer %s: amount %d, want %d", w.OfferID, got.Amount, *w.Amount)
		}
		if w.ShippingAmount != nil && got.ShippingAmount != *w.ShippingAmount {
			t.Errorf("offer %s: shipping %d, want %d", w.OfferID, got.ShippingAmount, *w.ShippingAmount)
		}
		if w.Lines != nil && fmt.Sprint(linesByID[w.OfferID]) != fmt.Sprint(w.Lines) {
			t.Errorf("offer %s: lines %v, want %v", w.OfferID, linesByID[w.OfferID], w.Lines)
		}
	}
	if want.Hints != nil && fmt.Sprint(res.Hints) != fmt.Sprint(want.Hints) {
		t.Errorf("hints %+v, want %+v", res.Hints, want.Hints)
	}
}

func jsonEqual(t *testing.T, a, b []byte) bool {
	t.Helper()
	return bytes.Equal(compactJSON(a), compactJSON(b))
}

func compactJSON(b []byte) []byte {
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		return b
	}
	out, _ := json.Marshal(v)
	return out
}

// identityUsageApart moves facts' per-identity usage into BuyerUsage; moved is false when
// there was none.
func identityUsageApart(f Facts) (Facts, bool) {
	out := f
	out.Usage = Usage{Offers: map[string]OfferUsage{}}
	moved := false
	for id, u := range f.Usage.Offers {
		if len(u.ByIdentity) > 0 {
			if out.BuyerUsage == nil {
				out.BuyerUsage = map[string]map[string]int{}
			}
			out.BuyerUsage[id] = u.ByIdentity
			u.ByIdentity = nil
			moved = true
		}
		out.Usage.Offers[id] = u
	}
	return out, moved
}
