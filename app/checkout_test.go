package app

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/regularsapp/regulars/discountfn"
)

const cartLinesPath = "/checkout/cart-lines"

func TestCheckoutRejectsBadTokens(t *testing.T) {
	body := mustJSON(t, inputDoc(2, offerA))
	forged, err := MintCheckoutToken([]byte("someone-elses-key-someone-elses-key"), shopA, testNow())
	if err != nil {
		t.Fatal(err)
	}
	notAShop := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.RegisteredClaims{
		Issuer: checkoutTokenIssuer, Audience: jwt.ClaimStrings{checkoutTokenAudience},
		Subject: "evil.example.com", IssuedAt: jwt.NewNumericDate(testNow()),
	})
	notAShopToken, err := notAShop.SignedString([]byte(testKey))
	if err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name   string
		header string
	}{
		{"missing", ""},
		{"empty bearer", "Bearer "},
		{"basic scheme", "Basic " + mustToken(t, shopA)},
		{"token without scheme", mustToken(t, shopA)},
		{"garbage", "Bearer not.a.jwt"},
		{"forged with another key", "Bearer " + forged},
		{"subject not a shop", "Bearer " + notAShopToken},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := newTestEnv(t, testConfig())
			req := newRequest(t, http.MethodPost, cartLinesPath, body)
			if tt.header != "" {
				req.Header.Set("Authorization", tt.header)
			}
			resp, err := env.srv.App().Test(req, -1)
			if err != nil {
				t.Fatal(err)
			}
			got := readBody(t, resp)
			if resp.StatusCode != http.StatusUnauthorized {
				t.Fatalf("status = %d, want 401; body %s", resp.StatusCode, got)
			}
			assertJSONError(t, resp, got, "missing or invalid checkout token")
			if calls := env.src.calls(); len(calls) != 0 {
				t.Errorf("source was called for %v; nothing may be loaded before the token verifies", calls)
			}
		})
	}
}

func TestCheckoutShopComesFromTokenOnly(t *testing.T) {
	env := newTestEnv(t, testConfig())
	doc := inputDoc(3, offerB) // shop B's offer id...
	doc["shop"] = map[string]any{"myshopifyDomain": shopB, "localTime": map[string]any{"date": "2026-11-23"}}
	doc["shopDomain"] = shopB
	req := newRequest(t, http.MethodPost, cartLinesPath, mustJSON(t, doc))
	req.Header.Set("Authorization", "Bearer "+mustToken(t, shopA)) // ...with shop A's token
	req.Header.Set("X-Shopify-Shop-Domain", shopB)
	resp, err := env.srv.App().Test(req, -1)
	if err != nil {
		t.Fatal(err)
	}
	got := readBody(t, resp)
	if resp.StatusCode != http.StatusOK || string(got) != emptyRunResult {
		t.Fatalf("got %d %s, want 200 %s", resp.StatusCode, got, emptyRunResult)
	}
	for _, shop := range env.src.calls() {
		if shop != shopA {
			t.Errorf("source asked for %q; only the token's shop %q may be read", shop, shopA)
		}
	}
	if !hasLog(env.logs.logRecords(t), "WARN", shopA) {
		t.Errorf("want a warning naming shop A; logs:\n%s", env.logs)
	}
}

