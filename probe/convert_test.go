package probe

import (
	"bufio"
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/syscope/syscope/event"
)

// ppmValue ORs the values of the named entries of flag table table (our copy of
// the driver's flags_table.c), so that expectations are written with the names
// sysdig prints rather than with this file's literals.
func ppmValue(t *testing.T, table string, names ...string) uint64 {
	t.Helper()
	nv := event.FlagTable(table)
	if nv == nil {
		t.Fatalf("no flag table %q", table)
	}
	var v uint64
	for _, n := range names {
		found := false
		for _, e := range nv {
			if e.Name == n {
				v |= uint64(e.Value)
				found = true
				break
			}
		}
		if !found {
			t.Fatalf("flag table %q has no %q", table, n)
		}
	}
	return v
}

// Kernel (x86_64) values that golang.org/x/sys/unix lacks or has with glibc's value.
const (
	kOLargefile     = 0o100000   // O_LARGEFILE
	kProtSem        = 0x8        // PROT_SEM
	kFutexWaitBits  = 9          // FUTEX_WAIT_BITSET
	kFutexLockPI2   = 13         // FUTEX_LOCK_PI2
	kFutexPrivate   = 128        // FUTEX_PRIVATE_FLAG
	kFutexClockRT   = 256        // FUTEX_CLOCK_REALTIME
	kFGetlk64       = 12         // F_GETLK64 (32-bit kernels only)
	kFCancellk      = 1029       // F_CANCELLK
	kSemUndo        = 0x1000     // SEM_UNDO
	kGetval         = 12         // GETVAL
	kSetval         = 16         // SETVAL
	kSemStatAny     = 20         // SEM_STAT_ANY
	kIPC64          = 0x100      // IPC_64
	kQQuotaon       = 0x800002   // Q_QUOTAON
	kQGetquota      = 0x800007   // Q_GETQUOTA
	kQSync          = 0x800001   // Q_SYNC
	kQGetnextquota  = 0x800009   // Q_GETNEXTQUOTA
	kQXGetqstat     = 0x5805     // Q_XGETQSTAT
	kUsrquota       = 0          // USRQUOTA
	kGrpquota       = 1          // GRPQUOTA
	kPrjquota       = 2          // PRJQUOTA
	kQfmtVfsV0      = 2          // QFMT_VFS_V0
	kQfmtOCFS2      = 3          // QFMT_OCFS2
	kQfmtVfsV1      = 4          // QFMT_VFS_V1
	kPollRdnorm     = 0x40       // POLLRDNORM
	kPollWrband     = 0x200      // POLLWRBAND
	kPollMsg        = 0x400      // POLLMSG
	kResolveCached  = 0x20       // RESOLVE_CACHED
	kMntDetach      = 2          // MNT_DETACH
	kSpliceMoreGift = 0x4 | 0x8  // SPLICE_F_MORE|SPLICE_F_GIFT
	kRenameExchange = 2          // RENAME_EXCHANGE
	kTCPNodelay     = 1          // TCP_NODELAY
	kSolIP          = 0          // SOL_IP
	kPFUserWrite    = 0x4 | 0x2  // X86_PF_USER|X86_PF_WRITE
	kPFProtInstr    = 0x1 | 0x10 // X86_PF_PROT|X86_PF_INSTR
	kPFReserved     = 0x8        // X86_PF_RSVD
	kMSMgcVal       = 0xC0ED0000 // MS_MGC_VAL
)

// qcmd is the kernel's QCMD(cmd, type).
func qcmd(cmd, typ uint64) uint64 { return cmd<<8 | typ&0xff }

