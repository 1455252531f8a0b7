package graphql_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/regularsapp/regulars/graphql"
	"github.com/regularsapp/regulars/graphql/graphqltest"
)

const shop = "demo.myshopify.com"

// waits records the client's waits instead of spending them.
type waits struct {
	mu sync.Mutex
	d  []time.Duration
}

func (w *waits) wait(ctx context.Context, d time.Duration) error {
	w.mu.Lock()
	w.d = append(w.d, d)
	w.mu.Unlock()
	return ctx.Err()
}

func (w *waits) all() []time.Duration {
	w.mu.Lock()
	defer w.mu.Unlock()
	return slices.Clone(w.d)
}

// newClient is a client of the fake, with recorded waits and the token "tok-<shop>".
func newClient(t *testing.T, h graphqltest.Handler, opts ...graphql.Option) (*graphql.Client, *graphqltest.Server, *waits) {
	t.Helper()
	srv := graphqltest.New(t, h)
	w := &waits{}
	opts = append([]graphql.Option{graphql.WithWait(w.wait)}, opts...)
	c := graphql.New(srv.Client(), srv.URL, func(_ context.Context, shop string) (string, error) {
		return "tok-" + shop, nil
	}, opts...)
	return c, srv, w
}

// sequence answers the nth request with the nth response (the last one repeats).
func sequence(responses ...graphqltest.Response) graphqltest.Handler {
	var mu sync.Mutex
	n := 0
	return func(graphqltest.Request) graphqltest.Response {
		mu.Lock()
		defer mu.Unlock()
		r := responses[min(n, len(responses)-1)]
		n++
		return r
	}
}

const shopAnswer = `{"data":{"shop":{"id":"gid://shopify/Shop/1","myshopifyDomain":"demo.myshopify.com",
	"currencyCode":"EUR","ianaTimezone":"Europe/Paris"}},
	"extensions":{"cost":{"requestedQueryCost":1,"actualQueryCost":1,"throttleStatus":{"maximumAvailable":1000,"currentlyAvailable":999,"restoreRate":50}}}}`

const throttledAnswer = `{"errors":[{"message":"Throttled","extensions":{"code":"THROTTLED",
	"documentation":"https://shopify.dev/api/usage/rate-limits"}}],
	"extensions":{"cost":{"requestedQueryCost":101,"actualQueryCost":null,"throttleStatus":{"maximumAvailable":1000,"currentlyAvailable":1,"restoreRate":50}}}}`

func TestShopSendsTokenAndReadsAnswer(t *testing.T) {
	c, srv, w := newClient(t, sequence(graphqltest.Response{Body: shopAnswer}))
	got, err := c.Shop(context.Background(), shop)
	if err != nil {
		t.Fatal(err)
	}
	want := graphql.Shop{ID: "gid://shopify/Shop/1", Domain: shop, Currency: "EUR", Timezone: "Europe/Paris"}
	if got != want {
		t.Errorf("Shop = %+v, want %+v", got, want)
	}
	reqs := srv.Requests()
	if len(reqs) != 1 || reqs[0].Token != "tok-"+shop || reqs[0].Shop != shop || reqs[0].Op != "shopInfo" {
		t.Errorf("requests = %+v", reqs)
	}
	if len(w.all()) != 0 {
		t.Errorf("waited %v without being throttled", w.all())
	}
}

func TestThrottledThenSuccess(t *testing.T) {
	c, srv, w := newClient(t, sequence(graphqltest.Response{Body: throttledAnswer}, graphqltest.Response{Body: shopAnswer}))
	got, err := c.Shop(context.Background(), shop)
	if err != nil {
		t.Fatal(err)
	}
	if got.Currency != "EUR" {
		t.Errorf("after the retry the answer was not read: %+v", got)
	}
	if n := len(srv.Requests()); n != 2 {
		t.Errorf("%d requests, want 2 (throttled, then retried)", n)
	}
	// (101 requested - 1 available) / 50 per second = 2 s.
	if got := w.all(); !slices.Equal(got, []time.Duration{2 * time.Second}) {
		t.Errorf("waits = %v, want [2s] from the cost extension", got)
	}
}

