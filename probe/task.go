package probe

import (
	"bufio"
	"bytes"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"unsafe"
)

// Offsets in struct taskinfo, from the generated Go type.
const (
	taskinfoLen  = int(unsafe.Sizeof(probeTaskinfo{}))
	taskTid      = int(unsafe.Offsetof(probeTaskinfo{}.Tid))
	taskPid      = int(unsafe.Offsetof(probeTaskinfo{}.Pid))
	taskPtid     = int(unsafe.Offsetof(probeTaskinfo{}.Ptid))
	taskVtid     = int(unsafe.Offsetof(probeTaskinfo{}.Vtid))
	taskVpid     = int(unsafe.Offsetof(probeTaskinfo{}.Vpid))
	taskPgid     = int(unsafe.Offsetof(probeTaskinfo{}.Pgid))
	taskFdlimit  = int(unsafe.Offsetof(probeTaskinfo{}.Fdlimit))
	taskCg2      = int(unsafe.Offsetof(probeTaskinfo{}.Cg2))
	taskCgmem    = int(unsafe.Offsetof(probeTaskinfo{}.Cgmem))
	taskVM       = int(unsafe.Offsetof(probeTaskinfo{}.Vm))
	taskUID      = int(unsafe.Offsetof(probeTaskinfo{}.Uid))
	taskGID      = int(unsafe.Offsetof(probeTaskinfo{}.Gid))
	taskLoginUID = int(unsafe.Offsetof(probeTaskinfo{}.Loginuid))
	taskTTY      = int(unsafe.Offsetof(probeTaskinfo{}.Tty))
	taskPidnsLvl = int(unsafe.Offsetof(probeTaskinfo{}.PidnsLevel))
	taskFlags    = int(unsafe.Offsetof(probeTaskinfo{}.Flags))
	taskComm     = int(unsafe.Offsetof(probeTaskinfo{}.Comm))
	vmMajFlt     = int(unsafe.Offsetof(probeVminfo{}.MajFlt))
	vmMinFlt     = int(unsafe.Offsetof(probeVminfo{}.MinFlt))
	vmSize       = int(unsafe.Offsetof(probeVminfo{}.VmSize))
	vmRSS        = int(unsafe.Offsetof(probeVminfo{}.VmRss))
	vmSwap       = int(unsafe.Offsetof(probeVminfo{}.VmSwap))
)

const (
	childInPidns  = 1 << 29 // PPM_CL_CHILD_IN_PIDNS
	argsEnvMaxLen = 4096
)

// taskParam writes one parameter of a clone/fork/execve exit from the task items:
// the taskinfo, then the argument area, then the environment area.
func (c *converter) taskParam(o *op) {
	r := &c.rec
	ti := r.item(o.item)
	if len(ti) < taskinfoLen {
		ti = make0Task()
	}
	args := trimArea(r.item(o.item + 1))
	env := trimArea(r.item(o.item + 2))
	i64 := func(off int) uint64 { return le.Uint64(ti[off:]) }
	u32 := func(off int) uint32 { return le.Uint32(ti[off:]) }
	switch o.arg {
	case tExe:
		exe := args
		if i := indexNul(exe); i >= 0 {
			exe = exe[:i]
		}
		c.putString(exe)
	case tArgs:
		rest := []byte(nil)
		if i := indexNul(args); i >= 0 {
			rest = args[i+1:]
		}
		c.putBytes(rest)
	case tEnv:
		c.putBytes(env)
	case tTid:
		c.putU64(i64(taskTid))
	case tPid:
		c.putU64(i64(taskPid))
	case tPtid:
		c.putU64(i64(taskPtid))
	case tVtid:
		c.putU64(i64(taskVtid))
	case tVpid:
		c.putU64(i64(taskVpid))
	case tPgid:
		c.putU64(i64(taskPgid))
	case tFdlimit:
		c.putU64(i64(taskFdlimit))
	case tMajflt:
		c.putU64(i64(taskVM + vmMajFlt))
	case tMinflt:
		c.putU64(i64(taskVM + vmMinFlt))
	case tVMSize:
		c.putU32(u32(taskVM + vmSize))
	case tVMRSS:
		c.putU32(u32(taskVM + vmRSS))
	case tVMSwap:
		c.putU32(u32(taskVM + vmSwap))
	case tComm:
		c.putString(ti[taskComm : taskComm+16])
	case tCgroups:
		c.putBytes(c.cg.lookup(i64(taskCg2), i64(taskCgmem), int(i64(taskTid)), int(i64(taskPid)), int(i64(taskPtid))))
	case tTTY:
		var tty uint32
		if t := u32(taskTTY); t != 0 {
			tty = encodeDev(t)
		}
		c.putU32(tty)
	case tLoginUID:
		c.putU32(u32(taskLoginUID))
	case tUID:
		c.putU32(u32(taskUID))
	case tGID:
		c.putU32(u32(taskGID))
	case tCloneFlags:
		var raw uint64
		switch o.arg2 {
		case cflagsArg0:
			raw = r.args[0]
		case cflagsCloneArgs:
			if b := r.item(o.item2); len(b) >= 8 {
				raw = le.Uint64(b)
			}
		}
		f := convCloneFlags(raw)
		if u32(taskPidnsLvl) != 0 || u32(taskFlags) != 0 {
			f |= childInPidns
		}
		c.putU32(uint32(f))
	}
}

