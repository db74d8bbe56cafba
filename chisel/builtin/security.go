package builtin

import (
	"bytes"
	"strconv"

	"github.com/syscope/syscope/chisel"
	"github.com/syscope/syscope/state"
)

// Security chisels: what users run in their shells.

// appendConcat appends v as Lua's .. operator does: strings and numbers;
// ok is false for nil and booleans, which .. refuses.
func appendConcat(b []byte, v chisel.Value) ([]byte, bool) {
	switch v.Kind {
	case chisel.ValueNone, chisel.ValueBool:
		return b, false
	}
	return v.Append(b), true
}

// maxAncestors is how far up spy_users looks for a shell among a process's
// ancestors.
const maxAncestors = 16

// shellTree is what spy_users knows of a process: its depth under the
// shell it descends from (-1: not from a shell), and that shell's pid.
type shellTree struct {
	depth float64
	apid  chisel.Value
}

// spyUsers is spy_users: the commands run from shells (and the directories
// shells change to), indented by their depth under the shell.
type spyUsers struct {
	base
	maxDepth                                                  float64
	colorOn                                                   bool
	col                                                       colors
	pc                                                        bool
	etype, exe, args, path, user, time, pid, ppid, cname, cid *chisel.FieldReader
	anames, apids                                             [maxAncestors + 1]*chisel.FieldReader
	// shift is how many chdir events the chisel has seen: sysdig's chisel
	// inserts an element at index 0 of its lists of ancestor fields for
	// each, which LuaJIT does by shifting the list up.
	shift int
	tree  map[float64]*shellTree
	line  []byte
}

func (s *spyUsers) SetArg(name, value string) error {
	switch {
	case name == "max_depth":
		v, err := numericArg(s.out(), value, name)
		if err != nil {
			return err
		}
		s.maxDepth = v
	case name == "disable_color" && value == "disable_color":
		s.colorOn = false
	}
	return nil
}

func (s *spyUsers) Init(c *chisel.Control) error {
	s.col = newColors(s.colorOn)
	rs, err := s.readers("evt.type", "proc.exe", "proc.args", "evt.arg.path", "user.name", "evt.time.s", "proc.pid", "proc.ppid", "container.name", "container.id")
	if err != nil {
		return err
	}
	s.etype, s.exe, s.args, s.path, s.user, s.time, s.pid, s.ppid, s.cname, s.cid = rs[0], rs[1], rs[2], rs[3], rs[4], rs[5], rs[6], rs[7], rs[8], rs[9]
	s.pc = c.Host.PrintContainer
	if err := c.SetFilter("((evt.type=execve and evt.dir=<) or (evt.type=chdir and evt.dir=< and proc.name contains sh and not proc.name contains sshd)) and evt.failed=false"); err != nil {
		return err
	}
	for j := 0; j <= maxAncestors; j++ {
		if s.anames[j], err = s.reader("proc.aname[" + strconv.Itoa(j) + "]"); err != nil {
			return err
		}
		if s.apids[j], err = s.reader("proc.apid[" + strconv.Itoa(j) + "]"); err != nil {
			return err
		}
	}
	s.tree = make(map[float64]*shellTree)
	return nil
}

// ancestor reads the j-th entry of the (shifted) ancestor field lists.
func (s *spyUsers) ancestor(fs *[maxAncestors + 1]*chisel.FieldReader, j int, c *chisel.Control, e *state.Event) chisel.Value {
	i := j - s.shift
	if i < 0 || i > maxAncestors {
		return chisel.Value{} // the inserted 0s, which are not fields
	}
	return fs[i].Read(ctx(c), e)
}

