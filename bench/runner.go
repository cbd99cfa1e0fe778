package main

import (
	"context"
	"fmt"
	"io"
	"math"
	goruntime "runtime"
	"slices"
	"strings"
	"text/tabwriter"
	"time"
)

// metric is one number a row reports for each contender.
type metric struct {
	name string
	unit string // "jobs/s" or "ms"
	// higherBetter says which direction is better, for the reader.
	higherBetter bool
}

// result is what one timed run of a contender measured, by metric name. A
// metric a contender cannot measure is left out and shows as n/a.
type result map[string]float64

// contender is one system in a row.
type contender struct {
	name string
	run  func(ctx context.Context, e *env, rep int) (result, error)
}

// row is one line of the comparison: the same measurement of several
// contenders, jobgen first.
type row struct {
	name  string
	title string
	pg    bool // needs the PostgreSQL server
	// optIn rows run only when -only selects them, or with -smoke.
	optIn bool
	// brief rows print their own figures as they go; the line of each
	// repetition only says how long it took.
	brief bool
	// reps, when set, is the row's number of repetitions instead of -reps.
	reps       int
	metrics    []metric
	contenders []contender
}

// env is what contenders share during a run.
type env struct {
	opts    *options
	pg      *pgAdmin
	profile *profiler // nil unless -cpuprofile
}

// rowResult holds every sample of a row.
type rowResult struct {
	row     *row
	names   []string
	samples map[string]map[string][]float64 // contender → metric → samples
}

// runRow runs every contender of r reps times, rotating their order each
// repetition so drift on a shared machine is spread over all of them.
func runRow(ctx context.Context, e *env, r *row, contenders []contender) (*rowResult, error) {
	res := &rowResult{row: r, samples: make(map[string]map[string][]float64)}
	for _, c := range contenders {
		res.names = append(res.names, c.name)
		res.samples[c.name] = make(map[string][]float64)
	}
	reps := e.opts.reps
	if r.reps > 0 {
		reps = r.reps
	}
	for rep := range reps {
		for i := range contenders {
			c := contenders[(i+rep)%len(contenders)]
			if err := ctx.Err(); err != nil {
				return nil, err
			}
			// Start every run from a collected heap, as Go's own benchmarks
			// do, so that no run pays for collecting the previous one's
			// garbage.
			goruntime.GC()
			start := time.Now()
			out, err := c.run(ctx, e, rep)
			if err != nil {
				return nil, fmt.Errorf("%s, repetition %d: %w", c.name, rep+1, err)
			}
			var parts []string
			for _, m := range r.metrics {
				if v, ok := out[m.name]; ok {
					res.samples[c.name][m.name] = append(res.samples[c.name][m.name], v)
					if !r.brief {
						parts = append(parts, fmt.Sprintf("%s %s", m.name, formatValue(v, m.unit)))
					}
				}
			}
			fmt.Printf("%-22s rep %d  %-24s %s  (%.1fs)\n", r.name, rep+1, c.name, strings.Join(parts, ", "), time.Since(start).Seconds())
		}
	}
	return res, nil
}

// summary is the median, minimum and maximum of some samples.
type summary struct {
	median, min, max float64
	ok               bool
}

