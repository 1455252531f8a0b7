package app

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/regularsapp/regulars/discountfn"
	"github.com/regularsapp/regulars/store"
)

// POST /checkout/payment-methods answers the platform's payment customization contract
// (cart.payment-methods.transform.run): the cart's applied discounts and the payment methods
// in, {"operations": [{"paymentMethodHide": ...}]} out, hiding the shop's cash-on-delivery
// methods when a discount of an offer with disable_cash_on_delivery is applied. It sits
// behind the same per-shop checkout token as the discount targets.
//
// It fails open: a slow or failing database answers "hide nothing" within the checkout
// deadline, so a checkout never breaks on us; orders that slip through are tagged afterwards
// (see codflag.go).

// emptyPaymentResult hides nothing.
const emptyPaymentResult = `{"operations":[]}`

func (s *Server) paymentMethodsHandler(c *fiber.Ctx) error {
	started := time.Now()
	ctx, cancel := context.WithTimeout(c.UserContext(), s.cfg.CheckoutDeadline)
	defer cancel()
	shop, ok := checkoutShop(c)
	if !ok {
		return errors.New("payment methods: route is not behind requireCheckoutToken")
	}
	in, err := decodePaymentInput(c.BodyRaw())
	if err != nil {
		return err
	}
	type outcome struct {
		decision discountfn.PaymentDecision
		err      error
	}
	done := make(chan outcome, 1)
	go func() {
		defer func() {
			if v := recover(); v != nil {
				done <- outcome{err: fmt.Errorf("panic: %v", v)}
			}
		}()
		d, err := s.decidePayments(ctx, shop, in)
		done <- outcome{decision: d, err: err}
	}()
	var out outcome
	select {
	case out = <-done:
	case <-ctx.Done():
		out.err = ctx.Err()
	}
	c.Set(fiber.HeaderContentType, fiber.MIMEApplicationJSON)
	elapsed := float64(time.Since(started).Microseconds()) / 1000
	if out.err != nil {
		level := slog.LevelError
		if errors.Is(out.err, ErrUnknownShop) {
			level = slog.LevelWarn
		}
		s.log.Log(ctx, level, "payment methods: answering hide nothing", "shop", shop, "elapsed_ms", elapsed, "err", out.err)
		return c.SendString(emptyPaymentResult)
	}
	if len(out.decision.Offers) > 0 {
		s.log.Info("payment methods: cash on delivery hidden", "shop", shop, "offers", out.decision.Offers,
			"hidden", out.decision.Hidden, "elapsed_ms", elapsed)
	}
	answer, err := json.Marshal(out.decision.Result)
	if err != nil {
		return fmt.Errorf("payment methods: encode: %w", err)
	}
	return c.Send(answer)
}

// decidePayments loads the shop's offers and cash-on-delivery names and decides.
func (s *Server) decidePayments(ctx context.Context, shop string, in *discountfn.PaymentInput) (discountfn.PaymentDecision, error) {
	set, _, err := s.src.Checkout(ctx, shop)
	if err != nil {
		return discountfn.PaymentDecision{}, fmt.Errorf("load offers: %w", err)
	}
	if set == nil {
		return discountfn.PaymentDecision{}, ErrUnknownShop
	}
	names := store.DefaultShopSettings().CODGateways
	if s.st != nil {
		settings, err := s.st.GetSettings(ctx, shop)
		if err != nil {
			return discountfn.PaymentDecision{}, fmt.Errorf("load settings: %w", err)
		}
		names = settings.CODGateways
	}
	return set.HideCashOnDelivery(in, names), nil
}

// paymentEnvelope tells a missing paymentMethods list from an empty one.
type paymentEnvelope struct {
	*discountfn.PaymentInput
	PaymentMethods *[]discountfn.PaymentMethod `json:"paymentMethods"`
}

// decodePaymentInput reads the payment customization input: one JSON object with its payment
// methods. Unknown fields are allowed.
func decodePaymentInput(body []byte) (*discountfn.PaymentInput, error) {
	if len(bytes.TrimSpace(body)) == 0 {
		return nil, badRequest(nil, "request body is empty: expected the payment customization input as JSON")
	}
	var in discountfn.PaymentInput
	env := paymentEnvelope{PaymentInput: &in}
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(&env); err != nil {
		return nil, jsonError(err)
	}
	if off := dec.InputOffset(); len(bytes.TrimSpace(body[off:])) > 0 {
		return nil, badRequest(nil, "malformed JSON: unexpected data after the input object at byte %d", off)
	}
	if env.PaymentMethods == nil {
		return nil, badRequest(nil, "paymentMethods is required")
	}
	in.PaymentMethods = *env.PaymentMethods
	return &in, nil
}
