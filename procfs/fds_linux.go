//go:build linux && (amd64 || arm64)

package procfs

import (
	"bytes"
	"strconv"

	"golang.org/x/sys/unix"

	"github.com/syscope/syscope/scap"
)

// scanFDs reads the fd table of the process whose directory is open at dfd,
// classifying each fd as libscap does: by the type of the file it points to,
// then anonymous inodes by their link name and sockets by their entry in the
// socket tables of the process's network namespace. An fd that closes during
// the scan, or a socket no table lists, is left out.
func (s *scanner) scanFDs(dfd int) []scap.FD {
	fdfd, err := openat(dfd, nFd, unix.O_RDONLY|unix.O_DIRECTORY)
	if err != nil {
		return nil
	}
	defer unix.Close(fdfd)

	var fds []scap.FD
	var tab *netTable
	tabDir := dfd
	denied := false
	var fdName [24]byte
	// A listing that fails midway keeps the fds read so far.
	_ = eachDirent(fdfd, s.dents, func(d []byte) {
		num, ok := parseUint(d)
		if !ok || denied {
			return
		}
		name := append(append(fdName[:0], d...), 0)
		if err := fstatat(fdfd, name, &s.st); err != nil {
			// Access to a process's fds is granted or denied as a whole.
			denied = err == unix.EACCES
			return
		}
		f := scap.FD{Num: int64(num), Ino: s.st.Ino}
		switch s.st.Mode & unix.S_IFMT {
		case unix.S_IFIFO:
			link, err := s.readlink(fdfd, name, maxPath-1)
			if err != nil {
				return
			}
			f.Type = scap.FDFifo
			f.Name = string(link)
		case unix.S_IFREG, unix.S_IFBLK, unix.S_IFCHR, unix.S_IFLNK:
			link, err := s.readlink(fdfd, name, maxPath-1)
			if err != nil {
				return
			}
			f.Type = scap.FDFileV2
			f.Name = string(link)
			f.Flags = s.openFlags(dfd, d)
		case unix.S_IFDIR:
			link, err := s.readlink(fdfd, name, maxPath-1)
			if err != nil {
				return
			}
			f.Type = scap.FDDirectory
			f.Name = string(link)
		case unix.S_IFSOCK:
			if tab == nil {
				var ns uint64
				if tab, ns = s.netTableOf(dfd); ns == 0 {
					tabDir = s.sh.rootfd
				}
			}
			e, ok := s.socket(tab, tabDir, f.Ino)
			if !ok {
				return
			}
			e.Num, e.Ino = f.Num, f.Ino
			f = e
		default:
			// Anonymous inodes: known kinds by their link name, with no name.
			link, err := s.readlink(fdfd, name, maxPath-1)
			if err != nil {
				return
			}
			f.Type = anonType(link)
		}
		fds = append(fds, f)
	})
	return fds
}

// anonType classifies an anonymous inode by its link name, as libscap does;
// the others (bpf maps and programs, userfaultfd, io_uring, pidfd, ...) are
// unsupported.
func anonType(link []byte) scap.FDType {
	switch string(link) {
	case "anon_inode:[eventfd]":
		return scap.FDEvent
	case "anon_inode:[signalfd]":
		return scap.FDSignalfd
	case "anon_inode:[eventpoll]":
		return scap.FDEventpoll
	case "anon_inode:inotify":
		return scap.FDInotify
	case "anon_inode:[timerfd]":
		return scap.FDTimerfd
	}
	return scap.FDUnsupported
}

// openFlags reads the open flags of fd num from fdinfo, in PPM_O_* form.
func (s *scanner) openFlags(dfd int, num []byte) uint32 {
	s.name = append(append(append(s.name[:0], "fdinfo/"...), num...), 0)
	b, err := s.readFile(dfd, s.name, 0, false)
	if err != nil {
		return 0
	}
	for len(b) > 0 {
		line := b
		if i := bytes.IndexByte(b, '\n'); i >= 0 {
			line, b = b[:i], b[i+1:]
		} else {
			b = nil
		}
		if v, ok := bytes.CutPrefix(line, []byte("flags:\t")); ok {
			flags, err := strconv.ParseUint(string(bytes.TrimSpace(v)), 8, 64)
			if err != nil {
				return 0
			}
			return scapOpenFlags(flags)
		}
	}
	return 0
}

// PPM open flags (ppm_events_public.h).
const (
	ppmORdonly    = 1 << 0
	ppmOWronly    = 1 << 1
	ppmORdwr      = ppmORdonly | ppmOWronly
	ppmOCreat     = 1 << 2
	ppmOAppend    = 1 << 3
	ppmODsync     = 1 << 4
	ppmOExcl      = 1 << 5
	ppmONonblock  = 1 << 6
	ppmOSync      = 1 << 7
	ppmOTrunc     = 1 << 8
	ppmODirect    = 1 << 9
	ppmODirectory = 1 << 10
	ppmOLargefile = 1 << 11
	ppmOCloexec   = 1 << 12
	ppmOTmpfile   = 1 << 13
)

// oLargefile is O_LARGEFILE as libscap sees it: glibc defines it as 0 on
// 64-bit targets, so the flag the kernel adds to every file there is not
// reported.
const oLargefile = 0

// scapOpenFlags converts the kernel's open flags, as /proc/PID/fdinfo shows them,
// to sysdig's PPM_O_* flags the way libscap 0.29.3 converts them for its
// /proc scan. As there, O_SYNC also matches O_DSYNC and O_TMPFILE also
// matches O_DIRECTORY, both being multi-bit masks, and O_LARGEFILE is never
// reported on 64-bit machines.
func scapOpenFlags(flags uint64) uint32 {
	var r uint32
	switch flags & unix.O_ACCMODE {
	case unix.O_WRONLY:
		r |= ppmOWronly
	case unix.O_RDWR:
		r |= ppmORdwr
	default:
		r |= ppmORdonly
	}
	for _, m := range [...]struct {
		o   uint64
		ppm uint32
	}{
		{unix.O_CREAT, ppmOCreat},
		{unix.O_TMPFILE, ppmOTmpfile},
		{unix.O_APPEND, ppmOAppend},
		{unix.O_DSYNC, ppmODsync},
		{unix.O_EXCL, ppmOExcl},
		{unix.O_NONBLOCK, ppmONonblock},
		{unix.O_SYNC, ppmOSync},
		{unix.O_TRUNC, ppmOTrunc},
		{unix.O_DIRECT, ppmODirect},
		{unix.O_DIRECTORY, ppmODirectory},
		{oLargefile, ppmOLargefile},
		{unix.O_CLOEXEC, ppmOCloexec},
	} {
		if flags&m.o != 0 {
			r |= m.ppm
		}
	}
	return r
}
