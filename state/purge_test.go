package state

import (
	"testing"

	"github.com/syscope/syscope/event"
	"github.com/syscope/syscope/scap"
)

// The live look-over drops, 30 s after the first event and then every 20
// minutes, the exited threads kept for their children and the threads
// unseen for 30 minutes that /proc no longer has; nothing else.
func TestPurgeThreads(t *testing.T) {
	const sec = uint64(1_000_000_000)
	base := 1_700_000_000 * sec
	s := New()
	s.LoadMetadata(&scap.Metadata{Threads: []scap.Thread{
		{Tid: 10, Pid: 10, Ptid: 1, Comm: "alive"},  // in /proc
		{Tid: 20, Pid: 20, Ptid: 1, Comm: "gone"},   // exited unseen
		{Tid: 30, Pid: 30, Ptid: 1, Comm: "busy"},   // gone from /proc, but seen lately
		{Tid: 40, Pid: 40, Ptid: 1, Comm: "parent"}, // gone (a child process does not keep it)
		{Tid: 41, Pid: 41, Ptid: 40, Comm: "child"}, // in /proc
		{Tid: 50, Pid: 50, Ptid: 1, Comm: "closed"}, // exited, kept for its thread
		{Tid: 51, Pid: 50, Ptid: 50, Comm: "closed", Flags: CloneThread},
	}})
	s.Thread(50).Flags |= CloneClosed
	asked := map[int64]bool{}
	s.PurgeThreads(func(pid, tid int64, comm string) bool {
		asked[tid] = true
		return tid == 10 || tid == 41 || tid == 51
	})
	has := func(tid int64) bool { return s.threads[tid] != nil }
	ev := func(ts uint64, tid int64) { s.Process(mkEvent(ts, tid, event.SyscallCloseE, 99)) }

	ev(base, 30)        // the first event: the look-over is due 30 s later
	ev(base+29*sec, 30) // not yet
	if len(asked) != 0 || !has(50) {
		t.Fatalf("looked over too early: asked %v", asked)
	}
	ev(base+31*sec, 30) // the look-over runs at the next event, at the time of this one
	ev(base+32*sec, 30)
	// Threads from the tables have not been seen since: /proc is asked.
	for tid, want := range map[int64]bool{10: true, 20: false, 30: true, 40: false, 41: true, 51: true} {
		if has(tid) != want {
			t.Errorf("after the first look-over: thread %d present %v, want %v (asked %v)", tid, has(tid), want, asked)
		}
	}
	// The exited main thread went; its live thread brings back a placeholder.
	if m := s.threads[50]; m != nil && m.Comm == "closed" {
		t.Error("the exited main thread is still there")
	}
	if asked[50] {
		t.Error("asked /proc about an exited thread")
	}
	if asked[30] {
		t.Error("asked /proc about a thread seen in the last 30 minutes")
	}
	// 20 minutes on, thread 30 has been quiet for 20 minutes only: it stays.
	ev(base+(31+1201)*sec, 10)
	ev(base+(31+1202)*sec, 10)
	if !has(30) {
		t.Error("thread 30 dropped after 20 quiet minutes")
	}
	// 40 minutes on: quiet for 40 minutes and gone from /proc.
	ev(base+(31+2404)*sec, 10)
	ev(base+(31+2405)*sec, 10)
	if has(30) {
		t.Error("thread 30 kept after 40 quiet minutes, gone from /proc")
	}
	if !has(10) || !has(41) {
		t.Error("a live thread was dropped")
	}
}
