package app

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"

	"github.com/gofiber/fiber/v2"

	"github.com/regularsapp/regulars/codegen"
	"github.com/regularsapp/regulars/discountfn"
	"github.com/regularsapp/regulars/store"
)

// Unique codes of an offer whose application kind is "codes" (any other offer answers 422;
// another shop's offer, or a deleted one, 404):
//
//	POST /api/offers/:id/codes/generate   body: {"pattern": {"length", "charset", "prefix",
//	                                      "suffix"}, "count": N, "single_use": bool}
//	                                      → 201 {"generated": N, "sample": [up to 10 codes]}
//	POST /api/offers/:id/codes/import     text/csv body (codegen's format: code, customer_id,
//	                                      single_use) → {"imported": N, "problems": [{"line",
//	                                      "field", "message"}]}
//	GET  /api/offers/:id/codes.csv        the offer's codes as CSV, in code order
//
// Generation: count is 1 to 100,000; the pattern is codegen.Pattern (an impossible pattern is
// a 422 naming "pattern.<field>"). The codes are stored all or nothing; if one collides with
// a code the shop already has, the whole batch is generated afresh once, and a second
// collision answers 409.
//
// Import stores the good rows and reports the bad ones (200, problems listed), unless
// ?strict=1: then any problem stores nothing and answers 422 with the same body ("imported":
// 0). Bad rows are those codegen.ParseCSV reports (code rule, repeated in the file, customer
// id, single_use) and codes the shop already has (in any offer), each reported on its line. A
// file of more than 100,000 rows is refused (422). A code added by someone else between the
// check and the insert fails the import as a whole with 409 and stores nothing.
//
// Export streams the codes in pages of codeExportPage; the columns are those import reads, so
// an export imports back into another offer (or shop) as it is.
//
// After codes are stored, the offer's OfferSyncer hears of it: through CodesAdded when it
// implements CodesSyncer (Sync does, and pushes the codes to the platform 250 at a time),
// else through OfferChanged.

// CodesSyncer is an OfferSyncer that can also be told of new unique codes alone.
type CodesSyncer interface {
	CodesAdded(ctx context.Context, shop, offerID string) error
}

const (
	// maxCodesPerRequest bounds generation and import.
	maxCodesPerRequest = 100_000
	// codeSampleSize is how many generated codes the answer shows.
	codeSampleSize = 10
	// codeExportPage is how many codes the export reads per query.
	codeExportPage = 5_000
)

// generateCodesBody is the body of POST /api/offers/:id/codes/generate.
type generateCodesBody struct {
	Pattern   codegen.Pattern `json:"pattern"`
	Count     int             `json:"count"`
	SingleUse bool            `json:"single_use"`
}

// importCodesAnswer is the answer of POST /api/offers/:id/codes/import.
type importCodesAnswer struct {
	Error    string               `json:"error,omitempty"`
	Imported int                  `json:"imported"`
	Problems []codegen.RowProblem `json:"problems"`
}

// codesOffer checks that the shop has the offer (404 otherwise) and that it
// takes unique codes.
func (s *Server) codesOffer(ctx context.Context, shop, id string) error {
	_, o, err := s.loadOffer(ctx, shop, id)
	if err != nil {
		return err
	}
	if o.Application.Kind != discountfn.ApplyCodes {
		return invalid(discountfn.FieldError{Path: "application.kind",
			Message: fmt.Sprintf("must be %q for the offer to hold unique codes (it is %q)", discountfn.ApplyCodes, o.Application.Kind)})
	}
	return nil
}

func (s *Server) generateCodesHandler(c *fiber.Ctx) error {
	shop, err := adminShop(c)
	if err != nil {
		return err
	}
	ctx, id := c.UserContext(), c.Params("id")
	if err := s.codesOffer(ctx, shop, id); err != nil {
		return err
	}
	var body generateCodesBody
	if err := decodeBody(c.Body(), &body); err != nil {
		return err
	}
	if body.Count < 1 || body.Count > maxCodesPerRequest {
		return invalid(discountfn.FieldError{Path: "count", Message: fmt.Sprintf("must be between 1 and %d", maxCodesPerRequest)})
	}
	var codes []string
	for attempt := 1; ; attempt++ {
		codes, err = codegen.Generate(body.Pattern, body.Count, nil)
		var pe *codegen.PatternError
		if errors.As(err, &pe) {
			return invalid(discountfn.FieldError{Path: "pattern." + pe.Field, Message: pe.Message})
		} else if err != nil {
			return err
		}
		rows := make([]store.CodeRow, len(codes))
		for i, code := range codes {
			rows[i] = store.CodeRow{Code: code, SingleUse: body.SingleUse}
		}
		err = s.st.AddCodes(ctx, shop, id, rows)
		if err == nil {
			break
		}
		if !errors.Is(err, store.ErrConflict) {
			return err
		}
		if attempt == 2 {
			return conflict(err, "generated codes collided with the shop's existing codes twice: use a longer length or a larger charset")
		}
		s.log.InfoContext(ctx, "generated codes collided with existing ones; generating afresh", "shop", shop, "offer_id", id, "err", err)
	}
	s.codesAdded(ctx, shop, id)
	return c.Status(fiber.StatusCreated).JSON(fiber.Map{"generated": len(codes), "sample": codes[:min(len(codes), codeSampleSize)]})
}