func (s *spyUsers) Event(c *chisel.Control, e *state.Event) (bool, error) {
	cx := ctx(c)
	color := ""
	if s.pc {
		color = s.col.green
	}
	user := s.user.Read(cx, e)
	dtime := s.time.Read(cx, e)
	pid := s.pid.Read(cx, e)
	ppid := s.ppid.Read(cx, e)
	et := s.etype.Read(cx, e)
	isChdir := et.Kind == chisel.ValueString && string(et.Str) == "chdir"
	cname := s.cname.Read(cx, e)
	icorr := 1.0
	if isChdir {
		ppid = pid
		s.shift++
		icorr = 0
	}
	if !ppid.IsNumber() {
		return false, s.fail("on_event: table index is nil")
	}
	pt := s.tree[ppid.Num]
	if pt == nil {
		pt = &shellTree{depth: -1}
		s.tree[ppid.Num] = pt
		for j := 1; j <= maxAncestors; j++ {
			aname := s.ancestor(&s.anames, j, c, e)
			if aname.Kind == chisel.ValueNone {
				if s.ancestor(&s.apids, j, c, e).Kind == chisel.ValueNone {
					break
				}
				continue
			}
			s.line = aname.Append(s.line[:0])
			if len(s.line) >= 2 && bytes.HasSuffix(s.line, []byte("sh")) {
				apid := s.ancestor(&s.apids, j, c, e)
				if apid.IsNumber() && s.tree[apid.Num] != nil {
					*pt = shellTree{depth: float64(j - 1), apid: apid}
				} else {
					*pt = shellTree{depth: 0, apid: apid}
				}
			}
		}
	}
	if pt.depth == -1 {
		return true, nil
	}
	if !pid.IsNumber() {
		return false, s.fail("on_event: table index is nil")
	}
	t := s.tree[pid.Num]
	if t == nil {
		t = &shellTree{depth: 1 + pt.depth, apid: pt.apid}
		s.tree[pid.Num] = t
	}
	depth := t.depth - icorr
	if s.maxDepth != -1 && depth > s.maxDepth {
		return true, nil
	}
	if s.pc && !(cname.Kind == chisel.ValueString && string(cname.Str) == "host") {
		color = s.col.blue
	}
	indent := 4.0
	if !isChdir && !s.pc {
		indent = 3
	}
	b := append(s.line[:0], color...)
	b = appendExtendString(b, "", int(indent*depth))
	var ok bool
	if b, ok = appendConcat(b, t.apid); !ok {
		return false, s.fail("on_event: attempt to concatenate a %s value", luaType(t.apid))
	}
	b = append(b, ' ')
	if b, ok = appendConcat(b, dtime); !ok {
		return false, s.fail("on_event: attempt to concatenate a %s value", luaType(dtime))
	}
	b = append(b, ' ')
	if user.Kind == chisel.ValueNone {
		b = append(b, "<NA>"...)
	} else if b, ok = appendConcat(b, user); !ok {
		return false, s.fail("on_event: attempt to concatenate a %s value", luaType(user))
	}
	if s.pc {
		b = append(b, '@')
		if b, ok = appendConcat(b, cname); !ok {
			return false, s.fail("on_event: attempt to concatenate a %s value", luaType(cname))
		}
	}
	if isChdir {
		b = append(b, ") cd "...)
		p := s.path.Read(cx, e)
		if b, ok = appendConcat(b, p); !ok {
			return false, s.fail("on_event: attempt to concatenate a %s value", luaType(p))
		}
	} else {
		b = append(b, ") "...)
		exe := s.exe.Read(cx, e)
		if b, ok = appendConcat(b, exe); !ok {
			return false, s.fail("on_event: attempt to concatenate a %s value", luaType(exe))
		}
		b = append(b, ' ')
		args := s.args.Read(cx, e)
		if b, ok = appendConcat(b, args); !ok {
			return false, s.fail("on_event: attempt to concatenate a %s value", luaType(args))
		}
	}
	b = append(b, '\n')
	s.line = b
	return true, write(c, b)
}

func (s *spyUsers) CaptureEnd(c *chisel.Control, ts uint64, delta int64) error {
	return s.col.end(c)
}

// loginShells is list_login_shells: the login shell id of the last command
// run (optionally, the last whose name or arguments match).
type loginShells struct {
	base
	comm, args                  string
	hasComm, hasArgs            bool
	pc                          bool
	sid, exe, eargs, cname, cid *chisel.FieldReader
	last                        [3]chisel.Value // shell id, container name, container id
	lastBuf                     [3][]byte
}

func (l *loginShells) SetArg(name, value string) error {
	switch name {
	case "command":
		if value != "*" {
			l.comm, l.hasComm = value, true
		}
	case "arguments":
		l.args, l.hasArgs = value, true
	}
	return nil
}

