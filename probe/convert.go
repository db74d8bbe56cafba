package probe

import "golang.org/x/sys/unix"

// Conversion of raw syscall arguments to the portable PPM_* values that the driver
// of sysdig 0.29.3 (falcosecurity/libs e5c53d6) stores in events: the *_to_scap
// helpers of driver/ppm_flag_helpers.h, and the few conversions its fillers do
// inline (mount flags) or skip (arguments stored as they are).
//
// The driver is a kernel build (kernel module, or eBPF probe built with kbuild): it
// sees the x86_64 kernel headers with __KERNEL__ and CONFIG_64BIT defined. The kernel
// constants below are golang.org/x/sys/unix constants where unix has them with the
// kernel's value; otherwise literals, with the kernel name in a comment (unix lacks
// the constant, or has glibc's value, e.g. O_LARGEFILE is 0 there).
//
// Everything here takes the raw 64-bit register value. Where the driver's helper
// takes a narrower C type (int, unsigned, short, u8) the value is truncated the same
// way first. The result is not truncated to the event parameter's size: the encoder
// does that, as the driver's ring writer does.

// ConverterFor returns the conversion the driver applies to a raw argument of a
// parameter whose flag table (the info column of the event table, e.g. "file_flags")
// is table. For the tables whose arguments the driver stores unchanged it returns an
// identity function; for a name it does not know, nil. Resolve it once, outside the
// hot path: the returned functions do not allocate.
//
// Tables that need more than the argument are converted here under an assumption;
// callers that have the context must use the dedicated function instead:
//   - "sockopt_options": the option name is converted as for level SOL_SOCKET (the
//     driver stores PPM_SOCKOPT_UNKNOWN for any other level); use SockoptName.
//   - "clone_flags": only the CLONE_* bits of the argument. For the clone, clone3,
//     fork and vfork exit events the caller must add PPM_CL_CHILD_IN_PIDNS (1<<29)
//     when the driver would (see convCloneFlags), and convert 0 for fork and vfork.
//     The other PPM_CL_* bits without a CLONE_* counterpart are libsinsp's own
//     thread state, never stored by the driver: the caller must not add them.
//   - "quotactl_quota_fmts": the driver stores PPM_QFMT_NOT_USED unless the command
//     is Q_QUOTAON (enter event: the id argument, argument 2, is converted) or
//     Q_GETFMT (exit event: the u32 the kernel wrote at addr is converted); the
//     caller must make that choice.
//
// Tables stored unchanged by the driver (identity here): socket_families (the domain
// argument of socket and socketpair; SocketFamily is for socket addresses),
// umount_flags, splice_flags, renameat2_flags (the PPM values equal the kernel's),
// quotactl_dqi_flags (dqi_flags copied from struct if_dqinfo) and execve_flags
// (computed by the driver, not converted).
func ConverterFor(table string) func(uint64) uint64 {
	switch table {
	case "file_flags":
		return convOpenFlags
	case "openat2_flags":
		return convResolveFlags
	case "chmod_mode":
		return convModeBits
	case "clone_flags":
		return convCloneFlags
	case "prot_flags":
		return convProtFlags
	case "mmap_flags":
		return convMmapFlags
	case "fcntl_commands":
		return convFcntlCmd
	case "sockopt_levels":
		return convSockoptLevel
	case "sockopt_options":
		return convSockoptOption
	case "poll_flags":
		return convPollFlags
	case "futex_operations":
		return convFutexOp
	case "access_flags":
		return convAccessFlags
	case "rlimit_resources":
		return convRlimitResource
	case "shutdown_how":
		return convShutdownHow
	case "lseek_whence":
		return convLseekWhence
	case "semop_flags":
		return convSemopFlags
	case "pf_flags":
		return convPageFaultFlags
	case "flock_flags":
		return convFlockFlags
	case "quotactl_types":
		return convQuotactlType
	case "quotactl_cmds":
		return convQuotactlCmd
	case "quotactl_quota_fmts":
		return convQuotaFmt
	case "semget_flags":
		return convSemgetFlags
	case "semctl_commands":
		return convSemctlCmd
	case "ptrace_requests":
		return convPtraceRequest
	case "execveat_flags":
		return convExecveatFlags
	case "unlinkat_flags":
		return convUnlinkatFlags
	case "linkat_flags":
		return convLinkatFlags
	case "mount_flags":
		return convMountFlags
	case "socket_families", "umount_flags", "splice_flags", "renameat2_flags",
		"quotactl_dqi_flags", "execve_flags":
		return convIdentity
	}
	return nil
}

// Convert converts raw syscall argument v for a parameter whose flag table (the
// event table's info column, e.g. "file_flags") is table, to the value sysdig's
// driver stores; see ConverterFor. Tables the driver stores unchanged, and unknown
// tables, return v.
func Convert(table string, v uint64) uint64 {
	if f := ConverterFor(table); f != nil {
		return f(v)
	}
	return v
}

// OpenMode converts the mode argument of open/openat/openat2 (struct open_how mode)
// as the driver does: the permission bits when flags has any bit of O_CREAT or
// O_TMPFILE, else 0. O_TMPFILE is __O_TMPFILE|O_DIRECTORY, so O_DIRECTORY alone keeps
// the mode too. For creat the driver passes O_CREAT as flags.
func OpenMode(flags, mode uint64) uint32 {
	if flags&(unix.O_CREAT|unix.O_TMPFILE) == 0 {
		return 0
	}
	return mapFlagBits(mode, modeBits[:])
}

