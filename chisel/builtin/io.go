package builtin

import (
	"github.com/syscope/syscope/chisel"
	"github.com/syscope/syscope/event"
	"github.com/syscope/syscope/field"
	"github.com/syscope/syscope/state"
)

// Chisels that print the data processes read and write.

// setSnaplen is sysdig.set_snaplen: how much of each buffer a live capture keeps.
func setSnaplen(c *chisel.Control, n int) {
	if f := c.Host.SetSnaplen; f != nil {
		f(n)
	}
}

// setOutputFormat is sysdig.set_output_format for a buffer format: it
// applies unless the command line chose one (-A, -x, -X, -b, -j).
func setOutputFormat(c *chisel.Control, f field.BufFmt) {
	if cx := ctx(c); cx != nil && cx.R.BufFmt == field.BufNormal {
		cx.R.BufFmt = f
	}
}

// echoFDs is echo_fds: a coloured header for each successful read or
// write (direction, size, fd name, process), then the data, printed by the
// chisel's formatter.
type echoFDs struct {
	base
	colorOn bool
	col     colors
	isRead  *chisel.FieldReader
	res     *chisel.FieldReader
	fdName  *chisel.FieldReader
	pname   *chisel.FieldReader
	cname   *chisel.FieldReader
	cid     *chisel.FieldReader
	rawres  *chisel.FieldReader
	pc      bool
	line    []byte
}

func (x *echoFDs) SetArg(name, value string) error {
	if name == "disable_color" && value == "disable_color" {
		x.colorOn = false
	}
	return nil
}

func (x *echoFDs) Init(c *chisel.Control) error {
	x.col = newColors(x.colorOn)
	// evt.rawarg.data is asked for too, and never read.
	rs, err := x.readers("evt.rawarg.data", "evt.is_io_read", "evt.rawarg.res", "fd.name", "proc.name", "container.name", "container.id", "evt.rawres")
	if err != nil {
		return err
	}
	x.isRead, x.res, x.fdName, x.pname, x.cname, x.cid, x.rawres = rs[1], rs[2], rs[3], rs[4], rs[5], rs[6], rs[7]
	x.pc = c.Host.PrintContainer
	setSnaplen(c, 2000)
	// sysdig's chisel sets the filter "evt.is_io=true and evt.dir=< and
	// evt.rawres>0": Event tests it itself, which is cheaper than running a
	// filter on every event.
	return c.SetFormatter("%evt.arg.data")
}

// isIOExit is the filter of echo_fds: evt.is_io=true and evt.dir=< and
// evt.rawres>0.
func (x *echoFDs) isIOExit(cx *field.Ctx, e *state.Event) bool {
	if e.Info.Flags&(event.EFReadsFromFD|event.EFWritesToFD) == 0 || e.Type.IsEnter() {
		return false
	}
	r := x.rawres.Read(cx, e)
	return r.IsNumber() && r.Num > 0
}

func (x *echoFDs) Event(c *chisel.Control, e *state.Event) (bool, error) {
	cx := ctx(c)
	if !x.isIOExit(cx, e) {
		return false, nil
	}
	isRead := x.isRead.Read(cx, e)
	res := x.res.Read(cx, e)
	name := x.fdName.Read(cx, e)
	pname := x.pname.Read(cx, e)
	if !res.IsNumber() {
		return false, x.fail("on_event: attempt to compare %s with number", luaType(res))
	}
	if res.Num <= 0 {
		return true, nil
	}
	b := x.line[:0]
	col := x.col.blue
	if truthy(isRead) {
		col = x.col.red
	}
	b = append(b, col...)
	if truthy(isRead) {
		b = append(b, "------ Read "...)
		b = appendBytes(b, res.Num)
		b = append(b, " from "...)
	} else {
		b = append(b, "------ Write "...)
		b = appendBytes(b, res.Num)
		b = append(b, " to "...)
	}
	if x.pc {
		cname := x.cname.Read(cx, e)
		cid := x.cid.Read(cx, e)
		if cname.Kind == chisel.ValueString && string(cname.Str) == "host" {
			b = append(b, x.col.green...)
		} else {
			b = append(b, x.col.cyan...)
		}
		b = append(b, " ["...)
		b = appendLuaString(b, cname)
		b = append(b, "] ["...)
		b = appendLuaString(b, cid)
		b = append(b, ']')
	}
	b = append(b, ' ')
	b = append(b, col...)
	b = append(b, ' ')
	if name.Kind == chisel.ValueNone {
		b = append(b, "<NA>"...)
	} else {
		b = name.Append(b)
	}
	b = append(b, " ("...)
	b = appendLuaString(b, pname)
	b = append(b, ")\n"...)
	x.line = b
	return true, write(c, b)
}

