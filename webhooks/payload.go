package webhooks

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/regularsapp/regulars/discountfn"
	"github.com/regularsapp/regulars/store"
)

// This file reads the platform's REST payloads. Real deliveries differ from any sample, so the
// readers are tolerant where tolerance is safe and strict where a wrong value would corrupt
// history:
//   - unknown fields are ignored and null reads as absent;
//   - ids are 64-bit integers, read from the JSON text (a number or a string of digits) and
//     kept as decimal strings, never through float64;
//   - money is a decimal string (a JSON number is accepted too), read into minor units with
//     the currency's exponent; an amount that is not a decimal fails, naming the field;
//   - amounts come from the *_set.shop_money twin when present (the shop's currency), else
//     from the plain field, which the platform also writes in the shop's currency.

// PayloadError is a body that cannot be read: Field names the offending value the way a
// JavaScript path would ("line_items[3].price"). It matches ErrBadRequest under errors.Is.
type PayloadError struct {
	Field   string
	Problem string
}

func (e *PayloadError) Error() string { return e.Field + ": " + e.Problem }

// Is makes a PayloadError an ErrBadRequest.
func (e *PayloadError) Is(target error) bool { return target == ErrBadRequest }

func payloadErr(field, format string, args ...any) error {
	return &PayloadError{Field: field, Problem: fmt.Sprintf(format, args...)}
}

// GID prefixes of the platform's Admin API ids.
const (
	gidCustomer = "gid://shopify/Customer/"
	gidProduct  = "gid://shopify/Product/"
	gidVariant  = "gid://shopify/ProductVariant/"
)

// --- REST shapes (only the fields we read) ----------------------------------------------

type restMoney struct {
	Amount       json.RawMessage `json:"amount"`
	CurrencyCode string          `json:"currency_code"`
}

type restMoneySet struct {
	ShopMoney *restMoney `json:"shop_money"`
}

type restCustomerRef struct {
	ID                json.RawMessage `json:"id"`
	AdminGraphqlAPIID string          `json:"admin_graphql_api_id"`
	Email             string          `json:"email"`
	Phone             string          `json:"phone"`
}

type restAddress struct {
	Address1    string `json:"address1"`
	City        string `json:"city"`
	Zip         string `json:"zip"`
	CountryCode string `json:"country_code"`
	Phone       string `json:"phone"`
}

type restAllocation struct {
	Amount                   json.RawMessage `json:"amount"`
	AmountSet                *restMoneySet   `json:"amount_set"`
	DiscountApplicationIndex *int            `json:"discount_application_index"`
}

type restShippingLine struct {
	Title               string           `json:"title"`
	DiscountAllocations []restAllocation `json:"discount_allocations"`
}

type restDiscountCode struct {
	Code   string          `json:"code"`
	Amount json.RawMessage `json:"amount"`
}

type restDiscountApplication struct {
	Type  string `json:"type"`
	Title string `json:"title"`
	Code  string `json:"code"`
}

type restLineItem struct {
	ID                  json.RawMessage  `json:"id"`
	ProductID           json.RawMessage  `json:"product_id"`
	VariantID           json.RawMessage  `json:"variant_id"`
	Quantity            json.RawMessage  `json:"quantity"`
	Price               json.RawMessage  `json:"price"`
	PriceSet            *restMoneySet    `json:"price_set"`
	DiscountAllocations []restAllocation `json:"discount_allocations"`
}

type restTransaction struct {
	Kind      string          `json:"kind"`
	Status    string          `json:"status"`
	Amount    json.RawMessage `json:"amount"`
	Currency  string          `json:"currency"`
	AmountSet *restMoneySet   `json:"amount_set"`
}

type restRefundLineItem struct {
	Subtotal    json.RawMessage `json:"subtotal"`
	SubtotalSet *restMoneySet   `json:"subtotal_set"`
	TotalTax    json.RawMessage `json:"total_tax"`
	TotalTaxSet *restMoneySet   `json:"total_tax_set"`
}

type restRefund struct {
	ID              json.RawMessage      `json:"id"`
	OrderID         json.RawMessage      `json:"order_id"`
	CreatedAt       string               `json:"created_at"`
	ProcessedAt     string               `json:"processed_at"`
	Transactions    []restTransaction    `json:"transactions"`
	RefundLineItems []restRefundLineItem `json:"refund_line_items"`
}

