package standin

import (
	"encoding/json"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/regularsapp/regulars/discountfn"
)

// userError is a mutation's userErrors entry (UserError, DiscountUserError,
// BulkOperationUserError, MetafieldsSetUserError: the projector keeps what the type has).
type userError struct {
	Code         string
	Field        []string
	Message      string
	ElementIndex *int
}

func (u userError) obj() map[string]any {
	m := map[string]any{"message": u.Message, "code": nilIfEmpty(u.Code), "extraInfo": nil}
	if u.Field != nil {
		m["field"] = u.Field
	}
	if u.ElementIndex != nil {
		m["elementIndex"] = *u.ElementIndex
	}
	return m
}

func errorsObj(list []userError) []any {
	out := make([]any, len(list))
	for i, u := range list {
		out[i] = u.obj()
	}
	return out
}

func (s *Server) mutationRoot(c *reqCtx) map[string]any {
	return map[string]any{
		"webhookSubscriptionCreate": resolver(c.webhookSubscriptionCreate),
		"webhookSubscriptionDelete": resolver(c.webhookSubscriptionDelete),
		"discountCodeAppCreate": resolver(func(args map[string]any) (any, error) {
			return c.discountAppSave(args, true, "codeAppDiscount", "")
		}),
		"discountCodeAppUpdate": resolver(func(args map[string]any) (any, error) {
			id, _ := strArg(args, "id")
			return c.discountAppSave(args, true, "codeAppDiscount", id)
		}),
		"discountAutomaticAppCreate": resolver(func(args map[string]any) (any, error) {
			return c.discountAppSave(args, false, "automaticAppDiscount", "")
		}),
		"discountAutomaticAppUpdate": resolver(func(args map[string]any) (any, error) {
			id, _ := strArg(args, "id")
			return c.discountAppSave(args, false, "automaticAppDiscount", id)
		}),
		"discountCodeActivate":           resolver(func(a map[string]any) (any, error) { return c.discountSetActive(a, true, true) }),
		"discountCodeDeactivate":         resolver(func(a map[string]any) (any, error) { return c.discountSetActive(a, true, false) }),
		"discountAutomaticActivate":      resolver(func(a map[string]any) (any, error) { return c.discountSetActive(a, false, true) }),
		"discountAutomaticDeactivate":    resolver(func(a map[string]any) (any, error) { return c.discountSetActive(a, false, false) }),
		"discountCodeDelete":             resolver(func(a map[string]any) (any, error) { return c.discountDelete(a, true) }),
		"discountAutomaticDelete":        resolver(func(a map[string]any) (any, error) { return c.discountDelete(a, false) }),
		"discountRedeemCodeBulkAdd":      resolver(c.redeemCodeBulkAdd),
		"bulkOperationRunQuery":          resolver(c.bulkOperationRunQuery),
		"tagsAdd":                        resolver(c.tagsAdd),
		"metafieldsSet":                  resolver(c.metafieldsSet),
		"paymentCustomizationCreate":     resolver(c.paymentCustomizationCreate),
		"paymentCustomizationActivation": resolver(c.paymentCustomizationActivation),
	}
}

// --- Webhook subscriptions ------------------------------------------------------------------

func (c *reqCtx) webhookSubscriptionCreate(args map[string]any) (any, error) {
	topic, _ := strArg(args, "topic")
	in, _ := mapArg(args, "webhookSubscription")
	uri, _ := strArg(in, "uri")
	if uri == "" {
		uri, _ = strArg(in, "callbackUrl")
	}
	format, _ := strArg(in, "format")
	if format == "" {
		format = "JSON"
	}
	fail := func(msg string) (any, error) {
		return map[string]any{"webhookSubscription": nil, "userErrors": errorsObj([]userError{{
			Field: []string{"webhookSubscription", "callbackUrl"}, Message: msg,
		}})}, nil
	}
	switch {
	case uri == "":
		return fail("Address can't be blank")
	case !validDeliveryURI(uri):
		return fail("Address is invalid")
	}
	for _, sub := range c.sh.Subs {
		if sub.Topic == topic && sub.URI == uri {
			return fail("Address for this topic has already been taken")
		}
	}
	sub := &webhookSub{
		ID: c.s.w.id(), Topic: topic, URI: uri, Format: format, IncludeFields: stringList(in, "includeFields"),
		CreatedAt: c.now, UpdatedAt: c.now,
	}
	sub.Filter, _ = strArg(in, "filter")
	c.sh.Subs = append(c.sh.Subs, sub)
	c.s.log.Info("webhook subscription created", "shop", c.sh.Domain, "topic", topic, "uri", uri)
	return map[string]any{"webhookSubscription": c.webhookSubObj(sub), "userErrors": []any{}}, nil
}

