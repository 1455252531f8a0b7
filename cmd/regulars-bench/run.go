package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/regularsapp/regulars/app"
	"github.com/regularsapp/regulars/cmd/regulars-gen/shopgen"
	"github.com/regularsapp/regulars/discountfn"
	"github.com/regularsapp/regulars/store"
)

// demoShop is the shop a development app seeds at start; its history is processed before
// anything is measured.
const demoShop = "regulars-demo.myshopify.com"

// run does every phase asked for and returns the report (also written to cfg.Out), with an
// error if something was wrong: a failed request, a wrong answer, a lost webhook, an edit not
// seen. Slow is never an error.
func run(ctx context.Context, cfg config, progress io.Writer) (*report, error) {
	if err := cfg.check(); err != nil {
		return nil, err
	}
	if cfg.Out == "" {
		dir, err := os.MkdirTemp("", "regulars-bench-")
		if err != nil {
			return nil, err
		}
		cfg.Out = dir
	} else if err := os.MkdirAll(cfg.Out, 0o755); err != nil {
		return nil, err
	}
	if cfg.LoadBin == "" {
		self, err := os.Executable()
		if err != nil {
			return nil, err
		}
		cfg.LoadBin = filepath.Join(filepath.Dir(self), "regulars-load")
	}
	progressf(progress, "output in %s", cfg.Out)
	rep := newReport(cfg)
	b := &bench{cfg: cfg, rep: rep, progress: progress, client: newLoadClient(cfg.Conns)}
	err := b.run(ctx)
	rep.Finished = time.Now().UTC().Format(time.RFC3339)
	rep.LoadAfter = loadAverage()
	if err != nil {
		rep.Problems = append(rep.Problems, err.Error())
	}
	if werr := writeFiles(cfg.Out, rep); werr != nil {
		err = errors.Join(err, werr)
	}
	if len(rep.Problems) > 0 && err == nil {
		err = fmt.Errorf("%d problems (see the report): %s", len(rep.Problems), rep.Problems[0])
	}
	return rep, err
}

// bench is one run in progress.
type bench struct {
	cfg      config
	rep      *report
	progress io.Writer
	client   *http.Client
	st       *store.Store
	shops    []*shopView
	pools    []*cartPool // per shop, small then large
	appA     *server
	bare     *server
	mem      *server // the memory app (memapp.go)
	// webhookCodes are shared codes of the webhook shop, for the orders to use.
	webhookCodes []string
}

// Targets of the load runs.
const (
	kindCheckout = "checkout"        // the app as it runs
	kindMemory   = "checkout-memory" // the app's handler with offers and facts in memory
	kindBare     = "bare"            // the ceiling
)

// clientSaturated is the harness's CPU use (cores) from which a run may be measuring the
// load generator rather than the server.
const clientSaturated = 0.9

// warn records a doubt about a figure (not a failure).
func (b *bench) warn(format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	b.rep.Warnings = append(b.rep.Warnings, msg)
	progressf(b.progress, "WARNING: %s", msg)
}

func (b *bench) problem(format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	b.rep.Problems = append(b.rep.Problems, msg)
	progressf(b.progress, "PROBLEM: %s", msg)
}

func (b *bench) run(ctx context.Context) (err error) {
	cfg := b.cfg
	if b.st, err = store.Open(ctx, cfg.DSN); err != nil {
		return err
	}
	defer b.st.Close() //nolint:errcheck // read-only use; nothing to do at exit
	if err := b.st.Migrate(ctx); err != nil {
		return err
	}
	b.rep.Postgres = postgresInfo(ctx, cfg.DSN)
	if err := b.prepare(ctx); err != nil {
		return err
	}
	defer func() {
		for _, s := range []*server{b.appA, b.bare, b.mem} {
			if e := s.stop(); e != nil {
				err = errors.Join(err, e)
			}
		}
	}()
	progressf(b.progress, "starting the app (server CPUs %q)", cfg.ServerCPUs)
	if b.appA, err = b.startApp(ctx, "app-a", filepath.Join(cfg.Out, "checkout.pprof")); err != nil {
		return err
	}
	if b.runsCheckout() {
		if b.bare, err = b.startBare(ctx); err != nil {
			return err
		}
		if b.mem, err = b.startMem(ctx); err != nil {
			return err
		}
		b.verify(ctx)
	}
	for _, phase := range []struct {
		name string
		run  func(context.Context)
	}{
		{"checkout", b.checkoutRuns}, {"paced", b.pacedRuns}, {"profile", b.profile},
		{"webhooks", b.webhooks}, {"scaleout", b.scaleOut},
	} {
		if ctx.Err() != nil {
			break
		}
		if cfg.runs(phase.name) {
			phase.run(ctx)
		}
	}
	return ctx.Err()
}