func summarize(xs []float64) summary {
	if len(xs) == 0 {
		return summary{}
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	med := s[len(s)/2]
	if len(s)%2 == 0 {
		med = (s[len(s)/2-1] + s[len(s)/2]) / 2
	}
	return summary{median: med, min: s[0], max: s[len(s)-1], ok: true}
}

// percentile returns the p-th percentile (0 < p ≤ 100) of xs by the
// nearest-rank method.
func percentile(xs []float64, p float64) float64 {
	if len(xs) == 0 {
		return math.NaN()
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	rank := int(math.Ceil(p / 100 * float64(len(s))))
	return s[min(max(rank, 1), len(s))-1]
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

func formatValue(v float64, unit string) string {
	switch {
	case unit == "ms":
		return fmt.Sprintf("%.2f ms", v)
	case v < 100 && v != math.Trunc(v):
		return fmt.Sprintf("%.1f %s", v, unit)
	}
	return groupThousands(v) + " " + unit
}

func groupThousands(v float64) string {
	s := fmt.Sprintf("%.0f", v)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

// notes says exactly what each row measures; it is printed under the table.
const notes = `
What is measured (medians over the repetitions; min–max across them; ratios are jobgen's median over the other's):
  burn-down: n jobs bulk-inserted, VACUUM ANALYZE (SQLite: ANALYZE), then n / (worker start → n-th completion event;
    both systems emit it after the completing transaction commits). Memory: 10×n jobs, worker start → last handler
    return + Stop draining the last outcome writes (the runtime's own benchmark method); the bare pool has no storage.
  insert-while-working: workers running, 8 producers submit n/10 jobs one by one (jobgen Submit, River Insert).
    completed = n/10 / (first submit → last completion event), so the drain after the last submit is included;
    submitted = n/10 / (time the producers took).
  batch insert (pg-insert-many): no workers; n/2 jobs in batches of 1,000 (100 with -smoke), one call after the
    other, each one transaction (jobgen: typed SubmitMany; River: InsertMany, which returns the jobs, and
    InsertManyFast, COPY FROM returning a count). inserted = jobs / (time the calls took).
  latency: sequential single submits, each waited for before the next. start = submit call → handler start;
    done = submit call → completion observed by the submitter (jobgen Handle.Wait; River: completion event on the
    same client's subscription, which its batch completer delivers on a 50 ms tick, flushing small batches every
    250 ms). Cross-process: workers in a child process; start is taken on the host's wall clock; River has no
    cross-process completion wait, so its done is n/a (the submitter polls JobGet only to pace itself).
  horizon held (pg-horizon; runs only when -only selects it, or with -smoke): one producer submits at a fixed rate
    (-horizon-rate) to -horizon-workers workers whose handlers sleep -horizon-work, through three phases: clean, held
    (another session pins the xmin horizon: idle in a transaction with an xid, or REPEATABLE READ readers holding
    a snapshot) and recovery. Per phase: start = submit call → handler start of the jobs started in the phase
    (logarithmic histogram, buckets 2% apart); done = completions in the phase (and in its last minute) per second;
    depth max = submitted but not started, sampled every 100 ms; dead tuples and size (table, indexes, TOAST) at the
    phase's end; claims = scans of the index the claim reads ready jobs from, per second, and the entries each scan
    read; buffers = the table's and its indexes' buffer accesses per completed job (the server's cumulative
    statistics, which lag by about a second). With the server's autovacuum off the bench vacuums the table itself.
  Every run checks each job ran exactly once and storage holds every job completed at attempt 1.
`

// printTable prints, for every row, metric and contender, the median with
// min–max over the repetitions and the ratio of jobgen's median to that
// contender's median.
func printTable(w io.Writer, results []*rowResult) {
	fmt.Fprintln(w)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "row\tmetric\tsystem\tmedian\tmin–max\tjobgen/system\t")
	for _, res := range results {
		first := true
		for _, m := range res.row.metrics {
			base := summarize(res.samples[res.names[0]][m.name])
			dir := "lower is better"
			if m.higherBetter {
				dir = "higher is better"
			}
			for i, name := range res.names {
				s := summarize(res.samples[name][m.name])
				rowName, metricName := "", ""
				if first {
					rowName = res.row.title
					first = false
				}
				if i == 0 {
					metricName = fmt.Sprintf("%s (%s, %s)", m.name, m.unit, dir)
				}
				med, rng, ratio := "n/a", "", ""
				if s.ok {
					med = formatValue(s.median, m.unit)
					rng = strings.TrimSuffix(formatValue(s.min, m.unit), " "+m.unit) + "–" + formatValue(s.max, m.unit)
					if i > 0 && base.ok && s.median != 0 {
						ratio = fmt.Sprintf("%.2f×", base.median/s.median)
					}
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t\n", rowName, metricName, name, med, rng, ratio)
			}
		}
	}
	tw.Flush()
}
