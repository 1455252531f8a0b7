package store

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"
)

func testEvent(shop, eventID string) WebhookEvent {
	return WebhookEvent{
		Shop:        shop,
		EventID:     eventID,
		WebhookID:   "wh-" + eventID,
		Topic:       "orders/create",
		APIVersion:  "2025-10",
		TriggeredAt: testNow().Add(-time.Second),
		Body:        []byte(`{"id":` + eventID + `}`),
	}
}

func TestEnqueueEvent(t *testing.T) {
	ctx := context.Background()
	eachDB(t, func(t *testing.T, db testDB) {
		s, _ := mustHistoryStore(t, db, "a.example")
		ev := testEvent("a.example", "18446744073709551615")
		ev.Body = []byte{0, 1, 2, 0xff, '{', '}'} // bytes, not text
		mustEnqueue(t, s, ev)

		// The same event delivered again (another delivery id) is stored once.
		again := ev
		again.WebhookID = "another-delivery"
		if inserted, err := s.EnqueueEvent(ctx, again); err != nil || inserted {
			t.Errorf("EnqueueEvent of a duplicate = %v, %v; want false, nil", inserted, err)
		}
		// The same event id in another shop (which need not be installed) is another event.
		other := ev
		other.Shop = "unknown.example"
		mustEnqueue(t, s, other)
		// Without an event id, the delivery id is the key.
		noID := testEvent("a.example", "")
		noID.WebhookID = "only-delivery-id"
		mustEnqueue(t, s, noID)
		if inserted, err := s.EnqueueEvent(ctx, noID); err != nil || inserted {
			t.Errorf("EnqueueEvent of a duplicate without event id = %v, %v; want false, nil", inserted, err)
		}

		for _, bad := range []WebhookEvent{
			{EventID: "1", Topic: "orders/create"},
			{Shop: "a.example", EventID: "1"},
			{Shop: "a.example", Topic: "orders/create"},
		} {
			if _, err := s.EnqueueEvent(ctx, bad); !errors.Is(err, ErrInvalid) {
				t.Errorf("EnqueueEvent(%+v) = %v; want ErrInvalid", bad, err)
			}
		}

		events, err := s.ListEvents(ctx, "a.example", "", 0)
		if err != nil {
			t.Fatal(err)
		}
		if len(events) != 2 {
			t.Fatalf("ListEvents = %d events; want 2", len(events))
		}
		got := events[1] // newest first
		want := WebhookEvent{
			ID: got.ID, Shop: "a.example", EventID: "18446744073709551615",
			WebhookID: ev.WebhookID, Topic: "orders/create", APIVersion: "2025-10",
			TriggeredAt: ev.TriggeredAt, ReceivedAt: testNow(), Body: ev.Body,
			Status: EventPending, NextAttemptAt: testNow(),
		}
		if fmt.Sprint(got) != fmt.Sprint(want) || !bytes.Equal(got.Body, ev.Body) {
			t.Errorf("stored event = %+v\nwant %+v", got, want)
		}
		if events[0].EventID != "only-delivery-id" || !events[0].TriggeredAt.Equal(ev.TriggeredAt) {
			t.Errorf("newest event = %+v; want the one keyed by its delivery id", events[0])
		}
	})
}

