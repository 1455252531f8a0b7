package app

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"reflect"
	"runtime/debug"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/regularsapp/regulars/discountfn"
)

// The checkout endpoint is the discount function's fetch target: the platform POSTs the
// function input and runs whatever we answer through the run target. Checkout must keep
// working whatever happens to us, so every failure on our side (a slow or failing source, a
// panic, an oversized answer) is answered with "no discount" and logged; only a malformed
// request gets a 4xx.

const (
	// emptyRunResult is "no discount".
	emptyRunResult = `{"operations":[]}`
	// maxRunResultBytes is the platform's cap on a function's output.
	maxRunResultBytes = discountfn.MaxOutputBytes
)

var (
	errNoOfferConfig  = errors.New("no offer configuration")
	errUnknownOffer   = errors.New("offer not in the shop's offer set")
	errOutputTooLarge = errors.New("result exceeds the platform's output limit")
)

// shopKey is the fiber.Ctx local under which requireCheckoutToken leaves the shop.
type shopKey struct{}

// requireCheckoutToken verifies the bearer checkout token and records its shop, the only
// source of the shop for checkout handlers (see checkoutShop).
func (s *Server) requireCheckoutToken(c *fiber.Ctx) error {
	scheme, token, ok := strings.Cut(c.Get(fiber.HeaderAuthorization), " ")
	token = strings.TrimSpace(token)
	if !ok || !strings.EqualFold(scheme, "Bearer") || token == "" {
		return unauthorized("checkout token", errors.New("no bearer token"))
	}
	shop, err := s.checkoutTokens.verify(s.cfg.CheckoutSigningKey, token, s.now())
	if err != nil {
		return unauthorized("checkout token", err)
	}
	c.Locals(shopKey{}, shop)
	return c.Next()
}

// checkoutShop is the shop of the verified checkout token.
func checkoutShop(c *fiber.Ctx) (string, bool) {
	shop, ok := c.Locals(shopKey{}).(string)
	return shop, ok && shop != ""
}

// checkoutHandler answers one run target: the function input in, the run result out.
func (s *Server) checkoutHandler(target discountfn.Target) fiber.Handler {
	return func(c *fiber.Ctx) error {
		started := time.Now()
		ctx, cancel := context.WithTimeout(c.UserContext(), s.cfg.CheckoutDeadline)
		defer cancel()

		shop, ok := checkoutShop(c)
		if !ok {
			return errors.New("checkout: route is not behind requireCheckoutToken")
		}
		// The body is read raw: c.Body() would inflate a compressed body without any limit.
		// The fetch target sends plain JSON.
		if enc := strings.TrimSpace(c.Get(fiber.HeaderContentEncoding)); enc != "" && !strings.EqualFold(enc, "identity") {
			return fiber.ErrUnsupportedMediaType
		}
		// Decoding copies everything it keeps out of the body, which Fiber reuses after the
		// handler returns; nothing of c reaches the evaluation goroutine.
		in, err := decodeInput(c.BodyRaw())
		if err != nil {
			return err
		}
		answer, err := s.checkout(ctx, checkoutCall{
			shop: shop, target: target, input: in, now: s.now(), started: started,
		})
		if err != nil {
			return err
		}
		c.Set(fiber.HeaderContentType, fiber.MIMEApplicationJSON)
		return c.Send(answer)
	}
}

// checkoutCall is one evaluation, owned by whichever goroutine runs it.
type checkoutCall struct {
	shop    string
	target  discountfn.Target
	input   *discountfn.Input
	offerID string
	now     time.Time // the injected clock, for the offers' schedules and limits
	started time.Time // wall clock, for the logs
}

