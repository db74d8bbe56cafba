package probe

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"os"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/cilium/ebpf"
	"golang.org/x/sys/unix"
)

// ring reads one BPF ring buffer map straight from its mapping, without
// copying records. Unlike a reader that stores its position after every
// record, it reads the producer's position once per batch (when it has
// caught up) and tells the kernel how far it has read once per batch too:
// each store of the consumer position is a cache line the producing CPU
// must fetch again on its next reservation, and on this 2-CPU VM that
// miss cost the traced syscall more than writing its record did.
//
// Each CPU writes its own ring (probe.bpf.c says why); rings merges them.
type ring struct {
	m       *ebpf.Map
	cons    []byte // consumer page (read-write)
	prod    []byte // producer page and the data pages, mapped twice (read-only)
	consPos *uint64
	prodPos *uint64
	data    []byte // 2 × size: a record that wraps is contiguous
	mask    uint64
	pos     uint64 // consumer position: the start of the head record
	seen    uint64 // producer position last read
	unpub   int    // records consumed since the consumer position was stored
	head    []byte // the record at pos, once looked at
	headLen uint64 // its room in the ring, header and padding included
}

// rings hands out the records of the per-CPU rings in timestamp order.
//
// Each ring is in timestamp order by itself (a CPU writes its records one
// after the other), so the next record is the earliest of the rings' first
// records. The producers' positions are read all at once, when every ring
// has been read up to the position last seen: a record reserved since then
// was stamped after every record still to be handed out from that snapshot
// (bar one being built while the positions are read: a record built in the
// scratch buffer is stamped before it is reserved), so merging the snapshot
// keeps the order, and a ring's producer page is read once per batch rather
// than once per record.
//
// When it has caught up, the reader naps (ringNap) before it looks again,
// and waits on epoll only after ringNaps naps found nothing. Following the
// producers closely costs them: every record line the reader has just read
// must be taken back before the next record is written into it, and waiting
// on epoll whenever the rings are empty makes the producers wake it
// (irq_work, an interrupt on each CPU). On this VM a traced getppid took
// 434 ns with the reader following closely and woken every 256 records,
// ~365 ns with naps, and ~300 ns with naps and wake-ups every 8192 records.
//
// A record is valid until the next call of next. Close must not run while
// next does.
type rings struct {
	rs  []*ring
	cur *ring // the ring of the record last handed out
	// limit is the earliest timestamp among the other rings' first records
	// when cur's was chosen (MaxUint64 if they had none).
	limit uint64
	epfd  int
	naps  int // naps in a row that found no record
	evs   [4]unix.EpollEvent
}

const (
	ringHdrLen     = 8
	ringBusyBit    = 1 << 31
	ringDiscardBit = 1 << 30
	// The consumer position is stored at least every ringPublish records, so
	// that a reader that never catches up still frees room regularly.
	ringPublish = 256
	// A nap lets records gather: 1 ms at the highest rate seen here
	// (4.7 M/s) is about 4,700 records, a few hundred KiB of a CPU's 8 MiB
	// ring at the default snaplen.
	ringNap  = time.Millisecond
	ringNaps = 10
)

var errRingTimeout = errors.New("ring buffer: no record before the timeout")

// add maps the ring buffer m and adds it to the set; the set owns m from
// then on, whatever the outcome.
func (s *rings) add(m *ebpf.Map) error {
	size := int(m.MaxEntries())
	if size <= 0 || size&(size-1) != 0 {
		m.Close()
		return fmt.Errorf("ring buffer size %d is not a power of two", size)
	}
	page := os.Getpagesize()
	r := &ring{m: m, mask: uint64(size - 1)}
	s.rs = append(s.rs, r)
	fd := m.FD()
	var err error
	if r.cons, err = unix.Mmap(fd, 0, page, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED); err != nil {
		return fmt.Errorf("mapping the ring buffer's consumer page: %w", err)
	}
	if r.prod, err = unix.Mmap(fd, int64(page), page+2*size, unix.PROT_READ, unix.MAP_SHARED); err != nil {
		return fmt.Errorf("mapping the ring buffer's data: %w", err)
	}
	r.consPos = (*uint64)(unsafe.Pointer(&r.cons[0]))
	r.prodPos = (*uint64)(unsafe.Pointer(&r.prod[0]))
	r.data = r.prod[page:]
	ev := unix.EpollEvent{Events: unix.EPOLLIN, Fd: int32(fd)}
	if err := unix.EpollCtl(s.epfd, unix.EPOLL_CTL_ADD, fd, &ev); err != nil {
		return fmt.Errorf("epoll_ctl on the ring buffer: %w", err)
	}
	r.pos = atomic.LoadUint64(r.consPos)
	r.seen = r.pos
	return nil
}

