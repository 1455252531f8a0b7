package app

import (
	"bytes"
	"cmp"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/regularsapp/regulars/discountfn"
	"github.com/regularsapp/regulars/store"
)

// The admin API: JSON under /api, behind requireIDToken. The shop is the ID token's
// (adminShop), and every store call is made for that shop, so no request can see or change
// another shop's data: another shop's offer id is simply not found.
//
// Offers are discountfn.Offer documents. A stored offer has a version, one more on every
// change; writes name the version they were based on and get 409 if it moved on.
//
//	GET    /api/offers                  {"offers": [summary...]}
//	GET    /api/offers/:id              record (ETag: "version")
//	POST   /api/offers                  body: offer (id generated when empty) → 201 record
//	PUT    /api/offers/:id              body: {"version": N, "offer": offer} (or If-Match: "N"
//	                                    in place of version) → record
//	POST   /api/offers/:id/pause        → record (also resume, archive; If-Match optional)
//	DELETE /api/offers/:id              soft delete → 204
//	POST   /api/offers/:id/duplicate    → 201 record of the copy, a draft
//	GET    /api/settings, PUT /api/settings   store.ShopSettings (PUT names every setting)
//	GET    /api/data-requests           {"data_requests": [...]}
//
// A record is {"id", "version", "status", "lifecycle", "created_at", "updated_at", "offer"}.
// Invalid offers and settings answer 422 {"error", "problems": [{"path", "message"}]}.

// OfferSyncer hears of every change to a shop's offers made through the admin API (create,
// edit, pause, resume, archive, delete, duplicate), after it is stored, so the change can
// reach the platform. A deleted offer is no longer found by store.GetOffer. An error is
// logged; the change stays stored.
type OfferSyncer interface {
	OfferChanged(ctx context.Context, shop, offerID string) error
}

// syncStateUnknown is the offers' sync state until platform sync reports one.
const syncStateUnknown = "unknown"

// offerSummary is one row of the offers list.
type offerSummary struct {
	ID          string                     `json:"id"`
	Name        string                     `json:"name"`
	Title       string                     `json:"title"`
	Status      discountfn.Status          `json:"status"`
	Lifecycle   discountfn.Status          `json:"lifecycle"`
	Kind        discountfn.ValueKind       `json:"kind"`
	Application discountfn.ApplicationKind `json:"application"`
	Code        string                     `json:"code,omitempty"` // the shared code
	Version     int64                      `json:"version"`
	UpdatedAt   time.Time                  `json:"updated_at"`
	SyncState   string                     `json:"sync_state"`
}

// offerRecord is one offer with its store metadata.
type offerRecord struct {
	ID        string            `json:"id"`
	Version   int64             `json:"version"`
	Status    discountfn.Status `json:"status"`
	Lifecycle discountfn.Status `json:"lifecycle"`
	CreatedAt time.Time         `json:"created_at"`
	UpdatedAt time.Time         `json:"updated_at"`
	Offer     discountfn.Offer  `json:"offer"`
}

// offerUpdate is the body of PUT /api/offers/:id.
type offerUpdate struct {
	Version *int64            `json:"version"`
	Offer   *discountfn.Offer `json:"offer"`
}

// dataRequestView is one stored customers/data_request answer.
type dataRequestView struct {
	RequestID  string          `json:"request_id"`
	CustomerID string          `json:"customer_id"`
	CreatedAt  time.Time       `json:"created_at"`
	Payload    json.RawMessage `json:"payload"`
}

func (s *Server) listOffersHandler(c *fiber.Ctx) error {
	shop, err := adminShop(c)
	if err != nil {
		return err
	}
	rows, err := s.st.ListOffers(c.UserContext(), shop, false)
	if err != nil {
		return err
	}
	syncs, err := s.st.ListOfferSyncs(c.UserContext(), shop)
	if err != nil {
		return err
	}
	syncState := make(map[string]string, len(syncs))
	for _, sy := range syncs {
		syncState[sy.OfferID] = sy.State
	}
	now := s.now()
	list := make([]offerSummary, 0, len(rows))
	for _, row := range rows {
		o, err := offerFromRow(row)
		if err != nil {
			return err
		}
		title := o.Preview.Title
		if title == "" {
			title = o.Name
		}
		list = append(list, offerSummary{
			ID: row.ID, Name: o.Name, Title: title, Status: o.Status, Lifecycle: o.Lifecycle(now),
			Kind: o.Value.Kind, Application: o.Application.Kind, Code: o.Application.Code, Version: row.Version,
			UpdatedAt: row.UpdatedAt, SyncState: cmp.Or(syncState[row.ID], syncStateUnknown),
		})
	}
	return c.JSON(fiber.Map{"offers": list})
}

