package app

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"testing"

	"github.com/regularsapp/regulars/store"
	"github.com/regularsapp/regulars/store/storetest"
)

// paymentInput is a payment customization input with card and cash on delivery, and the
// applied discounts of the given offers (as the discount's configuration metafield).
func paymentInput(offerIDs ...string) []byte {
	var apps []string
	for _, id := range offerIDs {
		apps = append(apps, fmt.Sprintf(`{"metafield":{"jsonValue":{"version":1,"offer_id":%q}}}`, id))
	}
	return []byte(`{"cart":{"discountApplications":[` + strings.Join(apps, ",") + `]},
		"paymentMethods":[{"id":"gid://shopify/PaymentCustomizationPaymentMethod/1","name":"Visa"},
		{"id":"gid://shopify/PaymentCustomizationPaymentMethod/2","name":"Pay on delivery"}]}`)
}

func TestPaymentMethodsEndpoint(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		mustShops(t, st, shopA, shopB)
		noCOD := percentOffer("no-cod", 10*100)
		noCOD.Limits.DisableCashOnDelivery = true
		mustSaveOffers(t, st, shopA, noCOD, percentOffer("plain", 5*100))
		mustSaveOffers(t, st, shopB, percentOffer("no-cod", 5*100)) // same id, switch off
		settings := store.DefaultShopSettings()
		settings.CODGateways = []string{"Pay on delivery"}
		for _, shop := range []string{shopA, shopB} {
			if err := st.SaveSettings(ctx, shop, settings); err != nil {
				t.Fatal(err)
			}
		}
		logs := &syncBuffer{}
		env := &testEnv{logs: logs, srv: New(testConfig(), Deps{Source: NewStoreSource(st), Store: st, Now: testNow,
			Logger: slog.New(slog.NewJSONHandler(logs, nil))})}
		const hideCOD = `{"operations":[{"paymentMethodHide":{"paymentMethodId":"gid://shopify/PaymentCustomizationPaymentMethod/2"}}]}`

		for _, tc := range []struct {
			name   string
			shop   string
			body   []byte
			status int
			want   string
		}{
			{"offer with the switch", shopA, paymentInput("plain", "no-cod"), http.StatusOK, hideCOD},
			{"offer without it", shopA, paymentInput("plain"), http.StatusOK, emptyPaymentResult},
			{"no discounts", shopA, paymentInput(), http.StatusOK, emptyPaymentResult},
			{"another shop's offer of the same id", shopB, paymentInput("no-cod"), http.StatusOK, emptyPaymentResult},
			{"malformed", shopA, []byte(`{"cart":`), http.StatusBadRequest, ""},
			{"no payment methods", shopA, []byte(`{"cart":{}}`), http.StatusBadRequest, ""},
			{"empty", shopA, nil, http.StatusBadRequest, ""},
		} {
			t.Run(tc.name, func(t *testing.T) {
				resp, body := env.do(t, http.MethodPost, "/checkout/payment-methods", mustToken(t, tc.shop), tc.body)
				if resp.StatusCode != tc.status || (tc.want != "" && string(body) != tc.want) {
					t.Errorf("%d %s; want %d %s", resp.StatusCode, body, tc.status, tc.want)
				}
			})
		}
		resp, _ := env.do(t, http.MethodPost, "/checkout/payment-methods", "", paymentInput("no-cod"))
		if resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("without a token: %d", resp.StatusCode)
		}

		// Fails open: with the database gone the answer hides nothing, and says why in the log.
		if err := st.Close(); err != nil {
			t.Fatal(err)
		}
		fresh := New(testConfig(), Deps{Source: NewStoreSource(st), Store: st, Now: testNow, Logger: slog.New(slog.NewJSONHandler(logs, nil))})
		env.srv = fresh
		resp, body := env.do(t, http.MethodPost, "/checkout/payment-methods", mustToken(t, shopA), paymentInput("no-cod"))
		if resp.StatusCode != http.StatusOK || string(body) != emptyPaymentResult {
			t.Errorf("database closed: %d %s", resp.StatusCode, body)
		}
		if !strings.Contains(logs.String(), "payment methods: answering hide nothing") {
			t.Errorf("no log of the failure: %s", logs.String())
		}
	})
}
