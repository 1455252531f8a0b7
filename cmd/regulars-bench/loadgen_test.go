package main

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
	"time"
)

// TestRunLoad drives a server that answers each body with its index with both clients,
// closed loop and paced, and checks that answers are counted right, wrong or failed.
func TestRunLoad(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if r.Header.Get("Authorization") != "Bearer tok" {
			http.Error(w, "no token", http.StatusUnauthorized)
			return
		}
		switch string(body) {
		case "fail":
			http.Error(w, "boom", http.StatusInternalServerError)
		case "empty":
			_, _ = io.WriteString(w, emptyAnswer)
		default:
			_, _ = io.WriteString(w, "answer "+r.Header.Get(answerHeader))
		}
	}))
	defer srv.Close()
	bodies := [][]byte{[]byte("a"), []byte("b")}
	expect := [][]byte{[]byte("answer 10"), []byte("answer 11")}
	for _, raw := range []bool{false, true} {
		for _, rate := range []float64{0, 500} {
			t.Run("raw="+strconv.FormatBool(raw)+"/rate="+strconv.Itoa(int(rate)), func(t *testing.T) {
				spec := loadSpec{conns: 3, warmup: 50 * time.Millisecond, duration: 300 * time.Millisecond, rate: rate, raw: raw}
				tgt := target{url: srv.URL + "/x", token: "tok", bodies: bodies, expect: expect, answers: 10}
				res := runLoad(context.Background(), newLoadClient(3), tgt, spec)
				if res.Requests == 0 || res.Errors+res.Wrong > 0 || res.PerSecond <= 0 || res.P99 < res.P50 || res.Max < res.P99 {
					t.Errorf("good target: %+v", res)
				}
				if rate > 0 && (res.PerSecond < rate/2 || res.PerSecond > rate*1.5) {
					t.Errorf("paced at %v/s: %v/s", rate, res.PerSecond)
				}

				tgt.bodies = [][]byte{[]byte("fail"), []byte("empty"), []byte("a")}
				tgt.expect = [][]byte{[]byte("x"), []byte("answer 11"), []byte("answer 99")}
				res = runLoad(context.Background(), newLoadClient(3), tgt, spec)
				if res.Errors == 0 || res.Wrong == 0 || res.Empty == 0 || res.Empty == res.Wrong || res.FirstError == "" {
					t.Errorf("bad target: %+v; want errors, wrong and empty answers counted", res)
				}
			})
		}
	}
}