// SockoptName converts a setsockopt/getsockopt level and option name (both C ints in
// the driver) to PPM_SOCKOPT_LEVEL_* and PPM_SOCKOPT_*.
func SockoptName(level, optname int64) (ppmLevel, ppmOptname uint8) {
	l := int32(level)
	switch l {
	case unix.SOL_SOCKET:
		ppmLevel = 1 // PPM_SOCKOPT_LEVEL_SOL_SOCKET
	case unix.SOL_TCP:
		ppmLevel = 2 // PPM_SOCKOPT_LEVEL_SOL_TCP
	}
	if l != unix.SOL_SOCKET {
		return ppmLevel, 0 // PPM_SOCKOPT_UNKNOWN
	}
	return ppmLevel, sockoptOption(int32(optname))
}

// sockoptOption converts a SOL_SOCKET option name to PPM_SOCKOPT_*.
//
// In a kernel build (__KERNEL__), since Linux 5.1 asm-generic/socket.h does not define
// SO_RCVTIMEO, SO_SNDTIMEO, SO_TIMESTAMP, SO_TIMESTAMPNS and SO_TIMESTAMPING (only
// their _OLD/_NEW variants), so the 0.29.3 driver has no case for them: on current
// kernels they are stored as PPM_SOCKOPT_UNKNOWN (0), and so they are here.
func sockoptOption(optname int32) uint8 {
	switch optname {
	case unix.SO_DEBUG:
		return 1 // PPM_SOCKOPT_SO_DEBUG
	case unix.SO_REUSEADDR:
		return 2
	case unix.SO_TYPE:
		return 3
	case unix.SO_ERROR:
		return 4
	case unix.SO_DONTROUTE:
		return 5
	case unix.SO_BROADCAST:
		return 6
	case unix.SO_SNDBUF:
		return 7
	case unix.SO_RCVBUF:
		return 8
	case unix.SO_SNDBUFFORCE:
		return 32 // PPM_SOCKOPT_SO_SNDBUFFORCE
	case unix.SO_RCVBUFFORCE:
		return 33 // PPM_SOCKOPT_SO_RCVBUFFORCE
	case unix.SO_KEEPALIVE:
		return 9
	case unix.SO_OOBINLINE:
		return 10
	case unix.SO_NO_CHECK:
		return 11
	case unix.SO_PRIORITY:
		return 12
	case unix.SO_LINGER:
		return 13
	case unix.SO_BSDCOMPAT:
		return 14
	case unix.SO_REUSEPORT:
		return 15
	case unix.SO_PASSCRED:
		return 16
	case unix.SO_PEERCRED:
		return 17
	case unix.SO_RCVLOWAT:
		return 18
	case unix.SO_SNDLOWAT:
		return 19
	// SO_RCVTIMEO (20) and SO_SNDTIMEO (21): not defined for the kernel build, see above.
	case unix.SO_SECURITY_AUTHENTICATION:
		return 22
	case unix.SO_SECURITY_ENCRYPTION_TRANSPORT:
		return 23
	case unix.SO_SECURITY_ENCRYPTION_NETWORK:
		return 24
	case unix.SO_BINDTODEVICE:
		return 25
	case unix.SO_ATTACH_FILTER:
		return 26
	case unix.SO_DETACH_FILTER:
		return 27
	case unix.SO_PEERNAME:
		return 28
	// SO_TIMESTAMP (29): not defined for the kernel build.
	case unix.SO_ACCEPTCONN:
		return 30
	case unix.SO_PEERSEC:
		return 31
	case unix.SO_PASSSEC:
		return 34 // PPM_SOCKOPT_SO_PASSSEC
	// SO_TIMESTAMPNS (35): not defined for the kernel build.
	case unix.SO_MARK:
		return 36
	// SO_TIMESTAMPING (37): not defined for the kernel build.
	case unix.SO_PROTOCOL:
		return 38
	case unix.SO_DOMAIN:
		return 39
	case unix.SO_RXQ_OVFL:
		return 40
	case unix.SO_WIFI_STATUS:
		return 41
	case unix.SO_PEEK_OFF:
		return 42
	case unix.SO_NOFCS:
		return 43
	case unix.SO_LOCK_FILTER:
		return 44
	case unix.SO_SELECT_ERR_QUEUE:
		return 45
	case unix.SO_BUSY_POLL:
		return 46
	case unix.SO_MAX_PACING_RATE:
		return 47
	case unix.SO_BPF_EXTENSIONS:
		return 48
	case unix.SO_INCOMING_CPU:
		return 49
	case unix.SO_ATTACH_BPF:
		return 50 // PPM_SOCKOPT_SO_ATTACH_BPF
	case unix.SO_PEERGROUPS:
		return 51 // PPM_SOCKOPT_SO_PEERGROUPS
	case unix.SO_MEMINFO:
		return 52 // PPM_SOCKOPT_SO_MEMINFO
	case unix.SO_COOKIE:
		return 53 // PPM_SOCKOPT_SO_COOKIE
	}
	return 0 // PPM_SOCKOPT_UNKNOWN
}

// PollEvents converts poll events/revents bits (a C short in the driver) to PPM_POLL*.
func PollEvents(ev uint16) uint16 {
	return uint16(mapFlagBits(uint64(ev), pollBits[:]))
}

