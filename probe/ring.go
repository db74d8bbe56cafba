package probe

import (
	"errors"
	"fmt"
	"os"
	"sync/atomic"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// ring reads the BPF ring buffer map straight from its mapping, without
// copying records. Unlike a reader that stores its position after every
// record, it reads the producer's position once per batch (when it has
// caught up) and tells the kernel how far it has read once per batch too:
// each store of the consumer position is a cache line the producing CPU
// must fetch again on its next reservation, and on this 2-CPU VM that
// miss cost the traced syscall more than writing its record did.
//
// When it has caught up, the reader naps (ringNap) before it looks again,
// and waits on epoll only after ringNaps naps found nothing. Following the
// producer closely costs the producer: every record line the reader has just
// read must be taken back before the next record is written into it, and
// waiting on epoll whenever the ring is empty makes the producer wake it
// (irq_work, an interrupt on each CPU). On this VM a traced getppid took
// 434 ns with the reader following closely and woken every 256 records,
// ~365 ns with naps, and ~300 ns with naps and wake-ups every 8192 records.
//
// A record is valid until the next call of next. Close must not run while
// next does.
type ring struct {
	fd      int
	epfd    int
	cons    []byte // consumer page (read-write)
	prod    []byte // producer page and the data pages, mapped twice (read-only)
	consPos *uint64
	prodPos *uint64
	data    []byte // 2 × size: a record that wraps is contiguous
	mask    uint64
	pos     uint64 // consumer position: the end of the last record handed out
	seen    uint64 // producer position last read
	unpub   int    // records handed out since the consumer position was stored
	naps    int    // naps in a row that found no record
	evs     [1]unix.EpollEvent
}

const (
	ringHdrLen     = 8
	ringBusyBit    = 1 << 31
	ringDiscardBit = 1 << 30
	// The consumer position is stored at least every ringPublish records, so
	// that a reader that never catches up still frees room regularly.
	ringPublish = 256
	// A nap lets records gather: 1 ms at the highest rate seen here
	// (4.7 M/s) is about 4,700 records, a few hundred KiB of the 16 MiB ring
	// at the default snaplen.
	ringNap  = time.Millisecond
	ringNaps = 10
)

var errRingTimeout = errors.New("ring buffer: no record before the timeout")

func newRing(fd, size int) (*ring, error) {
	if size <= 0 || size&(size-1) != 0 {
		return nil, fmt.Errorf("ring buffer size %d is not a power of two", size)
	}
	page := os.Getpagesize()
	r := &ring{fd: fd, epfd: -1, mask: uint64(size - 1)}
	var err error
	if r.cons, err = unix.Mmap(fd, 0, page, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED); err != nil {
		return nil, fmt.Errorf("mapping the ring buffer's consumer page: %w", err)
	}
	if r.prod, err = unix.Mmap(fd, int64(page), page+2*size, unix.PROT_READ, unix.MAP_SHARED); err != nil {
		r.close()
		return nil, fmt.Errorf("mapping the ring buffer's data: %w", err)
	}
	r.consPos = (*uint64)(unsafe.Pointer(&r.cons[0]))
	r.prodPos = (*uint64)(unsafe.Pointer(&r.prod[0]))
	r.data = r.prod[page:]
	if r.epfd, err = unix.EpollCreate1(unix.EPOLL_CLOEXEC); err != nil {
		r.close()
		return nil, fmt.Errorf("epoll_create1: %w", err)
	}
	ev := unix.EpollEvent{Events: unix.EPOLLIN, Fd: int32(fd)}
	if err := unix.EpollCtl(r.epfd, unix.EPOLL_CTL_ADD, fd, &ev); err != nil {
		r.close()
		return nil, fmt.Errorf("epoll_ctl on the ring buffer: %w", err)
	}
	r.pos = atomic.LoadUint64(r.consPos)
	r.seen = r.pos
	return r, nil
}

// publish tells the kernel the records up to pos are read.
func (r *ring) publish() {
	if r.unpub > 0 {
		atomic.StoreUint64(r.consPos, r.pos)
		r.unpub = 0
	}
}

// next returns the next record, waiting up to timeout for one (errRingTimeout).
func (r *ring) next(timeout time.Duration) ([]byte, error) {
	// The previous record is done with: its room may be given back.
	if r.unpub >= ringPublish {
		r.publish()
	}
	for {
		if r.pos == r.seen {
			r.publish()
			r.seen = atomic.LoadUint64(r.prodPos)
			if r.pos == r.seen {
				if r.naps < ringNaps {
					r.naps++
					time.Sleep(ringNap)
					continue
				}
				if err := r.wait(timeout); err != nil {
					return nil, err
				}
				continue
			}
			r.naps = 0
		}
		off := r.pos & r.mask
		hdr := atomic.LoadUint32((*uint32)(unsafe.Pointer(&r.data[off])))
		if hdr&ringBusyBit != 0 {
			// Reserved, not yet submitted: the producer is writing it now.
			r.publish()
			for i := 0; atomic.LoadUint32((*uint32)(unsafe.Pointer(&r.data[off])))&ringBusyBit != 0; i++ {
				if i == 1000 {
					time.Sleep(10 * time.Microsecond)
					i = 0
				}
			}
			continue
		}
		n := uint64(hdr &^ (ringBusyBit | ringDiscardBit))
		start := off + ringHdrLen
		r.pos += (n + ringHdrLen + 7) &^ 7
		r.unpub++
		if hdr&ringDiscardBit != 0 {
			continue
		}
		if start+n > uint64(len(r.data)) {
			return nil, fmt.Errorf("ring buffer: record of %d bytes at %d overruns the mapping", n, off)
		}
		return r.data[start : start+n : start+n], nil
	}
}

// wait sleeps until the kernel signals records or timeout passes.
func (r *ring) wait(timeout time.Duration) error {
	for {
		n, err := unix.EpollWait(r.epfd, r.evs[:], int(timeout/time.Millisecond))
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return fmt.Errorf("waiting for the ring buffer: %w", err)
		}
		if n == 0 {
			return errRingTimeout
		}
		return nil
	}
}

func (r *ring) close() {
	if r.epfd >= 0 {
		unix.Close(r.epfd)
		r.epfd = -1
	}
	if r.prod != nil {
		unix.Munmap(r.prod)
		r.prod, r.data = nil, nil
	}
	if r.cons != nil {
		unix.Munmap(r.cons)
		r.cons = nil
	}
}
