package discountfn

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"unicode"
)

// Identity keys recognise the same shopper behind different accounts. Limits and the block
// list count per key; order ingestion writes the same keys, so both sides must agree, which
// is why the normalizers live here, in one place.

// mailbox says how a provider treats the local part: its canonical domain, and whether it
// ignores dots and plus-tags.
func mailbox(domain string) (canonical string, ignoreDots, ignorePlus bool) {
	switch domain {
	case "gmail.com", "googlemail.com":
		return "gmail.com", true, true
	case "outlook.com", "hotmail.com", "live.com", "fastmail.com":
		return domain, false, true
	case "icloud.com", "me.com", "mac.com":
		return "icloud.com", false, true
	case "proton.me", "protonmail.com":
		return "proton.me", false, true
	default:
		return domain, false, false
	}
}

// NormalizeEmail lowercases an address and, for providers that deliver them to the same
// mailbox, drops dots and plus-tags: "John.Doe+shop@GoogleMail.com" -> "johndoe@gmail.com".
// Anything that is not an address normalizes to "".
func NormalizeEmail(email string) string {
	email = strings.ToLower(strings.TrimSpace(email))
	local, domain, ok := strings.Cut(email, "@")
	if !ok || local == "" || domain == "" || strings.Contains(domain, "@") {
		return ""
	}
	domain, ignoreDots, ignorePlus := mailbox(domain)
	if ignorePlus {
		local, _, _ = strings.Cut(local, "+")
	}
	if ignoreDots {
		local = strings.ReplaceAll(local, ".", "")
	}
	if local == "" {
		return ""
	}
	return local + "@" + domain
}

// NormalizePhone keeps the digits of a phone number, with a leading + when it had one:
// "+1 (613) 555-1111" -> "+16135551111". Fewer than 6 digits normalizes to "".
func NormalizePhone(phone string) string {
	phone = strings.TrimSpace(phone)
	var b strings.Builder
	if strings.HasPrefix(phone, "+") {
		b.WriteByte('+')
	} else if strings.HasPrefix(phone, "00") {
		b.WriteByte('+')
		phone = phone[2:]
	}
	digits := 0
	for _, r := range phone {
		if r >= '0' && r <= '9' {
			b.WriteRune(r)
			digits++
		}
	}
	if digits < 6 {
		return ""
	}
	return b.String()
}

// AddressFingerprint is a stable, non-reversible key for a delivery address: letters and
// digits only, lowercased, hashed. An address with no street and no postcode gives "".
func AddressFingerprint(address1, city, zip, country string) string {
	clean := func(s string) string {
		var b strings.Builder
		for _, r := range strings.ToLower(s) {
			if unicode.IsLetter(r) || unicode.IsDigit(r) {
				b.WriteRune(r)
			}
		}
		return b.String()
	}
	street, postcode := clean(address1), clean(zip)
	if street == "" && postcode == "" {
		return ""
	}
	sum := sha256.Sum256([]byte(street + "|" + clean(city) + "|" + postcode + "|" + clean(country)))
	return hex.EncodeToString(sum[:16])
}

// IdentityKey is how usage and the block list name an identity: "email:jo@gmail.com".
func IdentityKey(kind IdentityKind, value string) string {
	return string(kind) + ":" + value
}
