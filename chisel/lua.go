package chisel

import (
	"errors"
	"fmt"
	"net"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"

	lua "github.com/yuin/gopher-lua"

	"github.com/syscope/syscope/state"
)

// luaProgram is a chisel written in Lua.
type luaProgram struct {
	L    *lua.LState
	ctl  *Control
	file string
	desc Desc
	view bool // a csysdig view (view_info), not a chisel

	hasOnEvent bool
	udp        *net.UDPConn
}

// ExitError is returned when a chisel called os.exit: the program must exit
// with Code, without running more of the chisel.
type ExitError struct{ Code int }

func (e *ExitError) Error() string { return fmt.Sprintf("chisel called os.exit(%d)", e.Code) }

// exitRequest is the value os.exit raises to unwind the Lua stack.
type exitRequest struct{ code int }

// newState returns a Lua state with the standard libraries (print, tostring,
// string.format, io.write and os.exit behave as LuaJIT's and write to the
// host), bit, and the sysdig, chisel and evt libraries of p.
func (p *luaProgram) newState() *lua.LState {
	L := lua.NewState(lua.Options{
		SkipOpenLibs:     true,
		CallStackSize:    256,
		RegistrySize:     1024,
		RegistryMaxSize:  1 << 22,
		RegistryGrowStep: 256,
	})
	for _, lib := range []struct {
		name string
		fn   lua.LGFunction
	}{
		{lua.LoadLibName, lua.OpenPackage},
		{lua.BaseLibName, lua.OpenBase},
		{lua.TabLibName, lua.OpenTable},
		{lua.IoLibName, lua.OpenIo},
		{lua.OsLibName, lua.OpenOs},
		{lua.StringLibName, lua.OpenString},
		{lua.MathLibName, lua.OpenMath},
		{lua.DebugLibName, lua.OpenDebug},
		{lua.CoroutineLibName, lua.OpenCoroutine},
	} {
		L.Push(L.NewFunction(lib.fn))
		L.Push(lua.LString(lib.name))
		L.Call(1, 0)
	}
	p.L = L
	p.openCompat()
	openBit(L)
	L.SetGlobal("sysdig", L.SetFuncs(L.NewTable(), p.sysdigFuncs()))
	L.SetGlobal("chisel", L.SetFuncs(L.NewTable(), p.chiselFuncs()))
	L.SetGlobal("evt", L.SetFuncs(L.NewTable(), p.evtFuncs()))

	// The chisel directories go at the end of package.path, as in sysdig;
	// Lua modules load through the cache of compiled files.
	if pkg, ok := L.GetGlobal("package").(*lua.LTable); ok {
		path := lua.LVAsString(pkg.RawGetString("path"))
		for _, d := range p.ctl.Host.Path.Dirs {
			path += ";" + filepath.Join(d, "?.lua")
		}
		pkg.RawSetString("path", lua.LString(path))
		if loaders, ok := pkg.RawGetString("loaders").(*lua.LTable); ok {
			loaders.RawSetInt(2, L.NewFunction(luaSearcher))
		}
	}
	return L
}

// loadLua loads the chisel in file and runs its main chunk. With listing, it
// checks what -cl needs (a description, a short description, not hidden)
// and recognises views.
func loadLua(ctl *Control, file string, listing bool) (*luaProgram, error) {
	name := strings.TrimSuffix(filepath.Base(file), ".lua")
	if ctl.name == "" {
		ctl.name = name
	}
	p := &luaProgram{ctl: ctl, file: file}
	p.desc = Desc{Name: name, File: file}
	proto, err := compileFile(file)
	if err != nil {
		if _, line, msg, ok := syntaxParts(err); ok {
			return nil, &Error{Chisel: name, File: file, Line: line, Msg: msg}
		}
		return nil, &Error{Chisel: name, File: file, Msg: err.Error()}
	}
	L := p.newState()
	L.Push(L.NewFunctionFromProto(proto))
	if err := L.PCall(0, 0, nil); err != nil {
		L.Close()
		return nil, p.wrap("", err)
	}
	if err := p.readDesc(listing); err != nil {
		L.Close()
		return nil, err
	}
	p.hasOnEvent = L.GetGlobal("on_event").Type() == lua.LTFunction
	return p, nil
}

