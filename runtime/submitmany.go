package runtime

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"sync"

	"github.com/jobgen/jobgen/runtime/storage"
)

// SubmitMany encodes ins and stores one job of this kind for each through
// c, in one storage call (see KindClient.SubmitMany). The handles are in
// the order of ins.
func (k *Kind[In, Out]) SubmitMany(ctx context.Context, c *Client, ins []In, opts *SubmitOpts) ([]*Handle[Out], error) {
	inputs := make([][]byte, len(ins))
	var keys []string
	if k.uniqueKey != nil {
		keys = make([]string, len(ins))
	}
	for i, in := range ins {
		b, err := encodeInput(k.codec, in)
		if err != nil {
			return nil, fmt.Errorf("submit %s: %w", k.opts.Name, &BatchError{Index: i, Err: fmt.Errorf("encode input: %w", err)})
		}
		inputs[i] = b
		if keys != nil {
			keys[i] = k.uniqueKey(in)
		}
	}
	res, err := c.submitMany(ctx, &k.opts, inputs, keys, opts)
	if err != nil {
		return nil, err
	}
	hs := make([]Handle[Out], len(res))
	out := make([]*Handle[Out], len(res))
	for i, r := range res {
		hs[i] = Handle[Out]{ID: r.Job.ID, Duplicate: r.Duplicate, client: c, kind: k.opts.Name}
		out[i] = &hs[i]
	}
	return out, nil
}

// submitMany validates and stores jobs of kind k, one per input (keys,
// when not nil, holds the unique key the kind derived from each), with
// one JobInsertMany: one transaction, the caller's when ctx carries one
// (InTx). It writes nothing when any job is invalid, and returns a
// *BatchError naming the first such job. Submit middleware sees every job
// of the batch (see submitManyThrough).
func (c *Client) submitMany(ctx context.Context, k *KindOpts, inputs [][]byte, keys []string, opts *SubmitOpts) ([]*storage.JobInsertResult, error) {
	base, err := c.baseParams(k, opts)
	if err != nil {
		return nil, fmt.Errorf("submit %s: %w", k.Name, err)
	}
	if len(inputs) == 0 {
		return nil, nil
	}
	params := make([]storage.JobInsertParams, len(inputs))
	ps := make([]*storage.JobInsertParams, len(inputs))
	for i, input := range inputs {
		p := &params[i]
		*p = base
		var key string
		if keys != nil {
			key = keys[i]
		}
		if err := c.setInput(p, input, key); err != nil {
			return nil, fmt.Errorf("submit %s: %w", k.Name, &BatchError{Index: i, Err: err})
		}
		ps[i] = p
	}
	if c.srv != nil && c.srv.closed() {
		return nil, fmt.Errorf("submit %s: %w", k.Name, ErrServerClosed)
	}
	store, tx := c.store, txOf(ctx)
	if tx != nil {
		store = tx
	}
	insert := func(ctx context.Context) ([]*storage.JobInsertResult, error) {
		res, err := store.JobInsertMany(ctx, &storage.JobInsertManyParams{Jobs: ps, Now: base.Now})
		return res, storageError(err)
	}
	var res []*storage.JobInsertResult
	if len(c.submitMW) > 0 {
		res, err = c.submitManyThrough(ctx, ps, insert)
	} else {
		res, err = insert(ctx)
	}
	if err != nil {
		return nil, fmt.Errorf("submit %s: %w", k.Name, err)
	}
	// As for Submit, the events go out before the loop is woken.
	var queues []string
	listening := c.hub.listening()
	for i, r := range res {
		if r.Duplicate {
			continue
		}
		if listening {
			c.hub.emit(Event{Kind: EventSubmitted, JobID: r.Job.ID, JobKind: k.Name, Queue: ps[i].Queue, RunAfter: r.Job.RunAfter, At: c.clk.now()})
		}
		if !slices.Contains(queues, ps[i].Queue) {
			queues = append(queues, ps[i].Queue)
		}
	}
	if c.srv != nil {
		srv := c.srv
		wake := func() {
			for _, q := range queues {
				srv.wakeQueue(q)
			}
		}
		if tx == nil {
			wake()
		} else if o, ok := tx.(storage.CommitObserver); ok {
			o.AfterCommit(wake) // not before the caller's commit
		}
	}
	return res, nil
}

// submitManyThrough runs every job of ps through the submit middleware, as
// Submit runs one, and stores them all with one call of insert: each job's
// chain runs in a goroutine of its own, and its innermost next waits until
// every chain has reached its own, then the batch is stored (with the
// metadata each chain left) and every next returns its job's result. A
// chain that returns before reaching next (a middleware refusing its job)
// stores nothing of the batch: the error is a *BatchError naming the first
// such job, and the other chains' nexts return it too. A panic in a chain
// is raised again in the caller's goroutine once every chain has ended.
func (c *Client) submitManyThrough(ctx context.Context, ps []*storage.JobInsertParams, insert func(context.Context) ([]*storage.JobInsertResult, error)) ([]*storage.JobInsertResult, error) {
	n := len(ps)
	var (
		res      []*storage.JobInsertResult
		storeErr error
		done     = make(chan struct{}) // closed once the batch is stored or given up
		reached  = make(chan int, n)   // a chain's next was called, or its chain ended first
		refused  = make([]error, n)    // why a chain did not join the batch, set before it reports
		ended    = make([]error, n)    // each chain's error
		panics   = make([]any, n)
		wg       sync.WaitGroup
	)
	for i, p := range ps {
		wg.Go(func() {
			var once sync.Once
			report := func(err error) { once.Do(func() { refused[i] = err; reached <- i }) }
			defer func() {
				if r := recover(); r != nil {
					panics[i] = r
				}
				report(cmp.Or(ended[i], errNotStored)) // a chain that ended before its next
			}()
			last := func(ctx context.Context) (SubmitResult, error) {
				if err := checkMetadata(p.Metadata); err != nil {
					report(err)
					return SubmitResult{}, err
				}
				report(nil)
				<-done
				if storeErr != nil {
					return SubmitResult{}, storeErr
				}
				return SubmitResult{ID: res[i].Job.ID, Duplicate: res[i].Duplicate}, nil
			}
			_, ended[i] = c.submitChain(ctx, p, last)
		})
	}
	for range n {
		<-reached
	}
	for i, err := range refused {
		if err != nil {
			storeErr = &BatchError{Index: i, Err: err}
			break
		}
	}
	if storeErr == nil {
		res, storeErr = insert(ctx)
	}
	close(done)
	wg.Wait()
	for _, r := range panics {
		if r != nil {
			panic(r)
		}
	}
	if storeErr != nil {
		return nil, storeErr
	}
	for i, err := range ended {
		if err != nil {
			return nil, &BatchError{Index: i, Err: err}
		}
	}
	return res, nil
}
