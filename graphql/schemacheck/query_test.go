package schemacheck

import (
	"errors"
	"strings"
	"testing"

	"github.com/vektah/gqlparser/v2/gqlerror"
)

func TestValidateQuery(t *testing.T) {
	s := loadFunctionSchema(t)
	good := `query Input($collectionIds: [ID!]) {
		cart { lines { id quantity merchandise { __typename ... on ProductVariant { id
			product { inCollections(ids: $collectionIds) { collectionId isMember } } } } } }
		discount { discountClasses metafield(namespace: "$app:regulars", key: "function-configuration") { jsonValue } }
	}`
	if err := s.ValidateQuery(good); err != nil {
		t.Errorf("good query rejected: %v", err)
	}

	tests := []struct {
		name  string
		query string
		want  []string
	}{
		{
			name:  "unknown field",
			query: `query { cart { lines { id price } } }`,
			want:  []string{`Cannot query field "price" on type "CartLine"`},
		},
		{
			name:  "every problem listed",
			query: `query { cart { lines { id price } nope } discount { metafield { value } } }`,
			want: []string{
				`Cannot query field "price" on type "CartLine"`,
				`Cannot query field "nope" on type "Cart"`,
				`argument "key" of type "String!" is required`,
			},
		},
		{
			name:  "undefined variable",
			query: `query { cart { buyerIdentity { customer { hasTags(tags: $tags) { tag } } } } }`,
			want:  []string{`Variable "$tags" is not defined`},
		},
		{
			name:  "incompatible variable",
			query: `query($ids: [String!]) { cart { lines { merchandise { ... on ProductVariant { product { inAnyCollection(ids: $ids) } } } } } }`,
			want:  []string{`Variable "$ids" of type "[String!]" used in position expecting type "[ID!]!"`},
		},
		{
			name:  "syntax error",
			query: `query { cart {`,
			want:  []string{`Expected Name, found <EOF>`},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := s.ValidateQuery(tt.query)
			if err == nil {
				t.Fatal("query accepted")
			}
			var list gqlerror.List
			if !errors.As(err, &list) {
				t.Fatalf("error is %T, want gqlerror.List", err)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
		})
	}
}

func TestValidateQueryForTarget(t *testing.T) {
	s := loadFunctionSchema(t)
	const fetch, run = "cart.lines.discounts.generate.fetch", "cart.lines.discounts.generate.run"
	if err := s.ValidateQueryForTarget(`query { enteredDiscountCodes }`, fetch); err != nil {
		t.Errorf("fetch-only field on fetch target: %v", err)
	}
	if err := s.ValidateQueryForTarget(`query { fetchResult { status } triggeringDiscountCode }`, run); err != nil {
		t.Errorf("run-only fields on run target: %v", err)
	}
	err := s.ValidateQueryForTarget(`query { enteredDiscountCodes }`, run)
	if err == nil || !strings.Contains(err.Error(), "field Input.enteredDiscountCodes is not available to target "+run) {
		t.Errorf("fetch-only field on run target: %v", err)
	}
	err = s.ValidateQueryForTarget(`query { ...F } fragment F on Input { fetchResult { status } }`, fetch)
	if err == nil || !strings.Contains(err.Error(), "field Input.fetchResult is not available") {
		t.Errorf("run-only field through a fragment on fetch target: %v", err)
	}
	err = s.ValidateQueryForTarget(`query { cart { nope } }`, fetch)
	if err == nil || !strings.Contains(err.Error(), `Cannot query field "nope"`) {
		t.Errorf("spec rules still apply: %v", err)
	}
}

func TestLoad(t *testing.T) {
	if _, err := Load(); err == nil {
		t.Error("Load() with no source succeeded")
	}
	if _, err := LoadString("bad.graphql", `type Query { a: Nope }`); err == nil {
		t.Error("schema with an undefined type loaded")
	}
	if _, err := LoadString("bad.graphql", `type Query { a: Int } type ID { x: Int }`); err == nil {
		t.Error("schema redeclaring ID as an object type loaded")
	}
	s, err := LoadString("ok.graphql", `scalar ID scalar String type Query { a(id: ID): String }`)
	if err != nil {
		t.Fatalf("schema declaring built-in scalars: %v", err)
	}
	if s.AST().Types["ID"] == nil || !s.AST().Types["ID"].BuiltIn {
		t.Error("ID should be the prelude's")
	}
	if _, err := LoadFiles("no/such/file.graphql"); err == nil {
		t.Error("LoadFiles of a missing file succeeded")
	}
}
