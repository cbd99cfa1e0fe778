package sqlite

import (
	"context"
	"fmt"
	"strings"

	"github.com/jobgen/jobgen/runtime/storage"
)

// JobGet returns the job with id p.ID, or an error matching
// storage.ErrNotFound. It reads through the read pool.
func (s *Store) JobGet(ctx context.Context, p *storage.JobGetParams) (*storage.Job, error) {
	if err := s.check("get"); err != nil {
		return nil, err
	}
	j, err := scanJob(s.read.QueryRowContext(ctx, sqlGet, p.ID))
	if err != nil {
		return nil, s.mapErr(fmt.Sprintf("get job %d", p.ID), err)
	}
	return j, nil
}

// JobList returns the jobs matching p in ascending id order, after
// p.AfterID, at most p.ListLimit() of them. It reads through the read pool.
func (s *Store) JobList(ctx context.Context, p *storage.JobListParams) ([]*storage.Job, error) {
	if err := s.check("list"); err != nil {
		return nil, err
	}
	var (
		where = []string{"id > ?"}
		args  = []any{p.AfterID}
	)
	if p.Queue != "" {
		where = append(where, "queue = ?")
		args = append(args, p.Queue)
	}
	if p.Kind != "" {
		where = append(where, "kind = ?")
		args = append(args, p.Kind)
	}
	if len(p.States) > 0 {
		// Placeholders are built from the count only; the states are bound.
		where = append(where, "state IN (?"+strings.Repeat(", ?", len(p.States)-1)+")")
		for _, st := range p.States {
			args = append(args, string(st))
		}
	}
	args = append(args, p.ListLimit())
	rows, err := s.read.QueryContext(ctx, sqlListSelect+strings.Join(where, " AND ")+sqlListOrder, args...)
	if err != nil {
		return nil, s.mapErr("list", err)
	}
	defer rows.Close()
	jobs := []*storage.Job{}
	for rows.Next() {
		j, err := scanJob(rows)
		if err != nil {
			return nil, s.mapErr("list", err)
		}
		jobs = append(jobs, j)
	}
	if err := rows.Err(); err != nil {
		return nil, s.mapErr("list", err)
	}
	return jobs, nil
}
