package scap

import (
	"bytes"
	"io"
	"slices"
	"testing"

	"github.com/syscope/syscope/event"
)

// zlibOut against what zlib 1.2.13's gzoffset() reports after the same
// gzwrite() calls on a file opened "wbT" (measured; the last offset).
func TestZlibOffset(t *testing.T) {
	repeat := func(n int, seq ...int64) []int64 {
		var out []int64
		for range n {
			out = append(out, seq...)
		}
		return out
	}
	events := append(append(repeat(40, 8, 2, 300, 2, 4), 8, 2, 9000, 0, 4), repeat(10, 8, 2, 4, 26, 2, 4)...)
	tests := []struct {
		name   string
		writes []int64
		want   int64
	}{
		{"small writes fill the buffer", repeat(100, 100), 8192},
		{"a full buffer waits for more", []int64{8184, 8, 1}, 8192},
		{"a write of a buffer's size goes straight through", []int64{10, 8192, 5}, 8202},
		{"large writes after a partial buffer", []int64{5000, 20000, 3000, 3000, 3000}, 33192},
		{"event blocks", events, 21650},
	}
	for _, tt := range tests {
		var z zlibOut
		for _, n := range tt.writes {
			z.write(n)
		}
		if z.flushed != tt.want {
			t.Errorf("%s: offset %d, zlib says %d", tt.name, z.flushed, tt.want)
		}
	}
	// The tables are written in small pieces: 20000 bytes leave 3616 in the buffer.
	var z zlibOut
	z.smallWrites(20000)
	if z.flushed != 16384 || z.held != 3616 {
		t.Errorf("smallWrites(20000): flushed %d held %d, want 16384 3616", z.flushed, z.held)
	}
}

// blockTypes lists the event block types of a plain capture.
func blockTypes(t *testing.T, b []byte) []uint32 {
	t.Helper()
	var types []uint32
	for off := 0; off+8 <= len(b); {
		typ, n := le.Uint32(b[off:]), int(le.Uint32(b[off+4:]))
		if n < 12 || off+n > len(b) {
			t.Fatalf("bad block at %d", off)
		}
		if isEventBlock(typ) {
			types = append(types, typ)
		}
		off += n
	}
	return types
}

// The writer picks the block type as libscap does: EVF when the event has
// flags, *_LARGE when its type has 32-bit parameter lengths (container JSON);
// Large forces *_LARGE for all. The reader gets the events back.
func TestWriterBlockTypes(t *testing.T) {
	json := append([]byte(`{"container":{"id":"abc","name":"x","type":0}}`), 0)
	container := Event{Ts: 1, Tid: -1, Type: event.ContainerJsonV2E, NParams: 1, Large: true,
		Lens: []uint32{uint32(len(json))}, Offs: []uint32{0}, Data: json}
	fd := le.AppendUint64(nil, 3)
	closeE := Event{Ts: 2, Tid: 7, Type: event.SyscallCloseE, NParams: 1, Lens: []uint32{8}, Offs: []uint32{0}, Data: fd}
	tests := []struct {
		name  string
		large bool
		flags uint32
		want  []uint32
	}{
		{"by type", false, 0, []uint32{BlockEVV2Large, BlockEVV2}},
		{"flags", false, FlagStateOnly, []uint32{BlockEVFV2Large, BlockEVFV2}},
		{"all large", true, 0, []uint32{BlockEVV2Large, BlockEVV2Large}},
		{"all large with flags", true, 8, []uint32{BlockEVFV2Large, BlockEVFV2Large}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			w, err := NewWriter(&buf, false, &Metadata{})
			if err != nil {
				t.Fatal(err)
			}
			w.Large = tt.large
			for _, ev := range []Event{container, closeE} {
				ev.Flags = tt.flags
				if err := w.WriteEvent(&ev); err != nil {
					t.Fatal(err)
				}
			}
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}
			if got := blockTypes(t, buf.Bytes()); !slices.Equal(got, tt.want) {
				t.Errorf("blocks %#x, want %#x", got, tt.want)
			}
			r, err := NewReader(bytes.NewReader(buf.Bytes()))
			if err != nil {
				t.Fatal(err)
			}
			var ev Event
			for i, want := range []*Event{&container, &closeE} {
				if err := r.Next(&ev); err != nil {
					t.Fatalf("event %d: %v", i, err)
				}
				if ev.Type != want.Type || ev.Flags != tt.flags || !bytes.Equal(ev.Param(0), want.Data) {
					t.Errorf("event %d read back as type %d flags %d param %q", i, ev.Type, ev.Flags, ev.Param(0))
				}
			}
			if err := r.Next(&ev); err != io.EOF {
				t.Errorf("after the events: %v, want EOF", err)
			}
		})
	}
}

