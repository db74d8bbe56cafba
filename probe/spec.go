package probe

import (
	_ "embed"
	"fmt"
	"strconv"
	"strings"

	"github.com/syscope/syscope/event"
)

// Item kinds and length sources, as in bpf/probe.bpf.c.
const (
	itStr      = 1
	itBuf      = 2
	itIov      = 3
	itMsg      = 4
	itSockaddr = 5
	itSock     = 6
	itFile     = 7
	itTask     = 8
	itVM       = 9
	itMem      = 10
	itPoll     = 11

	lNone  = 0
	lArg   = 1
	lRet   = 2
	lPtr   = 3
	lMem   = 4
	lSnap  = 5
	lRSnap = 6
)

const (
	maxSyscalls = 512
	maxItems    = 4
	// maxSnaplen is the largest I/O buffer the probe copies (its items are at most 32 KiB).
	maxSnaplen = 32000
)

// fetchSpec is one item the kernel side fetches for a syscall, as in struct fetch.
type fetchSpec struct{ kind, arg, lenkind, lenarg uint8 }

// specs maps a syscall name to how its enter and exit events are built: one token per
// event parameter, in the event table's order. The tokens are:
//
//	ret        the return value          aN        argument N
//	0          zero, or empty            sN        the user string at argument N
//	rbN        user buffer N, the bytes read (return value), at most the snaplen
//	wbN.M      user buffer N, argument M bytes, at most the snaplen
//	sa.N.M     the user sockaddr at argument N, argument M bytes
//	mode.F.M   open mode M as the driver stores it for flags F
//	others     named sources (tuples, task fields, ...) listed in source()
//
// A token may carry the flag table conversion of its parameter implicitly: raw
// arguments of PT_FLAGS params are converted with Convert(table).
var specs = map[string][2]string{
	"read":            {"a0 a2", "ret rb1"},
	"write":           {"a0 a2", "ret wb1.2"},
	"open":            {"s0 a1 mode.1.2", "ret s0 a1 mode.1.2 dev"},
	"creat":           {"s0 mode.c.1", "ret s0 mode.c.1 dev"},
	"close":           {"a0", "ret"},
	"stat":            {"", "ret s0"},
	"lstat":           {"", "ret s0"},
	"fstat":           {"a0", "ret"},
	"poll":            {"poll.in a2", "ret poll.out"},
	"ppoll":           {"poll.in ts.2 sigset.3", "ret poll.out"},
	"lseek":           {"a0 a1 a2", "ret"},
	"mmap":            {"a0 a1 a2 a3 a4 a5", "ret vm.size vm.rss vm.swap"},
	"mprotect":        {"a0 a1 a2", "ret"},
	"munmap":          {"a0 a1", "ret vm.size vm.rss vm.swap"},
	"brk":             {"a0", "ret vm.size vm.rss vm.swap"},
	"ioctl":           {"a0 a1 a2", "ret"},
	"pread64":         {"a0 a2 a3", "ret rb1"},
	"pwrite64":        {"a0 a2 a3", "ret wb1.2"},
	"readv":           {"a0", "ret iov.r.size iov.r.data"},
	"preadv":          {"a0 a3", "ret iov.r.size iov.r.data"},
	"writev":          {"a0 iov.e.size", "ret iov.w.data"},
	"pwritev":         {"a0 iov.e.size a3", "ret iov.w.data"},
	"access":          {"a1", "ret s0"},
	"pipe":            {"", "ret p0 p1 pipe.ino"},
	"pipe2":           {"", "ret p0 p1 pipe.ino"},
	"select":          {"", "ret"},
	"dup":             {"a0", "ret"},
	"dup2":            {"a0", "ret"},
	"dup3":            {"a0", "ret"},
	"nanosleep":       {"ts.0", "ret"},
	"sendfile":        {"a0 a1 u64p.2 a3", "ret u64p.2"},
	"socket":          {"a0 a1 a2", "ret"},
	"connect":         {"a0 sa.1.2", "ret tup.c"},
	"accept":          {"", "ret tup.a q.pct q.len q.max"},
	"accept4":         {"0", "ret tup.a q.pct q.len q.max"},
	"sendto":          {"a0 a2 tup.s", "ret wb1.2"},
	"recvfrom":        {"a0 a2", "ret rb1 tup.r"},
	"sendmsg":         {"a0 msg.e.size tup.ms", "ret msg.w.data"},
	"recvmsg":         {"a0", "ret msg.r.size msg.r.data tup.mr"},
	"shutdown":        {"a0 a1", "ret"},
	"bind":            {"a0", "ret sa.1.2"},
	"listen":          {"a0 a1", "ret"},
	"getsockname":     {"", ""},
	"getpeername":     {"", ""},
	"socketpair":      {"a0 a1 a2", "ret sp0 sp1 sp.src sp.peer"},
	"setsockopt":      {"", "ret a0 so.level so.name so.val a4"},
	"getsockopt":      {"", "ret a0 so.level so.name so.val so.len"},
	"clone":           {"", "ret t.exe t.args t.tid t.pid t.ptid 0 t.fdlimit t.majflt t.minflt t.vmsize t.vmrss t.vmswap t.comm t.cgroups t.cflags t.uid t.gid t.vtid t.vpid"},
	"clone3":          {"", "ret t.exe t.args t.tid t.pid t.ptid 0 t.fdlimit t.majflt t.minflt t.vmsize t.vmrss t.vmswap t.comm t.cgroups t.cflags t.uid t.gid t.vtid t.vpid"},
	"fork":            {"", "ret t.exe t.args t.tid t.pid t.ptid 0 t.fdlimit t.majflt t.minflt t.vmsize t.vmrss t.vmswap t.comm t.cgroups t.cflags t.uid t.gid t.vtid t.vpid"},
	"vfork":           {"", "ret t.exe t.args t.tid t.pid t.ptid 0 t.fdlimit t.majflt t.minflt t.vmsize t.vmrss t.vmswap t.comm t.cgroups t.cflags t.uid t.gid t.vtid t.vpid"},
	"execve":          {"s0", "ret t.exe t.args t.tid t.pid t.ptid 0 t.fdlimit t.majflt t.minflt t.vmsize t.vmrss t.vmswap t.comm t.cgroups t.env t.tty t.pgid t.loginuid 0"},
	"execveat":        {"a0 s1 a4", "ret t.exe t.args t.tid t.pid t.ptid 0 t.fdlimit t.majflt t.minflt t.vmsize t.vmrss t.vmswap t.comm t.cgroups t.env t.tty t.pgid t.loginuid 0"},
	"kill":            {"a0 a1", "ret"},
	"tkill":           {"a0 a1", "ret"},
	"tgkill":          {"a0 a1 a2", "ret"},
	"semget":          {"a0 a1 a2", "ret"},
	"semop":           {"a0", "ret a2 sem.0.num sem.0.op sem.0.flg sem.1.num sem.1.op sem.1.flg"},
	"semctl":          {"a0 a1 a2 a3", "ret"},
	"fcntl":           {"a0 a1", "ret"},
	"flock":           {"a0 a1", "ret"},
	"getdents":        {"a0", "ret"},
	"getdents64":      {"a0", "ret"},
	"getcwd":          {"", "ret cwd"},
	"chdir":           {"", "ret s0"},
	"fchdir":          {"a0", "ret"},
	"rename":          {"", "ret s0 s1"},
	"mkdir":           {"a1", "ret s0"},
	"rmdir":           {"", "ret s0"},
	"link":            {"", "ret s0 s1"},
	"unlink":          {"", "ret s0"},
	"symlink":         {"", "ret s0 s1"},
	"chmod":           {"", "ret s0 a1"},
	"fchmod":          {"", "ret a0 a1"},
	"getrlimit":       {"a0", "ret rlim.1.cur rlim.1.max"},
	"setrlimit":       {"a0", "ret rlim.1.cur rlim.1.max"},
	"prlimit64":       {"a0 a1", "ret rlim.2.cur rlim.2.max rlim.3.cur rlim.3.max"},
	"ptrace":          {"a0 a1", "ret ptrace.addr ptrace.data"},
	"getuid":          {"", "ret"},
	"getgid":          {"", "ret"},
	"geteuid":         {"", "ret"},
	"getegid":         {"", "ret"},
	"setuid":          {"a0", "ret"},
	"setgid":          {"a0", "ret"},
	"setpgid":         {"a0 a1", "ret"},
	"setsid":          {"", "ret"},
	"setresuid":       {"a0 a1 a2", "ret"},
	"setresgid":       {"a0 a1 a2", "ret"},
	"getresuid":       {"", "ret u32p.0 u32p.1 u32p.2"},
	"getresgid":       {"", "ret u32p.0 u32p.1 u32p.2"},
	"chroot":          {"", "ret s0"},
	"mount":           {"a3", "ret s0 s1 s2"},
	"umount2":         {"a1", "ret s0"},
	"quotactl":        {"qc.cmd qc.type a2 qc.fmt", "ret s1 0 0 0 0 0 0 0 0 0 0 0 0"},
	"futex":           {"a0 a1 a2", "ret"},
	"epoll_wait":      {"a2", "ret"},
	"inotify_init":    {"0", "ret"},
	"inotify_init1":   {"a0", "ret"},
	"openat":          {"a0 s1 a2 mode.2.3", "ret a0 s1 a2 mode.2.3 dev"},
	"openat2":         {"a0 s1 how.flags how.mode how.resolve", "ret a0 s1 how.flags how.mode how.resolve"},
	"mkdirat":         {"", "ret a0 s1 a2"},
	"unlinkat":        {"", "ret a0 s1 a2"},
	"renameat":        {"", "ret a0 s1 a2 s3"},
	"renameat2":       {"", "ret a0 s1 a2 s3 a4"},
	"linkat":          {"", "ret a0 s1 a2 s3 a4"},
	"symlinkat":       {"", "ret s0 a1 s2"},
	"fchmodat":        {"", "ret a0 s1 a2"},
	"unshare":         {"a0", "ret"},
	"setns":           {"a0 a1", "ret"},
	"splice":          {"a0 a2 a4 a5", "ret"},
	"signalfd":        {"a0 0 0", "ret"},
	"signalfd4":       {"a0 0 a3", "ret"},
	"timerfd_create":  {"a0 a1", "ret"},
	"eventfd":         {"a0 0", "ret"},
	"eventfd2":        {"a0 a1", "ret"},
	"recvmmsg":        {"", ""},
	"sendmmsg":        {"", ""},
	"seccomp":         {"a0", "ret"},
	"bpf":             {"a0", "bpf.res"},
	"userfaultfd":     {"", "ret a0"},
	"copy_file_range": {"a0 u64p.1 a4", "ret a2 u64p.3"},
}

