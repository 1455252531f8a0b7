package webhooks

import (
	"bytes"
	"context"
	"log/slog"
	"sync"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" database/sql driver, for creating test schemas

	"github.com/regularsapp/regulars/store"
)

// syncBuffer is a log destination safe for the worker goroutines.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// clock is the real time shifted by a settable offset.
type clock struct {
	mu     sync.Mutex
	offset time.Duration
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return time.Now().Add(c.offset)
}

func (c *clock) Shift(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.offset = d
}

const testSecret = "regulars-test-secret"

// harness is the pipeline of one test: a receiver, a processor and a worker on one store.
type harness struct {
	st     *store.Store
	recv   *Receiver
	proc   *Processor
	worker *Worker
	clock  *clock
	logs   *syncBuffer
}

func newHarness(t testing.TB, st *store.Store) *harness {
	t.Helper()
	c := &clock{}
	logs := &syncBuffer{}
	logger := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	proc := NewProcessor(st, c.Now, logger)
	return &harness{
		st:     st,
		recv:   NewReceiver(st, [][]byte{[]byte(testSecret)}, c.Now),
		proc:   proc,
		worker: NewWorker(st, proc),
		clock:  c,
		logs:   logs,
	}
}

// delivery is a correctly signed delivery of body.
func delivery(topic, eventID string, body []byte) Delivery {
	return Delivery{
		Topic:       topic,
		Shop:        testShop,
		EventID:     eventID,
		WebhookID:   "wh-" + eventID,
		APIVersion:  "2025-10",
		Signature:   sign([]byte(testSecret), body),
		TriggeredAt: time.Now().UTC().Truncate(time.Second),
		Body:        body,
	}
}

// receive delivers and expects it stored.
func (h *harness) receive(t *testing.T, topic, eventID string, body []byte) {
	t.Helper()
	dup, err := h.recv.Receive(context.Background(), delivery(topic, eventID, body))
	if err != nil {
		t.Fatalf("Receive(%s, %s): %v", topic, eventID, err)
	}
	if dup {
		t.Fatalf("Receive(%s, %s): duplicate, want stored", topic, eventID)
	}
}

// drain processes every due event.
func (h *harness) drain(t *testing.T) int {
	t.Helper()
	n, err := h.worker.DrainOnce(context.Background())
	if err != nil {
		t.Fatalf("DrainOnce: %v", err)
	}
	return n
}

// events lists the shop's events with status.
func (h *harness) events(t *testing.T, status string) []store.WebhookEvent {
	t.Helper()
	evs, err := h.st.ListEvents(context.Background(), testShop, status, 100)
	if err != nil {
		t.Fatalf("ListEvents(%s): %v", status, err)
	}
	return evs
}

// mustShop creates the test shop in USD, Paris time.
func mustShop(t testing.TB, st *store.Store) {
	t.Helper()
	if _, err := st.UpsertShop(context.Background(), store.Shop{Domain: testShop, Currency: "USD", Timezone: "Europe/Paris"}); err != nil {
		t.Fatalf("UpsertShop: %v", err)
	}
}

// mustOffer stores an offer configuration.
func mustOffer(t testing.TB, st *store.Store, id string, config []byte) {
	t.Helper()
	if _, err := st.SaveOffer(context.Background(), testShop, id, "active", config, 0); err != nil {
		t.Fatalf("SaveOffer(%s): %v", id, err)
	}
}

func mustGetOrder(t testing.TB, st *store.Store, id string) store.Order {
	t.Helper()
	o, err := st.GetOrder(context.Background(), testShop, id)
	if err != nil {
		t.Fatalf("GetOrder(%s): %v", id, err)
	}
	return o
}

func mustRedemptions(t testing.TB, st *store.Store) []store.Redemption {
	t.Helper()
	rs, err := st.ListRedemptions(context.Background(), testShop, "")
	if err != nil {
		t.Fatalf("ListRedemptions: %v", err)
	}
	return rs
}