func (l *loginShells) Init(c *chisel.Control) error {
	rs, err := l.readers("proc.loginshellid", "evt.arg.exe", "evt.arg.args", "container.name", "container.id")
	if err != nil {
		return err
	}
	l.sid, l.exe, l.eargs, l.cname, l.cid = rs[0], rs[1], rs[2], rs[3], rs[4]
	l.pc = c.Host.PrintContainer
	return c.SetFilter("evt.type=execve")
}

func (l *loginShells) find(v chisel.Value, pattern string) (bool, error) {
	if v.Kind != chisel.ValueString && !v.IsNumber() {
		return false, l.fail("on_event: bad argument #1 to 'find' (string expected, got %s)", luaType(v))
	}
	found, err := chisel.LuaFind(string(v.Append(nil)), pattern)
	if err != nil {
		return false, l.fail("on_event: %v", err)
	}
	return found, nil
}

func (l *loginShells) Event(c *chisel.Control, e *state.Event) (bool, error) {
	cx := ctx(c)
	sid := l.sid.Read(cx, e)
	exe := l.exe.Read(cx, e)
	args := l.eargs.Read(cx, e)
	vals := [3]chisel.Value{sid, l.cname.Read(cx, e), l.cid.Read(cx, e)}
	if !truthy(sid) || !truthy(exe) {
		return true, nil
	}
	if l.hasComm {
		if ok, err := l.find(exe, l.comm); err != nil || !ok {
			return true, err
		}
	}
	if l.hasArgs && truthy(args) {
		if ok, err := l.find(args, l.args); err != nil || !ok {
			return true, err
		}
	}
	for i, v := range vals {
		l.lastBuf[i] = append(l.lastBuf[i][:0], v.Str...)
		v.Str = l.lastBuf[i]
		l.last[i] = v
	}
	return true, nil
}

func (l *loginShells) CaptureEnd(c *chisel.Control, ts uint64, delta int64) error {
	var b []byte
	if l.hasComm {
		b = append(append(append(b, "Shells containing "...), l.comm...), ":\n"...)
	} else {
		b = append(b, "All shells:\n"...)
	}
	// sysdig prints the shell id once per field of its record that is set.
	for _, v := range l.last {
		if v.Kind == chisel.ValueNone {
			continue
		}
		var ok bool
		if b, ok = appendConcat(b, l.last[0]); !ok {
			return l.fail("on_capture_end: attempt to concatenate field 'fsid' (a %s value)", luaType(l.last[0]))
		}
		if l.pc {
			for _, x := range l.last[1:] {
				b = append(b, ' ')
				if b, ok = appendConcat(b, x); !ok {
					return l.fail("on_capture_end: attempt to concatenate a %s value", luaType(x))
				}
			}
		}
		b = append(b, '\n')
	}
	return write(c, b)
}

func init() {
	register(chisel.Desc{Name: "spy_users", Category: "Security", ShortDesc: "What users do in their shells",
		Description: "Prints each command run from a shell, and each directory a shell changes to, indented by how deep under the shell it runs, with the shell's pid, the time and the user. With -pc or -pcontainer lines also name the container (green for the host, blue for containers).",
		Args: []chisel.Arg{
			{Name: "max_depth", Type: "int", Optional: true, Desc: "the deepest level under the shell to show"},
			{Name: "disable_color", Type: "string", Optional: true, Desc: "'disable_color' to print without colours"},
		},
	}, func(d *chisel.Desc) chisel.Program {
		return &spyUsers{base: base{desc: d}, maxDepth: -1, colorOn: true}
	})
	register(chisel.Desc{Name: "list_login_shells", Category: "Security", ShortDesc: "Login shell ids",
		Description: "Prints the login shell id (proc.loginshellid) of the commands run, optionally only of those whose name, or arguments, match the given Lua patterns ('*' for any name). spy_users can then be filtered on that id. With -pc or -pcontainer the container is shown too.",
		Args: []chisel.Arg{
			{Name: "command", Type: "string", Optional: true, Desc: "a pattern the command's name must contain, or '*'"},
			{Name: "arguments", Type: "string", Optional: true, Desc: "a pattern the command's arguments must contain"},
		},
	}, func(d *chisel.Desc) chisel.Program { return &loginShells{base: base{desc: d}} })
}