func (x *echoFDs) CaptureEnd(c *chisel.Control, ts uint64, delta int64) error {
	return x.col.end(c)
}

// stdStream is stdin and stdout: the data read or written on fd 0 or 1.
type stdStream struct {
	base
	filter string
	buf    *chisel.FieldReader
	line   []byte
}

func (s *stdStream) Init(c *chisel.Control) error {
	var err error
	if s.buf, err = s.reader("evt.rawarg.data"); err != nil {
		return err
	}
	setSnaplen(c, 2000)
	return c.SetFilter(s.filter)
}

func (s *stdStream) Event(c *chisel.Control, e *state.Event) (bool, error) {
	v := s.buf.Read(ctx(c), e)
	if v.Kind != chisel.ValueNone {
		s.line = append(v.Append(s.line[:0]), '\n')
		return true, write(c, s.line)
	}
	return true, nil
}

// stdErr is stderr: the data written on fd 2, with -pc after the container.
type stdErr struct {
	base
	colorOn bool
	col     colors
	buf     *chisel.FieldReader
	cname   *chisel.FieldReader
	cid     *chisel.FieldReader
	pc      bool
	line    []byte
}

func (s *stdErr) SetArg(name, value string) error {
	if name == "disable_color" && value == "disable_color" {
		s.colorOn = false
		return nil
	}
	return s.fail("on_set_arg(%q, %q) failed (returned false)", name, value)
}

func (s *stdErr) Init(c *chisel.Control) error {
	s.col = newColors(s.colorOn)
	rs, err := s.readers("evt.rawarg.data", "container.name", "container.id")
	if err != nil {
		return err
	}
	s.buf, s.cname, s.cid = rs[0], rs[1], rs[2]
	s.pc = c.Host.PrintContainer
	setSnaplen(c, 2000)
	return c.SetFilter("fd.num=2 and evt.is_io=true")
}

func (s *stdErr) Event(c *chisel.Control, e *state.Event) (bool, error) {
	cx := ctx(c)
	buf := s.buf.Read(cx, e)
	cname := s.cname.Read(cx, e)
	cid := s.cid.Read(cx, e)
	if buf.Kind == chisel.ValueNone {
		return true, nil
	}
	b := s.line[:0]
	if s.pc {
		if cname.Kind == chisel.ValueString && string(cname.Str) == "host" {
			b = append(b, s.col.green...)
		} else {
			b = append(b, s.col.blue...)
		}
		b = appendPadded(b, cid, 20)
		b = append(b, ' ')
		b = appendPadded(b, cname, 20)
		b = append(b, ' ')
	}
	b = buf.Append(b)
	b = append(b, '\n')
	s.line = b
	return true, write(c, b)
}

// appendPadded is string.format("%-N.Ns", v).
func appendPadded(b []byte, v chisel.Value, n int) []byte {
	start := len(b)
	b = appendLuaString(b, v)
	if len(b)-start > n {
		b = b[:start+n]
	}
	for len(b)-start < n {
		b = append(b, ' ')
	}
	return b
}

// spyNet is spy_ip and spy_port: the data exchanged with an address or on
// a port, under a header when the direction changes.
type spyNet struct {
	base
	argName  string // host_ip or host_port
	arg      string
	filterOn string // fd.ip= or fd.port=
	writeHdr string // the header of writes: spy_ip says Read there too
	colorOn  bool
	col      colors
	data     *chisel.FieldReader
	isRead   *chisel.FieldReader
	res      *chisel.FieldReader
	dir      int // 0, dirRead, dirWrite
	info     []byte
	line     []byte
}

const (
	dirRead  = 1
	dirWrite = 2
)

func (s *spyNet) SetArg(name, value string) error {
	switch name {
	case s.argName:
		s.arg = value
	case "disable_color":
		if value == "disable_colors" {
			s.colorOn = false
		}
	default:
		return s.base.SetArg(name, value)
	}
	return nil
}

func (s *spyNet) Init(c *chisel.Control) error {
	s.col = newColors(s.colorOn)
	rs, err := s.readers("evt.arg.data", "evt.is_io_read", "evt.rawarg.res")
	if err != nil {
		return err
	}
	s.data, s.isRead, s.res = rs[0], rs[1], rs[2]
	setSnaplen(c, 1000)
	if err := c.SetFilter("evt.is_io=true and (fd.type=ipv4 or fd.type=ipv6) and " + s.filterOn + s.arg); err != nil {
		return s.fail("invalid filter in chisel %s: %v", s.desc.Name, err)
	}
	return nil
}