// publish tells the kernel the records before pos are read.
func (r *ring) publish() {
	if r.unpub > 0 {
		atomic.StoreUint64(r.consPos, r.pos)
		r.unpub = 0
	}
}

// peek returns the first record of the ring up to the producer position last
// seen, nil if there is none, and whether the producer is still writing it
// (the record is then nil too).
func (r *ring) peek() (rec []byte, busy bool, err error) {
	if r.head != nil {
		return r.head, false, nil
	}
	for r.pos != r.seen {
		off := r.pos & r.mask
		hdr := atomic.LoadUint32((*uint32)(unsafe.Pointer(&r.data[off])))
		if hdr&ringBusyBit != 0 {
			return nil, true, nil
		}
		n := uint64(hdr &^ (ringBusyBit | ringDiscardBit))
		adv := (n + ringHdrLen + 7) &^ 7
		if hdr&ringDiscardBit != 0 {
			r.pos += adv
			r.unpub++
			continue
		}
		start := off + ringHdrLen
		if start+n > uint64(len(r.data)) {
			return nil, false, fmt.Errorf("ring buffer: record of %d bytes at %d overruns the mapping", n, off)
		}
		r.head = r.data[start : start+n : start+n]
		r.headLen = adv
		return r.head, false, nil
	}
	return nil, false, nil
}

// consume moves past the head record; its room is given back at the next
// publish.
func (r *ring) consume() {
	r.pos += r.headLen
	r.head = nil
	r.unpub++
}

// waitCommit spins until the producer has submitted the record at pos.
func (r *ring) waitCommit() {
	r.publish()
	off := r.pos & r.mask
	for i := 0; atomic.LoadUint32((*uint32)(unsafe.Pointer(&r.data[off])))&ringBusyBit != 0; i++ {
		if i == 1000 {
			time.Sleep(10 * time.Microsecond)
			i = 0
		}
	}
}

// recTime is a record's timestamp, its first 8 bytes (0 for a record too
// short to have one: the converter then says what is wrong with it).
func recTime(rec []byte) uint64 {
	if len(rec) < 8 {
		return 0
	}
	return binary.LittleEndian.Uint64(rec)
}

// next returns the next record, waiting up to timeout for one (errRingTimeout).
func (s *rings) next(timeout time.Duration) ([]byte, error) {
	// The previous record is done with: its room may be given back.
	if c := s.cur; c != nil {
		c.consume()
		if c.unpub >= ringPublish {
			c.publish()
		}
		s.cur = nil
		// The other rings' first records have not changed since c's record
		// was chosen: c's next one comes first if it is not later than them.
		if rec, _, err := c.peek(); err == nil && rec != nil && recTime(rec) <= s.limit {
			s.cur = c
			return rec, nil
		}
	}
	for {
		var best *ring
		var bestRec []byte
		var busy *ring
		bestTS, limit := uint64(math.MaxUint64), uint64(math.MaxUint64)
		for _, r := range s.rs {
			rec, b, err := r.peek()
			if err != nil {
				return nil, err
			}
			if b {
				busy = r
				break
			}
			if rec == nil {
				continue
			}
			if ts := recTime(rec); best == nil || ts < bestTS {
				limit = min(limit, bestTS)
				best, bestRec, bestTS = r, rec, ts
			} else {
				limit = min(limit, ts)
			}
		}
		if busy != nil {
			// Reserved, not yet submitted: its producer is writing it now,
			// and it may be the earliest.
			busy.waitCommit()
			continue
		}
		if best != nil {
			s.naps = 0
			s.cur, s.limit = best, limit
			return bestRec, nil
		}
		// Every ring is read up to the positions last seen: look again.
		more := false
		for _, r := range s.rs {
			r.publish()
			r.seen = atomic.LoadUint64(r.prodPos)
			more = more || r.pos != r.seen
		}
		if more {
			continue
		}
		if s.naps < ringNaps {
			s.naps++
			time.Sleep(ringNap)
			continue
		}
		if err := s.wait(timeout); err != nil {
			return nil, err
		}
	}
}

// wait sleeps until the kernel signals records or timeout passes.
func (s *rings) wait(timeout time.Duration) error {
	for {
		n, err := unix.EpollWait(s.epfd, s.evs[:], int(timeout/time.Millisecond))
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return fmt.Errorf("waiting for the ring buffers: %w", err)
		}
		if n == 0 {
			return errRingTimeout
		}
		return nil
	}
}

func (s *rings) close() {
	if s.epfd >= 0 {
		unix.Close(s.epfd)
		s.epfd = -1
	}
	for _, r := range s.rs {
		if r.prod != nil {
			unix.Munmap(r.prod)
			r.prod, r.data, r.head = nil, nil, nil
		}
		if r.cons != nil {
			unix.Munmap(r.cons)
			r.cons = nil
		}
		r.m.Close()
	}
	s.rs = nil
}
