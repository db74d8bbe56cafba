// Package format turns events into output lines: sysdig's -p format strings
// (%field, %field[arg], %Nfield widths, a leading * to print <NA> for missing
// fields) and its JSON output (-j).
package format

import (
	"errors"
	"fmt"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/syscope/syscope/field"
	"github.com/syscope/syscope/state"
)

// Default formats, as sysdig writes them when stdout is not a terminal.
const (
	Default    = "*%evt.num %evt.outputtime %evt.cpu %proc.name (%thread.tid) %evt.dir %evt.type %evt.info"
	Container  = "*%evt.num %evt.outputtime %evt.cpu %container.name (%container.id) %proc.name (%thread.tid:%thread.vtid) %evt.dir %evt.type %evt.info"
	Kubernetes = "*%evt.num %evt.outputtime %evt.cpu %k8s.pod.name (%container.id) %proc.name (%thread.tid:%thread.vtid) %evt.dir %evt.type %evt.info"
)

type token struct {
	text  string
	field *field.Field
	width int
}

// Formatter renders events with a format string.
type Formatter struct {
	tokens     []token
	requireAll bool
	json       bool
	jsonKeys   []int // token indexes of fields, sorted by field name
	buf        []byte
}

// New parses a format string. With asJSON, Format emits one JSON object per event
// whose keys are the field names.
func New(f string, asJSON bool) (*Formatter, error) {
	fm := &Formatter{requireAll: true, json: asJSON}
	f = Unescape(f)
	if strings.HasPrefix(f, "*") {
		fm.requireAll = false
		f = f[1:]
	}
	var lit strings.Builder
	for i := 0; i < len(f); {
		c := f[i]
		if c != '%' {
			lit.WriteByte(c)
			i++
			continue
		}
		j := i + 1
		width := 0
		for j < len(f) && f[j] >= '0' && f[j] <= '9' {
			width = width*10 + int(f[j]-'0')
			j++
		}
		k := j
		for k < len(f) && isFieldChar(f[k]) {
			k++
		}
		name := strings.TrimRight(f[j:k], ".")
		k = j + len(name)
		if name == "" {
			return nil, fmt.Errorf("invalid format %q: '%%' at position %d is not followed by a field name", f, i)
		}
		arg := ""
		if k < len(f) && f[k] == '[' {
			end := strings.IndexByte(f[k:], ']')
			if end < 0 {
				return nil, fmt.Errorf("invalid format %q: unterminated '[' at position %d", f, k)
			}
			arg = f[k+1 : k+end]
			k += end + 1
		}
		fl, err := field.LookupDisplay(name, arg)
		if errors.Is(err, field.ErrFilterOnly) {
			// sysdig's words, quoting the format from the field on.
			return nil, fmt.Errorf("%s %w", f[j:], err)
		}
		if err != nil {
			return nil, fmt.Errorf("invalid format: %v", err)
		}
		if lit.Len() > 0 {
			fm.tokens = append(fm.tokens, token{text: lit.String()})
			lit.Reset()
		}
		fm.tokens = append(fm.tokens, token{field: fl, width: width})
		i = k
	}
	if lit.Len() > 0 {
		fm.tokens = append(fm.tokens, token{text: lit.String()})
	}
	for i, t := range fm.tokens {
		if t.field != nil {
			fm.jsonKeys = append(fm.jsonKeys, i)
		}
	}
	sort.SliceStable(fm.jsonKeys, func(a, b int) bool {
		return fm.tokens[fm.jsonKeys[a]].field.Name < fm.tokens[fm.jsonKeys[b]].field.Name
	})
	return fm, nil
}

func isFieldChar(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '.'
}

