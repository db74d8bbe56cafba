package field

import (
	"github.com/syscope/syscope/event"
	"github.com/syscope/syscope/state"
)

// Process, thread, user and group fields (proc.*, thread.*, user.*, group.*).
func init() {
	register("proc.name", event.PTCharBuf, "name of the executable generating the event", func(c *Ctx, e *state.Event, d []byte) ([]byte, bool) {
		t := thread(e)
		if t == nil {
			return d, false
		}
		return append(d, t.Comm...), true
	})
	register("proc.exe", event.PTCharBuf, "first command line argument (usually the executable)", func(c *Ctx, e *state.Event, d []byte) ([]byte, bool) {
		t := thread(e)
		if t == nil {
			return d, false
		}
		return append(d, t.Exe...), true
	})
	register("proc.exepath", event.PTCharBuf, "full path of the executable", func(c *Ctx, e *state.Event, d []byte) ([]byte, bool) {
		t := thread(e)
		if t == nil {
			return d, false
		}
		return append(d, t.ExePath...), true
	})
	register("proc.args", event.PTCharBuf, "command line arguments", func(c *Ctx, e *state.Event, d []byte) ([]byte, bool) {
		t := thread(e)
		if t == nil {
			return d, false
		}
		for i, a := range t.Args {
			if i > 0 {
				d = append(d, ' ')
			}
			d = append(d, a...)
		}
		return d, true
	})
	register("proc.cmdline", event.PTCharBuf, "full command line", func(c *Ctx, e *state.Event, d []byte) ([]byte, bool) {
		t := thread(e)
		if t == nil {
			return d, false
		}
		d = append(d, t.Comm...)
		for _, a := range t.Args {
			d = append(d, ' ')
			d = append(d, a...)
		}
		return d, true
	})
	register("proc.cwd", event.PTCharBuf, "current working directory", func(c *Ctx, e *state.Event, d []byte) ([]byte, bool) {
		t := thread(e)
		if t == nil {
			return d, false
		}
		return append(d, t.Cwd()...), true
	})
	register("proc.pid", event.PTInt64, "id of the process", func(c *Ctx, e *state.Event, d []byte) ([]byte, bool) {
		t := thread(e)
		if t == nil {
			return d, false
		}
		return appendI(d, t.Pid), true
	})
	register("proc.ppid", event.PTInt64, "pid of the parent process", func(c *Ctx, e *state.Event, d []byte) ([]byte, bool) {
		t := thread(e)
		if t == nil {
			return d, false
		}
		if m := t.Main(); m != nil {
			return appendI(d, m.Ptid), true
		}
		return appendI(d, t.Ptid), true
	})
	register("proc.pname", event.PTCharBuf, "name of the parent process", func(c *Ctx, e *state.Event, d []byte) ([]byte, bool) {
		t := thread(e)
		if t == nil {
			return d, false
		}
		if m := t.Main(); m != nil {
			t = m
		}
		p := c.State.Thread(t.Ptid)
		if p == nil {
			return d, false
		}
		return append(d, p.Comm...), true
	})
	register("proc.vpid", event.PTInt64, "pid as seen from its pid namespace", func(c *Ctx, e *state.Event, d []byte) ([]byte, bool) {
		t := thread(e)
		if t == nil || t.Vpid == -1 {
			return d, false
		}
		return appendI(d, t.Vpid), true
	})
	register("thread.tid", event.PTInt64, "id of the thread", func(c *Ctx, e *state.Event, d []byte) ([]byte, bool) {
		return appendI(d, e.Tid), true
	})
	register("thread.vtid", event.PTInt64, "id of the thread as seen from its pid namespace", func(c *Ctx, e *state.Event, d []byte) ([]byte, bool) {
		t := thread(e)
		if t == nil || t.Vtid == -1 {
			return d, false
		}
		return appendI(d, t.Vtid), true
	})
	register("user.uid", event.PTUint64, "user id", func(c *Ctx, e *state.Event, d []byte) ([]byte, bool) {
		t := thread(e)
		if t == nil {
			return d, false
		}
		return appendU(d, uint64(t.UID)), true
	})
	register("user.name", event.PTCharBuf, "user name", func(c *Ctx, e *state.Event, d []byte) ([]byte, bool) {
		t := thread(e)
		if t == nil {
			return d, false
		}
		u := c.State.User(t.UID)
		if u == nil {
			return d, false
		}
		return append(d, u.Name...), true
	})
	register("group.gid", event.PTUint64, "group id", func(c *Ctx, e *state.Event, d []byte) ([]byte, bool) {
		t := thread(e)
		if t == nil {
			return d, false
		}
		return appendU(d, uint64(t.GID)), true
	})
	register("group.name", event.PTCharBuf, "group name", func(c *Ctx, e *state.Event, d []byte) ([]byte, bool) {
		t := thread(e)
		if t == nil {
			return d, false
		}
		g := c.State.Group(t.GID)
		if g == nil {
			return d, false
		}
		return append(d, g.Name...), true
	})
}
