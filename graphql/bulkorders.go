package graphql

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"time"
)

// The history backfill reads every order through a bulk query (OrdersBulkQuery), whose result
// is a JSONL file: one line per order, followed by one line per line item and per discount
// application, each naming its order in "__parentId". ReadBulkOrders puts each order back
// together and writes it as the REST Order JSON that order webhooks carry, so backfilled
// orders go through the same parser and pipeline as live ones.

// ordersBulkSelection is what the backfill reads of each order: what purchase history keeps
// (see webhooks.ParseOrder).
const ordersBulkSelection = `{
  orders%s {
    edges {
      node {
        id
        createdAt
        updatedAt
        email
        phone
        clientIp
        test
        cancelledAt
        currencyCode
        presentmentCurrencyCode
        displayFinancialStatus
        paymentGatewayNames
        discountCodes
        subtotalPriceSet { shopMoney { amount currencyCode } }
        totalPriceSet { shopMoney { amount currencyCode } }
        totalDiscountsSet { shopMoney { amount currencyCode } }
        customer { id email phone tags updatedAt }
        shippingAddress { address1 city zip countryCodeV2 phone }
        shippingLine { title }
        refunds { id createdAt totalRefundedSet { shopMoney { amount currencyCode } } }
        discountApplications {
          edges {
            node {
              __typename
              index
              ... on DiscountCodeApplication { code }
              ... on AutomaticDiscountApplication { title }
              ... on ManualDiscountApplication { title }
              ... on ScriptDiscountApplication { title }
            }
          }
        }
        lineItems {
          edges {
            node {
              id
              quantity
              variant { id }
              product { id }
              originalUnitPriceSet { shopMoney { amount currencyCode } }
              discountAllocations {
                allocatedAmountSet { shopMoney { amount currencyCode } }
                discountApplication { index }
              }
            }
          }
        }
      }
    }
  }
}`

// OrdersBulkQuery is the backfill's bulk query: every order, or with since set, the orders
// updated after since (the periodic reconciliation).
func OrdersBulkQuery(since time.Time) string {
	args := ""
	if !since.IsZero() {
		filter := "updated_at:>'" + since.UTC().Format(time.RFC3339) + "'"
		// A JSON string is a valid GraphQL string; the filter is plain ASCII.
		var quoted bytes.Buffer
		enc := json.NewEncoder(&quoted)
		enc.SetEscapeHTML(false)
		_ = enc.Encode(filter) // a string always encodes
		args = "(query: " + strings.TrimSpace(quoted.String()) + ")"
	}
	return fmt.Sprintf(ordersBulkSelection, args)
}

// BulkOrder is one order of a backfill, reassembled.
type BulkOrder struct {
	ID        string // gid://shopify/Order/N
	UpdatedAt string // as the platform wrote it
	// REST is the order as an orders/* webhook body (see webhooks.ParseOrder).
	REST []byte
	// Customer is the order's customer as a customers/update body (nil for a guest): the
	// backfill keeps customer tags too.
	Customer *BulkCustomer
}

// BulkCustomer is an order's customer, reassembled.
type BulkCustomer struct {
	ID        string // gid://shopify/Customer/N
	UpdatedAt string
	REST      []byte
}

// maxOpenOrders is how many orders ReadBulkOrders keeps open for children that arrive late.
// The platform writes each order's children right after it (groupObjects), so one would do.
const maxOpenOrders = 64

// ReadBulkOrders reads a JSONL result of OrdersBulkQuery and calls fn with each order, in the
// file's order. It stops at fn's first error. A child line whose order it has not seen (or has
// already handed to fn, maxOpenOrders orders ago) fails the read: the file is not what the
// query produces. It returns how many orders fn accepted.
func ReadBulkOrders(r io.Reader, fn func(BulkOrder) error) (int, error) {
	br := bufio.NewReaderSize(r, 64<<10)
	var open []*bulkOrderLine
	byID := map[string]*bulkOrderLine{}
	n := 0
	flush := func(o *bulkOrderLine) error {
		delete(byID, o.ID)
		bo, err := o.convert()
		if err != nil {
			return err
		}
		if err := fn(bo); err != nil {
			return err
		}
		n++
		return nil
	}
	for lineNo := 1; ; lineNo++ {
		line, err := br.ReadBytes('\n')
		if len(bytes.TrimSpace(line)) > 0 {
			if perr := readBulkLine(line, &open, byID, flush); perr != nil {
				return n, fmt.Errorf("bulk result line %d: %w", lineNo, perr)
			}
		}
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return n, fmt.Errorf("bulk result line %d: %w", lineNo, err)
		}
	}
	for _, o := range open {
		if err := flush(o); err != nil {
			return n, err
		}
	}
	return n, nil
}

