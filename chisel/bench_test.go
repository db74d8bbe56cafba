package chisel

import (
	"bytes"
	"encoding/binary"
	"testing"

	lua "github.com/yuin/gopher-lua"

	"github.com/syscope/syscope/event"
	"github.com/syscope/syscope/scap"
	"github.com/syscope/syscope/state"
)

// benchFields are the fields the benchmarks extract: a string, a number
// and a string that repeats.
var benchFields = []string{"evt.type", "evt.rawarg.res", "proc.name"}

func benchEvent() *state.Event {
	data := binary.LittleEndian.AppendUint64(nil, 3)
	raw := &scap.Event{Type: event.SyscallCloseX, Ts: 1, Tid: 1, NParams: 1, Lens: []uint32{8}, Offs: []uint32{0}, Data: data}
	return &state.Event{Event: raw, Info: raw.Type.Info()}
}

func benchRunner(b *testing.B, onEvent string) (*Runner, *state.Event) {
	src := `args = {}
local field = evt.field
function on_init()
  f1 = chisel.request_field("evt.type"); f2 = chisel.request_field("evt.rawarg.res"); f3 = chisel.request_field("proc.name")
  return true
end
function on_event() ` + onEvent + ` return true end
`
	dir := b.TempDir()
	if err := writeFile(dir+"/bench.lua", src); err != nil {
		b.Fatal(err)
	}
	var out bytes.Buffer
	h := testHost(dir, &out)
	r, err := Open(h.Path, h, "bench")
	if err != nil {
		b.Fatal(err)
	}
	if err := r.Init(); err != nil {
		b.Fatal(err)
	}
	return r, benchEvent()
}

// BenchmarkExtract is the cost of extracting the fields directly, the floor
// for a chisel that requests them.
func BenchmarkExtract(b *testing.B) {
	e := benchEvent()
	var out bytes.Buffer
	h := testHost(".", &out)
	var rfs []*reqField
	for _, n := range benchFields {
		f, err := RequestField(n)
		if err != nil {
			b.Fatal(err)
		}
		rfs = append(rfs, newReqField(f))
	}
	var buf []byte
	b.ReportAllocs()
	for b.Loop() {
		for _, rf := range rfs {
			buf, _ = rf.f.Ex(h.Ctx, e, buf[:0])
		}
	}
}

// BenchmarkOnEventEmpty is the cost of calling an empty on_event.
func BenchmarkOnEventEmpty(b *testing.B) {
	r, e := benchRunner(b, "")
	defer r.Close()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := r.Event(e); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkOnEventFields is on_event reading the three fields.
func BenchmarkOnEventFields(b *testing.B) {
	r, e := benchRunner(b, "local a, b, c = field(f1), field(f2), field(f3)")
	defer r.Close()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := r.Event(e); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkOnEventGoCalls is on_event calling a Go function that does
// nothing three times: the floor of three evt.field calls in gopher-lua.
func BenchmarkOnEventGoCalls(b *testing.B) {
	r, e := benchRunner(b, "local a, b, c = noop(f1), noop(f2), noop(f3)")
	defer r.Close()
	L := r.prog.(*luaProgram).L
	L.SetGlobal("noop", L.NewFunction(func(L *lua.LState) int { L.Push(lua.LNil); return 1 }))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := r.Event(e); err != nil {
			b.Fatal(err)
		}
	}
}
