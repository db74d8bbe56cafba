package builtin

import (
	"bufio"
	"bytes"
	"os"
	"strconv"
	"strings"

	"github.com/syscope/syscope/chisel"
	"github.com/syscope/syscope/field"
	"github.com/syscope/syscope/state"
)

// Log chisels: what processes write to log files and to syslog, and the
// data of UDP and memcached traffic.

// logDump is the optional export of spy_logs and spy_syslog: the events
// around each message, written by a second run of syscope.
type logDump struct {
	on      bool
	file    string
	rangeMS string
	entries []logEntry
	started bool
}

type logEntry struct {
	ts  uint64
	tid chisel.Value
}

func (d *logDump) setArg(name, value string) bool {
	switch name {
	case "dump_file_name":
		d.on, d.file = true, value
	case "dump_range_ms":
		d.rangeMS = value
	default:
		return false
	}
	return true
}

func (d *logDump) captureStart(b *base, c *chisel.Control) error {
	if d.on && c.Host.Live {
		write(c, []byte("events export not supported on live captures\n"))
		return b.fail("init() for chisel %s failed (on_capture_start returned false)", b.desc.Name)
	}
	d.started = true
	return nil
}

func (d *logDump) add(c *chisel.Control, e *state.Event, tid chisel.Value) {
	if d.on {
		tid.Str = bytes.Clone(tid.Str)
		d.entries = append(d.entries, logEntry{ts: e.Ts, tid: tid})
	}
}

// end prints how many entries there are and asks for the second run.
// finish ends a log chisel's output: the colour reset on a terminal, then
// the dump of the events around each message, if asked for.
func (d *logDump) finish(b *base, c *chisel.Control, tty bool, col colors) error {
	if tty {
		if err := col.end(c); err != nil {
			return err
		}
	}
	return d.end(b, c)
}

func (d *logDump) end(b *base, c *chisel.Control) error {
	if !d.on || !d.started {
		return nil
	}
	var a []byte
	a = append(a, "-F -r"...)
	if !c.Host.Live {
		a = append(a, c.Host.InputFile...)
	}
	a = append(a, " -w"...)
	a = append(a, d.file...)
	a = append(a, ' ')
	for i, en := range d.entries {
		if i > 0 {
			a = append(a, " or "...)
		}
		a = append(a, "(evt.around["...)
		a = strconv.AppendUint(a, uint64(uint32(en.ts/1e9)), 10)
		ns := strconv.FormatUint(uint64(uint32(en.ts%1e9)), 10)
		a = append(a, strings.Repeat("0", max(0, 9-len(ns)))...)
		a = append(a, ns...)
		a = append(a, "]="...)
		a = append(a, d.rangeMS...)
		a = append(a, " and thread.tid="...)
		var ok bool
		if a, ok = appendConcat(a, en.tid); !ok {
			return b.fail("on_capture_end: attempt to concatenate a %s value", luaType(en.tid))
		}
		a = append(a, ')')
	}
	if err := write(c, []byte("Writing events for "+strconv.Itoa(len(d.entries))+" log entries\n")); err != nil {
		return err
	}
	c.Host.RunApp(string(a))
	return nil
}

// logFilter is the files spy_logs takes for logs.
const logFilter = "(fd.name contains .log or fd.name contains _log or fd.name contains /var/log) and not (fd.name contains .gz or fd.name contains .tgz)"

// spyLogs is spy_logs: each line written to a log file, after the process
// and the file.
type spyLogs struct {
	base
	dump                           logDump
	colorOn                        bool
	col                            colors
	pc, tty                        bool
	buf, tid, pname, fdname, cname *chisel.FieldReader
	data, line, lower              []byte
}

func (s *spyLogs) SetArg(name, value string) error {
	if s.dump.setArg(name, value) {
		return nil
	}
	if name == "disable_color" && value == "disable_color" {
		s.colorOn = false
		return nil
	}
	return s.fail("on_set_arg(%q, %q) failed (returned false)", name, value)
}

