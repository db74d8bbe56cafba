package builtin

import (
	"fmt"
	"io"
	"math"
	"math/bits"
	"os"
	"strconv"
	"strings"

	"github.com/syscope/syscope/chisel"
	"github.com/syscope/syscope/field"
	"github.com/syscope/syscope/state"
)

// register adds a built-in; mk makes a fresh instance around its description.
func register(d chisel.Desc, mk func(d *chisel.Desc) chisel.Program) {
	chisel.Register(chisel.Builtin{Desc: d, New: func() chisel.Program {
		dd := d
		dd.Args = append([]chisel.Arg(nil), d.Args...)
		return mk(&dd)
	}})
}

// base implements the hooks a chisel does not use.
type base struct {
	desc *chisel.Desc
	ctl  *chisel.Control // set by Attach, before SetArg
}

// Attach receives the chisel's Control when it is loaded.
func (b *base) Attach(c *chisel.Control) { b.ctl = c }

// out is where the chisel prints before Init (from SetArg).
func (b *base) out() io.Writer {
	if b.ctl != nil && b.ctl.Host != nil && b.ctl.Host.Out != nil {
		return b.ctl.Host.Out
	}
	return io.Discard
}

func (b *base) Desc() *chisel.Desc { return b.desc }

func (b *base) SetArg(name, value string) error {
	return b.fail("unknown argument %s", name)
}

func (b *base) Init(c *chisel.Control) error         { return nil }
func (b *base) CaptureStart(c *chisel.Control) error { return nil }
func (b *base) Event(c *chisel.Control, e *state.Event) (bool, error) {
	return true, nil
}
func (b *base) Interval(c *chisel.Control, ts uint64, delta int64) error   { return nil }
func (b *base) CaptureEnd(c *chisel.Control, ts uint64, delta int64) error { return nil }
func (b *base) Close()                                                     {}

func (b *base) fail(format string, args ...any) error {
	return &chisel.Error{Chisel: b.desc.Name, Msg: fmt.Sprintf(format, args...)}
}

// readers resolves field names for a chisel.
func (b *base) readers(names ...string) ([]*chisel.FieldReader, error) {
	out := make([]*chisel.FieldReader, len(names))
	for i, n := range names {
		r, err := chisel.NewFieldReader(n)
		if err != nil {
			return nil, b.fail("chisel requesting nonexistent field %s: %v", n, err)
		}
		out[i] = r
	}
	return out, nil
}

// reader resolves one field name.
func (b *base) reader(name string) (*chisel.FieldReader, error) {
	rs, err := b.readers(name)
	if err != nil {
		return nil, err
	}
	return rs[0], nil
}

// write writes p to the chisel's output.
func write(c *chisel.Control, p []byte) error {
	_, err := c.Host.Out.Write(p)
	return err
}

// isJSON is sysdig.get_output_format() == "json": -j, without a buffer
// format option that overrides it.
func isJSON(c *chisel.Control) bool {
	ctx := c.Host.Ctx
	return ctx != nil && ctx.R.BufFmt&field.BufJSON != 0
}

// ctx is the field context of the host.
func ctx(c *chisel.Control) *field.Ctx { return c.Host.Ctx }

// ANSI terminal sequences (sysdig's ansiterminal.lua helper).
const (
	escClearScreen = "\x1b[2J"
	escHome        = "\x1b[0;0H" // moveto(0, 0)
	escHideCursor  = "\x1b[?25l"
	escShowCursor  = "\x1b[?25h"
)

// colors are the colour escapes a chisel uses: all empty when disabled.
type colors struct {
	reset, red, green, blue, cyan, yellow, magenta string
}

// end writes what sysdig's Lua chisels print when the capture ends: the
// colour reset and a newline.
func (col colors) end(c *chisel.Control) error { return write(c, []byte(col.reset+"\n")) }

// newColors returns the colour escapes, or empty strings when enable is
// false or NO_COLOR is set.
func newColors(enable bool) colors {
	if !enable || os.Getenv("NO_COLOR") != "" {
		return colors{}
	}
	return colors{reset: "\x1b[0m", red: "\x1b[31m", green: "\x1b[32m", yellow: "\x1b[33m",
		blue: "\x1b[34m", magenta: "\x1b[35m", cyan: "\x1b[36m"}
}

// maxExtend is the most spaces extend_string adds (the length of the
// string of spaces it cuts them from).
const maxExtend = 167

