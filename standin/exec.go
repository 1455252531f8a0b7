package standin

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
	"github.com/vektah/gqlparser/v2/parser"
	"github.com/vektah/gqlparser/v2/validator"
)

// The executor. Root fields resolve to plain Go values:
//
//   - an object is a map[string]any keyed by field name; an abstract type's value names its
//     concrete type under "__typename";
//   - a field that takes arguments (or is costly to build) is a resolver, called with the
//     field's arguments, defaults applied;
//   - a connection is a conn (its items, in order), paginated here with first/after/last/
//     before/reverse, into edges, nodes and pageInfo;
//   - lists are slices; scalars are strings, ints, bools, time.Time, json.RawMessage (JSON) or
//     json.Number (Float).
//
// The projector walks the request's selection set over those values: aliases, fragments and
// inline fragments (type conditions on unions and interfaces), __typename, @skip/@include,
// variables and argument defaults. A missing value of a non-null scalar, list or object type
// is filled with its zero value (the stand-in models the fields the app uses; the rest read as
// empty). Introspection fields (__schema, __type) are not served.

// resolver computes a field from its arguments.
type resolver func(args map[string]any) (any, error)

// conn is a connection's items before pagination.
type conn struct{ items []any }

// maxPageSize is the platform's largest page; a connection without first or last gets it.
const maxPageSize = 250

// object is a JSON object that keeps its keys in selection order.
type object struct {
	keys []string
	vals []any
	conn bool // the value of a connection field (bulk operations flatten these)
}

func (o *object) set(k string, v any) {
	for i, key := range o.keys {
		if key == k {
			o.vals[i] = v
			return
		}
	}
	o.keys = append(o.keys, k)
	o.vals = append(o.vals, v)
}

func (o *object) get(k string) (any, bool) {
	for i, key := range o.keys {
		if key == k {
			return o.vals[i], true
		}
	}
	return nil, false
}