func (c *reqCtx) webhookSubscriptionDelete(args map[string]any) (any, error) {
	id, _ := strArg(args, "id")
	_, n, _ := parseGID(id)
	for i, sub := range c.sh.Subs {
		if sub.ID == n {
			c.sh.Subs = slices.Delete(c.sh.Subs, i, i+1)
			return map[string]any{"deletedWebhookSubscriptionId": id, "userErrors": []any{}}, nil
		}
	}
	return map[string]any{"deletedWebhookSubscriptionId": nil, "userErrors": errorsObj([]userError{{
		Field: []string{"id"}, Message: "Webhook subscription does not exist",
	}})}, nil
}

// validDeliveryURI: a path relative to the app URL, or an absolute http(s) URL.
func validDeliveryURI(uri string) bool {
	if strings.HasPrefix(uri, "/") && !strings.HasPrefix(uri, "//") {
		return true
	}
	u, err := url.Parse(uri)
	return err == nil && (u.Scheme == "https" || u.Scheme == "http") && u.Host != ""
}

// --- App discounts --------------------------------------------------------------------------

// discountAppSave creates (id == "") or updates an app discount.
func (c *reqCtx) discountAppSave(args map[string]any, isCode bool, inputName, id string) (any, error) {
	if err := c.need("write_discounts", inputName); err != nil {
		return nil, err
	}
	payloadKey := inputName
	in, _ := mapArg(args, inputName)
	fail := func(errs []userError) (any, error) {
		return map[string]any{payloadKey: nil, "userErrors": errorsObj(errs)}, nil
	}
	var d *discount
	create := id == ""
	if create {
		d = &discount{
			IsCode: isCode, StartsAt: c.now, AppliesOnOneTimePurchase: true, RecurringCycleLimit: 1,
			Context: discountContext{Kind: "all"}, FunctionID: c.s.functionID, CreatedAt: c.now,
		}
	} else {
		existing := c.discountByGID(id)
		if existing == nil || existing.IsCode != isCode {
			return fail([]userError{{Code: "INVALID", Field: []string{"id"}, Message: "Discount does not exist"}})
		}
		cp := *existing
		cp.Metafields = slices.Clone(existing.Metafields)
		cp.Codes = slices.Clone(existing.Codes)
		d = &cp
	}
	errs := c.applyDiscountInput(d, in, inputName, create)
	if len(errs) > 0 {
		return fail(errs)
	}
	d.UpdatedAt = c.now
	if create {
		d.ID = c.s.w.id()
		if code, ok := strArg(in, "code"); ok {
			d.Codes = []*redeemCode{{ID: c.s.w.id(), Code: strings.TrimSpace(code)}}
		}
		c.sh.Discounts = append(c.sh.Discounts, d)
		c.s.log.Info("discount created", "shop", c.sh.Domain, "id", d.gid(), "title", d.Title)
	} else {
		for i, old := range c.sh.Discounts {
			if old.ID == d.ID {
				c.sh.Discounts[i] = d
			}
		}
		c.s.log.Info("discount updated", "shop", c.sh.Domain, "id", d.gid(), "title", d.Title)
	}
	return map[string]any{payloadKey: c.discountObj(d), "userErrors": []any{}}, nil
}