type restClientDetails struct {
	BrowserIP string `json:"browser_ip"`
}

type restOrder struct {
	ID                   json.RawMessage           `json:"id"`
	Email                string                    `json:"email"`
	ContactEmail         string                    `json:"contact_email"`
	Phone                string                    `json:"phone"`
	BrowserIP            string                    `json:"browser_ip"`
	ClientDetails        *restClientDetails        `json:"client_details"`
	CreatedAt            string                    `json:"created_at"`
	UpdatedAt            string                    `json:"updated_at"`
	CancelledAt          string                    `json:"cancelled_at"`
	Test                 bool                      `json:"test"`
	Currency             string                    `json:"currency"`
	PresentmentCurrency  string                    `json:"presentment_currency"`
	SubtotalPrice        json.RawMessage           `json:"subtotal_price"`
	SubtotalPriceSet     *restMoneySet             `json:"subtotal_price_set"`
	TotalPrice           json.RawMessage           `json:"total_price"`
	TotalPriceSet        *restMoneySet             `json:"total_price_set"`
	TotalDiscounts       json.RawMessage           `json:"total_discounts"`
	TotalDiscountsSet    *restMoneySet             `json:"total_discounts_set"`
	FinancialStatus      string                    `json:"financial_status"`
	PaymentGatewayNames  []string                  `json:"payment_gateway_names"`
	Gateway              string                    `json:"gateway"`
	Customer             *restCustomerRef          `json:"customer"`
	ShippingAddress      *restAddress              `json:"shipping_address"`
	ShippingLines        []restShippingLine        `json:"shipping_lines"`
	DiscountCodes        []restDiscountCode        `json:"discount_codes"`
	DiscountApplications []restDiscountApplication `json:"discount_applications"`
	LineItems            []restLineItem            `json:"line_items"`
	Refunds              []restRefund              `json:"refunds"`
}

type restCustomer struct {
	ID                json.RawMessage `json:"id"`
	AdminGraphqlAPIID string          `json:"admin_graphql_api_id"`
	Email             string          `json:"email"`
	Phone             string          `json:"phone"`
	Tags              json.RawMessage `json:"tags"`
	CreatedAt         string          `json:"created_at"`
	UpdatedAt         string          `json:"updated_at"`
}

// --- Orders -----------------------------------------------------------------------------

