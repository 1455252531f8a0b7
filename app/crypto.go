package app

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"errors"
	"fmt"
)

// Access and refresh tokens are stored encrypted: the store sees ciphertext only. Each value
// is sealed with AES-256-GCM under a random 96-bit nonce and stored as nonce||ciphertext
// (the ciphertext ends with GCM's 16-byte tag). The associated data is the shop domain and
// the field name, so a value copied to another shop's row, or from the refresh-token column
// to the access-token column, fails to open instead of being used.

// Field names bound into the associated data of each encrypted value. Frozen: changing one
// makes every stored value of that field unreadable.
const (
	fieldAccessToken  = "access_token"
	fieldRefreshToken = "refresh_token"
)

// ErrDecrypt is returned, wrapped, for a value that does not open: tampered with, moved to
// another shop or field, or sealed under another key.
var ErrDecrypt = errors.New("encrypted value does not open")

// TokenCipher encrypts secrets for storage. It is safe for concurrent use.
type TokenCipher struct {
	aead cipher.AEAD
}

// NewTokenCipher builds a cipher from a 32-byte AES-256 key (Config.TokenKey).
func NewTokenCipher(key []byte) (*TokenCipher, error) {
	if len(key) != tokenKeyBytes {
		return nil, fmt.Errorf("token cipher: key must be %d bytes, got %d", tokenKeyBytes, len(key))
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("token cipher: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("token cipher: %w", err)
	}
	return &TokenCipher{aead: aead}, nil
}

// Seal encrypts plaintext as shop's field: nonce||ciphertext.
func (c *TokenCipher) Seal(shop, field string, plaintext []byte) ([]byte, error) {
	nonce := make([]byte, c.aead.NonceSize(), c.aead.NonceSize()+len(plaintext)+c.aead.Overhead())
	if _, err := rand.Read(nonce); err != nil {
		return nil, fmt.Errorf("token cipher: nonce: %w", err)
	}
	return c.aead.Seal(nonce, nonce, plaintext, associatedData(shop, field)), nil
}

// Open decrypts what Seal returned for the same shop and field.
func (c *TokenCipher) Open(shop, field string, sealed []byte) ([]byte, error) {
	n := c.aead.NonceSize()
	if len(sealed) < n+c.aead.Overhead() {
		return nil, fmt.Errorf("%w: %s of %s is %d bytes, too short", ErrDecrypt, field, shop, len(sealed))
	}
	plain, err := c.aead.Open(nil, sealed[:n], sealed[n:], associatedData(shop, field))
	if err != nil {
		return nil, fmt.Errorf("%w: %s of %s: %w", ErrDecrypt, field, shop, err)
	}
	return plain, nil
}

// associatedData binds a value to its shop and field. The NUL separator cannot occur in
// either, so no two (shop, field) pairs give the same bytes.
func associatedData(shop, field string) []byte {
	return []byte("regulars-token\x00" + shop + "\x00" + field)
}
