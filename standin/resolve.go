package standin

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

// The Admin API's read side: root fields and object builders. Builders return the values
// the executor projects (exec.go); relations are resolvers, so that nothing is built unless
// selected.

func (s *Server) queryRoot(c *reqCtx) map[string]any {
	sh := c.sh
	return map[string]any{
		"shop":            resolver(func(map[string]any) (any, error) { return c.shopObj(), nil }),
		"app":             resolver(func(map[string]any) (any, error) { return c.appObj(), nil }),
		"appInstallation": resolver(func(map[string]any) (any, error) { return c.installationObj(), nil }),
		"currentAppInstallation": resolver(func(map[string]any) (any, error) {
			return c.installationObj(), nil
		}),
		"shopifyFunctions": resolver(func(args map[string]any) (any, error) {
			t, _ := strArg(args, "apiType")
			return conn{items: c.functionsOf(t)}, nil
		}),
		"shopifyFunction": resolver(func(args map[string]any) (any, error) {
			switch id, _ := strArg(args, "id"); id {
			case s.functionID:
				return c.functionObj(), nil
			case s.paymentFunctionID:
				return c.paymentFunctionObj(), nil
			}
			return nil, nil
		}),
		"paymentCustomizations": resolver(c.paymentCustomizationsConn),
		"paymentCustomization":  resolver(c.paymentCustomizationField),
		"node": resolver(func(args map[string]any) (any, error) {
			id, _ := strArg(args, "id")
			return c.node(id)
		}),
		"nodes": resolver(func(args map[string]any) (any, error) {
			var out []any
			for _, id := range stringList(args, "ids") {
				n, err := c.node(id)
				if err != nil {
					return nil, err
				}
				out = append(out, n)
			}
			return out, nil
		}),
		"orders": resolver(func(args map[string]any) (any, error) {
			if err := c.need("read_orders", "orders"); err != nil {
				return nil, err
			}
			return c.ordersConn(sh.Orders, args), nil
		}),
		"order": resolver(func(args map[string]any) (any, error) {
			if err := c.need("read_orders", "order"); err != nil {
				return nil, err
			}
			return c.lookup(args, "Order")
		}),
		"customers": resolver(func(args map[string]any) (any, error) {
			if err := c.need("read_customers", "customers"); err != nil {
				return nil, err
			}
			items := make([]any, 0, len(sh.Customers))
			for _, cu := range sh.Customers {
				items = append(items, c.customerObj(cu))
			}
			return conn{items: items}, nil
		}),
		"customer": resolver(func(args map[string]any) (any, error) {
			if err := c.need("read_customers", "customer"); err != nil {
				return nil, err
			}
			return c.lookup(args, "Customer")
		}),
		"products": resolver(func(args map[string]any) (any, error) {
			if err := c.need("read_products", "products"); err != nil {
				return nil, err
			}
			items := make([]any, 0, len(sh.Products))
			for _, p := range sh.Products {
				items = append(items, c.productObj(p))
			}
			return conn{items: items}, nil
		}),
		"product": resolver(func(args map[string]any) (any, error) {
			if err := c.need("read_products", "product"); err != nil {
				return nil, err
			}
			return c.lookup(args, "Product")
		}),
		"collections": resolver(func(args map[string]any) (any, error) {
			if err := c.need("read_products", "collections"); err != nil {
				return nil, err
			}
			items := make([]any, 0, len(sh.Collections))
			for _, col := range sh.Collections {
				items = append(items, c.collectionObj(col))
			}
			return conn{items: items}, nil
		}),
		"collection": resolver(func(args map[string]any) (any, error) {
			if err := c.need("read_products", "collection"); err != nil {
				return nil, err
			}
			return c.lookup(args, "Collection")
		}),
		"discountNodes": resolver(func(args map[string]any) (any, error) {
			if err := c.need("read_discounts", "discountNodes"); err != nil {
				return nil, err
			}
			q, _ := strArg(args, "query")
			var items []any
			for _, d := range sh.Discounts {
				if c.discountMatches(d, q) {
					items = append(items, c.discountNodeObj(d))
				}
			}
			return conn{items: items}, nil
		}),
		"discountNodesCount": resolver(func(args map[string]any) (any, error) {
			if err := c.need("read_discounts", "discountNodesCount"); err != nil {
				return nil, err
			}
			q, _ := strArg(args, "query")
			n := 0
			for _, d := range sh.Discounts {
				if c.discountMatches(d, q) {
					n++
				}
			}
			return map[string]any{"count": n, "precision": "EXACT"}, nil
		}),
		"discountNode": resolver(func(args map[string]any) (any, error) {
			if err := c.need("read_discounts", "discountNode"); err != nil {
				return nil, err
			}
			id, _ := strArg(args, "id")
			if d := c.discountByGID(id); d != nil {
				return c.discountNodeObj(d), nil
			}
			return nil, nil
		}),
		"codeDiscountNodeByCode": resolver(func(args map[string]any) (any, error) {
			if err := c.need("read_discounts", "codeDiscountNodeByCode"); err != nil {
				return nil, err
			}
			code, _ := strArg(args, "code")
			if d, _ := findCode(sh, code); d != nil {
				return c.codeNodeObj(d), nil
			}
			return nil, nil
		}),
		"discountRedeemCodeBulkCreation": resolver(func(args map[string]any) (any, error) {
			if err := c.need("read_discounts", "discountRedeemCodeBulkCreation"); err != nil {
				return nil, err
			}
			id, _ := strArg(args, "id")
			return c.node(id)
		}),
		"currentBulkOperation": resolver(func(args map[string]any) (any, error) {
			if t, _ := strArg(args, "type"); t == "MUTATION" {
				return nil, nil
			}
			if len(sh.BulkOps) == 0 {
				return nil, nil
			}
			return c.bulkOpObj(sh.BulkOps[len(sh.BulkOps)-1]), nil
		}),
		"webhookSubscriptions": resolver(func(args map[string]any) (any, error) {
			topics := stringList(args, "topics")
			var items []any
			for _, sub := range sh.Subs {
				if len(topics) == 0 || slices.Contains(topics, sub.Topic) {
					items = append(items, c.webhookSubObj(sub))
				}
			}
			return conn{items: items}, nil
		}),
	}
}

