package cli

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/syscope/syscope/chisel"
	"github.com/syscope/syscope/event"
	"github.com/syscope/syscope/scap"
	"github.com/syscope/syscope/state"
)

// writeCapture writes a small capture: process "cat" (tid 100) closing fds
// 3 to 8, one enter and one exit each, 1 ms apart, from t=10s.
func writeCapture(t *testing.T) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "small.scap")
	meta := &scap.Metadata{
		Machine: &scap.MachineInfo{NumCPUs: 2, Hostname: "box"},
		Threads: []scap.Thread{{Tid: 100, Pid: 100, Ptid: 1, Comm: "cat", Exe: "cat", FDLimit: 1024}},
	}
	w, err := scap.Create(path, false, meta)
	if err != nil {
		t.Fatal(err)
	}
	ts := uint64(10_000_000_000)
	for fd := int64(3); fd <= 8; fd++ {
		for _, typ := range []event.Type{event.SyscallCloseE, event.SyscallCloseX} {
			v := fd
			if typ == event.SyscallCloseX {
				v = 0
			}
			data := binary.LittleEndian.AppendUint64(nil, uint64(v))
			ev := &scap.Event{Ts: ts, Tid: 100, Type: typ, NParams: 1, Lens: []uint32{8}, Offs: []uint32{0}, Data: data}
			if err := w.WriteEvent(ev); err != nil {
				t.Fatal(err)
			}
			ts += 1_000_000
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}

const counterChisel = `description = "counts events"
short_description = "Count events"
category = "Test"
args = {{name = "every", argtype = "int", description = "print every N events", optional = false}}
function on_set_arg(name, val) every = tonumber(val) return true end
function on_init() n = 0 ftype = chisel.request_field("evt.type") return true end
function on_event()
  n = n + 1
  if n % every == 0 then print(n, evt.field(ftype)) end
  return true
end
function on_capture_end() print("total", n) end
`

const optChisel = `description = "optional argument"
short_description = "Optional"
category = "Test"
args = {{name = "word", argtype = "string", description = "a word", optional = true}}
function on_set_arg(name, val) word = val return true end
function on_event() return true end
function on_capture_end() print("word", word) end
`

// goCounter is a built-in chisel written in Go, for the registry tests.
type goCounter struct{ n int }

func (g *goCounter) Desc() *chisel.Desc { return &goCounterDesc }
func (g *goCounter) SetArg(name, value string) error {
	return nil
}
func (g *goCounter) Init(c *chisel.Control) error {
	return c.SetFilter("evt.dir=<")
}
func (g *goCounter) CaptureStart(c *chisel.Control) error { return nil }
func (g *goCounter) Event(c *chisel.Control, e *state.Event) (bool, error) {
	g.n++
	return false, nil
}
func (g *goCounter) Interval(c *chisel.Control, ts uint64, delta int64) error { return nil }
func (g *goCounter) CaptureEnd(c *chisel.Control, ts uint64, delta int64) error {
	_, err := fmt.Fprintf(c.Host.Out, "go exits: %d\n", g.n)
	return err
}
func (g *goCounter) Close() {}

var goCounterDesc = chisel.Desc{Name: "gocount_test", Category: "Test", ShortDesc: "Count exit events (Go)", Description: "A built-in chisel of the tests."}

func init() {
	chisel.Register(chisel.Builtin{Desc: goCounterDesc, New: func() chisel.Program { return &goCounter{} }})
}

func TestChiselCommandLine(t *testing.T) {
	capture := writeCapture(t)
	dir := t.TempDir()
	files := map[string]string{
		"counter.lua": counterChisel,
		"opt.lua":     optChisel,
		"syntax.lua":  "args = {}\nfunction on_event()\n  if then\nend\n",
		"runtime.lua": "args = {}\nfunction on_event()\n  local t = nil\n  return t.x\nend\nfunction on_capture_end() print('end ran') end\n",
		"nofield.lua": "args = {}\nfunction on_init()\n  f = chisel.request_field(\"proc.nmae\")\n  return true\nend\n",
		"exits.lua":   "args = {}\nfunction on_event() print('bye') os.exit(3) end\n",
		"again.lua":   "args = {}\nfunction on_init() sysdig.run_app('-r " + capture + " -c counter 6') return true end\n",
	}
	for name, src := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		name      string
		args      []string
		code      int
		stdout    string // exact, unless "" and outSub is set
		outSub    string
		stderrSub string
	}{
		{name: "required arg, then filter", args: []string{"-r", capture, "-c", "counter", "2", "evt.dir=<"},
			stdout: "2\tclose\n4\tclose\n6\tclose\ntotal\t6\n"},
		{name: "required arg, no filter", args: []string{"-r", capture, "-c", "counter", "4"},
			stdout: "4\tclose\n8\tclose\n12\tclose\ntotal\t12\n"},
		{name: "missing required arg", args: []string{"-r", capture, "-c", "counter"}, code: 1, stderrSub: "missing arguments for chisel counter"},
		{name: "optional arg taken", args: []string{"-r", capture, "-c", "opt", "hello"}, stdout: "word\thello\n"},
		{name: "optional arg: a valid filter is the filter", args: []string{"-r", capture, "-c", "opt", "evt.dir=<"}, stdout: "word\tnil\n"},
		{name: "optional arg: an option is not taken", args: []string{"-c", "opt", "-r", capture}, stdout: "word\tnil\n"},
		{name: "filter error after args", args: []string{"-r", capture, "-c", "counter", "2", "evt.nope=1"}, code: 1, stderrSub: `unknown field "evt.nope"`},
		{name: "syntax error", args: []string{"-r", capture, "-c", "syntax"}, code: 1, stderrSub: "syntax.lua:3: syntax error"},
		{name: "runtime error", args: []string{"-r", capture, "-c", "runtime"}, code: 1, stderrSub: "runtime.lua:4: on_event: ", stdout: "end ran\n"},
		{name: "unknown field", args: []string{"-r", capture, "-c", "nofield"}, code: 1, stderrSub: `nofield.lua:3: on_init: chisel requesting nonexistent field proc.nmae: unknown field "proc.nmae" (did you mean "proc.name"?)`},
		{name: "not found", args: []string{"-r", capture, "-c", "nosuch"}, code: 1, stderrSub: "chisel nosuch: not found"},
		{name: "os.exit", args: []string{"-r", capture, "-c", "exits"}, code: 3, stdout: "bye\n"},
		{name: "run_app", args: []string{"-r", capture, "-c", "again"}, stdout: "6\tclose\n12\tclose\ntotal\t12\n"},
		{name: "two chisels", args: []string{"-r", capture, "-c", "counter", "6", "-c", "opt", "x"}, stdout: "6\tclose\n12\tclose\ntotal\t12\nword\tx\n"},
		{name: "built-in", args: []string{"-r", capture, "-c", "gocount_test"}, stdout: "go exits: 6\n"},
		{name: "list", args: []string{"-cl"}, outSub: "\nCategory: Test\n--------------\ncounter         Count events\ngocount_test    Count exit events (Go)\nopt             Optional\n"},
		{name: "info", args: []string{"-i", "counter"}, stdout: "\nCategory: Test\n--------------\ncounter         Count events\n\ncounts events\nArgs:\n[int] every - print every N events\n\n"},
		{name: "info, not found", args: []string{"-i", "nosuch"}, code: 1, stderrSub: "chisel nosuch not found"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var out, errb bytes.Buffer
			args := append([]string{"--chisel-dir", dir}, tc.args...)
			code := Main(args, &out, &errb)
			if code != tc.code {
				t.Errorf("exit code %d, want %d; stderr: %s", code, tc.code, errb.String())
			}
			if tc.stdout != "" && out.String() != tc.stdout {
				t.Errorf("stdout:\n%q\nwant:\n%q", out.String(), tc.stdout)
			}
			if tc.outSub != "" && !strings.Contains(out.String(), tc.outSub) {
				t.Errorf("stdout %q does not contain %q", out.String(), tc.outSub)
			}
			if tc.stderrSub != "" && !strings.Contains(errb.String(), tc.stderrSub) {
				t.Errorf("stderr %q does not contain %q", errb.String(), tc.stderrSub)
			}
			if strings.Contains(errb.String(), "panic") || strings.Contains(errb.String(), "goroutine ") {
				t.Errorf("stderr shows a Go panic: %s", errb.String())
			}
		})
	}
}

