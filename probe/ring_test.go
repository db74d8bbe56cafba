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

// fakeRing is a ring in ordinary memory, written the way the BPF program
// writes one: a mark (busy, then complete) before each record, the record's
// length in its header, records 8-byte aligned and never wrapping (a record
// that starts near the end runs into the slack).
type fakeRing struct {
	r    *ring
	mem  []byte
	prod uint64
	size uint64
}

func newFakeRing(size int) *fakeRing {
	f := &fakeRing{size: uint64(size), mem: make([]byte, ringValueSize(size))}
	f.r = &ring{}
	f.r.setMem(f.mem, size)
	return f
}

func (f *fakeRing) cons() uint64 { return atomic.LoadUint64(f.r.consPos) }

// put writes a record of n bytes (at least recShortLen) starting with
// timestamp ts; busy leaves it marked busy, kind is its kind. It returns
// the record's position.
func (f *fakeRing) put(t *testing.T, ts uint64, n int, busy bool, kind byte) uint64 {
	t.Helper()
	pos, ok := f.write(ts, n, busy, kind)
	if !ok {
		t.Fatalf("fake ring full")
	}
	return pos
}

// write is put without a test: ok is false when the ring is full.
func (f *fakeRing) write(ts uint64, n int, busy bool, kind byte) (pos uint64, ok bool) {
	pos = f.prod
	if pos+ringMark+uint64(n)-f.cons() > f.size {
		return 0, false
	}
	at := f.r.data[pos&f.r.mask:]
	atomic.StoreUint64((*uint64)(unsafe.Pointer(&at[0])), pos+markBusy)
	rec := at[ringMark : ringMark+n]
	binary.LittleEndian.PutUint64(rec, ts)
	binary.LittleEndian.PutUint32(rec[recLen:], uint32(n))
	rec[recKind] = kind
	for i := recShortLen; i < n; i++ {
		rec[i] = byte(i) // payload
	}
	if !busy {
		f.submit(pos)
	}
	f.prod = pos + (ringMark+uint64(n)+7)&^7
	return pos, true
}

// submit marks the record at pos complete.
func (f *fakeRing) submit(pos uint64) {
	atomic.StoreUint64((*uint64)(unsafe.Pointer(&f.r.data[pos&f.r.mask])), pos+markDone)
}