// lookup resolves an "id" argument to a node of one type.
func (c *reqCtx) lookup(args map[string]any, typ string) (any, error) {
	id, _ := strArg(args, "id")
	if t, _, ok := parseGID(id); !ok || t != typ {
		return nil, nil
	}
	return c.node(id)
}

// node resolves a global id (Node interface).
func (c *reqCtx) node(id string) (any, error) {
	typ, n, ok := parseGID(id)
	if !ok {
		return nil, &fieldError{Message: fmt.Sprintf("Invalid global id '%s'", id), Code: "argumentLiteralsIncompatible"}
	}
	sh := c.sh
	switch typ {
	case "Order":
		if err := c.need("read_orders", "node"); err != nil {
			return nil, err
		}
		if o := sh.order(n); o != nil && c.orderVisible(o) {
			return c.orderObj(o), nil
		}
	case "Customer":
		if err := c.need("read_customers", "node"); err != nil {
			return nil, err
		}
		if cu := sh.customer(n); cu != nil {
			return c.customerObj(cu), nil
		}
	case "Product":
		if err := c.need("read_products", "node"); err != nil {
			return nil, err
		}
		if p := sh.product(n); p != nil {
			return c.productObj(p), nil
		}
	case "ProductVariant":
		if err := c.need("read_products", "node"); err != nil {
			return nil, err
		}
		if p, v := sh.variant(n); v != nil {
			return c.variantObj(p, v), nil
		}
	case "Collection":
		if err := c.need("read_products", "node"); err != nil {
			return nil, err
		}
		if col := sh.collection(n); col != nil {
			return c.collectionObj(col), nil
		}
	case "DiscountCodeNode", "DiscountAutomaticNode", "DiscountNode":
		if err := c.need("read_discounts", "node"); err != nil {
			return nil, err
		}
		if d := c.discountByGID(id); d != nil {
			if typ == "DiscountNode" {
				return c.discountNodeObj(d), nil
			}
			if d.IsCode {
				return c.codeNodeObj(d), nil
			}
			return c.automaticNodeObj(d), nil
		}
	case "DiscountRedeemCodeBulkCreation":
		for _, b := range sh.RedeemBulks {
			if b.ID == n {
				return c.redeemBulkObj(b), nil
			}
		}
	case "BulkOperation":
		for _, op := range sh.BulkOps {
			if op.ID == n {
				return c.bulkOpObj(op), nil
			}
		}
	case "WebhookSubscription":
		for _, sub := range sh.Subs {
			if sub.ID == n {
				return c.webhookSubObj(sub), nil
			}
		}
	case "Shop":
		if n == sh.ID {
			return c.shopObj(), nil
		}
	case "App":
		if n == c.s.appID {
			return c.appObj(), nil
		}
	case "PaymentCustomization":
		if err := c.need("read_payment_customizations", "node"); err != nil {
			return nil, err
		}
		if p := c.paymentCustomizationByGID(id); p != nil {
			return c.paymentCustomizationObj(p), nil
		}
	}
	return nil, nil
}

// orderVisible: without read_all_orders, only the last 60 days of orders are visible.
func (c *reqCtx) orderVisible(o *order) bool {
	return hasScope(c.scopes, "read_all_orders") || !o.CreatedAt.Before(c.now.Add(-readAllOrdersWindow))
}

// --- Shop, app, function ---------------------------------------------------------------

func (c *reqCtx) shopObj() map[string]any {
	sh := c.sh
	return map[string]any{
		"__typename":                   "Shop",
		"id":                           gid("Shop", sh.ID),
		"name":                         sh.Name,
		"email":                        sh.Email,
		"contactEmail":                 sh.Email,
		"myshopifyDomain":              sh.Domain,
		"url":                          "https://" + sh.Domain,
		"currencyCode":                 sh.Currency,
		"enabledPresentmentCurrencies": []string{sh.Currency},
		"ianaTimezone":                 sh.Timezone,
		"timezoneAbbreviation":         "UTC",
		"timezoneOffset":               "+0000",
		"timezoneOffsetMinutes":        0,
		"createdAt":                    sh.CreatedAt,
		"updatedAt":                    sh.CreatedAt,
		"taxesIncluded":                false,
		"taxShipping":                  false,
		"weightUnit":                   "KILOGRAMS",
		"unitSystem":                   "METRIC_SYSTEM",
		"shopOwnerName":                "Demo Owner",
		"checkoutApiSupported":         true,
		"setupRequired":                false,
		"orderNumberFormatPrefix":      "#",
		"primaryDomain": map[string]any{
			"id": gid("Domain", sh.ID), "host": sh.Domain, "url": "https://" + sh.Domain, "sslEnabled": true,
		},
		"plan": map[string]any{"partnerDevelopment": true, "publicDisplayName": "Development", "shopifyPlus": false},
		"billingAddress": map[string]any{
			"id": gid("ShopAddress", sh.ID), "city": "Leeds", "countryCodeV2": "GB", "country": "United Kingdom",
			"address1": "8 Briggate", "zip": "LS1 4DY",
		},
		"customerTags": resolver(func(map[string]any) (any, error) {
			return stringConn(c.customerTags()), nil
		}),
	}
}

func (c *reqCtx) customerTags() []string {
	seen := map[string]bool{}
	var tags []string
	for _, cu := range c.sh.Customers {
		for _, t := range cu.Tags {
			if !seen[t] {
				seen[t] = true
				tags = append(tags, t)
			}
		}
	}
	slices.Sort(tags)
	return tags
}

func stringConn(items []string) conn {
	l := make([]any, len(items))
	for i, s := range items {
		l[i] = s
	}
	return conn{items: l}
}

func (c *reqCtx) appObj() map[string]any {
	cfg := c.s.cfg
	return map[string]any{
		"__typename": "App", "id": gid("App", c.s.appID), "apiKey": cfg.ClientID, "title": "Regulars",
		"handle": "regulars", "embedded": true, "published": false, "developerName": "Regulars",
		"webhookApiVersion": APIVersion, "installUrl": nil, "shopifyDeveloped": false,
		"description": "Rewards for regular customers.",
	}
}