func TestConvert(t *testing.T) {
	type tc struct {
		table string
		raw   uint64
		names []string // expected PPM names of table (none: 0)
	}
	cases := []tc{
		// open_flags_to_scap
		{"file_flags", unix.O_WRONLY | unix.O_CREAT | unix.O_TRUNC, []string{"O_TRUNC", "O_CREAT", "O_WRONLY"}},
		{"file_flags", unix.O_RDONLY, []string{"O_RDONLY"}},
		{"file_flags", unix.O_RDWR | unix.O_APPEND | unix.O_EXCL, []string{"O_RDWR", "O_APPEND", "O_EXCL"}},
		{"file_flags", unix.O_ACCMODE, []string{"O_RDONLY"}}, // 3 is neither O_WRONLY nor O_RDWR
		{"file_flags", unix.O_NONBLOCK | unix.O_DIRECT | unix.O_CLOEXEC, []string{"O_RDONLY", "O_NONBLOCK", "O_DIRECT", "O_CLOEXEC"}},
		// O_TMPFILE is __O_TMPFILE|O_DIRECTORY and the driver tests flags & O_TMPFILE.
		{"file_flags", unix.O_DIRECTORY | unix.O_CLOEXEC, []string{"O_RDONLY", "O_DIRECTORY", "O_TMPFILE", "O_CLOEXEC"}},
		{"file_flags", unix.O_TMPFILE | unix.O_RDWR, []string{"O_RDWR", "O_DIRECTORY", "O_TMPFILE"}},
		{"file_flags", 0x400000 | unix.O_WRONLY, []string{"O_WRONLY", "O_TMPFILE"}}, // __O_TMPFILE alone
		// O_SYNC is __O_SYNC|O_DSYNC, tested the same way.
		{"file_flags", unix.O_DSYNC, []string{"O_RDONLY", "O_DSYNC", "O_SYNC"}},
		{"file_flags", unix.O_SYNC, []string{"O_RDONLY", "O_DSYNC", "O_SYNC"}},
		{"file_flags", kOLargefile, []string{"O_RDONLY", "O_LARGEFILE"}},
		{"file_flags", unix.O_NOFOLLOW | unix.O_NOATIME | unix.O_PATH | unix.O_NOCTTY | unix.O_ASYNC, []string{"O_RDONLY"}},
		{"file_flags", 1<<40 | unix.O_WRONLY, []string{"O_WRONLY"}},

		// openat2_resolve_to_scap
		{"openat2_flags", unix.RESOLVE_BENEATH | unix.RESOLVE_NO_XDEV, []string{"RESOLVE_BENEATH", "RESOLVE_NO_XDEV"}},
		{"openat2_flags", unix.RESOLVE_IN_ROOT | unix.RESOLVE_NO_MAGICLINKS | unix.RESOLVE_NO_SYMLINKS | kResolveCached,
			[]string{"RESOLVE_IN_ROOT", "RESOLVE_NO_MAGICLINKS", "RESOLVE_NO_SYMLINKS", "RESOLVE_CACHED"}},
		{"openat2_flags", 0x40, nil},

		// chmod_mode_to_scap
		{"chmod_mode", 0o4755, []string{"S_ISUID", "S_IRUSR", "S_IWUSR", "S_IXUSR", "S_IRGRP", "S_IXGRP", "S_IROTH", "S_IXOTH"}},
		{"chmod_mode", unix.S_IFREG | 0o2640, []string{"S_ISGID", "S_IRUSR", "S_IWUSR", "S_IRGRP"}},
		{"chmod_mode", unix.S_ISVTX | 0o002, []string{"S_ISVTX", "S_IWOTH"}},

		// clone_flags_to_scap: glibc fork() and pthread_create().
		{"clone_flags", unix.CLONE_CHILD_CLEARTID | unix.CLONE_CHILD_SETTID | uint64(unix.SIGCHLD),
			[]string{"CLONE_CHILD_CLEARTID", "CLONE_CHILD_SETTID"}},
		{"clone_flags", unix.CLONE_VM | unix.CLONE_FS | unix.CLONE_FILES | unix.CLONE_SIGHAND | unix.CLONE_THREAD |
			unix.CLONE_SYSVSEM | unix.CLONE_SETTLS | unix.CLONE_PARENT_SETTID | unix.CLONE_CHILD_CLEARTID,
			[]string{"CLONE_VM", "CLONE_FS", "CLONE_FILES", "CLONE_SIGHAND", "CLONE_THREAD", "CLONE_SYSVSEM",
				"CLONE_SETTLS", "CLONE_PARENT_SETTID", "CLONE_CHILD_CLEARTID"}},
		{"clone_flags", unix.CLONE_NEWNS | unix.CLONE_NEWUTS | unix.CLONE_NEWIPC | unix.CLONE_NEWUSER |
			unix.CLONE_NEWPID | unix.CLONE_NEWNET | unix.CLONE_NEWCGROUP,
			[]string{"CLONE_NEWNS", "CLONE_NEWUTS", "CLONE_NEWIPC", "CLONE_NEWUSER", "CLONE_NEWPID", "CLONE_NEWNET", "CLONE_NEWCGROUP"}},
		{"clone_flags", unix.CLONE_IO | unix.CLONE_PTRACE | unix.CLONE_UNTRACED | unix.CLONE_PARENT | unix.CLONE_VFORK,
			[]string{"CLONE_IO", "CLONE_PTRACE", "CLONE_UNTRACED", "CLONE_PARENT", "CLONE_VFORK"}},
		{"clone_flags", unix.CLONE_PIDFD | unix.CLONE_NEWTIME | unix.CLONE_DETACHED | unix.CLONE_CLEAR_SIGHAND |
			unix.CLONE_INTO_CGROUP | 0xff, nil},

		// prot_flags_to_scap
		{"prot_flags", unix.PROT_READ | unix.PROT_WRITE, []string{"PROT_READ", "PROT_WRITE"}},
		{"prot_flags", unix.PROT_NONE, []string{"PROT_NONE"}},
		{"prot_flags", unix.PROT_EXEC | kProtSem, []string{"PROT_EXEC", "PROT_SEM"}},
		{"prot_flags", unix.PROT_GROWSDOWN | unix.PROT_GROWSUP | unix.PROT_READ, []string{"PROT_GROWSDOWN", "PROT_GROWSUP", "PROT_READ"}},
		{"prot_flags", 1<<32 | unix.PROT_READ, []string{"PROT_READ"}},

		// mmap_flags_to_scap
		{"mmap_flags", unix.MAP_PRIVATE | unix.MAP_ANONYMOUS, []string{"MAP_PRIVATE", "MAP_ANONYMOUS"}},
		{"mmap_flags", unix.MAP_SHARED | unix.MAP_FIXED, []string{"MAP_SHARED", "MAP_FIXED"}},
		{"mmap_flags", unix.MAP_SHARED_VALIDATE, []string{"MAP_SHARED", "MAP_PRIVATE"}},
		{"mmap_flags", unix.MAP_32BIT | unix.MAP_NORESERVE | unix.MAP_POPULATE | unix.MAP_NONBLOCK,
			[]string{"MAP_32BIT", "MAP_NORESERVE", "MAP_POPULATE", "MAP_NONBLOCK"}},
		{"mmap_flags", unix.MAP_GROWSDOWN | unix.MAP_DENYWRITE | unix.MAP_EXECUTABLE | unix.MAP_LOCKED,
			[]string{"MAP_GROWSDOWN", "MAP_DENYWRITE", "MAP_EXECUTABLE", "MAP_LOCKED"}},
		{"mmap_flags", unix.MAP_STACK | unix.MAP_HUGETLB | unix.MAP_FIXED_NOREPLACE | unix.MAP_SYNC, nil},

		// fcntl_cmd_to_scap
		{"fcntl_commands", unix.F_SETFD, []string{"F_SETFD"}},
		{"fcntl_commands", unix.F_DUPFD, []string{"F_DUPFD"}},
		{"fcntl_commands", unix.F_GETFL, []string{"F_GETFL"}},
		{"fcntl_commands", unix.F_GETLK, []string{"F_GETLK"}},
		{"fcntl_commands", unix.F_SETLKW, []string{"F_SETLKW"}},
		{"fcntl_commands", unix.F_GETOWN, []string{"F_GETOWN"}},
		{"fcntl_commands", unix.F_GETSIG, []string{"F_GETSIG"}},
		{"fcntl_commands", unix.F_SETOWN_EX, []string{"F_SETOWN_EX"}},
		{"fcntl_commands", unix.F_GETLEASE, []string{"F_GETLEASE"}},
		{"fcntl_commands", kFCancellk, []string{"F_CANCELLK"}},
		{"fcntl_commands", unix.F_DUPFD_CLOEXEC, []string{"F_DUPFD_CLOEXEC"}},
		{"fcntl_commands", unix.F_NOTIFY, []string{"F_NOTIFY"}},
		{"fcntl_commands", unix.F_GETPIPE_SZ, []string{"F_GETPIPE_SZ"}},
		{"fcntl_commands", unix.F_OFD_SETLKW, []string{"F_OFD_SETLKW"}},
		{"fcntl_commands", kFGetlk64, []string{"UNKNOWN"}}, // no *64 commands with CONFIG_64BIT
		{"fcntl_commands", kFGetlk64 + 2, []string{"UNKNOWN"}},
		{"fcntl_commands", unix.F_ADD_SEALS, []string{"UNKNOWN"}},
		{"fcntl_commands", 1<<32 | unix.F_SETFD, []string{"UNKNOWN"}}, // unsigned long compare

		// futex_op_to_scap
		{"futex_operations", kFutexPrivate, []string{"FUTEX_WAIT", "FUTEX_PRIVATE_FLAG"}}, // FUTEX_WAIT_PRIVATE
		{"futex_operations", 1 | kFutexPrivate, []string{"FUTEX_WAKE", "FUTEX_PRIVATE_FLAG"}},
		{"futex_operations", kFutexWaitBits | kFutexPrivate | kFutexClockRT,
			[]string{"FUTEX_WAIT_BITSET", "FUTEX_PRIVATE_FLAG", "FUTEX_CLOCK_REALTIME"}},
		{"futex_operations", 12, []string{"FUTEX_CMP_REQUEUE_PI"}},
		{"futex_operations", kFutexLockPI2 | kFutexPrivate, []string{"FUTEX_PRIVATE_FLAG"}},
		{"futex_operations", 0x200 | 5, []string{"FUTEX_WAKE_OP"}},

		// access_flags_to_scap
		{"access_flags", unix.F_OK, []string{"F_OK"}},
		{"access_flags", unix.R_OK | unix.W_OK, []string{"R_OK", "W_OK"}},
		{"access_flags", unix.X_OK, []string{"X_OK"}},
		{"access_flags", 8, nil},
		{"access_flags", 1 << 32, []string{"F_OK"}}, // an unsigned: 0

		// rlimit_resource_to_scap
		{"rlimit_resources", unix.RLIMIT_NOFILE, []string{"RLIMIT_NOFILE"}},
		{"rlimit_resources", unix.RLIMIT_CPU, []string{"RLIMIT_CPU"}},
		{"rlimit_resources", unix.RLIMIT_RTTIME, []string{"RLIMIT_RTTIME"}},
		{"rlimit_resources", 16, []string{"RLIMIT_UNKNOWN"}},

		// shutdown_how_to_scap
		{"shutdown_how", unix.SHUT_RD, []string{"SHUT_RD"}},
		{"shutdown_how", unix.SHUT_WR, []string{"SHUT_WR"}},
		{"shutdown_how", 1<<16 | unix.SHUT_RDWR, []string{"SHUT_RDWR"}},

		// lseek_whence_to_scap
		{"lseek_whence", unix.SEEK_END, []string{"SEEK_END"}},
		{"lseek_whence", unix.SEEK_CUR, []string{"SEEK_CUR"}},
		{"lseek_whence", unix.SEEK_DATA, []string{"SEEK_SET"}},

		// semop_flags_to_scap
		{"semop_flags", unix.IPC_NOWAIT | kSemUndo, []string{"IPC_NOWAIT", "SEM_UNDO"}},
		{"semop_flags", kSemUndo, []string{"SEM_UNDO"}},

		// pf_flags_to_scap
		{"pf_flags", 0, []string{"PAGE_NOT_PRESENT", "READ_ACCESS", "SUPERVISOR_FAULT"}},
		{"pf_flags", kPFUserWrite, []string{"PAGE_NOT_PRESENT", "WRITE_ACCESS", "USER_FAULT"}},
		{"pf_flags", kPFProtInstr, []string{"PROTECTION_VIOLATION", "READ_ACCESS", "SUPERVISOR_FAULT", "INSTRUCTION_FETCH"}},
		{"pf_flags", kPFReserved, []string{"PAGE_NOT_PRESENT", "READ_ACCESS", "SUPERVISOR_FAULT", "RESERVED_PAGE"}},

		// flock_flags_to_scap
		{"flock_flags", unix.LOCK_EX | unix.LOCK_NB, []string{"LOCK_EX", "LOCK_NB"}},
		{"flock_flags", unix.LOCK_SH, []string{"LOCK_SH"}},
		{"flock_flags", unix.LOCK_UN, []string{"LOCK_UN"}},

		// quotactl_cmd_to_scap, quotactl_type_to_scap, quotactl_fmt_to_scap
		{"quotactl_cmds", qcmd(kQQuotaon, kUsrquota), []string{"Q_QUOTAON"}},
		{"quotactl_cmds", qcmd(kQGetquota, kGrpquota), []string{"Q_GETQUOTA"}},
		{"quotactl_cmds", qcmd(kQSync, kUsrquota), []string{"Q_SYNC"}},
		{"quotactl_cmds", qcmd(kQXGetqstat, kUsrquota), []string{"Q_XGETQSTAT"}},
		{"quotactl_cmds", qcmd(kQGetnextquota, kUsrquota), nil},
		{"quotactl_cmds", 0xffffffff00000000 | qcmd(kQQuotaon, kUsrquota), nil}, // sign-extended int
		{"quotactl_types", qcmd(kQGetquota, kGrpquota), []string{"GRPQUOTA"}},
		{"quotactl_types", qcmd(kQGetquota, kUsrquota), []string{"USRQUOTA"}},
		{"quotactl_types", qcmd(kQGetquota, kPrjquota), nil},
		{"quotactl_quota_fmts", kQfmtVfsV0, []string{"QFMT_VFS_V0"}},
		{"quotactl_quota_fmts", kQfmtVfsV1, []string{"QFMT_VFS_V1"}},
		{"quotactl_quota_fmts", kQfmtOCFS2, []string{"QFMT_NOT_USED"}},

		// semget_flags_to_scap, semctl_cmd_to_scap
		{"semget_flags", unix.IPC_CREAT | unix.IPC_EXCL | 0o600, []string{"IPC_CREAT", "IPC_EXCL"}},
		{"semctl_commands", unix.IPC_RMID, []string{"IPC_RMID"}},
		{"semctl_commands", unix.IPC_STAT, []string{"IPC_STAT"}},
		{"semctl_commands", kSetval, []string{"SETVAL"}},
		{"semctl_commands", 1<<32 | kGetval, []string{"GETVAL"}}, // an unsigned
		{"semctl_commands", kIPC64 | unix.IPC_STAT, nil},
		{"semctl_commands", kSemStatAny, nil},

		// ptrace_requests_to_scap
		{"ptrace_requests", unix.PTRACE_TRACEME, []string{"PTRACE_TRACEME"}},
		{"ptrace_requests", unix.PTRACE_ATTACH, []string{"PTRACE_ATTACH"}},
		{"ptrace_requests", unix.PTRACE_PEEKUSR, []string{"PTRACE_PEEKUSR"}},
		{"ptrace_requests", unix.PTRACE_SEIZE, []string{"PTRACE_SEIZE"}},
		{"ptrace_requests", unix.PTRACE_SETSIGMASK, []string{"PTRACE_SETSIGMASK"}},
		{"ptrace_requests", unix.PTRACE_ARCH_PRCTL, []string{"PTRACE_ARCH_PRCTL"}},
		{"ptrace_requests", unix.PTRACE_SINGLEBLOCK, []string{"PTRACE_SINGLEBLOCK"}},
		{"ptrace_requests", unix.PTRACE_GET_SYSCALL_INFO, []string{"PTRACE_UNKNOWN"}},

		// execveat_flags_to_scap, unlinkat_flags_to_scap, linkat_flags_to_scap
		{"execveat_flags", unix.AT_EMPTY_PATH | unix.AT_SYMLINK_NOFOLLOW, []string{"AT_EMPTY_PATH", "AT_SYMLINK_NOFOLLOW"}},
		{"unlinkat_flags", unix.AT_REMOVEDIR, []string{"AT_REMOVEDIR"}},
		{"unlinkat_flags", unix.AT_SYMLINK_NOFOLLOW, nil},
		{"linkat_flags", unix.AT_SYMLINK_FOLLOW | unix.AT_EMPTY_PATH, []string{"AT_SYMLINK_FOLLOW", "AT_EMPTY_PATH"}},

		// the mount filler's magic number fix-up
		{"mount_flags", kMSMgcVal | unix.MS_BIND | unix.MS_REC, []string{"BIND", "REC"}},
		{"mount_flags", unix.MS_RDONLY | unix.MS_NOSUID | unix.MS_REMOUNT, []string{"RDONLY", "NOSUID", "REMOUNT"}},
		{"mount_flags", 0xC0EE0000 | unix.MS_RDONLY, // not the magic number: kept
			[]string{"RDONLY", "UNBINDABLE", "PRIVATE", "SLAVE", "RELATIME", "KERNMOUNT", "I_VERSION", "ACTIVE", "NOUSER"}},

		// stored unchanged
		{"umount_flags", kMntDetach, []string{"DETACH"}},
		{"splice_flags", kSpliceMoreGift, []string{"SPLICE_F_MORE", "SPLICE_F_GIFT"}},
		{"renameat2_flags", kRenameExchange, []string{"RENAME_EXCHANGE"}},
		{"socket_families", unix.AF_INET6, []string{"AF_INET6"}},

		// sockopt_level_to_scap, sockopt_optname_to_scap (level SOL_SOCKET)
		{"sockopt_levels", unix.SOL_SOCKET, []string{"SOL_SOCKET"}},
		{"sockopt_levels", unix.SOL_TCP, []string{"SOL_TCP"}},
		{"sockopt_levels", unix.SOL_IPV6, []string{"UNKNOWN"}},
		{"sockopt_levels", 1<<32 | unix.SOL_SOCKET, []string{"SOL_SOCKET"}}, // an int
		{"sockopt_options", unix.SO_REUSEADDR, []string{"SO_REUSEADDR"}},
		{"sockopt_options", unix.SO_SNDBUFFORCE, []string{"SO_SNDBUFFORCE"}},
		{"sockopt_options", unix.SO_PASSSEC, []string{"SO_PASSSEC"}},
		{"sockopt_options", unix.SO_INCOMING_CPU, []string{"SO_INCOMING_CPU"}},
		{"sockopt_options", unix.SO_ATTACH_BPF, []string{"SO_ATTACH_BPF"}},
		{"sockopt_options", unix.SO_PEERGROUPS, []string{"SO_PEERGROUPS"}},
		{"sockopt_options", unix.SO_MEMINFO, []string{"SO_MEMINFO"}},
		{"sockopt_options", unix.SO_COOKIE, []string{"SO_COOKIE"}},
		{"sockopt_options", unix.SO_ZEROCOPY, []string{"UNKNOWN"}},
		// Not defined in a kernel build since Linux 5.1: unknown to the driver.
		{"sockopt_options", unix.SO_RCVTIMEO, []string{"UNKNOWN"}},
		{"sockopt_options", unix.SO_SNDTIMEO, []string{"UNKNOWN"}},
		{"sockopt_options", unix.SO_TIMESTAMP, []string{"UNKNOWN"}},
		{"sockopt_options", unix.SO_TIMESTAMPNS, []string{"UNKNOWN"}},
		{"sockopt_options", unix.SO_TIMESTAMPING, []string{"UNKNOWN"}},

		// poll_events_to_scap
		{"poll_flags", unix.POLLIN | unix.POLLPRI | unix.POLLOUT, []string{"POLLIN", "POLLPRI", "POLLOUT"}},
		{"poll_flags", unix.POLLRDHUP | unix.POLLERR | unix.POLLHUP | unix.POLLNVAL, []string{"POLLRDHUP", "POLLERR", "POLLHUP", "POLLNVAL"}},
		{"poll_flags", kPollRdnorm | kPollWrband | kPollMsg, []string{"POLLRDNORM", "POLLWRBAND"}},
	}
	for _, c := range cases {
		want := ppmValue(t, c.table, c.names...)
		if got := Convert(c.table, c.raw); got != want {
			t.Errorf("Convert(%q, %#x) = %#x, want %#x %v", c.table, c.raw, got, want, c.names)
		}
	}
}

