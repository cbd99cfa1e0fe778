package postgres

import (
	"github.com/jackc/pgx/v5"
)

// WithTx returns a view of the store whose statements run inside tx, the
// caller's transaction: a job inserted through it (JobInsert,
// JobInsertMany, or a submit under runtime.InTx) exists only if tx
// commits, and its notifications are delivered at that commit, which is
// how a server hears of it, in this process too. Use it for transactional
// submit, for example to enqueue an email in the same transaction that
// creates the user: the typed client's Submit with
// runtime.InTx(ctx, store.WithTx(tx)) (see ExampleStore_WithTx).
//
// The view is only good while tx is open. Its Close does nothing (closing
// the store closes views too); its Subscribe listens outside tx, like the
// store's.
func (s *Store) WithTx(tx pgx.Tx) *Store {
	v := &Store{pool: s.pool, n: s.n, q: s.q, root: s.root, floors: s.floors, sweeps: s.sweeps}
	v.run = txRunner{Tx: tx, s: v}
	return v
}