func (c *reqCtx) installationObj() any {
	if c.sh.Install == nil {
		return nil
	}
	var scopes []any
	for _, sc := range c.scopes {
		scopes = append(scopes, map[string]any{"handle": sc, "description": sc})
	}
	return map[string]any{
		"__typename": "AppInstallation", "id": gid("AppInstallation", c.sh.ID),
		"app": c.appObj(), "accessScopes": scopes,
		"launchUrl":    c.baseURL + "/shops/" + c.sh.Domain + "/admin/apps/regulars",
		"uninstallUrl": c.baseURL + "/shops/" + c.sh.Domain + "/admin",
	}
}

func (c *reqCtx) functionObj() map[string]any {
	return map[string]any{
		"__typename":    "ShopifyFunction",
		"id":            c.s.functionID,
		"title":         "Regulars discounts",
		"apiType":       "discount",
		"apiVersion":    "2025-04",
		"appKey":        c.s.cfg.ClientID,
		"description":   "Applies the shop's Regulars offers: product, order and shipping discounts computed by the Regulars service.",
		"inputQuery":    c.s.fetchLinesSrc,
		"useCreationUi": false,
		"app":           c.appObj(),
		"appBridge":     map[string]any{"createPath": "", "detailsPath": ""},
	}
}

// --- Money, addresses -----------------------------------------------------------------

func (c *reqCtx) moneyV2(m Money) map[string]any {
	return map[string]any{"amount": c.sh.money(m), "currencyCode": c.sh.Currency}
}

func (c *reqCtx) moneyBag(m Money) map[string]any {
	v := c.moneyV2(m)
	return map[string]any{"shopMoney": v, "presentmentMoney": v}
}

func (c *reqCtx) addressObj(id int64, a *address, first, last string) any {
	if a == nil {
		return nil
	}
	formatted := []string{a.Address1, strings.TrimSpace(a.City + " " + a.ProvinceCode + " " + a.Zip), a.Country}
	return map[string]any{
		"__typename": "MailingAddress", "id": gid("MailingAddress", id) + "?model_name=Address",
		"firstName": first, "lastName": last, "name": strings.TrimSpace(first + " " + last),
		"address1": a.Address1, "address2": nil, "city": a.City, "province": nilIfEmpty(a.Province),
		"provinceCode": nilIfEmpty(a.ProvinceCode), "country": a.Country, "countryCodeV2": a.CountryCode,
		"zip": a.Zip, "phone": nilIfEmpty(a.Phone), "company": nil, "formatted": formatted,
		"formattedArea": strings.TrimSpace(a.City + ", " + a.Country), "coordinatesValidated": false,
	}
}

func nilIfEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// --- Products ---------------------------------------------------------------------------

func (c *reqCtx) productObj(p *product) map[string]any {
	var lo, hi Money
	for i, v := range p.Variants {
		if i == 0 || v.Price < lo {
			lo = v.Price
		}
		if v.Price > hi {
			hi = v.Price
		}
	}
	return map[string]any{
		"__typename": "Product", "id": gid("Product", p.ID), "legacyResourceId": p.ID, "title": p.Title,
		"handle": p.Handle, "vendor": p.Vendor, "productType": p.ProductType, "tags": p.Tags,
		"isGiftCard": p.IsGiftCard, "status": "ACTIVE", "createdAt": p.CreatedAt, "updatedAt": p.CreatedAt,
		"totalInventory": 100, "tracksInventory": false, "description": "", "descriptionHtml": "",
		"hasOnlyDefaultVariant": len(p.Variants) == 1 && p.Variants[0].Title == "Default Title",
		"priceRangeV2":          map[string]any{"minVariantPrice": c.moneyV2(lo), "maxVariantPrice": c.moneyV2(hi)},
		"variantsCount":         map[string]any{"count": len(p.Variants), "precision": "EXACT"},
		"variants": resolver(func(map[string]any) (any, error) {
			items := make([]any, len(p.Variants))
			for i, v := range p.Variants {
				items[i] = c.variantObj(p, v)
			}
			return conn{items: items}, nil
		}),
		"collections": resolver(func(map[string]any) (any, error) {
			var items []any
			for _, id := range p.CollectionIDs {
				if col := c.sh.collection(id); col != nil {
					items = append(items, c.collectionObj(col))
				}
			}
			return conn{items: items}, nil
		}),
		"inCollection": resolver(func(args map[string]any) (any, error) {
			id, _ := strArg(args, "id")
			_, n, _ := parseGID(id)
			return slices.Contains(p.CollectionIDs, n), nil
		}),
	}
}

func (c *reqCtx) variantObj(p *product, v *variant) map[string]any {
	title := v.Title
	return map[string]any{
		"__typename": "ProductVariant", "id": gid("ProductVariant", v.ID), "legacyResourceId": v.ID,
		"title": title, "displayName": p.Title + " - " + title, "sku": v.SKU, "price": c.sh.money(v.Price),
		"compareAtPrice": nil, "availableForSale": true, "taxable": true, "position": 1,
		"createdAt": p.CreatedAt, "updatedAt": p.CreatedAt, "inventoryQuantity": 100,
		"product": resolver(func(map[string]any) (any, error) { return c.productObj(p), nil }),
	}
}

func (c *reqCtx) collectionObj(col *collection) map[string]any {
	var members []*product
	for _, p := range c.sh.Products {
		if slices.Contains(p.CollectionIDs, col.ID) {
			members = append(members, p)
		}
	}
	return map[string]any{
		"__typename": "Collection", "id": gid("Collection", col.ID), "legacyResourceId": col.ID,
		"title": col.Title, "handle": col.Handle, "description": "", "descriptionHtml": "",
		"updatedAt": c.sh.CreatedAt, "sortOrder": "BEST_SELLING",
		"productsCount": map[string]any{"count": len(members), "precision": "EXACT"},
		"products": resolver(func(map[string]any) (any, error) {
			items := make([]any, len(members))
			for i, p := range members {
				items[i] = c.productObj(p)
			}
			return conn{items: items}, nil
		}),
		"hasProduct": resolver(func(args map[string]any) (any, error) {
			id, _ := strArg(args, "id")
			_, n, _ := parseGID(id)
			for _, p := range members {
				if p.ID == n {
					return true, nil
				}
			}
			return false, nil
		}),
	}
}

