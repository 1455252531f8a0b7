package app

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/regularsapp/regulars/graphql"
	"github.com/regularsapp/regulars/graphql/graphqltest"
)

// fakePlatform is a stateful fake of the platform's Admin API, on graphqltest (every request
// is validated against the pinned schema, variables included): discounts, their codes,
// webhook subscriptions, functions, and bulk queries whose result it serves itself. A test can
// queue raw answers for an operation (inject) to play throttling and userErrors.
type fakePlatform struct {
	t     *testing.T
	srv   *graphqltest.Server
	files *httptest.Server

	mu        sync.Mutex
	nextID    int
	discounts map[string]*fakeDiscount
	subs      []fakeSub
	functions []graphql.Function
	codeBulks map[string]*fakeCodeBulk
	bulkOps   map[string]*fakeBulkOp
	bulkJSONL string // what the next bulk query reads
	injected  map[string][]graphqltest.Response
	payments  []*fakePayment
}

// fakePayment is a payment customization.
type fakePayment struct {
	ID, Title, FunctionID string
	Enabled               bool
	Input                 map[string]any // the create input
}

type fakeDiscount struct {
	ID        string
	Automatic bool
	Active    bool
	Deleted   bool
	Inputs    []map[string]any // every create and update input, in order
	Codes     []string
}

// Input is the last input sent.
func (d *fakeDiscount) Input() map[string]any { return d.Inputs[len(d.Inputs)-1] }

type fakeSub struct{ Topic, URI string }

type fakeCodeBulk struct {
	codes []string
	polls int // polls left before done
}

type fakeBulkOp struct {
	query  string
	polls  int
	status string
}

const (
	fakeToken             = "shpat_fake_token"
	fakePaymentFunctionID = "0e8a1c4b-0000-4000-8000-000000000003"
)

// paymentCustomizations are the payment customizations made so far.
func (p *fakePlatform) paymentCustomizations() []fakePayment {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make([]fakePayment, 0, len(p.payments))
	for _, pc := range p.payments {
		out = append(out, *pc)
	}
	return out
}

// dropPaymentCustomizations deletes them all, as a merchant may.
func (p *fakePlatform) dropPaymentCustomizations() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.payments = nil
}

func newFakePlatform(t *testing.T) *fakePlatform {
	p := &fakePlatform{
		t: t, discounts: map[string]*fakeDiscount{}, codeBulks: map[string]*fakeCodeBulk{}, bulkOps: map[string]*fakeBulkOp{},
		injected: map[string][]graphqltest.Response{},
		functions: []graphql.Function{
			{ID: "0e8a1c4b-0000-4000-8000-000000000001", Title: "Some other function", APIType: "cart_transform"},
			{ID: "0e8a1c4b-0000-4000-8000-000000000002", Title: "Regulars discounts", APIType: "discount"},
			{ID: fakePaymentFunctionID, Title: "Regulars payments", APIType: "payment_customization"},
		},
	}
	p.srv = graphqltest.New(t, p.handle)
	p.files = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p.mu.Lock()
		body := p.bulkJSONL
		p.mu.Unlock()
		w.Header().Set("Content-Type", "application/jsonl")
		_, _ = w.Write([]byte(body))
	}))
	t.Cleanup(p.files.Close)
	return p
}

// client is a graphql client of the fake whose waits are recorded in w.
func (p *fakePlatform) client(w *recordedWaits) *graphql.Client {
	return graphql.New(p.srv.Client(), p.srv.URL, func(_ context.Context, shop string) (string, error) {
		return fakeToken, nil
	}, graphql.WithWait(w.wait))
}

// inject queues answers for op, used before the fake's own.
func (p *fakePlatform) inject(op string, rs ...graphqltest.Response) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.injected[op] = append(p.injected[op], rs...)
}

// setBulkResult sets what the next bulk query reads (JSONL).
func (p *fakePlatform) setBulkResult(jsonl string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.bulkJSONL = jsonl
}

// setFunctions sets the app's functions.
func (p *fakePlatform) setFunctions(fns []graphql.Function) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.functions = fns
}

