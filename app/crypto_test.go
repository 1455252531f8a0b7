package app

import (
	"bytes"
	"errors"
	"testing"
)

func mustCipher(t *testing.T, key string) *TokenCipher {
	t.Helper()
	c, err := NewTokenCipher([]byte(key))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestTokenCipher(t *testing.T) {
	c := mustCipher(t, DevTokenKey)
	secret := []byte("shpat_0123456789abcdef")

	sealed, err := c.Seal(shopA, fieldAccessToken, secret)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(sealed, secret) {
		t.Fatal("ciphertext contains the plaintext")
	}

	t.Run("round trip", func(t *testing.T) {
		got, err := c.Open(shopA, fieldAccessToken, sealed)
		if err != nil || !bytes.Equal(got, secret) {
			t.Fatalf("Open = %q, %v; want %q", got, err, secret)
		}
	})
	t.Run("empty value round trips", func(t *testing.T) {
		s, err := c.Seal(shopA, fieldRefreshToken, nil)
		if err != nil {
			t.Fatal(err)
		}
		if got, err := c.Open(shopA, fieldRefreshToken, s); err != nil || len(got) != 0 {
			t.Fatalf("Open = %q, %v; want empty", got, err)
		}
	})
	t.Run("random nonce per value", func(t *testing.T) {
		again, err := c.Seal(shopA, fieldAccessToken, secret)
		if err != nil {
			t.Fatal(err)
		}
		if bytes.Equal(again, sealed) {
			t.Fatal("sealing the same value twice gave the same bytes")
		}
	})

	refused := []struct {
		name   string
		cipher *TokenCipher
		shop   string
		field  string
		sealed func() []byte
	}{
		{"tampered ciphertext", c, shopA, fieldAccessToken, func() []byte {
			b := bytes.Clone(sealed)
			b[len(b)-20] ^= 0x01
			return b
		}},
		{"tampered nonce", c, shopA, fieldAccessToken, func() []byte {
			b := bytes.Clone(sealed)
			b[0] ^= 0x80
			return b
		}},
		{"tampered tag", c, shopA, fieldAccessToken, func() []byte {
			b := bytes.Clone(sealed)
			b[len(b)-1] ^= 0x01
			return b
		}},
		{"truncated", c, shopA, fieldAccessToken, func() []byte { return sealed[:10] }},
		{"empty", c, shopA, fieldAccessToken, func() []byte { return nil }},
		{"another shop (wrong associated data)", c, shopB, fieldAccessToken, func() []byte { return sealed }},
		{"another field (wrong associated data)", c, shopA, fieldRefreshToken, func() []byte { return sealed }},
		{"wrong key", mustCipher(t, "another-key-of-exactly-32-bytes!"), shopA, fieldAccessToken, func() []byte { return sealed }},
	}
	for _, tt := range refused {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.cipher.Open(tt.shop, tt.field, tt.sealed())
			if !errors.Is(err, ErrDecrypt) {
				t.Fatalf("Open = %q, %v; want ErrDecrypt", got, err)
			}
		})
	}
}

func TestNewTokenCipherKeyLength(t *testing.T) {
	for _, n := range []int{0, 16, 24, 31, 33} {
		if _, err := NewTokenCipher(make([]byte, n)); err == nil {
			t.Errorf("NewTokenCipher accepted a %d-byte key", n)
		}
	}
}