func (s *spyLogs) Init(c *chisel.Control) error {
	s.col = newColors(s.colorOn)
	rs, err := s.readers("evt.buffer", "thread.tid", "proc.name", "fd.name", "container.name")
	if err != nil {
		return err
	}
	s.buf, s.tid, s.pname, s.fdname, s.cname = rs[0], rs[1], rs[2], rs[3], rs[4]
	s.pc = c.Host.PrintContainer
	setSnaplen(c, 2000)
	setOutputFormat(c, field.BufEOLs)
	if err := c.SetFilter("(" + logFilter + ") and evt.is_io_write=true and evt.dir=< and evt.failed=false"); err != nil {
		return err
	}
	s.tty = c.Host.IsTTY
	return nil
}

func (s *spyLogs) CaptureStart(c *chisel.Control) error { return s.dump.captureStart(&s.base, c) }

func (s *spyLogs) Event(c *chisel.Control, e *state.Event) (bool, error) {
	cx := ctx(c)
	buf := s.buf.Read(cx, e)
	cname := s.cname.Read(cx, e)
	fdname := s.fdname.Read(cx, e)
	pname := s.pname.Read(cx, e)
	if buf.Kind == chisel.ValueNone || buf.Kind == chisel.ValueBool {
		return false, s.fail("on_event: attempt to concatenate local 'buf' (a %s value)", luaType(buf))
	}
	s.data = buf.Append(s.data[:0])
	b := s.line[:0]
	for rest := s.data; rest != nil; {
		msg := rest
		if i := bytes.IndexByte(rest, '\n'); i >= 0 {
			msg, rest = rest[:i], rest[i+1:]
		} else {
			rest = nil
		}
		if len(msg) == 0 {
			continue
		}
		if s.tty {
			color := s.col.green
			s.lower = append(s.lower[:0], msg...)
			for i, ch := range s.lower {
				if ch >= 'A' && ch <= 'Z' {
					s.lower[i] = ch + 'a' - 'A'
				}
			}
			if bytes.Contains(s.lower, []byte("warn")) {
				color = s.col.yellow
			} else if bytes.Contains(msg, []byte("err")) {
				color = s.col.red
			}
			b = append(b, color...)
			b = append(b, ' ')
			if s.pc {
				if cname.Kind == chisel.ValueString && string(cname.Str) == "host" {
					b = append(b, color...)
				} else {
					b = append(b, s.col.blue...)
				}
				b = append(b, ' ')
				b = appendLuaString(b, cname)
				b = append(b, ' ')
				b = append(b, color...)
				b = append(b, ' ')
			}
		} else if s.pc {
			b = appendLuaString(b, cname)
			b = append(b, ' ')
		}
		var ok bool
		if b, ok = appendConcat(b, pname); !ok {
			return false, s.fail("on_event: attempt to concatenate local 'pname' (a %s value)", luaType(pname))
		}
		b = append(b, ' ')
		if b, ok = appendConcat(b, fdname); !ok {
			return false, s.fail("on_event: attempt to concatenate local 'fdname' (a %s value)", luaType(fdname))
		}
		b = append(b, ' ')
		b = append(b, msg...)
		b = append(b, '\n')
	}
	s.line = b
	if err := write(c, b); err != nil {
		return false, err
	}
	s.dump.add(c, e, s.tid.Read(cx, e))
	return true, nil
}

func (s *spyLogs) CaptureEnd(c *chisel.Control, ts uint64, delta int64) error {
	return s.dump.finish(&s.base, c, s.tty, s.col)
}

// spySyslog is spy_syslog: each message written to syslog, with its
// facility, severity, process and thread.
type spySyslog struct {
	base
	dump                                           logDump
	colorOn                                        bool
	col                                            colors
	pc, tty                                        bool
	fac, sev, sevcode, msg, tid, pname, cname, cid *chisel.FieldReader
	sc                                             scratch
	line                                           []byte
}

