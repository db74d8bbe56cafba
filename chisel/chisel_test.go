package chisel

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/syscope/syscope/event"
	"github.com/syscope/syscope/field"
	"github.com/syscope/syscope/scap"
	"github.com/syscope/syscope/state"
)

// testHost returns a host with an empty state whose output goes to out, and
// a path made of dir.
func testHost(dir string, out *bytes.Buffer) *Host {
	st := state.New()
	return &Host{
		State: st, Ctx: field.NewCtx(st), Out: out, Err: out,
		Path: &Path{Dirs: []string{dir}}, TermWidth: -1, TermHeight: -1,
	}
}

// writeChisels writes files (name -> Lua source) into a temporary directory.
func writeChisels(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, src := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// TestLuaJITFormatting compares print, tostring, string.format and io.write
// with what LuaJIT 2.1 prints for the same script.
func TestLuaJITFormatting(t *testing.T) {
	want, err := os.ReadFile("testdata/luajit_format.out")
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	h := testHost("testdata", &out)
	r, err := Open(h.Path, h, "luajit_format")
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	gl := strings.Split(out.String(), "\n")
	wl := strings.Split(string(want), "\n")
	for i := 0; i < max(len(gl), len(wl)); i++ {
		var g, w string
		if i < len(gl) {
			g = gl[i]
		}
		if i < len(wl) {
			w = wl[i]
		}
		if g != w {
			t.Errorf("line %d:\n got  %q\n want %q", i+1, g, w)
		}
	}
}

func TestSplitArgs(t *testing.T) {
	tests := []struct {
		in   string
		want []string
		err  bool
	}{
		{"", nil, false},
		{"  a  ", []string{"a"}, false},
		{"a b", []string{"a", "b"}, false},
		{"'a b' c", []string{"a b", "c"}, false},
		{"`x y`", []string{"x y"}, false},
		{"a 'b c' d", []string{"a", "b c", "d"}, false},
		{"'proc.name fd.name' 'Process File' 10", []string{"proc.name fd.name", "Process File", "10"}, false},
		{"a 'b", nil, true},
	}
	for _, tc := range tests {
		got, err := SplitArgs(tc.in)
		if (err != nil) != tc.err {
			t.Errorf("SplitArgs(%q) error = %v, want error %v", tc.in, err, tc.err)
			continue
		}
		if strings.Join(got, "|") != strings.Join(tc.want, "|") || len(got) != len(tc.want) {
			t.Errorf("SplitArgs(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// event returns a state event of type typ at ts for thread tid.
func testEvent(typ event.Type, ts uint64, tid int64) *state.Event {
	raw := &scap.Event{Type: typ, Ts: ts, Tid: tid}
	return &state.Event{Event: raw, Info: typ.Info()}
}

func TestHooksAndIntervals(t *testing.T) {
	src := `
args = {{name = "greeting", argtype = "string", description = "what to say", optional = false},
        {name = "n", argtype = "int", description = "a number", optional = true}}
description = "test chisel"
short_description = "a test"
category = "Test"
function on_set_arg(name, val) print("arg", name, val) return true end
function on_init()
  fnum = chisel.request_field("evt.num")
  ftype = chisel.request_field("evt.type")
  fcpu = chisel.request_field("evt.cpu")
  chisel.set_interval_s(1)
  return true
end
function on_capture_start() print("start", sysdig.is_live(), sysdig.get_evtsource_name()) return true end
function on_event()
  local s, ns = evt.get_ts()
  print("event", evt.field(fnum), evt.field(ftype), type(evt.field(fcpu)), evt.get_type(), s, ns)
  return true
end
function on_interval(s, ns, delta) print("interval", s, ns, delta) return true end
function on_capture_end(s, ns, delta) print("end", s, ns, delta) end
`
	dir := writeChisels(t, map[string]string{"hooks.lua": src})
	var out bytes.Buffer
	h := testHost(dir, &out)
	h.InputFile = "f.scap"
	r, err := Open(h.Path, h, "hooks")
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if d := r.Desc(); d.Category != "Test" || len(d.Args) != 2 || d.Args[0].Desc != "what to say" || !d.Args[1].Optional {
		t.Errorf("desc = %+v", d)
	}
	if err := r.SetArgs("'hello world' 3"); err != nil {
		t.Fatal(err)
	}
	if err := r.Init(); err != nil {
		t.Fatal(err)
	}
	if err := r.CaptureStart(); err != nil {
		t.Fatal(err)
	}
	times := []uint64{10_500_000_000, 10_900_000_000, 11_100_000_000, 13_000_000_000}
	for i, ts := range times {
		e := testEvent(event.SyscallOpenE, ts, 1)
		e.Num = uint64(i + 1)
		h.State.FirstEventTS = times[0]
		h.State.LastEventTS = ts
		if i == 1 {
			if err := r.Dropped(e); err != nil {
				t.Fatal(err)
			}
			continue
		}
		if _, err := r.Event(e); err != nil {
			t.Fatal(err)
		}
	}
	if err := r.CaptureEnd(); err != nil {
		t.Fatal(err)
	}
	want := `arg	greeting	hello world
arg	n	3
start	false	f.scap
event	1	open	number	open	10	500000000
interval	11	100000000	0
event	3	open	number	open	11	100000000
interval	13	0	1900000000
event	4	open	number	open	13	0
end	13	0	2500000000
`
	if out.String() != want {
		t.Errorf("output:\n%s\nwant:\n%s", out.String(), want)
	}
}

func TestArgCount(t *testing.T) {
	src := `args = {{name = "a", optional = false}, {name = "b", optional = true}}
function on_set_arg(n, v) return v ~= "bad" end`
	dir := writeChisels(t, map[string]string{"two.lua": src})
	tests := []struct {
		args string
		want string // substring of the error, "" for none
	}{
		{"", "1 required, 0 given"},
		{"x", ""},
		{"x y", ""},
		{"x y z", "too many parameters"},
		{"bad", "on_set_arg"},
	}
	for _, tc := range tests {
		var out bytes.Buffer
		h := testHost(dir, &out)
		r, err := Open(h.Path, h, "two")
		if err != nil {
			t.Fatal(err)
		}
		err = r.SetArgs(tc.args)
		r.Close()
		if tc.want == "" && err != nil || tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)) {
			t.Errorf("SetArgs(%q) = %v, want error containing %q", tc.args, err, tc.want)
		}
	}
}

// TestErrors checks that broken chisels fail with their file, line and a message.
func TestErrors(t *testing.T) {
	tests := []struct {
		name, src string
		stage     string // where it fails: open, init, event, end
		want      string
	}{
		{"syntax", "args = {}\nfunction on_event()\n  x = = 1\nend\n", "open", "syntax.lua:3: syntax error near '='"},
		{"noargs", "description = 'x'\n", "open", "args table missing"},
		{"eof", "args = {}\nfunction on_event()\n", "open", "eof.lua: syntax error: unexpected end of file"},
		{"modsyntax", "args = {}\nrequire 'bad_mod'\n", "open", "bad_mod.lua:2: syntax error near 'local'"},
		{"modmissing", "args = {}\nrequire 'no_such_mod'\n", "open", "modmissing.lua:2: module no_such_mod not found"},
		{"badfield", "args = {}\nfunction on_init()\n  f = chisel.request_field(\"fd.nmae\")\n  return true\nend\n", "init", `badfield.lua:3: on_init: chisel requesting nonexistent field fd.nmae: unknown field "fd.nmae" (did you mean "fd.name"?)`},
		{"badfilter", "args = {}\nfunction on_init()\n  chisel.set_filter(\"proc.name=\")\n  return true\nend\n", "init", "badfilter.lua:3: on_init: invalid filter in chisel badfilter"},
		{"initfalse", "args = {}\nfunction on_init() return false end\n", "init", "init() for chisel initfalse failed"},
		{"runtime", "args = {}\nfunction on_event()\n  local t = nil\n  return t.x\nend\n", "event", "runtime.lua:4: on_event: "},
		{"errorcall", "args = {}\nfunction on_event()\n  error('boom')\nend\n", "event", "errorcall.lua:3: on_event: boom"},
		{"helper", "args = {}\nrequire 'helper_mod'\nfunction on_event()\n  return helper_mod_fail()\nend\n", "event", "helper_mod.lua:2: on_event: "},
		{"endfail", "args = {}\nfunction on_capture_end()\n  return nil .. 'x'\nend\n", "end", "endfail.lua:3: on_capture_end: "},
		{"exit", "args = {}\nfunction on_init()\n  os.exit(3)\nend\n", "init", "os.exit(3)"},
	}
	files := map[string]string{
		"helper_mod.lua": "function helper_mod_fail()\n  return 1 + {}\nend\n",
		"bad_mod.lua":    "x = 1\nlocal local = 2\n",
	}
	for _, tc := range tests {
		files[tc.name+".lua"] = tc.src
	}
	dir := writeChisels(t, files)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var out bytes.Buffer
			h := testHost(dir, &out)
			r, err := Open(h.Path, h, tc.name)
			if err == nil {
				defer r.Close()
				err = r.Init()
				if err == nil && tc.stage != "init" {
					e := testEvent(event.SyscallOpenE, 1, 1)
					_, err = r.Event(e)
					if err == nil && tc.stage == "end" {
						err = r.CaptureEnd()
					}
				}
			}
			if err == nil {
				t.Fatalf("no error; want %q", tc.want)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q does not contain %q", err, tc.want)
			}
			var ce *Error
			var ee *ExitError
			switch {
			case errors.As(err, &ee):
				if ee.Code != 3 {
					t.Errorf("exit code %d", ee.Code)
				}
			case !errors.As(err, &ce):
				t.Errorf("error is a %T, not a *chisel.Error", err)
			case ce.File == "" || (ce.Line == 0 && tc.stage != "open" && tc.name != "initfalse"):
				t.Errorf("error %q has no position (file %q line %d)", err, ce.File, ce.Line)
			}
		})
	}
}

