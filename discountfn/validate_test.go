package discountfn

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"
)

// --- fixtures: one valid offer per value kind ---

func validPercentageOffer() Offer {
	return Offer{
		Version:     ConfigVersion,
		ID:          "summer-10",
		Name:        "Summer 10%",
		Campaign:    "summer",
		Status:      StatusActive,
		Application: Application{Kind: ApplyCode, Code: "summer10"}, // lower case is fine
		Value:       Value{Kind: ValuePercentage, Percentage: 1000, Cap: 5000, MaxTargetQuantity: 2},
		Condition:   Condition{Qualifying: ItemSet{Scope: ScopeAll}, MinSubtotal: 2000},
		Eligibility: Eligibility{Audience: AudienceAll},
		Stacking:    Stacking{Priority: 10, CombinesWith: CombinesWith{ProductDiscounts: true}},
		Preview:     Preview{Title: "10% off this summer", Visible: true},
	}
}

func validFixedOffer() Offer {
	yes := true
	return Offer{
		Version:     ConfigVersion,
		ID:          "five_off_shirts",
		Name:        "5 off shirts",
		Status:      StatusDraft,
		Application: Application{Kind: ApplyAutomatic},
		Value: Value{
			Kind:   ValueFixed,
			Amount: 500,
			Targets: &ItemSet{
				Scope:      ScopeProducts,
				ProductIDs: []string{"gid://shopify/Product/1", "gid://shopify/ProductVariant/22"},
			},
		},
		Condition: Condition{
			Qualifying: ItemSet{
				Scope:              ScopeCollections,
				Collections:        []string{"gid://shopify/Collection/7"},
				ExcludeProductIDs:  []string{"gid://shopify/ProductVariant/9"},
				ExcludeGiftCards:   true,
				ExcludeCollections: []string{"gid://shopify/Collection/8"},
			},
			MinQuantity: 2,
			MaxQuantity: 10,
		},
		Eligibility: Eligibility{Audience: AudienceTags, CustomerTags: []string{"VIP", "wholesale"}},
		Stacking:    Stacking{Priority: -5, CombinesWithCodes: &yes},
		Preview:     Preview{Title: "5 off shirts"},
	}
}

func validFreeShippingOffer() Offer {
	return Offer{
		Version:     ConfigVersion,
		ID:          "free-ship",
		Name:        "Free shipping over 50",
		Status:      StatusPaused,
		Application: Application{Kind: ApplyCodes},
		Value:       Value{Kind: ValueFreeShipping, ShippingRateCeiling: 1500},
		Condition:   Condition{MinSubtotal: 5000, MaxSubtotal: 50000},
		Eligibility: Eligibility{
			Audience:    AudienceCustomers,
			CustomerIDs: []string{"gid://shopify/Customer/100", "gid://shopify/Customer/101"},
		},
		Limits: Limits{
			TotalUses:       1000,
			UsesPerCustomer: 1,
			IdentityKeys:    []IdentityKind{IdentityPhone, IdentityAddress},
			UsesPerDay:      50,
		},
		Preview: Preview{Title: "Free shipping", Visible: true, UnlockMessage: "Spend {amount} more for {title}"},
	}
}

func validBuyXGetYOffer() Offer {
	no := false
	return Offer{
		Version:     ConfigVersion,
		ID:          "b2g1",
		Name:        "Buy 2 get 1 free",
		Status:      StatusArchived,
		Application: Application{Kind: ApplyCode, Code: "B2G1"},
		Value: Value{
			Kind:       ValueBuyXGetY,
			Percentage: PercentWhole,
			BuyXGetY: &BuyXGetY{
				Buy:         ItemSet{Scope: ScopeProducts, ProductIDs: []string{"gid://shopify/Product/1"}},
				BuyQuantity: 2,
				Get:         ItemSet{Scope: ScopeCollections, Collections: []string{"gid://shopify/Collection/3"}},
				GetQuantity: 1,
			},
			Cap: 10000,
		},
		Eligibility: Eligibility{Audience: AudienceAll, FirstOrderOnly: true, OrderNumber: &IntRange{Min: 1, Max: 1}},
		Stacking:    Stacking{CombinesWithAutomatic: &no},
	}
}

func validTieredOffer() Offer {
	start := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
	end := start.AddDate(0, 1, 0)
	return Offer{
		Version:     ConfigVersion,
		ID:          "tiers",
		Name:        "Spend more, save more",
		Status:      StatusActive,
		Application: Application{Kind: ApplyAutomatic},
		Value: Value{
			Kind:      ValueTiered,
			TierBasis: TierBySubtotal,
			Tiers: []Tier{
				{Threshold: 5000, Kind: ValueFreeShipping},
				{Threshold: 10000, Kind: ValueFixed, Amount: 1000, FreeShipping: true},
				{Threshold: 20000, Kind: ValuePercentage, Percentage: 1500, FreeShipping: true},
			},
			Cap: 20000,
		},
		Behaviour: &Behaviour{
			Period:            Period{Unit: PeriodMonths, Count: 12},
			MinSpend:          10000,
			MinOrders:         2,
			UsedCodes:         []string{"WELCOME"},
			NotUsedCodes:      []string{"LOYAL5"},
			BoughtProductIDs:  []string{"gid://shopify/Product/5"},
			BoughtCollections: []string{"gid://shopify/Collection/6"},
			DeliveryMethod:    "Royal Mail",
		},
		Eligibility: Eligibility{Audience: AudienceSegment, SegmentID: "vip", OrderNumber: &IntRange{Min: 3}},
		Schedule:    Schedule{StartsAt: &start, EndsAt: &end},
		Stacking:    Stacking{Priority: 1000, Exclusive: true},
		Preview:     Preview{Title: "Save up to 15%", Description: "Tiers:\n- 50: free shipping\n- 100: 10 off", Visible: true},
	}
}

func validOffers() map[ValueKind]func() Offer {
	return map[ValueKind]func() Offer{
		ValuePercentage:   validPercentageOffer,
		ValueFixed:        validFixedOffer,
		ValueFreeShipping: validFreeShippingOffer,
		ValueBuyXGetY:     validBuyXGetYOffer,
		ValueTiered:       validTieredOffer,
	}
}