func (s *Server) getOfferHandler(c *fiber.Ctx) error {
	shop, err := adminShop(c)
	if err != nil {
		return err
	}
	row, err := s.st.GetOffer(c.UserContext(), shop, c.Params("id"))
	if err != nil {
		return err
	}
	return s.sendOffer(c, fiber.StatusOK, row)
}

func (s *Server) createOfferHandler(c *fiber.Ctx) error {
	shop, err := adminShop(c)
	if err != nil {
		return err
	}
	var o discountfn.Offer
	if err := decodeBody(c.Body(), &o); err != nil {
		return err
	}
	if o.ID == "" {
		if o.ID, err = newOfferID(); err != nil {
			return err
		}
	}
	if o.Status == "" {
		o.Status = discountfn.StatusDraft
	}
	row, err := s.saveOffer(c.UserContext(), shop, o, 0, true)
	if err != nil {
		return err
	}
	return s.sendOffer(c, fiber.StatusCreated, row)
}

func (s *Server) updateOfferHandler(c *fiber.Ctx) error {
	shop, err := adminShop(c)
	if err != nil {
		return err
	}
	var body offerUpdate
	if err := decodeBody(c.Body(), &body); err != nil {
		return err
	}
	if body.Offer == nil {
		return badRequest(nil, `the body must be {"version": N, "offer": {...}}`)
	}
	version, err := expectedVersion(c.Get(fiber.HeaderIfMatch), body.Version)
	if err != nil {
		return err
	}
	o, id := *body.Offer, c.Params("id")
	if o.ID != "" && o.ID != id {
		return invalid(discountfn.FieldError{Path: "id", Message: "must be the id in the URL, " + strconv.Quote(id)})
	}
	o.ID = id
	row, err := s.saveOffer(c.UserContext(), shop, o, version, true)
	if err != nil {
		return err
	}
	return s.sendOffer(c, fiber.StatusOK, row)
}

// offerActionHandler applies a lifecycle change (pause, resume, archive): an offer in one of
// the from statuses is set to status to; one already there is answered as it is; any other
// is a 409. If-Match, when given, must be the current version.
func (s *Server) offerActionHandler(name string, to discountfn.Status, from ...discountfn.Status) fiber.Handler {
	return func(c *fiber.Ctx) error {
		shop, err := adminShop(c)
		if err != nil {
			return err
		}
		ctx := c.UserContext()
		row, o, err := s.loadOffer(ctx, shop, c.Params("id"))
		if err != nil {
			return err
		}
		if h := c.Get(fiber.HeaderIfMatch); h != "" {
			version, err := expectedVersion(h, nil)
			if err != nil {
				return err
			}
			if version != row.Version {
				return conflict(nil, "the offer was changed since version %d; reload it and try again", version)
			}
		}
		switch {
		case o.Status == to:
			return s.sendOffer(c, fiber.StatusOK, row)
		case !slices.Contains(from, o.Status):
			return conflict(nil, "cannot %s an offer that is %s", name, o.Status)
		}
		o.Status = to
		// Not validated again: only the status changes, and an offer stored under older rules
		// must stay pausable.
		row, err = s.saveOffer(ctx, shop, o, row.Version, false)
		if err != nil {
			return err
		}
		return s.sendOffer(c, fiber.StatusOK, row)
	}
}

func (s *Server) deleteOfferHandler(c *fiber.Ctx) error {
	shop, err := adminShop(c)
	if err != nil {
		return err
	}
	ctx, id := c.UserContext(), c.Params("id")
	if err := s.st.DeleteOffer(ctx, shop, id); err != nil {
		return err
	}
	s.offerChanged(ctx, shop, id)
	return c.SendStatus(fiber.StatusNoContent)
}