// Unescape expands the \n, \t, \e (and \\) sequences that sysdig accepts in format strings.
func Unescape(f string) string {
	if !strings.Contains(f, `\`) {
		return f
	}
	var b strings.Builder
	for i := 0; i < len(f); i++ {
		if f[i] == '\\' && i+1 < len(f) {
			switch f[i+1] {
			case 'n':
				b.WriteByte('\n')
				i++
				continue
			case 't':
				b.WriteByte('\t')
				i++
				continue
			case 'e':
				b.WriteByte(0x1b)
				i++
				continue
			case '\\':
				b.WriteByte('\\')
				i++
				continue
			}
		}
		b.WriteByte(f[i])
	}
	return b.String()
}

// Format appends the rendering of e to dst. ok is false when the event must not be
// printed (a field is missing and the format has no leading *).
func (fm *Formatter) Format(c *field.Ctx, e *state.Event, dst []byte) (out []byte, ok bool) {
	if fm.json {
		return fm.formatJSON(c, e, dst)
	}
	start := len(dst)
	for _, t := range fm.tokens {
		if t.field == nil {
			dst = append(dst, t.text...)
			continue
		}
		fs := len(dst)
		var got bool
		dst, got = t.field.Ex(c, e, dst)
		if !got {
			if fm.requireAll {
				return dst[:start], false
			}
			dst = append(dst[:fs], "<NA>"...)
		}
		if t.width > 0 {
			n := len(dst) - fs
			if n > t.width {
				dst = dst[:fs+t.width]
			}
			for ; n < t.width; n++ {
				dst = append(dst, ' ')
			}
		}
	}
	return dst, true
}

func (fm *Formatter) formatJSON(c *field.Ctx, e *state.Event, dst []byte) ([]byte, bool) {
	start := len(dst)
	dst = append(dst, '{')
	for n, i := range fm.jsonKeys {
		t := fm.tokens[i]
		if n > 0 {
			dst = append(dst, ',')
		}
		dst = appendJSONString(dst, t.field.Name)
		dst = append(dst, ':')
		fm.buf = fm.buf[:0]
		var got bool
		fm.buf, got = t.field.JSON(c, e, fm.buf)
		if !got {
			if fm.requireAll {
				return dst[:start], false
			}
			dst = append(dst, "null"...)
			continue
		}
		switch t.field.Def.Kind {
		case field.KindInt, field.KindUint:
			if isInteger(fm.buf) {
				dst = append(dst, fm.buf...)
				continue
			}
			dst = appendJSONBytes(dst, fm.buf)
		case field.KindBool:
			dst = append(dst, fm.buf...)
		default:
			dst = appendJSONBytes(dst, fm.buf)
		}
	}
	return append(dst, '}'), true
}

// isInteger reports whether b is a decimal integer, so it can go into JSON unquoted.
func isInteger(b []byte) bool {
	if len(b) > 0 && b[0] == '-' {
		b = b[1:]
	}
	if len(b) == 0 {
		return false
	}
	for _, c := range b {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

func appendJSONString(dst []byte, s string) []byte { return appendJSONBytes(dst, []byte(s)) }

const hexd = "0123456789abcdef"

// appendJSONBytes quotes b as a JSON string, as jsoncpp does: control characters escaped,
// invalid UTF-8 bytes passed through as \u00XX.
func appendJSONBytes(dst []byte, b []byte) []byte {
	dst = append(dst, '"')
	for i := 0; i < len(b); {
		c := b[i]
		switch {
		case c == '"':
			dst = append(dst, '\\', '"')
		case c == '\\':
			dst = append(dst, '\\', '\\')
		case c == '\b':
			dst = append(dst, '\\', 'b')
		case c == '\f':
			dst = append(dst, '\\', 'f')
		case c == '\n':
			dst = append(dst, '\\', 'n')
		case c == '\r':
			dst = append(dst, '\\', 'r')
		case c == '\t':
			dst = append(dst, '\\', 't')
		case c < 0x20:
			dst = append(dst, '\\', 'u', '0', '0', hexd[c>>4], hexd[c&15])
		case c < 0x80:
			dst = append(dst, c)
		default:
			r, n := utf8.DecodeRune(b[i:])
			if r == utf8.RuneError && n <= 1 {
				dst = append(dst, '\\', 'u', '0', '0', hexd[c>>4], hexd[c&15])
				i++
				continue
			}
			dst = append(dst, b[i:i+n]...)
			i += n
			continue
		}
		i++
	}
	return append(dst, '"')
}
