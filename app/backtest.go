package app

import (
	"cmp"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/regularsapp/regulars/discountfn"
	"github.com/regularsapp/regulars/store"
)

// Backtest (PRODUCT.md G): run a draft offer over the shop's recent orders to see how many
// would have qualified and what it would have cost.
//
//	POST /api/offers/backtest   {"offer": offer, "days": 1..730} → 202 {"job_id"}
//	GET  /api/backtests/:id     {"job_id", "state", "processed", "total", "result"?, "error"?}
//
// The offer may have any status: it is evaluated as if it had been active, with no schedule,
// through the engine as-is (a one-offer set, with Explain). Every counted order of the shop
// placed in the last N days (oldest first) becomes a function input: its lines (ids, product
// and variant ids, unit prices, quantities), its buyer (customer id, email), and its discount
// codes as the entered codes. Its history is the buyer's counted orders placed before it
// (by customer id or email, as at checkout), built from one pass over the shop's orders in
// time order. Usage limits count the redemptions the backtest itself would have made.
//
// For a code offer, a second variant assumes every buyer entered the code.
//
// The shop's segments as they are now are part of the set: each order's shipping address and
// delivery method stand for the cart's, so segment rules on location, delivery method and
// history are evaluated. What orders do not tell us: collections (collection-scoped offers
// match nothing), customer tags at the time (tag audiences and segment tag rules do not
// match), and delivery prices (free shipping has nothing to discount). The result lists
// these notes.
//
// Jobs run in the background and live in memory on the Server for backtestJobTTL; another
// shop's job id is not found.

const (
	backtestMaxDays    = 730
	backtestPage       = store.MaxOrderPage
	backtestJobTTL     = time.Hour
	backtestTopReasons = 5
	backtestMaxOrders  = 100 // qualifying orders listed in a variant
	backtestTimeout    = 30 * time.Minute
	// backtestEveryoneCode is the code entered for a unique-codes offer in the "entered by
	// everyone" variant; the backtest's code book maps it to the offer.
	backtestEveryoneCode = "BACKTEST-EVERYONE"
)

// Job states.
const (
	backtestRunning = "running"
	backtestDone    = "done"
	backtestFailed  = "failed"
)

// backtestRequest is the body of POST /api/offers/backtest.
type backtestRequest struct {
	Offer *discountfn.Offer `json:"offer"`
	Days  int               `json:"days"`
}

// backtestResult is a finished backtest.
type backtestResult struct {
	OfferID string    `json:"offer_id"`
	Days    int       `json:"days"`
	From    time.Time `json:"from"`
	Until   time.Time `json:"until"`
	// OrdersConsidered are the counted orders placed in the window.
	OrdersConsidered int `json:"orders_considered"`
	// AsPlaced enters each order's own discount codes.
	AsPlaced backtestVariant `json:"as_placed"`
	// CodeEnteredByEveryone, for code offers only, assumes every buyer entered the code.
	CodeEnteredByEveryone *backtestVariant `json:"code_entered_by_everyone,omitempty"`
	Notes                 []string         `json:"notes,omitempty"`
}

// backtestVariant is the outcome under one assumption about entered codes.
type backtestVariant struct {
	Label            string `json:"label"`
	QualifyingOrders int    `json:"qualifying_orders"`
	// Customers are the distinct buyers of qualifying orders (by customer id, else email;
	// an order with neither counts as a buyer of its own).
	Customers int `json:"customers"`
	// Cost is the total discount (items and shipping) in the shop currency's minor units.
	Cost discountfn.Money `json:"cost"`
	// NotQualified are the most frequent reasons orders did not qualify, most frequent first.
	NotQualified []backtestReason `json:"not_qualified"`
	// Orders are the first qualifying orders, oldest first; Truncated when there were more.
	Orders    []backtestOrder `json:"orders"`
	Truncated bool            `json:"truncated,omitempty"`
}

type backtestReason struct {
	Reason discountfn.Reason `json:"reason"`
	Orders int               `json:"orders"`
}

type backtestOrder struct {
	OrderID  string           `json:"order_id"`
	PlacedAt time.Time        `json:"placed_at"`
	Amount   discountfn.Money `json:"amount"`
}

// backtestJob is one backtest, read and written under the registry's lock.
type backtestJob struct {
	id, shop  string
	created   time.Time
	state     string
	processed int64
	total     int64
	result    *backtestResult
	err       string
}

