package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/jobgen/jobgen/example"
	"github.com/jobgen/jobgen/runtime"
)

// outcome is how one job of the batch ended, against what the batch
// expected of it.
type outcome struct {
	name   string
	result string
	err    error
	want   error // nil: success expected; else the error the job must end with
}

func (o outcome) ok() bool {
	if o.want == nil {
		return o.err == nil
	}
	return errors.Is(o.err, o.want)
}

// runBatch submits a mixed batch through the generated clients, shows the
// long jobs' progress, waits for every typed result and prints a summary.
// It fails when any job ends otherwise than expected.
func runBatch(ctx context.Context, client *runtime.Client, scale int, out io.Writer) error {
	c := example.NewClients(client)
	start := time.Now()
	var (
		mu       sync.Mutex
		outcomes []outcome
		wg       sync.WaitGroup
	)
	record := func(o outcome) {
		mu.Lock()
		outcomes = append(outcomes, o)
		mu.Unlock()
	}
	// waitAll waits for one job in the background and records its outcome.
	waitAll := func(name string, want error, wait func() (string, error)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			res, err := wait()
			record(outcome{name: name, result: res, err: err, want: want})
		}()
	}

	img := example.Gradient(640, 480)
	for i := range scale {
		for _, w := range []int{320, 160, 64} {
			name := fmt.Sprintf("resize gradient-%d to %dpx", i, w)
			h, err := c.Resize.Submit(ctx, example.Resize{Name: fmt.Sprintf("gradient-%d", i), Image: img, Width: w}, nil)
			if err != nil {
				return fmt.Errorf("%s: %w", name, err)
			}
			waitAll(name, nil, func() (string, error) {
				r, err := h.Wait(ctx)
				return fmt.Sprintf("%dx%d PNG, %d bytes", r.Width, r.Height, len(r.Image)), err
			})
		}
		for _, title := range []string{"Orders, north", "Orders, south"} {
			name := "report " + title
			h, err := c.Report.Submit(ctx, example.Report{Title: title, Lines: []example.LineItem{
				{Product: "gopher plush", Quantity: 3 + i, Price: 12.5},
				{Product: "sticker", Quantity: 40, Price: 0.75},
			}}, nil)
			if err != nil {
				return fmt.Errorf("%s: %w", name, err)
			}
			waitAll(name, nil, func() (string, error) {
				r, err := h.Wait(ctx)
				return fmt.Sprintf("total %.2f", r.Total), err
			})
		}
		for _, to := range []string{"ops@example.com", "sales@example.com", ""} {
			name, want := "message to "+to, error(nil)
			if to == "" {
				name, want = "message without a recipient", runtime.ErrFailed
			}
			h, err := c.SendMessage.Submit(ctx, example.SendMessage{To: to, Body: "batch done"}, nil)
			if err != nil {
				return fmt.Errorf("%s: %w", name, err)
			}
			waitAll(name, want, func() (string, error) { return "sent", h.Wait(ctx) })
		}
	}

	// Two long jobs report progress; the second is aborted half way.
	bars := newProgressBars(out)
	for i, label := range []string{"crunch", "crunch (aborted at 50%)"} {
		h, err := c.Crunch.Submit(ctx, example.Crunch{Steps: 40, StepDelay: 25 * time.Millisecond}, nil)
		if err != nil {
			return fmt.Errorf("%s: %w", label, err)
		}
		updates, cancel := h.Progress()
		abortAt := 0.0
		want := error(nil)
		if i == 1 {
			abortAt, want = 50, runtime.ErrAborted
		}
		bars.add(label)
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer cancel()
			for p := range updates {
				bars.set(label, p.Percent)
				if abortAt > 0 && p.Percent >= abortAt {
					abortAt = 0
					if err := h.Abort(ctx); err != nil {
						record(outcome{name: label + ": abort", err: err})
					}
				}
			}
		}()
		waitAll(label, want, func() (string, error) {
			r, err := h.Wait(ctx)
			bars.done(label, err)
			return fmt.Sprintf("sum of squares %d", r.Sum), err
		})
	}
	stopBars := bars.run()
	wg.Wait()
	stopBars()

	return summarize(out, outcomes, time.Since(start))
}

func summarize(out io.Writer, outcomes []outcome, elapsed time.Duration) error {
	fmt.Fprintf(out, "\n%d jobs in %v:\n", len(outcomes), elapsed.Round(time.Millisecond))
	var bad int
	for _, o := range outcomes {
		status := "ok     "
		detail := o.result
		if o.err != nil {
			detail = o.err.Error()
			if o.ok() {
				status = "ok (expected failure)"
			}
		}
		if !o.ok() {
			status = "UNEXPECTED"
			bad++
		}
		fmt.Fprintf(out, "  %-22s %-32s %s\n", status, o.name, firstLine(detail))
	}
	if bad > 0 {
		return fmt.Errorf("%d of %d jobs ended unexpectedly", bad, len(outcomes))
	}
	fmt.Fprintln(out, "all jobs ended as expected")
	return nil
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}

// progressBars draws the long jobs' progress: redrawn in place on a
// terminal, as a line at every quarter otherwise.
type progressBars struct {
	out      io.Writer
	terminal bool

	mu     sync.Mutex
	order  []string
	pct    map[string]float64
	status map[string]string
	shown  map[string]int // quarters already printed, when not a terminal
}

func newProgressBars(out io.Writer) *progressBars {
	terminal := false
	if f, ok := out.(*os.File); ok {
		if fi, err := f.Stat(); err == nil && fi.Mode()&os.ModeCharDevice != 0 {
			terminal = true
		}
	}
	return &progressBars{out: out, terminal: terminal, pct: map[string]float64{}, status: map[string]string{}, shown: map[string]int{}}
}

func (b *progressBars) add(label string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.order = append(b.order, label)
}

func (b *progressBars) set(label string, pct float64) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.pct[label] = pct
	if q := int(pct / 25); !b.terminal && q > b.shown[label] {
		b.shown[label] = q
		fmt.Fprintf(b.out, "%-26s %3.0f%%\n", label, pct)
	}
}

func (b *progressBars) done(label string, err error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	switch {
	case err == nil:
		b.status[label] = "done"
	case errors.Is(err, runtime.ErrAborted):
		b.status[label] = "aborted"
	default:
		b.status[label] = "failed"
	}
	if !b.terminal {
		fmt.Fprintf(b.out, "%-26s %s\n", label, b.status[label])
	}
}

// run redraws the bars on a terminal until the returned stop is called.
func (b *progressBars) run() (stop func()) {
	if !b.terminal {
		return func() {}
	}
	quit, finished := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(finished)
		tick := time.NewTicker(50 * time.Millisecond)
		defer tick.Stop()
		for {
			b.draw()
			select {
			case <-quit:
				b.draw()
				fmt.Fprintln(b.out)
				return
			case <-tick.C:
			}
		}
	}()
	return func() { close(quit); <-finished }
}

func (b *progressBars) draw() {
	b.mu.Lock()
	defer b.mu.Unlock()
	var parts []string
	for _, label := range b.order {
		filled := int(b.pct[label] / 5)
		bar := strings.Repeat("#", filled) + strings.Repeat(".", 20-filled)
		s := fmt.Sprintf("%s [%s] %3.0f%%", label, bar, b.pct[label])
		if st := b.status[label]; st != "" {
			s += " " + st
		}
		parts = append(parts, s)
	}
	fmt.Fprintf(b.out, "\r%s", strings.Join(parts, "   "))
}