// op is one compiled parameter source.
type op struct {
	src   source
	arg   uint8 // argument index, or sub-field
	arg2  uint8
	item  int8 // index of the fetched item, -1 for none
	item2 int8 // a second item (tuples: the user address), -1 for none
	typ   event.ParamType
	conv  func(uint64) uint64
}

// source is where a parameter's value comes from.
type source uint8

const (
	srcZero source = iota
	srcRet
	srcArg
	srcItem     // the item's bytes, as a string or buffer
	srcSockaddr // a user sockaddr item, encoded as PT_SOCKADDR
	srcOpenMode // open mode: arg2 is the flags argument (or 255 for creat), arg the mode argument
	srcFileDev
	srcFileIno
	srcTuple    // arg: tuple kind
	srcQueue    // arg: 0 pct, 1 len, 2 max
	srcIovSize  // item: an iov item; arg: 1 when limited by the return value
	srcIovData  // item: an iov item
	srcTask     // arg: task field
	srcVM       // arg: 0 size, 1 rss, 2 swap
	srcMemInt32 // item: user memory; arg: index of the int32
	srcMemU64   // item: user memory; the u64 at offset 0 (when the pointer was not NULL)
	srcSockPtr  // item: a sockinfo; arg: 0 sk, 1 peer
	srcPoll     // item: pollfds; arg: 0 events, 1 revents
	srcTimespec // item: a struct timespec, as nanoseconds
	srcSigset   // item: a sigset
	srcRlimit   // item: a struct rlimit; arg: 0 cur, 1 max
	srcSockopt  // arg: 0 level, 1 name, 2 val, 3 len (getsockopt)
	srcSemop    // item: sembufs; arg: entry, arg2: 0 num, 1 op, 2 flg
	srcPtrace   // arg: 0 addr, 1 data
	srcBPF
	srcCwd
	srcQuotactl // arg: 0 cmd, 1 type, 2 fmt
	srcOpenHow  // item: struct open_how; arg: 0 flags, 1 mode, 2 resolve
)

