package graphql

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
)

// The wrappers below are the package's API: each sends one operation of operations/ through
// the client (throttling and retries included) and returns plain values. Every mutation
// wrapper turns non-empty userErrors into a *UserErrors.

// Shop is what install reads about a shop.
type Shop struct {
	ID       string // gid://shopify/Shop/N
	Domain   string // its myshopify.com domain
	Currency string // ISO 4217
	Timezone string // IANA name
}

// Shop reads the shop's currency and timezone.
func (c *Client) Shop(ctx context.Context, shop string) (Shop, error) {
	resp, _, err := shopInfo(ctx, c.ForShop(shop))
	if err != nil {
		return Shop{}, err
	}
	s := resp.GetShop()
	return Shop{ID: s.GetId(), Domain: s.GetMyshopifyDomain(), Currency: string(s.GetCurrencyCode()), Timezone: s.GetIanaTimezone()}, nil
}

// Function is one of the app's functions.
type Function struct {
	ID      string // a UUID
	Title   string
	APIType string // "discount" for the unified discount API
}

// maxFunctionPages bounds the functions listing (50 a page).
const maxFunctionPages = 20

// Functions lists the functions the app owns in the shop.
func (c *Client) Functions(ctx context.Context, shop string) ([]Function, error) {
	var out []Function
	after := ""
	for range maxFunctionPages {
		resp, _, err := shopifyFunctions(ctx, c.ForShop(shop), after)
		if err != nil {
			return nil, err
		}
		conn := resp.GetShopifyFunctions()
		for _, n := range conn.GetNodes() {
			out = append(out, Function{ID: n.GetId(), Title: n.GetTitle(), APIType: n.GetApiType()})
		}
		page := conn.GetPageInfo()
		if !page.GetHasNextPage() || page.GetEndCursor() == "" {
			return out, nil
		}
		after = page.GetEndCursor()
	}
	return out, nil
}

// WebhookTopic is the Admin API's name of a webhook topic given as the REST/TOML name
// ("orders/create" → ORDERS_CREATE); ok is false for a topic the API cannot subscribe to
// (such as the compliance topics, configured in the app's TOML only).
func WebhookTopic(topic string) (WebhookSubscriptionTopic, bool) {
	name := WebhookSubscriptionTopic(strings.ToUpper(strings.NewReplacer("/", "_", "-", "_").Replace(strings.TrimSpace(topic))))
	for _, t := range AllWebhookSubscriptionTopic {
		if t == name {
			return t, true
		}
	}
	return "", false
}

// SubscribeWebhook subscribes the app to topic (REST name, e.g. "orders/create"), delivered
// as JSON to uri, and returns the subscription's id.
func (c *Client) SubscribeWebhook(ctx context.Context, shop, topic, uri string) (string, error) {
	t, ok := WebhookTopic(topic)
	if !ok {
		return "", fmt.Errorf("graphql: webhook topic %q cannot be subscribed through the Admin API", topic)
	}
	resp, _, err := webhookSubscriptionCreate(ctx, c.ForShop(shop), t, uri)
	if err != nil {
		return "", err
	}
	p := resp.GetWebhookSubscriptionCreate()
	if err := userErrorsOf("webhookSubscriptionCreate", p.GetUserErrors()); err != nil {
		return "", err
	}
	return p.WebhookSubscription.Id, nil
}

// AddTags adds tags to an order or customer (by GID).
func (c *Client) AddTags(ctx context.Context, shop, id string, tags []string) error {
	resp, _, err := tagsAdd(ctx, c.ForShop(shop), id, tags)
	if err != nil {
		return err
	}
	return userErrorsOf("tagsAdd", resp.TagsAdd.UserErrors)
}

// CreateCodeDiscount creates a code app discount and returns its id (the discount node's GID).
func (c *Client) CreateCodeDiscount(ctx context.Context, shop string, input DiscountCodeAppInput) (string, error) {
	resp, _, err := discountCodeAppCreate(ctx, c.ForShop(shop), input)
	if err != nil {
		return "", err
	}
	p := resp.GetDiscountCodeAppCreate()
	if err := userErrorsOf("discountCodeAppCreate", p.GetUserErrors()); err != nil {
		return "", err
	}
	id := p.CodeAppDiscount.DiscountId
	if id == "" {
		return "", fmt.Errorf("graphql: discountCodeAppCreate for %s: no discount id in the answer", shop)
	}
	return id, nil
}

