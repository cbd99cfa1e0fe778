package postgres

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"sort"

	"github.com/jackc/pgx/v5"

	"github.com/jobgen/jobgen/runtime/storage"
)

// JobFinish writes every outcome in one statement (group commit), each
// fenced by its lease token, and notifies "finished" for applied terminal
// ones and "inserted" for jobs back to pending. An entry that fails
// JobFinish.Validate is left out; one the database refuses fails alone
// (see finishAlone).
func (s *Store) JobFinish(ctx context.Context, p *storage.JobFinishParams) (*storage.JobFinishResult, error) {
	if err := s.checkParams("finish", p); err != nil {
		return nil, err
	}
	res := &storage.JobFinishResult{Applied: make([]bool, len(p.Jobs))}
	// Entries apply in order. An id given twice goes into a later round, so
	// its second entry sees what the first one did; normally there is one
	// round.
	var rounds [][]int
	seen := make(map[int64]int, len(p.Jobs))
	for i := range p.Jobs {
		f := &p.Jobs[i]
		if err := f.Validate(); err != nil {
			res.SetErr(i, fmt.Errorf("postgres: finish: %w", err))
			continue
		}
		r := seen[f.ID]
		seen[f.ID] = r + 1
		if r == len(rounds) {
			rounds = append(rounds, nil)
		}
		rounds[r] = append(rounds[r], i)
	}
	for _, order := range rounds {
		if err := s.finishRound(ctx, p, order, res); err != nil {
			return nil, err
		}
	}
	return res, nil
}

// finishStatement names the statement a finish round is written with.
type finishStatement int

const (
	stmtFinish          finishStatement = iota // finishSQL: any mix of entries
	stmtFinishNotify                           // finishSQL, notifying inside the statement
	stmtFinishOne                              // finishOneSQL
	stmtFinishOneDelete                        // finishOneDeleteSQL
	stmtFinishComplete                         // finishCompleteSQL
	stmtFinishDelete                           // finishDeleteSQL
	stmtFinishUpdate                           // finishUpdateSQL
)

// chooseFinish returns the statement for the round of entries
// jobs[order...]; notify tells that the statement must send the round's
// notifications itself (see runner.notifies). The store announces what
// the statement did after its commit, and writes a round that only
// updates, only completes or only deletes with a statement of its own kind
// (of one job: with plain parameters); a statement that notifies is always
// the general one, so that the notifications go out at the commit of the
// transaction it runs in.
func chooseFinish(jobs []storage.JobFinish, order []int, notify bool) finishStatement {
	if notify {
		return stmtFinishNotify
	}
	var (
		gone      int // entries whose row is deleted
		completed int // entries completing a job, their row kept
	)
	for _, i := range order {
		f := &jobs[i]
		if f.Delete && f.Outcome.State().Terminal() {
			gone++
		} else if f.Outcome == storage.OutcomeComplete {
			completed++
		}
	}
	switch n := len(order); {
	case n == 1 && gone == 0:
		return stmtFinishOne
	case n == 1:
		return stmtFinishOneDelete
	case completed == n:
		return stmtFinishComplete
	case gone == n:
		return stmtFinishDelete
	case gone == 0:
		return stmtFinishUpdate
	}
	return stmtFinish
}

// finishArgs returns the SQL of st, its arguments for the entries
// p.Jobs[order...] and the pin it runs behind: statements joining their
// input to the table are planned per call (pinSQL), those of one job keep
// a generic plan (pinGenericSQL).
func (s *Store) finishArgs(st finishStatement, p *storage.JobFinishParams, order []int) (sql string, args []any, pin string) {
	first := &p.Jobs[order[0]]
	switch st {
	case stmtFinishOne:
		return s.q.finishOne, []any{ts(p.Now), first.ID, first.LeaseToken, int32(first.Outcome), first.Output,
			first.ErrorMessage, first.ErrorCode, micros(first.RetryDelay)}, pinGenericSQL
	case stmtFinishOneDelete:
		return s.q.finishOneDelete, []any{first.ID, first.LeaseToken}, pinGenericSQL
	case stmtFinishComplete:
		c := newFinishColumns(p, order, false)
		if shared, ok := sameOutput(c.outputs); ok {
			return s.q.finishComplete, []any{ts(p.Now), c.ids, c.toks, [][]byte{}, shared}, pinSQL
		}
		return s.q.finishComplete, []any{ts(p.Now), c.ids, c.toks, c.outputs, nil}, pinSQL
	case stmtFinishDelete:
		c := newFinishColumns(p, order, false)
		return s.q.finishDelete, []any{c.ids, c.toks}, pinSQL
	case stmtFinishUpdate:
		c := newFinishColumns(p, order, true)
		return s.q.finishUpdate, []any{ts(p.Now), c.ids, c.toks, c.outcomes, c.outputs, c.msgs, c.codes, c.delays}, pinSQL
	}
	var channel any // finishSQL notifies when given the channel
	if st == stmtFinishNotify {
		channel = &s.n.channel
	}
	c := newFinishColumns(p, order, true)
	return s.q.finish, []any{ts(p.Now), c.ids, c.toks, c.outcomes, c.outputs, c.msgs, c.codes, c.delays, c.dels, channel}, pinSQL
}