var zeroTask []byte

func make0Task() []byte {
	if zeroTask == nil {
		zeroTask = make([]byte, taskinfoLen)
	}
	return zeroTask
}

// trimArea returns an argument or environment area as the driver stores it: at most
// 4096 bytes, the last one a NUL.
func trimArea(b []byte) []byte {
	if len(b) > argsEnvMaxLen {
		b = b[:argsEnvMaxLen]
	}
	if len(b) > 0 && b[len(b)-1] != 0 {
		b[len(b)-1] = 0
	}
	return b
}

// cgroupCache maps a task's cgroup ids to its cgroups parameter ("cpu=/path\0...").
type cgroupCache struct {
	m       map[[2]uint64][]byte
	missed  map[[2]uint64]bool // ids whose directory a walk did not find: not walked again
	root    string             // where the cgroup v2 hierarchy is mounted
	v2only  bool               // a cgroup v2-only host: the v2 path is every controller's
	ctrls   string             // cgroup.controllers of a v2-only host's root
	memRoot string             // the cgroup v1 memory hierarchy, if mounted (not on v2-only hosts)
}

func newCgroupCache() *cgroupCache {
	c := &cgroupCache{m: map[[2]uint64][]byte{}, missed: map[[2]uint64]bool{}, root: "/sys/fs/cgroup/unified"}
	if _, err := os.Stat("/sys/fs/cgroup/cgroup.controllers"); err == nil {
		c.root, c.v2only = "/sys/fs/cgroup", true
	} else if fi, err := os.Stat("/sys/fs/cgroup/memory"); err == nil && fi.IsDir() {
		c.memRoot = "/sys/fs/cgroup/memory"
	}
	c.ctrls = "/sys/fs/cgroup/cgroup.controllers"
	return c
}

// lookup returns the cgroups param of the task whose v2 and v1-memory cgroup
// ids are given. The first time a pair of ids is seen, it reads
// /proc/TID/cgroup of the task (tids[0]), and when the task is gone (a
// short-lived process, read after it exited) of its process or its parent
// (the other tids). A task's file counts only when its cgroups are the ones
// the event recorded: its cgroup v2 directory, and on a cgroup v1 host its
// memory cgroup's, have the recorded ids as inodes. Between the event and
// the read a task can move (runc moves the container's first process into
// the container's cgroups while its parent stays outside) and a tid can be
// reused. When no task vouches for them, the directory with the recorded
// inode is looked for: the v2 one on a v2-only host, else the v1 memory one
// (the param then names the memory controller only), once per pair of ids.
// It returns nil when none is known.
func (c *cgroupCache) lookup(cg2, cgmem uint64, tids ...int) []byte {
	key := [2]uint64{cg2, cgmem}
	if b, ok := c.m[key]; ok {
		return b
	}
	for i, tid := range tids {
		if tid <= 0 {
			continue
		}
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/cgroup", tid))
		if err != nil {
			continue // gone too
		}
		if !c.vouches(b, cg2, cgmem, i == 0) {
			continue
		}
		v := formatCgroups(b, c.ctrls)
		c.m[key] = v
		return v
	}
	if c.missed[key] {
		return nil
	}
	var v []byte
	if c.v2only {
		if path := findInode(c.root, cg2); path != "" {
			v = formatCgroups([]byte("0::"+path+"\n"), c.ctrls)
		}
	} else if c.memRoot != "" {
		if path := findInode(c.memRoot, cgmem); path != "" {
			v = formatCgroups([]byte("1:memory:"+path+"\n"), c.ctrls)
		}
	}
	if v != nil {
		c.m[key] = v
	} else {
		c.missed[key] = true // a cgroup already removed, or outside our view
	}
	return v
}

