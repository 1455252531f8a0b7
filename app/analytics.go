package app

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/regularsapp/regulars/store"
)

// The analytics API (PRODUCT.md G), over store.OfferStats, DailySeries and CampaignStats (whose
// doc comments define every figure). Dates are YYYY-MM-DD in the shop's timezone, both
// included: from=2026-11-01&to=2026-11-30 is the shop-local November. Without them the window
// is the last 30 days, today included. Money is in the shop's minor units.
//
//	GET /api/analytics/offers?from=&to=&offer_id=…&repeat_days=30
//	    {"from", "to", "timezone", "repeat_days", "offers": [{"offer_id", "name", figures...}]}
//	    offer_id is repeatable; without it, every offer of the shop that is not deleted. An
//	    offer id the shop does not have is 404.
//	GET /api/analytics/offers.csv   the same, as CSV (one row per offer)
//	GET /api/analytics/offers/:id/daily?from=&to=
//	    {"offer_id", "from", "to", "timezone", "days": [{"day", "uses", "discount", "revenue"}]}
//	GET /api/analytics/campaigns?from=&to=&repeat_days=30
//	    {"from", "to", "timezone", "repeat_days", "campaigns": [{"campaign", "offer_ids", figures...}]}
//	    offers grouped by their configuration's campaign (offers without one are left out),
//	    campaigns in name order.
//
// Bad dates, from after to, a window longer than maxAnalyticsDays, or a bad repeat_days are 400.

const (
	defaultAnalyticsDays = 30
	maxAnalyticsDays     = 3 * 366
	defaultRepeatDays    = 30
	maxRepeatDays        = 366
)

// analyticsWindow is a request's window: its dates and the instants [from, to) they mean.
type analyticsWindow struct {
	fromDay, toDay string
	from, to       time.Time
	loc            *time.Location
	tz             string
}

// analyticsWindowOf reads from= and to= in the shop's timezone.
func (s *Server) analyticsWindowOf(c *fiber.Ctx, shop string) (analyticsWindow, error) {
	st, err := s.st.GetSettings(c.UserContext(), shop)
	if err != nil {
		return analyticsWindow{}, err
	}
	loc, err := time.LoadLocation(st.Timezone)
	if err != nil {
		loc, st.Timezone = time.UTC, "UTC"
	}
	now := s.now().In(loc)
	today := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, loc)
	parse := func(name string, def time.Time) (time.Time, error) {
		raw := c.Query(name)
		if raw == "" {
			return def, nil
		}
		d, err := time.ParseInLocation(time.DateOnly, raw, loc)
		if err != nil {
			return time.Time{}, badRequest(err, "%s must be a date as YYYY-MM-DD", name)
		}
		return d, nil
	}
	toDate, err := parse("to", today)
	if err != nil {
		return analyticsWindow{}, err
	}
	fromDate, err := parse("from", toDate.AddDate(0, 0, -(defaultAnalyticsDays-1)))
	if err != nil {
		return analyticsWindow{}, err
	}
	if fromDate.After(toDate) {
		return analyticsWindow{}, badRequest(nil, "from must not be after to")
	}
	end := toDate.AddDate(0, 0, 1) // midnight after to, in loc
	if fromDate.AddDate(0, 0, maxAnalyticsDays).Before(end) {
		return analyticsWindow{}, badRequest(nil, "the window may be at most %d days", maxAnalyticsDays)
	}
	return analyticsWindow{
		fromDay: fromDate.Format(time.DateOnly), toDay: toDate.Format(time.DateOnly),
		from: fromDate, to: end, loc: loc, tz: st.Timezone,
	}, nil
}

// repeatDaysOf reads repeat_days=.
func repeatDaysOf(c *fiber.Ctx) (int, error) {
	raw := c.Query("repeat_days")
	if raw == "" {
		return defaultRepeatDays, nil
	}
	n, err := strconv.Atoi(raw)
	if err != nil || n < 0 || n > maxRepeatDays {
		return 0, badRequest(err, "repeat_days must be a whole number from 0 to %d", maxRepeatDays)
	}
	return n, nil
}

// offerStatView is one offer's figures with its name.
type offerStatView struct {
	store.OfferStat
	Name string `json:"name"`
}

