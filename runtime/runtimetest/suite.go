package runtimetest

import (
	"context"
	"errors"
	"log/slog"
	"testing"
	"time"

	"github.com/jobgen/jobgen/runtime"
	"github.com/jobgen/jobgen/runtime/storage"
	"github.com/jobgen/jobgen/runtime/storage/storagetest"
)

// NewStore returns a fresh, empty store for one test and registers its
// cleanup with t.
type NewStore func(t *testing.T) storage.Storage

// Run runs the behaviour suite against the backend b. Every test runs with
// notifications hidden ("Poll": the runtime then learns of other
// processes' changes by polling and heartbeats) and, when the backend's
// stores notify, again with them ("Notify"). The cross-process tests run a
// second server or a detached client on a store from b.Open, in both
// configurations; they are skipped when b.Open is nil.
func Run(t *testing.T, b storagetest.Backend) {
	t.Run("Poll", func(t *testing.T) {
		t.Parallel()
		runSuite(t, b, false)
	})
	if notifies(t, b) {
		t.Run("Notify", func(t *testing.T) {
			t.Parallel()
			runSuite(t, b, true)
		})
	}
}

// notifies reports whether b's stores implement storage.Notifier: those
// from New, or else those from Open.
func notifies(t *testing.T, b storagetest.Backend) bool {
	s := b.New(t)
	if _, ok := s.(storage.Notifier); ok {
		return true
	}
	if b.Open == nil {
		return false
	}
	_, ok := b.Open(t, s).(storage.Notifier)
	return ok
}

// stores opens the stores of one test: the first for the test's own
// server, and then more over the same jobs for other processes.
type stores struct {
	b      storagetest.Backend
	notify bool
	base   storage.Storage // the store from New the others share
}

func newStores(t *testing.T, b storagetest.Backend, notify bool) *stores {
	return &stores{b: b, notify: notify, base: b.New(t)}
}

// first returns the test's own store: with notifications when the
// configuration has them, else with them hidden.
func (ss *stores) first(t *testing.T) storage.Storage {
	s := ss.base
	if _, ok := s.(storage.Notifier); ss.notify && !ok {
		s = ss.b.Open(t, s)
	}
	return ss.configure(s)
}

// another returns another store over the first's jobs, for another
// process, or skips the test when the backend has none.
func (ss *stores) another(t *testing.T) storage.Storage {
	t.Helper()
	if ss.b.Open == nil {
		t.Skip("the backend's stores cannot share their jobs")
	}
	return ss.configure(ss.b.Open(t, ss.base))
}

// configure hides s's notifications unless the configuration has them.
func (ss *stores) configure(s storage.Storage) storage.Storage {
	if ss.notify {
		return s
	}
	return hideNotifier(s)
}

