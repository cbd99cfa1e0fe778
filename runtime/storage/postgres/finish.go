package postgres

import (
	"bytes"
	"context"
	"slices"
	"sort"

	"github.com/jackc/pgx/v5"

	"github.com/jobgen/jobgen/runtime/storage"
)

// JobFinish writes every outcome in one statement (group commit), each
// fenced by its lease token, and notifies "finished" for applied terminal
// ones and "inserted" for jobs back to pending.
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
	for i, f := range p.Jobs {
		r := seen[f.ID]
		seen[f.ID] = r + 1
		if r == len(rounds) {
			rounds = append(rounds, nil)
		}
		rounds[r] = append(rounds[r], i)
	}
	for _, order := range rounds {
		if err := s.finishRound(ctx, p, order, res.Applied); err != nil {
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
// in one statement.
func (s *Store) finishRound(ctx context.Context, p *storage.JobFinishParams, order []int, applied []bool) error {
	// Send entries in id order, so concurrent finishes and heartbeats lock
	// rows in the same order.
	sort.Slice(order, func(a, b int) bool { return p.Jobs[order[a]].ID < p.Jobs[order[b]].ID })
	sql, args, pin := s.finishArgs(chooseFinish(p.Jobs, order, s.run.notifies()), p, order)
	var (
		finished = make([]int64, 0, len(order))
		queues   []string
	)
	err := retry(ctx, func() error {
		for _, i := range order {
			applied[i] = false
		}
		finished, queues = finished[:0], queues[:0]
		return s.run.pinned(ctx, pin, sql, args, func(rows pgx.Rows) error {
			defer rows.Close()
			for rows.Next() {
				var ord int64
				if err := rows.Scan(&ord, nil); err != nil { // the queue is read below, when needed
					return err
				}
				f := &p.Jobs[order[ord-1]]
				applied[order[ord-1]] = true
				if f.Outcome.State().Terminal() {
					finished = append(finished, f.ID)
				} else if queue := rows.RawValues()[1]; !slices.ContainsFunc(queues, func(q string) bool { return q == string(queue) }) {
					queues = append(queues, string(queue))
				}
			}
			return rows.Err()
		})
	})
	if err != nil {
		return translate("finish", err)
	}
	s.announce(queues, finished)
	return nil
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
