package runtime

import (
	"encoding/json"
	"testing"
)

// flatArgs takes the fast decoding path.
type flatArgs struct {
	S string `json:"s"`
	N int    `json:"n"`
}

type withMethod struct{ N int }

func (w *withMethod) UnmarshalJSON([]byte) error { return nil }

// TestDecodeInputMatchesEncodingJSON checks decodeInput on each of its
// paths: the empty object, the fast decoder, and encoding/json from the
// zero value after the fast decoder declined part-way.
func TestDecodeInputMatchesEncodingJSON(t *testing.T) {
	c := newCodec[flatArgs, NoOutput]()
	if c.inFast == nil {
		t.Fatal("flatArgs has no fast decoder")
	}
	for _, s := range []string{`{}`, `{"s":"a","n":1}`, `{"s":"a","n":"1"}`, `{"s":"a"`, `{"s":"\u00e9"}`} {
		var want, got flatArgs
		wantErr := json.Unmarshal([]byte(s), &want)
		gotErr := decodeInput(c, []byte(s), &got)
		if (wantErr == nil) != (gotErr == nil) || wantErr != nil && wantErr.Error() != gotErr.Error() {
			t.Fatalf("decode %q: error %v, encoding/json's %v", s, gotErr, wantErr)
		}
		if got != want {
			t.Fatalf("decode %q: got %+v, want %+v (encoding/json)", s, got, want)
		}
	}
}

func TestCodecLeavesCustomDecodingAlone(t *testing.T) {
	// "{}" is not the zero value of a type that decodes itself.
	if c := newCodec[withMethod, NoOutput](); c.inStruct || c.inFast != nil {
		t.Errorf("codec of a type with UnmarshalJSON: inStruct %v, fast %v; want neither", c.inStruct, c.inFast != nil)
	}
}