func (s *spySyslog) SetArg(name, value string) error {
	if s.dump.setArg(name, value) {
		return nil
	}
	if name == "disable_color" && value == "disable_color" {
		s.colorOn = false
		return nil
	}
	return s.fail("on_set_arg(%q, %q) failed (returned false)", name, value)
}

func (s *spySyslog) Init(c *chisel.Control) error {
	s.col = newColors(s.colorOn)
	rs, err := s.readers("syslog.facility.str", "syslog.severity.str", "syslog.severity", "syslog.message", "thread.tid", "proc.name", "container.name", "container.id")
	if err != nil {
		return err
	}
	s.fac, s.sev, s.sevcode, s.msg, s.tid, s.pname, s.cname, s.cid = rs[0], rs[1], rs[2], rs[3], rs[4], rs[5], rs[6], rs[7]
	s.pc = c.Host.PrintContainer
	setSnaplen(c, 1000)
	if err := c.SetFilter("fd.name contains /dev/log and evt.is_io_write=true and evt.dir=< and evt.failed=false"); err != nil {
		return err
	}
	s.tty = c.Host.IsTTY
	return nil
}

func (s *spySyslog) CaptureStart(c *chisel.Control) error { return s.dump.captureStart(&s.base, c) }

func (s *spySyslog) Event(c *chisel.Control, e *state.Event) (bool, error) {
	cx := ctx(c)
	fac := s.fac.Read(cx, e)
	sev := s.sev.Read(cx, e)
	msg := s.msg.Read(cx, e)
	sevcode := s.sevcode.Read(cx, e)
	tid := s.tid.Read(cx, e)
	pname := s.pname.Read(cx, e)
	cname := s.cname.Read(cx, e)
	cid := s.cid.Read(cx, e)
	if !tid.IsNumber() {
		return false, s.fail("on_event: bad argument to 'format' (number expected, got %s)", luaType(tid))
	}
	b := s.line[:0]
	switch {
	case s.tty:
		color := s.col.green
		switch {
		case sevcode.IsNumber() && sevcode.Num == 4:
			color = s.col.yellow
		case !sevcode.IsNumber():
			return false, s.fail("on_event: attempt to compare %s with number", luaType(sevcode))
		case sevcode.Num < 4:
			color = s.col.red
		case !(cname.Kind == chisel.ValueString && string(cname.Str) == "host"):
			color = s.col.blue
		}
		b = append(b, color...)
		if s.pc {
			b = s.sc.val(b, cid, 20, -1)
			b = append(b, ' ')
			b = s.sc.val(b, cname, 20, -1)
			b = append(b, ' ')
		}
	case s.pc:
		// sysdig's chisel puts the facility first here.
		b = s.sc.val(b, fac, 20, -1)
		b = append(b, ' ')
		b = s.sc.val(b, cid, 20, -1)
		b = append(b, ' ')
		b = appendLuaString(b, cname)
		b = append(b, '.')
		b = appendLuaString(b, sev)
		goto rest
	}
	b = appendLuaString(b, fac)
	b = append(b, '.')
	b = appendLuaString(b, sev)
rest:
	b = append(b, ' ')
	b = appendLuaString(b, pname)
	b = append(b, '[')
	b = appendU(b, tid.Num, 0)
	b = append(b, "] "...)
	b = appendLuaString(b, msg)
	b = append(b, '\n')
	s.line = b
	if err := write(c, b); err != nil {
		return false, err
	}
	s.dump.add(c, e, tid)
	return true, nil
}

func (s *spySyslog) CaptureEnd(c *chisel.Control, ts uint64, delta int64) error {
	return s.dump.finish(&s.base, c, s.tty, s.col)
}

