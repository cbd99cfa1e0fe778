//go:build cgo

package sqlite

import (
	"context"
	"testing"
	"time"

	"github.com/mattn/go-sqlite3"

	"github.com/jobgen/jobgen/runtime/storage"
)

// TestFinishIsolatesRefusedValue: an entry whose write SQLite refuses for
// a value it carries (here an output over the connection's length limit)
// fails alone; the entries of the same call are written.
func TestFinishIsolatesRefusedValue(t *testing.T) {
	t.Parallel()
	s, _ := newStore(t, nil)
	ctx := t.Context()
	const limit = 1 << 10
	conn, err := s.w.db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := conn.Raw(func(c any) error {
		c.(*sqlite3.SQLiteConn).SetLimit(sqlite3.SQLITE_LIMIT_LENGTH, limit)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	conn.Close()
	const n, refused = 5, 2
	for range n {
		insert(t, s, storage.JobInsertParams{Queue: "q", Kind: "k"})
	}
	claimed, err := s.JobClaim(ctx, &storage.JobClaimParams{Queue: "q", Kinds: []string{"k"}, Limit: n, LeaseDuration: time.Minute})
	if err != nil || len(claimed.Jobs) != n {
		t.Fatalf("claim: %v, %v", claimed, err)
	}
	fs := make([]storage.JobFinish, n)
	for i, j := range claimed.Jobs {
		fs[i] = storage.JobFinish{ID: j.ID, LeaseToken: j.LeaseToken, Outcome: storage.OutcomeComplete, Output: []byte(`{}`)}
	}
	fs[refused].Output = make([]byte, 2*limit)
	res, err := s.JobFinish(context.Background(), &storage.JobFinishParams{Jobs: fs})
	if err != nil {
		t.Fatalf("finish with one refused value: %v, want the others written", err)
	}
	for i, f := range fs {
		j, err := s.JobGet(ctx, &storage.JobGetParams{ID: f.ID})
		if err != nil {
			t.Fatal(err)
		}
		if i == refused {
			if res.Applied[i] || !dataError(res.Err(i)) || j.State != storage.StateRunning {
				t.Errorf("refused entry: Applied %v, Err %v, state %s; want SQLite's error and the job still running", res.Applied[i], res.Err(i), j.State)
			}
		} else if !res.Applied[i] || res.Err(i) != nil || j.State != storage.StateCompleted {
			t.Errorf("entry %d: Applied %v, Err %v, state %s; want completed", i, res.Applied[i], res.Err(i), j.State)
		}
	}
}
