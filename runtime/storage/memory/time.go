package memory

import (
	"math"
	"time"
)

// unset is the micros value of the zero time.
const unset = math.MinInt64

// micros turns t into microseconds since the Unix epoch, the store's
// representation of time: it holds no pointer for the garbage collector to
// follow, compares as an integer, and keeps the precision the database
// backends keep. The zero time becomes unset, below every other value.
func micros(t time.Time) int64 {
	if t.IsZero() {
		return unset
	}
	return t.UnixMicro()
}

// fromMicros is the inverse of micros, in UTC.
func fromMicros(us int64) time.Time {
	if us == unset {
		return time.Time{}
	}
	return time.UnixMicro(us).UTC()
}