// SocketFamily converts an address family (AF_*) to PPM_AF_* as socket_family_to_scap
// does; the driver passes it as a u8, so f is truncated to 8 bits first. Families
// the driver does not know (AF_IB, AF_MPLS, AF_VSOCK and later) become PPM_AF_UNSPEC.
func SocketFamily(f uint16) uint8 {
	switch af := uint8(f); af {
	case unix.AF_INET, unix.AF_INET6, unix.AF_UNIX, unix.AF_NETLINK, unix.AF_PACKET,
		unix.AF_UNSPEC, unix.AF_AX25, unix.AF_IPX, unix.AF_APPLETALK, unix.AF_NETROM,
		unix.AF_BRIDGE, unix.AF_ATMPVC, unix.AF_X25, unix.AF_ROSE, unix.AF_DECnet,
		unix.AF_NETBEUI, unix.AF_SECURITY, unix.AF_KEY, unix.AF_ASH, unix.AF_ECONET,
		unix.AF_ATMSVC, unix.AF_RDS, unix.AF_SNA, unix.AF_IRDA, unix.AF_PPPOX,
		unix.AF_WANPIPE, unix.AF_LLC, unix.AF_CAN, unix.AF_TIPC, unix.AF_BLUETOOTH,
		unix.AF_IUCV, unix.AF_RXRPC, unix.AF_ISDN, unix.AF_PHONET, unix.AF_IEEE802154,
		unix.AF_CAIF, unix.AF_ALG, unix.AF_NFC:
		// Each PPM_AF_* has the value of its kernel AF_*
		// (AF_ROUTE is AF_NETLINK in both).
		return af
	}
	return 0 // PPM_AF_UNSPEC
}

// flagBit maps kernel flag bits to a PPM flag bit. The PPM bit is set when any of
// the kernel bits is: the driver tests flags & K, so kernel constants of several
// bits (O_TMPFILE, O_SYNC) match on any one of them.
type flagBit struct {
	kernel uint64
	ppm    uint32
}

func mapFlagBits(v uint64, bits []flagBit) uint32 {
	var r uint32
	for i := range bits {
		if v&bits[i].kernel != 0 {
			r |= bits[i].ppm
		}
	}
	return r
}

func convIdentity(v uint64) uint64 { return v }

// open_flags_to_scap.
var openFlagBits = [...]flagBit{
	{unix.O_CREAT, 1 << 2},      // PPM_O_CREAT
	{unix.O_TMPFILE, 1 << 13},   // PPM_O_TMPFILE; also set by O_DIRECTORY alone (part of O_TMPFILE)
	{unix.O_APPEND, 1 << 3},     // PPM_O_APPEND
	{unix.O_DSYNC, 1 << 4},      // PPM_O_DSYNC
	{unix.O_EXCL, 1 << 5},       // PPM_O_EXCL
	{unix.O_NONBLOCK, 1 << 6},   // PPM_O_NONBLOCK
	{unix.O_SYNC, 1 << 7},       // PPM_O_SYNC; O_SYNC is __O_SYNC|O_DSYNC, so O_DSYNC alone sets it too
	{unix.O_TRUNC, 1 << 8},      // PPM_O_TRUNC
	{unix.O_DIRECT, 1 << 9},     // PPM_O_DIRECT
	{unix.O_DIRECTORY, 1 << 10}, // PPM_O_DIRECTORY
	{0o100000, 1 << 11},         // O_LARGEFILE (kernel value; unix.O_LARGEFILE is glibc's 0) -> PPM_O_LARGEFILE
	{unix.O_CLOEXEC, 1 << 12},   // PPM_O_CLOEXEC
}

func convOpenFlags(v uint64) uint64 {
	var r uint32
	// The access mode: O_ACCMODE (3) is neither O_WRONLY nor O_RDWR, so it is PPM_O_RDONLY.
	switch v & (unix.O_RDONLY | unix.O_WRONLY | unix.O_RDWR) {
	case unix.O_WRONLY:
		r = 1 << 1 // PPM_O_WRONLY
	case unix.O_RDWR:
		r = 1<<0 | 1<<1 // PPM_O_RDWR
	default:
		r = 1 << 0 // PPM_O_RDONLY
	}
	return uint64(r | mapFlagBits(v, openFlagBits[:]))
}

// openat2_resolve_to_scap.
var resolveBits = [...]flagBit{
	{unix.RESOLVE_NO_XDEV, 1 << 4},       // PPM_RESOLVE_NO_XDEV
	{unix.RESOLVE_NO_MAGICLINKS, 1 << 2}, // PPM_RESOLVE_NO_MAGICLINKS
	{unix.RESOLVE_NO_SYMLINKS, 1 << 3},   // PPM_RESOLVE_NO_SYMLINKS
	{unix.RESOLVE_BENEATH, 1 << 0},       // PPM_RESOLVE_BENEATH
	{unix.RESOLVE_IN_ROOT, 1 << 1},       // PPM_RESOLVE_IN_ROOT
	{0x20, 1 << 5},                       // RESOLVE_CACHED (Linux 5.12) -> PPM_RESOLVE_CACHED
}

func convResolveFlags(v uint64) uint64 { return uint64(mapFlagBits(v, resolveBits[:])) }

// chmod_mode_to_scap, and open_modes_to_scap once the flags allow a mode. Each
// PPM_S_* has the value of its kernel S_I*.
var modeBits = [...]flagBit{
	{unix.S_IRUSR, 1 << 8},  // PPM_S_IRUSR
	{unix.S_IWUSR, 1 << 7},  // PPM_S_IWUSR
	{unix.S_IXUSR, 1 << 6},  // PPM_S_IXUSR
	{unix.S_IRGRP, 1 << 5},  // PPM_S_IRGRP
	{unix.S_IWGRP, 1 << 4},  // PPM_S_IWGRP
	{unix.S_IXGRP, 1 << 3},  // PPM_S_IXGRP
	{unix.S_IROTH, 1 << 2},  // PPM_S_IROTH
	{unix.S_IWOTH, 1 << 1},  // PPM_S_IWOTH
	{unix.S_IXOTH, 1 << 0},  // PPM_S_IXOTH
	{unix.S_ISUID, 1 << 11}, // PPM_S_ISUID
	{unix.S_ISGID, 1 << 10}, // PPM_S_ISGID
	{unix.S_ISVTX, 1 << 9},  // PPM_S_ISVTX
}

