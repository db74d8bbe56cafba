//go:build linux && (amd64 || arm64)

package procfs

import (
	"runtime"

	"golang.org/x/sys/unix"
)

// exeWritable tells whether the executable of process pid (exepath, inside
// the process's root) is writable by the process's effective user, as libscap
// decides it: yes if that user owns the file, else whether access(W_OK)
// succeeds with the OS thread's effective uid and gid switched to the
// process's ones. Threads of one process with the same credentials share the
// answer.
func (s *scanner) exeWritable(dfd int, pid int64, exepath string, uid, gid uint32) bool {
	key := [3]uint64{uint64(pid), uint64(uid), uint64(gid)}
	if v, ok := s.writable[key]; ok {
		return v
	}
	v := s.checkWritable(dfd, exepath, uid, gid)
	s.writable[key] = v
	return v
}

func (s *scanner) checkWritable(dfd int, exepath string, uid, gid uint32) bool {
	s.name = append(append(append(s.name[:0], "root"...), exepath...), 0)
	if fstatat(dfd, s.name, &s.st) != nil {
		return false
	}
	if s.st.Uid == uid {
		return true
	}
	path := "root" + exepath
	ok := false
	s.creds.as(uid, gid, func() {
		ok = unix.Faccessat(dfd, path, unix.W_OK, unix.AT_EACCESS) == nil
	})
	return ok
}

// credSwitcher changes the effective uid and gid of one OS thread only (the
// setresuid and setresgid system calls, not the process-wide libc and Go
// wrappers), keeping its goroutine locked to that thread meanwhile.
type credSwitcher struct {
	locked     bool
	broken     bool // the original credentials could not be restored
	euid, egid uintptr
}

const keep = ^uintptr(0) // -1: leave this id unchanged

// as runs fn with the thread's effective ids set to uid and gid, if they can
// be set, as libscap does: fn does not run when either cannot be set.
func (c *credSwitcher) as(uid, gid uint32, fn func()) {
	if c.broken || uid == ^uint32(0) || gid == ^uint32(0) {
		return
	}
	if !c.locked {
		runtime.LockOSThread()
		c.locked = true
		c.euid, c.egid = uintptr(unix.Geteuid()), uintptr(unix.Getegid())
	}
	_, _, e1 := unix.RawSyscall(unix.SYS_SETRESUID, keep, uintptr(uid), keep)
	if e1 == 0 {
		if _, _, e2 := unix.RawSyscall(unix.SYS_SETRESGID, keep, uintptr(gid), keep); e2 == 0 {
			fn()
		}
	}
	_, _, e1 = unix.RawSyscall(unix.SYS_SETRESUID, keep, c.euid, keep)
	_, _, e2 := unix.RawSyscall(unix.SYS_SETRESGID, keep, c.egid, keep)
	if e1 != 0 || e2 != 0 {
		c.broken = true
	}
}

// release unlocks the goroutine from its thread, unless the thread's
// credentials could not be restored: then the goroutine must end locked, and
// the runtime ends the thread with it.
func (c *credSwitcher) release() {
	if c.locked && !c.broken {
		runtime.UnlockOSThread()
	}
}
