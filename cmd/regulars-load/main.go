// Command regulars-load measures the webhook pipeline of a running app: it POSTs signed
// orders/create deliveries (realistic 2 to 4 KB bodies: a customer, 3 to 5 line items, a
// discount code on some orders, one of the shop's codes on most of those) to the app's
// /webhooks with the platform's headers, from -c connections; it measures how fast they are
// acknowledged and how long acknowledgements take; then it polls the app's development
// endpoint GET /dev/api/events/stats until every event is processed, and reports events
// processed per second over the whole run (from the first delivery to the last event done).
//
// A fraction of events (-duplicates) is delivered twice, as the platform does after a lost
// acknowledgement: the app must store and apply each once. -updates sends a newer
// orders/updated version of some orders, in random order relative to their orders/create.
//
// It is bounded: at most 200,000 orders, 1,024 connections, one hour; it only talks to a
// loopback address, and it stops by itself (on -timeout, or Ctrl-C). The app must run in
// development mode (REGULARS_ENV=development, the default) for the stats endpoint, and the
// shop must exist in its database (the default is the demo shop every development app seeds).
//
//	REGULARS_ADDR=127.0.0.1:8080 DATABASE_URL=... go run ./cmd/regulars &
//	go run ./cmd/regulars-load -n 20000 -c 32              # as fast as 32 connections go
//	go run ./cmd/regulars-load -n 60000 -c 32 -rate 1000   # paced: 1,000 deliveries/s
//
// docs/PERFORMANCE.md records its figures and how they were taken.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// devAppSecret is the app's development webhook secret (app.DevAppSecret; a test keeps the
// two equal). It is public: development only.
const devAppSecret = "DEVELOPMENT-ONLY-regulars-app-secret-not-secret"

// demoShop is the shop every development app seeds.
const demoShop = "regulars-demo.myshopify.com"

// Bounds of the flags.
const (
	maxOrders      = 200_000 // bodies are built in memory first: about 700 MB at most
	maxConcurrency = 1024
	maxTimeout     = time.Hour
	maxRate        = 100_000
	maxAttempts    = 3 // per delivery, on a 5xx or a transport error (the platform retries too)
)

// config is what a run does.
type config struct {
	URL        string
	Secret     string
	Shop       string
	N          int
	C          int
	Duplicates float64
	Updates    float64
	Codes      []string
	CodeRate   float64
	Rate       float64 // deliveries per second; 0 sends as fast as the connections allow
	Timeout    time.Duration
	Poll       time.Duration
	Seed       uint64
}

func main() {
	cfg := config{}
	var codes string
	flag.StringVar(&cfg.URL, "url", "http://127.0.0.1:8080", "the app's base URL (a loopback address)")
	flag.StringVar(&cfg.Secret, "secret", "", "the app's webhook secret (default: $SHOPIFY_API_SECRET, else the development secret)")
	flag.StringVar(&cfg.Shop, "shop", demoShop, "the shop the orders belong to (it must exist in the app's database)")
	flag.IntVar(&cfg.N, "n", 10_000, "orders to send (orders/create events)")
	flag.IntVar(&cfg.C, "c", 32, "concurrent connections")
	flag.Float64Var(&cfg.Duplicates, "duplicates", 0.05, "fraction of events delivered a second time")
	flag.Float64Var(&cfg.Updates, "updates", 0, "fraction of orders that also get an orders/updated version")
	flag.StringVar(&codes, "codes", "WELCOME10,REGULAR15,FREESHIP", "the shop's discount codes, comma-separated (the demo shop's by default)")
	flag.Float64Var(&cfg.CodeRate, "code-rate", 0.3, "fraction of orders using one of -codes (another 5% use a code that is not the shop's)")
	flag.Float64Var(&cfg.Rate, "rate", 0, "deliveries per second, paced (0: as fast as -c connections allow); latency then counts from each delivery's planned time")
	flag.DurationVar(&cfg.Timeout, "timeout", 10*time.Minute, "give up after this long (sending and processing)")
	flag.DurationVar(&cfg.Poll, "poll", time.Second, "how often to ask the app how far processing got (10 times as often near the end)")
	flag.Uint64Var(&cfg.Seed, "seed", 0, "random seed of the orders (0: a new one)")
	jsonOut := flag.Bool("json", false, "print the report as JSON")
	flag.Parse()
	if cfg.Secret == "" {
		cfg.Secret = os.Getenv("SHOPIFY_API_SECRET")
	}
	if cfg.Secret == "" {
		cfg.Secret = devAppSecret
	}
	for _, c := range strings.Split(codes, ",") {
		if c = strings.ToUpper(strings.TrimSpace(c)); c != "" {
			cfg.Codes = append(cfg.Codes, c)
		}
	}
	if cfg.Seed == 0 {
		cfg.Seed = uint64(time.Now().UnixNano())
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	rep, err := run(ctx, cfg, os.Stderr)
	if rep != nil {
		if *jsonOut {
			enc := json.NewEncoder(os.Stdout)
			enc.SetIndent("", "  ")
			_ = enc.Encode(rep)
		} else {
			rep.print(os.Stdout)
		}
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "regulars-load:", err)
		os.Exit(1)
	}
}