func validSegment() Segment {
	return Segment{
		ID:       "vip-london",
		Name:     "VIP London",
		Priority: 10,
		Rules: SegmentRules{
			CustomerTags:    []string{"VIP"},
			Cities:          []string{"London"},
			Postcodes:       []string{"SW1"},
			Countries:       []string{"GB", "XK"},
			DeliveryMethods: []string{"Royal Mail"},
			Behaviour:       &Behaviour{Period: Period{Unit: PeriodLifetime}, MinOrders: 3},
		},
	}
}

// --- helpers ---

// problemList returns the problems of a validation error as "path: message" strings.
func problemList(t *testing.T, err error) []string {
	t.Helper()
	if err == nil {
		return nil
	}
	var ve *ValidationError
	if !errors.As(err, &ve) {
		t.Fatalf("error is %T (%v), want *ValidationError", err, err)
	}
	out := make([]string, len(ve.Problems))
	for i, p := range ve.Problems {
		out[i] = p.String()
	}
	return out
}

func checkProblems(t *testing.T, err error, want []string) {
	t.Helper()
	got := problemList(t, err)
	if !reflect.DeepEqual(got, want) {
		t.Errorf("problems:\n got  %s\n want %s", strings.Join(got, "\n      "), strings.Join(want, "\n      "))
	}
}

func gids(kind string, from, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("gid://shopify/%s/%d", kind, from+i)
	}
	return out
}

func ptrTime(t time.Time) *time.Time { return &t }

func ptrBool(b bool) *bool { return &b }

// --- tests ---

func TestValidateValidOffers(t *testing.T) {
	for kind, build := range validOffers() {
		o := build()
		if o.Value.Kind != kind {
			t.Fatalf("fixture for %s has kind %s", kind, o.Value.Kind)
		}
		if err := o.Validate(); err != nil {
			t.Errorf("%s: %v", kind, err)
		}
	}
	if err := (*Offer)(nil).Validate(); err == nil {
		t.Error("nil offer: no error")
	}
}

