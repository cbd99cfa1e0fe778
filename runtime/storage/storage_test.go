package storage_test

import (
	"errors"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/jobgen/jobgen/runtime/storage"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestStates(t *testing.T) {
	t.Parallel()
	terminal := map[storage.State]bool{storage.StateCompleted: true, storage.StateFailed: true, storage.StateAborted: true}
	for _, s := range storage.States {
		if !s.Valid() {
			t.Errorf("%s is not valid", s)
		}
		if s.Terminal() != terminal[s] {
			t.Errorf("%s: Terminal() = %v", s, s.Terminal())
		}
	}
	if storage.State("done").Valid() {
		t.Error(`"done" is valid`)
	}
	for o, want := range map[storage.Outcome]storage.State{
		storage.OutcomeComplete: storage.StateCompleted, storage.OutcomeFail: storage.StateFailed,
		storage.OutcomeAbort: storage.StateAborted, storage.OutcomeRetry: storage.StatePending, storage.OutcomeRelease: storage.StatePending,
	} {
		if got := o.State(); got != want {
			t.Errorf("outcome %d writes %s, want %s", o, got, want)
		}
	}
}

func TestValidate(t *testing.T) {
	t.Parallel()
	ok := storage.JobInsertParams{Kind: "k", Queue: "q", MaxAttempts: 1}
	if err := ok.Validate(); err != nil {
		t.Fatal(err)
	}
	bad := []interface{ Validate() error }{
		&storage.JobInsertParams{Queue: "q", MaxAttempts: 1},
		&storage.JobInsertParams{Kind: "k", MaxAttempts: 1},
		&storage.JobInsertParams{Kind: "k", Queue: "q"},
		&storage.JobInsertParams{Kind: "k", Queue: "q", MaxAttempts: 1, Timeout: -1},
		&storage.JobClaimParams{Kinds: []string{"k"}, Limit: 1, LeaseDuration: time.Second},
		&storage.JobClaimParams{Queue: "q", Limit: 1, LeaseDuration: time.Second},
		&storage.JobClaimParams{Queue: "q", Kinds: []string{"k"}, LeaseDuration: time.Second},
		&storage.JobClaimParams{Queue: "q", Kinds: []string{"k"}, Limit: 1},
		&storage.JobHeartbeatParams{},
		&storage.JobFinishParams{Jobs: []storage.JobFinish{{ID: 1}}},
		&storage.JobFinishParams{Jobs: []storage.JobFinish{{ID: 1, Outcome: storage.OutcomeRetry, RetryDelay: -1}}},
		&storage.JobDeleteFinishedParams{State: storage.StatePending},
		&storage.JobDeleteFinishedParams{State: storage.StateFailed, Limit: -1},
	}
	for i, p := range bad {
		if err := p.Validate(); !errors.Is(err, storage.ErrInvalid) {
			t.Errorf("case %d (%T): %v, want ErrInvalid", i, p, err)
		}
	}
	if got := (&storage.JobListParams{Limit: 1 << 20}).ListLimit(); got != 10000 {
		t.Errorf("ListLimit caps at %d, want 10000", got)
	}
}

func TestCloneIsDeep(t *testing.T) {
	t.Parallel()
	j := &storage.Job{ID: 1, Input: []byte("in"), Output: []byte("out")}
	c := j.Clone()
	c.Input[0], c.Output[0] = 'X', 'X'
	if string(j.Input) != "in" || string(j.Output) != "out" {
		t.Fatal("Clone shares byte slices")
	}
	if (*storage.Job)(nil).Clone() != nil {
		t.Fatal("nil Clone is not nil")
	}
}
