package postgres

import (
	"cmp"
	"context"
	"slices"

	"github.com/jackc/pgx/v5"

	"github.com/jobgen/jobgen/runtime/storage"
)

// JobHeartbeat extends every lease still held with its token in one
// statement, and reports the lost ones and those with an abort request.
func (s *Store) JobHeartbeat(ctx context.Context, p *storage.JobHeartbeatParams) (*storage.JobHeartbeatResult, error) {
	if err := s.checkParams("heartbeat", p); err != nil {
		return nil, err
	}
	res := &storage.JobHeartbeatResult{}
	if len(p.Leases) == 0 {
		return res, nil
	}
	leases := slices.Clone(p.Leases)
	slices.SortFunc(leases, func(a, b storage.Lease) int { return cmp.Compare(a.ID, b.ID) })
	ids, toks := make([]int64, len(leases)), make([]int64, len(leases))
	for i, l := range leases {
		ids[i], toks[i] = l.ID, l.Token
	}
	held := make(map[int64]bool, len(leases))
	err := retry(ctx, func() error {
		clear(held)
		res.AbortRequested = res.AbortRequested[:0]
		args := []any{ts(p.Now), ids, toks, micros(p.LeaseDuration)}
		return s.run.pinned(ctx, pinSQL, s.q.heartbeat, args, func(rows pgx.Rows) error {
			defer rows.Close()
			for rows.Next() {
				var (
					id    int64
					abort bool
				)
				if err := rows.Scan(&id, &abort); err != nil {
					return err
				}
				held[id] = true
				if abort {
					res.AbortRequested = append(res.AbortRequested, id)
				}
			}
			return rows.Err()
		})
	})
	if err != nil {
		return nil, translate("heartbeat", err)
	}
	for _, l := range p.Leases {
		if !held[l.ID] {
			res.Lost = append(res.Lost, l.ID)
		}
	}
	slices.Sort(res.AbortRequested)
	return res, nil
}
