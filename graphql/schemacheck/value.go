package schemacheck

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/url"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/vektah/gqlparser/v2/ast"
)

// ValueError is one problem in a JSON value.
type ValueError struct {
	// Path is the JSON path of the offending value, e.g.
	// operations[0].productDiscountsAdd.candidates[1].value; "" is the value itself.
	Path    string
	Message string
}

func (e *ValueError) Error() string {
	p := e.Path
	if p == "" {
		p = "$"
	}
	return p + ": " + e.Message
}

// ValueErrors is every problem found in one value, in document order (object fields in the
// schema's order, unknown fields after them by name).
type ValueErrors []*ValueError

func (es ValueErrors) Error() string {
	msgs := make([]string, len(es))
	for i, e := range es {
		msgs[i] = e.Error()
	}
	return strings.Join(msgs, "\n")
}

// Unwrap gives errors.As access to each *ValueError.
func (es ValueErrors) Unwrap() []error {
	out := make([]error, len(es))
	for i, e := range es {
		out[i] = e
	}
	return out
}

// ValidateValue checks a JSON document against a named input type of the schema, the way a
// server coerces a variable value: normally an INPUT_OBJECT (the function schemas' run and
// fetch results are input objects), though enums and scalars are accepted too. The root
// value must not be null.
//
// Input objects: a JSON object; unknown fields are errors; a field of non-null type without
// a default must be present and non-null; a field of nullable type may be absent or null.
// @oneOf input objects must have exactly one field, and it must be non-null.
// Lists: a JSON array (stricter than the spec, which would coerce a single value to a
// one-element list: from our own output that is a bug). Enums: a JSON string naming one of
// the enum's values.
//
// Scalars:
//   - String: a JSON string. ID: a JSON string (the spec also allows an integer; we don't).
//   - Int: a JSON number written as an integer (no fraction or exponent, so 1.0 and 1e2 are
//     rejected) in the signed 32-bit range.
//   - Float: any JSON number that fits a float64.
//   - Boolean: true or false.
//   - Decimal: a JSON string holding a plain decimal number: optional minus sign, digits,
//     optionally a dot and digits ("10", "-0.5", "3075.0"); no exponent, no "+", no
//     surrounding space. A JSON number is rejected, even though the platform may coerce it.
//   - Handle: a non-empty JSON string with no whitespace or control characters.
//   - URL: a JSON string holding an absolute URL with a scheme and a host.
//   - Date: "YYYY-MM-DD". DateTime: RFC 3339 with a zone ("2025-04-01T10:00:00Z",
//     fractional seconds allowed). DateTimeWithoutTimezone: "YYYY-MM-DDTHH:MM:SS".
//     TimeWithoutTimezone: "HH:MM:SS" (both with optional fractional seconds).
//   - JSON: any JSON value. Void: only null.
//   - any other custom scalar: any JSON value.
//
// The JSON is decoded with UseNumber, so numbers keep their exact text. Validation problems
// come back as ValueErrors, each naming its path; an unknown or non-input type name, or a
// document that is not JSON, gives a plain error.
func (s *Schema) ValidateValue(typeName string, jsonValue []byte) error {
	def := s.schema.Types[typeName]
	if def == nil {
		return fmt.Errorf("schemacheck: unknown type %q", typeName)
	}
	switch def.Kind {
	case ast.InputObject, ast.Enum, ast.Scalar:
	default:
		return fmt.Errorf("schemacheck: %s is a %s, not an input type", typeName, def.Kind)
	}
	dec := json.NewDecoder(bytes.NewReader(jsonValue))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return fmt.Errorf("schemacheck: invalid JSON: %w", err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return fmt.Errorf("schemacheck: invalid JSON: data after the value")
	}
	c := &valueChecker{schema: s.schema}
	c.check("", &ast.Type{NamedType: typeName, NonNull: true}, v)
	if len(c.errs) > 0 {
		return c.errs
	}
	return nil
}

type valueChecker struct {
	schema *ast.Schema
	errs   ValueErrors
}