// TestConvertNumbers pins a few results to the numbers sysdig prints.
func TestConvertNumbers(t *testing.T) {
	cases := []struct {
		table   string
		raw     uint64
		want    uint64
		printed string
	}{
		{"file_flags", unix.O_WRONLY | unix.O_CREAT | unix.O_TRUNC, 262, "O_TRUNC|O_CREAT|O_WRONLY"},
		{"file_flags", unix.O_RDONLY | unix.O_CLOEXEC, 4097, "O_RDONLY|O_CLOEXEC"},
		{"clone_flags", unix.CLONE_CHILD_CLEARTID | unix.CLONE_CHILD_SETTID | uint64(unix.SIGCHLD), 25165824, "CLONE_CHILD_CLEARTID|CLONE_CHILD_SETTID"},
		{"prot_flags", unix.PROT_READ | unix.PROT_WRITE, 3, "PROT_READ|PROT_WRITE"},
		{"mmap_flags", unix.MAP_PRIVATE | unix.MAP_ANONYMOUS, 10, "MAP_PRIVATE|MAP_ANONYMOUS"},
		{"fcntl_commands", unix.F_SETFD, 3, "F_SETFD"},
		{"futex_operations", kFutexPrivate, 128, "FUTEX_PRIVATE_FLAG|FUTEX_WAIT"},
		{"rlimit_resources", 99, 255, "RLIMIT_UNKNOWN"},
	}
	for _, c := range cases {
		if got := Convert(c.table, c.raw); got != c.want {
			t.Errorf("Convert(%q, %#x) = %d, want %d (%s)", c.table, c.raw, got, c.want, c.printed)
		}
	}
}

