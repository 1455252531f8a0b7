package app

import (
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/regularsapp/regulars/store"
)

// GET /api/analytics/cod-orders: the shop's cash-on-delivery orders that used an offer which
// switches cash on delivery off (store.FlagCODOffer), newest first, whether each is tagged on
// the platform yet, and per offer how many such orders and their total.
//
//	{"orders": [{"order_id", "offer_ids", "total", "placed_at", "tagged"}],
//	 "offers": [{"offer_id", "orders", "total"}]}

type codOrdersView struct {
	Orders []codOrderView      `json:"orders"`
	Offers []codOfferCountView `json:"offers"`
}

type codOrderView struct {
	OrderID  string    `json:"order_id"`
	OfferIDs []string  `json:"offer_ids"`
	Total    int64     `json:"total"`
	PlacedAt time.Time `json:"placed_at"`
	Tagged   bool      `json:"tagged"`
}

type codOfferCountView struct {
	OfferID string `json:"offer_id"`
	Orders  int    `json:"orders"`
	Total   int64  `json:"total"`
}

func (s *Server) codOrdersHandler(c *fiber.Ctx) error {
	shop, err := adminShop(c)
	if err != nil {
		return err
	}
	flags, err := s.st.ListOrderFlags(c.UserContext(), shop, false)
	if err != nil {
		return err
	}
	out := codOrdersView{Orders: []codOrderView{}, Offers: []codOfferCountView{}}
	index := map[string]int{}
	for _, f := range flags {
		if f.Kind != store.FlagCODOffer {
			continue
		}
		out.Orders = append(out.Orders, codOrderView{OrderID: f.OrderID, OfferIDs: f.OfferIDs, Total: f.Total,
			PlacedAt: f.PlacedAt, Tagged: f.TaggedAt != nil})
		for _, id := range f.OfferIDs {
			i, ok := index[id]
			if !ok {
				i = len(out.Offers)
				index[id] = i
				out.Offers = append(out.Offers, codOfferCountView{OfferID: id})
			}
			out.Offers[i].Orders++
			out.Offers[i].Total += f.Total
		}
	}
	return c.JSON(out)
}
