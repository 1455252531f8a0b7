package webhooks

import (
	"slices"
	"strings"
	"time"

	"github.com/regularsapp/regulars/discountfn"
	"github.com/regularsapp/regulars/store"
)

// Attribute decides which of the shop's offers an order used, and returns one ledger row per
// offer used, ordered by offer id (the caller stores them with store.RecordRedemptions).
//
// An order used an offer when:
//   - a code of the order (its discount_codes, and the code of each discount_code
//     application), normalized with discountfn.NormalizeCode, is the offer's shared code
//     (application kind "code"), or is one of its unique codes: lookupCode maps a normalized
//     code to the id of the offer that owns it (nil when the shop has none);
//   - or, for an automatic offer, one of the order's automatic discount applications (type
//     "automatic", or no type) has, compared without case and surrounding spaces, the offer's
//     preview title or its name as title. This holds because platform sync creates each
//     automatic offer's platform discount with the offer's title (the preview title, else the
//     name), and the platform writes that title into the order's discount application.
//
// The row's Amount is what the matching discount applications took off the order (their
// Amount, when the payload told it), else 0. Code is the code used ("" for an automatic
// offer). Day is the order's created date in loc (UTC when nil). IdentityKeys are the buyer's
// non-empty keys: customer, email, phone, address and ip (discountfn.IdentityKey).
func Attribute(o store.Order, offers []discountfn.Offer, lookupCode func(code string) (offerID string, ok bool), loc *time.Location) []store.Redemption {
	if loc == nil {
		loc = time.UTC
	}
	codes := orderCodes(o)

	// offer id -> the code that names it, from the unique-code book.
	byBook := map[string]string{}
	if lookupCode != nil {
		for _, c := range codes {
			if id, ok := lookupCode(c); ok && id != "" {
				if _, taken := byBook[id]; !taken {
					byBook[id] = c
				}
			}
		}
	}

	sorted := make([]*discountfn.Offer, len(offers))
	for i := range offers {
		sorted[i] = &offers[i]
	}
	slices.SortStableFunc(sorted, func(a, b *discountfn.Offer) int { return strings.Compare(a.ID, b.ID) })

	keys := identityKeys(o)
	var out []store.Redemption
	for i, off := range sorted {
		if off.ID == "" || (i > 0 && sorted[i-1].ID == off.ID) {
			continue // one row per offer
		}
		if off.Status == discountfn.StatusDraft {
			continue // never live, so never used (a duplicate keeps its original's code)
		}
		code, amount, ok := matchOffer(o, off, codes, byBook)
		if !ok {
			continue
		}
		out = append(out, store.Redemption{
			Shop:         o.Shop,
			OrderID:      o.ID,
			OfferID:      off.ID,
			Code:         code,
			Amount:       amount,
			OrderTotal:   o.Total,
			PlacedAt:     o.PlacedAt,
			Day:          o.PlacedAt.In(loc).Format(time.DateOnly),
			IdentityKeys: slices.Clone(keys),
		})
	}
	return out
}

// orderCodes are the order's codes, normalized, without repeats, in payload order.
func orderCodes(o store.Order) []string {
	var codes []string
	add := func(c string) {
		if c = discountfn.NormalizeCode(c); c != "" && !slices.Contains(codes, c) {
			codes = append(codes, c)
		}
	}
	for _, c := range o.Codes {
		add(c)
	}
	for _, a := range o.Applications {
		add(a.Code)
	}
	return codes
}

// matchOffer tells whether the order used off, with the code used and the amount given.
func matchOffer(o store.Order, off *discountfn.Offer, codes []string, byBook map[string]string) (code string, amount discountfn.Money, ok bool) {
	if code, ok := byBook[off.ID]; ok {
		return code, codeAmount(o, code), true
	}
	if off.Application.Kind == discountfn.ApplyCode {
		shared := discountfn.NormalizeCode(off.Application.Code)
		if shared != "" && slices.Contains(codes, shared) {
			return shared, codeAmount(o, shared), true
		}
		return "", 0, false
	}
	if off.IsCode() {
		return "", 0, false
	}
	titles := offerTitles(off)
	if len(titles) == 0 {
		return "", 0, false
	}
	for _, a := range o.Applications {
		if !isAutomatic(a.Type) {
			continue
		}
		if t := strings.TrimSpace(a.Title); t != "" && slices.ContainsFunc(titles, func(s string) bool { return strings.EqualFold(s, t) }) {
			amount += a.Amount
			ok = true
		}
	}
	return "", amount, ok
}

// codeAmount is what the order's applications of code took off.
func codeAmount(o store.Order, code string) discountfn.Money {
	var amount discountfn.Money
	for _, a := range o.Applications {
		if discountfn.NormalizeCode(a.Code) == code {
			amount += a.Amount
		}
	}
	return amount
}

// offerTitles are the titles an automatic offer's platform discount may carry.
func offerTitles(off *discountfn.Offer) []string {
	var titles []string
	for _, t := range []string{off.Preview.Title, off.Name} {
		if t = strings.TrimSpace(t); t != "" {
			titles = append(titles, t)
		}
	}
	return titles
}

// isAutomatic: an application type that an automatic app discount produces. Manual and
// script discounts never come from our offers, even when a merchant gives one the same
// title.
func isAutomatic(typ string) bool {
	return typ == "" || strings.EqualFold(typ, "automatic")
}

// identityKeys are the buyer's keys for per-customer limits, in a fixed order.
func identityKeys(o store.Order) []string {
	var keys []string
	for _, k := range []struct {
		kind  discountfn.IdentityKind
		value string
	}{
		{discountfn.IdentityCustomer, o.CustomerID},
		{discountfn.IdentityEmail, o.Email},
		{discountfn.IdentityPhone, o.Phone},
		{discountfn.IdentityAddress, o.AddressKey},
		{discountfn.IdentityIP, o.BrowserIP},
	} {
		if k.value != "" {
			keys = append(keys, discountfn.IdentityKey(k.kind, k.value))
		}
	}
	return keys
}
