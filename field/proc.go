package field

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/syscope/syscope/event"
	"github.com/syscope/syscope/state"
)

// threadExtractor builds an extractor for a field of the event's thread: it
// has no value when the thread is unknown.
func threadExtractor(fn func(c *Ctx, e *state.Event, t *state.Thread, d []byte) ([]byte, bool)) Extractor {
	return func(c *Ctx, e *state.Event, d []byte) ([]byte, bool) {
		t := thread(e)
		if t == nil {
			return d, false
		}
		return fn(c, e, t, d)
	}
}

// regThread registers a field of the event's thread.
func regThread(name string, t event.ParamType, desc string, fn func(c *Ctx, e *state.Event, t *state.Thread, d []byte) ([]byte, bool)) *Def {
	return register(name, t, desc, threadExtractor(fn))
}

// appendJoined appends the strings of list separated by single spaces.
func appendJoined(d []byte, list []string) []byte {
	for i, s := range list {
		if i > 0 {
			d = append(d, ' ')
		}
		d = append(d, s...)
	}
	return d
}

// appendCmdline appends proc.cmdline: the name, then each argument after a space.
func appendCmdline(d []byte, t *state.Thread) []byte {
	d = append(d, t.Comm...)
	for _, a := range t.Args {
		d = append(d, ' ')
		d = append(d, a...)
	}
	return d
}

// appendTF appends a boolean as sysdig prints it.
func appendTF(d []byte, b bool) []byte {
	if b {
		return append(d, "true"...)
	}
	return append(d, "false"...)
}

// processOf returns the main thread of t's process, the thread sysdig takes
// the ancestors from; it is added to the table as a placeholder if missing.
func processOf(c *Ctx, t *state.Thread) *state.Thread { return c.State.MainThread(t) }

// ancestor returns the n-th ancestor of the process of t (0: the process
// itself), or nil.
func ancestor(c *Ctx, t *state.Thread, n int) *state.Thread {
	m := processOf(c, t)
	for ; m != nil && n > 0; n-- {
		m = c.State.Parent(m)
	}
	return m
}

// ancestorArg parses the [N] of proc.aname and proc.apid: a decimal 32-bit
// number, possibly signed. No argument is -1: the process itself when
// printed, any ancestor in filters.
func ancestorArg(name, arg string) (int, error) {
	if arg == "" {
		return -1, nil
	}
	n, err := strconv.ParseInt(strings.TrimLeft(arg, " \t\n\v\f\r"), 10, 32)
	if err != nil {
		return 0, fmt.Errorf("%s: %q is not a valid number", name, arg)
	}
	return int(n), nil
}

// eachAncestor calls fn with the text of get(a) for each ancestor a of the
// event's process, parent first, until fn returns true.
func eachAncestor(get func(d []byte, a *state.Thread) []byte) func(c *Ctx, e *state.Event, buf []byte, fn func([]byte) bool) bool {
	return func(c *Ctx, e *state.Event, buf []byte, fn func([]byte) bool) bool {
		t := thread(e)
		if t == nil {
			return false
		}
		w := c.State.Ancestors(processOf(c, t))
		for a := w.Next(); a != nil; a = w.Next() {
			buf = get(buf[:0], a)
			if fn(buf) {
				return true
			}
		}
		return false
	}
}

// exectime measures, per CPU, the time since the previous switch event seen
// by one field instance (sysdig keeps this state per field, not globally).
type exectime struct{ last []uint64 }

func (x *exectime) of(e *state.Event) uint64 {
	if e.Type != event.SchedswitchV1E && e.Type != event.SchedswitchV6E {
		return 0
	}
	cpu := int(e.CPU)
	if cpu >= len(x.last) {
		x.last = append(x.last, make([]uint64, cpu+1-len(x.last))...)
	}
	var d uint64
	if x.last[cpu] != 0 {
		d = e.Ts - x.last[cpu]
	}
	x.last[cpu] = e.Ts
	return d
}

// perThread is a number a field keeps per thread from one event to the
// next (sysdig keeps it in the thread). A thread the state engine has
// dropped (it exited, or a new section replaced the tables) is never seen
// again, so its entry goes once the map outgrows the thread table: without
// that, a long live capture would keep every thread that ever ran, with its
// fds.
type perThread struct{ m map[*state.Thread]uint64 }

