package builtin

import (
	"bufio"
	"bytes"
	"io"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/syscope/syscope/chisel"
	"github.com/syscope/syscope/field"
	"github.com/syscope/syscope/scap"
	"github.com/syscope/syscope/state"
)

// The benchmarks and allocation tests run the chisels in process, on the
// shared capture sysdig_inspect_502Error.scap ($SYSCOPE_CAPTURES, or
// ../shared/captures next to the repository), read and parsed as syscope
// -r reads it.

func captureData(tb testing.TB, name string) []byte {
	tb.Helper()
	dir := os.Getenv("SYSCOPE_CAPTURES")
	if dir == "" {
		dir = filepath.Join("..", "..", "..", "shared", "captures")
	}
	b, err := os.ReadFile(filepath.Join(dir, name))
	if err != nil {
		tb.Skipf("skipping: capture %s not available (%v); set SYSCOPE_CAPTURES", name, err)
	}
	return b
}

// pipeline reads a capture through the state engine and, if chiselName is
// not "", a chisel; record keeps a copy of each event the chisel saw.
type pipeline struct {
	st     *state.State
	runner *chisel.Runner
	out    *bufio.Writer
	events int
	saved  []state.Event
}

func newPipeline(tb testing.TB, r *scap.Reader, chiselName, args string, out io.Writer) *pipeline {
	tb.Helper()
	p := &pipeline{st: state.New(), out: bufio.NewWriterSize(out, 1<<16)}
	p.st.LoadMetadata(r.Metadata())
	r.OnMetadata = p.st.LoadMetadata
	r.OnSection = p.st.Restart
	if chiselName == "" {
		return p
	}
	host := &chisel.Host{State: p.st, Ctx: field.NewCtx(p.st), Out: p.out, Err: io.Discard,
		Path: &chisel.Path{}, TermWidth: -1, TermHeight: -1}
	runner, err := chisel.Open(host.Path, host, chiselName)
	if err != nil {
		tb.Fatal(err)
	}
	if err := runner.SetArgs(args); err != nil {
		tb.Fatal(err)
	}
	if err := runner.Init(); err != nil {
		tb.Fatal(err)
	}
	if err := runner.CaptureStart(); err != nil {
		tb.Fatal(err)
	}
	p.runner = runner
	return p
}

// run reads every event of r.
func (p *pipeline) run(tb testing.TB, r *scap.Reader, record bool) {
	var raw scap.Event
	ev := state.Event{Event: &raw}
	for {
		err := r.Next(&raw)
		if err == io.EOF {
			break
		}
		if err != nil {
			tb.Fatal(err)
		}
		ev.Info = raw.Type.Info()
		p.st.Process(&ev)
		p.events++
		if p.runner == nil {
			continue
		}
		if _, err := p.runner.Event(&ev); err != nil {
			tb.Fatal(err)
		}
		if record {
			cp := ev
			r := raw
			r.Lens, r.Offs, r.Data = slices.Clone(raw.Lens), slices.Clone(raw.Offs), slices.Clone(raw.Data)
			cp.Event = &r
			p.saved = append(p.saved, cp)
		}
	}
	if p.runner != nil {
		if err := p.runner.CaptureEnd(); err != nil {
			tb.Fatal(err)
		}
	}
	p.out.Flush()
}

// benchChisel runs chisel name (none for "") over copies of the capture,
// and reports the time and allocations per event.
func benchChisel(b *testing.B, name string) {
	data := captureData(b, "sysdig_inspect_502Error.scap")
	big := bytes.Repeat(data, 4)
	b.ReportAllocs()
	b.SetBytes(int64(len(big)))
	events := 0
	for b.Loop() {
		r, err := scap.NewReader(bytes.NewReader(big))
		if err != nil {
			b.Fatal(err)
		}
		p := newPipeline(b, r, name, "", io.Discard)
		p.run(b, r, false)
		events += p.events
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(events), "ns/event")
}

// BenchmarkPipelineNoChisel is the floor: reading and parsing the events.
func BenchmarkPipelineNoChisel(b *testing.B) { benchChisel(b, "") }

// BenchmarkTopprocsCPU is -c topprocs_cpu.
func BenchmarkTopprocsCPU(b *testing.B) { benchChisel(b, "topprocs_cpu") }

// BenchmarkEchoFDs is -c echo_fds.
func BenchmarkEchoFDs(b *testing.B) { benchChisel(b, "echo_fds") }

// BenchmarkTopscalls is -c topscalls (a table_generator).
func BenchmarkTopscalls(b *testing.B) { benchChisel(b, "topscalls") }

// TestPerEventAllocs checks that the chisels' per-event path does not
// allocate: once a chisel has seen the capture (its tables hold every key),
// the events are given to it again and must not allocate.
func TestPerEventAllocs(t *testing.T) {
	data := captureData(t, "sysdig_inspect_502Error.scap")
	for _, c := range []struct{ name, args string }{
		{"topprocs_cpu", ""}, {"topcontainers_cpu", ""}, {"echo_fds", ""}, {"topscalls", ""},
		{"topscalls_time", ""}, {"topfiles_bytes", ""}, {"topfiles_time", ""}, {"topconns", ""},
		{"topprocs_net", ""}, {"topprocs_file", ""}, {"topports_server", ""}, {"topprocs_errors", ""},
		{"fdbytes_by", "proc.name"}, {"fdcount_by", "proc.name"}, {"stdout", ""}, {"stderr", ""},
		{"spy_file", ""}, {"spy_port", "80"}, {"spy_ip", "172.18.0.2"}, {"fileslower", "0"},
		{"netlower", "0"}, {"proc_exec_time", ""}, {"bottlenecks", ""}, {"iobytes", ""},
		{"iobytes_net", ""}, {"spy_users", ""}, {"lsof", ""},
	} {
		name := c.name
		t.Run(name, func(t *testing.T) {
			r, err := scap.NewReader(bytes.NewReader(data))
			if err != nil {
				t.Fatal(err)
			}
			p := newPipeline(t, r, name, c.args, io.Discard)
			p.run(t, r, true)
			if len(p.saved) == 0 {
				t.Fatal("no event")
			}
			allocs := testing.AllocsPerRun(3, func() {
				for i := range p.saved {
					if _, err := p.runner.Event(&p.saved[i]); err != nil {
						t.Fatal(err)
					}
				}
			})
			perEvent := allocs / float64(len(p.saved))
			t.Logf("%s: %.4f allocations per event over %d events", name, perEvent, len(p.saved))
			if perEvent > 0.001 {
				t.Errorf("%s allocates %.4f times per event", name, perEvent)
			}
		})
	}
}
