//go:build linux && (amd64 || arm64)

package procfs

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"

	"golang.org/x/sys/unix"

	"github.com/syscope/syscope/scap"
)

// Scan reads the state of the machine from root (normally "/proc") into capture metadata.
//
// Processes come and go while the scan runs: a process or thread that
// vanishes, or one whose status cannot be read, is left out, and a file that
// cannot be read (for lack of permission, say) leaves its field empty. Scan
// fails only when the proc root itself cannot be listed or the interfaces
// cannot be read.
func Scan(opts ...Option) (*scap.Metadata, error) {
	o := defaultOptions()
	for _, opt := range opts {
		opt(&o)
	}
	m := &scap.Metadata{Major: 1, Minor: 2}
	m.Machine = machineInfo(&o)
	ifs, err := interfaces()
	if err != nil {
		return nil, fmt.Errorf("procfs: interfaces: %w", err)
	}
	m.Interfaces = ifs
	m.Users, m.Groups = readUsers(o.etc)
	m.Threads, err = scanProcs(&o)
	if err != nil {
		return nil, err
	}
	return m, nil
}

// shared is what the workers of one scan share.
type shared struct {
	o      *options
	rootfd int
	// Socket tables by network namespace inode, each read once.
	mu   sync.Mutex
	nets map[uint64]*netTable
	// Controllers of the cgroup v2 root, read once.
	ctrlOnce sync.Once
	ctrls    []string
	// prlimit reaches the threads only when the proc root is our own.
	prlimit bool
}

// scanner reads processes. Each worker has its own, so its buffers are reused
// without locking.
type scanner struct {
	sh    *shared
	buf   []byte // file contents
	dents []byte // directory entries
	link  []byte // link targets
	name  []byte // NUL-terminated names built per call
	dname []byte // name of the process directory
	st    unix.Stat_t
	// Formatted cgroups by the contents of the cgroup file: processes mostly
	// share a handful, so each list is built once.
	cgroups map[string][]string
	creds   credSwitcher
	// exe_writable by process and credentials: a process's threads share it.
	writable map[[3]uint64]bool
	nthreads int // the Threads count of the last status read
}

func newScanner(sh *shared) *scanner {
	return &scanner{
		sh:       sh,
		buf:      make([]byte, 64<<10),
		dents:    make([]byte, 32<<10),
		link:     make([]byte, 4096),
		name:     make([]byte, 0, 4096+64),
		dname:    make([]byte, 0, 32),
		cgroups:  map[string][]string{},
		writable: map[[3]uint64]bool{},
	}
}

// scanProcs lists the processes under the proc root and reads each, with as
// many workers as there are CPUs to run them (at most 4). The result is in
// directory order, each process's main thread before its other threads.
func scanProcs(o *options) ([]scap.Thread, error) {
	rootfd, err := unix.Open(o.proc, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("procfs: %w", &os.PathError{Op: "open", Path: o.proc, Err: err})
	}
	defer unix.Close(rootfd)
	sh := &shared{o: o, rootfd: rootfd, nets: map[uint64]*netTable{}}
	if p, err := filepath.Abs(o.proc); err == nil && p == "/proc" {
		sh.prlimit = true
	}

	var pids []uint64
	dents := make([]byte, 32<<10)
	err = eachDirent(rootfd, dents, func(name []byte) {
		if pid, ok := parseUint(name); ok {
			pids = append(pids, pid)
		}
	})
	if err != nil {
		return nil, fmt.Errorf("procfs: %w", &os.PathError{Op: "readdir", Path: o.proc, Err: err})
	}

	results := make([][]scap.Thread, len(pids))
	workers := min(runtime.GOMAXPROCS(0), 4, len(pids))
	var next atomic.Int64
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		// Each worker has its own goroutine: the exe_writable check changes the
		// credentials of the OS thread it runs on, and a goroutine that could not
		// restore them ends locked to that thread, which then exits with it.
		go func() {
			defer wg.Done()
			s := newScanner(sh)
			defer s.creds.release()
			for {
				i := int(next.Add(1) - 1)
				if i >= len(pids) {
					return
				}
				results[i] = s.scanProcess(pids[i])
			}
		}()
	}
	wg.Wait()

	n := 0
	for _, r := range results {
		n += len(r)
	}
	threads := make([]scap.Thread, 0, n)
	for _, r := range results {
		threads = append(threads, r...)
	}
	return threads, nil
}

