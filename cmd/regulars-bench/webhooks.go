package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
)

// Webhook ingestion is measured by the webhook load harness, cmd/regulars-load, run as it is
// documented (its own binary, its JSON report): this harness only starts it, pinned like the
// load generator, against one app process or against a round-robin balancer in front of two.

// loadReport is the part of regulars-load's JSON report this harness reads.
type loadReport struct {
	Orders             int     `json:"orders"`
	Events             int     `json:"events"`
	Deliveries         int     `json:"deliveries"`
	Duplicates         int     `json:"duplicates"`
	Rate               float64 `json:"rate"`
	Stored             int     `json:"stored"`
	AckDuplicates      int     `json:"ack_duplicates"`
	Unacked            int     `json:"unacked"`
	AckPerSecond       float64 `json:"ack_per_second"`
	AckP50             int64   `json:"ack_p50_ns"`
	AckP99             int64   `json:"ack_p99_ns"`
	AckMax             int64   `json:"ack_max_ns"`
	Processed          int     `json:"processed"`
	Failed             int     `json:"failed"`
	NotProcessed       int     `json:"not_processed"`
	ProcessedPerSecond float64 `json:"processed_per_second"`
	LagAfterSend       float64 `json:"lag_after_send_seconds"`
}

// webhookResult is one webhook run in the report.
type webhookResult struct {
	Name      string     `json:"name"`
	Processes int        `json:"processes"`
	Report    loadReport `json:"report"`
	CPU       cpuUse     `json:"cpu"`
	PerServer []int64    `json:"requests_per_server,omitempty"` // through the balancer
	Problem   string     `json:"problem,omitempty"`
}

// runWebhookLoad runs regulars-load against base for shop and returns its report.
func runWebhookLoad(ctx context.Context, loadBin, cpus, dir, name, base, shop string, codes []string, orders int, rate float64) (loadReport, error) {
	args := []string{loadBin, "-url", base, "-shop", shop, "-n", strconv.Itoa(orders), "-c", "32",
		// A new seed every run: the events' ids follow from it, and a run on a database that
		// holds an earlier run's events must not send them again.
		"-codes", strings.Join(codes, ","), "-seed", strconv.FormatInt(time.Now().UnixNano(), 10), "-json", "-timeout", "15m"}
	if rate > 0 {
		args = append(args, "-rate", strconv.FormatFloat(rate, 'f', -1, 64))
	}
	if cpus != "" {
		args = append([]string{"taskset", "-c", cpus}, args...)
	}
	logFile, err := os.Create(filepath.Join(dir, name+".log"))
	if err != nil {
		return loadReport{}, err
	}
	defer logFile.Close()
	var out bytes.Buffer
	cmd := exec.CommandContext(ctx, args[0], args[1:]...)
	cmd.Stdout, cmd.Stderr = &out, logFile
	runErr := cmd.Run()
	var rep loadReport
	if err := json.Unmarshal(out.Bytes(), &rep); err != nil {
		return loadReport{}, fmt.Errorf("regulars-load: %v; no report (%w); see %s", runErr, err, logFile.Name())
	}
	if runErr != nil {
		return rep, fmt.Errorf("regulars-load: %w; see %s", runErr, logFile.Name())
	}
	return rep, nil
}

// balancer spreads requests over backends, round robin, as a load balancer in front of
// several app processes would.
type balancer struct {
	srv    *http.Server
	url    string
	counts []atomic.Int64
}

func startBalancer(backends []string) (*balancer, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	b := &balancer{url: "http://" + ln.Addr().String(), counts: make([]atomic.Int64, len(backends))}
	transport := &http.Transport{MaxIdleConnsPerHost: 64, IdleConnTimeout: 90 * time.Second, DisableCompression: true}
	proxies := make([]*httputil.ReverseProxy, len(backends))
	for i, be := range backends {
		u, err := url.Parse(be)
		if err != nil {
			_ = ln.Close()
			return nil, err
		}
		proxies[i] = httputil.NewSingleHostReverseProxy(u)
		proxies[i].Transport = transport
	}
	var next atomic.Int64
	b.srv = &http.Server{
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			i := int(next.Add(1)-1) % len(proxies)
			b.counts[i].Add(1)
			proxies[i].ServeHTTP(w, r)
		}),
		ReadHeaderTimeout: 10 * time.Second,
	}
	go func() { _ = b.srv.Serve(ln) }()
	return b, nil
}

func (b *balancer) perServer() []int64 {
	out := make([]int64, len(b.counts))
	for i := range b.counts {
		out[i] = b.counts[i].Load()
	}
	return out
}

func (b *balancer) close() { _ = b.srv.Close() }
