// Package graphql is the app's typed client of the platform's Admin GraphQL API (version
// 2025-10, schema in schema/). It is the only package that imports genqlient.
//
// The operations live in operations/*.graphql; generated.go is generated from them by
// genqlient (configuration in genqlient.yaml) and committed. Client (client.go) adds the
// access token, honours the platform's cost-based throttling and retries transient
// failures; the small wrappers in admin.go return domain values and turn every mutation's
// userErrors into a *UserErrors.
package graphql

//go:generate go run github.com/Khan/genqlient genqlient.yaml
