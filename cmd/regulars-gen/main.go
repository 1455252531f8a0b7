// Command regulars-gen fills a database with a large generated shop, for load and analytics
// measurements: a catalog, customers, a mix of valid offers of every kind (codes, unique
// codes, automatic, segment offers; behaviour conditions, audiences, limits, schedules), and
// years of order history with lines, refunds, cancellations, cash-on-delivery and test
// orders, and redemptions of the offers in the ledger. The same flags give the same data
// (package shopgen); -end pins the generation's "now", which defaults to today (UTC).
//
// It migrates the database first and writes through the store (store.BulkLoad: COPY on
// PostgreSQL), so the app serves the shop afterwards. The shop must not exist yet; -replace
// deletes it first.
//
//	go run ./cmd/regulars-gen -dsn postgres://postgres@127.0.0.1:5432/regulars_gen?sslmode=disable \
//	    -shop gen-1k.myshopify.com -offers 1000 -customers 100000 -orders 1000000
//
// docs/PERFORMANCE.md records how long it takes.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"time"

	"github.com/regularsapp/regulars/cmd/regulars-gen/shopgen"
	"github.com/regularsapp/regulars/store"
)

func main() {
	var cfg config
	flag.StringVar(&cfg.DSN, "dsn", os.Getenv("DATABASE_URL"), "the database (default $DATABASE_URL): postgres://... or sqlite:PATH")
	flag.StringVar(&cfg.Gen.Shop, "shop", "regulars-gen.myshopify.com", "the shop to create")
	flag.Uint64Var(&cfg.Gen.Seed, "seed", 1, "random seed: the same seed (and flags) give the same data")
	flag.IntVar(&cfg.Gen.Offers, "offers", 1000, "active offers")
	flag.IntVar(&cfg.Gen.Customers, "customers", 100_000, "customers")
	flag.IntVar(&cfg.Gen.Orders, "orders", 1_000_000, "orders")
	flag.IntVar(&cfg.Gen.Days, "days", 730, "days of order history before -end")
	end := flag.String("end", "", "the generation's \"now\" as YYYY-MM-DD or RFC 3339 (default: today, UTC)")
	flag.BoolVar(&cfg.Replace, "replace", false, "delete the shop's data first if it exists")
	flag.Parse()
	var err error
	if cfg.Gen.End, err = parseEnd(*end, time.Now()); err != nil {
		fmt.Fprintln(os.Stderr, "regulars-gen: -end:", err)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, cfg, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "regulars-gen:", err)
		os.Exit(1)
	}
}

// config is what a run does.
type config struct {
	DSN     string
	Gen     shopgen.Config
	Replace bool
}

// parseEnd reads -end; empty is today's date (UTC) at midnight.
func parseEnd(s string, now time.Time) (time.Time, error) {
	if s == "" {
		return now.UTC().Truncate(24 * time.Hour), nil
	}
	if t, err := time.Parse(time.DateOnly, s); err == nil {
		return t, nil
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return time.Time{}, errors.New("want YYYY-MM-DD or an RFC 3339 time")
	}
	return t.UTC(), nil
}

// run generates and loads the shop, printing progress and timings to out.
func run(ctx context.Context, cfg config, out io.Writer) error {
	if cfg.DSN == "" {
		return errors.New("-dsn (or $DATABASE_URL) is required: the database to fill")
	}
	started := time.Now()
	gen, err := shopgen.New(cfg.Gen)
	if err != nil {
		return err
	}
	data, err := gen.BulkShop()
	if err != nil {
		return err
	}
	g := cfg.Gen
	fmt.Fprintf(out, "shop %s: seed %d, %d offers, %d customers, %d orders over %d days to %s\n",
		g.Shop, g.Seed, g.Offers, g.Customers, g.Orders, g.Days, g.End.Format(time.RFC3339))

	built := time.Now()
	st, err := store.Open(ctx, cfg.DSN)
	if err != nil {
		return err
	}
	defer st.Close() //nolint:errcheck // nothing to do about a failed close at exit
	if err := st.Migrate(ctx); err != nil {
		return err
	}
	migrated := time.Now()
	if cfg.Replace {
		if err := st.DeleteShopData(ctx, g.Shop); err != nil {
			return err
		}
		fmt.Fprintf(out, "deleted the shop's previous data in %s\n", since(migrated))
	}
	prepared := time.Now()

	nextReport := int64(100_000)
	var lastAt time.Time // of the last rows written; the statistics come after
	counts, err := st.BulkLoad(ctx, data, func(c store.BulkCounts) {
		lastAt = time.Now()
		if c.Orders >= nextReport {
			el := time.Since(prepared)
			fmt.Fprintf(out, "  %9d orders  %6.1f s  %7.0f orders/s\n", c.Orders, el.Seconds(), float64(c.Orders)/el.Seconds())
			nextReport += 100_000
		}
	})
	if err != nil {
		return err
	}
	done := time.Now()
	if lastAt.IsZero() {
		lastAt = done
	}
	fmt.Fprintf(out, "wrote %d offers, %d segments, %d codes, %d customers, %d orders, %d lines, %d refunds, %d redemptions, %d identity keys\n",
		counts.Offers, counts.Segments, counts.Codes, counts.Customers, counts.Orders, counts.Lines, counts.Refunds,
		counts.Redemptions, counts.IdentityKeys)
	fmt.Fprintf(out, "time: %s in all (offers %s, migrate %s, delete %s, load %s at %.0f orders/s, statistics %s)\n",
		since(started), round(built.Sub(started)), round(migrated.Sub(built)), round(prepared.Sub(migrated)),
		round(lastAt.Sub(prepared)), float64(counts.Orders)/max(lastAt.Sub(prepared).Seconds(), 1e-9), round(done.Sub(lastAt)))
	return nil
}

func since(t time.Time) time.Duration { return round(time.Since(t)) }

func round(d time.Duration) time.Duration { return d.Round(time.Millisecond) }
