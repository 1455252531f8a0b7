package webhooks

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
)

// Errors returned by Verify and Receiver.Receive; test them with errors.Is. The HTTP layer
// answers 401 to ErrUnauthorized and 400 to ErrBadRequest; any other error is the store's,
// answered with a 5xx so that the platform delivers again.
var (
	// ErrUnauthorized: the delivery's signature is missing or does not match the body.
	ErrUnauthorized = errors.New("webhook signature is missing or invalid")
	// ErrBadRequest: the delivery is signed but malformed (headers or body).
	ErrBadRequest = errors.New("malformed webhook delivery")
)

// Verify checks a delivery's X-Shopify-Hmac-Sha256 header: the base64 HMAC-SHA256 of the raw
// body under the app's client secret. It accepts the signature if any non-empty secret of
// secrets matches, so that during a rotation of the client secret (the platform may sign with
// the old one for up to an hour) both the old and the new secret are valid. Call it on the raw
// bytes, before parsing anything.
//
// Every failure is ErrUnauthorized, with the reason: no secret configured, header missing, not
// base64, not 32 bytes, or no secret matches. The comparison is constant-time (hmac.Equal).
func Verify(secrets [][]byte, signature string, body []byte) error {
	if signature == "" {
		return fmt.Errorf("%w: the signature header is missing", ErrUnauthorized)
	}
	want, err := base64.StdEncoding.DecodeString(signature)
	if err != nil {
		return fmt.Errorf("%w: the signature is not base64", ErrUnauthorized)
	}
	if len(want) != sha256.Size {
		return fmt.Errorf("%w: the signature has %d bytes, not %d", ErrUnauthorized, len(want), sha256.Size)
	}
	configured := false
	for _, secret := range secrets {
		if len(secret) == 0 {
			continue // an unset secret must never verify anything
		}
		configured = true
		mac := hmac.New(sha256.New, secret)
		mac.Write(body)
		if hmac.Equal(mac.Sum(nil), want) {
			return nil
		}
	}
	if !configured {
		return fmt.Errorf("%w: no webhook secret is configured", ErrUnauthorized)
	}
	return fmt.Errorf("%w: the signature does not match the body", ErrUnauthorized)
}

// Sign is the signature the platform sends with body: base64(HMAC-SHA256(secret, body)), as
// the X-Shopify-Hmac-Sha256 header carries it. For the local platform stand-in and tests.
func Sign(secret, body []byte) string {
	mac := hmac.New(sha256.New, secret)
	mac.Write(body)
	return base64.StdEncoding.EncodeToString(mac.Sum(nil))
}
