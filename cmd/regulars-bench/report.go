package main

import (
	"fmt"
	"io"
	"slices"
	"strings"
)

// report is everything a run measured, written as report.json and report.md.
type report struct {
	Started     string `json:"started"`
	Finished    string `json:"finished"`
	Command     string `json:"command"`
	CPUs        int    `json:"cpus"`
	CPUModel    string `json:"cpu_model"`
	GoVersion   string `json:"go_version"`
	Postgres    string `json:"postgres"`
	LoadBefore  string `json:"load_before"` // /proc/loadavg: other work on the machine
	LoadAfter   string `json:"load_after"`
	HarnessCPUs string `json:"harness_cpus"` // where the load generator ran
	ServerCPUs  string `json:"server_cpus"`
	ClientCPUs  string `json:"client_cpus"`
	WebhookShop string `json:"webhook_shop"`
	Conns       int    `json:"connections"`
	Client      string `json:"client"`
	Warmup      string `json:"warmup"`
	Duration    string `json:"duration"`

	Shops        []shopInfo      `json:"shops"`
	Carts        []cartInfo      `json:"carts"`
	Verification verification    `json:"verification"`
	Runs         []loadRun       `json:"runs"`
	Ratios       []ratio         `json:"ratios"`
	Profiles     []profileRun    `json:"profiles"`
	Webhooks     []webhookResult `json:"webhooks"`
	Coherence    coherenceReport `json:"coherence"`
	Problems     []string        `json:"problems"`
	Warnings     []string        `json:"warnings"`
}

type shopInfo struct {
	Shop             string `json:"shop"`
	Offers           int    `json:"offers"`
	Customers        int    `json:"customers"`
	Orders           int    `json:"orders"`
	CollectionsAsked int    `json:"collections_asked"` // per cart line, in the input
	TagsAsked        int    `json:"tags_asked"`
}

type cartInfo struct {
	Shop           string  `json:"shop"`
	Profile        string  `json:"profile"`
	Lines          int     `json:"lines"`
	Carts          int     `json:"carts"`
	AvgBodyBytes   int     `json:"avg_body_bytes"`
	AvgAnswerBytes int     `json:"avg_answer_bytes"`
	WithDiscount   float64 `json:"with_discount"` // share of carts whose answer has a discount
}

type verification struct {
	Right      int      `json:"right"`
	Wrong      int      `json:"wrong"`
	NoDiscount int      `json:"no_discount"` // of the wrong ones: "no discount" where one is due
	Failed     int      `json:"failed"`
	Examples   []string `json:"examples,omitempty"`
}

type loadRun struct {
	Name    string     `json:"name"`
	Round   int        `json:"round"`
	Target  string     `json:"target"` // checkout or bare
	Shop    string     `json:"shop"`
	Profile string     `json:"profile"`
	Conns   int        `json:"connections"`
	Rate    float64    `json:"rate,omitempty"` // paced
	Seconds float64    `json:"seconds"`
	Result  loadResult `json:"result"`
	CPU     cpuUse     `json:"cpu"`
}

type ratio struct {
	Target   string  `json:"target"`
	Shop     string  `json:"shop"`
	Profile  string  `json:"profile"`
	Checkout float64 `json:"checkout_per_second"` // medians over the rounds
	Bare     float64 `json:"bare_per_second"`
	Ratio    float64 `json:"ratio"`
}

type profileRun struct {
	Target    string   `json:"target"`
	Profile   string   `json:"profile"`
	File      string   `json:"file"`
	PerSecond float64  `json:"per_second"` // while profiled
	Top       []string `json:"top"`
	Cum       []string `json:"top_cumulative"`
}

type coherenceReport struct {
	Offer  string           `json:"offer"`
	Rounds []coherenceRound `json:"rounds"`
}

// medianRate is the median throughput of the runs of target and profile (and shop, unless
// empty) that were not paced.
func medianRate(runs []loadRun, target, profile, shop string) float64 {
	var rates []float64
	for _, r := range runs {
		if r.Target == target && r.Profile == profile && (shop == "" || r.Shop == shop) && r.Rate == 0 {
			rates = append(rates, r.Result.PerSecond)
		}
	}
	if len(rates) == 0 {
		return 0
	}
	slices.Sort(rates)
	if len(rates)%2 == 1 {
		return rates[len(rates)/2]
	}
	return (rates[len(rates)/2-1] + rates[len(rates)/2]) / 2
}