func writeFile(path, src string) error { return os.WriteFile(path, []byte(src), 0o644) }

type nopProgram struct{ d *Desc }

func (n nopProgram) Desc() *Desc                                       { return n.d }
func (nopProgram) SetArg(name, value string) error                     { return nil }
func (nopProgram) Init(c *Control) error                               { return c.SetFilter("evt.type=open") }
func (nopProgram) CaptureStart(c *Control) error                       { return nil }
func (nopProgram) Event(c *Control, e *state.Event) (bool, error)      { return true, nil }
func (nopProgram) Interval(c *Control, ts uint64, delta int64) error   { return nil }
func (nopProgram) CaptureEnd(c *Control, ts uint64, delta int64) error { return nil }
func (nopProgram) Close()                                              {}

func TestBuiltins(t *testing.T) {
	d := Desc{Name: "nop_builtin_test", Category: "Test", ShortDesc: "does nothing"}
	Register(Builtin{Desc: d, New: func() Program { return nopProgram{&d} }})
	func() {
		defer func() {
			if recover() == nil {
				t.Error("registering a name twice does not panic")
			}
		}()
		Register(Builtin{Desc: d, New: func() Program { return nopProgram{&d} }})
	}()
	dir := writeChisels(t, map[string]string{"shadow_test.lua": "args = {}\ndescription = 'lua'\nshort_description = 'the Lua one'\n"})
	Register(Builtin{Desc: Desc{Name: "shadow_test", ShortDesc: "the built-in"}, New: func() Program { return nopProgram{&d} }})
	var out bytes.Buffer
	h := testHost(dir, &out)
	list := h.Path.List()
	var names []string
	for _, x := range list {
		names = append(names, x.Name+"="+x.ShortDesc)
	}
	got := strings.Join(names, ",")
	if !strings.Contains(got, "nop_builtin_test=does nothing") || !strings.Contains(got, "shadow_test=the Lua one") || strings.Contains(got, "the built-in") {
		t.Errorf("List() = %s", got)
	}
	// A built-in runs through the same Runner: its filter applies.
	r, err := Open(h.Path, h, "nop_builtin_test")
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if err := r.Init(); err != nil {
		t.Fatal(err)
	}
	if err := r.ctl.SetFormatter("%evt.type"); err != nil {
		t.Fatal(err)
	}
	for _, typ := range []event.Type{event.SyscallOpenE, event.SyscallCloseE} {
		if _, err := r.Event(testEvent(typ, 1, 1)); err != nil {
			t.Fatal(err)
		}
	}
	if out.String() != "open\n" {
		t.Errorf("output %q, want the open event only", out.String())
	}
}

