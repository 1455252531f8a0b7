package shopgen

import (
	"fmt"
	"math/rand/v2"
	"strings"

	"github.com/regularsapp/regulars/discountfn"
	"github.com/regularsapp/regulars/store"
)

// Identity is who customer number i is, whatever the seed: the keys their history is stored
// under and their delivery address.
type Identity struct {
	ID        string // gid://shopify/Customer/N
	FirstName string
	LastName  string
	Email     string // normalized
	Phone     string // normalized; "" for the customers who gave none
	Address1  string
	City      string
	Zip       string
	Country   string // ISO 3166 alpha-2
}

// CustomerIdentity is customer number i's identity (0 ≤ i < Config.Customers).
func CustomerIdentity(i int) Identity {
	first, last := firstNames[i%len(firstNames)], lastNames[(i/len(firstNames))%len(lastNames)]
	place := places[(i*31)%len(places)]
	id := Identity{
		ID:        fmt.Sprintf("gid://shopify/Customer/%d", customerBase+i),
		FirstName: first,
		LastName:  last,
		Email:     discountfn.NormalizeEmail(fmt.Sprintf("%s.%s.%d@%s", strings.ToLower(first), strings.ToLower(last), i, mailDomains[i%len(mailDomains)])),
		Address1:  fmt.Sprintf("%d %s", 1+(i*7)%180, streets[i%len(streets)]),
		City:      place.city,
		Zip:       place.zip,
		Country:   place.country,
	}
	if i%5 != 0 {
		id.Phone = discountfn.NormalizePhone(fmt.Sprintf("+1 555 %07d", i))
	}
	return id
}

// customerBase is the number of the first customer's GID.
const customerBase = 7_000_000_000

// AddressKey is the identity's address fingerprint, as orders store it.
func (id Identity) AddressKey() string {
	return discountfn.AddressFingerprint(id.Address1, id.City, id.Zip, id.Country)
}

// Tags every generated customer may have, and how often.
var tagOdds = []struct {
	tag     string
	regular float64 // odds for a regular customer
	other   float64
}{
	{"vip", 0.15, 0.01},
	{"newsletter", 0.5, 0.3},
	{"tier-gold", 0.1, 0.005},
	{"tier-silver", 0.2, 0.02},
	{"wholesale", 0.03, 0.01},
	{"ambassador", 0.02, 0.002},
	{"staff", 0.005, 0.001},
}

// regular reports whether customer i is one of the shop's regulars: the first fifth, who
// place most orders.
func (g *Generator) regular(i int) bool { return i < g.regulars }

// customer is customer i as the store keeps them; the tags follow from the seed.
func (g *Generator) customer(i int) store.Customer {
	id := CustomerIdentity(i)
	rng := rand.New(rand.NewPCG(g.cfg.Seed, saltCustomer+uint64(i)))
	var tags []string
	for _, t := range tagOdds {
		odds := t.other
		if g.regular(i) {
			odds = t.regular
		}
		if rng.Float64() < odds {
			tags = append(tags, t.tag)
		}
	}
	return store.Customer{
		ID: id.ID, Email: id.Email, Phone: id.Phone, Tags: tags,
		UpdatedAt: g.start.Add(g.span * 3 / 4).Add(-duration(rng, g.span/2)),
	}
}

// customers yields every customer.
func (g *Generator) customers(yield func(store.Customer) bool) {
	for i := range g.cfg.Customers {
		if !yield(g.customer(i)) {
			return
		}
	}
}

var (
	firstNames  = []string{"Rita", "Oscar", "Nina", "Jo", "Sam", "Alex", "Maria", "Yuki", "Omar", "Lena", "Ana", "Tom", "Ines", "Karl", "Zoe", "Ravi", "Mia"}
	lastNames   = []string{"Regular", "Martin", "Dubois", "Tanaka", "Haddad", "Novak", "Silva", "Okafor", "Berg", "Rossi", "Kowalski", "Nguyen", "Smith"}
	mailDomains = []string{"example.com", "example.org", "example.net", "mail.example.com"}
	streets     = []string{"Market Street", "Rue de la Paix", "Hauptstrasse", "King Street", "Calle Mayor", "Elm Road", "Harbour Lane"}
	places      = []struct{ city, zip, country string }{
		{"Paris", "75001", "FR"}, {"Lyon", "69002", "FR"}, {"Berlin", "10115", "DE"}, {"Hamburg", "20095", "DE"},
		{"Ottawa", "K2P 0S0", "CA"}, {"Austin", "78701", "US"}, {"Portland", "97201", "US"}, {"New York", "10001", "US"},
		{"London", "SW1A 1AA", "GB"}, {"Leeds", "LS1 1UR", "GB"}, {"Madrid", "28013", "ES"}, {"Rome", "00184", "IT"},
	}
)
