package scap

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/klauspost/compress/gzip"
	"github.com/syscope/syscope/event"
)

// trace reads a whole capture and records, for each event and metadata
// callback, what the caller sees.
func trace(t *testing.T, r *Reader) []string {
	t.Helper()
	var out []string
	r.OnSection = func(m *Metadata) { out = append(out, fmt.Sprintf("section %d threads", len(m.Threads))) }
	r.OnMetadata = func(m *Metadata) { out = append(out, fmt.Sprintf("metadata %d threads", len(m.Threads))) }
	var ev Event
	for {
		err := r.Next(&ev)
		if err == io.EOF {
			return out
		}
		if err != nil {
			return append(out, "error "+err.Error())
		}
		out = append(out, fmt.Sprintf("%d %d %d %d %x %v %d %d", ev.Ts, ev.Tid, ev.Type, ev.CPU, ev.Data, ev.Lens, ev.Offset, r.Offset()))
	}
}

// sectioned writes a capture of three sections, with events big enough to
// straddle the input buffers.
func sectioned(t *testing.T) []byte {
	t.Helper()
	var buf bytes.Buffer
	w, err := NewWriter(&buf, false, &Metadata{Threads: []Thread{{Tid: 1, Pid: 1, Comm: "one"}}})
	if err != nil {
		t.Fatal(err)
	}
	for s := 0; s < 3; s++ {
		if s > 0 {
			threads := make([]Thread, s+1)
			for i := range threads {
				threads[i] = Thread{Tid: int64(i + 1), Pid: 1, Comm: "t"}
			}
			if err := w.WriteSection(&Metadata{Threads: threads}); err != nil {
				t.Fatal(err)
			}
		}
		for i := 0; i < 3000; i++ {
			data := bytes.Repeat([]byte{byte(i)}, 8+i%700)
			ev := Event{Ts: uint64(s*10000 + i), Tid: int64(i % 7), Type: event.SyscallWriteX, CPU: uint16(i % 2),
				NParams: 2, Lens: []uint32{8, uint32(len(data) - 8)}, Offs: []uint32{0, 8}, Data: data}
			if err := w.WriteEvent(&ev); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// The pipeline hands out the same events, metadata and offsets, in the same
// order, as decoding in the caller's goroutine; damaged input ends both the
// same way.
func TestPipelineMatchesSync(t *testing.T) {
	data := sectioned(t)
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write(data)
	zw.Close()
	inputs := map[string][]byte{
		"sections":  data,
		"gzip":      gz.Bytes(),
		"truncated": data[:len(data)-5000],
		"garbage":   append(append(append([]byte(nil), data[:len(data)/2]...), bytes.Repeat([]byte{0xAB}, 64)...), data[len(data)/2:]...),
	}
	for name, in := range inputs {
		t.Run(name, func(t *testing.T) {
			open := func(pipe bool) *Reader {
				r, err := NewReader(bytes.NewReader(in))
				if err != nil {
					t.Fatal(err)
				}
				r.SetPipeline(pipe)
				return r
			}
			want := trace(t, open(false))
			if len(want) < 4000 {
				t.Fatalf("only %d items read", len(want))
			}
			same := func(how string, got []string) {
				t.Helper()
				if len(got) != len(want) {
					t.Fatalf("%s: %d items, in the caller's goroutine: %d (last %q vs %q)", how, len(got), len(want), got[len(got)-1], want[len(want)-1])
				}
				for i := range want {
					if got[i] != want[i] {
						t.Fatalf("item %d: %s %q, want %q", i, how, got[i], want[i])
					}
				}
			}
			same("pipeline", trace(t, open(true)))
			// The same from a file opened by name.
			path := filepath.Join(t.TempDir(), "in.scap")
			if err := os.WriteFile(path, in, 0o600); err != nil {
				t.Fatal(err)
			}
			for _, pipe := range []bool{false, true} {
				r, err := Open(path)
				if err != nil {
					t.Fatal(err)
				}
				r.SetPipeline(pipe)
				got := trace(t, r)
				got[len(got)-1] = strings.Replace(got[len(got)-1], path+": ", "capture: ", 1)
				same(fmt.Sprintf("file (pipeline %v)", pipe), got)
				if err := r.Close(); err != nil {
					t.Fatal(err)
				}
			}
		})
	}
}

// From a pipe, an event is handed out as soon as its bytes have arrived,
// not when a batch is full.
func TestPipelineFromPipe(t *testing.T) {
	data := sectioned(t)
	pr, pw := io.Pipe()
	cut := 100 << 10 // a few hundred events: less than a batch
	go pw.Write(data[:cut])
	r, err := NewReader(pr)
	if err != nil {
		t.Fatal(err)
	}
	got := make(chan error, 1)
	go func() {
		var ev Event
		got <- r.Next(&ev)
		for r.Next(&ev) == nil {
		}
	}()
	select {
	case err := <-got:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no event 10 s after the first 100 KiB of the capture were written")
	}
	pw.Write(data[cut:])
	pw.Close()
}

// Close stops the goroutine, and Next then fails instead of blocking.
func TestPipelineClose(t *testing.T) {
	p := filepath.Join(t.TempDir(), "c.scap")
	if err := os.WriteFile(p, sectioned(t), 0o600); err != nil {
		t.Fatal(err)
	}
	r, err := Open(p)
	if err != nil {
		t.Fatal(err)
	}
	var ev Event
	if err := r.Next(&ev); err != nil {
		t.Fatal(err)
	}
	if r.pipe == nil {
		t.Skip("one CPU: no pipeline")
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	select {
	case <-r.pipe.exited:
	default:
		t.Fatal("Close returned with the goroutine still running")
	}
	if err := r.Next(&ev); err == nil || err == io.EOF {
		t.Fatalf("Next after Close: %v", err)
	}
}