func (s *Server) importCodesHandler(c *fiber.Ctx) error {
	shop, err := adminShop(c)
	if err != nil {
		return err
	}
	ctx, id := c.UserContext(), c.Params("id")
	strict, err := strictParam(c.Query("strict"))
	if err != nil {
		return err
	}
	if err := s.codesOffer(ctx, shop, id); err != nil {
		return err
	}
	if len(bytes.TrimSpace(c.Body())) == 0 {
		return badRequest(nil, "request body is empty: expected a CSV file of codes")
	}
	rows, problems := codegen.ParseCSV(bytes.NewReader(c.Body()))
	if n := len(rows) + len(problems); n > maxCodesPerRequest {
		return invalid(discountfn.FieldError{Path: "body", Message: fmt.Sprintf("must have at most %d rows: split the file", maxCodesPerRequest)})
	}
	// Codes the shop already has, in this offer or another.
	codes := make([]string, len(rows))
	for i, r := range rows {
		codes[i] = r.Code
	}
	existing, err := s.st.LookupCodes(ctx, shop, codes)
	if err != nil {
		return err
	}
	good := make([]store.CodeRow, 0, len(rows))
	for _, r := range rows {
		if owner, ok := existing[store.NormalizeCode(r.Code)]; ok {
			msg := "already exists in another offer"
			if owner == id {
				msg = "already exists in this offer"
			}
			problems = append(problems, codegen.RowProblem{Line: r.Line, Field: codegen.ColumnCode, Message: msg})
			continue
		}
		good = append(good, store.CodeRow{Code: r.Code, CustomerID: r.CustomerID, SingleUse: r.SingleUse})
	}
	slices.SortStableFunc(problems, func(a, b codegen.RowProblem) int { return a.Line - b.Line })
	if problems == nil {
		problems = []codegen.RowProblem{}
	}
	if strict && len(problems) > 0 {
		return c.Status(fiber.StatusUnprocessableEntity).JSON(importCodesAnswer{
			Error: "validation failed: nothing was imported", Problems: problems})
	}
	if err := s.st.AddCodes(ctx, shop, id, good); err != nil {
		if errors.Is(err, store.ErrConflict) {
			return conflict(err, "a code of the file was added meanwhile; nothing was imported: try again")
		}
		return err
	}
	if len(good) > 0 {
		s.codesAdded(ctx, shop, id)
	}
	return c.JSON(importCodesAnswer{Imported: len(good), Problems: problems})
}

// strictParam reads ?strict: empty, 0, false, 1 or true.
func strictParam(v string) (bool, error) {
	if v == "" {
		return false, nil
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		return false, badRequest(err, "strict must be 1 or 0")
	}
	return b, nil
}

func (s *Server) exportCodesHandler(c *fiber.Ctx) error {
	shop, err := adminShop(c)
	if err != nil {
		return err
	}
	ctx, id := c.UserContext(), c.Params("id")
	if err := s.codesOffer(ctx, shop, id); err != nil {
		return err
	}
	// The first page is read before answering, so that a failing store is a 500, not an
	// empty file.
	first, err := s.st.ListCodes(ctx, shop, id, codeExportPage, "")
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderContentType, "text/csv; charset=utf-8")
	c.Set(fiber.HeaderContentDisposition, fmt.Sprintf(`attachment; filename="%s-codes.csv"`, id))
	c.Set(fiber.HeaderCacheControl, "no-store")
	st, log := s.st, s.log
	c.Status(http.StatusOK).Context().SetBodyStreamWriter(func(bw *bufio.Writer) {
		w := codegen.NewWriter(bw)
		page := first
		for {
			if err := w.Write(codeRows(page)); err != nil {
				log.WarnContext(ctx, "codes export: write failed", "shop", shop, "offer_id", id, "err", err)
				return
			}
			if len(page) < codeExportPage {
				break
			}
			page, err = st.ListCodes(ctx, shop, id, codeExportPage, page[len(page)-1].Code)
			if err != nil {
				// The status is sent: the file ends short, and the log says why.
				log.ErrorContext(ctx, "codes export: list failed; the file is cut short", "shop", shop, "offer_id", id, "err", err)
				return
			}
		}
		if err := w.Flush(); err != nil {
			log.WarnContext(ctx, "codes export: write failed", "shop", shop, "offer_id", id, "err", err)
		}
	})
	return nil
}

func codeRows(codes []store.Code) []codegen.Row {
	rows := make([]codegen.Row, len(codes))
	for i, c := range codes {
		rows[i] = codegen.Row{Code: c.Code, CustomerID: c.CustomerID, SingleUse: c.SingleUse}
	}
	return rows
}

// codesAdded tells the OfferSyncer of new codes (CodesAdded when it has it); a failure is
// logged: the codes are stored, and the platform catches up at the next sync.
func (s *Server) codesAdded(ctx context.Context, shop, offerID string) {
	if s.offerSync == nil {
		return
	}
	var err error
	if cs, ok := s.offerSync.(CodesSyncer); ok {
		err = cs.CodesAdded(ctx, shop, offerID)
	} else {
		err = s.offerSync.OfferChanged(ctx, shop, offerID)
	}
	if err != nil {
		s.log.ErrorContext(ctx, "codes added: sync hook failed", "shop", shop, "offer_id", offerID, "err", err)
	}
}
