//go:build linux && (amd64 || arm64)

package procfs

import (
	"encoding/binary"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/syscope/syscope/event"
	"github.com/syscope/syscope/scap"
)

// TestMain runs the helper process of TestNetNamespace when asked to.
func TestMain(m *testing.M) {
	if os.Getenv("PROCFS_TEST_HELPER") == "listen" {
		ln, err := net.Listen("tcp4", ":0")
		if err != nil {
			os.Stdout.WriteString("error " + err.Error() + "\n")
			os.Exit(1)
		}
		os.Stdout.WriteString(strconv.Itoa(ln.Addr().(*net.TCPAddr).Port) + "\n")
		var b [1]byte
		os.Stdin.Read(b[:]) // until the test closes it
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// fixture is what the test process opens before scanning, so the scan can be
// checked against it.
type fixture struct {
	dir                 string
	file, syncFile      *os.File
	dirFile             *os.File
	listener            *net.TCPListener
	client, server      *net.TCPConn
	udp                 *net.UDPConn
	pipeR, pipeW        *os.File
	pairA, pairB        int
	unixPath            string
	unixLn              *net.UnixListener
	eventfd             int
	listen6             *net.TCPListener // nil without IPv6 loopback
	fileFD, syncFD      int
	dirFD               int
	listenFD, listen6FD int
	clientFD, serverFD  int
	udpFD               int
	pipeRFD, pipeWFD    int
	unixLnFD            int
}

// sysfd returns the fd number behind a socket, without duplicating it.
func sysfd(t *testing.T, c syscall.Conn) int {
	t.Helper()
	rc, err := c.SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	var fd int
	if err := rc.Control(func(f uintptr) { fd = int(f) }); err != nil {
		t.Fatal(err)
	}
	return fd
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	f := &fixture{dir: t.TempDir()}
	var err error
	if f.file, err = os.OpenFile(filepath.Join(f.dir, "appended"), os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.file.Close() })
	f.fileFD = int(f.file.Fd())
	if f.syncFile, err = os.OpenFile(filepath.Join(f.dir, "synced"), os.O_RDWR|os.O_SYNC|os.O_CREATE, 0o600); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.syncFile.Close() })
	f.syncFD = int(f.syncFile.Fd())
	if f.dirFile, err = os.Open(f.dir); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.dirFile.Close() })
	f.dirFD = int(f.dirFile.Fd())

	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	f.listener = ln.(*net.TCPListener)
	t.Cleanup(func() { f.listener.Close() })
	f.listenFD = sysfd(t, f.listener)
	accepted := make(chan net.Conn, 1)
	go func() {
		c, err := f.listener.Accept()
		if err != nil {
			close(accepted)
			return
		}
		accepted <- c
	}()
	c, err := net.Dial("tcp4", f.listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	f.client = c.(*net.TCPConn)
	t.Cleanup(func() { f.client.Close() })
	s, ok := <-accepted
	if !ok {
		t.Fatal("accept failed")
	}
	f.server = s.(*net.TCPConn)
	t.Cleanup(func() { f.server.Close() })
	f.clientFD, f.serverFD = sysfd(t, f.client), sysfd(t, f.server)

	if f.udp, err = net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.udp.Close() })
	f.udpFD = sysfd(t, f.udp)

	if ln6, err := net.Listen("tcp6", "[::1]:0"); err == nil {
		f.listen6 = ln6.(*net.TCPListener)
		t.Cleanup(func() { f.listen6.Close() })
		f.listen6FD = sysfd(t, f.listen6)
	}

	if f.pipeR, f.pipeW, err = os.Pipe(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.pipeR.Close(); f.pipeW.Close() })
	f.pipeRFD, f.pipeWFD = int(f.pipeR.Fd()), int(f.pipeW.Fd())

	pair, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.pairA, f.pairB = pair[0], pair[1]
	t.Cleanup(func() { unix.Close(f.pairA); unix.Close(f.pairB) })

	f.unixPath = filepath.Join(f.dir, "sock")
	if f.unixLn, err = net.ListenUnix("unix", &net.UnixAddr{Name: f.unixPath, Net: "unix"}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.unixLn.Close() })
	f.unixLnFD = sysfd(t, f.unixLn)

	if f.eventfd, err = unix.Eventfd(0, unix.EFD_CLOEXEC); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { unix.Close(f.eventfd) })
	return f
}

func ip4(a, b, c, d byte) (ip [16]byte) {
	ip[0], ip[1], ip[2], ip[3] = a, b, c, d
	return ip
}

func port(t *testing.T, a net.Addr) uint16 {
	t.Helper()
	_, p, err := net.SplitHostPort(a.String())
	if err != nil {
		t.Fatal(err)
	}
	n, err := strconv.ParseUint(p, 10, 16)
	if err != nil {
		t.Fatal(err)
	}
	return uint16(n)
}

func inode(t *testing.T, fd int) uint64 {
	t.Helper()
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		t.Fatal(err)
	}
	return st.Ino
}

