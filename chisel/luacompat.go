package chisel

import (
	"math"
	"math/big"
	"os"
	"os/exec"
	"strconv"
	"strings"

	lua "github.com/yuin/gopher-lua"
)

// sysdig runs chisels on LuaJIT 2.1. gopher-lua is Lua 5.1 too, but prints
// numbers and formats strings its own way; these replacements make print,
// tostring, string.format, io.write and os.exit behave as LuaJIT's, and make
// output go to the host instead of the process's stdout.

// fmtNumber writes a number as Lua does ("%.14g").
func fmtNumber(f float64) string {
	switch {
	case math.IsNaN(f):
		return "nan" // LuaJIT drops the sign of NaNs
	case math.IsInf(f, 1):
		return "inf"
	case math.IsInf(f, -1):
		return "-inf"
	}
	if f == math.Trunc(f) && math.Abs(f) < 1e14 {
		if f == 0 && math.Signbit(f) {
			return "-0"
		}
		return strconv.FormatInt(int64(f), 10)
	}
	if f < 0 {
		return "-" + fmtG(-f, 14, false)
	}
	return fmtG(f, 14, false)
}

// formatFloat is strconv.FormatFloat for fmt 'e' or 'f' of a >= 0, except
// that exact ties round away from zero, as LuaJIT's formatting does (C's
// printf and Go round them to even): 2.5 with "%.0f" is 3.
func formatFloat(a float64, fmt byte, prec int) string {
	sh := strconv.FormatFloat(a, 'e', -1, 64) // shortest: d.ddde±x
	i := strings.IndexByte(sh, 'e')
	digits := strings.Replace(sh[:i], ".", "", 1)
	exp, _ := strconv.Atoi(sh[i+1:])
	kept := prec + 1
	if fmt == 'f' {
		kept = exp + 1 + prec
	}
	if kept >= 0 && len(digits) == kept+1 && digits[kept] == '5' {
		// A tie if the shortest form is the exact value.
		if r, ok := new(big.Rat).SetString(sh); ok && r.Cmp(new(big.Rat).SetFloat64(a)) == 0 {
			a = math.Nextafter(a, math.Inf(1))
		}
	}
	return strconv.FormatFloat(a, fmt, prec, 64)
}

// tostr is tostring without metamethods.
func tostr(v lua.LValue) string {
	switch x := v.(type) {
	case lua.LString:
		return string(x)
	case lua.LNumber:
		return fmtNumber(float64(x))
	case lua.LBool:
		if x {
			return "true"
		}
		return "false"
	case *lua.LNilType:
		return "nil"
	}
	return v.String()
}

// tostringMeta is tostring: a __tostring metamethod, if any, decides.
func tostringMeta(L *lua.LState, v lua.LValue) string {
	switch v.(type) {
	case *lua.LTable, *lua.LUserData:
		if mm := L.GetMetaField(v, "__tostring"); mm != lua.LNil {
			L.Push(mm)
			L.Push(v)
			L.Call(1, 1)
			r := L.Get(-1)
			L.Pop(1)
			s, ok := luaString(r)
			if !ok {
				L.RaiseError("'__tostring' must return a string")
			}
			return s
		}
	}
	return tostr(v)
}

