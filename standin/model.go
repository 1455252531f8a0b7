package standin

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/regularsapp/regulars/discountfn"
)

// Money is an amount in minor units of the shop's currency.
type Money = discountfn.Money

// world is the whole in-memory platform, guarded by Server.mu.
type world struct {
	shops  map[string]*shop
	nextID int64
	// bulkFiles are the JSONL results of bulk operations, by the random key in their URL.
	bulkFiles map[string][]byte
}

func (w *world) id() int64 {
	w.nextID++
	return w.nextID
}

type shop struct {
	ID        int64
	Domain    string
	Name      string
	Email     string
	Currency  string
	Timezone  string
	CreatedAt time.Time

	Products    []*product
	Collections []*collection
	Customers   []*customer
	Orders      []*order
	nextOrderNo int

	// App installation.
	Install       *install
	AuthCodes     map[string]*authCode
	AccessTokens  map[string]*accessToken
	RefreshTokens map[string]*refreshToken
	Subs          []*webhookSub

	Discounts []*discount
	// PaymentCustomizations are the app's payment customizations (payments.go).
	PaymentCustomizations []*paymentCustomization
	RedeemBulks           []*redeemBulk
	BulkOps               []*bulkOp
	Bucket                bucket
	Deliveries            []*deliveryLog
}

type install struct {
	Scopes      []string
	InstalledAt time.Time
}

type authCode struct {
	Code      string
	Scopes    []string
	ExpiresAt time.Time
}

type accessToken struct {
	Token     string
	Scopes    []string
	ExpiresAt time.Time // zero: never
}

type refreshToken struct {
	Token     string
	Scopes    []string
	ExpiresAt time.Time
}

type product struct {
	ID            int64
	Title         string
	Handle        string
	Vendor        string
	ProductType   string
	Tags          []string
	IsGiftCard    bool
	Variants      []*variant
	CollectionIDs []int64
	CreatedAt     time.Time
}

type variant struct {
	ID        int64
	ProductID int64
	Title     string
	SKU       string
	Price     Money
}

type collection struct {
	ID     int64
	Title  string
	Handle string
}

type address struct {
	Address1     string
	City         string
	Province     string
	ProvinceCode string
	Country      string
	CountryCode  string
	Zip          string
	Phone        string
}

type customer struct {
	ID        int64
	FirstName string
	LastName  string
	Email     string
	Phone     string
	Tags      []string
	Address   address
	CreatedAt time.Time
	UpdatedAt time.Time
}

func (c *customer) name() string { return strings.TrimSpace(c.FirstName + " " + c.LastName) }

type order struct {
	ID              int64
	Number          int
	CustomerID      int64 // 0: a guest
	Email           string
	Phone           string
	BrowserIP       string
	CreatedAt       time.Time
	UpdatedAt       time.Time
	CancelledAt     *time.Time
	CancelReason    string
	Lines           []*orderLine
	Shipping        *shippingLine
	ShippingAddress *address
	DiscountCodes   []orderCode
	Applications    []orderApplication
	FinancialStatus string
	Gateways        []string
	Test            bool
	SourceName      string
	Tags            []string
	Refunds         []*refund
}

func (o *order) name() string { return "#" + strconv.Itoa(o.Number) }

type orderLine struct {
	ID           int64
	ProductID    int64
	VariantID    int64
	Title        string
	VariantTitle string
	SKU          string
	Quantity     int
	Price        Money
	GiftCard     bool
	Allocations  []allocation
}

func (l *orderLine) discount() Money { return sumAllocations(l.Allocations) }

// sumAllocations is what a line's discount allocations take off it.
func sumAllocations(as []allocation) Money {
	var m Money
	for _, a := range as {
		m += a.Amount
	}
	return m
}

type allocation struct {
	Amount   Money
	AppIndex int
}

type shippingLine struct {
	ID          int64
	Title       string
	Code        string
	Price       Money
	Allocations []allocation
}

func (s *shippingLine) discount() Money { return sumAllocations(s.Allocations) }