func TestOpenMode(t *testing.T) {
	cases := []struct {
		flags, mode uint64
		want        uint32
	}{
		{unix.O_CREAT | unix.O_WRONLY, 0o644, 0o644},
		{unix.O_RDONLY, 0o644, 0},
		{unix.O_WRONLY | unix.O_TRUNC, 0o666, 0},
		{unix.O_TMPFILE | unix.O_RDWR, 0o600, 0o600},
		{unix.O_DIRECTORY, 0o755, 0o755}, // part of O_TMPFILE
		{unix.O_CREAT, unix.S_IFREG | 0o7777, 0o7777},
		{unix.O_CREAT, 1<<40 | 0o640, 0o640},
	}
	for _, c := range cases {
		if got := OpenMode(c.flags, c.mode); got != c.want {
			t.Errorf("OpenMode(%#x, %#o) = %#o, want %#o", c.flags, c.mode, got, c.want)
		}
	}
	// The PPM_S_* bits, checked by name.
	want := ppmValue(t, "chmod_mode", "S_IRUSR", "S_IWUSR", "S_IRGRP", "S_IROTH")
	if got := OpenMode(unix.O_CREAT, 0o644); uint64(got) != want {
		t.Errorf("OpenMode(O_CREAT, 0644) = %#x, want %#x", got, want)
	}
}

