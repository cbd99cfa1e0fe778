package storage

import "fmt"

// Validate reports ErrInvalid, wrapped with the reason, when p cannot be
// inserted: among others when its kind, queue or unique key is not text
// every backend can store (see TextProblem) or the key is longer than
// MaxUniqueKeyLen, or its metadata is out of bounds (see
// MetadataProblem). Backends call it before writing anything.
func (p *JobInsertParams) Validate() error {
	switch {
	case p.Kind == "":
		return fmt.Errorf("%w: empty kind", ErrInvalid)
	case p.Queue == "":
		return fmt.Errorf("%w: empty queue", ErrInvalid)
	case p.MaxAttempts < 1:
		return fmt.Errorf("%w: max attempts %d, want at least 1", ErrInvalid, p.MaxAttempts)
	case p.Timeout < 0:
		return fmt.Errorf("%w: negative timeout %v", ErrInvalid, p.Timeout)
	case p.UniqueFor < 0:
		return fmt.Errorf("%w: unique window %v, want zero (none) or positive", ErrInvalid, p.UniqueFor)
	case len(p.UniqueKey) > MaxUniqueKeyLen:
		return fmt.Errorf("%w: unique key is %d bytes, limit %d", ErrInvalid, len(p.UniqueKey), MaxUniqueKeyLen)
	}
	if err := checkText("kind", p.Kind); err != nil {
		return err
	}
	if err := checkText("queue", p.Queue); err != nil {
		return err
	}
	if err := checkText("unique key", p.UniqueKey); err != nil {
		return err
	}
	if key, why := MetadataProblem(p.Metadata); why != "" {
		return fmt.Errorf("%w: %s", ErrInvalid, describeMetadataProblem(key, why))
	}
	return nil
}

// Validate reports ErrInvalid when p cannot be claimed with.
func (p *JobClaimParams) Validate() error {
	switch {
	case p.Queue == "":
		return fmt.Errorf("%w: empty queue", ErrInvalid)
	case len(p.Kinds) == 0:
		return fmt.Errorf("%w: no kinds to claim", ErrInvalid)
	case p.Limit < 1:
		return fmt.Errorf("%w: claim limit %d, want at least 1", ErrInvalid, p.Limit)
	case p.LeaseDuration <= 0:
		return fmt.Errorf("%w: lease duration %v, want a positive duration", ErrInvalid, p.LeaseDuration)
	}
	return nil
}

// Validate reports ErrInvalid when p cannot renew leases.
func (p *JobHeartbeatParams) Validate() error {
	if p.LeaseDuration <= 0 {
		return fmt.Errorf("%w: lease duration %v, want a positive duration", ErrInvalid, p.LeaseDuration)
	}
	return nil
}

// Validate reports ErrInvalid when an entry of p has an unknown outcome or a
// negative retry delay. The strings of an entry are checked by
// JobFinish.Validate, entry by entry.
func (p *JobFinishParams) Validate() error {
	for i, f := range p.Jobs {
		if f.Outcome < OutcomeComplete || f.Outcome > OutcomeAbort {
			return fmt.Errorf("%w: finish %d (job %d): unknown outcome %d", ErrInvalid, i, f.ID, f.Outcome)
		}
		if f.RetryDelay < 0 {
			return fmt.Errorf("%w: finish %d (job %d): negative retry delay %v", ErrInvalid, i, f.ID, f.RetryDelay)
		}
	}
	return nil
}

// Validate reports ErrInvalid when f's error message or code is not text
// every backend can store (see TextProblem). JobFinish reports it for f
// alone (see JobFinishResult.Errors).
func (f *JobFinish) Validate() error {
	if err := checkText("error message", f.ErrorMessage); err != nil {
		return fmt.Errorf("job %d: %w", f.ID, err)
	}
	if err := checkText("error code", f.ErrorCode); err != nil {
		return fmt.Errorf("job %d: %w", f.ID, err)
	}
	return nil
}

// Validate reports ErrInvalid when p's state is not terminal.
func (p *JobDeleteFinishedParams) Validate() error {
	if !p.State.Terminal() {
		return fmt.Errorf("%w: delete state %q, want a terminal state", ErrInvalid, p.State)
	}
	if p.Limit < 0 {
		return fmt.Errorf("%w: negative delete limit %d", ErrInvalid, p.Limit)
	}
	return nil
}

// ListLimit returns the effective page size of p: 100 when zero, capped at 10,000.
func (p *JobListParams) ListLimit() int {
	switch {
	case p.Limit <= 0:
		return 100
	case p.Limit > 10000:
		return 10000
	}
	return p.Limit
}

// DeleteLimit returns the effective batch size of p: 1,000 when zero.
func (p *JobDeleteFinishedParams) DeleteLimit() int {
	if p.Limit <= 0 {
		return 1000
	}
	return p.Limit
}

// State is the state an outcome writes: the terminal one, or StatePending
// for a retry or release.
func (o Outcome) State() State {
	switch o {
	case OutcomeComplete:
		return StateCompleted
	case OutcomeFail:
		return StateFailed
	case OutcomeAbort:
		return StateAborted
	}
	return StatePending
}