type backtestJobView struct {
	JobID     string          `json:"job_id"`
	State     string          `json:"state"`
	Processed int64           `json:"processed"`
	Total     int64           `json:"total"`
	Result    *backtestResult `json:"result,omitempty"`
	Error     string          `json:"error,omitempty"`
}

// backtestJobs is the Server's in-memory job registry, keyed by shop and job id. The zero
// value is ready to use.
type backtestJobs struct {
	mu   sync.Mutex
	jobs map[[2]string]*backtestJob
}

// add registers a job, dropping jobs older than backtestJobTTL.
func (r *backtestJobs) add(j *backtestJob, now time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.pruneLocked(now)
	if r.jobs == nil {
		r.jobs = map[[2]string]*backtestJob{}
	}
	r.jobs[[2]string{j.shop, j.id}] = j
}

func (r *backtestJobs) pruneLocked(now time.Time) {
	for k, j := range r.jobs {
		if now.Sub(j.created) > backtestJobTTL {
			delete(r.jobs, k)
		}
	}
}

// view returns a copy of the shop's job, or false.
func (r *backtestJobs) view(shop, id string, now time.Time) (backtestJobView, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.pruneLocked(now)
	j, ok := r.jobs[[2]string{shop, id}]
	if !ok {
		return backtestJobView{}, false
	}
	return backtestJobView{JobID: j.id, State: j.state, Processed: j.processed, Total: j.total, Result: j.result, Error: j.err}, true
}

// update changes a job under the lock.
func (r *backtestJobs) update(j *backtestJob, f func(j *backtestJob)) {
	r.mu.Lock()
	defer r.mu.Unlock()
	f(j)
}

func (s *Server) backtestHandler(c *fiber.Ctx) error {
	shop, err := adminShop(c)
	if err != nil {
		return err
	}
	var req backtestRequest
	if err := decodeBody(c.Body(), &req); err != nil {
		return err
	}
	if req.Offer == nil {
		return badRequest(nil, `the body must be {"offer": {...}, "days": N}`)
	}
	if req.Days < 1 || req.Days > backtestMaxDays {
		return badRequest(nil, "days must be 1 to %d", backtestMaxDays)
	}
	offer := *req.Offer
	if offer.Version == 0 {
		offer.Version = discountfn.ConfigVersion
	}
	if offer.ID == "" {
		offer.ID = "backtest"
	}
	if offer.Status == "" {
		offer.Status = discountfn.StatusDraft
	}
	if err := offer.Validate(); err != nil {
		return err
	}
	sh, err := s.st.GetShop(c.UserContext(), shop)
	if err != nil {
		return err
	}
	loc, err := time.LoadLocation(sh.Timezone)
	if err != nil {
		loc = time.UTC
	}
	// Evaluate it as if it had been live throughout.
	offer.Status, offer.Schedule = discountfn.StatusActive, discountfn.Schedule{}
	// The shop's segments come along, so a segment offer meets the segments as they are now
	// (priorities included).
	segments, err := s.loadSegments(c.UserContext(), shop)
	if err != nil {
		return err
	}
	set, err := discountfn.NewOfferSet(discountfn.Settings{Currency: sh.Currency, Location: loc}, []discountfn.Offer{offer}, segments)
	if err != nil {
		return badRequest(err, "the offer cannot be evaluated on its own: %v", err)
	}

	id, err := newJobID()
	if err != nil {
		return err
	}
	now := s.now()
	until := now
	from := until.AddDate(0, 0, -req.Days)
	job := &backtestJob{id: id, shop: shop, created: now, state: backtestRunning}
	s.backtests.add(job, now)
	bt := &backtest{
		st: s.st, shop: shop, set: set, offer: offer, currency: sh.Currency, loc: loc,
		days: req.Days, from: from, until: until,
		progress: func(processed, total int64) {
			s.backtests.update(job, func(j *backtestJob) { j.processed, j.total = processed, total })
		},
	}
	// The Fiber context is recycled when the handler returns: detach before starting.
	base := context.WithoutCancel(c.UserContext())
	go func() {
		ctx, cancel := context.WithTimeout(base, backtestTimeout)
		defer cancel()
		res, err := bt.run(ctx)
		if err != nil {
			s.log.ErrorContext(ctx, "backtest failed", "shop", shop, "job_id", id, "err", err)
		}
		s.backtests.update(job, func(j *backtestJob) {
			if err != nil {
				j.state, j.err = backtestFailed, "the backtest failed; try again"
				return
			}
			j.state, j.result = backtestDone, res
		})
	}()
	return c.Status(fiber.StatusAccepted).JSON(fiber.Map{"job_id": id})
}

