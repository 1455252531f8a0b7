package graphql

import (
	"fmt"
	"strings"
)

// UserError is one problem the platform found with a mutation's input: the path of the input
// field ("codeAppDiscount", "title"), a message for people, and a machine code when the
// mutation's error type has one ("BLANK", "TAKEN").
type UserError struct {
	Field   []string
	Message string
	Code    string
}

func (e UserError) String() string {
	var b strings.Builder
	if len(e.Field) > 0 {
		b.WriteString(strings.Join(e.Field, "."))
		b.WriteString(": ")
	}
	b.WriteString(e.Message)
	if e.Code != "" {
		b.WriteString(" (")
		b.WriteString(e.Code)
		b.WriteString(")")
	}
	return b.String()
}

// UserErrors is a mutation the platform refused: its userErrors were not empty. Every
// mutation wrapper returns it (wrapped: test with errors.As). It is not worth retrying the
// same input.
type UserErrors struct {
	Op     string // the operation, e.g. "discountCodeAppCreate"
	Errors []UserError
}

func (e *UserErrors) Error() string {
	parts := make([]string, len(e.Errors))
	for i, ue := range e.Errors {
		parts[i] = ue.String()
	}
	return fmt.Sprintf("%s: %s", e.Op, strings.Join(parts, "; "))
}

// Message is the errors' messages for people, without the operation's name.
func (e *UserErrors) Message() string {
	parts := make([]string, len(e.Errors))
	for i, ue := range e.Errors {
		parts[i] = ue.String()
	}
	return strings.Join(parts, "; ")
}

// HasCode reports whether one of the errors has the code.
func (e *UserErrors) HasCode(code string) bool {
	for _, ue := range e.Errors {
		if ue.Code == code {
			return true
		}
	}
	return false
}

// The generated userErrors types, one per error type of the schema.
type (
	userErrorLike interface {
		GetField() []string
		GetMessage() string
	}
	codedUserError interface {
		GetCode() DiscountErrorCode
	}
	bulkCodedUserError interface {
		GetCode() BulkOperationUserErrorCode
	}
	paymentCodedUserError interface {
		GetCode() PaymentCustomizationErrorCode
	}
)

// userErrorsOf is nil for no errors, else a *UserErrors of op.
func userErrorsOf[E any](op string, errs []E) error {
	if len(errs) == 0 {
		return nil
	}
	out := &UserErrors{Op: op, Errors: make([]UserError, 0, len(errs))}
	for i := range errs {
		out.Errors = append(out.Errors, toUserError(&errs[i]))
	}
	return out
}

func toUserError(e any) UserError {
	var ue UserError
	if l, ok := e.(userErrorLike); ok {
		ue.Field, ue.Message = l.GetField(), l.GetMessage()
	}
	switch c := e.(type) {
	case codedUserError:
		ue.Code = string(c.GetCode())
	case bulkCodedUserError:
		ue.Code = string(c.GetCode())
	case paymentCodedUserError:
		ue.Code = string(c.GetCode())
	}
	return ue
}
