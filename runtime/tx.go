package runtime

import (
	"context"

	"github.com/jobgen/jobgen/runtime/storage"
)

// txKey is the context key of InTx.
type txKey struct{}

// InTx returns a copy of ctx under which a submit through any client of
// this package (typed or not) inserts its job through jobs, a view of the
// client's storage bound to the caller's transaction, instead of through
// the client's storage: the job then exists only if that transaction
// commits. The views are the backends' own: postgres.Store.WithTx over a
// pgx.Tx, sqlite.Tx.Jobs over a transaction from sqlite.Store.Begin; the
// examples of those methods show the whole of it. One client (and its typed
// clients) serves every transaction: only the context changes.
//
// Only submits read the view: Get, WaitFor, Abort and progress go through
// the client's storage as always, so a handle's Wait works once the
// transaction has committed (before, the job is not found). A submit in a
// transaction never takes the attached server's insert-and-claim path and
// never wakes it before the commit: a server in the same process hears of
// the job at the commit, through the backend's notification (PostgreSQL
// delivers a NOTIFY sent in a transaction at its commit) or the view's
// commit hook (storage.CommitObserver, SQLite's Tx), else at its next
// poll. The submitted event goes out when the insert has run in the
// transaction, whether or not the transaction commits later. The view
// must be of the client's own storage (the same database and schema):
// the runtime cannot check it.
func InTx(ctx context.Context, jobs storage.Storage) context.Context {
	if jobs == nil {
		panic("runtime.InTx: nil storage")
	}
	return context.WithValue(ctx, txKey{}, jobs)
}

// txOf returns the transaction view InTx put in ctx, or nil.
func txOf(ctx context.Context) storage.Storage {
	s, _ := ctx.Value(txKey{}).(storage.Storage)
	return s
}

// submitTx inserts p through tx, a caller's transaction view, and arranges
// for the attached server's loop of p's queue to be woken at the commit
// when the view can see it.
func (c *Client) submitTx(ctx context.Context, tx storage.Storage, p *storage.JobInsertParams, inserted func(*storage.JobInsertResult)) (*storage.JobInsertResult, error) {
	res, err := tx.JobInsert(ctx, p)
	if err != nil {
		return nil, storageError(err)
	}
	inserted(res)
	if o, ok := tx.(storage.CommitObserver); ok && c.srv != nil && !res.Duplicate {
		srv, queue := c.srv, p.Queue
		o.AfterCommit(func() { srv.wakeQueue(queue) })
	}
	return res, nil
}