// ParseOrder reads an order webhook's body (orders/create, orders/updated, orders/paid,
// orders/cancelled: the REST Order resource) into what purchase history keeps. Errors are
// *PayloadError naming the field.
//
// Choices, where the payload offers several values:
//   - CustomerID is the customer's admin_graphql_api_id, else "gid://shopify/Customer/<id>",
//     else "" (a guest: customer is null);
//   - Email is the first of email, contact_email, customer.email that normalizes to an
//     address; Phone the first of phone, customer.phone, shipping_address.phone;
//   - UpdatedAt falls back to created_at when the payload has no updated_at;
//   - Gateways falls back to the legacy gateway field when payment_gateway_names is empty;
//   - BrowserIP is browser_ip (else client_details.browser_ip) in canonical form, "" when it
//     is not an IP address;
//   - a discount application's Amount is the sum of the allocations that point at it (lines
//     and shipping lines, shop money); without allocations, a code application takes the
//     amount of its discount_codes entry; otherwise it is 0 (unknown).
func ParseOrder(shop string, body []byte) (store.Order, error) {
	var r restOrder
	if err := decodeObject(body, &r); err != nil {
		return store.Order{}, err
	}
	id, err := parseID("id", r.ID)
	if err != nil {
		return store.Order{}, err
	}
	if id == "" {
		return store.Order{}, payloadErr("id", "is missing")
	}
	o := store.Order{
		Shop:                shop,
		ID:                  id,
		Test:                r.Test,
		Currency:            strings.ToUpper(strings.TrimSpace(r.Currency)),
		PresentmentCurrency: strings.ToUpper(strings.TrimSpace(r.PresentmentCurrency)),
		FinancialStatus:     strings.TrimSpace(r.FinancialStatus),
	}
	if o.Currency == "" && r.TotalPriceSet != nil && r.TotalPriceSet.ShopMoney != nil {
		o.Currency = strings.ToUpper(strings.TrimSpace(r.TotalPriceSet.ShopMoney.CurrencyCode))
	}
	if o.Currency == "" {
		return store.Order{}, payloadErr("currency", "is missing")
	}
	if o.PlacedAt, err = parseTime("created_at", r.CreatedAt); err != nil {
		return store.Order{}, err
	}
	if o.PlacedAt.IsZero() {
		return store.Order{}, payloadErr("created_at", "is missing")
	}
	if o.UpdatedAt, err = parseTime("updated_at", r.UpdatedAt); err != nil {
		return store.Order{}, err
	}
	if o.UpdatedAt.IsZero() {
		o.UpdatedAt = o.PlacedAt
	}
	cancelled, err := parseTime("cancelled_at", r.CancelledAt)
	if err != nil {
		return store.Order{}, err
	}
	if !cancelled.IsZero() {
		o.CancelledAt = &cancelled
	}

	if o.Subtotal, err = shopMoney("subtotal_price", r.SubtotalPrice, r.SubtotalPriceSet, o.Currency); err != nil {
		return store.Order{}, err
	}
	if o.Total, err = shopMoney("total_price", r.TotalPrice, r.TotalPriceSet, o.Currency); err != nil {
		return store.Order{}, err
	}
	if o.TotalDiscounts, err = shopMoney("total_discounts", r.TotalDiscounts, r.TotalDiscountsSet, o.Currency); err != nil {
		return store.Order{}, err
	}

	// Buyer.
	var customerEmail, customerPhone string
	if c := r.Customer; c != nil {
		if o.CustomerID, err = customerGID("customer", c.ID, c.AdminGraphqlAPIID); err != nil {
			return store.Order{}, err
		}
		customerEmail, customerPhone = c.Email, c.Phone
	}
	o.Email = firstNormalized(discountfn.NormalizeEmail, r.Email, r.ContactEmail, customerEmail)
	var shippingPhone string
	if a := r.ShippingAddress; a != nil {
		shippingPhone = a.Phone
		country := strings.ToUpper(strings.TrimSpace(a.CountryCode))
		o.ShippingCity = strings.TrimSpace(a.City)
		o.ShippingZip = strings.TrimSpace(a.Zip)
		o.ShippingCountry = country
		// The same inputs as the checkout's fingerprint (address1, city, zip, country code),
		// so an order and a cart at one address share the key.
		o.AddressKey = discountfn.AddressFingerprint(a.Address1, a.City, a.Zip, country)
	}
	o.Phone = firstNormalized(discountfn.NormalizePhone, r.Phone, customerPhone, shippingPhone)
	ip := r.BrowserIP
	if ip == "" && r.ClientDetails != nil {
		ip = r.ClientDetails.BrowserIP
	}
	o.BrowserIP = normalizeIP(ip)

	for _, g := range r.PaymentGatewayNames {
		if g = strings.TrimSpace(g); g != "" {
			o.Gateways = append(o.Gateways, g)
		}
	}
	if len(o.Gateways) == 0 && strings.TrimSpace(r.Gateway) != "" {
		o.Gateways = []string{strings.TrimSpace(r.Gateway)}
	}
	for _, s := range r.ShippingLines {
		if t := strings.TrimSpace(s.Title); t != "" {
			o.DeliveryMethod = t
			break
		}
	}

	// Discounts.
	seen := map[string]bool{}
	for _, dc := range r.DiscountCodes {
		if c := discountfn.NormalizeCode(dc.Code); c != "" && !seen[c] {
			seen[c] = true
			o.Codes = append(o.Codes, c)
		}
	}
	if o.Applications, err = applications(&r, o.Currency); err != nil {
		return store.Order{}, err
	}

	// Lines.
	if len(r.LineItems) > 0 {
		o.Lines = make([]store.OrderLine, 0, len(r.LineItems))
	}
	for i := range r.LineItems {
		line, err := orderLine(fmt.Sprintf("line_items[%d]", i), &r.LineItems[i], o.Currency)
		if err != nil {
			return store.Order{}, err
		}
		o.Lines = append(o.Lines, line)
	}

	// Refunds carried by the order.
	for i := range r.Refunds {
		ref, err := refund(fmt.Sprintf("refunds[%d]", i), &r.Refunds[i], o.Currency)
		if err != nil {
			return store.Order{}, err
		}
		if ref.OrderID == "" {
			ref.OrderID = o.ID
		}
		o.Refunds = append(o.Refunds, ref)
	}
	return o, nil
}

