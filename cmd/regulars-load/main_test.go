package main

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/regularsapp/regulars/app"
	"github.com/regularsapp/regulars/store"
	"github.com/regularsapp/regulars/store/storetest"
	"github.com/regularsapp/regulars/webhooks"
)

func TestDefaultSecretIsTheAppsDevelopmentSecret(t *testing.T) {
	if devAppSecret != app.DevAppSecret {
		t.Errorf("devAppSecret = %q; want app.DevAppSecret %q", devAppSecret, app.DevAppSecret)
	}
}

func TestConfigCheck(t *testing.T) {
	good := config{URL: "http://127.0.0.1:8080", Secret: "s", Shop: demoShop, N: 10, C: 2, Timeout: time.Minute}
	if err := good.check(); err != nil {
		t.Fatalf("check(%+v) = %v", good, err)
	}
	for name, change := range map[string]func(c *config){
		"a remote host":    func(c *config) { c.URL = "http://203.0.113.9:8080" },
		"a remote name":    func(c *config) { c.URL = "http://example.com" },
		"https":            func(c *config) { c.URL = "https://127.0.0.1:8443" },
		"no orders":        func(c *config) { c.N = 0 },
		"too many orders":  func(c *config) { c.N = maxOrders + 1 },
		"no connections":   func(c *config) { c.C = 0 },
		"a fraction above": func(c *config) { c.Duplicates = 1.5 },
		"no timeout":       func(c *config) { c.Timeout = 0 },
		"a day":            func(c *config) { c.Timeout = 24 * time.Hour },
		"a negative rate":  func(c *config) { c.Rate = -1 },
	} {
		c := good
		change(&c)
		if err := c.check(); err == nil {
			t.Errorf("%s: check accepted %+v", name, c)
		}
	}
	for _, u := range []string{"http://localhost:1", "http://[::1]:1", "http://127.0.0.2:1"} {
		c := good
		c.URL = u
		if err := c.check(); err != nil {
			t.Errorf("check(%s) = %v; want a loopback address accepted", u, err)
		}
	}
}

// The plan's deliveries are what the platform sends: signed, 2 to 4 KB, readable by the app's
// parser, duplicates after their original.
func TestMakePlan(t *testing.T) {
	secret := []byte("s3cret")
	codes := []string{"WELCOME10", "REGULAR15"}
	p := makePlan(planConfig{secret: secret, orders: 300, duplicates: 0.2, updates: 0.3, codes: codes,
		codeRate: 0.4, seed: 7, runID: "run", now: time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)})
	if p.events != 300+countUpdated(p.orders) || len(p.deliveries) != p.events+p.duplicates || p.duplicates == 0 {
		t.Fatalf("plan: %d events, %d duplicates, %d deliveries", p.events, p.duplicates, len(p.deliveries))
	}
	seen := map[string]int{}
	withCode := 0
	for i, d := range p.deliveries {
		if err := webhooks.Verify([][]byte{secret}, d.signature, d.body); err != nil {
			t.Fatalf("delivery %d: %v", i, err)
		}
		if n := len(d.body); n < 2000 || n > 4096 {
			t.Errorf("delivery %d: body of %d bytes, want 2 to 4 KB", i, n)
		}
		if _, ok := seen[d.eventID]; ok != d.duplicate {
			t.Errorf("delivery %d (%s): duplicate %v, but seen before: %v", i, d.eventID, d.duplicate, ok)
		}
		seen[d.eventID] = i
		o, err := webhooks.ParseOrder(demoShop, d.body)
		if err != nil {
			t.Fatalf("delivery %d: ParseOrder: %v", i, err)
		}
		if o.ID != p.orders[d.order].ID || len(o.Lines) < 3 || len(o.Lines) > 5 {
			t.Errorf("delivery %d: order %s with %d lines; want %s with 3 to 5", i, o.ID, len(o.Lines), p.orders[d.order].ID)
		}
		if len(o.Codes) > 0 {
			withCode++
		}
	}
	if withCode == 0 {
		t.Error("no order uses a code")
	}
}

func countUpdated(orders []plannedOrder) int {
	n := 0
	for _, o := range orders {
		if o.Updated {
			n++
		}
	}
	return n
}

// TestLoadSmoke is the benchmark's end-to-end run, small: the real app (app.Run, as the
// binary runs it) on SQLite and PostgreSQL, 200 orders with duplicate deliveries and
// out-of-order updates through HTTP. It checks correctness only (every event stored once and
// processed once, each order at its newest version with that version's ledger), never time.
func TestLoadSmoke(t *testing.T) {
	t.Run("sqlite", func(t *testing.T) { testLoadSmoke(t, "sqlite:"+filepath.Join(t.TempDir(), "load.db")) })
	t.Run("postgres", func(t *testing.T) { testLoadSmoke(t, storetest.NewPostgresDSN(t)) })
}