func (c *valueChecker) addf(path, format string, args ...any) {
	c.errs = append(c.errs, &ValueError{Path: path, Message: fmt.Sprintf(format, args...)})
}

func (c *valueChecker) check(path string, t *ast.Type, v any) {
	if v == nil {
		if t.NonNull {
			c.addf(path, "expected %s, got null", t)
		}
		return
	}
	if t.Elem != nil {
		items, ok := v.([]any)
		if !ok {
			c.addf(path, "expected list %s, got %s", t, describe(v))
			return
		}
		for i, item := range items {
			c.check(fmt.Sprintf("%s[%d]", path, i), t.Elem, item)
		}
		return
	}
	def := c.schema.Types[t.NamedType]
	if def == nil {
		c.addf(path, "type %s is not defined in the schema", t.NamedType)
		return
	}
	switch def.Kind {
	case ast.InputObject:
		c.checkObject(path, def, v)
	case ast.Enum:
		c.checkEnum(path, def, v)
	case ast.Scalar:
		if msg := checkScalar(def.Name, v); msg != "" {
			c.addf(path, "%s", msg)
		}
	default:
		c.addf(path, "%s is a %s, not an input type", def.Name, def.Kind)
	}
}

func (c *valueChecker) checkObject(path string, def *ast.Definition, v any) {
	obj, ok := v.(map[string]any)
	if !ok {
		c.addf(path, "expected input object %s, got %s", def.Name, describe(v))
		return
	}
	oneOf := def.Directives.ForName("oneOf") != nil
	var present []string
	for _, f := range def.Fields {
		fv, ok := obj[f.Name]
		fpath := joinKey(path, f.Name)
		if !ok {
			if f.Type.NonNull && f.DefaultValue == nil {
				c.addf(fpath, "required field %s.%s (%s) is missing", def.Name, f.Name, f.Type)
			}
			continue
		}
		present = append(present, f.Name)
		if oneOf && fv == nil {
			c.addf(fpath, "oneOf field %s.%s must be non-null", def.Name, f.Name)
			continue
		}
		c.check(fpath, f.Type, fv)
	}
	var unknown []string
	for k := range obj {
		if def.Fields.ForName(k) == nil {
			unknown = append(unknown, k)
		}
	}
	sort.Strings(unknown)
	for _, k := range unknown {
		c.addf(joinKey(path, k), "unknown field %q on %s", k, def.Name)
	}
	if oneOf && len(present) != 1 {
		if len(present) == 0 {
			names := make([]string, len(def.Fields))
			for i, f := range def.Fields {
				names[i] = f.Name
			}
			c.addf(path, "oneOf requires exactly one field, got 0 (%s takes one of %s)",
				def.Name, strings.Join(names, ", "))
		} else {
			c.addf(path, "oneOf requires exactly one field, got %d (%s)",
				len(present), strings.Join(present, ", "))
		}
	}
}

func (c *valueChecker) checkEnum(path string, def *ast.Definition, v any) {
	s, ok := v.(string)
	if !ok {
		c.addf(path, "expected enum %s, got %s", def.Name, describe(v))
		return
	}
	if def.EnumValues.ForName(s) != nil {
		return
	}
	names := make([]string, len(def.EnumValues))
	for i, ev := range def.EnumValues {
		names[i] = ev.Name
	}
	c.addf(path, "%q is not a value of enum %s (%s)", s, def.Name, strings.Join(names, ", "))
}

var (
	decimalRe = regexp.MustCompile(`^-?[0-9]+(\.[0-9]+)?$`)
	intRe     = regexp.MustCompile(`^-?[0-9]+$`)
)

