package discountfn

import (
	"slices"
	"testing"
)

func TestBuyerFromInput(t *testing.T) {
	str := func(s string) *string { return &s }
	tests := []struct {
		name string
		bi   *BuyerIdentity
		want Buyer
		keys []string
	}{
		{"no buyer identity", nil, Buyer{}, []string{}},
		{"guest with email and phone, normalized",
			&BuyerIdentity{Email: str(" Guest.Name+promo@GMAIL.com "), Phone: str("+44 (0)20 7946 0018")},
			Buyer{Email: "guestname@gmail.com", Phone: "+4402079460018"},
			[]string{"email:guestname@gmail.com", "phone:+4402079460018"}},
		{"customer: the account email wins over the typed one", &BuyerIdentity{
			Email:    str("typed@example.com"),
			Customer: &Customer{ID: "gid://shopify/Customer/9", Email: str("Account@Example.com")},
		}, Buyer{CustomerID: "gid://shopify/Customer/9", Email: "account@example.com"},
			[]string{"customer:gid://shopify/Customer/9", "email:account@example.com"}},
		{"customer without an email keeps the typed one", &BuyerIdentity{
			Email:    str("typed@example.com"),
			Customer: &Customer{ID: "gid://shopify/Customer/9"},
		}, Buyer{CustomerID: "gid://shopify/Customer/9", Email: "typed@example.com"},
			[]string{"customer:gid://shopify/Customer/9", "email:typed@example.com"}},
		{"not an email, too short a phone", &BuyerIdentity{Email: str("nobody"), Phone: str("12")}, Buyer{}, []string{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := BuyerFromInput(&Input{Cart: Cart{BuyerIdentity: tt.bi}})
			if got != tt.want {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
			if keys := got.IdentityKeys(); !slices.Equal(keys, tt.keys) {
				t.Errorf("keys %q, want %q", keys, tt.keys)
			}
			if got.Known() != (tt.want.CustomerID != "" || tt.want.Email != "") {
				t.Errorf("Known() = %v", got.Known())
			}
		})
	}
}

func TestNormalizeEmail(t *testing.T) {
	for in, want := range map[string]string{
		"Jane@Example.com":             "jane@example.com",
		"john.doe+shop@googlemail.com": "johndoe@gmail.com",
		"J.O.H.N@gmail.com":            "john@gmail.com",
		"jane.doe+x@outlook.com":       "jane.doe@outlook.com",
		"jane.doe+x@example.com":       "jane.doe+x@example.com",
		"me+tag@me.com":                "me@icloud.com",
		"+only@gmail.com":              "",
		"not-an-email":                 "",
		"a@b@c":                        "",
		"  spaced@Example.org  ":       "spaced@example.org",
		"first.last+2@protonmail.com":  "first.last@proton.me",
		"someone.special@yahoo.com":    "someone.special@yahoo.com",
	} {
		if got := NormalizeEmail(in); got != want {
			t.Errorf("NormalizeEmail(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestNormalizePhoneAndAddress(t *testing.T) {
	for in, want := range map[string]string{
		"+1 (613) 555-1111": "+16135551111",
		"0044 20 7946 0018": "+442079460018",
		"613.555.1111":      "6135551111",
		"12345":             "",
	} {
		if got := NormalizePhone(in); got != want {
			t.Errorf("NormalizePhone(%q) = %q, want %q", in, got, want)
		}
	}
	a := AddressFingerprint("12 Rue de Rivoli", "Paris", "75001", "FR")
	b := AddressFingerprint("12, rue de  RIVOLI", "PARIS", "75 001", "fr")
	if a == "" || a != b {
		t.Errorf("the same address written two ways gives %q and %q", a, b)
	}
	if c := AddressFingerprint("14 Rue de Rivoli", "Paris", "75001", "FR"); c == a {
		t.Error("different streets share a fingerprint")
	}
	if AddressFingerprint("", "Paris", "", "FR") != "" {
		t.Error("an address with neither street nor postcode must not be a key")
	}
}
