// Package schemacheck validates GraphQL documents and JSON values against a GraphQL schema
// (SDL), with gqlparser only.
//
// It answers two questions our tests ask about the platform's Function API:
//   - is this input query one the platform would accept (ValidateQuery, and
//     ValidateQueryForTarget for the @restrictTarget directive of function schemas)?
//   - is this JSON a valid value of that input type, e.g. is our run result a valid
//     CartLinesDiscountsGenerateRunResult (ValidateValue)?
package schemacheck

import (
	"fmt"
	"os"
	"slices"
	"strings"

	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
	"github.com/vektah/gqlparser/v2/parser"
	"github.com/vektah/gqlparser/v2/validator"
)

// Schema is a loaded, validated schema.
type Schema struct {
	schema *ast.Schema
}

// Load parses and validates the SDL sources (the GraphQL prelude is added, as
// gqlparser.LoadSchema does).
//
// Schemas printed from introspection, like the platform's function schemas, declare the
// built-in scalars (`scalar ID`, `scalar String`, ...) although the spec says SDL must not.
// gqlparser rejects those as redeclarations, so Load drops a source's declaration of a
// built-in scalar (only a scalar declaration: `type ID {...}` is still rejected).
func Load(sources ...*ast.Source) (*Schema, error) {
	if len(sources) == 0 {
		return nil, fmt.Errorf("schemacheck: no schema source")
	}
	doc, err := parser.ParseSchemas(append([]*ast.Source{validator.Prelude}, sources...)...)
	if err != nil {
		return nil, gqlerror.WrapIfUnwrapped(err)
	}
	builtin := map[string]bool{}
	for _, def := range doc.Definitions {
		if def.BuiltIn && def.Kind == ast.Scalar {
			builtin[def.Name] = true
		}
	}
	doc.Definitions = slices.DeleteFunc(doc.Definitions, func(def *ast.Definition) bool {
		return !def.BuiltIn && def.Kind == ast.Scalar && builtin[def.Name]
	})
	s, err := validator.ValidateSchemaDocument(doc)
	if err != nil {
		return nil, err
	}
	return &Schema{schema: s}, nil
}

// LoadString loads one SDL text; name is used in error positions.
func LoadString(name, sdl string) (*Schema, error) {
	return Load(&ast.Source{Name: name, Input: sdl})
}

// LoadFiles reads and loads SDL files.
func LoadFiles(paths ...string) (*Schema, error) {
	sources := make([]*ast.Source, 0, len(paths))
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			return nil, fmt.Errorf("schemacheck: %w", err)
		}
		sources = append(sources, &ast.Source{Name: p, Input: string(b)})
	}
	return Load(sources...)
}

// AST returns the underlying gqlparser schema. Callers must not modify it.
func (s *Schema) AST() *ast.Schema { return s.schema }

// ValidateQuery parses an executable document (operations and fragments) and validates it
// against the schema with all of gqlparser's validation rules (the spec's rules). The error,
// if any, is a gqlerror.List holding every problem found, each with its line and column.
func (s *Schema) ValidateQuery(query string) error {
	_, err := s.loadQuery(query)
	return err
}

func (s *Schema) loadQuery(query string) (*ast.QueryDocument, error) {
	doc, err := parser.ParseQuery(&ast.Source{Name: "query", Input: query})
	if err != nil {
		return nil, gqlerror.List{gqlerror.WrapIfUnwrapped(err)}
	}
	if errs := validator.Validate(s.schema, doc); len(errs) > 0 {
		return nil, errs
	}
	return doc, nil
}

// ValidateQueryForTarget is ValidateQuery for a function input query of one target
// (e.g. "cart.lines.discounts.generate.run"). On top of the spec's rules it requires query
// operations only, and honours the function schemas' field directive
// `@restrictTarget(only: [String!]!)`: a field carrying it may only be selected by the
// targets it lists (enteredDiscountCodes is fetch-only, fetchResult run-only, ...).
// The error, if any, is a gqlerror.List.
func (s *Schema) ValidateQueryForTarget(query, target string) error {
	doc, err := s.loadQuery(query)
	if err != nil {
		return err
	}
	var errs gqlerror.List
	for _, op := range doc.Operations {
		if op.Operation != ast.Query {
			errs = append(errs, gqlerror.ErrorPosf(op.Position,
				"target %s: an input query must be a query operation, got %s", target, op.Operation))
		}
	}
	events := &validator.Events{}
	events.OnField(func(_ *validator.Walker, field *ast.Field) {
		if field.Definition == nil || field.ObjectDefinition == nil {
			return
		}
		only, restricted := restrictedTargets(field.Definition)
		if restricted && !slices.Contains(only, target) {
			errs = append(errs, gqlerror.ErrorPosf(field.Position,
				"field %s.%s is not available to target %s (only %s)",
				field.ObjectDefinition.Name, field.Name, target, strings.Join(only, ", ")))
		}
	})
	validator.Walk(s.schema, doc, events)
	if len(errs) > 0 {
		return errs
	}
	return nil
}

// restrictedTargets reads @restrictTarget(only: [...]) off a field definition.
func restrictedTargets(def *ast.FieldDefinition) ([]string, bool) {
	d := def.Directives.ForName("restrictTarget")
	if d == nil {
		return nil, false
	}
	arg := d.Arguments.ForName("only")
	if arg == nil || arg.Value == nil {
		return nil, true
	}
	var only []string
	if arg.Value.Kind == ast.ListValue {
		for _, c := range arg.Value.Children {
			only = append(only, c.Value.Raw)
		}
	} else {
		only = append(only, arg.Value.Raw)
	}
	return only, true
}
