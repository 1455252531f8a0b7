package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"math"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// The load generator: net/http with keep-alive, a fixed number of connections, each sending
// its next request as soon as the previous answer is read (closed loop), or, paced, each
// request at its planned time with its latency counted from then (open loop, so that a slow
// server cannot hide its queue). A warm-up runs first and is not counted.

// answerHeader names the expected answer of a request, for the bare server (the app ignores
// it). Both servers get it, so their requests are the same size.
const answerHeader = "X-Bench-Answer"

// target is what one load run sends: POSTs of bodies[i] (round robin) to url, each answer
// compared with expect[i].
type target struct {
	url     string
	token   string // bearer token
	bodies  [][]byte
	expect  [][]byte
	answers int // index of bodies[0] among the bare server's answers
}

// loadSpec is how hard and how long.
type loadSpec struct {
	conns    int
	warmup   time.Duration
	duration time.Duration
	rate     float64 // requests per second, paced; 0 is closed loop
	raw      bool    // the raw HTTP/1.1 client instead of net/http (see rawSender)
}

// loadResult is one run's figures (times in milliseconds, JSON-friendly).
type loadResult struct {
	Requests   int     `json:"requests"`    // answered in the measured window
	Errors     int     `json:"errors"`      // transport errors and non-200 answers
	Wrong      int     `json:"wrong"`       // 200 answers that are not the expected answer
	Empty      int     `json:"empty"`       // of the wrong ones: "no discount" (a timeout or failure inside the app)
	PerSecond  float64 `json:"per_second"`  // answered requests per second
	P50        float64 `json:"p50_ms"`      //
	P90        float64 `json:"p90_ms"`      //
	P99        float64 `json:"p99_ms"`      //
	Max        float64 `json:"max_ms"`      //
	Behind     int     `json:"behind"`      // paced: requests sent later than planned by more than 1 ms
	Unsent     int     `json:"unsent"`      // paced: requests planned in the window but not sent before it ended
	FirstError string  `json:"first_error"` // the first error or wrong answer, for the report
}

// emptyAnswer is the app's "no discount".
const emptyAnswer = `{"operations":[]}`

// newLoadClient is an HTTP client keeping up to conns connections open.
func newLoadClient(conns int) *http.Client {
	return &http.Client{
		Timeout: 30 * time.Second,
		Transport: &http.Transport{
			MaxIdleConns: conns, MaxIdleConnsPerHost: conns, MaxConnsPerHost: conns,
			DisableCompression: true, IdleConnTimeout: 90 * time.Second,
		},
	}
}

// runLoad runs one load run and returns its figures.
func runLoad(ctx context.Context, client *http.Client, tgt target, spec loadSpec) loadResult {
	type sample struct {
		lat     time.Duration
		outcome int8 // 0 ok, 1 error, 2 wrong, 3 wrong and empty
	}
	workers := make([][]sample, spec.conns)
	var next atomic.Int64
	var firstErr atomic.Pointer[string]
	noteErr := func(s string) { firstErr.CompareAndSwap(nil, &s) }
	start := time.Now()
	measureFrom := start.Add(spec.warmup)
	stopAt := measureFrom.Add(spec.duration)
	var behind atomic.Int64

	var raw [][]byte
	if spec.raw {
		raw = rawRequests(tgt)
	}
	var wg sync.WaitGroup
	for w := range spec.conns {
		wg.Go(func() {
			var buf bytes.Buffer
			own := make([]sample, 0, 1024)
			defer func() { workers[w] = own }()
			var snd sender = httpSender{client: client, tgt: tgt}
			if spec.raw {
				rs := &rawSender{tgt: tgt, reqs: raw}
				defer rs.close()
				snd = rs
			}
			for ctx.Err() == nil {
				n := next.Add(1) - 1
				sent := time.Now()
				if spec.rate > 0 {
					due := start.Add(time.Duration(float64(n) / spec.rate * float64(time.Second)))
					if d := time.Until(due); d > 0 {
						time.Sleep(d)
					} else if d < -time.Millisecond && !due.Before(measureFrom) {
						behind.Add(1)
					}
					sent = due
				}
				// Paced, a server that cannot keep up leaves requests unsent at the end: they are
				// counted (Unsent), not waited for.
				if !sent.Before(stopAt) || !time.Now().Before(stopAt) {
					return
				}
				i := int(n % int64(len(tgt.bodies)))
				outcome := post(ctx, snd, tgt, i, &buf, noteErr)
				done := time.Now()
				if sent.Before(measureFrom) || done.After(stopAt) {
					continue
				}
				own = append(own, sample{lat: done.Sub(sent), outcome: outcome})
			}
		})
	}
	wg.Wait()

	var res loadResult
	var lats []time.Duration
	for _, own := range workers {
		for _, s := range own {
			switch s.outcome {
			case 1:
				res.Errors++
				continue
			case 3:
				res.Empty++
				fallthrough
			case 2:
				res.Wrong++
			}
			lats = append(lats, s.lat)
		}
	}
	slices.Sort(lats)
	res.Requests = len(lats)
	res.PerSecond = float64(len(lats)) / spec.duration.Seconds()
	res.P50, res.P90, res.P99 = ms(percentile(lats, 0.50)), ms(percentile(lats, 0.90)), ms(percentile(lats, 0.99))
	if len(lats) > 0 {
		res.Max = ms(lats[len(lats)-1])
	}
	res.Behind = int(behind.Load())
	if spec.rate > 0 {
		res.Unsent = max(int(spec.rate*spec.duration.Seconds())-res.Requests-res.Errors, 0)
	}
	if p := firstErr.Load(); p != nil {
		res.FirstError = *p
	}
	return res
}

// sender sends request i of a target and reads the answer into buf.
type sender interface {
	send(ctx context.Context, i int, buf *bytes.Buffer) (status int, err error)
}

// httpSender sends through net/http (keep-alive, connections pooled by the client).
type httpSender struct {
	client *http.Client
	tgt    target
}

func (h httpSender) send(ctx context.Context, i int, buf *bytes.Buffer) (int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, h.tgt.url, bytes.NewReader(h.tgt.bodies[i]))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+h.tgt.token)
	req.Header.Set(answerHeader, strconv.Itoa(h.tgt.answers+i))
	resp, err := h.client.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	buf.Reset()
	_, err = buf.ReadFrom(io.LimitReader(resp.Body, 1<<20))
	return resp.StatusCode, err
}

// post sends request i and classifies the answer: 0 right, 1 failed, 2 wrong, 3 wrong and
// empty.
func post(ctx context.Context, snd sender, tgt target, i int, buf *bytes.Buffer, noteErr func(string)) int8 {
	status, err := snd.send(ctx, i, buf)
	switch {
	case err != nil:
		if ctx.Err() == nil {
			noteErr(err.Error())
		}
		return 1
	case status != http.StatusOK:
		noteErr(fmt.Sprintf("%d %s", status, clip(buf.String(), 200)))
		return 1
	case tgt.expect != nil && !bytes.Equal(buf.Bytes(), tgt.expect[i]):
		noteErr(fmt.Sprintf("body %d: answer %s, want %s", i, clip(buf.String(), 200), clip(string(tgt.expect[i]), 200)))
		if buf.String() == emptyAnswer {
			return 3
		}
		return 2
	}
	return 0
}

func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// percentile of sorted durations (nearest rank).
func percentile(sorted []time.Duration, q float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(math.Ceil(q*float64(len(sorted)))) - 1
	return sorted[min(max(i, 0), len(sorted)-1)]
}

func ms(d time.Duration) float64 { return math.Round(float64(d)/float64(time.Microsecond)) / 1000 }
