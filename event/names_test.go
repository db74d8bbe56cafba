package event

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

func TestErrnoName(t *testing.T) {
	tests := []struct {
		v    int64
		want string
	}{
		{-1, "EPERM"},
		{-2, "ENOENT"},
		{-11, "EAGAIN"},
		{-13, "EACCES"},
		{-115, "EINPROGRESS"},
		{-125, "ECANCELED"},
		{-512, "ERESTARTSYS"},
		{-513, "ERESTARTNOINTR"},
		{-530, "EIOCBRETRY"},
		{-41, ""},  // EWOULDBLOCK is an alias: no case of its own, and 41 is unused
		{-58, ""},  // likewise EDEADLOCK
		{-126, ""}, // ENOKEY and later are not mapped
		{-517, ""},
		{-531, ""},
		{0, ""},
		{2, ""},                    // only negative values are errnos
		{-(1 << 32) - 2, "ENOENT"}, // libsinsp truncates to int32 first
		{1<<32 - 2, ""},            // positive: not looked up at all
	}
	for _, tt := range tests {
		if got := ErrnoName(tt.v); got != tt.want {
			t.Errorf("ErrnoName(%d) = %q, want %q", tt.v, got, tt.want)
		}
	}
}

func TestSignalName(t *testing.T) {
	tests := []struct {
		sig  uint8
		want string
	}{
		{0, ""},
		{1, "SIGHUP"},
		{9, "SIGKILL"},
		{11, "SIGSEGV"},
		{15, "SIGTERM"},
		{16, "SIGSTKFLT"},
		{17, "SIGCHLD"},
		{29, "SIGIO"},
		{31, "SIGSYS"},
		{32, ""},
		{34, ""},
		{255, ""},
	}
	for _, tt := range tests {
		if got := SignalName(tt.sig); got != tt.want {
			t.Errorf("SignalName(%d) = %q, want %q", tt.sig, got, tt.want)
		}
	}
}

func TestSyscallName(t *testing.T) {
	if NumSyscalls != 329 {
		t.Errorf("NumSyscalls = %d, want 329 (PPM_SC_MAX of sysdig 0.29.3)", NumSyscalls)
	}
	tests := []struct {
		id   uint16
		want string
		ok   bool
	}{
		{0, "<unknown>", true},
		{1, "restart_syscall", true},
		{2, "exit", true},
		{3, "read", true},
		{4, "write", true},
		{5, "open", true},
		{133, "setuid", true},
		{305, "setuid", true}, // PPM_SC_SETUID32 is named like PPM_SC_SETUID
		{326, "copy_file_range", true},
		{328, "clone3", true},
		{329, "", false},
		{65535, "", false},
	}
	for _, tt := range tests {
		got, ok := SyscallName(tt.id)
		if got != tt.want || ok != tt.ok {
			t.Errorf("SyscallName(%d) = %q, %v; want %q, %v", tt.id, got, ok, tt.want, tt.ok)
		}
	}
}

func TestFlagTableLookup(t *testing.T) {
	all := []string{
		"socket_families", "file_flags", "flock_flags", "clone_flags", "futex_operations",
		"poll_flags", "mount_flags", "umount_flags", "lseek_whence", "shutdown_how",
		"rlimit_resources", "fcntl_commands", "sockopt_levels", "sockopt_options",
		"ptrace_requests", "prot_flags", "mmap_flags", "splice_flags", "quotactl_dqi_flags",
		"quotactl_cmds", "quotactl_types", "quotactl_quota_fmts", "semop_flags",
		"semget_flags", "semctl_commands", "access_flags", "pf_flags", "unlinkat_flags",
		"linkat_flags", "chmod_mode", "renameat2_flags", "openat2_flags", "execve_flags",
		"execveat_flags",
	}
	total := 0
	for _, name := range all {
		tab := FlagTable(name)
		if len(tab) == 0 {
			t.Errorf("FlagTable(%q) is empty", name)
		}
		total += len(tab)
	}
	if total != 398 {
		t.Errorf("the %d tables have %d entries, want 398", len(all), total)
	}
	for _, name := range []string{"", "nope", "File_flags", "bpf_commands"} {
		if tab := FlagTable(name); tab != nil {
			t.Errorf("FlagTable(%q) = %v, want nil", name, tab)
		}
	}
}

