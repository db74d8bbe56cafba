package chisel

import (
	"errors"
	"math"
	"net"
	"strconv"

	lua "github.com/yuin/gopher-lua"

	"github.com/syscope/syscope/field"
	"github.com/syscope/syscope/state"
)

// The sysdig.*, chisel.* and evt.* functions, as libsinsp's chisel_api
// defines them.

func (p *luaProgram) host() *Host { return p.ctl.Host }

func (p *luaProgram) sysdigFuncs() map[string]lua.LGFunction {
	return map[string]lua.LGFunction{
		"set_filter": func(L *lua.LState) int {
			if err := p.host().SetFilter(argString(L, 1)); err != nil {
				L.RaiseError("invalid filter in chisel %s: %v", p.desc.Name, err)
			}
			return 0
		},
		"set_snaplen": func(L *lua.LState) int {
			if f := p.host().SetSnaplen; f != nil {
				f(int(uint32(toInteger(L.Get(1)))))
			}
			return 0
		},
		"set_output_format": func(L *lua.LState) int {
			ctx := p.host().Ctx
			if ctx == nil || ctx.R.BufFmt != field.BufNormal {
				return 0 // the command line chose the format: it wins
			}
			f, ok := bufFormats[argString(L, 1)]
			if !ok {
				L.RaiseError("invalid set_output_format value %q in chisel %s", argString(L, 1), p.desc.Name)
			}
			ctx.R.BufFmt = f
			return 0
		},
		"set_fatfile_dump_mode": func(L *lua.LState) int { return 0 },
		"is_live":               func(L *lua.LState) int { L.Push(lua.LBool(p.host().Live)); return 1 },
		"is_tty":                func(L *lua.LState) int { L.Push(lua.LBool(p.host().IsTTY)); return 1 },
		"get_terminal_info": func(L *lua.LState) int {
			t := L.NewTable()
			t.RawSetString("width", lua.LNumber(p.host().TermWidth))
			t.RawSetString("height", lua.LNumber(p.host().TermHeight))
			L.Push(t)
			return 1
		},
		"get_filter": func(L *lua.LState) int { L.Push(lua.LString(p.host().fltText)); return 1 },
		"get_machine_info": func(L *lua.LState) int {
			st := p.host().State
			if st == nil || st.Machine == nil {
				L.RaiseError("get_machine_info can only be called from the on_capture_start callback")
			}
			m := st.Machine
			t := L.NewTable()
			t.RawSetString("num_cpus", lua.LNumber(m.NumCPUs))
			t.RawSetString("memory_size_bytes", lua.LNumber(m.MemoryBytes))
			t.RawSetString("max_pid", lua.LNumber(m.MaxPID))
			t.RawSetString("hostname", lua.LString(m.Hostname))
			L.Push(t)
			return 1
		},
		"get_thread_table":                func(L *lua.LState) int { return p.threadTable(L, true, false) },
		"get_thread_table_nofds":          func(L *lua.LState) int { return p.threadTable(L, false, false) },
		"get_thread_table_barebone":       func(L *lua.LState) int { return p.threadTable(L, true, true) },
		"get_thread_table_barebone_nofds": func(L *lua.LState) int { return p.threadTable(L, false, true) },
		"get_container_table":             func(L *lua.LState) int { return p.containerTable(L) },
		"is_print_container_data": func(L *lua.LState) int {
			L.Push(lua.LBool(p.host().PrintContainer))
			return 1
		},
		"get_output_format": func(L *lua.LState) int {
			// As libsinsp: "json" when the buffer format has the JSON bit
			// (-j, but not -j with -A, -x, -X or -b).
			if ctx := p.host().Ctx; ctx != nil && ctx.R.BufFmt&field.BufJSON != 0 {
				L.Push(lua.LString("json"))
			} else {
				L.Push(lua.LString("normal"))
			}
			return 1
		},
		"get_evtsource_name": func(L *lua.LState) int {
			if p.host().Live {
				L.Push(lua.LString(""))
			} else {
				L.Push(lua.LString(p.host().InputFile))
			}
			return 1
		},
		"get_firstevent_ts": func(L *lua.LState) int {
			var ts uint64
			if st := p.host().State; st != nil {
				ts = st.FirstEventTS
			}
			L.Push(lua.LString(strconv.FormatUint(ts, 10)))
			return 1
		},
		"get_lastevent_ts": func(L *lua.LState) int {
			var ts uint64
			if st := p.host().State; st != nil {
				ts = st.LastEventTS
			}
			L.Push(lua.LString(strconv.FormatUint(ts, 10)))
			return 1
		},
		"make_ts": func(L *lua.LState) int {
			s := uint64(uint32(toInteger(L.Get(1))))
			ns := uint64(uint32(toInteger(L.Get(2))))
			L.Push(lua.LString(strconv.FormatInt(int64(s*1e9+ns), 10)))
			return 1
		},
		"add_ts": func(L *lua.LState) int {
			a, b := tsArg(L, 1), tsArg(L, 2)
			L.Push(lua.LString(strconv.FormatInt(int64(a+b), 10)))
			return 1
		},
		"subtract_ts": func(L *lua.LState) int {
			a, b := tsArg(L, 1), tsArg(L, 2)
			L.Push(lua.LString(strconv.FormatInt(int64(a-b), 10)))
			return 1
		},
		"run_app": func(L *lua.LState) int {
			// sysdig runs itself again with these arguments once the
			// capture ends (around, spy_logs and spy_syslog use it to
			// write files, wsysdig_summary to make a second pass).
			p.host().RunApp(argString(L, 1))
			return 0
		},
		"end_capture": func(L *lua.LState) int { p.ctl.EndCapture(); return 0 },
		"log": func(L *lua.LState) int {
			if p.host().Debug {
				p.host().warnf("%s\n", argString(L, 1))
			}
			return 0
		},
		"udp_setpeername": func(L *lua.LState) int {
			port, err := strconv.ParseUint(argString(L, 2), 10, 16)
			ip := net.ParseIP(argString(L, 1))
			if err != nil || ip == nil || ip.To4() == nil {
				L.RaiseError("udp_setpeername: invalid address %q port %q", argString(L, 1), argString(L, 2))
			}
			c, err := net.DialUDP("udp4", nil, &net.UDPAddr{IP: ip, Port: int(port)})
			if err != nil {
				L.RaiseError("udp_setpeername error: %v", err)
			}
			if p.udp != nil {
				p.udp.Close()
			}
			p.udp = c
			return 0
		},
		"udp_send": func(L *lua.LState) int {
			if p.udp == nil {
				L.RaiseError("udp_send error: call sysdig.udp_setpeername first")
			}
			if _, err := p.udp.Write([]byte(argString(L, 1))); err != nil {
				L.RaiseError("udp_send error: cannot send the buffer: %v", err)
			}
			return 0
		},
		"get_read_progress": func(L *lua.LState) int {
			var v float64
			if f := p.host().Progress; f != nil {
				v = f()
			}
			L.Push(lua.LNumber(v))
			return 1
		},
	}
}