func convModeBits(v uint64) uint64 { return uint64(mapFlagBits(v, modeBits[:])) }

// clone_flags_to_scap. Kernel bits without a PPM bit are dropped: the exit signal
// (CSIGNAL), CLONE_PIDFD, CLONE_DETACHED, CLONE_NEWTIME and the clone3-only
// CLONE_CLEAR_SIGHAND and CLONE_INTO_CGROUP. CLONE_STOPPED (PPM 1<<26) is gone from
// the kernel since 2.6.38, so the driver never sets it.
var cloneFlagBits = [...]flagBit{
	{unix.CLONE_FILES, 1 << 0},           // PPM_CL_CLONE_FILES
	{unix.CLONE_FS, 1 << 1},              // PPM_CL_CLONE_FS
	{unix.CLONE_IO, 1 << 2},              // PPM_CL_CLONE_IO
	{unix.CLONE_NEWIPC, 1 << 3},          // PPM_CL_CLONE_NEWIPC
	{unix.CLONE_NEWNET, 1 << 4},          // PPM_CL_CLONE_NEWNET
	{unix.CLONE_NEWNS, 1 << 5},           // PPM_CL_CLONE_NEWNS
	{unix.CLONE_NEWPID, 1 << 6},          // PPM_CL_CLONE_NEWPID
	{unix.CLONE_NEWUTS, 1 << 7},          // PPM_CL_CLONE_NEWUTS
	{unix.CLONE_PARENT_SETTID, 1 << 9},   // PPM_CL_CLONE_PARENT_SETTID
	{unix.CLONE_PARENT, 1 << 8},          // PPM_CL_CLONE_PARENT
	{unix.CLONE_PTRACE, 1 << 10},         // PPM_CL_CLONE_PTRACE
	{unix.CLONE_SIGHAND, 1 << 11},        // PPM_CL_CLONE_SIGHAND
	{unix.CLONE_SYSVSEM, 1 << 12},        // PPM_CL_CLONE_SYSVSEM
	{unix.CLONE_THREAD, 1 << 13},         // PPM_CL_CLONE_THREAD
	{unix.CLONE_UNTRACED, 1 << 14},       // PPM_CL_CLONE_UNTRACED
	{unix.CLONE_VM, 1 << 15},             // PPM_CL_CLONE_VM
	{unix.CLONE_NEWUSER, 1 << 20},        // PPM_CL_CLONE_NEWUSER
	{unix.CLONE_CHILD_CLEARTID, 1 << 23}, // PPM_CL_CLONE_CHILD_CLEARTID
	{unix.CLONE_CHILD_SETTID, 1 << 24},   // PPM_CL_CLONE_CHILD_SETTID
	{unix.CLONE_SETTLS, 1 << 25},         // PPM_CL_CLONE_SETTLS
	{unix.CLONE_VFORK, 1 << 27},          // PPM_CL_CLONE_VFORK
	{unix.CLONE_NEWCGROUP, 1 << 28},      // PPM_CL_CLONE_NEWCGROUP
}

// convCloneFlags converts the CLONE_* bits of the flags of clone (argument 0 on
// x86_64), clone3 (struct clone_args.flags), unshare and setns (nstype).
//
// What the caller must do itself, for the flags param of the clone, clone3, fork and
// vfork exit events (both child and parent side):
//   - for fork and vfork the driver converts 0, not the implied SIGCHLD or
//     CLONE_VM|CLONE_VFORK: the flags are 0 apart from the bit below;
//   - add PPM_CL_CHILD_IN_PIDNS (1<<29) when the task is in a pid namespace other
//     than the initial one (its pid namespace level is not 0), or when its
//     nsproxy->pid_ns_for_children differs from its active pid namespace.
//
// The other PPM_CL_* bits without a CLONE_* counterpart (PPM_CL_CLONE_INVERTED,
// PPM_CL_NAME_CHANGED, PPM_CL_CLOSED, PPM_CL_ACTIVE, PPM_CL_PIPE_SRC, PPM_CL_PIPE_DST,
// PPM_CL_IS_MAIN_THREAD) are libsinsp's own thread state: the driver never stores
// them, so the caller must not add them.
func convCloneFlags(v uint64) uint64 { return uint64(mapFlagBits(v, cloneFlagBits[:])) }

// prot_flags_to_scap (an int argument). PROT_SAO (PPM 1<<6) is powerpc only.
var protBits = [...]flagBit{
	{unix.PROT_READ, 1 << 0},      // PPM_PROT_READ
	{unix.PROT_WRITE, 1 << 1},     // PPM_PROT_WRITE
	{unix.PROT_EXEC, 1 << 2},      // PPM_PROT_EXEC
	{0x8, 1 << 3},                 // PROT_SEM -> PPM_PROT_SEM
	{unix.PROT_GROWSDOWN, 1 << 4}, // PPM_PROT_GROWSDOWN
	{unix.PROT_GROWSUP, 1 << 5},   // PPM_PROT_GROWSUP
}

func convProtFlags(v uint64) uint64 { return uint64(mapFlagBits(uint64(uint32(v)), protBits[:])) }