// toNumber converts a value as Lua's arithmetic does: numbers, and strings
// holding a number.
func toNumber(v lua.LValue) (float64, bool) {
	switch x := v.(type) {
	case lua.LNumber:
		return float64(x), true
	case lua.LString:
		s := strings.TrimSpace(string(x))
		if strings.HasPrefix(s, "0x") || strings.HasPrefix(s, "0X") {
			n, err := strconv.ParseUint(s[2:], 16, 64)
			return float64(n), err == nil
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
	return 0, false
}

// toInteger is lua_tointeger: the number truncated, 0 for non-numbers.
func toInteger(v lua.LValue) int64 {
	f, _ := toNumber(v)
	return int64(f)
}

// toUint64 is a C cast of lua_tonumber to uint64_t.
func toUint64(v lua.LValue) uint64 {
	f, _ := toNumber(v)
	if f < 0 {
		return uint64(int64(f))
	}
	return uint64(f)
}

// openCompat installs the LuaJIT-compatible print, tostring, string.format,
// io.write, io.flush, io.stdout and os.exit.
func (p *luaProgram) openCompat() {
	L := p.L
	L.SetGlobal("print", L.NewFunction(func(L *lua.LState) int {
		out := p.ctl.Host.Out
		var b []byte
		n := L.GetTop()
		for i := 1; i <= n; i++ {
			if i > 1 {
				b = append(b, '\t')
			}
			b = append(b, tostringMeta(L, L.Get(i))...)
		}
		b = append(b, '\n')
		out.Write(b)
		return 0
	}))
	L.SetGlobal("tostring", L.NewFunction(func(L *lua.LState) int {
		L.CheckAny(1)
		L.Push(lua.LString(tostringMeta(L, L.Get(1))))
		return 1
	}))
	if st, ok := L.GetGlobal("string").(*lua.LTable); ok {
		st.RawSetString("format", L.NewFunction(strFormat))
		// LuaJIT 2.1 patterns know %g (printable characters but space),
		// gopher-lua's do not: rewrite it into a set they know.
		for _, name := range []string{"find", "match", "gmatch", "gsub"} {
			orig, ok := st.RawGetString(name).(*lua.LFunction)
			if !ok {
				continue
			}
			plainArg := name == "find"
			st.RawSetString(name, L.NewFunction(func(L *lua.LState) int {
				if pat, ok := L.Get(2).(lua.LString); ok && !(plainArg && lua.LVAsBool(L.Get(4))) {
					if np, changed := rewritePattern(string(pat)); changed {
						L.Replace(2, lua.LString(np))
					}
				}
				n := L.GetTop()
				L.Insert(orig, 1)
				L.Call(n, lua.MultRet)
				return L.GetTop()
			}))
		}
	}
	stdout := L.NewUserData()
	mt := L.NewTable()
	methods := L.NewTable()
	write := func(L *lua.LState, first int) int {
		out := p.ctl.Host.Out
		for i := first; i <= L.GetTop(); i++ {
			switch v := L.Get(i).(type) {
			case lua.LString:
				out.Write([]byte(v))
			case lua.LNumber:
				out.Write([]byte(fmtNumber(float64(v))))
			default:
				L.ArgError(i, "string expected, got "+v.Type().String())
			}
		}
		L.Push(stdout)
		return 1
	}
	flush := func(L *lua.LState) int {
		if f := p.ctl.Host.Flush; f != nil {
			f()
		}
		return 0
	}
	methods.RawSetString("write", L.NewFunction(func(L *lua.LState) int { return write(L, 2) }))
	methods.RawSetString("flush", L.NewFunction(flush))
	methods.RawSetString("close", L.NewFunction(func(L *lua.LState) int { return 0 }))
	methods.RawSetString("setvbuf", L.NewFunction(func(L *lua.LState) int { L.Push(lua.LTrue); return 1 }))
	mt.RawSetString("__index", methods)
	mt.RawSetString("__tostring", L.NewFunction(func(L *lua.LState) int { L.Push(lua.LString("file (stdout)")); return 1 }))
	stdout.Metatable = mt
	if io, ok := L.GetGlobal("io").(*lua.LTable); ok {
		io.RawSetString("write", L.NewFunction(func(L *lua.LState) int { return write(L, 1) }))
		io.RawSetString("flush", L.NewFunction(flush))
		io.RawSetString("stdout", stdout)
	}
	if m, ok := L.GetGlobal("math").(*lua.LTable); ok {
		m.RawSetString("huge", lua.LNumber(math.Inf(1))) // gopher-lua's is MaxFloat64
	}
	if os, ok := L.GetGlobal("os").(*lua.LTable); ok {
		os.RawSetString("execute", L.NewFunction(p.osExecute))
		os.RawSetString("exit", L.NewFunction(func(L *lua.LState) int {
			code := 0
			switch v := L.Get(1).(type) {
			case lua.LBool:
				if !v {
					code = 1
				}
			case lua.LNumber:
				code = int(v)
			}
			ud := L.NewUserData()
			ud.Value = exitRequest{code}
			L.Error(ud, 0)
			return 0
		}))
	}
}

// osExecute is os.execute as C's system(): the command runs under sh, with
// the process's stdin, stdout and stderr; the result is the raw wait status.
func (p *luaProgram) osExecute(L *lua.LState) int {
	if L.GetTop() == 0 {
		L.Push(lua.LNumber(1)) // a shell is available
		return 1
	}
	cmdline := L.CheckString(1)
	if f := p.ctl.Host.Flush; f != nil {
		f()
	}
	cmd := &exec.Cmd{Path: "/bin/sh", Args: []string{"sh", "-c", cmdline}, Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr}
	cmd.Run()
	status := 127 << 8 // sh could not run
	if ps := cmd.ProcessState; ps != nil {
		if code := ps.ExitCode(); code >= 0 {
			status = code << 8
		} else {
			status = 1 // killed by a signal
		}
	}
	L.Push(lua.LNumber(status))
	return 1
}

// rewritePattern replaces the %g and %G classes of a Lua pattern, which
// gopher-lua does not know, with equivalent sets.
func rewritePattern(p string) (string, bool) {
	if !strings.Contains(p, "%g") && !strings.Contains(p, "%G") {
		return p, false
	}
	var b strings.Builder
	inSet := false
	for i := 0; i < len(p); i++ {
		c := p[i]
		switch {
		case c == '%' && i+1 < len(p):
			n := p[i+1]
			i++
			switch {
			case n == 'g' && inSet:
				b.WriteString("!-~")
			case n == 'g':
				b.WriteString("[!-~]")
			case n == 'G' && inSet:
				b.WriteString("\x00- \x7f-\xff")
			case n == 'G':
				b.WriteString("[^!-~]")
			default:
				b.WriteByte('%')
				b.WriteByte(n)
			}
			continue
		case c == '[' && !inSet:
			inSet = true
			b.WriteByte(c)
			if i+1 < len(p) && p[i+1] == '^' {
				b.WriteByte('^')
				i++
			}
			if i+1 < len(p) && p[i+1] == ']' { // a ']' first in a set is literal
				b.WriteByte(']')
				i++
			}
			continue
		case c == ']' && inSet:
			inSet = false
		}
		b.WriteByte(c)
	}
	return b.String(), true
}

// strFormat is string.format as LuaJIT 2.1 implements it: C printf
// conversions (c d i o u x X e E f F g G q s a A, flags "-+ #0", width and
// precision of at most two digits), with numbers converted as Lua converts them.
func strFormat(L *lua.LState) int {
	fs := L.CheckString(1)
	arg := 1
	var out []byte
	for i := 0; i < len(fs); i++ {
		c := fs[i]
		if c != '%' {
			out = append(out, c)
			continue
		}
		i++
		if i >= len(fs) {
			L.RaiseError("invalid option '%%' to 'format'")
		}
		if fs[i] == '%' {
			out = append(out, '%')
			continue
		}
		start := i
		var sp spec
		for ; i < len(fs) && strings.IndexByte("-+ #0", fs[i]) >= 0; i++ {
			switch fs[i] {
			case '-':
				sp.minus = true
			case '+':
				sp.plus = true
			case ' ':
				sp.space = true
			case '#':
				sp.alt = true
			case '0':
				sp.zero = true
			}
		}
		if i-start > 5 {
			L.RaiseError("invalid format (repeated flags)")
		}
		digits := 0
		for ; i < len(fs) && fs[i] >= '0' && fs[i] <= '9'; i++ {
			sp.width = sp.width*10 + int(fs[i]-'0')
			digits++
		}
		sp.prec = -1
		if i < len(fs) && fs[i] == '.' {
			i++
			sp.prec = 0
			pd := 0
			for ; i < len(fs) && fs[i] >= '0' && fs[i] <= '9'; i++ {
				sp.prec = sp.prec*10 + int(fs[i]-'0')
				pd++
			}
			if pd > 2 {
				digits = 3
			}
		}
		if digits > 2 {
			L.RaiseError("invalid format (width or precision too long)")
		}
		if i >= len(fs) {
			L.RaiseError("invalid option '%%%s' to 'format'", fs[start:])
		}
		conv := fs[i]
		arg++
		switch conv {
		case 'd', 'i':
			out = sp.int(out, f2i(numArg(L, arg)))
		case 'o', 'u', 'x', 'X':
			n := numArg(L, arg)
			if n >= 9223372036854775808.0 {
				n -= 18446744073709551616.0
			}
			out = sp.uint(out, uint64(f2i(n)), conv)
		case 'c':
			out = sp.pad(out, []byte{byte(f2i(numArg(L, arg)))}, false)
		case 'e', 'E', 'f', 'F', 'g', 'G', 'a', 'A':
			out = sp.float(out, numArg(L, arg), conv)
		case 's':
			if arg > L.GetTop() {
				L.ArgError(arg, "string expected, got no value")
			}
			s := tostringMeta(L, L.Get(arg))
			if sp.prec >= 0 && sp.prec < len(s) {
				s = s[:sp.prec]
			}
			out = sp.pad(out, []byte(s), false)
		case 'q':
			if arg > L.GetTop() {
				L.ArgError(arg, "string expected, got no value")
			}
			out = appendQuoted(out, tostringMeta(L, L.Get(arg)))
		default:
			L.RaiseError("invalid option '%%%s' to 'format'", fs[start:i+1])
		}
	}
	L.Push(lua.LString(out))
	return 1
}

// f2i converts as x86-64 does: NaN and out-of-range values give MinInt64.
func f2i(f float64) int64 {
	if math.IsNaN(f) || f >= 9223372036854775808.0 || f < -9223372036854775808.0 {
		return math.MinInt64
	}
	return int64(f)
}

func numArg(L *lua.LState, i int) float64 {
	if i > L.GetTop() {
		L.ArgError(i, "number expected, got no value")
	}
	f, ok := toNumber(L.Get(i))
	if !ok {
		L.ArgError(i, "number expected, got "+L.Get(i).Type().String())
	}
	return f
}

// spec is a printf conversion's flags, width and precision (-1: none).
type spec struct {
	minus, plus, space, alt, zero bool
	width, prec                   int
}

// pad writes body (after sign) right- or left-justified in the width; with
// zeros, numbers are padded with zeros after the sign.
func (sp *spec) pad(out []byte, body []byte, zeros bool) []byte {
	return sp.padSigned(out, "", body, zeros)
}

func (sp *spec) padSigned(out []byte, sign string, body []byte, zeros bool) []byte {
	n := len(sign) + len(body)
	fill := sp.width - n
	switch {
	case fill <= 0:
		out = append(out, sign...)
		out = append(out, body...)
	case sp.minus:
		out = append(out, sign...)
		out = append(out, body...)
		out = append(out, strings.Repeat(" ", fill)...)
	case zeros:
		out = append(out, sign...)
		out = append(out, strings.Repeat("0", fill)...)
		out = append(out, body...)
	default:
		out = append(out, strings.Repeat(" ", fill)...)
		out = append(out, sign...)
		out = append(out, body...)
	}
	return out
}

func (sp *spec) sign(neg bool) string {
	switch {
	case neg:
		return "-"
	case sp.plus:
		return "+"
	case sp.space:
		return " "
	}
	return ""
}

func (sp *spec) digits(d string) []byte {
	if sp.prec == 0 && d == "0" {
		d = ""
	}
	if sp.prec > len(d) {
		d = strings.Repeat("0", sp.prec-len(d)) + d
	}
	return []byte(d)
}

func (sp *spec) int(out []byte, v int64) []byte {
	neg := v < 0
	u := uint64(v)
	if neg {
		u = -u
	}
	return sp.padSigned(out, sp.sign(neg), sp.digits(strconv.FormatUint(u, 10)), sp.zero && sp.prec < 0)
}

func (sp *spec) uint(out []byte, u uint64, conv byte) []byte {
	var d, prefix string
	switch conv {
	case 'u':
		d = strconv.FormatUint(u, 10)
	case 'o':
		d = strconv.FormatUint(u, 8)
		if sp.alt && d[0] != '0' {
			d = "0" + d
		}
	case 'x':
		d = strconv.FormatUint(u, 16)
		if sp.alt && u != 0 {
			prefix = "0x"
		}
	case 'X':
		d = strings.ToUpper(strconv.FormatUint(u, 16))
		if sp.alt && u != 0 {
			prefix = "0X"
		}
	}
	return sp.padSigned(out, prefix, sp.digits(d), sp.zero && sp.prec < 0)
}

func (sp *spec) float(out []byte, f float64, conv byte) []byte {
	neg := math.Signbit(f)
	a := math.Abs(f)
	upper := conv == 'E' || conv == 'F' || conv == 'G' || conv == 'A'
	if math.IsNaN(f) || math.IsInf(f, 0) {
		s, sign := "inf", sp.sign(neg)
		if math.IsNaN(f) {
			s, sign = "nan", ""
		}
		if upper {
			s = strings.ToUpper(s)
		}
		return sp.padSigned(out, sign, []byte(s), false)
	}
	prec := sp.prec
	if prec < 0 {
		prec = 6
	}
	var body string
	switch conv {
	case 'e', 'E':
		body = formatFloat(a, 'e', prec)
		if sp.alt && prec == 0 {
			body = strings.Replace(body, "e", ".e", 1)
		}
	case 'f', 'F':
		body = formatFloat(a, 'f', prec)
		if sp.alt && prec == 0 {
			body += "."
		}
	case 'g', 'G':
		body = fmtG(a, prec, sp.alt)
	case 'a', 'A':
		body = strconv.FormatFloat(a, 'x', sp.prec, 64)
	}
	if upper {
		body = strings.ToUpper(body)
	}
	return sp.padSigned(out, sp.sign(neg), []byte(body), sp.zero)
}

// fmtG is C's %g of a >= 0 with precision p: %e or %f by the exponent,
// trailing zeros removed unless alt (#).
func fmtG(a float64, p int, alt bool) string {
	if p == 0 {
		p = 1
	}
	e := formatFloat(a, 'e', p-1)
	x, _ := strconv.Atoi(e[strings.IndexByte(e, 'e')+1:])
	var s, exp string
	if x < p && x >= -4 {
		s = formatFloat(a, 'f', p-1-x)
	} else {
		i := strings.IndexByte(e, 'e')
		s, exp = e[:i], e[i:]
	}
	if alt {
		if !strings.Contains(s, ".") {
			s += "."
		}
	} else if strings.Contains(s, ".") {
		s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	}
	return s + exp
}

// appendQuoted is %q: a Lua string literal that reads back as s.
func appendQuoted(out []byte, s string) []byte {
	out = append(out, '"')
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '"' || c == '\\':
			out = append(out, '\\', c)
		case c == '\n':
			out = append(out, '\\', '\n')
		case c < ' ' || c == 127:
			if i+1 < len(s) && s[i+1] >= '0' && s[i+1] <= '9' {
				out = append(out, '\\')
				out = append(out, []byte{'0' + c/100, '0' + c/10%10, '0' + c%10}...)
			} else {
				out = append(out, '\\')
				out = strconv.AppendUint(out, uint64(c), 10)
			}
		default:
			out = append(out, c)
		}
	}
	return append(out, '"')
}