func TestCheckoutBadInput(t *testing.T) {
	valid := mustJSON(t, inputDoc(2, offerA))
	withCart := func(cart any) []byte {
		doc := inputDoc(1, offerA)
		doc["cart"] = cart
		return mustJSON(t, doc)
	}
	withoutCart := inputDoc(1, offerA)
	delete(withoutCart, "cart")
	quantityAsString := inputDoc(2, offerA)
	quantityAsString["cart"].(map[string]any)["lines"].([]any)[1].(map[string]any)["quantity"] = "2"
	amountAsNumber := inputDoc(1, offerA)
	amountAsNumber["cart"].(map[string]any)["lines"].([]any)[0].(map[string]any)["cost"].(map[string]any)["amountPerQuantity"] = map[string]any{"amount": 12.5, "currencyCode": "USD"}

	tests := []struct {
		name string
		body []byte
		want string // in the error message
	}{
		{"empty body", nil, "request body is empty"},
		{"whitespace body", []byte(" \n\t"), "request body is empty"},
		{"truncated", valid[:len(valid)/2], "malformed JSON"},
		{"not JSON", []byte(`cart=1`), "malformed JSON at byte"},
		{"bad token inside", []byte(`{"cart": {"lines": [}}`), "malformed JSON at byte"},
		{"trailing garbage", append(bytes.Clone(valid), []byte(" garbage")...), "unexpected data after the input object"},
		{"trailing second object", append(bytes.Clone(valid), []byte(`{}`)...), "unexpected data after the input object"},
		{"array at top level", []byte(`[1,2]`), "must be a JSON object, got array"},
		{"string at top level", []byte(`"cart"`), "must be a JSON object, got string"},
		{"null", []byte(`null`), "cart is required"},
		{"missing cart", mustJSON(t, withoutCart), "cart is required"},
		{"cart null", withCart(nil), "cart is required"},
		{"cart without lines", withCart(map[string]any{"deliveryGroups": []any{}}), "cart.lines is required"},
		{"lines is an object", withCart(map[string]any{"lines": map[string]any{}}), "cart.lines must be an array, got object"},
		{"quantity is a string", mustJSON(t, quantityAsString), "cart.lines.quantity must be an integer, got string"},
		{"amount is a number", mustJSON(t, amountAsNumber), "cart.lines.cost.amountPerQuantity.amount must be a string, got number"},
		{"cart is a string", withCart("full"), "cart must be an object, got string"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := newTestEnv(t, testConfig())
			resp, got := env.do(t, http.MethodPost, cartLinesPath, mustToken(t, shopA), tt.body)
			if resp.StatusCode != http.StatusBadRequest {
				t.Fatalf("status = %d, want 400; body %s", resp.StatusCode, got)
			}
			assertJSONError(t, resp, got, tt.want)
			if calls := env.src.calls(); len(calls) != 0 {
				t.Errorf("source was called for %v on a bad request", calls)
			}
		})
	}
}

func TestCheckoutBodyLimit(t *testing.T) {
	cfg := testConfig()
	env := newTestEnv(t, cfg)
	base := env.serve(t)
	token := mustToken(t, shopA)

	post := func(t *testing.T, body []byte) (*http.Response, []byte) {
		t.Helper()
		req, err := http.NewRequestWithContext(context.Background(), http.MethodPost, base+cartLinesPath, bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Authorization", "Bearer "+token)
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		return resp, readBody(t, resp)
	}

	t.Run("over the limit", func(t *testing.T) {
		// The server answers as soon as it reads the Content-Length, then closes the
		// connection; a client still writing the body would see a broken pipe instead of the
		// answer. So only the start of the body is sent, over a plain connection.
		conn, err := net.Dial("tcp", strings.TrimPrefix(base, "http://"))
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		start := mustJSON(t, inputDoc(1, offerA))
		fmt.Fprintf(conn, "POST %s HTTP/1.1\r\nHost: regulars.test\r\nAuthorization: Bearer %s\r\n"+
			"Content-Type: application/json\r\nContent-Length: %d\r\n\r\n%s",
			cartLinesPath, token, cfg.MaxBodyBytes+1, start)
		if err := conn.SetReadDeadline(time.Now().Add(10 * time.Second)); err != nil {
			t.Fatal(err)
		}
		resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
		if err != nil {
			t.Fatal(err)
		}
		got := readBody(t, resp)
		if resp.StatusCode != http.StatusRequestEntityTooLarge {
			t.Fatalf("status = %d, want 413; body %s", resp.StatusCode, got)
		}
		assertJSONError(t, resp, got, fmt.Sprintf("larger than %d bytes", cfg.MaxBodyBytes))
		if calls := env.src.calls(); len(calls) != 0 {
			t.Errorf("source was called for %v on an oversized body", calls)
		}
	})
	t.Run("large cart under the limit", func(t *testing.T) {
		body := mustJSON(t, inputDoc(200, offerA)) // the platform's 200-line cart
		if len(body) >= cfg.MaxBodyBytes {
			t.Fatalf("fixture is %d bytes, not under the %d limit", len(body), cfg.MaxBodyBytes)
		}
		resp, got := post(t, body)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("status = %d, want 200; body %s", resp.StatusCode, got)
		}
		assertRunResult(t, discountfn.TargetCartLines, got)
	})
}