// offerStats answers the figures of the requested offers.
func (s *Server) offerStats(c *fiber.Ctx) (analyticsWindow, int, []offerStatView, error) {
	shop, err := adminShop(c)
	if err != nil {
		return analyticsWindow{}, 0, nil, err
	}
	w, err := s.analyticsWindowOf(c, shop)
	if err != nil {
		return analyticsWindow{}, 0, nil, err
	}
	repeat, err := repeatDaysOf(c)
	if err != nil {
		return analyticsWindow{}, 0, nil, err
	}
	ctx := c.UserContext()
	rows, err := s.st.ListOffers(ctx, shop, true)
	if err != nil {
		return analyticsWindow{}, 0, nil, err
	}
	names := make(map[string]string, len(rows))
	var ids []string
	for _, row := range rows {
		o, err := offerFromRow(row)
		if err != nil {
			return analyticsWindow{}, 0, nil, err
		}
		names[row.ID] = o.Name
		if row.DeletedAt == nil {
			ids = append(ids, row.ID)
		}
	}
	if raw := c.Context().QueryArgs().PeekMulti("offer_id"); len(raw) > 0 {
		ids = ids[:0]
		for _, b := range raw {
			id := string(b)
			if _, ok := names[id]; !ok {
				return analyticsWindow{}, 0, nil, fmt.Errorf("analytics: offer %q: %w", id, ErrNotFound)
			}
			ids = append(ids, id)
		}
	}
	stats, err := s.st.OfferStats(ctx, shop, ids, w.from, w.to, w.loc, repeat)
	if err != nil {
		return analyticsWindow{}, 0, nil, err
	}
	views := make([]offerStatView, len(stats))
	for i, st := range stats {
		views[i] = offerStatView{OfferStat: st, Name: names[st.OfferID]}
	}
	return w, repeat, views, nil
}

// offerStatsHandler answers GET /api/analytics/offers.
func (s *Server) offerStatsHandler(c *fiber.Ctx) error {
	w, repeat, views, err := s.offerStats(c)
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"from": w.fromDay, "to": w.toDay, "timezone": w.tz, "repeat_days": repeat, "offers": views})
}

// offerStatsCSVHeader is the header row of offers.csv.
var offerStatsCSVHeader = []string{
	"offer_id", "name", "uses", "orders", "discount", "revenue", "aov_with", "aov_without", "orders_without",
	"customers", "new_customers", "returning_customers", "repeat_customers", "repeat_rate",
}

// offerStatsCSVHandler answers GET /api/analytics/offers.csv.
func (s *Server) offerStatsCSVHandler(c *fiber.Ctx) error {
	w, _, views, err := s.offerStats(c)
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	cw := csv.NewWriter(&buf)
	if err := cw.Write(offerStatsCSVHeader); err != nil {
		return fmt.Errorf("analytics csv: %w", err)
	}
	itoa := func(n int64) string { return strconv.FormatInt(n, 10) }
	for _, v := range views {
		err := cw.Write([]string{
			v.OfferID, v.Name, itoa(int64(v.Uses)), itoa(int64(v.Orders)), itoa(int64(v.Discount)), itoa(int64(v.Revenue)),
			itoa(int64(v.AOVWith)), itoa(int64(v.AOVWithout)), itoa(int64(v.OrdersWithout)), itoa(int64(v.Customers)),
			itoa(int64(v.New)), itoa(int64(v.Returning)), itoa(int64(v.RepeatCustomers)),
			strconv.FormatFloat(v.RepeatRate, 'f', 4, 64),
		})
		if err != nil {
			return fmt.Errorf("analytics csv: %w", err)
		}
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return fmt.Errorf("analytics csv: %w", err)
	}
	c.Set(fiber.HeaderContentType, "text/csv; charset=utf-8")
	c.Set(fiber.HeaderContentDisposition, fmt.Sprintf(`attachment; filename="offers-%s-%s.csv"`, w.fromDay, w.toDay))
	return c.Send(buf.Bytes())
}

// dailySeriesHandler answers GET /api/analytics/offers/:id/daily.
func (s *Server) dailySeriesHandler(c *fiber.Ctx) error {
	shop, err := adminShop(c)
	if err != nil {
		return err
	}
	id := c.Params("id")
	if _, err := s.st.GetOffer(c.UserContext(), shop, id); err != nil {
		return err
	}
	w, err := s.analyticsWindowOf(c, shop)
	if err != nil {
		return err
	}
	days, err := s.st.DailySeries(c.UserContext(), shop, id, w.from, w.to, w.loc)
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"offer_id": id, "from": w.fromDay, "to": w.toDay, "timezone": w.tz, "days": days})
}

// campaignStatsHandler answers GET /api/analytics/campaigns.
func (s *Server) campaignStatsHandler(c *fiber.Ctx) error {
	shop, err := adminShop(c)
	if err != nil {
		return err
	}
	w, err := s.analyticsWindowOf(c, shop)
	if err != nil {
		return err
	}
	repeat, err := repeatDaysOf(c)
	if err != nil {
		return err
	}
	ctx := c.UserContext()
	rows, err := s.st.ListOffers(ctx, shop, false)
	if err != nil {
		return err
	}
	byCampaign := map[string][]string{}
	for _, row := range rows {
		o, err := offerFromRow(row)
		if err != nil {
			return err
		}
		if o.Campaign != "" {
			byCampaign[o.Campaign] = append(byCampaign[o.Campaign], row.ID)
		}
	}
	campaigns := make([]store.CampaignOffers, 0, len(byCampaign))
	for _, name := range slices.Sorted(maps.Keys(byCampaign)) {
		campaigns = append(campaigns, store.CampaignOffers{Campaign: name, OfferIDs: byCampaign[name]})
	}
	stats, err := s.st.CampaignStats(ctx, shop, campaigns, w.from, w.to, w.loc, repeat)
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"from": w.fromDay, "to": w.toDay, "timezone": w.tz, "repeat_days": repeat, "campaigns": stats})
}