func (p *perThread) get(t *state.Thread) uint64 { return p.m[t] }

func (p *perThread) set(c *Ctx, t *state.Thread, v uint64) {
	if p.m == nil {
		p.m = make(map[*state.Thread]uint64)
	}
	if _, ok := p.m[t]; !ok && c.State != nil && len(p.m) >= 2*c.State.NumThreads()+64 {
		for k := range p.m {
			if c.State.Thread(k.Tid) != k {
				delete(p.m, k)
			}
		}
	}
	p.m[t] = v
}

// newThreadCPU returns the extractor of thread.cpu (user and system),
// thread.cpu.user or thread.cpu.system: on procinfo events, the CPU time
// the thread used since the previous one, capped at 100.
func newThreadCPU(user, system bool) Extractor {
	var last perThread
	return threadExtractor(func(c *Ctx, e *state.Event, t *state.Thread, d []byte) ([]byte, bool) {
		if e.Type != event.ProcinfoE {
			return d, false
		}
		var tot uint64
		if user {
			tot += get64(e.Param(0))
		}
		if system {
			tot += get64(e.Param(1))
		}
		v := 0.0
		if prev := last.get(t); prev != 0 {
			v = min(float64(tot-prev), 100)
		}
		last.set(c, t, tot)
		return strconv.AppendFloat(d, v, 'f', 1, 64), true
	})
}

// cgroupEntry splits an entry of a thread's cgroup list, "subsys=path", at
// its last '='. ok is false when there is no '=' (sysdig ignores that entry
// and the ones after it).
func cgroupEntry(s string) (subsys, path string, ok bool) {
	i := strings.LastIndexByte(s, '=')
	if i < 0 {
		return "", "", false
	}
	return s[:i], s[i+1:], true
}

// appendSubsys appends a cgroup subsystem name as sysdig shows it: without
// "_cgroup", and with the kernel's short names perf, mem and io spelled
// perf_event, memory and blkio.
func appendSubsys(d []byte, sub string) []byte {
	start := len(d)
	if i := strings.Index(sub, "_cgroup"); i >= 0 {
		d = append(d, sub[:i]...)
		d = append(d, sub[i+len("_cgroup"):]...)
	} else {
		d = append(d, sub...)
	}
	switch string(d[start:]) {
	case "perf":
		return append(d[:start], "perf_event"...)
	case "mem":
		return append(d[:start], "memory"...)
	case "io":
		return append(d[:start], "blkio"...)
	}
	return d
}

// envList returns the environment of t's process as sysdig keeps it: the
// empty strings at its end dropped.
func envList(c *Ctx, t *state.Thread) []string {
	env := t.Env
	if !t.IsMain() {
		if m := processOf(c, t); m != nil {
			env = m.Env
		}
	}
	for len(env) > 0 && env[len(env)-1] == "" {
		env = env[:len(env)-1]
	}
	return env
}

