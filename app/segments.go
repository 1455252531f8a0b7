package app

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"

	"github.com/gofiber/fiber/v2"

	"github.com/regularsapp/regulars/discountfn"
	"github.com/regularsapp/regulars/store"
)

// The segments API: a shop's customer segments (discountfn.Segment), highest priority first.
// A customer in several segments gets only the highest one's offers, so the order matters and
// the admin reorders them as a list.
//
//	GET    /api/segments           {"segments": [segment...]}
//	POST   /api/segments           body: segment (id generated when empty; without a priority
//	                               it goes below the others) → 201 segment
//	PUT    /api/segments/:id       body: segment → segment
//	DELETE /api/segments/:id       → 204; 409 while an offer targets it
//	POST   /api/segments/reorder   body: {"ids": [...]} every segment, highest first → list
//
// Invalid segments answer 422 with the problems, like offers.

// segmentList is the body of the list and reorder answers.
type segmentList struct {
	Segments []discountfn.Segment `json:"segments"`
}

// reorderBody is the body of POST /api/segments/reorder.
type reorderBody struct {
	IDs []string `json:"ids"`
}

func (s *Server) listSegmentsHandler(c *fiber.Ctx) error {
	shop, err := adminShop(c)
	if err != nil {
		return err
	}
	segments, err := s.loadSegments(c.UserContext(), shop)
	if err != nil {
		return err
	}
	return c.JSON(segmentList{Segments: segments})
}

func (s *Server) createSegmentHandler(c *fiber.Ctx) error {
	shop, err := adminShop(c)
	if err != nil {
		return err
	}
	var seg discountfn.Segment
	if err := decodeBody(c.Body(), &seg); err != nil {
		return err
	}
	ctx := c.UserContext()
	existing, err := s.loadSegments(ctx, shop)
	if err != nil {
		return err
	}
	if seg.ID == "" {
		if seg.ID, err = newSegmentID(); err != nil {
			return err
		}
	} else if slices.ContainsFunc(existing, func(e discountfn.Segment) bool { return e.ID == seg.ID }) {
		return conflict(nil, "segment %q already exists", seg.ID)
	}
	if seg.Priority == 0 && len(existing) > 0 {
		seg.Priority = existing[len(existing)-1].Priority - 1
	}
	saved, err := s.saveSegment(ctx, shop, seg)
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(saved)
}

func (s *Server) updateSegmentHandler(c *fiber.Ctx) error {
	shop, err := adminShop(c)
	if err != nil {
		return err
	}
	var seg discountfn.Segment
	if err := decodeBody(c.Body(), &seg); err != nil {
		return err
	}
	id := c.Params("id")
	if seg.ID != "" && seg.ID != id {
		return invalid(discountfn.FieldError{Path: "id", Message: "must be the id in the URL, " + strconv.Quote(id)})
	}
	seg.ID = id
	ctx := c.UserContext()
	existing, err := s.loadSegments(ctx, shop)
	if err != nil {
		return err
	}
	if !slices.ContainsFunc(existing, func(e discountfn.Segment) bool { return e.ID == id }) {
		return fmt.Errorf("segment %q: %w", id, ErrNotFound)
	}
	saved, err := s.saveSegment(ctx, shop, seg)
	if err != nil {
		return err
	}
	return c.JSON(saved)
}

func (s *Server) deleteSegmentHandler(c *fiber.Ctx) error {
	shop, err := adminShop(c)
	if err != nil {
		return err
	}
	ctx, id := c.UserContext(), c.Params("id")
	rows, err := s.st.ListOffers(ctx, shop, false)
	if err != nil {
		return err
	}
	for _, row := range rows {
		o, err := offerFromRow(row)
		if err != nil {
			return err
		}
		if o.Eligibility.Audience == discountfn.AudienceSegment && o.Eligibility.SegmentID == id {
			return conflict(nil, "offer %q (%s) targets this segment; change or delete it first", o.ID, o.Name)
		}
	}
	if err := s.st.DeleteSegment(ctx, shop, id); err != nil {
		return err
	}
	return c.SendStatus(fiber.StatusNoContent)
}