func TestScan(t *testing.T) {
	f := newFixture(t)
	start := time.Now()
	m, err := Scan()
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("scan: %v, %d threads, %d interfaces, %d users, %d groups",
		time.Since(start), len(m.Threads), len(m.Interfaces), len(m.Users), len(m.Groups))

	pid := int64(os.Getpid())
	var self *scap.Thread
	var others []*scap.Thread
	for i := range m.Threads {
		th := &m.Threads[i]
		switch {
		case th.Tid == pid:
			self = th
		case th.Pid == pid:
			others = append(others, th)
		}
	}
	if self == nil {
		t.Fatalf("the test process %d is not in the scan", pid)
	}
	fds := map[int64]*scap.FD{}
	for i := range self.FDs {
		fds[self.FDs[i].Num] = &self.FDs[i]
	}
	fdOf := func(t *testing.T, n int) *scap.FD {
		t.Helper()
		fd := fds[int64(n)]
		if fd == nil {
			t.Fatalf("fd %d is not in the scan", n)
		}
		return fd
	}

	exe, _ := os.Executable()
	cwd, _ := os.Getwd()
	comm := filepath.Base(os.Args[0])
	if len(comm) > 15 {
		comm = comm[:15]
	}
	var rl unix.Rlimit
	if err := unix.Getrlimit(unix.RLIMIT_NOFILE, &rl); err != nil {
		t.Fatal(err)
	}
	lport := port(t, f.listener.Addr())
	cport := port(t, f.client.LocalAddr())
	loopback := ip4(127, 0, 0, 1)

	tests := []struct {
		name  string
		check func(t *testing.T)
	}{
		{"process", func(t *testing.T) {
			want := scap.Thread{
				Tid: pid, Pid: pid, Ptid: int64(os.Getppid()), Comm: comm, Exe: os.Args[0], ExePath: exe,
				Cwd: cwd, Root: "/", UID: uint32(os.Geteuid()), GID: uint32(os.Getegid()),
				FDLimit: int64(rl.Cur), Flags: 0,
			}
			got := *self
			if got.Tid != want.Tid || got.Pid != want.Pid || got.Ptid != want.Ptid || got.Comm != want.Comm ||
				got.Exe != want.Exe || got.ExePath != want.ExePath || got.Cwd != want.Cwd || got.Root != want.Root ||
				got.UID != want.UID || got.GID != want.GID || got.FDLimit != want.FDLimit || got.Flags != want.Flags {
				t.Errorf("got  %+v\nwant %+v", summary(&got), summary(&want))
			}
			if !slices.Equal(got.Args, os.Args[1:]) {
				t.Errorf("args %q, want %q", got.Args, os.Args[1:])
			}
			if got.Sid != int64(must(unix.Getsid(0))) || got.Vpgid != int64(unix.Getpgrp()) {
				t.Errorf("sid %d vpgid %d, want %d %d", got.Sid, got.Vpgid, must(unix.Getsid(0)), unix.Getpgrp())
			}
			if got.VMSizeKB == 0 || got.VMRSSKB == 0 || got.PFMinor == 0 {
				t.Errorf("memory %d/%d kB, minor faults %d: want nonzero", got.VMSizeKB, got.VMRSSKB, got.PFMinor)
			}
			if got.Vtid == 0 || got.Vpid == 0 {
				t.Errorf("vtid %d vpid %d: want set", got.Vtid, got.Vpid)
			}
			for _, cg := range got.Cgroups {
				if c, p, ok := strings.Cut(cg, "="); !ok || subsysIndex(c) < 0 || !strings.HasPrefix(p, "/") {
					t.Errorf("cgroup %q is not controller=path", cg)
				}
			}
			if len(got.Cgroups) == 0 && hasControllers(t) {
				t.Error("no cgroups")
			}
			if env := os.Environ(); len(env) > 0 && !slices.Contains(got.Env, env[0]) {
				t.Errorf("env %q does not hold %q", got.Env, env[0])
			}
			if !got.HasLoginUID {
				t.Error("loginuid not set")
			}
			if !got.ExeWritable && got.UID == 0 {
				t.Error("root's own executable should be writable")
			}
		}},
		{"threads", func(t *testing.T) {
			if len(others) == 0 {
				t.Fatal("no other thread of the test process")
			}
			for _, th := range others {
				if th.Flags != clCloneThread|clCloneFiles || len(th.FDs) != 0 || th.Ptid != self.Ptid ||
					th.ExePath != self.ExePath || th.Vpid != self.Vpid {
					t.Errorf("thread %+v", summary(th))
				}
			}
		}},
		{"appended file", func(t *testing.T) {
			fd := fdOf(t, f.fileFD)
			want := scap.FD{Num: int64(f.fileFD), Type: scap.FDFileV2, Name: f.file.Name(),
				Ino: inode(t, f.fileFD), Flags: ppmOWronly | ppmOAppend | ppmOCloexec}
			if *fd != want {
				t.Errorf("got %+v, want %+v", *fd, want)
			}
		}},
		{"synced file", func(t *testing.T) {
			fd := fdOf(t, f.syncFD)
			// O_SYNC includes the O_DSYNC bit, so libscap reports both.
			want := ppmORdwr | ppmODsync | ppmOSync | ppmOCloexec
			if fd.Type != scap.FDFileV2 || fd.Flags != uint32(want) {
				t.Errorf("got %+v, want flags %#x", *fd, want)
			}
		}},
		{"directory", func(t *testing.T) {
			fd := fdOf(t, f.dirFD)
			if fd.Type != scap.FDDirectory || fd.Name != f.dir || fd.Ino != inode(t, f.dirFD) {
				t.Errorf("got %+v", *fd)
			}
		}},
		{"tcp listener", func(t *testing.T) {
			fd := fdOf(t, f.listenFD)
			want := scap.FD{Num: int64(f.listenFD), Ino: inode(t, f.listenFD), Type: scap.FDIPv4ServSock,
				SIP: loopback, SPort: lport, L4Proto: scap.L4TCP}
			if *fd != want {
				t.Errorf("got %+v, want %+v", *fd, want)
			}
		}},
		{"tcp client", func(t *testing.T) {
			fd := fdOf(t, f.clientFD)
			want := scap.FD{Num: int64(f.clientFD), Ino: inode(t, f.clientFD), Type: scap.FDIPv4Sock,
				SIP: loopback, SPort: cport, DIP: loopback, DPort: lport, L4Proto: scap.L4TCP}
			if *fd != want {
				t.Errorf("got %+v, want %+v", *fd, want)
			}
		}},
		{"tcp accepted", func(t *testing.T) {
			fd := fdOf(t, f.serverFD)
			want := scap.FD{Num: int64(f.serverFD), Ino: inode(t, f.serverFD), Type: scap.FDIPv4Sock,
				SIP: loopback, SPort: lport, DIP: loopback, DPort: cport, L4Proto: scap.L4TCP}
			if *fd != want {
				t.Errorf("got %+v, want %+v", *fd, want)
			}
		}},
		{"udp", func(t *testing.T) {
			fd := fdOf(t, f.udpFD)
			if fd.Type != scap.FDIPv4ServSock || fd.L4Proto != scap.L4UDP || fd.SIP != loopback ||
				fd.SPort != port(t, f.udp.LocalAddr()) {
				t.Errorf("got %+v", *fd)
			}
		}},
		{"tcp6 listener", func(t *testing.T) {
			if f.listen6 == nil {
				t.Skip("no IPv6 loopback")
			}
			fd := fdOf(t, f.listen6FD)
			var ip [16]byte
			ip[15] = 1
			if fd.Type != scap.FDIPv6ServSock || fd.L4Proto != scap.L4TCP || fd.SIP != ip ||
				fd.SPort != port(t, f.listen6.Addr()) {
				t.Errorf("got %+v", *fd)
			}
		}},
		{"pipe", func(t *testing.T) {
			for _, n := range []int{f.pipeRFD, f.pipeWFD} {
				fd := fdOf(t, n)
				ino := inode(t, n)
				if fd.Type != scap.FDFifo || fd.Ino != ino || fd.Name != "pipe:["+strconv.FormatUint(ino, 10)+"]" {
					t.Errorf("fd %d: got %+v", n, *fd)
				}
			}
		}},
		{"socketpair", func(t *testing.T) {
			a, b := fdOf(t, f.pairA), fdOf(t, f.pairB)
			for _, fd := range []*scap.FD{a, b} {
				if fd.Type != scap.FDUnixSock || fd.Name != "" || fd.Dest != 0 || fd.Ino != inode(t, int(fd.Num)) {
					t.Errorf("got %+v", *fd)
				}
			}
			if a.Source == b.Source && a.Source != 0 {
				t.Errorf("both ends have address %#x", a.Source)
			}
		}},
		{"unix listener", func(t *testing.T) {
			fd := fdOf(t, f.unixLnFD)
			if fd.Type != scap.FDUnixSock || fd.Name != f.unixPath {
				t.Errorf("got %+v, want path %q", *fd, f.unixPath)
			}
		}},
		{"eventfd", func(t *testing.T) {
			fd := fdOf(t, f.eventfd)
			if fd.Type != scap.FDEvent || fd.Name != "" {
				t.Errorf("got %+v", *fd)
			}
		}},
		{"users", func(t *testing.T) {
			i := slices.IndexFunc(m.Users, func(u scap.User) bool { return u.UID == 0 })
			if i < 0 || m.Users[i].Name != "root" || m.Users[i].HomeDir == "" {
				t.Fatalf("no root user in %+v", m.Users)
			}
			if !slices.ContainsFunc(m.Groups, func(g scap.Group) bool { return g.GID == 0 && g.Name == "root" }) {
				t.Errorf("no root group in %+v", m.Groups)
			}
		}},
		{"machine", func(t *testing.T) {
			mi := m.Machine
			host, _ := os.Hostname()
			if mi.NumCPUs == 0 || mi.MemoryBytes == 0 || mi.Hostname != host || mi.MaxPID == 0 ||
				mi.BootTS == 0 || mi.BootTS > uint64(time.Now().UnixNano()) {
				t.Errorf("got %+v", *mi)
			}
		}},
		{"interfaces", func(t *testing.T) {
			want := scap.Interface{Name: "lo", Addr: loopback, Netmask: ip4(255, 0, 0, 0), Bcast: loopback, HasSpeed: true}
			if !slices.Contains(m.Interfaces, want) {
				t.Errorf("no %+v in %+v", want, m.Interfaces)
			}
			// IPv4 addresses come before IPv6 ones.
			if i := slices.IndexFunc(m.Interfaces, func(it scap.Interface) bool { return it.IPv6 }); i >= 0 &&
				slices.ContainsFunc(m.Interfaces[i:], func(it scap.Interface) bool { return !it.IPv6 }) {
				t.Errorf("IPv4 after IPv6: %+v", m.Interfaces)
			}
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, tc.check)
	}

	// The round trip: written as a capture, the tables are what a reader gets.
	t.Run("roundtrip", func(t *testing.T) { roundTrip(t, m, f) })
}

// hasControllers tells whether the test process is in cgroups the driver
// would list: a v1 controller, or controllers at the v2 root.
func hasControllers(t *testing.T) bool {
	b, err := os.ReadFile("/proc/self/cgroup")
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.SplitN(line, ":", 3); len(f) == 3 && f[1] != "" && !strings.HasPrefix(f[1], "name=") {
			return true
		}
	}
	c, _ := os.ReadFile("/sys/fs/cgroup/cgroup.controllers")
	return len(strings.Fields(string(c))) > 0
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

// summary is a thread without its fds and environment, for messages.
func summary(t *scap.Thread) scap.Thread {
	s := *t
	s.FDs, s.Env = nil, nil
	return s
}

// roundTrip writes m to a capture with one close event per interesting fd of
// the test process (sysdig reads no capture without events), reads it back,
// and has sysdig 0.29.3 print what it resolves from the tables.
func roundTrip(t *testing.T, m *scap.Metadata, f *fixture) {
	path := filepath.Join(t.TempDir(), "scan.scap")
	w, err := scap.Create(path, false, m)
	if err != nil {
		t.Fatal(err)
	}
	pid := int64(os.Getpid())
	closed := []int{f.fileFD, f.dirFD, f.listenFD, f.clientFD, f.pipeRFD, f.unixLnFD}
	ts := uint64(time.Now().UnixNano())
	for i, fd := range closed {
		data := binary.LittleEndian.AppendUint64(nil, uint64(fd))
		ev := &scap.Event{Ts: ts + uint64(i), Tid: pid, Type: event.SyscallCloseE, NParams: 1,
			Lens: []uint32{8}, Data: data}
		if err := w.WriteEvent(ev); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}

	r, err := scap.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	back := r.Metadata()
	r.Close()
	if len(back.Threads) != len(m.Threads) || len(back.Users) != len(m.Users) ||
		len(back.Groups) != len(m.Groups) || len(back.Interfaces) != len(m.Interfaces) {
		t.Errorf("read back %d threads %d users %d groups %d interfaces, wrote %d %d %d %d",
			len(back.Threads), len(back.Users), len(back.Groups), len(back.Interfaces),
			len(m.Threads), len(m.Users), len(m.Groups), len(m.Interfaces))
	}

	sysdig, err := exec.LookPath("sysdig")
	if err != nil {
		t.Skip("sysdig is not installed: the capture is not checked against sysdig 0.29.3")
	}
	out, err := exec.Command(sysdig, "-r", path, "-p", "%proc.name").CombinedOutput()
	if err != nil {
		t.Fatalf("sysdig -r: %v\n%s", err, out)
	}
	out, err = exec.Command(sysdig, "-r", path, "-p", "%proc.name|%proc.exepath|%proc.cwd|%user.name|%fd.num|%fd.type|%fd.name").CombinedOutput()
	if err != nil {
		t.Fatalf("sysdig -r: %v\n%s", err, out)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	if len(lines) != len(closed) {
		t.Fatalf("sysdig printed %d lines, want %d:\n%s", len(lines), len(closed), out)
	}
	self := m.Threads[slices.IndexFunc(m.Threads, func(th scap.Thread) bool { return th.Tid == pid })]
	cwd := self.Cwd
	if !strings.HasSuffix(cwd, "/") {
		cwd += "/"
	}
	user := m.Users[slices.IndexFunc(m.Users, func(u scap.User) bool { return u.UID == self.UID })].Name
	prefix := strings.Join([]string{self.Comm, self.ExePath, cwd, user}, "|") + "|"
	lport, cport := port(t, f.listener.Addr()), port(t, f.client.LocalAddr())
	want := []string{
		strconv.Itoa(f.fileFD) + "|file|" + f.file.Name(),
		strconv.Itoa(f.dirFD) + "|directory|" + f.dir,
		strconv.Itoa(f.listenFD) + "|ipv4|127.0.0.1:" + strconv.Itoa(int(lport)),
		strconv.Itoa(f.clientFD) + "|ipv4|127.0.0.1:" + strconv.Itoa(int(cport)) + "->127.0.0.1:" + strconv.Itoa(int(lport)),
		strconv.Itoa(f.pipeRFD) + "|pipe|pipe:[" + strconv.FormatUint(inode(t, f.pipeRFD), 10) + "]",
		strconv.Itoa(f.unixLnFD) + "|unix|" + f.unixPath,
	}
	for i, line := range lines {
		rest, ok := strings.CutPrefix(line, prefix)
		if !ok || !strings.HasPrefix(rest, want[i]) {
			t.Errorf("sysdig line %d:\n got  %s\n want %s%s", i, line, prefix, want[i])
		}
	}
	t.Logf("sysdig output:\n%s", out)
}

func TestOpenFlags(t *testing.T) {
	tests := []struct {
		name  string
		flags uint64
		want  uint32
	}{
		{"rdonly", unix.O_RDONLY, ppmORdonly},
		{"wronly largefile", unix.O_WRONLY | unix.O_LARGEFILE, ppmOWronly},
		{"rdwr cloexec", unix.O_RDWR | unix.O_CLOEXEC, ppmORdwr | ppmOCloexec},
		{"append nonblock", unix.O_WRONLY | unix.O_APPEND | unix.O_NONBLOCK, ppmOWronly | ppmOAppend | ppmONonblock},
		{"dsync only", unix.O_DSYNC, ppmORdonly | ppmODsync | ppmOSync},
		{"sync", unix.O_SYNC, ppmORdonly | ppmODsync | ppmOSync},
		{"directory", unix.O_DIRECTORY, ppmORdonly | ppmODirectory | ppmOTmpfile},
		{"tmpfile", unix.O_TMPFILE | unix.O_RDWR, ppmORdwr | ppmODirectory | ppmOTmpfile},
		{"creat excl trunc direct", unix.O_CREAT | unix.O_EXCL | unix.O_TRUNC | unix.O_DIRECT,
			ppmORdonly | ppmOCreat | ppmOExcl | ppmOTrunc | ppmODirect},
		{"both access bits", unix.O_WRONLY | unix.O_RDWR, ppmORdonly},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := scapOpenFlags(tc.flags); got != tc.want {
				t.Errorf("scapOpenFlags(%#o) = %#x, want %#x", tc.flags, got, tc.want)
			}
		})
	}
}