// mmap_flags_to_scap (an int argument). MAP_FILE is 0 in the kernel, and MAP_RENAME
// and MAP_INHERIT do not exist on x86: PPM_MAP_FILE, PPM_MAP_RENAME and
// PPM_MAP_INHERIT are never set.
var mmapBits = [...]flagBit{
	{unix.MAP_SHARED, 1 << 0},      // PPM_MAP_SHARED
	{unix.MAP_PRIVATE, 1 << 1},     // PPM_MAP_PRIVATE
	{unix.MAP_FIXED, 1 << 2},       // PPM_MAP_FIXED
	{unix.MAP_ANONYMOUS, 1 << 3},   // PPM_MAP_ANONYMOUS
	{unix.MAP_32BIT, 1 << 4},       // PPM_MAP_32BIT
	{unix.MAP_NORESERVE, 1 << 6},   // PPM_MAP_NORESERVE
	{unix.MAP_POPULATE, 1 << 7},    // PPM_MAP_POPULATE
	{unix.MAP_NONBLOCK, 1 << 8},    // PPM_MAP_NONBLOCK
	{unix.MAP_GROWSDOWN, 1 << 9},   // PPM_MAP_GROWSDOWN
	{unix.MAP_DENYWRITE, 1 << 10},  // PPM_MAP_DENYWRITE
	{unix.MAP_EXECUTABLE, 1 << 11}, // PPM_MAP_EXECUTABLE
	{unix.MAP_LOCKED, 1 << 14},     // PPM_MAP_LOCKED
}

func convMmapFlags(v uint64) uint64 { return uint64(mapFlagBits(uint64(uint32(v)), mmapBits[:])) }

// fcntl_cmd_to_scap. F_GETLK64, F_SETLK64 and F_SETLKW64 (12, 13, 14) exist only
// without CONFIG_64BIT: on x86_64 they, like every other unknown command
// (F_ADD_SEALS, ...), are PPM_FCNTL_UNKNOWN.
func convFcntlCmd(v uint64) uint64 {
	switch v {
	case unix.F_DUPFD:
		return 1 // PPM_FCNTL_F_DUPFD
	case unix.F_GETFD:
		return 2 // PPM_FCNTL_F_GETFD
	case unix.F_SETFD:
		return 3 // PPM_FCNTL_F_SETFD
	case unix.F_GETFL:
		return 4 // PPM_FCNTL_F_GETFL
	case unix.F_SETFL:
		return 5 // PPM_FCNTL_F_SETFL
	case unix.F_GETLK:
		return 6 // PPM_FCNTL_F_GETLK
	case unix.F_SETLK:
		return 8 // PPM_FCNTL_F_SETLK
	case unix.F_SETLKW:
		return 9 // PPM_FCNTL_F_SETLKW
	case unix.F_SETOWN:
		return 10 // PPM_FCNTL_F_SETOWN
	case unix.F_GETOWN:
		return 12 // PPM_FCNTL_F_GETOWN
	case unix.F_SETSIG:
		return 13 // PPM_FCNTL_F_SETSIG
	case unix.F_GETSIG:
		return 15 // PPM_FCNTL_F_GETSIG
	case unix.F_SETOWN_EX:
		return 21 // PPM_FCNTL_F_SETOWN_EX
	case unix.F_GETOWN_EX:
		return 22 // PPM_FCNTL_F_GETOWN_EX
	case unix.F_SETLEASE:
		return 23 // PPM_FCNTL_F_SETLEASE
	case unix.F_GETLEASE:
		return 24 // PPM_FCNTL_F_GETLEASE
	case 1029: // F_CANCELLK (F_LINUX_SPECIFIC_BASE + 5)
		return 25 // PPM_FCNTL_F_CANCELLK
	case unix.F_DUPFD_CLOEXEC:
		return 26 // PPM_FCNTL_F_DUPFD_CLOEXEC
	case unix.F_NOTIFY:
		return 27 // PPM_FCNTL_F_NOTIFY
	case unix.F_SETPIPE_SZ:
		return 28 // PPM_FCNTL_F_SETPIPE_SZ
	case unix.F_GETPIPE_SZ:
		return 29 // PPM_FCNTL_F_GETPIPE_SZ
	case unix.F_OFD_GETLK:
		return 30 // PPM_FCNTL_F_OFD_GETLK
	case unix.F_OFD_SETLK:
		return 31 // PPM_FCNTL_F_OFD_SETLK
	case unix.F_OFD_SETLKW:
		return 32 // PPM_FCNTL_F_OFD_SETLKW
	}
	return 0 // PPM_FCNTL_UNKNOWN
}

func convSockoptLevel(v uint64) uint64 {
	l, _ := SockoptName(int64(v), 0)
	return uint64(l)
}

func convSockoptOption(v uint64) uint64 { return uint64(sockoptOption(int32(v))) }

// poll_events_to_scap.
var pollBits = [...]flagBit{
	{unix.POLLIN, 1 << 0},    // PPM_POLLIN
	{unix.POLLPRI, 1 << 1},   // PPM_POLLPRI (the driver tests the PPM value, equal to POLLPRI)
	{unix.POLLOUT, 1 << 2},   // PPM_POLLOUT
	{unix.POLLRDHUP, 1 << 3}, // PPM_POLLRDHUP
	{unix.POLLERR, 1 << 4},   // PPM_POLLERR
	{unix.POLLHUP, 1 << 5},   // PPM_POLLHUP
	{unix.POLLNVAL, 1 << 6},  // PPM_POLLNVAL
	{0x40, 1 << 7},           // POLLRDNORM -> PPM_POLLRDNORM
	{0x80, 1 << 8},           // POLLRDBAND -> PPM_POLLRDBAND
	{0x100, 1 << 9},          // POLLWRNORM -> PPM_POLLWRNORM
	{0x200, 1 << 10},         // POLLWRBAND -> PPM_POLLWRBAND
}

func convPollFlags(v uint64) uint64 { return uint64(PollEvents(uint16(v))) }