// checkScalar returns "" when v is a valid value of the scalar, else the problem.
func checkScalar(name string, v any) string {
	str, isString := v.(string)
	wantString := func(what string) string {
		if !isString {
			return fmt.Sprintf("expected %s (%s), got %s", name, what, describe(v))
		}
		return ""
	}
	switch name {
	case "String", "ID":
		return wantString("a JSON string")
	case "Boolean":
		if _, ok := v.(bool); !ok {
			return fmt.Sprintf("expected Boolean, got %s", describe(v))
		}
		return ""
	case "Int":
		n, ok := v.(json.Number)
		if !ok {
			return fmt.Sprintf("expected Int, got %s", describe(v))
		}
		if !intRe.MatchString(n.String()) {
			return fmt.Sprintf("expected Int, got non-integer number %s", n)
		}
		if _, err := strconv.ParseInt(n.String(), 10, 32); err != nil {
			return fmt.Sprintf("expected Int, got %s (outside the 32-bit range)", n)
		}
		return ""
	case "Float":
		n, ok := v.(json.Number)
		if !ok {
			return fmt.Sprintf("expected Float, got %s", describe(v))
		}
		f, err := strconv.ParseFloat(n.String(), 64)
		if err != nil || math.IsInf(f, 0) {
			return fmt.Sprintf("expected Float, got %s (not a finite float64)", n)
		}
		return ""
	case "Decimal":
		if msg := wantString("a decimal number in a JSON string"); msg != "" {
			return msg
		}
		if !decimalRe.MatchString(str) {
			return fmt.Sprintf("expected Decimal, got %q (not a decimal number)", str)
		}
		return ""
	case "Handle":
		if msg := wantString("a JSON string"); msg != "" {
			return msg
		}
		if str == "" || strings.IndexFunc(str, func(r rune) bool {
			return r <= ' ' || r == 0x7f || r == 0x85 || r == 0xa0 || r == 0x2028 || r == 0x2029
		}) >= 0 {
			return fmt.Sprintf("expected Handle, got %q (empty or with whitespace)", str)
		}
		return ""
	case "URL":
		if msg := wantString("an absolute URL in a JSON string"); msg != "" {
			return msg
		}
		u, err := url.Parse(str)
		if err != nil || u.Scheme == "" || u.Host == "" {
			return fmt.Sprintf("expected URL, got %q (not an absolute URL with scheme and host)", str)
		}
		return ""
	case "Date":
		return checkTime(name, "2006-01-02", v)
	case "DateTime":
		return checkTime(name, time.RFC3339Nano, v)
	case "DateTimeWithoutTimezone":
		return checkTime(name, "2006-01-02T15:04:05", v)
	case "TimeWithoutTimezone":
		return checkTime(name, "15:04:05", v)
	case "Void":
		return fmt.Sprintf("expected Void (null), got %s", describe(v))
	default: // JSON and unknown custom scalars
		return ""
	}
}

// checkTime parses a time string. When parsing, Go accepts a fractional second after the
// seconds field even if the layout has none.
func checkTime(name, layout string, v any) string {
	str, ok := v.(string)
	if !ok {
		return fmt.Sprintf("expected %s (a JSON string), got %s", name, describe(v))
	}
	if _, err := time.Parse(layout, str); err != nil {
		return fmt.Sprintf("expected %s, got %q", name, str)
	}
	return ""
}

var identRe = regexp.MustCompile(`^[_A-Za-z][_0-9A-Za-z]*$`)

// joinKey appends an object key to a path: a.b, or a["odd key"] when the key is not a name.
func joinKey(path, key string) string {
	if !identRe.MatchString(key) {
		return path + "[" + strconv.Quote(key) + "]"
	}
	if path == "" {
		return key
	}
	return path + "." + key
}

// describe names a decoded JSON value for messages.
func describe(v any) string {
	switch x := v.(type) {
	case nil:
		return "null"
	case bool:
		return fmt.Sprintf("boolean %t", x)
	case json.Number:
		return "number " + x.String()
	case string:
		if r := []rune(x); len(r) > 40 {
			x = string(r[:40]) + "..."
		}
		return "string " + strconv.Quote(x)
	case []any:
		return fmt.Sprintf("list of %d", len(x))
	case map[string]any:
		return "object"
	default:
		return fmt.Sprintf("%T", v)
	}
}
