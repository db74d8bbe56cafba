package field

import (
	"testing"

	"github.com/syscope/syscope/scap"
	"github.com/syscope/syscope/state"
)

// TestPerThreadForgetsDroppedThreads checks that what a field keeps per
// thread does not outlive the threads: sections come one after another,
// each with new threads, and the map stays within its bound of the table.
func TestPerThreadForgetsDroppedThreads(t *testing.T) {
	const perSection = 10
	st := state.New()
	c := NewCtx(st)
	var p perThread
	for sec := 0; sec < 100; sec++ {
		var m scap.Metadata
		for i := 0; i < perSection; i++ {
			tid := int64(sec*perSection + i + 1)
			m.Threads = append(m.Threads, scap.Thread{Tid: tid, Pid: tid, Comm: "x"})
		}
		st.Restart(&m)
		for i := range m.Threads {
			th := st.Thread(m.Threads[i].Tid)
			if th == nil {
				t.Fatalf("section %d: thread %d not loaded", sec, m.Threads[i].Tid)
			}
			p.set(c, th, uint64(sec))
			if got := p.get(th); got != uint64(sec) {
				t.Fatalf("section %d: got %d back", sec, got)
			}
		}
		if max := 2*st.NumThreads() + 64 + 1; len(p.m) > max {
			t.Fatalf("section %d: %d entries kept for %d live threads (at most %d)", sec, len(p.m), st.NumThreads(), max)
		}
	}
	// The live threads' values are still there.
	for tid := int64(991); tid <= 1000; tid++ {
		if got := p.get(st.Thread(tid)); got != 99 {
			t.Fatalf("thread %d: value %d, want 99", tid, got)
		}
	}
}
