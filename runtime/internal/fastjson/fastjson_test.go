package fastjson

import (
	"encoding/json"
	"reflect"
	"testing"
	"time"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// flatArgs has every field shape the fast decoder takes, and fields it
// must leave alone.
type flatArgs struct {
	S       string  `json:"s"`
	N       int     `json:"n"`
	I8      int8    // keyed by its name
	I64     int64   `json:"i64,omitempty"`
	U       uint16  `json:"u"`
	U64     uint64  `json:"u64"`
	F       float64 `json:"f"`
	F32     float32 `json:"f32"`
	B       bool    `json:"b"`
	Color   color   `json:"color"`
	Skipped string  `json:"-"`
	Dash    string  `json:"-,"`
	hidden  int
}

type color string

// decodeBoth decodes data with encoding/json and as the runtime does, with
// the decoder and encoding/json from the zero value where it declines, and
// fails the test when they differ in result or error.
func decodeBoth(t *testing.T, d *Decoder, data []byte) {
	t.Helper()
	var want, got flatArgs
	wantErr := json.Unmarshal(data, &want)
	var gotErr error
	if !d.Decode(data, reflect.ValueOf(&got).Elem()) {
		got = flatArgs{}
		gotErr = json.Unmarshal(data, &got)
	}
	if (wantErr == nil) != (gotErr == nil) || wantErr != nil && wantErr.Error() != gotErr.Error() {
		t.Fatalf("decode %q: error %v, encoding/json's %v", data, gotErr, wantErr)
	}
	if got != want {
		t.Fatalf("decode %q:\n got %+v\nwant %+v (encoding/json)", data, got, want)
	}
}

var fastSeeds = []string{
	`{}`,
	` { } `,
	`{"s":"hello","n":42,"I8":-8,"i64":-9007199254740993,"u":65535,"u64":18446744073709551615,"f":1.5e3,"f32":0.1,"b":true,"color":"red"}`,
	`{"n":1,"n":2}`,
	`{"i64":-9223372036854775808,"I8":-128,"n":9223372036854775807}`,
	`{"i64":9223372036854775808}`,
	`{"i64":-9223372036854775809}`,
	`{"u64":18446744073709551616}`,
	`{"u64":-0,"n":-0}`,
	`{"n":00}`,
	`{"n":null,"s":null,"b":null,"f":null}`,
	`{"unknown":"x","other":12.5e-3,"t":true,"z":null}`,
	"{\n\t\"n\" : 7 ,\r\n\"s\":\"a b\"\n}\n",
	`{"N":1}`,
	`{"i8":1}`,
	`{"S":"case"}`,
	`{"s":"esc\"aped"}`,
	`{"s":"\u00e9"}`,
	`{"s":"é"}`,
	`{"s":1}`,
	`{"n":"1"}`,
	`{"n":1.0}`,
	`{"n":1e2}`,
	`{"I8":128}`,
	`{"u":-1}`,
	`{"u":65536}`,
	`{"f32":1e39}`,
	`{"f":1e400}`,
	`{"n":01}`,
	`{"n":-}`,
	`{"n":1.}`,
	`{"n":.5}`,
	`{"n":+1}`,
	`{"f":-0}`,
	`{"b":"true"}`,
	`{"b":tru}`,
	`{"b":truex}`,
	`{"nested":{"a":1}}`,
	`{"list":[1,2]}`,
	`{"Skipped":"x","-":"dash","hidden":3}`,
	`{"n":1,}`,
	`{"n":1} x`,
	`{"n":1`,
	`{"n"}`,
	`{n:1}`,
	`[]`,
	`null`,
	``,
	`"s"`,
	`{"s":"a"}{"s":"b"}`,
	"{\"s\":\"tab\there\"}",
}

func TestFastObjectMatchesEncodingJSON(t *testing.T) {
	d := For(reflect.TypeFor[flatArgs]())
	if d == nil {
		t.Fatal("flatArgs has no fast decoder")
	}
	for _, s := range fastSeeds {
		decodeBoth(t, d, []byte(s))
	}
}

// FuzzFastObject checks that decoding job arguments with the fast path
// gives what encoding/json gives, values and errors alike.
func FuzzFastObject(f *testing.F) {
	for _, s := range fastSeeds {
		f.Add([]byte(s))
	}
	d := For(reflect.TypeFor[flatArgs]())
	f.Fuzz(func(t *testing.T, data []byte) {
		decodeBoth(t, d, data)
	})
}

// TestFastObjectTakesCommonInput checks that arguments as jobgen's
// clients encode them take the fast path rather than falling back.
func TestFastObjectTakesCommonInput(t *testing.T) {
	d := For(reflect.TypeFor[flatArgs]())
	for _, in := range []flatArgs{
		{},
		{S: "report-2030-01", N: -3, I8: 7, I64: 1 << 60, U: 9, U64: 1 << 63, F: 0.25, F32: 3.5, B: true, Color: "blue"},
	} {
		data, err := json.Marshal(in)
		if err != nil {
			t.Fatal(err)
		}
		var got flatArgs
		if !d.Decode(data, reflect.ValueOf(&got).Elem()) {
			t.Fatalf("fast path declined %s", data)
		}
		if got != in {
			t.Fatalf("decoded %s into %+v, want %+v", data, got, in)
		}
	}
}

type withMethod struct{ N int }

func (w *withMethod) UnmarshalJSON([]byte) error { return nil }

type textField struct{ T time.Time }

func TestFastObjectShapes(t *testing.T) {
	for _, tc := range []struct {
		name string
		typ  reflect.Type
		fast bool
	}{
		{"flat struct", reflect.TypeFor[flatArgs](), true},
		{"no fields", reflect.TypeFor[struct{}](), true},
		{"not a struct", reflect.TypeFor[map[string]int](), false},
		{"nested struct", reflect.TypeFor[struct{ In struct{ N int } }](), false},
		{"slice field", reflect.TypeFor[struct{ L []int }](), false},
		{"pointer field", reflect.TypeFor[struct{ P *int }](), false},
		{"embedded", reflect.TypeFor[struct{ flatArgs }](), false},
		{"string option", reflect.TypeFor[struct {
			N int `json:"n,string"`
		}](), false},
		{"own UnmarshalJSON", reflect.TypeFor[withMethod](), false},
		{"json.Number field", reflect.TypeFor[struct{ N json.Number }](), false},
		{"field with UnmarshalText", reflect.TypeFor[textField](), false},
		{"names that fold together", reflect.TypeFor[struct {
			A int `json:"name"`
			B int `json:"Name"`
		}](), false},
		{"key with punctuation", reflect.TypeFor[struct {
			A int `json:"a.b"`
		}](), false},
	} {
		if got := For(tc.typ) != nil; got != tc.fast {
			t.Errorf("%s: fast decoder %v, want %v", tc.name, got, tc.fast)
		}
	}
}

// BenchmarkDecode decodes typical job arguments with the decoder and with
// encoding/json.
func BenchmarkDecode(b *testing.B) {
	data := []byte(`{"s":"report-2030-01","n":12345,"f":0.25,"b":true}`)
	d := For(reflect.TypeFor[flatArgs]())
	b.Run("fast", func(b *testing.B) {
		for b.Loop() {
			var a flatArgs
			if !d.Decode(data, reflect.ValueOf(&a).Elem()) {
				b.Fatal("fast path declined")
			}
		}
	})
	b.Run("encoding-json", func(b *testing.B) {
		for b.Loop() {
			var a flatArgs
			if err := json.Unmarshal(data, &a); err != nil {
				b.Fatal(err)
			}
		}
	})
}