// duplicateOfferHandler copies an offer as a new draft, named "… (copy)".
func (s *Server) duplicateOfferHandler(c *fiber.Ctx) error {
	shop, err := adminShop(c)
	if err != nil {
		return err
	}
	ctx := c.UserContext()
	_, o, err := s.loadOffer(ctx, shop, c.Params("id"))
	if err != nil {
		return err
	}
	if o.ID, err = newOfferID(); err != nil {
		return err
	}
	o.Name, o.Status = copyName(o.Name), discountfn.StatusDraft
	if o.Application.Kind == discountfn.ApplyCode {
		// Shared codes are unique per shop: the copy gets a free one, which the merchant edits.
		taken, err := s.sharedCodes(ctx, shop, "")
		if err != nil {
			return err
		}
		o.Application.Code = copyCode(o.Application.Code, taken)
	}
	copied, err := s.saveOffer(ctx, shop, o, 0, true)
	if err != nil {
		return err
	}
	return s.sendOffer(c, fiber.StatusCreated, copied)
}

func (s *Server) getSettingsHandler(c *fiber.Ctx) error {
	shop, err := adminShop(c)
	if err != nil {
		return err
	}
	settings, err := s.st.GetSettings(c.UserContext(), shop)
	if err != nil {
		return err
	}
	return c.JSON(settings)
}

func (s *Server) putSettingsHandler(c *fiber.Ctx) error {
	shop, err := adminShop(c)
	if err != nil {
		return err
	}
	var settings store.ShopSettings
	if err := decodeBody(c.Body(), &settings); err != nil {
		return err
	}
	if err := requireEverySetting(c.Body()); err != nil {
		return err
	}
	if err := validateSettings(settings); err != nil {
		return err
	}
	ctx := c.UserContext()
	if err := s.st.SaveSettings(ctx, shop, settings); err != nil {
		return err
	}
	saved, err := s.st.GetSettings(ctx, shop)
	if err != nil {
		return err
	}
	return c.JSON(saved)
}

func (s *Server) listDataRequestsHandler(c *fiber.Ctx) error {
	shop, err := adminShop(c)
	if err != nil {
		return err
	}
	reqs, err := s.st.ListDataRequests(c.UserContext(), shop)
	if err != nil {
		return err
	}
	list := make([]dataRequestView, len(reqs))
	for i, r := range reqs {
		payload := json.RawMessage(r.Payload)
		if !json.Valid(payload) {
			// Not expected (the webhook pipeline stores JSON); sent as a JSON string.
			payload, _ = json.Marshal(string(r.Payload))
		}
		list[i] = dataRequestView{RequestID: r.RequestID, CustomerID: r.CustomerID, CreatedAt: r.CreatedAt, Payload: payload}
	}
	return c.JSON(fiber.Map{"data_requests": list})
}

// saveOffer stores o (validated first when validate is set) at expectedVersion (0 creates
// it), tells the OfferSyncer, and returns the stored row.
func (s *Server) saveOffer(ctx context.Context, shop string, o discountfn.Offer, expectedVersion int64, validate bool) (store.Offer, error) {
	if o.Version == 0 {
		o.Version = discountfn.ConfigVersion
	}
	if validate {
		if err := o.Validate(); err != nil {
			return store.Offer{}, err
		}
		if err := s.checkCodeFree(ctx, shop, &o); err != nil {
			return store.Offer{}, err
		}
	}
	config, err := json.Marshal(o)
	if err != nil {
		return store.Offer{}, fmt.Errorf("encode offer %q: %w", o.ID, err)
	}
	row, err := s.st.SaveOffer(ctx, shop, o.ID, string(o.Status), config, expectedVersion)
	switch {
	case errors.Is(err, store.ErrConflict) && expectedVersion == 0:
		return store.Offer{}, conflict(err, "an offer with id %q exists already", o.ID)
	case errors.Is(err, store.ErrConflict):
		return store.Offer{}, conflict(err, "the offer was changed since version %d; reload it and try again", expectedVersion)
	case err != nil:
		return store.Offer{}, err
	}
	s.offerChanged(ctx, shop, o.ID)
	return row, nil
}

