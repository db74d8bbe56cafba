package builtin

import (
	"bytes"
	"net"
	"strconv"

	"github.com/syscope/syscope/chisel"
	"github.com/syscope/syscope/state"
)

// around saves the events around those the capture filter matches, on the
// same thread, to a file (through a second run of syscope).
type around struct {
	base
	dump              logDump
	tty               bool
	pname, tid, etime *chisel.FieldReader
	line              []byte
}

func (a *around) SetArg(name, value string) error {
	switch name {
	case "dump_file_name":
		a.dump.on, a.dump.file = true, value
	case "dump_range_ms":
		a.dump.rangeMS = value
	default:
		return a.fail("on_set_arg(%q, %q) failed (returned false)", name, value)
	}
	return nil
}

func (a *around) Init(c *chisel.Control) error {
	rs, err := a.readers("proc.name", "thread.tid", "evt.time")
	if err != nil {
		return err
	}
	a.pname, a.tid, a.etime = rs[0], rs[1], rs[2]
	a.tty = c.Host.IsTTY
	if c.Host.Filter() == nil {
		write(c, []byte("no filter specified\n"))
		return a.fail("init() for chisel %s failed (on_init returned false)", a.desc.Name)
	}
	return nil
}

func (a *around) CaptureStart(c *chisel.Control) error {
	if c.Host.Live {
		write(c, []byte("live capture not supported\n"))
		return a.fail("init() for chisel %s failed (on_capture_start returned false)", a.desc.Name)
	}
	a.dump.started = true
	return nil
}

func (a *around) Event(c *chisel.Control, e *state.Event) (bool, error) {
	cx := ctx(c)
	pname := a.pname.Read(cx, e)
	tid := a.tid.Read(cx, e)
	etime := a.etime.Read(cx, e)
	b := a.line[:0]
	var ok bool
	if b, ok = appendConcat(b, etime); !ok {
		return false, a.fail("on_event: attempt to concatenate local 'etime' (a %s value)", luaType(etime))
	}
	b = append(b, ' ')
	if pname.Kind == chisel.ValueNone {
		b = append(b, "<NA>"...)
	} else if b, ok = appendConcat(b, pname); !ok {
		return false, a.fail("on_event: attempt to concatenate local 'pname' (a %s value)", luaType(pname))
	}
	b = append(b, '(')
	if b, ok = appendConcat(b, tid); !ok {
		return false, a.fail("on_event: attempt to concatenate local 'tid' (a %s value)", luaType(tid))
	}
	b = append(b, ")\n"...)
	a.line = b
	if err := write(c, b); err != nil {
		return false, err
	}
	tid.Str = bytes.Clone(tid.Str)
	a.dump.entries = append(a.dump.entries, logEntry{ts: e.Ts, tid: tid})
	return true, nil
}

func (a *around) CaptureEnd(c *chisel.Control, ts uint64, delta int64) error {
	if a.tty {
		if err := write(c, []byte("\x1b[0m\n")); err != nil {
			return err
		}
	}
	if !a.dump.started {
		return nil
	}
	// The same second run as spy_logs', announced differently.
	var args []byte
	args = append(args, "-F -r"...)
	if !c.Host.Live {
		args = append(args, c.Host.InputFile...)
	}
	args = append(args, " -w"...)
	args = append(args, a.dump.file...)
	args = append(args, ' ')
	for i, en := range a.dump.entries {
		if i > 0 {
			args = append(args, " or "...)
		}
		args = append(args, "(evt.around["...)
		args = strconv.AppendUint(args, uint64(uint32(en.ts/1e9)), 10)
		ns := strconv.AppendUint(nil, uint64(uint32(en.ts%1e9)), 10)
		for n := len(ns); n < 9; n++ {
			args = append(args, '0')
		}
		args = append(args, ns...)
		args = append(args, "]="...)
		args = append(args, a.dump.rangeMS...)
		args = append(args, " and thread.tid="...)
		var ok bool
		if args, ok = appendConcat(args, en.tid); !ok {
			return a.fail("on_capture_end: attempt to concatenate a %s value", luaType(en.tid))
		}
		args = append(args, ')')
	}
	msg := "\nSaving events around " + strconv.Itoa(len(a.dump.entries)) + " syslog entries to " + a.dump.file + "\n"
	if err := write(c, []byte(msg)); err != nil {
		return err
	}
	c.Host.RunApp(string(args))
	return nil
}