// scanProcess reads process pid: its main thread with its fds, then its other
// threads.
func (s *scanner) scanProcess(pid uint64) []scap.Thread {
	s.dname = strconv.AppendUint(s.dname[:0], pid, 10)
	s.dname = append(s.dname, 0)
	dfd, err := openat(s.sh.rootfd, s.dname, unix.O_PATH|unix.O_DIRECTORY)
	if err != nil {
		return nil
	}
	defer unix.Close(dfd)

	var out []scap.Thread
	var main scap.Thread
	keep, vanished := s.readThread(dfd, int64(pid), &main, nil)
	if vanished {
		return nil
	}
	var proc *scap.Thread
	if keep {
		if main.Pid == main.Tid {
			main.FDs = s.scanFDs(dfd)
		}
		out = append(out, main)
		proc = &main
		if s.nthreads == 1 {
			return out
		}
	} else if fstatat(dfd, nTask, &s.st) == nil && s.st.Nlink <= 3 {
		// A kernel thread, or a zombie with no thread left: the task
		// directory's link count is 2 plus the number of threads.
		return out
	}

	tfd, err := openat(dfd, nTask, unix.O_RDONLY|unix.O_DIRECTORY)
	if err != nil {
		return out
	}
	defer unix.Close(tfd)
	var tids []uint64
	if eachDirent(tfd, s.dents, func(name []byte) {
		if tid, ok := parseUint(name); ok && tid != pid {
			tids = append(tids, tid)
		}
	}) != nil {
		return out
	}
	for _, tid := range tids {
		s.name = strconv.AppendUint(s.name[:0], tid, 10)
		s.name = append(s.name, 0)
		thfd, err := openat(tfd, s.name, unix.O_PATH|unix.O_DIRECTORY)
		if err != nil {
			continue
		}
		var t scap.Thread
		if keep, _ := s.readThread(thfd, int64(tid), &t, proc); keep {
			out = append(out, t)
		}
		unix.Close(thfd)
	}
	return out
}

// readFile reads name under dirfd into s.buf, at most limit bytes (0: all of
// it, growing the buffer). Files of one record (status, stat, cmdline, ...)
// come whole from one read, so a short read ends them; seq files of many
// records (the socket tables) are read to the end with all set.
func (s *scanner) readFile(dirfd int, name []byte, limit int, all bool) ([]byte, error) {
	fd, err := openat(dirfd, name, unix.O_RDONLY)
	if err != nil {
		return nil, err
	}
	defer unix.Close(fd)
	n := 0
	for {
		if limit > 0 && n >= limit {
			break
		}
		if n == len(s.buf) {
			if limit > 0 {
				break
			}
			s.buf = append(s.buf, make([]byte, len(s.buf))...)
		}
		end := len(s.buf)
		if limit > 0 && limit < end {
			end = limit
		}
		r, err := unix.Read(fd, s.buf[n:end])
		if err != nil {
			if err == unix.EINTR {
				continue
			}
			return nil, err
		}
		n += r
		if r == 0 || (!all && n < end) {
			break
		}
	}
	return s.buf[:n], nil
}

// readlink reads a link under dirfd, cut to max bytes.
func (s *scanner) readlink(dirfd int, name []byte, max int) ([]byte, error) {
	b, err := readlinkat(dirfd, name, s.link)
	if err != nil {
		return nil, err
	}
	if len(b) > max {
		b = b[:max]
	}
	return b, nil
}

// Clone flags libscap gives threads other than the main one (PPM_CL_*).
const (
	clCloneFiles  = 1 << 0
	clCloneThread = 1 << 13
)

