package state

import (
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/syscope/syscope/scap"
)

// The per-process thread counts kept as threads come, go and exec stay
// equal to a count of the table, on every event of the shared captures.
func TestPerPidCounts(t *testing.T) {
	dir := os.Getenv("SYSCOPE_CAPTURES")
	if dir == "" {
		dir = filepath.Join("..", "..", "shared", "captures")
	}
	paths, _ := filepath.Glob(filepath.Join(dir, "*.scap"))
	if len(paths) == 0 {
		t.Skipf("no shared captures in %s (set SYSCOPE_CAPTURES to the directory of the real captures)", dir)
	}
	for _, p := range paths {
		t.Run(filepath.Base(p), func(t *testing.T) {
			r, err := scap.Open(p)
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			s := New()
			s.LoadMetadata(r.Metadata())
			r.OnMetadata = s.LoadMetadata
			r.OnSection = s.Restart
			check := func(where string) {
				want := map[int64]uint64{}
				for _, th := range s.threads {
					want[th.Pid]++
				}
				if len(want) != len(s.perPid) {
					t.Fatalf("%s: %d processes counted, %d in the table", where, len(s.perPid), len(want))
				}
				for pid, n := range want {
					if s.perPid[pid] != n {
						t.Fatalf("%s: pid %d: %d threads counted, %d in the table", where, pid, s.perPid[pid], n)
					}
				}
			}
			check("after the tables")
			var raw scap.Event
			ev := Event{Event: &raw}
			for {
				if err := r.Next(&raw); err == io.EOF {
					break
				} else if err != nil {
					t.Fatal(err)
				}
				ev.Info = raw.Type.Info()
				s.Process(&ev)
				check("event " + ev.Info.Name)
			}
			check("at the end")
		})
	}
}

// A thread that changes process (execve from a non-main thread) moves
// from one count to the other; one replaced or removed leaves its count.
func TestPerPidMoves(t *testing.T) {
	s := New()
	a := &Thread{s: s, Tid: 6, Pid: 5}
	s.setThread(&Thread{s: s, Tid: 5, Pid: 5})
	s.setThread(a)
	if n := s.countThreadsOf(5); n != 2 {
		t.Fatalf("pid 5: %d threads, want 2", n)
	}
	s.setPid(a, 6)
	if n, m := s.countThreadsOf(5), s.countThreadsOf(6); n != 1 || m != 1 {
		t.Fatalf("after the move: pid 5 %d, pid 6 %d threads, want 1 and 1", n, m)
	}
	s.setThread(&Thread{s: s, Tid: 6, Pid: 7}) // replaces a
	s.deleteThread(5)
	if n, m, o := s.countThreadsOf(5), s.countThreadsOf(6), s.countThreadsOf(7); n != 0 || m != 0 || o != 1 {
		t.Fatalf("pids 5, 6, 7: %d, %d, %d threads, want 0, 0, 1", n, m, o)
	}
	if len(s.perPid) != 1 {
		t.Fatalf("%d pids counted, want 1", len(s.perPid))
	}
}
