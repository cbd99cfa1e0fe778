package storagetest

import (
	"testing"

	"github.com/jobgen/jobgen/runtime/storage"
)

// testTx states the transaction view of a backend (Backend.Begin): a job
// inserted through it is seen through the view at once, through the store
// only once the transaction commits, and never when it rolls back; a
// unique key held by a job of the transaction holds inside it.
func testTx(t *testing.T, b Backend) {
	if b.Begin == nil {
		t.Skip("the backend has no transactions")
	}
	f := factory(b.New)
	begin := func(x *fixture) (*Tx, *fixture) {
		tx := b.Begin(x.t, x.s)
		return tx, &fixture{t: x.t, s: tx.Jobs, ctx: x.ctx}
	}

	f.run(t, "Commit", func(t *testing.T, x *fixture) {
		tx, in := begin(x)
		j := in.insert(job("q", "k"))
		in.want(j)
		x.gone(j.ID)
		many, err := tx.Jobs.JobInsertMany(x.ctx, &storage.JobInsertManyParams{Jobs: []*storage.JobInsertParams{job("q", "k"), job("q", "k")}, Now: base})
		if err != nil || len(many) != 2 {
			t.Fatalf("JobInsertMany in the transaction = %v, %v; want 2 jobs", many, err)
		}
		if err := tx.Commit(); err != nil {
			t.Fatalf("commit: %v", err)
		}
		x.want(j)
		for _, r := range many {
			x.want(r.Job)
		}
	})

	f.run(t, "Rollback", func(t *testing.T, x *fixture) {
		tx, in := begin(x)
		j := in.insert(job("q", "k"))
		if err := tx.Rollback(); err != nil {
			t.Fatalf("rollback: %v", err)
		}
		x.gone(j.ID)
		if n := x.count(); n != 0 {
			t.Fatalf("%d jobs stored after a rollback, want none", n)
		}
		x.claimNone(base, "q", "k")
	})

	f.run(t, "UniqueInside", func(t *testing.T, x *fixture) {
		tx, in := begin(x)
		holder := in.insert(keyed("q", "k", "a"))
		in.wantDuplicate(keyed("q", "k", "a"), holder)
		if err := tx.Commit(); err != nil {
			t.Fatalf("commit: %v", err)
		}
		x.wantDuplicate(keyed("q", "k", "a"), holder)
	})
}
