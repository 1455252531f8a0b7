// Package shopgen generates a large shop for load and analytics measurements: a catalog,
// customers, a mix of valid offers and segments, unique codes, and years of order history with
// lines, refunds, cancellations, cash-on-delivery orders and redemptions of the offers, as
// store.BulkShop for store.BulkLoad. Everything follows from the Config: the same Config gives
// the same data.
//
// The catalog and the customers' identities (ids, emails, phones, addresses) depend on their
// index only, not on the seed, so a harness can build checkout carts for a generated shop
// knowing only its size (see Catalog and Identity); what the seed decides (tags, offers,
// history) it reads back from the database.
package shopgen

import (
	"fmt"
	"math/rand/v2"

	"github.com/regularsapp/regulars/discountfn"
)

// Catalog sizes. A real input query asks the platform about every collection any offer
// names, for every cart line, and the function input is capped at 128,000 bytes: a shop
// scopes its offers to a handful of collections, not hundreds.
const (
	catalogProducts    = 400
	catalogCollections = 10
	variantsPerProduct = 3
)

// Product is one product of the catalog with its variants.
type Product struct {
	ID          string   // gid://shopify/Product/N
	Title       string   // unique
	VariantIDs  []string // gid://shopify/ProductVariant/N
	Price       discountfn.Money
	Collections []string // collection GIDs the product is in
	GiftCard    bool
}

// Catalog is the shop's products and collections. It does not depend on the seed.
type Catalog struct {
	Products    []Product
	Collections []string
}

// NewCatalog returns the catalog every generated shop sells.
func NewCatalog() Catalog {
	rng := rand.New(rand.NewPCG(0x5eed, 0xca7a109)) // fixed: the catalog is the same for every seed
	c := Catalog{}
	for j := range catalogCollections {
		c.Collections = append(c.Collections, fmt.Sprintf("gid://shopify/Collection/%d", 4_000_000+j))
	}
	for p := range catalogProducts {
		prod := Product{
			ID:    fmt.Sprintf("gid://shopify/Product/%d", 8_000_000+p),
			Title: fmt.Sprintf("%s %s %d", adjectives[p%len(adjectives)], nouns[p%len(nouns)], p),
			// Prices from 3.00 to about 150.00, most of them low.
			Price:    discountfn.Money(300 + rng.IntN(40)*rng.IntN(40)*10 + rng.IntN(100)),
			GiftCard: p == catalogProducts-1,
		}
		for v := range variantsPerProduct {
			prod.VariantIDs = append(prod.VariantIDs, fmt.Sprintf("gid://shopify/ProductVariant/%d", 9_000_000+p*variantsPerProduct+v))
		}
		if !prod.GiftCard {
			prod.Collections = append(prod.Collections, c.Collections[p%catalogCollections])
			if p%3 == 0 {
				if second := c.Collections[(p*7+3)%catalogCollections]; second != prod.Collections[0] {
					prod.Collections = append(prod.Collections, second)
				}
			}
		}
		c.Products = append(c.Products, prod)
	}
	return c
}

// popularProduct picks a product, the first ones much more often than the last (sales follow
// a long tail), never the gift card.
func (c *Catalog) popularProduct(rng *rand.Rand) *Product {
	u := rng.Float64()
	return &c.Products[int(u*u*float64(len(c.Products)-1))]
}

var (
	adjectives = []string{"Wool", "Cotton", "Linen", "Enamel", "Oak", "Copper", "Ceramic", "Canvas", "Leather", "Bamboo", "Glass"}
	nouns      = []string{"socks", "mug", "kettle", "scarf", "tote", "notebook", "candle", "blanket", "teapot", "apron", "bowl", "coffee"}
)