func TestFlagTableValues(t *testing.T) {
	tests := []struct {
		table string
		name  string
		value uint32
	}{
		{"file_flags", "O_NONE", 0},
		{"file_flags", "O_RDONLY", 1},
		{"file_flags", "O_WRONLY", 2},
		{"file_flags", "O_RDWR", 3},
		{"file_flags", "O_CREAT", 4},
		{"file_flags", "O_CLOEXEC", 1 << 12},
		{"file_flags", "O_TMPFILE", 1 << 13},
		{"clone_flags", "CLONE_FILES", 1},
		{"clone_flags", "CLONE_NEWCGROUP", 1 << 28},
		{"socket_families", "AF_INET6", 10},
		{"socket_families", "AF_ROUTE", 16}, // alias of AF_NETLINK
		{"socket_families", "AF_UNSPEC", 0},
		{"mmap_flags", "MAP_ANONYMOUS", 8},
		{"access_flags", "F_OK", 0},
		{"access_flags", "X_OK", 1},
		{"chmod_mode", "S_ISUID", 1 << 11},
		{"fcntl_commands", "F_GETLK64", 17}, // userspace is built without CONFIG_64BIT
		{"fcntl_commands", "UNKNOWN", 0},
		{"rlimit_resources", "RLIMIT_UNKNOWN", 255},
		{"unlinkat_flags", "AT_REMOVEDIR", 0x200},
		{"linkat_flags", "AT_EMPTY_PATH", 0x1000},
		{"execveat_flags", "AT_EMPTY_PATH", 1},
	}
	for _, tt := range tests {
		found := false
		for _, nv := range FlagTable(tt.table) {
			if nv.Name == tt.name {
				found = true
				if nv.Value != tt.value {
					t.Errorf("%s: %s = %#x, want %#x", tt.table, tt.name, nv.Value, tt.value)
				}
			}
		}
		if !found {
			t.Errorf("%s has no %s", tt.table, tt.name)
		}
	}
}

func TestFlagTableOrder(t *testing.T) {
	tests := []struct {
		table string
		names string
	}{
		{"prot_flags", "PROT_READ PROT_WRITE PROT_EXEC PROT_SEM PROT_GROWSDOWN PROT_GROWSUP PROT_SAO PROT_NONE"},
		{"access_flags", "F_OK R_OK W_OK X_OK"},
		{"lseek_whence", "SEEK_END SEEK_CUR SEEK_SET"},
		{"shutdown_how", "SHUT_RDWR SHUT_WR SHUT_RD"},
		{"file_flags", "O_LARGEFILE O_DIRECTORY O_DIRECT O_TRUNC O_SYNC O_NONBLOCK O_EXCL O_DSYNC O_APPEND O_CREAT O_RDWR O_WRONLY O_RDONLY O_CLOEXEC O_NONE O_TMPFILE"},
	}
	for _, tt := range tests {
		var names []string
		for _, nv := range FlagTable(tt.table) {
			names = append(names, nv.Name)
		}
		if got := strings.Join(names, " "); got != tt.names {
			t.Errorf("%s order:\n got %s\nwant %s", tt.table, got, tt.names)
		}
	}
	// AF_LOCAL must come before AF_UNIX (both 1): sysdig prints domain=1(AF_LOCAL).
	local, unix := -1, -1
	for i, nv := range FlagTable("socket_families") {
		switch nv.Name {
		case "AF_LOCAL":
			local = i
		case "AF_UNIX":
			unix = i
		}
	}
	if local < 0 || unix < 0 || local > unix {
		t.Errorf("socket_families: AF_LOCAL at %d, AF_UNIX at %d; want AF_LOCAL first", local, unix)
	}
}

// namesTestRender resolves v against tab the way libsinsp renders a
// PT_FLAGS*/PT_MODE parameter: walk the table in order, taking every entry
// whose bits are all still set in the remaining value, until an entry equals
// the original value, which is then taken too.
func namesTestRender(tab []NameValue, v uint32) string {
	var out []string
	rest := v
	i := 0
	for ; i < len(tab) && tab[i].Value != v; i++ {
		f := tab[i].Value
		if f != 0 && rest != 0 && rest&f == f {
			out = append(out, tab[i].Name)
			rest &^= f
		}
	}
	if i < len(tab) {
		out = append(out, tab[i].Name)
	}
	return strings.Join(out, "|")
}

