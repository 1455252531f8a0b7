// Package web holds the browser-facing assets embedded in the binary.
package web

import (
	"embed"
	"io/fs"
)

// Devtools is the development-only checkout simulator page, served by the app in development
// mode at /dev/.
//
//go:embed devtools
var Devtools embed.FS

// dist is the built admin UI (a Vite + React app, sources in this directory): index.html and
// content-hashed assets under assets/. It is committed so that the Go build needs no Node;
// web/scripts/check-dist rebuilds it and fails when the committed output is not what the
// sources make.
//
//go:embed dist
var dist embed.FS

// Admin is the built admin UI, rooted at dist/: index.html (the app shell, with the
// AppBridgePlaceholder comment where the server writes the App Bridge tags) and assets/*.
var Admin fs.FS = mustSub(dist, "dist")

// AppBridgePlaceholder marks, in Admin's index.html, where the server injects the App Bridge
// meta and script tags, before any other script.
const AppBridgePlaceholder = "<!--regulars:app-bridge-->"

func mustSub(f fs.FS, dir string) fs.FS {
	sub, err := fs.Sub(f, dir)
	if err != nil {
		panic(err)
	}
	return sub
}