// report is what a run measured.
type report struct {
	URL         string  `json:"url"`
	Shop        string  `json:"shop"`
	Orders      int     `json:"orders"`
	Events      int     `json:"events"`     // unique events sent
	Deliveries  int     `json:"deliveries"` // requests: events plus duplicates
	Duplicates  int     `json:"duplicates"` // deliveries of an event sent before
	Concurrency int     `json:"concurrency"`
	Rate        float64 `json:"rate,omitempty"` // planned deliveries per second (0: unpaced)
	AvgBodySize int     `json:"avg_body_bytes"`

	// Acknowledgement.
	Stored        int           `json:"stored"`         // answered {"status":"stored"}
	AckDuplicates int           `json:"ack_duplicates"` // answered {"status":"duplicate"}
	Retried       int           `json:"retried"`        // attempts that failed (5xx, transport) and were retried
	Unacked       int           `json:"unacked"`        // deliveries never acknowledged
	SendSeconds   float64       `json:"send_seconds"`
	AckPerSecond  float64       `json:"ack_per_second"`
	AckP50        time.Duration `json:"ack_p50_ns"`
	AckP90        time.Duration `json:"ack_p90_ns"`
	AckP99        time.Duration `json:"ack_p99_ns"`
	AckMax        time.Duration `json:"ack_max_ns"`

	// Processing, from the app's stats.
	Processed          int     `json:"processed"`     // events done during the run
	Failed             int     `json:"failed"`        // events that gave up during the run
	NotProcessed       int     `json:"not_processed"` // events still pending when the run stopped
	ProcessSeconds     float64 `json:"process_seconds"`
	ProcessedPerSecond float64 `json:"processed_per_second"`
	LagAfterSend       float64 `json:"lag_after_send_seconds"` // last event done minus last acknowledgement
}

func (r *report) print(w io.Writer) {
	ms := func(d time.Duration) string { return fmt.Sprintf("%.1f ms", float64(d)/float64(time.Millisecond)) }
	pace := "unpaced"
	if r.Rate > 0 {
		pace = fmt.Sprintf("paced at %.0f deliveries/s", r.Rate)
	}
	fmt.Fprintf(w, "target:        %s, shop %s, %d connections, %s\n", r.URL, r.Shop, r.Concurrency, pace)
	fmt.Fprintf(w, "sent:          %d orders as %d events (%d duplicate deliveries, %d requests), %d B per body on average\n",
		r.Orders, r.Events, r.Duplicates, r.Deliveries, r.AvgBodySize)
	fmt.Fprintf(w, "acknowledged:  %d in %.2f s = %.0f/s (stored %d, duplicate %d, retried %d, never acknowledged %d)\n",
		r.Stored+r.AckDuplicates, r.SendSeconds, r.AckPerSecond, r.Stored, r.AckDuplicates, r.Retried, r.Unacked)
	fmt.Fprintf(w, "ack latency:   p50 %s, p90 %s, p99 %s, max %s\n", ms(r.AckP50), ms(r.AckP90), ms(r.AckP99), ms(r.AckMax))
	fmt.Fprintf(w, "processed:     %d events in %.2f s from the first delivery = %.0f/s (failed %d, not processed %d; last done %.2f s after the last ack)\n",
		r.Processed, r.ProcessSeconds, r.ProcessedPerSecond, r.Failed, r.NotProcessed, r.LagAfterSend)
}

