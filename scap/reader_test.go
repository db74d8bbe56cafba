package scap

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// capturesDir finds ../shared/captures from the module root, or skips.
func capturesDir(t testing.TB) string {
	t.Helper()
	if d := os.Getenv("SYSCOPE_CAPTURES"); d != "" {
		return d
	}
	d, _ := filepath.Abs("../../shared/captures")
	if _, err := os.Stat(d); err != nil {
		t.Skipf("no shared captures at %s (set SYSCOPE_CAPTURES): skipping", d)
	}
	return d
}

func readAll(r *Reader) (int, error) {
	var ev Event
	n := 0
	for {
		err := r.Next(&ev)
		if err == io.EOF {
			return n, nil
		}
		if err != nil {
			return n, err
		}
		n++
	}
}

// Event block counts of the shared captures (from SOURCES.md), minus the events of
// types sysdig 0.29.3 does not know (libs_sample has 95 of them).
var wantEvents = map[string]int{
	"falco_cat_write.scap":         345,
	"falco_empty_2019.scap":        143,
	"libs_curl_google.scap":        1536,
	"libs_sample.scap":             477,
	"sysdig_inspect_502Error.scap": 22381,
	"bencer_example0_nginx.scap":   143,
}

func TestReadSharedCaptures(t *testing.T) {
	dir := capturesDir(t)
	for name, want := range wantEvents {
		t.Run(name, func(t *testing.T) {
			r, err := Open(filepath.Join(dir, name))
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			n, err := readAll(r)
			if err != nil {
				t.Fatal(err)
			}
			if n != want {
				t.Errorf("%d events, want %d", n, want)
			}
			if len(r.Metadata().Threads) == 0 || r.Metadata().Machine == nil {
				t.Errorf("metadata missing: %d threads, machine %v", len(r.Metadata().Threads), r.Metadata().Machine)
			}
		})
	}
}

func plainCapture(t testing.TB, name string) []byte {
	t.Helper()
	r, err := Open(filepath.Join(capturesDir(t), name))
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	var buf bytes.Buffer
	w, err := NewWriter(&buf, false, r.Metadata())
	if err != nil {
		t.Fatal(err)
	}
	var ev Event
	for r.Next(&ev) == nil {
		if err := w.WriteEvent(&ev); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestDamagedInput(t *testing.T) {
	good := plainCapture(t, "falco_cat_write.scap")
	r, _ := NewReader(bytes.NewReader(good))
	total, err := readAll(r)
	if err != nil || total != 345 {
		t.Fatalf("rewritten capture: %d events, %v", total, err)
	}
	lying := append([]byte(nil), good...)
	// Make the last block's length lie: 4 GB.
	copy(lying[len(lying)-4:], []byte{0xff, 0xff, 0xff, 0xff})
	tests := []struct {
		name    string
		data    []byte
		wantMsg string
		minRead int
	}{
		{"empty", nil, "empty file", 0},
		{"wrong magic", []byte("GARBAGEGARBAGEGARBAGE"), "not a capture file", 0},
		{"truncated", good[:len(good)-100], "truncated", total - 5},
		{"trailer lies", lying, "trailer length", total - 1},
		{"garbage in the middle", append(append(append([]byte(nil), good[:len(good)-3000]...), bytes.Repeat([]byte{0xAB}, 64)...), good[len(good)-3000:]...), "", 100},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := NewReader(bytes.NewReader(tt.data))
			if err != nil {
				if tt.wantMsg == "" || !strings.Contains(err.Error(), tt.wantMsg) {
					t.Fatalf("open: %v, want %q", err, tt.wantMsg)
				}
				return
			}
			n, err := readAll(r)
			var e *Error
			if err == nil || !errors.As(err, &e) {
				t.Fatalf("read %d events with error %v, want a positioned *Error", n, err)
			}
			if tt.wantMsg != "" && !strings.Contains(err.Error(), tt.wantMsg) {
				t.Errorf("error %q does not say %q", err, tt.wantMsg)
			}
			if n < tt.minRead {
				t.Errorf("only %d events before the damage, want at least %d", n, tt.minRead)
			}
		})
	}
}

