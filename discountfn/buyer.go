package discountfn

// Buyer is who is checking out, as the function input tells us, normalized: the keys under
// which purchase history and offer usage are looked up. Empty fields are unknown.
type Buyer struct {
	CustomerID string
	Email      string // NormalizeEmail
	Phone      string // NormalizePhone
}

// BuyerFromInput takes the buyer from the function input. The logged-in customer's account
// email wins over the one typed into the checkout, because history is kept by account.
func BuyerFromInput(in *Input) Buyer {
	var b Buyer
	bi := in.Cart.BuyerIdentity
	if bi == nil {
		return b
	}
	email := deref(bi.Email)
	if c := bi.Customer; c != nil {
		b.CustomerID = c.ID
		if c.Email != nil && *c.Email != "" {
			email = *c.Email
		}
	}
	b.Email = NormalizeEmail(email)
	b.Phone = NormalizePhone(deref(bi.Phone))
	return b
}

// Known reports whether the buyer can be told apart from other buyers.
func (b Buyer) Known() bool { return b.CustomerID != "" || b.Email != "" }

// IdentityKeys are the buyer's keys for limits and the block list (see IdentityKey).
func (b Buyer) IdentityKeys() []string {
	keys := make([]string, 0, 3)
	if b.CustomerID != "" {
		keys = append(keys, IdentityKey(IdentityCustomer, b.CustomerID))
	}
	if b.Email != "" {
		keys = append(keys, IdentityKey(IdentityEmail, b.Email))
	}
	if b.Phone != "" {
		keys = append(keys, IdentityKey(IdentityPhone, b.Phone))
	}
	return keys
}
