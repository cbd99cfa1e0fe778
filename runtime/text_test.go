package runtime

import (
	"errors"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/jobgen/jobgen/runtime/storage"
)

func TestStorableMessage(t *testing.T) {
	t.Parallel()
	const keep = maxErrorMessage - len(truncatedMarker) // bytes of a cut message before the marker
	long := strings.Repeat("a", maxErrorMessage+100)
	for _, tc := range []struct {
		name string
		in   string
		want string
	}{
		{"empty", "", ""},
		{"plain", "boom", "boom"},
		{"at the limit", long[:maxErrorMessage], long[:maxErrorMessage]},
		{"NUL", "a\x00b\x00", "a\uFFFDb\uFFFD"},
		{"invalid UTF-8", "a\xffb\xc3", "a\uFFFDb\uFFFD"},
		{"a run of invalid bytes", "a\xff\xfe\xfdb", "a\uFFFDb"},
		{"over the limit", long, long[:keep] + truncatedMarker},
		{"a character straddling the cut", long[:keep-1] + "é" + long, long[:keep-1] + truncatedMarker},
		{"a character ending at the cut", long[:keep-2] + "é" + long, long[:keep-2] + "é" + truncatedMarker},
		{"invalid UTF-8 at the cut", long[:keep-1] + "\xc3" + long, long[:keep-1] + truncatedMarker},
		{"NUL in a long message", "\x00" + long, "\uFFFD" + long[:keep-3] + truncatedMarker},
	} {
		got := storableMessage(tc.in)
		if got != tc.want {
			t.Errorf("%s: got %q (%d bytes), want %q (%d bytes)", tc.name, abbrev(got), len(got), abbrev(tc.want), len(tc.want))
		}
		if why := storage.TextProblem(got); why != "" || len(got) > maxErrorMessage || !utf8.ValidString(got) {
			t.Errorf("%s: result of %d bytes not storable: %s", tc.name, len(got), why)
		}
	}
}

func abbrev(s string) string {
	if len(s) > 40 {
		return s[:20] + "..." + s[len(s)-20:]
	}
	return s
}

func TestCheckUniqueKey(t *testing.T) {
	t.Parallel()
	for _, key := range []string{"a\x00b", "a\xffb", strings.Repeat("k", maxUniqueKey+1)} {
		err := checkUniqueKey(key)
		var oe *OptionError
		if !errors.Is(err, ErrInvalidOption) || !errors.As(err, &oe) || oe.Field != "UniqueKey" {
			t.Errorf("checkUniqueKey(%q): %v, want an *OptionError for UniqueKey matching ErrInvalidOption", abbrev(key), err)
		}
	}
	for _, key := range []string{"", "a", "ü", strings.Repeat("k", maxUniqueKey)} {
		if err := checkUniqueKey(key); err != nil {
			t.Errorf("checkUniqueKey(%q): %v", abbrev(key), err)
		}
	}
}
