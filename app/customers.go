package app

import (
	"strconv"

	"github.com/gofiber/fiber/v2"

	"github.com/regularsapp/regulars/discountfn"
)

// GET /api/customers?query=&limit= lists the shop's stored customers whose email or id contains
// query, for the simulator's customer picker: {"customers": [{"id", "email", "tags", "orders",
// "spend"}]}. Orders and spend count orders that are neither tests nor cancelled; spend is in
// minor units, before refunds.

// customerView is one customer of the list.
type customerView struct {
	ID     string           `json:"id"`
	Email  string           `json:"email"`
	Tags   []string         `json:"tags"`
	Orders int              `json:"orders"`
	Spend  discountfn.Money `json:"spend"`
}

// defaultCustomerLimit is the page size when the request names none.
const defaultCustomerLimit = 25

func (s *Server) listCustomersHandler(c *fiber.Ctx) error {
	shop, err := adminShop(c)
	if err != nil {
		return err
	}
	limit := defaultCustomerLimit
	if raw := c.Query("limit"); raw != "" {
		n, err := strconv.Atoi(raw)
		if err != nil || n < 1 || n > 100 {
			return badRequest(err, "limit must be a number from 1 to 100")
		}
		limit = n
	}
	found, err := s.st.SearchCustomers(c.UserContext(), shop, c.Query("query"), limit)
	if err != nil {
		return err
	}
	list := make([]customerView, len(found))
	for i, cu := range found {
		tags := cu.Tags
		if tags == nil {
			tags = []string{}
		}
		list[i] = customerView{ID: cu.ID, Email: cu.Email, Tags: tags, Orders: cu.Orders, Spend: cu.Spend}
	}
	return c.JSON(fiber.Map{"customers": list})
}