// runSuite runs every test once, with or without notifications.
func runSuite(t *testing.T, b storagetest.Backend, notify bool) {
	newStore := func(t *testing.T) storage.Storage { return newStores(t, b, notify).first(t) }
	for _, tc := range []struct {
		name string
		test func(*testing.T, NewStore)
	}{
		{"DirectWakeup", testDirectWakeup},
		{"SubmitClaimsOnIdleServer", testSubmitClaims},
		{"SubmitClaimsWithinMaxWorkers", testSubmitClaimsWithinMaxWorkers},
		{"SlotsRunTogether", testSlotsRunTogether},
		{"WakeupWhileBusyIsLatched", testWakeupWhileBusy},
		{"DeferredSubmitStartsWhenDue", testDeferredSubmit},
		{"RetryRunAfterHonoured", testRetryRunAfter},
		{"IdleMakesNoExtraCalls", testIdleCostsNothing},
		{"RetentionSweepOnlyWithTTL", testRetentionSweep},
		{"RetentionNegativeDeletesAtOnce", testRetentionNegative},
		{"RetentionSweepCatchesUp", testRetentionCatchesUp},
		{"RetentionEveryTerminalPath", testRetentionEveryTerminalPath},
		{"RetentionDefaults", testRetentionDefaults},
		{"AbortRunningLocal", testAbortRunningLocal},
		{"AbortPending", testAbortPending},
		{"AbortFinished", testAbortFinished},
		{"AbortStorageError", testAbortStorageError},
		{"AbortRacingCompletion", testAbortRacingCompletion},
		{"AbortJustClaimedByLoop", testAbortJustClaimedLoop},
		{"AbortJustClaimedBySubmit", testAbortJustClaimedInsertClaim},
		{"WaitForFinishBetweenRegisterAndRead", testWaitForRace},
		{"StopDrainsRunningJob", testStopDrains},
		{"StopWithoutDrainReleasesJob", testStopNoDrain},
		{"JobClaimedDuringStopIsReleased", testClaimedDuringStop},
		{"SubmitAfterStopFails", testSubmitAfterStop},
		{"StopReportsStuckHandlers", testStopReportsStuckHandlers},
		{"ProgressWithoutStorageWrites", testProgressNoWrites},
		{"ProgressEchoAfterFinish", testProgressEchoAfterFinish},
		{"ProgressDetails", testProgressDetails},
		{"ProgressInOrderAttached", testProgressOrderAttached},
		{"LimiterErrorDoesNotLeak", testLimiterErrorNoLeak},
		{"LimiterPermitsComeBack", testLimiterPermitsComeBack},
		{"HoldQueue", testHoldQueue},
		{"HoldQueueThroughLimiter", testHoldQueueLimiter},
		{"RetriesThenFails", testRetriesThenFails},
		{"PermanentFailsAtOnce", testPermanent},
		{"PanicRecoveredWithStack", testPanic},
		{"TimeoutIsRetryable", testTimeout},
		{"DeadlineFailsWithoutRunning", testDeadline},
		{"UndecodableInputFailsOnce", testUndecodable},
		{"BadInputWritesNothing", testBadInput},
		{"UniqueKeyDeduplicates", testUnique},
		{"UniqueKeyWindow", testUniqueWindow},
		{"EventsInOrder", testEventsInOrder},
		{"BadListenersBlockNobody", testBadListeners},
		{"HeartbeatKeepsLeases", testHeartbeatKeepsLeases},
		{"LeaseLostCancelsJob", testLeaseLostCancelsJob},
		{"HungCallStop", testHungCallStop},
		{"FakeClockRescue", testFakeClockRescue},
		{"FakeClockDeferred", testFakeClockDeferred},
		{"FakeClockBackoff", testFakeClockBackoff},
		{"NoFalseLeaseAlarm", testNoFalseLeaseAlarm},
		{"LeaseLossLoggedOnce", testLeaseLossLoggedOnce},
		{"SubmitOptsOverrideToZero", testSubmitOptsOverrideToZero},
		{"WaitForWrongKind", testWaitForWrongKind},
		{"HandlerErrorKeepsIdentity", testHandlerErrorKeepsIdentity},
		{"JobErrorMessages", testJobErrorMessages},
		{"UnknownJobErrorsNameItOnce", testUnknownJobErrorsNameItOnce},
		{"PoisonedMessageFailsAlone", testPoisonMessage},
		{"PoisonedKeyFailsAlone", testPoisonKey},
		{"PauseResume", testPauseResume},
		{"PauseElsewhere", testPauseElsewhere},
		{"RetryFailed", testRetryFailed},
		{"AbortManyRunning", testAbortManyRunning},
		{"OpsBadInput", testOpsBadInput},
		{"FinishAnswerLost", testFinishAnswerLost},
		{"FinishOutlastsOutage", testFinishOutlastsOutage},
		{"FinishGivesUpPastDrain", testFinishGivesUpPastDrain},
		{"FinishKeepsLease", testFinishKeepsLease},
		{"Metadata", testMetadata},
		{"BadMetadataWritesNothing", testBadMetadata},
		{"SubmitMiddleware", testSubmitMiddleware},
		{"SubmitMiddlewareRefuses", testSubmitMiddlewareRefuses},
		{"RunMiddleware", testRunMiddleware},
		{"RunMiddlewarePanics", testRunMiddlewarePanics},
		{"LogJobFailed", testLogJobFailed},
		{"LogPanicOnce", testLogPanicOnce},
		{"LogOutcomeWriteFailed", testLogOutcomeWriteFailed},
		{"Snooze", testSnooze},
		{"SubmitDelay", testSubmitDelay},
		{"SubmitMany", testSubmitMany},
		{"SubmitManyUnique", testSubmitManyUnique},
		{"SubmitManyInvalid", testSubmitManyInvalid},
		{"SubmitManyMiddleware", testSubmitManyMiddleware},
		{"ScheduleAddWhileRunning", testScheduleAddWhileRunning},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.test(t, newStore)
		})
	}
	for _, tc := range []struct {
		name string
		test func(*testing.T, *stores)
	}{
		{"CrossProcessWakeup", testCrossWakeup},
		{"CrossProcessWaitFor", testCrossWaitFor},
		{"CrossProcessWaitForAttached", testCrossWaitForAttached},
		{"CrossProcessProgress", testCrossProgress},
		{"CrossProcessProgressDetails", testCrossProgressDetails},
		{"CrossProcessProgressInOrder", testProgressOrderCross},
		{"CrossProcessAbort", testCrossAbort},
		{"CrossProcessAbortByPoll", testCrossAbortByPoll},
		{"CrossProcessAbortPending", testCrossAbortPending},
		{"CrossProcessWaitForDeletedJob", testCrossWaitForDeleted},
		{"TxSubmitCommit", testTxCommit},
		{"TxSubmitRollback", testTxRollback},
		{"TxSubmitOutlivesContext", testTxOutlivesContext},
		{"ScheduleOncePerTick", testScheduleOncePerTick},
		{"ScheduleMissed", testScheduleMissed},
		{"ScheduleRemoved", testScheduleRemoved},
		{"ScheduleOverlap", testScheduleOverlap},
		{"SchedulePausedQueue", testSchedulePausedQueue},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.test(t, newStores(t, b, notify))
		})
	}
}