// run sends the plan and waits for the app to process it. It returns a report whenever it got
// as far as sending, and an error if anything was lost, failed or timed out.
func run(ctx context.Context, cfg config, progress io.Writer) (*report, error) {
	if err := cfg.check(); err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, cfg.Timeout)
	defer cancel()
	base := strings.TrimRight(cfg.URL, "/")
	client := newClient(cfg.C)
	defer client.CloseIdleConnections()

	before, err := getStats(ctx, client, base, cfg.Shop)
	if err != nil {
		return nil, fmt.Errorf("the app's stats endpoint (is the app running at %s in development mode?): %w", base, err)
	}
	runID := fmt.Sprintf("load-%x", cfg.Seed)
	fmt.Fprintf(progress, "building %d orders...\n", cfg.N)
	p := makePlan(planConfig{
		secret: []byte(cfg.Secret), orders: cfg.N, duplicates: cfg.Duplicates, updates: cfg.Updates,
		codes: cfg.Codes, codeRate: cfg.CodeRate, seed: cfg.Seed, runID: runID, now: time.Now(),
	})
	rep := &report{
		URL: base, Shop: cfg.Shop, Orders: cfg.N, Events: p.events, Deliveries: len(p.deliveries),
		Duplicates: p.duplicates, Concurrency: cfg.C, Rate: cfg.Rate, AvgBodySize: p.bodyBytes / max(p.events, 1),
	}
	fmt.Fprintf(progress, "sending %d deliveries from %d connections...\n", len(p.deliveries), cfg.C)
	start := time.Now()
	res := send(ctx, client, base, cfg, p.deliveries)
	sent := time.Now()
	rep.SendSeconds = sent.Sub(start).Seconds()
	rep.Stored, rep.AckDuplicates, rep.Retried, rep.Unacked = res.stored, res.duplicate, res.retried, res.unacked
	rep.AckPerSecond = float64(res.stored+res.duplicate) / rep.SendSeconds
	lat := res.latencies
	slices.Sort(lat)
	rep.AckP50, rep.AckP90, rep.AckP99 = percentile(lat, 0.50), percentile(lat, 0.90), percentile(lat, 0.99)
	if len(lat) > 0 {
		rep.AckMax = lat[len(lat)-1]
	}
	fmt.Fprintf(progress, "acknowledged %d in %.2f s; waiting for processing...\n", res.stored+res.duplicate, rep.SendSeconds)

	// Everything pending before the run, and every event stored now, must end done or failed.
	want := before.Pending + before.Done + before.Failed + res.stored
	after := before
	for {
		var now stats
		now, err = getStats(ctx, client, base, cfg.Shop)
		if err == nil {
			after = now // on an error, the last answer stands
		}
		if err == nil && after.Pending == 0 && after.Done+after.Failed >= want {
			break
		}
		if ctx.Err() != nil {
			break
		}
		// The stats query reads all the shop's events: ask rarely, except near the end.
		wait := cfg.Poll
		if err == nil && want-after.Done-after.Failed < 2000 {
			wait = cfg.Poll / 10
		}
		select {
		case <-ctx.Done():
		case <-time.After(wait):
		}
	}
	rep.Processed = after.Done - before.Done
	rep.Failed = after.Failed - before.Failed
	rep.NotProcessed = max(want-after.Done-after.Failed, 0)
	if after.LastProcessedAt != nil {
		rep.ProcessSeconds = after.LastProcessedAt.Sub(start).Seconds()
		rep.LagAfterSend = after.LastProcessedAt.Sub(sent).Seconds()
	}
	if rep.ProcessSeconds > 0 {
		rep.ProcessedPerSecond = float64(rep.Processed) / rep.ProcessSeconds
	}

	var problems []string
	if res.firstErr != nil {
		problems = append(problems, fmt.Sprintf("%d deliveries not acknowledged (first: %v)", res.unacked, res.firstErr))
	}
	if res.stored != p.events {
		problems = append(problems, fmt.Sprintf("%d events stored, want %d (one per event)", res.stored, p.events))
	}
	if rep.Failed > 0 {
		problems = append(problems, fmt.Sprintf("%d events failed (see the app's log)", rep.Failed))
	}
	if rep.NotProcessed > 0 {
		problems = append(problems, fmt.Sprintf("%d events not processed before the timeout", rep.NotProcessed))
	}
	if err != nil {
		problems = append(problems, fmt.Sprintf("stats: %v", err))
	}
	if len(problems) > 0 {
		return rep, errors.New(strings.Join(problems, "; "))
	}
	return rep, nil
}