func (s *spyNet) Event(c *chisel.Control, e *state.Event) (bool, error) {
	cx := ctx(c)
	res := s.res.Read(cx, e)
	data := s.data.Read(cx, e)
	if res.Kind == chisel.ValueNone {
		return true, nil
	}
	if !res.IsNumber() {
		return false, s.fail("on_event: attempt to compare %s with number", luaType(res))
	}
	if res.Num <= 0 || data.Kind == chisel.ValueNone {
		return true, nil
	}
	isRead := truthy(s.isRead.Read(cx, e))
	switch {
	case isRead && s.dir != dirRead:
		s.info = append(append(s.info[:0], s.col.red...), "------ Read "...)
		s.info = appendBytes(s.info, res.Num)
		s.dir = dirRead
	case !isRead && s.dir != dirWrite:
		s.info = append(append(s.info[:0], s.col.blue...), s.writeHdr...)
		s.info = appendBytes(s.info, res.Num)
		s.dir = dirWrite
	}
	// As in sysdig, the header is printed before every payload: the last
	// one made when the direction stays the same.
	b := append(s.line[:0], s.info...)
	b = append(b, '\n')
	b = data.Append(b)
	b = append(b, '\n')
	s.line = b
	return true, write(c, b)
}

func (s *spyNet) CaptureEnd(c *chisel.Control, ts uint64, delta int64) error {
	return s.col.end(c)
}

// spyFile is spy_file: every successful read and write on files, with the
// time, process, direction, size, file and data (in ASCII).
type spyFile struct {
	base
	rw, file string
	fields   []*chisel.FieldReader // data, fd.name, is_io_write, pid, name, res, time
	line     []byte
}

func (s *spyFile) SetArg(name, value string) error {
	switch name {
	case "read_or_write":
		s.rw = value
	case "spy_on_file_name":
		s.file = value
	default:
		return s.base.SetArg(name, value)
	}
	return nil
}

func (s *spyFile) Init(c *chisel.Control) error {
	// evt.buffer and thread.tid are asked for too, and never read.
	rs, err := s.readers("evt.buffer", "evt.arg.data", "fd.name", "evt.is_io_write", "proc.pid", "proc.name", "evt.rawarg.res", "thread.tid", "evt.time")
	if err != nil {
		return err
	}
	s.fields = []*chisel.FieldReader{rs[1], rs[2], rs[3], rs[4], rs[5], rs[6], rs[8]}
	setSnaplen(c, 2000)
	setOutputFormat(c, field.BufEOLs)
	var flt string
	if s.file != "" {
		flt = "(fd.name=" + s.file + ") and "
	} else {
		flt = "(not fd.name contains /dev/pt and not fd.name contains /dev/tty) and "
	}
	switch s.rw {
	case "R", "r":
		flt += "evt.is_io_read=true and "
	case "W", "w":
		flt += "evt.is_io_write=true and "
	default:
		flt += "evt.is_io=true and "
	}
	flt += "fd.type=file and evt.dir=< and evt.failed=false"
	if err := c.SetFilter(flt); err != nil {
		return s.fail("invalid filter in chisel %s: %v", s.desc.Name, err)
	}
	return nil
}

func (s *spyFile) Event(c *chisel.Control, e *state.Event) (bool, error) {
	cx := ctx(c)
	f := s.fields
	// The values are read in the chisel's order; each reader keeps its own buffer.
	data := f[0].Read(cx, e)
	fdname := f[1].Read(cx, e)
	isWrite := f[2].Read(cx, e)
	pid := f[3].Read(cx, e)
	pname := f[4].Read(cx, e)
	res := f[5].Read(cx, e)
	ts := f[6].Read(cx, e)
	if !res.IsNumber() {
		return false, s.fail("on_event: attempt to compare %s with number", luaType(res))
	}
	b := appendLuaString(s.line[:0], ts)
	b = append(b, ' ')
	b = appendLuaString(b, pname)
	b = append(b, '(')
	b = appendLuaString(b, pid)
	b = append(b, ") "...)
	if isWrite.Kind == chisel.ValueBool && isWrite.Bool {
		b = append(b, 'W')
	} else {
		b = append(b, 'R')
	}
	b = append(b, ' ')
	b = appendBytes(b, res.Num)
	b = append(b, ' ')
	b = appendLuaString(b, fdname)
	b = append(b, ' ')
	b = appendLuaString(b, data)
	b = append(b, '\n')
	s.line = b
	return true, write(c, b)
}