func TestOptions(t *testing.T) {
	etc := t.TempDir()
	passwd := "# comment\n\nroot:x:0:0:root:/root:/bin/bash\nbad:x:notanumber:0::/:/bin/sh\nalice:x:1000:1000:Alice:/home/alice:/bin/zsh\n"
	group := "root:x:0:\nusers:x:100:alice,bob\nbroken\n"
	if err := os.WriteFile(filepath.Join(etc, "passwd"), []byte(passwd), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(etc, "group"), []byte(group), 0o644); err != nil {
		t.Fatal(err)
	}
	procLink := filepath.Join(etc, "proc")
	if err := os.Symlink("/proc", procLink); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name  string
		opts  []Option
		check func(t *testing.T, m *scap.Metadata, err error)
	}{
		{"hostname", []Option{WithHostname("test-host")}, func(t *testing.T, m *scap.Metadata, err error) {
			if err != nil || m.Machine.Hostname != "test-host" {
				t.Errorf("err %v, hostname %q", err, m.Machine.Hostname)
			}
		}},
		{"etc root", []Option{WithEtcRoot(etc)}, func(t *testing.T, m *scap.Metadata, err error) {
			wantU := []scap.User{
				{UID: 0, GID: 0, Name: "root", HomeDir: "/root", Shell: "/bin/bash"},
				{UID: 1000, GID: 1000, Name: "alice", HomeDir: "/home/alice", Shell: "/bin/zsh"},
			}
			wantG := []scap.Group{{GID: 0, Name: "root"}, {GID: 100, Name: "users"}}
			if err != nil || !slices.Equal(m.Users, wantU) || !slices.Equal(m.Groups, wantG) {
				t.Errorf("err %v\nusers %+v\ngroups %+v", err, m.Users, m.Groups)
			}
		}},
		{"missing etc", []Option{WithEtcRoot(filepath.Join(etc, "none"))}, func(t *testing.T, m *scap.Metadata, err error) {
			if err != nil || len(m.Users) != 0 || len(m.Groups) != 0 {
				t.Errorf("err %v, %d users, %d groups", err, len(m.Users), len(m.Groups))
			}
		}},
		{"proc root", []Option{WithProcRoot("/proc/")}, func(t *testing.T, m *scap.Metadata, err error) {
			if err != nil || !slices.ContainsFunc(m.Threads, func(th scap.Thread) bool { return th.Tid == int64(os.Getpid()) }) {
				t.Errorf("err %v, or the test process is missing", err)
			}
		}},
		{"proc root elsewhere", []Option{WithProcRoot(procLink)}, func(t *testing.T, m *scap.Metadata, err error) {
			// Not our own /proc: the fd limit comes from the limits file.
			var rl unix.Rlimit
			if err := unix.Getrlimit(unix.RLIMIT_NOFILE, &rl); err != nil {
				t.Fatal(err)
			}
			i := slices.IndexFunc(m.Threads, func(th scap.Thread) bool { return th.Tid == int64(os.Getpid()) })
			if err != nil || i < 0 || m.Threads[i].FDLimit != int64(rl.Cur) || m.Machine.MaxPID == 0 {
				t.Errorf("err %v, index %d", err, i)
			}
		}},
		{"missing proc root", []Option{WithProcRoot(filepath.Join(etc, "none"))}, func(t *testing.T, m *scap.Metadata, err error) {
			if err == nil {
				t.Error("no error")
			}
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m, err := Scan(tc.opts...)
			tc.check(t, m, err)
		})
	}
}