func TestThrottledMutationIsRetried(t *testing.T) {
	created := `{"data":{"discountAutomaticAppCreate":{"automaticAppDiscount":{"discountId":"gid://shopify/DiscountAutomaticNode/7"},"userErrors":[]}}}`
	c, srv, _ := newClient(t, sequence(graphqltest.Response{Body: throttledAnswer}, graphqltest.Response{Body: created}))
	id, err := c.CreateAutomaticDiscount(context.Background(), shop, graphql.DiscountAutomaticAppInput{Title: "x", FunctionHandle: "regulars-discounts"})
	if err != nil || id != "gid://shopify/DiscountAutomaticNode/7" {
		t.Fatalf("CreateAutomaticDiscount = %q, %v", id, err)
	}
	if n := len(srv.Requests()); n != 2 {
		t.Errorf("%d requests, want 2", n)
	}
}

func TestThrottledGivesUp(t *testing.T) {
	c, srv, w := newClient(t, sequence(graphqltest.Response{Body: throttledAnswer}), graphql.WithRetries(2, 2))
	_, err := c.Shop(context.Background(), shop)
	if !errors.Is(err, graphql.ErrThrottled) {
		t.Fatalf("err = %v, want ErrThrottled", err)
	}
	if n := len(srv.Requests()); n != 3 {
		t.Errorf("%d requests, want 3 (one and two retries)", n)
	}
	if n := len(w.all()); n != 2 {
		t.Errorf("%d waits, want 2", n)
	}
}

func TestHTTP429And503HonourRetryAfter(t *testing.T) {
	tooMany := graphqltest.Response{Status: http.StatusTooManyRequests, Header: http.Header{"Retry-After": {"3"}}, Body: `{"errors":"Exceeded 2 calls per second for api client. Reduce request rates to resume uninterrupted service."}`}
	unavailable := graphqltest.Response{Status: http.StatusServiceUnavailable, Header: http.Header{"Retry-After": {"7"}}, Body: `{"errors":"Service unavailable"}`}
	deleted := graphqltest.Response{Body: `{"data":{"discountCodeDelete":{"deletedCodeDiscountId":"gid://shopify/DiscountCodeNode/1","userErrors":[]}}}`}
	c, srv, w := newClient(t, sequence(tooMany, unavailable, deleted))
	if err := c.DeleteDiscount(context.Background(), shop, "gid://shopify/DiscountCodeNode/1", false); err != nil {
		t.Fatal(err)
	}
	if n := len(srv.Requests()); n != 3 {
		t.Errorf("%d requests, want 3", n)
	}
	if got := w.all(); !slices.Equal(got, []time.Duration{3 * time.Second, 7 * time.Second}) {
		t.Errorf("waits = %v, want [3s 7s] from Retry-After", got)
	}
}

func TestServerErrorRetriedForQueriesOnly(t *testing.T) {
	broken := graphqltest.Response{Status: http.StatusInternalServerError, Body: `{"errors":"Internal error"}`}

	c, srv, w := newClient(t, sequence(broken, broken, graphqltest.Response{Body: shopAnswer}))
	if _, err := c.Shop(context.Background(), shop); err != nil {
		t.Fatalf("query after two 500s: %v", err)
	}
	if n := len(srv.Requests()); n != 3 {
		t.Errorf("query: %d requests, want 3", n)
	}
	if got := w.all(); !slices.Equal(got, []time.Duration{500 * time.Millisecond, time.Second}) {
		t.Errorf("query: waits = %v, want exponential backoff [500ms 1s]", got)
	}

	// A mutation that may have run is not sent again.
	c, srv, _ = newClient(t, sequence(broken))
	_, err := c.CreateAutomaticDiscount(context.Background(), shop, graphql.DiscountAutomaticAppInput{Title: "x"})
	if err == nil {
		t.Fatal("mutation after a 500: no error")
	}
	if n := len(srv.Requests()); n != 1 {
		t.Errorf("mutation: %d requests, want 1", n)
	}
}

