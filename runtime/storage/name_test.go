package storage_test

import (
	"strconv"
	"strings"
	"testing"

	"github.com/jobgen/jobgen/runtime/storage"
)

func TestValidName(t *testing.T) {
	t.Parallel()
	longest := strings.Repeat("a", storage.MaxNameLen)
	for _, s := range []string{"a", "7", "send_message", "media.thumbs-v2", "a_", "0.-_", longest} {
		if !storage.ValidName(s) {
			t.Errorf("ValidName(%q) = false, want true", s)
		}
	}
	for _, s := range []string{"", longest + "a", "Resize", "_x", "-x", ".x", "a b", "a/b", "\"fetch\"", "é", "a\x00"} {
		if storage.ValidName(s) {
			t.Errorf("ValidName(%q) = true, want false", s)
		}
	}
	if !strings.HasPrefix(storage.NameRule, "1-"+strconv.Itoa(storage.MaxNameLen)+" ") {
		t.Errorf("NameRule %q does not start with the length bounds 1-%d", storage.NameRule, storage.MaxNameLen)
	}
}