// memcacheLog is memcachelog: the get and set commands sent to memcached.
type memcacheLog struct {
	base
	method         string
	hasMethod      bool
	size           float64
	hasSize        bool
	data, datetime *chisel.FieldReader
	line           []byte
}

func (m *memcacheLog) SetArg(name, value string) error {
	switch name {
	case "method":
		m.method, m.hasMethod = value, true
	case "size":
		m.size, m.hasSize = luaToNumber(value)
	default:
		return m.base.SetArg(name, value)
	}
	return nil
}

func (m *memcacheLog) Init(c *chisel.Control) error {
	if err := c.Host.SetFilter("(fd.sport=11211 or proc.name=memcached) and evt.is_io=true"); err != nil {
		return err
	}
	setSnaplen(c, 4096)
	var err error
	if m.data, err = m.reader("evt.arg[1]"); err != nil {
		return err
	}
	m.datetime, err = m.reader("evt.datetime")
	return err
}

func (m *memcacheLog) Event(c *chisel.Control, e *state.Event) (bool, error) {
	cx := ctx(c)
	data := m.data.Read(cx, e)
	if data.Kind == chisel.ValueNone || data.Kind == chisel.ValueBool {
		return false, m.fail("on_event: attempt to concatenate local 's' (a %s value)", luaType(data))
	}
	m.line = data.Append(m.line[:0])
	words := bytes.Split(m.line, []byte(" "))
	w0 := words[0]
	if len(w0) < 3 || w0[0] != 'g' && w0[0] != 's' || w0[1] != 'e' || w0[2] != 't' || len(words) < 2 {
		return true, nil
	}
	size := 0.0
	if len(words) >= 5 {
		if v, ok := luaToNumber(string(words[4])); ok {
			size = v
		}
	}
	if m.hasMethod && m.method != string(w0) {
		return true, nil
	}
	if m.hasMethod && m.method == "set" {
		if !m.hasSize {
			return false, m.fail("on_event: attempt to compare nil with number")
		}
		if size < m.size {
			return true, nil
		}
	}
	key := words[1]
	var b []byte
	b = appendLuaString(b, m.datetime.Read(cx, e))
	b = append(b, " method="...)
	b = append(b, w0...)
	b = append(b, " size="...)
	b = appendD(b, size)
	b = append(b, "B key="...)
	b = append(b, key...)
	b = append(b, '\n')
	return true, write(c, b)
}

// udpExtract is udp_extract: the data of each UDP socket written to a file
// named after it in ./udp_dump_files.
type udpExtract struct {
	base
	buf, fdname *chisel.FieldReader
	files       map[string]*udpFile
}

type udpFile struct {
	f *os.File
	w *bufio.Writer
}

const udpDir = "./udp_dump_files"

func (u *udpExtract) Init(c *chisel.Control) error {
	rs, err := u.readers("evt.rawarg.data", "evt.rawarg.res", "fd.name", "fd.type")
	if err != nil {
		return err
	}
	u.buf, u.fdname = rs[0], rs[2]
	os.Mkdir(udpDir, 0o777) // an error (it exists...) is ignored, as sysdig's mkdir does
	setSnaplen(c, 16384)
	u.files = make(map[string]*udpFile)
	return c.SetFilter("evt.dir=< and evt.rawres>=0 and fd.l4proto=udp and evt.is_io=true")
}

func (u *udpExtract) CaptureStart(c *chisel.Control) error {
	if c.Host.Live {
		write(c, []byte("live capture not supported\n"))
		return u.fail("init() for chisel %s failed (on_capture_start returned false)", u.desc.Name)
	}
	return nil
}