func TestUserErrors(t *testing.T) {
	answer := `{"data":{"discountCodeAppCreate":{"codeAppDiscount":null,"userErrors":[
		{"field":["codeAppDiscount","title"],"message":"Title can't be blank","code":"BLANK"},
		{"field":["codeAppDiscount","code"],"message":"Code must be unique","code":"TAKEN"}]}}}`
	c, _, w := newClient(t, sequence(graphqltest.Response{Body: answer}))
	_, err := c.CreateCodeDiscount(context.Background(), shop, graphql.DiscountCodeAppInput{Code: "SAVE"})
	var ue *graphql.UserErrors
	if !errors.As(err, &ue) {
		t.Fatalf("err = %v (%T), want *UserErrors", err, err)
	}
	want := []graphql.UserError{
		{Field: []string{"codeAppDiscount", "title"}, Message: "Title can't be blank", Code: "BLANK"},
		{Field: []string{"codeAppDiscount", "code"}, Message: "Code must be unique", Code: "TAKEN"},
	}
	if ue.Op != "discountCodeAppCreate" || len(ue.Errors) != 2 ||
		!slices.Equal(ue.Errors[0].Field, want[0].Field) || ue.Errors[1].Code != "TAKEN" || ue.Errors[0].Message != want[0].Message {
		t.Errorf("UserErrors = %+v", ue)
	}
	if !ue.HasCode("TAKEN") || !strings.Contains(ue.Error(), "codeAppDiscount.title: Title can't be blank (BLANK)") {
		t.Errorf("Error() = %q", ue.Error())
	}
	if len(w.all()) != 0 {
		t.Error("a refused mutation was retried")
	}
}

func TestPlainUserErrorsHaveNoCode(t *testing.T) {
	answer := `{"data":{"webhookSubscriptionCreate":{"webhookSubscription":null,"userErrors":[{"field":["webhookSubscription","callbackUrl"],"message":"Address is invalid"}]}}}`
	c, srv, _ := newClient(t, sequence(graphqltest.Response{Body: answer}))
	_, err := c.SubscribeWebhook(context.Background(), shop, "orders/create", "/webhooks")
	var ue *graphql.UserErrors
	if !errors.As(err, &ue) || ue.Errors[0].Message != "Address is invalid" || ue.Errors[0].Code != "" {
		t.Fatalf("err = %v", err)
	}
	if r := srv.Requests()[0]; r.Vars["topic"] != "ORDERS_CREATE" || r.Vars["uri"] != "/webhooks" {
		t.Errorf("variables = %v", r.Vars)
	}
}

func TestGraphQLErrorsAreNotRetried(t *testing.T) {
	answer := `{"errors":[{"message":"Field 'nope' doesn't exist on type 'Shop'","locations":[{"line":1,"column":9}],"extensions":{"code":"undefinedField"}}]}`
	c, srv, _ := newClient(t, sequence(graphqltest.Response{Body: answer}))
	if _, err := c.Shop(context.Background(), shop); err == nil || !strings.Contains(err.Error(), "doesn't exist") {
		t.Fatalf("err = %v", err)
	}
	if n := len(srv.Requests()); n != 1 {
		t.Errorf("%d requests, want 1", n)
	}
}

func TestTokenFailureIsNotRetried(t *testing.T) {
	srv := graphqltest.New(t, sequence(graphqltest.Response{Body: shopAnswer}))
	noToken := errors.New("shop is not installed")
	c := graphql.New(srv.Client(), srv.URL, func(context.Context, string) (string, error) { return "", noToken })
	if _, err := c.Shop(context.Background(), shop); !errors.Is(err, noToken) {
		t.Fatalf("err = %v, want the token error", err)
	}
	if n := len(srv.Requests()); n != 0 {
		t.Errorf("%d requests reached the platform", n)
	}
}

func TestCancelledContextEndsTheWait(t *testing.T) {
	srv := graphqltest.New(t, sequence(graphqltest.Response{Body: throttledAnswer}))
	c := graphql.New(srv.Client(), srv.URL, func(context.Context, string) (string, error) { return "t", nil })
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		_, err := c.Shop(ctx, shop)
		done <- err
	}()
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
}

