package app

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"testing"

	"github.com/regularsapp/regulars/discountfn"
	"github.com/regularsapp/regulars/store"
	"github.com/regularsapp/regulars/store/storetest"
)

// TestE2ECashOnDeliveryFlag: an order paid by cash on delivery that used an offer which
// switches cash on delivery off is flagged in our store, tagged on the platform through
// tagsAdd, and listed by the analytics API; the same offer paid by card raises nothing.
func TestE2ECashOnDeliveryFlag(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		e := newE2EEnv(t, st)
		e.install(t)
		e.drainSync(t)
		e.drainWebhooks(t)

		offer := discountfn.Offer{
			Version:     discountfn.ConfigVersion,
			Name:        "No COD welcome",
			Status:      discountfn.StatusActive,
			Application: discountfn.Application{Kind: discountfn.ApplyCode, Code: "NOCOD5"},
			Value:       discountfn.Value{Kind: discountfn.ValuePercentage, Percentage: 5 * 100},
			Condition:   discountfn.Condition{Qualifying: discountfn.ItemSet{Scope: discountfn.ScopeAll}},
			Eligibility: discountfn.Eligibility{Audience: discountfn.AudienceAll},
			Limits:      discountfn.Limits{DisableCashOnDelivery: true},
			Stacking:    discountfn.Stacking{Priority: 10},
			Preview:     discountfn.Preview{Title: "No COD welcome", Visible: true},
		}
		rec := e.apiOffer(t, http.MethodPost, "/api/offers", offer, http.StatusCreated)
		e.drainSync(t)

		cat := e.catalog(t)
		lines := map[int64]int{cat.variant(t, "Striped Ankle Socks", ""): 2}
		cod := e2eCartForm("", "cod-buyer@example.org", "nocod5", lines)
		cod.Set("payment", "cod")
		placedCOD := e.placeOrder(t, cod)
		placedCard := e.placeOrder(t, e2eCartForm("", "card-buyer@example.org", "nocod5", lines))
		e.awaitDelivery(t, "orders/create", placedCOD.id)
		e.awaitDelivery(t, "orders/create", placedCard.id)
		e.drainWebhooks(t)

		flags, err := st.ListOrderFlags(ctx, e2eShop, false)
		if err != nil {
			t.Fatal(err)
		}
		if len(flags) != 1 || flags[0].OrderID != placedCOD.id || !slices.Equal(flags[0].OfferIDs, []string{rec.ID}) || flags[0].TaggedAt != nil {
			t.Fatalf("flags = %+v; want order %s by offer %s, untagged", flags, placedCOD.id, rec.ID)
		}

		e.drainSync(t) // the order_tags job queued with the flag
		tagsOf := func(id string) []string {
			data := e.gql(t, `query($id: ID!) { order(id: $id) { tags } }`, map[string]any{"id": orderGID(id)})
			var tags []string
			for _, tag := range data["order"].(map[string]any)["tags"].([]any) {
				tags = append(tags, fmt.Sprint(tag))
			}
			return tags
		}
		if tags := tagsOf(placedCOD.id); !slices.Contains(tags, codOfferTag) {
			t.Errorf("the COD order's platform tags = %v; want %s", tags, codOfferTag)
		}
		if tags := tagsOf(placedCard.id); slices.Contains(tags, codOfferTag) {
			t.Errorf("the card order is tagged: %v", tags)
		}
		if flags, _ = st.ListOrderFlags(ctx, e2eShop, true); len(flags) != 0 {
			t.Errorf("untagged flags after the sync: %+v", flags)
		}

		// The analytics API lists it, with the offer's count.
		resp, body := e.apiGet(t, "/api/analytics/cod-orders")
		mustStatus(t, "cod orders", resp, body, http.StatusOK)
		var got codOrdersView
		decodeJSON(t, body, &got)
		if len(got.Orders) != 1 || got.Orders[0].OrderID != placedCOD.id || !got.Orders[0].Tagged ||
			len(got.Offers) != 1 || got.Offers[0].OfferID != rec.ID || got.Offers[0].Orders != 1 {
			t.Errorf("cod orders = %+v", got)
		}
	})
}

// apiGet sends an admin API GET with a fresh ID token.
func (e *e2eEnv) apiGet(t *testing.T, path string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, e.appURL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+e.idToken(t))
	resp, err := e.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	return resp, readBody(t, resp)
}
