package app

import (
	"bytes"
	"html/template"

	"github.com/gofiber/fiber/v2"

	"github.com/regularsapp/regulars/web"
)

// The embedded page, GET /app: what the platform's admin frames. An interim page until the
// admin UI replaces it (web/interim/app.html): the shop's offers with their platform sync state,
// pause and resume, and a form for a purchase-driven coupon, all through the admin API with the
// ID token App Bridge gives (the platform's, or the stand-in's App Bridge shim).

// appPageData fills appPage.
type appPageData struct {
	Shop         string // the verified shop, "" when the request proves none
	ClientID     string
	AppBridgeSrc string // the platform's App Bridge, or the stand-in's
}

// appPage is parsed once; it is never changed.
var appPage = template.Must(template.New("app").Parse(web.Interim))

// appPageHandler serves the embedded page, framable only by the shop it proves (see
// setFrameAncestors).
func (s *Server) appPageHandler(c *fiber.Ctx) error {
	shop := s.documentShop(c)
	var buf bytes.Buffer
	bridge := "https://cdn.shopify.com/shopifycloud/app-bridge.js"
	if s.cfg.PlatformURL != "" {
		bridge = s.cfg.PlatformURL + "/app-bridge.js"
	}
	err := appPage.Execute(&buf, appPageData{Shop: shop, ClientID: s.cfg.ClientID, AppBridgeSrc: bridge})
	if err != nil {
		return err
	}
	s.setFrameAncestors(c, shop)
	c.Set(fiber.HeaderCacheControl, "no-store")
	c.Set(fiber.HeaderContentType, fiber.MIMETextHTMLCharsetUTF8)
	return c.Send(buf.Bytes())
}