func (b *bench) runsCheckout() bool {
	return b.cfg.runs("checkout") || b.cfg.runs("paced") || b.cfg.runs("profile") || b.cfg.runs("scaleout")
}

// prepare reads the shops and builds the carts and their answers.
func (b *bench) prepare(ctx context.Context) error {
	now := time.Now()
	for _, domain := range b.cfg.Shops {
		progressf(b.progress, "reading shop %s", domain)
		v, err := loadShop(ctx, b.st, domain)
		if err != nil {
			return err
		}
		b.shops = append(b.shops, v)
		info := shopInfo{Shop: domain, Offers: v.set.Len(), Customers: v.customers,
			CollectionsAsked: len(v.set.CollectionIDs()), TagsAsked: len(v.set.CustomerTags())}
		if info.Orders, err = countOrders(ctx, b.cfg.DSN, domain); err != nil {
			return err
		}
		b.rep.Shops = append(b.rep.Shops, info)
		if !b.runsCheckout() {
			continue
		}
		for _, prof := range []struct {
			name  string
			lines int
		}{{"small", b.cfg.SmallLines}, {"large", b.cfg.LargeLines}} {
			progressf(b.progress, "building %d %s carts (%d lines) and their answers", b.cfg.Carts, prof.name, prof.lines)
			p, err := buildPool(ctx, v, prof.name, prof.lines, b.cfg.Carts, now)
			if err != nil {
				return fmt.Errorf("carts of %s: %w", domain, err)
			}
			b.pools = append(b.pools, p)
			body, answer, discounted := p.stats()
			b.rep.Carts = append(b.rep.Carts, cartInfo{Shop: domain, Profile: prof.name, Lines: prof.lines, Carts: len(p.bodies),
				AvgBodyBytes: body, AvgAnswerBytes: answer, WithDiscount: discounted})
		}
	}
	if b.cfg.runs("webhooks") || b.cfg.runs("scaleout") {
		if err := b.webhookShop(ctx); err != nil {
			return err
		}
	}
	if b.cfg.runs("scaleout") {
		return installForAdmin(ctx, b.st, b.cfg.Shops[0])
	}
	return nil
}

// webhookShop creates the shop the webhook runs write to, afresh each run (the runs'
// figures depend on how many orders the shop has): a small generated shop, whose orders land
// in the same tables as the large shops' (what the runs need). It reads its shared codes for
// the orders to use.
func (b *bench) webhookShop(ctx context.Context) error {
	shop := b.cfg.WebhookShop
	if _, err := b.st.GetShop(ctx, shop); err == nil {
		t := time.Now()
		if err := b.st.DeleteShopData(ctx, shop); err != nil {
			return err
		}
		progressf(b.progress, "deleted the previous run's webhook shop %s in %s", shop, time.Since(t).Round(time.Millisecond))
	} else if !errors.Is(err, store.ErrNotFound) {
		return err
	}
	progressf(b.progress, "creating the webhook runs' shop %s", shop)
	g, err := shopgen.New(shopgen.Config{Shop: shop, Seed: 1, Offers: 20, Customers: 100, Orders: 0,
		End: time.Now().UTC().Truncate(24 * time.Hour), Days: 30})
	if err != nil {
		return err
	}
	data, err := g.BulkShop()
	if err != nil {
		return err
	}
	if _, err := b.st.BulkLoad(ctx, data, nil); err != nil {
		return err
	}
	_, offers, err := compileShop(ctx, b.st, shop)
	if err != nil {
		return err
	}
	for _, o := range offers {
		if o.Application.Kind == discountfn.ApplyCode && len(b.webhookCodes) < 5 {
			b.webhookCodes = append(b.webhookCodes, o.Application.Code)
		}
	}
	return nil
}

