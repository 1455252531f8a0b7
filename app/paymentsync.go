package app

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"

	"github.com/regularsapp/regulars/graphql"
)

// The payment customization (docs/PLATFORM.md, "Cash on delivery"): one per shop, running our
// payment customization function, so that the platform asks POST /checkout/payment-methods
// which payment methods to hide. Install creates it when the shop has none of our function,
// and so does every reconciliation (a merchant may have deleted it); an existing one, enabled
// or not, is left as it is. It is registered for every shop, enabled: the function hides
// nothing unless an applied offer switches cash on delivery off and a payment method bears
// one of the shop's cash-on-delivery names, so there is nothing to turn on or off with the
// settings.
//
// Its configuration metafield ($app:regulars / function-configuration, json) carries what the
// discounts' metafields carry for the discount function: our endpoint and a checkout token
// of the shop ({"version":1,"endpoint":…,"token":…}).

const (
	// PaymentFunctionHandle is our payment customization function's extension handle.
	PaymentFunctionHandle = "regulars-payments"
	// paymentFunctionTitle is its name: the name its extension is to have (the extension is
	// not written yet: docs/PLATFORM.md, "Cash on delivery").
	paymentFunctionTitle = "Regulars payments"
	// paymentFunctionAPI is the platform's API type of payment customization functions.
	paymentFunctionAPI = "payment_customization"
	// PaymentCustomizationTitle is the title merchants see in their payment settings.
	PaymentCustomizationTitle = "Regulars: no cash on delivery with offers that disable it"
	// paymentFailurePrefix marks a payment customization failure in the shop's install state.
	paymentFailurePrefix = "payment customization: "
)

// paymentConfig is the payment customization's configuration metafield.
type paymentConfig struct {
	Version  int    `json:"version"`
	Endpoint string `json:"endpoint"`
	Token    string `json:"token"`
}

// errNoPaymentFunction: the app's payment customization function is not deployed.
var errNoPaymentFunction = errors.New("no payment customization function")

// ensurePaymentCustomization creates the shop's payment customization unless one of our
// function exists. created reports whether it made one.
func (y *Sync) ensurePaymentCustomization(ctx context.Context, shop string) (created bool, err error) {
	fn, err := y.findPaymentFunction(ctx, shop)
	if err != nil {
		return false, err
	}
	existing, err := y.admin.PaymentCustomizations(ctx, shop)
	if err != nil {
		return false, fmt.Errorf("list the payment customizations: %w", err)
	}
	for _, pc := range existing {
		if pc.FunctionID == fn.ID {
			if !pc.Enabled {
				y.log.InfoContext(ctx, "payment customization is disabled in the shop; left so", slog.String("shop", shop),
					slog.String("id", pc.ID))
			}
			return false, nil
		}
	}
	token, err := MintCheckoutToken(y.cfg.SigningKey, shop, y.now())
	if err != nil {
		return false, err
	}
	value, err := json.Marshal(paymentConfig{Version: 1, Endpoint: y.cfg.AppURL, Token: token})
	if err != nil {
		return false, fmt.Errorf("encode the payment customization metafield: %w", err)
	}
	pc, err := y.admin.CreatePaymentCustomization(ctx, shop, graphql.PaymentCustomizationInput{
		FunctionHandle: y.cfg.PaymentFunctionHandle, Title: PaymentCustomizationTitle, Enabled: true,
		Metafields: []graphql.MetafieldInput{{Namespace: configNamespace, Key: configKey, Type: "json", Value: string(value)}},
	})
	if err != nil {
		return false, fmt.Errorf("create the payment customization: %w", err)
	}
	y.log.InfoContext(ctx, "payment customization created", slog.String("shop", shop), slog.String("id", pc.ID),
		slog.String("function", fn.ID))
	return true, nil
}

// findPaymentFunction finds our payment customization function among the app's functions:
// by its title (the extension's name, or the handle), else as the app's only function of the
// payment customization API.
func (y *Sync) findPaymentFunction(ctx context.Context, shop string) (graphql.Function, error) {
	fns, err := y.admin.Functions(ctx, shop)
	if err != nil {
		return graphql.Function{}, fmt.Errorf("list the app's functions: %w", err)
	}
	var payment []graphql.Function
	for _, f := range fns {
		if strings.EqualFold(f.Title, paymentFunctionTitle) || strings.EqualFold(f.Title, y.cfg.PaymentFunctionHandle) {
			return f, nil
		}
		if strings.EqualFold(f.APIType, paymentFunctionAPI) {
			payment = append(payment, f)
		}
	}
	if len(payment) == 1 {
		return payment[0], nil
	}
	return graphql.Function{}, fmt.Errorf("%w: the shop has no %q function of this app (%d functions found): deploy the extension",
		errNoPaymentFunction, y.cfg.PaymentFunctionHandle, len(fns))
}

// lastingError is what a success of other install work leaves of the shop's last error: a
// payment customization failure stays until the payment customization is settled.
func lastingError(last string) string {
	if strings.HasPrefix(last, paymentFailurePrefix) {
		return last
	}
	return ""
}

// settlePaymentCustomization runs ensurePaymentCustomization for install and reconciliation.
// What retrying the same request cannot mend (userErrors, the function missing) is recorded
// in the shop's install state, where the merchant sees it, and logged, and the caller carries
// on: the discounts and the history do not wait for cash on delivery. Other failures (the
// platform unreachable, throttled) are returned, to be retried. A success clears an earlier
// recorded failure.
func (y *Sync) settlePaymentCustomization(ctx context.Context, shop string) error {
	_, err := y.ensurePaymentCustomization(ctx, shop)
	var ue *graphql.UserErrors
	lasting := errors.As(err, &ue) || errors.Is(err, errNoPaymentFunction)
	if err != nil && !lasting {
		return err
	}
	ss, serr := y.st.GetShopSync(ctx, shop)
	if serr != nil {
		return errors.Join(err, serr)
	}
	switch {
	case err != nil:
		y.log.WarnContext(ctx, "payment customization not registered; cash on delivery is not hidden at checkout",
			slog.String("shop", shop), slog.Any("error", err))
		ss.LastError = paymentFailurePrefix + failureMessage(err)
	case strings.HasPrefix(ss.LastError, paymentFailurePrefix):
		ss.LastError = ""
	default:
		return nil
	}
	return y.st.SaveShopSync(ctx, ss)
}