// fakeRings merges the fake rings, with a clock that reads now.
func fakeRings(now *uint64, fs ...*fakeRing) *rings {
	s := newRings()
	s.now = func() uint64 { return atomic.LoadUint64(now) }
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

// allZero reports whether the ring's records are all zeroed: read records
// are, so that nothing of them can pass for a record later.
func allZero(f *fakeRing) bool {
	for _, b := range f.r.data {
		if b != 0 {
			return false
		}
	}
	return true
}

func TestRingsMerge(t *testing.T) {
	now := uint64(1000)
	a, b := newFakeRing(256), newFakeRing(256)
	s := fakeRings(&now, a, b)
	for _, ts := range []uint64{1, 4, 5, 9} {
		a.put(t, ts, 48, false, kindEnter)
	}
	for _, ts := range []uint64{2, 3, 6, 7} {
		kind := byte(kindExit)
		if ts == 3 {
			kind = kindSkip
		}
		b.put(t, ts, recShortLen, false, kind)
	}
	got := drain(t, s)
	if want := []uint64{1, 2, 4, 5, 6, 7, 9}; !slices.Equal(got, want) {
		t.Fatalf("merged %v, want %v", got, want)
	}
	// Every record read: the consumer positions say so.
	if a.cons() != a.prod || b.cons() != b.prod {
		t.Errorf("consumer positions %d, %d; producers at %d, %d", a.cons(), b.cons(), a.prod, b.prod)
	}
	if !allZero(a) || !allZero(b) {
		t.Errorf("read records are not zeroed")
	}

	// Records that run past the end of the ring, and many rounds of it.
	var want []uint64
	ts := uint64(100)
	for round := 0; round < 50; round++ {
		for i := 0; i < 3; i++ {
			ts++
			a.put(t, ts, recShortLen+8*i, false, kindEnter)
			want = append(want, ts)
			ts++
			b.put(t, ts, recShortLen+40-8*i, false, kindExit)
			want = append(want, ts)
		}
		if got := drain(t, s); !slices.Equal(got, want) {
			t.Fatalf("round %d: merged %v, want %v", round, got, want)
		}
		want = want[:0]
	}
	if a.prod < 2*a.size || !allZero(a) || !allZero(b) {
		t.Errorf("after %d bytes: read records are not zeroed", a.prod)
	}
}

// A record still being written holds back the records of other rings that
// come after it, until it is complete.
func TestRingsWaitForBusyRecord(t *testing.T) {
	now := uint64(1000)
	a, b := newFakeRing(256), newFakeRing(256)
	s := fakeRings(&now, a, b)
	pos := a.put(t, 1, recShortLen, true, kindEnter)
	b.put(t, 2, recShortLen, false, kindEnter)
	go func() {
		time.Sleep(20 * time.Millisecond)
		a.submit(pos)
	}()
	if got := drain(t, s); !slices.Equal(got, []uint64{1, 2}) {
		t.Fatalf("got %v, want [1 2]", got)
	}
}

// A record left half-written (which the kernel does not do) stops the
// reader with an error instead of holding it for ever.
func TestRingsBusyTooLong(t *testing.T) {
	now := uint64(1000)
	a := newFakeRing(256)
	s := fakeRings(&now, a)
	a.put(t, 1, recShortLen, true, kindEnter)
	start := time.Now()
	if _, err := s.next(time.Millisecond); err == nil || err == errRingTimeout {
		t.Fatalf("got %v, want an error", err)
	}
	if d := time.Since(start); d < ringBusyLimit {
		t.Errorf("gave up after %v, before %v", d, ringBusyLimit)
	}
}

// A record later than the snapshot waits for the next one: a record of
// another CPU stamped before it may still be on its way.
func TestRingsSnapshot(t *testing.T) {
	var now uint64
	a, b := newFakeRing(256), newFakeRing(256)
	s := newRings()
	s.rs = []*ring{a.r, b.r}
	b.put(t, 12, recShortLen, false, kindEnter)
	s.now = func() uint64 {
		// Taking the snapshot after b's record was seen: a's record,
		// stamped before b's, arrives meanwhile.
		if now == 0 {
			a.put(t, 11, recShortLen, false, kindEnter)
			now = 20
		}
		return now
	}
	if got := drain(t, s); !slices.Equal(got, []uint64{11, 12}) {
		t.Fatalf("got %v, want [11 12]", got)
	}
}

// A record stamped later than the clock reads (which the kernel does not
// write) is handed out all the same, after one more snapshot.
func TestRingsFutureRecord(t *testing.T) {
	now := uint64(10)
	a, b := newFakeRing(256), newFakeRing(256)
	s := fakeRings(&now, a, b)
	a.put(t, 1000, recShortLen, false, kindEnter)
	b.put(t, 5, recShortLen, false, kindEnter)
	b.put(t, 500, recShortLen, false, kindEnter)
	if got := drain(t, s); !slices.Equal(got, []uint64{5, 500, 1000}) {
		t.Fatalf("got %v, want [5 500 1000]", got)
	}
}

// A record whose length runs past the ring's slack is an error, not a read
// out of bounds.
func TestRingsBadRecord(t *testing.T) {
	now := uint64(1000)
	a := newFakeRing(256)
	s := fakeRings(&now, a)
	pos := a.put(t, 1, recShortLen, false, kindEnter)
	binary.LittleEndian.PutUint32(a.r.data[pos&a.r.mask+ringMark+uint64(recLen):], 1<<20)
	if _, err := s.next(time.Millisecond); err == nil || err == errRingTimeout {
		t.Fatalf("got %v, want an error", err)
	}
}

// The merge's clock reads the kernel's monotonic clock, a little behind it
// and never ahead.
func TestMonotonicClock(t *testing.T) {
	now := monotonicClock()
	for range 100 {
		c := now()
		var ts unix.Timespec
		if err := unix.ClockGettime(unix.CLOCK_MONOTONIC, &ts); err != nil {
			t.Fatal(err)
		}
		k := uint64(ts.Nano())
		if c > k || k-c > uint64(50*time.Millisecond) {
			t.Fatalf("clock %d, kernel %d", c, k)
		}
		time.Sleep(100 * time.Microsecond)
	}
}

// BenchmarkRingsNext times the rings per record, on one core: two rings
// filled with interleaved records of 64 bytes (written as the BPF program
// writes them), merged, handed out and zeroed. It does not show what moving
// the records between two CPUs costs.
func BenchmarkRingsNext(b *testing.B) {
	now := uint64(1 << 62)
	x, y := newFakeRing(1<<20), newFakeRing(1<<20)
	s := fakeRings(&now, x, y)
	s.naps = ringNaps
	const batch = 4096
	ts := uint64(0)
	b.ReportAllocs()
	for b.Loop() {
		for range batch / 2 {
			ts++
			x.write(ts, 64, false, kindEnter)
			ts++
			y.write(ts, 64, false, kindExit)
		}
		for range batch {
			if _, err := s.next(time.Millisecond); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*batch), "ns/record")
}

// FuzzRings reads rings whose memory holds arbitrary bytes: whatever it
// holds, the reader hands out records within the ring, at least a header
// long, or stops with an error, and never panics.
func FuzzRings(f *testing.F) {
	// Seeds: rings written as the BPF program writes them.
	for _, lens := range [][]int{{recShortLen}, {recShortLen, 64, 200}, {96, recShortLen, 41}} {
		w := newFakeRing(4096)
		for i, n := range lens {
			w.write(uint64(i+1), n, false, kindEnter)
		}
		f.Add(append([]byte(nil), w.r.data...))
	}
	defer func(d time.Duration) { ringBusyLimit = d }(ringBusyLimit)
	ringBusyLimit = time.Millisecond
	f.Fuzz(func(t *testing.T, mem []byte) {
		now := uint64(1 << 62)
		a := newFakeRing(4096)
		copy(a.r.data, mem)
		s := fakeRings(&now, a)
		s.naps = ringNaps
		for i := 0; i < 1000; i++ {
			rec, err := s.next(0)
			if err != nil {
				return
			}
			if len(rec) < recShortLen {
				t.Fatalf("record of %d bytes", len(rec))
			}
		}
	})
}

// The ring's layout is written twice, in bpf/probe.bpf.c (RING_HDR,
// RING_SLACK) and here (ringHdr, ringSlack): the object's ring map, declared
// for 8 MiB of records, must have the value size ringValueSize gives.
func TestRingLayoutMatchesObject(t *testing.T) {
	spec, err := loadProbe()
	if err != nil {
		t.Fatal(err)
	}
	inner := spec.Maps["rings"].InnerMap
	if inner == nil {
		t.Fatal("the object's rings map has no inner map")
	}
	if got, want := int(inner.ValueSize), ringValueSize(8<<20); got != want {
		t.Fatalf("the object's ring value is %d bytes, ringValueSize gives %d", got, want)
	}
}