// readThread fills t from the thread directory open at dfd. keep is false for
// what libscap leaves out: kernel threads and zombies (no executable and an
// empty command line), and threads that cannot be read; vanished tells that
// the thread is gone. The executable, command line and environment of a
// thread are those of its memory map, which all threads of a process share:
// they are taken from proc, the main thread, when it was read.
func (s *scanner) readThread(dfd int, tid int64, t *scap.Thread, proc *scap.Thread) (keep, vanished bool) {
	t.Tid = tid
	s.nthreads = 0

	if proc != nil {
		t.ExePath, t.Exe, t.Args, t.Env = proc.ExePath, proc.Exe, proc.Args, proc.Env
	} else {
		// The command line: argv[0], then the arguments. Without an executable
		// and with an empty command line, this is a kernel thread or a zombie.
		exe, exeErr := s.readlink(dfd, nExe, maxPath-1)
		cmd, err := s.readFile(dfd, nCmdline, maxArgs-1, false)
		if err != nil {
			return false, gone(err)
		}
		if exeErr != nil && len(cmd) == 0 {
			return false, false
		}
		if exeErr == nil {
			t.ExePath = string(exe)
		}
		if len(cmd) > 0 {
			argv0 := cmd
			if i := bytes.IndexByte(cmd, 0); i >= 0 {
				argv0, cmd = cmd[:i], cmd[i+1:]
			} else {
				cmd = nil
			}
			t.Exe = string(argv0[:min(len(argv0), maxPath-1)])
			t.Args = splitNul(cmd)
		}
		if env, err := s.readFile(dfd, nEnviron, maxEnv, false); err == nil && len(env) > 0 {
			env[len(env)-1] = 0
			t.Env = splitNul(env)
		}
	}

	// status: comm, ids, memory, namespace-relative ids.
	status, err := s.readFile(dfd, nStatus, 0, false)
	if err != nil || len(status) == 0 {
		return false, err == nil || gone(err)
	}
	t.UID, t.GID = 0xffffffff, 0
	t.Ptid = int64(uint32(0xffffffff))
	var vpgid int64
	s.nthreads = parseStatus(status, t, &vpgid)

	// stat: session, process group, page faults.
	stat, err := s.readFile(dfd, nStat, 0, false)
	if err != nil {
		return false, gone(err)
	}
	pgid, ok := parseStat(stat, t)
	if !ok {
		return false, false
	}
	t.Vpgid = vpgid
	if t.Vpgid == 0 {
		t.Vpgid = pgid
	}

	cwd, err := s.readlink(dfd, nCwd, maxPath)
	if err != nil {
		if gone(err) {
			return false, true
		}
	} else {
		t.Cwd = string(cwd)
	}
	root, err := s.readlink(dfd, nRoot, maxPath)
	if err != nil {
		if gone(err) {
			return false, true
		}
	} else {
		t.Root = string(root)
	}

	t.FDLimit = s.fdLimit(dfd, tid)
	if cg, err := s.readFile(dfd, nCgroup, 0, false); err == nil {
		t.Cgroups = s.formatCgroups(cg)
	}

	t.LoginUID = 0xffffffff
	if b, err := s.readFile(dfd, nLoginuid, 64, false); err == nil {
		if v, err := strconv.ParseInt(string(bytes.TrimSpace(b)), 10, 64); err == nil {
			t.LoginUID = uint32(v)
		}
	}
	t.HasLoginUID = true

	if t.Tid != t.Pid {
		t.Flags = clCloneThread | clCloneFiles
	}
	t.ExeWritable = s.exeWritable(dfd, t.Pid, t.ExePath, t.UID, t.GID)
	return true, false
}

// splitNul splits NUL-terminated strings as libsinsp splits args and env: up
// to each NUL, the last one possibly unterminated. The strings share one
// allocation.
func splitNul(b []byte) []string {
	if len(b) == 0 {
		return nil
	}
	n := bytes.Count(b, []byte{0})
	if b[len(b)-1] != 0 {
		n++
	}
	all := string(b)
	out := make([]string, 0, n)
	for len(all) > 0 {
		i := 0
		for i < len(all) && all[i] != 0 {
			i++
		}
		out = append(out, all[:i])
		if i == len(all) {
			break
		}
		all = all[i+1:]
	}
	return out
}