func TestCodeDiscountInputOmitsWhatIsUnset(t *testing.T) {
	answer := `{"data":{"discountCodeAppCreate":{"codeAppDiscount":{"discountId":"gid://shopify/DiscountCodeNode/9"},"userErrors":[]}}}`
	c, srv, _ := newClient(t, sequence(graphqltest.Response{Body: answer}))
	starts := time.Date(2025, 11, 1, 0, 0, 0, 0, time.UTC)
	in := graphql.DiscountCodeAppInput{
		Title:           "Welcome back",
		Code:            "HELLO",
		FunctionHandle:  "regulars-discounts",
		StartsAt:        &starts,
		DiscountClasses: []graphql.DiscountClass{graphql.DiscountClassOrder},
		CombinesWith:    &graphql.DiscountCombinesWithInput{ShippingDiscounts: true},
		Context:         &graphql.DiscountContextInput{All: graphql.DiscountBuyerSelectionAll},
		Metafields:      []graphql.MetafieldInput{{Namespace: "$app:regulars", Key: "function-configuration", Type: "json", Value: `{"version":1}`}},
	}
	id, err := c.CreateCodeDiscount(context.Background(), shop, in)
	if err != nil || id != "gid://shopify/DiscountCodeNode/9" {
		t.Fatalf("CreateCodeDiscount = %q, %v", id, err)
	}
	var sent map[string]map[string]any
	if err := json.Unmarshal(srv.Requests()[0].RawVars, &sent); err != nil {
		t.Fatal(err)
	}
	got := sent["input"]
	for _, absent := range []string{"appliesOnOneTimePurchase", "appliesOnSubscription", "recurringCycleLimit"} {
		if _, ok := got[absent]; ok {
			t.Errorf("%s was sent (%v): the platform's default must apply", absent, got[absent])
		}
	}
	for _, null := range []string{"endsAt", "usageLimit"} {
		if v, ok := got[null]; !ok || v != nil {
			t.Errorf("%s = %v, want an explicit null (it clears the field on update)", null, v)
		}
	}
	if got["startsAt"] != "2025-11-01T00:00:00Z" || got["code"] != "HELLO" {
		t.Errorf("input = %v", got)
	}
	if ctx := got["context"].(map[string]any); len(ctx) != 1 || ctx["all"] != "ALL" {
		t.Errorf("context = %v, want exactly {all: ALL}", ctx)
	}
}

func TestAddRedeemCodesBounds(t *testing.T) {
	c, srv, _ := newClient(t, sequence(graphqltest.Response{Body: `{}`}))
	codes := make([]string, graphql.MaxRedeemCodes+1)
	if _, err := c.AddRedeemCodes(context.Background(), shop, "gid://shopify/DiscountCodeNode/1", codes); err == nil {
		t.Error("251 codes accepted")
	}
	if _, err := c.AddRedeemCodes(context.Background(), shop, "gid://shopify/DiscountCodeNode/1", nil); err == nil {
		t.Error("no codes accepted")
	}
	if n := len(srv.Requests()); n != 0 {
		t.Errorf("%d requests sent", n)
	}
}

func TestWaitRedeemCodeBulk(t *testing.T) {
	added := `{"data":{"discountRedeemCodeBulkAdd":{"bulkCreation":{"id":"gid://shopify/DiscountRedeemCodeBulkCreation/5","done":false},"userErrors":[]}}}`
	running := `{"data":{"discountRedeemCodeBulkCreation":{"id":"gid://shopify/DiscountRedeemCodeBulkCreation/5","done":false,"codesCount":3,"importedCount":0,"failedCount":0,"codes":{"nodes":[]}}}}`
	done := `{"data":{"discountRedeemCodeBulkCreation":{"id":"gid://shopify/DiscountRedeemCodeBulkCreation/5","done":true,"codesCount":3,"importedCount":2,"failedCount":1}}}`
	failures := `{"data":{"discountRedeemCodeBulkCreation":{
		"codes":{"nodes":[{"code":"A","errors":[]},{"code":"B","errors":[{"field":["code"],"message":"must be unique","code":"TAKEN"}]}]}}}}`
	c, srv, w := newClient(t, sequence(graphqltest.Response{Body: added}, graphqltest.Response{Body: running},
		graphqltest.Response{Body: done}, graphqltest.Response{Body: failures}))
	ctx := context.Background()
	id, err := c.AddRedeemCodes(ctx, shop, "gid://shopify/DiscountCodeNode/1", []string{"A", "B", "C"})
	if err != nil {
		t.Fatal(err)
	}
	b, err := c.WaitRedeemCodeBulk(ctx, shop, id, 5)
	if err != nil {
		t.Fatal(err)
	}
	if !b.Done || b.ImportedCount != 2 || b.FailedCount != 1 || len(b.Failures) != 1 || b.Failures[0].Code != "B" || b.Failures[0].Errors[0].Code != "TAKEN" {
		t.Errorf("bulk = %+v", b)
	}
	// The codes and their errors are read once, only because some failed.
	if got := srv.Ops(); !slices.Equal(got, []string{"discountRedeemCodeBulkAdd", "discountRedeemCodeBulkCreation", "discountRedeemCodeBulkCreation", "discountRedeemCodeBulkFailures"}) {
		t.Errorf("ops = %v", got)
	}
	if n := len(w.all()); n != 1 {
		t.Errorf("%d waits between polls, want 1", n)
	}
	codes := srv.Requests()[0].Vars["codes"].([]any)
	if len(codes) != 3 || codes[0].(map[string]any)["code"] != "A" {
		t.Errorf("codes sent = %v", codes)
	}
}