func (p *luaProgram) fail(format string, args ...any) error {
	return &Error{Chisel: p.desc.Name, File: p.file, Msg: fmt.Sprintf(format, args...)}
}

// readDesc reads the description, short_description, category and args globals.
func (p *luaProgram) readDesc(listing bool) error {
	L := p.L
	if s, ok := luaString(L.GetGlobal("description")); ok {
		p.desc.Description = s
	} else if listing {
		if L.GetGlobal("view_info") == lua.LNil {
			return p.fail("no description")
		}
		p.view = true
		return nil
	}
	if s, ok := luaString(L.GetGlobal("short_description")); ok {
		p.desc.ShortDesc = s
	} else if listing {
		return p.fail("no short_description")
	}
	if s, ok := luaString(L.GetGlobal("category")); ok {
		p.desc.Category = s
	}
	if listing {
		if b, ok := L.GetGlobal("hidden").(lua.LBool); ok && bool(b) {
			return p.fail("hidden")
		}
	}
	args, ok := L.GetGlobal("args").(*lua.LTable)
	if !ok {
		return p.fail("args table missing")
	}
	var err error
	args.ForEach(func(k, v lua.LValue) {
		if err != nil {
			return
		}
		switch x := v.(type) {
		case lua.LString, lua.LNumber:
			// sysdig prints such entries and takes them as the description.
			fmt.Fprintf(p.ctl.Host.Out, "%s = %s\n", tostr(k), tostr(x))
			p.desc.Description = tostr(x)
		case *lua.LTable:
			var a Arg
			x.ForEach(func(ak, av lua.LValue) {
				if err != nil {
					return
				}
				key := tostr(ak)
				switch y := av.(type) {
				case lua.LString, lua.LNumber:
					switch key {
					case "name":
						a.Name = tostr(y)
					case "argtype":
						a.Type = tostr(y)
					case "description":
						a.Desc = tostr(y)
					}
				case lua.LBool:
					if key == "optional" {
						a.Optional = bool(y)
					}
				default:
					err = p.fail("args: %s is not a string", key)
				}
			})
			p.desc.Args = append(p.desc.Args, a)
		default:
			err = p.fail("args: %s is not a string", tostr(k))
		}
	})
	return err
}

func luaString(v lua.LValue) (string, bool) {
	switch x := v.(type) {
	case lua.LString:
		return string(x), true
	case lua.LNumber:
		return fmtNumber(float64(x)), true
	}
	return "", false
}

// Desc implements Program.
func (p *luaProgram) Desc() *Desc { return &p.desc }

// call calls the global function fn with args, expecting nret results
// (left on the stack).
func (p *luaProgram) call(hook string, fn lua.LValue, nret int, args ...lua.LValue) error {
	L := p.L
	L.Push(fn)
	for _, a := range args {
		L.Push(a)
	}
	if err := L.PCall(len(args), nret, nil); err != nil {
		return p.wrap(hook, err)
	}
	return nil
}

func (p *luaProgram) pop() lua.LValue {
	v := p.L.Get(-1)
	p.L.Pop(1)
	return v
}

// SetArg implements Program: on_set_arg(name, value) must return true.
func (p *luaProgram) SetArg(name, value string) error {
	fn := p.L.GetGlobal("on_set_arg")
	if fn.Type() != lua.LTFunction {
		return p.fail("the chisel has arguments but no on_set_arg() function")
	}
	if err := p.call("on_set_arg", fn, 1, lua.LString(name), lua.LString(value)); err != nil {
		return err
	}
	switch r := p.pop().(type) {
	case lua.LBool:
		if !r {
			return p.fail("on_set_arg(%q, %q) failed (returned false)", name, value)
		}
		return nil
	default:
		return p.fail("on_set_arg() must return a boolean, not %s", r.Type())
	}
}