// offerChanged tells the OfferSyncer, if any; its failure is logged, not returned: the change
// is stored, and the answer must say so.
func (s *Server) offerChanged(ctx context.Context, shop, offerID string) {
	if s.offerSync == nil {
		return
	}
	if err := s.offerSync.OfferChanged(ctx, shop, offerID); err != nil {
		s.log.ErrorContext(ctx, "offer changed: sync hook failed", "shop", shop, "offer_id", offerID, "err", err)
	}
}

// loadOffer reads one of the shop's offers and decodes its configuration; ErrNotFound (404)
// when the shop has no such offer.
func (s *Server) loadOffer(ctx context.Context, shop, id string) (store.Offer, discountfn.Offer, error) {
	row, err := s.st.GetOffer(ctx, shop, id)
	if err != nil {
		return store.Offer{}, discountfn.Offer{}, err
	}
	o, err := offerFromRow(row)
	if err != nil {
		return store.Offer{}, discountfn.Offer{}, err
	}
	return row, o, nil
}

// sendOffer answers with the offer's record and its version as ETag.
func (s *Server) sendOffer(c *fiber.Ctx, status int, row store.Offer) error {
	o, err := offerFromRow(row)
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderETag, strconv.Quote(strconv.FormatInt(row.Version, 10)))
	return c.Status(status).JSON(offerRecord{
		ID: row.ID, Version: row.Version, Status: o.Status, Lifecycle: o.Lifecycle(s.now()),
		CreatedAt: row.CreatedAt, UpdatedAt: row.UpdatedAt, Offer: o,
	})
}

// offerFromRow decodes a stored offer; the row's id and status are authoritative.
func offerFromRow(row store.Offer) (discountfn.Offer, error) {
	var o discountfn.Offer
	if err := json.Unmarshal(row.Config, &o); err != nil {
		return discountfn.Offer{}, fmt.Errorf("offer %q: stored configuration: %w", row.ID, err)
	}
	o.ID, o.Status = row.ID, discountfn.Status(row.Status)
	return o, nil
}

// expectedVersion is the version a write is based on: If-Match ("3", W/"3" or 3) or the
// body's version; they must agree when both are given.
func expectedVersion(ifMatch string, bodyVersion *int64) (int64, error) {
	var fromHeader *int64
	if h := strings.TrimSpace(ifMatch); h != "" {
		h = strings.Trim(strings.TrimPrefix(h, "W/"), `"`)
		v, err := strconv.ParseInt(h, 10, 64)
		if err != nil || v < 1 {
			return 0, badRequest(err, "If-Match must be the offer's version, such as \"3\"")
		}
		fromHeader = &v
	}
	switch {
	case fromHeader != nil && bodyVersion != nil && *fromHeader != *bodyVersion:
		return 0, badRequest(nil, "If-Match and version disagree")
	case fromHeader != nil:
		return *fromHeader, nil
	case bodyVersion == nil:
		return 0, badRequest(nil, "the version the change is based on is required: send If-Match or version")
	case *bodyVersion < 1:
		return 0, badRequest(nil, "version must be the offer's version, 1 or more")
	}
	return *bodyVersion, nil
}

// validateSettings checks what the store does not: a timezone this machine knows, and cash
// on delivery gateway names that are not blank.
func validateSettings(st store.ShopSettings) error {
	var problems []discountfn.FieldError
	if tz := strings.TrimSpace(st.Timezone); tz != "" {
		if _, err := time.LoadLocation(tz); err != nil {
			problems = append(problems, discountfn.FieldError{Path: "timezone", Message: "must be an IANA timezone such as Europe/Paris"})
		}
	}
	for i, g := range st.CODGateways {
		if strings.TrimSpace(g) == "" {
			problems = append(problems, discountfn.FieldError{Path: fmt.Sprintf("cod_gateways[%d]", i), Message: "must not be empty"})
		}
	}
	if len(problems) > 0 {
		return invalid(problems...)
	}
	return nil
}

