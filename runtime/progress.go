package runtime

import (
	"encoding/json"
	"fmt"
)

// MaxProgressDetails is the longest encoded details value a progress report
// carries (see Job.ReportProgressDetails): small enough to cross processes
// in one notification of every backend, with room for the message.
const MaxProgressDetails = 4 << 10

// encodeDetails returns the JSON encoding of a report's details, nil for
// nil details, or an error saying why the details cannot go out.
func encodeDetails(details any) (json.RawMessage, error) {
	if details == nil {
		return nil, nil
	}
	b, err := json.Marshal(details)
	switch {
	case err != nil:
		return nil, err
	case len(b) > MaxProgressDetails:
		return nil, fmt.Errorf("details encode to %d bytes, more than MaxProgressDetails (%d)", len(b), MaxProgressDetails)
	case string(b) == "null":
		return nil, nil
	}
	return b, nil
}

// detailsDropped logs the details a report of the job left out.
func (rj *runningJob) detailsDropped(err error) {
	rj.s.logger.Debug("jobgen: progress details dropped", jobArgs(rj.rec, logErr, err)...)
}