func readBulkLine(line []byte, open *[]*bulkOrderLine, byID map[string]*bulkOrderLine, flush func(*bulkOrderLine) error) error {
	var head struct {
		ID       string `json:"id"`
		ParentID string `json:"__parentId"`
		Typename string `json:"__typename"`
	}
	if err := json.Unmarshal(line, &head); err != nil {
		return fmt.Errorf("not a JSON object: %w", err)
	}
	if head.ParentID == "" {
		var o bulkOrderLine
		if err := json.Unmarshal(line, &o); err != nil {
			return fmt.Errorf("order %s: %w", head.ID, err)
		}
		if !strings.HasPrefix(o.ID, "gid://shopify/Order/") {
			return fmt.Errorf("%q is not an order id", o.ID)
		}
		if len(*open) >= maxOpenOrders {
			oldest := (*open)[0]
			*open = (*open)[1:]
			if err := flush(oldest); err != nil {
				return err
			}
		}
		*open = append(*open, &o)
		byID[o.ID] = &o
		return nil
	}
	parent := byID[head.ParentID]
	if parent == nil {
		return fmt.Errorf("child of %s, an order not among the lines just before it", head.ParentID)
	}
	switch {
	case strings.HasSuffix(head.Typename, "Application"):
		var a bulkApplication
		if err := json.Unmarshal(line, &a); err != nil {
			return fmt.Errorf("discount application of %s: %w", head.ParentID, err)
		}
		parent.applications = append(parent.applications, a)
	case strings.HasPrefix(head.ID, "gid://shopify/LineItem/"):
		var li bulkLineItem
		if err := json.Unmarshal(line, &li); err != nil {
			return fmt.Errorf("line item of %s: %w", head.ParentID, err)
		}
		parent.lines = append(parent.lines, li)
	default:
		return fmt.Errorf("child %q (%s) of %s is neither a line item nor a discount application", head.ID, head.Typename, head.ParentID)
	}
	return nil
}

// --- The bulk result's shapes ----------------------------------------------------------

type bulkMoney struct {
	ShopMoney *struct {
		Amount       Decimal `json:"amount"`
		CurrencyCode string  `json:"currencyCode"`
	} `json:"shopMoney"`
}

type bulkOrderLine struct {
	ID                      string     `json:"id"`
	CreatedAt               string     `json:"createdAt"`
	UpdatedAt               string     `json:"updatedAt"`
	Email                   string     `json:"email"`
	Phone                   string     `json:"phone"`
	ClientIP                string     `json:"clientIp"`
	Test                    bool       `json:"test"`
	CancelledAt             string     `json:"cancelledAt"`
	CurrencyCode            string     `json:"currencyCode"`
	PresentmentCurrencyCode string     `json:"presentmentCurrencyCode"`
	DisplayFinancialStatus  string     `json:"displayFinancialStatus"`
	PaymentGatewayNames     []string   `json:"paymentGatewayNames"`
	DiscountCodes           []string   `json:"discountCodes"`
	SubtotalPriceSet        *bulkMoney `json:"subtotalPriceSet"`
	TotalPriceSet           *bulkMoney `json:"totalPriceSet"`
	TotalDiscountsSet       *bulkMoney `json:"totalDiscountsSet"`
	Customer                *struct {
		ID        string   `json:"id"`
		Email     string   `json:"email"`
		Phone     string   `json:"phone"`
		Tags      []string `json:"tags"`
		UpdatedAt string   `json:"updatedAt"`
	} `json:"customer"`
	ShippingAddress *struct {
		Address1      string `json:"address1"`
		City          string `json:"city"`
		Zip           string `json:"zip"`
		CountryCodeV2 string `json:"countryCodeV2"`
		Phone         string `json:"phone"`
	} `json:"shippingAddress"`
	ShippingLine *struct {
		Title string `json:"title"`
	} `json:"shippingLine"`
	Refunds []struct {
		ID               string     `json:"id"`
		CreatedAt        string     `json:"createdAt"`
		TotalRefundedSet *bulkMoney `json:"totalRefundedSet"`
	} `json:"refunds"`

	applications []bulkApplication
	lines        []bulkLineItem
}