// vouches reports whether the /proc/PID/cgroup file b names the cgroups whose
// ids an event recorded. The task itself (self) is trusted where an id
// cannot be checked; its process or parent only where the v2 id is checked.
func (c *cgroupCache) vouches(b []byte, cg2, cgmem uint64, self bool) bool {
	ino := c.cgroup2Inode(b)
	switch {
	case self && (cg2 == 0 || ino == 0 || ino == cg2):
	case !self && cg2 != 0 && ino == cg2:
	default:
		return false
	}
	if c.memRoot == "" || cgmem == 0 {
		return true
	}
	m := c.memInode(b)
	return m == cgmem || self && m == 0
}

// memInode is the inode of the cgroup v1 memory directory a /proc/PID/cgroup
// names, which is the memory cgroup's id; 0 when unknown.
func (c *cgroupCache) memInode(proc []byte) uint64 {
	for _, line := range strings.Split(string(proc), "\n") {
		parts := strings.SplitN(line, ":", 3)
		if len(parts) != 3 || !slices.Contains(strings.Split(parts[1], ","), "memory") {
			continue
		}
		if fi, err := os.Stat(c.memRoot + parts[2]); err == nil {
			if st, ok := fi.Sys().(*syscall.Stat_t); ok {
				return st.Ino
			}
		}
	}
	return 0
}

// findInode returns the path (relative to root, with a leading slash) of the
// directory under root whose inode is ino; "" when there is none.
func findInode(root string, ino uint64) string {
	if ino == 0 {
		return ""
	}
	found := ""
	filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || !d.IsDir() {
			return nil
		}
		fi, err := d.Info()
		if err != nil {
			return nil
		}
		if st, ok := fi.Sys().(*syscall.Stat_t); ok && st.Ino == ino {
			found = strings.TrimPrefix(p, root)
			if found == "" {
				found = "/"
			}
			return fs.SkipAll
		}
		return nil
	})
	return found
}

// cgroup2Inode is the inode of the cgroup v2 directory a /proc/PID/cgroup
// names ("0::/path"), which is the kernel's cgroup id; 0 when unknown.
func (c *cgroupCache) cgroup2Inode(proc []byte) uint64 {
	for _, line := range strings.Split(string(proc), "\n") {
		if path, ok := strings.CutPrefix(line, "0::"); ok {
			if fi, err := os.Stat(c.root + path); err == nil {
				if st, ok := fi.Sys().(*syscall.Stat_t); ok {
					return st.Ino
				}
			}
		}
	}
	return 0
}

// subsysOrder is the kernel's order of cgroup controllers, in which the driver lists them.
var subsysOrder = []string{"cpuset", "cpu", "cpuacct", "io", "blkio", "memory", "devices", "freezer",
	"net_cls", "perf_event", "net_prio", "hugetlb", "pids", "rdma", "misc"}

// formatCgroups converts /proc/PID/cgroup to the driver's list of "controller=path"
// strings, each NUL-terminated. On a cgroup v2-only host, the controllers enabled at
// the root (listed in the file ctrls) all have the v2 path.
func formatCgroups(proc []byte, ctrls string) []byte {
	paths := map[string]string{}
	var v2 string
	hasV2 := false
	sc := bufio.NewScanner(bytes.NewReader(proc))
	for sc.Scan() {
		parts := strings.SplitN(sc.Text(), ":", 3)
		if len(parts) != 3 {
			continue
		}
		if parts[0] == "0" && parts[1] == "" {
			v2, hasV2 = parts[2], true
			continue
		}
		for _, ctrl := range strings.Split(parts[1], ",") {
			if ctrl == "blkio" {
				ctrl = "io"
			}
			if !strings.HasPrefix(ctrl, "name=") {
				paths[ctrl] = parts[2]
			}
		}
	}
	if len(paths) == 0 && hasV2 {
		if b, err := os.ReadFile(ctrls); err == nil {
			for _, ctrl := range strings.Fields(string(b)) {
				paths[ctrl] = v2
			}
		}
	}
	var out []byte
	for _, ctrl := range subsysOrder {
		if p, ok := paths[ctrl]; ok {
			out = append(out, ctrl...)
			out = append(out, '=')
			out = append(out, p...)
			out = append(out, 0)
		}
	}
	return out
}
