package filter

import (
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/syscope/syscope/field"
	"github.com/syscope/syscope/scap"
	"github.com/syscope/syscope/state"
)

// captureFile returns a shared real capture, or skips the test when the
// shared captures are not there (a clone without ../shared).
func captureFile(tb testing.TB, name string) string {
	tb.Helper()
	dir := os.Getenv("SYSCOPE_CAPTURES")
	if dir == "" {
		dir = filepath.Join("..", "..", "shared", "captures")
	}
	p := filepath.Join(dir, name)
	if _, err := os.Stat(p); err != nil {
		tb.Skipf("shared capture %s not found (set SYSCOPE_CAPTURES to the directory of the real captures): %v", name, err)
	}
	return p
}

// eachEvent reads a capture through the state engine, filtering with f the
// way the command line does, and calls fn for each event that passes.
func eachEvent(tb testing.TB, path string, f *Filter, fn func(c *field.Ctx, e *state.Event)) {
	eachEventPipe(tb, path, true, f, fn)
}

// eachEventPipe is eachEvent with the reader's decoding goroutine on or off.
// Off, no other goroutine allocates while fn runs: testing.AllocsPerRun
// counts the whole program's allocations, and with the decoder running
// TestMatchAllocatesNothing failed in 1 and 2 of 40 runs under -race (0 of
// 60 without it).
func eachEventPipe(tb testing.TB, path string, pipe bool, f *Filter, fn func(c *field.Ctx, e *state.Event)) {
	r, err := scap.Open(path)
	if err != nil {
		tb.Fatal(err)
	}
	defer r.Close()
	r.SetPipeline(pipe)
	st := state.New()
	st.LoadMetadata(r.Metadata())
	r.OnMetadata = st.LoadMetadata
	ctx := field.NewCtx(st)
	var raw scap.Event
	ev := state.Event{Event: &raw}
	keep := func(e *state.Event) bool { return f.Match(ctx, e) }
	for {
		if err := r.Next(&raw); err == io.EOF {
			return
		} else if err != nil {
			tb.Fatal(err)
		}
		ev.Info = raw.Type.Info()
		if st.ProcessFiltered(&ev, keep) {
			fn(ctx, &ev)
		}
	}
}

// benchFilters are filters of the kinds the seeds use.
var benchFilters = []string{
	`evt.buffer contains localdomain`,
	`fd.name=/etc/resolv.conf`,
	`proc.name=haproxy and evt.type=connect and fd.sport=80`,
	`fd.type in (ipv4, ipv6) and (k8s.ns.name=critical-app or proc.name=skydns)`,
	`fd.net=192.168.0.0/24 and not fd.port in (80, 443)`,
	`tolower(proc.name) glob "py*" and evt.rawres<0`,
	`proc.aname=tini and evt.dir=<`,
}

// TestMatchAllocatesNothing evaluates filters on real events and checks that
// evaluation itself allocates nothing.
func TestMatchAllocatesNothing(t *testing.T) {
	path := captureFile(t, "sysdig_inspect_502Error.scap")
	for _, text := range benchFilters {
		f, err := Compile(text)
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		eachEvent(t, path, f, func(c *field.Ctx, e *state.Event) {})
		all, err := Compile("evt.num>0")
		if err != nil {
			t.Fatal(err)
		}
		eachEventPipe(t, path, false, all, func(c *field.Ctx, e *state.Event) {
			n++
			if n%50 != 0 {
				return
			}
			f.Match(c, e) // warm the buffers up
			if a := testing.AllocsPerRun(3, func() { f.Match(c, e) }); a != 0 {
				t.Fatalf("%q allocates %.0f times on event %d", text, a, e.Num)
			}
		})
	}
}

// BenchmarkFilteredRead reads, parses and filters a real capture, as
// `syscope -r F FILTER > /dev/null` does.
func BenchmarkFilteredRead(b *testing.B) {
	path := captureFile(b, "sysdig_inspect_502Error.scap")
	for _, text := range benchFilters {
		f, err := Compile(text)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(text, func(b *testing.B) {
			b.ReportAllocs()
			events := 0
			for i := 0; i < b.N; i++ {
				eachEvent(b, path, f, func(c *field.Ctx, e *state.Event) { events++ })
			}
			b.ReportMetric(float64(events)/float64(b.N), "matches/op")
		})
	}
}

// BenchmarkEventLoop times what the event loop does per event of a
// filter-only read, without the decoding (done once, before timing): the
// state engine and the filter, on the events of a real capture. It reports
// nanoseconds per event; "none" is the state engine alone. The capture is
// the 502 sample, or the file $SYSCOPE_BENCH_CAPTURE names.
func BenchmarkEventLoop(b *testing.B) {
	path := os.Getenv("SYSCOPE_BENCH_CAPTURE")
	if path == "" {
		path = captureFile(b, "sysdig_inspect_502Error.scap")
	}
	r, err := scap.Open(path)
	if err != nil {
		b.Fatal(err)
	}
	meta := *r.Metadata()
	var events []scap.Event
	for {
		e, err := r.NextPtr()
		if err == io.EOF {
			break
		} else if err != nil {
			b.Fatal(err)
		}
		c := *e
		c.Data = append([]byte(nil), e.Data...)
		c.Lens = append([]uint32(nil), e.Lens...)
		c.Offs = append([]uint32(nil), e.Offs...)
		events = append(events, c)
	}
	r.Close()
	for _, text := range append([]string{"none"}, benchFilters[:4]...) {
		var f *Filter
		if text != "none" {
			if f, err = Compile(text); err != nil {
				b.Fatal(err)
			}
		}
		b.Run(text, func(b *testing.B) {
			b.ReportAllocs()
			// One state for all passes, each a new section, as for the
			// concatenated copies bench/compare.sh reads.
			st := state.New()
			st.LoadMetadata(&meta)
			ctx := field.NewCtx(st)
			var keep func(*state.Event) bool
			if f != nil {
				keep = func(e *state.Event) bool { return f.Match(ctx, e) }
			}
			var elapsed time.Duration
			for b.Loop() {
				st.Restart(&meta)
				var ev state.Event
				start := time.Now()
				for i := range events {
					ev.Event = &events[i]
					ev.Info = ev.Type.Info()
					st.ProcessFiltered(&ev, keep)
				}
				elapsed += time.Since(start)
			}
			b.ReportMetric(float64(elapsed.Nanoseconds())/float64(b.N*len(events)), "ns/event")
		})
	}
}
