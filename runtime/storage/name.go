package storage

// MaxNameLen is the length in bytes of the longest valid kind or queue name.
const MaxNameLen = 64

// NameRule says in words what ValidName accepts, for error messages.
const NameRule = "1-64 lower-case letters, digits, '_', '-' or '.', starting with a letter or digit"

// ValidName reports whether s is a valid kind or queue name: 1 to
// MaxNameLen bytes of lower-case ASCII letters, digits, '_', '-' and '.',
// starting with a letter or digit. The generator checks markers and the
// runtime checks kinds and queues by this rule; backends store any
// non-empty name as it is.
func ValidName(s string) bool {
	if s == "" || len(s) > MaxNameLen {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || i > 0 && (c == '_' || c == '-' || c == '.')) {
			return false
		}
	}
	return true
}