// --- Customers ----------------------------------------------------------------------------

func (c *reqCtx) customerObj(cu *customer) map[string]any {
	n, spent := c.sh.customerStats(cu.ID)
	var email, phone any
	if cu.Email != "" {
		email = map[string]any{"emailAddress": cu.Email, "marketingState": "NOT_SUBSCRIBED", "validFormat": true}
	}
	if cu.Phone != "" {
		phone = map[string]any{"phoneNumber": cu.Phone, "marketingState": "NOT_SUBSCRIBED"}
	}
	addr := c.addressObj(cu.ID, &cu.Address, cu.FirstName, cu.LastName)
	return map[string]any{
		"__typename": "Customer", "id": gid("Customer", cu.ID), "legacyResourceId": cu.ID,
		"firstName": cu.FirstName, "lastName": cu.LastName, "displayName": cu.name(),
		"email": nilIfEmpty(cu.Email), "phone": nilIfEmpty(cu.Phone),
		"defaultEmailAddress": email, "defaultPhoneNumber": phone,
		"tags": cu.Tags, "numberOfOrders": strconv.Itoa(n), "amountSpent": c.moneyV2(spent),
		"createdAt": cu.CreatedAt, "updatedAt": cu.UpdatedAt, "state": "ENABLED", "verifiedEmail": true,
		"taxExempt": false, "locale": "en", "note": nil, "canDelete": false, "lifetimeDuration": "",
		"defaultAddress": addr,
		"addresses":      resolver(func(map[string]any) (any, error) { return []any{addr}, nil }),
		"addressesV2":    resolver(func(map[string]any) (any, error) { return conn{items: []any{addr}}, nil }),
		"orders": resolver(func(args map[string]any) (any, error) {
			var mine []*order
			for _, o := range c.sh.Orders {
				if o.CustomerID == cu.ID {
					mine = append(mine, o)
				}
			}
			return c.ordersConn(mine, args), nil
		}),
		"lastOrder": resolver(func(map[string]any) (any, error) {
			for i := len(c.sh.Orders) - 1; i >= 0; i-- {
				if o := c.sh.Orders[i]; o.CustomerID == cu.ID && c.orderVisible(o) {
					return c.orderObj(o), nil
				}
			}
			return nil, nil
		}),
	}
}

// --- Orders -------------------------------------------------------------------------------

// ordersConn filters (query), sorts (sortKey) and wraps orders.
func (c *reqCtx) ordersConn(orders []*order, args map[string]any) conn {
	q, _ := strArg(args, "query")
	filter := parseOrderQuery(q)
	var list []*order
	for _, o := range orders {
		if c.orderVisible(o) && filter.matches(o) {
			list = append(list, o)
		}
	}
	key, _ := strArg(args, "sortKey")
	slices.SortStableFunc(list, func(a, b *order) int {
		switch key {
		case "CREATED_AT", "PROCESSED_AT", "":
			return a.CreatedAt.Compare(b.CreatedAt)
		case "UPDATED_AT":
			return a.UpdatedAt.Compare(b.UpdatedAt)
		case "ORDER_NUMBER":
			return a.Number - b.Number
		default:
			return cmpInt64(a.ID, b.ID)
		}
	})
	items := make([]any, len(list))
	for i, o := range list {
		items[i] = c.orderObj(o)
	}
	return conn{items: items}
}