func TestChiselArgsDecision(t *testing.T) {
	tests := []struct {
		name  string
		args  []chisel.Arg
		after []string
		take  bool
		err   bool
	}{
		{"no args", nil, []string{"x"}, false, false},
		{"required", []chisel.Arg{{Name: "a"}}, []string{"-x"}, true, false},
		{"required missing", []chisel.Arg{{Name: "a"}}, nil, false, true},
		{"optional, option next", []chisel.Arg{{Name: "a", Optional: true}}, []string{"-r", "f"}, false, false},
		{"optional, nothing next", []chisel.Arg{{Name: "a", Optional: true}}, nil, false, false},
		{"optional filter arg", []chisel.Arg{{Name: "f", Type: "filter", Optional: true}}, []string{"proc.name=x"}, true, false},
		{"optional, valid filter follows", []chisel.Arg{{Name: "a", Optional: true}, {Name: "b", Optional: true}}, []string{"proc.name=x"}, false, false},
		{"optional, not a filter", []chisel.Arg{{Name: "a", Optional: true}}, []string{"disable_color"}, true, false},
	}
	for _, tc := range tests {
		d := &chisel.Desc{Name: "c", Args: tc.args}
		_, take, err := chiselArgs(d, ChiselOpt{Name: "c", After: tc.after})
		if take != tc.take || (err != nil) != tc.err {
			t.Errorf("%s: take %v err %v, want take %v err %v", tc.name, take, err, tc.take, tc.err)
		}
	}
}