// TestVanishing scans while processes start and exit: none may fail the scan
// or leave a half-read entry behind.
func TestVanishing(t *testing.T) {
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			select {
			case <-stop:
				return
			default:
			}
			cmd := exec.Command("/bin/true")
			_ = cmd.Run()
		}
	}()
	defer func() { close(stop); <-done }()
	for range 20 {
		m, err := Scan()
		if err != nil {
			t.Fatal(err)
		}
		seen := map[int64]bool{}
		for i := range m.Threads {
			th := &m.Threads[i]
			if th.Pid <= 0 || th.Tid <= 0 || seen[th.Tid] {
				t.Errorf("half-read or repeated thread %+v", summary(th))
			}
			seen[th.Tid] = true
		}
	}
}

func TestParseTables(t *testing.T) {
	tcp := "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n" +
		"   0: 0100007F:0035 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 111 1 0000000000000000 100 0 0 10 0\n" +
		"   1: 0100007F:9C40 0100007F:0035 01 00000000:00000000 00:00000000 00000000     0        0 222 1 0000000000000000 20 4 30 10 -1\n" +
		"   2: garbage\n"
	tcp6 := "  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n" +
		"   0: 00000000000000000000000001000000:0016 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 333 1 0000000000000000 100 0 0 10 0\n" +
		"   1: 0000000000000000FFFF00000100007F:0016 0000000000000000FFFF00000200007F:D431 01 00000000:00000000 00:00000000 00000000     0        0 444 1 0000000000000000 100 0 0 10 0\n"
	unixT := "Num       RefCount Protocol Flags    Type St Inode Path\n" +
		"ffff8880045a1c00: 00000002 00000000 00010000 0001 01 555 /run/x.sock\n" +
		"ffff8880045a2000: 00000003 00000000 00000000 0001 03 666\n" +
		"0000000032f6c323: 00000002 00000000 00010000 0001 01 777 @abstract\n"
	netlink := "sk               Eth Pid        Groups   Rmem     Wmem     Dump  Locks    Drops    Inode\n" +
		"00000000571d13a9 0   0          00000000 0        0        0     2        0        888\n"
	m := map[uint64]scap.FD{}
	parseInet([]byte(tcp), scap.L4TCP, false, m)
	parseInet([]byte(tcp6), scap.L4TCP, true, m)
	parseUnix([]byte(unixT), m)
	parseNetlink([]byte(netlink), m)

	tests := []struct {
		ino  uint64
		want scap.FD
	}{
		{111, scap.FD{Type: scap.FDIPv4ServSock, SIP: ip4(127, 0, 0, 1), SPort: 53, L4Proto: scap.L4TCP}},
		{222, scap.FD{Type: scap.FDIPv4Sock, SIP: ip4(127, 0, 0, 1), SPort: 40000, DIP: ip4(127, 0, 0, 1), DPort: 53, L4Proto: scap.L4TCP}},
		{333, scap.FD{Type: scap.FDIPv6ServSock, SIP: [16]byte{15: 1}, SPort: 22, L4Proto: scap.L4TCP}},
		{444, scap.FD{Type: scap.FDIPv6Sock, SIP: [16]byte{10: 0xff, 11: 0xff, 12: 127, 15: 1}, SPort: 22,
			DIP: [16]byte{10: 0xff, 11: 0xff, 12: 127, 15: 2}, DPort: 0xD431, L4Proto: scap.L4TCP}},
		{555, scap.FD{Type: scap.FDUnixSock, Source: 0xffff8880045a1c00, Name: "/run/x.sock"}},
		{666, scap.FD{Type: scap.FDUnixSock, Source: 0xffff8880045a2000}},
		{777, scap.FD{Type: scap.FDUnixSock, Source: 0x32f6c323, Name: "@abstract"}},
		{888, scap.FD{Type: scap.FDUnixSock}},
	}
	for _, tc := range tests {
		t.Run(strconv.FormatUint(tc.ino, 10), func(t *testing.T) {
			if got, ok := m[tc.ino]; !ok || got != tc.want {
				t.Errorf("got %+v (%v), want %+v", got, ok, tc.want)
			}
		})
	}
	if len(m) != len(tests) {
		t.Errorf("%d sockets, want %d", len(m), len(tests))
	}
}

