// Package chisel runs sysdig chisels: the Lua scripts written for sysdig
// (their description, short_description, category and args globals, the
// on_set_arg, on_init, on_capture_start, on_event, on_interval and
// on_capture_end hooks, and the sysdig.*, chisel.* and evt.* functions), run
// unchanged on gopher-lua with Lua 5.1 semantics, and built-in chisels written
// in Go, registered with Register. Both kinds are driven by the same Runner,
// which does what libsinsp does around a chisel: the chisel's own filter and
// event formatter, intervals that follow the events' timestamps, the end of
// the capture a chisel asks for, and chisel.exec.
//
// A chisel is found by name on a search path (see Path): a file NAME.lua (or
// NAME) in one of its directories, then the built-ins.
package chisel

import (
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"sync"

	"github.com/syscope/syscope/field"
	"github.com/syscope/syscope/filter"
	"github.com/syscope/syscope/format"
	"github.com/syscope/syscope/state"
)

// Arg describes an argument of a chisel.
type Arg struct {
	Name     string
	Type     string // sysdig's argtype: "string", "int", "filter"...
	Desc     string
	Optional bool
}

// Desc describes a chisel, as -cl lists it and -i shows it.
type Desc struct {
	Name        string
	Category    string
	ShortDesc   string
	Description string
	Args        []Arg
	// File is the Lua file of the chisel; empty for a built-in.
	File string
	// View marks a csysdig view (a Lua file with view_info): -i knows
	// it, -cl does not list it, -c does not run it.
	View bool
	// Hidden marks a built-in that -c runs but -cl and -i do not show
	// (table_generator, as sysdig's chisel of that name is hidden).
	Hidden bool
}

// required returns the number of arguments that are not optional.
func (d *Desc) required() int {
	n := 0
	for _, a := range d.Args {
		if !a.Optional {
			n++
		}
	}
	return n
}

// Program is the code of a chisel, a Lua script or a built-in. The Runner
// calls its hooks as sysdig calls a chisel's.
type Program interface {
	// Desc describes the chisel.
	Desc() *Desc
	// SetArg is on_set_arg: it receives each argument given on the command line.
	SetArg(name, value string) error
	// Init is on_init: the chisel requests its fields and sets its filter,
	// formatter and interval through c. The capture is not open yet.
	Init(c *Control) error
	// CaptureStart is on_capture_start: the capture is open.
	CaptureStart(c *Control) error
	// Event is on_event, for the events that passed the capture filter and
	// the chisel's filter. It reports whether the chisel's formatter (if any)
	// prints the event.
	Event(c *Control, e *state.Event) (bool, error)
	// Interval is on_interval, at ts (nanoseconds) delta nanoseconds after the previous one.
	Interval(c *Control, ts uint64, delta int64) error
	// CaptureEnd is on_capture_end, with the time of the last event and the
	// time from the first event to it.
	CaptureEnd(c *Control, ts uint64, delta int64) error
	// Close releases the program.
	Close()
}

// Builtin is a chisel written in Go.
type Builtin struct {
	Desc Desc
	// New returns a fresh instance of the chisel. If the Program has a
	// method Attach(*Control), it is called with the chisel's Control
	// before any hook (SetArg may then print, as on_set_arg can).
	New func() Program
}

var (
	builtinsMu sync.Mutex
	builtins   = map[string]*Builtin{}
)

// Register adds a built-in chisel. It panics if the name is taken, as a
// programming error caught by any test.
func Register(b Builtin) {
	builtinsMu.Lock()
	defer builtinsMu.Unlock()
	if b.Desc.Name == "" || b.New == nil {
		panic("chisel.Register: a built-in needs a name and New")
	}
	if _, dup := builtins[b.Desc.Name]; dup {
		panic("chisel.Register: duplicate built-in chisel " + b.Desc.Name)
	}
	b.Desc.File = ""
	builtins[b.Desc.Name] = &b
}

func lookupBuiltin(name string) *Builtin {
	builtinsMu.Lock()
	defer builtinsMu.Unlock()
	return builtins[name]
}