func TestSockoptName(t *testing.T) {
	cases := []struct {
		level, optname int64
		wantL, wantO   uint8
	}{
		{unix.SOL_SOCKET, unix.SO_KEEPALIVE, 1, 9},
		{unix.SOL_SOCKET, unix.SO_ERROR, 1, 4},
		{unix.SOL_SOCKET, unix.SO_COOKIE, 1, 53},
		{unix.SOL_SOCKET, unix.SO_SNDTIMEO, 1, 0},
		{unix.SOL_SOCKET, -1, 1, 0},
		{unix.SOL_TCP, kTCPNodelay, 2, 0}, // only SOL_SOCKET options are converted
		{kSolIP, unix.SO_DEBUG, 0, 0},
		{1<<32 | unix.SOL_SOCKET, 1<<32 | unix.SO_TYPE, 1, 3}, // C ints
	}
	for _, c := range cases {
		l, o := SockoptName(c.level, c.optname)
		if l != c.wantL || o != c.wantO {
			t.Errorf("SockoptName(%d, %d) = %d, %d, want %d, %d", c.level, c.optname, l, o, c.wantL, c.wantO)
		}
	}
	l, o := SockoptName(unix.SOL_SOCKET, unix.SO_LINGER)
	if uint64(l) != ppmValue(t, "sockopt_levels", "SOL_SOCKET") || uint64(o) != ppmValue(t, "sockopt_options", "SO_LINGER") {
		t.Errorf("SockoptName(SOL_SOCKET, SO_LINGER) = %d, %d", l, o)
	}
}