// applyDiscountInput validates in and applies it to d (a copy, kept only without errors).
func (c *reqCtx) applyDiscountInput(d *discount, in map[string]any, prefix string, create bool) []userError {
	var errs []userError
	field := func(f ...string) []string { return append([]string{prefix}, f...) }
	add := func(code, msg string, f ...string) {
		errs = append(errs, userError{Code: code, Field: field(f...), Message: msg})
	}
	if v, ok := in["title"]; ok || create {
		title, _ := v.(string)
		switch {
		case strings.TrimSpace(title) == "":
			add("BLANK", "Title can't be blank", "title")
		case len(title) > 255:
			add("TOO_LONG", "Title is too long (maximum is 255 characters)", "title")
		default:
			d.Title = title
		}
	}
	if d.IsCode {
		if v, ok := in["code"]; ok || create {
			code, _ := v.(string)
			code = strings.TrimSpace(code)
			switch {
			case code == "":
				add("BLANK", "Code can't be blank", "code")
			case len(code) > 255:
				add("TOO_LONG", "Code is too long (maximum is 255 characters)", "code")
			case strings.ContainsAny(code, "\n\r"):
				add("INVALID", "Code can't contain newline characters.", "code")
			default:
				if other, _ := findCode(c.sh, code); other != nil && other.ID != d.ID {
					add("TAKEN", "Code must be unique. Please try a different code.", "code")
				} else if !create && len(d.Codes) > 0 {
					first := *d.Codes[0]
					first.Code = code
					d.Codes[0] = &first
				}
			}
		}
	}
	if v, ok := in["functionHandle"]; ok || create {
		h, _ := v.(string)
		switch {
		case h == "":
			add("MISSING_FUNCTION_IDENTIFIER", "Either function_id or function_handle must be provided.", "functionHandle")
		case h != FunctionHandle:
			add("INVALID", fmt.Sprintf("Function %s not found. Ensure that it is released in the current app (%s), and that the app is installed.", h, c.s.cfg.ClientID), "functionHandle")
		}
	}
	if v, ok := in["startsAt"]; ok && v != nil {
		if t, err := parseDateTime(v); err != nil {
			add("INVALID", "Starts at is invalid", "startsAt")
		} else {
			d.StartsAt = t
		}
	}
	if v, ok := in["endsAt"]; ok {
		if v == nil {
			d.EndsAt = nil
		} else if t, err := parseDateTime(v); err != nil {
			add("INVALID", "Ends at is invalid", "endsAt")
		} else {
			d.EndsAt = &t
		}
	}
	if d.EndsAt != nil && !d.EndsAt.After(d.StartsAt) {
		add("END_DATE_BEFORE_START_DATE", "Ends at needs to be after starts_at", "endsAt")
	}
	if _, ok := in["discountClasses"]; ok || create {
		classes := stringList(in, "discountClasses")
		slices.Sort(classes)
		classes = slices.Compact(classes)
		if len(classes) == 0 {
			add("BLANK", "Discount classes can't be blank", "discountClasses")
		} else {
			d.Classes = classes
		}
	}
	if m, ok := mapArg(in, "combinesWith"); ok {
		if b, ok := boolArg(m, "productDiscounts"); ok {
			d.CombinesWith.Product = b
		}
		if b, ok := boolArg(m, "orderDiscounts"); ok {
			d.CombinesWith.Order = b
		}
		if b, ok := boolArg(m, "shippingDiscounts"); ok {
			d.CombinesWith.Shipping = b
		}
	}
	if d.IsCode {
		if v, ok := in["usageLimit"]; ok {
			if v == nil {
				d.UsageLimit = nil
			} else if n, ok := asInt(v); !ok || n <= 0 {
				add("GREATER_THAN", "Usage limit must be greater than 0", "usageLimit")
			} else {
				d.UsageLimit = &n
			}
		}
		if b, ok := boolArg(in, "appliesOncePerCustomer"); ok {
			d.OncePerCustomer = b
		}
	}
	if b, ok := boolArg(in, "appliesOnSubscription"); ok {
		d.AppliesOnSubscription = b
	}
	if b, ok := boolArg(in, "appliesOnOneTimePurchase"); ok {
		d.AppliesOnOneTimePurchase = b
	}
	if n, ok := intArg(in, "recurringCycleLimit"); ok {
		d.RecurringCycleLimit = n
	}
	if ctx, ok := mapArg(in, "context"); ok {
		errs = append(errs, c.applyContext(d, ctx, field("context"))...)
	}
	if list, ok := listArg(in, "metafields"); ok {
		errs = append(errs, c.applyMetafields(&d.Metafields, list, field("metafields"))...)
	}
	if create && !d.IsCode && len(errs) == 0 {
		active := 0
		for _, other := range c.sh.Discounts {
			if !other.IsCode && other.status(c.now) == "ACTIVE" {
				active++
			}
		}
		if active >= maxActiveAutomaticApps {
			add("MAX_APP_DISCOUNTS", fmt.Sprintf("A shop can have at most %d active automatic app discounts.", maxActiveAutomaticApps))
		}
	}
	return errs
}

