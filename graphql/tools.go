//go:build tools

// This file pins the code generator's version in go.mod: `go run github.com/Khan/genqlient`
// (see generate.go) then builds exactly that version, from the module cache or the module
// proxy, with nothing installed by hand.
package graphql

import _ "github.com/Khan/genqlient"
