// Package fastjson decodes JSON objects of the most common shape of job
// arguments, a struct of strings, booleans and numbers, exactly as
// encoding/json would and at a fraction of its cost, and tells which types
// encoding/json handles with their own methods.
package fastjson

import (
	"encoding"
	"encoding/json"
	"reflect"
	"strconv"
	"strings"
)

// Decoder decodes job arguments of the most common shape, a JSON object
// into a struct whose fields are strings, booleans and numbers, at a
// fraction of encoding/json's cost, which otherwise dominates a job that
// does little. It accepts only input it decodes exactly as encoding/json
// would: plain ASCII strings without escapes, keys that match a field
// exactly or no field at all, in-range numbers of the field's kind, scalar
// values for unknown keys. For anything else (escapes, non-ASCII text, a
// key matching a field only case-insensitively, nested values, a type
// mismatch, malformed input) Decode reports false and the caller decodes
// with encoding/json from the zero value, which also produces its errors.
// FuzzFastObject checks that the two agree.
type Decoder struct {
	fields []fastField
}

// fastField is one decodable field of the struct.
type fastField struct {
	key   string // the JSON key: the tag's name or the field's
	index int
	kind  reflect.Kind
}

var (
	jsonUnmarshalerType = reflect.TypeFor[json.Unmarshaler]()
	textUnmarshalerType = reflect.TypeFor[encoding.TextUnmarshaler]()
	jsonMarshalerType   = reflect.TypeFor[json.Marshaler]()
	jsonNumberType      = reflect.TypeFor[json.Number]()
	textMarshalerType   = reflect.TypeFor[encoding.TextMarshaler]()
)

// CustomDecoding reports whether encoding/json would decode t (or a t it
// reaches through a pointer) with t's own method.
func CustomDecoding(t reflect.Type) bool {
	return implementsAny(t, jsonUnmarshalerType, textUnmarshalerType)
}

// CustomEncoding reports whether encoding/json would encode t with t's own
// method.
func CustomEncoding(t reflect.Type) bool {
	return implementsAny(t, jsonMarshalerType, textMarshalerType)
}

// implementsAny reports whether t or *t implements one of ifaces.
func implementsAny(t reflect.Type, ifaces ...reflect.Type) bool {
	p := reflect.PointerTo(t)
	for _, i := range ifaces {
		if t.Implements(i) || p.Implements(i) {
			return true
		}
	}
	return false
}

// For returns the decoder of struct type t, or nil when t
// has a shape it leaves to encoding/json: embedded fields, fields of other
// kinds or of a type encoding/json treats specially (json.Number, custom
// decoding methods), tag options that change decoding, names that are not
// plain ASCII or that fold to one another.
func For(t reflect.Type) *Decoder {
	if t.Kind() != reflect.Struct || CustomDecoding(t) {
		return nil
	}
	d := &Decoder{}
	for i := range t.NumField() {
		f := t.Field(i)
		if f.Anonymous {
			return nil
		}
		if !f.IsExported() {
			continue // encoding/json ignores unexported fields
		}
		tag, hasTag := f.Tag.Lookup("json")
		if hasTag && tag == "-" {
			continue
		}
		name, opts, _ := strings.Cut(tag, ",")
		for opt := range strings.SplitSeq(opts, ",") {
			if opt != "" && opt != "omitempty" && opt != "omitzero" {
				return nil // ",string" and unknown options
			}
		}
		if name == "" {
			name = f.Name
		}
		if !plainName(name) || !fastKind(f.Type.Kind()) || CustomDecoding(f.Type) || f.Type == jsonNumberType {
			return nil // json.Number takes numbers and checks strings
		}
		d.fields = append(d.fields, fastField{key: name, index: i, kind: f.Type.Kind()})
	}
	for i, a := range d.fields {
		for _, b := range d.fields[i+1:] {
			if strings.EqualFold(a.key, b.key) {
				return nil
			}
		}
	}
	return d
}