// appEnv is the app's environment: development mode (the webhook harness reads its queue
// statistics), the default secrets, no platform sync (the generated shops are not on any
// platform).
func (b *bench) appEnv(profile string) []string {
	env := []string{
		"DATABASE_URL=" + b.cfg.DSN, "REGULARS_ADDR=127.0.0.1:0", "REGULARS_ENV=development",
		"REGULARS_SYNC_WORKERS=0", "REGULARS_RECONCILE_INTERVAL=0",
		// The harness's environment must not leak secrets or settings of another setup.
		"SHOPIFY_API_SECRET=", "SHOPIFY_API_SECRET_PREVIOUS=", "REGULARS_CHECKOUT_SIGNING_KEY=", "REGULARS_TOKEN_KEY=",
		"REGULARS_PLATFORM_URL=", "SHOPIFY_API_KEY=",
	}
	if b.cfg.Deadline != "" {
		env = append(env, "REGULARS_CHECKOUT_DEADLINE="+b.cfg.Deadline)
	}
	if profile != "" {
		env = append(env, envCPUProfile+"="+profile)
	}
	return env
}

// startApp starts an app process and waits until the demo shop's history is processed.
func (b *bench) startApp(ctx context.Context, name, profile string) (*server, error) {
	s, err := startServer(ctx, b.cfg.Out, name, b.cfg.ServerCPUs, b.appEnv(profile), "serve-app")
	if err != nil {
		return nil, err
	}
	deadline := time.Now().Add(3 * time.Minute)
	for {
		st, err := b.st.EventStats(ctx, demoShop)
		if err == nil && st.Pending == 0 {
			return s, nil
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			_ = s.stop()
			return nil, fmt.Errorf("%s: the demo shop's webhooks are not processed after 3 minutes (%+v, %v)", name, st, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// startBare writes every pool's answers to a file and starts the bare server on them.
func (b *bench) startBare(ctx context.Context) (*server, error) {
	var answers []discountfn.RunResult
	for _, p := range b.pools {
		for _, e := range p.expect {
			var rr discountfn.RunResult
			if err := json.Unmarshal(e, &rr); err != nil {
				return nil, err
			}
			answers = append(answers, rr)
		}
	}
	doc, err := json.Marshal(answers)
	if err != nil {
		return nil, err
	}
	path := filepath.Join(b.cfg.Out, "bare-answers.json")
	if err := os.WriteFile(path, doc, 0o644); err != nil {
		return nil, err
	}
	return startServer(ctx, b.cfg.Out, "bare", b.cfg.ServerCPUs, nil, "serve-bare", "127.0.0.1:0", path)
}

// startMem writes the memory app's state and starts it.
func (b *bench) startMem(ctx context.Context) (*server, error) {
	state, err := memStateOf(ctx, b.shops)
	if err != nil {
		return nil, err
	}
	doc, err := json.Marshal(state)
	if err != nil {
		return nil, err
	}
	path := filepath.Join(b.cfg.Out, "memory-state.json")
	if err := os.WriteFile(path, doc, 0o644); err != nil {
		return nil, err
	}
	return startServer(ctx, b.cfg.Out, "memory-app", b.cfg.ServerCPUs,
		b.appEnv(filepath.Join(b.cfg.Out, "checkout.pprof")), "serve-memapp", path)
}

// server is the server of a target kind.
func (b *bench) server(kind string) *server {
	switch kind {
	case kindBare:
		return b.bare
	case kindMemory:
		return b.mem
	}
	return b.appA
}

// target is pool i on the server of kind.
func (b *bench) target(i int, kind string) target {
	p := b.pools[i]
	offset := 0
	for _, q := range b.pools[:i] {
		offset += len(q.bodies)
	}
	token, _ := app.MintCheckoutToken([]byte(app.DevCheckoutSigningKey), p.shop, time.Now())
	t := target{url: b.server(kind).url() + "/checkout/cart-lines", token: token, bodies: p.bodies, expect: p.expect, answers: offset}
	if kind == kindMemory {
		t.expect = p.expectMem
	}
	return t
}

// verify sends every cart once to the app and once to the bare server, one at a time, and
// compares each answer with the expected one.
func (b *bench) verify(ctx context.Context) {
	progressf(b.progress, "verifying every cart's answer")
	v := verification{}
	for i, p := range b.pools {
		for _, kind := range []string{kindCheckout, kindMemory, kindBare} {
			t := b.target(i, kind)
			var buf bytes.Buffer
			for j := range min(len(p.bodies), b.cfg.Verify) {
				var first string
				switch post(ctx, httpSender{client: b.client, tgt: t}, t, j, &buf, func(s string) { first = s }) {
				case 0:
					v.Right++
				case 1:
					v.Failed++
					v.Examples = appendExample(v.Examples, p, j, kind, first)
				case 3:
					v.Wrong++
					v.NoDiscount++
					v.Examples = appendExample(v.Examples, p, j, kind, first)
				default:
					v.Wrong++
					v.Examples = appendExample(v.Examples, p, j, kind, first)
				}
			}
		}
	}
	b.rep.Verification = v
	if v.Wrong+v.Failed > 0 {
		b.problem("verification: %d wrong answers (%d of them \"no discount\" where one is due: the app's deadline or a failure inside it) and %d failed requests, of %d (examples in the report)",
			v.Wrong, v.NoDiscount, v.Failed, v.Right+v.Wrong+v.Failed)
	}
}

func appendExample(list []string, p *cartPool, j int, kind, msg string) []string {
	if len(list) >= 5 {
		return list
	}
	return append(list, fmt.Sprintf("%s %s cart %d (offer %s) on %s: %s", p.shop, p.profile, j, p.callers[j], kind, msg))
}

// spec is a load run of the configured connections and client.
func (b *bench) spec(d time.Duration, rate float64) loadSpec {
	return loadSpec{conns: b.cfg.Conns, warmup: b.cfg.Warmup, duration: d, rate: rate, raw: b.cfg.Client == "raw"}
}

// measure runs one load run and records it.
func (b *bench) measure(ctx context.Context, name string, round, pool int, kind string, rate float64) loadRun {
	p := b.pools[pool]
	srv := b.server(kind)
	progressf(b.progress, "%s: %s, %s carts, %s (%d connections)", name, kind, p.profile, p.shop, b.cfg.Conns)
	meter := meterCPU(srv.pid())
	res := runLoad(ctx, b.client, b.target(pool, kind), b.spec(b.cfg.Duration, rate))
	cpu := meter.read()
	r := loadRun{Name: name, Round: round, Target: kind, Shop: p.shop, Profile: p.profile, Conns: b.cfg.Conns,
		Rate: rate, Seconds: b.cfg.Duration.Seconds(), Result: res, CPU: cpu}
	b.rep.Runs = append(b.rep.Runs, r)
	progressf(b.progress, "  %.0f/s, p50 %.2f ms, p99 %.2f ms, max %.1f ms; errors %d, wrong %d; CPU server %.2f, PostgreSQL %.2f, harness %.2f; CPUs busy %v",
		res.PerSecond, res.P50, res.P99, res.Max, res.Errors, res.Wrong, cpu.Servers[0], cpu.Postgres, cpu.Client, cpu.PerCPU)
	if res.Unsent > 0 {
		progressf(b.progress, "  paced at %.0f/s: %d requests not sent (the server fell behind)", rate, res.Unsent)
	}
	if cpu.Client >= clientSaturated {
		b.warn("%s %s %s %s: the load generator used %.2f of a core, so it may have been the limit (try -client raw, or give it more CPUs)",
			name, kind, p.shop, p.profile, cpu.Client)
	}
	if res.Errors > 0 || res.Wrong > 0 {
		b.problem("%s (%s %s %s): %d errors, %d wrong answers (%d of them \"no discount\"); first: %s",
			name, kind, p.shop, p.profile, res.Errors, res.Wrong, res.Empty, res.FirstError)
	}
	return r
}

// checkoutRuns measures the bare server, the checkout and the memory app, per cart size,
// round after round.
func (b *bench) checkoutRuns(ctx context.Context) {
	for round := 1; round <= b.cfg.Rounds; round++ {
		for prof := range 2 {
			b.measure(ctx, "closed loop", round, prof, kindBare, 0) // the first shop's carts: the ceiling's input
			for _, kind := range []string{kindCheckout, kindMemory} {
				for s := range b.shops {
					b.measure(ctx, "closed loop", round, s*2+prof, kind, 0)
				}
			}
			if ctx.Err() != nil {
				return
			}
		}
	}
	b.rep.Ratios = ratios(b.rep.Runs)
}

// pacedRuns measure the first shop's checkout, and the memory app, at a steady fraction of
// the bare handler's throughput.
func (b *bench) pacedRuns(ctx context.Context) {
	if b.cfg.Paced <= 0 {
		return
	}
	for prof := range 2 {
		bare := medianRate(b.rep.Runs, kindBare, b.pools[prof].profile, "")
		if bare == 0 {
			r := b.measure(ctx, "closed loop", 0, prof, kindBare, 0)
			bare = r.Result.PerSecond
		}
		for _, kind := range []string{kindCheckout, kindMemory} {
			b.measure(ctx, "paced", 0, prof, kind, b.cfg.Paced*bare)
		}
	}
}

// profile takes CPU profiles of the app and of the memory app serving the first shop's
// checkouts, per cart size.
func (b *bench) profile(ctx context.Context) {
	for _, kind := range []string{kindCheckout, kindMemory} {
		for prof := range 2 {
			if ctx.Err() != nil {
				return
			}
			b.profileOne(ctx, kind, prof)
		}
	}
}

func (b *bench) profileOne(ctx context.Context, kind string, prof int) {
	p, srv := b.pools[prof], b.server(kind)
	path := filepath.Join(b.cfg.Out, fmt.Sprintf("%s-%s.pprof", kind, p.profile))
	progressf(b.progress, "profiling %s for %s (%s carts)", kind, b.cfg.ProfileFor, p.profile)
	// Warm up, then profile for ProfileFor; the server writes checkout.pprof, renamed after.
	done := make(chan loadResult, 1)
	go func() { done <- runLoad(ctx, b.client, b.target(prof, kind), b.spec(b.cfg.ProfileFor, 0)) }()
	select {
	case <-time.After(b.cfg.Warmup):
	case <-ctx.Done():
		<-done
		return
	}
	_ = srv.signal(syscall.SIGUSR1)
	res := <-done
	_ = srv.signal(syscall.SIGUSR2)
	time.Sleep(500 * time.Millisecond) // the profile is flushed on SIGUSR2
	if err := os.Rename(filepath.Join(b.cfg.Out, "checkout.pprof"), path); err != nil {
		b.problem("profile: %v", err)
		return
	}
	pr := profileRun{Target: kind, Profile: p.profile, File: path, PerSecond: res.PerSecond}
	pr.Top, pr.Cum = pprofTop(path, false), pprofTop(path, true)
	b.rep.Profiles = append(b.rep.Profiles, pr)
}

// pprofTop is the profile's top functions (flat, or cumulative) from go tool pprof, when the
// go command is at hand.
func pprofTop(path string, cum bool) []string {
	self, err := os.Executable()
	if err != nil {
		return nil
	}
	args := []string{"tool", "pprof", "-top", "-nodecount=30"}
	if cum {
		args = append(args, "-cum")
	}
	out, err := exec.Command("go", append(args, self, path)...).Output()
	if err != nil {
		return []string{"(go tool pprof failed: " + err.Error() + ")"}
	}
	var lines []string
	for _, l := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		lines = append(lines, strings.TrimRight(l, " "))
	}
	return lines
}

// webhooks runs regulars-load against the app: unpaced, then paced.
func (b *bench) webhooks(ctx context.Context) {
	runs := []struct {
		name   string
		orders int
		rate   float64
	}{{"webhooks unpaced", b.cfg.WebhookOrders, 0}, {"webhooks paced", b.cfg.WebhookPacedOrders, b.cfg.WebhookRate}}
	for _, r := range runs {
		if r.orders <= 0 || ctx.Err() != nil {
			continue
		}
		progressf(b.progress, "%s: %d orders through regulars-load into %s", r.name, r.orders, b.cfg.WebhookShop)
		meter := meterCPU(b.appA.pid())
		rep, err := runWebhookLoad(ctx, b.cfg.LoadBin, b.cfg.ClientCPUs, b.cfg.Out, strings.ReplaceAll(r.name, " ", "-"),
			b.appA.url(), b.cfg.WebhookShop, b.webhookCodes, r.orders, r.rate)
		res := webhookResult{Name: r.name, Processes: 1, Report: rep, CPU: meter.read()}
		b.noteWebhooks(&res, err)
	}
}

func (b *bench) noteWebhooks(res *webhookResult, err error) {
	rep := res.Report
	if err == nil && (rep.Stored != rep.Events || rep.Unacked > 0 || rep.Failed > 0 || rep.NotProcessed > 0) {
		err = fmt.Errorf("stored %d of %d events, %d unacknowledged, %d failed, %d not processed", rep.Stored, rep.Events, rep.Unacked, rep.Failed, rep.NotProcessed)
	}
	if err != nil {
		res.Problem = err.Error()
		b.problem("%s: %v", res.Name, err)
	}
	b.rep.Webhooks = append(b.rep.Webhooks, *res)
	progressf(b.progress, "  acknowledged %.0f/s (p99 %.1f ms), processed %.0f/s; CPU %v, PostgreSQL %.2f",
		rep.AckPerSecond, float64(rep.AckP99)/1e6, rep.ProcessedPerSecond, res.CPU.Servers, res.CPU.Postgres)
}

// scaleOut starts a second app process on the same database, runs the webhook load through a
// balancer in front of both, then measures offer edits' coherence between them.
func (b *bench) scaleOut(ctx context.Context) {
	progressf(b.progress, "starting a second app process")
	appB, err := b.startApp(ctx, "app-b", "")
	if err != nil {
		b.problem("second process: %v", err)
		return
	}
	defer func() {
		if err := appB.stop(); err != nil {
			b.problem("second process: %v", err)
		}
	}()
	procs := []*server{b.appA, appB}
	if b.cfg.WebhookOrders > 0 {
		lb, err := startBalancer([]string{b.appA.url(), appB.url()})
		if err != nil {
			b.problem("balancer: %v", err)
			return
		}
		progressf(b.progress, "webhooks through a balancer in front of two processes: %d orders", b.cfg.WebhookOrders)
		meter := meterCPU(b.appA.pid(), appB.pid())
		rep, err := runWebhookLoad(ctx, b.cfg.LoadBin, b.cfg.ClientCPUs, b.cfg.Out, "webhooks-two-processes",
			lb.url, b.cfg.WebhookShop, b.webhookCodes, b.cfg.WebhookOrders, 0)
		res := webhookResult{Name: "webhooks, two processes", Processes: 2, Report: rep, CPU: meter.read(), PerServer: lb.perServer()}
		lb.close()
		if err == nil && slices.ContainsFunc(res.CPU.Servers, func(c float64) bool { return c < 0.02 }) {
			err = fmt.Errorf("one process did almost no work (CPU %v)", res.CPU.Servers)
		}
		b.noteWebhooks(&res, err)
	}

	// Coherence: the first shop's first small cart whose answer carries its offer's title.
	pool := b.pools[0]
	cart := -1
	for j, e := range pool.expect {
		if string(e) != emptyAnswer {
			cart = j
			break
		}
	}
	if cart < 0 || b.cfg.CoherenceRounds <= 0 {
		b.problem("coherence: no cart of %s gets a discount to edit", pool.shop)
		return
	}
	progressf(b.progress, "coherence: %d edits of offer %s, each on one process, watched on both", b.cfg.CoherenceRounds, pool.callers[cart])
	token, _ := app.MintCheckoutToken([]byte(app.DevCheckoutSigningKey), pool.shop, time.Now())
	rounds, err := measureCoherence(ctx, b.client, procs, pool.shop, token, pool.bodies[cart], pool.callers[cart], b.cfg.CoherenceRounds)
	if err != nil {
		b.problem("coherence: %v", err)
	}
	b.rep.Coherence = coherenceReport{Offer: pool.callers[cart], Rounds: rounds}
	for _, r := range rounds {
		if r.Problem != "" {
			b.problem("coherence: edit on %s: %s", r.EditedOn, r.Problem)
		}
		progressf(b.progress, "  edit on %s seen by the other process after %.1f ms (before: %d old answers, %d \"no discount\"), by itself after %.1f ms",
			r.EditedOn, r.OtherMs, r.OtherStale, r.OtherNoDiscount, r.EditingMs)
	}
}

// countOrders counts the shop's orders (for the report).
func countOrders(ctx context.Context, dsn, shop string) (int, error) {
	out, err := psqlValue(ctx, dsn, "SELECT COUNT(*) FROM orders WHERE shop = '"+strings.ReplaceAll(shop, "'", "''")+"'")
	if err != nil {
		return 0, nil //nolint:nilerr // the count is for the report only; psql may be missing
	}
	var n int
	_, _ = fmt.Sscan(out, &n)
	return n, nil
}

// postgresInfo is the server's version and durability settings, for the report.
func postgresInfo(ctx context.Context, dsn string) string {
	out, err := psqlValue(ctx, dsn, "SELECT version() || '; synchronous_commit=' || current_setting('synchronous_commit') || '; shared_buffers=' || current_setting('shared_buffers')")
	if err != nil {
		return "unknown (psql: " + err.Error() + ")"
	}
	return out
}

// psqlValue runs one query through psql (the harness reads no table of the store directly).
func psqlValue(ctx context.Context, dsn, query string) (string, error) {
	out, err := exec.CommandContext(ctx, "psql", dsn, "-AtXqc", query).Output()
	return strings.TrimSpace(string(out)), err
}

func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	return strings.Join(strings.Fields(string(b))[:3], " ")
}

// machineCPUs is the machine's CPU count (runtime.NumCPU says how many this process may use).
func machineCPUs() int {
	b, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return runtime.NumCPU()
	}
	n := 0
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, "processor") {
			n++
		}
	}
	return max(n, 1)
}

func cpuModel() string {
	b, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return "unknown"
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "model name"); ok {
			return strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(v), ":"))
		}
	}
	return "unknown"
}

func newReport(cfg config) *report {
	return &report{
		Started: time.Now().UTC().Format(time.RFC3339), Command: strings.Join(os.Args, " "),
		CPUs: machineCPUs(), CPUModel: cpuModel(), GoVersion: runtime.Version(), LoadBefore: loadAverage(),
		HarnessCPUs: affinity(), ServerCPUs: cfg.ServerCPUs, ClientCPUs: cfg.ClientCPUs,
		WebhookShop: cfg.WebhookShop, Conns: cfg.Conns, Client: cfg.Client, Warmup: cfg.Warmup.String(), Duration: cfg.Duration.String(),
	}
}
