package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/regularsapp/regulars/cmd/regulars-gen/shopgen"
	"github.com/regularsapp/regulars/discountfn"
	"github.com/regularsapp/regulars/store"
	"github.com/regularsapp/regulars/store/storetest"
)

func TestParseEnd(t *testing.T) {
	now := time.Date(2026, 11, 23, 15, 4, 5, 0, time.FixedZone("X", 3600))
	for _, tc := range []struct {
		in   string
		want time.Time
		ok   bool
	}{
		{"", time.Date(2026, 11, 23, 0, 0, 0, 0, time.UTC), true},
		{"2026-01-31", time.Date(2026, 1, 31, 0, 0, 0, 0, time.UTC), true},
		{"2026-01-31T10:00:00+02:00", time.Date(2026, 1, 31, 8, 0, 0, 0, time.UTC), true},
		{"31/01/2026", time.Time{}, false},
	} {
		got, err := parseEnd(tc.in, now)
		if (err == nil) != tc.ok || !got.Equal(tc.want) {
			t.Errorf("parseEnd(%q) = %v, %v; want %v (ok %v)", tc.in, got, err, tc.want, tc.ok)
		}
	}
}

// TestGenerate loads a small generated shop, on SQLite and PostgreSQL, and checks that the
// app can serve it: its stored offers and segments compile into an offer set as the checkout
// compiles them, a regular has purchase history and usage, and analytics has figures. A
// second run needs -replace.
func TestGenerate(t *testing.T) {
	t.Run("sqlite", func(t *testing.T) { testGenerate(t, "sqlite:"+filepath.Join(t.TempDir(), "gen.db")) })
	t.Run("postgres", func(t *testing.T) { testGenerate(t, storetest.NewPostgresDSN(t)) })
}

func testGenerate(t *testing.T, dsn string) {
	ctx := context.Background()
	end := time.Now().UTC().Truncate(24 * time.Hour)
	cfg := config{DSN: dsn, Gen: shopgen.Config{Shop: "gen-test.myshopify.com", Seed: 5, Offers: 40, Customers: 40,
		Orders: 400, End: end, Days: 365}}
	var out bytes.Buffer
	if err := run(ctx, cfg, &out); err != nil {
		t.Fatalf("run: %v\n%s", err, out.String())
	}
	if !strings.Contains(out.String(), "400 orders") || !strings.Contains(out.String(), "time:") {
		t.Errorf("output does not report the orders and the time:\n%s", out.String())
	}

	st, err := store.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	// The offers compile as the checkout compiles them.
	rows, err := st.ListOffers(ctx, cfg.Gen.Shop, false)
	if err != nil {
		t.Fatal(err)
	}
	offers := make([]discountfn.Offer, len(rows))
	for i, r := range rows {
		if err := json.Unmarshal(r.Config, &offers[i]); err != nil {
			t.Fatal(err)
		}
		offers[i].ID, offers[i].Status = r.ID, discountfn.Status(r.Status)
	}
	segRows, err := st.ListSegments(ctx, cfg.Gen.Shop)
	if err != nil {
		t.Fatal(err)
	}
	segments := make([]discountfn.Segment, len(segRows))
	for i, r := range segRows {
		if err := json.Unmarshal(r.Config, &segments[i]); err != nil {
			t.Fatal(err)
		}
		segments[i].ID, segments[i].Priority = r.ID, r.Priority
	}
	set, err := discountfn.NewOfferSet(discountfn.Settings{Currency: shopgen.Currency, Location: time.UTC}, offers, segments)
	if err != nil || set.Len() != cfg.Gen.Offers {
		t.Fatalf("offer set: %v, %v; want %d offers", set, err, cfg.Gen.Offers)
	}
	if len(set.CollectionIDs()) == 0 || len(set.CustomerTags()) == 0 {
		t.Errorf("the offers name no collection (%v) or no tag (%v)", set.CollectionIDs(), set.CustomerTags())
	}
	regular := shopgen.CustomerIdentity(0)
	facts, err := st.Facts(ctx, cfg.Gen.Shop, discountfn.Buyer{CustomerID: regular.ID, Email: regular.Email})
	if err != nil || len(facts.History.Orders) < 5 || len(facts.Usage.Offers) == 0 {
		t.Errorf("a regular's facts: %d orders, %d offers used, %v; want a history and usage", len(facts.History.Orders), len(facts.Usage.Offers), err)
	}
	var ids []string
	for id := range facts.Usage.Offers {
		ids = append(ids, id)
	}
	stats, err := st.OfferStats(ctx, cfg.Gen.Shop, ids, end.AddDate(0, 0, -365), end, time.UTC, 30)
	uses := 0
	for _, s := range stats {
		uses += s.Uses
	}
	if err != nil || uses == 0 {
		t.Errorf("OfferStats = %d uses, %v; want some", uses, err)
	}

	if err := run(ctx, cfg, &out); !errors.Is(err, store.ErrConflict) {
		t.Errorf("a second run = %v; want ErrConflict (the shop exists)", err)
	}
	cfg.Replace = true
	if err := run(ctx, cfg, &out); err != nil {
		t.Errorf("a second run with -replace = %v", err)
	}
}