// Process, thread, user and group fields (proc.*, thread.*, user.*, group.*).
func init() {
	regThread("proc.pid", event.PTInt64, "process id (tgid) of the thread that made the event", func(c *Ctx, e *state.Event, t *state.Thread, d []byte) ([]byte, bool) {
		return appendI(d, t.Pid), true
	})
	regThread("proc.exe", event.PTCharBuf, "argv[0] of the process, usually its executable", func(c *Ctx, e *state.Event, t *state.Thread, d []byte) ([]byte, bool) {
		return append(d, t.Exe...), true
	})
	regThread("proc.name", event.PTCharBuf, "process name (comm), without directories", func(c *Ctx, e *state.Event, t *state.Thread, d []byte) ([]byte, bool) {
		return append(d, t.Comm...), true
	})
	regThread("proc.args", event.PTCharBuf, "arguments of the process's command line, separated by spaces", func(c *Ctx, e *state.Event, t *state.Thread, d []byte) ([]byte, bool) {
		return appendJoined(d, t.Args), true
	})
	regThread("proc.env", event.PTCharBuf, "environment of the process, variables separated by spaces", func(c *Ctx, e *state.Event, t *state.Thread, d []byte) ([]byte, bool) {
		return appendJoined(d, envList(c, t)), true
	})
	regThread("proc.cmdline", event.PTCharBuf, "proc.name followed by proc.args", func(c *Ctx, e *state.Event, t *state.Thread, d []byte) ([]byte, bool) {
		return appendCmdline(d, t), true
	})
	regThread("proc.exeline", event.PTCharBuf, "proc.exe followed by proc.args", func(c *Ctx, e *state.Event, t *state.Thread, d []byte) ([]byte, bool) {
		d = append(d, t.Exe...)
		d = append(d, ' ')
		return appendJoined(d, t.Args), true
	})
	regThread("proc.cwd", event.PTCharBuf, "working directory of the process", func(c *Ctx, e *state.Event, t *state.Thread, d []byte) ([]byte, bool) {
		if m := processOf(c, t); m != nil {
			return append(d, m.Cwd()...), true
		}
		return append(d, "./"...), true
	})
	regThread("proc.nthreads", event.PTUint32, "number of threads of the process, its main thread included", func(c *Ctx, e *state.Event, t *state.Thread, d []byte) ([]byte, bool) {
		m := processOf(c, t)
		if m == nil {
			return d, false
		}
		return appendU(d, uint64(uint32(m.NChilds+1))), true
	})
	regThread("proc.nchilds", event.PTUint32, "number of threads of the process other than the main one", func(c *Ctx, e *state.Event, t *state.Thread, d []byte) ([]byte, bool) {
		return appendU(d, uint64(uint32(t.NChilds))), true
	})
	regThread("proc.ppid", event.PTInt64, "pid of the parent process", func(c *Ctx, e *state.Event, t *state.Thread, d []byte) ([]byte, bool) {
		m := processOf(c, t)
		if m == nil {
			return d, false
		}
		return appendI(d, m.Ptid), true
	})
	regThread("proc.pname", event.PTCharBuf, "name of the parent process", func(c *Ctx, e *state.Event, t *state.Thread, d []byte) ([]byte, bool) {
		p := c.State.Parent(t)
		if p == nil {
			return d, false
		}
		return append(d, p.Comm...), true
	})
	regThread("proc.pcmdline", event.PTCharBuf, "command line (name and arguments) of the parent process", func(c *Ctx, e *state.Event, t *state.Thread, d []byte) ([]byte, bool) {
		p := c.State.Parent(t)
		if p == nil {
			return d, false
		}
		return appendCmdline(d, p), true
	})
	ancestorField("proc.apid", event.PTInt64, "pid of an ancestor of the process: proc.apid[1] is the parent, proc.apid[2] the grandparent, proc.apid[0] the process itself; without argument, any ancestor in filters",
		func(d []byte, a *state.Thread) []byte { return appendI(d, a.Pid) })
	ancestorField("proc.aname", event.PTCharBuf, "name of an ancestor of the process: proc.aname[1] is the parent, proc.aname[2] the grandparent, proc.aname[0] the process itself; without argument, any ancestor in filters",
		func(d []byte, a *state.Thread) []byte { return append(d, a.Comm...) })
	regThread("proc.loginshellid", event.PTInt64, "pid of the oldest shell among the process and its ancestors, if any", func(c *Ctx, e *state.Event, t *state.Thread, d []byte) ([]byte, bool) {
		m := processOf(c, t)
		if m == nil {
			return d, false
		}
		var shell *state.Thread
		if strings.HasSuffix(m.Comm, "sh") {
			shell = m
		}
		w := c.State.Ancestors(m)
		for a := w.Next(); a != nil; a = w.Next() {
			if strings.HasSuffix(a.Comm, "sh") {
				shell = a
			}
		}
		if shell == nil {
			return d, false
		}
		return appendI(d, shell.Pid), true
	})
	regThread("proc.duration", event.PTRelTime, "time since the process was created, in nanoseconds", func(c *Ctx, e *state.Event, t *state.Thread, d []byte) ([]byte, bool) {
		if t.CloneTS == 0 {
			return d, false
		}
		return appendU(d, e.Ts-t.CloneTS), true
	})
	regThread("proc.fdopencount", event.PTUint64, "number of fds the process has open", func(c *Ctx, e *state.Event, t *state.Thread, d []byte) ([]byte, bool) {
		m := processOf(c, t)
		if m == nil {
			return d, false
		}
		return appendU(d, uint64(m.FDs().Len())), true
	})
	regThread("proc.fdlimit", event.PTInt64, "most fds the process may have open", func(c *Ctx, e *state.Event, t *state.Thread, d []byte) ([]byte, bool) {
		m := processOf(c, t)
		if m == nil {
			return d, false
		}
		return appendI(d, m.FDLimit), true
	})
	regThread("proc.fdusage", event.PTDouble, "open fds of the process, as a percentage of its fd limit", func(c *Ctx, e *state.Event, t *state.Thread, d []byte) ([]byte, bool) {
		m := processOf(c, t)
		if m == nil {
			return d, false
		}
		v := 0.0
		if m.FDLimit > 0 {
			v = 100
			if n := uint64(m.FDs().Len()); n <= uint64(m.FDLimit) {
				v = float64(n) * 100 / float64(m.FDLimit)
			}
		}
		return strconv.AppendFloat(d, v, 'f', 1, 64), true
	})
	regThread("proc.vmsize", event.PTUint64, "virtual memory size of the process (kB)", func(c *Ctx, e *state.Event, t *state.Thread, d []byte) ([]byte, bool) {
		return appendU(d, uint64(t.VMSizeKB)), true
	})
	regThread("proc.vmrss", event.PTUint64, "resident set size of the process (kB)", func(c *Ctx, e *state.Event, t *state.Thread, d []byte) ([]byte, bool) {
		return appendU(d, uint64(t.VMRSSKB)), true
	})
	regThread("proc.vmswap", event.PTUint64, "swap used by the process (kB)", func(c *Ctx, e *state.Event, t *state.Thread, d []byte) ([]byte, bool) {
		return appendU(d, uint64(t.VMSwapKB)), true
	})
	regThread("thread.pfmajor", event.PTUint64, "major page faults the thread has had", func(c *Ctx, e *state.Event, t *state.Thread, d []byte) ([]byte, bool) {
		return appendU(d, t.PFMajor), true
	})
	regThread("thread.pfminor", event.PTUint64, "minor page faults the thread has had", func(c *Ctx, e *state.Event, t *state.Thread, d []byte) ([]byte, bool) {
		return appendU(d, t.PFMinor), true
	})
	register("thread.tid", event.PTInt64, "thread id (tid) that made the event", func(c *Ctx, e *state.Event, d []byte) ([]byte, bool) {
		return appendI(d, e.Tid), true
	})
	regThread("thread.ismain", event.PTBool, "true if the thread is the main thread of its process", func(c *Ctx, e *state.Event, t *state.Thread, d []byte) ([]byte, bool) {
		return appendTF(d, t.IsMain()), true
	})
	register("thread.exectime", event.PTRelTime, "on switch events, the CPU time the thread switched out used, in nanoseconds", nil).New = func(string) (Extractor, error) {
		var x exectime
		return func(c *Ctx, e *state.Event, d []byte) ([]byte, bool) {
			return appendU(d, x.of(e)), true
		}, nil
	}
	register("thread.totexectime", event.PTRelTime, "CPU time the thread used since the capture started, in nanoseconds, as switch events tell", nil).New = func(string) (Extractor, error) {
		var x exectime
		var total perThread
		return func(c *Ctx, e *state.Event, d []byte) ([]byte, bool) {
			v := x.of(e)
			t := thread(e)
			if t == nil {
				return d, false
			}
			v += total.get(t)
			total.set(c, t, v)
			return appendU(d, v), true
		}, nil
	}
	regThread("thread.cgroups", event.PTCharBuf, "all the cgroups of the thread, as subsys=cgroup separated by spaces", func(c *Ctx, e *state.Event, t *state.Thread, d []byte) ([]byte, bool) {
		n := 0
		for _, cg := range t.Cgroups {
			sub, path, ok := cgroupEntry(cg)
			if !ok {
				break
			}
			if n > 0 {
				d = append(d, ' ')
			}
			d = appendSubsys(d, sub)
			d = append(d, '=')
			d = append(d, path...)
			n++
		}
		return d, n > 0
	})
	registerArg("thread.cgroup", event.PTCharBuf, 2, "cgroup of the thread for one subsystem, e.g. thread.cgroup.cpuacct", func(arg string) (Extractor, error) {
		var scratch []byte
		return threadExtractor(func(c *Ctx, e *state.Event, t *state.Thread, d []byte) ([]byte, bool) {
			for _, cg := range t.Cgroups {
				sub, path, ok := cgroupEntry(cg)
				if !ok {
					break
				}
				scratch = appendSubsys(scratch[:0], sub)
				if string(scratch) == arg {
					return append(d, path...), true
				}
			}
			return d, false
		}), nil
	})
	regThread("thread.vtid", event.PTInt64, "thread id inside its pid namespace", func(c *Ctx, e *state.Event, t *state.Thread, d []byte) ([]byte, bool) {
		if t.Vtid == -1 {
			return d, false
		}
		return appendI(d, t.Vtid), true
	})
	regThread("proc.vpid", event.PTInt64, "process id inside its pid namespace", func(c *Ctx, e *state.Event, t *state.Thread, d []byte) ([]byte, bool) {
		if t.Vpid == -1 {
			return d, false
		}
		return appendI(d, t.Vpid), true
	})
	register("thread.cpu", event.PTDouble, "CPU the thread used in the last second (procinfo events)", nil).New = func(string) (Extractor, error) {
		return newThreadCPU(true, true), nil
	}
	register("thread.cpu.user", event.PTDouble, "user CPU the thread used in the last second (procinfo events)", nil).New = func(string) (Extractor, error) {
		return newThreadCPU(true, false), nil
	}
	register("thread.cpu.system", event.PTDouble, "system CPU the thread used in the last second (procinfo events)", nil).New = func(string) (Extractor, error) {
		return newThreadCPU(false, true), nil
	}
	regThread("thread.vmsize", event.PTUint64, "for a main thread, the total virtual memory of the process in kB; 0 for other threads", func(c *Ctx, e *state.Event, t *state.Thread, d []byte) ([]byte, bool) {
		if !t.IsMain() {
			return append(d, '0'), true
		}
		return appendU(d, uint64(t.VMSizeKB)), true
	})
	regThread("thread.vmrss", event.PTUint64, "for a main thread, the resident memory of the process in kB; 0 for other threads", func(c *Ctx, e *state.Event, t *state.Thread, d []byte) ([]byte, bool) {
		if !t.IsMain() {
			return append(d, '0'), true
		}
		return appendU(d, uint64(t.VMRSSKB)), true
	})
	regThread("thread.vmsize.b", event.PTUint64, "for a main thread, the total virtual memory of the process in bytes; 0 for other threads", func(c *Ctx, e *state.Event, t *state.Thread, d []byte) ([]byte, bool) {
		if !t.IsMain() {
			return append(d, '0'), true
		}
		return appendU(d, uint64(t.VMSizeKB)*1024), true
	}).Flags = TableOnly
	regThread("thread.vmrss.b", event.PTUint64, "for a main thread, the resident memory of the process in bytes; 0 for other threads", func(c *Ctx, e *state.Event, t *state.Thread, d []byte) ([]byte, bool) {
		if !t.IsMain() {
			return append(d, '0'), true
		}
		return appendU(d, uint64(t.VMRSSKB)*1024), true
	}).Flags = TableOnly
	regThread("proc.sid", event.PTInt64, "session id of the process", func(c *Ctx, e *state.Event, t *state.Thread, d []byte) ([]byte, bool) {
		return appendI(d, t.Sid), true
	})
	regThread("proc.sname", event.PTCharBuf, "name of the session leader of the process: the process whose pid is proc.sid, or else the eldest ancestor with the same session", func(c *Ctx, e *state.Event, t *state.Thread, d []byte) ([]byte, bool) {
		if l := c.State.Thread(t.Sid); l != nil {
			return append(d, l.Comm...), true
		}
		m := processOf(c, t)
		if m == nil {
			return d, false
		}
		w := c.State.Ancestors(m)
		for a := w.Next(); a != nil && a.Sid == m.Sid; a = w.Next() {
			m = a
		}
		return append(d, m.Comm...), true
	})
	regThread("proc.tty", event.PTInt32, "device number of the process's controlling terminal; 0 without one", func(c *Ctx, e *state.Event, t *state.Thread, d []byte) ([]byte, bool) {
		return appendI(d, int64(t.TTY)), true
	})
	regThread("proc.exepath", event.PTCharBuf, "path of the file the process executes", func(c *Ctx, e *state.Event, t *state.Thread, d []byte) ([]byte, bool) {
		return append(d, t.ExePath...), true
	})
	regThread("thread.nametid", event.PTCharBuf, "process name and thread id together, an id for a thread and its executable", func(c *Ctx, e *state.Event, t *state.Thread, d []byte) ([]byte, bool) {
		d = append(d, t.Comm...)
		return appendI(d, e.Tid), true
	}).Flags = TableOnly
	regThread("proc.vpgid", event.PTInt64, "process group id inside the pid namespace", func(c *Ctx, e *state.Event, t *state.Thread, d []byte) ([]byte, bool) {
		return appendI(d, t.Vpgid), true
	})
	// Health checks and probes are recognized from the runtime's container
	// metadata, which capture files do not carry: these are false.
	for _, n := range []string{"healthcheck", "liveness_probe", "readiness_probe"} {
		regThread("proc.is_container_"+n, event.PTBool, "whether the process belongs to the container's "+strings.ReplaceAll(n, "_", " "), func(c *Ctx, e *state.Event, t *state.Thread, d []byte) ([]byte, bool) {
			return appendTF(d, false), true
		})
	}
	regThread("proc.is_exe_writable", event.PTBool, "whether the process's user can write its executable", func(c *Ctx, e *state.Event, t *state.Thread, d []byte) ([]byte, bool) {
		return appendTF(d, t.ExeWritable), true
	})

	// User and group fields.
	user := func(fn func(d []byte, u *state.User) []byte) func(c *Ctx, e *state.Event, t *state.Thread, d []byte) ([]byte, bool) {
		return func(c *Ctx, e *state.Event, t *state.Thread, d []byte) ([]byte, bool) {
			if t.UID == 0xffffffff {
				return d, false
			}
			u := c.State.User(t.UID)
			if u == nil {
				return d, false
			}
			return fn(d, u), true
		}
	}
	regThread("user.uid", event.PTUint32, "user id", func(c *Ctx, e *state.Event, t *state.Thread, d []byte) ([]byte, bool) {
		return appendU(d, uint64(t.UID)), true
	})
	regThread("user.name", event.PTCharBuf, "user name", user(func(d []byte, u *state.User) []byte { return append(d, u.Name...) }))
	regThread("user.homedir", event.PTCharBuf, "the user's home directory", user(func(d []byte, u *state.User) []byte { return append(d, u.HomeDir...) }))
	regThread("user.shell", event.PTCharBuf, "the user's login shell", user(func(d []byte, u *state.User) []byte { return append(d, u.Shell...) }))
	regThread("user.loginuid", event.PTInt32, "login (audit) user id, -1 if unset", func(c *Ctx, e *state.Event, t *state.Thread, d []byte) ([]byte, bool) {
		return appendI(d, int64(int32(t.LoginUID))), true
	})
	regThread("user.loginname", event.PTCharBuf, "name of the login (audit) user", func(c *Ctx, e *state.Event, t *state.Thread, d []byte) ([]byte, bool) {
		if t.LoginUID == 0xffffffff {
			return d, false
		}
		u := c.State.User(t.LoginUID)
		if u == nil {
			return d, false
		}
		return append(d, u.Name...), true
	})
	regThread("group.gid", event.PTUint64, "group id", func(c *Ctx, e *state.Event, t *state.Thread, d []byte) ([]byte, bool) {
		// sysdig reads this 32-bit id as a 64-bit number: the next 32 bits
		// are the low half of the thread's child count.
		return appendU(d, uint64(t.GID)|uint64(uint32(t.NChilds))<<32), true
	})
	regThread("group.name", event.PTCharBuf, "group name", func(c *Ctx, e *state.Event, t *state.Thread, d []byte) ([]byte, bool) {
		if t.GID == 0xffffffff {
			return d, false
		}
		g := c.State.Group(t.GID)
		if g == nil {
			return d, false
		}
		return append(d, g.Name...), true
	})
}

// ancestorField registers proc.apid or proc.aname: the value val gives of the
// N-th ancestor ([N]), and of every ancestor in filters without an argument.
func ancestorField(name string, t event.ParamType, desc string, val func(d []byte, a *state.Thread) []byte) {
	def := registerArg(name, t, 1, desc, func(arg string) (Extractor, error) {
		n, err := ancestorArg(name, arg)
		if err != nil {
			return nil, err
		}
		return threadExtractor(func(c *Ctx, e *state.Event, t *state.Thread, d []byte) ([]byte, bool) {
			a := ancestor(c, t, n)
			if a == nil {
				return d, false
			}
			return val(d, a), true
		}), nil
	})
	def.Each = eachAncestor(val)
}
