package webhooks

import (
	"time"

	"github.com/regularsapp/regulars/discountfn"
	"github.com/regularsapp/regulars/store"
)

// The JSON document a customers/data_request produces: everything the app holds about the
// customer, in plain field names, with money as decimal strings in the named currency.

type exportDocument struct {
	Shop            string             `json:"shop"`
	RequestID       string             `json:"request_id"`
	GeneratedAt     time.Time          `json:"generated_at"`
	CustomerID      string             `json:"customer_id"`
	OrdersRequested []string           `json:"orders_requested,omitempty"`
	Customer        *exportCustomer    `json:"customer"`
	Orders          []exportOrder      `json:"orders"`
	Redemptions     []exportRedemption `json:"redemptions"`
}

type exportCustomer struct {
	ID        string    `json:"id"`
	Email     string    `json:"email,omitempty"`
	Phone     string    `json:"phone,omitempty"`
	Tags      []string  `json:"tags,omitempty"`
	UpdatedAt time.Time `json:"updated_at"`
}

type exportOrder struct {
	ID                  string         `json:"id"`
	Email               string         `json:"email,omitempty"`
	Phone               string         `json:"phone,omitempty"`
	BrowserIP           string         `json:"browser_ip,omitempty"`
	PlacedAt            time.Time      `json:"placed_at"`
	Currency            string         `json:"currency"`
	PresentmentCurrency string         `json:"presentment_currency,omitempty"`
	Subtotal            string         `json:"subtotal"`
	Total               string         `json:"total"`
	TotalDiscounts      string         `json:"total_discounts"`
	FinancialStatus     string         `json:"financial_status,omitempty"`
	CancelledAt         *time.Time     `json:"cancelled_at,omitempty"`
	Gateways            []string       `json:"payment_gateways,omitempty"`
	ShippingCity        string         `json:"shipping_city,omitempty"`
	ShippingZip         string         `json:"shipping_zip,omitempty"`
	ShippingCountry     string         `json:"shipping_country,omitempty"`
	DeliveryMethod      string         `json:"delivery_method,omitempty"`
	Codes               []string       `json:"discount_codes,omitempty"`
	Lines               []exportLine   `json:"line_items,omitempty"`
	Refunds             []exportRefund `json:"refunds,omitempty"`
}

type exportLine struct {
	ProductID string `json:"product_id,omitempty"`
	VariantID string `json:"variant_id,omitempty"`
	Quantity  int    `json:"quantity"`
	Price     string `json:"price"`
}

type exportRefund struct {
	ID        string    `json:"id"`
	Amount    string    `json:"amount"`
	CreatedAt time.Time `json:"created_at"`
}

type exportRedemption struct {
	OrderID  string    `json:"order_id"`
	OfferID  string    `json:"offer_id"`
	Code     string    `json:"code,omitempty"`
	Amount   string    `json:"amount"`
	Currency string    `json:"currency,omitempty"`
	PlacedAt time.Time `json:"placed_at"`
	Released bool      `json:"released,omitempty"`
}

// exportCustomerData builds the document. shopCurrency ("" when unknown) is the currency of
// ledger amounts; an order's own currency is used for its amounts.
func exportCustomerData(shop, requestID, shopCurrency string, now time.Time, req CustomersDataRequest, data store.CustomerData) exportDocument {
	doc := exportDocument{
		Shop:            shop,
		RequestID:       requestID,
		GeneratedAt:     now.UTC(),
		CustomerID:      req.Customer.ID,
		OrdersRequested: req.OrderIDs,
		Orders:          []exportOrder{},
		Redemptions:     []exportRedemption{},
	}
	if c := data.Customer; c != nil {
		doc.Customer = &exportCustomer{ID: c.ID, Email: c.Email, Phone: c.Phone, Tags: c.Tags, UpdatedAt: c.UpdatedAt}
	}
	orderCurrency := map[string]string{}
	for _, o := range data.Orders {
		exp := discountfn.CurrencyExponent(o.Currency)
		orderCurrency[o.ID] = o.Currency
		eo := exportOrder{
			ID:                  o.ID,
			Email:               o.Email,
			Phone:               o.Phone,
			BrowserIP:           o.BrowserIP,
			PlacedAt:            o.PlacedAt,
			Currency:            o.Currency,
			PresentmentCurrency: o.PresentmentCurrency,
			Subtotal:            discountfn.FormatMoney(o.Subtotal, exp),
			Total:               discountfn.FormatMoney(o.Total, exp),
			TotalDiscounts:      discountfn.FormatMoney(o.TotalDiscounts, exp),
			FinancialStatus:     o.FinancialStatus,
			CancelledAt:         o.CancelledAt,
			Gateways:            o.Gateways,
			ShippingCity:        o.ShippingCity,
			ShippingZip:         o.ShippingZip,
			ShippingCountry:     o.ShippingCountry,
			DeliveryMethod:      o.DeliveryMethod,
			Codes:               o.Codes,
		}
		for _, l := range o.Lines {
			eo.Lines = append(eo.Lines, exportLine{ProductID: l.ProductID, VariantID: l.VariantID, Quantity: l.Quantity, Price: discountfn.FormatMoney(l.Price, exp)})
		}
		for _, r := range o.Refunds {
			eo.Refunds = append(eo.Refunds, exportRefund{ID: r.ID, Amount: discountfn.FormatMoney(r.Amount, exp), CreatedAt: r.CreatedAt})
		}
		doc.Orders = append(doc.Orders, eo)
	}
	for _, r := range data.Redemptions {
		currency := shopCurrency
		if currency == "" {
			currency = orderCurrency[r.OrderID]
		}
		doc.Redemptions = append(doc.Redemptions, exportRedemption{
			OrderID:  r.OrderID,
			OfferID:  r.OfferID,
			Code:     r.Code,
			Amount:   discountfn.FormatMoney(r.Amount, discountfn.CurrencyExponent(currency)),
			Currency: currency,
			PlacedAt: r.PlacedAt,
			Released: r.Released,
		})
	}
	return doc
}