// TestFlagRendering checks the tables against what sysdig 0.29.3 prints
// for the captures in /work/shared/captures.
func TestFlagRendering(t *testing.T) {
	tests := []struct {
		table string
		v     uint32
		want  string
	}{
		{"file_flags", 4097, "O_RDONLY|O_CLOEXEC"},
		{"file_flags", 1, "O_RDONLY"},
		{"file_flags", 65, "O_NONBLOCK|O_RDONLY"},
		{"file_flags", 262, "O_TRUNC|O_CREAT|O_WRONLY"},
		{"file_flags", 0, "O_NONE"},
		{"prot_flags", 3, "PROT_READ|PROT_WRITE"},
		{"prot_flags", 5, "PROT_READ|PROT_EXEC"},
		{"prot_flags", 0, "PROT_NONE"},
		{"mmap_flags", 10, "MAP_PRIVATE|MAP_ANONYMOUS"},
		{"mmap_flags", 1030, "MAP_PRIVATE|MAP_FIXED|MAP_DENYWRITE"},
		{"mmap_flags", 74, "MAP_PRIVATE|MAP_ANONYMOUS|MAP_NORESERVE"},
		{"access_flags", 0, "F_OK"},
		{"socket_families", 10, "AF_INET6"},
		{"socket_families", 2, "AF_INET"},
		{"socket_families", 1, "AF_LOCAL"},
		{"futex_operations", 129, "FUTEX_PRIVATE_FLAG|FUTEX_WAKE"},
		{"futex_operations", 128, "FUTEX_PRIVATE_FLAG"},
		{"futex_operations", 393, "FUTEX_CLOCK_REALTIME|FUTEX_PRIVATE_FLAG|FUTEX_WAIT_BITSET"},
		{"clone_flags", 41990659, "CLONE_FILES|CLONE_FS|CLONE_PARENT_SETTID|CLONE_SIGHAND|CLONE_SYSVSEM|CLONE_THREAD|CLONE_VM|CLONE_CHILD_CLEARTID|CLONE_SETTLS"},
		{"clone_flags", 47619, "CLONE_FILES|CLONE_FS|CLONE_PARENT_SETTID|CLONE_SIGHAND|CLONE_SYSVSEM|CLONE_THREAD|CLONE_VM"},
		{"shutdown_how", 1, "SHUT_WR"},
		{"fcntl_commands", 5, "F_SETFL"},
		{"fcntl_commands", 4, "F_GETFL"},
		{"fcntl_commands", 2, "F_GETFD"},
		{"rlimit_resources", 3, "RLIMIT_STACK"},
		// Enums are resolved as bit masks too, so values missing from a
		// table, or placed after their subsets, come out composite.
		{"fcntl_commands", 30, "F_SETPIPE_SZ|F_GETFD|F_OFD_GETLK"},
		{"chmod_mode", 0, ""},
	}
	for _, tt := range tests {
		if got := namesTestRender(FlagTable(tt.table), tt.v); got != tt.want {
			t.Errorf("%s %d: got %q, want %q", tt.table, tt.v, got, tt.want)
		}
	}
}

func TestNameLookupsDoNotAllocate(t *testing.T) {
	var sink int
	allocs := testing.AllocsPerRun(100, func() {
		sink += len(FlagTable("socket_families"))
		sink += len(ErrnoName(-2))
		sink += len(SignalName(9))
		n, _ := SyscallName(3)
		sink += len(n)
	})
	if allocs != 0 {
		t.Errorf("lookups allocate %v times per run", allocs)
	}
	_ = sink
}

// TestNamesGenUpToDate regenerates names_gen.go from the tables and
// compares it with the checked-in file.
func TestNamesGenUpToDate(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the generator with go run")
	}
	// go test puts its own GOROOT/bin first in PATH.
	gobin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command")
	}
	out := filepath.Join(t.TempDir(), "names_gen.go")
	cmd := exec.Command(gobin, "run", "./internal/gennames", "-dir", "tables", "-o", out)
	if msg, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("gennames: %v\n%s", err, msg)
	}
	want, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	have, err := os.ReadFile("names_gen.go")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(have, want) {
		t.Error("names_gen.go is stale: run go generate ./event")
	}
}
