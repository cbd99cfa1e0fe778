package postgres

import (
	"testing"

	"github.com/jobgen/jobgen/runtime/storage"
)

// TestChooseFinish: the statement a finish round is written with follows
// from its entries alone, and a round that must notify inside its
// statement always takes the general one.
func TestChooseFinish(t *testing.T) {
	t.Parallel()
	var (
		complete    = storage.JobFinish{Outcome: storage.OutcomeComplete}
		completeDel = storage.JobFinish{Outcome: storage.OutcomeComplete, Delete: true}
		fail        = storage.JobFinish{Outcome: storage.OutcomeFail}
		failDel     = storage.JobFinish{Outcome: storage.OutcomeFail, Delete: true}
		abortDel    = storage.JobFinish{Outcome: storage.OutcomeAbort, Delete: true}
		retry       = storage.JobFinish{Outcome: storage.OutcomeRetry}
		retryDel    = storage.JobFinish{Outcome: storage.OutcomeRetry, Delete: true} // not terminal: kept
		release     = storage.JobFinish{Outcome: storage.OutcomeRelease}
	)
	names := map[finishStatement]string{
		stmtFinish: "finish", stmtFinishNotify: "finish, notifying", stmtFinishOne: "finishOne",
		stmtFinishOneDelete: "finishOneDelete", stmtFinishComplete: "finishComplete",
		stmtFinishDelete: "finishDelete", stmtFinishUpdate: "finishUpdate",
	}
	for _, tc := range []struct {
		name   string
		jobs   []storage.JobFinish
		notify bool
		want   finishStatement
	}{
		{"one completion", []storage.JobFinish{complete}, false, stmtFinishOne},
		{"one retry", []storage.JobFinish{retry}, false, stmtFinishOne},
		{"one retry with the delete flag", []storage.JobFinish{retryDel}, false, stmtFinishOne},
		{"one deleted completion", []storage.JobFinish{completeDel}, false, stmtFinishOneDelete},
		{"one deleted failure", []storage.JobFinish{failDel}, false, stmtFinishOneDelete},
		{"completions", []storage.JobFinish{complete, complete, complete}, false, stmtFinishComplete},
		{"deletions", []storage.JobFinish{completeDel, failDel, abortDel}, false, stmtFinishDelete},
		{"updates", []storage.JobFinish{complete, fail, retry, release, retryDel}, false, stmtFinishUpdate},
		{"failures", []storage.JobFinish{fail, fail}, false, stmtFinishUpdate},
		{"completions and deletions", []storage.JobFinish{complete, completeDel}, false, stmtFinish},
		{"updates and deletions", []storage.JobFinish{retry, failDel, fail}, false, stmtFinish},
		{"one completion, notifying", []storage.JobFinish{complete}, true, stmtFinishNotify},
		{"one deletion, notifying", []storage.JobFinish{failDel}, true, stmtFinishNotify},
		{"completions, notifying", []storage.JobFinish{complete, complete}, true, stmtFinishNotify},
		{"deletions, notifying", []storage.JobFinish{completeDel, failDel}, true, stmtFinishNotify},
		{"updates, notifying", []storage.JobFinish{fail, retry}, true, stmtFinishNotify},
		{"a mix, notifying", []storage.JobFinish{complete, failDel}, true, stmtFinishNotify},
	} {
		order := make([]int, len(tc.jobs))
		for i := range order {
			order[i] = i
		}
		if got := chooseFinish(tc.jobs, order, tc.notify); got != tc.want {
			t.Errorf("%s: statement %s, want %s", tc.name, names[got], names[tc.want])
		}
	}
	// Only the entries of the round count.
	jobs := []storage.JobFinish{failDel, complete, retry, complete}
	if got := chooseFinish(jobs, []int{1, 3}, false); got != stmtFinishComplete {
		t.Errorf("completions among other entries: statement %s, want %s", names[got], names[stmtFinishComplete])
	}
}