func orderLine(path string, li *restLineItem, currency string) (store.OrderLine, error) {
	var line store.OrderLine
	var err error
	if line.ID, err = parseID(path+".id", li.ID); err != nil {
		return line, err
	}
	product, err := parseID(path+".product_id", li.ProductID)
	if err != nil {
		return line, err
	}
	if product != "" {
		line.ProductID = gidProduct + product
	}
	variant, err := parseID(path+".variant_id", li.VariantID)
	if err != nil {
		return line, err
	}
	if variant != "" {
		line.VariantID = gidVariant + variant
	}
	if line.Quantity, err = parseQuantity(path+".quantity", li.Quantity); err != nil {
		return line, err
	}
	if line.Price, err = shopMoney(path+".price", li.Price, li.PriceSet, currency); err != nil {
		return line, err
	}
	return line, nil
}

// applications reads discount_applications with the amount each took off the order, when the
// allocations (or the discount_codes entry) say.
func applications(r *restOrder, currency string) ([]store.DiscountApplication, error) {
	if len(r.DiscountApplications) == 0 {
		return nil, nil
	}
	amounts := make([]discountfn.Money, len(r.DiscountApplications))
	allocated := make([]bool, len(r.DiscountApplications))
	add := func(path string, allocs []restAllocation) error {
		for j := range allocs {
			a := &allocs[j]
			idx := a.DiscountApplicationIndex
			if idx == nil || *idx < 0 || *idx >= len(amounts) {
				continue
			}
			m, err := shopMoney(fmt.Sprintf("%s.discount_allocations[%d].amount", path, j), a.Amount, a.AmountSet, currency)
			if err != nil {
				return err
			}
			amounts[*idx] += m
			allocated[*idx] = true
		}
		return nil
	}
	for i := range r.LineItems {
		if err := add(fmt.Sprintf("line_items[%d]", i), r.LineItems[i].DiscountAllocations); err != nil {
			return nil, err
		}
	}
	for i := range r.ShippingLines {
		if err := add(fmt.Sprintf("shipping_lines[%d]", i), r.ShippingLines[i].DiscountAllocations); err != nil {
			return nil, err
		}
	}
	exp := discountfn.CurrencyExponent(currency)
	apps := make([]store.DiscountApplication, len(r.DiscountApplications))
	for i, da := range r.DiscountApplications {
		app := store.DiscountApplication{
			Type:   strings.TrimSpace(da.Type),
			Title:  strings.TrimSpace(da.Title),
			Code:   discountfn.NormalizeCode(da.Code),
			Amount: amounts[i],
		}
		if !allocated[i] && app.Code != "" {
			for j, dc := range r.DiscountCodes {
				if discountfn.NormalizeCode(dc.Code) != app.Code {
					continue
				}
				m, _, err := parseMoney(fmt.Sprintf("discount_codes[%d].amount", j), dc.Amount, exp)
				if err != nil {
					return nil, err
				}
				app.Amount = m
				break
			}
		}
		apps[i] = app
	}
	return apps, nil
}

// --- Refunds ----------------------------------------------------------------------------

// ParseRefund reads a refunds/create body (the REST Refund resource). Its Amount is the money
// given back in the shop's currency (see refund). The payload names no shop currency, so it
// is taken from the payload's shop_money amounts when there are any; ParseRefundIn is the
// same with the shop's currency known. A refund names no shop: shop is the caller's (it goes
// to store.AddRefund), kept here for symmetry with the other readers.
func ParseRefund(shop string, body []byte) (store.Refund, error) {
	return ParseRefundIn(shop, "", body)
}