// MarshalJSON writes the keys in order.
func (o *object) MarshalJSON() ([]byte, error) {
	if o == nil {
		return []byte("null"), nil
	}
	var b bytes.Buffer
	b.WriteByte('{')
	for i, k := range o.keys {
		if i > 0 {
			b.WriteByte(',')
		}
		kb, err := json.Marshal(k)
		if err != nil {
			return nil, fmt.Errorf("object key: %w", err)
		}
		b.Write(kb)
		b.WriteByte(':')
		vb, err := json.Marshal(o.vals[i])
		if err != nil {
			return nil, fmt.Errorf("object field %s: %w", k, err)
		}
		b.Write(vb)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

// gqlError is one entry of a response's errors.
type gqlError struct {
	Message    string         `json:"message"`
	Locations  []gqlLocation  `json:"locations,omitempty"`
	Path       []any          `json:"path,omitempty"`
	Extensions map[string]any `json:"extensions,omitempty"`
}

type gqlLocation struct {
	Line   int `json:"line"`
	Column int `json:"column"`
}

// fieldError is a resolver's error with the platform's extension code.
type fieldError struct {
	Message    string
	Code       string
	Extensions map[string]any
}

func (e *fieldError) Error() string { return e.Message }

func accessDenied(field, scope string) error {
	return &fieldError{
		Message: fmt.Sprintf("Access denied for %s field. Required access: `%s` access scope.", field, scope),
		Code:    "ACCESS_DENIED",
		Extensions: map[string]any{
			"documentation":  "https://shopify.dev/api/usage/access-scopes",
			"requiredAccess": fmt.Sprintf("`%s` access scope.", scope),
		},
	}
}

// executor runs one operation.
type executor struct {
	schema *ast.Schema
	vars   map[string]any
	errors []gqlError
	// cost is the actual cost so far (see cost.go).
	cost int
	// bulk ignores pagination arguments: a bulk operation reads every item.
	bulk bool
}

// parseAndValidate parses a document and validates it against schema with every rule of the
// spec; errors come back in the platform's shape.
func parseAndValidate(schema *ast.Schema, query string) (*ast.QueryDocument, []gqlError) {
	doc, err := parser.ParseQuery(&ast.Source{Name: "query", Input: query})
	if err != nil {
		return nil, fromGQLErrors(gqlerror.List{gqlerror.WrapIfUnwrapped(err)}, "PARSE_ERROR")
	}
	if errs := validator.Validate(schema, doc); len(errs) > 0 {
		return nil, fromGQLErrors(errs, "")
	}
	return doc, nil
}

// ruleCode maps gqlparser's rule names to the codes the platform's GraphQL server answers.
func ruleCode(rule string) string {
	switch rule {
	case "FieldsOnCorrectType":
		return "undefinedField"
	case "KnownArgumentNames":
		return "argumentNotAccepted"
	case "ProvidedRequiredArguments":
		return "missingRequiredArguments"
	case "KnownTypeNames":
		return "undefinedType"
	case "ValuesOfCorrectType":
		return "argumentLiteralsIncompatible"
	case "VariablesInAllowedPosition":
		return "variableMismatch"
	case "NoUndefinedVariables":
		return "variableNotDefined"
	case "NoUnusedVariables":
		return "variableNotUsed"
	case "ScalarLeafs":
		return "selectionMismatch"
	case "KnownFragmentNames":
		return "undefinedFragment"
	case "NoUnusedFragments":
		return "useAndDefineFragment"
	case "KnownDirectives":
		return "undefinedDirective"
	default:
		return "GRAPHQL_VALIDATION_FAILED"
	}
}

func fromGQLErrors(list gqlerror.List, code string) []gqlError {
	out := make([]gqlError, 0, len(list))
	for _, e := range list {
		c := code
		if c == "" {
			c = ruleCode(e.Rule)
		}
		ge := gqlError{Message: e.Message, Extensions: map[string]any{"code": c}}
		for _, l := range e.Locations {
			ge.Locations = append(ge.Locations, gqlLocation{Line: l.Line, Column: l.Column})
		}
		out = append(out, ge)
	}
	return out
}

// pickOperation finds the operation to run.
func pickOperation(doc *ast.QueryDocument, name string) (*ast.OperationDefinition, error) {
	if name != "" {
		op := doc.Operations.ForName(name)
		if op == nil {
			return nil, fmt.Errorf("no operation named %q", name)
		}
		return op, nil
	}
	if len(doc.Operations) != 1 {
		return nil, errors.New("an operation name is required when the document has several operations")
	}
	return doc.Operations[0], nil
}

// coerceVariables applies the operation's variable definitions (types, defaults).
func coerceVariables(schema *ast.Schema, op *ast.OperationDefinition, vars map[string]any) (map[string]any, []gqlError) {
	if vars == nil {
		vars = map[string]any{}
	}
	coerced, err := validator.VariableValues(schema, op, vars)
	if err != nil {
		var ge *gqlerror.Error
		msg := err.Error()
		if errors.As(err, &ge) {
			msg = "Variable " + ge.Message
			if len(ge.Path) > 1 {
				msg = "Variable $" + ge.Path[1:].String() + " " + ge.Message
			}
		}
		return nil, []gqlError{{Message: msg, Extensions: map[string]any{"code": "INVALID_VARIABLE"}}}
	}
	return coerced, nil
}

// run executes op over root, the root object's values.
func (e *executor) run(op *ast.OperationDefinition, root map[string]any) *object {
	def := e.schema.Query
	if op.Operation == ast.Mutation {
		def = e.schema.Mutation
	}
	return e.object(op.SelectionSet, def, root, nil, op.Operation == ast.Mutation)
}

func (e *executor) fail(err error, f *ast.Field, path []any) {
	ge := gqlError{Message: err.Error(), Path: slices.Clone(path), Extensions: map[string]any{"code": "INTERNAL_SERVER_ERROR"}}
	var fe *fieldError
	if errors.As(err, &fe) {
		ge.Extensions = map[string]any{"code": fe.Code}
		for k, v := range fe.Extensions {
			ge.Extensions[k] = v
		}
	}
	if f != nil && f.Position != nil {
		ge.Locations = []gqlLocation{{Line: f.Position.Line, Column: f.Position.Column}}
	}
	e.errors = append(e.errors, ge)
}

func (e *executor) args(f *ast.Field) (args map[string]any, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("argument of %s: %v", f.Name, r)
		}
	}()
	return f.ArgumentMap(e.vars), nil
}