// A section written in the middle of a file reaches the reader's OnSection
// with its own tables, and Offset counts the file as zlib would.
func TestWriterSections(t *testing.T) {
	var buf bytes.Buffer
	m1 := &Metadata{Threads: []Thread{{Tid: 1, Pid: 1, Comm: "one"}}}
	m2 := &Metadata{Threads: []Thread{{Tid: 2, Pid: 2, Comm: "two"}, {Tid: 3, Pid: 3, Comm: "three"}}}
	w, err := NewWriter(&buf, false, m1)
	if err != nil {
		t.Fatal(err)
	}
	fd := le.AppendUint64(nil, 3)
	ev := Event{Ts: 2, Tid: 1, Type: event.SyscallCloseE, NParams: 1, Lens: []uint32{8}, Offs: []uint32{0}, Data: fd}
	for range 2000 {
		if err := w.WriteEvent(&ev); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.WriteSection(m2); err != nil {
		t.Fatal(err)
	}
	if err := w.WriteEvent(&ev); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	// zlib holds back what it has not flushed: less than its buffer.
	if off := w.Offset(); off > int64(buf.Len()) || int64(buf.Len())-off >= zlibWriteBuf || off%zlibWriteBuf != 0 {
		t.Errorf("Offset %d for %d bytes written in small pieces", off, buf.Len())
	}
	r, err := NewReader(bytes.NewReader(buf.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	var sections []int
	r.OnSection = func(m *Metadata) { sections = append(sections, len(m.Threads)) }
	n, err := readAll(r)
	if err != nil || n != 2001 {
		t.Fatalf("read %d events, %v", n, err)
	}
	if len(sections) != 1 || sections[0] != 2 {
		t.Errorf("sections seen: %v, want one with 2 threads", sections)
	}
}

// Writing an event allocates nothing (a live capture writes a million a
// second), compressed or not.
func TestWriteEventAllocs(t *testing.T) {
	for _, compress := range []bool{false, true} {
		w, err := NewWriter(io.Discard, compress, &Metadata{})
		if err != nil {
			t.Fatal(err)
		}
		data := make([]byte, 100)
		ev := Event{Ts: 1, Tid: 2, Type: event.SyscallWriteX, NParams: 2, Lens: []uint32{8, 92}, Offs: []uint32{0, 8}, Data: data}
		for i := 0; i < 1000; i++ { // let the buffers grow first
			w.WriteEvent(&ev)
		}
		if a := testing.AllocsPerRun(1000, func() { w.WriteEvent(&ev) }); a != 0 {
			t.Errorf("compress=%v: %.1f allocations per event", compress, a)
		}
	}
}

// BenchmarkWriteEvent writes events of the sizes a live capture makes most
// (a syscall exit with a return value, a write with an 80-byte buffer).
func BenchmarkWriteEvent(b *testing.B) {
	w, err := NewWriter(io.Discard, false, &Metadata{})
	if err != nil {
		b.Fatal(err)
	}
	small := Event{Ts: 1, Tid: 2, Type: event.SyscallGetcwdX, NParams: 1, Lens: []uint32{8}, Offs: []uint32{0}, Data: make([]byte, 8)}
	write := Event{Ts: 1, Tid: 2, Type: event.SyscallWriteX, NParams: 2, Lens: []uint32{8, 80}, Offs: []uint32{0, 8}, Data: make([]byte, 88)}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		if i&1 == 0 {
			w.WriteEvent(&small)
		} else {
			w.WriteEvent(&write)
		}
	}
}
