package standin

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/regularsapp/regulars/webhooks"
)

// Webhook deliveries: one POST per matching subscription and event, signed with the client
// secret (webhooks.Sign), sent in the background. A non-2xx answer (or no answer within 5 s)
// is retried WebhookRetries times, waiting WebhookBackoff, then twice as long each time. The
// webhook id and the event id stay the same across retries.

const maxDeliveryLog = 100

type delivery struct {
	shop        string
	topic       string
	url         string
	body        []byte
	webhookID   string
	eventID     string
	triggeredAt time.Time
	log         *deliveryLog
}

// topicEnum is the WebhookSubscriptionTopic of a REST topic: orders/create -> ORDERS_CREATE.
func topicEnum(topic string) string {
	r := strings.NewReplacer("/", "_", ".", "_")
	return strings.ToUpper(r.Replace(topic))
}

// deliveryURL is where a subscription's uri is delivered: relative to the app URL, or as is.
func (s *Server) deliveryURL(uri string) string {
	if strings.HasPrefix(uri, "/") {
		return s.cfg.AppURL + uri
	}
	return uri
}

// emit queues a delivery of body to every subscription of topic. The caller holds s.mu.
func (s *Server) emit(sh *shop, topic string, body []byte, now time.Time) {
	enum := topicEnum(topic)
	eventID := randomUUID()
	for _, sub := range sh.Subs {
		if sub.Topic != enum {
			continue
		}
		entry := &deliveryLog{At: now, Topic: topic, URL: s.deliveryURL(sub.URI), Status: "pending"}
		sh.Deliveries = append(sh.Deliveries, entry)
		if len(sh.Deliveries) > maxDeliveryLog {
			sh.Deliveries = sh.Deliveries[len(sh.Deliveries)-maxDeliveryLog:]
		}
		d := delivery{
			shop: sh.Domain, topic: topic, url: entry.URL, body: body, webhookID: randomUUID(),
			eventID: eventID, triggeredAt: now, log: entry,
		}
		s.wg.Add(1)
		go s.deliver(d)
	}
}

func (s *Server) deliver(d delivery) {
	defer s.wg.Done()
	wait := s.cfg.WebhookBackoff
	attempts := 0
	status := ""
	for try := 0; try <= s.cfg.WebhookRetries; try++ {
		if try > 0 {
			select {
			case <-s.ctx.Done():
				s.finishDelivery(d, attempts, "stopped after "+status)
				return
			case <-time.After(wait):
			}
			wait *= 2
		}
		attempts++
		code, err := s.post(d)
		if err == nil && code >= 200 && code < 300 {
			s.log.Info("webhook delivered", "shop", d.shop, "topic", d.topic, "url", d.url, "attempts", attempts)
			s.finishDelivery(d, attempts, strconv.Itoa(code))
			return
		}
		if err != nil {
			status = err.Error()
		} else {
			status = "HTTP " + strconv.Itoa(code)
		}
		s.log.Warn("webhook delivery failed", "shop", d.shop, "topic", d.topic, "url", d.url, "attempt", attempts, "status", status)
	}
	s.finishDelivery(d, attempts, "failed: "+status)
}

func (s *Server) finishDelivery(d delivery, attempts int, status string) {
	s.mu.Lock()
	d.log.Attempts, d.log.Status = attempts, status
	s.mu.Unlock()
}