type bulkApplication struct {
	Typename string `json:"__typename"`
	Index    int    `json:"index"`
	Code     string `json:"code"`
	Title    string `json:"title"`
}

type bulkLineItem struct {
	ID       string `json:"id"`
	Quantity int    `json:"quantity"`
	Variant  *struct {
		ID string `json:"id"`
	} `json:"variant"`
	Product *struct {
		ID string `json:"id"`
	} `json:"product"`
	OriginalUnitPriceSet *bulkMoney `json:"originalUnitPriceSet"`
	DiscountAllocations  []struct {
		AllocatedAmountSet  *bulkMoney `json:"allocatedAmountSet"`
		DiscountApplication *struct {
			Index int `json:"index"`
		} `json:"discountApplication"`
	} `json:"discountAllocations"`
}

// --- The REST shapes written (what webhooks.ParseOrder and ParseCustomer read) ------------

type restMoney struct {
	Amount       string `json:"amount"`
	CurrencyCode string `json:"currency_code"`
}

type restMoneySet struct {
	ShopMoney restMoney `json:"shop_money"`
}

type restAllocation struct {
	Amount                   string        `json:"amount"`
	AmountSet                *restMoneySet `json:"amount_set,omitempty"`
	DiscountApplicationIndex int           `json:"discount_application_index"`
}

type restLineItem struct {
	ID                  string           `json:"id"`
	ProductID           *string          `json:"product_id"`
	VariantID           *string          `json:"variant_id"`
	Quantity            int              `json:"quantity"`
	Price               string           `json:"price"`
	PriceSet            *restMoneySet    `json:"price_set,omitempty"`
	DiscountAllocations []restAllocation `json:"discount_allocations"`
}

type restApplication struct {
	Type  string `json:"type"`
	Title string `json:"title,omitempty"`
	Code  string `json:"code,omitempty"`
}

type restTransaction struct {
	Kind      string        `json:"kind"`
	Status    string        `json:"status"`
	Amount    string        `json:"amount"`
	Currency  string        `json:"currency,omitempty"`
	AmountSet *restMoneySet `json:"amount_set,omitempty"`
}

type restRefund struct {
	ID           string            `json:"id"`
	OrderID      string            `json:"order_id"`
	CreatedAt    string            `json:"created_at,omitempty"`
	Transactions []restTransaction `json:"transactions"`
}

type restCustomer struct {
	ID                string `json:"id"`
	AdminGraphqlAPIID string `json:"admin_graphql_api_id"`
	Email             string `json:"email,omitempty"`
	Phone             string `json:"phone,omitempty"`
	Tags              string `json:"tags"`
	UpdatedAt         string `json:"updated_at,omitempty"`
}

type restAddress struct {
	Address1    string `json:"address1"`
	City        string `json:"city"`
	Zip         string `json:"zip"`
	CountryCode string `json:"country_code"`
	Phone       string `json:"phone,omitempty"`
}

type restShippingLine struct {
	Title string `json:"title"`
}

type restDiscountCode struct {
	Code string `json:"code"`
}

