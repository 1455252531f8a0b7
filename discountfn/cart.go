package discountfn

import (
	"fmt"
	"slices"
	"strings"
)

// Bounds that keep every sum far inside int64: a unit price, a line total, and lines.
const (
	maxUnitPrice Money = 1_000_000_000_000
	maxLineTotal Money = 1_000_000_000_000_000
)

// MaxLines bounds the cart lines we evaluate; the platform sends at most a few hundred.
const MaxLines = 1000

// cartView is the function input reduced to integers and sets, built once per evaluation.
type cartView struct {
	currency string
	exp      int
	rate     Rate
	lines    []lineView
	rank     []int // rank[i] is line i's position in line-id order: the tie-break everywhere
	byRank   []int // line indexes in line-id order
	buyer    buyerView
	groups   []groupView
	codes    []string // entered codes, normalized, deduplicated, in entry order
	subtotal Money
	quantity int
}

type lineView struct {
	id          string
	quantity    int
	unit        Money // price of one unit
	total       Money // unit * quantity
	productID   string
	variantID   string
	collections []string // collections the product is a member of
	giftCard    bool
	sellingPlan bool
}

type buyerView struct {
	customerID     string
	email          string // normalized
	phone          string // normalized
	address        string // fingerprint of the first delivery address
	tags           []string
	numberOfOrders int
}

type groupView struct {
	id       string
	city     string
	zip      string
	country  string
	selected *optionView
	options  []optionView
}

type optionView struct {
	handle string
	title  string
	code   string
	method string
	cost   Money
}

