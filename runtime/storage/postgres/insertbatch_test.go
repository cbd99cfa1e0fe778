package postgres

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/jobgen/jobgen/runtime/storage"
)

// holdInserts blocks every insert into s's jobs table until the returned
// release is called.
func holdInserts(t *testing.T, s *Store) (release func()) {
	t.Helper()
	ctx := t.Context()
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(ctx, "LOCK TABLE "+s.n.jobs+" IN SHARE ROW EXCLUSIVE MODE"); err != nil {
		t.Fatal(err)
	}
	return func() { _ = tx.Rollback(context.Background()) }
}

// waitUntil polls cond until it holds or the test's deadline passes.
func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.After(20 * time.Second)
	tick := time.NewTicker(2 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		select {
		case <-tick.C:
		case <-deadline:
			t.Fatalf("timed out waiting until %s", what)
		}
	}
}

func (b *insertBatcher) waiting() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.pending)
}

type insertReturn struct {
	res *storage.JobInsertResult
	err error
}

func goInsert(ctx context.Context, s *Store, p *storage.JobInsertParams) <-chan insertReturn {
	ch := make(chan insertReturn, 1)
	go func() {
		res, err := s.JobInsert(ctx, p)
		ch <- insertReturn{res, err}
	}()
	return ch
}

// TestInsertBatching: single inserts that arrive while one is in flight go
// together in one transaction, with each caller's own result; unique keys
// hold within the batch, and a caller that gives up before its batch is
// written leaves nothing behind.
func TestInsertBatching(t *testing.T) {
	t.Parallel()
	s := newTestStore(t)
	ctx := t.Context()
	release := holdInserts(t, s)
	first := goInsert(ctx, s, insertParams("q", "k"))
	waitUntil(t, "the first insert is in flight", func() bool {
		s.inserts.mu.Lock()
		defer s.inserts.mu.Unlock()
		return s.inserts.busy
	})

	const distinctJobs, sameKey = 10, 5
	var waits []<-chan insertReturn
	for i := range distinctJobs {
		p := insertParams("q", "k")
		p.Input = fmt.Appendf(nil, `{"n":%d}`, i)
		waits = append(waits, goInsert(ctx, s, p))
	}
	for range sameKey {
		p := insertParams("q", "k")
		p.UniqueKey = "same"
		waits = append(waits, goInsert(ctx, s, p))
	}
	gaveUpCtx, giveUp := context.WithCancel(ctx)
	gaveUp := goInsert(gaveUpCtx, s, insertParams("q", "gave-up"))
	waitUntil(t, "every later insert waits for the next batch", func() bool { return s.inserts.waiting() == len(waits)+1 })
	giveUp()
	if r := <-gaveUp; !errors.Is(r.err, context.Canceled) {
		t.Fatalf("insert whose caller gave up: %+v, %v; want context.Canceled", r.res, r.err)
	}
	release()

	if r := <-first; r.err != nil {
		t.Fatal(r.err)
	}
	var ids []int64
	sameIDs := map[int64]bool{}
	duplicates := 0
	for _, w := range waits {
		r := <-w
		if r.err != nil {
			t.Fatal(r.err)
		}
		if r.res.Duplicate {
			duplicates++
		}
		if r.res.Job.UniqueKey == "same" {
			sameIDs[r.res.Job.ID] = true
		}
		ids = append(ids, r.res.Job.ID)
	}
	if duplicates != sameKey-1 || len(sameIDs) != 1 {
		t.Errorf("%d duplicates of %d jobs with one key, %d ids among them; want %d duplicates of one id", duplicates, sameKey, len(sameIDs), sameKey-1)
	}
	var txs, rows int
	if err := s.pool.QueryRow(ctx, "SELECT count(DISTINCT xmin::text) FROM "+s.n.jobs+" WHERE id = ANY($1)", ids).Scan(&txs); err != nil {
		t.Fatal(err)
	}
	if txs != 1 {
		t.Errorf("the waiting inserts were written in %d transactions, want 1", txs)
	}
	if err := s.pool.QueryRow(ctx, "SELECT count(*) FROM "+s.n.jobs).Scan(&rows); err != nil {
		t.Fatal(err)
	}
	if want := 1 + distinctJobs + 1; rows != want {
		t.Errorf("%d jobs stored, want %d (nothing of the insert that gave up)", rows, want)
	}
}

// TestInsertBatchClosed: inserts waiting for a batch when the store closes
// fail with storage.ErrClosed and store nothing.
func TestInsertBatchClosed(t *testing.T) {
	t.Parallel()
	s := newTestStore(t)
	ctx := t.Context()
	release := holdInserts(t, s)
	defer release()
	first := goInsert(ctx, s, insertParams("q", "k"))
	waitUntil(t, "the first insert is in flight", func() bool {
		s.inserts.mu.Lock()
		defer s.inserts.mu.Unlock()
		return s.inserts.busy
	})
	waiting := goInsert(ctx, s, insertParams("q", "k"))
	waitUntil(t, "the second insert waits", func() bool { return s.inserts.waiting() == 1 })
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if r := <-waiting; !errors.Is(r.err, storage.ErrClosed) {
		t.Fatalf("waiting insert after Close: %+v, %v; want ErrClosed", r.res, r.err)
	}
	release()
	if r := <-first; r.err != nil {
		t.Fatalf("insert in flight at Close: %v", r.err)
	}
	var rows int
	if err := s.pool.QueryRow(ctx, "SELECT count(*) FROM "+s.n.jobs).Scan(&rows); err != nil {
		t.Fatal(err)
	}
	if rows != 1 {
		t.Errorf("%d jobs stored, want 1", rows)
	}
}