func TestRewritePattern(t *testing.T) {
	tests := []struct{ in, want string }{
		{"abc", "abc"},
		{"^(%u+) (%g+)", "^(%u+) ([!-~]+)"},
		{"HTTP/[%g]+ (%d+)", "HTTP/[!-~]+ (%d+)"},
		{"%%g", "%%g"},
		{"[^%g]", "[^!-~]"},
		{"%G", "[^!-~]"},
	}
	for _, tc := range tests {
		if got, _ := rewritePattern(tc.in); got != tc.want {
			t.Errorf("rewritePattern(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestNextRun(t *testing.T) {
	tests := []struct {
		in   string
		want []string
	}{
		{"-r f -c x", []string{"-r", "f", "-c", "x"}},
		{`-r "/a b/c.scap" -c w 4 `, []string{"-r", "/a b/c.scap", "-c", "w", "4", ""}},
	}
	for _, tc := range tests {
		h := &Host{nextRun: tc.in, hasNextRun: true}
		got, ok := h.NextRun()
		if !ok || strings.Join(got, "|") != strings.Join(tc.want, "|") || len(got) != len(tc.want) {
			t.Errorf("NextRun(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
	if _, ok := (&Host{}).NextRun(); ok {
		t.Error("NextRun without run_app reports a run")
	}
}

// TestTables checks get_thread_table and get_container_table on a state
// loaded from metadata.
func TestTables(t *testing.T) {
	src := `args = {}
function on_capture_start()
  local tt = sysdig.get_thread_table()
  for tid, th in pairs(tt) do
    print(tid, th.pid, th.comm, th.username, #th.args, th.args[1], th.fdlimit)
    for fd, f in pairs(th.fdtable) do
      print("", fd, f.type, f.name, f.sip, f.sport, f.cip, f.cport, f.is_server, f.l4proto)
    end
  end
  local n = 0
  for tid, th in pairs(sysdig.get_thread_table("fd.name contains passwd")) do n = n + 1 print("filtered", tid) end
  for tid, th in pairs(sysdig.get_thread_table_barebone_nofds()) do print("bare", tid, th.comm, next(th.fdtable)) end
  print("machine", sysdig.get_machine_info().hostname, sysdig.get_machine_info().num_cpus)
  return true
end
`
	dir := writeChisels(t, map[string]string{"tables.lua": src})
	var out bytes.Buffer
	h := testHost(dir, &out)
	sip := [16]byte{10, 0, 0, 1}
	h.State.LoadMetadata(&scap.Metadata{
		Machine: &scap.MachineInfo{NumCPUs: 4, Hostname: "box"},
		Users:   []scap.User{{UID: 0, Name: "root"}},
		Threads: []scap.Thread{
			{Tid: 20, Pid: 20, Comm: "cat", Args: []string{"/etc/passwd"}, FDLimit: 1024, UID: 0,
				FDs: []scap.FD{{Num: 3, Type: scap.FDFile, Name: "/etc/passwd"}}},
			{Tid: 10, Pid: 10, Comm: "nginx", FDLimit: 4096, UID: 33,
				FDs: []scap.FD{{Num: 6, Type: scap.FDIPv4ServSock, SIP: sip, SPort: 80, L4Proto: scap.L4TCP}}},
		},
	})
	r, err := Open(h.Path, h, "tables")
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if err := r.CaptureStart(); err != nil {
		t.Fatal(err)
	}
	want := `10	10	nginx	<NA>	0	nil	4096
	6	ipv4	10.0.0.1:80	10.0.0.1	80	nil	nil	true	tcp
20	20	cat	root	1	/etc/passwd	1024
	3	file	/etc/passwd	nil	nil	nil	nil	nil	nil
filtered	20
bare	10	nil	nil
bare	20	nil	nil
machine	box	4
`
	if out.String() != want {
		t.Errorf("output:\n%s\nwant:\n%s", out.String(), want)
	}
}

// A chisel may not request a field sysdig marks filter only (sysdig's
// request_field refuses them too), except evt.around, which has no value.
func TestRequestFieldFilterOnly(t *testing.T) {
	for _, name := range []string{"fd.ip", "fd.port", "fd.proto", "fd.net", "fd.cnet", "fd.snet", "fd.lnet", "fd.rnet"} {
		if _, err := RequestField(name); !errors.Is(err, field.ErrFilterOnly) {
			t.Errorf("RequestField(%q): %v, want ErrFilterOnly", name, err)
		}
	}
	f, err := RequestField("evt.around[1]")
	if err != nil {
		t.Fatalf("evt.around[1]: %v", err)
	}
	if _, ok := f.Ex(nil, nil, nil); ok {
		t.Errorf("evt.around[1] has a value")
	}
}
