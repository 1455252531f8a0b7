package discountfn

import "encoding/json"

// Input is the part of the Discount Function input (schema 2025-04, type Input) that the
// engine reads. The extension's input query (extension/src/*.graphql) asks for exactly these
// fields; aliases there keep the JSON names below.
type Input struct {
	Cart                    Cart     `json:"cart"`
	Discount                Discount `json:"discount"`
	EnteredDiscountCodes    []string `json:"enteredDiscountCodes"`
	TriggeringDiscountCode  *string  `json:"triggeringDiscountCode,omitempty"`
	PresentmentCurrencyRate string   `json:"presentmentCurrencyRate"`
	Shop                    *Shop    `json:"shop,omitempty"`
}

// Cart is the function input's cart.
type Cart struct {
	Lines          []CartLine          `json:"lines"`
	Cost           *CartCost           `json:"cost,omitempty"`
	BuyerIdentity  *BuyerIdentity      `json:"buyerIdentity,omitempty"`
	DeliveryGroups []CartDeliveryGroup `json:"deliveryGroups"`
}

// CartCost carries the cart's currency.
type CartCost struct {
	SubtotalAmount MoneyV2 `json:"subtotalAmount"`
}

// MoneyV2 is a decimal amount with its currency.
type MoneyV2 struct {
	Amount       string `json:"amount"`
	CurrencyCode string `json:"currencyCode"`
}

// CartLine is one line of the cart.
type CartLine struct {
	ID                    string           `json:"id"`
	Quantity              int              `json:"quantity"`
	Cost                  CartLineCost     `json:"cost"`
	Merchandise           Merchandise      `json:"merchandise"`
	SellingPlanAllocation *json.RawMessage `json:"sellingPlanAllocation,omitempty"`
}

// CartLineCost is the price of a line.
type CartLineCost struct {
	AmountPerQuantity MoneyV2 `json:"amountPerQuantity"`
	SubtotalAmount    MoneyV2 `json:"subtotalAmount"`
}

// Merchandise is a ProductVariant (or a CustomProduct, which has no product).
type Merchandise struct {
	Typename string   `json:"__typename,omitempty"`
	ID       string   `json:"id,omitempty"`
	Product  *Product `json:"product,omitempty"`
}

// Product is the variant's product, with the collection and tag answers the input query asked
// for (the ids and tags come from the query's variables, i.e. from every offer of the shop).
type Product struct {
	ID            string                 `json:"id"`
	IsGiftCard    bool                   `json:"isGiftCard"`
	InCollections []CollectionMembership `json:"inCollections,omitempty"`
}

// CollectionMembership answers "is the product in this collection".
type CollectionMembership struct {
	CollectionID string `json:"collectionId"`
	IsMember     bool   `json:"isMember"`
}

// BuyerIdentity is who is checking out.
type BuyerIdentity struct {
	Customer        *Customer `json:"customer,omitempty"`
	Email           *string   `json:"email,omitempty"`
	Phone           *string   `json:"phone,omitempty"`
	IsAuthenticated bool      `json:"isAuthenticated"`
}

// Customer is the logged-in customer.
type Customer struct {
	ID             string           `json:"id"`
	Email          *string          `json:"email,omitempty"`
	NumberOfOrders int              `json:"numberOfOrders"`
	AmountSpent    *MoneyV2         `json:"amountSpent,omitempty"`
	HasTags        []HasTagResponse `json:"hasTags,omitempty"`
}

// HasTagResponse answers "does the customer have this tag".
type HasTagResponse struct {
	Tag    string `json:"tag"`
	HasTag bool   `json:"hasTag"`
}

// CartDeliveryGroup is a group of lines shipped together.
type CartDeliveryGroup struct {
	ID                     string               `json:"id"`
	DeliveryAddress        *MailingAddress      `json:"deliveryAddress,omitempty"`
	DeliveryOptions        []CartDeliveryOption `json:"deliveryOptions"`
	SelectedDeliveryOption *CartDeliveryOption  `json:"selectedDeliveryOption,omitempty"`
}

// MailingAddress is the delivery address.
type MailingAddress struct {
	Address1     *string `json:"address1,omitempty"`
	City         *string `json:"city,omitempty"`
	CountryCode  *string `json:"countryCode,omitempty"`
	ProvinceCode *string `json:"provinceCode,omitempty"`
	Zip          *string `json:"zip,omitempty"`
}

// CartDeliveryOption is one way of delivering a group.
type CartDeliveryOption struct {
	Handle             string  `json:"handle"`
	Title              *string `json:"title,omitempty"`
	Code               *string `json:"code,omitempty"`
	Cost               MoneyV2 `json:"cost"`
	DeliveryMethodType string  `json:"deliveryMethodType"`
}

// Discount is the platform discount that called us, with its configuration metafield.
type Discount struct {
	DiscountClasses []DiscountClass `json:"discountClasses"`
	Metafield       *Metafield      `json:"metafield,omitempty"`
}

// Metafield is the discount's configuration metafield.
type Metafield struct {
	Value     string          `json:"value,omitempty"`
	JSONValue json.RawMessage `json:"jsonValue,omitempty"`
}

// Shop is the shop the function runs in.
type Shop struct {
	LocalTime *LocalTime `json:"localTime,omitempty"`
}

// LocalTime is the shop's local date.
type LocalTime struct {
	Date string `json:"date"`
}

// DiscountConfig is the versioned JSON in the discount's configuration metafield: which of
// our offers this platform discount is, where and with what token the fetch target reaches our
// endpoint, and the input query's variables (every collection and customer tag the shop's offers
// name, so the platform answers membership for each).
type DiscountConfig struct {
	Version       int      `json:"version"`
	OfferID       string   `json:"offer_id"`
	Token         string   `json:"token,omitempty"`
	Endpoint      string   `json:"endpoint,omitempty"`
	CollectionIDs []string `json:"collectionIds"`
	CustomerTags  []string `json:"customerTags"`
}
