package runtime

import (
	"context"
	"fmt"
	"slices"

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
// *BatchError naming the first such job. Submit middleware wraps single
// submits only: a batch is stored in one call that no per-job next could
// wrap.
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
	res, err := store.JobInsertMany(ctx, &storage.JobInsertManyParams{Jobs: ps, Now: base.Now})
	if err != nil {
		return nil, fmt.Errorf("submit %s: %w", k.Name, storageError(err))
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