func TestWaitGivesUpAfterPolls(t *testing.T) {
	running := `{"data":{"node":{"id":"gid://shopify/BulkOperation/1","status":"RUNNING","errorCode":null,"objectCount":"10","url":null,"partialDataUrl":null}}}`
	c, srv, _ := newClient(t, sequence(graphqltest.Response{Body: running}))
	_, err := c.WaitBulkOperation(context.Background(), shop, "gid://shopify/BulkOperation/1", 3)
	if !errors.Is(err, graphql.ErrNotDone) {
		t.Fatalf("err = %v, want ErrNotDone", err)
	}
	if n := len(srv.Requests()); n != 3 {
		t.Errorf("%d polls, want 3", n)
	}
}

func TestBulkOperation(t *testing.T) {
	started := `{"data":{"bulkOperationRunQuery":{"bulkOperation":{"id":"gid://shopify/BulkOperation/1","status":"CREATED"},"userErrors":[]}}}`
	completed := `{"data":{"node":{"id":"gid://shopify/BulkOperation/1","status":"COMPLETED","errorCode":null,"objectCount":"3","url":"https://storage.example/result.jsonl","partialDataUrl":null}}}`
	c, srv, _ := newClient(t, sequence(graphqltest.Response{Body: started}, graphqltest.Response{Body: completed}))
	ctx := context.Background()
	op, err := c.RunBulkQuery(ctx, shop, graphql.OrdersBulkQuery(time.Time{}))
	if err != nil || op.ID != "gid://shopify/BulkOperation/1" {
		t.Fatalf("RunBulkQuery = %+v, %v", op, err)
	}
	n, err := c.WaitBulkOperation(ctx, shop, op.ID, 3)
	if err != nil {
		t.Fatal(err)
	}
	if n.Status != graphql.BulkOperationStatusCompleted || n.URL != "https://storage.example/result.jsonl" || n.ObjectCount != "3" {
		t.Errorf("operation = %+v", n)
	}
	if q := srv.Requests()[0].Vars["query"].(string); !strings.Contains(q, "lineItems") {
		t.Errorf("bulk query sent = %q", q)
	}
}

func TestWebhookTopic(t *testing.T) {
	for topic, want := range map[string]graphql.WebhookSubscriptionTopic{
		"orders/create":    graphql.WebhookSubscriptionTopicOrdersCreate,
		"refunds/create":   graphql.WebhookSubscriptionTopicRefundsCreate,
		"app/uninstalled":  graphql.WebhookSubscriptionTopicAppUninstalled,
		"customers/update": graphql.WebhookSubscriptionTopicCustomersUpdate,
	} {
		if got, ok := graphql.WebhookTopic(topic); !ok || got != want {
			t.Errorf("WebhookTopic(%q) = %q, %v", topic, got, ok)
		}
	}
	for _, topic := range []string{"customers/redact", "shop/redact", "customers/data_request", "nope"} {
		if _, ok := graphql.WebhookTopic(topic); ok {
			t.Errorf("WebhookTopic(%q) accepted a topic the API cannot subscribe", topic)
		}
	}
}