func init() {
	colorArg := func(desc string) []chisel.Arg {
		return []chisel.Arg{{Name: "disable_color", Type: "string", Optional: true, Desc: desc}}
	}
	register(chisel.Desc{Name: "echo_fds", Category: "I/O", ShortDesc: "Data read and written by processes",
		Description: "Prints what processes read from and write to any fd: a header (red for reads, blue for writes) with the size, the fd name and the process, then the data. A filter narrows it down; -A, -x and -X choose how the data is shown. With -pc or -pcontainer the header also names the container (green for the host, cyan for a container). Colours are written even into a pipe, as sysdig does; NO_COLOR turns them off.",
		Args:        colorArg("'disable_color' to print without colours"),
	}, func(d *chisel.Desc) chisel.Program { return &echoFDs{base: base{desc: d}, colorOn: true} })

	register(chisel.Desc{Name: "stdin", Category: "I/O", ShortDesc: "Data processes read from their standard input",
		Description: "Prints the data that processes read from fd 0. A filter narrows it to a process or a pid.",
	}, func(d *chisel.Desc) chisel.Program {
		return &stdStream{base: base{desc: d}, filter: "fd.num=0 and evt.is_io=true"}
	})
	register(chisel.Desc{Name: "stdout", Category: "I/O", ShortDesc: "Data processes write to their standard output",
		Description: "Prints the data that processes write to fd 1. A filter narrows it to a process or a pid.",
	}, func(d *chisel.Desc) chisel.Program {
		return &stdStream{base: base{desc: d}, filter: "fd.num=1 and evt.is_io=true"}
	})
	register(chisel.Desc{Name: "stderr", Category: "I/O", ShortDesc: "Data processes write to their standard error",
		Description: "Prints the data that processes write to fd 2. A filter narrows it to a process or a pid. With -pc or -pcontainer each line starts with the container id and name, green for the host and blue for a container.",
		Args:        colorArg("'disable_color' to print without colours"),
	}, func(d *chisel.Desc) chisel.Program { return &stdErr{base: base{desc: d}, colorOn: true} })

	register(chisel.Desc{Name: "spy_ip", Category: "Net", ShortDesc: "Data exchanged with an IP address",
		Description: "Prints the payloads of the network reads and writes whose connection has the given IP address at either end, with a header when the direction changes. -A, -x and -X choose how the data is shown.",
		Args: []chisel.Arg{
			{Name: "host_ip", Type: "ipv4", Desc: "the IP address of the other end"},
			{Name: "disable_color", Type: "string", Optional: true, Desc: "'disable_colors' to print without colours"},
		},
	}, func(d *chisel.Desc) chisel.Program {
		return &spyNet{base: base{desc: d}, argName: "host_ip", filterOn: "fd.ip=", writeHdr: "------ Read ", colorOn: true}
	})
	register(chisel.Desc{Name: "spy_port", Category: "Net", ShortDesc: "Data exchanged on an IP port",
		Description: "Prints the payloads of the network reads and writes whose connection uses the given port at either end, with a header when the direction changes. -A, -x and -X choose how the data is shown.",
		Args: []chisel.Arg{
			{Name: "host_port", Type: "int", Desc: "the port number"},
			{Name: "disable_color", Type: "string", Optional: true, Desc: "'disable_colors' to print without colours"},
		},
	}, func(d *chisel.Desc) chisel.Program {
		return &spyNet{base: base{desc: d}, argName: "host_port", filterOn: "fd.port=", writeHdr: "------ Write ", colorOn: true}
	})
	register(chisel.Desc{Name: "spy_file", Category: "I/O", ShortDesc: "Reads and writes on files, with their data; optionally on one file only, or only reads or writes.",
		Description: "Prints every successful read and write on a file (terminals left out) with the time, the process, R or W, the size, the file and the data in ASCII. The arguments narrow it to reads or writes, and to one file.",
		Args: []chisel.Arg{
			{Name: "read_or_write", Type: "string", Optional: true, Desc: "'R' for reads only, 'W' for writes only, 'RW' (the default) for both"},
			{Name: "spy_on_file_name", Type: "string", Optional: true, Desc: "the one file to watch"},
		},
	}, func(d *chisel.Desc) chisel.Program { return &spyFile{base: base{desc: d}} })
}
