package standin

import (
	"bytes"
	"html/template"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/regularsapp/regulars/discountfn"
)

func templateFuncs() template.FuncMap {
	return template.FuncMap{
		"money": func(m Money) string { return discountfn.FormatMoney(m, 2) },
		"neg":   func(m Money) Money { return -m },
		"date":  func(t time.Time) string { return t.UTC().Format("2006-01-02 15:04") },
		"join":  strings.Join,
		"add":   func(a, b int) int { return a + b },
	}
}

func (s *Server) render(w http.ResponseWriter, status int, name string, data map[string]any) {
	var buf bytes.Buffer
	if err := s.pages.ExecuteTemplate(&buf, name, data); err != nil {
		s.log.Error("render", "template", name, "err", err)
		http.Error(w, "rendering the page failed", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

func (s *Server) renderError(w http.ResponseWriter, status int, msg string) {
	s.render(w, status, "error.html", map[string]any{"Title": http.StatusText(status), "Message": msg})
}

func (s *Server) handleIndex(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	var shops []map[string]any
	for _, sh := range s.w.shops {
		shops = append(shops, map[string]any{
			"Domain": sh.Domain, "Name": sh.Name, "Installed": sh.Install != nil, "Products": len(sh.Products),
			"Customers": len(sh.Customers), "Orders": len(sh.Orders), "Discounts": len(sh.Discounts),
		})
	}
	s.mu.Unlock()
	s.render(w, http.StatusOK, "index.html", map[string]any{
		"Title": "Platform stand-in", "Shops": shops, "AppURL": s.cfg.AppURL, "ClientID": s.cfg.ClientID,
	})
}

func (s *Server) handleAppBridge(w http.ResponseWriter, _ *http.Request) {
	b, err := assets.ReadFile("static/app-bridge.js")
	if err != nil {
		http.Error(w, "missing", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/javascript; charset=utf-8")
	w.Header().Set("Cache-Control", "no-cache")
	_, _ = w.Write(b)
}

// shopOr404 looks the shop up; the caller holds s.mu.
func (s *Server) shopOr404(w http.ResponseWriter, r *http.Request) *shop {
	sh := s.lookupShop(r.PathValue("shop"))
	if sh == nil {
		s.renderError(w, http.StatusNotFound, "There is no shop "+r.PathValue("shop")+".")
	}
	return sh
}

func (s *Server) handleAdminHome(w http.ResponseWriter, r *http.Request) {
	http.Redirect(w, r, "/shops/"+r.PathValue("shop")+"/admin/apps/regulars", http.StatusFound)
}

// handleAdminApp is the admin chrome with the app embedded.
func (s *Server) handleAdminApp(w http.ResponseWriter, r *http.Request) {
	now := s.now()
	s.mu.Lock()
	sh := s.shopOr404(w, r)
	if sh == nil {
		s.mu.Unlock()
		return
	}
	installed := sh.Install != nil
	var scopes []string
	if installed {
		scopes = sh.Install.Scopes
	}
	deliveries := make([]deliveryLog, 0, len(sh.Deliveries))
	for i := len(sh.Deliveries) - 1; i >= 0 && len(deliveries) < 20; i-- {
		deliveries = append(deliveries, *sh.Deliveries[i])
	}
	subs := make([]webhookSub, 0, len(sh.Subs))
	for _, sub := range sh.Subs {
		subs = append(subs, *sub)
	}
	domain := sh.Domain
	s.mu.Unlock()

	data := map[string]any{
		"Title": "Regulars · " + domain, "Shop": domain, "ShopName": shopName(domain), "Installed": installed,
		"Scopes": scopes, "Deliveries": deliveries, "Subs": subs, "AppURL": s.cfg.AppURL,
		"InstallURL": s.cfg.AppURL + "/auth?shop=" + url.QueryEscape(domain),
	}
	if installed {
		token, err := MintIDToken([]byte(s.cfg.ClientSecret), s.cfg.ClientID, domain, now)
		if err != nil {
			s.renderError(w, http.StatusInternalServerError, err.Error())
			return
		}
		q := url.Values{}
		q.Set("embedded", "1")
		q.Set("host", hostParam(domain))
		q.Set("id_token", token)
		q.Set("locale", "en")
		q.Set("shop", domain)
		q.Set("timestamp", strconv.FormatInt(now.Unix(), 10))
		q.Set("hmac", SignQuery([]byte(s.cfg.ClientSecret), q))
		path := "/app"
		if p := r.PathValue("path"); p != "" {
			path += "/" + strings.TrimPrefix(p, "/")
		}
		data["FrameURL"] = s.cfg.AppURL + path + "?" + strings.ReplaceAll(q.Encode(), "+", "%20")
		data["AppOrigin"] = origin(s.cfg.AppURL)
	}
	w.Header().Set("X-Frame-Options", "DENY")
	s.render(w, http.StatusOK, "admin.html", data)
}

func origin(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return ""
	}
	return u.Scheme + "://" + u.Host
}

// handleIDToken mints a fresh ID token for the embedded app (the admin page asks on behalf of
// the app's window.shopify.idToken()).
func (s *Server) handleIDToken(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	sh := s.lookupShop(r.PathValue("shop"))
	installed := sh != nil && sh.Install != nil
	s.mu.Unlock()
	if !installed {
		writeJSON(w, http.StatusConflict, map[string]string{"error": "the app is not installed"})
		return
	}
	token, err := MintIDToken([]byte(s.cfg.ClientSecret), s.cfg.ClientID, r.PathValue("shop"), s.now())
	if err != nil {
		writeJSON(w, http.StatusInternalServerError, map[string]string{"error": err.Error()})
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, map[string]string{"token": token})
}

// handleUninstall uninstalls the app: app/uninstalled goes to the app's subscription, then the
// tokens, subscriptions and the app's discounts are removed.
func (s *Server) handleUninstall(w http.ResponseWriter, r *http.Request) {
	now := s.now()
	s.mu.Lock()
	sh := s.shopOr404(w, r)
	if sh == nil {
		s.mu.Unlock()
		return
	}
	s.uninstall(sh, now)
	s.mu.Unlock()
	http.Redirect(w, r, "/shops/"+sh.Domain+"/admin/apps/regulars", http.StatusSeeOther)
}

// uninstall removes the app from sh. The caller holds s.mu.
func (s *Server) uninstall(sh *shop, now time.Time) {
	if sh.Install == nil {
		return
	}
	s.emitJSON(sh, "app/uninstalled", restShop(sh), now)
	sh.Install = nil
	clear(sh.AccessTokens)
	clear(sh.RefreshTokens)
	clear(sh.AuthCodes)
	sh.Subs = nil
	sh.Discounts = nil
	sh.PaymentCustomizations = nil
	sh.RedeemBulks = nil
	sh.BulkOps = nil
	s.log.Info("app uninstalled", "shop", sh.Domain)
}

// --- Orders and customers -------------------------------------------------------------------

func (s *Server) handleAdminOrders(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	sh := s.shopOr404(w, r)
	if sh == nil {
		s.mu.Unlock()
		return
	}
	type row struct {
		ID                            int64
		Name, Customer, Status, Codes string
		Created                       time.Time
		Total, Refunded               Money
		Cancelled, Refundable         bool
	}
	var rows []row
	for i := len(sh.Orders) - 1; i >= 0 && len(rows) < 60; i-- {
		o := sh.Orders[i]
		who := o.Email
		if cu := sh.customer(o.CustomerID); cu != nil {
			who = cu.name()
		}
		var codes []string
		for _, a := range o.Applications {
			codes = append(codes, firstNonEmpty(a.Code, a.Title))
		}
		rows = append(rows, row{
			ID: o.ID, Name: o.name(), Customer: who, Status: o.FinancialStatus, Created: o.CreatedAt,
			Total: o.total(), Refunded: o.refunded(), Cancelled: o.CancelledAt != nil, Codes: strings.Join(codes, ", "),
			Refundable: o.CancelledAt == nil && o.refunded() < o.total() && o.FinancialStatus != "pending",
		})
	}
	domain, total := sh.Domain, len(sh.Orders)
	s.mu.Unlock()
	s.render(w, http.StatusOK, "orders.html", map[string]any{
		"Title": "Orders · " + domain, "Shop": domain, "Orders": rows, "Count": total, "Flash": r.URL.Query().Get("flash"),
	})
}

func (s *Server) orderFromPath(w http.ResponseWriter, r *http.Request) (*shop, *order) {
	sh := s.shopOr404(w, r)
	if sh == nil {
		return nil, nil
	}
	id, _ := strconv.ParseInt(r.PathValue("id"), 10, 64)
	o := sh.order(id)
	if o == nil {
		s.renderError(w, http.StatusNotFound, "There is no such order.")
	}
	return sh, o
}

func (s *Server) handleOrderCancel(w http.ResponseWriter, r *http.Request) {
	s.orderAction(w, r, s.cancelOrder, "cancelled")
}

// orderAction applies act to the order named by the path, under s.mu, and goes back to the
// orders page saying what was done.
func (s *Server) orderAction(w http.ResponseWriter, r *http.Request, act func(*shop, *order, time.Time), done string) {
	now := s.now()
	s.mu.Lock()
	sh, o := s.orderFromPath(w, r)
	if o == nil {
		s.mu.Unlock()
		return
	}
	act(sh, o, now)
	s.mu.Unlock()
	http.Redirect(w, r, "/shops/"+sh.Domain+"/admin/orders?flash="+url.QueryEscape(o.name()+" "+done), http.StatusSeeOther)
}

// cancelOrder cancels o (refunding it when it was paid). The caller holds s.mu.
func (s *Server) cancelOrder(sh *shop, o *order, now time.Time) {
	if o.CancelledAt != nil {
		return
	}
	t := now
	o.CancelledAt, o.CancelReason, o.UpdatedAt = &t, "customer", now
	if o.FinancialStatus == "paid" || o.FinancialStatus == "partially_refunded" {
		r := fullRefund(&s.w, o, now, "Order cancelled")
		o.Refunds = append(o.Refunds, r)
		o.FinancialStatus = "refunded"
		s.emitRefund(sh, o, r, now)
	} else {
		o.FinancialStatus = "voided"
	}
	s.emitOrder(sh, "orders/cancelled", o, now)
	s.emitOrder(sh, "orders/updated", o, now)
}

func (s *Server) handleOrderRefund(w http.ResponseWriter, r *http.Request) {
	s.orderAction(w, r, s.refundOrder, "refunded")
}

// refundOrder refunds what is left of o. The caller holds s.mu.
func (s *Server) refundOrder(sh *shop, o *order, now time.Time) {
	if o.CancelledAt != nil || o.refunded() >= o.total() {
		return
	}
	r := fullRefund(&s.w, o, now, "Refunded from the admin")
	o.Refunds = append(o.Refunds, r)
	o.FinancialStatus = "refunded"
	o.UpdatedAt = now
	s.emitRefund(sh, o, r, now)
	s.emitOrder(sh, "orders/updated", o, now)
}

func (s *Server) handleAdminCustomers(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	sh := s.shopOr404(w, r)
	if sh == nil {
		s.mu.Unlock()
		return
	}
	type row struct {
		ID                               int64
		Name, Email, City, Tags, Country string
		Orders                           int
		Spent                            Money
	}
	var rows []row
	for _, cu := range sh.Customers {
		n, spent := sh.customerStats(cu.ID)
		rows = append(rows, row{
			ID: cu.ID, Name: cu.name(), Email: cu.Email, City: cu.Address.City, Country: cu.Address.CountryCode,
			Tags: strings.Join(cu.Tags, ", "), Orders: n, Spent: spent,
		})
	}
	domain := sh.Domain
	s.mu.Unlock()
	s.render(w, http.StatusOK, "customers.html", map[string]any{
		"Title": "Customers · " + domain, "Shop": domain, "Customers": rows, "Flash": r.URL.Query().Get("flash"),
	})
}

// handleCustomerTags replaces a customer's tags and sends customers/update.
func (s *Server) handleCustomerTags(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		http.Error(w, "bad form", http.StatusBadRequest)
		return
	}
	now := s.now()
	s.mu.Lock()
	sh := s.shopOr404(w, r)
	if sh == nil {
		s.mu.Unlock()
		return
	}
	id, _ := strconv.ParseInt(r.PathValue("id"), 10, 64)
	cu := sh.customer(id)
	if cu == nil {
		s.mu.Unlock()
		s.renderError(w, http.StatusNotFound, "There is no such customer.")
		return
	}
	var tags []string
	for _, t := range strings.Split(r.Form.Get("tags"), ",") {
		if t = strings.TrimSpace(t); t != "" && !slices.Contains(tags, t) {
			tags = append(tags, t)
		}
	}
	cu.Tags, cu.UpdatedAt = tags, now
	s.emitCustomer(sh, cu, now)
	name := cu.name()
	s.mu.Unlock()
	http.Redirect(w, r, "/shops/"+sh.Domain+"/admin/customers?flash="+url.QueryEscape(name+": tags saved"), http.StatusSeeOther)
}
