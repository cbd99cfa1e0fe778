package main

import (
	"math"
	"sync/atomic"
	"time"
)

// histPerDoubling is the number of histogram buckets per doubling of a
// duration: a bucket's upper bound is at most 2.2% above any sample in it.
const histPerDoubling = 32

// histBuckets covers 1 µs to 2^40 µs (about 12 days); shorter samples fall
// in the first bucket and longer ones in the last.
const histBuckets = 40*histPerDoubling + 1

// histogram counts durations in logarithmic buckets, so that the
// percentiles of any number of samples take a fixed amount of memory. It is
// safe for concurrent use.
type histogram struct {
	counts [histBuckets]atomic.Int64
	n      atomic.Int64
}

// record adds one sample.
func (h *histogram) record(d time.Duration) {
	i := 0
	if us := float64(d) / float64(time.Microsecond); us > 1 {
		i = min(int(math.Ceil(math.Log2(us)*histPerDoubling)), histBuckets-1)
	}
	h.counts[i].Add(1)
	h.n.Add(1)
}

// quantile returns the upper bound, in milliseconds, of the bucket holding
// the p-th percentile (0 < p ≤ 100) by the nearest-rank method, or NaN when
// there are no samples.
func (h *histogram) quantile(p float64) float64 {
	n := h.n.Load()
	if n == 0 {
		return math.NaN()
	}
	rank := max(int64(math.Ceil(p/100*float64(n))), 1)
	var seen int64
	for i := range h.counts {
		if seen += h.counts[i].Load(); seen >= rank {
			return math.Exp2(float64(i)/histPerDoubling) / 1000
		}
	}
	return math.Exp2(float64(histBuckets-1)/histPerDoubling) / 1000
}

// merge adds h's samples to m, which must not be in use concurrently.
func (m *histogram) merge(h *histogram) {
	for i := range h.counts {
		if c := h.counts[i].Load(); c > 0 {
			m.counts[i].Add(c)
		}
	}
	m.n.Add(h.n.Load())
}