// newClient is an HTTP client that keeps up to conns connections open to the app.
func newClient(conns int) *http.Client {
	return &http.Client{
		Timeout: 30 * time.Second,
		Transport: &http.Transport{
			MaxIdleConns: conns, MaxIdleConnsPerHost: conns, MaxConnsPerHost: conns,
			DisableCompression: true, IdleConnTimeout: 90 * time.Second,
		},
	}
}

func (c *config) check() error {
	var errs []error
	u, err := url.Parse(c.URL)
	switch {
	case err != nil:
		errs = append(errs, fmt.Errorf("-url: %w", err))
	case u.Scheme != "http" || u.Host == "":
		errs = append(errs, fmt.Errorf("-url %q: want http://HOST:PORT", c.URL))
	case !loopback(u.Hostname()):
		errs = append(errs, fmt.Errorf("-url %q: the harness only talks to a loopback address (127.0.0.1, ::1, localhost)", c.URL))
	}
	if c.N < 1 || c.N > maxOrders {
		errs = append(errs, fmt.Errorf("-n %d: want 1 to %d", c.N, maxOrders))
	}
	if c.C < 1 || c.C > maxConcurrency {
		errs = append(errs, fmt.Errorf("-c %d: want 1 to %d", c.C, maxConcurrency))
	}
	for name, f := range map[string]float64{"-duplicates": c.Duplicates, "-updates": c.Updates, "-code-rate": c.CodeRate} {
		if math.IsNaN(f) || f < 0 || f > 1 {
			errs = append(errs, fmt.Errorf("%s %v: want a fraction from 0 to 1", name, f))
		}
	}
	if math.IsNaN(c.Rate) || c.Rate < 0 || c.Rate > maxRate {
		errs = append(errs, fmt.Errorf("-rate %v: want 0 (unpaced) to %d deliveries per second", c.Rate, maxRate))
	}
	if c.Timeout <= 0 || c.Timeout > maxTimeout {
		errs = append(errs, fmt.Errorf("-timeout %v: want more than 0 and at most %v", c.Timeout, maxTimeout))
	}
	if c.Poll <= 0 {
		c.Poll = time.Second
	}
	if c.Shop == "" || c.Secret == "" {
		errs = append(errs, errors.New("-shop and -secret must not be empty"))
	}
	return errors.Join(errs...)
}

func loopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// sendResult is what the senders saw.
type sendResult struct {
	stored, duplicate, retried, unacked int
	latencies                           []time.Duration // of every acknowledged delivery
	firstErr                            error
}

