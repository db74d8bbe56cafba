package filter

import (
	"fmt"
	"strings"
)

// Error is a filter that cannot be compiled: what is wrong and where.
type Error struct {
	Filter string // the whole filter text
	Pos    int    // byte offset of the problem in Filter
	Msg    string
}

func (e *Error) Error() string {
	return fmt.Sprintf("filter error at position %d: %s", e.Pos, e.Msg)
}

// Caret returns the filter and a caret under the position of the problem, in
// two lines ready to print under the message.
func (e *Error) Caret() string {
	line := e.Filter
	pos := min(max(e.Pos, 0), len(line))
	// Keep long filters readable: show at most 60 bytes each side.
	start, end := max(0, pos-60), min(len(line), pos+60)
	prefix, suffix := "", ""
	if start > 0 {
		prefix = "..."
	}
	if end < len(line) {
		suffix = "..."
	}
	shown := strings.Map(func(r rune) rune {
		if r == '\t' || r == '\n' || r == '\r' {
			return ' '
		}
		return r
	}, line[start:end])
	return fmt.Sprintf("  %s%s%s\n  %s^", prefix, shown, suffix, strings.Repeat(" ", len(prefix)+pos-start))
}

func (ps *parser) errf(pos int, format string, args ...any) error {
	return &Error{Filter: ps.s, Pos: pos, Msg: fmt.Sprintf(format, args...)}
}
