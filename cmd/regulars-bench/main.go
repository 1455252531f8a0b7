// Command regulars-bench measures the app at scale in one run, against shops made by
// cmd/regulars-gen, and writes a report (report.md and report.json in -out):
//
//   - checkout: the real checkout endpoint (POST /checkout/cart-lines of the app, run as
//     cmd/regulars runs it, with a checkout token for each shop) with realistic carts of the
//     generated customers, small (about 2 KB) and large (50 lines), checked against answers
//     computed independently from the store; and, with the same connections and the same
//     pinning, a bare handler that decodes the same input and encodes the same answer. It
//     reports throughput, latency p50/p90/p99/max, and the ratio checkout/bare; then a paced
//     run at a fraction of the bare handler's rate for latency at a steady load;
//   - the same with the app's handler serving offers and facts from memory (app.MemorySource
//     preloaded): the ceiling of the caching the targets ask for;
//   - profile: CPU profiles of both serving checkouts (pprof), and their top functions;
//   - webhooks: webhook ingestion through cmd/regulars-load (acknowledged and processed per
//     second, acknowledgement p99), unpaced and paced, into a small shop of its own in the same
//     database (-webhook-shop), so that the measured shops keep their data;
//   - scaleout: two app processes on one PostgreSQL behind a round-robin balancer: the same
//     webhook run, shared between them, then offers edited through one process's admin API
//     and the time until the other serves the edit at checkout.
//
// The servers run in processes of their own (this binary's serve-app and serve-bare modes),
// pinned with taskset to -server-cpus; run the harness itself on the other CPUs:
//
//	taskset -c 1 regulars-bench -dsn postgres://... -server-cpus 0 -client-cpus 1
//
// docs/PERFORMANCE.md has the full procedure and the figures.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"
)

func main() {
	if len(os.Args) > 1 {
		switch os.Args[1] {
		case "serve-app":
			exit(serveApp(os.Stdout))
		case "serve-bare":
			exit(serveBare(os.Args[2:], os.Stdout))
		case "serve-memapp":
			exit(serveMemApp(os.Args[2:], os.Stdout))
		}
	}
	cfg := defaultConfig()
	flag.StringVar(&cfg.DSN, "dsn", os.Getenv("DATABASE_URL"), "the PostgreSQL database holding the generated shops (default $DATABASE_URL)")
	shops := flag.String("shops", strings.Join(cfg.Shops, ","), "the generated shops to measure checkout against, comma-separated; the first one also takes the offer edits (undone at the end)")
	flag.IntVar(&cfg.Conns, "c", cfg.Conns, "connections of the load generator (the same for every run)")
	flag.DurationVar(&cfg.Warmup, "warmup", cfg.Warmup, "warm-up before each measured run (not counted)")
	flag.DurationVar(&cfg.Duration, "duration", cfg.Duration, "each measured run")
	flag.IntVar(&cfg.Rounds, "rounds", cfg.Rounds, "rounds of the checkout and bare runs (the report gives each and their median)")
	flag.IntVar(&cfg.Carts, "carts", cfg.Carts, "distinct carts per shop and size")
	flag.IntVar(&cfg.Verify, "verify", cfg.Verify, "carts per shop and size checked one by one before the runs (every answer is checked during the runs too)")
	flag.StringVar(&cfg.Client, "client", cfg.Client, "the load generator's HTTP client: nethttp (net/http, keep-alive) or raw (HTTP/1.1 written by hand; less CPU per request)")
	flag.IntVar(&cfg.SmallLines, "small-lines", cfg.SmallLines, "lines of the small carts (about 2 KB)")
	flag.IntVar(&cfg.LargeLines, "large-lines", cfg.LargeLines, "lines of the large carts")
	flag.Float64Var(&cfg.Paced, "paced", cfg.Paced, "the paced run's rate as a fraction of the bare handler's throughput (0: no paced run)")
	flag.DurationVar(&cfg.ProfileFor, "profile-for", cfg.ProfileFor, "how long to profile the app under checkout load, per cart size")
	flag.StringVar(&cfg.WebhookShop, "webhook-shop", cfg.WebhookShop, "the shop the webhook runs send orders to: a small shop, deleted and created afresh each run, so that the measured shops keep their data")
	flag.IntVar(&cfg.WebhookOrders, "webhook-orders", cfg.WebhookOrders, "orders of the unpaced webhook runs (one and two processes)")
	flag.IntVar(&cfg.WebhookPacedOrders, "webhook-paced-orders", cfg.WebhookPacedOrders, "orders of the paced webhook run (0: none)")
	flag.Float64Var(&cfg.WebhookRate, "webhook-rate", cfg.WebhookRate, "deliveries per second of the paced webhook run")
	flag.IntVar(&cfg.CoherenceRounds, "coherence-rounds", cfg.CoherenceRounds, "offer edits for the coherence measurement")
	flag.StringVar(&cfg.ServerCPUs, "server-cpus", cfg.ServerCPUs, "CPUs for the app and bare servers (taskset -c list; empty: no pinning)")
	flag.StringVar(&cfg.ClientCPUs, "client-cpus", cfg.ClientCPUs, "CPUs for regulars-load (taskset -c list; empty: no pinning); run this harness there too")
	flag.StringVar(&cfg.LoadBin, "load", "", "the regulars-load binary (default: next to this one)")
	flag.StringVar(&cfg.Out, "out", "", "directory for the report, logs and profiles (default: a new temporary directory)")
	flag.StringVar(&cfg.Deadline, "checkout-deadline", "", "REGULARS_CHECKOUT_DEADLINE for the app (default: the app's)")
	phases := flag.String("phases", strings.Join(cfg.Phases, ","), "what to run: checkout, paced, profile, webhooks, scaleout")
	flag.Parse()
	cfg.Shops, cfg.Phases = splitList(*shops), splitList(*phases)

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	rep, err := run(ctx, cfg, os.Stderr)
	if rep != nil {
		writeMarkdown(os.Stdout, rep)
	}
	exit(err)
}

