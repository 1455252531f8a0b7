package store

import (
	"time"

	"github.com/regularsapp/regulars/discountfn"
)

// This file is the contract of purchase history: the types the webhook pipeline writes and the
// checkout reads, and the store methods that keep them. Money is integer minor units of the
// shop's currency (discountfn.Money). Ids of orders, refunds and events are the platform's
// 64-bit numbers written as decimal strings; customers are "gid://shopify/Customer/N".
//
// The methods live by subject: settings.go (GetSettings, SaveSettings), events.go (the
// durable webhook queue), orders.go (orders, refunds, customers), redemptions.go (the
// ledger), facts.go (what the checkout reads) and compliance.go (uninstall, data requests,
// redaction). Times are stored in UTC to the microsecond and come back in UTC.

// ShopSettings are a shop's choices about what counts. The zero value is not the default:
// use DefaultShopSettings.
type ShopSettings struct {
	// Timezone is an IANA name; per-day caps and daily reports use the shop's local date.
	Timezone string `json:"timezone"`
	// What counts as an order in purchase history (behaviour conditions, first order, nth
	// order). By default test, cancelled, fully refunded and unpaid cash-on-delivery orders
	// do not count; partial refunds reduce spend.
	CountTestOrders    bool `json:"count_test_orders"`
	CountCancelled     bool `json:"count_cancelled"`
	CountFullyRefunded bool `json:"count_fully_refunded"`
	CountUnpaidCOD     bool `json:"count_unpaid_cod"`
	// CODGateways are payment gateway names that mean cash on delivery, compared without
	// case ("Cash on Delivery (COD)").
	CODGateways []string `json:"cod_gateways"`
	// ReleaseUsageOnCancel: a cancelled order gives its redemptions back (they stop counting
	// toward limits). Refunds never release usage.
	ReleaseUsageOnCancel bool `json:"release_usage_on_cancel"`
}

// DefaultShopSettings are the settings of a shop that has chosen none.
func DefaultShopSettings() ShopSettings {
	return ShopSettings{
		Timezone:             "UTC",
		CODGateways:          []string{"Cash on Delivery (COD)", "cash_on_delivery", "COD"},
		ReleaseUsageOnCancel: true,
	}
}

// Order is what we keep of one platform order.
type Order struct {
	Shop       string
	ID         string
	CustomerID string // "" for a guest
	Email      string // discountfn.NormalizeEmail
	Phone      string // discountfn.NormalizePhone
	AddressKey string // discountfn.AddressFingerprint of the shipping address
	BrowserIP  string
	PlacedAt   time.Time // the order's created_at
	UpdatedAt  time.Time // the order's updated_at: a delivery older than what is stored is ignored
	// Money in the shop's currency (the payload's shop_money).
	Currency            string
	PresentmentCurrency string
	Subtotal            discountfn.Money
	Total               discountfn.Money
	TotalDiscounts      discountfn.Money
	FinancialStatus     string // pending, paid, partially_refunded, refunded, voided, ...
	CancelledAt         *time.Time
	Test                bool
	Gateways            []string
	ShippingCity        string
	ShippingZip         string
	ShippingCountry     string   // ISO 3166 alpha-2
	DeliveryMethod      string   // the first shipping line's title
	Codes               []string // discount codes used, discountfn.NormalizeCode
	Applications        []DiscountApplication
	Lines               []OrderLine
	// Refunds carried by the order payload; refunds/create adds them one at a time.
	Refunds []Refund
}

// DiscountApplication is one discount the platform applied to the order: how we attribute an
// order to our offers.
type DiscountApplication struct {
	Type  string // discount_code, automatic, manual, script
	Title string
	Code  string // for discount_code, normalized
	// Amount is what this application took off the order (shop money), when known.
	Amount discountfn.Money
}

// OrderLine is one line item.
type OrderLine struct {
	ID        string
	ProductID string // gid://shopify/Product/N, "" for a custom item
	VariantID string // gid://shopify/ProductVariant/N
	Quantity  int
	Price     discountfn.Money // per unit
}

// Refund is money given back on an order.
type Refund struct {
	ID        string
	OrderID   string
	Amount    discountfn.Money // shop money
	CreatedAt time.Time
}

// Customer is what we keep of a platform customer: enough to match history and tags.
type Customer struct {
	Shop      string
	ID        string
	Email     string
	Phone     string
	Tags      []string
	UpdatedAt time.Time
}

// Event statuses.
const (
	EventPending = "pending"
	EventDone    = "done"
	EventFailed  = "failed" // gave up after MaxEventAttempts; visible to the merchant and retryable
)

// MaxEventAttempts is how many times an event is tried before it is marked failed.
const MaxEventAttempts = 8

// WebhookEvent is one delivery, stored before it is acknowledged.
type WebhookEvent struct {
	ID            int64 // our row id, the order of arrival
	Shop          string
	EventID       string // X-Shopify-Event-Id: the same event delivered twice has the same id
	WebhookID     string // X-Shopify-Webhook-Id
	Topic         string
	APIVersion    string
	TriggeredAt   time.Time
	ReceivedAt    time.Time
	Body          []byte // kept after processing as the audit trail; see CompleteEvent
	Status        string
	Attempts      int       // claims so far (ClaimEvents counts one per claim)
	LastError     string    // the cause given to the last RetryEvent
	NextAttemptAt time.Time // when a pending event is due
	ProcessedAt   *time.Time
}

// Redemption is one use of one of our offers by one order: the ledger row behind usage limits
// and analytics.
type Redemption struct {
	Shop       string
	OrderID    string
	OfferID    string
	Code       string
	Amount     discountfn.Money // the discount given (shop money)
	OrderTotal discountfn.Money
	PlacedAt   time.Time
	Day        string // the order's shop-local date, "2026-11-23"
	// IdentityKeys of the buyer (discountfn.IdentityKey), for per-customer limits.
	IdentityKeys []string
	Released     bool // given back (cancelled order, per the shop's settings)
}

// CustomerData is everything we hold about one customer, for customers/data_request.
type CustomerData struct {
	Customer    *Customer
	Orders      []Order
	Redemptions []Redemption
}

// DataRequest is an assembled customers/data_request.
type DataRequest struct {
	Shop       string
	CustomerID string
	RequestID  string
	CreatedAt  time.Time
	Payload    []byte
}
