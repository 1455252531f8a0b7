package graphql

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
)

// The platform's custom scalars, as genqlient.yaml binds them. The string-valued ones arrive
// as JSON strings and are kept as text: amounts (Decimal, Money) are never floats, and are
// converted to minor units where they are used.
type (
	// Decimal is a decimal number sent as a string: "12.50".
	Decimal string
	// Money is an amount sent as a string (a legacy scalar; MoneyV2 carries Decimal).
	Money string
	// UnsignedInt64 is a 64-bit count sent as a string.
	UnsignedInt64 string
	// URL is an absolute URL.
	URL string
	// FormattedString is text with inline formatting.
	FormattedString string
	// HTML is an HTML fragment.
	HTML string
	// ARN is an Amazon resource name.
	ARN string
	// Color is a hexadecimal color: "#6A8D48".
	Color string
	// Date is an ISO 8601 date: "2025-10-01".
	Date string
	// StorefrontID is an id of the Storefront API.
	StorefrontID string
	// UtcOffset is a UTC offset: "+02:00".
	UtcOffset string
)

// JSON is an arbitrary JSON value, kept as its raw text.
type JSON json.RawMessage

// MarshalJSON writes the raw value (null when empty).
func (j JSON) MarshalJSON() ([]byte, error) {
	if len(j) == 0 {
		return []byte("null"), nil
	}
	return json.RawMessage(j).MarshalJSON()
}

// UnmarshalJSON keeps a copy of the raw value.
func (j *JSON) UnmarshalJSON(b []byte) error {
	*j = append((*j)[:0], b...)
	return nil
}

// BigInt is an arbitrary-precision integer. The platform sends it as a string; a JSON number
// is accepted too. It is kept as its decimal text.
type BigInt string

// UnmarshalJSON reads a JSON string or number.
func (b *BigInt) UnmarshalJSON(data []byte) error {
	data = bytes.TrimSpace(data)
	if string(data) == "null" {
		*b = ""
		return nil
	}
	if len(data) > 0 && data[0] == '"' {
		var s string
		if err := json.Unmarshal(data, &s); err != nil {
			return fmt.Errorf("BigInt: %w", err)
		}
		*b = BigInt(s)
		return nil
	}
	if _, err := strconv.ParseFloat(string(data), 64); err != nil {
		return fmt.Errorf("BigInt: %s is not a number", data)
	}
	*b = BigInt(data)
	return nil
}
