package state

import (
	"github.com/syscope/syscope/event"
)

// ppmExeWritable is the execve exit flag saying the executable is writable by its user.
const ppmExeWritable = 1 << 0

// cloneStaleNS is how long a clone timestamp stays meaningful (libsinsp's CLONE_STALE_TIME_NS).
const cloneStaleNS = 2_000_000_000

func (s *State) parseCloneExit(e *Event) {
	tid := e.Tid
	childTid := i64(e.param(0))
	flags := u32(pFlags.get(e))
	if childTid < 0 {
		return
	}
	vtid := tid
	var vpid int64 = -1
	if pVtid.has(e) {
		vtid = i64(pVtid.get(e))
		vpid = i64(pVpid.get(e))
	}
	inContainer := flags&CloneChildInPID != 0 || tid != vtid
	inverted := false
	if childTid == 0 {
		// The child's side of the clone.
		if e.Thread != nil && e.Thread.CloneTS != 0 && e.Ts-e.Thread.CloneTS > cloneStaleNS {
			s.removeThread(tid, true)
			e.Thread = nil
		}
		var parent int64
		if flags&CloneThread != 0 {
			parent = i64(pPid.get(e))
		} else {
			parent = i64(pPtid.get(e))
		}
		if e.Thread != nil {
			if inContainer {
				e.Thread.Vtid, e.Thread.Vpid = vtid, vpid
			}
			return
		}
		inverted = true
		childTid = tid
		tid = parent
	} else if inContainer {
		return
	}
	parent := s.lookup(tid, true)
	validParent := !(parent.Comm == "<NA>" && parent.UID == 0xffffffff)
	collision := false
	if child := s.threads[childTid]; child != nil {
		if child.Flags&CloneInverted != 0 {
			return
		}
		s.removeThread(childTid, true)
		collision = true
	}
	exe := cstring(pExe.get(e))
	comm := exe
	if c := pComm.get(e); c != nil {
		comm = cstring(c)
	}
	args := s.argsCache.split(pArgs.get(e))
	t := &Thread{s: s, Tid: childTid, Ptid: tid, Vtid: -1, Vpid: -1, UID: 0xffffffff, GID: 0xffffffff}
	// Like a new libsinsp thread: no session or process group, loginuid 0.
	t.Sid, t.Vpgid, t.FDLimit = -1, -1, -1
	if validParent {
		t.Comm, t.Exe, t.ExePath, t.Args, t.Root = parent.Comm, parent.Exe, parent.ExePath, parent.Args, parent.Root
		t.Sid, t.Vpgid, t.LoginUID = parent.Sid, parent.Vpgid, parent.LoginUID
		t.TTY, t.ExeWritable = parent.TTY, parent.ExeWritable
		if flags&CloneThread == 0 {
			t.Env = parent.Env
		}
	} else {
		s.removeThread(tid, true)
		collision = true
		parent = s.lookup(tid, true)
		parent.Comm, parent.Exe, parent.ExePath, parent.Args = comm, exe, "", args
	}
	t.Pid = i64(pPid.get(e))
	t.Flags = flags
	if flags&CloneThread == 0 {
		t.Pid = childTid
		t.fds = parent.FDs().cloneOrNew()
		t.cwd = parent.Cwd()
	} else {
		t.fds = newFDTable()
	}
	if inverted {
		t.Flags |= CloneInverted
	}
	t.Exe = exe
	t.Comm = comm
	t.Args = args
	t.FDLimit = i64(pFdlimit.get(e))
	if e.Type != event.SyscallCloneV11X {
		t.PFMajor = uint64(i64(pPgftMaj.get(e)))
		t.PFMinor = uint64(i64(pPgftMin.get(e)))
		t.VMSizeKB = u32(pVMSize.get(e))
		t.VMRSSKB = u32(pVMRSS.get(e))
		t.VMSwapKB = u32(pVMSwap.get(e))
	}
	t.UID = u32(pUID.get(e))
	t.GID = u32(pGid.get(e))
	if c := pCgroups.get(e); c != nil {
		t.Cgroups = s.cgroupsCache.split(c)
	} else {
		t.Cgroups = parent.Cgroups
	}
	t.ContainerID = s.containerID(t.Cgroups)
	if inContainer {
		t.Vtid, t.Vpid = vtid, vpid
	} else {
		t.Vtid, t.Vpid = childTid, t.Pid
	}
	t.CloneTS = e.Ts
	s.addThread(t)
	if collision {
		// The event's thread may be one of those replaced: look it up again.
		e.Thread = s.threads[e.Tid]
	}
}

