package templates

import (
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/dave/jennifer/jen"
)

// commentWidth is the longest a generated top-level comment's text gets
// before it wraps; with "// " in front, a line stays within 80 columns. A
// comment inside an interface or struct is indented and wraps earlier, at
// commentWidth-indentWidth.
const (
	commentWidth = 76
	indentWidth  = 4
)

// nbsp joins words that wrap keeps on one line, such as a call's
// arguments; it becomes a space after wrapping.
const nbsp = "\u00a0"

// wrap splits text into lines of at most width characters, breaking at
// spaces; a word longer than that gets a line of its own. A last word alone
// on its line takes the word before it along.
func wrap(text string, width int) []string {
	var lines []string
	line := ""
	for w := range strings.SplitSeq(text, " ") {
		switch {
		case w == "":
		case line == "":
			line = w
		case utf8.RuneCountInString(line)+1+utf8.RuneCountInString(w) <= width:
			line += " " + w
		default:
			lines = append(lines, line)
			line = w
		}
	}
	if n := len(lines); n > 0 && !strings.Contains(line, " ") {
		if i := strings.LastIndexByte(lines[n-1], ' '); i >= 0 {
			line = lines[n-1][i+1:] + " " + line
			lines[n-1] = lines[n-1][:i]
		}
	}
	lines = append(lines, line)
	for i, l := range lines {
		lines[i] = strings.ReplaceAll(l, nbsp, " ")
	}
	return lines
}

// docf adds to f the comment that format and args make, wrapped after the
// names are in.
func docf(f *jen.File, format string, args ...any) {
	for _, l := range wrap(fmt.Sprintf(format, args...), commentWidth) {
		f.Comment(l)
	}
}

// docStmt is docf's comment as one statement, for the inside of an
// interface or struct.
func docStmt(format string, args ...any) *jen.Statement {
	lines := wrap(fmt.Sprintf(format, args...), commentWidth-indentWidth)
	s := jen.Comment(lines[0])
	for _, l := range lines[1:] {
		s.Line().Comment(l)
	}
	return s
}

// article is the indefinite article for name, chosen by its first letter.
func article(name string) string {
	if name != "" && strings.ContainsRune("AEIOUaeiou", rune(name[0])) {
		return "an"
	}
	return "a"
}
