// Package nsenter runs a command inside the namespaces of another process:
// what `nsenter -t PID -n …` does, for `syscope enter`.
//
// Go programs are multi-threaded, and setns(2) changes only the calling
// thread. The command is therefore started from one locked OS thread that
// has joined the target's namespaces: the child inherits that thread's
// namespaces (network, UTS, IPC, mount; for PID, setns sets the namespace of
// the thread's children, which is what the child is). Joining a mount
// namespace needs a thread that does not share its filesystem attributes with
// the others, so the thread first unshares them (CLONE_FS). The thread is
// never returned to the Go scheduler: it exits with its goroutine.
package nsenter

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"syscall"

	"golang.org/x/sys/unix"
)

// Kind is one namespace type, by its name under /proc/PID/ns.
type Kind string

// The namespaces Run can join.
const (
	Net   Kind = "net"
	Mount Kind = "mnt"
	PID   Kind = "pid"
	UTS   Kind = "uts"
	IPC   Kind = "ipc"
)

// order is the order in which namespaces are joined: the mount namespace last,
// since after it /proc may be another one (the files are opened first anyway).
var order = []Kind{IPC, UTS, Net, PID, Mount}

var nstype = map[Kind]int{
	Net: unix.CLONE_NEWNET, Mount: unix.CLONE_NEWNS, PID: unix.CLONE_NEWPID,
	UTS: unix.CLONE_NEWUTS, IPC: unix.CLONE_NEWIPC,
}

// Command is a command to run in the namespaces of process Target.
type Command struct {
	Target int    // host pid whose namespaces to join
	Kinds  []Kind // namespaces to join
	Argv   []string
	Env    []string // nil: this process's environment
	Dir    string   // working directory inside the namespaces ("" = / when the mount namespace is joined, else the current one)

	Stdin          *os.File
	Stdout, Stderr *os.File
}

// Run runs c and returns its exit code. An error means the command did not
// run (or could not be waited for); the command's own failure is only a
// non-zero code. A command killed by a signal gives 128+signal, as shells do.
func Run(c Command) (int, error) {
	if len(c.Argv) == 0 {
		return 0, errors.New("no command given")
	}
	// Open every namespace before joining any: after the mount namespace
	// changes, /proc/PID may no longer be the target's.
	fds := make(map[Kind]int, len(c.Kinds))
	defer func() {
		for _, fd := range fds {
			unix.Close(fd)
		}
	}()
	for _, k := range c.Kinds {
		if _, ok := nstype[k]; !ok {
			return 0, fmt.Errorf("unknown namespace %q", k)
		}
		p := fmt.Sprintf("/proc/%d/ns/%s", c.Target, k)
		fd, err := unix.Open(p, unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			if errors.Is(err, unix.ENOENT) || errors.Is(err, unix.ESRCH) {
				return 0, fmt.Errorf("process %d is gone (the container stopped?)", c.Target)
			}
			return 0, fmt.Errorf("open %s: %w", p, err)
		}
		fds[k] = fd
	}

	type result struct {
		code int
		err  error
	}
	done := make(chan result, 1)
	go func() {
		// Never unlocked: the thread's namespaces differ from the other
		// threads', so it must not run other goroutines; it exits with
		// this one.
		runtime.LockOSThread()
		code, err := runOnThread(c, fds)
		done <- result{code, err}
	}()
	r := <-done
	return r.code, r.err
}

func runOnThread(c Command, fds map[Kind]int) (int, error) {
	if _, ok := fds[Mount]; ok {
		if err := unix.Unshare(unix.CLONE_FS); err != nil {
			return 0, fmt.Errorf("unshare(CLONE_FS): %w", err)
		}
	}
	for _, k := range order {
		fd, ok := fds[k]
		if !ok {
			continue
		}
		if err := unix.Setns(fd, nstype[k]); err != nil {
			if errors.Is(err, unix.EPERM) {
				return 0, fmt.Errorf("join the %s namespace of process %d: %w (run as root, or with CAP_SYS_ADMIN)", k, c.Target, err)
			}
			return 0, fmt.Errorf("join the %s namespace of process %d: %w", k, c.Target, err)
		}
	}
	dir := c.Dir
	if _, ok := fds[Mount]; ok && dir == "" {
		dir = "/"
	}
	if dir != "" {
		if err := unix.Chdir(dir); err != nil {
			return 0, fmt.Errorf("chdir %s: %w", dir, err)
		}
	}
	// The lookup runs on this thread, so it sees the joined mount namespace.
	cmd := exec.Command(c.Argv[0], c.Argv[1:]...)
	cmd.Env = c.Env
	cmd.Stdin, cmd.Stdout, cmd.Stderr = c.Stdin, c.Stdout, c.Stderr
	if err := cmd.Start(); err != nil {
		return 0, err
	}
	err := cmd.Wait()
	if err == nil {
		return 0, nil
	}
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			return 128 + int(ws.Signal()), nil
		}
		return ee.ExitCode(), nil
	}
	return 0, err
}
