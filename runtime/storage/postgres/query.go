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
// statement (see jobsql).
func (s *Store) JobQuery(ctx context.Context, p *storage.JobQueryParams) (*storage.JobQueryResult, error) {
	if err := s.check(); err != nil {
		return nil, err
	}
	after, err := p.Validate()
	if err != nil {
		return nil, translate("query", err)
	}
	var d dialect
	page := jobsql.Page{Table: s.n.jobs, Columns: jobColumns, Filter: &p.Filter, Order: p.Order, AfterID: after, Limit: p.QueryLimit() + 1}
	rows, err := s.run.Query(ctx, page.SQL(&d), d.args...)
	if err != nil {
		return nil, translate("query", err)
	}
	jobs, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (*storage.Job, error) { return scanJob(r) })
	if err != nil {
		return nil, translate("query", err)
	}
	return p.Page(jobs), nil
}