func exit(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, "regulars-bench:", err)
		os.Exit(1)
	}
	os.Exit(0)
}

func splitList(s string) []string {
	var out []string
	for _, v := range strings.Split(s, ",") {
		if v = strings.TrimSpace(v); v != "" {
			out = append(out, v)
		}
	}
	return out
}

// config is what a run does.
type config struct {
	DSN                string
	Shops              []string
	Conns              int
	Warmup, Duration   time.Duration
	Rounds             int
	Carts              int
	Verify             int
	Client             string
	SmallLines         int
	LargeLines         int
	Paced              float64
	ProfileFor         time.Duration
	WebhookShop        string
	WebhookOrders      int
	WebhookPacedOrders int
	WebhookRate        float64
	CoherenceRounds    int
	ServerCPUs         string
	ClientCPUs         string
	LoadBin            string
	Out                string
	Deadline           string
	Phases             []string
}

func defaultConfig() config {
	return config{
		Shops: []string{"gen-1k.myshopify.com", "gen-10k.myshopify.com"},
		Conns: 32, Warmup: 5 * time.Second, Duration: 20 * time.Second, Rounds: 1, Carts: 128, Verify: 32, Client: "nethttp",
		SmallLines: 1, LargeLines: 50, Paced: 0.4, ProfileFor: 10 * time.Second,
		WebhookShop: "bench-webhooks.myshopify.com", WebhookOrders: 30_000, WebhookPacedOrders: 30_000, WebhookRate: 1000, CoherenceRounds: 6,
		ServerCPUs: "0", ClientCPUs: "1",
		Phases: []string{"checkout", "paced", "profile", "webhooks", "scaleout"},
	}
}

func (c *config) check() error {
	var errs []error
	if !strings.HasPrefix(c.DSN, "postgres://") && !strings.HasPrefix(c.DSN, "postgresql://") {
		errs = append(errs, errors.New("-dsn: a postgres:// URL is required (the shops generated by regulars-gen)"))
	}
	if len(c.Shops) == 0 {
		errs = append(errs, errors.New("-shops: at least one shop"))
	}
	if c.Conns < 1 || c.Conns > 1024 {
		errs = append(errs, fmt.Errorf("-c %d: want 1 to 1024", c.Conns))
	}
	if c.Duration <= 0 || c.Warmup < 0 || c.Rounds < 1 || c.Carts < 1 || c.SmallLines < 1 || c.LargeLines < 1 {
		errs = append(errs, errors.New("-duration, -rounds, -carts and the line counts must be positive"))
	}
	if c.Client != "nethttp" && c.Client != "raw" {
		errs = append(errs, fmt.Errorf("-client %q: want nethttp or raw", c.Client))
	}
	for _, p := range c.Phases {
		if !slices.Contains(defaultConfig().Phases, p) {
			errs = append(errs, fmt.Errorf("-phases: unknown phase %q", p))
		}
	}
	if (c.ServerCPUs != "" || c.ClientCPUs != "") && !haveTaskset() {
		errs = append(errs, errNoTaskset)
	}
	return errors.Join(errs...)
}

func (c *config) runs(phase string) bool { return slices.Contains(c.Phases, phase) }

func haveTaskset() bool {
	_, err := exec.LookPath("taskset")
	return err == nil
}

// progressf reports what the harness is doing.
func progressf(w io.Writer, format string, args ...any) {
	fmt.Fprintf(w, "%s  "+format+"\n", append([]any{time.Now().Format("15:04:05")}, args...)...)
}

// writeFiles writes the report into the output directory.
func writeFiles(dir string, rep *report) error {
	doc, err := json.MarshalIndent(rep, "", "  ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "report.json"), doc, 0o644); err != nil {
		return err
	}
	f, err := os.Create(filepath.Join(dir, "report.md"))
	if err != nil {
		return err
	}
	writeMarkdown(f, rep)
	return f.Close()
}