func (c *reqCtx) applyContext(d *discount, ctx map[string]any, field []string) []userError {
	set := 0
	for _, k := range []string{"all", "customers", "customerSegments"} {
		if ctx[k] != nil {
			set++
		}
	}
	if set != 1 {
		return []userError{{Code: "INVALID", Field: field, Message: "Only one of all, customers or customerSegments must be provided."}}
	}
	apply := func(kind string, m map[string]any) []userError {
		ids := []string{}
		if d.Context.Kind == kind {
			ids = slices.Clone(d.Context.IDs)
		}
		var errs []userError
		for _, id := range stringList(m, "add") {
			typ, n, ok := parseGID(id)
			switch {
			case kind == "customers" && (!ok || typ != "Customer" || c.sh.customer(n) == nil):
				errs = append(errs, userError{Code: "INVALID", Field: append(slices.Clone(field), "customers", "add"), Message: "Customer " + id + " does not exist."})
			case kind == "segments" && (!ok || typ != "Segment"):
				errs = append(errs, userError{Code: "INVALID", Field: append(slices.Clone(field), "customerSegments", "add"), Message: "Segment " + id + " does not exist."})
			case !slices.Contains(ids, id):
				ids = append(ids, id)
			}
		}
		for _, id := range stringList(m, "remove") {
			ids = slices.DeleteFunc(ids, func(s string) bool { return s == id })
		}
		if len(errs) == 0 {
			d.Context = discountContext{Kind: kind, IDs: ids}
		}
		return errs
	}
	switch {
	case ctx["all"] != nil:
		d.Context = discountContext{Kind: "all"}
	case ctx["customers"] != nil:
		m, _ := mapArg(ctx, "customers")
		return apply("customers", m)
	default:
		m, _ := mapArg(ctx, "customerSegments")
		return apply("segments", m)
	}
	return nil
}

// metafieldTypes are the metafield types the stand-in accepts.
func metafieldTypeKnown(t string) bool {
	switch t {
	case "json", "single_line_text_field", "multi_line_text_field", "number_integer", "number_decimal", "boolean":
		return true
	}
	return false
}

