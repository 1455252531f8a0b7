package app

import (
	"bytes"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"mime"
	"path"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/regularsapp/regulars/web"
)

// The embedded admin UI, what the platform's admin frames: GET /app and every client route
// under it (/app/offers/123, ...) answer the app shell, web.Admin's index.html, with the App
// Bridge tags written in where web.AppBridgePlaceholder stands: App Bridge must be the page's
// first script. GET /app/assets/* answers the build's content-hashed assets, cached for a year.
// The shell is never cached, and only the shop a document request proves may frame it
// (setFrameAncestors).

const (
	// appBridgeCDN is the platform's App Bridge; with the local stand-in, its shim at
	// {PlatformURL}/app-bridge.js takes its place.
	appBridgeCDN = "https://cdn.shopify.com/shopifycloud/app-bridge.js"
	// assetCacheControl: asset names carry a hash of their content, so a name never changes
	// meaning.
	assetCacheControl = "public, max-age=31536000, immutable"
	// appAssetsPrefix is where the shell's assets live under /app (Vite's base /app/).
	appAssetsPrefix = "assets/"
)

// appHeadData fills appHead.
type appHeadData struct {
	ClientID     string
	AppBridgeSrc string
	Shop         string // the verified shop, "" when the request proves none
	Currency     string // the shop's currency, "" when unknown
}

// appHead is what replaces the placeholder: App Bridge (its API key as the platform's meta tag,
// and as data-api-key for older loaders), then what the UI needs to know of the shop.
var appHead = template.Must(template.New("head").Parse(
	`<meta name="shopify-api-key" content="{{.ClientID}}" />
    <script src="{{.AppBridgeSrc}}" data-api-key="{{.ClientID}}"></script>
    <meta name="regulars-shop" content="{{.Shop}}" />
    <meta name="regulars-currency" content="{{.Currency}}" />`))

// appShell is the built index.html cut at the placeholder: before and after it.
var appShell = mustAppShell(web.Admin)

type shellParts struct{ before, after []byte }

// mustAppShell reads index.html from the build and splits it at the placeholder, which must
// come before any script.
func mustAppShell(fsys fs.FS) shellParts {
	parts, err := loadAppShell(fsys)
	if err != nil {
		panic(err)
	}
	return parts
}

func loadAppShell(fsys fs.FS) (shellParts, error) {
	index, err := fs.ReadFile(fsys, "index.html")
	if err != nil {
		return shellParts{}, fmt.Errorf("admin UI: %w (build it: cd web && npm run build)", err)
	}
	before, after, ok := bytes.Cut(index, []byte(web.AppBridgePlaceholder))
	if !ok {
		return shellParts{}, fmt.Errorf("admin UI: index.html lacks %s", web.AppBridgePlaceholder)
	}
	if bytes.Contains(before, []byte("<script")) {
		return shellParts{}, errors.New("admin UI: a script comes before the App Bridge placeholder in index.html")
	}
	return shellParts{before: before, after: after}, nil
}

// appBridgeSrc is where the page loads App Bridge from: the platform's CDN, or the stand-in.
func (s *Server) appBridgeSrc() string {
	if s.cfg.PlatformURL != "" {
		return s.cfg.PlatformURL + "/app-bridge.js"
	}
	return appBridgeCDN
}

// appPageHandler serves GET /app and GET /app/*: an asset under /app/assets/, or else the app
// shell (the client routes the UI itself).
func (s *Server) appPageHandler(c *fiber.Ctx) error {
	rest := strings.TrimPrefix(c.Params("*"), "/")
	if strings.HasPrefix(rest, appAssetsPrefix) || rest+"/" == appAssetsPrefix {
		return s.appAsset(c, rest)
	}
	shop := s.documentShop(c)
	head := appHeadData{ClientID: s.cfg.ClientID, AppBridgeSrc: s.appBridgeSrc(), Shop: shop}
	if shop != "" && s.st != nil {
		// The currency lets money fields show and read amounts; the UI copes without it.
		if sh, err := s.st.GetShop(c.UserContext(), shop); err == nil {
			head.Currency = sh.Currency
		}
	}
	var buf bytes.Buffer
	buf.Grow(len(appShell.before) + len(appShell.after) + 512)
	buf.Write(appShell.before)
	if err := appHead.Execute(&buf, head); err != nil {
		return err
	}
	buf.Write(appShell.after)
	s.setFrameAncestors(c, shop)
	c.Set(fiber.HeaderCacheControl, "no-store")
	c.Set(fiber.HeaderContentType, fiber.MIMETextHTMLCharsetUTF8)
	return c.Send(buf.Bytes())
}

// appAsset answers one file of the build's assets directory, or 404.
func (s *Server) appAsset(c *fiber.Ctx, name string) error {
	if !fs.ValidPath(name) || path.Clean(name) != name {
		return ErrNotFound
	}
	body, err := fs.ReadFile(web.Admin, name)
	if err != nil {
		return ErrNotFound
	}
	ctype := mime.TypeByExtension(path.Ext(name))
	if ctype == "" {
		ctype = fiber.MIMEOctetStream
	}
	c.Set(fiber.HeaderContentType, ctype)
	c.Set(fiber.HeaderCacheControl, assetCacheControl)
	c.Set(fiber.HeaderXContentTypeOptions, "nosniff")
	return c.Send(body)
}

// apiNotFoundHandler answers every /api path no route took: a JSON 404 like every error.
func (s *Server) apiNotFoundHandler(*fiber.Ctx) error {
	return ErrNotFound
}