func TestValidateOffer(t *testing.T) {
	pct := validPercentageOffer
	fixed := validFixedOffer
	ship := validFreeShippingOffer
	bxgy := validBuyXGetYOffer
	tiered := validTieredOffer
	start := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)

	cases := []struct {
		name   string
		base   func() Offer
		mutate func(o *Offer)
		want   []string
	}{
		// top level
		{"version", pct, func(o *Offer) { o.Version = 2 }, []string{"version: must be 1"}},
		{"version missing", pct, func(o *Offer) { o.Version = 0 }, []string{"version: must be 1"}},
		{"id required", pct, func(o *Offer) { o.ID = "" }, []string{"id: is required"}},
		{"id too long", pct, func(o *Offer) { o.ID = strings.Repeat("a", 65) }, []string{"id: must be at most 64 characters"}},
		{"id at limit", pct, func(o *Offer) { o.ID = strings.Repeat("a", 64) }, nil},
		{"id characters", pct, func(o *Offer) { o.ID = "summer 10" }, []string{"id: must contain only letters, digits, '-' and '_'"}},
		{"name required", pct, func(o *Offer) { o.Name = "  " }, []string{"name: is required"}},
		{"name too long", pct, func(o *Offer) { o.Name = strings.Repeat("é", 256) }, []string{"name: must be at most 255 characters"}},
		{"name counts characters not bytes", pct, func(o *Offer) { o.Name = strings.Repeat("é", 255) }, nil},
		{"name control characters", pct, func(o *Offer) { o.Name = "Summer\n10" }, []string{"name: must not contain control characters"}},
		{"name invalid utf-8", pct, func(o *Offer) { o.Name = "Summer \xff" }, []string{"name: must be valid UTF-8"}},
		{"campaign too long", pct, func(o *Offer) { o.Campaign = strings.Repeat("c", 256) }, []string{"campaign: must be at most 255 characters"}},
		{"status required", pct, func(o *Offer) { o.Status = "" }, []string{"status: is required"}},
		{"status unknown", pct, func(o *Offer) { o.Status = "deleted" }, []string{"status: must be one of draft, active, paused, archived"}},
		{"status scheduled is derived", pct, func(o *Offer) { o.Status = StatusScheduled },
			[]string{"status: scheduled is derived from the schedule and cannot be stored; use active"}},
		{"status expired is derived", pct, func(o *Offer) { o.Status = StatusExpired },
			[]string{"status: expired is derived from the schedule and cannot be stored; use active"}},

		// application
		{"application kind required", pct, func(o *Offer) { o.Application = Application{} }, []string{"application.kind: is required"}},
		{"application kind unknown", pct, func(o *Offer) { o.Application.Kind = "link" },
			[]string{"application.kind: must be one of code, codes, automatic"}},
		{"code required", pct, func(o *Offer) { o.Application.Code = "" }, []string{"application.code: is required for a code offer"}},
		{"code too long", pct, func(o *Offer) { o.Application.Code = strings.Repeat("A", 31) },
			[]string{"application.code: must be at most 30 characters"}},
		{"code at limit", pct, func(o *Offer) { o.Application.Code = strings.Repeat("a1", 15) }, nil},
		{"code characters", pct, func(o *Offer) { o.Application.Code = "SAVE-10" },
			[]string{"application.code: must contain only letters and digits"}},
		{"code spaces", pct, func(o *Offer) { o.Application.Code = " SAVE10" },
			[]string{"application.code: must contain only letters and digits"}},
		{"code on codes offer", pct, func(o *Offer) { o.Application.Kind = ApplyCodes },
			[]string{"application.code: must not be set for a codes offer"}},
		{"code on automatic offer", pct, func(o *Offer) { o.Application.Kind = ApplyAutomatic },
			[]string{"application.code: must not be set for an automatic offer"}},

		// value: kinds and fields that belong to other kinds
		{"value kind required", pct, func(o *Offer) { o.Value.Kind = "" }, []string{"value.kind: is required"}},
		{"value kind unknown", pct, func(o *Offer) { o.Value.Kind = "bogo" },
			[]string{"value.kind: must be one of percentage, fixed_amount, free_shipping, buy_x_get_y, tiered"}},
		{"percentage required", pct, func(o *Offer) { o.Value.Percentage = 0 },
			[]string{"value.percentage: is required for a percentage offer"}},
		{"percentage negative", pct, func(o *Offer) { o.Value.Percentage = -5 },
			[]string{"value.percentage: must be more than 0% and at most 100% (got -0.05%)"}},
		{"percentage above 100%", pct, func(o *Offer) { o.Value.Percentage = 10001 },
			[]string{"value.percentage: must be more than 0% and at most 100% (got 100.01%)"}},
		{"percentage 100%", pct, func(o *Offer) { o.Value.Percentage = PercentWhole }, nil},
		{"amount on percentage offer", pct, func(o *Offer) { o.Value.Amount = 100 },
			[]string{"value.amount: must not be set for a percentage offer"}},
		{"amount required", fixed, func(o *Offer) { o.Value.Amount = 0 },
			[]string{"value.amount: is required for a fixed_amount offer"}},
		{"amount negative", fixed, func(o *Offer) { o.Value.Amount = -1 }, []string{"value.amount: must be greater than 0"}},
		{"amount too large", fixed, func(o *Offer) { o.Value.Amount = maxMoney + 1 },
			[]string{"value.amount: must be at most 1000000000000000"}},
		{"percentage on fixed offer", fixed, func(o *Offer) { o.Value.Percentage = 1000 },
			[]string{"value.percentage: must not be set for a fixed_amount offer"}},
		{"percentage on free shipping offer", ship, func(o *Offer) { o.Value.Percentage = 1000 },
			[]string{"value.percentage: must not be set for a free_shipping offer"}},
		{"shipping ceiling negative", ship, func(o *Offer) { o.Value.ShippingRateCeiling = -1 },
			[]string{"value.shipping_rate_ceiling: must not be negative"}},
		{"shipping ceiling on percentage offer", pct, func(o *Offer) { o.Value.ShippingRateCeiling = 1000 },
			[]string{"value.shipping_rate_ceiling: must not be set for a percentage offer"}},
		{"targets on free shipping offer", ship, func(o *Offer) { o.Value.Targets = &ItemSet{Scope: ScopeAll} },
			[]string{"value.targets: must not be set for a free_shipping offer"}},
		{"targets on buy x get y offer", bxgy, func(o *Offer) { o.Value.Targets = &ItemSet{Scope: ScopeAll} },
			[]string{"value.targets: must not be set for a buy_x_get_y offer"}},
		{"targets checked as an item set", fixed, func(o *Offer) { o.Value.Targets.ProductIDs[1] = "22" },
			[]string{"value.targets.product_ids[1]: must be a gid://shopify/Product/… or gid://shopify/ProductVariant/… id"}},
		{"max target quantity negative", pct, func(o *Offer) { o.Value.MaxTargetQuantity = -1 },
			[]string{"value.max_target_quantity: must not be negative"}},
		{"max target quantity on free shipping", ship, func(o *Offer) { o.Value.MaxTargetQuantity = 1 },
			[]string{"value.max_target_quantity: must not be set for a free_shipping offer"}},
		{"max target quantity on tiered", tiered, func(o *Offer) { o.Value.MaxTargetQuantity = 1 },
			[]string{"value.max_target_quantity: must not be set for a tiered offer"}},
		{"max target quantity on buy x get y", bxgy, func(o *Offer) { o.Value.MaxTargetQuantity = 1 },
			[]string{"value.max_target_quantity: must not be set for a buy_x_get_y offer"}},
		{"cap negative", pct, func(o *Offer) { o.Value.Cap = -1 }, []string{"value.cap: must not be negative"}},
		{"cap on free shipping", ship, func(o *Offer) { o.Value.Cap = 100 },
			[]string{"value.cap: must not be set for a free_shipping offer"}},
		{"cap below fixed amount", fixed, func(o *Offer) { o.Value.Cap = 499 },
			[]string{"value.cap: must be at least the amount (500); lower the amount instead"}},

		// value: buy x get y
		{"buy x get y block required", bxgy, func(o *Offer) { o.Value.BuyXGetY = nil },
			[]string{"value.buy_x_get_y: is required for a buy_x_get_y offer"}},
		{"buy x get y block on percentage offer", pct, func(o *Offer) { o.Value.BuyXGetY = validBuyXGetYOffer().Value.BuyXGetY },
			[]string{"value.buy_x_get_y: must not be set for a percentage offer"}},
		{"buy x get y percentage required", bxgy, func(o *Offer) { o.Value.Percentage = 0 },
			[]string{"value.percentage: is required for a buy_x_get_y offer"}},
		{"buy x get y percentage above 100%", bxgy, func(o *Offer) { o.Value.Percentage = 12000 },
			[]string{"value.percentage: must be more than 0% and at most 100% (got 120%)"}},
		{"buy quantity", bxgy, func(o *Offer) { o.Value.BuyXGetY.BuyQuantity = 0 },
			[]string{"value.buy_x_get_y.buy_quantity: must be between 1 and 1000000"}},
		{"get quantity", bxgy, func(o *Offer) { o.Value.BuyXGetY.GetQuantity = -1 },
			[]string{"value.buy_x_get_y.get_quantity: must be between 1 and 1000000"}},
		{"buy set", bxgy, func(o *Offer) { o.Value.BuyXGetY.Buy.ProductIDs = nil },
			[]string{"value.buy_x_get_y.buy.product_ids: must list at least one product when scope is products"}},
		{"get set", bxgy, func(o *Offer) { o.Value.BuyXGetY.Get.Collections[0] = "gid://shopify/Product/3" },
			[]string{"value.buy_x_get_y.get.collection_ids[0]: must be a gid://shopify/Collection/… id"}},

		// value: tiered
		{"tiers required", tiered, func(o *Offer) { o.Value.Tiers = nil },
			[]string{"value.tiers: is required for a tiered offer: 1 to 20 tiers"}},
		{"too many tiers", tiered, func(o *Offer) {
			o.Value.Tiers = nil
			for i := 1; i <= 21; i++ {
				o.Value.Tiers = append(o.Value.Tiers, Tier{Threshold: int64(i) * 1000, Kind: ValueFixed, Amount: Money(i) * 10})
			}
		}, []string{"value.tiers: must have at most 20 tiers"}},
		{"tier basis required", tiered, func(o *Offer) { o.Value.TierBasis = "" },
			[]string{"value.tier_basis: is required for a tiered offer"}},
		{"tier basis unknown", tiered, func(o *Offer) { o.Value.TierBasis = "weight" },
			[]string{"value.tier_basis: must be one of subtotal, quantity"}},
		{"tier threshold positive", tiered, func(o *Offer) { o.Value.Tiers[0].Threshold = 0 },
			[]string{"value.tiers[0].threshold: must be greater than 0"}},
		{"tier thresholds increase", tiered, func(o *Offer) { o.Value.Tiers[2].Threshold = 10000 },
			[]string{"value.tiers[2].threshold: must be greater than tier 1's threshold"}},
		{"tier thresholds by quantity are bounded", tiered, func(o *Offer) {
			o.Value.TierBasis = TierByQuantity
			o.Value.Tiers = o.Value.Tiers[:1]
			o.Value.Tiers[0].Threshold = maxQuantity + 1
		}, []string{"value.tiers[0].threshold: must be at most 1000000"}},
		{"tier kind required", tiered, func(o *Offer) { o.Value.Tiers[0].Kind = "" },
			[]string{"value.tiers[0].kind: is required"}},
		{"tier kind unknown", tiered, func(o *Offer) { o.Value.Tiers[0].Kind = ValueBuyXGetY },
			[]string{"value.tiers[0].kind: must be one of percentage, fixed_amount, free_shipping"}},
		{"percentage tier percentage", tiered, func(o *Offer) { o.Value.Tiers[2].Percentage = 10001 },
			[]string{"value.tiers[2].percentage: must be more than 0% and at most 100% (got 100.01%)"}},
		{"percentage tier percentage required", tiered, func(o *Offer) { o.Value.Tiers[2].Percentage = 0 },
			[]string{"value.tiers[2].percentage: is required for a percentage tier"}},
		{"percentage tier amount", tiered, func(o *Offer) { o.Value.Tiers[2].Amount = 1 },
			[]string{"value.tiers[2].amount: must not be set for a percentage tier"}},
		{"fixed tier amount required", tiered, func(o *Offer) { o.Value.Tiers[1].Amount = 0 },
			[]string{"value.tiers[1].amount: is required for a fixed_amount tier"}},
		{"fixed tier amount negative", tiered, func(o *Offer) { o.Value.Tiers[1].Amount = -10 },
			[]string{"value.tiers[1].amount: must be greater than 0"}},
		{"fixed tier percentage", tiered, func(o *Offer) { o.Value.Tiers[1].Percentage = 500 },
			[]string{"value.tiers[1].percentage: must not be set for a fixed_amount tier"}},
		{"free shipping tier value", tiered, func(o *Offer) {
			o.Value.Tiers[0].Percentage = 500
			o.Value.Tiers[0].Amount = 100
		}, []string{
			"value.tiers[0].percentage: must not be set for a free_shipping tier",
			"value.tiers[0].amount: must not be set for a free_shipping tier",
		}},
		{"tiers on percentage offer", pct, func(o *Offer) { o.Value.Tiers = validTieredOffer().Value.Tiers },
			[]string{"value.tiers: must not be set for a percentage offer"}},
		{"tier basis on fixed offer", fixed, func(o *Offer) { o.Value.TierBasis = TierBySubtotal },
			[]string{"value.tier_basis: must not be set for a fixed_amount offer"}},

		// item sets, through condition.qualifying
		{"scope unknown", pct, func(o *Offer) { o.Condition.Qualifying.Scope = "tags" },
			[]string{"condition.qualifying.scope: must be one of all, products, collections"}},
		{"products scope needs products", pct, func(o *Offer) { o.Condition.Qualifying.Scope = ScopeProducts },
			[]string{"condition.qualifying.product_ids: must list at least one product when scope is products"}},
		{"products scope takes no collections", pct, func(o *Offer) {
			o.Condition.Qualifying = ItemSet{Scope: ScopeProducts, ProductIDs: gids("Product", 1, 1), Collections: gids("Collection", 1, 1)}
		}, []string{"condition.qualifying.collection_ids: must not be set when scope is products"}},
		{"collections scope needs collections", pct, func(o *Offer) { o.Condition.Qualifying.Scope = ScopeCollections },
			[]string{"condition.qualifying.collection_ids: must list at least one collection when scope is collections"}},
		{"collections scope takes no products", pct, func(o *Offer) {
			o.Condition.Qualifying = ItemSet{Scope: ScopeCollections, ProductIDs: gids("Product", 1, 1), Collections: gids("Collection", 1, 1)}
		}, []string{"condition.qualifying.product_ids: must not be set when scope is collections"}},
		{"all scope takes no ids", pct, func(o *Offer) {
			o.Condition.Qualifying = ItemSet{Scope: ScopeAll, ProductIDs: gids("Product", 1, 1), Collections: gids("Collection", 1, 1)}
		}, []string{
			"condition.qualifying.product_ids: must not be set when scope is all",
			"condition.qualifying.collection_ids: must not be set when scope is all",
		}},
		{"empty scope means all", pct, func(o *Offer) {
			o.Condition.Qualifying = ItemSet{ProductIDs: gids("Product", 1, 1), ExcludeProductIDs: gids("Product", 2, 1)}
		}, []string{"condition.qualifying.product_ids: must not be set when scope is all"}},
		{"product ids are product or variant gids", pct, func(o *Offer) {
			o.Condition.Qualifying = ItemSet{Scope: ScopeProducts, ProductIDs: []string{
				"123", "gid://shopify/Product/1", "gid://shopify/Collection/2", "gid://shopify/Product/0",
				"gid://shopify/Product/01", "gid://shopify/ProductVariant/", "gid://shopify/Product/1/2",
				"gid://other/Product/3", "gid://shopify/ProductVariant/4",
			}}
		}, []string{
			"condition.qualifying.product_ids[0]: must be a gid://shopify/Product/… or gid://shopify/ProductVariant/… id",
			"condition.qualifying.product_ids[2]: must be a gid://shopify/Product/… or gid://shopify/ProductVariant/… id",
			"condition.qualifying.product_ids[3]: must be a gid://shopify/Product/… or gid://shopify/ProductVariant/… id",
			"condition.qualifying.product_ids[4]: must be a gid://shopify/Product/… or gid://shopify/ProductVariant/… id",
			"condition.qualifying.product_ids[5]: must be a gid://shopify/Product/… or gid://shopify/ProductVariant/… id",
			"condition.qualifying.product_ids[6]: must be a gid://shopify/Product/… or gid://shopify/ProductVariant/… id",
			"condition.qualifying.product_ids[7]: must be a gid://shopify/Product/… or gid://shopify/ProductVariant/… id",
		}},
		{"collection ids are collection gids", pct, func(o *Offer) {
			o.Condition.Qualifying = ItemSet{Scope: ScopeCollections, Collections: []string{"gid://shopify/Collection/1", "summer"}}
		}, []string{"condition.qualifying.collection_ids[1]: must be a gid://shopify/Collection/… id"}},
		{"product ids not repeated", pct, func(o *Offer) {
			o.Condition.Qualifying = ItemSet{Scope: ScopeProducts, ProductIDs: []string{
				"gid://shopify/Product/1", "gid://shopify/Product/2", "gid://shopify/Product/1",
			}}
		}, []string{"condition.qualifying.product_ids[2]: duplicates product_ids[0]"}},
		{"collection ids not repeated", pct, func(o *Offer) {
			o.Condition.Qualifying = ItemSet{Scope: ScopeCollections, Collections: []string{"gid://shopify/Collection/1", "gid://shopify/Collection/1"}}
		}, []string{"condition.qualifying.collection_ids[1]: duplicates collection_ids[0]"}},
		{"at most 1000 ids", pct, func(o *Offer) {
			o.Condition.Qualifying = ItemSet{Scope: ScopeProducts, ProductIDs: gids("Product", 1, 1001)}
		}, []string{"condition.qualifying.product_ids: must list at most 1000 ids"}},
		{"1000 ids", pct, func(o *Offer) {
			o.Condition.Qualifying = ItemSet{Scope: ScopeProducts, ProductIDs: gids("Product", 1, 1000)}
		}, nil},
		{"excluded ids are gids", pct, func(o *Offer) {
			o.Condition.Qualifying.ExcludeProductIDs = []string{"gid://shopify/Collection/1"}
			o.Condition.Qualifying.ExcludeCollections = []string{"gid://shopify/Product/1"}
		}, []string{
			"condition.qualifying.exclude_product_ids[0]: must be a gid://shopify/Product/… or gid://shopify/ProductVariant/… id",
			"condition.qualifying.exclude_collection_ids[0]: must be a gid://shopify/Collection/… id",
		}},
		{"excluded ids not also included", pct, func(o *Offer) {
			o.Condition.Qualifying = ItemSet{
				Scope:              ScopeCollections,
				Collections:        gids("Collection", 1, 2),
				ExcludeProductIDs:  gids("Product", 1, 1),
				ExcludeCollections: gids("Collection", 2, 1),
			}
		}, []string{"condition.qualifying.exclude_collection_ids[0]: is also in collection_ids (collection_ids[1])"}},

		// condition
		{"min subtotal negative", pct, func(o *Offer) { o.Condition.MinSubtotal = -1 },
			[]string{"condition.min_subtotal: must not be negative"}},
		{"max subtotal negative", pct, func(o *Offer) { o.Condition.MaxSubtotal = -1 },
			[]string{"condition.max_subtotal: must not be negative"}},
		{"max subtotal below min", pct, func(o *Offer) { o.Condition.MaxSubtotal = 1999 },
			[]string{"condition.max_subtotal: must be at least min_subtotal (2000)"}},
		{"max subtotal equal to min", pct, func(o *Offer) { o.Condition.MaxSubtotal = 2000 }, nil},
		{"min quantity negative", fixed, func(o *Offer) { o.Condition.MinQuantity = -1 },
			[]string{"condition.min_quantity: must not be negative"}},
		{"max quantity negative", fixed, func(o *Offer) { o.Condition.MaxQuantity = -1 },
			[]string{"condition.max_quantity: must not be negative"}},
		{"max quantity below min", fixed, func(o *Offer) { o.Condition.MaxQuantity = 1 },
			[]string{"condition.max_quantity: must be at least min_quantity (2)"}},

		// behaviour
		{"period unit required", tiered, func(o *Offer) { o.Behaviour.Period = Period{} },
			[]string{"behaviour.period.unit: is required"}},
		{"period unit unknown", tiered, func(o *Offer) { o.Behaviour.Period.Unit = "years" },
			[]string{"behaviour.period.unit: must be one of lifetime, days, weeks, months"}},
		{"period count required", tiered, func(o *Offer) { o.Behaviour.Period = Period{Unit: PeriodDays} },
			[]string{"behaviour.period.count: must be between 1 and 3650"}},
		{"period days at most 3650", tiered, func(o *Offer) { o.Behaviour.Period = Period{Unit: PeriodDays, Count: 3651} },
			[]string{"behaviour.period.count: must be between 1 and 3650"}},
		{"period weeks at most 520", tiered, func(o *Offer) { o.Behaviour.Period = Period{Unit: PeriodWeeks, Count: 521} },
			[]string{"behaviour.period.count: must be between 1 and 520"}},
		{"period months at most 120", tiered, func(o *Offer) { o.Behaviour.Period = Period{Unit: PeriodMonths, Count: 121} },
			[]string{"behaviour.period.count: must be between 1 and 120"}},
		{"period lifetime has no count", tiered, func(o *Offer) { o.Behaviour.Period = Period{Unit: PeriodLifetime, Count: 3} },
			[]string{"behaviour.period.count: must not be set for a lifetime period"}},
		{"min spend negative", tiered, func(o *Offer) { o.Behaviour.MinSpend = -1 },
			[]string{"behaviour.min_spend: must not be negative"}},
		{"min orders negative", tiered, func(o *Offer) { o.Behaviour.MinOrders = -1 },
			[]string{"behaviour.min_orders: must not be negative"}},
		{"used codes are codes", tiered, func(o *Offer) { o.Behaviour.UsedCodes = []string{"welcome", "WELCOME-10", ""} },
			[]string{
				"behaviour.used_codes[1]: must contain only letters and digits",
				"behaviour.used_codes[2]: must not be empty",
			}},
		{"not used codes are codes", tiered, func(o *Offer) { o.Behaviour.NotUsedCodes = []string{strings.Repeat("X", 31)} },
			[]string{"behaviour.not_used_codes[0]: must be at most 30 characters"}},
		{"codes not repeated", tiered, func(o *Offer) { o.Behaviour.UsedCodes = []string{"WELCOME", "welcome"} },
			[]string{"behaviour.used_codes[1]: duplicates used_codes[0]"}},
		{"code in both lists", tiered, func(o *Offer) { o.Behaviour.NotUsedCodes = []string{"LOYAL5", "Welcome"} },
			[]string{"behaviour.not_used_codes[1]: is also in used_codes (used_codes[0])"}},
		{"bought products are gids", tiered, func(o *Offer) { o.Behaviour.BoughtProductIDs = []string{"gid://shopify/Customer/1"} },
			[]string{"behaviour.bought_product_ids[0]: must be a gid://shopify/Product/… or gid://shopify/ProductVariant/… id"}},
		{"bought collections are gids", tiered, func(o *Offer) { o.Behaviour.BoughtCollections = []string{"7"} },
			[]string{"behaviour.bought_collection_ids[0]: must be a gid://shopify/Collection/… id"}},
		{"delivery method not blank", tiered, func(o *Offer) { o.Behaviour.DeliveryMethod = "  " },
			[]string{"behaviour.delivery_method: must not be blank"}},
		{"behaviour states a condition", pct, func(o *Offer) {
			o.Behaviour = &Behaviour{Period: Period{Unit: PeriodDays, Count: 30}, DeliveryMethod: "Royal Mail"}
		}, []string{"behaviour: states no condition; remove it or add one"}},
		{"behaviour with only not-used codes", pct, func(o *Offer) {
			o.Behaviour = &Behaviour{Period: Period{Unit: PeriodLifetime}, NotUsedCodes: []string{"summer10"}}
		}, nil},

		// eligibility
		{"audience required", pct, func(o *Offer) { o.Eligibility.Audience = "" }, []string{"eligibility.audience: is required"}},
		{"audience unknown", pct, func(o *Offer) { o.Eligibility.Audience = "everyone" },
			[]string{"eligibility.audience: must be one of all, customers, tags, segment"}},
		{"customers needs customers", ship, func(o *Offer) { o.Eligibility.CustomerIDs = nil },
			[]string{"eligibility.customer_ids: must list at least one customer when audience is customers"}},
		{"customer ids are customer gids", ship, func(o *Offer) {
			o.Eligibility.CustomerIDs = []string{"gid://shopify/Customer/1", "customer@example.com", "gid://shopify/Customer/1"}
		}, []string{
			"eligibility.customer_ids[1]: must be a gid://shopify/Customer/… id",
			"eligibility.customer_ids[2]: duplicates customer_ids[0]",
		}},
		{"customer ids only for customers", pct, func(o *Offer) { o.Eligibility.CustomerIDs = gids("Customer", 1, 1) },
			[]string{"eligibility.customer_ids: must not be set when audience is all"}},
		{"tags needs tags", fixed, func(o *Offer) { o.Eligibility.CustomerTags = nil },
			[]string{"eligibility.customer_tags: must list at least one tag when audience is tags"}},
		{"tags not blank", fixed, func(o *Offer) { o.Eligibility.CustomerTags = []string{"VIP", " "} },
			[]string{"eligibility.customer_tags[1]: must not be blank"}},
		{"tags not padded", fixed, func(o *Offer) { o.Eligibility.CustomerTags = []string{"VIP "} },
			[]string{"eligibility.customer_tags[0]: must not begin or end with spaces"}},
		{"tags not repeated", fixed, func(o *Offer) { o.Eligibility.CustomerTags = []string{"VIP", "vip"} },
			[]string{"eligibility.customer_tags[1]: duplicates customer_tags[0]"}},
		{"tags only for tags", ship, func(o *Offer) { o.Eligibility.CustomerTags = []string{"VIP"} },
			[]string{"eligibility.customer_tags: must not be set when audience is customers"}},
		{"segment needs segment id", tiered, func(o *Offer) { o.Eligibility.SegmentID = "" },
			[]string{"eligibility.segment_id: is required when audience is segment"}},
		{"segment id is an id", tiered, func(o *Offer) { o.Eligibility.SegmentID = "vip london" },
			[]string{"eligibility.segment_id: must contain only letters, digits, '-' and '_'"}},
		{"segment id only for segment", fixed, func(o *Offer) { o.Eligibility.SegmentID = "vip" },
			[]string{"eligibility.segment_id: must not be set when audience is tags"}},
		{"order number negative", pct, func(o *Offer) { o.Eligibility.OrderNumber = &IntRange{Min: -1, Max: -2} },
			[]string{"eligibility.order_number.min: must not be negative", "eligibility.order_number.max: must not be negative"}},
		{"order number max below min", pct, func(o *Offer) { o.Eligibility.OrderNumber = &IntRange{Min: 3, Max: 2} },
			[]string{"eligibility.order_number.max: must be at least min (3)"}},
		{"first order only with later order number", pct, func(o *Offer) {
			o.Eligibility.FirstOrderOnly = true
			o.Eligibility.OrderNumber = &IntRange{Min: 2}
		}, []string{"eligibility.order_number: conflicts with first_order_only, which allows only order 1"}},
		{"first order only with order number up to 3", pct, func(o *Offer) {
			o.Eligibility.FirstOrderOnly = true
			o.Eligibility.OrderNumber = &IntRange{Max: 3}
		}, []string{"eligibility.order_number: conflicts with first_order_only, which allows only order 1"}},
		{"first order only with order number up to 1", pct, func(o *Offer) {
			o.Eligibility.FirstOrderOnly = true
			o.Eligibility.OrderNumber = &IntRange{Max: 1}
		}, nil},
		{"first order only with behaviour needing orders", tiered, func(o *Offer) {
			o.Eligibility.OrderNumber = nil
			o.Eligibility.FirstOrderOnly = true
		}, []string{"eligibility.first_order_only: conflicts with behaviour, which needs past orders; a first order has none"}},

		// limits
		{"limits not negative", pct, func(o *Offer) { o.Limits = Limits{TotalUses: -1, UsesPerCustomer: -1, UsesPerDay: -1} },
			[]string{
				"limits.total_uses: must not be negative",
				"limits.uses_per_customer: must not be negative",
				"limits.uses_per_day: must not be negative",
			}},
		{"identity keys known", ship, func(o *Offer) { o.Limits.IdentityKeys = []IdentityKind{IdentityEmail, "device"} },
			[]string{"limits.identity_keys[1]: must be one of customer, email, phone, address, ip"}},
		{"identity keys not repeated", ship, func(o *Offer) {
			o.Limits.IdentityKeys = []IdentityKind{IdentityIP, IdentityPhone, IdentityIP}
		}, []string{"limits.identity_keys[2]: duplicates identity_keys[0]"}},
		{"identity keys need uses per customer", ship, func(o *Offer) { o.Limits.UsesPerCustomer = 0 },
			[]string{"limits.identity_keys: only apply to uses_per_customer, which is not set"}},

		// schedule
		{"ends after starts", tiered, func(o *Offer) { o.Schedule.EndsAt = ptrTime(start.Add(-time.Second)) },
			[]string{"schedule.ends_at: must be after starts_at"}},
		{"ends at start", tiered, func(o *Offer) { o.Schedule.EndsAt = ptrTime(start) },
			[]string{"schedule.ends_at: must be after starts_at"}},
		{"open start", tiered, func(o *Offer) { o.Schedule.StartsAt = nil }, nil},
		{"zero instant", tiered, func(o *Offer) { o.Schedule.StartsAt = ptrTime(time.Time{}) },
			[]string{"schedule.starts_at: must be a real instant, or left out"}},

		// stacking
		{"combines with codes only on automatic offers", pct, func(o *Offer) { o.Stacking.CombinesWithCodes = ptrBool(false) },
			[]string{"stacking.combines_with_codes: only applies to automatic offers"}},
		{"combines with automatic only on code offers", fixed, func(o *Offer) { o.Stacking.CombinesWithAutomatic = ptrBool(true) },
			[]string{"stacking.combines_with_automatic: only applies to code offers"}},
		{"combines with automatic on codes offer", ship, func(o *Offer) { o.Stacking.CombinesWithAutomatic = ptrBool(true) }, nil},
		{"priority above 1000", pct, func(o *Offer) { o.Stacking.Priority = 1001 },
			[]string{"stacking.priority: must be between -1000 and 1000"}},
		{"priority below -1000", pct, func(o *Offer) { o.Stacking.Priority = -1001 },
			[]string{"stacking.priority: must be between -1000 and 1000"}},

		// preview
		{"visible needs title", pct, func(o *Offer) { o.Preview.Title = "" }, []string{"preview.title: is required"}},
		{"hidden needs no title", pct, func(o *Offer) { o.Preview = Preview{} }, nil},
		{"title too long", fixed, func(o *Offer) { o.Preview.Title = strings.Repeat("t", 256) },
			[]string{"preview.title: must be at most 255 characters"}},
		{"description too long", pct, func(o *Offer) { o.Preview.Description = strings.Repeat("d", 1001) },
			[]string{"preview.description: must be at most 1000 characters"}},
		{"description may have line breaks", pct, func(o *Offer) { o.Preview.Description = "a\nb\tc" }, nil},
		{"unlock message too long", pct, func(o *Offer) { o.Preview.UnlockMessage = strings.Repeat("u", 256) },
			[]string{"preview.unlock_message: must be at most 255 characters"}},
		{"unlock message placeholders", pct, func(o *Offer) { o.Preview.UnlockMessage = "Add {amount} more for {discount} {}" },
			[]string{"preview.unlock_message: has unknown placeholder {discount}; only {amount} and {title} are replaced"}},
	}
	seen := map[string]bool{}
	for _, tc := range cases {
		if seen[tc.name] {
			t.Fatalf("duplicate case name %q", tc.name)
		}
		seen[tc.name] = true
		t.Run(tc.name, func(t *testing.T) {
			o := tc.base()
			if err := o.Validate(); err != nil {
				t.Fatalf("base offer is invalid: %v", err)
			}
			tc.mutate(&o)
			checkProblems(t, o.Validate(), tc.want)
		})
	}
}