// object projects val, an object of type def, through sel.
func (e *executor) object(sel ast.SelectionSet, def *ast.Definition, val map[string]any, path []any, mutationRoot bool) *object {
	concrete := def
	if def.IsAbstractType() {
		name, _ := val["__typename"].(string)
		concrete = e.schema.Types[name]
		if concrete == nil {
			e.fail(fmt.Errorf("no concrete type for %s", def.Name), nil, path)
			return nil
		}
	}
	out := &object{}
	for _, g := range e.collect(sel, concrete) {
		f := g.fields[0]
		if f.Name == "__typename" {
			out.set(g.key, concrete.Name)
			continue
		}
		fpath := append(slices.Clone(path), g.key)
		fd := concrete.Fields.ForName(f.Name)
		if fd == nil {
			out.set(g.key, nil)
			continue
		}
		args, err := e.args(f)
		if err != nil {
			e.fail(err, f, fpath)
			out.set(g.key, nil)
			continue
		}
		raw := val[f.Name]
		if r, ok := raw.(resolver); ok {
			raw, err = r(args)
			if err != nil {
				e.fail(err, f, fpath)
				out.set(g.key, nil)
				continue
			}
		}
		var sub ast.SelectionSet
		for _, gf := range g.fields {
			sub = append(sub, gf.SelectionSet...)
		}
		v := e.complete(fd.Type, sub, raw, args, fpath)
		if mutationRoot {
			if v == nil {
				e.cost += mutationCost
			} else {
				e.cost += mutationCost - 1 // the payload object counted 1
			}
		}
		out.set(g.key, v)
	}
	return out
}

// complete turns raw into the JSON value of type t.
func (e *executor) complete(t *ast.Type, sel ast.SelectionSet, raw any, args map[string]any, path []any) any {
	if isNil(raw) {
		if t.NonNull {
			return e.zero(t, sel, path)
		}
		return nil
	}
	if t.Elem != nil {
		rv := reflect.ValueOf(raw)
		if rv.Kind() != reflect.Slice {
			e.fail(fmt.Errorf("internal: %T is not a list", raw), nil, path)
			return nil
		}
		out := make([]any, rv.Len())
		for i := range out {
			out[i] = e.complete(t.Elem, sel, rv.Index(i).Interface(), nil, append(slices.Clone(path), i))
		}
		return out
	}
	def := e.schema.Types[t.NamedType]
	if def == nil {
		return nil
	}
	switch def.Kind {
	case ast.Scalar, ast.Enum:
		return scalarOut(def.Name, raw)
	}
	var m map[string]any
	switch v := raw.(type) {
	case map[string]any:
		m = v
	case conn:
		m = e.paginate(v, args)
	default:
		e.fail(fmt.Errorf("internal: %T is not an object", raw), nil, path)
		return nil
	}
	switch {
	case isConnectionType(def):
		e.cost += connectionCost
	case !isFreeType(def):
		e.cost++
	}
	o := e.object(sel, def, m, path, false)
	if o == nil {
		return nil
	}
	o.conn = isConnectionType(def)
	return o
}

func (e *executor) zero(t *ast.Type, sel ast.SelectionSet, path []any) any {
	if t.Elem != nil {
		return []any{}
	}
	def := e.schema.Types[t.NamedType]
	if def == nil {
		return nil
	}
	switch def.Kind {
	case ast.Scalar:
		switch def.Name {
		case "Int", "Float":
			return 0
		case "Boolean":
			return false
		case "UnsignedInt64":
			return "0"
		case "Decimal", "Money":
			return "0.0"
		case "JSON":
			return map[string]any{}
		default:
			return ""
		}
	case ast.Object:
		if isConnectionType(def) {
			return e.complete(t, sel, conn{}, nil, path)
		}
		return e.object(sel, def, map[string]any{}, path, false)
	}
	return nil
}

