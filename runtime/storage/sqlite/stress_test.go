package sqlite

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/jobgen/jobgen/runtime/storage"
)

// TestStressIntegrity mixes every call from many goroutines over two
// stores on one file, with leases short enough to expire, then checks the
// file with PRAGMA integrity_check and the rows against the state rules.
func TestStressIntegrity(t *testing.T) {
	t.Parallel()
	// Two stores take turns at the lock through SQLite's busy handler, which
	// is not fair; a long timeout keeps a loaded machine from failing the
	// test with ErrBusy.
	opts := &Options{BusyTimeout: 30 * time.Second}
	s1, path := newStore(t, opts)
	s2, err := Open(path, opts)
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	ctx := context.Background()
	stores := []*Store{s1, s2}
	kinds := []string{"a", "b"}
	const workers, rounds = 8, 100
	var wg sync.WaitGroup
	errc := make(chan error, workers)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s := stores[w%2]
			rng := rand.New(rand.NewPCG(uint64(w), 7))
			fail := func(err error) { errc <- fmt.Errorf("worker %d: %w", w, err) }
			for range rounds {
				var batch []*storage.JobInsertParams
				for range rng.IntN(8) + 1 {
					p := &storage.JobInsertParams{Kind: kinds[rng.IntN(2)], Queue: "q", MaxAttempts: 3, Priority: rng.IntN(3), Input: []byte(`{}`)}
					if rng.IntN(4) == 0 {
						p.UniqueKey = fmt.Sprint(rng.IntN(20))
					}
					if rng.IntN(5) == 0 {
						p.RunAfter = time.Now().Add(time.Duration(rng.IntN(20)) * time.Millisecond)
					}
					batch = append(batch, p)
				}
				if _, err := s.JobInsertMany(ctx, &storage.JobInsertManyParams{Jobs: batch}); err != nil {
					fail(err)
					return
				}
				r, err := s.JobClaim(ctx, &storage.JobClaimParams{Queue: "q", Kinds: kinds[:rng.IntN(2)+1], Limit: rng.IntN(10) + 1, LeaseDuration: 5 * time.Millisecond})
				if err != nil {
					fail(err)
					return
				}
				var leases []storage.Lease
				var fin []storage.JobFinish
				for _, j := range r.Jobs {
					leases = append(leases, storage.Lease{ID: j.ID, Token: j.LeaseToken})
					out := storage.Outcome(rng.IntN(5) + 1)
					if out == storage.OutcomeRetry && j.Attempt >= j.MaxAttempts {
						out = storage.OutcomeFail // as the runtime does when attempts run out
					}
					fin = append(fin, storage.JobFinish{ID: j.ID, LeaseToken: j.LeaseToken, Outcome: out,
						ErrorMessage: "e", RetryDelay: time.Millisecond, Delete: rng.IntN(6) == 0, Output: []byte(`1`)})
				}
				if _, err := s.JobHeartbeat(ctx, &storage.JobHeartbeatParams{Leases: leases, LeaseDuration: 5 * time.Millisecond}); err != nil {
					fail(err)
					return
				}
				if len(r.Jobs) > 0 && rng.IntN(3) == 0 {
					if _, err := s.JobAbort(ctx, &storage.JobAbortParams{ID: r.Jobs[0].ID + int64(rng.IntN(5))}); err != nil && !isNotFound(err) {
						fail(err)
						return
					}
				}
				if _, err := s.JobFinish(ctx, &storage.JobFinishParams{Jobs: fin}); err != nil {
					fail(err)
					return
				}
				if rng.IntN(10) == 0 {
					if _, err := s.JobDeleteFinished(ctx, &storage.JobDeleteFinishedParams{State: storage.StateCompleted, FinishedBefore: time.Now(), Limit: 5}); err != nil {
						fail(err)
						return
					}
				}
				if _, err := s.JobList(ctx, &storage.JobListParams{States: []storage.State{storage.StateRunning}}); err != nil {
					fail(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errc)
	for err := range errc {
		t.Fatal(err)
	}
	integrityCheck(t, path)
	var bad int
	err = s1.read.QueryRow(`SELECT count(*) FROM jobgen_jobs WHERE
		(state = 'running' AND (lease_token IS NULL OR lease_expires_at IS NULL OR attempt < 1))
		OR (state IN ('completed', 'failed', 'aborted') AND finished_at IS NULL)
		OR (state <> 'running' AND lease_token IS NOT NULL)
		OR attempt > max_attempts`).Scan(&bad)
	if err != nil {
		t.Fatal(err)
	}
	if bad != 0 {
		rows, _ := s1.read.Query(`SELECT id, state, attempt, max_attempts, lease_token IS NULL, finished_at IS NULL FROM jobgen_jobs WHERE
		(state = 'running' AND (lease_token IS NULL OR lease_expires_at IS NULL OR attempt < 1))
		OR (state IN ('completed', 'failed', 'aborted') AND finished_at IS NULL)
		OR (state <> 'running' AND lease_token IS NOT NULL)
		OR attempt > max_attempts LIMIT 5`)
		for rows.Next() {
			var id, att, max int
			var st string
			var noTok, noFin bool
			rows.Scan(&id, &st, &att, &max, &noTok, &noFin)
			t.Logf("job %d %s attempt %d/%d no token %v no finish %v", id, st, att, max, noTok, noFin)
		}
		rows.Close()
		t.Fatalf("%d rows break the state rules", bad)
	}
	var dupKeys int
	err = s1.read.QueryRow(`SELECT count(*) FROM (SELECT kind, unique_key FROM jobgen_jobs
		WHERE state IN ('pending', 'running') AND unique_key <> '' GROUP BY kind, unique_key HAVING count(*) > 1)`).Scan(&dupKeys)
	if err != nil || dupKeys != 0 {
		t.Fatalf("duplicate active unique keys: %d %v", dupKeys, err)
	}
}

func isNotFound(err error) bool { return errors.Is(err, storage.ErrNotFound) }