// Builtins returns the registered built-in chisels, sorted by name.
func Builtins() []Desc {
	builtinsMu.Lock()
	defer builtinsMu.Unlock()
	out := make([]Desc, 0, len(builtins))
	for _, b := range builtins {
		out = append(out, b.Desc)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// Host is what chisels see of the program that runs them. The command line
// fills it; State and Ctx must be set before Init.
type Host struct {
	State *state.State
	Ctx   *field.Ctx
	// Out receives what chisels print; Err their diagnostics.
	Out, Err io.Writer
	// Flush, if set, flushes Out (io.flush, and before os.exit).
	Flush func() error
	// Path finds the chisels that chisel.exec runs.
	Path *Path

	Live           bool
	InputFile      string // the capture file (sysdig.get_evtsource_name)
	PrintContainer bool   // -pc or -pk: sysdig.is_print_container_data
	JSON           bool   // -j: sysdig.get_output_format is "json", formatters write JSON
	// BufFmtForced is set when the command line chose a buffer format (-A,
	// -x, -X, -b): sysdig.set_output_format is then ignored.
	BufFmtForced bool
	IsTTY        bool
	// TermWidth and TermHeight are the terminal size, -1 when unknown.
	TermWidth, TermHeight int
	// Debug makes sysdig.log write to Err.
	Debug bool
	// SetSnaplen, if set, applies sysdig.set_snaplen (live captures).
	SetSnaplen func(n int)
	// Progress, if set, returns how much of the input was read, in percent.
	Progress func() float64

	flt        *filter.Filter
	fltText    string
	nextRun    string
	hasNextRun bool
}

// RunApp asks to run syscope again with the given command line once this
// run ends (sysdig.run_app).
func (h *Host) RunApp(cmdline string) { h.nextRun, h.hasNextRun = cmdline, true }

// NextRun returns the command line a chisel asked to run once this run ends
// (sysdig.run_app), split as sysdig splits it: at spaces outside double
// quotes, which are removed.
func (h *Host) NextRun() ([]string, bool) {
	if !h.hasNextRun {
		return nil, false
	}
	var res []string
	start, inq := 0, false
	s := h.nextRun
	for j := 0; j < len(s); j++ {
		switch {
		case s[j] == '"':
			inq = !inq
		case s[j] == ' ' && !inq:
			res = append(res, strings.ReplaceAll(s[start:j], "\"", ""))
			start = j + 1
		}
	}
	return append(res, s[start:]), true
}

// SetFilter sets the capture filter (the command line's, or sysdig.set_filter).
func (h *Host) SetFilter(text string) error {
	if text == "" {
		h.flt, h.fltText = nil, ""
		return nil
	}
	f, err := filter.Compile(text)
	if err != nil {
		return err
	}
	h.flt, h.fltText = f, text
	return nil
}

// SetCompiledFilter sets the capture filter from an already compiled one.
func (h *Host) SetCompiledFilter(f *filter.Filter) {
	h.flt, h.fltText = f, ""
	if f != nil {
		h.fltText = f.String()
	}
}

// Filter returns the capture filter, or nil.
func (h *Host) Filter() *filter.Filter { return h.flt }

func (h *Host) warnf(format string, args ...any) {
	if h.Err != nil {
		fmt.Fprintf(h.Err, format, args...)
	}
}

// Control is a running chisel's side of the engine: its filter, event
// formatter, interval, and requests to end the capture or to run another
// chisel. Programs change it from their hooks.
type Control struct {
	Host *Host

	name      string
	flt       *filter.Filter
	formatter *format.Formatter
	interval  uint64 // ns, 0: none
	precise   bool
	end       bool
	exec      *execRequest
	line      []byte
	cur       *state.Event
}

type execRequest struct {
	name string
	args []string
}

// Name is the name of the chisel.
func (c *Control) Name() string { return c.name }

// Event is the event being processed (the last one read), nil before the first.
func (c *Control) Event() *state.Event { return c.cur }

// SetFilter sets the chisel's filter: only the events it accepts reach
// on_event. An empty text removes it.
func (c *Control) SetFilter(text string) error {
	if text == "" {
		c.flt = nil
		return nil
	}
	f, err := filter.Compile(text)
	if err != nil {
		return err
	}
	c.flt = f
	return nil
}

// SetFormatter makes the engine print, with the -p format text, each event
// for which on_event returns true. "" and "default" select sysdig's default format.
func (c *Control) SetFormatter(text string) error {
	if text == "" || text == "default" {
		text = format.Default
	}
	fm, err := format.New(text, c.Host.JSON)
	if err != nil {
		return err
	}
	c.formatter = fm
	return nil
}

// SetInterval makes on_interval run every ns nanoseconds of event time, at
// multiples of ns (chisel.set_interval_ns, set_interval_s).
func (c *Control) SetInterval(ns uint64) { c.interval, c.precise = ns, false }

// SetPreciseInterval makes on_interval run every ns nanoseconds of event
// time from the first event, once for each interval that passed
// (chisel.set_precise_interval_ns).
func (c *Control) SetPreciseInterval(ns uint64) { c.interval, c.precise = ns, true }

// EndCapture ends the capture after the current event (sysdig.end_capture).
func (c *Control) EndCapture() { c.end = true }

// Exec replaces the chisel, once its on_init returns, with the chisel name
// given args (chisel.exec).
func (c *Control) Exec(name string, args []string) {
	c.exec = &execRequest{name: name, args: args}
}

// RequestField resolves a field name as written in a chisel: "fd.name",
// "evt.arg.fd", "proc.aname[2]".
func RequestField(name string) (*field.Field, error) {
	arg := ""
	if strings.HasSuffix(name, "]") {
		if i := strings.IndexByte(name, '['); i > 0 {
			name, arg = name[:i], name[i+1:len(name)-1]
		}
	}
	f, err := field.LookupDisplay(name, arg)
	if errors.Is(err, field.ErrFilterOnly) {
		return nil, fmt.Errorf("%s %w", name, err)
	}
	return f, err
}

// Error is a chisel failure: which chisel, where in its code (when known) and what.
type Error struct {
	Chisel string
	File   string // "" when unknown
	Line   int    // 0 when unknown
	Hook   string // "on_event"..., "" when loading
	Msg    string
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("chisel ")
	b.WriteString(e.Chisel)
	b.WriteString(": ")
	if e.File != "" {
		b.WriteString(e.File)
		if e.Line > 0 {
			fmt.Fprintf(&b, ":%d", e.Line)
		}
		b.WriteString(": ")
	}
	if e.Hook != "" {
		b.WriteString(e.Hook)
		b.WriteString(": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// Runner drives one chisel through a capture.
type Runner struct {
	ctl  Control
	prog Program
	args []string

	started    bool // the first event was seen
	lastSample uint64
	lastTS     uint64
}

// Open loads the chisel name from path for host.
func Open(path *Path, host *Host, name string) (*Runner, error) {
	if host.Path == nil {
		host.Path = path
	}
	r := &Runner{}
	r.ctl.Host = host
	prog, err := path.load(&r.ctl, name)
	if err != nil {
		return nil, err
	}
	r.prog = prog
	r.ctl.name = prog.Desc().Name
	return r, nil
}

// Desc describes the chisel.
func (r *Runner) Desc() *Desc { return r.prog.Desc() }

// Lua reports whether the chisel is a Lua script (which may call
// sysdig.get_read_progress), not a built-in.
func (r *Runner) Lua() bool {
	_, ok := r.prog.(*luaProgram)
	return ok
}

// SetArgs gives the chisel its arguments as written on sysdig's command line:
// one string, split at blanks except inside '...' or `...`.
func (r *Runner) SetArgs(line string) error {
	vals, err := SplitArgs(line)
	if err != nil {
		return &Error{Chisel: r.ctl.name, Msg: "corrupted parameters: " + err.Error()}
	}
	return r.SetArgList(vals)
}

// SetArgList gives the chisel its arguments, one value each.
func (r *Runner) SetArgList(vals []string) error {
	d := r.prog.Desc()
	req := d.required()
	if len(vals) < req {
		return &Error{Chisel: r.ctl.name, Msg: fmt.Sprintf("wrong number of parameters: %d required, %d given", req, len(vals))}
	}
	if len(vals) > len(d.Args) {
		return &Error{Chisel: r.ctl.name, Msg: fmt.Sprintf("too many parameters: %d required, %d optional, %d given", req, len(d.Args)-req, len(vals))}
	}
	for i, v := range vals {
		if err := r.prog.SetArg(d.Args[i].Name, v); err != nil {
			return err
		}
	}
	r.args = vals
	return nil
}

// Init runs on_init; when the chisel calls chisel.exec, the chisel it names
// replaces it, gets the arguments and is initialised in turn.
func (r *Runner) Init() error {
	for range 16 {
		if err := r.prog.Init(&r.ctl); err != nil {
			return err
		}
		ex := r.ctl.exec
		if ex == nil {
			return nil
		}
		// The new chisel starts afresh, as sysdig reloads it.
		host, cur := r.ctl.Host, r.ctl.cur
		r.prog.Close()
		r.ctl = Control{Host: host, cur: cur}
		prog, err := host.Path.load(&r.ctl, ex.name)
		if err != nil {
			return err
		}
		r.prog = prog
		r.ctl.name = prog.Desc().Name
		if err := r.SetArgs(joinArgs(ex.args)); err != nil {
			return err
		}
	}
	return &Error{Chisel: r.ctl.name, Msg: "chisel.exec nested too deeply"}
}

// CaptureStart runs on_capture_start.
func (r *Runner) CaptureStart() error { return r.prog.CaptureStart(&r.ctl) }

// Dropped gives the chisel an event that the capture filter rejected: only
// its timestamp counts, for the intervals. As in sysdig, the chisel does not
// see the event: an on_interval it triggers sees the last event that passed
// the capture filter (evt.field fails if there was none yet).
func (r *Runner) Dropped(e *state.Event) error {
	return r.tick(e.Ts)
}

// Event runs the chisel on an event that passed the capture filter. stop
// reports that the chisel ended the capture.
func (r *Runner) Event(e *state.Event) (stop bool, err error) {
	r.ctl.cur = e
	if err := r.tick(e.Ts); err != nil {
		return false, err
	}
	c := &r.ctl
	if c.flt != nil && !c.flt.Match(c.Host.Ctx, e) {
		return false, nil
	}
	show, err := r.prog.Event(c, e)
	if err != nil {
		return false, err
	}
	if c.end {
		return true, nil
	}
	if show && c.formatter != nil {
		var ok bool
		c.line, ok = c.formatter.Format(c.Host.Ctx, e, c.line[:0])
		if ok {
			c.line = append(c.line, '\n')
			if _, err := c.Host.Out.Write(c.line); err != nil {
				return false, err
			}
		}
	}
	return false, nil
}

// tick calls on_interval when an interval has passed at event time ts.
func (r *Runner) tick(ts uint64) error {
	c := &r.ctl
	if !r.started {
		r.started = true
		if c.interval != 0 {
			if c.precise {
				r.lastSample = ts
			} else {
				r.lastSample = ts - ts%c.interval
			}
		}
		return nil
	}
	if c.interval == 0 {
		return nil
	}
	if !c.precise {
		sample := ts - ts%c.interval
		if sample == r.lastSample {
			return nil
		}
		var delta int64
		if r.lastTS != 0 {
			delta = int64(ts - r.lastTS)
			if delta == 0 {
				return nil
			}
		}
		if err := r.prog.Interval(c, ts, delta); err != nil {
			return err
		}
		r.lastSample, r.lastTS = sample, ts
		return nil
	}
	iv := c.interval
	if ts-r.lastSample < iv {
		return nil
	}
	t := r.lastSample
	for ; t <= ts-iv; t += iv {
		if err := r.prog.Interval(c, t, int64(iv)); err != nil {
			return err
		}
	}
	r.lastSample = t
	return nil
}

// CaptureEnd runs on_capture_end.
func (r *Runner) CaptureEnd() error {
	st := r.ctl.Host.State
	var first, last uint64
	if st != nil {
		first, last = st.FirstEventTS, st.LastEventTS
	}
	return r.prog.CaptureEnd(&r.ctl, last, int64(last-first))
}

// Close releases the chisel.
func (r *Runner) Close() { r.prog.Close() }

// SplitArgs splits a chisel argument string as sysdig does: at spaces, except
// inside quotes (' or `), which are removed.
func SplitArgs(line string) ([]string, error) {
	line = strings.Trim(line, " \t\r\n")
	if line == "" {
		return nil, nil
	}
	var out []string
	begin, corr := 0, 0
	inq := false
	j := 0
	for ; j < len(line); j++ {
		switch c := line[j]; {
		case c == ' ' && !inq:
			out = append(out, line[begin:max(begin, j-corr)])
			begin, corr = j+1, 0
		case c == '\'' || c == '`':
			if inq {
				corr, inq = 1, false
			} else {
				begin++
				inq = true
			}
		}
	}
	if inq {
		return nil, fmt.Errorf("unterminated quote in %q", line)
	}
	return append(out, line[min(begin, j):max(begin, j-corr)]), nil
}

// joinArgs rebuilds an argument string from values, quoting those with a
// space, as sysdig does for chisel.exec.
func joinArgs(vals []string) string {
	var b strings.Builder
	for i, v := range vals {
		if i > 0 {
			b.WriteByte(' ')
		}
		if strings.Contains(v, " ") {
			b.WriteByte('\'')
			b.WriteString(v)
			b.WriteByte('\'')
		} else {
			b.WriteString(v)
		}
	}
	return b.String()
}
