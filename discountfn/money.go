package discountfn

import (
	"errors"
	"fmt"
	"math"
	"math/bits"
	"strconv"
	"strings"
)

// Money is an amount in the minor unit of its currency (cents for USD, yen for JPY).
// Offer amounts are in the shop's currency; cart amounts are in the cart's currency.
type Money int64

// Percent is a percentage in basis points: 1250 is 12.5 %. It is written in JSON as a
// plain decimal number (12.5) and read back without ever passing through a float.
type Percent int64

// PercentWhole is 100 %.
const PercentWhole Percent = 10000

var errBadDecimal = errors.New("not a decimal number")

// CurrencyExponent is the number of decimal places of a currency's minor unit (ISO 4217).
func CurrencyExponent(code string) int {
	switch strings.ToUpper(code) {
	case "BIF", "CLP", "DJF", "GNF", "ISK", "JPY", "KMF", "KRW", "PYG", "RWF", "UGX", "UYI",
		"VND", "VUV", "XAF", "XOF", "XPF":
		return 0
	case "BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND":
		return 3
	default:
		return 2
	}
}

// ParseMoney reads a decimal string such as "3075.0" or "12.345" into minor units with the
// given exponent. Digits beyond the minor unit are rounded half up, which the platform never
// needs for prices but keeps odd inputs from failing a checkout.
func ParseMoney(s string, exponent int) (Money, error) {
	v, err := parseScaled(s, exponent)
	return Money(v), err
}

// parseScaled parses a non-negative or negative decimal string into an integer scaled by
// 10^scale, rounding half away from zero at the last kept digit.
func parseScaled(s string, scale int) (int64, error) {
	if s == "" {
		return 0, errBadDecimal
	}
	neg := false
	switch s[0] {
	case '-':
		neg = true
		s = s[1:]
	case '+':
		s = s[1:]
	}
	intPart, frac, hasDot := strings.Cut(s, ".")
	if intPart == "" && frac == "" || hasDot && frac == "" && intPart == "" {
		return 0, errBadDecimal
	}
	if !allDigits(intPart) || !allDigits(frac) {
		return 0, errBadDecimal
	}
	if len(intPart) > 15 {
		return 0, fmt.Errorf("%w: too large", errBadDecimal)
	}
	var v int64
	for _, c := range intPart {
		v = v*10 + int64(c-'0')
	}
	for i := 0; i < scale; i++ {
		v *= 10
		if i < len(frac) {
			v += int64(frac[i] - '0')
		}
	}
	if len(frac) > scale && frac[scale] >= '5' {
		v++
	}
	if neg {
		v = -v
	}
	return v, nil
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// FormatMoney writes minor units as a decimal string with exactly exponent decimals.
func FormatMoney(m Money, exponent int) string {
	return formatScaled(int64(m), exponent)
}

func formatScaled(v int64, scale int) string {
	neg := v < 0
	if neg {
		v = -v
	}
	digits := strconv.FormatInt(v, 10)
	if scale > 0 {
		if len(digits) <= scale {
			digits = strings.Repeat("0", scale-len(digits)+1) + digits
		}
		digits = digits[:len(digits)-scale] + "." + digits[len(digits)-scale:]
	}
	if neg {
		return "-" + digits
	}
	return digits
}

// MarshalJSON writes the percentage as a decimal number: 1250 -> 12.5.
func (p Percent) MarshalJSON() ([]byte, error) {
	s := formatScaled(int64(p), 2)
	s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	return []byte(s), nil
}

// UnmarshalJSON reads a number (or a numeric string) with at most two decimals.
func (p *Percent) UnmarshalJSON(b []byte) error {
	s := strings.Trim(string(b), `"`)
	if _, frac, ok := strings.Cut(s, "."); ok && len(strings.TrimRight(frac, "0")) > 2 {
		return fmt.Errorf("percentage %s has more than two decimals", s)
	}
	v, err := parseScaled(s, 2)
	if err != nil {
		return fmt.Errorf("percentage %q: %w", s, err)
	}
	*p = Percent(v)
	return nil
}

// String formats the percentage for messages: "12.5%".
func (p Percent) String() string {
	b, _ := p.MarshalJSON()
	return string(b) + "%"
}

// percentOf is the one rounding rule for percentages: the exact value of amount*p,
// rounded half up to the minor unit. Amounts and percentages are never negative here.
func percentOf(amount Money, p Percent) Money {
	if amount <= 0 || p <= 0 {
		return 0
	}
	return Money(mulDivRound(uint64(amount), uint64(p), uint64(PercentWhole)))
}

// Rate converts shop-currency amounts into cart-currency amounts: the platform's
// presentmentCurrencyRate, kept as an integer numerator over 10^rateScale.
type Rate struct {
	num      int64
	shopExp  int
	cartExp  int
	identity bool
}

const rateScale = 9

// NewRate builds a converter from the platform's decimal rate string and both currencies'
// exponents. An empty rate means 1.
func NewRate(rate string, shopExponent, cartExponent int) (Rate, error) {
	if rate == "" {
		rate = "1"
	}
	n, err := parseScaled(rate, rateScale)
	if err != nil || n <= 0 {
		return Rate{}, fmt.Errorf("presentmentCurrencyRate %q: must be a positive decimal", rate)
	}
	r := Rate{num: n, shopExp: shopExponent, cartExp: cartExponent}
	r.identity = n == pow10(rateScale) && shopExponent == cartExponent
	return r, nil
}

// Convert turns a shop-currency amount into the cart currency, rounding half up.
// Thresholds and fixed values both go through here so the two never disagree.
func (r Rate) Convert(m Money) Money {
	if r.identity || m <= 0 {
		return m
	}
	// value = m * num * 10^cartExp / (10^rateScale * 10^shopExp), in 128 bits.
	num := uint64(r.num)
	den := uint64(pow10(rateScale))
	if r.cartExp >= r.shopExp {
		num *= uint64(pow10(r.cartExp - r.shopExp))
	} else {
		den *= uint64(pow10(r.shopExp - r.cartExp))
	}
	return Money(mulDivRound(uint64(m), num, den))
}

// mulDivRound computes round(a*b/den) half up without overflowing, saturating at MaxInt64.
func mulDivRound(a, b, den uint64) int64 {
	hi, lo := bits.Mul64(a, b)
	lo, carry := bits.Add64(lo, den/2, 0)
	hi += carry
	if hi >= den {
		return math.MaxInt64
	}
	q, _ := bits.Div64(hi, lo, den)
	if q > math.MaxInt64 {
		return math.MaxInt64
	}
	return int64(q)
}

func pow10(n int) int64 {
	v := int64(1)
	for i := 0; i < n; i++ {
		v *= 10
	}
	return v
}