// Tuple kinds.
const (
	tupConnect = iota
	tupAccept
	tupSendto
	tupRecvfrom
	tupSendmsg
	tupRecvmsg
)

// Task fields.
const (
	tExe = iota
	tArgs
	tTid
	tPid
	tPtid
	tFdlimit
	tMajflt
	tMinflt
	tVMSize
	tVMRSS
	tVMSwap
	tComm
	tCgroups
	tEnv
	tTTY
	tPgid
	tLoginUID
	tCloneFlags
	tUID
	tGID
	tVtid
	tVpid
)

// Where a clone exit's flags come from (op.arg2 of tCloneFlags): fork and vfork have none.
const (
	cflagsNone      = 0
	cflagsArg0      = 1 // clone: the first argument
	cflagsCloneArgs = 2 // clone3: struct clone_args, fetched as item2
)

var taskFields = map[string]uint8{
	"exe": tExe, "args": tArgs, "tid": tTid, "pid": tPid, "ptid": tPtid, "fdlimit": tFdlimit,
	"majflt": tMajflt, "minflt": tMinflt, "vmsize": tVMSize, "vmrss": tVMRSS, "vmswap": tVMSwap,
	"comm": tComm, "cgroups": tCgroups, "env": tEnv, "tty": tTTY, "pgid": tPgid,
	"loginuid": tLoginUID, "cflags": tCloneFlags, "uid": tUID, "gid": tGID, "vtid": tVtid, "vpid": tVpid,
}