func TestPollEvents(t *testing.T) {
	cases := []struct{ ev, want uint16 }{
		{unix.POLLIN, 0x1},
		{unix.POLLIN | unix.POLLPRI, 0x3},
		{unix.POLLOUT, 0x4},
		{unix.POLLRDHUP, 0x8},
		{unix.POLLERR | unix.POLLHUP | unix.POLLNVAL, 0x70},
		{kPollRdnorm | 0x80 | 0x100 | kPollWrband, 0x780},
		{kPollMsg | 0x1000 | 0x4000 | 0x8000, 0},
		{0xffff, 0x7ff},
	}
	for _, c := range cases {
		if got := PollEvents(c.ev); got != c.want {
			t.Errorf("PollEvents(%#x) = %#x, want %#x", c.ev, got, c.want)
		}
	}
}

func TestSocketFamily(t *testing.T) {
	cases := []struct {
		f    uint16
		want string
	}{
		{unix.AF_INET, "AF_INET"},
		{unix.AF_INET6, "AF_INET6"},
		{unix.AF_UNIX, "AF_UNIX"},
		{unix.AF_NETLINK, "AF_NETLINK"},
		{unix.AF_PACKET, "AF_PACKET"},
		{unix.AF_UNSPEC, "AF_UNSPEC"},
		{unix.AF_DECnet, "AF_DECnet"},
		{unix.AF_LLC, "AF_LLC"},
		{unix.AF_CAN, "AF_CAN"},
		{unix.AF_NFC, "AF_NFC"},
		{unix.AF_IB, "AF_UNSPEC"},
		{unix.AF_MPLS, "AF_UNSPEC"},
		{unix.AF_VSOCK, "AF_UNSPEC"},
		{unix.AF_XDP, "AF_UNSPEC"},
		{0x100 | unix.AF_INET, "AF_INET"}, // a u8 in the driver
	}
	for _, c := range cases {
		if got := SocketFamily(c.f); uint64(got) != ppmValue(t, "socket_families", c.want) {
			t.Errorf("SocketFamily(%d) = %d, want %s", c.f, got, c.want)
		}
	}
	// Every family the driver knows maps to the PPM_AF_* of the same name.
	for _, e := range event.FlagTable("socket_families") {
		if got := SocketFamily(uint16(e.Value)); uint32(got) != e.Value {
			t.Errorf("SocketFamily(%s=%d) = %d", e.Name, e.Value, got)
		}
	}
}

// TestFlagBitTables checks the static bit tables: distinct single PPM bits, each one
// a value of the flag table sysdig renders it with.
func TestFlagBitTables(t *testing.T) {
	tables := []struct {
		name string
		bits []flagBit
	}{
		{"file_flags", openFlagBits[:]},
		{"openat2_flags", resolveBits[:]},
		{"chmod_mode", modeBits[:]},
		{"clone_flags", cloneFlagBits[:]},
		{"prot_flags", protBits[:]},
		{"mmap_flags", mmapBits[:]},
		{"poll_flags", pollBits[:]},
		{"flock_flags", flockBits[:]},
		{"execveat_flags", execveatBits[:]},
		{"linkat_flags", linkatBits[:]},
	}
	for _, tb := range tables {
		values := map[uint32]bool{}
		for _, e := range event.FlagTable(tb.name) {
			values[e.Value] = true
		}
		var seen uint32
		for _, b := range tb.bits {
			if b.kernel == 0 || b.ppm == 0 || b.ppm&(b.ppm-1) != 0 {
				t.Errorf("%s: bad entry %#x -> %#x", tb.name, b.kernel, b.ppm)
			}
			if seen&b.ppm != 0 {
				t.Errorf("%s: PPM bit %#x mapped twice", tb.name, b.ppm)
			}
			seen |= b.ppm
			if !values[b.ppm] {
				t.Errorf("%s: PPM bit %#x is not in the flag table", tb.name, b.ppm)
			}
		}
	}
}

// enumTables are the tables whose values are an enumeration, not bits.
var enumTables = map[string]bool{
	"fcntl_commands": true, "ptrace_requests": true, "rlimit_resources": true,
	"lseek_whence": true, "sockopt_levels": true, "sockopt_options": true,
	"quotactl_quota_fmts": true, "quotactl_types": true, "quotactl_cmds": true,
	"semctl_commands": true,
}

// keptTables are the tables the driver stores unchanged (identity), and those whose
// conversion keeps unknown values (shutdown_how, a u16; mount_flags, all MS_* bits).
var keptTables = map[string]bool{
	"socket_families": true, "umount_flags": true, "splice_flags": true,
	"renameat2_flags": true, "quotactl_dqi_flags": true, "execve_flags": true,
	"shutdown_how": true, "mount_flags": true,
}