// subscriptions are the webhook subscriptions made so far.
func (p *fakePlatform) subscriptions() []fakeSub {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Clone(p.subs)
}

// discount returns the live discount with the id, failing the test if there is none.
func (p *fakePlatform) discount(t *testing.T, id string) *fakeDiscount {
	t.Helper()
	p.mu.Lock()
	defer p.mu.Unlock()
	d := p.discounts[id]
	if d == nil {
		t.Fatalf("the platform has no discount %q", id)
	}
	cp := *d
	cp.Codes = slices.Clone(d.Codes)
	return &cp
}

// live counts discounts not deleted.
func (p *fakePlatform) live() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := 0
	for _, d := range p.discounts {
		if !d.Deleted {
			n++
		}
	}
	return n
}

func (p *fakePlatform) opCount(op string) int {
	n := 0
	for _, o := range p.srv.Ops() {
		if o == op {
			n++
		}
	}
	return n
}

func jsonAnswer(data any) graphqltest.Response {
	b, err := json.Marshal(map[string]any{"data": data, "extensions": map[string]any{"cost": map[string]any{
		"requestedQueryCost": 10, "actualQueryCost": 10,
		"throttleStatus": map[string]any{"maximumAvailable": 1000, "currentlyAvailable": 990, "restoreRate": 50},
	}}})
	if err != nil {
		panic(err)
	}
	return graphqltest.Response{Body: string(b)}
}

func userErrors(msg, code string, field ...string) []any {
	return []any{map[string]any{"field": field, "message": msg, "code": code}}
}