// evSpec is a compiled spec for one event of one syscall.
type evSpec struct {
	typ    event.Type
	ops    []op
	fetch  []fetchSpec
	nitems int // items the kernel emits (an IT_MSG or IT_TASK emits more than one)
}

// compiler builds an evSpec, sharing identical fetches between tokens.
type compiler struct {
	s    *evSpec
	keys []fetchSpec
	// base[i] is the index of the first item emitted by fetch i.
	base []int
}

func (c *compiler) fetch(f fetchSpec) int8 {
	for i, k := range c.keys {
		if k == f {
			return int8(c.base[i])
		}
	}
	if len(c.keys) == maxItems {
		panic(fmt.Sprintf("probe: more than %d fetches for %s", maxItems, c.s.typ.Info().Name))
	}
	c.keys = append(c.keys, f)
	c.base = append(c.base, c.s.nitems)
	c.s.fetch = append(c.s.fetch, f)
	switch f.kind {
	case itMsg:
		c.s.nitems += 2
	case itTask:
		c.s.nitems += 3
	default:
		c.s.nitems++
	}
	return int8(c.base[len(c.base)-1])
}

func atoiArg(s string) uint8 {
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 || n > 5 {
		panic(fmt.Sprintf("probe: bad argument index %q", s))
	}
	return uint8(n)
}