type restOrder struct {
	ID                   string             `json:"id"`
	AdminGraphqlAPIID    string             `json:"admin_graphql_api_id"`
	Email                string             `json:"email,omitempty"`
	Phone                string             `json:"phone,omitempty"`
	BrowserIP            string             `json:"browser_ip,omitempty"`
	CreatedAt            string             `json:"created_at"`
	UpdatedAt            string             `json:"updated_at"`
	CancelledAt          *string            `json:"cancelled_at"`
	Test                 bool               `json:"test"`
	Currency             string             `json:"currency"`
	PresentmentCurrency  string             `json:"presentment_currency,omitempty"`
	SubtotalPrice        string             `json:"subtotal_price"`
	SubtotalPriceSet     *restMoneySet      `json:"subtotal_price_set,omitempty"`
	TotalPrice           string             `json:"total_price"`
	TotalPriceSet        *restMoneySet      `json:"total_price_set,omitempty"`
	TotalDiscounts       string             `json:"total_discounts"`
	TotalDiscountsSet    *restMoneySet      `json:"total_discounts_set,omitempty"`
	FinancialStatus      string             `json:"financial_status,omitempty"`
	PaymentGatewayNames  []string           `json:"payment_gateway_names"`
	Customer             *restCustomer      `json:"customer"`
	ShippingAddress      *restAddress       `json:"shipping_address"`
	ShippingLines        []restShippingLine `json:"shipping_lines"`
	DiscountCodes        []restDiscountCode `json:"discount_codes"`
	DiscountApplications []restApplication  `json:"discount_applications"`
	LineItems            []restLineItem     `json:"line_items"`
	Refunds              []restRefund       `json:"refunds"`
}

// gidNumber is the numeric tail of a GID ("gid://shopify/Order/42" → "42").
func gidNumber(gid string) string {
	tail := gid[strings.LastIndex(gid, "/")+1:]
	if i := strings.IndexByte(tail, '?'); i >= 0 {
		tail = tail[:i]
	}
	return tail
}

func moneySet(m *bulkMoney, currency string) (string, *restMoneySet) {
	if m == nil || m.ShopMoney == nil {
		return "0", nil
	}
	c := m.ShopMoney.CurrencyCode
	if c == "" {
		c = currency
	}
	amount := string(m.ShopMoney.Amount)
	if amount == "" {
		amount = "0"
	}
	return amount, &restMoneySet{ShopMoney: restMoney{Amount: amount, CurrencyCode: c}}
}

// applicationType is the REST type of a GraphQL discount application.
func applicationType(typename string) string {
	switch typename {
	case "DiscountCodeApplication":
		return "discount_code"
	case "AutomaticDiscountApplication":
		return "automatic"
	case "ManualDiscountApplication":
		return "manual"
	case "ScriptDiscountApplication":
		return "script"
	}
	return strings.ToLower(strings.TrimSuffix(typename, "DiscountApplication"))
}