// ratios are checkout over bare, per target, shop and cart size, from the medians.
func ratios(runs []loadRun) []ratio {
	var out []ratio
	seen := map[string]bool{}
	for _, r := range runs {
		key := r.Target + "/" + r.Shop + "/" + r.Profile
		if r.Target == kindBare || r.Rate != 0 || seen[key] {
			continue
		}
		seen[key] = true
		c, b := medianRate(runs, r.Target, r.Profile, r.Shop), medianRate(runs, kindBare, r.Profile, "")
		x := ratio{Target: r.Target, Shop: r.Shop, Profile: r.Profile, Checkout: c, Bare: b}
		if b > 0 {
			x.Ratio = c / b
		}
		out = append(out, x)
	}
	return out
}

// percents lists fractions as percentages.
func percents(fs []float64) string {
	out := make([]string, len(fs))
	for i, f := range fs {
		out[i] = fmt.Sprintf("%.0f%%", 100*f)
	}
	return strings.Join(out, " ")
}

// writeMarkdown writes the report for people.
func writeMarkdown(w io.Writer, r *report) {
	p := func(format string, args ...any) { fmt.Fprintf(w, format+"\n", args...) }
	p("# regulars-bench report")
	p("")
	p("- started %s, finished %s", r.Started, r.Finished)
	p("- command: `%s`", r.Command)
	p("- machine: %d CPUs (%s), %s; load average before %s, after %s", r.CPUs, r.CPUModel, r.GoVersion, r.LoadBefore, r.LoadAfter)
	p("- PostgreSQL: %s", r.Postgres)
	p("- pinning: servers on CPUs %q, regulars-load on %q, this harness (the load generator) allowed on %q",
		r.ServerCPUs, r.ClientCPUs, r.HarnessCPUs)
	p("- load: %d connections (%s client), %s warm-up, %s measured per run", r.Conns, r.Client, r.Warmup, r.Duration)
	p("")
	if len(r.Shops) > 0 {
		p("## Shops")
		p("")
		p("| shop | offers | customers | orders | collections / tags asked per input |")
		p("|---|---:|---:|---:|---:|")
		for _, s := range r.Shops {
			p("| %s | %d | %d | %d | %d / %d |", s.Shop, s.Offers, s.Customers, s.Orders, s.CollectionsAsked, s.TagsAsked)
		}
		p("")
	}
	if len(r.Carts) > 0 {
		p("## Carts")
		p("")
		p("| shop | carts | lines | body | answer | with a discount |")
		p("|---|---:|---:|---:|---:|---:|")
		for _, c := range r.Carts {
			p("| %s | %d %s | %d | %d B | %d B | %.0f%% |", c.Shop, c.Carts, c.Profile, c.Lines, c.AvgBodyBytes, c.AvgAnswerBytes, 100*c.WithDiscount)
		}
		p("")
		v := r.Verification
		p("Verification (carts one at a time, on the app and on the bare server, against answers computed from the store): %d right, %d wrong (%d of them \"no discount\" where one is due), %d failed.",
			v.Right, v.Wrong, v.NoDiscount, v.Failed)
		for _, e := range v.Examples {
			p("- %s", e)
		}
		p("")
	}
	if len(r.Runs) > 0 {
		p("## Checkout and the bare handler")
		p("")
		p("Targets: `checkout` is the app as it runs (offers and facts through its store-backed source); `checkout-memory` is the app's own server and checkout handler with offers and facts preloaded in `app.MemorySource` (no query per call: the ceiling of the caching the targets ask for); `bare` decodes the same input and encodes the same answer and does nothing else. Closed loop: each connection sends its next request when the answer arrives. Paced: requests at a fixed rate, latency counted from when each was due.")
		p("")
		p("Wrong answers are counted apart from errors; \"no discount\" where one is due is what the app answers when its deadline passes. A paced run's unsent requests were due in the measured window but never sent because the server fell behind; its latencies count from when each request was due.")
		p("")
		p("CPU is in cores: the server process, PostgreSQL's processes, this harness; then how busy each CPU was with anything on the machine (other work included).")
		p("")
		p("| run | round | target | shop | carts | rate | per second | p50 | p90 | p99 | max | errors / wrong (no discount) | CPU server / PostgreSQL / harness | CPUs busy |")
		p("|---|---:|---|---|---|---:|---:|---:|---:|---:|---:|---:|---|---|")
		for _, x := range r.Runs {
			rate := "closed"
			res := x.Result
			if x.Rate > 0 {
				rate = fmt.Sprintf("%.0f/s", x.Rate)
				if res.Unsent > 0 {
					rate += fmt.Sprintf(" (%d unsent)", res.Unsent)
				}
			}
			server := 0.0
			if len(x.CPU.Servers) > 0 {
				server = x.CPU.Servers[0]
			}
			p("| %s | %d | %s | %s | %s | %s | %.0f | %.2f ms | %.2f ms | %.2f ms | %.1f ms | %d / %d (%d) | %.2f / %.2f / %.2f | %s |",
				x.Name, x.Round, x.Target, x.Shop, x.Profile, rate, res.PerSecond, res.P50, res.P90, res.P99, res.Max,
				res.Errors, res.Wrong, res.Empty, server, x.CPU.Postgres, x.CPU.Client, percents(x.CPU.PerCPU))
		}
		p("")
		if len(r.Ratios) > 0 {
			p("| target | shop | carts | per second | bare | target / bare (the checkout's target: at least 80%%) |")
			p("|---|---|---|---:|---:|---:|")
			for _, x := range r.Ratios {
				p("| %s | %s | %s | %.0f/s | %.0f/s | **%.1f%%** |", x.Target, x.Shop, x.Profile, x.Checkout, x.Bare, 100*x.Ratio)
			}
			p("")
		}
	}
	for _, pr := range r.Profiles {
		p("## CPU profile: %s, %s carts (%.0f checkouts/s while profiled)", pr.Target, pr.Profile, pr.PerSecond)
		p("")
		p("`%s`; flat:", pr.File)
		p("")
		p("```")
		p("%s", strings.Join(pr.Top, "\n"))
		p("```")
		p("")
		p("cumulative:")
		p("")
		p("```")
		p("%s", strings.Join(pr.Cum, "\n"))
		p("```")
		p("")
	}
	if len(r.Webhooks) > 0 {
		p("## Webhook ingestion (cmd/regulars-load)")
		p("")
		p("Orders for %s, a small shop in the same database: its orders go into the same tables as the large shops'.", r.WebhookShop)
		p("")
		p("| run | processes | orders | rate | acknowledged | ack p50 / p99 / max | processed | behind at the end | CPU app / PostgreSQL | requests per process | problem |")
		p("|---|---:|---:|---:|---:|---:|---:|---:|---|---|---|")
		for _, x := range r.Webhooks {
			rep := x.Report
			rate := "unpaced"
			if rep.Rate > 0 {
				rate = fmt.Sprintf("%.0f/s", rep.Rate)
			}
			cpus := make([]string, len(x.CPU.Servers))
			for i, c := range x.CPU.Servers {
				cpus[i] = fmt.Sprintf("%.2f", c)
			}
			per := ""
			if len(x.PerServer) > 0 {
				per = fmt.Sprint(x.PerServer)
			}
			p("| %s | %d | %d | %s | %.0f/s | %.1f / %.1f / %.0f ms | %.0f/s | %.2f s | %s / %.2f (CPUs busy %s) | %s | %s |",
				x.Name, x.Processes, rep.Orders, rate, rep.AckPerSecond, float64(rep.AckP50)/1e6, float64(rep.AckP99)/1e6,
				float64(rep.AckMax)/1e6, rep.ProcessedPerSecond, rep.LagAfterSend, strings.Join(cpus, " + "), x.CPU.Postgres, percents(x.CPU.PerCPU), per, x.Problem)
		}
		p("")
	}
	if len(r.Coherence.Rounds) > 0 {
		p("## Coherence between two processes")
		p("")
		p("Offer %s retitled through one process's admin API; time from the edit's answer until each process's checkout answer carries the new title.", r.Coherence.Offer)
		p("")
		p("The other process is asked again 1 ms after each answer; its answers before the new title are counted as the old title or as \"no discount\" (the app's deadline passed, so the time includes waiting for answers).")
		p("")
		p("| edit on | the other process | its answers before: old title / no discount | the editing process | problem |")
		p("|---|---:|---:|---:|---|")
		for _, c := range r.Coherence.Rounds {
			p("| %s | %.1f ms | %d / %d | %.1f ms | %s |", c.EditedOn, c.OtherMs, c.OtherStale, c.OtherNoDiscount, c.EditingMs, c.Problem)
		}
		p("")
	}
	if len(r.Warnings) > 0 {
		p("## Warnings")
		p("")
		for _, x := range r.Warnings {
			p("- %s", x)
		}
		p("")
	}
	if len(r.Problems) > 0 {
		p("## Problems")
		p("")
		for _, x := range r.Problems {
			p("- %s", x)
		}
	} else {
		p("No problems: every request answered, every answer right, every webhook processed once, every edit seen.")
	}
}
