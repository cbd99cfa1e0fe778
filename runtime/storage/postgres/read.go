package postgres

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/jobgen/jobgen/runtime/storage"
)

// JobGet returns one job, or an error matching storage.ErrNotFound.
func (s *Store) JobGet(ctx context.Context, p *storage.JobGetParams) (*storage.Job, error) {
	if err := s.check(); err != nil {
		return nil, err
	}
	j, err := s.get(ctx, p.ID)
	if err != nil {
		return nil, translate("get job "+strconv.FormatInt(p.ID, 10), err)
	}
	return j, nil
}

// get reads the job id.
func (s *Store) get(ctx context.Context, id int64) (*storage.Job, error) {
	return scanJob(s.run.QueryRow(ctx, s.q.get, id))
}

// JobList returns jobs matching the filter in ascending id order after
// p.AfterID, at most p.ListLimit() of them.
func (s *Store) JobList(ctx context.Context, p *storage.JobListParams) ([]*storage.Job, error) {
	if err := s.check(); err != nil {
		return nil, err
	}
	var b strings.Builder
	b.WriteString(s.q.listPrefix)
	args := []any{p.AfterID}
	if p.Queue != "" {
		args = append(args, p.Queue)
		fmt.Fprintf(&b, " AND j.queue = $%d", len(args))
	}
	if p.Kind != "" {
		args = append(args, p.Kind)
		fmt.Fprintf(&b, " AND j.kind = $%d", len(args))
	}
	if len(p.States) > 0 {
		states := make([]string, len(p.States))
		for i, st := range p.States {
			if !st.Valid() {
				return nil, fmt.Errorf("postgres: list: %w: state %q", storage.ErrInvalid, st)
			}
			states[i] = string(st)
		}
		args = append(args, states)
		fmt.Fprintf(&b, " AND j.state = ANY($%d::text[])", len(args))
	}
	args = append(args, p.ListLimit())
	fmt.Fprintf(&b, " ORDER BY j.id LIMIT $%d", len(args))
	rows, err := s.run.Query(ctx, b.String(), args...)
	if err != nil {
		return nil, translate("list", err)
	}
	defer rows.Close()
	var out []*storage.Job
	for rows.Next() {
		j, err := scanJob(rows)
		if err != nil {
			return nil, translate("list", err)
		}
		out = append(out, j)
	}
	if err := rows.Err(); err != nil {
		return nil, translate("list", err)
	}
	return out, nil
}