func TestWriterLargeAndFlags(t *testing.T) {
	good := plainCapture(t, "falco_cat_write.scap")
	r, _ := NewReader(bytes.NewReader(good))
	var buf bytes.Buffer
	w, err := NewWriter(&buf, true, r.Metadata())
	if err != nil {
		t.Fatal(err)
	}
	w.Large = true
	var ev Event
	n := 0
	for r.Next(&ev) == nil {
		ev.Flags = uint32(n % 2) // every other event in an EVF block
		if err := w.WriteEvent(&ev); err != nil {
			t.Fatal(err)
		}
		n++
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	r2, err := NewReader(bytes.NewReader(buf.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	m := 0
	for {
		err := r2.Next(&ev)
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if ev.Flags != uint32(m%2) {
			t.Fatalf("event %d: flags %d", m, ev.Flags)
		}
		m++
	}
	if m != n {
		t.Fatalf("read back %d events of %d", m, n)
	}
}

func BenchmarkRead(b *testing.B) {
	data := plainCapture(b, "sysdig_inspect_502Error.scap")
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		r, _ := NewReader(bytes.NewReader(data))
		if _, err := readAll(r); err != nil {
			b.Fatal(err)
		}
	}
}

func FuzzReader(f *testing.F) {
	{
		for _, name := range []string{"falco_cat_write.scap", "libs_sample.scap"} {
			p, _ := filepath.Abs(filepath.Join("../../shared/captures", name))
			if r, err := Open(p); err == nil {
				var buf bytes.Buffer
				w, _ := NewWriter(&buf, false, r.Metadata())
				var ev Event
				for i := 0; i < 20 && r.Next(&ev) == nil; i++ {
					_ = w.WriteEvent(&ev)
				}
				_ = w.Close()
				r.Close()
				f.Add(buf.Bytes())
			}
		}
	}
	// Old-style event blocks (no parameter count), as sysdig 0.29.3 wrote
	// the 502 sample: its first 64 KiB, tables and the first events.
	if b, err := os.ReadFile(filepath.Join("../../shared/captures", "sysdig_inspect_502Error.scap")); err == nil && len(b) > 64<<10 {
		f.Add(b[:64<<10])
	}
	f.Add([]byte{0x0a, 0x0d, 0x0d, 0x0a, 28, 0, 0, 0, 0x4d, 0x3c, 0x2b, 0x1a, 1, 0, 2, 0})
	f.Fuzz(func(t *testing.T, data []byte) {
		// Next decodes a block found whole in its buffer on a fast path;
		// with OnBlock set, every block takes the general one. Both must
		// read the same events and end with the same error.
		read := func(general bool) []string {
			r, err := NewReader(bytes.NewReader(data))
			if err != nil {
				return []string{"open: " + err.Error()}
			}
			r.SetPipeline(false)
			if general {
				r.OnBlock = func(int64, uint32, uint32) {}
			}
			var out []string
			var ev Event
			for i := 0; i < 10000; i++ {
				err := r.Next(&ev)
				if err != nil {
					var e *Error
					if err != io.EOF && !errors.As(err, &e) && !errors.Is(err, io.ErrUnexpectedEOF) {
						t.Fatalf("unpositioned error: %v", err)
					}
					return append(out, "end: "+err.Error())
				}
				for j := 0; j < ev.NParams; j++ {
					_ = ev.Param(j)
				}
				out = append(out, fmt.Sprintf("%d %d %d %d %d %d %v %x %d %v %d", ev.Ts, ev.Tid, ev.Type, ev.CPU, ev.Flags, ev.NParams, ev.Lens, ev.Data, ev.Offset, ev.Large, r.Offset()))
			}
			return out
		}
		fast, general := read(false), read(true)
		if len(fast) != len(general) {
			t.Fatalf("fast path: %d items, general path: %d", len(fast), len(general))
		}
		for i := range fast {
			if fast[i] != general[i] {
				t.Fatalf("item %d: fast path %q, general path %q", i, fast[i], general[i])
			}
		}
	})
}
