package main

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/regularsapp/regulars/cmd/regulars-gen/shopgen"
	"github.com/regularsapp/regulars/store/storetest"
)

// TestBenchSmoke runs the whole harness, small: the real binaries (this one, with its app and
// bare servers in processes of their own, and regulars-load), two tiny generated shops in a
// PostgreSQL schema of the test's own, every phase for a second or so. It checks correctness
// only (every request answered, every answer the expected one, every webhook processed once,
// both processes working, every edit seen by both), never a figure.
func TestBenchSmoke(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the harness's binaries")
	}
	dsn := storetest.NewPostgresDSN(t)
	dir := t.TempDir()
	for _, b := range []struct{ out, pkg string }{{"regulars-bench", "."}, {"regulars-load", "../regulars-load"}} {
		build := exec.Command("go", "build", "-o", filepath.Join(dir, b.out), b.pkg)
		if out, err := build.CombinedOutput(); err != nil {
			t.Fatalf("go build %s: %v\n%s", b.pkg, err, out)
		}
	}

	ctx := context.Background()
	st := storetest.OpenMigrated(t, dsn)
	end := time.Now().UTC().Truncate(24 * time.Hour)
	shops := []string{"smoke-a.myshopify.com", "smoke-b.myshopify.com"}
	for i, shop := range shops {
		g, err := shopgen.New(shopgen.Config{Shop: shop, Seed: uint64(i + 1), Offers: 20 + 40*i, Customers: 60, Orders: 800, End: end, Days: 365})
		if err != nil {
			t.Fatal(err)
		}
		data, err := g.BulkShop()
		if err != nil {
			t.Fatal(err)
		}
		if _, err := st.BulkLoad(ctx, data, nil); err != nil {
			t.Fatal(err)
		}
	}

	out := filepath.Join(dir, "out")
	cmd := exec.Command(filepath.Join(dir, "regulars-bench"), "-dsn", dsn, "-shops", strings.Join(shops, ","),
		"-c", "4", "-warmup", "100ms", "-duration", "500ms", "-carts", "12", "-paced", "0.2", "-profile-for", "500ms",
		"-webhook-orders", "150", "-webhook-paced-orders", "100", "-webhook-rate", "200", "-coherence-rounds", "2",
		"-server-cpus", "", "-client-cpus", "", "-checkout-deadline", "1900ms", "-client", "raw", "-out", out)
	cmd.Env = append(os.Environ(), "DATABASE_URL=")
	var stderr strings.Builder
	cmd.Stderr = &stderr
	stdout, err := cmd.Output()
	t.Logf("regulars-bench progress:\n%s", stderr.String())
	if err != nil {
		t.Fatalf("regulars-bench: %v\n%s", err, stdout)
	}
	if !strings.Contains(string(stdout), "# regulars-bench report") {
		t.Errorf("no report on stdout:\n%s", stdout)
	}
	doc, err := os.ReadFile(filepath.Join(out, "report.json"))
	if err != nil {
		t.Fatal(err)
	}
	var rep report
	if err := json.Unmarshal(doc, &rep); err != nil {
		t.Fatal(err)
	}

	if len(rep.Problems) > 0 {
		t.Errorf("problems: %q", rep.Problems)
	}
	if v := rep.Verification; v.Right != 3*2*2*12 || v.Wrong+v.Failed > 0 {
		t.Errorf("verification: %+v; want every cart of both shops and sizes right on the three servers", v)
	}
	discounted := false
	for _, c := range rep.Carts {
		discounted = discounted || c.WithDiscount > 0
	}
	if !discounted {
		t.Errorf("no cart gets a discount: %+v", rep.Carts)
	}
	kinds := map[string]int{}
	for _, r := range rep.Runs {
		kinds[r.Name+"/"+r.Target+"/"+r.Profile]++
		if r.Result.Requests == 0 || r.Result.Errors > 0 || r.Result.Wrong > 0 {
			t.Errorf("run %s %s %s %s: %+v", r.Name, r.Target, r.Shop, r.Profile, r.Result)
		}
	}
	for _, size := range []string{"small", "large"} {
		for _, k := range []string{"closed loop/bare/", "closed loop/checkout/", "closed loop/checkout-memory/", "paced/checkout/", "paced/checkout-memory/"} {
			if kinds[k+size] == 0 {
				t.Errorf("no %s%s run (runs: %v)", k, size, kinds)
			}
		}
	}
	if len(rep.Ratios) != 2*2*2 {
		t.Errorf("ratios: %+v; want one per target, shop and cart size", rep.Ratios)
	}
	if len(rep.Profiles) != 4 {
		t.Errorf("profiles: %+v; want one per target and cart size", rep.Profiles)
	}
	for _, p := range rep.Profiles {
		if fi, err := os.Stat(p.File); err != nil || fi.Size() == 0 {
			t.Errorf("profile %s: %v", p.File, err)
		}
	}
	if len(rep.Webhooks) != 3 {
		t.Fatalf("webhook runs: %+v; want unpaced, paced and two processes", rep.Webhooks)
	}
	for _, w := range rep.Webhooks {
		r := w.Report
		if r.Stored != r.Events || r.Processed != r.Events || r.Failed+r.NotProcessed+r.Unacked > 0 || r.AckDuplicates != r.Duplicates {
			t.Errorf("%s: %+v", w.Name, r)
		}
		if w.Processes == 2 && (len(w.PerServer) != 2 || w.PerServer[0] == 0 || w.PerServer[1] == 0) {
			t.Errorf("%s: requests per process %v; want both", w.Name, w.PerServer)
		}
	}
	if len(rep.Coherence.Rounds) != 2 || rep.Coherence.Rounds[0].EditedOn == rep.Coherence.Rounds[1].EditedOn {
		t.Errorf("coherence: %+v; want an edit on each process", rep.Coherence)
	}

	// The offer has its title back.
	o, err := st.GetOffer(ctx, shops[0], rep.Coherence.Offer)
	if err != nil || strings.Contains(string(o.Config), "Bench edit") || o.Version != 1+2+1 {
		t.Errorf("offer %s after the edits: version %d, %s, %v; want two edits and its title back", rep.Coherence.Offer, o.Version, o.Config, err)
	}
	// The webhooks went to a shop of their own; the measured shops got none.
	for _, shop := range shops {
		if s, err := st.EventStats(ctx, shop); err != nil || s.Done+s.Pending+s.Failed != 0 {
			t.Errorf("webhook events of %s: %+v, %v; want none", shop, s, err)
		}
	}
	if s, err := st.EventStats(ctx, rep.WebhookShop); err != nil || s.Done == 0 {
		t.Errorf("webhook events of %s: %+v, %v; want the runs'", rep.WebhookShop, s, err)
	}
	if _, err := st.GetTokens(ctx, shops[0]); err != nil {
		t.Errorf("tokens of %s: %v", shops[0], err)
	}
}
