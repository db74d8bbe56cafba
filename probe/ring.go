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

// The layout of a CPU's ring, as in bpf/probe.bpf.c: a header page (the
// consumer position in its first cache line, the producer's in its second),
// then the ring's records, then room for a record that starts near the end.
const (
	ringHdr   = 4096
	ringSlack = 1<<16 + 4096 // BUFSZ + a page (TestRingLayoutMatchesObject)
	ringMark  = 8            // the mark before each record
	markDone  = 1            // the mark of a complete record at pos is pos + markDone
	markBusy  = 2            // and pos + markBusy while it is written
)

// ringValueSize is the size of the map value that holds a ring of size bytes.
func ringValueSize(size int) int { return ringHdr + size + ringSlack }

// ring reads one CPU's ring straight from its mapping, without copying
// records. The producer knows nothing of the reader but the consumer
// position, which the reader stores once per batch (when it has caught up)
// or every ringPublish records: each store is a cache line the producing
// CPU must fetch again on its next record. The reader finds records by
// their marks, not by a producer position, so the producer never writes a
// line the reader polls. It zeroes each record once read: a stale mark (or
// bytes of an old record that look like one) must not pass for a new one.
//
// Each CPU writes its own ring (probe.bpf.c says why); rings merges them.
type ring struct {
	m       *ebpf.Map
	mem     []byte  // the map's value, mapped read-write
	consPos *uint64 // the consumer position, which the producer reads
	data    []byte  // the records: the ring and its slack
	mask    uint64
	pos     uint64 // consumer position: the start of the head record
	unpub   int    // records consumed since the consumer position was stored
	head    []byte // the record at pos, once looked at
	headLen uint64 // its room in the ring, mark and padding included
	// zFrom and zTo are the offsets of the records read and not zeroed yet.
	zFrom, zTo uint64
	// lateRound is 1 + the round in which the head record was found later
	// than the snapshot, or 0 (see rings.next).
	lateRound uint64
}

// rings hands out the records of the per-CPU rings in timestamp order.
//
// Each ring is in timestamp order by itself (a CPU writes its records one
// after the other), so the next record is the earliest of the rings' first
// records. The merge works on snapshots: it notes the time (the monotonic
// clock, the kernel's bpf_ktime_get_ns) and then hands out, in order, the
// records not later than it. A record stamped before the snapshot is by
// then reserved (marked busy, and waited for) or complete, bar one built in
// the scratch buffer, which is stamped before it is reserved; records
// reserved since carry later times. When no ring has a record left within
// the snapshot, it takes another.
//
// When it has caught up, the reader naps (ringNap) before it looks again,
// and naps longer (ringIdleNap) after ringNaps naps found nothing. Following
// the producers closely costs them: every record line the reader has just
// read must be taken back before the next record is written into it. On
// this VM, with BPF ring buffers, a traced getppid took 434 ns with the
// reader following closely (and woken every 256 records), ~365 ns with naps.
//
// A record is valid until the next call of next. Close must not run while
// next does.
type rings struct {
	rs  []*ring
	cur *ring // the ring of the record last handed out
	// limit is the earliest timestamp among the other rings' first records
	// when cur's was chosen, and at most the snapshot.
	limit uint64
	snap  uint64 // the snapshot's time
	round uint64 // snapshots taken
	naps  int    // naps in a row that found no record
	now   func() uint64
}

const (
	// The consumer position is stored at least every ringPublish records, so
	// that a reader that never catches up still frees room regularly.
	ringPublish = 256
	// A nap lets records gather: 1 ms at the highest rate seen here
	// (4.7 M/s) is about 4,700 records, a few hundred KiB of a CPU's 8 MiB
	// ring at the default snaplen.
	ringNap  = time.Millisecond
	ringNaps = 10
	// An idle reader looks every 5 ms: at that rate, filling 8 MiB from
	// idle takes over 40 ms.
	ringIdleNap = 5 * time.Millisecond
)

// ringBusyLimit bounds the wait for a record being written (a variable for
// the tests).
var ringBusyLimit = 100 * time.Millisecond

var errRingTimeout = errors.New("ring buffer: no record before the timeout")

func newRings() *rings { return &rings{now: monotonicClock()} }

// monotonicClock returns a reader of the clock of bpf_ktime_get_ns
// (CLOCK_MONOTONIC). It reads Go's monotonic clock, the same clock read
// through the vDSO, where clock_gettime(2) would be a system call per
// snapshot: the offset between the two is taken once, the system call
// first, so that the clock returned runs behind the kernel's, never ahead
// (a snapshot a little early only makes a record wait for the next one).
func monotonicClock() func() uint64 {
	var ts unix.Timespec
	if unix.ClockGettime(unix.CLOCK_MONOTONIC, &ts) != nil {
		return func() uint64 { return math.MaxUint64 }
	}
	base, start := uint64(ts.Nano()), time.Now()
	return func() uint64 { return base + uint64(time.Since(start)) }
}

// add maps the ring m (a one-value array holding a ring of size bytes) and
// adds it to the set; the set owns m from then on, whatever the outcome.
func (s *rings) add(m *ebpf.Map, size int) error {
	r := &ring{m: m}
	s.rs = append(s.rs, r)
	if size <= 0 || size&(size-1) != 0 {
		return fmt.Errorf("ring size %d is not a power of two", size)
	}
	if int(m.ValueSize()) != ringValueSize(size) {
		return fmt.Errorf("ring map value of %d bytes for a ring of %d", m.ValueSize(), size)
	}
	page := os.Getpagesize()
	n := (ringValueSize(size) + page - 1) &^ (page - 1)
	mem, err := unix.Mmap(m.FD(), 0, n, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED)
	if err != nil {
		return fmt.Errorf("mapping the ring: %w", err)
	}
	r.setMem(mem, size)
	return nil
}

