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

// noCODOffer is a 5% code offer (code NOCOD5) that switches cash on delivery off.
func noCODOffer() discountfn.Offer {
	return discountfn.Offer{
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
}

// e2ePaymentCustomization is a payment customization as the platform lists it.
type e2ePaymentCustomization struct {
	ID, Title, FunctionID string
	Enabled               bool
}

// paymentCustomizations lists the shop's payment customizations on the stand-in.
func (e *e2eEnv) paymentCustomizations(t *testing.T) []e2ePaymentCustomization {
	t.Helper()
	nodes, _ := e.gql(t, `{ paymentCustomizations(first: 10) { nodes { id title enabled functionId } } }`,
		nil)["paymentCustomizations"].(map[string]any)["nodes"].([]any)
	var out []e2ePaymentCustomization
	for _, n := range nodes {
		m := n.(map[string]any)
		out = append(out, e2ePaymentCustomization{ID: m["id"].(string), Title: m["title"].(string),
			FunctionID: m["functionId"].(string), Enabled: m["enabled"].(bool)})
	}
	return out
}

// TestE2ECashOnDeliveryHidden: install registers the payment customization on the platform
// (once, however often install runs); at checkout the platform then asks our endpoint, and a
// cart carrying an offer that switches cash on delivery off is not offered it, while a cart
// without one is. An order by the hidden method is refused.
func TestE2ECashOnDeliveryHidden(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		e := newE2EEnv(t, st)
		e.install(t)
		e.drainSync(t)
		e.drainWebhooks(t)

		pcs := e.paymentCustomizations(t)
		if len(pcs) != 1 || pcs[0].Title != PaymentCustomizationTitle || !pcs[0].Enabled || pcs[0].FunctionID == "" {
			t.Fatalf("payment customizations after install = %+v; want ours, enabled", pcs)
		}
		// Install again (a reinstall, a resync) and reconcile: still one.
		if err := e.sync.AfterInstall(ctx, e2eShop); err != nil {
			t.Fatal(err)
		}
		e.drainSync(t)
		if err := e.sync.Reconcile(ctx); err != nil {
			t.Fatal(err)
		}
		if again := e.paymentCustomizations(t); len(again) != 1 || again[0].ID != pcs[0].ID {
			t.Fatalf("payment customizations after a second install = %+v; want the first only", again)
		}
		if ss, err := st.GetShopSync(ctx, e2eShop); err != nil || ss.LastError != "" {
			t.Errorf("shop sync = %+v, %v", ss, err)
		}

		e.apiOffer(t, http.MethodPost, "/api/offers", noCODOffer(), http.StatusCreated)
		e.drainSync(t)
		cat := e.catalog(t)
		lines := map[int64]int{cat.variant(t, "Striped Ankle Socks", ""): 2}

		plain := e.checkout(t, e2eCartForm("", "plain@example.org", "", lines))
		if !slices.Equal(plain.Payments, []string{"card", "cod"}) {
			t.Errorf("without the offer, payments offered = %v; want card and cod (notes %v)", plain.Payments, plain.Notes)
		}
		nocod := e.checkout(t, e2eCartForm("", "nocod@example.org", "nocod5", lines))
		if !slices.Contains(nocod.Applied, "No COD welcome") {
			t.Fatalf("the offer did not apply: %+v", nocod)
		}
		if !slices.Equal(nocod.Payments, []string{"card"}) {
			t.Errorf("with the offer, payments offered = %v; want card only (notes %v)", nocod.Payments, nocod.Notes)
		}
		if n := len(e.calls.since(0, "/checkout/payment-methods")); n < 2 {
			t.Errorf("the stand-in called /checkout/payment-methods %d times; want one per checkout", n)
		}

		form := e2eCartForm("", "nocod@example.org", "nocod5", lines)
		form.Set("payment", "cod")
		resp, err := e.client.PostForm(e.platform.URL+"/shops/"+e2eShop+"/checkout", form)
		if err != nil {
			t.Fatal(err)
		}
		if body := readBody(t, resp); resp.StatusCode != http.StatusUnprocessableEntity {
			t.Errorf("an order by hidden cash on delivery: %d %s", resp.StatusCode, clipBytes(body))
		}
	})
}

// TestE2ECashOnDeliveryFlag: an order paid by cash on delivery that used an offer which
// switches cash on delivery off (it slipped through: the merchant turned the payment
// customization off) is flagged in our store, tagged on the platform through tagsAdd, and
// listed by the analytics API; the same offer paid by card raises nothing.
func TestE2ECashOnDeliveryFlag(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		e := newE2EEnv(t, st)
		e.install(t)
		e.drainSync(t)
		e.drainWebhooks(t)

		rec := e.apiOffer(t, http.MethodPost, "/api/offers", noCODOffer(), http.StatusCreated)
		e.drainSync(t)
		// The merchant turns the payment customization off: cash on delivery is offered again.
		var ids []any
		for _, pc := range e.paymentCustomizations(t) {
			ids = append(ids, pc.ID)
		}
		data := e.gql(t, `mutation($ids: [ID!]!) { paymentCustomizationActivation(ids: $ids, enabled: false) { userErrors { message } } }`,
			map[string]any{"ids": ids})
		if len(ids) != 1 || len(data["paymentCustomizationActivation"].(map[string]any)["userErrors"].([]any)) != 0 {
			t.Fatalf("turning the payment customization off: %v %v", ids, data)
		}

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
