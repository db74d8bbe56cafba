package state

import (
	"sort"

	"github.com/syscope/syscope/scap"
)

// The process tree: how threads find their main thread and their ancestors,
// and the child counts that keep a process in the table while it still has
// threads, as libsinsp's thread manager keeps them.

// MainThread returns the main thread of t's process. When the table does not
// have it, a placeholder is added for it, as libsinsp does when it looks a
// main thread up; it returns nil only for a nil t.
func (s *State) MainThread(t *Thread) *Thread {
	if t == nil {
		return nil
	}
	if t.IsMain() {
		return t
	}
	return s.lookup(t.Pid, true)
}

// Parent returns the thread that started t (its Ptid), or nil when the
// table does not have it.
func (s *State) Parent(t *Thread) *Thread { return s.lookup(t.Ptid, false) }

// Ancestors walks the ancestors of a thread, parent first, as libsinsp
// walks them: it stops at a thread with tid -1 and at a loop in the chain.
type Ancestors struct {
	s          *State
	slow, fast *Thread
	done       bool
}

// Ancestors returns a walk over the ancestors of t.
func (s *State) Ancestors(t *Thread) Ancestors {
	w := Ancestors{s: s, slow: s.Parent(t)}
	if w.slow != nil {
		w.fast = s.Parent(w.slow)
	}
	return w
}

// Next returns the next ancestor, or nil at the end.
func (w *Ancestors) Next() *Thread {
	cur := w.slow
	if w.done || cur == nil || cur.Tid == -1 {
		return nil
	}
	// A second walker moves twice as fast: if they meet, the chain loops.
	w.slow = w.s.Parent(cur)
	for i := 0; i < 2 && !w.done; i++ {
		if w.fast != nil {
			w.fast = w.s.Parent(w.fast)
		}
		if w.slow != nil && (w.slow == w.fast || w.slow.Tid == w.slow.Ptid) {
			w.done = true
		}
	}
	return cur
}

// countThreadsOf returns how many threads of the table belong to process pid.
func (s *State) countThreadsOf(pid int64) uint64 { return s.perPid[pid] }

// addThread puts t in the table. A thread (CLONE_THREAD) is counted as a
// child of its main thread, which is added as a placeholder if missing.
func (s *State) addThread(t *Thread) {
	s.countChild(t)
	s.setThread(t)
}

func (s *State) countChild(t *Thread) {
	if t.Flags&CloneThread == 0 {
		return
	}
	if m := s.lookup(t.Pid, true); m != nil {
		m.NChilds++
	}
}

// removeThread takes thread tid out of the table. Unless force is set, a
// thread that still has children stays (libsinsp removes a process only
// when its last thread is gone).
func (s *State) removeThread(tid int64, force bool) {
	t := s.threads[tid]
	if t == nil {
		return
	}
	n := t.NChilds
	if n != 0 && !force {
		return
	}
	if t.Flags&CloneThread != 0 {
		if m := s.threads[t.Pid]; m != nil && m.NChilds > 0 {
			m.NChilds--
		}
	}
	s.deleteThread(tid)
	if n != 0 {
		s.recountChildren()
	}
}

// recountChildren computes the child counts again from the table.
func (s *State) recountChildren() {
	tids := make([]int64, 0, len(s.threads))
	for tid, t := range s.threads {
		t.NChilds = 0
		tids = append(tids, tid)
	}
	sort.Slice(tids, func(i, j int) bool { return tids[i] < tids[j] })
	for _, tid := range tids {
		if t := s.threads[tid]; t != nil {
			s.countChild(t)
		}
	}
}

// procLoginUID returns the loginuid and exe_writable of a process-table entry
// as sysdig 0.29.3 reads them: right after the root directory. Files written
// by newer libs put pidns_init_start_ts and tty there first, so 0.29.3 takes
// its loginuid from the low half of that timestamp and exe_writable from its
// fifth byte.
func procLoginUID(st *scap.Thread) (uint32, bool) {
	switch {
	case !st.HasLoginUID:
		return 0xffffffff, st.ExeWritable
	case st.HasCaps || st.PidnsInitStart != 0 || st.TTY != 0:
		return uint32(st.PidnsInitStart), byte(st.PidnsInitStart>>32) != 0
	}
	return st.LoginUID, st.ExeWritable
}

// parseContextSwitch takes the page faults of the thread switched out, and
// the memory of its process, from a switch event.
func (s *State) parseContextSwitch(e *Event) {
	t := e.Thread
	if t == nil || e.NParams < 6 {
		return
	}
	t.PFMajor = uint64(i64(e.param(1)))
	t.PFMinor = uint64(i64(e.param(2)))
	if m := s.MainThread(t); m != nil {
		m.VMSizeKB = u32(e.param(3))
		m.VMRSSKB = u32(e.param(4))
		m.VMSwapKB = u32(e.param(5))
	}
}

// noSessions tells whether a process table lacks sessions and process
// groups: the older table formats do not have them, and libscap makes them
// -1. The reader leaves them 0, so a table where every one is 0 is taken to
// come from such a format (a real table has at least init in session 1).
func noSessions(threads []scap.Thread) (noSid, noVpgid bool) {
	noSid, noVpgid = len(threads) > 0, len(threads) > 0
	for i := range threads {
		if threads[i].Sid != 0 {
			noSid = false
		}
		if threads[i].Vpgid != 0 {
			noVpgid = false
		}
	}
	return noSid, noVpgid
}