func TestParseProcFiles(t *testing.T) {
	status := "Name:\tWeb Content\nUmask:\t0022\nState:\tS (sleeping)\nTgid:\t4242\nNgid:\t0\nPid:\t4243\nPPid:\t1\n" +
		"TracerPid:\t0\nUid:\t1000\t1001\t1000\t1000\nGid:\t100\t101\t100\t100\nFDSize:\t64\nGroups:\t100\n" +
		"NStgid:\t4242\t7\nNSpid:\t4243\t8\nNSpgid:\t4200\t1\nNSsid:\t4200\t1\nVmPeak:\t  10 kB\nVmSize:\t  2048 kB\n" +
		"VmRSS:\t  512 kB\nVmSwap:\t  16 kB\n"
	stat := "4243 (a) b) c) S 1 4200 4100 34816 4200 4194304 777 0 9 0 0"
	var th scap.Thread
	th.Tid = 4243
	var vpgid int64
	parseStatus([]byte(status), &th, &vpgid)
	pgid, ok := parseStat([]byte(stat), &th)
	want := scap.Thread{Tid: 4243, Pid: 4242, Ptid: 1, Comm: "Web", UID: 1001, GID: 101, VMSizeKB: 2048,
		VMRSSKB: 512, VMSwapKB: 16, Vtid: 8, Vpid: 7, Sid: 4100, PFMinor: 777, PFMajor: 9}
	if !ok || pgid != 4200 || vpgid != 1 || !equalThread(th, want) {
		t.Errorf("got %+v pgid %d vpgid %d ok %v\nwant %+v", th, pgid, vpgid, ok, want)
	}

	// Outside any child pid namespace, the virtual ids are the global ones.
	th = scap.Thread{Tid: 10}
	vpgid = 0
	parseStatus([]byte("Name:\tx\nTgid:\t9\nNStgid:\t9\nNSpid:\t10\nNSpgid:\t9\n"), &th, &vpgid)
	if th.Vtid != 10 || th.Vpid != 9 || vpgid != 0 {
		t.Errorf("got vtid %d vpid %d vpgid %d", th.Vtid, th.Vpid, vpgid)
	}

	for _, tc := range []struct {
		in   string
		want []string
	}{
		{"", nil},
		{"a\x00b\x00", []string{"a", "b"}},
		{"a\x00\x00", []string{"a", ""}},
		{"unterminated", []string{"unterminated"}},
	} {
		if got := splitNul([]byte(tc.in)); !slices.Equal(got, tc.want) {
			t.Errorf("splitNul(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func equalThread(a, b scap.Thread) bool {
	return a.Tid == b.Tid && a.Pid == b.Pid && a.Ptid == b.Ptid && a.Comm == b.Comm && a.UID == b.UID &&
		a.GID == b.GID && a.VMSizeKB == b.VMSizeKB && a.VMRSSKB == b.VMRSSKB && a.VMSwapKB == b.VMSwapKB &&
		a.Vtid == b.Vtid && a.Vpid == b.Vpid && a.Sid == b.Sid && a.PFMinor == b.PFMinor && a.PFMajor == b.PFMajor
}

func TestCgroups(t *testing.T) {
	sh := &shared{}
	sh.ctrlOnce.Do(func() { sh.ctrls = []string{"cpuset", "cpu", "io", "memory", "pids"} })
	s := newScanner(sh)
	tests := []struct {
		name, in string
		want     []string
	}{
		{"v1", "9:name=systemd:/\n8:pids:/p\n7:blkio:/b\n4:memory:/m\n2:cpu,cpuacct:/c\n1:cpuset:/\n0::/\n",
			[]string{"cpuset=/", "cpu=/c", "cpuacct=/c", "io=/b", "memory=/m", "pids=/p"}},
		{"v2", "0::/user.slice/a.scope\n",
			[]string{"cpuset=/user.slice/a.scope", "cpu=/user.slice/a.scope", "io=/user.slice/a.scope",
				"memory=/user.slice/a.scope", "pids=/user.slice/a.scope"}},
		{"empty", "", nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := s.formatCgroups([]byte(tc.in))
			if !slices.Equal(got, tc.want) {
				t.Errorf("got %q, want %q", got, tc.want)
			}
			// A second lookup comes from the cache.
			if again := s.formatCgroups([]byte(tc.in)); !slices.Equal(again, got) {
				t.Errorf("cached %q", again)
			}
		})
	}
}

func BenchmarkScan(b *testing.B) {
	for b.Loop() {
		if _, err := Scan(); err != nil {
			b.Fatal(err)
		}
	}
}

// TestLeftOut checks that kernel threads and zombies are not in the scan, as
// libscap leaves them out.
func TestLeftOut(t *testing.T) {
	zombie := exec.Command("/bin/true")
	if err := zombie.Start(); err != nil {
		t.Fatal(err)
	}
	defer zombie.Wait()
	zpid := zombie.Process.Pid
	for deadline := time.Now().Add(5 * time.Second); ; {
		b, err := os.ReadFile("/proc/" + strconv.Itoa(zpid) + "/stat")
		if err != nil {
			t.Fatal(err)
		}
		if f := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+1:])); f[0] == "Z" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the child did not become a zombie")
		}
		time.Sleep(5 * time.Millisecond)
	}
	m, err := Scan()
	if err != nil {
		t.Fatal(err)
	}
	const pfKthread = 0x00200000
	for i := range m.Threads {
		th := &m.Threads[i]
		if th.Pid == int64(zpid) {
			t.Errorf("zombie %d is in the scan: %+v", zpid, summary(th))
		}
		b, err := os.ReadFile("/proc/" + strconv.FormatInt(th.Pid, 10) + "/stat")
		if err != nil {
			continue // gone since
		}
		f := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+1:]))
		if flags, _ := strconv.ParseUint(f[7], 10, 64); flags&pfKthread != 0 {
			t.Errorf("kernel thread %d (%s) is in the scan", th.Pid, th.Comm)
		}
	}
}

