package example

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"strings"
	"text/template"
	"time"

	"github.com/jobgen/jobgen/runtime"
)

// A Sender delivers messages; SendMessage jobs use the Service's.
type Sender interface {
	Send(ctx context.Context, to, body string) error
}

// SenderFunc adapts a function to Sender.
type SenderFunc func(ctx context.Context, to, body string) error

// Send calls f(ctx, to, body).
func (f SenderFunc) Send(ctx context.Context, to, body string) error { return f(ctx, to, body) }

// Service runs every job of the package; it satisfies the generated
// Handlers interface. Its methods are safe for concurrent use as long as
// Sender is.
type Service struct {
	// Sender delivers SendMessage jobs. Required for them.
	Sender Sender
}

// HandleHeartbeat does nothing: the job's completion is the heartbeat.
func (s *Service) HandleHeartbeat(ctx context.Context, job *runtime.Job[Heartbeat]) error { return nil }

// HandleResize decodes the PNG, scales it with nearest-neighbour sampling
// and encodes the result as PNG.
func (s *Service) HandleResize(ctx context.Context, job *runtime.Job[Resize]) (ResizeResult, error) {
	src, err := png.Decode(bytes.NewReader(job.Args.Image))
	if err != nil {
		return ResizeResult{}, runtime.Permanent(fmt.Errorf("resize %s: decode: %w", job.Args.Name, err))
	}
	b := src.Bounds()
	if job.Args.Width <= 0 || b.Dx() == 0 {
		return ResizeResult{}, runtime.Permanent(fmt.Errorf("resize %s: width %d, want a positive width", job.Args.Name, job.Args.Width))
	}
	w := job.Args.Width
	h := max(1, b.Dy()*w/b.Dx())
	dst := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		if err := ctx.Err(); err != nil {
			return ResizeResult{}, err
		}
		for x := range w {
			dst.Set(x, y, src.At(b.Min.X+x*b.Dx()/w, b.Min.Y+y*b.Dy()/h))
		}
	}
	var out bytes.Buffer
	if err := png.Encode(&out, dst); err != nil {
		return ResizeResult{}, fmt.Errorf("resize %s: encode: %w", job.Args.Name, err)
	}
	return ResizeResult{Image: out.Bytes(), Width: w, Height: h}, nil
}

// Gradient returns a w×h PNG that fades from black at the left to red at
// the right and to blue at the bottom: an input for Resize.
func Gradient(w, h int) []byte {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			img.Set(x, y, color.RGBA{R: uint8(255 * x / max(1, w-1)), B: uint8(255 * y / max(1, h-1)), A: 255})
		}
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		panic(err) // encoding an in-memory RGBA image cannot fail
	}
	return buf.Bytes()
}

var reportTemplate = template.Must(template.New("report").Funcs(template.FuncMap{
	"money": func(f float64) string { return fmt.Sprintf("%.2f", f) },
	"mul":   func(q int, p float64) float64 { return float64(q) * p },
}).Parse(`{{.Title}}
{{range .Lines}}{{printf "%-12s" .Product}} {{printf "%4d" .Quantity}} x {{money .Price}} = {{money (mul .Quantity .Price)}}
{{end}}Total: {{money .Total}}
`))

// HandleReport renders the report with text/template.
func (s *Service) HandleReport(ctx context.Context, job *runtime.Job[Report]) (ReportResult, error) {
	var total float64
	for _, l := range job.Args.Lines {
		total += float64(l.Quantity) * l.Price
	}
	var b strings.Builder
	err := reportTemplate.Execute(&b, struct {
		Report
		Total float64
	}{job.Args, total})
	if err != nil {
		return ReportResult{}, runtime.Permanent(fmt.Errorf("render report %q: %w", job.Args.Title, err))
	}
	return ReportResult{Text: b.String(), Total: total}, nil
}

// ErrNoRecipient is the permanent failure of a SendMessage without To.
var ErrNoRecipient = errors.New("example: message has no recipient")

// HandleSendMessage sends the message through s.Sender. A message without
// a recipient fails without retries; a Sender error is retried.
func (s *Service) HandleSendMessage(ctx context.Context, job *runtime.Job[SendMessage]) error {
	if job.Args.To == "" {
		return runtime.Permanent(ErrNoRecipient)
	}
	if s.Sender == nil {
		return runtime.Permanent(errors.New("example: Service has no Sender"))
	}
	if err := s.Sender.Send(ctx, job.Args.To, job.Args.Body); err != nil {
		return fmt.Errorf("send to %s (attempt %d of %d): %w", job.Args.To, job.Attempt, job.MaxAttempts, err)
	}
	return nil
}

// HandleCrunch sums squares step by step, reporting progress after each
// step, and returns as soon as ctx ends (on abort, timeout or shutdown).
func (s *Service) HandleCrunch(ctx context.Context, job *runtime.Job[Crunch]) (CrunchResult, error) {
	var sum int64
	var tick <-chan time.Time
	if job.Args.StepDelay > 0 {
		t := time.NewTicker(job.Args.StepDelay)
		defer t.Stop()
		tick = t.C
	}
	for i := 1; i <= job.Args.Steps; i++ {
		if tick != nil {
			select {
			case <-ctx.Done():
				return CrunchResult{}, context.Cause(ctx)
			case <-tick:
			}
		} else if err := ctx.Err(); err != nil {
			return CrunchResult{}, context.Cause(ctx)
		}
		sum += int64(i) * int64(i)
		job.ReportProgress(100*float64(i)/float64(job.Args.Steps), fmt.Sprintf("step %d of %d", i, job.Args.Steps))
	}
	return CrunchResult{Sum: sum}, nil
}