// checkout evaluates the call within ctx's deadline. It returns the answer to send, or a
// bad-request error when the engine rejects the input. Anything else that goes wrong is
// logged and answered with "no discount".
func (s *Server) checkout(ctx context.Context, call checkoutCall) ([]byte, error) {
	offerID, err := offerIDFrom(call.input)
	if err != nil {
		s.logCheckout(ctx, slog.LevelWarn, "checkout: calling discount names no offer; answering no discount", call, err)
		return []byte(emptyRunResult), nil
	}
	call.offerID = offerID

	// The work runs in its own goroutine so a slow source cannot hold the answer past the
	// deadline. The channel is buffered: a worker finishing after we gave up never blocks.
	done := make(chan checkoutOutcome, 1)
	go func() {
		answer, err := s.evaluateGuarded(ctx, call)
		done <- checkoutOutcome{answer: answer, err: err}
	}()

	var out checkoutOutcome
	select {
	case out = <-done:
	case <-ctx.Done():
		out.err = ctx.Err()
	}

	var panicked *panicError
	switch err := out.err; {
	case err == nil:
		return out.answer, nil
	case errors.Is(err, ErrBadRequest):
		s.logCheckout(ctx, slog.LevelWarn, "checkout: engine rejected the input", call, err)
		return nil, err
	case errors.Is(err, ErrUnknownShop), errors.Is(err, errUnknownOffer):
		// A valid token with an offer id this shop does not have (deleted offer, stale
		// metafield, or a body naming another shop's offer): nothing to give.
		s.logCheckout(ctx, slog.LevelWarn, "checkout: unknown shop or offer; answering no discount", call, err)
	case errors.Is(err, context.DeadlineExceeded):
		s.logCheckout(ctx, slog.LevelError, "checkout: deadline exceeded; answering no discount", call, err,
			"deadline", s.cfg.CheckoutDeadline.String())
	case errors.As(err, &panicked):
		s.logCheckout(ctx, slog.LevelError, "checkout: panic; answering no discount", call, err,
			"stack", string(panicked.stack))
	default:
		s.logCheckout(ctx, slog.LevelError, "checkout: failed; answering no discount", call, err)
	}
	return []byte(emptyRunResult), nil
}

type checkoutOutcome struct {
	answer []byte
	err    error
}

// panicError is a panic recovered from the evaluation goroutine.
type panicError struct {
	value any
	stack []byte
}

func (e *panicError) Error() string { return fmt.Sprintf("panic: %v", e.value) }

// evaluateGuarded is evaluate with panics turned into errors: the recover middleware does not
// reach other goroutines.
func (s *Server) evaluateGuarded(ctx context.Context, call checkoutCall) (answer []byte, err error) {
	defer func() {
		if v := recover(); v != nil {
			answer, err = nil, &panicError{value: v, stack: debug.Stack()}
		}
	}()
	return s.evaluate(ctx, call)
}

// evaluate loads the shop's offers and the buyer's facts, runs the engine and encodes the
// platform's part of the result.
func (s *Server) evaluate(ctx context.Context, call checkoutCall) ([]byte, error) {
	set, codes, err := s.src.Checkout(ctx, call.shop)
	if err != nil {
		return nil, fmt.Errorf("load offers: %w", err)
	}
	if set == nil {
		return nil, fmt.Errorf("load offers: %w", ErrUnknownShop)
	}
	if _, ok := set.Offer(call.offerID); !ok {
		return nil, errUnknownOffer
	}
	facts, err := s.src.Facts(ctx, call.shop, discountfn.BuyerFromInput(call.input))
	if err != nil {
		return nil, fmt.Errorf("load facts: %w", err)
	}
	res, err := set.Evaluate(discountfn.Request{
		Input:   call.input,
		Target:  call.target,
		OfferID: call.offerID,
		Facts:   facts,
		Codes:   codes,
		Now:     call.now,
		NoHints: true, // the platform's answer carries operations only
	})
	if err != nil {
		return nil, badRequest(err, "invalid function input: %v", err)
	}
	return encodeRunResult(res)
}

// encodeRunResult is the platform's part of the result as JSON, refused when it is larger
// than the platform accepts (the platform would drop it anyway, failing the checkout's
// discount silently).
func encodeRunResult(res discountfn.Result) ([]byte, error) {
	answer, err := json.Marshal(res.RunResult())
	if err != nil {
		return nil, fmt.Errorf("encode result: %w", err)
	}
	if len(answer) > maxRunResultBytes {
		return nil, fmt.Errorf("%w: %d bytes, limit %d", errOutputTooLarge, len(answer), maxRunResultBytes)
	}
	return answer, nil
}

func (s *Server) logCheckout(ctx context.Context, level slog.Level, msg string, call checkoutCall, err error, attrs ...any) {
	args := append([]any{
		"shop", call.shop,
		"target", string(call.target),
		"offer_id", call.offerID,
		"elapsed_ms", float64(time.Since(call.started).Microseconds()) / 1000,
		"err", err,
	}, attrs...)
	s.log.Log(ctx, level, msg, args...)
}

