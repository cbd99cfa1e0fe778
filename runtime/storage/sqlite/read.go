package sqlite

import (
	"context"
	"encoding/json"
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
	j, err := scanJob(s.reader().QueryRowContext(ctx, sqlGet, p.ID))
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
	rows, err := s.reader().QueryContext(ctx, sqlListSelect+strings.Join(where, " AND ")+sqlListOrder, args...)
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

// JobAbortRequested returns those of p.IDs that are running with an abort
// request, in ascending order. It reads through the read pool, so it never
// waits for the writer.
func (s *Store) JobAbortRequested(ctx context.Context, p *storage.JobAbortRequestedParams) ([]int64, error) {
	if err := s.check("abort requested"); err != nil {
		return nil, err
	}
	if len(p.IDs) == 0 {
		return nil, nil
	}
	list, err := json.Marshal(p.IDs)
	if err != nil {
		return nil, fmt.Errorf("sqlite: abort requested: %w", err)
	}
	rows, err := s.reader().QueryContext(ctx, sqlAbortRequested, string(list))
	if err != nil {
		return nil, s.mapErr("abort requested", err)
	}
	defer rows.Close()
	var ids []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, s.mapErr("abort requested", err)
		}
		ids = append(ids, id)
	}
	if err := rows.Err(); err != nil {
		return nil, s.mapErr("abort requested", err)
	}
	return ids, nil
}