// Test kinds. Each test registers its own handlers for them.
type (
	// Args is the input of the test kinds.
	Args struct {
		N    int    `json:"n"`
		Text string `json:"text,omitempty"`
	}
	// Result is the output of the test kinds.
	Result struct {
		N int `json:"n"`
	}
)

var (
	work  = runtime.NewKind[Args, Result](runtime.KindOpts{Name: "work", MaxAttempts: 3, Backoff: runtime.ExponentialBackoff(time.Millisecond)})
	other = runtime.NewKind[Args, runtime.NoOutput](runtime.KindOpts{Name: "other", Queue: "side"})
)

// deadline bounds every wait of the suite. Tests never sleep: they wait on
// channels and events with this as the upper bound.
const deadline = 20 * time.Second

// env is one test's store, server and client.
type env struct {
	t      *testing.T
	store  *hookStore
	srv    *runtime.Server
	client *runtime.Client
	// insertClaim: the server sees the store's JobInsertClaim.
	insertClaim bool
}

// quietLogger keeps expected failures out of the test output.
var quietLogger = slog.New(slog.DiscardHandler)

// newEnv builds a server over a fresh wrapped store; register adds
// handlers; the server is started and stopped in cleanup.
func newEnv(t *testing.T, newStore NewStore, cfg runtime.Config, register func(*runtime.Server)) *env {
	t.Helper()
	return buildEnv(t, newStore, cfg, register, true)
}

// newLoopEnv is newEnv for tests of the fetch loop's claims: the server does
// not see the store's JobInsertClaim, so every job is claimed by the loop.
func newLoopEnv(t *testing.T, newStore NewStore, cfg runtime.Config, register func(*runtime.Server)) *env {
	t.Helper()
	return buildEnv(t, newStore, cfg, register, false)
}

func buildEnv(t *testing.T, newStore NewStore, cfg runtime.Config, register func(*runtime.Server), insertClaim bool) *env {
	t.Helper()
	store := &hookStore{Storage: newStore(t)}
	if _, ok := store.Storage.(storage.InsertClaimer); !ok {
		insertClaim = false
	}
	wrapped := store.wrap(insertClaim)
	if cfg.Logger == nil {
		cfg.Logger = quietLogger
	}
	srv, err := runtime.NewServer(wrapped, cfg)
	if err != nil {
		t.Fatalf("NewServer: %v", err)
	}
	register(srv)
	e := &env{t: t, store: store, srv: srv, client: srv.Client(), insertClaim: insertClaim}
	return e
}

// start starts the server and stops it (with cancel) at the end of the test.
func (e *env) start() {
	e.t.Helper()
	if err := e.srv.Start(context.Background()); err != nil {
		e.t.Fatalf("Start: %v", err)
	}
	e.t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), deadline)
		defer cancel()
		if err := e.srv.StopAndCancel(ctx); err != nil {
			e.t.Errorf("StopAndCancel: %v", err)
		}
	})
}

// must returns v, or panics with err: a failed setup call ends the test
// binary with the stack of the call that failed.
func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

func register[In, Out any](t *testing.T, srv *runtime.Server, k *runtime.Kind[In, Out], h runtime.HandlerFunc[In, Out]) {
	t.Helper()
	if err := k.Register(srv, h); err != nil {
		t.Fatalf("Register %s: %v", k.Name(), err)
	}
}

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), deadline)
	t.Cleanup(cancel)
	return ctx
}

// recv waits for one value from ch, failing the test after the deadline.
func recv[T any](t *testing.T, ch <-chan T, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(deadline):
		t.Fatalf("timed out waiting for %s", what)
		panic("unreachable")
	}
}

// eventually polls cond until it holds or the deadline passes. It observes
// effects in storage that no event announces.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	timeout := time.After(deadline)
	for !cond() {
		select {
		case <-tick.C:
		case <-timeout:
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

func getJob(t *testing.T, e *env, id int64) *storage.Job {
	t.Helper()
	return must(e.store.Storage.JobGet(context.Background(), &storage.JobGetParams{ID: id}))
}

// events collects the events of one client in order.
func events(t *testing.T, c *runtime.Client) <-chan runtime.Event {
	ch := make(chan runtime.Event, 1024)
	cancel := c.Subscribe(func(ev runtime.Event) { ch <- ev })
	t.Cleanup(cancel)
	return ch
}

// waitEvent returns the first event of kind k for job id.
func waitEvent(t *testing.T, ch <-chan runtime.Event, id int64, k runtime.EventKind) runtime.Event {
	t.Helper()
	timeout := time.After(deadline)
	for {
		select {
		case ev := <-ch:
			if ev.JobID == id && ev.Kind == k {
				return ev
			}
		case <-timeout:
			t.Fatalf("timed out waiting for event %v of job %d", k, id)
		}
	}
}

func isErr(err, target error) bool { return errors.Is(err, target) }