var bufFormats = map[string]field.BufFmt{
	"normal":     field.BufNormal,
	"json":       field.BufJSON,
	"simple":     field.BufSimple,
	"hex":        field.BufHex,
	"hexascii":   field.BufHexASCII,
	"ascii":      field.BufEOLs,
	"base64":     field.BufBase64,
	"jsonbase64": field.BufJSONBase64,
}

func tsArg(L *lua.LState, i int) uint64 {
	s := argString(L, i)
	v, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		L.RaiseError("invalid timestamp %q (a number of nanoseconds as a string)", s)
	}
	return v
}

// argString is lua_tostring of argument i: strings, and numbers as LuaJIT
// writes them; "" for anything else.
func argString(L *lua.LState, i int) string {
	s, _ := luaString(L.Get(i))
	return s
}

func (p *luaProgram) chiselFuncs() map[string]lua.LGFunction {
	return map[string]lua.LGFunction{
		"request_field": func(L *lua.LState) int {
			name, ok := luaString(L.Get(1))
			if !ok {
				L.RaiseError("chisel requesting nil field")
			}
			f, err := RequestField(name)
			if errors.Is(err, field.ErrFilterOnly) {
				L.RaiseError("%v", err)
			}
			if err != nil {
				L.RaiseError("chisel requesting nonexistent field %s: %v", name, err)
			}
			ud := L.NewUserData()
			ud.Value = newReqField(f)
			L.Push(ud)
			return 1
		},
		"set_filter": func(L *lua.LState) int {
			if err := p.ctl.SetFilter(argString(L, 1)); err != nil {
				L.RaiseError("invalid filter in chisel %s: %v", p.desc.Name, err)
			}
			return 0
		},
		"set_event_formatter": func(L *lua.LState) int {
			if err := p.ctl.SetFormatter(argString(L, 1)); err != nil {
				L.RaiseError("invalid event formatter in chisel %s: %v", p.desc.Name, err)
			}
			return 0
		},
		"set_interval_ns": func(L *lua.LState) int {
			p.ctl.SetInterval(toUint64(L.Get(1)))
			return 0
		},
		"set_interval_s": func(L *lua.LState) int {
			p.ctl.SetInterval(toUint64(L.Get(1)) * 1e9)
			return 0
		},
		"set_precise_interval_ns": func(L *lua.LState) int {
			p.ctl.SetPreciseInterval(toUint64(L.Get(1)))
			return 0
		},
		"exec": func(L *lua.LState) int {
			name, ok := luaString(L.Get(1))
			if !ok {
				L.RaiseError("invalid exec field name in chisel %s", p.desc.Name)
			}
			var args []string
			for i := 2; ; i++ {
				s, ok := luaString(L.Get(i))
				if !ok {
					break
				}
				args = append(args, s)
			}
			p.ctl.Exec(name, args)
			return 0
		},
	}
}

