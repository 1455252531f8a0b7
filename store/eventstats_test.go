package store

import (
	"context"
	"fmt"
	"testing"
	"time"
)

func TestEventStats(t *testing.T) {
	ctx := context.Background()
	eachDB(t, func(t *testing.T, db testDB) {
		s, clock := mustHistoryStore(t, db, "a.example")
		if got, err := s.EventStats(ctx, "a.example"); err != nil || got != (EventStats{}) {
			t.Fatalf("EventStats of an empty queue = %+v, %v; want zeros", got, err)
		}
		// One event fails every attempt, until the store gives up on it.
		mustEnqueue(t, s, testEvent("a.example", "0"))
		for range MaxEventAttempts {
			claimed, err := s.ClaimEvents(ctx, 1, time.Minute)
			if err != nil || len(claimed) != 1 {
				t.Fatalf("ClaimEvents = %d, %v", len(claimed), err)
			}
			if err := s.RetryEvent(ctx, claimed[0].ID, "boom", time.Time{}); err != nil {
				t.Fatal(err)
			}
		}
		for i := 1; i <= 4; i++ {
			mustEnqueue(t, s, testEvent("a.example", fmt.Sprint(i)))
		}
		mustEnqueue(t, s, testEvent("b.example", "1")) // another shop's
		claimed, err := s.ClaimEvents(ctx, 2, time.Minute)
		if err != nil || len(claimed) != 2 {
			t.Fatalf("ClaimEvents = %d, %v", len(claimed), err)
		}
		if err := s.CompleteEvent(ctx, claimed[0].ID); err != nil {
			t.Fatal(err)
		}
		clock.Add(time.Second)
		if err := s.CompleteEvent(ctx, claimed[1].ID); err != nil {
			t.Fatal(err)
		}

		got, err := s.EventStats(ctx, "a.example")
		if err != nil {
			t.Fatal(err)
		}
		last := testNow().Add(time.Second)
		if got.Done != 2 || got.Pending != 2 || got.Failed != 1 || got.LastProcessedAt == nil || !got.LastProcessedAt.Equal(last) {
			t.Errorf("EventStats = %+v (last %v); want 2 done, 2 pending, 1 failed, last processed at %v", got, got.LastProcessedAt, last)
		}
		if other, err := s.EventStats(ctx, "b.example"); err != nil || other.Pending != 1 || other.Done != 0 || other.LastProcessedAt != nil {
			t.Errorf("EventStats(b.example) = %+v, %v; want 1 pending", other, err)
		}
	})
}