// applyMetafields upserts the metafields of list into mfs (a discount's or a payment
// customization's).
func (c *reqCtx) applyMetafields(mfs *[]*metafield, list []any, field []string) []userError {
	var errs []userError
	for i, item := range list {
		m, _ := item.(map[string]any)
		f := append(slices.Clone(field), strconv.Itoa(i))
		id, _ := strArg(m, "id")
		ns, _ := strArg(m, "namespace")
		key, _ := strArg(m, "key")
		value, hasValue := strArg(m, "value")
		typ, _ := strArg(m, "type")
		var target *metafield
		if id != "" {
			_, n, _ := parseGID(id)
			for _, mf := range *mfs {
				if mf.ID == n {
					target = mf
				}
			}
			if target == nil {
				errs = append(errs, userError{Code: "INVALID", Field: append(f, "id"), Message: "Metafield does not exist"})
				continue
			}
		} else {
			if key == "" {
				errs = append(errs, userError{Code: "BLANK", Field: append(f, "key"), Message: "Key can't be blank"})
				continue
			}
			if ns == "" {
				ns = "$app"
			}
			target = metafieldIn(*mfs, c.s.resolveNamespace(ns), key)
		}
		if typ == "" && target != nil {
			typ = target.Type
		}
		switch {
		case !metafieldTypeKnown(typ):
			errs = append(errs, userError{Code: "INVALID", Field: append(f, "type"), Message: "Type is invalid"})
			continue
		case !hasValue:
			errs = append(errs, userError{Code: "BLANK", Field: append(f, "value"), Message: "Value can't be blank"})
			continue
		case typ == "json" && !json.Valid([]byte(value)):
			errs = append(errs, userError{Code: "INVALID", Field: append(f, "value"), Message: "Value is invalid JSON"})
			continue
		}
		if target == nil {
			*mfs = append(*mfs, &metafield{
				ID: c.s.w.id(), Namespace: c.s.resolveNamespace(ns), Key: key, Type: typ, Value: value,
				CreatedAt: c.now, UpdatedAt: c.now,
			})
			continue
		}
		cp := *target
		cp.Type, cp.Value, cp.UpdatedAt = typ, value, c.now
		for j, mf := range *mfs {
			if mf == target {
				(*mfs)[j] = &cp
			}
		}
	}
	return errs
}

func parseDateTime(v any) (time.Time, error) {
	s, ok := v.(string)
	if !ok {
		return time.Time{}, fmt.Errorf("not a date-time: %w", errNotFound)
	}
	t, err := parseQueryTime(s)
	if err != nil {
		return time.Time{}, err
	}
	return t.UTC(), nil
}

// existingDiscount checks the write scope and finds the discount the mutation's id names.
// A missing one (or one of the other kind) is the platform's userError answer, under key.
func (c *reqCtx) existingDiscount(args map[string]any, isCode bool, key string) (*discount, map[string]any, error) {
	if err := c.need("write_discounts", "discount"); err != nil {
		return nil, nil, err
	}
	id, _ := strArg(args, "id")
	d := c.discountByGID(id)
	if d == nil || d.IsCode != isCode {
		return nil, map[string]any{key: nil, "userErrors": errorsObj([]userError{{
			Code: "INVALID", Field: []string{"id"}, Message: "Discount does not exist",
		}})}, nil
	}
	return d, nil, nil
}

func (c *reqCtx) discountSetActive(args map[string]any, isCode, active bool) (any, error) {
	key := "automaticDiscountNode"
	if isCode {
		key = "codeDiscountNode"
	}
	d, answer, err := c.existingDiscount(args, isCode, key)
	if d == nil {
		return answer, err
	}
	if active {
		d.EndsAt = nil
		if d.StartsAt.After(c.now) {
			d.StartsAt = c.now
		}
	} else if d.EndsAt == nil || d.EndsAt.After(c.now) {
		if d.StartsAt.After(c.now) {
			d.StartsAt = c.now
		}
		t := c.now
		d.EndsAt = &t
	}
	d.UpdatedAt = c.now
	if isCode {
		return map[string]any{key: c.codeNodeObj(d), "userErrors": []any{}}, nil
	}
	return map[string]any{key: c.automaticNodeObj(d), "userErrors": []any{}}, nil
}

func (c *reqCtx) discountDelete(args map[string]any, isCode bool) (any, error) {
	key := "deletedAutomaticDiscountId"
	if isCode {
		key = "deletedCodeDiscountId"
	}
	d, answer, err := c.existingDiscount(args, isCode, key)
	if d == nil {
		return answer, err
	}
	c.sh.Discounts = slices.DeleteFunc(c.sh.Discounts, func(x *discount) bool { return x.ID == d.ID })
	c.s.log.Info("discount deleted", "shop", c.sh.Domain, "id", d.gid())
	return map[string]any{key: d.gid(), "userErrors": []any{}}, nil
}

// --- Redeem codes ---------------------------------------------------------------------------