// event returns the current event or raises the error sysdig gives when
// there is none yet.
func (p *luaProgram) event(L *lua.LState, fn string) *state.Event {
	e := p.ctl.cur
	if e == nil {
		L.RaiseError("invalid call to evt.%s(): there is no event yet", fn)
	}
	return e
}

func (p *luaProgram) evtFuncs() map[string]lua.LGFunction {
	return map[string]lua.LGFunction{
		"field": func(L *lua.LState) int {
			e := p.event(L, "field")
			ud, ok := L.Get(1).(*lua.LUserData)
			if !ok {
				L.Push(lua.LNil)
				return 1
			}
			rf, ok := ud.Value.(*reqField)
			if !ok {
				L.Push(lua.LNil)
				return 1
			}
			L.Push(rf.value(p.host().Ctx, e))
			return 1
		},
		"get_num": func(L *lua.LState) int {
			L.Push(lua.LNumber(p.event(L, "get_num").Num))
			return 1
		},
		"get_ts": func(L *lua.LState) int {
			ts := p.event(L, "get_ts").Ts
			L.Push(lua.LNumber(uint32(ts / 1e9)))
			L.Push(lua.LNumber(uint32(ts % 1e9)))
			return 2
		},
		"get_type": func(L *lua.LState) int {
			L.Push(lua.LString(field.TypeName(p.event(L, "get_type"))))
			return 1
		},
		"get_cpuid": func(L *lua.LState) int {
			L.Push(lua.LNumber(p.event(L, "get_cpuid").CPU))
			return 1
		},
	}
}

