package probe

import (
	"encoding/binary"
	"slices"
	"sync/atomic"
	"testing"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// fakeRing is a ring buffer in ordinary memory, written the way the kernel
// writes a BPF ring buffer: an 8-byte header (length, busy and discard bits)
// before each record, records 8-byte aligned, the data mapped twice so that
// a record that wraps reads contiguously (here: written twice).
type fakeRing struct {
	r    *ring
	cons [8]uint64
	prod [8]uint64
	size uint64
}

func newFakeRing(size int) *fakeRing {
	f := &fakeRing{size: uint64(size)}
	f.r = &ring{
		consPos: &f.cons[0],
		prodPos: &f.prod[0],
		data:    make([]byte, 2*size),
		mask:    uint64(size - 1),
	}
	return f
}

// put writes a record of n bytes starting with timestamp ts; discard marks
// it discarded, busy leaves it reserved and not submitted.
func (f *fakeRing) put(t *testing.T, ts uint64, n int, discard, busy bool) uint64 {
	t.Helper()
	pos := atomic.LoadUint64(&f.prod[0])
	adv := uint64(n+ringHdrLen+7) &^ 7
	if pos+adv-atomic.LoadUint64(&f.cons[0]) > f.size {
		t.Fatalf("fake ring full")
	}
	rec := make([]byte, ringHdrLen+n)
	hdr := uint32(n)
	if discard {
		hdr |= ringDiscardBit
	}
	if busy {
		hdr |= ringBusyBit
	}
	binary.LittleEndian.PutUint32(rec, hdr)
	binary.LittleEndian.PutUint64(rec[ringHdrLen:], ts)
	for i, b := range rec {
		off := (pos + uint64(i)) & f.r.mask
		f.r.data[off] = b
		f.r.data[off+f.size] = b
	}
	atomic.StoreUint64(&f.prod[0], pos+adv)
	return pos
}

// submit clears the busy bit of the record at pos.
func (f *fakeRing) submit(pos uint64) {
	off := pos & f.r.mask
	p := (*uint32)(unsafe.Pointer(&f.r.data[off]))
	v := atomic.LoadUint32(p) &^ ringBusyBit
	atomic.StoreUint32(p, v)
	atomic.StoreUint32((*uint32)(unsafe.Pointer(&f.r.data[off+f.size])), v)
}

// fakeRings merges the fake rings; its epoll set is empty, so that a reader
// that has caught up times out.
func fakeRings(t *testing.T, fs ...*fakeRing) *rings {
	t.Helper()
	epfd, err := unix.EpollCreate1(unix.EPOLL_CLOEXEC)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { unix.Close(epfd) })
	s := &rings{epfd: epfd}
	for _, f := range fs {
		s.rs = append(s.rs, f.r)
	}
	return s
}

// drain reads what the rings hold now, until a read times out.
func drain(t *testing.T, s *rings) []uint64 {
	t.Helper()
	s.naps = ringNaps // no naps: nothing more is coming
	var got []uint64
	for {
		rec, err := s.next(time.Millisecond)
		if err == errRingTimeout {
			return got
		}
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, recTime(rec))
	}
}

func TestRingsMerge(t *testing.T) {
	a, b := newFakeRing(256), newFakeRing(256)
	s := fakeRings(t, a, b)
	for _, ts := range []uint64{1, 4, 5, 9} {
		a.put(t, ts, 40, false, false)
	}
	for _, ts := range []uint64{2, 3, 6, 7} {
		b.put(t, ts, 16, ts == 3, false) // 3 is discarded
	}
	got := drain(t, s)
	if want := []uint64{1, 2, 4, 5, 6, 7, 9}; !slices.Equal(got, want) {
		t.Fatalf("merged %v, want %v", got, want)
	}
	// Every record read: the consumer positions say so.
	if a.cons[0] != a.prod[0] || b.cons[0] != b.prod[0] {
		t.Errorf("consumer positions %d, %d; producers at %d, %d", a.cons[0], b.cons[0], a.prod[0], b.prod[0])
	}

	// Records that wrap around the end of the ring, and many rounds of it.
	var want []uint64
	ts := uint64(100)
	for round := 0; round < 50; round++ {
		for i := 0; i < 3; i++ {
			ts++
			a.put(t, ts, 24+8*i, false, false)
			want = append(want, ts)
			ts++
			b.put(t, ts, 40-8*i, false, false)
			want = append(want, ts)
		}
		if got := drain(t, s); !slices.Equal(got, want) {
			t.Fatalf("round %d: merged %v, want %v", round, got, want)
		}
		want = want[:0]
	}
}

// A record still being written holds back the records of other rings that
// come after it, until it is submitted.
func TestRingsWaitForBusyRecord(t *testing.T) {
	a, b := newFakeRing(256), newFakeRing(256)
	s := fakeRings(t, a, b)
	pos := a.put(t, 1, 16, false, true)
	b.put(t, 2, 16, false, false)
	go func() {
		time.Sleep(20 * time.Millisecond)
		a.submit(pos)
	}()
	if got := drain(t, s); !slices.Equal(got, []uint64{1, 2}) {
		t.Fatalf("got %v, want [1 2]", got)
	}
}