// appendExtend appends s made exactly n bytes long: padded with spaces, or
// cut to n-1 bytes and a space (common.lua's extend_string).
func appendExtend(dst []byte, s []byte, n int) []byte {
	if len(s) < n {
		dst = append(dst, s...)
		for i := len(s); i < n && i-len(s) < maxExtend; i++ {
			dst = append(dst, ' ')
		}
		return dst
	}
	if n > 0 {
		dst = append(dst, s[:n-1]...)
		dst = append(dst, ' ')
	}
	return dst
}

func appendExtendString(dst []byte, s string, n int) []byte {
	if len(s) < n {
		dst = append(dst, s...)
		for i := len(s); i < n && i-len(s) < maxExtend; i++ {
			dst = append(dst, ' ')
		}
		return dst
	}
	if n > 0 {
		dst = append(dst, s[:n-1]...)
		dst = append(dst, ' ')
	}
	return dst
}

// f2i converts a Lua number to an integer as LuaJIT's string.format does on
// x86-64: truncated, NaN and out-of-range values giving MinInt64.
func f2i(f float64) int64 {
	if math.IsNaN(f) || f >= 9223372036854775808.0 || f < -9223372036854775808.0 {
		return math.MinInt64
	}
	return int64(f)
}

// appendD is string.format("%d", f).
func appendD(dst []byte, f float64) []byte { return strconv.AppendInt(dst, f2i(f), 10) }

// appendU is string.format("%u", f); with width 2, "%02u".
func appendU(dst []byte, f float64, width int) []byte {
	if f >= 9223372036854775808.0 {
		f -= 18446744073709551616.0
	}
	u := uint64(f2i(f))
	if width == 2 && u < 10 {
		dst = append(dst, '0')
	}
	return strconv.AppendUint(dst, u, 10)
}

// appendFixed is string.format("%.<prec>f", f) as LuaJIT writes it: exact
// ties round away from zero (Go and C round them to even).
func appendFixed(dst []byte, f float64, prec int) []byte {
	switch {
	case math.IsNaN(f):
		return append(dst, "nan"...)
	case math.IsInf(f, 1):
		return append(dst, "inf"...)
	case math.IsInf(f, -1):
		return append(dst, "-inf"...)
	}
	if math.Signbit(f) {
		dst = append(dst, '-')
		f = -f
	}
	if isTie(f, prec) {
		f = math.Nextafter(f, math.Inf(1))
	}
	return strconv.AppendFloat(dst, f, 'f', prec, 64)
}

// isTie reports whether a > 0 times 10^prec has a fractional part of exactly
// one half. With a = m·2^e (m an integer), a·10^prec·2 = m·5^prec·2^(e+prec+1)
// is an odd integer exactly when m has -(e+prec+1) trailing zero bits.
func isTie(a float64, prec int) bool {
	if a == 0 || prec < 0 {
		return false
	}
	fr, exp := math.Frexp(a)
	m := uint64(fr * (1 << 53))
	e := exp - 53
	return bits.TrailingZeros64(m) == -(e + prec + 1)
}

// appendBytes is common.lua's format_bytes: 1.23KB, 4.00M, 12B.
func appendBytes(dst []byte, v float64) []byte {
	const k = 1024.0
	switch {
	case v > k*k*k*k*k:
		return append(appendFixed(dst, v/(k*k*k*k*k), 2), 'P')
	case v > k*k*k*k:
		return append(appendFixed(dst, v/(k*k*k*k), 2), 'T')
	case v > k*k*k:
		return append(appendFixed(dst, v/(k*k*k), 2), 'G')
	case v > k*k:
		return append(appendFixed(dst, v/(k*k), 2), 'M')
	case v > k:
		return append(appendFixed(dst, v/k, 2), "KB"...)
	}
	return append(appendD(dst, v), 'B')
}

// luaMod is Lua's a % b for numbers.
func luaMod(a, b float64) float64 {
	// The conversion rounds the product: Go may not fuse it into the subtraction.
	return a - float64(math.Floor(a/b)*b)
}

