package postgres

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/jobgen/jobgen/runtime/storage"
)

// The backend's own checks keep strings PostgreSQL refuses out of its
// statements (see storage.TextProblem). These tests hand such a row to the
// shared statements past those checks, standing for any value the
// database refuses: the row fails alone, and the rows beside it are
// written.

// TestInsertBatchIsolatesBadRow: a batch of single inserts whose statement
// fails on one row's value inserts the others, and only that row's caller
// gets the error.
func TestInsertBatchIsolatesBadRow(t *testing.T) {
	t.Parallel()
	s := newTestStore(t)
	const n, poisoned = 12, 5
	batch := make([]*insertCall, n)
	for i := range batch {
		p := insertParams("q", "k")
		p.UniqueKey = fmt.Sprintf("key-%d", i)
		if i == poisoned {
			p.UniqueKey = "key\x00poisoned"
		}
		batch[i] = &insertCall{ctx: t.Context(), p: p, done: make(chan struct{})}
	}
	s.inserts.write(s, batch)
	for i, c := range batch {
		<-c.done
		switch {
		case i == poisoned && (c.err == nil || !isDataError(c.err)):
			t.Errorf("poisoned insert: %+v, %v; want the database's data error", c.res, c.err)
		case i != poisoned && (c.err != nil || c.res == nil || c.res.Job.UniqueKey != c.p.UniqueKey):
			t.Errorf("insert %d beside the poisoned one: %+v, %v", i, c.res, c.err)
		}
	}
	if got := countJobs(t, s); got != n-1 {
		t.Errorf("%d jobs stored, want %d", got, n-1)
	}
}

// TestFinishIsolatesBadRow: a finish round whose statement fails on one
// entry's value writes the other entries in one transaction, and reports
// the error for that entry alone.
func TestFinishIsolatesBadRow(t *testing.T) {
	t.Parallel()
	s := newTestStore(t)
	ctx := t.Context()
	const n, poisoned = 6, 2
	for range n {
		if _, err := s.JobInsert(ctx, insertParams("q", "k")); err != nil {
			t.Fatal(err)
		}
	}
	claimed, err := s.JobClaim(ctx, &storage.JobClaimParams{Queue: "q", Kinds: []string{"k"}, Limit: n, LeaseDuration: time.Minute})
	if err != nil || len(claimed.Jobs) != n {
		t.Fatalf("claim: %v, %v", claimed, err)
	}
	p := &storage.JobFinishParams{Jobs: make([]storage.JobFinish, n)}
	order := make([]int, n)
	for i, j := range claimed.Jobs {
		p.Jobs[i] = storage.JobFinish{ID: j.ID, LeaseToken: j.LeaseToken, Outcome: storage.OutcomeFail, ErrorMessage: "boom", ErrorCode: "error"}
		order[i] = i
	}
	p.Jobs[0].Outcome = storage.OutcomeComplete
	p.Jobs[1].Outcome, p.Jobs[1].RetryDelay = storage.OutcomeRetry, time.Minute
	p.Jobs[3].Delete = true
	p.Jobs[poisoned].ErrorMessage = "boom\xff"
	res := &storage.JobFinishResult{Applied: make([]bool, n)}
	if err := s.finishRound(ctx, p, order, res); err != nil {
		t.Fatalf("finish round with one poisoned entry: %v, want the others written", err)
	}
	for i, f := range p.Jobs {
		j, getErr := s.JobGet(ctx, &storage.JobGetParams{ID: f.ID})
		switch {
		case i == poisoned:
			if res.Applied[i] || !isDataError(res.Err(i)) || getErr != nil || j.State != storage.StateRunning {
				t.Errorf("poisoned entry: Applied %v, Err %v, stored %v (%v); want the data error and the job still running", res.Applied[i], res.Err(i), j, getErr)
			}
		case f.Delete:
			if !res.Applied[i] || res.Err(i) != nil || getErr == nil {
				t.Errorf("entry %d: Applied %v, Err %v, get error %v; want the job deleted", i, res.Applied[i], res.Err(i), getErr)
			}
		default:
			if !res.Applied[i] || res.Err(i) != nil || getErr != nil || j.State != f.Outcome.State() {
				t.Errorf("entry %d: Applied %v, Err %v, stored %v (%v); want state %s", i, res.Applied[i], res.Err(i), j, getErr, f.Outcome.State())
			}
		}
	}
}

// TestAnnounceIsolatesBadPayload: an announcement whose statement fails on
// one payload still sends the others.
func TestAnnounceIsolatesBadPayload(t *testing.T) {
	t.Parallel()
	s := newTestStore(t)
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	ch, err := s.Subscribe(ctx)
	if err != nil {
		t.Fatal(err)
	}
	tooLong := "i:" + strings.Repeat("q", 9000) // over PostgreSQL's payload limit
	s.sendAnnouncements([]string{"i:before", tooLong, "f:42"})
	got := map[string]bool{}
	for !got["i:before"] || !got["f:42"] {
		select {
		case n := <-ch:
			switch n.Kind {
			case storage.NotifyInserted:
				got["i:"+n.Queue] = true
			case storage.NotifyFinished:
				got[fmt.Sprintf("f:%d", n.JobID)] = true
			}
		case <-ctx.Done():
			t.Fatalf("notifications received %v, want i:before and f:42 beside the refused payload", got)
		}
	}
}

func countJobs(t *testing.T, s *Store) int {
	t.Helper()
	var n int
	if err := s.pool.QueryRow(t.Context(), "SELECT count(*) FROM "+s.n.jobs).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}