// Init implements Program.
func (p *luaProgram) Init(c *Control) error {
	p.ctl = c
	fn := p.L.GetGlobal("on_init")
	if fn.Type() != lua.LTFunction {
		return nil
	}
	if err := p.call("on_init", fn, 1); err != nil {
		return err
	}
	r := p.pop()
	if c.exec != nil {
		return nil
	}
	b, ok := r.(lua.LBool)
	if !ok {
		return p.fail("on_init() must return a boolean, not %s", r.Type())
	}
	if !b {
		return p.fail("init() for chisel %s failed (on_init returned false)", p.desc.Name)
	}
	return nil
}

// CaptureStart implements Program.
func (p *luaProgram) CaptureStart(c *Control) error {
	p.ctl = c
	fn := p.L.GetGlobal("on_capture_start")
	if fn.Type() != lua.LTFunction {
		return nil
	}
	if err := p.call("on_capture_start", fn, 1); err != nil {
		return err
	}
	r := p.pop()
	b, ok := r.(lua.LBool)
	if !ok {
		return p.fail("on_capture_start() must return a boolean, not %s", r.Type())
	}
	if !b {
		return p.fail("init() for chisel %s failed (on_capture_start returned false)", p.desc.Name)
	}
	return nil
}

// Event implements Program.
func (p *luaProgram) Event(c *Control, e *state.Event) (bool, error) {
	if !p.hasOnEvent {
		return true, nil
	}
	L := p.L
	L.Push(L.GetGlobal("on_event"))
	if err := L.PCall(0, 1, nil); err != nil {
		return false, p.wrap("on_event", err)
	}
	r := L.Get(-1)
	L.Pop(1)
	return lua.LVAsBool(r), nil
}

// Interval implements Program.
func (p *luaProgram) Interval(c *Control, ts uint64, delta int64) error {
	fn := p.L.GetGlobal("on_interval")
	if err := p.call("on_interval", fn, 1, lua.LNumber(ts/1e9), lua.LNumber(ts%1e9), lua.LNumber(delta)); err != nil {
		return err
	}
	if !lua.LVAsBool(p.pop()) {
		return p.fail("execution terminated by the chisel (on_interval returned false)")
	}
	return nil
}

// CaptureEnd implements Program.
func (p *luaProgram) CaptureEnd(c *Control, ts uint64, delta int64) error {
	fn := p.L.GetGlobal("on_capture_end")
	if fn.Type() != lua.LTFunction {
		return nil
	}
	return p.call("on_capture_end", fn, 0, lua.LNumber(ts/1e9), lua.LNumber(ts%1e9), lua.LNumber(delta))
}

// Close implements Program.
func (p *luaProgram) Close() {
	if p.udp != nil {
		p.udp.Close()
		p.udp = nil
	}
	if p.L != nil {
		p.L.Close()
		p.L = nil
	}
}

var (
	luaPosRe   = regexp.MustCompile(`^(.+?):(\d+): (?s:(.*))$`)
	luaFrameRe = regexp.MustCompile(`(?m)^\s*([^\[\s][^:]*):(\d+):`)
)

// wrap turns a Lua error into an *Error with the file and line where it
// happened, or an *ExitError for os.exit.
func (p *luaProgram) wrap(hook string, err error) error {
	e := &Error{Chisel: p.desc.Name, Hook: hook}
	var ae *lua.ApiError
	if !errors.As(err, &ae) {
		e.File, e.Msg = p.file, err.Error()
		return e
	}
	if ud, ok := ae.Object.(*lua.LUserData); ok {
		if x, ok := ud.Value.(exitRequest); ok {
			return &ExitError{Code: x.code}
		}
	}
	msg := tostr(ae.Object)
	if m := luaPosRe.FindStringSubmatch(msg); m != nil && !strings.HasPrefix(m[1], "[") {
		e.File, e.Msg = m[1], m[3]
		e.Line, _ = strconv.Atoi(m[2])
		return e
	}
	e.Msg = msg
	// A Go panic or an error without a position: take it from the traceback.
	if m := luaFrameRe.FindStringSubmatch(ae.StackTrace); m != nil {
		e.File = m[1]
		e.Line, _ = strconv.Atoi(m[2])
	} else {
		e.File = p.file
	}
	return e
}