// UpdateCodeDiscount replaces a code app discount's settings.
func (c *Client) UpdateCodeDiscount(ctx context.Context, shop, id string, input DiscountCodeAppInput) error {
	resp, _, err := discountCodeAppUpdate(ctx, c.ForShop(shop), id, input)
	if err != nil {
		return err
	}
	return userErrorsOf("discountCodeAppUpdate", resp.DiscountCodeAppUpdate.UserErrors)
}

// CreateAutomaticDiscount creates an automatic app discount and returns its id.
func (c *Client) CreateAutomaticDiscount(ctx context.Context, shop string, input DiscountAutomaticAppInput) (string, error) {
	resp, _, err := discountAutomaticAppCreate(ctx, c.ForShop(shop), input)
	if err != nil {
		return "", err
	}
	p := resp.GetDiscountAutomaticAppCreate()
	if err := userErrorsOf("discountAutomaticAppCreate", p.GetUserErrors()); err != nil {
		return "", err
	}
	id := p.AutomaticAppDiscount.DiscountId
	if id == "" {
		return "", fmt.Errorf("graphql: discountAutomaticAppCreate for %s: no discount id in the answer", shop)
	}
	return id, nil
}

// UpdateAutomaticDiscount replaces an automatic app discount's settings.
func (c *Client) UpdateAutomaticDiscount(ctx context.Context, shop, id string, input DiscountAutomaticAppInput) error {
	resp, _, err := discountAutomaticAppUpdate(ctx, c.ForShop(shop), id, input)
	if err != nil {
		return err
	}
	return userErrorsOf("discountAutomaticAppUpdate", resp.DiscountAutomaticAppUpdate.UserErrors)
}

// SetDiscountActive activates (resumes) or deactivates (pauses) a code or automatic discount.
func (c *Client) SetDiscountActive(ctx context.Context, shop, id string, automatic, active bool) error {
	cl := c.ForShop(shop)
	switch {
	case automatic && active:
		resp, _, err := discountAutomaticActivate(ctx, cl, id)
		if err != nil {
			return err
		}
		return userErrorsOf("discountAutomaticActivate", resp.DiscountAutomaticActivate.UserErrors)
	case automatic:
		resp, _, err := discountAutomaticDeactivate(ctx, cl, id)
		if err != nil {
			return err
		}
		return userErrorsOf("discountAutomaticDeactivate", resp.DiscountAutomaticDeactivate.UserErrors)
	case active:
		resp, _, err := discountCodeActivate(ctx, cl, id)
		if err != nil {
			return err
		}
		return userErrorsOf("discountCodeActivate", resp.DiscountCodeActivate.UserErrors)
	default:
		resp, _, err := discountCodeDeactivate(ctx, cl, id)
		if err != nil {
			return err
		}
		return userErrorsOf("discountCodeDeactivate", resp.DiscountCodeDeactivate.UserErrors)
	}
}

// DeleteDiscount deletes a code or automatic discount.
func (c *Client) DeleteDiscount(ctx context.Context, shop, id string, automatic bool) error {
	cl := c.ForShop(shop)
	if automatic {
		resp, _, err := discountAutomaticDelete(ctx, cl, id)
		if err != nil {
			return err
		}
		return userErrorsOf("discountAutomaticDelete", resp.DiscountAutomaticDelete.UserErrors)
	}
	resp, _, err := discountCodeDelete(ctx, cl, id)
	if err != nil {
		return err
	}
	return userErrorsOf("discountCodeDelete", resp.DiscountCodeDelete.UserErrors)
}

// NodeExists reports whether the platform still has the node (a discount deleted in the
// platform's admin is gone).
func (c *Client) NodeExists(ctx context.Context, shop, id string) (bool, error) {
	resp, _, err := nodeExists(ctx, c.ForShop(shop), id)
	if err != nil {
		return false, err
	}
	return resp.Node.Id != "", nil
}

// MaxRedeemCodes is the most codes one discountRedeemCodeBulkAdd takes.
const MaxRedeemCodes = 250

// AddRedeemCodes starts adding codes (at most MaxRedeemCodes) to a code discount and returns
// the bulk creation's id, to poll with RedeemCodeBulk.
func (c *Client) AddRedeemCodes(ctx context.Context, shop, discountID string, codes []string) (string, error) {
	if len(codes) == 0 || len(codes) > MaxRedeemCodes {
		return "", fmt.Errorf("graphql: discountRedeemCodeBulkAdd takes 1 to %d codes, not %d", MaxRedeemCodes, len(codes))
	}
	in := make([]DiscountRedeemCodeInput, len(codes))
	for i, code := range codes {
		in[i] = DiscountRedeemCodeInput{Code: code}
	}
	resp, _, err := discountRedeemCodeBulkAdd(ctx, c.ForShop(shop), discountID, in)
	if err != nil {
		return "", err
	}
	p := resp.GetDiscountRedeemCodeBulkAdd()
	if err := userErrorsOf("discountRedeemCodeBulkAdd", p.GetUserErrors()); err != nil {
		return "", err
	}
	id := p.BulkCreation.Id
	if id == "" {
		return "", fmt.Errorf("graphql: discountRedeemCodeBulkAdd for %s: no bulk creation id in the answer", shop)
	}
	return id, nil
}