// reorderSegmentsHandler gives the listed segments priorities from len(ids) down to 1, so the
// first is the highest. The list must name every segment exactly once.
func (s *Server) reorderSegmentsHandler(c *fiber.Ctx) error {
	shop, err := adminShop(c)
	if err != nil {
		return err
	}
	var body reorderBody
	if err := decodeBody(c.Body(), &body); err != nil {
		return err
	}
	ctx := c.UserContext()
	existing, err := s.loadSegments(ctx, shop)
	if err != nil {
		return err
	}
	byID := make(map[string]discountfn.Segment, len(existing))
	for _, seg := range existing {
		byID[seg.ID] = seg
	}
	seen := make(map[string]bool, len(body.IDs))
	for i, id := range body.IDs {
		if _, ok := byID[id]; !ok || seen[id] {
			return invalid(discountfn.FieldError{Path: "ids[" + strconv.Itoa(i) + "]",
				Message: "must name each of the shop's segments once; " + strconv.Quote(id) + " is unknown or repeated"})
		}
		seen[id] = true
	}
	if len(body.IDs) != len(existing) {
		return invalid(discountfn.FieldError{Path: "ids", Message: fmt.Sprintf("must list all %d segments", len(existing))})
	}
	for i, id := range body.IDs {
		seg := byID[id]
		seg.Priority = len(body.IDs) - i
		if _, err := s.saveSegment(ctx, shop, seg); err != nil {
			return err
		}
	}
	segments, err := s.loadSegments(ctx, shop)
	if err != nil {
		return err
	}
	return c.JSON(segmentList{Segments: segments})
}

// saveSegment validates and stores a segment and returns it as stored.
func (s *Server) saveSegment(ctx context.Context, shop string, seg discountfn.Segment) (discountfn.Segment, error) {
	if err := seg.Validate(); err != nil {
		return discountfn.Segment{}, err
	}
	config, err := json.Marshal(seg)
	if err != nil {
		return discountfn.Segment{}, fmt.Errorf("segment %q: %w", seg.ID, err)
	}
	row, err := s.st.SaveSegment(ctx, shop, seg.ID, seg.Priority, config)
	if err != nil {
		return discountfn.Segment{}, err
	}
	return segmentFromRow(row)
}

// loadSegments is the shop's segments, highest priority first (ties by id, as the engine
// orders them).
func (s *Server) loadSegments(ctx context.Context, shop string) ([]discountfn.Segment, error) {
	rows, err := s.st.ListSegments(ctx, shop)
	if err != nil {
		return nil, err
	}
	segments := make([]discountfn.Segment, 0, len(rows))
	for _, r := range rows {
		seg, err := segmentFromRow(r)
		if err != nil {
			return nil, err
		}
		segments = append(segments, seg)
	}
	slices.SortStableFunc(segments, func(a, b discountfn.Segment) int {
		if a.Priority != b.Priority {
			return b.Priority - a.Priority
		}
		if a.ID < b.ID {
			return -1
		}
		return 1
	})
	return segments, nil
}

// segmentFromRow decodes a stored segment; the row's id and priority are authoritative.
func segmentFromRow(row store.Segment) (discountfn.Segment, error) {
	var seg discountfn.Segment
	if err := json.Unmarshal(row.Config, &seg); err != nil {
		return discountfn.Segment{}, fmt.Errorf("segment %q: stored configuration: %w", row.ID, err)
	}
	seg.ID, seg.Priority = row.ID, row.Priority
	return seg, nil
}

// newSegmentID is a random segment id.
func newSegmentID() (string, error) {
	id, err := newOfferID()
	if err != nil {
		return "", err
	}
	return "s" + id[1:], nil
}