// futex_op_to_scap: the command is op & 127, each PPM_FU_FUTEX_* command has the
// value of its kernel FUTEX_* for 0 to 12; others (FUTEX_LOCK_PI2 = 13, ...) give 0,
// which reads as FUTEX_WAIT. FUTEX_PRIVATE_FLAG and FUTEX_CLOCK_REALTIME keep their
// values (128, 256); other high bits are dropped.
func convFutexOp(v uint64) uint64 {
	var r uint64
	switch cmd := v & 127; cmd {
	case 0, // FUTEX_WAIT
		1,  // FUTEX_WAKE
		2,  // FUTEX_FD
		3,  // FUTEX_REQUEUE
		4,  // FUTEX_CMP_REQUEUE
		5,  // FUTEX_WAKE_OP
		6,  // FUTEX_LOCK_PI
		7,  // FUTEX_UNLOCK_PI
		8,  // FUTEX_TRYLOCK_PI
		9,  // FUTEX_WAIT_BITSET
		10, // FUTEX_WAKE_BITSET
		11, // FUTEX_WAIT_REQUEUE_PI
		12: // FUTEX_CMP_REQUEUE_PI
		r = cmd // PPM_FU_FUTEX_* of the same value
	}
	if v&128 != 0 { // FUTEX_PRIVATE_FLAG
		r |= 128 // PPM_FU_FUTEX_PRIVATE_FLAG
	}
	if v&256 != 0 { // FUTEX_CLOCK_REALTIME
		r |= 256 // PPM_FU_FUTEX_CLOCK_REALTIME
	}
	return r
}

// access_flags_to_scap (an unsigned argument, tested against the kernel's MAY_*).
func convAccessFlags(v uint64) uint64 {
	f := uint32(v)
	if f == 0 { // F_OK
		return 0 // PPM_F_OK
	}
	var r uint64
	if f&1 != 0 { // MAY_EXEC
		r |= 1 << 0 // PPM_X_OK
	}
	if f&4 != 0 { // MAY_READ
		r |= 1 << 2 // PPM_R_OK
	}
	if f&2 != 0 { // MAY_WRITE
		r |= 1 << 1 // PPM_W_OK
	}
	return r
}

// rlimit_resource_to_scap: each PPM_RLIMIT_* has the value of its kernel RLIMIT_*.
func convRlimitResource(v uint64) uint64 {
	switch v {
	case unix.RLIMIT_CPU, unix.RLIMIT_FSIZE, unix.RLIMIT_DATA, unix.RLIMIT_STACK,
		unix.RLIMIT_CORE, unix.RLIMIT_RSS, unix.RLIMIT_NPROC, unix.RLIMIT_NOFILE,
		unix.RLIMIT_MEMLOCK, unix.RLIMIT_AS, unix.RLIMIT_LOCKS, unix.RLIMIT_SIGPENDING,
		unix.RLIMIT_MSGQUEUE, unix.RLIMIT_NICE, unix.RLIMIT_RTPRIO, unix.RLIMIT_RTTIME:
		return v
	}
	return 255 // PPM_RLIMIT_UNKNOWN
}

// shutdown_how_to_scap returns how as a u16: PPM_SHUT_RD/WR/RDWR equal SHUT_RD/WR/RDWR
// and unknown values are kept.
func convShutdownHow(v uint64) uint64 { return uint64(uint16(v)) }

// lseek_whence_to_scap: SEEK_DATA, SEEK_HOLE and unknown values give 0 (PPM_SEEK_SET).
func convLseekWhence(v uint64) uint64 {
	switch v {
	case unix.SEEK_SET:
		return 0 // PPM_SEEK_SET
	case unix.SEEK_CUR:
		return 1 // PPM_SEEK_CUR
	case unix.SEEK_END:
		return 2 // PPM_SEEK_END
	}
	return 0
}

// semop_flags_to_scap (sem_flg, a short).
func convSemopFlags(v uint64) uint64 {
	f := uint16(v)
	var r uint64
	if f&unix.IPC_NOWAIT != 0 {
		r |= 1 << 0 // PPM_IPC_NOWAIT
	}
	if f&0x1000 != 0 { // SEM_UNDO
		r |= 1 << 1 // PPM_SEM_UNDO
	}
	return r
}

// pf_flags_to_scap: the x86 page fault error code.
func convPageFaultFlags(v uint64) uint64 {
	var r uint64
	if v&0x1 != 0 {
		r |= 1 << 0 // PPM_PF_PROTECTION_VIOLATION
	} else {
		r |= 1 << 1 // PPM_PF_PAGE_NOT_PRESENT
	}
	if v&0x2 != 0 {
		r |= 1 << 2 // PPM_PF_WRITE_ACCESS
	} else {
		r |= 1 << 3 // PPM_PF_READ_ACCESS
	}
	if v&0x4 != 0 {
		r |= 1 << 4 // PPM_PF_USER_FAULT
	} else {
		r |= 1 << 5 // PPM_PF_SUPERVISOR_FAULT
	}
	if v&0x8 != 0 {
		r |= 1 << 6 // PPM_PF_RESERVED_PAGE
	}
	if v&0x10 != 0 {
		r |= 1 << 7 // PPM_PF_INSTRUCTION_FETCH
	}
	return r
}

// flock_flags_to_scap.
var flockBits = [...]flagBit{
	{unix.LOCK_EX, 1 << 1}, // PPM_LOCK_EX
	{unix.LOCK_SH, 1 << 0}, // PPM_LOCK_SH
	{unix.LOCK_UN, 1 << 3}, // PPM_LOCK_UN
	{unix.LOCK_NB, 1 << 2}, // PPM_LOCK_NB
}

