package state

import (
	"encoding/binary"
	"math"
	"testing"

	"github.com/syscope/syscope/event"
	"github.com/syscope/syscope/scap"
)

// mkEvent builds an event whose parameters are the given little-endian
// 64-bit values.
func mkEvent(ts uint64, tid int64, typ event.Type, vals ...uint64) *Event {
	raw := &scap.Event{Ts: ts, Tid: tid, Type: typ, NParams: len(vals)}
	for _, v := range vals {
		raw.Offs = append(raw.Offs, uint32(len(raw.Data)))
		raw.Lens = append(raw.Lens, 8)
		raw.Data = binary.LittleEndian.AppendUint64(raw.Data, v)
	}
	return &Event{Event: raw, Info: typ.Info()}
}

// A thread creates an fd with the number another thread of its process is
// closing (close entered, not exited). As libsinsp: the old fd is kept aside
// (and counted) until the close exits, and the exit removes both it and the
// number it closed.
func TestCloseCanceledByNewFD(t *testing.T) {
	s := New()
	m := scap.Metadata{Threads: []scap.Thread{
		{Tid: 100, Pid: 100, Ptid: 1, Comm: "app", FDs: []scap.FD{{Num: 15, Type: scap.FDFifo, Ino: 7}}},
		{Tid: 101, Pid: 100, Ptid: 1, Comm: "app", Flags: CloneFiles},
	}}
	s.LoadMetadata(&m)
	count := func() int { return s.Thread(100).FDs().Len() }
	steps := []struct {
		ev   *Event
		want int
	}{
		{mkEvent(1, 101, event.SyscallCloseE, 15), 1},
		{mkEvent(2, 100, event.SyscallPipeE), 1},
		// fd1=16, fd2=15: 16 and 15 are new, the closing 15 is kept aside.
		{mkEvent(3, 100, event.SyscallPipeX, 0, 16, 15, 8), 3},
		{mkEvent(4, 101, event.SyscallCloseX, 0), 3},
		// The removals apply before the next event: 16 is left.
		{mkEvent(5, 100, event.SyscallCloseE, 99), 1},
	}
	for i, st := range steps {
		s.Process(st.ev)
		if got := count(); got != st.want {
			t.Fatalf("after event %d (%s): %d fds, want %d", i+1, st.ev.Info.Name, got, st.want)
		}
	}
	if s.Thread(100).FDs().Get(16) == nil {
		t.Fatal("fd 16 is gone")
	}
	if s.Thread(100).FDs().Get(math.MaxInt64) != nil {
		t.Fatal("the fd kept aside is still there")
	}

	// A failed close leaves its fd, and no longer in progress.
	s.Process(mkEvent(6, 101, event.SyscallCloseE, 16))
	s.Process(mkEvent(7, 101, event.SyscallCloseX, uint64(math.MaxUint64-8))) // -9, EBADF
	if f := s.Thread(100).FDs().Get(16); f == nil || f.Flags&fdCloseInProgress != 0 {
		t.Fatalf("fd 16 after a failed close: %+v", f)
	}
}
