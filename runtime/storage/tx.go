package storage

// CommitObserver is implemented by a view of a storage that is bound to a
// caller's transaction (a backend's transaction view) when the backend
// sees that transaction commit. The runtime uses it to wake a server in
// the same process at the commit of a transactional submit; on a backend
// whose transaction views notify at commit themselves (PostgreSQL's
// NOTIFY), or that has no hook, it is absent or reports false, and the
// server learns of the job from the notification or its next poll.
type CommitObserver interface {
	// AfterCommit arranges for fn to be called once, after the
	// transaction has committed, and reports whether it will be: false
	// when the view cannot see the commit. fn is never called when the
	// transaction rolls back or its commit fails.
	AfterCommit(fn func()) bool
}