// finishRound writes the entries p.Jobs[order...], whose ids are distinct,
// in one statement. When the database refuses a value of one of them, it
// writes them one by one instead (see finishAlone).
func (s *Store) finishRound(ctx context.Context, p *storage.JobFinishParams, order []int, res *storage.JobFinishResult) error {
	// Send entries in id order, so concurrent finishes and heartbeats lock
	// rows in the same order.
	sort.Slice(order, func(a, b int) bool { return p.Jobs[order[a]].ID < p.Jobs[order[b]].ID })
	sql, args, pin := s.finishArgs(chooseFinish(p.Jobs, order, s.run.notifies()), p, order)
	w := finishWritten{finished: make([]int64, 0, len(order))}
	err := retry(ctx, func() error {
		w.reset(order, res.Applied)
		return s.run.pinned(ctx, pin, sql, args, func(rows pgx.Rows) error {
			return w.scan(rows, p, order, res.Applied)
		})
	})
	if isDataError(err) && len(order) > 1 {
		return s.finishAlone(ctx, p, order, res, err)
	}
	if err != nil {
		return translate("finish", err)
	}
	s.announce(w.queues, w.finished)
	return nil
}

// finishAlone writes the entries p.Jobs[order...] one at a time, after the
// database refused a value of one of them in their shared statement
// (failed): each runs in a savepoint of one transaction, so the entry the
// database refuses fails alone (res.Errors) and the others are written, in
// one commit. Through a WithTx view the failed statement has already
// aborted the caller's transaction, so the call fails with failed (see
// runner.isolate).
func (s *Store) finishAlone(ctx context.Context, p *storage.JobFinishParams, order []int, res *storage.JobFinishResult, failed error) error {
	var w finishWritten
	err := retry(ctx, func() error {
		w.reset(order, res.Applied)
		for _, i := range order {
			if res.Errors != nil {
				res.Errors[i] = nil
			}
		}
		return s.run.isolate(ctx, failed, func(step func(func(querier) error) error) error {
			for _, i := range order {
				one := []int{i}
				sql, args, _ := s.finishArgs(chooseFinish(p.Jobs, one, false), p, one)
				mark := w.mark()
				err := step(func(q querier) error {
					rows, err := q.Query(ctx, sql, args...)
					if err != nil {
						return err
					}
					return w.scan(rows, p, one, res.Applied)
				})
				if isDataError(err) {
					w.undo(mark)
					res.SetErr(i, translate(fmt.Sprintf("finish job %d", p.Jobs[i].ID), err))
					continue
				}
				if err != nil {
					return err
				}
			}
			return nil
		})
	})
	if err != nil {
		return translate("finish", err)
	}
	s.announce(w.queues, w.finished)
	return nil
}

// finishWritten collects what the applied entries of a finish did, for
// the announcement after the commit.
type finishWritten struct {
	finished []int64  // ids of jobs that reached a terminal state
	queues   []string // queues with jobs back to pending
}

// reset forgets what an attempt that was rolled back collected.
func (w *finishWritten) reset(order []int, applied []bool) {
	for _, i := range order {
		applied[i] = false
	}
	w.finished, w.queues = w.finished[:0], w.queues[:0]
}

// mark and undo forget what a step rolled back to its savepoint collected.
func (w *finishWritten) mark() [2]int { return [2]int{len(w.finished), len(w.queues)} }
func (w *finishWritten) undo(m [2]int) {
	w.finished, w.queues = w.finished[:m[0]], w.queues[:m[1]]
}

// scan reads the rows of a finish statement for the entries
// p.Jobs[order...], marks them applied and closes the rows.
func (w *finishWritten) scan(rows pgx.Rows, p *storage.JobFinishParams, order []int, applied []bool) error {
	defer rows.Close()
	for rows.Next() {
		var ord int64
		if err := rows.Scan(&ord, nil); err != nil { // the queue is read below, when needed
			return err
		}
		f := &p.Jobs[order[ord-1]]
		applied[order[ord-1]] = true
		if f.Outcome.State().Terminal() {
			w.finished = append(w.finished, f.ID)
		} else if queue := rows.RawValues()[1]; !slices.ContainsFunc(w.queues, func(q string) bool { return q == string(queue) }) {
			w.queues = append(w.queues, string(queue))
		}
	}
	return rows.Err()
}

// finishColumns are the entries of one finish round as the array
// parameters of the finish statements, in round order.
type finishColumns struct {
	ids, toks, delays []int64
	outcomes          []int32
	outputs           [][]byte
	msgs, codes       []string
	dels              []bool
}

// newFinishColumns returns the ids, tokens and outputs of the entries
// p.Jobs[order...], and with all the other columns too.
func newFinishColumns(p *storage.JobFinishParams, order []int, all bool) *finishColumns {
	n := len(order)
	c := &finishColumns{ids: make([]int64, n), toks: make([]int64, n), outputs: make([][]byte, n)}
	if all {
		c.delays, c.outcomes, c.msgs, c.codes, c.dels = make([]int64, n), make([]int32, n), make([]string, n), make([]string, n), make([]bool, n)
	}
	for k, i := range order {
		f := &p.Jobs[i]
		c.ids[k], c.toks[k], c.outputs[k] = f.ID, f.LeaseToken, f.Output
		if all {
			c.delays[k], c.outcomes[k], c.msgs[k], c.codes[k], c.dels[k] = micros(f.RetryDelay), int32(f.Outcome), f.ErrorMessage, f.ErrorCode, f.Delete
		}
	}
	return c
}

// sameOutput returns the output every entry of outputs has, if they all
// have the same one.
func sameOutput(outputs [][]byte) ([]byte, bool) {
	for _, o := range outputs[1:] {
		if !bytes.Equal(o, outputs[0]) {
			return nil, false
		}
	}
	return outputs[0], true
}