// plainName reports whether s is a non-empty run of ASCII letters, digits,
// '_' and '-': a key encoding/json takes as it is.
func plainName(s string) bool {
	if s == "" {
		return false
	}
	for i := range len(s) {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

// fastKind reports whether fields of kind k are decoded by the fast path.
func fastKind(k reflect.Kind) bool {
	switch k {
	case reflect.String, reflect.Bool,
		reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64,
		reflect.Float32, reflect.Float64:
		return true
	}
	return false
}

// Decode decodes data into v, an addressable value of the struct type d
// was made for, and reports whether it did so exactly as encoding/json
// would. On false, v may be partly written.
func (d *Decoder) Decode(data []byte, v reflect.Value) bool {
	i := skipSpace(data, 0)
	if i >= len(data) || data[i] != '{' {
		return false
	}
	i = skipSpace(data, i+1)
	if i < len(data) && data[i] == '}' {
		return skipSpace(data, i+1) == len(data)
	}
	for {
		key, end, ok := plainString(data, i)
		if !ok {
			return false
		}
		i = skipSpace(data, end)
		if i >= len(data) || data[i] != ':' {
			return false
		}
		i = skipSpace(data, i+1)
		f, known := d.field(key)
		if !known {
			return false
		}
		if i, ok = decodeValue(data, i, f, v); !ok {
			return false
		}
		i = skipSpace(data, i)
		if i >= len(data) {
			return false
		}
		switch data[i] {
		case ',':
			i = skipSpace(data, i+1)
		case '}':
			return skipSpace(data, i+1) == len(data)
		default:
			return false
		}
	}
}

// field returns the field key names, nil for a key no field has; known is
// false for a key that matches a field only case-insensitively, which
// encoding/json resolves.
func (d *Decoder) field(key []byte) (f *fastField, known bool) {
	for k := range d.fields {
		if d.fields[k].key == string(key) {
			return &d.fields[k], true
		}
	}
	for k := range d.fields {
		if strings.EqualFold(d.fields[k].key, string(key)) {
			return nil, false
		}
	}
	return nil, true
}

// decodeValue decodes the scalar at data[i:] into field f of v (f nil: an
// unknown key, whose value is only checked) and returns the index after
// it.
func decodeValue(data []byte, i int, f *fastField, v reflect.Value) (int, bool) {
	if i >= len(data) {
		return i, false
	}
	switch c := data[i]; {
	case c == 'n':
		// null leaves a field of these kinds unchanged.
		return literal(data, i, "null")
	case c == 't' || c == 'f':
		lit := "false"
		if c == 't' {
			lit = "true"
		}
		end, ok := literal(data, i, lit)
		if !ok || f == nil {
			return end, ok
		}
		if f.kind != reflect.Bool {
			return end, false
		}
		v.Field(f.index).SetBool(c == 't')
		return end, true
	case c == '"':
		s, end, ok := plainString(data, i)
		if !ok || f == nil {
			return end, ok
		}
		if f.kind != reflect.String {
			return end, false
		}
		v.Field(f.index).SetString(string(s))
		return end, true
	case c == '-' || '0' <= c && c <= '9':
		end, integer, ok := number(data, i)
		if !ok || f == nil {
			return end, ok
		}
		return end, setNumber(v.Field(f.index), f.kind, data[i:end], integer)
	}
	return i, false
}

// setNumber sets fv, of kind k, to the JSON number s, and reports false
// where encoding/json would fail.
func setNumber(fv reflect.Value, k reflect.Kind, s []byte, integer bool) bool {
	switch k {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		if !integer {
			return false
		}
		neg := s[0] == '-'
		if neg {
			s = s[1:]
		}
		u, ok := parseDigits(s)
		if !ok || u > 1<<63 || u == 1<<63 && !neg {
			return false
		}
		n := int64(u)
		if neg {
			n = -n // for u == 1<<63 this is math.MinInt64, as wanted
		}
		if fv.OverflowInt(n) {
			return false
		}
		fv.SetInt(n)
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		if !integer || s[0] == '-' { // encoding/json takes no sign, not even "-0"
			return false
		}
		n, ok := parseDigits(s)
		if !ok || fv.OverflowUint(n) {
			return false
		}
		fv.SetUint(n)
	case reflect.Float32, reflect.Float64:
		n, err := strconv.ParseFloat(string(s), fv.Type().Bits())
		if err != nil || fv.OverflowFloat(n) {
			return false
		}
		fv.SetFloat(n)
	default:
		return false
	}
	return true
}

// parseDigits parses a run of decimal digits, reporting false when it does
// not fit in a uint64.
func parseDigits(s []byte) (uint64, bool) {
	var n uint64
	for _, c := range s {
		d := uint64(c - '0')
		if n > (1<<64-1-d)/10 {
			return 0, false
		}
		n = n*10 + d
	}
	return n, true
}

// skipSpace returns the index of the first byte at or after i that is not
// JSON whitespace.
func skipSpace(data []byte, i int) int {
	for i < len(data) && (data[i] == ' ' || data[i] == '\t' || data[i] == '\n' || data[i] == '\r') {
		i++
	}
	return i
}

// plainString reads the JSON string at data[i:] when it holds only
// printable ASCII without escapes, and returns its content and the index
// after it.
func plainString(data []byte, i int) (s []byte, end int, ok bool) {
	if i >= len(data) || data[i] != '"' {
		return nil, i, false
	}
	for j := i + 1; j < len(data); j++ {
		switch c := data[j]; {
		case c == '"':
			return data[i+1 : j], j + 1, true
		case c == '\\' || c < 0x20 || c >= 0x7f:
			return nil, j, false
		}
	}
	return nil, len(data), false
}

// literal reads lit at data[i:] and returns the index after it.
func literal(data []byte, i int, lit string) (int, bool) {
	end := i + len(lit)
	return end, end <= len(data) && string(data[i:end]) == lit
}

// number reads the JSON number at data[i:] and returns the index after it
// and whether it has neither fraction nor exponent.
func number(data []byte, i int) (end int, integer, ok bool) {
	digits := func(j int) int {
		for j < len(data) && '0' <= data[j] && data[j] <= '9' {
			j++
		}
		return j
	}
	j := i
	if j < len(data) && data[j] == '-' {
		j++
	}
	switch {
	case j < len(data) && data[j] == '0':
		j++
	case j < len(data) && '1' <= data[j] && data[j] <= '9':
		j = digits(j)
	default:
		return j, false, false
	}
	integer = true
	if j < len(data) && data[j] == '.' {
		integer = false
		k := digits(j + 1)
		if k == j+1 {
			return k, false, false
		}
		j = k
	}
	if j < len(data) && (data[j] == 'e' || data[j] == 'E') {
		integer = false
		j++
		if j < len(data) && (data[j] == '+' || data[j] == '-') {
			j++
		}
		k := digits(j)
		if k == j {
			return k, false, false
		}
		j = k
	}
	return j, integer, true
}
