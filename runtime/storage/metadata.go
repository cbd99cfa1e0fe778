package storage

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strconv"
)

// The bounds of a job's metadata (see MetadataProblem).
const (
	// MaxMetadataKeys is the most entries a job's metadata may hold.
	MaxMetadataKeys = 64
	// MaxMetadataKeyLen is the length in bytes of the longest metadata key.
	MaxMetadataKeyLen = 64
	// MaxMetadataBytes is the length in bytes of the longest encoding of a
	// job's metadata (see EncodeMetadata).
	MaxMetadataBytes = 4 << 10
)

// MetadataProblem says why md cannot be stored as a job's metadata, and
// which key it is about (empty when the problem is the whole map), or
// returns two empty strings when it can. Metadata holds at most
// MaxMetadataKeys entries; each key is 1 to MaxMetadataKeyLen bytes of
// ASCII letters, digits and "-_.:/"; each value is text every backend can
// store (see TextProblem); and the encoding of the whole map is at most
// MaxMetadataBytes long. When several keys are wrong it names the
// smallest.
func MetadataProblem(md map[string]string) (key, why string) {
	if len(md) > MaxMetadataKeys {
		return "", fmt.Sprintf("has %d keys, limit %d", len(md), MaxMetadataKeys)
	}
	for k, v := range md {
		p := keyProblem(k)
		if p == "" {
			if vp := TextProblem(v); vp != "" {
				p = "value " + vp
			}
		}
		if p != "" && (why == "" || k < key) {
			key, why = k, p
		}
	}
	if why != "" {
		return key, why
	}
	if size := len(EncodeMetadata(md)); size > MaxMetadataBytes {
		return "", fmt.Sprintf("encodes to %d bytes, limit %d", size, MaxMetadataBytes)
	}
	return "", ""
}

// describeMetadataProblem is the message of a MetadataProblem.
func describeMetadataProblem(key, why string) string {
	if key == "" {
		return "metadata " + why
	}
	return "metadata key " + strconv.Quote(key) + " " + why
}

// keyProblem says why k is not a metadata key, or returns "".
func keyProblem(k string) string {
	if len(k) == 0 || len(k) > MaxMetadataKeyLen {
		return fmt.Sprintf("is %d bytes, want 1 to %d", len(k), MaxMetadataKeyLen)
	}
	for i := 0; i < len(k); i++ {
		switch c := k[i]; {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		case c == '-', c == '_', c == '.', c == ':', c == '/':
		default:
			return fmt.Sprintf("holds %q (at byte %d), want letters, digits and -_.:/", c, i)
		}
	}
	return ""
}

// EncodeMetadata returns md as SQL backends store it: a JSON object with
// the keys in ascending order, or nil when md is empty. md must pass
// MetadataProblem.
func EncodeMetadata(md map[string]string) []byte {
	if len(md) == 0 {
		return nil
	}
	b := make([]byte, 0, 64)
	b = append(b, '{')
	for i, k := range slices.Sorted(maps.Keys(md)) {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, '"')
		b = append(b, k...) // keys need no escaping
		b = append(b, '"', ':')
		b = appendJSONString(b, md[k])
	}
	return append(b, '}')
}

// DecodeMetadata returns the metadata encoded in b (a JSON object of
// strings, as EncodeMetadata writes it or a database returns it), or nil
// when b is empty, null or an empty object.
func DecodeMetadata(b []byte) (map[string]string, error) {
	if len(b) == 0 {
		return nil, nil
	}
	var md map[string]string
	if err := json.Unmarshal(b, &md); err != nil {
		return nil, fmt.Errorf("decode job metadata: %w", err)
	}
	if len(md) == 0 {
		return nil, nil
	}
	return md, nil
}

// appendJSONString appends s, valid UTF-8 without NUL, as a JSON string.
func appendJSONString(b []byte, s string) []byte {
	b = append(b, '"')
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '"' || c == '\\':
			b = append(b, '\\', c)
		case c == '\n':
			b = append(b, '\\', 'n')
		case c == '\r':
			b = append(b, '\\', 'r')
		case c == '\t':
			b = append(b, '\\', 't')
		case c < 0x20:
			b = append(b, `\u00`...)
			b = append(b, hexDigits[c>>4], hexDigits[c&0xf])
		default:
			b = append(b, c)
		}
	}
	return append(b, '"')
}

const hexDigits = "0123456789abcdef"