// TestConvertRange runs every converting table over many raw values and checks that
// each result is one the flag table can name: a value of an enumeration (or 0), or
// bits of a flag set.
func TestConvertRange(t *testing.T) {
	var raws []uint64
	for v := uint64(0); v < 0x1100; v++ {
		raws = append(raws, v)
	}
	for i := 0; i < 64; i++ {
		raws = append(raws, 1<<i, 1<<i-1, ^uint64(0)>>i, 0xC0ED0000|1<<i)
	}
	for _, name := range flagTableNames(t) {
		f := ConverterFor(name)
		if f == nil {
			continue // reported by TestConverterForKnowsAllTables
		}
		values := map[uint64]bool{0: true}
		var union uint64
		for _, e := range event.FlagTable(name) {
			values[uint64(e.Value)] = true
			union |= uint64(e.Value)
		}
		for _, v := range raws {
			got := f(v)
			switch {
			case keptTables[name]:
				if name != "mount_flags" && name != "shutdown_how" && got != v {
					t.Errorf("%s: %#x -> %#x, want it unchanged", name, v, got)
				}
			case name == "futex_operations":
				if !values[got&127] || got&^127&^(128|256) != 0 {
					t.Errorf("%s: %#x -> %#x", name, v, got)
				}
			case enumTables[name]:
				if !values[got] {
					t.Errorf("%s: %#x -> %#x, not a value of the table", name, v, got)
				}
			default:
				if got&^union != 0 {
					t.Errorf("%s: %#x -> %#x, bits outside the table", name, v, got)
				}
			}
		}
	}
}