func convFlockFlags(v uint64) uint64 { return uint64(mapFlagBits(v, flockBits[:])) }

// quotactl_type_to_scap: the type is cmd & SUBCMDMASK (0xff); PRJQUOTA and unknown
// types give 0.
func convQuotactlType(v uint64) uint64 {
	switch v & 0xff {
	case 0: // USRQUOTA
		return 1 << 0 // PPM_USRQUOTA
	case 1: // GRPQUOTA
		return 1 << 1 // PPM_GRPQUOTA
	}
	return 0
}

// quotactl_cmd_to_scap: the command is cmd >> SUBCMDSHIFT (8), of the full 64-bit
// register (a sign-extended cmd, as glibc passes Q_* commands whose bit 31 is set,
// matches nothing). Q_GETNEXTQUOTA, Q_XGETQSTATV, Q_XGETNEXTQUOTA and unknown
// commands give 0.
func convQuotactlCmd(v uint64) uint64 {
	switch v >> 8 {
	case 0x800001: // Q_SYNC
		return 1 << 7 // PPM_Q_SYNC
	case 0x800002: // Q_QUOTAON
		return 1 << 0 // PPM_Q_QUOTAON
	case 0x800003: // Q_QUOTAOFF
		return 1 << 1 // PPM_Q_QUOTAOFF
	case 0x800004: // Q_GETFMT
		return 1 << 2 // PPM_Q_GETFMT
	case 0x800005: // Q_GETINFO
		return 1 << 3 // PPM_Q_GETINFO
	case 0x800006: // Q_SETINFO
		return 1 << 4 // PPM_Q_SETINFO
	case 0x800007: // Q_GETQUOTA
		return 1 << 5 // PPM_Q_GETQUOTA
	case 0x800008: // Q_SETQUOTA
		return 1 << 6 // PPM_Q_SETQUOTA
	case 0x5801: // Q_XQUOTAON, XQM_CMD(1)
		return 1 << 8 // PPM_Q_XQUOTAON
	case 0x5802: // Q_XQUOTAOFF
		return 1 << 9 // PPM_Q_XQUOTAOFF
	case 0x5803: // Q_XGETQUOTA
		return 1 << 10 // PPM_Q_XGETQUOTA
	case 0x5804: // Q_XSETQLIM
		return 1 << 11 // PPM_Q_XSETQLIM
	case 0x5805: // Q_XGETQSTAT
		return 1 << 12 // PPM_Q_XGETQSTAT
	case 0x5806: // Q_XQUOTARM
		return 1 << 13 // PPM_Q_XQUOTARM
	case 0x5807: // Q_XQUOTASYNC
		return 1 << 14 // PPM_Q_XQUOTASYNC
	}
	return 0
}

// quotactl_fmt_to_scap: a quota format id (QFMT_*).
func convQuotaFmt(v uint64) uint64 {
	switch v {
	case 1: // QFMT_VFS_OLD
		return 1 << 1 // PPM_QFMT_VFS_OLD
	case 2: // QFMT_VFS_V0
		return 1 << 2 // PPM_QFMT_VFS_V0
	case 4: // QFMT_VFS_V1
		return 1 << 3 // PPM_QFMT_VFS_V1
	}
	return 1 << 0 // PPM_QFMT_NOT_USED
}

// semget_flags_to_scap (an unsigned argument).
func convSemgetFlags(v uint64) uint64 {
	f := uint32(v)
	var r uint64
	if f&unix.IPC_CREAT != 0 {
		r |= 1 << 13 // PPM_IPC_CREAT
	}
	if f&unix.IPC_EXCL != 0 {
		r |= 1 << 14 // PPM_IPC_EXCL
	}
	return r
}

// semctl_cmd_to_scap (an unsigned argument, compared whole: a command with IPC_64
// or'ed in, or SEM_STAT_ANY, gives 0).
func convSemctlCmd(v uint64) uint64 {
	switch uint32(v) {
	case unix.IPC_STAT:
		return 1 << 0 // PPM_IPC_STAT
	case unix.IPC_SET:
		return 1 << 1 // PPM_IPC_SET
	case unix.IPC_RMID:
		return 1 << 2 // PPM_IPC_RMID
	case 3: // IPC_INFO
		return 1 << 3 // PPM_IPC_INFO
	case 19: // SEM_INFO
		return 1 << 4 // PPM_SEM_INFO
	case 18: // SEM_STAT
		return 1 << 5 // PPM_SEM_STAT
	case 13: // GETALL
		return 1 << 6 // PPM_GETALL
	case 14: // GETNCNT
		return 1 << 7 // PPM_GETNCNT
	case 11: // GETPID
		return 1 << 8 // PPM_GETPID
	case 12: // GETVAL
		return 1 << 9 // PPM_GETVAL
	case 15: // GETZCNT
		return 1 << 10 // PPM_GETZCNT
	case 17: // SETALL
		return 1 << 11 // PPM_SETALL
	case 16: // SETVAL
		return 1 << 12 // PPM_SETVAL
	}
	return 0
}