// RedeemCodeBulk is the state of a bulk code creation.
type RedeemCodeBulk struct {
	ID            string
	Done          bool
	CodesCount    int
	ImportedCount int
	FailedCount   int
	// Failures are the codes that were not added, with why (the first 250).
	Failures []CodeFailure
}

// CodeFailure is a code a bulk creation could not add.
type CodeFailure struct {
	Code   string
	Errors []UserError
}

// RedeemCodeBulk reads a bulk code creation; ok is false when the platform does not know it.
// When it is done and some codes failed, Failures lists them (the first 250 codes' errors).
func (c *Client) RedeemCodeBulk(ctx context.Context, shop, id string) (RedeemCodeBulk, bool, error) {
	resp, _, err := discountRedeemCodeBulkCreation(ctx, c.ForShop(shop), id)
	if err != nil {
		return RedeemCodeBulk{}, false, err
	}
	b := resp.GetDiscountRedeemCodeBulkCreation()
	if b.GetId() == "" {
		return RedeemCodeBulk{}, false, nil
	}
	out := RedeemCodeBulk{ID: b.GetId(), Done: b.GetDone(), CodesCount: b.GetCodesCount(),
		ImportedCount: b.GetImportedCount(), FailedCount: b.GetFailedCount()}
	if !out.Done || out.FailedCount == 0 {
		return out, true, nil
	}
	failures, _, err := discountRedeemCodeBulkFailures(ctx, c.ForShop(shop), id)
	if err != nil {
		return RedeemCodeBulk{}, false, err
	}
	for _, n := range failures.DiscountRedeemCodeBulkCreation.Codes.Nodes {
		if len(n.Errors) == 0 {
			continue
		}
		f := CodeFailure{Code: n.Code}
		for i := range n.Errors {
			f.Errors = append(f.Errors, toUserError(&n.Errors[i]))
		}
		out.Failures = append(out.Failures, f)
	}
	return out, true, nil
}

// Polling bounds.
const (
	firstPoll = 250 * time.Millisecond
	maxPoll   = 10 * time.Second
)

// ErrNotDone is returned (wrapped) when polling gave up before the platform finished.
var ErrNotDone = errors.New("graphql: the platform has not finished yet")

// WaitRedeemCodeBulk polls a bulk code creation until it is done, at most polls times (waiting
// 250 ms, then twice as long each time, up to 10 s). ErrNotDone if it is still running then.
func (c *Client) WaitRedeemCodeBulk(ctx context.Context, shop, id string, polls int) (RedeemCodeBulk, error) {
	wait := firstPoll
	for i := range max(polls, 1) {
		b, ok, err := c.RedeemCodeBulk(ctx, shop, id)
		if err != nil {
			return RedeemCodeBulk{}, err
		}
		if !ok {
			return RedeemCodeBulk{}, fmt.Errorf("graphql: bulk code creation %s is unknown to the platform", id)
		}
		if b.Done {
			return b, nil
		}
		if i == polls-1 {
			break
		}
		if err := c.wait(ctx, wait); err != nil {
			return RedeemCodeBulk{}, fmt.Errorf("graphql: wait for bulk code creation %s: %w", id, err)
		}
		wait = min(wait*2, maxPoll)
	}
	return RedeemCodeBulk{}, fmt.Errorf("bulk code creation %s: %w", id, ErrNotDone)
}

// RunBulkQuery starts a bulk query and returns the operation (its id and status).
func (c *Client) RunBulkQuery(ctx context.Context, shop, query string) (BulkOperationNode, error) {
	resp, _, err := bulkOperationRunQuery(ctx, c.ForShop(shop), query)
	if err != nil {
		return BulkOperationNode{}, err
	}
	p := resp.GetBulkOperationRunQuery()
	if err := userErrorsOf("bulkOperationRunQuery", p.GetUserErrors()); err != nil {
		return BulkOperationNode{}, err
	}
	op := p.GetBulkOperation()
	if op.GetId() == "" {
		return BulkOperationNode{}, fmt.Errorf("graphql: bulkOperationRunQuery for %s: no operation id in the answer", shop)
	}
	return BulkOperationNode{ID: op.GetId(), Status: op.GetStatus()}, nil
}