func testLoadSmoke(t *testing.T, dsn string) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	base, stopApp := startApp(t, ctx, dsn)

	// The demo shop's own history is processed first, so that the run's counts are its own.
	client := newClient(4)
	deadline := time.Now().Add(time.Minute)
	for {
		s, err := getStats(ctx, client, base, demoShop)
		if err == nil && s.Pending == 0 && s.Done > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the demo history is not processed after a minute: %+v, %v", s, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	before, err := getStats(ctx, client, base, demoShop)
	if err != nil {
		t.Fatal(err)
	}

	codes := []string{"WELCOME10", "REGULAR15", "FREESHIP"}
	cfg := config{URL: base, Secret: app.DevAppSecret, Shop: demoShop, N: 200, C: 8, Duplicates: 0.2, Updates: 0.25,
		Codes: codes, CodeRate: 0.4, Timeout: 2 * time.Minute, Poll: 50 * time.Millisecond, Seed: 42}
	rep, err := run(ctx, cfg, io.Discard)
	if err != nil {
		t.Fatalf("run: %v (report %+v)", err, rep)
	}
	if rep.Stored != rep.Events || rep.AckDuplicates != rep.Duplicates || rep.Duplicates == 0 || rep.Unacked != 0 {
		t.Errorf("acknowledged: stored %d of %d events, %d of %d duplicates, %d unacknowledged",
			rep.Stored, rep.Events, rep.AckDuplicates, rep.Duplicates, rep.Unacked)
	}
	if rep.Processed != rep.Events || rep.Failed != 0 || rep.NotProcessed != 0 {
		t.Errorf("processed %d of %d events, %d failed, %d not processed", rep.Processed, rep.Events, rep.Failed, rep.NotProcessed)
	}
	stopApp()

	// What the app stored: each event done once, each order at its newest version, one ledger
	// row per order that used one of the shop's codes, for that code's offer.
	st, err := store.Open(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	stats, err := st.EventStats(ctx, demoShop)
	if err != nil {
		t.Fatal(err)
	}
	if stats.Done != before.Done+rep.Events || stats.Pending != 0 || stats.Failed != 0 {
		t.Errorf("events: %+v; want %d done, none pending or failed", stats, before.Done+rep.Events)
	}
	plan := makePlan(planConfig{secret: []byte(cfg.Secret), orders: cfg.N, duplicates: cfg.Duplicates, updates: cfg.Updates,
		codes: codes, codeRate: cfg.CodeRate, seed: cfg.Seed, runID: "check", now: time.Now()})
	rs, err := st.ListRedemptions(ctx, demoShop, "")
	if err != nil {
		t.Fatal(err)
	}
	ledger := map[string][]string{}
	for _, r := range rs {
		ledger[r.OrderID] = append(ledger[r.OrderID], r.OfferID)
	}
	offerOf := map[string]string{"WELCOME10": "demo-welcome", "REGULAR15": "demo-regulars-15", "FREESHIP": "demo-free-shipping"}
	updated, coded := 0, 0
	for _, po := range plan.orders {
		o, err := st.GetOrder(ctx, demoShop, po.ID)
		if err != nil {
			t.Errorf("order %s: %v", po.ID, err)
			continue
		}
		wantStatus := "pending"
		if po.Updated {
			wantStatus, updated = "paid", updated+1
		}
		if o.FinancialStatus != wantStatus {
			t.Errorf("order %s: financial status %q; want %q (its newest version)", po.ID, o.FinancialStatus, wantStatus)
		}
		var want []string
		if po.ShopCode {
			want, coded = []string{offerOf[po.Code]}, coded+1
		}
		if got := ledger[po.ID]; strings.Join(got, ",") != strings.Join(want, ",") {
			t.Errorf("order %s (code %q, updated %v): ledger %v; want %v", po.ID, po.Code, po.Updated, got, want)
		}
	}
	if updated == 0 || coded == 0 {
		t.Errorf("the plan has %d updated orders and %d with a shop code; want some of each", updated, coded)
	}
}

// startApp runs the app as its binary does (app.Run), on a free loopback port in development
// mode, and returns its base URL and a function that stops it and waits for it.
func startApp(t *testing.T, ctx context.Context, dsn string) (string, func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(ctx)
	out, stdout := io.Pipe()
	env := map[string]string{"REGULARS_ADDR": "127.0.0.1:0", "REGULARS_ENV": "development", "DATABASE_URL": dsn}
	runErr := make(chan error, 1)
	go func() {
		runErr <- app.Run(ctx, nil, func(k string) string { return env[k] }, stdout)
		stdout.Close()
	}()
	addr := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
		for sc.Scan() {
			var rec struct {
				Msg  string `json:"msg"`
				Addr string `json:"addr"`
			}
			if json.Unmarshal(sc.Bytes(), &rec) == nil && rec.Msg == "listening" {
				addr <- rec.Addr
				break
			}
		}
		_, _ = io.Copy(io.Discard, out) // Run must never block on its logger
	}()
	stopped := false
	stop := func() {
		if stopped {
			return
		}
		stopped = true
		cancel()
		select {
		case err := <-runErr:
			if err != nil {
				t.Errorf("app.Run: %v", err)
			}
		case <-time.After(30 * time.Second):
			t.Error("app.Run did not stop within 30 s")
		}
	}
	t.Cleanup(stop)
	select {
	case a := <-addr:
		return "http://" + a, stop
	case err := <-runErr:
		t.Fatalf("app.Run returned before listening: %v", err)
	case <-time.After(30 * time.Second):
		t.Fatal("app.Run did not report listening within 30 s")
	}
	return "", nil
}