// send posts every delivery from cfg.C goroutines, in plan order, retrying a failed attempt
// (5xx or transport error) up to maxAttempts times.
func send(ctx context.Context, client *http.Client, base string, cfg config, deliveries []delivery) sendResult {
	latencies := make([]time.Duration, len(deliveries))
	outcome := make([]string, len(deliveries))
	var next, retried atomic.Int64
	var mu sync.Mutex
	var firstErr error
	var wg sync.WaitGroup
	start := time.Now()
	for range cfg.C {
		wg.Go(func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= len(deliveries) || ctx.Err() != nil {
					return
				}
				// Paced: delivery i is due at start + i/rate, and its latency counts from then,
				// so that a slow answer delaying the next sends is not hidden.
				var due time.Time
				if cfg.Rate > 0 {
					due = start.Add(time.Duration(float64(i) / cfg.Rate * float64(time.Second)))
					if d := time.Until(due); d > 0 {
						time.Sleep(d)
					}
				}
				for attempt := 1; ; attempt++ {
					t0 := time.Now()
					if attempt == 1 && !due.IsZero() {
						t0 = due
					}
					status, err := post(ctx, client, base, cfg.Shop, deliveries[i])
					if err == nil {
						latencies[i], outcome[i] = time.Since(t0), status
						break
					}
					if attempt == maxAttempts || ctx.Err() != nil {
						mu.Lock()
						if firstErr == nil {
							firstErr = err
						}
						mu.Unlock()
						break
					}
					retried.Add(1)
					time.Sleep(time.Duration(attempt) * 50 * time.Millisecond)
				}
			}
		})
	}
	wg.Wait()
	res := sendResult{retried: int(retried.Load()), firstErr: firstErr}
	for i, o := range outcome {
		switch o {
		case "stored":
			res.stored++
		case "duplicate":
			res.duplicate++
		default:
			res.unacked++
			continue
		}
		res.latencies = append(res.latencies, latencies[i])
	}
	if res.unacked > 0 && res.firstErr == nil {
		res.firstErr = ctx.Err()
	}
	return res
}

// post sends one delivery and returns the app's status ("stored" or "duplicate").
func post(ctx context.Context, client *http.Client, base, shop string, d delivery) (string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+"/webhooks", bytes.NewReader(d.body))
	if err != nil {
		return "", err
	}
	h := req.Header
	h.Set("Content-Type", "application/json")
	h.Set("X-Shopify-Topic", d.topic)
	h.Set("X-Shopify-Shop-Domain", shop)
	h.Set("X-Shopify-Hmac-Sha256", d.signature)
	h.Set("X-Shopify-Webhook-Id", d.webhookID)
	h.Set("X-Shopify-Event-Id", d.eventID)
	h.Set("X-Shopify-API-Version", "2025-10")
	h.Set("X-Shopify-Triggered-At", time.Now().UTC().Format(time.RFC3339Nano))
	resp, err := client.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if err != nil {
		return "", err
	}
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("POST /webhooks: %d %s", resp.StatusCode, strings.TrimSpace(string(body)))
	}
	var ack struct {
		Status string `json:"status"`
	}
	if err := json.Unmarshal(body, &ack); err != nil || (ack.Status != "stored" && ack.Status != "duplicate") {
		return "", fmt.Errorf("POST /webhooks: unexpected answer %q", body)
	}
	return ack.Status, nil
}

// stats is the app's GET /dev/api/events/stats answer.
type stats struct {
	Pending         int        `json:"pending"`
	Done            int        `json:"done"`
	Failed          int        `json:"failed"`
	LastProcessedAt *time.Time `json:"last_processed_at"`
}

func getStats(ctx context.Context, client *http.Client, base, shop string) (stats, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/dev/api/events/stats?shop="+url.QueryEscape(shop), nil)
	if err != nil {
		return stats{}, err
	}
	resp, err := client.Do(req)
	if err != nil {
		return stats{}, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if err != nil {
		return stats{}, err
	}
	if resp.StatusCode != http.StatusOK {
		return stats{}, fmt.Errorf("GET /dev/api/events/stats: %d %s", resp.StatusCode, strings.TrimSpace(string(body)))
	}
	var s stats
	if err := json.Unmarshal(body, &s); err != nil {
		return stats{}, fmt.Errorf("GET /dev/api/events/stats: %w", err)
	}
	return s, nil
}

// percentile of sorted durations (nearest rank).
func percentile(sorted []time.Duration, q float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(math.Ceil(q*float64(len(sorted)))) - 1
	return sorted[min(max(i, 0), len(sorted)-1)]
}