// parseStatus takes from /proc/PID/status what libscap does: the first word of
// Name, the effective uid and gid, Tgid, PPid, the memory sizes, and the ids
// one pid namespace down (NStgid, NSpid, NSpgid), defaulting to the global
// ones. It returns the number of threads of the process (0 if not shown).
func parseStatus(b []byte, t *scap.Thread, vpgid *int64) (threads int) {
	var vtid, vpid int64
	haveVtid, haveVpid := false, false
	for len(b) > 0 {
		line := b
		if i := bytes.IndexByte(b, '\n'); i >= 0 {
			line, b = b[:i], b[i+1:]
		} else {
			b = nil
		}
		key, val, ok := bytes.Cut(line, []byte{':'})
		if !ok {
			continue
		}
		switch string(key) {
		case "Name":
			w := firstWord(val)
			t.Comm = string(w[:min(len(w), maxPath)])
		case "Tgid":
			t.Pid = int64(numField(val, 0))
		case "PPid":
			t.Ptid = int64(numField(val, 0))
		case "Uid":
			if v, ok := numFieldOK(val, 1); ok {
				t.UID = uint32(v)
			}
		case "Gid":
			if v, ok := numFieldOK(val, 1); ok {
				t.GID = uint32(v)
			}
		case "VmSize":
			t.VMSizeKB = uint32(numField(val, 0))
		case "VmRSS":
			t.VMRSSKB = uint32(numField(val, 0))
		case "VmSwap":
			t.VMSwapKB = uint32(numField(val, 0))
		case "Threads":
			threads = int(numField(val, 0))
		case "NStgid":
			vpid, haveVpid = numFieldOK(val, 1)
		case "NSpid":
			vtid, haveVtid = numFieldOK(val, 1)
		case "NSpgid":
			if v, ok := numFieldOK(val, 1); ok {
				*vpgid = v
			}
		}
	}
	t.Vtid, t.Vpid = t.Tid, t.Pid
	if haveVtid {
		t.Vtid = vtid
	}
	if haveVpid {
		t.Vpid = vpid
	}
	return threads
}

// parseStat takes the session and page faults from /proc/PID/stat, and
// returns the process group.
func parseStat(b []byte, t *scap.Thread) (pgid int64, ok bool) {
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, false
	}
	// state ppid pgrp session tty_nr tpgid flags minflt cminflt majflt
	var f [10][]byte
	if fields(b[i+1:], f[:]) < 10 {
		return 0, false
	}
	pgid, _ = parseInt(f[2])
	sid, _ := parseInt(f[3])
	minflt, _ := parseUint(f[7])
	majflt, _ := parseUint(f[9])
	t.Sid = sid
	t.PFMinor, t.PFMajor = minflt, majflt
	// The tty (f[4]) is not stored, nor are the capabilities: libscap 0.29
	// keeps neither in its process table, and the state engine takes a
	// thread that has them as read from a newer file layout.
	return pgid, true
}

// fields splits b at runs of blanks into f and returns how many it filled.
func fields(b []byte, f [][]byte) int {
	n := 0
	for n < len(f) {
		for len(b) > 0 && isBlank(b[0]) {
			b = b[1:]
		}
		if len(b) == 0 {
			break
		}
		j := 0
		for j < len(b) && !isBlank(b[j]) {
			j++
		}
		f[n] = b[:j]
		n++
		b = b[j:]
	}
	return n
}

