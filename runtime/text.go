package runtime

import (
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/jobgen/jobgen/runtime/storage"
)

// maxErrorMessage caps the stored error message, marker included (panic
// stacks can be long).
const maxErrorMessage = 16 << 10

// truncatedMarker ends a stored error message that was cut at
// maxErrorMessage.
const truncatedMarker = "... (truncated)"

// storableMessage returns msg as every backend can store it, for every
// error message the runtime writes: each run of bytes that is not valid
// UTF-8 and each NUL byte becomes U+FFFD (the replacement character), and
// a message longer than maxErrorMessage bytes is cut at a character
// boundary and ends with truncatedMarker, within the limit.
func storableMessage(msg string) string {
	if len(msg) <= maxErrorMessage && storage.TextProblem(msg) == "" {
		return msg
	}
	msg = strings.ReplaceAll(strings.ToValidUTF8(msg, "\uFFFD"), "\x00", "\uFFFD")
	if len(msg) <= maxErrorMessage {
		return msg
	}
	cut := maxErrorMessage - len(truncatedMarker)
	for cut > 0 && !utf8.RuneStart(msg[cut]) {
		cut--
	}
	return msg[:cut] + truncatedMarker
}

// OptionError reports a submit value that cannot be stored: an option, or
// the unique key the kind derives from the input. It matches
// ErrInvalidOption.
type OptionError struct {
	// Field names the value, as SubmitOpts spells it ("UniqueKey").
	Field string
	// Reason says what is wrong with it ("holds a NUL byte (at byte 3)").
	Reason string
}

func (e *OptionError) Error() string {
	return "invalid option: " + e.Field + " " + e.Reason
}

// Is matches ErrInvalidOption.
func (e *OptionError) Is(target error) bool { return target == ErrInvalidOption }

// checkUniqueKey returns an *OptionError when key, given in SubmitOpts or
// derived by the kind, is too long or not text every backend can store
// (see storage.TextProblem).
func checkUniqueKey(key string) error {
	if len(key) > maxUniqueKey {
		return &OptionError{Field: "UniqueKey", Reason: fmt.Sprintf("is %d bytes, limit %d", len(key), maxUniqueKey)}
	}
	if why := storage.TextProblem(key); why != "" {
		return &OptionError{Field: "UniqueKey", Reason: why}
	}
	return nil
}

// MetadataError reports job metadata out of bounds (see
// SubmitOpts.Metadata): given in SubmitOpts or added by submit
// middleware. It matches ErrInvalidOption.
type MetadataError struct {
	// Key is the key the problem is about; empty when it is about the
	// whole map (too many keys, too long).
	Key string
	// Reason says what is wrong ("holds ' ' (at byte 3), want letters,
	// digits and -_.:/").
	Reason string
}

func (e *MetadataError) Error() string {
	if e.Key == "" {
		return "invalid option: Metadata " + e.Reason
	}
	return fmt.Sprintf("invalid option: Metadata key %q %s", e.Key, e.Reason)
}

// Is matches ErrInvalidOption.
func (e *MetadataError) Is(target error) bool { return target == ErrInvalidOption }

// checkMetadata returns a *MetadataError when md is out of bounds (see
// storage.MetadataProblem).
func checkMetadata(md map[string]string) error {
	if key, why := storage.MetadataProblem(md); why != "" {
		return &MetadataError{Key: key, Reason: why}
	}
	return nil
}