// tracersStatsd is tracers_2_statsd: the duration of each span, sent as a
// statsd timer to 127.0.0.1:8125.
type tracersStatsd struct {
	base
	tags, duration *chisel.FieldReader
	conn           *net.UDPConn
	msg            []byte
}

func (t *tracersStatsd) SetArg(name, value string) error {
	switch name {
	case "server_addr", "server_port":
		// Accepted, and unused: sysdig's chisel always sends to the default.
		return nil
	}
	return t.base.SetArg(name, value)
}

func (t *tracersStatsd) Init(c *chisel.Control) error {
	conn, err := net.DialUDP("udp4", nil, &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 8125})
	if err != nil {
		return t.fail("udp_setpeername error: %v", err)
	}
	t.conn = conn
	if t.tags, err = t.reader("span.tags"); err != nil {
		return err
	}
	if t.duration, err = t.reader("span.duration"); err != nil {
		return err
	}
	return c.SetFilter("evt.type=tracer and evt.dir=<")
}

func (t *tracersStatsd) Event(c *chisel.Control, e *state.Event) (bool, error) {
	cx := ctx(c)
	tags := t.tags.Read(cx, e)
	lat := t.duration.Read(cx, e)
	if !truthy(lat) {
		return true, nil
	}
	if tags.Kind != chisel.ValueString && !tags.IsNumber() {
		return false, t.fail("on_event: attempt to index local 'stat' (a %s value)", luaType(tags))
	}
	var ms float64
	if lat.IsNumber() {
		ms = lat.Num / 1000000
	} else if v, ok := luaToNumber(string(lat.Str)); ok {
		ms = v / 1000000
	} else {
		return false, t.fail("on_event: attempt to perform arithmetic on a nil value")
	}
	m := tags.Append(t.msg[:0])
	for i, ch := range m {
		if ch == ':' || ch == '|' || ch == '@' {
			m[i] = '_'
		}
	}
	m = append(m, ':')
	m = chisel.AppendNumber(m, ms)
	m = append(m, "|ms"...)
	t.msg = m
	if _, err := t.conn.Write(m); err != nil {
		return false, t.fail("udp_send error: cannot send the buffer: %v", err)
	}
	return true, nil
}

func (t *tracersStatsd) Close() {
	if t.conn != nil {
		t.conn.Close()
		t.conn = nil
	}
}

func init() {
	register(chisel.Desc{Name: "around", Category: "Misc", ShortDesc: "The events around those a filter matches, saved to a file.",
		Description: "For each event the filter on the command line matches, prints it and saves the events of the same thread in a time range around it to a capture file, e.g. two seconds around each failed open with 'evt.type=open and evt.failed=true'. dump_range_ms sets the range.",
		Args: []chisel.Arg{
			{Name: "dump_file_name", Type: "string", Desc: "the capture file to write"},
			{Name: "dump_range_ms", Type: "int", Optional: true, Desc: "how many milliseconds before and after each match to save (1000 by default)"},
		},
	}, func(d *chisel.Desc) chisel.Program {
		return &around{base: base{desc: d}, dump: logDump{rangeMS: "1000"}}
	})
	register(chisel.Desc{Name: "tracers_2_statsd", Category: "Tracers", ShortDesc: "Span durations as statsd metrics.",
		Description: "Sends the duration of each tracer span, as a statsd timer named after its tags, to the statsd server on 127.0.0.1:8125 (UDP).",
		Args: []chisel.Arg{
			{Name: "server_addr", Type: "string", Optional: true, Desc: "the statsd server's address (unused: 127.0.0.1)"},
			{Name: "server_port", Type: "string", Optional: true, Desc: "the statsd server's UDP port (unused: 8125)"},
		},
	}, func(d *chisel.Desc) chisel.Program { return &tracersStatsd{base: base{desc: d}} })
}
