package storage_test

import (
	"encoding/json"
	"errors"
	"maps"
	"strings"
	"testing"

	"github.com/jobgen/jobgen/runtime/storage"
)

// TestMetadataProblem: each bound is reported with the key it is about,
// the smallest one when several are wrong, and JobInsertParams.Validate
// refuses what it reports.
func TestMetadataProblem(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		md       map[string]string
		key, why string
	}{
		{nil, "", ""},
		{map[string]string{"traceparent": "00-ab-cd-01", "a.b:c/d_e-f": ""}, "", ""},
		{map[string]string{"": "v"}, "", "is 0 bytes, want 1 to 64"},
		{map[string]string{"z z": "v", "b b": "v", "ok": "v"}, "b b", "holds ' ' (at byte 1), want letters, digits and -_.:/"},
		{map[string]string{"k": "a\x00"}, "k", "value holds a NUL byte (at byte 1)"},
		{map[string]string{"k": "\xff"}, "k", "value is not valid UTF-8 (at byte 0)"},
		{map[string]string{strings.Repeat("k", 65): ""}, strings.Repeat("k", 65), "is 65 bytes, want 1 to 64"},
		{map[string]string{"k": strings.Repeat("x", 4096)}, "", "encodes to 4104 bytes, limit 4096"},
	} {
		key, why := storage.MetadataProblem(tc.md)
		if key != tc.key || why != tc.why {
			t.Errorf("MetadataProblem(%q) = %q, %q; want %q, %q", tc.md, key, why, tc.key, tc.why)
		}
		p := &storage.JobInsertParams{Kind: "k", Queue: "q", MaxAttempts: 1, Metadata: tc.md}
		err := p.Validate()
		switch {
		case tc.why == "" && err != nil:
			t.Errorf("Validate with metadata %q: %v", tc.md, err)
		case tc.why != "" && (!errors.Is(err, storage.ErrInvalid) || !strings.Contains(err.Error(), tc.why)):
			t.Errorf("Validate with metadata %q: %v, want storage.ErrInvalid saying %q", tc.md, err, tc.why)
		}
	}
	many := make(map[string]string)
	for i := range storage.MaxMetadataKeys + 1 {
		many[strings.Repeat("k", i+1)] = ""
	}
	if _, why := storage.MetadataProblem(many); why != "has 65 keys, limit 64" {
		t.Errorf("MetadataProblem of 65 keys: %q", why)
	}
}

// TestEncodeMetadata: the encoding is JSON that decodes to the same map,
// with sorted keys and no HTML escaping, and empty metadata encodes and
// decodes to nil.
func TestEncodeMetadata(t *testing.T) {
	t.Parallel()
	md := map[string]string{"b": "say \"hi\" \\ <&> \n\r\t\x01 é 日本", "a": ""}
	b := storage.EncodeMetadata(md)
	const want = `{"a":"","b":"say \"hi\" \\ <&> \n\r\t\u0001 é 日本"}`
	if string(b) != want {
		t.Errorf("EncodeMetadata = %s, want %s", b, want)
	}
	var viaJSON map[string]string
	if err := json.Unmarshal(b, &viaJSON); err != nil || !maps.Equal(viaJSON, md) {
		t.Errorf("encoding/json decodes %s to %q, %v; want %q", b, viaJSON, err, md)
	}
	got, err := storage.DecodeMetadata(b)
	if err != nil || !maps.Equal(got, md) {
		t.Errorf("DecodeMetadata(%s) = %q, %v; want %q", b, got, err, md)
	}
	if b := storage.EncodeMetadata(map[string]string{}); b != nil {
		t.Errorf("EncodeMetadata of an empty map = %q, want nil", b)
	}
	for _, in := range []string{"", "null", "{}", `{ }`} {
		if got, err := storage.DecodeMetadata([]byte(in)); got != nil || err != nil {
			t.Errorf("DecodeMetadata(%q) = %v, %v; want nil", in, got, err)
		}
	}
	if _, err := storage.DecodeMetadata([]byte(`{"k":1}`)); err == nil {
		t.Error("DecodeMetadata of a number value succeeded")
	}
}

// TestCloneCopiesMetadata: a clone's metadata is its own.
func TestCloneCopiesMetadata(t *testing.T) {
	t.Parallel()
	j := &storage.Job{Metadata: map[string]string{"k": "v"}}
	c := j.Clone()
	c.Metadata["k"] = "changed"
	if j.Metadata["k"] != "v" {
		t.Error("changing a clone's metadata changed the original's")
	}
}
