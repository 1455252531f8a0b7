package app

import (
	"net/http"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/filesystem"

	"github.com/regularsapp/regulars/discountfn"
	"github.com/regularsapp/regulars/web"
)

// Development tools: a checkout simulator page for the demo shop, backed by the same engine the
// checkout endpoint calls. They are registered only in development mode: they have no
// authentication and show every offer's reasoning.

// devRoutes registers the development tools.
func (s *Server) devRoutes(app *fiber.App) {
	app.Get("/", func(c *fiber.Ctx) error { return c.Redirect("/dev/", fiber.StatusFound) })
	dev := app.Group("/dev")
	dev.Get("/api/demo", s.devDemoHandler)
	dev.Post("/api/simulate", s.devSimulateHandler)
	if s.hooks != nil {
		dev.Get("/api/events/stats", s.devEventStatsHandler)
	}
	dev.Use("/", filesystem.New(filesystem.Config{Root: http.FS(web.Devtools), PathPrefix: "devtools", Index: "simulator.html"}))
}

// devDemoHandler describes the demo shop for the simulator page.
func (s *Server) devDemoHandler(c *fiber.Ctx) error {
	set, _, err := s.src.Checkout(c.UserContext(), demoShop)
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{
		"shop":           demoShop,
		"currency":       set.Settings().Currency,
		"products":       demoCatalog(),
		"customers":      demoCustomers(),
		"offers":         demoOffers(),
		"collection_ids": set.CollectionIDs(),
		"customer_tags":  set.CustomerTags(),
	})
}

// devEventStatsHandler reports a shop's webhook queue (the demo shop unless ?shop= names
// another): events pending, done and failed, and when the last one was processed. The load
// harness (cmd/regulars-load) polls it to see its deliveries through.
func (s *Server) devEventStatsHandler(c *fiber.Ctx) error {
	shop := c.Query("shop", demoShop)
	stats, err := s.hooks.QueueStats(c.UserContext(), shop)
	if err != nil {
		return err
	}
	var last *string
	if stats.LastProcessedAt != nil {
		t := stats.LastProcessedAt.Format(time.RFC3339Nano)
		last = &t
	}
	return c.JSON(fiber.Map{
		"shop": shop, "pending": stats.Pending, "done": stats.Done, "failed": stats.Failed,
		"last_processed_at": last,
	})
}

// simulation is the simulator's answer: both run targets, every offer explained.
type simulation struct {
	CartLines       discountfn.Result `json:"cart_lines"`
	DeliveryOptions discountfn.Result `json:"delivery_options"`
}

// devSimulateHandler runs a function input for the demo shop through both targets, with the
// buyer's facts from the source, and returns every offer's outcome.
func (s *Server) devSimulateHandler(c *fiber.Ctx) error {
	in, err := decodeInput(c.BodyRaw())
	if err != nil {
		return err
	}
	ctx := c.UserContext()
	set, codes, err := s.src.Checkout(ctx, demoShop)
	if err != nil {
		return err
	}
	facts, err := s.src.Facts(ctx, demoShop, discountfn.BuyerFromInput(in))
	if err != nil {
		return err
	}
	var out simulation
	for target, res := range map[discountfn.Target]*discountfn.Result{
		discountfn.TargetCartLines: &out.CartLines, discountfn.TargetDeliveryOptions: &out.DeliveryOptions,
	} {
		r, err := set.Evaluate(discountfn.Request{Input: in, Target: target, Facts: facts, Codes: codes, Now: s.now(), Explain: true})
		if err != nil {
			return badRequest(err, "%v", err)
		}
		*res = r
	}
	return c.JSON(out)
}
