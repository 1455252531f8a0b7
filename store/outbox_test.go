package store

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"
)

func TestEnqueueSyncMergesPendingJobs(t *testing.T) {
	ctx := context.Background()
	eachDB(t, func(t *testing.T, db testDB) {
		s := mustOpenMigrated(t, db)
		clock := fixClock(s)
		mustShop(t, s, "a.example")

		if _, err := s.EnqueueSync(ctx, "a.example", "o1", SyncCodes); err != nil {
			t.Fatal(err)
		}
		merged, err := s.EnqueueSync(ctx, "a.example", "o1", SyncUpsert)
		if err != nil || !merged {
			t.Fatalf("second enqueue: merged %v, %v; want merged", merged, err)
		}
		if merged, _ := s.EnqueueSync(ctx, "a.example", "o1", SyncCodes); !merged {
			t.Error("codes after upsert not merged")
		}
		jobs, err := s.PendingSyncJobs(ctx, "a.example")
		if err != nil {
			t.Fatal(err)
		}
		if len(jobs) != 1 || jobs[0].Kind != SyncUpsert {
			t.Fatalf("jobs = %+v, want one upsert (the stronger kind)", jobs)
		}
		st, err := s.GetOfferSync(ctx, "a.example", "o1")
		if err != nil || st.State != SyncPending {
			t.Errorf("offer state = %+v, %v; want pending", st, err)
		}

		// A running job is not merged into: the change may come after what it read.
		claimed, err := s.ClaimSyncJobs(ctx, 10, time.Minute)
		if err != nil || len(claimed) != 1 {
			t.Fatalf("claim = %v, %v", claimed, err)
		}
		if merged, _ := s.EnqueueSync(ctx, "a.example", "o1", SyncUpsert); merged {
			t.Error("merged into a running job")
		}
		// The second job of the offer waits for the first.
		if more, _ := s.ClaimSyncJobs(ctx, 10, time.Minute); len(more) != 0 {
			t.Errorf("claimed %+v while the offer's first job runs", more)
		}
		clock.Add(time.Second)
		if err := s.CompleteSyncJob(ctx, claimed[0].ID); err != nil {
			t.Fatal(err)
		}
		next, err := s.ClaimSyncJobs(ctx, 10, time.Minute)
		if err != nil || len(next) != 1 || next[0].Kind != SyncUpsert || next[0].ID == claimed[0].ID {
			t.Fatalf("after completion claimed %+v, %v", next, err)
		}

		// Deletes win over upserts; shop jobs merge only with their own kind.
		if _, err := s.EnqueueSync(ctx, "a.example", "o2", SyncUpsert); err != nil {
			t.Fatal(err)
		}
		if merged, _ := s.EnqueueSync(ctx, "a.example", "o2", SyncDelete); !merged {
			t.Error("delete not merged into the pending upsert")
		}
		if _, err := s.EnqueueSync(ctx, "a.example", "", SyncInstall); err != nil {
			t.Fatal(err)
		}
		if merged, _ := s.EnqueueSync(ctx, "a.example", "", SyncBackfill); merged {
			t.Error("backfill merged into install")
		}
		if merged, _ := s.EnqueueSync(ctx, "a.example", "", SyncBackfill); !merged {
			t.Error("backfill not merged into backfill")
		}
		jobs, _ = s.PendingSyncJobs(ctx, "a.example")
		var kinds []string
		for _, j := range jobs {
			kinds = append(kinds, j.OfferID+":"+j.Kind)
		}
		want := []string{"o1:upsert", "o2:delete", ":install", ":backfill"}
		if !slices.Equal(kinds, want) {
			t.Errorf("pending = %v, want %v", kinds, want)
		}

		for _, bad := range [][2]string{{"o1", SyncInstall}, {"", SyncUpsert}, {"o1", "nope"}} {
			if _, err := s.EnqueueSync(ctx, "a.example", bad[0], bad[1]); !errors.Is(err, ErrInvalid) {
				t.Errorf("EnqueueSync(%q, %q) = %v, want ErrInvalid", bad[0], bad[1], err)
			}
		}
		// A shop not stored yet can have jobs (install comes first).
		if _, err := s.EnqueueSync(ctx, "new.example", "o1", SyncUpsert); err != nil {
			t.Errorf("enqueue for an unknown shop: %v", err)
		}
	})
}

