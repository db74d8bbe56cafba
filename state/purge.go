package state

import "sort"

// The thread table of a live capture is looked over as libsinsp does it: 30
// seconds after the first event, then every 20 minutes. It drops the threads
// that exited while children of theirs lived on (CloneClosed), and those no
// event has named for 30 minutes that the proc file system no longer has:
// their exit was never seen (dropped, or before the capture started). A
// capture file is never looked over (libsinsp neither: it cannot ask /proc
// of the machine that recorded it).
const (
	purgeFirst    = 30_000_000_000
	purgeInterval = 1_200_000_000_000
	threadTimeout = 1_800_000_000_000
)

// PurgeThreads turns the look-over on, for a live capture. alive says
// whether thread tid of process pid still runs under the name comm
// (procfs.ThreadAlive).
func (s *State) PurgeThreads(alive func(pid, tid int64, comm string) bool) {
	s.alive = alive
	s.nextPurge = 0
}

// maybePurge looks the table over if now, the time of the last event, is
// past the next look-over.
func (s *State) maybePurge(now uint64) {
	if s.nextPurge == 0 {
		s.nextPurge = now + purgeFirst
		return
	}
	if now <= s.nextPurge {
		return
	}
	s.nextPurge = now + purgeInterval
	type victim struct {
		tid    int64
		closed bool
	}
	var vs []victim
	for tid, t := range s.threads {
		closed := t.Flags&CloneClosed != 0
		if closed || (now > t.lastAccess+threadTimeout && !s.alive(t.Pid, t.Tid, t.Comm)) {
			vs = append(vs, victim{tid, closed})
		}
	}
	if len(vs) == 0 {
		return
	}
	sort.Slice(vs, func(i, j int) bool { return vs[i].tid < vs[j].tid })
	for _, v := range vs {
		// A thread still parent of others stays unless it has exited.
		s.removeThread(v.tid, v.closed)
	}
	s.recountChildren()
}