func (c *reqCtx) redeemCodeBulkAdd(args map[string]any) (any, error) {
	if err := c.need("write_discounts", "discountRedeemCodeBulkAdd"); err != nil {
		return nil, err
	}
	fail := func(code, msg string, field ...string) (any, error) {
		return map[string]any{"bulkCreation": nil, "userErrors": errorsObj([]userError{{Code: code, Field: field, Message: msg}})}, nil
	}
	id, _ := strArg(args, "discountId")
	d := c.discountByGID(id)
	if d == nil || !d.IsCode {
		return fail("INVALID", "Code discount does not exist.", "discountId")
	}
	list, _ := listArg(args, "codes")
	switch {
	case len(list) == 0:
		return fail("BLANK", "Codes can't be blank", "codes")
	case len(list) > maxRedeemCodesPerCall:
		return fail("EXCEEDED_MAX", fmt.Sprintf("Codes exceeds the maximum of %d codes per request.", maxRedeemCodesPerCall), "codes")
	}
	codes := make([]string, 0, len(list))
	for _, item := range list {
		m, _ := item.(map[string]any)
		code, _ := strArg(m, "code")
		codes = append(codes, code)
	}
	b := &redeemBulk{ID: c.s.w.id(), DiscountID: d.ID, Codes: codes, CreatedAt: c.now, ReadyAt: c.now.Add(c.s.cfg.AsyncDelay)}
	c.sh.RedeemBulks = append(c.sh.RedeemBulks, b)
	return map[string]any{"bulkCreation": c.redeemBulkObj(b), "userErrors": []any{}}, nil
}

// importCodes runs a redeem-code bulk creation. The caller holds s.mu.
func (s *Server) importCodes(sh *shop, b *redeemBulk) {
	d := sh.discount(b.DiscountID)
	seen := map[string]bool{}
	for _, raw := range b.Codes {
		code := strings.TrimSpace(raw)
		res := redeemResult{Code: raw}
		fail := func(c, msg string) {
			res.Errors = append(res.Errors, userError{Code: c, Field: []string{"code"}, Message: msg})
		}
		other, _ := findCode(sh, code)
		switch {
		case d == nil:
			fail("INVALID", "Code discount does not exist.")
		case code == "":
			fail("BLANK", "Code can't be blank")
		case len(code) > 255:
			fail("TOO_LONG", "Code is too long (maximum is 255 characters)")
		case other != nil || seen[strings.ToLower(code)]:
			fail("TAKEN", "Code must be unique. Please try a different code.")
		default:
			rc := &redeemCode{ID: s.w.id(), Code: code}
			d.Codes = append(d.Codes, rc)
			res.CodeID = rc.ID
		}
		seen[strings.ToLower(code)] = true
		b.Results = append(b.Results, res)
	}
	b.Done = true
}

// settle completes the shop's asynchronous jobs that are due. The caller holds s.mu.
func (s *Server) settle(sh *shop, now time.Time) {
	for _, b := range sh.RedeemBulks {
		if !b.Done && !now.Before(b.ReadyAt) {
			s.importCodes(sh, b)
		}
	}
	for _, op := range sh.BulkOps {
		switch op.Status {
		case "CREATED", "RUNNING":
			if !now.Before(op.ReadyAt) {
				s.runBulkOp(sh, op, now)
			} else if now.After(op.CreatedAt) {
				op.Status = "RUNNING"
			}
		}
	}
}

// --- Tags, metafields ---------------------------------------------------------------------