func (s *Server) getBacktestHandler(c *fiber.Ctx) error {
	shop, err := adminShop(c)
	if err != nil {
		return err
	}
	v, ok := s.backtests.view(shop, c.Params("id"), s.now())
	if !ok {
		return fmt.Errorf("backtest %q: %w", c.Params("id"), ErrNotFound)
	}
	return c.JSON(v)
}

func newJobID() (string, error) {
	b := make([]byte, 12)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("job id: %w", err)
	}
	return "bt" + hex.EncodeToString(b), nil
}

// backtest is one run: built by the handler, run in the background.
type backtest struct {
	st       *store.Store
	shop     string
	set      *discountfn.OfferSet
	offer    discountfn.Offer
	currency string
	loc      *time.Location
	days     int
	from     time.Time
	until    time.Time
	progress func(processed, total int64)
}

// variantRun accumulates one variant.
type variantRun struct {
	out       backtestVariant
	codes     func(o *store.Order) []string
	codeBook  discountfn.CodeBook
	usage     discountfn.OfferUsage
	customers map[string]bool
	reasons   map[discountfn.Reason]int
}

// everyoneCodeBook answers the synthetic code with the offer, and any other code from inner.
type everyoneCodeBook struct {
	offerID string
	inner   discountfn.CodeBook
}

func (b everyoneCodeBook) Lookup(code string) (discountfn.CodeEntry, bool) {
	if code == backtestEveryoneCode {
		return discountfn.CodeEntry{OfferID: b.offerID}, true
	}
	return b.inner.Lookup(code)
}

// run makes one pass over the shop's counted orders placed before until, oldest first: every
// order adds to its buyer's history, and those in the window are evaluated first.
func (b *backtest) run(ctx context.Context) (*backtestResult, error) {
	total, err := b.st.CountOrdersBetween(ctx, b.shop, time.Time{}, b.until)
	if err != nil {
		return nil, fmt.Errorf("backtest: %w", err)
	}
	b.progress(0, total)
	var book discountfn.CodeBook
	if b.offer.Application.Kind == discountfn.ApplyCodes {
		book = &storeCodeBook{ctx: ctx, st: b.st, shop: b.shop}
	}
	variants := []*variantRun{{
		out:   backtestVariant{Label: "codes as the orders entered them"},
		codes: func(o *store.Order) []string { return o.Codes }, codeBook: book,
	}}
	switch b.offer.Application.Kind {
	case discountfn.ApplyCode:
		code := b.offer.Application.Code
		variants = append(variants, &variantRun{
			out:   backtestVariant{Label: "assuming every buyer entered " + code},
			codes: func(*store.Order) []string { return []string{code} }, codeBook: book,
		})
	case discountfn.ApplyCodes:
		variants = append(variants, &variantRun{
			out:      backtestVariant{Label: "assuming every buyer entered one of the offer's codes"},
			codes:    func(*store.Order) []string { return []string{backtestEveryoneCode} },
			codeBook: everyoneCodeBook{offerID: b.offer.ID, inner: book},
		})
	}
	for _, v := range variants {
		v.customers, v.reasons = map[string]bool{}, map[discountfn.Reason]int{}
		v.out.Orders = []backtestOrder{}
	}

	res := &backtestResult{OfferID: b.offer.ID, Days: b.days, From: b.from, Until: b.until, Notes: b.notes()}
	// Each buyer's counted orders so far, by identity (customer id and email).
	history := map[string][]int{}
	var past []discountfn.PastOrder
	var processed int64
	cur := store.OrderCursor{}
	for {
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("backtest: %w", err)
		}
		page, err := b.st.ListCountedOrders(ctx, b.shop, time.Time{}, b.until, cur, backtestPage)
		if err != nil {
			return nil, fmt.Errorf("backtest: %w", err)
		}
		for i := range page.Orders {
			co := &page.Orders[i]
			keys := buyerKeys(&co.Order)
			if !co.Order.PlacedAt.Before(b.from) {
				res.OrdersConsidered++
				facts := discountfn.Facts{History: discountfn.History{Orders: historyOf(keys, history, past)}}
				for _, v := range variants {
					if err := b.evaluate(&co.Order, keys, facts, v); err != nil {
						return nil, err
					}
				}
			}
			for _, k := range keys {
				history[k] = append(history[k], len(past))
			}
			past = append(past, co.Past)
		}
		processed += int64(page.Scanned)
		total = max(total, processed) // orders stored during the run
		b.progress(processed, total)
		cur = page.Next
		if !page.More {
			break
		}
	}
	res.AsPlaced = variants[0].finish()
	if len(variants) > 1 {
		v := variants[1].finish()
		res.CodeEnteredByEveryone = &v
	}
	return res, nil
}

