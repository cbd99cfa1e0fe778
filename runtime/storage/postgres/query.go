package postgres

import (
	"context"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/jobgen/jobgen/runtime/storage"
	"github.com/jobgen/jobgen/runtime/storage/internal/jobsql"
)

// dialect binds jobsql's values as $n parameters after the preset ones.
type dialect struct{ args []any }

func (d *dialect) Param(v any) string {
	d.args = append(d.args, v)
	return "$" + strconv.Itoa(len(d.args))
}

func (d *dialect) Time(t time.Time) string { return d.Param(ts(t)) + "::timestamptz" }

func (d *dialect) IDs(column string, ids []int64) string {
	return column + " = ANY(" + d.Param(ids) + "::int8[])"
}

// JobQuery returns one page of the jobs matching p.Filter, in one
// statement (see jobsql) with its plan pinned (see pinSQL): each arm an
// index scan in id order, merged without a sort.
func (s *Store) JobQuery(ctx context.Context, p *storage.JobQueryParams) (*storage.JobQueryResult, error) {
	if err := s.check(); err != nil {
		return nil, err
	}
	after, err := p.Validate()
	if err != nil {
		return nil, translate("query", err)
	}
	page := jobsql.Page{Table: s.n.jobs, Columns: jobColumns, Filter: &p.Filter, Order: p.Order, AfterID: after, Limit: p.QueryLimit() + 1}
	var d dialect
	var jobs []*storage.Job
	err = s.run.pinned(ctx, pinSQL, page.SQL(&d), d.args, func(rows pgx.Rows) (err error) {
		jobs, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (*storage.Job, error) { return scanJob(r) })
		return err
	})
	if err != nil {
		return nil, translate("query", err)
	}
	return p.Page(jobs), nil
}

// pageSQL is the statement and arguments of the first page of f, newest
// first, of limit jobs.
func (s *Store) pageSQL(f *storage.JobFilter, limit int) (string, []any) {
	page := jobsql.Page{Table: s.n.jobs, Columns: jobColumns, Filter: f, Limit: limit}
	var d dialect
	sql := page.SQL(&d)
	return sql, d.args
}