// openBit installs LuaJIT's bit library (32-bit operations).
func openBit(L *lua.LState) {
	tobit := func(L *lua.LState, i int) int32 {
		f, ok := toNumber(L.Get(i))
		if !ok {
			L.ArgError(i, "number expected, got "+L.Get(i).Type().String())
		}
		// LuaJIT normalises with 2^52+2^51 rounding: values wrap modulo 2^32.
		return int32(uint32(int64(math.Round(f))))
	}
	fold := func(op func(a, b int32) int32) lua.LGFunction {
		return func(L *lua.LState) int {
			v := tobit(L, 1)
			for i := 2; i <= L.GetTop(); i++ {
				v = op(v, tobit(L, i))
			}
			L.Push(lua.LNumber(v))
			return 1
		}
	}
	shift := func(op func(a int32, n uint) int32) lua.LGFunction {
		return func(L *lua.LState) int {
			L.Push(lua.LNumber(op(tobit(L, 1), uint(tobit(L, 2))&31)))
			return 1
		}
	}
	L.SetGlobal("bit", L.SetFuncs(L.NewTable(), map[string]lua.LGFunction{
		"tobit": func(L *lua.LState) int { L.Push(lua.LNumber(tobit(L, 1))); return 1 },
		"bnot":  func(L *lua.LState) int { L.Push(lua.LNumber(^tobit(L, 1))); return 1 },
		"band":  fold(func(a, b int32) int32 { return a & b }),
		"bor":   fold(func(a, b int32) int32 { return a | b }),
		"bxor":  fold(func(a, b int32) int32 { return a ^ b }),
		"lshift": shift(func(a int32, n uint) int32 {
			return int32(uint32(a) << n)
		}),
		"rshift":  shift(func(a int32, n uint) int32 { return int32(uint32(a) >> n) }),
		"arshift": shift(func(a int32, n uint) int32 { return a >> n }),
		"rol": shift(func(a int32, n uint) int32 {
			return int32(uint32(a)<<n | uint32(a)>>(32-n))
		}),
		"ror": shift(func(a int32, n uint) int32 {
			return int32(uint32(a)>>n | uint32(a)<<(32-n))
		}),
		"bswap": func(L *lua.LState) int {
			u := uint32(tobit(L, 1))
			L.Push(lua.LNumber(int32(u>>24 | u>>8&0xff00 | u<<8&0xff0000 | u<<24)))
			return 1
		},
		"tohex": func(L *lua.LState) int {
			v := uint32(tobit(L, 1))
			n := 8
			if L.GetTop() >= 2 {
				n = int(tobit(L, 2))
			}
			upper := n < 0
			if upper {
				n = -n
			}
			n = min(n, 8)
			s := strconv.FormatUint(uint64(v), 16)
			if len(s) < 8 {
				s = strings.Repeat("0", 8-len(s)) + s
			}
			s = s[8-n:]
			if upper {
				s = strings.ToUpper(s)
			}
			L.Push(lua.LString(s))
			return 1
		},
	}))
}
