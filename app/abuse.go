package app

import (
	"fmt"
	"net/http"
	"net/netip"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/regularsapp/regulars/discountfn"
	"github.com/regularsapp/regulars/store"
)

// The merchant's abuse view (PRODUCT.md G): the block list, and identities shared by several
// accounts. Identities are given as a kind and a value and normalized here with the engine's
// normalizers, so a block matches what checkout and order ingestion compute.

const (
	defaultSharedMin = 3
	maxSharedMin     = 1000
	maxBlockReason   = 500
)

// addressFingerprintPattern is what discountfn.AddressFingerprint returns.
var addressFingerprintPattern = regexp.MustCompile(`^[0-9a-f]{32}$`)

// identityInput names an identity: a kind and its value as the merchant typed it; for an
// address either the fingerprint (from the shared view) as value, or the address fields.
type identityInput struct {
	Kind     discountfn.IdentityKind `json:"kind"`
	Value    string                  `json:"value"`
	Address1 string                  `json:"address1,omitempty"`
	City     string                  `json:"city,omitempty"`
	Zip      string                  `json:"zip,omitempty"`
	Country  string                  `json:"country,omitempty"`
}

// identityKey normalizes the identity into its discountfn.IdentityKey, or fails with a 422
// naming the field.
func (in identityInput) identityKey() (string, error) {
	value := strings.TrimSpace(in.Value)
	var norm string
	switch in.Kind {
	case discountfn.IdentityEmail:
		norm = discountfn.NormalizeEmail(value)
	case discountfn.IdentityPhone:
		norm = discountfn.NormalizePhone(value)
	case discountfn.IdentityCustomer:
		switch {
		case isDecimal(value):
			norm = customerGIDPrefix + value
		case strings.HasPrefix(value, customerGIDPrefix) && isDecimal(strings.TrimPrefix(value, customerGIDPrefix)):
			norm = value
		}
	case discountfn.IdentityIP:
		if addr, err := netip.ParseAddr(value); err == nil {
			norm = addr.Unmap().String()
		}
	case discountfn.IdentityAddress:
		if value != "" {
			if v := strings.ToLower(value); addressFingerprintPattern.MatchString(v) {
				norm = v
			}
		} else {
			norm = discountfn.AddressFingerprint(in.Address1, in.City, in.Zip, in.Country)
		}
	default:
		return "", invalid(discountfn.FieldError{Path: "kind", Message: "must be one of customer, email, phone, address, ip"})
	}
	if norm == "" {
		return "", invalid(discountfn.FieldError{Path: "value", Message: fmt.Sprintf("is not a valid %s", in.Kind)})
	}
	return discountfn.IdentityKey(in.Kind, norm), nil
}

// blockedView is one block list entry as the admin sees it.
type blockedView struct {
	IdentityKey string                  `json:"identity_key"`
	Kind        discountfn.IdentityKind `json:"kind"`
	Value       string                  `json:"value"`
	Reason      string                  `json:"reason"`
	CreatedAt   time.Time               `json:"created_at"`
}

func newBlockedView(b store.BlockedIdentity) blockedView {
	kind, value, _ := strings.Cut(b.IdentityKey, ":")
	return blockedView{IdentityKey: b.IdentityKey, Kind: discountfn.IdentityKind(kind), Value: value, Reason: b.Reason, CreatedAt: b.CreatedAt}
}

// listBlockedHandler answers GET /api/blocked: the shop's block list, newest first.
func (s *Server) listBlockedHandler(c *fiber.Ctx) error {
	shop, err := adminShop(c)
	if err != nil {
		return err
	}
	list, err := s.st.ListBlocked(c.UserContext(), shop)
	if err != nil {
		return err
	}
	views := make([]blockedView, len(list))
	for i, b := range list {
		views[i] = newBlockedView(b)
	}
	return c.JSON(fiber.Map{"blocked": views})
}

// blockHandler answers POST /api/blocked {kind, value, reason}: the identity, normalized, goes
// on the block list (again: its reason is replaced). 201 with the entry.
func (s *Server) blockHandler(c *fiber.Ctx) error {
	shop, err := adminShop(c)
	if err != nil {
		return err
	}
	var body struct {
		identityInput
		Reason string `json:"reason"`
	}
	if err := decodeBody(c.Body(), &body); err != nil {
		return err
	}
	key, err := body.identityKey()
	if err != nil {
		return err
	}
	reason := strings.TrimSpace(body.Reason)
	if len(reason) > maxBlockReason {
		return invalid(discountfn.FieldError{Path: "reason", Message: fmt.Sprintf("is longer than %d bytes", maxBlockReason)})
	}
	b, err := s.st.BlockIdentity(c.UserContext(), shop, key, reason)
	if err != nil {
		return err
	}
	return c.Status(http.StatusCreated).JSON(newBlockedView(b))
}

// unblockHandler answers DELETE /api/blocked?kind=&value= (or ?identity_key=): the identity
// comes off the block list. 204; 404 if it was not on it.
func (s *Server) unblockHandler(c *fiber.Ctx) error {
	shop, err := adminShop(c)
	if err != nil {
		return err
	}
	key := c.Query("identity_key")
	if key == "" {
		in := identityInput{Kind: discountfn.IdentityKind(c.Query("kind")), Value: c.Query("value"),
			Address1: c.Query("address1"), City: c.Query("city"), Zip: c.Query("zip"), Country: c.Query("country")}
		if key, err = in.identityKey(); err != nil {
			return err
		}
	}
	if err := s.st.UnblockIdentity(c.UserContext(), shop, key); err != nil {
		return err
	}
	return c.SendStatus(http.StatusNoContent)
}

// sharedView is an identity seen on several accounts' orders.
type sharedView struct {
	IdentityKey string                  `json:"identity_key"`
	Kind        discountfn.IdentityKind `json:"kind"`
	Accounts    int                     `json:"accounts"`
	Orders      int                     `json:"orders"`
	Blocked     bool                    `json:"blocked"`
}

// sharedIdentitiesHandler answers GET /api/abuse/shared?min=3: the phones, addresses and IPs
// seen on the orders of at least min accounts, most accounts first, each saying whether it is
// blocked.
func (s *Server) sharedIdentitiesHandler(c *fiber.Ctx) error {
	shop, err := adminShop(c)
	if err != nil {
		return err
	}
	minAccounts := defaultSharedMin
	if raw := c.Query("min"); raw != "" {
		n, err := strconv.Atoi(raw)
		if err != nil || n < 2 || n > maxSharedMin {
			return badRequest(err, "min must be a whole number from 2 to %d", maxSharedMin)
		}
		minAccounts = n
	}
	ctx := c.UserContext()
	shared, err := s.st.SharedIdentities(ctx, shop, minAccounts)
	if err != nil {
		return err
	}
	blocked, err := s.st.ListBlocked(ctx, shop)
	if err != nil {
		return err
	}
	isBlocked := make(map[string]bool, len(blocked))
	for _, b := range blocked {
		isBlocked[b.IdentityKey] = true
	}
	views := make([]sharedView, len(shared))
	for i, sh := range shared {
		views[i] = sharedView{IdentityKey: sh.IdentityKey, Kind: sh.Kind, Accounts: sh.Accounts, Orders: sh.Orders, Blocked: isBlocked[sh.IdentityKey]}
	}
	return c.JSON(fiber.Map{"min": minAccounts, "shared": views})
}