// ParseRefundIn is ParseRefund for a shop whose currency is known: a refund transaction in
// another currency (the buyer's presentment currency) is then never counted as shop money.
func ParseRefundIn(shop, shopCurrency string, body []byte) (store.Refund, error) {
	var r restRefund
	if err := decodeObject(body, &r); err != nil {
		return store.Refund{}, err
	}
	ref, err := refund("", &r, strings.ToUpper(strings.TrimSpace(shopCurrency)))
	if err != nil {
		return store.Refund{}, err
	}
	if ref.OrderID == "" {
		return store.Refund{}, payloadErr("order_id", "is missing")
	}
	return ref, nil
}

// refund reads one REST Refund. Its amount is the sum of its successful refund transactions
// (kind "refund", status "success" or absent), in shop money; when it has none, or one is in a
// currency other than the shop's with no shop_money twin, the refunded lines' subtotals plus
// their tax (shop money) instead.
func refund(path string, r *restRefund, shopCurrency string) (store.Refund, error) {
	at := func(field string) string {
		if path == "" {
			return field
		}
		return path + "." + field
	}
	var ref store.Refund
	var err error
	if ref.ID, err = parseID(at("id"), r.ID); err != nil {
		return ref, err
	}
	if ref.ID == "" {
		return ref, payloadErr(at("id"), "is missing")
	}
	if ref.OrderID, err = parseID(at("order_id"), r.OrderID); err != nil {
		return ref, err
	}
	created := r.CreatedAt
	field := "created_at"
	if created == "" {
		created, field = r.ProcessedAt, "processed_at"
	}
	if ref.CreatedAt, err = parseTime(at(field), created); err != nil {
		return ref, err
	}
	if shopCurrency == "" {
		shopCurrency = refundShopCurrency(r)
	}

	var total discountfn.Money
	counted, usable := false, true
	for i := range r.Transactions {
		t := &r.Transactions[i]
		if !strings.EqualFold(t.Kind, "refund") || (t.Status != "" && !strings.EqualFold(t.Status, "success")) {
			continue
		}
		counted = true
		tp := at(fmt.Sprintf("transactions[%d].amount", i))
		if t.AmountSet != nil && t.AmountSet.ShopMoney != nil && !absent(t.AmountSet.ShopMoney.Amount) {
			m, err := shopMoney(tp, nil, t.AmountSet, shopCurrency)
			if err != nil {
				return ref, err
			}
			total += m
			continue
		}
		currency := strings.ToUpper(strings.TrimSpace(t.Currency))
		if currency != "" && shopCurrency != "" && currency != shopCurrency {
			usable = false // presentment money: the lines below are in shop money
			continue
		}
		if currency == "" {
			currency = shopCurrency
		}
		m, _, err := parseMoney(tp, t.Amount, discountfn.CurrencyExponent(currency))
		if err != nil {
			return ref, err
		}
		total += m
	}
	if counted && usable {
		ref.Amount = total
		return ref, nil
	}
	total = 0
	for i := range r.RefundLineItems {
		li := &r.RefundLineItems[i]
		lp := at(fmt.Sprintf("refund_line_items[%d]", i))
		sub, err := shopMoney(lp+".subtotal", li.Subtotal, li.SubtotalSet, shopCurrency)
		if err != nil {
			return ref, err
		}
		tax, err := shopMoney(lp+".total_tax", li.TotalTax, li.TotalTaxSet, shopCurrency)
		if err != nil {
			return ref, err
		}
		total += sub + tax
	}
	ref.Amount = total
	return ref, nil
}

// refundShopCurrency finds the shop's currency in a refund's shop_money amounts, "" if none.
func refundShopCurrency(r *restRefund) string {
	sets := make([]*restMoneySet, 0, len(r.Transactions)+2*len(r.RefundLineItems))
	for i := range r.Transactions {
		sets = append(sets, r.Transactions[i].AmountSet)
	}
	for i := range r.RefundLineItems {
		sets = append(sets, r.RefundLineItems[i].SubtotalSet, r.RefundLineItems[i].TotalTaxSet)
	}
	for _, s := range sets {
		if s != nil && s.ShopMoney != nil && strings.TrimSpace(s.ShopMoney.CurrencyCode) != "" {
			return strings.ToUpper(strings.TrimSpace(s.ShopMoney.CurrencyCode))
		}
	}
	return ""
}