// inputEnvelope decodes a discountfn.Input while telling a missing cart from an empty one:
// the outer Cart field shadows the embedded one.
type inputEnvelope struct {
	*discountfn.Input
	Cart *discountfn.Cart `json:"cart"`
}

// decodeInput reads the function input: one JSON object, nothing after it, with a cart and
// its lines. Unknown fields are allowed, because the platform adds fields over time.
func decodeInput(body []byte) (*discountfn.Input, error) {
	if len(bytes.TrimSpace(body)) == 0 {
		return nil, badRequest(nil, "request body is empty: expected the discount function input as JSON")
	}
	var in discountfn.Input
	env := inputEnvelope{Input: &in}
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(&env); err != nil {
		return nil, jsonError(err)
	}
	if off := dec.InputOffset(); len(bytes.TrimSpace(body[off:])) > 0 {
		return nil, badRequest(nil, "malformed JSON: unexpected data after the input object at byte %d", off)
	}
	if env.Cart == nil {
		return nil, badRequest(nil, "cart is required")
	}
	if env.Cart.Lines == nil {
		return nil, badRequest(nil, "cart.lines is required")
	}
	in.Cart = *env.Cart
	return &in, nil
}

// jsonError turns a decoding error into a 400 that says what is wrong and where.
func jsonError(err error) error {
	var (
		syntaxErr *json.SyntaxError
		typeErr   *json.UnmarshalTypeError
	)
	switch {
	case errors.As(err, &syntaxErr):
		return badRequest(err, "malformed JSON at byte %d: %s", syntaxErr.Offset, syntaxErr.Error())
	case errors.Is(err, io.ErrUnexpectedEOF):
		return badRequest(err, "malformed JSON: the input ends early")
	case errors.As(err, &typeErr) && typeErr.Field == "":
		return badRequest(err, "the input must be a JSON object, got %s", typeErr.Value)
	case errors.As(err, &typeErr):
		return badRequest(err, "%s must be %s, got %s", typeErr.Field, jsonKind(typeErr.Type), typeErr.Value)
	default:
		return badRequest(err, "malformed input: %v", err)
	}
}

// jsonKind names the JSON a Go type is decoded from.
func jsonKind(t reflect.Type) string {
	for t != nil && t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t == nil {
		return "a JSON value"
	}
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "true or false"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "an integer"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.Slice, reflect.Array:
		return "an array"
	case reflect.Struct, reflect.Map:
		return "an object"
	default:
		return "a JSON value"
	}
}

// offerIDFrom reads our DiscountConfig from the calling discount's configuration metafield:
// its jsonValue, else its value string, either holding the configuration JSON.
func offerIDFrom(in *discountfn.Input) (string, error) {
	mf := in.Discount.Metafield
	if mf == nil {
		return "", fmt.Errorf("%w: discount.metafield is missing", errNoOfferConfig)
	}
	raw := bytes.TrimSpace(mf.JSONValue)
	if len(raw) == 0 || string(raw) == "null" {
		raw = bytes.TrimSpace([]byte(mf.Value))
	}
	// A metafield of a text type gives its jsonValue as a JSON string.
	if len(raw) > 0 && raw[0] == '"' {
		var text string
		if err := json.Unmarshal(raw, &text); err != nil {
			return "", fmt.Errorf("%w: discount.metafield: %w", errNoOfferConfig, err)
		}
		raw = bytes.TrimSpace([]byte(text))
	}
	if len(raw) == 0 {
		return "", fmt.Errorf("%w: discount.metafield has no value", errNoOfferConfig)
	}
	// Only the offer id: decoding the configuration's collection and tag lists here cost 5%
	// of a checkout's CPU, and the engine reads them from the input itself.
	var cfg struct {
		OfferID string `json:"offer_id"`
	}
	if err := json.Unmarshal(raw, &cfg); err != nil {
		return "", fmt.Errorf("%w: discount.metafield is not a configuration: %w", errNoOfferConfig, err)
	}
	if cfg.OfferID == "" {
		return "", fmt.Errorf("%w: discount.metafield has no offer_id", errNoOfferConfig)
	}
	return cfg.OfferID, nil
}