// TestValidateReportsEveryProblem breaks every section at once and expects every problem,
// in field order.
func TestValidateReportsEveryProblem(t *testing.T) {
	start := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
	o := validTieredOffer()
	o.Version = 0
	o.ID = "bad id"
	o.Name = ""
	o.Status = StatusExpired
	o.Application = Application{Kind: ApplyAutomatic, Code: "X"}
	o.Value.Percentage = 1000
	o.Value.Tiers[1].Threshold = 4000
	o.Value.Tiers[2].Kind = "gift"
	o.Behaviour.Period.Count = 0
	o.Behaviour.UsedCodes = []string{"A-B"}
	o.Condition.Qualifying = ItemSet{Scope: ScopeProducts}
	o.Condition.MinQuantity = 5
	o.Condition.MaxQuantity = 4
	o.Eligibility.Audience = AudienceCustomers
	o.Eligibility.OrderNumber = &IntRange{Min: -1}
	o.Limits.IdentityKeys = []IdentityKind{IdentityEmail}
	o.Schedule.EndsAt = ptrTime(start)
	o.Stacking.Priority = 5000
	o.Stacking.CombinesWithAutomatic = ptrBool(false)
	o.Preview.Title = ""

	checkProblems(t, o.Validate(), []string{
		"version: must be 1",
		"id: must contain only letters, digits, '-' and '_'",
		"name: is required",
		"status: expired is derived from the schedule and cannot be stored; use active",
		"application.code: must not be set for an automatic offer",
		"value.percentage: must not be set for a tiered offer",
		"value.tiers[1].threshold: must be greater than tier 0's threshold",
		"value.tiers[2].kind: must be one of percentage, fixed_amount, free_shipping",
		"behaviour.period.count: must be between 1 and 120",
		"behaviour.used_codes[0]: must contain only letters and digits",
		"condition.qualifying.product_ids: must list at least one product when scope is products",
		"condition.max_quantity: must be at least min_quantity (5)",
		"eligibility.customer_ids: must list at least one customer when audience is customers",
		"eligibility.segment_id: must not be set when audience is customers",
		"eligibility.order_number.min: must not be negative",
		"limits.identity_keys: only apply to uses_per_customer, which is not set",
		"schedule.ends_at: must be after starts_at",
		"stacking.priority: must be between -1000 and 1000",
		"stacking.combines_with_automatic: only applies to code offers",
		"preview.title: is required",
	})

	// The error message carries every problem too.
	err := o.Validate()
	if msg := err.Error(); !strings.HasPrefix(msg, "invalid: version: must be 1; id: ") || !strings.HasSuffix(msg, "; preview.title: is required") {
		t.Errorf("Error() = %q", msg)
	}
	// And it is JSON an API can return.
	b, jerr := json.Marshal(err)
	if jerr != nil || !strings.Contains(string(b), `{"path":"value.tiers[2].kind","message":"must be one of percentage, fixed_amount, free_shipping"}`) {
		t.Errorf("JSON = %s, %v", b, jerr)
	}
}