func isBlank(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

func firstWord(b []byte) []byte {
	var f [1][]byte
	if fields(b, f[:]) == 0 {
		return nil
	}
	return f[0]
}

// numFieldOK parses the i-th blank-separated number of b.
func numFieldOK(b []byte, i int) (int64, bool) {
	var f [4][]byte
	if fields(b, f[:i+1]) <= i {
		return 0, false
	}
	return parseInt(f[i])
}

func numField(b []byte, i int) int64 {
	v, _ := numFieldOK(b, i)
	return v
}

func parseInt(b []byte) (int64, bool) {
	neg := len(b) > 0 && b[0] == '-'
	if neg {
		b = b[1:]
	}
	v, ok := parseUint(b)
	if neg {
		return -int64(v), ok
	}
	return int64(v), ok
}

// fdLimit is the soft RLIMIT_NOFILE of the thread, -1 when unknown or
// unlimited.
func (s *scanner) fdLimit(dfd int, tid int64) int64 {
	if s.sh.prlimit {
		var rl unix.Rlimit
		if unix.Prlimit(int(tid), unix.RLIMIT_NOFILE, nil, &rl) != nil {
			return -1
		}
		return int64(rl.Cur)
	}
	b, err := s.readFile(dfd, nLimits, 0, false)
	if err != nil {
		return -1
	}
	for len(b) > 0 {
		line := b
		if i := bytes.IndexByte(b, '\n'); i >= 0 {
			line, b = b[:i], b[i+1:]
		} else {
			b = nil
		}
		if rest, ok := bytes.CutPrefix(line, []byte("Max open files")); ok {
			if v, ok := parseUint(firstWord(rest)); ok {
				return int64(v)
			}
			return -1
		}
	}
	return -1
}

// subsysOrder is the kernel's order of cgroup controllers, in which the
// driver lists them.
var subsysOrder = []string{"cpuset", "cpu", "cpuacct", "io", "blkio", "memory", "devices", "freezer",
	"net_cls", "perf_event", "net_prio", "hugetlb", "pids", "rdma", "misc"}

// formatCgroups turns /proc/PID/cgroup into the driver's "controller=path"
// list, in the kernel's controller order: the v1 hierarchies' controllers
// (blkio as io, named hierarchies left out), or on a v2-only host the
// controllers enabled at the root, all with the v2 path.
func (s *scanner) formatCgroups(b []byte) []string {
	if l, ok := s.cgroups[string(b)]; ok {
		return l
	}
	key := string(b)
	var paths [16]string
	var have [16]bool
	any := false
	v2, hasV2 := "", false
	for len(b) > 0 {
		line := b
		if i := bytes.IndexByte(b, '\n'); i >= 0 {
			line, b = b[:i], b[i+1:]
		} else {
			b = nil
		}
		id, rest, ok1 := bytes.Cut(line, []byte{':'})
		ctrls, path, ok2 := bytes.Cut(rest, []byte{':'})
		if !ok1 || !ok2 {
			continue
		}
		if string(id) == "0" && len(ctrls) == 0 {
			v2, hasV2 = string(path), true
			continue
		}
		for len(ctrls) > 0 {
			c := ctrls
			if i := bytes.IndexByte(ctrls, ','); i >= 0 {
				c, ctrls = ctrls[:i], ctrls[i+1:]
			} else {
				ctrls = nil
			}
			if bytes.HasPrefix(c, []byte("name=")) {
				continue
			}
			any = true
			if string(c) == "blkio" {
				c = []byte("io")
			}
			if k := subsysIndex(string(c)); k >= 0 {
				paths[k], have[k] = string(path), true
			}
		}
	}
	if !any && hasV2 {
		for _, c := range s.sh.rootControllers() {
			if k := subsysIndex(c); k >= 0 {
				paths[k], have[k] = v2, true
			}
		}
	}
	var out []string
	for k, c := range subsysOrder {
		if have[k] {
			out = append(out, c+"="+paths[k])
		}
	}
	s.cgroups[key] = out
	return out
}

func subsysIndex(c string) int {
	for k, s := range subsysOrder {
		if s == c {
			return k
		}
	}
	return -1
}

// rootControllers lists the controllers of the cgroup v2 root.
func (sh *shared) rootControllers() []string {
	sh.ctrlOnce.Do(func() {
		if b, err := os.ReadFile("/sys/fs/cgroup/cgroup.controllers"); err == nil {
			sh.ctrls = bytesFields(b)
		}
	})
	return sh.ctrls
}

func bytesFields(b []byte) []string {
	var out []string
	for _, f := range bytes.Fields(b) {
		out = append(out, string(f))
	}
	return out
}