func (p *fakePlatform) handle(r graphqltest.Request) graphqltest.Response {
	p.mu.Lock()
	defer p.mu.Unlock()
	if q := p.injected[r.Op]; len(q) > 0 {
		p.injected[r.Op] = q[1:]
		return q[0]
	}
	if r.Token != fakeToken {
		return graphqltest.Response{Status: http.StatusUnauthorized, Body: `{"errors":"[API] Invalid API key or access token"}`}
	}
	id, _ := r.Vars["id"].(string)
	switch r.Op {
	case "shopInfo":
		return jsonAnswer(map[string]any{"shop": map[string]any{"id": "gid://shopify/Shop/1", "myshopifyDomain": r.Shop,
			"currencyCode": "EUR", "ianaTimezone": "Europe/Paris"}})
	case "shopifyFunctions":
		var nodes []any
		for _, f := range p.functions {
			nodes = append(nodes, map[string]any{"id": f.ID, "title": f.Title, "apiType": f.APIType})
		}
		return jsonAnswer(map[string]any{"shopifyFunctions": map[string]any{"nodes": nodes,
			"pageInfo": map[string]any{"hasNextPage": false, "endCursor": nil}}})
	case "webhookSubscriptionCreate":
		sub := fakeSub{Topic: r.Vars["topic"].(string), URI: r.Vars["uri"].(string)}
		if slices.Contains(p.subs, sub) {
			return jsonAnswer(map[string]any{"webhookSubscriptionCreate": map[string]any{"webhookSubscription": nil,
				"userErrors": []any{map[string]any{"field": []string{"webhookSubscription", "callbackUrl"}, "message": "Address for this topic has already been taken"}}}})
		}
		p.subs = append(p.subs, sub)
		return jsonAnswer(map[string]any{"webhookSubscriptionCreate": map[string]any{
			"webhookSubscription": map[string]any{"id": p.gid("WebhookSubscription")}, "userErrors": []any{}}})
	case "discountCodeAppCreate", "discountAutomaticAppCreate":
		automatic := r.Op == "discountAutomaticAppCreate"
		in := r.Vars["input"].(map[string]any)
		node := "DiscountCodeNode"
		if automatic {
			node = "DiscountAutomaticNode"
		}
		d := &fakeDiscount{ID: p.gid(node), Automatic: automatic, Active: true, Inputs: []map[string]any{in}}
		if c, _ := in["code"].(string); c != "" {
			d.Codes = []string{c}
		}
		p.discounts[d.ID] = d
		payload := "codeAppDiscount"
		if automatic {
			payload = "automaticAppDiscount"
		}
		return jsonAnswer(map[string]any{r.Op: map[string]any{payload: map[string]any{"discountId": d.ID}, "userErrors": []any{}}})
	case "discountCodeAppUpdate", "discountAutomaticAppUpdate":
		payload := "codeAppDiscount"
		if r.Op == "discountAutomaticAppUpdate" {
			payload = "automaticAppDiscount"
		}
		d := p.discounts[id]
		if d == nil || d.Deleted {
			return jsonAnswer(map[string]any{r.Op: map[string]any{payload: nil, "userErrors": userErrors("Discount does not exist", "INVALID", "id")}})
		}
		in := r.Vars["input"].(map[string]any)
		d.Inputs = append(d.Inputs, in)
		return jsonAnswer(map[string]any{r.Op: map[string]any{payload: map[string]any{"discountId": d.ID}, "userErrors": []any{}}})
	case "discountCodeActivate", "discountCodeDeactivate", "discountAutomaticActivate", "discountAutomaticDeactivate":
		d := p.discounts[id]
		if d == nil || d.Deleted {
			return jsonAnswer(map[string]any{r.Op: map[string]any{"userErrors": userErrors("Discount does not exist", "INVALID", "id")}})
		}
		d.Active = strings.HasSuffix(r.Op, "Activate")
		return jsonAnswer(map[string]any{r.Op: map[string]any{"userErrors": []any{}}})
	case "discountCodeDelete", "discountAutomaticDelete":
		field := "deletedCodeDiscountId"
		if r.Op == "discountAutomaticDelete" {
			field = "deletedAutomaticDiscountId"
		}
		d := p.discounts[id]
		if d == nil || d.Deleted {
			return jsonAnswer(map[string]any{r.Op: map[string]any{field: nil, "userErrors": userErrors("Discount does not exist", "INVALID", "id")}})
		}
		d.Deleted = true
		return jsonAnswer(map[string]any{r.Op: map[string]any{field: d.ID, "userErrors": []any{}}})
	case "nodeExists":
		if d := p.discounts[id]; d != nil && !d.Deleted {
			return jsonAnswer(map[string]any{"node": map[string]any{"id": id}})
		}
		return jsonAnswer(map[string]any{"node": nil})
	case "discountRedeemCodeBulkAdd":
		d := p.discounts[id]
		raw := r.Vars["codes"].([]any)
		if d == nil || d.Deleted || len(raw) > graphql.MaxRedeemCodes {
			return jsonAnswer(map[string]any{r.Op: map[string]any{"bulkCreation": nil, "userErrors": userErrors("refused", "INVALID", "codes")}})
		}
		b := &fakeCodeBulk{polls: 1}
		for _, c := range raw {
			b.codes = append(b.codes, c.(map[string]any)["code"].(string))
		}
		d.Codes = append(d.Codes, b.codes...)
		bid := p.gid("DiscountRedeemCodeBulkCreation")
		p.codeBulks[bid] = b
		return jsonAnswer(map[string]any{r.Op: map[string]any{"bulkCreation": map[string]any{"id": bid, "done": false}, "userErrors": []any{}}})
	case "discountRedeemCodeBulkCreation":
		b := p.codeBulks[id]
		if b == nil {
			return jsonAnswer(map[string]any{r.Op: nil})
		}
		done := b.polls <= 0
		b.polls--
		return jsonAnswer(map[string]any{r.Op: map[string]any{"id": id, "done": done, "codesCount": len(b.codes),
			"importedCount": len(b.codes), "failedCount": 0, "codes": map[string]any{"nodes": []any{}}}})
	case "bulkOperationRunQuery":
		for _, op := range p.bulkOps {
			if op.status != "COMPLETED" {
				return jsonAnswer(map[string]any{r.Op: map[string]any{"bulkOperation": nil,
					"userErrors": userErrors("A bulk query operation for this app and shop is already in progress", "OPERATION_IN_PROGRESS")}})
			}
		}
		oid := p.gid("BulkOperation")
		p.bulkOps[oid] = &fakeBulkOp{query: r.Vars["query"].(string), polls: 1, status: "CREATED"}
		return jsonAnswer(map[string]any{r.Op: map[string]any{"bulkOperation": map[string]any{"id": oid, "status": "CREATED"}, "userErrors": []any{}}})
	case "bulkOperationByID":
		op := p.bulkOps[id]
		if op == nil {
			return jsonAnswer(map[string]any{"node": nil})
		}
		return jsonAnswer(map[string]any{"node": p.bulkOpObject(id, op)})
	case "paymentCustomizations":
		nodes := []any{}
		for _, pc := range p.payments {
			nodes = append(nodes, map[string]any{"id": pc.ID, "title": pc.Title, "enabled": pc.Enabled, "functionId": pc.FunctionID})
		}
		return jsonAnswer(map[string]any{r.Op: map[string]any{"nodes": nodes, "pageInfo": map[string]any{"hasNextPage": false, "endCursor": nil}}})
	case "paymentCustomizationCreate":
		in := r.Vars["input"].(map[string]any)
		if in["functionHandle"] != PaymentFunctionHandle {
			return jsonAnswer(map[string]any{r.Op: map[string]any{"paymentCustomization": nil,
				"userErrors": userErrors("Function not found.", "FUNCTION_NOT_FOUND", "paymentCustomization", "functionHandle")}})
		}
		pc := &fakePayment{ID: p.gid("PaymentCustomization"), Title: in["title"].(string), Enabled: in["enabled"].(bool),
			FunctionID: fakePaymentFunctionID, Input: in}
		p.payments = append(p.payments, pc)
		return jsonAnswer(map[string]any{r.Op: map[string]any{"paymentCustomization": map[string]any{
			"id": pc.ID, "title": pc.Title, "enabled": pc.Enabled, "functionId": pc.FunctionID}, "userErrors": []any{}}})
	case "currentBulkOperation":
		for oid, op := range p.bulkOps {
			if op.status != "COMPLETED" {
				return jsonAnswer(map[string]any{"currentBulkOperation": p.bulkOpObject(oid, op)})
			}
		}
		return jsonAnswer(map[string]any{"currentBulkOperation": nil})
	}
	p.t.Errorf("fake platform: unexpected operation %s", r.Op)
	return graphqltest.Response{Status: http.StatusBadRequest, Body: `{"errors":[{"message":"unexpected"}]}`}
}

