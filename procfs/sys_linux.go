//go:build linux && (amd64 || arm64)

package procfs

import (
	"errors"
	"unsafe"

	"golang.org/x/sys/unix"
)

// The file system calls of the scan take NUL-terminated names from reused
// buffers, relative to directory descriptors, so that walking fds does not
// allocate a C string per call.

// cname returns name as a NUL-terminated byte slice, for constant names.
func cname(name string) []byte { return append([]byte(name), 0) }

// Names under a process directory.
var (
	nStatus   = cname("status")
	nStat     = cname("stat")
	nCmdline  = cname("cmdline")
	nEnviron  = cname("environ")
	nCgroup   = cname("cgroup")
	nLoginuid = cname("loginuid")
	nLimits   = cname("limits")
	nExe      = cname("exe")
	nCwd      = cname("cwd")
	nRoot     = cname("root")
	nFd       = cname("fd")
	nTask     = cname("task")
	nNsNet    = cname("ns/net")
)

func openat(dirfd int, name []byte, flags int) (int, error) {
	fd, _, e := unix.Syscall6(unix.SYS_OPENAT, uintptr(dirfd), uintptr(unsafe.Pointer(&name[0])),
		uintptr(flags|unix.O_CLOEXEC), 0, 0, 0)
	if e != 0 {
		return -1, e
	}
	return int(fd), nil
}

// readlinkat reads the link name into buf and returns the part filled.
func readlinkat(dirfd int, name []byte, buf []byte) ([]byte, error) {
	n, _, e := unix.Syscall6(unix.SYS_READLINKAT, uintptr(dirfd), uintptr(unsafe.Pointer(&name[0])),
		uintptr(unsafe.Pointer(&buf[0])), uintptr(len(buf)), 0, 0)
	if e != 0 {
		return nil, e
	}
	return buf[:n], nil
}

// fstatat stats name, following symbolic links.
func fstatat(dirfd int, name []byte, st *unix.Stat_t) error {
	_, _, e := unix.Syscall6(unix.SYS_NEWFSTATAT, uintptr(dirfd), uintptr(unsafe.Pointer(&name[0])),
		uintptr(unsafe.Pointer(st)), 0, 0, 0)
	if e != 0 {
		return e
	}
	return nil
}

// gone reports whether err says the process or thread no longer exists.
func gone(err error) bool {
	return errors.Is(err, unix.ENOENT) || errors.Is(err, unix.ESRCH)
}

// eachDirent calls fn with the name of each entry of the directory open at fd,
// using buf for the getdents records.
func eachDirent(fd int, buf []byte, fn func(name []byte)) error {
	for {
		n, err := unix.Getdents(fd, buf)
		if err != nil {
			if err == unix.EINTR {
				continue
			}
			return err
		}
		if n <= 0 {
			return nil
		}
		b := buf[:n]
		for len(b) >= 19 {
			// struct linux_dirent64: ino u64, off s64, reclen u16, type u8, name.
			reclen := int(le16(b[16:]))
			if reclen < 19 || reclen > len(b) {
				return nil
			}
			name := b[19:reclen]
			for i, c := range name {
				if c == 0 {
					name = name[:i]
					break
				}
			}
			fn(name)
			b = b[reclen:]
		}
	}
}

func le16(b []byte) uint16 { return uint16(b[0]) | uint16(b[1])<<8 }

// parseUint parses a decimal number made of digits only.
func parseUint(b []byte) (uint64, bool) {
	if len(b) == 0 || len(b) > 19 {
		return 0, false
	}
	var v uint64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		v = v*10 + uint64(c-'0')
	}
	return v, true
}
