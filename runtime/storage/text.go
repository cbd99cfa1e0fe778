package storage

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// MaxUniqueKeyLen is the length in bytes of the longest unique key. Keys
// are indexed, and a longer one would pass the limit of an index entry.
const MaxUniqueKeyLen = 1024

// TextProblem says why s cannot be stored as text by every backend ("is
// not valid UTF-8 (at byte 3)", "holds a NUL byte (at byte 0)"), or
// returns "" when it can. Text must be valid UTF-8 and hold no NUL byte:
// PostgreSQL's text type refuses both. Kinds, queues, unique keys, error
// messages and error codes are text; inputs and outputs are bytes and may
// hold anything.
func TextProblem(s string) string {
	if !utf8.ValidString(s) {
		for i := 0; ; {
			r, n := utf8.DecodeRuneInString(s[i:])
			if r == utf8.RuneError && n == 1 {
				return fmt.Sprintf("is not valid UTF-8 (at byte %d)", i)
			}
			i += n
		}
	}
	if i := strings.IndexByte(s, 0); i >= 0 {
		return fmt.Sprintf("holds a NUL byte (at byte %d)", i)
	}
	return ""
}

// checkText returns ErrInvalid, naming field, when s cannot be stored as
// text (see TextProblem).
func checkText(field, s string) error {
	if why := TextProblem(s); why != "" {
		return fmt.Errorf("%w: %s %s", ErrInvalid, field, why)
	}
	return nil
}
