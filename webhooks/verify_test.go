package webhooks

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"testing"
)

// sign is the platform's signature of body under secret, computed here independently of
// Sign and Verify.
func sign(secret, body []byte) string {
	mac := hmac.New(sha256.New, secret)
	mac.Write(body)
	return base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

func TestSignKnownVectors(t *testing.T) {
	// Computed once, with another HMAC implementation, and written down.
	tests := []struct {
		secret, body, want string
	}{
		// The platform reference's vector.
		{"hush", `{"shop_id":954889,"shop_domain":"some-shop.myshopify.com"}`, "Tr2c7Me17fTQwz4kN7AGPjEn0lRCShuYgLnmDSgxA4k="},
		{"regulars-test-secret", `{"id":1}`, "BJfMcjzeY44IumaC5QSdjsLz5MWp0Y645jrMmeS4f/4="},
		{"regulars-test-secret", ``, "zOXzc+ZL0273dHhSw7wJEKO58H/q5T63XP8gPtz2jeU="},
	}
	for _, tt := range tests {
		if got := sign([]byte(tt.secret), []byte(tt.body)); got != tt.want {
			t.Errorf("sign(%q, %q) = %s, want %s", tt.secret, tt.body, got, tt.want)
		}
		if got := Sign([]byte(tt.secret), []byte(tt.body)); got != tt.want {
			t.Errorf("Sign(%q, %q) = %s, want %s", tt.secret, tt.body, got, tt.want)
		}
		if err := Verify([][]byte{[]byte(tt.secret)}, tt.want, []byte(tt.body)); err != nil {
			t.Errorf("Verify(%q, %s, %q) = %v, want nil", tt.secret, tt.want, tt.body, err)
		}
	}
}

func TestVerify(t *testing.T) {
	secret := []byte("regulars-test-secret")
	old := []byte("regulars-old-secret")
	body := []byte(`{"id":820982911946154508,"total_price":"10.00"}`)
	good := sign(secret, body)
	oldSig := sign(old, body)
	tampered := []byte(`{"id":820982911946154508,"total_price":"99.00"}`)
	short := base64.StdEncoding.EncodeToString([]byte("sixteen bytes..."))
	long := base64.StdEncoding.EncodeToString(make([]byte, 33))

	tests := []struct {
		name      string
		secrets   [][]byte
		signature string
		body      []byte
		ok        bool
	}{
		{"valid", [][]byte{secret}, good, body, true},
		{"rotation: signed with the new secret", [][]byte{secret, old}, good, body, true},
		{"rotation: signed with the old secret", [][]byte{secret, old}, oldSig, body, true},
		{"an empty secret is skipped", [][]byte{nil, {}, secret}, good, body, true},
		{"empty body, signed", [][]byte{secret}, sign(secret, nil), nil, true},
		{"wrong secret", [][]byte{[]byte("another")}, good, body, false},
		{"old secret no longer configured", [][]byte{secret}, oldSig, body, false},
		{"missing header", [][]byte{secret}, "", body, false},
		{"not base64", [][]byte{secret}, "not base64!!", body, false},
		{"hex instead of base64", [][]byte{secret}, "4a6f", body, false},
		{"too short", [][]byte{secret}, short, body, false},
		{"too long", [][]byte{secret}, long, body, false},
		{"tampered body", [][]byte{secret}, good, tampered, false},
		{"empty body, signature of another body", [][]byte{secret}, good, nil, false},
		{"no secrets", nil, good, body, false},
		{"only empty secrets", [][]byte{nil, {}}, sign(nil, body), body, false},
		{"everything empty", nil, "", nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := Verify(tt.secrets, tt.signature, tt.body)
			if tt.ok {
				if err != nil {
					t.Fatalf("Verify = %v, want nil", err)
				}
				return
			}
			if !errors.Is(err, ErrUnauthorized) {
				t.Fatalf("Verify = %v, want ErrUnauthorized", err)
			}
		})
	}
}