// --- Customers --------------------------------------------------------------------------

// ParseCustomer reads a customers/update body (the REST Customer resource). Tags are a
// comma-separated string in REST (a list is accepted too): split, trimmed, empty ones dropped.
// UpdatedAt falls back to created_at.
func ParseCustomer(shop string, body []byte) (store.Customer, error) {
	var r restCustomer
	if err := decodeObject(body, &r); err != nil {
		return store.Customer{}, err
	}
	id, err := customerGID("", r.ID, r.AdminGraphqlAPIID)
	if err != nil {
		return store.Customer{}, err
	}
	if id == "" {
		return store.Customer{}, payloadErr("id", "is missing")
	}
	c := store.Customer{
		Shop:  shop,
		ID:    id,
		Email: discountfn.NormalizeEmail(r.Email),
		Phone: discountfn.NormalizePhone(r.Phone),
	}
	if c.Tags, err = parseTags("tags", r.Tags); err != nil {
		return store.Customer{}, err
	}
	if c.UpdatedAt, err = parseTime("updated_at", r.UpdatedAt); err != nil {
		return store.Customer{}, err
	}
	if c.UpdatedAt.IsZero() {
		if c.UpdatedAt, err = parseTime("created_at", r.CreatedAt); err != nil {
			return store.Customer{}, err
		}
	}
	return c, nil
}

func parseTags(field string, raw json.RawMessage) ([]string, error) {
	if absent(raw) {
		return nil, nil
	}
	var parts []string
	switch raw[0] {
	case '"':
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return nil, payloadErr(field, "is not a string")
		}
		parts = strings.Split(s, ",")
	case '[':
		if err := json.Unmarshal(raw, &parts); err != nil {
			return nil, payloadErr(field, "is not a list of strings")
		}
	default:
		return nil, payloadErr(field, "%s is not a comma-separated string", clip(raw))
	}
	var tags []string
	for _, t := range parts {
		if t = strings.TrimSpace(t); t != "" {
			tags = append(tags, t)
		}
	}
	return tags, nil
}

// --- Compliance topics ------------------------------------------------------------------

// ComplianceCustomer is the customer named by customers/redact and customers/data_request.
type ComplianceCustomer struct {
	ID    string // "gid://shopify/Customer/N"
	Email string // as sent, not normalized
	Phone string
}

// CustomersRedact is a customers/redact body.
type CustomersRedact struct {
	ShopDomain string
	Customer   ComplianceCustomer
	OrderIDs   []string // orders_to_redact
}

// CustomersDataRequest is a customers/data_request body.
type CustomersDataRequest struct {
	ShopDomain string
	Customer   ComplianceCustomer
	OrderIDs   []string // orders_requested
	RequestID  string   // data_request.id, "" when absent
}

// ShopRedact is a shop/redact body.
type ShopRedact struct {
	ShopDomain string
	ShopID     string
}

type restComplianceCustomer struct {
	ID    json.RawMessage `json:"id"`
	Email string          `json:"email"`
	Phone string          `json:"phone"`
}

type restCompliance struct {
	ShopID          json.RawMessage         `json:"shop_id"`
	ShopDomain      string                  `json:"shop_domain"`
	Customer        *restComplianceCustomer `json:"customer"`
	OrdersToRedact  []json.RawMessage       `json:"orders_to_redact"`
	OrdersRequested []json.RawMessage       `json:"orders_requested"`
	DataRequest     *struct {
		ID json.RawMessage `json:"id"`
	} `json:"data_request"`
}

// ParseCustomersRedact reads a customers/redact body. The customer's id is required.
func ParseCustomersRedact(body []byte) (CustomersRedact, error) {
	var r restCompliance
	if err := decodeObject(body, &r); err != nil {
		return CustomersRedact{}, err
	}
	c, err := complianceCustomer(r.Customer)
	if err != nil {
		return CustomersRedact{}, err
	}
	ids, err := parseIDList("orders_to_redact", r.OrdersToRedact)
	if err != nil {
		return CustomersRedact{}, err
	}
	return CustomersRedact{ShopDomain: normalizeShop(r.ShopDomain), Customer: c, OrderIDs: ids}, nil
}