// requireEverySetting checks that a PUT of the settings names each setting, and nothing else.
// PUT replaces them all, so a missing key would silently reset a setting to its zero value
// ({} would turn off releasing usage on cancel and forget the cash-on-delivery gateways),
// and a misspelt key would be ignored.
func requireEverySetting(body []byte) error {
	var given map[string]json.RawMessage
	if err := json.Unmarshal(body, &given); err != nil {
		return jsonError(err)
	}
	known := map[string]bool{}
	var problems []discountfn.FieldError
	t := reflect.TypeFor[store.ShopSettings]()
	for i := range t.NumField() {
		name, _, _ := strings.Cut(t.Field(i).Tag.Get("json"), ",")
		if name == "" || name == "-" {
			continue
		}
		known[name] = true
		if _, ok := given[name]; !ok {
			problems = append(problems, discountfn.FieldError{Path: name,
				Message: "is required: PUT replaces every setting (GET /api/settings gives the current ones)"})
		}
	}
	for _, name := range slices.Sorted(maps.Keys(given)) {
		if !known[name] {
			problems = append(problems, discountfn.FieldError{Path: name, Message: "is not a setting"})
		}
	}
	if len(problems) > 0 {
		return invalid(problems...)
	}
	return nil
}

// decodeBody reads one JSON value into v, with nothing after it.
func decodeBody(body []byte, v any) error {
	if len(bytes.TrimSpace(body)) == 0 {
		return badRequest(nil, "request body is empty: expected JSON")
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(v); err != nil {
		return jsonError(err)
	}
	if off := dec.InputOffset(); len(bytes.TrimSpace(body[off:])) > 0 {
		return badRequest(nil, "malformed JSON: unexpected data after the value at byte %d", off)
	}
	return nil
}

// newOfferID is a random, URL-safe offer id: "o" and 16 letters, digits, '-' or '_'.
func newOfferID() (string, error) {
	b := make([]byte, 12)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("offer id: %w", err)
	}
	return "o" + base64.RawURLEncoding.EncodeToString(b), nil
}

// copyName is the name of a duplicate, within the name's 255 characters.
func copyName(name string) string {
	const suffix, maxRunes = " (copy)", 255
	r := []rune(name)
	if keep := maxRunes - len(suffix); len(r) > keep {
		r = r[:keep]
	}
	return string(r) + suffix
}

// sharedCodes are the shared codes of the shop's offers other than except, normalized, with
// the offer that has each.
func (s *Server) sharedCodes(ctx context.Context, shop, except string) (map[string]string, error) {
	rows, err := s.st.ListOffers(ctx, shop, false)
	if err != nil {
		return nil, err
	}
	codes := map[string]string{}
	for _, row := range rows {
		if row.ID == except {
			continue
		}
		o, err := offerFromRow(row)
		if err != nil {
			return nil, err
		}
		if o.Application.Kind == discountfn.ApplyCode && o.Application.Code != "" {
			codes[discountfn.NormalizeCode(o.Application.Code)] = o.ID
		}
	}
	return codes, nil
}

// checkCodeFree refuses a shared code that another offer of the shop has, or that is one of
// the shop's unique codes: codes are unique per shop, without regard to case.
func (s *Server) checkCodeFree(ctx context.Context, shop string, o *discountfn.Offer) error {
	if o.Application.Kind != discountfn.ApplyCode || o.Application.Code == "" {
		return nil
	}
	code := discountfn.NormalizeCode(o.Application.Code)
	taken, err := s.sharedCodes(ctx, shop, o.ID)
	if err != nil {
		return err
	}
	if other, ok := taken[code]; ok {
		return invalid(discountfn.FieldError{Path: "application.code", Message: "is already the code of offer " + strconv.Quote(other)})
	}
	if c, err := s.st.LookupCode(ctx, shop, code); err == nil && c.OfferID != o.ID {
		return invalid(discountfn.FieldError{Path: "application.code", Message: "is already one of the unique codes of offer " + strconv.Quote(c.OfferID)})
	} else if err != nil && !errors.Is(err, store.ErrNotFound) {
		return err
	}
	return nil
}

// copyCode is a shared code for a copy of an offer with code: the code with "COPY" (and a
// number when that is taken too) within the 30 characters codes may have.
func copyCode(code string, taken map[string]string) string {
	const maxLen = 30
	for n := 1; ; n++ {
		suffix := "COPY"
		if n > 1 {
			suffix += strconv.Itoa(n)
		}
		base := code
		if len(base)+len(suffix) > maxLen {
			base = base[:maxLen-len(suffix)]
		}
		if _, ok := taken[discountfn.NormalizeCode(base+suffix)]; !ok {
			return base + suffix
		}
	}
}