func (t *FDTable) cloneOrNew() *FDTable {
	if t == nil {
		return newFDTable()
	}
	return t.clone()
}

func (s *State) parseExecveExit(e *Event) {
	t := e.Thread
	if i64(e.param(0)) < 0 || t == nil {
		return
	}
	t.Exe = cstring(e.param(1))
	if c := pComm.get(e); c != nil {
		t.Comm = cstring(c)
	} else {
		t.Comm = t.Exe
	}
	t.Args = splitArgs(e.param(2))
	s.setPid(t, i64(pPid.get(e)))
	if t.Ptid == -1 {
		t.Ptid = i64(pPtid.get(e))
	}
	t.FDLimit = i64(pFdlimit.get(e))
	if pPgftMaj.in(e) >= 0 {
		t.PFMajor = uint64(i64(pPgftMaj.get(e)))
		t.PFMinor = uint64(i64(pPgftMin.get(e)))
		t.VMSizeKB = u32(pVMSize.get(e))
		t.VMRSSKB = u32(pVMRSS.get(e))
		t.VMSwapKB = u32(pVMSwap.get(e))
	}
	if pEnv.has(e) {
		t.Env = splitArgs(pEnv.get(e))
	}
	if pCgroups.has(e) {
		t.Cgroups = s.cgroupsCache.split(pCgroups.get(e))
		t.ContainerID = s.containerID(t.Cgroups)
	}
	if pPgid.has(e) {
		t.Vpgid = i64(pPgid.get(e))
	}
	if pLoginuid.has(e) {
		t.LoginUID = u32(pLoginuid.get(e))
	}
	switch e.Type {
	case event.SyscallExecveV17X, event.SyscallExecveV18X, event.SyscallExecveV19X, event.SyscallExecveatX:
		t.TTY = int32(u32(e.param(16)))
	}
	if e.NParams > 19 {
		t.ExeWritable = u32(e.param(19))&ppmExeWritable != 0
	}
	if enter := s.retrieveEnter(e); enter != nil {
		switch e.Type {
		case event.SyscallExecveV18X, event.SyscallExecveV19X:
			p := enter.param(0)
			if len(p) >= 4 && string(p[:4]) == "<NA>" {
				t.ExePath = "<NA>"
			} else {
				t.ExePath = ConcatPaths(t.cwd, p)
			}
		case event.SyscallExecveatX:
			name := enter.param(1)
			t.ExePath = ConcatPaths(s.dirfdBase(t, i64(enter.param(0)), name), name)
		}
	}
	keep := t.Flags & (clonePipeSrc | clonePipeDst | CloneIsMain | CloneInverted)
	t.Flags = CloneActive | keep | CloneNameChanged
}

func (s *State) parseThreadExit(e *Event) {
	if e.Thread == nil {
		return
	}
	e.Thread.Flags |= CloneClosed
	s.tidToRemove = e.Tid
}

func cstring(b []byte) string { return string(trimNul(b)) }

// splitArgs splits a NUL-separated list.
func splitArgs(b []byte) []string {
	if len(b) == 0 {
		return nil
	}
	if b[len(b)-1] == 0 {
		b = b[:len(b)-1]
	}
	var out []string
	start := 0
	for i, c := range b {
		if c == 0 {
			out = append(out, string(b[start:i]))
			start = i + 1
		}
	}
	return append(out, string(b[start:]))
}