// reqField is a field a chisel requested, resolved once; evt.field only
// extracts and converts its value.
type reqField struct {
	f    *field.Field
	ex   field.Extractor
	kind byte // 's' string, 'n' integer, 'f' floating point, 'b' boolean, 0 no value
	buf  []byte

	// Values repeat (process names, event types, ports): strings seen
	// before and the last number are reused instead of allocated again.
	strs     map[string]lua.LValue
	lastStr  string
	lastStrV lua.LValue
	lastNum  float64
	lastVal  lua.LValue
}

// Bounds of the string cache of a field.
const (
	maxCachedStrings = 4096
	maxCachedLen     = 256
)

// newReqField chooses how a field's values reach Lua, as libsinsp does by
// the field's type: numbers, booleans or strings (rendered, as in -p).
func newReqField(f *field.Field) *reqField {
	k, ex := fieldValueKind(f)
	rf := &reqField{f: f, ex: ex}
	switch k {
	case ValueBool:
		rf.kind = 'b'
	case ValueNumber:
		rf.kind = 'n'
	case ValueFloat:
		rf.kind = 'f'
	case ValueString:
		rf.kind = 's'
	}
	return rf
}

// fdUsage is proc.fdusage at full precision: the open fds of the process as
// a percentage of its fd limit.
func fdUsage(c *field.Ctx, e *state.Event, d []byte) ([]byte, bool) {
	m := c.State.MainThread(e.Thread)
	if m == nil {
		return d, false
	}
	v := 0.0
	if tab := m.FDs(); m.FDLimit > 0 && tab != nil {
		v = 100
		if n := uint64(tab.Len()); n <= uint64(m.FDLimit) {
			v = float64(n) * 100 / float64(m.FDLimit)
		}
	}
	return strconv.AppendFloat(d, v, 'g', -1, 64), true
}

// rawScratch is the size of libsinsp's buffer for chisel field values.
const rawScratch = 65000

// value extracts the field from e as a Lua value (nil when it has none).
func (rf *reqField) value(c *field.Ctx, e *state.Event) lua.LValue {
	if rf.kind == 0 {
		return lua.LNil
	}
	b, ok := rf.ex(c, e, rf.buf[:0])
	rf.buf = b
	if !ok {
		return lua.LNil
	}
	switch rf.kind {
	case 'n':
		if v, ok := parseDecimal(b); ok {
			return rf.number(v)
		}
	case 'f':
		if v, err := strconv.ParseFloat(string(b), 64); err == nil {
			return rf.number(v)
		}
	case 'b':
		switch string(b) {
		case "true", "1":
			return lua.LTrue
		case "false", "0":
			return lua.LFalse
		}
	}
	if rf.lastStrV != nil && string(b) == rf.lastStr {
		return rf.lastStrV
	}
	if v, ok := rf.strs[string(b)]; ok {
		rf.lastStr, rf.lastStrV = string(v.(lua.LString)), v
		return v
	}
	v := lua.LValue(lua.LString(b))
	if len(b) <= maxCachedLen && len(rf.strs) < maxCachedStrings {
		if rf.strs == nil {
			rf.strs = make(map[string]lua.LValue)
		}
		rf.strs[string(b)] = v
	}
	return v
}

func (rf *reqField) number(v float64) lua.LValue {
	if rf.lastVal == nil || v != rf.lastNum || v == 0 && math.Signbit(v) != math.Signbit(rf.lastNum) {
		rf.lastNum, rf.lastVal = v, lua.LNumber(v)
	}
	return rf.lastVal
}

// parseDecimal parses an optionally negative decimal integer without allocating.
func parseDecimal(b []byte) (float64, bool) {
	neg := false
	if len(b) > 0 && b[0] == '-' {
		neg, b = true, b[1:]
	}
	if len(b) == 0 || len(b) > 20 {
		return 0, false
	}
	var v uint64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		d := uint64(c - '0')
		if v > (1<<64-1-d)/10 {
			return 0, false
		}
		v = v*10 + d
	}
	if neg {
		return -float64(v), true
	}
	return float64(v), true
}