func isNil(v any) bool {
	if v == nil {
		return true
	}
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.Pointer, reflect.Map, reflect.Interface, reflect.Func:
		return rv.IsNil()
	case reflect.Slice:
		return rv.IsNil() && rv.Type() != reflect.TypeOf(json.RawMessage(nil))
	}
	return false
}

func scalarOut(typ string, raw any) any {
	switch v := raw.(type) {
	case int:
		return intOut(typ, int64(v))
	case int64:
		return intOut(typ, v)
	case time.Time:
		return v.UTC().Format(time.RFC3339)
	case *time.Time:
		return v.UTC().Format(time.RFC3339)
	}
	return raw
}

func intOut(typ string, v int64) any {
	switch typ {
	case "UnsignedInt64", "ID", "String", "BigInt":
		return strconv.FormatInt(v, 10)
	}
	return v
}

// isConnectionType: a Relay connection (edges, nodes, pageInfo).
func isConnectionType(def *ast.Definition) bool {
	return def.Kind == ast.Object && strings.HasSuffix(def.Name, "Connection") && def.Fields.ForName("pageInfo") != nil
}

// isFreeType: edges and page info cost nothing of their own.
func isFreeType(def *ast.Definition) bool {
	return def.Name == "PageInfo" || (strings.HasSuffix(def.Name, "Edge") && def.Fields.ForName("cursor") != nil)
}

// paginate applies reverse, after/before and first/last to c.
func (e *executor) paginate(c conn, args map[string]any) map[string]any {
	items := slices.Clone(c.items)
	if b, _ := args["reverse"].(bool); b {
		slices.Reverse(items)
	}
	lo, hi := 0, len(items)
	if s, ok := args["after"].(string); ok {
		if i, ok := decodeCursor(s); ok {
			lo = min(max(lo, i+1), hi)
		}
	}
	if s, ok := args["before"].(string); ok {
		if i, ok := decodeCursor(s); ok {
			hi = max(min(hi, i), lo)
		}
	}
	if !e.bulk {
		first, hasFirst := intArg(args, "first")
		last, hasLast := intArg(args, "last")
		switch {
		case hasFirst:
			hi = min(hi, lo+clampPage(first))
		case hasLast:
			lo = max(lo, hi-clampPage(last))
		default:
			hi = min(hi, lo+maxPageSize)
		}
	}
	edges := make([]any, 0, hi-lo)
	nodes := make([]any, 0, hi-lo)
	for i := lo; i < hi; i++ {
		edges = append(edges, map[string]any{"cursor": encodeCursor(i), "node": items[i]})
		nodes = append(nodes, items[i])
	}
	info := map[string]any{"hasNextPage": hi < len(items), "hasPreviousPage": lo > 0}
	if hi > lo {
		info["startCursor"] = encodeCursor(lo)
		info["endCursor"] = encodeCursor(hi - 1)
	}
	return map[string]any{"edges": edges, "nodes": nodes, "pageInfo": info}
}

func clampPage(n int) int { return min(max(n, 0), maxPageSize) }

func encodeCursor(i int) string {
	return base64.RawURLEncoding.EncodeToString([]byte("cursor:" + strconv.Itoa(i)))
}

func decodeCursor(s string) (int, bool) {
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return 0, false
	}
	n, ok := strings.CutPrefix(string(b), "cursor:")
	if !ok {
		return 0, false
	}
	i, err := strconv.Atoi(n)
	return i, err == nil && i >= 0
}

// fieldGroup is the fields sharing one response key.
type fieldGroup struct {
	key    string
	fields []*ast.Field
}