func (c *reqCtx) tagsAdd(args map[string]any) (any, error) {
	id, _ := strArg(args, "id")
	var tags []string
	for _, t := range stringList(args, "tags") {
		for _, p := range strings.Split(t, ",") {
			if p = strings.TrimSpace(p); p != "" {
				tags = append(tags, p)
			}
		}
	}
	fail := func(msg string) (any, error) {
		return map[string]any{"node": nil, "userErrors": errorsObj([]userError{{Field: []string{"id"}, Message: msg}})}, nil
	}
	typ, n, ok := parseGID(id)
	if !ok {
		return fail("Invalid id")
	}
	merge := func(have []string) ([]string, bool) {
		changed := false
		for _, t := range tags {
			if !slices.ContainsFunc(have, func(h string) bool { return strings.EqualFold(h, t) }) {
				have = append(have, t)
				changed = true
			}
		}
		return have, changed
	}
	switch typ {
	case "Order":
		if err := c.need("write_orders", "tagsAdd"); err != nil {
			return nil, err
		}
		o := c.sh.order(n)
		if o == nil {
			return fail("Order does not exist")
		}
		var changed bool
		if o.Tags, changed = merge(o.Tags); changed {
			o.UpdatedAt = c.now
			c.s.emitOrder(c.sh, "orders/updated", o, c.now)
		}
		node, err := c.node(id)
		return map[string]any{"node": node, "userErrors": []any{}}, err
	case "Customer":
		if err := c.need("write_customers", "tagsAdd"); err != nil {
			return nil, err
		}
		cu := c.sh.customer(n)
		if cu == nil {
			return fail("Customer does not exist")
		}
		var changed bool
		if cu.Tags, changed = merge(cu.Tags); changed {
			cu.UpdatedAt = c.now
			c.s.emitCustomer(c.sh, cu, c.now)
		}
		node, err := c.node(id)
		return map[string]any{"node": node, "userErrors": []any{}}, err
	case "Product":
		if err := c.need("write_products", "tagsAdd"); err != nil {
			return nil, err
		}
		p := c.sh.product(n)
		if p == nil {
			return fail("Product does not exist")
		}
		p.Tags, _ = merge(p.Tags)
		node, err := c.node(id)
		return map[string]any{"node": node, "userErrors": []any{}}, err
	}
	return fail("Tags can't be added to a " + typ)
}

func (c *reqCtx) metafieldsSet(args map[string]any) (any, error) {
	list, _ := listArg(args, "metafields")
	var errs []userError
	// All or nothing: changes are staged on copies and kept only when every entry is valid.
	staged := map[int64]*discount{}
	type written struct {
		d       int64
		ns, key string
	}
	var done []written
	for i, item := range list {
		idx := i
		m, _ := item.(map[string]any)
		owner, _ := strArg(m, "ownerId")
		d := c.discountByGID(owner)
		if d == nil {
			errs = append(errs, userError{Code: "INVALID", ElementIndex: &idx, Field: []string{"metafields", strconv.Itoa(i), "ownerId"}, Message: "Owner does not exist (the stand-in supports discount owners)"})
			continue
		}
		if err := c.need("write_discounts", "metafieldsSet"); err != nil {
			return nil, err
		}
		cp := staged[d.ID]
		if cp == nil {
			v := *d
			v.Metafields = slices.Clone(d.Metafields)
			cp = &v
			staged[d.ID] = cp
		}
		in := map[string]any{"namespace": m["namespace"], "key": m["key"], "value": m["value"], "type": m["type"]}
		if e := c.applyMetafields(&cp.Metafields, []any{in}, []string{"metafields", strconv.Itoa(i)}); len(e) > 0 {
			for j := range e {
				e[j].ElementIndex = &idx
			}
			errs = append(errs, e...)
			continue
		}
		ns, _ := strArg(m, "namespace")
		if ns == "" {
			ns = "$app"
		}
		key, _ := strArg(m, "key")
		done = append(done, written{d.ID, c.s.resolveNamespace(ns), key})
	}
	if len(errs) > 0 {
		return map[string]any{"metafields": nil, "userErrors": errorsObj(errs)}, nil
	}
	for id, cp := range staged {
		cp.UpdatedAt = c.now
		*c.sh.discount(id) = *cp
	}
	out := make([]any, 0, len(done))
	for _, w := range done {
		if mf := findMetafield(c.sh.discount(w.d), w.ns, w.key); mf != nil {
			out = append(out, c.metafieldObj(mf, "DiscountNode"))
		}
	}
	return map[string]any{"metafields": out, "userErrors": []any{}}, nil
}

// parseDecimal reads a decimal string in minor units.
func parseDecimal(s string, exp int) (Money, error) {
	m, err := discountfn.ParseMoney(s, exp)
	if err != nil {
		return 0, fmt.Errorf("decimal %q: %w", s, err)
	}
	return m, nil
}