// ParseCustomersDataRequest reads a customers/data_request body. The customer's id is
// required.
func ParseCustomersDataRequest(body []byte) (CustomersDataRequest, error) {
	var r restCompliance
	if err := decodeObject(body, &r); err != nil {
		return CustomersDataRequest{}, err
	}
	c, err := complianceCustomer(r.Customer)
	if err != nil {
		return CustomersDataRequest{}, err
	}
	ids, err := parseIDList("orders_requested", r.OrdersRequested)
	if err != nil {
		return CustomersDataRequest{}, err
	}
	req := CustomersDataRequest{ShopDomain: normalizeShop(r.ShopDomain), Customer: c, OrderIDs: ids}
	if r.DataRequest != nil {
		if req.RequestID, err = parseID("data_request.id", r.DataRequest.ID); err != nil {
			return CustomersDataRequest{}, err
		}
	}
	return req, nil
}

// ParseShopRedact reads a shop/redact body.
func ParseShopRedact(body []byte) (ShopRedact, error) {
	var r restCompliance
	if err := decodeObject(body, &r); err != nil {
		return ShopRedact{}, err
	}
	id, err := parseID("shop_id", r.ShopID)
	if err != nil {
		return ShopRedact{}, err
	}
	return ShopRedact{ShopDomain: normalizeShop(r.ShopDomain), ShopID: id}, nil
}

func complianceCustomer(c *restComplianceCustomer) (ComplianceCustomer, error) {
	if c == nil {
		return ComplianceCustomer{}, payloadErr("customer", "is missing")
	}
	id, err := parseID("customer.id", c.ID)
	if err != nil {
		return ComplianceCustomer{}, err
	}
	if id == "" {
		return ComplianceCustomer{}, payloadErr("customer.id", "is missing")
	}
	return ComplianceCustomer{ID: gidCustomer + id, Email: c.Email, Phone: c.Phone}, nil
}

func parseIDList(field string, raws []json.RawMessage) ([]string, error) {
	ids := make([]string, 0, len(raws))
	for i, raw := range raws {
		id, err := parseID(fmt.Sprintf("%s[%d]", field, i), raw)
		if err != nil {
			return nil, err
		}
		if id != "" {
			ids = append(ids, id)
		}
	}
	return ids, nil
}

// --- Scalars ----------------------------------------------------------------------------

// decodeObject decodes body, which must be one JSON object, into v. Unknown fields are
// ignored; a value of the wrong JSON type fails, naming its field.
func decodeObject(body []byte, v any) error {
	trimmed := bytes.TrimSpace(body)
	if len(trimmed) == 0 || trimmed[0] != '{' {
		return payloadErr("body", "is not a JSON object")
	}
	if err := json.Unmarshal(trimmed, v); err != nil {
		var typeErr *json.UnmarshalTypeError
		if errors.As(err, &typeErr) {
			field := typeErr.Field
			if field == "" {
				field = "body"
			}
			return payloadErr(field, "a JSON %s is not expected here", typeErr.Value)
		}
		return payloadErr("body", "is not valid JSON: %v", err)
	}
	return nil
}

// absent reports a missing or null JSON value.
func absent(raw json.RawMessage) bool {
	t := bytes.TrimSpace(raw)
	return len(t) == 0 || string(t) == "null"
}

// scalarText returns a JSON string's contents or a JSON number's text; ok false for any other
// JSON value.
func scalarText(raw json.RawMessage) (text string, quoted, ok bool) {
	t := bytes.TrimSpace(raw)
	if len(t) == 0 {
		return "", false, false
	}
	if t[0] == '"' {
		var s string
		if err := json.Unmarshal(t, &s); err != nil {
			return "", true, false
		}
		return s, true, true
	}
	if t[0] == '-' || (t[0] >= '0' && t[0] <= '9') {
		return string(t), false, true
	}
	return "", false, false
}

// clip shows a raw JSON value in an error message, shortened.
func clip(raw json.RawMessage) string {
	t := bytes.TrimSpace(raw)
	if len(t) > 40 {
		return string(t[:37]) + "..."
	}
	return string(t)
}