func cmpInt64(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// orderQuery is the subset of the orders search syntax the stand-in understands:
// created_at, updated_at and processed_at compared (:, :>, :>=, :<, :<=) with a date or
// date-time, customer_id:<n>, financial_status:<status>, status:cancelled|open|any and
// test:true|false. Other terms are ignored.
type orderQuery struct {
	terms []orderTerm
}

type orderTerm struct {
	field, op, value string
}

func parseOrderQuery(q string) orderQuery {
	var out orderQuery
	for _, tok := range strings.Fields(q) {
		tok = strings.Trim(tok, "()")
		if strings.EqualFold(tok, "AND") {
			continue
		}
		field, rest, ok := strings.Cut(tok, ":")
		if !ok {
			continue
		}
		op := "="
		for _, p := range []string{">=", "<=", ">", "<"} {
			if strings.HasPrefix(rest, p) {
				op, rest = p, rest[len(p):]
				break
			}
		}
		out.terms = append(out.terms, orderTerm{strings.ToLower(field), op, strings.Trim(rest, `"'`)})
	}
	return out
}

func (q orderQuery) matches(o *order) bool {
	for _, t := range q.terms {
		switch t.field {
		case "created_at", "processed_at", "updated_at":
			at := o.CreatedAt
			if t.field == "updated_at" {
				at = o.UpdatedAt
			}
			ref, err := parseQueryTime(t.value)
			if err != nil {
				continue
			}
			cmp := at.Compare(ref)
			ok := map[string]bool{">": cmp > 0, ">=": cmp >= 0, "<": cmp < 0, "<=": cmp <= 0, "=": cmp >= 0 && at.Before(ref.Add(24*time.Hour))}[t.op]
			if !ok {
				return false
			}
		case "customer_id":
			if strconv.FormatInt(o.CustomerID, 10) != t.value {
				return false
			}
		case "financial_status":
			if !strings.EqualFold(o.FinancialStatus, t.value) {
				return false
			}
		case "status":
			switch strings.ToLower(t.value) {
			case "cancelled":
				if o.CancelledAt == nil {
					return false
				}
			case "open":
				if o.CancelledAt != nil {
					return false
				}
			}
		case "test":
			if strconv.FormatBool(o.Test) != strings.ToLower(t.value) {
				return false
			}
		}
	}
	return true
}

func parseQueryTime(s string) (time.Time, error) {
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05", "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("bad date %q: %w", s, errNotFound)
}

func (c *reqCtx) orderObj(o *order) map[string]any {
	sh := c.sh
	var cust any
	var first, last string
	if cu := sh.customer(o.CustomerID); cu != nil {
		first, last = cu.FirstName, cu.LastName
		cust = resolver(func(map[string]any) (any, error) { return c.customerObj(cu), nil })
	}
	refunded := o.refunded()
	refundedShipping := Money(0)
	for _, r := range o.Refunds {
		refundedShipping += r.Shipping
	}
	currentSubtotal := o.subtotal() - (refunded - refundedShipping)
	currentTotal := o.total() - refunded
	qty, currentQty := 0, 0
	for _, l := range o.Lines {
		qty += l.Quantity
		currentQty += c.currentQuantity(o, l)
	}
	if o.CancelledAt != nil {
		currentSubtotal, currentTotal = 0, 0
	}
	var cancelReason any
	if o.CancelReason != "" {
		cancelReason = strings.ToUpper(o.CancelReason)
	}
	var discountCode any
	codes := make([]string, 0, len(o.DiscountCodes))
	for _, dc := range o.DiscountCodes {
		codes = append(codes, dc.Code)
	}
	if len(codes) > 0 {
		discountCode = codes[0]
	}
	status := strings.ToUpper(o.FinancialStatus)
	paid := o.FinancialStatus == "paid" || o.FinancialStatus == "partially_refunded" || o.FinancialStatus == "refunded"
	outstanding, received, net := Money(0), Money(0), Money(0)
	if !paid && o.CancelledAt == nil {
		outstanding = o.total()
	}
	if paid {
		received, net = o.total(), o.total()-refunded
	}
	shipping := o.Shipping
	m := map[string]any{
		"__typename": "Order", "id": gid("Order", o.ID), "legacyResourceId": o.ID, "name": o.name(),
		"number": o.Number - 1000, "createdAt": o.CreatedAt, "processedAt": o.CreatedAt, "updatedAt": o.UpdatedAt,
		"cancelledAt": o.CancelledAt, "cancelReason": cancelReason, "closed": o.CancelledAt != nil,
		"closedAt": o.CancelledAt, "confirmed": true, "test": o.Test, "email": nilIfEmpty(o.Email),
		"phone": nilIfEmpty(o.Phone), "clientIp": nilIfEmpty(o.BrowserIP), "currencyCode": sh.Currency,
		"presentmentCurrencyCode": sh.Currency, "displayFinancialStatus": status,
		"displayFulfillmentStatus": "UNFULFILLED", "paymentGatewayNames": o.Gateways,
		"discountCode": discountCode, "discountCodes": codes, "sourceName": o.SourceName, "tags": o.Tags,
		"note": nil, "fullyPaid": paid, "unpaid": !paid, "taxesIncluded": false, "taxExempt": false,
		"requiresShipping": shipping != nil && shipping.Code != "PICKUP", "edited": false,
		"subtotalLineItemsQuantity": qty, "currentSubtotalLineItemsQuantity": currentQty,
		"subtotalPriceSet": c.moneyBag(o.subtotal()), "currentSubtotalPriceSet": c.moneyBag(currentSubtotal),
		"totalPriceSet": c.moneyBag(o.total()), "currentTotalPriceSet": c.moneyBag(currentTotal),
		"originalTotalPriceSet": c.moneyBag(o.total()),
		"totalDiscountsSet":     c.moneyBag(o.totalDiscounts()), "currentTotalDiscountsSet": c.moneyBag(o.totalDiscounts()),
		"cartDiscountAmountSet": c.moneyBag(0), "currentCartDiscountAmountSet": c.moneyBag(0),
		"totalShippingPriceSet":   c.moneyBag(o.shippingPrice() - o.shippingDiscount()),
		"currentShippingPriceSet": c.moneyBag(o.shippingPrice() - o.shippingDiscount() - refundedShipping),
		"totalRefundedSet":        c.moneyBag(refunded), "totalRefundedShippingSet": c.moneyBag(refundedShipping),
		"totalTaxSet": c.moneyBag(0), "currentTotalTaxSet": c.moneyBag(0), "totalTipReceivedSet": c.moneyBag(0),
		"totalOutstandingSet": c.moneyBag(outstanding), "totalCapturableSet": c.moneyBag(0),
		"netPaymentSet":    c.moneyBag(net),
		"totalReceivedSet": c.moneyBag(received),
		"customer":         cust,
		"shippingAddress":  c.addressObj(o.ID, o.ShippingAddress, first, last),
		"billingAddress":   c.addressObj(o.ID, o.ShippingAddress, first, last),
		"displayAddress":   c.addressObj(o.ID, o.ShippingAddress, first, last),
		"lineItems": resolver(func(map[string]any) (any, error) {
			items := make([]any, len(o.Lines))
			for i, l := range o.Lines {
				items[i] = c.lineItemObj(o, l)
			}
			return conn{items: items}, nil
		}),
		"discountApplications": resolver(func(map[string]any) (any, error) {
			items := make([]any, len(o.Applications))
			for i := range o.Applications {
				items[i] = c.discountApplicationObj(o, i)
			}
			return conn{items: items}, nil
		}),
		"refunds": resolver(func(map[string]any) (any, error) {
			out := make([]any, len(o.Refunds))
			for i, r := range o.Refunds {
				out[i] = c.refundObj(o, r)
			}
			return out, nil
		}),
		"customAttributes": []any{},
	}
	if shipping != nil {
		line := c.shippingLineObj(o, shipping)
		m["shippingLine"] = line
		m["shippingLines"] = resolver(func(map[string]any) (any, error) { return conn{items: []any{line}}, nil })
	}
	return m
}

func (c *reqCtx) currentQuantity(o *order, l *orderLine) int {
	if o.CancelledAt != nil {
		return 0
	}
	q := l.Quantity
	for _, r := range o.Refunds {
		for _, rl := range r.Lines {
			if rl.LineID == l.ID {
				q -= rl.Quantity
			}
		}
	}
	return max(q, 0)
}

func (c *reqCtx) allocationsObj(o *order, allocs []allocation) []any {
	out := make([]any, 0, len(allocs))
	for _, a := range allocs {
		out = append(out, map[string]any{
			"allocatedAmountSet":  c.moneyBag(a.Amount),
			"discountApplication": c.discountApplicationObj(o, a.AppIndex),
		})
	}
	return out
}

func (c *reqCtx) lineItemObj(o *order, l *orderLine) map[string]any {
	original := l.Price * Money(l.Quantity)
	disc := l.discount()
	name := l.Title
	if l.VariantTitle != "" {
		name += " - " + l.VariantTitle
	}
	m := map[string]any{
		"__typename": "LineItem", "id": gid("LineItem", l.ID), "title": l.Title, "name": name,
		"variantTitle": nilIfEmpty(l.VariantTitle), "sku": nilIfEmpty(l.SKU), "vendor": "Regulars Demo",
		"quantity": l.Quantity, "currentQuantity": c.currentQuantity(o, l), "isGiftCard": l.GiftCard,
		"requiresShipping": !l.GiftCard, "taxable": true, "refundableQuantity": c.currentQuantity(o, l),
		"unfulfilledQuantity": c.currentQuantity(o, l), "nonFulfillableQuantity": 0, "customAttributes": []any{},
		"originalUnitPriceSet": c.moneyBag(l.Price), "originalTotalSet": c.moneyBag(original),
		"discountedUnitPriceSet":                  c.moneyBag(l.Price),
		"discountedUnitPriceAfterAllDiscountsSet": c.moneyBag((original - disc) / Money(max(l.Quantity, 1))),
		"discountedTotalSet":                      c.moneyBag(original - disc),
		"totalDiscountSet":                        c.moneyBag(disc),
		"unfulfilledDiscountedTotalSet":           c.moneyBag(original - disc),
		"unfulfilledOriginalTotalSet":             c.moneyBag(original),
		"discountAllocations":                     c.allocationsObj(o, l.Allocations),
	}
	if p, v := c.sh.variant(l.VariantID); v != nil {
		m["variant"] = resolver(func(map[string]any) (any, error) { return c.variantObj(p, v), nil })
		m["product"] = resolver(func(map[string]any) (any, error) { return c.productObj(p), nil })
	}
	return m
}

func (c *reqCtx) shippingLineObj(o *order, s *shippingLine) map[string]any {
	return map[string]any{
		"__typename": "ShippingLine", "id": gid("ShippingLine", s.ID), "title": s.Title, "code": s.Code,
		"source": "shopify", "custom": false, "isRemoved": false, "shippingRateHandle": strings.ToLower(s.Code),
		"originalPriceSet": c.moneyBag(s.Price), "discountedPriceSet": c.moneyBag(s.Price - s.discount()),
		"currentDiscountedPriceSet": c.moneyBag(s.Price - s.discount()),
		"discountAllocations":       c.allocationsObj(o, s.Allocations), "taxLines": []any{},
	}
}

func (c *reqCtx) discountApplicationObj(o *order, i int) any {
	if i < 0 || i >= len(o.Applications) {
		return nil
	}
	a := o.Applications[i]
	var value map[string]any
	if a.ValueType == "percentage" {
		value = map[string]any{"__typename": "PricingPercentageValue", "percentage": json.Number(a.Value)}
	} else {
		m, _ := parseDecimal(a.Value, c.sh.exponent())
		value = map[string]any{"__typename": "MoneyV2", "amount": c.sh.money(m), "currencyCode": c.sh.Currency}
	}
	m := map[string]any{
		"index": i, "allocationMethod": strings.ToUpper(a.AllocationMethod),
		"targetSelection": strings.ToUpper(a.TargetSelection), "targetType": strings.ToUpper(a.TargetType),
		"value": value, "title": a.Title, "code": a.Code, "description": nilIfEmpty(a.Description),
	}
	switch a.Type {
	case "discount_code":
		m["__typename"] = "DiscountCodeApplication"
	case "automatic":
		m["__typename"] = "AutomaticDiscountApplication"
	case "script":
		m["__typename"] = "ScriptDiscountApplication"
	default:
		m["__typename"] = "ManualDiscountApplication"
	}
	return m
}

func (c *reqCtx) refundObj(o *order, r *refund) map[string]any {
	lines := make([]any, len(r.Lines))
	for i, rl := range r.Lines {
		var li any
		for _, l := range o.Lines {
			if l.ID == rl.LineID {
				li = c.lineItemObj(o, l)
			}
		}
		lines[i] = map[string]any{
			"id": gid("RefundLineItem", rl.ID), "quantity": rl.Quantity, "restockType": "RETURN", "restocked": true,
			"subtotalSet": c.moneyBag(rl.Subtotal), "totalTaxSet": c.moneyBag(0), "priceSet": c.moneyBag(rl.Subtotal / Money(max(rl.Quantity, 1))),
			"lineItem": li,
		}
	}
	return map[string]any{
		"__typename": "Refund", "id": gid("Refund", r.ID), "legacyResourceId": r.ID, "createdAt": r.CreatedAt,
		"updatedAt": r.CreatedAt, "note": nilIfEmpty(r.Note), "totalRefundedSet": c.moneyBag(r.amount()),
		"refundLineItems": resolver(func(map[string]any) (any, error) { return conn{items: lines}, nil }),
		"order":           resolver(func(map[string]any) (any, error) { return c.orderObj(o), nil }),
	}
}

// --- Discounts ----------------------------------------------------------------------------

func (c *reqCtx) discountByGID(id string) *discount {
	typ, n, ok := parseGID(id)
	if !ok {
		return nil
	}
	d := c.sh.discount(n)
	if d == nil {
		return nil
	}
	switch typ {
	case "DiscountNode":
		return d
	case "DiscountCodeNode":
		if d.IsCode {
			return d
		}
	case "DiscountAutomaticNode":
		if !d.IsCode {
			return d
		}
	}
	return nil
}

// discountMatches is the subset of the discounts search syntax the stand-in understands:
// method:code|automatic, status:active|expired|scheduled, type:app, title:<word>, and a bare
// word matched against the title and codes. Other terms are ignored.
func (c *reqCtx) discountMatches(d *discount, q string) bool {
	for _, tok := range strings.Fields(q) {
		field, val, ok := strings.Cut(tok, ":")
		val = strings.ToLower(strings.Trim(val, `"'`))
		if !ok {
			w := strings.ToLower(strings.Trim(tok, `"'`))
			hit := strings.Contains(strings.ToLower(d.Title), w)
			for _, rc := range d.Codes {
				hit = hit || strings.EqualFold(rc.Code, w)
			}
			if !hit {
				return false
			}
			continue
		}
		switch strings.ToLower(field) {
		case "method":
			if (val == "code") != d.IsCode {
				return false
			}
		case "status":
			if strings.ToLower(d.status(c.now)) != val {
				return false
			}
		case "type":
			if val != "app" && val != "all" {
				return false
			}
		case "title":
			if !strings.Contains(strings.ToLower(d.Title), val) {
				return false
			}
		}
	}
	return true
}

func (c *reqCtx) discountObj(d *discount) map[string]any {
	var endsAt any
	if d.EndsAt != nil {
		endsAt = *d.EndsAt
	}
	var usageLimit any
	if d.UsageLimit != nil {
		usageLimit = *d.UsageLimit
	}
	m := map[string]any{
		"discountId": d.gid(), "title": d.Title, "status": d.status(c.now), "startsAt": d.StartsAt,
		"endsAt": endsAt, "createdAt": d.CreatedAt, "updatedAt": d.UpdatedAt, "asyncUsageCount": d.UsageCount,
		"discountClasses": d.Classes, "discountClass": firstClass(d.Classes),
		"combinesWith": map[string]any{
			"productDiscounts": d.CombinesWith.Product, "orderDiscounts": d.CombinesWith.Order,
			"shippingDiscounts": d.CombinesWith.Shipping,
		},
		"context": c.contextObj(d.Context, false), "customerSelection": c.contextObj(d.Context, true),
		"appDiscountType": map[string]any{
			"appKey": c.s.cfg.ClientID, "functionId": d.FunctionID, "title": "Regulars discounts",
			"description": nil, "discountClasses": []string{"PRODUCT", "ORDER", "SHIPPING"},
			"app": c.appObj(), "appBridge": map[string]any{"createPath": "", "detailsPath": ""},
		},
		"appliesOnSubscription": d.AppliesOnSubscription, "appliesOnOneTimePurchase": d.AppliesOnOneTimePurchase,
		"recurringCycleLimit": d.RecurringCycleLimit, "hasTimelineComment": false, "shareableUrls": []any{},
		"errorHistory": nil,
	}
	if d.IsCode {
		m["__typename"] = "DiscountCodeApp"
		m["usageLimit"] = usageLimit
		m["appliesOncePerCustomer"] = d.OncePerCustomer
		m["codesCount"] = map[string]any{"count": len(d.Codes), "precision": "EXACT"}
		m["codes"] = resolver(func(args map[string]any) (any, error) {
			q, _ := strArg(args, "query")
			var items []any
			for _, rc := range d.Codes {
				if q == "" || strings.Contains(strings.ToLower(rc.Code), strings.ToLower(strings.TrimPrefix(q, "code:"))) {
					items = append(items, c.redeemCodeObj(rc))
				}
			}
			return conn{items: items}, nil
		})
		var sales Money
		for _, o := range c.sh.Orders {
			for _, a := range o.Applications {
				if a.DiscountID == d.ID {
					sales += o.total()
					break
				}
			}
		}
		m["totalSales"] = c.moneyV2(sales)
	} else {
		m["__typename"] = "DiscountAutomaticApp"
	}
	return m
}

func firstClass(classes []string) any {
	if len(classes) == 0 {
		return nil
	}
	return classes[0]
}

func (c *reqCtx) redeemCodeObj(rc *redeemCode) map[string]any {
	return map[string]any{
		"id": gid("DiscountRedeemCode", rc.ID), "code": rc.Code, "asyncUsageCount": rc.UsageCount,
		"createdBy": c.appObj(),
	}
}

func (c *reqCtx) contextObj(ctx discountContext, legacy bool) map[string]any {
	switch ctx.Kind {
	case "customers":
		var list []any
		for _, id := range ctx.IDs {
			_, n, _ := parseGID(id)
			if cu := c.sh.customer(n); cu != nil {
				list = append(list, c.customerObj(cu))
			}
		}
		return map[string]any{"__typename": "DiscountCustomers", "customers": list}
	case "segments":
		var list []any
		for _, id := range ctx.IDs {
			_, n, _ := parseGID(id)
			list = append(list, map[string]any{
				"id": id, "name": "Segment " + strconv.FormatInt(n, 10), "query": "",
				"creationDate": c.sh.CreatedAt, "lastEditDate": c.sh.CreatedAt,
			})
		}
		return map[string]any{"__typename": "DiscountCustomerSegments", "segments": list}
	}
	if legacy {
		return map[string]any{"__typename": "DiscountCustomerAll", "allCustomers": true}
	}
	return map[string]any{"__typename": "DiscountBuyerSelectionAll", "all": "ALL"}
}

func (c *reqCtx) metafieldsOf(list []*metafield, owner string) map[string]any {
	return map[string]any{
		"metafield": resolver(func(args map[string]any) (any, error) {
			ns, _ := strArg(args, "namespace")
			key, _ := strArg(args, "key")
			if m := metafieldIn(list, c.s.resolveNamespace(ns), key); m != nil {
				return c.metafieldObj(m, owner), nil
			}
			return nil, nil
		}),
		"metafields": resolver(func(args map[string]any) (any, error) {
			ns, hasNS := strArg(args, "namespace")
			var items []any
			for _, m := range list {
				if !hasNS || m.Namespace == c.s.resolveNamespace(ns) {
					items = append(items, c.metafieldObj(m, owner))
				}
			}
			return conn{items: items}, nil
		}),
		"events": conn{},
	}
}

func (c *reqCtx) discountNodeObj(d *discount) map[string]any {
	m := c.metafieldsOf(d.Metafields, "DiscountNode")
	m["__typename"] = "DiscountNode"
	m["id"] = d.gid()
	m["discount"] = c.discountObj(d)
	return m
}

func (c *reqCtx) codeNodeObj(d *discount) map[string]any {
	m := c.metafieldsOf(d.Metafields, "DiscountCodeNode")
	m["__typename"] = "DiscountCodeNode"
	m["id"] = d.gid()
	m["codeDiscount"] = c.discountObj(d)
	return m
}

func (c *reqCtx) automaticNodeObj(d *discount) map[string]any {
	m := c.metafieldsOf(d.Metafields, "DiscountAutomaticNode")
	m["__typename"] = "DiscountAutomaticNode"
	m["id"] = d.gid()
	m["automaticDiscount"] = c.discountObj(d)
	return m
}

func (c *reqCtx) metafieldObj(m *metafield, ownerType string) map[string]any {
	var jsonValue any = m.Value
	if m.Type == "json" && json.Valid([]byte(m.Value)) {
		jsonValue = json.RawMessage(m.Value)
	}
	sum := sha256.Sum256([]byte(m.Value))
	return map[string]any{
		"__typename": "Metafield", "id": gid("Metafield", m.ID), "legacyResourceId": m.ID,
		"namespace": m.Namespace, "key": m.Key, "type": m.Type, "value": m.Value, "jsonValue": jsonValue,
		"createdAt": m.CreatedAt, "updatedAt": m.UpdatedAt, "ownerType": metafieldOwnerType(ownerType),
		"compareDigest": hex.EncodeToString(sum[:]), "definition": nil, "reference": nil,
		"owner": map[string]any{"__typename": ownerType},
	}
}

// metafieldOwnerType is the MetafieldOwnerType of an owner's GraphQL type.
func metafieldOwnerType(typename string) string {
	if typename == "PaymentCustomization" {
		return "PAYMENT_CUSTOMIZATION"
	}
	return "DISCOUNT"
}

// resolveNamespace turns the app-reserved prefix "$app" into the stored namespace.
func (s *Server) resolveNamespace(ns string) string {
	prefix := "app--" + strconv.FormatInt(s.appID, 10)
	switch {
	case ns == "$app":
		return prefix
	case strings.HasPrefix(ns, "$app:"):
		return prefix + "--" + strings.TrimPrefix(ns, "$app:")
	}
	return ns
}

func findMetafield(d *discount, ns, key string) *metafield { return metafieldIn(d.Metafields, ns, key) }

// metafieldIn finds the metafield of namespace ns (resolved) and key in list.
func metafieldIn(list []*metafield, ns, key string) *metafield {
	for _, m := range list {
		if m.Namespace == ns && m.Key == key {
			return m
		}
	}
	return nil
}

// findCode finds a redeem code, case-insensitively, across the shop's code discounts.
func findCode(sh *shop, code string) (*discount, *redeemCode) {
	for _, d := range sh.Discounts {
		for _, rc := range d.Codes {
			if strings.EqualFold(rc.Code, code) {
				return d, rc
			}
		}
	}
	return nil, nil
}

func (c *reqCtx) redeemBulkObj(b *redeemBulk) map[string]any {
	imported, failed := 0, 0
	var codes []any
	for _, r := range b.Results {
		var rc any
		if r.CodeID != 0 {
			imported++
			rc = map[string]any{"id": gid("DiscountRedeemCode", r.CodeID), "code": r.Code, "asyncUsageCount": 0}
		} else {
			failed++
		}
		errs := make([]any, len(r.Errors))
		for i, e := range r.Errors {
			errs[i] = e.obj()
		}
		codes = append(codes, map[string]any{"code": r.Code, "discountRedeemCode": rc, "errors": errs})
	}
	var node any
	if d := c.sh.discount(b.DiscountID); d != nil {
		node = c.codeNodeObj(d)
	}
	return map[string]any{
		"__typename": "DiscountRedeemCodeBulkCreation", "id": gid("DiscountRedeemCodeBulkCreation", b.ID),
		"done": b.Done, "codesCount": len(b.Codes), "importedCount": imported, "failedCount": failed,
		"createdAt": b.CreatedAt, "discountCode": node,
		"codes": resolver(func(map[string]any) (any, error) { return conn{items: codes}, nil }),
	}
}

func (c *reqCtx) bulkOpObj(op *bulkOp) map[string]any {
	var url, code, fileSize any
	if op.Status == "COMPLETED" && op.FileKey != "" {
		url = op.BaseURL + "/bulk/" + op.FileKey + ".jsonl"
		fileSize = strconv.Itoa(op.FileSize)
	}
	if op.ErrorCode != "" {
		code = op.ErrorCode
	}
	return map[string]any{
		"__typename": "BulkOperation", "id": gid("BulkOperation", op.ID), "status": op.Status,
		"errorCode": code, "createdAt": op.CreatedAt, "completedAt": op.CompletedAt,
		"objectCount": strconv.Itoa(op.ObjectCount), "rootObjectCount": strconv.Itoa(op.RootObjectCount),
		"fileSize": fileSize, "url": url, "partialDataUrl": nil, "query": op.Query, "type": "QUERY",
	}
}

func (c *reqCtx) webhookSubObj(sub *webhookSub) map[string]any {
	return map[string]any{
		"__typename": "WebhookSubscription", "id": gid("WebhookSubscription", sub.ID),
		"legacyResourceId": sub.ID, "topic": sub.Topic, "uri": sub.URI, "format": sub.Format,
		"includeFields": sub.IncludeFields, "metafieldNamespaces": []string{}, "filter": nilIfEmpty(sub.Filter),
		"createdAt": sub.CreatedAt, "updatedAt": sub.UpdatedAt,
		"apiVersion":  map[string]any{"handle": APIVersion, "displayName": APIVersion, "supported": true},
		"endpoint":    map[string]any{"__typename": "WebhookHttpEndpoint", "callbackUrl": c.s.deliveryURL(sub.URI)},
		"callbackUrl": c.s.deliveryURL(sub.URI),
	}
}