type orderCode struct {
	Code   string
	Amount Money
	Type   string // percentage | fixed_amount | shipping
}

// orderApplication is one REST discount_applications entry.
type orderApplication struct {
	Type             string // discount_code | automatic | manual
	Code             string
	Title            string
	Description      string
	Value            string
	ValueType        string // percentage | fixed_amount
	AllocationMethod string // across | each | one
	TargetSelection  string // all | entitled | explicit
	TargetType       string // line_item | shipping_line
	DiscountID       int64  // the app discount, 0 for others
}

type refund struct {
	ID        int64
	CreatedAt time.Time
	Note      string
	Lines     []refundLine
	Shipping  Money
}

type refundLine struct {
	ID       int64
	LineID   int64
	Quantity int
	Subtotal Money
}

func (r *refund) amount() Money {
	m := r.Shipping
	for _, l := range r.Lines {
		m += l.Subtotal
	}
	return m
}

// Totals of an order, in minor units.
func (o *order) lineItemsTotal() Money {
	var m Money
	for _, l := range o.Lines {
		m += l.Price * Money(l.Quantity)
	}
	return m
}

func (o *order) lineDiscounts() Money {
	var m Money
	for _, l := range o.Lines {
		m += l.discount()
	}
	return m
}

func (o *order) subtotal() Money { return o.lineItemsTotal() - o.lineDiscounts() }

func (o *order) shippingPrice() Money {
	if o.Shipping == nil {
		return 0
	}
	return o.Shipping.Price
}

func (o *order) shippingDiscount() Money {
	if o.Shipping == nil {
		return 0
	}
	return o.Shipping.discount()
}

func (o *order) totalDiscounts() Money { return o.lineDiscounts() + o.shippingDiscount() }

func (o *order) total() Money { return o.subtotal() + o.shippingPrice() - o.shippingDiscount() }

func (o *order) refunded() Money {
	var m Money
	for _, r := range o.Refunds {
		m += r.amount()
	}
	return m
}

// counts reports whether the order counts toward a customer's statistics.
func (o *order) counts() bool { return o.CancelledAt == nil && !o.Test }

type discount struct {
	ID                       int64
	IsCode                   bool
	Title                    string
	StartsAt                 time.Time
	EndsAt                   *time.Time
	Classes                  []string
	CombinesWith             combinesWith
	UsageLimit               *int
	OncePerCustomer          bool
	Context                  discountContext
	FunctionID               string
	Metafields               []*metafield
	Codes                    []*redeemCode
	AppliesOnSubscription    bool
	AppliesOnOneTimePurchase bool
	RecurringCycleLimit      int
	CreatedAt                time.Time
	UpdatedAt                time.Time
	UsageCount               int
}

type combinesWith struct {
	Product, Order, Shipping bool
}

func (c combinesWith) allows(class string) bool {
	switch class {
	case "PRODUCT":
		return c.Product
	case "ORDER":
		return c.Order
	case "SHIPPING":
		return c.Shipping
	}
	return false
}

type discountContext struct {
	Kind string // all | customers | segments
	IDs  []string
}

type redeemCode struct {
	ID         int64
	Code       string
	UsageCount int
}

type metafield struct {
	ID        int64
	Namespace string
	Key       string
	Type      string
	Value     string
	CreatedAt time.Time
	UpdatedAt time.Time
}

// status is the platform's DiscountStatus at now.
func (d *discount) status(now time.Time) string {
	switch {
	case now.Before(d.StartsAt):
		return "SCHEDULED"
	case d.EndsAt != nil && !now.Before(*d.EndsAt):
		return "EXPIRED"
	default:
		return "ACTIVE"
	}
}

func (d *discount) gid() string {
	if d.IsCode {
		return gid("DiscountCodeNode", d.ID)
	}
	return gid("DiscountAutomaticNode", d.ID)
}

type redeemBulk struct {
	ID         int64
	DiscountID int64
	Codes      []string
	CreatedAt  time.Time
	ReadyAt    time.Time
	Done       bool
	Results    []redeemResult
}

type redeemResult struct {
	Code   string
	CodeID int64 // 0 when it failed
	Errors []userError
}

