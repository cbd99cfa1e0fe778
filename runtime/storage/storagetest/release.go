package storagetest

import (
	"testing"
	"time"

	"github.com/jobgen/jobgen/runtime/storage"
)

// testReleaseDelay: a release with a RetryDelay gives the attempt back, as
// every release does, and makes the job ready only after the delay; the
// claim in between reports when it becomes ready.
func testReleaseDelay(t *testing.T, f factory) {
	f.run(t, "ReadyAfterDelay", func(t *testing.T, x *fixture) {
		ins := x.insert(job("q", "k"))
		j := x.claimOne(base, "q", "k")
		now := at(time.Second)
		x.finishOne(now, storage.JobFinish{ID: j.ID, LeaseToken: j.LeaseToken, Outcome: storage.OutcomeRelease, RetryDelay: 30 * time.Second}, true)
		want := clone(j)
		want.State = storage.StatePending
		want.Attempt = 0
		want.RunAfter = now.Add(30 * time.Second)
		want.LeaseToken = 0
		want.LeaseExpiresAt = time.Time{}
		x.want(want)
		res := x.claimNone(now.Add(29*time.Second), "q", "k")
		if !res.NextRunAfter.Equal(want.RunAfter) {
			t.Errorf("claim before the delay passed: NextRunAfter %v, want %v", res.NextRunAfter, want.RunAfter)
		}
		if again := x.claimOne(now.Add(30*time.Second), "q", "k"); again.ID != ins.ID || again.Attempt != 1 {
			t.Errorf("claimed job %d attempt %d after the delay, want job %d attempt 1", again.ID, again.Attempt, ins.ID)
		}
	})
}