// buyerKeys are the identities an order's history is matched by, as at checkout.
func buyerKeys(o *store.Order) []string {
	var keys []string
	if o.CustomerID != "" {
		keys = append(keys, discountfn.IdentityKey(discountfn.IdentityCustomer, o.CustomerID))
	}
	if o.Email != "" {
		keys = append(keys, discountfn.IdentityKey(discountfn.IdentityEmail, o.Email))
	}
	return keys
}

// historyOf is the buyer's earlier counted orders, oldest first, each once.
func historyOf(keys []string, history map[string][]int, past []discountfn.PastOrder) []discountfn.PastOrder {
	var idx []int
	for _, k := range keys {
		idx = append(idx, history[k]...)
	}
	slices.Sort(idx)
	idx = slices.Compact(idx)
	out := make([]discountfn.PastOrder, len(idx))
	for i, n := range idx {
		out[i] = past[n]
	}
	return out
}

// evaluate runs the offer on one order under one variant.
func (b *backtest) evaluate(o *store.Order, keys []string, facts discountfn.Facts, v *variantRun) error {
	facts.Usage = discountfn.Usage{Offers: map[string]discountfn.OfferUsage{b.offer.ID: v.usage}}
	res, err := b.set.Evaluate(discountfn.Request{
		Input: b.input(o, v.codes(o)), Facts: facts, Codes: v.codeBook, Now: o.PlacedAt, Explain: true,
	})
	if err != nil {
		return fmt.Errorf("backtest: order %q: %w", o.ID, err)
	}
	var out *discountfn.Outcome
	for i := range res.Outcomes {
		if res.Outcomes[i].OfferID == b.offer.ID {
			out = &res.Outcomes[i]
		}
	}
	if out == nil || !out.Applied {
		reason := discountfn.Reason("not_evaluated")
		if out != nil && out.Reason != "" {
			reason = out.Reason
		}
		v.reasons[reason]++
		return nil
	}
	amount := out.Amount + out.ShippingAmount
	v.out.QualifyingOrders++
	v.out.Cost += amount
	buyer := "order:" + o.ID
	if len(keys) > 0 {
		buyer = keys[0]
	}
	v.customers[buyer] = true
	if len(v.out.Orders) < backtestMaxOrders {
		v.out.Orders = append(v.out.Orders, backtestOrder{OrderID: o.ID, PlacedAt: o.PlacedAt, Amount: amount})
	} else {
		v.out.Truncated = true
	}
	// The redemption counts toward the offer's limits from now on.
	v.usage.Total++
	day := o.PlacedAt.In(b.loc).Format(time.DateOnly)
	if v.usage.ByDay == nil {
		v.usage.ByDay, v.usage.ByIdentity = map[string]int{}, map[string]int{}
	}
	v.usage.ByDay[day]++
	for _, k := range keys {
		v.usage.ByIdentity[k]++
	}
	return nil
}

func (v *variantRun) finish() backtestVariant {
	out := v.out
	out.Customers = len(v.customers)
	out.NotQualified = []backtestReason{}
	for r, n := range v.reasons {
		out.NotQualified = append(out.NotQualified, backtestReason{Reason: r, Orders: n})
	}
	slices.SortFunc(out.NotQualified, func(a, b backtestReason) int {
		return cmp.Or(cmp.Compare(b.Orders, a.Orders), cmp.Compare(a.Reason, b.Reason))
	})
	if len(out.NotQualified) > backtestTopReasons {
		out.NotQualified = out.NotQualified[:backtestTopReasons]
	}
	return out
}