func TestCheckoutRefusesCompressedBody(t *testing.T) {
	env := newTestEnv(t, testConfig())
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	if _, err := zw.Write(mustJSON(t, inputDoc(2, offerA))); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	req := newRequest(t, http.MethodPost, cartLinesPath, gz.Bytes())
	req.Header.Set("Authorization", "Bearer "+mustToken(t, shopA))
	req.Header.Set("Content-Encoding", "gzip")
	resp, err := env.srv.App().Test(req, -1)
	if err != nil {
		t.Fatal(err)
	}
	got := readBody(t, resp)
	if resp.StatusCode != http.StatusUnsupportedMediaType {
		t.Fatalf("status = %d, want 415; body %s", resp.StatusCode, got)
	}
	assertJSONError(t, resp, got, "plain JSON")
	if calls := env.src.calls(); len(calls) != 0 {
		t.Errorf("source was called for %v", calls)
	}
}

func TestCheckoutNoOfferAnswersNoDiscount(t *testing.T) {
	metafield := func(mf any) []byte {
		doc := inputDoc(2, offerA)
		doc["discount"].(map[string]any)["metafield"] = mf
		return mustJSON(t, doc)
	}
	const shopC = "shop-c.myshopify.com" // a valid token, but nothing loaded for the shop
	tests := []struct {
		name       string
		shop       string
		body       []byte
		wantSource bool // the source is read (an offer id is only known to be unknown there)
	}{
		{"unknown offer id", shopA, mustJSON(t, inputDoc(2, "no-such-offer")), true},
		{"unknown shop", shopC, mustJSON(t, inputDoc(2, offerA)), true},
		{"no metafield", shopA, metafield(nil), false},
		{"metafield without offer_id", shopA, metafield(map[string]any{"jsonValue": map[string]any{"version": 1}}), false},
		{"metafield not JSON", shopA, metafield(map[string]any{"value": "offer=a"}), false},
		{"metafield of the wrong shape", shopA, metafield(map[string]any{"jsonValue": []any{1, 2}}), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := newTestEnv(t, testConfig())
			resp, got := env.do(t, http.MethodPost, cartLinesPath, mustToken(t, tt.shop), tt.body)
			if resp.StatusCode != http.StatusOK || string(got) != emptyRunResult {
				t.Fatalf("got %d %s, want 200 %s", resp.StatusCode, got, emptyRunResult)
			}
			if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
				t.Errorf("Content-Type = %q, want application/json", ct)
			}
			if !hasLog(env.logs.logRecords(t), "WARN", tt.shop) {
				t.Errorf("want a warning naming the shop; logs:\n%s", env.logs)
			}
			if read := len(env.src.calls()) > 0; read != tt.wantSource {
				t.Errorf("source read = %v, want %v", read, tt.wantSource)
			}
		})
	}
}

func TestCheckoutEvaluates(t *testing.T) {
	asValueString := inputDoc(4, offerA)
	asValueString["discount"].(map[string]any)["metafield"] = map[string]any{
		"value": fmt.Sprintf(`{"version":1,"offer_id":%q}`, offerA), "type": "json",
	}
	asJSONString := inputDoc(4, offerA)
	asJSONString["discount"].(map[string]any)["metafield"] = map[string]any{
		"jsonValue": fmt.Sprintf(`{"version":1,"offer_id":%q}`, offerA), "type": "single_line_text_field",
	}
	guest := inputDoc(1, offerA)
	guest["cart"].(map[string]any)["buyerIdentity"] = nil

	customer := discountfn.Buyer{CustomerID: "gid://shopify/Customer/42", Email: "regular@example.com"}

	tests := []struct {
		name      string
		path      string
		target    discountfn.Target
		body      []byte
		wantBuyer discountfn.Buyer // whose facts are loaded
	}{
		{"cart lines", cartLinesPath, discountfn.TargetCartLines, mustJSON(t, inputDoc(3, offerA)), customer},
		{"delivery options", "/checkout/delivery-options", discountfn.TargetDeliveryOptions, mustJSON(t, inputDoc(3, offerA)), customer},
		{"metafield value string", cartLinesPath, discountfn.TargetCartLines, mustJSON(t, asValueString), customer},
		{"metafield jsonValue as text", cartLinesPath, discountfn.TargetCartLines, mustJSON(t, asJSONString), customer},
		{"guest buyer", cartLinesPath, discountfn.TargetCartLines, mustJSON(t, guest), discountfn.Buyer{}},
		{"empty cart", cartLinesPath, discountfn.TargetCartLines, mustJSON(t, inputDoc(0, offerA)), customer},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := newTestEnv(t, testConfig())
			resp, got := env.do(t, http.MethodPost, tt.path, mustToken(t, shopA), tt.body)
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("status = %d, want 200; body %s", resp.StatusCode, got)
			}
			if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
				t.Errorf("Content-Type = %q, want application/json", ct)
			}
			assertRunResult(t, tt.target, got)
			if calls := env.src.calls(); !slices.Equal(calls, []string{shopA, shopA}) {
				t.Errorf("source calls = %v, want offers and facts of %s", calls, shopA)
			}
			if buyers := env.src.factsBuyers(); !slices.Equal(buyers, []discountfn.Buyer{tt.wantBuyer}) {
				t.Errorf("facts loaded for %+v, want %+v", buyers, tt.wantBuyer)
			}
			for _, rec := range env.logs.logRecords(t) {
				if rec["level"] == "WARN" || rec["level"] == "ERROR" {
					t.Errorf("unexpected log: %v", rec)
				}
			}
		})
	}
}