// shellshock is shellshock_detect: bash or sh started with a function
// definition followed by more code in its environment (CVE-2014-6271).
//
// sysdig 0.29.3 cannot run its own shellshock_detect: the chisel's filter
// mixes "or" and "and" without brackets, which sysdig refuses. The built-in
// uses the evident intent, (proc.name=bash or proc.name=sh) and
// evt.type=execve, and so prints where sysdig fails.
type shellshock struct {
	base
	pname, ppid, pid, env, etime *chisel.FieldReader
}

func (s *shellshock) Init(c *chisel.Control) error {
	rs, err := s.readers("proc.pname", "proc.ppid", "proc.pid", "evt.arg.environment", "evt.time")
	if err != nil {
		return err
	}
	s.pname, s.ppid, s.pid, s.env, s.etime = rs[0], rs[1], rs[2], rs[3], rs[4]
	if err := c.SetFilter("(proc.name=bash or proc.name=sh) and evt.type=execve"); err != nil {
		return err
	}
	var b []byte
	b = appendExtendString(b, "TIME", 22)
	b = appendExtendString(b, "PROCNAME", 22)
	b = appendExtendString(b, "PID", 8)
	b = append(b, "FUNCTION\n"...)
	return write(c, b)
}

// shellshockAt returns where a function definition followed by code starts
// in s ("()", an optional space, "{" and at least one more byte), or -1.
func shellshockAt(s string) int {
	for i := 0; i+1 < len(s); i++ {
		if s[i] != '(' || s[i+1] != ')' {
			continue
		}
		j := i + 2
		if j < len(s) && s[j] == ' ' {
			j++
		}
		if j+1 < len(s) && s[j] == '{' {
			return i
		}
	}
	return -1
}

// functionAt returns where the first "()" followed by at least one byte
// starts in s, or -1.
func functionAt(s string) int {
	for i := 0; i+2 < len(s); i++ {
		if s[i] == '(' && s[i+1] == ')' {
			return i
		}
	}
	return -1
}

func (s *shellshock) Event(c *chisel.Control, e *state.Event) (bool, error) {
	cx := ctx(c)
	env := s.env.Read(cx, e)
	pname := s.pname.Read(cx, e)
	etime := s.etime.Read(cx, e)
	ppid := s.ppid.Read(cx, e)
	if env.Kind == chisel.ValueNone || shellshockAt(string(env.Append(nil))) < 0 {
		return true, nil
	}
	pid := s.pid.Read(cx, e)
	var t *state.Thread
	if pid.IsNumber() {
		for _, te := range c.Host.Threads(nil, false) {
			if float64(uint32(te.Thread.Tid)) == pid.Num {
				t = te.Thread
				break
			}
		}
	}
	if t == nil {
		return false, s.fail("on_event: attempt to index a nil value (no thread %s)", string(pid.Append(nil)))
	}
	envs := t.Env
	if len(envs) == 0 && !t.IsMain() {
		if m := t.Main(); m != nil {
			envs = m.Env
		}
	}
	for _, v := range envs {
		if shellshockAt(v) < 0 {
			continue
		}
		i := functionAt(v)
		var b []byte
		b = appendExtend(b, etime.Append(nil), 22)
		b = appendExtend(b, appendLuaString(nil, pname), 22)
		b = appendExtend(b, appendLuaString(nil, ppid), 8)
		b = append(b, v[i:]...)
		b = append(b, '\n')
		return true, write(c, b)
	}
	return true, nil
}

func init() {
	register(chisel.Desc{Name: "shellshock_detect", Category: "Security", ShortDesc: "Shellshock attacks",
		Description: "Prints each start of bash or sh whose environment defines a function followed by more code, the way the shellshock vulnerability (CVE-2014-6271) is exploited: the time, the parent process and its pid, and the variable's text from the function on.",
	}, func(d *chisel.Desc) chisel.Program { return &shellshock{base: base{desc: d}} })
}