// parseID reads a platform id (a 64-bit unsigned integer, as a JSON number or a string of
// digits) into its decimal string; "" when absent or null.
func parseID(field string, raw json.RawMessage) (string, error) {
	if absent(raw) {
		return "", nil
	}
	text, _, ok := scalarText(raw)
	if ok {
		text = strings.TrimSpace(text)
		if text == "" {
			return "", nil
		}
		if v, err := strconv.ParseUint(text, 10, 64); err == nil {
			return strconv.FormatUint(v, 10), nil
		}
	}
	return "", payloadErr(field, "%s is not an id", clip(raw))
}

// customerGID is a customer's "gid://shopify/Customer/N": its admin_graphql_api_id when that
// is one, else built from its numeric id; "" when it has neither.
func customerGID(path string, id json.RawMessage, gid string) (string, error) {
	if gid = strings.TrimSpace(gid); strings.HasPrefix(gid, gidCustomer) && len(gid) > len(gidCustomer) {
		return gid, nil
	}
	field := "id"
	if path != "" {
		field = path + ".id"
	}
	n, err := parseID(field, id)
	if err != nil || n == "" {
		return "", err
	}
	return gidCustomer + n, nil
}

// parseMoney reads a decimal amount into minor units with the given exponent. present is
// false for a missing, null or empty amount (read as 0).
func parseMoney(field string, raw json.RawMessage, exp int) (m discountfn.Money, present bool, err error) {
	if absent(raw) {
		return 0, false, nil
	}
	text, quoted, ok := scalarText(raw)
	if !ok {
		return 0, false, payloadErr(field, "%s is not a decimal", clip(raw))
	}
	if strings.TrimSpace(text) == "" {
		return 0, false, nil
	}
	m, err = discountfn.ParseMoney(strings.TrimSpace(text), exp)
	if err != nil {
		if quoted {
			return 0, false, payloadErr(field, "%q is not a decimal", text)
		}
		return 0, false, payloadErr(field, "%s is not a decimal", text)
	}
	return m, true, nil
}

// shopMoney reads an amount in the shop's currency: set.shop_money when present (reported
// as field+"_set.shop_money.amount"), else the plain field.
func shopMoney(field string, plain json.RawMessage, set *restMoneySet, currency string) (discountfn.Money, error) {
	if set != nil && set.ShopMoney != nil && !absent(set.ShopMoney.Amount) {
		c := strings.TrimSpace(set.ShopMoney.CurrencyCode)
		if c == "" {
			c = currency
		}
		m, present, err := parseMoney(field+"_set.shop_money.amount", set.ShopMoney.Amount, discountfn.CurrencyExponent(c))
		if err != nil || present {
			return m, err
		}
	}
	m, _, err := parseMoney(field, plain, discountfn.CurrencyExponent(currency))
	return m, err
}

// parseQuantity reads a non-negative integer (a JSON number or a string of digits); 0 when
// absent.
func parseQuantity(field string, raw json.RawMessage) (int, error) {
	if absent(raw) {
		return 0, nil
	}
	if text, _, ok := scalarText(raw); ok {
		if n, err := strconv.Atoi(strings.TrimSpace(text)); err == nil && n >= 0 {
			return n, nil
		}
	}
	return 0, payloadErr(field, "%s is not a quantity", clip(raw))
}

// parseTime reads an RFC 3339 time into UTC; the zero time when empty.
func parseTime(field, s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, payloadErr(field, "%q is not an RFC 3339 time", s)
	}
	return t.UTC(), nil
}

// firstNormalized returns the first value that normalizes to something.
func firstNormalized(normalize func(string) string, values ...string) string {
	for _, v := range values {
		if n := normalize(v); n != "" {
			return n
		}
	}
	return ""
}

// normalizeIP returns an IP address in canonical form, "" for anything else.
func normalizeIP(s string) string {
	addr, err := netip.ParseAddr(strings.TrimSpace(s))
	if err != nil {
		return ""
	}
	return addr.Unmap().String()
}

// normalizeShop lowercases and trims a shop domain.
func normalizeShop(s string) string {
	return strings.ToLower(strings.TrimSpace(s))
}