// TestExeWritable runs a program as another user and checks exe_writable as
// libscap computes it: access(W_OK) with the effective uid and gid switched
// to the process's, which a root scanner can do for its own gid (0) only.
func TestExeWritable(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to run a program as another user")
	}
	dir := t.TempDir()
	// The other user must reach the programs.
	for _, d := range []string{filepath.Dir(dir), dir} {
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	src, err := os.ReadFile("/bin/sleep")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		mode     os.FileMode
		uid, gid uint32
		want     bool
	}{
		{"owner", 0o755, 0, 0, true},
		{"world-writable, gid 0", 0o777, 65534, 0, true},
		{"read-only, gid 0", 0o755, 65534, 0, false},
		{"group-writable, gid 0", 0o775, 65534, 0, true},
		// With its own uid set, the scanner may not take another gid.
		{"world-writable, other gid", 0o777, 65534, 65534, false},
	}
	type run struct {
		pid  int
		want bool
	}
	var runs []run
	for i, tc := range tests {
		path := filepath.Join(dir, "sleep"+strconv.Itoa(i))
		if err := os.WriteFile(path, src, tc.mode); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(path, tc.mode); err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command(path, "30")
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: tc.uid, Gid: tc.gid}}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
		runs = append(runs, run{cmd.Process.Pid, tc.want})
	}
	// Wait for the execs to be done.
	for _, r := range runs {
		for deadline := time.Now().Add(5 * time.Second); ; {
			if l, err := os.Readlink("/proc/" + strconv.Itoa(r.pid) + "/exe"); err == nil && strings.HasPrefix(l, dir) {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("process %d did not exec", r.pid)
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
	m, err := Scan()
	if err != nil {
		t.Fatal(err)
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			j := slices.IndexFunc(m.Threads, func(th scap.Thread) bool { return th.Tid == int64(runs[i].pid) })
			if j < 0 {
				t.Fatalf("process %d is not in the scan", runs[i].pid)
			}
			if th := m.Threads[j]; th.ExeWritable != tc.want || th.UID != tc.uid || th.GID != tc.gid {
				t.Errorf("exe_writable %v uid %d gid %d, want %v", th.ExeWritable, th.UID, th.GID, tc.want)
			}
		})
	}
	// The scan restored the credentials of every thread it changed.
	tasks, err := os.ReadDir("/proc/self/task")
	if err != nil {
		t.Fatal(err)
	}
	for _, task := range tasks {
		b, err := os.ReadFile("/proc/self/task/" + task.Name() + "/status")
		if err != nil {
			continue
		}
		for _, line := range strings.Split(string(b), "\n") {
			if strings.HasPrefix(line, "Uid:") || strings.HasPrefix(line, "Gid:") {
				if f := strings.Fields(line); f[1] != "0" || f[2] != "0" || f[3] != "0" {
					t.Errorf("thread %s: %s", task.Name(), line)
				}
			}
		}
	}
}

