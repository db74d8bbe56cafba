package scap

import (
	"io"
	"os"
	"sync/atomic"
	"unsafe"

	"golang.org/x/sys/unix"
)

// mmapSource hands out a plain capture file mapped into memory, a window at
// a time: no read(2) copies the file into buffers, and the events are
// decoded where the page cache holds them. A window is populated when it is
// handed out (one madvise instead of a page fault per 64 KiB) and dropped
// from the mapping when given back, so that the process's resident memory
// stays a few windows whatever the file's size.
type mmapSource struct {
	data    []byte       // the whole file
	pos     int          // start of the next window
	freed   atomic.Int64 // the end of the windows given back (they are, in order)
	dropped int64        // the end of the windows dropped from the mapping
}

// mmapMin is the smallest file worth mapping: below it, reading costs less
// than setting up and tearing down the mapping.
const mmapMin = 1 << 20

// openMmap maps f when it is a regular file of at least mmapMin bytes. It
// returns nil, with no error, when the file is not worth mapping or cannot
// be mapped (reading it is the fallback).
func openMmap(f *os.File) *mmapSource {
	st, err := f.Stat()
	if err != nil || !st.Mode().IsRegular() || st.Size() < mmapMin || int64(int(st.Size())) != st.Size() {
		return nil
	}
	data, err := unix.Mmap(int(f.Fd()), 0, int(st.Size()), unix.PROT_READ, unix.MAP_SHARED)
	if err != nil {
		return nil
	}
	_ = unix.Madvise(data, unix.MADV_SEQUENTIAL)
	return &mmapSource{data: data}
}

// magic returns the file's first two bytes.
func (m *mmapSource) magic() []byte { return m.data[:2] }

func (m *mmapSource) get() ([]byte, error) {
	if m.pos >= len(m.data) {
		return nil, io.EOF
	}
	// The windows given back are dropped here, in the decoding goroutine,
	// rather than by put, which the consumer of the events calls.
	if freed := m.freed.Load(); freed > m.dropped {
		_ = unix.Madvise(m.data[m.dropped:freed], unix.MADV_DONTNEED)
		m.dropped = freed
	}
	end := min(m.pos+mmapWindow, len(m.data))
	b := m.data[m.pos:end:end]
	// EFAULT: the file shrank after it was mapped, and this window is past
	// its end now. (EINVAL: a kernel before 5.14; the pages fault in.)
	if err := unix.Madvise(b, unix.MADV_POPULATE_READ); err == unix.EFAULT {
		return nil, io.ErrUnexpectedEOF
	}
	m.pos = end
	if end == len(m.data) {
		return b, io.EOF
	}
	return b, nil
}

// put gives a window back: the next get drops its pages from the mapping
// (they stay in the page cache: a later read of the window would fault them
// back in, unchanged).
func (m *mmapSource) put(b []byte) {
	if len(b) == 0 || m.data == nil {
		return
	}
	end := int64(uintptr(unsafe.Pointer(unsafe.SliceData(b)))-uintptr(unsafe.Pointer(unsafe.SliceData(m.data)))) + int64(cap(b))
	for {
		old := m.freed.Load()
		if end <= old || m.freed.CompareAndSwap(old, end) {
			return
		}
	}
}

// Close unmaps the file; nothing may use the windows after it.
func (m *mmapSource) Close() error {
	if m.data == nil {
		return nil
	}
	err := unix.Munmap(m.data)
	m.data = nil
	return err
}