func TestClaimEventsLease(t *testing.T) {
	ctx := context.Background()
	eachDB(t, func(t *testing.T, db testDB) {
		s, clock := mustHistoryStore(t, db, "a.example")
		for i := 1; i <= 3; i++ {
			mustEnqueue(t, s, testEvent("a.example", fmt.Sprint(i)))
		}
		all, err := s.ListEvents(ctx, "a.example", EventPending, 10)
		if err != nil {
			t.Fatal(err)
		}
		ids := eventIDs(all)
		slices.Sort(ids)

		first, err := s.ClaimEvents(ctx, 2, time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(eventIDs(first), ids[:2]) || first[0].Attempts != 1 || first[0].EventID != "1" {
			t.Fatalf("first claim = %+v; want the 2 oldest, attempt 1", first)
		}
		second, err := s.ClaimEvents(ctx, 10, time.Minute)
		if err != nil || !slices.Equal(eventIDs(second), ids[2:]) {
			t.Fatalf("second claim = %v, %v; want only the third", eventIDs(second), err)
		}
		if none, err := s.ClaimEvents(ctx, 10, time.Minute); err != nil || len(none) != 0 {
			t.Fatalf("claim while all are leased = %v, %v; want none", eventIDs(none), err)
		}

		// The first event is done; the others' worker dies. Once the lease runs out, they
		// are claimable again, as a second attempt.
		if err := s.CompleteEvent(ctx, ids[0]); err != nil {
			t.Fatal(err)
		}
		clock.Add(time.Minute + time.Second)
		again, err := s.ClaimEvents(ctx, 10, time.Minute)
		if err != nil || !slices.Equal(eventIDs(again), ids[1:]) || again[0].Attempts != 2 {
			t.Fatalf("claim after the lease ran out = %+v, %v; want events 2 and 3, attempt 2", again, err)
		}

		done, err := s.ListEvents(ctx, "a.example", EventDone, 10)
		if err != nil || len(done) != 1 || done[0].ID != ids[0] {
			t.Fatalf("ListEvents(done) = %+v, %v; want the first event", done, err)
		}
		if done[0].ProcessedAt == nil || !done[0].ProcessedAt.Equal(testNow()) || len(done[0].Body) == 0 {
			t.Errorf("completed event = %+v; want processed at %v, body kept", done[0], testNow())
		}
		if err := s.CompleteEvent(ctx, 1<<40); !errors.Is(err, ErrNotFound) {
			t.Errorf("CompleteEvent of an unknown id = %v; want ErrNotFound", err)
		}
		for _, bad := range []struct {
			limit int
			lease time.Duration
		}{{0, time.Minute}, {MaxClaim + 1, time.Minute}, {1, 0}} {
			if _, err := s.ClaimEvents(ctx, bad.limit, bad.lease); !errors.Is(err, ErrInvalid) {
				t.Errorf("ClaimEvents(%d, %v) = %v; want ErrInvalid", bad.limit, bad.lease, err)
			}
		}
	})
}

func TestRetryEventUntilFailed(t *testing.T) {
	ctx := context.Background()
	eachDB(t, func(t *testing.T, db testDB) {
		s, clock := mustHistoryStore(t, db, "a.example", "b.example")
		mustEnqueue(t, s, testEvent("a.example", "1"))
		mustEnqueue(t, s, testEvent("b.example", "1"))

		var id int64
		for attempt := 1; attempt <= MaxEventAttempts; attempt++ {
			claimed, err := s.ClaimEvents(ctx, 1, time.Minute)
			if err != nil || len(claimed) != 1 || claimed[0].Attempts != attempt || claimed[0].Shop != "a.example" {
				t.Fatalf("claim %d = %+v, %v; want shop a's event at attempt %d", attempt, claimed, err, attempt)
			}
			id = claimed[0].ID
			if err := s.RetryEvent(ctx, id, fmt.Sprintf("boom %d", attempt), clock.Now().Add(time.Hour)); err != nil {
				t.Fatal(err)
			}
			if attempt == MaxEventAttempts {
				break
			}
			// Not due before retryAt, due after.
			if early, err := s.ClaimEvents(ctx, 1, time.Minute); err != nil || len(early) != 0 && early[0].ID == id {
				t.Fatalf("claim before retryAt = %+v, %v; want not the retried event", early, err)
			}
			clock.Add(time.Hour)
		}

		failed, err := s.ListEvents(ctx, "a.example", EventFailed, 10)
		if err != nil || len(failed) != 1 || failed[0].ID != id {
			t.Fatalf("ListEvents(failed) = %+v, %v; want the event", failed, err)
		}
		if failed[0].Attempts != MaxEventAttempts || failed[0].LastError != fmt.Sprintf("boom %d", MaxEventAttempts) {
			t.Errorf("failed event = %+v; want %d attempts and the last error", failed[0], MaxEventAttempts)
		}
		clock.Add(24 * time.Hour)
		if claimed, err := s.ClaimEvents(ctx, 10, time.Minute); err != nil || slices.Contains(eventIDs(claimed), id) {
			t.Fatalf("claim = %+v, %v; a failed event is never due", claimed, err)
		} else if len(claimed) == 1 {
			// Shop b's event was claimed here; finish it.
			if err := s.CompleteEvent(ctx, claimed[0].ID); err != nil {
				t.Fatal(err)
			}
		}

		// The merchant's retry: a new set of attempts, due at once, for this shop only.
		if n, err := s.RequeueFailed(ctx, "b.example"); err != nil || n != 0 {
			t.Errorf("RequeueFailed of the other shop = %d, %v; want 0", n, err)
		}
		if n, err := s.RequeueFailed(ctx, "a.example"); err != nil || n != 1 {
			t.Fatalf("RequeueFailed = %d, %v; want 1", n, err)
		}
		claimed, err := s.ClaimEvents(ctx, 10, time.Minute)
		if err != nil || len(claimed) != 1 || claimed[0].ID != id || claimed[0].Attempts != 1 {
			t.Fatalf("claim after RequeueFailed = %+v, %v; want the event at attempt 1", claimed, err)
		}
		if err := s.CompleteEvent(ctx, id); err != nil {
			t.Fatal(err)
		}
		// A late RetryEvent (from a worker whose lease ran out) leaves a done event done.
		if err := s.RetryEvent(ctx, id, "late", clock.Now()); err != nil {
			t.Fatal(err)
		}
		if done, err := s.ListEvents(ctx, "a.example", EventDone, 10); err != nil || len(done) != 1 || done[0].LastError == "late" {
			t.Errorf("after a late RetryEvent, done events = %+v, %v; want the event unchanged", done, err)
		}
		if err := s.RetryEvent(ctx, 1<<40, "x", time.Time{}); !errors.Is(err, ErrNotFound) {
			t.Errorf("RetryEvent of an unknown id = %v; want ErrNotFound", err)
		}
	})
}

// TestClaimEventsConcurrently runs two workers, each with its own Store as separate
// processes would have, claiming from one queue at once: no event may be handed out twice.
func TestClaimEventsConcurrently(t *testing.T) {
	ctx := context.Background()
	eachDB(t, func(t *testing.T, db testDB) {
		s, _ := mustHistoryStore(t, db, "a.example")
		s.now = time.Now
		const n = 300
		for i := range n {
			mustEnqueue(t, s, testEvent("a.example", fmt.Sprint(i+1)))
		}
		workers := []*Store{s, mustOpen(t, db)}
		claimed := make([][]int64, len(workers))
		errs := make([]error, len(workers))
		var wg sync.WaitGroup
		for w, ws := range workers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for {
					events, err := ws.ClaimEvents(ctx, 7, time.Hour)
					if err != nil {
						errs[w] = err
						return
					}
					if len(events) == 0 {
						return
					}
					claimed[w] = append(claimed[w], eventIDs(events)...)
				}
			}()
		}
		wg.Wait()
		var all []int64
		for w := range workers {
			if errs[w] != nil {
				t.Fatalf("worker %d: %v", w, errs[w])
			}
			all = append(all, claimed[w]...)
		}
		slices.Sort(all)
		if len(slices.Compact(slices.Clone(all))) != len(all) {
			t.Errorf("an event was claimed twice: worker claims %d + %d", len(claimed[0]), len(claimed[1]))
		}
		if len(all) != n {
			t.Errorf("%d events claimed (%d and %d per worker); want %d", len(all), len(claimed[0]), len(claimed[1]), n)
		}
	})
}