func (s *Server) post(d delivery) (int, error) {
	ctx, cancel := context.WithTimeout(s.ctx, webhookAttemptTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, d.url, bytes.NewReader(d.body))
	if err != nil {
		return 0, fmt.Errorf("webhook request: %w", err)
	}
	h := req.Header
	h.Set("Content-Type", "application/json")
	h.Set("X-Shopify-Topic", d.topic)
	h.Set("X-Shopify-Shop-Domain", d.shop)
	h.Set("X-Shopify-Hmac-Sha256", webhooks.Sign([]byte(s.cfg.ClientSecret), d.body))
	h.Set("X-Shopify-Webhook-Id", d.webhookID)
	h.Set("X-Shopify-Event-Id", d.eventID)
	h.Set("X-Shopify-API-Version", APIVersion)
	h.Set("X-Shopify-Triggered-At", d.triggeredAt.UTC().Format(time.RFC3339Nano))
	h.Set("X-Shopify-Test", "false")
	resp, err := s.cfg.HTTPClient.Do(req)
	if err != nil {
		return 0, fmt.Errorf("webhook post: %w", err)
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
	_ = resp.Body.Close()
	return resp.StatusCode, nil
}

// --- Events ---------------------------------------------------------------------------------

func (s *Server) emitJSON(sh *shop, topic string, v any, now time.Time) {
	body, err := json.Marshal(v)
	if err != nil {
		s.log.Error("webhook body", "topic", topic, "err", err)
		return
	}
	s.emit(sh, topic, body, now)
}

func (s *Server) emitOrder(sh *shop, topic string, o *order, now time.Time) {
	s.emitJSON(sh, topic, restOrder(sh, o), now)
}

func (s *Server) emitCustomer(sh *shop, cu *customer, now time.Time) {
	s.emitJSON(sh, "customers/update", restCustomer(sh, cu), now)
}

func (s *Server) emitRefund(sh *shop, o *order, r *refund, now time.Time) {
	s.emitJSON(sh, "refunds/create", restRefund(sh, o, r), now)
}

// --- REST resources -------------------------------------------------------------------------

func restTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05-07:00") }

func restTimePtr(t *time.Time) any {
	if t == nil {
		return nil
	}
	return restTime(*t)
}

func restMoneySet(sh *shop, m Money) map[string]any {
	v := map[string]any{"amount": sh.money(m), "currency_code": sh.Currency}
	return map[string]any{"shop_money": v, "presentment_money": v}
}

func restAddress(a *address, first, last string) any {
	if a == nil {
		return nil
	}
	return map[string]any{
		"first_name": first, "last_name": last, "name": strings.TrimSpace(first + " " + last),
		"address1": a.Address1, "address2": nil, "city": a.City, "province": nilIfEmpty(a.Province),
		"province_code": nilIfEmpty(a.ProvinceCode), "country": a.Country, "country_code": a.CountryCode,
		"zip": a.Zip, "phone": nilIfEmpty(a.Phone), "company": nil, "latitude": nil, "longitude": nil,
	}
}

func restAllocations(sh *shop, allocs []allocation) []any {
	out := make([]any, 0, len(allocs))
	for _, a := range allocs {
		out = append(out, map[string]any{
			"amount": sh.money(a.Amount), "amount_set": restMoneySet(sh, a.Amount),
			"discount_application_index": a.AppIndex,
		})
	}
	return out
}

func restCustomer(sh *shop, cu *customer) map[string]any {
	n, spent := sh.customerStats(cu.ID)
	addr := restAddress(&cu.Address, cu.FirstName, cu.LastName)
	if m, ok := addr.(map[string]any); ok {
		m["id"] = cu.ID
		m["customer_id"] = cu.ID
		m["default"] = true
		m["country_name"] = cu.Address.Country
	}
	return map[string]any{
		"id": cu.ID, "admin_graphql_api_id": gid("Customer", cu.ID), "email": nilIfEmpty(cu.Email),
		"first_name": cu.FirstName, "last_name": cu.LastName, "phone": nilIfEmpty(cu.Phone),
		"tags": strings.Join(cu.Tags, ", "), "created_at": restTime(cu.CreatedAt), "updated_at": restTime(cu.UpdatedAt),
		"state": "enabled", "verified_email": true, "orders_count": n, "total_spent": sh.money(spent),
		"currency": sh.Currency, "note": nil, "tax_exempt": false, "multipass_identifier": nil,
		"addresses": []any{addr}, "default_address": addr,
	}
}

func restLineItem(sh *shop, l *orderLine) map[string]any {
	name := l.Title
	if l.VariantTitle != "" {
		name += " - " + l.VariantTitle
	}
	return map[string]any{
		"id": l.ID, "admin_graphql_api_id": gid("LineItem", l.ID), "product_id": l.ProductID,
		"variant_id": l.VariantID, "title": l.Title, "variant_title": nilIfEmpty(l.VariantTitle), "name": name,
		"sku": l.SKU, "vendor": "Regulars Demo", "quantity": l.Quantity, "current_quantity": l.Quantity,
		"fulfillable_quantity": l.Quantity, "price": sh.money(l.Price), "price_set": restMoneySet(sh, l.Price),
		"total_discount": sh.money(l.discount()), "total_discount_set": restMoneySet(sh, l.discount()),
		"gift_card": l.GiftCard, "taxable": true, "requires_shipping": !l.GiftCard, "grams": 0,
		"fulfillment_service": "manual", "fulfillment_status": nil, "product_exists": true,
		"properties": []any{}, "tax_lines": []any{}, "discount_allocations": restAllocations(sh, l.Allocations),
	}
}

func restRefund(sh *shop, o *order, r *refund) map[string]any {
	lines := make([]any, 0, len(r.Lines))
	for _, rl := range r.Lines {
		var li any
		for _, l := range o.Lines {
			if l.ID == rl.LineID {
				li = restLineItem(sh, l)
			}
		}
		lines = append(lines, map[string]any{
			"id": rl.ID, "line_item_id": rl.LineID, "quantity": rl.Quantity, "restock_type": "return",
			"subtotal": sh.money(rl.Subtotal), "subtotal_set": restMoneySet(sh, rl.Subtotal),
			"total_tax": sh.money(0), "total_tax_set": restMoneySet(sh, 0), "line_item": li,
		})
	}
	gateway := ""
	if len(o.Gateways) > 0 {
		gateway = o.Gateways[0]
	}
	var adjustments []any
	if r.Shipping > 0 {
		adjustments = append(adjustments, map[string]any{
			"id": r.ID*10 + 1, "order_id": o.ID, "refund_id": r.ID, "kind": "shipping_refund",
			"reason": "Shipping refund", "amount": sh.money(-r.Shipping), "amount_set": restMoneySet(sh, -r.Shipping),
			"tax_amount": sh.money(0),
		})
	}
	return map[string]any{
		"id": r.ID, "admin_graphql_api_id": gid("Refund", r.ID), "order_id": o.ID, "note": nilIfEmpty(r.Note),
		"created_at": restTime(r.CreatedAt), "processed_at": restTime(r.CreatedAt), "restock": true, "user_id": nil,
		"refund_line_items": lines, "order_adjustments": orEmpty(adjustments),
		"transactions": []any{map[string]any{
			"id": r.ID*10 + 2, "order_id": o.ID, "kind": "refund", "status": "success", "gateway": gateway,
			"amount": sh.money(r.amount()), "currency": sh.Currency, "created_at": restTime(r.CreatedAt),
			"amount_set": restMoneySet(sh, r.amount()),
		}},
	}
}

func orEmpty(l []any) []any {
	if l == nil {
		return []any{}
	}
	return l
}

// restOrder is the REST Order resource, as order webhooks carry it.
func restOrder(sh *shop, o *order) map[string]any {
	var cust any
	var first, last string
	if cu := sh.customer(o.CustomerID); cu != nil {
		first, last = cu.FirstName, cu.LastName
		cust = restCustomer(sh, cu)
	}
	lines := make([]any, 0, len(o.Lines))
	for _, l := range o.Lines {
		lines = append(lines, restLineItem(sh, l))
	}
	var shipping []any
	if s := o.Shipping; s != nil {
		shipping = append(shipping, map[string]any{
			"id": s.ID, "title": s.Title, "code": s.Code, "source": "shopify",
			"price": sh.money(s.Price), "price_set": restMoneySet(sh, s.Price),
			"discounted_price": sh.money(s.Price - s.discount()), "discounted_price_set": restMoneySet(sh, s.Price-s.discount()),
			"discount_allocations": restAllocations(sh, s.Allocations), "tax_lines": []any{},
			"carrier_identifier": nil, "phone": nil,
		})
	}
	codes := make([]any, 0, len(o.DiscountCodes))
	for _, dc := range o.DiscountCodes {
		codes = append(codes, map[string]any{"code": dc.Code, "amount": sh.money(dc.Amount), "type": dc.Type})
	}
	apps := make([]any, 0, len(o.Applications))
	for _, a := range o.Applications {
		m := map[string]any{
			"type": a.Type, "value": a.Value, "value_type": a.ValueType, "allocation_method": a.AllocationMethod,
			"target_selection": a.TargetSelection, "target_type": a.TargetType, "title": a.Title,
			"description": nilIfEmpty(a.Description),
		}
		if a.Type == "discount_code" {
			m["code"] = a.Code
		}
		apps = append(apps, m)
	}
	refunds := make([]any, 0, len(o.Refunds))
	for _, r := range o.Refunds {
		refunds = append(refunds, restRefund(sh, o, r))
	}
	refunded := o.refunded()
	currentTotal := o.total() - refunded
	currentSubtotal := o.subtotal()
	for _, r := range o.Refunds {
		for _, rl := range r.Lines {
			currentSubtotal -= rl.Subtotal
		}
	}
	if o.CancelledAt != nil {
		currentTotal, currentSubtotal = 0, 0
	}
	outstanding := Money(0)
	if o.FinancialStatus == "pending" && o.CancelledAt == nil {
		outstanding = o.total()
	}
	gateway := any(nil)
	processing := "direct"
	if len(o.Gateways) > 0 {
		gateway = o.Gateways[0]
		if strings.Contains(strings.ToLower(o.Gateways[0]), "cash on delivery") {
			processing = "manual"
		}
	}
	return map[string]any{
		"id": o.ID, "admin_graphql_api_id": gid("Order", o.ID), "name": o.name(), "number": o.Number - 1000,
		"order_number": o.Number, "email": nilIfEmpty(o.Email), "contact_email": nilIfEmpty(o.Email),
		"phone": nilIfEmpty(o.Phone), "browser_ip": nilIfEmpty(o.BrowserIP),
		"client_details": map[string]any{"browser_ip": nilIfEmpty(o.BrowserIP), "user_agent": nil},
		"created_at":     restTime(o.CreatedAt), "processed_at": restTime(o.CreatedAt), "updated_at": restTime(o.UpdatedAt),
		"cancelled_at": restTimePtr(o.CancelledAt), "cancel_reason": nilIfEmpty(o.CancelReason),
		"closed_at": restTimePtr(o.CancelledAt), "test": o.Test, "confirmed": true, "taxes_included": false,
		"currency": sh.Currency, "presentment_currency": sh.Currency,
		"total_line_items_price": sh.money(o.lineItemsTotal()), "total_line_items_price_set": restMoneySet(sh, o.lineItemsTotal()),
		"subtotal_price": sh.money(o.subtotal()), "subtotal_price_set": restMoneySet(sh, o.subtotal()),
		"total_discounts": sh.money(o.totalDiscounts()), "total_discounts_set": restMoneySet(sh, o.totalDiscounts()),
		"total_shipping_price_set": restMoneySet(sh, o.shippingPrice()-o.shippingDiscount()),
		"total_price":              sh.money(o.total()), "total_price_set": restMoneySet(sh, o.total()),
		"total_tax": sh.money(0), "total_tax_set": restMoneySet(sh, 0), "total_tip_received": sh.money(0),
		"current_total_price": sh.money(currentTotal), "current_total_price_set": restMoneySet(sh, currentTotal),
		"current_subtotal_price": sh.money(currentSubtotal), "current_subtotal_price_set": restMoneySet(sh, currentSubtotal),
		"current_total_discounts": sh.money(o.totalDiscounts()), "current_total_discounts_set": restMoneySet(sh, o.totalDiscounts()),
		"current_total_tax": sh.money(0), "total_outstanding": sh.money(outstanding),
		"financial_status": o.FinancialStatus, "fulfillment_status": nil, "payment_gateway_names": o.Gateways,
		"gateway": gateway, "processing_method": processing, "source_name": o.SourceName,
		"tags": strings.Join(o.Tags, ", "), "note": nil, "note_attributes": []any{}, "tax_lines": []any{},
		"customer": cust, "shipping_address": restAddress(o.ShippingAddress, first, last),
		"billing_address": restAddress(o.ShippingAddress, first, last), "line_items": lines,
		"shipping_lines": orEmpty(shipping), "discount_codes": codes, "discount_applications": apps,
		"refunds": refunds, "fulfillments": []any{}, "user_id": nil, "location_id": nil,
	}
}

// restShop is the shop resource app/uninstalled carries.
func restShop(sh *shop) map[string]any {
	return map[string]any{
		"id": sh.ID, "name": sh.Name, "email": sh.Email, "domain": sh.Domain, "myshopify_domain": sh.Domain,
		"currency": sh.Currency, "iana_timezone": sh.Timezone, "plan_name": "partner_test", "country_code": "GB",
		"created_at": restTime(sh.CreatedAt), "updated_at": restTime(sh.CreatedAt),
	}
}