// compileSpec compiles the tokens of one event of syscall name.
func compileSpec(name string, t event.Type, tokens string) *evSpec {
	s := &evSpec{typ: t}
	c := &compiler{s: s}
	info := t.Info()
	toks := strings.Fields(tokens)
	if len(toks) != len(info.Params) {
		panic(fmt.Sprintf("probe: %s %s: %d tokens for %d params", name, t.Dir(), len(toks), len(info.Params)))
	}
	for i, tok := range toks {
		p := &info.Params[i]
		o := op{typ: p.Type, item: -1, item2: -1}
		parts := strings.Split(tok, ".")
		switch {
		case tok == "0":
			o.src = srcZero
		case tok == "ret":
			o.src = srcRet
		case tok == "cwd":
			o.src = srcCwd
			o.item = c.fetch(fetchSpec{itBuf, 0, lRet, 0})
		case len(tok) == 2 && tok[0] == 'a':
			o.src = srcArg
			o.arg = atoiArg(tok[1:])
			if n := p.FlagsName(); n != "" {
				o.conv = ConverterFor(n)
			}
		case len(tok) == 2 && tok[0] == 's' && tok[1] >= '0' && tok[1] <= '5':
			o.src = srcItem
			o.item = c.fetch(fetchSpec{itStr, atoiArg(tok[1:]), 0, 0})
		case strings.HasPrefix(tok, "rb"):
			o.src = srcItem
			o.item = c.fetch(fetchSpec{itBuf, atoiArg(tok[2:]), lRSnap, 0})
		case strings.HasPrefix(tok, "wb"):
			o.src = srcItem
			o.item = c.fetch(fetchSpec{itBuf, atoiArg(parts[0][2:]), lSnap, atoiArg(parts[1])})
		case parts[0] == "sa":
			o.src = srcSockaddr
			o.item = c.fetch(fetchSpec{itSockaddr, atoiArg(parts[1]), lArg, atoiArg(parts[2])})
		case parts[0] == "mode":
			o.src = srcOpenMode
			o.arg = atoiArg(parts[2])
			if parts[1] == "c" {
				o.arg2 = 255
			} else {
				o.arg2 = atoiArg(parts[1])
			}
		case tok == "dev":
			o.src = srcFileDev
			o.item = c.fetch(fetchSpec{itFile, 0, lRet, 0})
		case tok == "pipe.ino":
			o.src = srcFileIno
			o.item = c.fetch(fetchSpec{itFile, 0, lMem, 0})
		case tok == "p0" || tok == "p1":
			o.src = srcMemInt32
			o.arg = tok[1] - '0'
			o.item = c.fetch(fetchSpec{itMem, 0, 0, 8})
		case tok == "sp0" || tok == "sp1":
			o.src = srcMemInt32
			o.arg = tok[2] - '0'
			o.item = c.fetch(fetchSpec{itMem, 3, 0, 8})
		case tok == "sp.src" || tok == "sp.peer":
			o.src = srcSockPtr
			if tok == "sp.peer" {
				o.arg = 1
			}
			o.item = c.fetch(fetchSpec{itSock, 3, lMem, 0})
		case parts[0] == "tup":
			o.src = srcTuple
			switch parts[1] {
			case "c":
				o.arg = tupConnect
				o.item = c.fetch(fetchSpec{itSock, 0, lNone, 0})
				o.item2 = c.fetch(fetchSpec{itSockaddr, 1, lArg, 2})
			case "a":
				o.arg = tupAccept
				o.item = c.fetch(fetchSpec{itSock, 0, lRet, 0})
			case "s":
				o.arg = tupSendto
				o.item = c.fetch(fetchSpec{itSock, 0, lNone, 0})
				o.item2 = c.fetch(fetchSpec{itSockaddr, 4, lArg, 5})
			case "r":
				o.arg = tupRecvfrom
				o.item = c.fetch(fetchSpec{itSock, 0, lNone, 0})
				o.item2 = c.fetch(fetchSpec{itSockaddr, 4, lPtr, 5})
			case "ms", "mr":
				o.arg = tupSendmsg
				lk := uint8(lNone)
				if parts[1] == "mr" {
					o.arg = tupRecvmsg
					lk = lRet
				}
				o.item = c.fetch(fetchSpec{itSock, 0, lNone, 0})
				o.item2 = c.fetch(fetchSpec{itMsg, 1, lk, 2}) // the name item comes first
			default:
				panic("probe: bad tuple " + tok)
			}
		case parts[0] == "q":
			o.src = srcQueue
			o.arg = map[string]uint8{"pct": 0, "len": 1, "max": 2}[parts[1]]
			o.item = c.fetch(fetchSpec{itSock, 0, lRet, 0})
		case parts[0] == "iov" || parts[0] == "msg":
			kind := uint8(itIov)
			if parts[0] == "msg" {
				kind = itMsg
			}
			var lk uint8
			switch parts[1] {
			case "r":
				lk = lRet
			case "e":
				lk = lNone
			case "w":
				lk = lSnap
			}
			it := c.fetch(fetchSpec{kind, 1, lk, 2})
			if kind == itMsg {
				it++ // skip the name item
			}
			o.item = it
			if parts[2] == "size" {
				o.src = srcIovSize
				if lk == lRet {
					o.arg = 1
				}
			} else {
				o.src = srcIovData
			}
		case parts[0] == "t":
			f, ok := taskFields[parts[1]]
			if !ok {
				panic("probe: bad task field " + tok)
			}
			o.src = srcTask
			o.arg = f
			o.item = c.fetch(fetchSpec{itTask, 0, 0, 0})
			switch {
			case f == tCloneFlags && name == "clone":
				o.arg2 = cflagsArg0
			case f == tCloneFlags && name == "clone3":
				o.arg2 = cflagsCloneArgs
				o.item2 = c.fetch(fetchSpec{itMem, 0, 0, 8}) // struct clone_args starts with the flags
			}
		case parts[0] == "vm":
			o.src = srcVM
			o.arg = map[string]uint8{"size": 0, "rss": 1, "swap": 2}[parts[1]]
			o.item = c.fetch(fetchSpec{itVM, 0, 0, 0})
		case parts[0] == "poll":
			o.src = srcPoll
			if parts[1] == "out" {
				o.arg = 1
			}
			o.item = c.fetch(fetchSpec{itPoll, 0, 0, 1})
		case parts[0] == "ts":
			o.src = srcTimespec
			o.item = c.fetch(fetchSpec{itMem, atoiArg(parts[1]), 0, 16})
		case parts[0] == "sigset":
			o.src = srcSigset
			o.item = c.fetch(fetchSpec{itMem, atoiArg(parts[1]), 0, 8})
		case parts[0] == "u64p":
			o.src = srcMemU64
			o.item = c.fetch(fetchSpec{itMem, atoiArg(parts[1]), 0, 8})
		case parts[0] == "u32p":
			o.src = srcMemInt32
			o.item = c.fetch(fetchSpec{itMem, atoiArg(parts[1]), 0, 4})
		case parts[0] == "rlim":
			o.src = srcRlimit
			if parts[2] == "max" {
				o.arg = 1
			}
			o.item = c.fetch(fetchSpec{itMem, atoiArg(parts[1]), 0, 16})
		case parts[0] == "so":
			o.src = srcSockopt
			o.arg = map[string]uint8{"level": 0, "name": 1, "val": 2, "len": 3}[parts[1]]
			if o.arg >= 2 {
				if name == "getsockopt" {
					o.item = c.fetch(fetchSpec{itBuf, 3, lPtr, 4})
					o.item2 = c.fetch(fetchSpec{itMem, 4, 0, 4})
				} else {
					o.item = c.fetch(fetchSpec{itBuf, 3, lArg, 4})
				}
			}
		case parts[0] == "sem":
			o.src = srcSemop
			o.arg = atoiArg(parts[1])
			o.arg2 = map[string]uint8{"num": 0, "op": 1, "flg": 2}[parts[2]]
			o.item = c.fetch(fetchSpec{itMem, 1, 0, 12})
		case parts[0] == "ptrace":
			o.src = srcPtrace
			if parts[1] == "data" {
				o.arg = 1
			}
		case tok == "bpf.res":
			o.src = srcBPF
		case parts[0] == "qc":
			o.src = srcQuotactl
			o.arg = map[string]uint8{"cmd": 0, "type": 1, "fmt": 2}[parts[1]]
		case parts[0] == "how":
			o.src = srcOpenHow
			o.arg = map[string]uint8{"flags": 0, "mode": 1, "resolve": 2}[parts[1]]
			o.item = c.fetch(fetchSpec{itMem, 2, 0, 24})
		default:
			panic(fmt.Sprintf("probe: %s: unknown token %q", name, tok))
		}
		s.ops = append(s.ops, o)
	}
	return s
}

//go:embed tables/syscalls_x86_64.tsv
var syscallTable string

// sysEntry is one native syscall.
type sysEntry struct {
	name        string
	sc          uint16 // PPM_SC id
	enter, exit *evSpec
	on          bool
}

// loadSyscalls parses the syscall table and compiles the specs.
func loadSyscalls() [maxSyscalls]sysEntry {
	var t [maxSyscalls]sysEntry
	for _, line := range strings.Split(syscallTable, "\n") {
		if line == "" || line[0] == '#' {
			continue
		}
		f := strings.Split(line, "\t")
		nr, _ := strconv.Atoi(f[0])
		sc, _ := strconv.Atoi(f[2])
		e, _ := strconv.Atoi(f[3])
		x, _ := strconv.Atoi(f[4])
		if nr >= maxSyscalls {
			continue
		}
		ent := sysEntry{name: f[1], sc: uint16(sc), on: true}
		if e != int(event.GenericE) {
			sp, ok := specs[f[1]]
			if !ok {
				panic("probe: no spec for syscall " + f[1])
			}
			ent.enter = compileSpec(f[1], event.Type(e), sp[0])
			ent.exit = compileSpec(f[1], event.Type(x), sp[1])
		}
		t[nr] = ent
	}
	return t
}
