package app

import (
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/gofiber/fiber/v2"
)

// The kinds of error a handler returns. handleError maps each to a status; anything else is
// an internal error: a 500 with a generic message, logged once.
var (
	// ErrUnauthorized: missing or invalid credentials (401).
	ErrUnauthorized = errors.New("unauthorized")
	// ErrBadRequest: the request is malformed (400). Made with badRequest, whose message is
	// sent to the client.
	ErrBadRequest = errors.New("bad request")
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

// unauthorized is a 401 saying which credential failed (the checkout token, the webhook
// signature); the reason is kept for errors.Is and logs but never sent.
func unauthorized(what string, cause error) error {
	return &requestError{kind: ErrUnauthorized, msg: "missing or invalid " + what, cause: cause}
}

// errorBody is every error response: {"error": "..."}.
type errorBody struct {
	Error string `json:"error"`
}

// handleError is the app's one fiber.ErrorHandler. Internal error text never reaches the
// client; 5xx are logged here and nowhere else.
func (s *Server) handleError(c *fiber.Ctx, err error) error {
	status, msg := http.StatusInternalServerError, "internal server error"
	var (
		reqErr   *requestError
		fiberErr *fiber.Error
	)
	switch {
	case errors.As(err, &reqErr) && errors.Is(err, ErrUnauthorized):
		status, msg = http.StatusUnauthorized, reqErr.msg
		c.Set(fiber.HeaderWWWAuthenticate, `Bearer realm="regulars"`)
	case errors.Is(err, ErrUnauthorized):
		status, msg = http.StatusUnauthorized, "unauthorized"
	case errors.As(err, &reqErr) && errors.Is(err, ErrBadRequest):
		status, msg = http.StatusBadRequest, reqErr.msg
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
	return c.Status(status).JSON(errorBody{Error: msg})
}