// appendTimeInterval is common.lua's format_time_interval: 1.10s, 20ms,
// 1.05ms, 15us, 2.50us, 300ns.
func appendTimeInterval(dst []byte, v float64) []byte {
	const s, ms, us = 1e9, 1e6, 1e3
	switch {
	case v >= s:
		dst = appendU(dst, math.Floor(v/s), 0)
		dst = append(dst, '.')
		return append(appendU(dst, luaMod(v, s)/1e7, 2), 's')
	case v >= s/100:
		return append(appendU(dst, math.Floor(v/(s/1000)), 0), "ms"...)
	case v >= s/1000:
		dst = appendU(dst, math.Floor(v/(s/1000)), 0)
		dst = append(dst, '.')
		return append(appendU(dst, luaMod(v, ms)/1e4, 2), "ms"...)
	case v >= s/100000:
		return append(appendU(dst, math.Floor(v/(s/1000000)), 0), "us"...)
	case v >= s/1000000:
		dst = appendU(dst, math.Floor(v/(s/1000000)), 0)
		dst = append(dst, '.')
		return append(appendU(dst, luaMod(v, us)/10, 2), "us"...)
	}
	return append(appendU(dst, v, 0), "ns"...)
}

// appendLuaString appends a value as string.format's %s writes it: nil
// (no value) is "nil".
func appendLuaString(dst []byte, v chisel.Value) []byte {
	if v.Kind == chisel.ValueNone {
		return append(dst, "nil"...)
	}
	return v.Append(dst)
}

// truthy is a Lua value's truth: anything but nil and false.
func truthy(v chisel.Value) bool {
	return v.Kind != chisel.ValueNone && !(v.Kind == chisel.ValueBool && !v.Bool)
}

// splitCommas is common.lua's split(s, ","): empty fields kept.
func splitCommas(s string) []string {
	var out []string
	start := 0
	for i := 0; i < len(s); i++ {
		if s[i] == ',' {
			out = append(out, s[start:i])
			start = i + 1
		}
	}
	return append(out, s[start:])
}

// appendStr is string.format's "%-<width>.<prec>s" of s (left-justified;
// prec < 0 for no precision).
func appendStr(b []byte, s []byte, width, prec int) []byte {
	if prec >= 0 && len(s) > prec {
		s = s[:prec]
	}
	b = append(b, s...)
	for n := len(s); n < width; n++ {
		b = append(b, ' ')
	}
	return b
}

// appendStrS is appendStr of a string.
func appendStrS(b []byte, s string, width, prec int) []byte {
	if prec >= 0 && len(s) > prec {
		s = s[:prec]
	}
	b = append(b, s...)
	for n := len(s); n < width; n++ {
		b = append(b, ' ')
	}
	return b
}

// scratch formats Lua values for string.format without allocating.
type scratch struct{ tmp []byte }

// val is "%-<width>.<prec>s" of a Lua value (nil for none).
func (s *scratch) val(b []byte, v chisel.Value, width, prec int) []byte {
	s.tmp = appendLuaString(s.tmp[:0], v)
	return appendStr(b, s.tmp, width, prec)
}

// appendDW is "%<width>d" of a Lua number (right-justified).
func appendDW(b []byte, f float64, width int) []byte {
	var tmp [24]byte
	d := strconv.AppendInt(tmp[:0], f2i(f), 10)
	for n := len(d); n < width; n++ {
		b = append(b, ' ')
	}
	return append(b, d...)
}

// luaToNumber is Lua's tonumber of a string: a decimal or hexadecimal
// number, blanks around it allowed.
func luaToNumber(s string) (float64, bool) {
	s = strings.Trim(s, " \t\n\v\f\r")
	if s == "" {
		return 0, false
	}
	neg := false
	h := s
	if h[0] == '-' {
		neg, h = true, h[1:]
	}
	if len(h) > 2 && h[0] == '0' && (h[1] == 'x' || h[1] == 'X') {
		n, err := strconv.ParseUint(h[2:], 16, 64)
		if err != nil {
			return 0, false
		}
		if neg {
			return -float64(n), true
		}
		return float64(n), true
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !(c >= '0' && c <= '9' || c == '.' || c == 'e' || c == 'E' || c == '+' || c == '-') {
			return 0, false
		}
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		if ne, ok := err.(*strconv.NumError); ok && ne.Err == strconv.ErrRange {
			return f, true
		}
		return 0, false
	}
	return f, true
}

// numericArg is common.lua's parse_numeric_input: a number, or the message
// sysdig prints before it exits (with status 0).
func numericArg(c io.Writer, value, name string) (float64, error) {
	v, ok := luaToNumber(value)
	if !ok {
		fmt.Fprintf(c, "Input %s must be a number.\n", name)
		return 0, &chisel.ExitError{Code: 0}
	}
	return v, nil
}