func TestCheckoutFailuresAnswerNoDiscount(t *testing.T) {
	const deadline = 100 * time.Millisecond
	// The answer comes a millisecond or two after the deadline. The sources below hold the call
	// until the test ends, so any bound tells "answered at the deadline" from "waited for the
	// source"; a generous one keeps a loaded machine (or the race detector) from failing what
	// is a behaviour check, not a timing one.
	const margin = time.Second

	block := func(release <-chan struct{}) func(context.Context, string) (*discountfn.OfferSet, discountfn.CodeBook, error) {
		return func(context.Context, string) (*discountfn.OfferSet, discountfn.CodeBook, error) {
			<-release // ignores ctx, like a stuck driver
			return nil, nil, errors.New("released")
		}
	}
	tests := []struct {
		name     string
		setup    func(src *recordingSource, release <-chan struct{})
		wantLog  string // in the ERROR record
		deadline bool   // the answer waits for the deadline
	}{
		{
			name:     "offers past the deadline",
			setup:    func(src *recordingSource, release <-chan struct{}) { src.checkout = block(release) },
			wantLog:  "deadline exceeded",
			deadline: true,
		},
		{
			name: "facts past the deadline",
			setup: func(src *recordingSource, release <-chan struct{}) {
				src.facts = func(ctx context.Context, _ string, _ discountfn.Buyer) (discountfn.Facts, error) {
					<-ctx.Done() // honours ctx: gives up when we do
					return discountfn.Facts{}, ctx.Err()
				}
			},
			wantLog:  "deadline exceeded",
			deadline: true,
		},
		{
			name: "offers fail",
			setup: func(src *recordingSource, _ <-chan struct{}) {
				src.checkout = func(context.Context, string) (*discountfn.OfferSet, discountfn.CodeBook, error) {
					return nil, nil, errors.New("connection refused by db-7")
				}
			},
			wantLog: "connection refused by db-7",
		},
		{
			name: "facts fail",
			setup: func(src *recordingSource, _ <-chan struct{}) {
				src.facts = func(context.Context, string, discountfn.Buyer) (discountfn.Facts, error) {
					return discountfn.Facts{}, errors.New("history index corrupt")
				}
			},
			wantLog: "history index corrupt",
		},
		{
			name: "offers panic",
			setup: func(src *recordingSource, _ <-chan struct{}) {
				src.checkout = func(context.Context, string) (*discountfn.OfferSet, discountfn.CodeBook, error) {
					panic("offer cache nil map")
				}
			},
			wantLog: "panic: offer cache nil map",
		},
		{
			name: "facts panic",
			setup: func(src *recordingSource, _ <-chan struct{}) {
				src.facts = func(context.Context, string, discountfn.Buyer) (discountfn.Facts, error) {
					var facts *discountfn.Facts
					return *facts, nil // nil dereference inside the worker
				}
			},
			wantLog: "panic: runtime error",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := testConfig()
			cfg.CheckoutDeadline = deadline
			env := newTestEnv(t, cfg)
			release := make(chan struct{})
			t.Cleanup(func() { close(release) })
			tt.setup(env.src, release)

			body := mustJSON(t, inputDoc(5, offerA))
			start := time.Now()
			resp, got := env.do(t, http.MethodPost, cartLinesPath, mustToken(t, shopA), body)
			elapsed := time.Since(start)

			if resp.StatusCode != http.StatusOK || string(got) != emptyRunResult {
				t.Fatalf("got %d %s, want 200 %s", resp.StatusCode, got, emptyRunResult)
			}
			if elapsed > deadline+margin {
				t.Errorf("answered after %v; want within the %v deadline (+%v slack)", elapsed, deadline, margin)
			}
			if tt.deadline && elapsed < deadline {
				t.Errorf("answered after %v, before the %v deadline", elapsed, deadline)
			}
			recs := env.logs.logRecords(t)
			if !hasLog(recs, "ERROR", shopA, tt.wantLog) {
				t.Errorf("want an ERROR log naming %s and %q; logs:\n%s", shopA, tt.wantLog, env.logs)
			}
			if n := countLevel(recs, "ERROR"); n != 1 {
				t.Errorf("%d ERROR records, want exactly 1; logs:\n%s", n, env.logs)
			}
			if bytes.Contains(got, []byte(tt.wantLog)) {
				t.Errorf("response leaks the internal error: %s", got)
			}
		})
	}
}