// BulkOperation reads a bulk operation by id; ok is false when the platform does not know it.
func (c *Client) BulkOperation(ctx context.Context, shop, id string) (BulkOperationNode, bool, error) {
	resp, _, err := bulkOperationByID(ctx, c.ForShop(shop), id)
	if err != nil {
		return BulkOperationNode{}, false, err
	}
	n := resp.GetNode()
	return n, n.ID != "", nil
}

// CurrentBulkOperation reads the app's most recent bulk query; ok is false when there is none.
func (c *Client) CurrentBulkOperation(ctx context.Context, shop string) (BulkOperationNode, bool, error) {
	resp, _, err := currentBulkOperation(ctx, c.ForShop(shop))
	if err != nil {
		return BulkOperationNode{}, false, err
	}
	n := resp.GetCurrentBulkOperation()
	return n, n.ID != "", nil
}

// Finished reports whether the operation will not change any more.
func (n BulkOperationNode) Finished() bool {
	switch n.Status {
	case BulkOperationStatusCompleted, BulkOperationStatusFailed, BulkOperationStatusCanceled, BulkOperationStatusExpired:
		return true
	}
	return false
}

// WaitBulkOperation polls a bulk operation until it has finished (completed, failed, canceled
// or expired), at most polls times, waiting 250 ms and then twice as long each time, up to
// 10 s. ErrNotDone if it is still running then.
func (c *Client) WaitBulkOperation(ctx context.Context, shop, id string, polls int) (BulkOperationNode, error) {
	wait := firstPoll
	for i := range max(polls, 1) {
		n, ok, err := c.BulkOperation(ctx, shop, id)
		if err != nil {
			return BulkOperationNode{}, err
		}
		if !ok {
			return BulkOperationNode{}, fmt.Errorf("graphql: bulk operation %s is unknown to the platform", id)
		}
		if n.Finished() {
			return n, nil
		}
		if i == polls-1 {
			break
		}
		if err := c.wait(ctx, wait); err != nil {
			return BulkOperationNode{}, fmt.Errorf("graphql: wait for bulk operation %s: %w", id, err)
		}
		wait = min(wait*2, maxPoll)
	}
	return BulkOperationNode{}, fmt.Errorf("bulk operation %s: %w", id, ErrNotDone)
}

// PaymentCustomization is one of the shop's payment customizations.
type PaymentCustomization struct {
	ID         string // gid://shopify/PaymentCustomization/N
	Title      string
	Enabled    bool
	FunctionID string // the function it runs
}

// maxPaymentCustomizationPages bounds the payment customizations listing (50 a page).
const maxPaymentCustomizationPages = 20

// PaymentCustomizations lists the shop's payment customizations (every app's).
func (c *Client) PaymentCustomizations(ctx context.Context, shop string) ([]PaymentCustomization, error) {
	var out []PaymentCustomization
	after := ""
	for range maxPaymentCustomizationPages {
		resp, _, err := paymentCustomizations(ctx, c.ForShop(shop), after)
		if err != nil {
			return nil, err
		}
		conn := resp.GetPaymentCustomizations()
		for _, n := range conn.GetNodes() {
			out = append(out, PaymentCustomization{ID: n.GetId(), Title: n.GetTitle(), Enabled: n.GetEnabled(), FunctionID: n.GetFunctionId()})
		}
		page := conn.GetPageInfo()
		if !page.GetHasNextPage() || page.GetEndCursor() == "" {
			return out, nil
		}
		after = page.GetEndCursor()
	}
	return out, nil
}

// CreatePaymentCustomization creates a payment customization and returns it.
func (c *Client) CreatePaymentCustomization(ctx context.Context, shop string, input PaymentCustomizationInput) (PaymentCustomization, error) {
	resp, _, err := paymentCustomizationCreate(ctx, c.ForShop(shop), input)
	if err != nil {
		return PaymentCustomization{}, err
	}
	p := resp.GetPaymentCustomizationCreate()
	if err := userErrorsOf("paymentCustomizationCreate", p.GetUserErrors()); err != nil {
		return PaymentCustomization{}, err
	}
	pc := p.GetPaymentCustomization()
	if pc.GetId() == "" {
		return PaymentCustomization{}, fmt.Errorf("graphql: paymentCustomizationCreate for %s: no payment customization id in the answer", shop)
	}
	return PaymentCustomization{ID: pc.GetId(), Title: pc.GetTitle(), Enabled: pc.GetEnabled(), FunctionID: pc.GetFunctionId()}, nil
}