func TestValidateSegment(t *testing.T) {
	if err := (*Segment)(nil).Validate(); err == nil {
		t.Error("nil segment: no error")
	}
	cases := []struct {
		name   string
		mutate func(s *Segment)
		want   []string
	}{
		{"valid", func(s *Segment) {}, nil},
		{"only a behaviour", func(s *Segment) {
			s.Rules = SegmentRules{Behaviour: &Behaviour{Period: Period{Unit: PeriodWeeks, Count: 4}, MinSpend: 100}}
		}, nil},
		{"id required", func(s *Segment) { s.ID = "" }, []string{"id: is required"}},
		{"id characters", func(s *Segment) { s.ID = "vip/london" }, []string{"id: must contain only letters, digits, '-' and '_'"}},
		{"id too long", func(s *Segment) { s.ID = strings.Repeat("s", 65) }, []string{"id: must be at most 64 characters"}},
		{"name required", func(s *Segment) { s.Name = "" }, []string{"name: is required"}},
		{"name too long", func(s *Segment) { s.Name = strings.Repeat("n", 256) }, []string{"name: must be at most 255 characters"}},
		{"priority above 1000", func(s *Segment) { s.Priority = 1001 }, []string{"priority: must be between -1000 and 1000"}},
		{"priority below -1000", func(s *Segment) { s.Priority = -1001 }, []string{"priority: must be between -1000 and 1000"}},
		{"rules state a condition", func(s *Segment) { s.Rules = SegmentRules{} }, []string{"rules: states no condition; add at least one rule"}},
		{"countries are upper-case alpha-2", func(s *Segment) { s.Rules.Countries = []string{"gb", "GBR", "G1", ""} },
			[]string{
				"rules.countries[0]: must be a 2-letter upper-case ISO 3166-1 country code",
				"rules.countries[1]: must be a 2-letter upper-case ISO 3166-1 country code",
				"rules.countries[2]: must be a 2-letter upper-case ISO 3166-1 country code",
				"rules.countries[3]: must be a 2-letter upper-case ISO 3166-1 country code",
			}},
		{"countries are assigned codes", func(s *Segment) { s.Rules.Countries = []string{"UK", "ZZ", "DE"} },
			[]string{
				"rules.countries[0]: is not an ISO 3166-1 country code; the United Kingdom is GB",
				"rules.countries[1]: is not an ISO 3166-1 country code",
			}},
		{"countries not repeated", func(s *Segment) { s.Rules.Countries = []string{"GB", "FR", "GB"} },
			[]string{"rules.countries[2]: duplicates countries[0]"}},
		{"terms not blank", func(s *Segment) {
			s.Rules.CustomerTags = []string{""}
			s.Rules.Cities = []string{"London", " "}
			s.Rules.Postcodes = []string{""}
			s.Rules.DeliveryMethods = []string{"", "Royal Mail"}
		}, []string{
			"rules.customer_tags[0]: must not be blank",
			"rules.cities[1]: must not be blank",
			"rules.postcodes[0]: must not be blank",
			"rules.delivery_methods[0]: must not be blank",
		}},
		{"terms not repeated", func(s *Segment) { s.Rules.Cities = []string{"London", "LONDON"} },
			[]string{"rules.cities[1]: duplicates cities[0]"}},
		{"terms not too long", func(s *Segment) { s.Rules.Postcodes = []string{strings.Repeat("1", 256)} },
			[]string{"rules.postcodes[0]: must be at most 255 characters"}},
		{"terms lists bounded", func(s *Segment) {
			s.Rules.Cities = make([]string, 1001)
			for i := range s.Rules.Cities {
				s.Rules.Cities[i] = fmt.Sprintf("City %d", i)
			}
		}, []string{"rules.cities: must list at most 1000 entries"}},
		{"behaviour checked with the offer's rules", func(s *Segment) {
			s.Rules.Behaviour.Period = Period{Unit: PeriodMonths, Count: 0}
			s.Rules.Behaviour.MinOrders = -2
			s.Rules.Behaviour.BoughtCollections = []string{"gid://shopify/Product/1"}
		}, []string{
			"rules.behaviour.period.count: must be between 1 and 120",
			"rules.behaviour.min_orders: must not be negative",
			"rules.behaviour.bought_collection_ids[0]: must be a gid://shopify/Collection/… id",
		}},
		{"behaviour states a condition", func(s *Segment) { s.Rules.Behaviour = &Behaviour{Period: Period{Unit: PeriodLifetime}} },
			[]string{"rules.behaviour: states no condition; remove it or add one"}},
		{"every problem at once", func(s *Segment) {
			s.ID = ""
			s.Name = " "
			s.Priority = 2000
			s.Rules = SegmentRules{Countries: []string{"uk"}}
		}, []string{
			"id: is required",
			"name: is required",
			"priority: must be between -1000 and 1000",
			"rules.countries[0]: must be a 2-letter upper-case ISO 3166-1 country code",
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := validSegment()
			tc.mutate(&s)
			checkProblems(t, s.Validate(), tc.want)
		})
	}
}

