package app

import (
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/regularsapp/regulars/discountfn"
	"github.com/regularsapp/regulars/store"
)

// The kinds of error a handler returns. handleError maps each to a status; anything else is
// an internal error: a 500 with a generic message, logged once.
var (
	// ErrUnauthorized: missing or invalid credentials (401).
	ErrUnauthorized = errors.New("unauthorized")
	// ErrBadRequest: the request is malformed (400). Made with badRequest, whose message is
	// sent to the client.
	ErrBadRequest = errors.New("bad request")
	// ErrForbidden: authenticated, but not allowed (403). Made with forbidden.
	ErrForbidden = errors.New("forbidden")
	// ErrNotFound: the resource does not exist for this shop (404). store.ErrNotFound maps
	// here too.
	ErrNotFound = errors.New("not found")
	// ErrConflict: the change conflicts with the resource's current state, such as a stale
	// version (409). Made with conflict; store.ErrConflict maps here too.
	ErrConflict = errors.New("conflict")
	// ErrInvalid: well-formed, but some fields are invalid (422), answered with the list of
	// problems. Made with invalid; a *discountfn.ValidationError and store.ErrInvalid map
	// here too.
	ErrInvalid = errors.New("invalid")
)

// requestError is a client error whose message is safe to send back.
type requestError struct {
	kind  error // ErrBadRequest or ErrUnauthorized
	msg   string
	cause error // optional, for logs and errors.Is
}

func (e *requestError) Error() string {
	if e.cause != nil {
		return e.msg + ": " + e.cause.Error()
	}
	return e.msg
}

func (e *requestError) Unwrap() []error {
	if e.cause != nil {
		return []error{e.kind, e.cause}
	}
	return []error{e.kind}
}

// badRequest is a 400 whose message (not the cause's text) is sent to the client.
func badRequest(cause error, format string, args ...any) error {
	return &requestError{kind: ErrBadRequest, msg: fmt.Sprintf(format, args...), cause: cause}
}

// forbidden is a 403 whose message is sent to the client.
func forbidden(cause error, format string, args ...any) error {
	return &requestError{kind: ErrForbidden, msg: fmt.Sprintf(format, args...), cause: cause}
}

// conflict is a 409 whose message is sent to the client.
func conflict(cause error, format string, args ...any) error {
	return &requestError{kind: ErrConflict, msg: fmt.Sprintf(format, args...), cause: cause}
}

// invalidError is a 422 listing each invalid field.
type invalidError struct {
	problems []discountfn.FieldError
}

func (e *invalidError) Error() string {
	return (&discountfn.ValidationError{Problems: e.problems}).Error()
}

func (e *invalidError) Unwrap() error { return ErrInvalid }

// invalid is a 422 with the given problems.
func invalid(problems ...discountfn.FieldError) error {
	return &invalidError{problems: problems}
}

// unauthorized is a 401 saying which credential failed (the checkout token, the webhook
// signature); the reason is kept for errors.Is and logs but never sent.
func unauthorized(what string, cause error) error {
	return &requestError{kind: ErrUnauthorized, msg: "missing or invalid " + what, cause: cause}
}

// errorBody is every error response: {"error": "..."}, and for a 422 the invalid fields.
type errorBody struct {
	Error    string                  `json:"error"`
	Problems []discountfn.FieldError `json:"problems,omitempty"`
}

// handleError is the app's one fiber.ErrorHandler. Internal error text never reaches the
// client; 5xx are logged here and nowhere else.
func (s *Server) handleError(c *fiber.Ctx, err error) error {
	status, msg := http.StatusInternalServerError, "internal server error"
	var (
		reqErr     *requestError
		fiberErr   *fiber.Error
		invalidErr *invalidError
		offerErr   *discountfn.ValidationError
		problems   []discountfn.FieldError
	)
	switch {
	case errors.As(err, &reqErr) && errors.Is(err, ErrUnauthorized):
		status, msg = http.StatusUnauthorized, reqErr.msg
		c.Set(fiber.HeaderWWWAuthenticate, `Bearer realm="regulars"`)
	case errors.Is(err, ErrUnauthorized):
		status, msg = http.StatusUnauthorized, "unauthorized"
	case errors.As(err, &reqErr) && errors.Is(err, ErrBadRequest):
		status, msg = http.StatusBadRequest, reqErr.msg
	case errors.As(err, &reqErr) && errors.Is(err, ErrForbidden):
		status, msg = http.StatusForbidden, reqErr.msg
	case errors.As(err, &reqErr) && errors.Is(err, ErrConflict):
		status, msg = http.StatusConflict, reqErr.msg
	case errors.As(err, &invalidErr):
		status, msg, problems = http.StatusUnprocessableEntity, "validation failed", invalidErr.problems
	case errors.As(err, &offerErr):
		status, msg, problems = http.StatusUnprocessableEntity, "validation failed", offerErr.Problems
	case errors.Is(err, ErrNotFound), errors.Is(err, store.ErrNotFound):
		status, msg = http.StatusNotFound, "not found"
	case errors.Is(err, ErrConflict), errors.Is(err, store.ErrConflict):
		status, msg = http.StatusConflict, "conflict"
	case errors.Is(err, store.ErrInvalid):
		status, msg = http.StatusUnprocessableEntity, "invalid request"
	case errors.As(err, &fiberErr):
		status = fiberErr.Code
		switch status {
		case http.StatusRequestEntityTooLarge:
			msg = fmt.Sprintf("request body is larger than %d bytes", s.cfg.MaxBodyBytes)
		case http.StatusUnsupportedMediaType:
			msg = "compressed bodies are not accepted: send the input as plain JSON"
		default:
			// Fiber's own messages may echo the request path; send the status text.
			msg = strings.ToLower(http.StatusText(status))
			if msg == "" {
				msg = "error"
			}
		}
	}
	if status >= http.StatusInternalServerError {
		s.log.ErrorContext(c.UserContext(), "request failed",
			"method", c.Method(), "path", c.Path(), "status", status, "err", err)
	}
	return c.Status(status).JSON(errorBody{Error: msg, Problems: problems})
}