// newCartView reads the input. Errors name the field that is malformed.
func newCartView(in *Input, settings Settings) (*cartView, error) {
	if in == nil {
		return nil, fmt.Errorf("input: missing")
	}
	c := &cartView{currency: settings.Currency}
	switch {
	case in.Cart.Cost != nil && in.Cart.Cost.SubtotalAmount.CurrencyCode != "":
		c.currency = in.Cart.Cost.SubtotalAmount.CurrencyCode
	case len(in.Cart.Lines) > 0 && in.Cart.Lines[0].Cost.AmountPerQuantity.CurrencyCode != "":
		c.currency = in.Cart.Lines[0].Cost.AmountPerQuantity.CurrencyCode
	}
	c.currency = strings.ToUpper(c.currency)
	c.exp = CurrencyExponent(c.currency)
	rate, err := NewRate(in.PresentmentCurrencyRate, CurrencyExponent(settings.Currency), c.exp)
	if err != nil {
		return nil, err
	}
	c.rate = rate
	if len(in.Cart.Lines) > MaxLines {
		return nil, fmt.Errorf("cart.lines: %d lines, at most %d are accepted", len(in.Cart.Lines), MaxLines)
	}
	c.lines = make([]lineView, 0, len(in.Cart.Lines))
	seen := make(map[string]bool, len(in.Cart.Lines))
	for i := range in.Cart.Lines {
		l := &in.Cart.Lines[i]
		path := fmt.Sprintf("cart.lines[%d]", i)
		if l.ID == "" {
			return nil, fmt.Errorf("%s.id: missing", path)
		}
		if seen[l.ID] {
			return nil, fmt.Errorf("%s.id: %s appears twice", path, l.ID)
		}
		seen[l.ID] = true
		if l.Quantity < 0 || l.Quantity > 1_000_000 {
			return nil, fmt.Errorf("%s.quantity: %d is out of range", path, l.Quantity)
		}
		unit, err := ParseMoney(l.Cost.AmountPerQuantity.Amount, c.exp)
		if err != nil || unit < 0 {
			return nil, fmt.Errorf("%s.cost.amountPerQuantity.amount: %q is not a non-negative decimal", path, l.Cost.AmountPerQuantity.Amount)
		}
		if unit > maxUnitPrice || int64(unit)*int64(l.Quantity) > int64(maxLineTotal) {
			return nil, fmt.Errorf("%s.cost: amount is beyond what a cart line can cost", path)
		}
		if l.Quantity == 0 {
			continue
		}
		lv := lineView{
			id:          l.ID,
			quantity:    l.Quantity,
			unit:        unit,
			total:       unit * Money(l.Quantity),
			variantID:   l.Merchandise.ID,
			sellingPlan: l.SellingPlanAllocation != nil && string(*l.SellingPlanAllocation) != "null",
		}
		if p := l.Merchandise.Product; p != nil {
			lv.productID = p.ID
			lv.giftCard = p.IsGiftCard
			for _, m := range p.InCollections {
				if m.IsMember {
					lv.collections = append(lv.collections, m.CollectionID)
				}
			}
		}
		c.subtotal += lv.total
		c.quantity += lv.quantity
		c.lines = append(c.lines, lv)
	}

	c.byRank, c.rank = lineRanks(c.lines)

	buyer := BuyerFromInput(in)
	c.buyer.customerID, c.buyer.email, c.buyer.phone = buyer.CustomerID, buyer.Email, buyer.Phone
	if b := in.Cart.BuyerIdentity; b != nil && b.Customer != nil {
		c.buyer.numberOfOrders = b.Customer.NumberOfOrders
		for _, t := range b.Customer.HasTags {
			if t.HasTag {
				c.buyer.tags = append(c.buyer.tags, t.Tag)
			}
		}
	}

	for gi := range in.Cart.DeliveryGroups {
		g := &in.Cart.DeliveryGroups[gi]
		gv := groupView{id: g.ID}
		if a := g.DeliveryAddress; a != nil {
			gv.city, gv.zip, gv.country = deref(a.City), deref(a.Zip), deref(a.CountryCode)
			if c.buyer.address == "" {
				c.buyer.address = AddressFingerprint(deref(a.Address1), gv.city, gv.zip, gv.country)
			}
		}
		for oi := range g.DeliveryOptions {
			ov, err := newOptionView(&g.DeliveryOptions[oi], c.exp)
			if err != nil {
				return nil, fmt.Errorf("cart.deliveryGroups[%d].deliveryOptions[%d]: %w", gi, oi, err)
			}
			gv.options = append(gv.options, ov)
		}
		if s := g.SelectedDeliveryOption; s != nil {
			ov, err := newOptionView(s, c.exp)
			if err != nil {
				return nil, fmt.Errorf("cart.deliveryGroups[%d].selectedDeliveryOption: %w", gi, err)
			}
			gv.selected = &ov
		}
		c.groups = append(c.groups, gv)
	}

	add := func(code string) {
		code = NormalizeCode(code)
		if code == "" {
			return
		}
		for _, have := range c.codes {
			if have == code {
				return
			}
		}
		c.codes = append(c.codes, code)
	}
	for _, code := range in.EnteredDiscountCodes {
		add(code)
	}
	if in.TriggeringDiscountCode != nil {
		add(*in.TriggeringDiscountCode)
	}
	return c, nil
}

// lineRanks orders lines by id, so ties never depend on the order the platform sent them in.
func lineRanks(lines []lineView) (order, rank []int) {
	order = make([]int, len(lines))
	for i := range order {
		order[i] = i
	}
	slices.SortFunc(order, func(a, b int) int { return strings.Compare(lines[a].id, lines[b].id) })
	rank = make([]int, len(lines))
	for r, i := range order {
		rank[i] = r
	}
	return order, rank
}

func newOptionView(o *CartDeliveryOption, exp int) (optionView, error) {
	cost, err := ParseMoney(o.Cost.Amount, exp)
	if err != nil || cost < 0 {
		return optionView{}, fmt.Errorf("cost.amount: %q is not a non-negative decimal", o.Cost.Amount)
	}
	return optionView{handle: o.Handle, title: deref(o.Title), code: deref(o.Code), method: o.DeliveryMethodType, cost: cost}, nil
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// hasTag reports whether the buyer has any of the tags (case-insensitive, as the platform's).
func (b *buyerView) hasAnyTag(tags []string) bool {
	for _, want := range tags {
		for _, have := range b.tags {
			if strings.EqualFold(want, have) {
				return true
			}
		}
	}
	return false
}

// known reports whether we can tell who the buyer is.
func (b *buyerView) known() bool { return b.customerID != "" || b.email != "" }