// collect gathers the fields of sel that apply to the concrete type, grouped by response key
// in first-seen order (the spec's CollectFields).
func (e *executor) collect(sel ast.SelectionSet, concrete *ast.Definition) []fieldGroup {
	var groups []fieldGroup
	visited := map[string]bool{}
	var walk func(ast.SelectionSet)
	walk = func(sel ast.SelectionSet) {
		for _, s := range sel {
			switch s := s.(type) {
			case *ast.Field:
				if !e.included(s.Directives) {
					continue
				}
				key := s.Alias
				if key == "" {
					key = s.Name
				}
				found := false
				for i := range groups {
					if groups[i].key == key {
						groups[i].fields = append(groups[i].fields, s)
						found = true
						break
					}
				}
				if !found {
					groups = append(groups, fieldGroup{key: key, fields: []*ast.Field{s}})
				}
			case *ast.InlineFragment:
				if e.included(s.Directives) && e.applies(s.TypeCondition, concrete) {
					walk(s.SelectionSet)
				}
			case *ast.FragmentSpread:
				if !e.included(s.Directives) || visited[s.Name] || s.Definition == nil {
					continue
				}
				visited[s.Name] = true
				if e.applies(s.Definition.TypeCondition, concrete) {
					walk(s.Definition.SelectionSet)
				}
			}
		}
	}
	walk(sel)
	return groups
}

func (e *executor) applies(cond string, concrete *ast.Definition) bool {
	if cond == "" || cond == concrete.Name {
		return true
	}
	def := e.schema.Types[cond]
	if def == nil {
		return false
	}
	switch def.Kind {
	case ast.Interface:
		return slices.Contains(concrete.Interfaces, cond)
	case ast.Union:
		return slices.Contains(def.Types, concrete.Name)
	}
	return false
}

func (e *executor) included(dirs ast.DirectiveList) bool {
	if d := dirs.ForName("skip"); d != nil {
		if b, _ := d.ArgumentMap(e.vars)["if"].(bool); b {
			return false
		}
	}
	if d := dirs.ForName("include"); d != nil {
		if b, _ := d.ArgumentMap(e.vars)["if"].(bool); !b {
			return false
		}
	}
	return true
}

// Argument helpers: variables arrive as JSON (numbers as float64 or json.Number), literals
// as int64.

func intArg(args map[string]any, name string) (int, bool) {
	v, ok := args[name]
	if !ok || v == nil {
		return 0, false
	}
	return asInt(v)
}

func asInt(v any) (int, bool) {
	switch n := v.(type) {
	case int:
		return n, true
	case int64:
		return int(n), true
	case float64:
		return int(n), n == float64(int(n))
	case json.Number:
		i, err := n.Int64()
		return int(i), err == nil
	case string:
		i, err := strconv.Atoi(n)
		return i, err == nil
	}
	return 0, false
}

func strArg(args map[string]any, name string) (string, bool) {
	v, ok := args[name]
	if !ok || v == nil {
		return "", false
	}
	switch s := v.(type) {
	case string:
		return s, true
	case json.Number:
		return s.String(), true
	case int64:
		return strconv.FormatInt(s, 10), true
	}
	return fmt.Sprint(v), true
}

func boolArg(args map[string]any, name string) (bool, bool) {
	b, ok := args[name].(bool)
	return b, ok
}

func mapArg(args map[string]any, name string) (map[string]any, bool) {
	m, ok := args[name].(map[string]any)
	return m, ok
}

func listArg(args map[string]any, name string) ([]any, bool) {
	v, ok := args[name]
	if !ok || v == nil {
		return nil, false
	}
	switch l := v.(type) {
	case []any:
		return l, true
	case []string:
		out := make([]any, len(l))
		for i, s := range l {
			out[i] = s
		}
		return out, true
	}
	rv := reflect.ValueOf(v)
	if rv.Kind() == reflect.Slice {
		out := make([]any, rv.Len())
		for i := range out {
			out[i] = rv.Index(i).Interface()
		}
		return out, true
	}
	return []any{v}, true
}

func stringList(args map[string]any, name string) []string {
	l, _ := listArg(args, name)
	out := make([]string, 0, len(l))
	for _, v := range l {
		if s, ok := v.(string); ok {
			out = append(out, s)
		}
	}
	return out
}