func TestOfferJSONRoundTrip(t *testing.T) {
	for kind, build := range validOffers() {
		t.Run(string(kind), func(t *testing.T) {
			in := build()
			b, err := json.Marshal(&in)
			if err != nil {
				t.Fatal(err)
			}
			var out Offer
			if err := json.Unmarshal(b, &out); err != nil {
				t.Fatalf("unmarshal %s: %v", b, err)
			}
			if !reflect.DeepEqual(in, out) {
				t.Errorf("round trip changed the offer:\n in  %+v\n out %+v\n json %s", in, out, b)
			}
			if err := out.Validate(); err != nil {
				t.Errorf("round-tripped offer is invalid: %v", err)
			}
		})
	}

	// Percentages are written as decimals, and read back without loss.
	o := validPercentageOffer()
	o.Value.Percentage = 1250
	b, err := json.Marshal(&o)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), `"percentage":12.5`) {
		t.Errorf("percentage not written as a decimal: %s", b)
	}
	var back Offer
	if err := json.Unmarshal(b, &back); err != nil || back.Value.Percentage != 1250 {
		t.Errorf("percentage read back as %d, %v", back.Value.Percentage, err)
	}
}

func TestSegmentJSONRoundTrip(t *testing.T) {
	in := validSegment()
	b, err := json.Marshal(&in)
	if err != nil {
		t.Fatal(err)
	}
	var out Segment
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(in, out) {
		t.Errorf("round trip changed the segment:\n in  %+v\n out %+v", in, out)
	}
}