type bulkOp struct {
	ID              int64
	Query           string
	Status          string
	ErrorCode       string
	CreatedAt       time.Time
	ReadyAt         time.Time
	CompletedAt     *time.Time
	ObjectCount     int
	RootObjectCount int
	FileSize        int
	FileKey         string
	BaseURL         string
	Scopes          []string
}

type webhookSub struct {
	ID            int64
	Topic         string // the enum value, e.g. ORDERS_CREATE
	URI           string
	Format        string
	IncludeFields []string
	Filter        string
	CreatedAt     time.Time
	UpdatedAt     time.Time
}

type deliveryLog struct {
	At       time.Time
	Topic    string
	URL      string
	Attempts int
	Status   string
}

// gid is a platform global id.
func gid(typ string, id int64) string {
	return "gid://shopify/" + typ + "/" + strconv.FormatInt(id, 10)
}

// parseGID splits "gid://shopify/Type/123" into its type and number.
func parseGID(s string) (string, int64, bool) {
	rest, ok := strings.CutPrefix(s, "gid://shopify/")
	if !ok {
		return "", 0, false
	}
	typ, num, ok := strings.Cut(rest, "/")
	if !ok {
		return "", 0, false
	}
	num, _, _ = strings.Cut(num, "?")
	n, err := strconv.ParseInt(num, 10, 64)
	if err != nil || n <= 0 {
		return "", 0, false
	}
	return typ, n, true
}

// randomHex is n random bytes, hex-encoded.
func randomHex(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(fmt.Errorf("standin: crypto/rand: %w", err))
	}
	return hex.EncodeToString(b)
}

// randomUUID is a random version 4 UUID.
func randomUUID() string {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		panic(fmt.Errorf("standin: crypto/rand: %w", err))
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b)
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}

func (s *shop) product(id int64) *product {
	for _, p := range s.Products {
		if p.ID == id {
			return p
		}
	}
	return nil
}

func (s *shop) variant(id int64) (*product, *variant) {
	for _, p := range s.Products {
		for _, v := range p.Variants {
			if v.ID == id {
				return p, v
			}
		}
	}
	return nil, nil
}

func (s *shop) customer(id int64) *customer {
	for _, c := range s.Customers {
		if c.ID == id {
			return c
		}
	}
	return nil
}

func (s *shop) order(id int64) *order {
	for _, o := range s.Orders {
		if o.ID == id {
			return o
		}
	}
	return nil
}

func (s *shop) collection(id int64) *collection {
	for _, c := range s.Collections {
		if c.ID == id {
			return c
		}
	}
	return nil
}

func (s *shop) discount(id int64) *discount {
	for _, d := range s.Discounts {
		if d.ID == id {
			return d
		}
	}
	return nil
}

// customerStats are a customer's order count and amount spent (orders not cancelled).
func (s *shop) customerStats(id int64) (int, Money) {
	n, spent := 0, Money(0)
	for _, o := range s.Orders {
		if o.CustomerID == id && o.counts() {
			n++
			spent += o.total() - o.refunded()
		}
	}
	return n, spent
}

func (s *shop) exponent() int { return discountfn.CurrencyExponent(s.Currency) }

func (s *shop) money(m Money) string { return discountfn.FormatMoney(m, s.exponent()) }

// shopName is the shop's handle: its domain without ".myshopify.com".
func shopName(domain string) string {
	return strings.TrimSuffix(domain, ".myshopify.com")
}

func hasScope(granted []string, need string) bool {
	for _, g := range granted {
		if g == need {
			return true
		}
		// write_x implies read_x.
		if strings.HasPrefix(need, "read_") && g == "write_"+strings.TrimPrefix(need, "read_") {
			return true
		}
	}
	return false
}

func splitScopes(s string) []string {
	var out []string
	seen := map[string]bool{}
	for _, p := range strings.Split(s, ",") {
		p = strings.TrimSpace(p)
		if p != "" && !seen[p] {
			seen[p] = true
			out = append(out, p)
		}
	}
	return out
}
