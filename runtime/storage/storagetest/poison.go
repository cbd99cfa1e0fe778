package storagetest

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jobgen/jobgen/runtime/storage"
)

// badTexts are strings no backend can store as text, by test name, with
// what is wrong with them.
var badTexts = []struct{ name, what, text string }{
	{"NUL", "a NUL byte", "boom\x00after"},
	{"InvalidUTF8", "invalid UTF-8", "boom\xff\xfe"},
}

// testPoison: one row holding a string that cannot be stored fails alone;
// the rows that share its call (or, on backends that share statements,
// its statement) are written.
func testPoison(t *testing.T, f factory) {
	for _, b := range badTexts {
		what, bad := b.what, b.text
		f.run(t, "FinishWith"+b.name, func(t *testing.T, x *fixture) {
			js := x.claimedJobs(7)
			now := at(5 * time.Second)
			fs := make([]storage.JobFinish, len(js))
			for i, j := range js {
				fs[i] = storage.JobFinish{ID: j.ID, LeaseToken: j.LeaseToken, Outcome: storage.OutcomeFail, ErrorMessage: fmt.Sprintf("error %d", i), ErrorCode: "error"}
			}
			fs[1].Outcome, fs[1].ErrorMessage, fs[1].ErrorCode = storage.OutcomeComplete, "", ""
			fs[2].Outcome, fs[2].RetryDelay = storage.OutcomeRetry, time.Minute
			const poisoned = 3
			fs[poisoned].ErrorMessage = bad
			res, err := x.s.JobFinish(x.ctx, &storage.JobFinishParams{Jobs: fs, Now: now})
			if err != nil {
				t.Fatalf("JobFinish with %s in one error message: %v, want the others written", what, err)
			}
			for i, j := range js {
				if i == poisoned {
					if res.Applied[i] || !errors.Is(res.Err(i), storage.ErrInvalid) {
						t.Errorf("entry with %s: Applied %v, Err %v; want not applied and an error matching storage.ErrInvalid", what, res.Applied[i], res.Err(i))
					}
					x.want(j) // unchanged: still running under its lease
					continue
				}
				if !res.Applied[i] || res.Err(i) != nil {
					t.Errorf("good entry %d (job %d): Applied %v, Err %v; want applied", i, j.ID, res.Applied[i], res.Err(i))
				}
				x.wantState(j.ID, fs[i].Outcome.State())
			}
			if got := x.get(js[0].ID).ErrorMessage; got != "error 0" {
				t.Errorf("good entry's stored message %q, want %q", got, "error 0")
			}
			// The same entry made storable is then written.
			fs[poisoned].ErrorMessage = "boom"
			x.finishOne(now, fs[poisoned], true)
		})

		f.run(t, "InsertWith"+b.name, func(t *testing.T, x *fixture) {
			const n = 39
			const poisoned = 17
			var wg sync.WaitGroup
			errs := make([]error, n)
			for i := range n {
				p := job("q", "k")
				p.UniqueKey = fmt.Sprintf("key-%d", i)
				if i == poisoned {
					p.UniqueKey = bad
				}
				wg.Go(func() { _, errs[i] = x.s.JobInsert(x.ctx, p) })
			}
			wg.Wait()
			for i, err := range errs {
				switch {
				case i == poisoned && !errors.Is(err, storage.ErrInvalid):
					t.Errorf("insert with %s in its unique key: %v, want an error matching storage.ErrInvalid", what, err)
				case i != poisoned && err != nil:
					t.Errorf("insert %d beside one with %s in its unique key: %v", i, what, err)
				}
			}
			if got := x.count(); got != n-1 {
				t.Errorf("%d jobs stored, want %d", got, n-1)
			}

			// JobInsertMany inserts none of a batch with such a job.
			many := []*storage.JobInsertParams{job("q", "k"), job("q", "k"), job("q", "k")}
			many[1].UniqueKey = bad
			if _, err := x.s.JobInsertMany(x.ctx, &storage.JobInsertManyParams{Jobs: many, Now: base}); !errors.Is(err, storage.ErrInvalid) {
				t.Errorf("JobInsertMany with %s in one unique key: %v, want an error matching storage.ErrInvalid", what, err)
			}
			if got := x.count(); got != n-1 {
				t.Errorf("%d jobs stored after the refused JobInsertMany, want %d", got, n-1)
			}
		})
	}

	f.run(t, "InsertRefusesBadText", func(t *testing.T, x *fixture) {
		for _, b := range badTexts {
			what, bad := b.what, b.text
			for field, set := range map[string]func(*storage.JobInsertParams){
				"kind":       func(p *storage.JobInsertParams) { p.Kind = bad },
				"queue":      func(p *storage.JobInsertParams) { p.Queue = bad },
				"unique key": func(p *storage.JobInsertParams) { p.UniqueKey = bad },
			} {
				p := job("q", "k")
				set(p)
				if _, err := x.s.JobInsert(x.ctx, p); !errors.Is(err, storage.ErrInvalid) {
					t.Errorf("JobInsert with %s in its %s: %v, want an error matching storage.ErrInvalid", what, field, err)
				}
			}
		}
		p := job("q", "k")
		p.UniqueKey = strings.Repeat("k", storage.MaxUniqueKeyLen+1)
		if _, err := x.s.JobInsert(x.ctx, p); !errors.Is(err, storage.ErrInvalid) {
			t.Errorf("JobInsert with a unique key of %d bytes: %v, want an error matching storage.ErrInvalid", len(p.UniqueKey), err)
		}
		if got := x.count(); got != 0 {
			t.Errorf("%d jobs stored, want none", got)
		}
	})
}
