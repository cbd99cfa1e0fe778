package storagetest

import (
	"errors"
	"fmt"
	"maps"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/jobgen/jobgen/runtime/storage"
)

// sampleMetadata is metadata with a trace context and values that need
// escaping in JSON.
func sampleMetadata() map[string]string {
	return map[string]string{
		"traceparent": "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
		"tenant":      "acme/eu-1",
		"note:quoted": "say \"hi\" \\ <b>&</b>\n\ttab é 日本",
		"empty":       "",
	}
}

// testMetadata: a job's metadata comes back from every read as it was
// inserted (insert, get, list, query, claim, abort) and stays with the job
// through retries, releases, rescues, its end and JobRetry; a job without
// metadata reads as nil; metadata out of bounds is refused with nothing
// written.
func testMetadata(t *testing.T, f factory) {
	f.run(t, "RoundTrip", func(t *testing.T, x *fixture) {
		md := sampleMetadata()
		p := job("q", "k")
		p.Metadata = md
		ins := x.insert(p)
		checkMetadata(t, "JobInsert", ins.Metadata, md)
		md["tenant"] = "changed after insert" // the store keeps its own copy
		want := sampleMetadata()
		checkMetadata(t, "JobGet", x.get(ins.ID).Metadata, want)
		ls := x.list(&storage.JobListParams{})
		if len(ls) != 1 {
			t.Fatalf("JobList: %d jobs, want 1", len(ls))
		}
		checkMetadata(t, "JobList", ls[0].Metadata, want)
		page, err := x.s.JobQuery(x.ctx, &storage.JobQueryParams{})
		if err != nil || len(page.Jobs) != 1 {
			t.Fatalf("JobQuery: %v, %v; want 1 job", page, err)
		}
		checkMetadata(t, "JobQuery", page.Jobs[0].Metadata, want)
		res := x.claimAt(base, 1, "q", "k")
		if len(res.Jobs) != 1 {
			t.Fatalf("claimed %d jobs, want 1", len(res.Jobs))
		}
		checkMetadata(t, "JobClaim", res.Jobs[0].Metadata, want)
		res.Jobs[0].Metadata["tenant"] = "changed by the claimer"
		checkMetadata(t, "JobGet after the claimer changed its copy", x.get(ins.ID).Metadata, want)
	})

	f.run(t, "None", func(t *testing.T, x *fixture) {
		plain := x.insert(job("q", "k"))
		empty := job("q", "k")
		empty.Metadata = map[string]string{}
		emptied := x.insert(empty)
		for _, j := range []*storage.Job{plain, emptied} {
			checkMetadata(t, "JobInsert", j.Metadata, nil)
			checkMetadata(t, "JobGet", x.get(j.ID).Metadata, nil)
		}
		for _, c := range x.claimAt(base, 2, "q", "k").Jobs {
			checkMetadata(t, "JobClaim", c.Metadata, nil)
		}
	})

	f.run(t, "InsertMany", func(t *testing.T, x *fixture) {
		ps := []*storage.JobInsertParams{job("q", "k"), job("q", "k"), job("q", "k")}
		ps[0].Metadata = map[string]string{"n": "0"}
		ps[2].Metadata = sampleMetadata()
		res, err := x.s.JobInsertMany(x.ctx, &storage.JobInsertManyParams{Jobs: ps, Now: base})
		if err != nil {
			t.Fatalf("JobInsertMany: %v", err)
		}
		for i, r := range res {
			want := ps[i].Metadata
			checkMetadata(t, fmt.Sprintf("JobInsertMany result %d", i), r.Job.Metadata, want)
			checkMetadata(t, fmt.Sprintf("JobGet of job %d", i), x.get(r.Job.ID).Metadata, want)
		}
	})

	f.run(t, "InsertClaim", func(t *testing.T, x *fixture) {
		ic, ok := x.s.(storage.InsertClaimer)
		if !ok {
			t.Skip("the backend does not implement storage.InsertClaimer")
		}
		p := job("q", "k")
		p.Metadata = sampleMetadata()
		ins, cl, err := ic.JobInsertClaim(x.ctx, p, claimParams(base, 1, "q", "k"))
		if err != nil {
			t.Fatalf("JobInsertClaim: %v", err)
		}
		checkMetadata(t, "JobInsertClaim insert", ins.Job.Metadata, p.Metadata)
		if len(cl.Jobs) != 1 {
			t.Fatalf("JobInsertClaim claimed %d jobs, want 1", len(cl.Jobs))
		}
		checkMetadata(t, "JobInsertClaim claim", cl.Jobs[0].Metadata, p.Metadata)
	})

	f.run(t, "KeptThroughItsLife", func(t *testing.T, x *fixture) {
		want := sampleMetadata()
		p := job("q", "k")
		p.MaxAttempts = 4
		p.Metadata = want
		id := x.insert(p).ID
		claimAgain := func(what string, now time.Time) *storage.ClaimedJob {
			t.Helper()
			res := x.claimAt(now, 1, "q", "k")
			if len(res.Jobs) != 1 || res.Jobs[0].ID != id {
				t.Fatalf("%s: claimed %v, want job %d", what, ids(res.Jobs), id)
			}
			checkMetadata(t, what, res.Jobs[0].Metadata, want)
			return res.Jobs[0]
		}
		c := claimAgain("first claim", base)
		x.finishOne(at(time.Second), storage.JobFinish{ID: id, LeaseToken: c.LeaseToken, Outcome: storage.OutcomeRetry, ErrorMessage: "boom", ErrorCode: "error"}, true)
		checkMetadata(t, "JobGet after a retry", x.get(id).Metadata, want)
		c = claimAgain("claim after the retry", at(time.Minute))
		x.finishOne(at(time.Minute+time.Second), storage.JobFinish{ID: id, LeaseToken: c.LeaseToken, Outcome: storage.OutcomeRelease}, true)
		claimAgain("claim after the release", at(2*time.Minute))
		c = claimAgain("rescue after the lease expired", at(2*time.Minute+lease))
		x.finishOne(at(time.Hour), storage.JobFinish{ID: id, LeaseToken: c.LeaseToken, Outcome: storage.OutcomeFail, ErrorMessage: "boom", ErrorCode: "error"}, true)
		checkMetadata(t, "JobGet once failed", x.get(id).Metadata, want)
		x.mustRetry(&storage.JobRetryParams{JobBatch: byIDs(id)}, 1)
		c = claimAgain("claim after JobRetry", at(2*time.Hour))
		x.complete(at(2*time.Hour), id, c.LeaseToken)
		checkMetadata(t, "JobGet once completed", x.get(id).Metadata, want)

		p = job("q", "k")
		p.Metadata = want
		pending := x.insert(p).ID
		ab := x.abort(at(time.Hour), pending)
		checkMetadata(t, "JobAbort result", ab.Job.Metadata, want)
		checkMetadata(t, "JobGet once aborted", x.get(pending).Metadata, want)
	})

	f.run(t, "Bounds", func(t *testing.T, x *fixture) {
		// The largest metadata of each kind is stored whole.
		largest := map[string]map[string]string{
			"most keys":      manyKeys(storage.MaxMetadataKeys),
			"longest key":    {strings.Repeat("k", storage.MaxMetadataKeyLen): "v"},
			"longest encode": metadataOfSize(storage.MaxMetadataBytes),
			"every key rune": {"azAZ09-_.:/": "v"},
		}
		for name, md := range largest {
			p := job("q", "k")
			p.Metadata = md
			res, err := x.s.JobInsert(x.ctx, p)
			if err != nil {
				t.Errorf("JobInsert with metadata of the %s: %v", name, err)
				continue
			}
			checkMetadata(t, "JobGet of metadata of the "+name, x.get(res.Job.ID).Metadata, md)
		}
		for name, md := range badMetadata() {
			p := job("q", "k")
			p.Metadata = md
			if _, err := x.s.JobInsert(x.ctx, p); !errors.Is(err, storage.ErrInvalid) {
				t.Errorf("JobInsert with metadata with %s: %v, want an error matching storage.ErrInvalid", name, err)
			}
			many := []*storage.JobInsertParams{job("q", "k"), p}
			if _, err := x.s.JobInsertMany(x.ctx, &storage.JobInsertManyParams{Jobs: many, Now: base}); !errors.Is(err, storage.ErrInvalid) {
				t.Errorf("JobInsertMany with metadata with %s: %v, want an error matching storage.ErrInvalid", name, err)
			}
		}
		if got := x.count(); got != len(largest) {
			t.Errorf("%d jobs stored, want the %d within bounds", got, len(largest))
		}
	})
}