// input rebuilds an order's cart as a function input.
func (b *backtest) input(o *store.Order, codes []string) *discountfn.Input {
	exp := discountfn.CurrencyExponent(b.currency)
	money := func(m discountfn.Money) discountfn.MoneyV2 {
		return discountfn.MoneyV2{Amount: discountfn.FormatMoney(m, exp), CurrencyCode: b.currency}
	}
	in := &discountfn.Input{
		EnteredDiscountCodes:    codes,
		PresentmentCurrencyRate: "1",
		Cart:                    discountfn.Cart{Lines: make([]discountfn.CartLine, 0, len(o.Lines)), DeliveryGroups: []discountfn.CartDeliveryGroup{}},
	}
	var subtotal discountfn.Money
	seen := map[string]bool{}
	for i, l := range o.Lines {
		id := l.ID
		if id == "" || seen[id] {
			id = "gid://shopify/CartLine/" + o.ID + "-" + strconv.Itoa(i+1)
		}
		seen[id] = true
		line := discountfn.CartLine{
			ID: id, Quantity: l.Quantity,
			Cost:        discountfn.CartLineCost{AmountPerQuantity: money(l.Price), SubtotalAmount: money(l.Price * discountfn.Money(l.Quantity))},
			Merchandise: discountfn.Merchandise{Typename: "CustomProduct"},
		}
		if l.VariantID != "" || l.ProductID != "" {
			line.Merchandise = discountfn.Merchandise{Typename: "ProductVariant", ID: l.VariantID}
			if l.ProductID != "" {
				line.Merchandise.Product = &discountfn.Product{ID: l.ProductID}
			}
		}
		subtotal += l.Price * discountfn.Money(l.Quantity)
		in.Cart.Lines = append(in.Cart.Lines, line)
	}
	in.Cart.Cost = &discountfn.CartCost{SubtotalAmount: money(subtotal)}
	// Where it went and how: the order's shipping address and delivery method, for segment
	// rules. The option's price is not stored, so it costs nothing here.
	if o.ShippingCity != "" || o.ShippingZip != "" || o.ShippingCountry != "" || o.DeliveryMethod != "" {
		group := discountfn.CartDeliveryGroup{ID: "gid://shopify/CartDeliveryGroup/" + o.ID,
			DeliveryAddress: &discountfn.MailingAddress{City: optional(o.ShippingCity), Zip: optional(o.ShippingZip),
				CountryCode: optional(o.ShippingCountry)}}
		if o.DeliveryMethod != "" {
			title := o.DeliveryMethod
			opt := discountfn.CartDeliveryOption{Handle: "order-delivery", Title: &title, Cost: money(0), DeliveryMethodType: "SHIPPING"}
			group.DeliveryOptions, group.SelectedDeliveryOption = []discountfn.CartDeliveryOption{opt}, &opt
		}
		in.Cart.DeliveryGroups = append(in.Cart.DeliveryGroups, group)
	}
	if o.CustomerID != "" || o.Email != "" {
		bi := &discountfn.BuyerIdentity{IsAuthenticated: o.CustomerID != ""}
		if o.Email != "" {
			email := o.Email
			bi.Email = &email
		}
		if o.CustomerID != "" {
			bi.Customer = &discountfn.Customer{ID: o.CustomerID, Email: bi.Email}
		}
		in.Cart.BuyerIdentity = bi
	}
	return in
}

// notes say what the backtest could not reconstruct for this offer.
func (b *backtest) notes() []string {
	notes := []string{"the offer is evaluated as if it had been active throughout, without its schedule"}
	o := b.offer
	if len(b.set.CollectionIDs()) > 0 {
		notes = append(notes, "orders do not record collections, so collection conditions match nothing")
	}
	if len(b.set.CustomerTags()) > 0 {
		notes = append(notes, "customer tags at the time of each order are not known, so tag conditions do not match")
	}
	if o.Eligibility.Audience == discountfn.AudienceSegment {
		notes = append(notes, "segments are matched as they are defined now, by each order's shipping address, "+
			"delivery method and history; their tag rules do not match")
	}
	if o.HasClass(discountfn.ClassShipping) {
		notes = append(notes, "orders do not record delivery options, so shipping discounts cost nothing here")
	}
	if o.Application.Kind == discountfn.ApplyCodes {
		notes = append(notes, "unique codes are looked up as they are stored now")
	}
	return notes
}