func TestListEvents(t *testing.T) {
	ctx := context.Background()
	eachDB(t, func(t *testing.T, db testDB) {
		s, _ := mustHistoryStore(t, db, "a.example", "b.example")
		for i := 1; i <= 5; i++ {
			mustEnqueue(t, s, testEvent("a.example", fmt.Sprint(i)))
		}
		mustEnqueue(t, s, testEvent("b.example", "9"))
		claimed, err := s.ClaimEvents(ctx, 2, time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		for _, ev := range claimed {
			if err := s.CompleteEvent(ctx, ev.ID); err != nil {
				t.Fatal(err)
			}
		}
		tests := []struct {
			status    string
			limit     int
			wantEvent []string
		}{
			{status: "", limit: 0, wantEvent: []string{"5", "4", "3", "2", "1"}},
			{status: "", limit: 2, wantEvent: []string{"5", "4"}},
			{status: EventPending, limit: 10, wantEvent: []string{"5", "4", "3"}},
			{status: EventDone, limit: 10, wantEvent: []string{"2", "1"}},
			{status: EventFailed, limit: 10, wantEvent: []string{}},
		}
		for _, tt := range tests {
			events, err := s.ListEvents(ctx, "a.example", tt.status, tt.limit)
			if err != nil {
				t.Fatal(err)
			}
			got := []string{}
			for _, ev := range events {
				got = append(got, ev.EventID)
			}
			if !slices.Equal(got, tt.wantEvent) {
				t.Errorf("ListEvents(%q, %d) = %v; want %v", tt.status, tt.limit, got, tt.wantEvent)
			}
		}
		if events, err := s.ListEvents(ctx, "c.example", "", 10); err != nil || len(events) != 0 {
			t.Errorf("ListEvents of a shop without events = %v, %v; want none", events, err)
		}
	})
}