// badMetadata is metadata out of bounds, by what is wrong with it.
func badMetadata() map[string]map[string]string {
	return map[string]map[string]string{
		"too many keys":         manyKeys(storage.MaxMetadataKeys + 1),
		"an empty key":          {"": "v"},
		"a key too long":        {strings.Repeat("k", storage.MaxMetadataKeyLen+1): "v"},
		"a space in a key":      {"my key": "v"},
		"a non-ASCII key":       {"clé": "v"},
		"a NUL in a value":      {"k": "a\x00b"},
		"invalid UTF-8":         {"k": "a\xffb"},
		"an encoding too long":  metadataOfSize(storage.MaxMetadataBytes + 1),
		"a good and a bad key":  {"good": "v", "bad key": "v"},
		"a quote in a key":      {`k"`: "v"},
		"a control char in key": {"k\n": "v"},
	}
}

// manyKeys returns metadata of n keys.
func manyKeys(n int) map[string]string {
	md := make(map[string]string, n)
	for i := range n {
		md[fmt.Sprintf("key-%02d", i)] = "v"
	}
	return md
}

// metadataOfSize returns metadata whose encoding is size bytes long: one
// key "k" whose value needs escaping in places.
func metadataOfSize(size int) map[string]string {
	const frame = len(`{"k":""}`)
	const escaped = "\"\n" // encodes to 4 bytes
	n := size - frame
	v := strings.Repeat(escaped, n/8) + strings.Repeat("x", n-n/8*4)
	return map[string]string{"k": v}
}

// checkMetadata reports a difference between got and want metadata,
// naming what. A nil want means none: got must be nil, not empty.
func checkMetadata(t *testing.T, what string, got, want map[string]string) {
	t.Helper()
	if want == nil {
		if got != nil {
			t.Errorf("%s: metadata %v, want nil", what, got)
		}
		return
	}
	if !maps.Equal(got, want) {
		t.Errorf("%s: metadata mismatch (-want +got):\n%s", what, cmp.Diff(want, got))
	}
}
