// Package web holds the browser-facing assets embedded in the binary.
package web

import "embed"

// Devtools is the development-only checkout simulator page, served by the app in development
// mode at /dev/.
//
//go:embed devtools
var Devtools embed.FS

// Interim is the embedded admin page served at /app until the admin UI replaces it: a Go
// html/template.
//
//go:embed interim/app.html
var Interim string