// ptrace_requests_to_scap (x86_64 requests; unknown ones, e.g.
// PTRACE_SECCOMP_GET_FILTER or PTRACE_GET_SYSCALL_INFO, give PPM_PTRACE_UNKNOWN).
func convPtraceRequest(v uint64) uint64 {
	switch v {
	case unix.PTRACE_SINGLEBLOCK:
		return 38 // PPM_PTRACE_SINGLEBLOCK
	case unix.PTRACE_SYSEMU_SINGLESTEP:
		return 37 // PPM_PTRACE_SYSEMU_SINGLESTEP
	case unix.PTRACE_SYSEMU:
		return 36 // PPM_PTRACE_SYSEMU
	case unix.PTRACE_ARCH_PRCTL:
		return 35 // PPM_PTRACE_ARCH_PRCTL
	case unix.PTRACE_SET_THREAD_AREA:
		return 34 // PPM_PTRACE_SET_THREAD_AREA
	case unix.PTRACE_GET_THREAD_AREA:
		return 33 // PPM_PTRACE_GET_THREAD_AREA
	case unix.PTRACE_OLDSETOPTIONS:
		return 32 // PPM_PTRACE_OLDSETOPTIONS
	case unix.PTRACE_SETFPXREGS:
		return 31 // PPM_PTRACE_SETFPXREGS
	case unix.PTRACE_GETFPXREGS:
		return 30 // PPM_PTRACE_GETFPXREGS
	case unix.PTRACE_SETFPREGS:
		return 29 // PPM_PTRACE_SETFPREGS
	case unix.PTRACE_GETFPREGS:
		return 28 // PPM_PTRACE_GETFPREGS
	case unix.PTRACE_SETREGS:
		return 27 // PPM_PTRACE_SETREGS
	case unix.PTRACE_GETREGS:
		return 26 // PPM_PTRACE_GETREGS
	case unix.PTRACE_SETSIGMASK:
		return 25 // PPM_PTRACE_SETSIGMASK
	case unix.PTRACE_GETSIGMASK:
		return 24 // PPM_PTRACE_GETSIGMASK
	case unix.PTRACE_PEEKSIGINFO:
		return 23 // PPM_PTRACE_PEEKSIGINFO
	case unix.PTRACE_LISTEN:
		return 22 // PPM_PTRACE_LISTEN
	case unix.PTRACE_INTERRUPT:
		return 21 // PPM_PTRACE_INTERRUPT
	case unix.PTRACE_SEIZE:
		return 20 // PPM_PTRACE_SEIZE
	case unix.PTRACE_SETREGSET:
		return 19 // PPM_PTRACE_SETREGSET
	case unix.PTRACE_GETREGSET:
		return 18 // PPM_PTRACE_GETREGSET
	case unix.PTRACE_SETSIGINFO:
		return 17 // PPM_PTRACE_SETSIGINFO
	case unix.PTRACE_GETSIGINFO:
		return 16 // PPM_PTRACE_GETSIGINFO
	case unix.PTRACE_GETEVENTMSG:
		return 15 // PPM_PTRACE_GETEVENTMSG
	case unix.PTRACE_SETOPTIONS:
		return 14 // PPM_PTRACE_SETOPTIONS
	case unix.PTRACE_SYSCALL:
		return 13 // PPM_PTRACE_SYSCALL
	case unix.PTRACE_DETACH:
		return 12 // PPM_PTRACE_DETACH
	case unix.PTRACE_ATTACH:
		return 11 // PPM_PTRACE_ATTACH
	case unix.PTRACE_SINGLESTEP:
		return 10 // PPM_PTRACE_SINGLESTEP
	case unix.PTRACE_KILL:
		return 9 // PPM_PTRACE_KILL
	case unix.PTRACE_CONT:
		return 8 // PPM_PTRACE_CONT
	case unix.PTRACE_POKEUSR:
		return 7 // PPM_PTRACE_POKEUSR
	case unix.PTRACE_POKEDATA:
		return 6 // PPM_PTRACE_POKEDATA
	case unix.PTRACE_POKETEXT:
		return 5 // PPM_PTRACE_POKETEXT
	case unix.PTRACE_PEEKUSR:
		return 4 // PPM_PTRACE_PEEKUSR
	case unix.PTRACE_PEEKDATA:
		return 3 // PPM_PTRACE_PEEKDATA
	case unix.PTRACE_PEEKTEXT:
		return 2 // PPM_PTRACE_PEEKTEXT
	case unix.PTRACE_TRACEME:
		return 1 // PPM_PTRACE_TRACEME
	}
	return 0 // PPM_PTRACE_UNKNOWN
}

// execveat_flags_to_scap.
var execveatBits = [...]flagBit{
	{unix.AT_EMPTY_PATH, 1 << 0},       // PPM_EXVAT_AT_EMPTY_PATH
	{unix.AT_SYMLINK_NOFOLLOW, 1 << 1}, // PPM_EXVAT_AT_SYMLINK_NOFOLLOW
}

func convExecveatFlags(v uint64) uint64 { return uint64(mapFlagBits(v, execveatBits[:])) }

// unlinkat_flags_to_scap.
func convUnlinkatFlags(v uint64) uint64 {
	if v&unix.AT_REMOVEDIR != 0 {
		return 0x200 // PPM_AT_REMOVEDIR
	}
	return 0
}

// linkat_flags_to_scap.
var linkatBits = [...]flagBit{
	{unix.AT_SYMLINK_FOLLOW, 0x400}, // PPM_AT_SYMLINK_FOLLOW
	{unix.AT_EMPTY_PATH, 0x1000},    // PPM_AT_EMPTY_PATH
}

func convLinkatFlags(v uint64) uint64 { return uint64(mapFlagBits(v, linkatBits[:])) }

// convMountFlags is the mount filler's fix-up of the flags: the PPM_MS_* values are
// the kernel's MS_*, but a leading magic number (MS_MGC_VAL in the MS_MGC_MSK bits,
// from pre-2.4 mount(8)) is cleared.
func convMountFlags(v uint64) uint64 {
	if v&unix.MS_MGC_MSK == unix.MS_MGC_VAL {
		v &^= unix.MS_MGC_MSK
	}
	return v
}