// TestNetNamespace checks that sockets are resolved in the network namespace
// of their process, each namespace's tables read once: a helper listening in
// a namespace of its own has its socket, which the host's tables do not list.
func TestNetNamespace(t *testing.T) {
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "PROCFS_TEST_HELPER=listen")
	cmd.SysProcAttr = &syscall.SysProcAttr{Cloneflags: syscall.CLONE_NEWNET}
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Skipf("cannot start a process in a new network namespace: %v", err)
	}
	defer func() { stdin.Close(); cmd.Wait() }()
	var line [64]byte
	n, _ := stdout.Read(line[:])
	p, err := strconv.Atoi(strings.TrimSpace(string(line[:n])))
	if err != nil {
		t.Fatalf("helper: %q", line[:n])
	}

	m, err := Scan()
	if err != nil {
		t.Fatal(err)
	}
	i := slices.IndexFunc(m.Threads, func(th scap.Thread) bool { return th.Tid == int64(cmd.Process.Pid) })
	if i < 0 {
		t.Fatalf("helper %d is not in the scan", cmd.Process.Pid)
	}
	if !slices.ContainsFunc(m.Threads[i].FDs, func(fd scap.FD) bool {
		return fd.Type == scap.FDIPv4ServSock && fd.SPort == uint16(p) && fd.L4Proto == scap.L4TCP
	}) {
		t.Errorf("the helper's listening socket on port %d is not among its fds %+v", p, m.Threads[i].FDs)
	}

	// One table per namespace, shared by the processes in it, read as far as
	// lookups need.
	var ino uint64
	for _, fd := range m.Threads[i].FDs {
		if fd.SPort == uint16(p) {
			ino = fd.Ino
		}
	}
	rootfd, err := unix.Open("/proc", unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(rootfd)
	sh := &shared{rootfd: rootfd, nets: map[uint64]*netTable{}}
	s := newScanner(sh)
	dirOf := func(pid int) int {
		dfd, err := openat(rootfd, cname(strconv.Itoa(pid)), unix.O_PATH|unix.O_DIRECTORY)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { unix.Close(dfd) })
		return dfd
	}
	selfDir, helperDir := dirOf(os.Getpid()), dirOf(cmd.Process.Pid)
	self, _ := s.netTableOf(selfDir)
	self2, _ := s.netTableOf(selfDir)
	helper, _ := s.netTableOf(helperDir)
	if self != self2 || self == helper || len(sh.nets) != 2 {
		t.Errorf("tables: self %p, again %p, helper %p, %d namespaces", self, self2, helper, len(sh.nets))
	}
	if fd, ok := s.socket(helper, helperDir, ino); !ok || fd.SPort != uint16(p) {
		t.Errorf("helper's socket %d: %+v %v", ino, fd, ok)
	}
	if fd, ok := s.socket(self, selfDir, ino); ok {
		t.Errorf("the helper's socket %d is in the host's tables: %+v", ino, fd)
	}
	if self.next != len(netFiles) {
		t.Errorf("a miss read %d of the %d tables", self.next, len(netFiles))
	}
	// Each table is read once: a socket made after the namespace's tables
	// were all read is not found.
	late := must(net.Listen("tcp4", "127.0.0.1:0")).(*net.TCPListener)
	defer late.Close()
	if _, ok := s.socket(self, selfDir, inode(t, sysfd(t, late))); ok {
		t.Error("a socket made after the tables were read is found")
	}
}