// bulkOpObject advances op one poll and describes it. The caller holds p.mu.
func (p *fakePlatform) bulkOpObject(id string, op *fakeBulkOp) map[string]any {
	if op.polls <= 0 {
		op.status = "COMPLETED"
	} else {
		op.status = "RUNNING"
		op.polls--
	}
	var url any
	if op.status == "COMPLETED" && p.bulkJSONL != "" {
		url = p.files.URL + "/bulk/" + strings.TrimPrefix(id, "gid://shopify/BulkOperation/") + ".jsonl"
	}
	return map[string]any{"id": id, "status": op.status, "errorCode": nil, "objectCount": "0", "url": url, "partialDataUrl": nil}
}

// gid is a new id of the type. The caller holds p.mu.
func (p *fakePlatform) gid(typ string) string {
	p.nextID++
	return fmt.Sprintf("gid://shopify/%s/%d", typ, 1000+p.nextID)
}

// recordedWaits records the client's and the sync's waits instead of spending them.
type recordedWaits struct {
	mu sync.Mutex
	d  []time.Duration
}

func (w *recordedWaits) wait(ctx context.Context, d time.Duration) error {
	w.mu.Lock()
	w.d = append(w.d, d)
	w.mu.Unlock()
	return ctx.Err()
}

func (w *recordedWaits) all() []time.Duration {
	w.mu.Lock()
	defer w.mu.Unlock()
	return slices.Clone(w.d)
}