func TestEncodeRunResultOutputLimit(t *testing.T) {
	many := make([]discountfn.Operation, 0, 400)
	for i := range 400 {
		many = append(many, discountfn.Operation{ProductDiscountsAdd: &discountfn.ProductDiscountsAdd{
			SelectionStrategy: "ALL",
			Candidates: []discountfn.ProductCandidate{{
				Message: "Regulars discount",
				Targets: []discountfn.ProductTarget{{CartLine: &discountfn.CartLineTarget{ID: fmt.Sprintf("gid://shopify/CartLine/%d", i)}}},
				Value:   discountfn.CandidateValue{Percentage: &discountfn.PercentageJSON{Value: "10"}},
			}},
		}})
	}
	tests := []struct {
		name    string
		result  discountfn.Result
		want    string
		wantErr error
	}{
		{"no operations", discountfn.Result{}, emptyRunResult, nil},
		{"over 20,000 bytes", discountfn.Result{Operations: many}, "", errOutputTooLarge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := encodeRunResult(tt.result)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			if string(got) != tt.want {
				t.Errorf("got %s, want %s", got, tt.want)
			}
		})
	}
}

// assertRunResult checks the shape of a run result, whatever the amounts: an "operations"
// array whose items each set exactly one operation allowed for the target.
func assertRunResult(t *testing.T, target discountfn.Target, body []byte) {
	t.Helper()
	var res map[string]json.RawMessage
	if err := json.Unmarshal(body, &res); err != nil {
		t.Fatalf("response is not a JSON object: %v: %s", err, body)
	}
	raw, ok := res["operations"]
	if !ok {
		t.Fatalf("response has no operations key: %s", body)
	}
	var ops []map[string]json.RawMessage
	if err := json.Unmarshal(raw, &ops); err != nil || ops == nil {
		t.Fatalf("operations is not an array: %s", raw)
	}
	allowed := map[discountfn.Target][]string{
		discountfn.TargetCartLines:       {"productDiscountsAdd", "orderDiscountsAdd", "enteredDiscountCodesAccept"},
		discountfn.TargetDeliveryOptions: {"deliveryDiscountsAdd", "enteredDiscountCodesAccept"},
	}[target]
	for i, op := range ops {
		if len(op) != 1 {
			t.Errorf("operations[%d] sets %d fields, want exactly one: %v", i, len(op), op)
		}
		for k := range op {
			if !slices.Contains(allowed, k) {
				t.Errorf("operations[%d] is %q, not allowed for %s", i, k, target)
			}
		}
	}
	if len(body) > maxRunResultBytes {
		t.Errorf("response is %d bytes, over the platform's %d", len(body), maxRunResultBytes)
	}
}

func assertJSONError(t *testing.T, resp *http.Response, body []byte, want string) {
	t.Helper()
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("Content-Type = %q, want application/json", ct)
	}
	var e struct {
		Error string `json:"error"`
	}
	if err := json.Unmarshal(body, &e); err != nil || e.Error == "" {
		t.Fatalf("body is not {\"error\": ...}: %s", body)
	}
	if !strings.Contains(e.Error, want) {
		t.Errorf("error = %q, want it to contain %q", e.Error, want)
	}
}

// hasLog reports whether a record at level mentions every one of words (in any attribute).
func hasLog(recs []map[string]any, level string, words ...string) bool {
	for _, rec := range recs {
		if rec["level"] != level {
			continue
		}
		line := fmt.Sprint(rec)
		found := true
		for _, w := range words {
			found = found && strings.Contains(line, w)
		}
		if found {
			return true
		}
	}
	return false
}

func countLevel(recs []map[string]any, level string) int {
	n := 0
	for _, rec := range recs {
		if rec["level"] == level {
			n++
		}
	}
	return n
}