func TestSyncJobRetryAndLease(t *testing.T) {
	ctx := context.Background()
	eachDB(t, func(t *testing.T, db testDB) {
		s := mustOpenMigrated(t, db)
		clock := fixClock(s)
		mustShop(t, s, "a.example")
		if _, err := s.EnqueueSync(ctx, "a.example", "o1", SyncUpsert); err != nil {
			t.Fatal(err)
		}
		jobs, _ := s.ClaimSyncJobs(ctx, 1, time.Minute)
		if len(jobs) != 1 || jobs[0].Attempts != 1 {
			t.Fatalf("claimed %+v", jobs)
		}
		if err := s.RetrySyncJob(ctx, jobs[0].ID, "title: can't be blank", clock.Now().Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
		if again, _ := s.ClaimSyncJobs(ctx, 1, time.Minute); len(again) != 0 {
			t.Errorf("claimed before the retry time: %+v", again)
		}
		clock.Add(time.Hour)
		again, _ := s.ClaimSyncJobs(ctx, 1, time.Minute)
		if len(again) != 1 || again[0].Attempts != 2 || again[0].LastError != "title: can't be blank" {
			t.Fatalf("after the retry time: %+v", again)
		}
		// The worker dies: after its lease the job is claimed again.
		clock.Add(2 * time.Minute)
		third, _ := s.ClaimSyncJobs(ctx, 1, time.Minute)
		if len(third) != 1 || third[0].ID != jobs[0].ID || third[0].Attempts != 3 {
			t.Fatalf("after the lease: %+v", third)
		}
		if err := s.CompleteSyncJob(ctx, third[0].ID); err != nil {
			t.Fatal(err)
		}
		if pending, _ := s.PendingSyncJobs(ctx, "a.example"); len(pending) != 0 {
			t.Errorf("pending after completion: %+v", pending)
		}
		if err := s.CompleteSyncJob(ctx, 424242); !errors.Is(err, ErrNotFound) {
			t.Errorf("complete unknown = %v", err)
		}
		if err := s.RetrySyncJob(ctx, 424242, "x", time.Time{}); !errors.Is(err, ErrNotFound) {
			t.Errorf("retry unknown = %v", err)
		}
		clock.Add(48 * time.Hour)
		if n, err := s.PruneSyncJobs(ctx, clock.Now().Add(-24*time.Hour)); err != nil || n != 1 {
			t.Errorf("prune = %d, %v; want 1", n, err)
		}
	})
}

// TestClaimSyncJobsConcurrently: several claimers get each job once, and never two jobs of one
// offer at the same time.
func TestClaimSyncJobsConcurrently(t *testing.T) {
	ctx := context.Background()
	eachDB(t, func(t *testing.T, db testDB) {
		s := mustOpenMigrated(t, db)
		mustShop(t, s, "a.example")
		const offers = 20
		for i := range offers {
			if _, err := s.EnqueueSync(ctx, "a.example", fmt.Sprintf("o%02d", i), SyncUpsert); err != nil {
				t.Fatal(err)
			}
		}
		// Hold every first job so that each offer gets a second, then let the first ones go.
		held, err := s.ClaimSyncJobs(ctx, 100, time.Hour)
		if err != nil || len(held) != offers {
			t.Fatalf("claim: %d jobs, %v", len(held), err)
		}
		for i := range offers {
			if merged, err := s.EnqueueSync(ctx, "a.example", fmt.Sprintf("o%02d", i), SyncUpsert); err != nil || merged {
				t.Fatalf("second job: merged %v, %v", merged, err)
			}
		}
		for _, j := range held {
			if err := s.RetrySyncJob(ctx, j.ID, "", time.Time{}); err != nil {
				t.Fatal(err)
			}
		}
		var (
			mu   sync.Mutex
			seen = map[int64]bool{}
			per  = map[string]int{}
			wg   sync.WaitGroup
		)
		for range 4 {
			wg.Go(func() {
				for range 20 {
					jobs, err := s.ClaimSyncJobs(ctx, 5, time.Hour)
					if err != nil {
						t.Error(err)
						return
					}
					mu.Lock()
					for _, j := range jobs {
						if seen[j.ID] {
							t.Errorf("job %d handed out twice", j.ID)
						}
						seen[j.ID] = true
						per[j.OfferID]++
					}
					mu.Unlock()
				}
			})
		}
		wg.Wait()
		// Nothing completed: each offer's first job is held, its second waits.
		if len(seen) != offers {
			t.Errorf("claimed %d jobs, want %d (one per offer)", len(seen), offers)
		}
		for id, n := range per {
			if n != 1 {
				t.Errorf("offer %s: %d jobs claimed at once", id, n)
			}
		}
	})
}

func TestOfferAndShopSyncState(t *testing.T) {
	ctx := context.Background()
	eachDB(t, func(t *testing.T, db testDB) {
		s := mustOpenMigrated(t, db)
		clock := fixClock(s)
		mustShop(t, s, "a.example")
		if _, err := s.GetOfferSync(ctx, "a.example", "o1"); !errors.Is(err, ErrNotFound) {
			t.Errorf("GetOfferSync before any = %v", err)
		}
		at := clock.Now()
		want := OfferSync{Shop: "a.example", OfferID: "o1", PlatformID: "gid://shopify/DiscountCodeNode/1",
			PlatformKind: "code", PlatformActive: true, Customers: []string{"gid://shopify/Customer/1"},
			State: SyncSynced, SyncedAt: &at, CodesFailed: 2}
		if err := s.SaveOfferSync(ctx, want); err != nil {
			t.Fatal(err)
		}
		got, err := s.GetOfferSync(ctx, "a.example", "o1")
		if err != nil {
			t.Fatal(err)
		}
		if got.PlatformID != want.PlatformID || !got.PlatformActive || !slices.Equal(got.Customers, want.Customers) ||
			got.State != SyncSynced || got.SyncedAt == nil || !got.SyncedAt.Equal(at) || got.CodesFailed != 2 {
			t.Errorf("got %+v", got)
		}
		// Enqueueing marks it pending and keeps the rest.
		if _, err := s.EnqueueSync(ctx, "a.example", "o1", SyncUpsert); err != nil {
			t.Fatal(err)
		}
		got, _ = s.GetOfferSync(ctx, "a.example", "o1")
		if got.State != SyncPending || got.PlatformID != want.PlatformID {
			t.Errorf("after enqueue: %+v", got)
		}
		if list, err := s.ListOfferSyncs(ctx, "a.example"); err != nil || len(list) != 1 {
			t.Errorf("ListOfferSyncs = %v, %v", list, err)
		}
		if err := s.SaveOfferSync(ctx, OfferSync{Shop: "missing.example", OfferID: "o1", State: SyncPending}); !errors.Is(err, ErrNotFound) {
			t.Errorf("save for an unknown shop = %v, want ErrNotFound", err)
		}

		sh, err := s.GetShopSync(ctx, "a.example")
		if err != nil || sh.Shop != "a.example" || sh.FunctionID != "" {
			t.Fatalf("empty shop sync = %+v, %v", sh, err)
		}
		reconciled := clock.Now().Add(-2 * time.Hour)
		sh.FunctionID, sh.ReconciledAt, sh.BackfillOrders = "fn-1", &reconciled, 12
		if err := s.SaveShopSync(ctx, sh); err != nil {
			t.Fatal(err)
		}
		sh, _ = s.GetShopSync(ctx, "a.example")
		if sh.FunctionID != "fn-1" || sh.ReconciledAt == nil || !sh.ReconciledAt.Equal(reconciled) || sh.BackfillOrders != 12 {
			t.Errorf("shop sync = %+v", sh)
		}
		due, err := s.ShopsToReconcile(ctx, clock.Now().Add(-time.Hour))
		if err != nil || !slices.Equal(due, []string{"a.example"}) {
			t.Errorf("ShopsToReconcile = %v, %v", due, err)
		}
		// The config hash has its own writer: a state read before it changed does not undo it.
		if err := s.SaveShopConfigHash(ctx, "a.example", "h2"); err != nil {
			t.Fatal(err)
		}
		sh.BackfillOp = "gid://shopify/BulkOperation/1"
		if err := s.SaveShopSync(ctx, sh); err != nil {
			t.Fatal(err)
		}
		if got, _ := s.GetShopSync(ctx, "a.example"); got.ConfigHash != "h2" || got.BackfillOp != sh.BackfillOp || got.FunctionID != "fn-1" {
			t.Errorf("after both writers: %+v", got)
		}
		if err := s.SaveShopConfigHash(ctx, "missing.example", "h"); !errors.Is(err, ErrNotFound) {
			t.Errorf("hash of an unknown shop = %v", err)
		}
		if due, _ := s.ShopsToReconcile(ctx, clock.Now()); len(due) != 0 {
			t.Errorf("a shop with a running backfill is due: %v", due)
		}
	})
}

func TestCodeSync(t *testing.T) {
	ctx := context.Background()
	eachDB(t, func(t *testing.T, db testDB) {
		s := mustOpenMigrated(t, db)
		mustShop(t, s, "a.example")
		mustOffer(t, s, "a.example", "o1")
		var rows []CodeRow
		for i := range 7 {
			rows = append(rows, CodeRow{Code: fmt.Sprintf("code%02d", i)})
		}
		if err := s.AddCodes(ctx, "a.example", "o1", rows); err != nil {
			t.Fatal(err)
		}
		first, err := s.UnsyncedCodes(ctx, "a.example", "o1", 3)
		if err != nil || !slices.Equal(first, []string{"CODE00", "CODE01", "CODE02"}) {
			t.Fatalf("UnsyncedCodes = %v, %v", first, err)
		}
		if err := s.MarkCodesSynced(ctx, "a.example", "o1", first); err != nil {
			t.Fatal(err)
		}
		if n, _ := s.CountUnsyncedCodes(ctx, "a.example", "o1"); n != 4 {
			t.Errorf("unsynced = %d, want 4", n)
		}
		// A code added later is found even though it sorts first.
		if err := s.AddCodes(ctx, "a.example", "o1", []CodeRow{{Code: "aaa"}}); err != nil {
			t.Fatal(err)
		}
		next, _ := s.UnsyncedCodes(ctx, "a.example", "o1", 2)
		if !slices.Equal(next, []string{"AAA", "CODE03"}) {
			t.Errorf("next = %v", next)
		}
	})
}