func (u *udpExtract) Event(c *chisel.Control, e *state.Event) (bool, error) {
	cx := ctx(c)
	buf := u.buf.Read(cx, e)
	name := u.fdname.Read(cx, e)
	if name.Kind == chisel.ValueNone || name.Kind == chisel.ValueBool {
		return false, u.fail("on_event: attempt to concatenate local 'fdname' (a %s value)", luaType(name))
	}
	key := string(name.Append(nil))
	f := u.files[key]
	if f == nil {
		fn := strings.NewReplacer(":", "_", ">", "-").Replace(udpDir + "/" + key)
		of, err := os.Create(fn)
		if err != nil {
			return false, u.fail("on_event: attempt to index a nil value (cannot open %s: %v)", fn, err)
		}
		f = &udpFile{f: of, w: bufio.NewWriter(of)}
		u.files[key] = f
	}
	if buf.Kind == chisel.ValueNone || buf.Kind == chisel.ValueBool {
		return false, u.fail("on_event: bad argument #1 to 'write' (string expected, got %s)", luaType(buf))
	}
	_, err := f.w.Write(buf.Append(nil))
	return true, err
}

func (u *udpExtract) CaptureEnd(c *chisel.Control, ts uint64, delta int64) error {
	var first error
	for _, f := range u.files {
		if err := f.w.Flush(); err != nil && first == nil {
			first = err
		}
	}
	return first
}

func (u *udpExtract) Close() {
	for _, f := range u.files {
		f.w.Flush()
		f.f.Close()
	}
	u.files = nil
}

func init() {
	dumpArgs := []chisel.Arg{
		{Name: "dump_file_name", Type: "string", Optional: true, Desc: "a capture file to write the events around each message to"},
		{Name: "dump_range_ms", Type: "int", Optional: true, Desc: "how many milliseconds before and after each message to write (1000 by default)"},
		{Name: "disable_color", Type: "string", Optional: true, Desc: "'disable_color' to print without colours"},
	}
	register(chisel.Desc{Name: "spy_logs", Category: "Logs", ShortDesc: "Lines written to log files; optionally, the events around each one written to a capture file.",
		Description: "Prints each line that processes write to files whose name looks like a log (.log, _log, /var/log; compressed files left out), after the process and the file. A filter narrows it (proc.name=..., evt.buffer contains ...). On a terminal lines are coloured by what they say (errors red, warnings yellow). With dump_file_name the events around each line are written to that file. With -pc or -pcontainer the container is shown too.",
		Args:        dumpArgs,
	}, func(d *chisel.Desc) chisel.Program {
		return &spyLogs{base: base{desc: d}, colorOn: true, dump: logDump{rangeMS: "1000"}}
	})
	register(chisel.Desc{Name: "spy_syslog", Category: "Logs", ShortDesc: "Messages written to syslog; optionally, the events around each one written to a capture file.",
		Description: "Prints each message that processes write to syslog (/dev/log) with its facility, severity, process and thread. A filter narrows it (proc.name=..., syslog.message contains ...). With dump_file_name the events around each message are written to that file.",
		Args:        dumpArgs,
	}, func(d *chisel.Desc) chisel.Program {
		return &spySyslog{base: base{desc: d}, colorOn: true, dump: logDump{rangeMS: "1000"}}
	})
	register(chisel.Desc{Name: "memcachelog", Category: "Application", ShortDesc: "A log of memcached requests",
		Description: "Prints the get and set commands sent to memcached (port 11211, or the memcached process), optionally only gets or sets, and only sets of objects at least as large as the given size.",
		Args: []chisel.Arg{
			{Name: "method", Optional: true, Desc: "get or set"},
			{Name: "size", Optional: true, Desc: "the smallest object size for sets"},
		},
	}, func(d *chisel.Desc) chisel.Program { return &memcacheLog{base: base{desc: d}} })
	register(chisel.Desc{Name: "udp_extract", Category: "I/O", ShortDesc: "The data of UDP sockets, to files.",
		Description: "Writes the data read and written on each UDP socket to its own file in the directory " + udpDir + ", named after the socket's addresses. It works on capture files only.",
	}, func(d *chisel.Desc) chisel.Program { return &udpExtract{base: base{desc: d}} })
}