func (r *ring) setMem(mem []byte, size int) {
	r.mem = mem
	r.consPos = (*uint64)(unsafe.Pointer(&mem[0]))
	r.data = mem[ringHdr : ringHdr+size+ringSlack]
	r.mask = uint64(size - 1)
	r.pos = atomic.LoadUint64(r.consPos)
}

// publish zeroes the records read and tells the producer they are.
func (r *ring) publish() {
	if r.unpub > 0 {
		r.zero()
		atomic.StoreUint64(r.consPos, r.pos)
		r.unpub = 0
	}
}

// zero zeroes the records read since the last time, before their room is
// given back.
func (r *ring) zero() {
	clear(r.data[r.zFrom:r.zTo])
	r.zFrom, r.zTo = 0, 0
}

// peek returns the ring's first record, nil if there is none yet, and
// whether the producer is still writing it (the record is then nil too).
func (r *ring) peek() (rec []byte, busy bool, err error) {
	if r.head != nil {
		return r.head, false, nil
	}
	for {
		off := r.pos & r.mask
		switch atomic.LoadUint64((*uint64)(unsafe.Pointer(&r.data[off]))) {
		case r.pos + markDone:
		case r.pos + markBusy:
			return nil, true, nil
		default:
			return nil, false, nil
		}
		start := off + ringMark
		n := uint64(binary.LittleEndian.Uint32(r.data[start+uint64(recLen):]))
		if n < uint64(recShortLen) || start+n > uint64(len(r.data)) {
			return nil, false, fmt.Errorf("ring: record of %d bytes at offset %d", n, off)
		}
		r.head = r.data[start : start+n : start+n]
		r.headLen = (ringMark + n + 7) &^ 7
		if r.head[recKind] == kindSkip {
			r.consume()
			continue
		}
		return r.head, false, nil
	}
}

// consume moves past the head record; it is zeroed and its room given back
// at the next publish (the records read in a row, at once).
func (r *ring) consume() {
	off := r.pos & r.mask
	if off != r.zTo {
		// Back at the start of the ring.
		r.zero()
		r.zFrom = off
	}
	r.zTo = off + r.headLen
	r.pos += r.headLen
	r.head = nil
	r.lateRound = 0
	r.unpub++
}

// waitCommit spins until the producer has completed the record at pos. A
// program writes a record in well under a microsecond and always completes
// it; one still busy after ringBusyLimit is an error, not a reason to wait
// for ever.
func (r *ring) waitCommit() error {
	r.publish()
	p := (*uint64)(unsafe.Pointer(&r.data[r.pos&r.mask]))
	var start time.Time
	for i := 0; atomic.LoadUint64(p) == r.pos+markBusy; i++ {
		if i == 1000 {
			if start.IsZero() {
				start = time.Now()
			} else if time.Since(start) > ringBusyLimit {
				return fmt.Errorf("ring: the record at offset %d was still being written after %v", r.pos&r.mask, ringBusyLimit)
			}
			time.Sleep(10 * time.Microsecond)
			i = 0
		}
	}
	return nil
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
	var waited time.Duration
	for {
		var best *ring
		var bestRec []byte
		var busy *ring
		bestTS, limit := uint64(math.MaxUint64), s.snap
		late := false
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
			ts := recTime(rec)
			if ts > s.snap {
				// Later than the snapshot: it waits for the next one,
				// unless it already did (a time the clock had not reached
				// then, which the kernel does not write, is not to be
				// trusted to order anything: without this, a bad time
				// would hold its ring up for ever).
				if r.lateRound == 0 || r.lateRound > s.round {
					r.lateRound = s.round + 1
					late = true
					continue
				}
			}
			if best == nil || ts < bestTS {
				limit = min(limit, bestTS)
				best, bestRec, bestTS = r, rec, ts
			} else {
				limit = min(limit, ts)
			}
		}
		if busy != nil {
			// Reserved, not yet complete: its producer is writing it now,
			// and it may be the earliest.
			if err := busy.waitCommit(); err != nil {
				return nil, err
			}
			continue
		}
		// A record stamped past the snapshot but let through goes after
		// the records waiting for the next one.
		if best != nil && (bestTS <= s.snap || !late) {
			s.naps = 0
			s.cur, s.limit = best, limit
			return bestRec, nil
		}
		// Nothing left within the snapshot: give the room back, take
		// another and look again, after a nap if there was nothing at all.
		for _, r := range s.rs {
			r.publish()
		}
		if !late {
			if waited >= timeout {
				return nil, errRingTimeout
			}
			d := ringNap
			if s.naps >= ringNaps {
				d = ringIdleNap
			} else {
				s.naps++
			}
			d = min(d, timeout-waited)
			time.Sleep(d)
			waited += d
		}
		s.snap = s.now()
		s.round++
	}
}

func (s *rings) close() {
	for _, r := range s.rs {
		if r.mem != nil {
			unix.Munmap(r.mem)
			r.mem, r.data, r.head, r.consPos = nil, nil, nil, nil
		}
		r.m.Close()
	}
	s.rs = nil
}