// convert writes the order (and its customer) as REST JSON.
func (o *bulkOrderLine) convert() (BulkOrder, error) {
	id := gidNumber(o.ID)
	r := restOrder{
		ID:                  id,
		AdminGraphqlAPIID:   o.ID,
		Email:               o.Email,
		Phone:               o.Phone,
		BrowserIP:           o.ClientIP,
		CreatedAt:           o.CreatedAt,
		UpdatedAt:           o.UpdatedAt,
		Test:                o.Test,
		Currency:            o.CurrencyCode,
		PresentmentCurrency: o.PresentmentCurrencyCode,
		FinancialStatus:     strings.ToLower(o.DisplayFinancialStatus),
		PaymentGatewayNames: o.PaymentGatewayNames,
	}
	if r.PaymentGatewayNames == nil {
		r.PaymentGatewayNames = []string{}
	}
	if o.CancelledAt != "" {
		at := o.CancelledAt
		r.CancelledAt = &at
	}
	r.SubtotalPrice, r.SubtotalPriceSet = moneySet(o.SubtotalPriceSet, o.CurrencyCode)
	r.TotalPrice, r.TotalPriceSet = moneySet(o.TotalPriceSet, o.CurrencyCode)
	r.TotalDiscounts, r.TotalDiscountsSet = moneySet(o.TotalDiscountsSet, o.CurrencyCode)

	var customer *BulkCustomer
	if c := o.Customer; c != nil && c.ID != "" {
		rc := restCustomer{ID: gidNumber(c.ID), AdminGraphqlAPIID: c.ID, Email: c.Email, Phone: c.Phone,
			Tags: strings.Join(c.Tags, ", "), UpdatedAt: c.UpdatedAt}
		r.Customer = &rc
		if c.UpdatedAt != "" {
			body, err := json.Marshal(rc)
			if err != nil {
				return BulkOrder{}, fmt.Errorf("customer %s: %w", c.ID, err)
			}
			customer = &BulkCustomer{ID: c.ID, UpdatedAt: c.UpdatedAt, REST: body}
		}
	}
	if a := o.ShippingAddress; a != nil {
		r.ShippingAddress = &restAddress{Address1: a.Address1, City: a.City, Zip: a.Zip, CountryCode: a.CountryCodeV2, Phone: a.Phone}
	}
	r.ShippingLines = []restShippingLine{}
	if s := o.ShippingLine; s != nil {
		r.ShippingLines = append(r.ShippingLines, restShippingLine{Title: s.Title})
	}
	r.DiscountCodes = make([]restDiscountCode, 0, len(o.DiscountCodes))
	for _, c := range o.DiscountCodes {
		r.DiscountCodes = append(r.DiscountCodes, restDiscountCode{Code: c})
	}

	// Discount applications in index order; allocations point at their position.
	apps := slices.Clone(o.applications)
	slices.SortStableFunc(apps, func(a, b bulkApplication) int { return a.Index - b.Index })
	position := make(map[int]int, len(apps))
	r.DiscountApplications = make([]restApplication, 0, len(apps))
	for i, a := range apps {
		position[a.Index] = i
		r.DiscountApplications = append(r.DiscountApplications, restApplication{Type: applicationType(a.Typename), Title: a.Title, Code: a.Code})
	}

	r.LineItems = make([]restLineItem, 0, len(o.lines))
	for _, li := range o.lines {
		rl := restLineItem{ID: gidNumber(li.ID), Quantity: li.Quantity, DiscountAllocations: []restAllocation{}}
		if li.Product != nil && li.Product.ID != "" {
			p := gidNumber(li.Product.ID)
			rl.ProductID = &p
		}
		if li.Variant != nil && li.Variant.ID != "" {
			v := gidNumber(li.Variant.ID)
			rl.VariantID = &v
		}
		rl.Price, rl.PriceSet = moneySet(li.OriginalUnitPriceSet, o.CurrencyCode)
		for _, da := range li.DiscountAllocations {
			if da.DiscountApplication == nil {
				continue
			}
			pos, ok := position[da.DiscountApplication.Index]
			if !ok {
				continue
			}
			amount, set := moneySet(da.AllocatedAmountSet, o.CurrencyCode)
			rl.DiscountAllocations = append(rl.DiscountAllocations, restAllocation{Amount: amount, AmountSet: set, DiscountApplicationIndex: pos})
		}
		r.LineItems = append(r.LineItems, rl)
	}

	r.Refunds = make([]restRefund, 0, len(o.Refunds))
	for _, ref := range o.Refunds {
		amount, set := moneySet(ref.TotalRefundedSet, o.CurrencyCode)
		r.Refunds = append(r.Refunds, restRefund{
			ID: gidNumber(ref.ID), OrderID: id, CreatedAt: ref.CreatedAt,
			Transactions: []restTransaction{{Kind: "refund", Status: "success", Amount: amount, Currency: o.CurrencyCode, AmountSet: set}},
		})
	}
	body, err := json.Marshal(r)
	if err != nil {
		return BulkOrder{}, fmt.Errorf("order %s: %w", o.ID, err)
	}
	return BulkOrder{ID: o.ID, UpdatedAt: o.UpdatedAt, REST: body, Customer: customer}, nil
}

// OpenBulkResult downloads a bulk operation's result file (its url: a signed link, fetched
// without the access token). Only ctx bounds the download. The caller closes the body.
func (c *Client) OpenBulkResult(ctx context.Context, url string) (io.ReadCloser, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, fmt.Errorf("graphql: bulk result: %w", err)
	}
	res, err := c.raw.Do(req)
	if err != nil {
		return nil, fmt.Errorf("graphql: bulk result: %w", err)
	}
	if res.StatusCode != http.StatusOK {
		_ = res.Body.Close()
		return nil, fmt.Errorf("graphql: bulk result: HTTP %d", res.StatusCode)
	}
	return res.Body, nil
}