// flagTableNames returns the table names of tables/flags.tsv.
func flagTableNames(t *testing.T) []string {
	t.Helper()
	f, err := os.Open("../event/tables/flags.tsv")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var names []string
	seen := map[string]bool{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || line[0] == '#' {
			continue
		}
		name, _, _ := strings.Cut(line, "\t")
		if !seen[name] {
			seen[name] = true
			names = append(names, name)
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return names
}

// TestConverterForKnowsAllTables checks that every flag table that the 0.29.3 event
// table references, and every table of flags.tsv, has a conversion or an explicit
// identity, so that no argument is silently stored unconverted.
func TestConverterForKnowsAllTables(t *testing.T) {
	f, err := os.Open("../event/tables/events_0.29.3.tsv")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	referenced := map[string]bool{}
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || line[0] == '#' {
			continue
		}
		cols := strings.Split(line, "\t")
		if len(cols) < 8 || cols[7] == "" {
			continue
		}
		for _, p := range strings.Split(cols[7], "; ") {
			parts := strings.SplitN(p, ":", 4)
			if len(parts) < 4 {
				continue
			}
			typ, info := parts[1], parts[3]
			switch {
			case typ == "PT_FSRELPATH":
				// The info of a relative path is the index of its dirfd param.
				if !strings.HasPrefix(info, "DIRFD_PARAM(") {
					t.Errorf("%s: unexpected info %q", cols[1], info)
				}
			case typ == "PT_DYN":
				// The info of a dynamic param is its array of types, not a flag table.
				if !strings.Contains(info, "_dynamic_param, PPM_") {
					t.Errorf("%s: unexpected info %q", cols[1], info)
				}
			default:
				referenced[info] = true
			}
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if len(referenced) < 30 {
		t.Fatalf("only %d flag tables referenced: parsing went wrong", len(referenced))
	}
	for _, n := range flagTableNames(t) {
		referenced[n] = true
	}
	for n := range referenced {
		if ConverterFor(n) == nil {
			t.Errorf("ConverterFor(%q) = nil", n)
		}
		if event.FlagTable(n) == nil {
			t.Errorf("flag table %q is referenced but unknown to event.FlagTable", n)
		}
	}
	if ConverterFor("no_such_table") != nil {
		t.Error("ConverterFor(no_such_table) != nil")
	}
	if got := Convert("no_such_table", 0x1234); got != 0x1234 {
		t.Errorf("Convert(no_such_table) = %#x", got)
	}
}

func TestConvertNoAllocs(t *testing.T) {
	var sink uint64
	n := testing.AllocsPerRun(100, func() {
		sink += Convert("file_flags", unix.O_WRONLY|unix.O_CREAT)
		sink += Convert("clone_flags", unix.CLONE_VM|unix.CLONE_THREAD)
		sink += Convert("fcntl_commands", unix.F_SETFD)
		sink += uint64(OpenMode(unix.O_CREAT, 0o644))
		sink += uint64(PollEvents(unix.POLLIN))
		l, o := SockoptName(unix.SOL_SOCKET, unix.SO_REUSEADDR)
		sink += uint64(l) + uint64(o) + uint64(SocketFamily(unix.AF_INET))
	})
	if n != 0 {
		t.Errorf("%v allocations per run", n)
	}
	_ = sink
}

func BenchmarkConvertFileFlags(b *testing.B) {
	f := ConverterFor("file_flags")
	var sink uint64
	for i := 0; i < b.N; i++ {
		sink += f(uint64(i))
	}
	_ = sink
}

func BenchmarkConvertByName(b *testing.B) {
	var sink uint64
	for i := 0; i < b.N; i++ {
		sink += Convert("mmap_flags", uint64(i))
	}
	_ = sink
}

// TestCgroupCacheFallback: the cgroups of a task that is gone come from its
// process or parent only when that one's cgroup v2 directory is the task's.
func TestCgroupCacheFallback(t *testing.T) {
	c := newCgroupCache()
	self, err := os.ReadFile("/proc/self/cgroup")
	if err != nil {
		t.Skip(err)
	}
	ino := c.cgroup2Inode(self)
	if ino == 0 {
		t.Skip("no cgroup v2 hierarchy here")
	}
	const gone = 1 << 30 // no such pid
	if got := c.lookup(ino+1, 0, gone, os.Getpid()); got != nil {
		t.Errorf("another cgroup's id vouched for this process's cgroups: %q", got)
	}
	want := formatCgroups(self, c.ctrls)
	if got := c.lookup(ino, 0, gone, os.Getpid()); !bytes.Equal(got, want) {
		t.Errorf("fallback to the parent: got %q, want %q", got, want)
	}
	if got := c.lookup(ino, 0, gone); !bytes.Equal(got, want) {
		t.Errorf("the cached value: got %q, want %q", got, want)
	}
}

// TestCgroupCacheMoved: a task that is no longer in the cgroup its event
// recorded (moved, or its tid reused) does not vouch for it; on a v2-only
// host the cgroup is then found by its inode. The hierarchy is a directory
// tree made by the test (a cgroup's id is its directory's inode), and this
// process's own /proc file names its root, "0::/", on any host.
func TestCgroupCacheMoved(t *testing.T) {
	self, err := os.ReadFile("/proc/self/cgroup")
	if err != nil || !strings.Contains(string(self), "0::/\n") {
		t.Skipf("this process is not in the v2 root cgroup (%q)", self)
	}
	root := t.TempDir()
	if err := os.MkdirAll(filepath.Join(root, "docker", "abc"), 0o755); err != nil {
		t.Fatal(err)
	}
	ctrls := filepath.Join(root, "cgroup.controllers")
	if err := os.WriteFile(ctrls, []byte("cpu memory pids\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	inode := func(p string) uint64 { return dirInode(t, p) }
	c := &cgroupCache{m: map[[2]uint64][]byte{}, missed: map[[2]uint64]bool{}, root: root, v2only: true, ctrls: ctrls}
	ino := inode(filepath.Join(root, "docker", "abc"))
	want := "cpu=/docker/abc\x00memory=/docker/abc\x00pids=/docker/abc\x00"
	// This process is in the root, not in docker/abc: its file must not be taken.
	if got := c.lookup(ino, 0, os.Getpid()); string(got) != want {
		t.Errorf("a task now in another cgroup: got %q, want %q", got, want)
	}
	const gone = 1 << 30
	if got := c.lookup(ino+1<<40, 0, gone, os.Getpid()); got != nil {
		t.Errorf("an id no directory has: got %q, want nil", got)
	}
	if !c.missed[[2]uint64{ino + 1<<40, 0}] {
		t.Errorf("a walk that found nothing is not remembered: it would run again for every event")
	}
	// A task in the cgroup the event recorded is read from /proc.
	if got, want := c.lookup(inode(root), 0, os.Getpid()), formatCgroups(self, ctrls); !bytes.Equal(got, want) {
		t.Errorf("the task's own cgroup: got %q, want %q", got, want)
	}
	// Where the host is not v2-only and has no v1 memory hierarchy, the inode is not looked for.
	c = &cgroupCache{m: map[[2]uint64][]byte{}, missed: map[[2]uint64]bool{}, root: root, ctrls: ctrls}
	if got := c.lookup(ino, 0, os.Getpid()); got != nil {
		t.Errorf("not v2-only: got %q, want nil", got)
	}
}

// TestCgroupCacheMovedV1: on a cgroup v1 host every task is in the v2 root,
// so the memory cgroup decides: a task (or parent) whose memory cgroup is not
// the recorded one does not vouch, and the memory directory with the
// recorded inode names the cgroup. The memory hierarchy is a directory tree
// made by the test, with this process's own memory path in it.
func TestCgroupCacheMovedV1(t *testing.T) {
	self, err := os.ReadFile("/proc/self/cgroup")
	if err != nil {
		t.Skip(err)
	}
	mine := ""
	for _, l := range strings.Split(string(self), "\n") {
		if p := strings.SplitN(l, ":", 3); len(p) == 3 && p[1] == "memory" {
			mine = p[2]
		}
	}
	if mine == "" {
		t.Skip("no cgroup v1 memory line in /proc/self/cgroup")
	}
	mem := t.TempDir()
	for _, d := range []string{mine, "/docker/abc"} {
		if err := os.MkdirAll(mem+d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	inode := func(p string) uint64 { return dirInode(t, p) }
	c := &cgroupCache{m: map[[2]uint64][]byte{}, missed: map[[2]uint64]bool{}, root: t.TempDir(), ctrls: "/nonexistent", memRoot: mem}
	ctr := inode(mem + "/docker/abc")
	if got, want := c.lookup(0, ctr, os.Getpid()), "memory=/docker/abc\x00"; string(got) != want {
		t.Errorf("a task now in another memory cgroup: got %q, want %q", got, want)
	}
	if got, want := c.lookup(0, inode(mem+mine), os.Getpid()), formatCgroups(self, "/nonexistent"); !bytes.Equal(got, want) {
		t.Errorf("the task's own memory cgroup: got %q, want %q", got, want)
	}
	const gone = 1 << 30
	if got := c.lookup(0, ctr+1<<40, gone, os.Getpid()); got != nil {
		t.Errorf("a parent in another memory cgroup, no directory with the id: got %q, want nil", got)
	}
}

// dirInode is the inode of p, which is a cgroup's id when p is a cgroup directory.
func dirInode(t *testing.T, p string) uint64 {
	t.Helper()
	fi, err := os.Stat(p)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Sys().(*syscall.Stat_t).Ino
}
