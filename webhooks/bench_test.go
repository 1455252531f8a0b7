package webhooks

import (
	"context"
	"fmt"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/regularsapp/regulars/store"
	"github.com/regularsapp/regulars/store/storetest"
)

// BenchmarkPipeline receives and processes orders with a code (one ledger row each):
// Receive (verify, store) and then a drain by one worker, per order.
func BenchmarkPipeline(b *testing.B) {
	b.Run("sqlite", func(b *testing.B) {
		benchmarkPipeline(b, storetest.OpenMigrated(b, "sqlite:"+filepath.Join(b.TempDir(), "bench.db")))
	})
	b.Run("postgres", func(b *testing.B) {
		benchmarkPipeline(b, storetest.OpenMigrated(b, storetest.NewPostgresDSN(b)))
	})
}

func benchmarkPipeline(b *testing.B, st *store.Store) {
	h := newHarness(b, st)
	seedOffers(b, st)
	bodies := make([][]byte, b.N)
	for i := range bodies {
		bodies[i] = orderBody(b, func(o object) { o["id"] = 1_000_000 + i })
	}
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		if _, err := h.recv.Receive(ctx, delivery(TopicOrdersCreate, fmt.Sprint("ev-", i), bodies[i])); err != nil {
			b.Fatal(err)
		}
	}
	if _, err := h.worker.DrainOnce(ctx); err != nil {
		b.Fatal(err)
	}
	b.StopTimer()
	if n := len(mustRedemptions(b, st)); n != b.N {
		b.Fatalf("%d redemptions, want %d", n, b.N)
	}
}

// BenchmarkParallel receives orders from 8 goroutines, then processes them with 8 workers.
func BenchmarkParallel(b *testing.B) {
	b.Run("sqlite", func(b *testing.B) {
		benchmarkParallel(b, storetest.OpenMigrated(b, "sqlite:"+filepath.Join(b.TempDir(), "bench.db")))
	})
	b.Run("postgres", func(b *testing.B) {
		benchmarkParallel(b, storetest.OpenMigrated(b, storetest.NewPostgresDSN(b)))
	})
}

func benchmarkParallel(b *testing.B, st *store.Store) {
	h := newHarness(b, st)
	seedOffers(b, st)
	bodies := make([][]byte, b.N)
	for i := range bodies {
		bodies[i] = orderBody(b, func(o object) { o["id"] = 1_000_000 + i })
	}
	ctx := context.Background()
	b.ResetTimer()
	start := time.Now()
	var wg sync.WaitGroup
	next := atomic.Int64{}
	for range 8 {
		wg.Go(func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= b.N {
					return
				}
				if _, err := h.recv.Receive(ctx, delivery(TopicOrdersCreate, fmt.Sprint("ev-", i), bodies[i])); err != nil {
					b.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	received := time.Since(start)
	wctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { RunWorkers(wctx, st, h.proc, 8, 5*time.Millisecond); close(done) }()
	for {
		evs, err := st.ListEvents(ctx, testShop, store.EventPending, 1)
		if err != nil {
			b.Fatal(err)
		}
		if len(evs) == 0 {
			break
		}
		time.Sleep(2 * time.Millisecond)
	}
	cancel()
	<-done
	b.StopTimer()
	total := time.Since(start)
	b.ReportMetric(float64(b.N)/received.Seconds(), "received/s")
	b.ReportMetric(float64(b.N)/(total-received).Seconds(), "processed/s")
	if n := len(mustRedemptions(b, st)); n != b.N {
		b.Fatalf("%d redemptions, want %d", n, b.N)
	}
}
