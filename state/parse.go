package state

import (
	"encoding/binary"

	"github.com/syscope/syscope/event"
	"github.com/syscope/syscope/scap"
)

var le = binary.LittleEndian

// Event is an event being processed: the raw event plus what the state engine
// resolved for it.
type Event struct {
	*scap.Event
	Info   *event.Info
	Num    uint64  // evt.num: 1-based count of all events read
	Thread *Thread // the thread that generated it (evt.get_thread_info()), or nil
	FD     *FD     // the fd it refers to (evt.m_fdinfo), or nil
	// ErrorCode is the positive errno of a failed syscall, 0 on success.
	ErrorCode int32
	// Container is set for container metadata events: the container they describe.
	Container *Container
	// FDNameChanged reports whether parsing the event changed the name of FD.
	FDNameChanged bool
	// FilteredOut is set by the parser for events libsinsp parses but does
	// not deliver (its evt.m_filtered_out): container events of a failed
	// lookup. They count in evt.num; ProcessFiltered reports them not kept.
	FilteredOut bool
	// TInfo is the thread the parser attached to the event (libsinsp's
	// evt.m_tinfo); Thread falls back to a lookup when it is nil, as
	// sinsp_evt::get_thread_info does. A few fields (the latencies) read TInfo.
	TInfo *Thread
}

// ParamIndex returns the index of the parameter called name in the event's layout, or -1.
func (e *Event) ParamIndex(name string) int { return paramIndex(e.Info, name) }

func paramIndex(info *event.Info, name string) int {
	for i := range info.Params {
		if info.Params[i].Name == name {
			return i
		}
	}
	return -1
}

func (e *Event) param(i int) []byte {
	if i < 0 {
		return nil
	}
	return e.Param(i)
}

func (e *Event) paramNamed(name string) []byte { return e.param(e.ParamIndex(name)) }

func i64(b []byte) int64 {
	if len(b) < 8 {
		return 0
	}
	return int64(le.Uint64(b))
}

func u32(b []byte) uint32 {
	if len(b) < 4 {
		return 0
	}
	return le.Uint32(b)
}

// unum reads an unsigned parameter of any width (PT_FLAGS8 is one byte, PT_FLAGS16 two...).
func unum(b []byte) uint64 {
	switch len(b) {
	case 1:
		return uint64(b[0])
	case 2:
		return uint64(le.Uint16(b))
	case 4:
		return uint64(le.Uint32(b))
	case 8:
		return le.Uint64(b)
	}
	return 0
}

// savedEvent is a copy of an enter event, kept until its exit event arrives.
type savedEvent struct {
	typ  event.Type
	lens []uint32
	offs []uint32
	data []byte
}

func (s *savedEvent) save(e *scap.Event) {
	s.typ = e.Type
	s.lens = append(s.lens[:0], e.Lens...)
	s.offs = append(s.offs[:0], e.Offs...)
	s.data = append(s.data[:0], e.Data...)
}

func (s *savedEvent) nparams() int { return len(s.lens) }

func (s *savedEvent) param(i int) []byte {
	if i < 0 || i >= len(s.lens) {
		return nil
	}
	return s.data[s.offs[i] : s.offs[i]+s.lens[i]]
}

// Process runs the state engine on e: it resolves e.Thread and e.FD and applies
// the event's effect on threads and fds. Call it for every event, in order.
func (s *State) Process(e *Event) { s.ProcessFiltered(e, nil) }

// Skip numbers e and notes its time as ProcessFiltered does, without
// parsing it: for a consumer that reads nothing of the state, such as a live
// capture written to a file as it comes. The state no longer follows the
// capture once an event is skipped.
func (s *State) Skip(e *Event) {
	s.NumEvents++
	e.Num = s.NumEvents
	if s.FirstEventTS == 0 && e.Type != event.ContainerJsonE && e.Type != event.ContainerJsonV2E {
		s.FirstEventTS = e.Ts
	}
	s.LastEventTS = e.Ts
}

// ProcessFiltered is Process with a filter (nil: none), applied where libsinsp
// applies a capture filter: events that change the state (EF_MODIFIES_STATE)
// are parsed and then filtered; the others are filtered first and, when
// rejected, not parsed at all (and their thread forgets its last event type,
// so a rejected enter event leaves its exit without an enter). This is why
// sysdig shows different fd names with and without a filter, and why -d
// exists. keep is called with the thread and fd already resolved. It reports
// whether e passed.
func (s *State) ProcessFiltered(e *Event, keep func(*Event) bool) bool {
	prev := s.LastEventTS
	s.Skip(e) // numbered and timed; parsed below
	s.applyRemovals()
	if s.alive != nil && prev != 0 {
		s.maybePurge(prev)
	}
	e.Thread, e.FD, e.ErrorCode, e.Container, e.FDNameChanged, e.FilteredOut = nil, nil, 0, nil, false, false
	// As in libsinsp, the event is parsed whatever reset found.
	s.reset(e)
	modifies := e.Info.Flags&event.EFModifiesState != 0
	if keep != nil && !modifies {
		t := e.Thread
		s.resolveThread(e)
		// libsinsp looks the fd of a write exit up before filtering (to
		// recognise tracer writes), even when reset found no matching enter.
		if e.Type == event.SyscallWriteX && e.FD == nil && t != nil {
			e.FD = t.FD(t.LastEventFD)
		}
		if !keep(e) {
			if t != nil && e.Info.Flags&event.EFSkipParseReset == 0 && e.Type != event.SchedswitchV6E {
				t.LastEventType = lastEventNone
			}
			return false
		}
		e.Thread = t
	}
	s.parse(e)
	s.resolveThread(e)
	ok := true
	if keep != nil && modifies {
		// libsinsp filters these events before it notes a renamed fd, so
		// filters always see fd.name_changed false.
		ok = keep(e)
	}
	e.noteFDRename()
	return ok && !e.FilteredOut
}

// resolveThread sets TInfo to the thread the parser attached and, like
// sinsp_evt::get_thread_info, looks the thread up again (without creating
// it) when there is none.
func (s *State) resolveThread(e *Event) {
	e.TInfo = e.Thread
	if e.Thread == nil && e.Container == nil {
		e.Thread = s.lookup(e.Tid, false)
	}
}

// noteFDRename sets FDNameChanged after parsing, as libsinsp does at the end
// of process_event: the fd's name differs from the one it had when last
// looked up.
func (e *Event) noteFDRename() {
	if e.FD != nil {
		e.FDNameChanged = e.FD.Name != e.FD.oldName
	}
}

// lastEventNone is libsinsp's PPM_EVENT_MAX as a thread's last event type: none.
const lastEventNone = uint16(event.MaxType)

func (s *State) applyRemovals() {
	if s.tidToRemove != -1 || len(s.fdsToRemove) > 0 {
		s.removePending()
	}
}

func (s *State) removePending() {
	if s.tidToRemove != -1 {
		s.removeThread(s.tidToRemove, false)
		s.tidToRemove = -1
	}
	if len(s.fdsToRemove) > 0 {
		if t := s.threads[s.fdRemoveTid]; t != nil {
			for _, fd := range s.fdsToRemove {
				t.removeFD(fd)
			}
		}
		s.fdsToRemove = s.fdsToRemove[:0]
	}
}

func isCloneExit(t event.Type) bool {
	switch t {
	case event.SyscallCloneV11X, event.SyscallCloneV16X, event.SyscallCloneV17X, event.SyscallCloneV20X,
		event.SyscallForkX, event.SyscallForkV17X, event.SyscallForkV20X,
		event.SyscallVforkX, event.SyscallVforkV17X, event.SyscallVforkV20X, event.SyscallClone3X:
		return true
	}
	return false
}

// reset finds the thread and fd of e and does the enter/exit bookkeeping.
// It reports whether the event's state is consistent enough to be parsed.
func (s *State) reset(e *Event) bool {
	flags := e.Info.Flags
	if flags&event.EFSkipParseReset != 0 {
		if e.Type == event.ProcinfoE {
			e.Thread = s.lookup(e.Tid, false)
		}
		return false
	}
	if e.Type == event.ContainerJsonE || e.Type == event.ContainerJsonV2E {
		return true
	}
	create := !isCloneExit(e.Type) && e.Type != event.SchedswitchV6E
	e.Thread = s.lookup(e.Tid, create)
	if e.Type == event.SchedswitchV6E {
		return false
	}
	t := e.Thread
	if t == nil {
		return false
	}
	t.lastAccess = e.Ts
	if create {
		t.Flags |= CloneActive
	}
	if e.Type.IsEnter() {
		t.LastEventFD = -1
		t.LastEventType = uint16(e.Type)
		if flags&event.EFUsesFD != 0 && e.NParams > 0 {
			t.LastEventFD = i64(e.Param(0))
			e.FD = t.FD(t.LastEventFD)
		}
		t.Latency = 0
		t.LastEnterTS = e.Ts
		return true
	}
	if t.LastEnterTS != 0 {
		t.Latency = e.Ts - t.LastEnterTS
	}
	if uint16(e.Type) == t.LastEventType+1 {
		t.enterValid = true
	} else {
		t.enterValid = false
		if t.LastEventType != uint16(event.TracerE) {
			return false
		}
	}
	if e.NParams != 0 && len(e.Info.Params) > 0 {
		n := e.Info.Params[0].Name
		if n == "res" || n == "fd" {
			if res := i64(e.Param(0)); res < 0 {
				e.ErrorCode = int32(-res)
			}
		}
	}
	if flags&event.EFUsesFD != 0 {
		if e.Type == event.SyscallCopyFileRangeX && e.NParams > 1 {
			t.LastEventFD = i64(e.Param(1))
		}
		e.FD = t.FD(t.LastEventFD)
		if e.FD == nil {
			return false
		}
		if e.FD.Flags&fdCloseCanceled != 0 {
			// The fd that took the number of one being closed is used: the
			// one kept aside goes (and a close exit removes this one).
			e.FD.Flags &^= fdCloseCanceled
			if tab := t.FDs(); tab != nil && tab.m[canceledFD] != nil {
				s.fdsToRemove = append(s.fdsToRemove, canceledFD)
				s.fdRemoveTid = t.Tid
			}
		}
	}
	return true
}

func (s *State) parse(e *Event) {
	switch e.Type {
	case event.SocketSendtoE, event.SyscallOpenE, event.SyscallCreatE, event.SyscallOpenatE,
		event.SyscallOpenatV2E, event.SyscallOpenat2E, event.SocketSocketE, event.SyscallEventfdE,
		event.SyscallChdirE, event.SyscallFchdirE, event.SocketShutdownE, event.SyscallGetrlimitE,
		event.SyscallSetrlimitE, event.SyscallPrlimitE, event.SocketSendmsgE, event.SyscallSendfileE,
		event.SyscallSetresuidE, event.SyscallSetresgidE, event.SyscallSetuidE, event.SyscallSetgidE,
		event.SyscallExecveV18E, event.SyscallExecveV19E, event.SyscallExecveatE, event.SyscallSetpgidE,
		event.SyscallFcntlE, event.SyscallChrootE:
		if e.Type == event.SocketSendtoE && e.FD == nil && e.Thread != nil {
			s.inferSendtoFD(e)
		}
		if e.Thread != nil {
			e.Thread.enter.save(e.Event)
			e.Thread.enterValid = true
		}
	case event.SyscallReadX, event.SyscallWriteX, event.SocketRecvX, event.SocketSendX,
		event.SocketRecvfromX, event.SocketRecvmsgX, event.SocketSendtoX, event.SocketSendmsgX,
		event.SyscallReadvX, event.SyscallWritevX, event.SyscallPreadX, event.SyscallPwriteX,
		event.SyscallPreadvX, event.SyscallPwritevX:
		s.parseRWExit(e)
	case event.SyscallOpenX, event.SyscallCreatX, event.SyscallOpenatX, event.SyscallOpenatV2X, event.SyscallOpenat2X:
		s.parseOpenExit(e)
	case event.SyscallCloneV11X, event.SyscallCloneV16X, event.SyscallCloneV17X, event.SyscallCloneV20X,
		event.SyscallForkX, event.SyscallForkV17X, event.SyscallForkV20X,
		event.SyscallVforkX, event.SyscallVforkV17X, event.SyscallVforkV20X, event.SyscallClone3X:
		s.parseCloneExit(e)
	case event.SyscallExecveV8X, event.SyscallExecveV13X, event.SyscallExecveV14X, event.SyscallExecveV15X,
		event.SyscallExecveV16X, event.SyscallExecveV17X, event.SyscallExecveV18X, event.SyscallExecveV19X,
		event.SyscallExecveatX:
		s.parseExecveExit(e)
	case event.ProcexitE, event.ProcexitV1E:
		s.parseThreadExit(e)
	case event.SyscallPipeX:
		s.parsePipeExit(e)
	case event.SocketSocketX:
		s.parseSocketExit(e)
	case event.SocketBindX:
		s.parseBindExit(e)
	case event.SocketConnectE:
		s.parseConnectEnter(e)
	case event.SocketConnectX:
		s.parseConnectExit(e)
	case event.SocketAcceptX, event.SocketAcceptV5X, event.SocketAccept4X, event.SocketAccept4V5X:
		s.parseAcceptExit(e)
	case event.SyscallCloseE:
		if e.FD != nil {
			e.FD.Flags |= fdCloseInProgress
		}
	case event.SyscallCloseX:
		s.parseCloseExit(e)
	case event.SyscallFcntlX:
		s.parseFcntlExit(e)
	case event.SyscallEventfdX:
		s.addSimpleFD(e, i64(e.param(0)), scap.FDEvent, "")
	case event.SyscallChdirX:
		s.parseChdirExit(e)
	case event.SyscallFchdirX:
		s.parseFchdirExit(e)
	case event.SyscallGetcwdX:
		s.parseGetcwdExit(e)
	case event.SyscallDupX:
		s.parseDupExit(e)
	case event.SyscallSignalfdX:
		s.addSimpleFD(e, i64(e.param(0)), scap.FDSignalfd, "")
	case event.SyscallTimerfdCreateX:
		s.addSimpleFD(e, i64(e.param(0)), scap.FDTimerfd, "")
	case event.SyscallInotifyInitX:
		s.addSimpleFD(e, i64(e.param(0)), scap.FDInotify, "")
	case event.SocketSocketpairX:
		s.parseSocketpairExit(e)
	case event.SyscallSetuidX:
		s.parseSetID(e, true)
	case event.SyscallSetgidX:
		s.parseSetID(e, false)
	case event.SyscallSetresuidX:
		s.parseSetresID(e, true)
	case event.SyscallSetresgidX:
		s.parseSetresID(e, false)
	case event.SyscallBrkV4X, event.SyscallMmapX, event.SyscallMmap2X, event.SyscallMunmapX:
		s.parseMemExit(e)
	case event.SchedswitchV6E:
		s.parseContextSwitch(e)
	case event.ContainerE:
		s.parseContainerEvent(e)
	case event.ContainerJsonE, event.ContainerJsonV2E:
		s.parseContainerJSON(e)
	case event.K8sE:
		s.parseK8s(e)
	case event.SyscallChrootX:
		if e.Thread != nil && i64(e.param(0)) == 0 && e.enterPath() != nil {
			e.Thread.Root = ConcatPaths(e.Thread.Cwd(), e.enterPath())
		}
	case event.SyscallSetsidX:
		if e.Thread != nil {
			if r := i64(e.param(0)); r >= 0 {
				e.Thread.Sid = r
			}
		}
	}
}

// enterPath returns the "path" parameter of a chroot exit event.
func (e *Event) enterPath() []byte { return e.paramNamed("path") }

// retrieveEnter returns the saved enter event of e's exit, if it matches.
func (s *State) retrieveEnter(e *Event) *savedEvent {
	t := e.Thread
	if t == nil || !t.enterValid || t.enter.data == nil && t.enter.lens == nil {
		return nil
	}
	if t.enter.typ != e.Type-1 {
		t.enterValid = false
		return nil
	}
	return &t.enter
}

func isNullName(b []byte) bool {
	return len(b) == 0 || string(trimNul(b)) == "(NULL)"
}

func trimNul(b []byte) []byte {
	for i, c := range b {
		if c == 0 {
			return b[:i]
		}
	}
	return b
}

// O_DIRECTORY in the driver's flag encoding.
const ppmODirectory = 0x400

func (s *State) parseOpenExit(e *Event) {
	t := e.Thread
	if t == nil || e.NParams == 0 {
		return
	}
	enter := s.retrieveEnter(e)
	fd := i64(e.param(0))
	var name []byte
	var flags, dev uint32
	var dir string
	switch e.Type {
	case event.SyscallOpenX:
		name = e.param(1)
		flags = u32(e.param(2))
		if e.NParams > 4 {
			dev = u32(e.param(4))
		}
		if enter != nil && enter.nparams() >= 2 && !isNullName(enter.param(0)) {
			name = enter.param(0)
			flags = u32(enter.param(1))
		}
		dir = t.Cwd()
	case event.SyscallCreatX:
		name = e.param(1)
		if e.NParams > 3 {
			dev = u32(e.param(3))
		}
		if enter != nil && enter.nparams() >= 1 && !isNullName(enter.param(0)) {
			name = enter.param(0)
		}
		dir = t.Cwd()
	case event.SyscallOpenatX:
		if enter == nil {
			return
		}
		name = enter.param(1)
		flags = u32(enter.param(2))
		dir = s.dirfdBase(t, i64(enter.param(0)), name)
		e.FD = dirFD(t, i64(enter.param(0)), name, e.FD)
	case event.SyscallOpenatV2X, event.SyscallOpenat2X:
		name = e.param(2)
		flags = u32(e.param(3))
		dirfd := i64(e.param(1))
		if e.Type == event.SyscallOpenatV2X && e.NParams > 5 {
			dev = u32(e.param(5))
		}
		if enter != nil && enter.nparams() >= 3 && !isNullName(enter.param(1)) {
			name = enter.param(1)
			flags = u32(enter.param(2))
			dirfd = i64(enter.param(0))
		}
		dir = s.dirfdBase(t, dirfd, name)
		e.FD = dirFD(t, dirfd, name, e.FD)
	default:
		return
	}
	if fd < 0 {
		return
	}
	f := FD{Type: scap.FDFileV2, OpenFlags: flags, Dev: dev}
	if flags&ppmODirectory != 0 {
		f.Type = scap.FDDirectory
	}
	f.Name = s.pathName(dir, name)
	e.FD = t.addFD(fd, &f)
}

// maxAbsPaths bounds the memo of pathName (it starts again when full).
const maxAbsPaths = 1 << 14

// pathName is ConcatPaths(dir, name), with the names of absolute paths kept
// and shared: processes open the same files again and again (libraries,
// /etc), and each open would otherwise clean the path up into a new string.
// An absolute path's name does not depend on dir, unless the two are too
// long together (ConcatPaths then returns /PATH_TOO_LONG).
func (s *State) pathName(dir string, name []byte) string {
	if len(name) == 0 || name[0] != '/' || len(dir)+len(name)+1 > maxPath {
		return ConcatPaths(dir, name)
	}
	if p, ok := s.absPaths[string(name)]; ok {
		return p
	}
	p := ConcatPaths(dir, name)
	if s.absPaths == nil || len(s.absPaths) >= maxAbsPaths {
		s.absPaths = make(map[string]string, 256)
	}
	s.absPaths[string(name)] = p
	return p
}

// AT_FDCWD as the driver encodes it.
const atFDCWD = -100

// dirFD is the event's fd after libsinsp's parse_dirfd resolves a relative
// path against a directory fd: that directory's fd (nil if unknown), which a
// failed open leaves as the event's fd. Otherwise cur is kept.
func dirFD(t *Thread, dirfd int64, name []byte, cur *FD) *FD {
	if len(name) > 0 && name[0] == '/' || dirfd == atFDCWD {
		return cur
	}
	return t.FD(dirfd)
}

// dirfdBase is libsinsp's parse_dirfd: the directory a *at() path is relative to.
func (s *State) dirfdBase(t *Thread, dirfd int64, name []byte) string {
	if len(name) > 0 && name[0] == '/' {
		return ""
	}
	if dirfd == atFDCWD {
		return t.Cwd()
	}
	f := t.FD(dirfd)
	if f == nil {
		return "<UNKNOWN>"
	}
	if f.Name == "" || f.Name[len(f.Name)-1] != '/' {
		return f.Name + "/"
	}
	return f.Name
}

func (s *State) addSimpleFD(e *Event, fd int64, typ scap.FDType, name string) {
	if fd < 0 || e.Thread == nil {
		return
	}
	e.FD = e.Thread.addFD(fd, &FD{Type: typ, Name: name})
}

func (s *State) parseSocketExit(e *Event) {
	fd := i64(e.param(0))
	if fd < 0 || e.Thread == nil {
		return
	}
	enter := s.retrieveEnter(e)
	if enter == nil {
		return
	}
	s.addSocket(e, fd, u32(enter.param(0)), u32(enter.param(1)), u32(enter.param(2)))
}

// inferSendtoFD gives a sendto on an fd the table does not have (its socket
// call was not seen: before the capture, or left out of a filtered file) a
// UDP socket of the tuple's family, as libsinsp does (infer_sendto_fdinfo).
func (s *State) inferSendtoFD(e *Event) {
	fd := i64(e.param(0))
	tuple := e.param(2)
	if fd < 0 || len(tuple) == 0 || tuple[0] != afInet && tuple[0] != afInet6 {
		return
	}
	s.addSocket(e, fd, uint32(tuple[0]), sockDgram, ipprotoUDP)
}

// addSocket adds fd as a new socket of the domain, type and protocol given to
// socket() (libsinsp's add_socket).
func (s *State) addSocket(e *Event, fd int64, domain, typ, proto uint32) {
	var f FD
	switch domain {
	case afUnix:
		f.Type = scap.FDUnixSock
	case afInet, afInet6:
		f.Type = scap.FDIPv4Sock
		if domain == afInet6 {
			f.Type = scap.FDIPv6Sock
		}
		l4 := uint8(scap.L4Unknown)
		switch proto {
		case ipprotoTCP:
			l4 = scap.L4TCP
			if typ == sockRaw {
				l4 = scap.L4Raw
			}
		case ipprotoUDP:
			l4 = scap.L4UDP
			if typ == sockRaw {
				l4 = scap.L4Raw
			}
		case ipprotoIP:
			switch typ & 0xff {
			case sockStream:
				l4 = scap.L4TCP
			case sockDgram:
				l4 = scap.L4UDP
			}
		case ipprotoICMP:
			l4 = scap.L4ICMP
			if typ == sockRaw {
				l4 = scap.L4Raw
			}
		case ipprotoRaw:
			l4 = scap.L4Raw
		}
		f.L4Proto = l4
	case afNetlink:
		f.Type = scap.FDNetlink
	default:
		return
	}
	e.FD = e.Thread.addFD(fd, &f)
}

// Socket constants as the driver encodes them.
const (
	afUnix      = 1
	afInet      = 2
	afInet6     = 10
	afNetlink   = 16
	sockStream  = 1
	sockDgram   = 2
	sockRaw     = 3
	ipprotoIP   = 0
	ipprotoICMP = 1
	ipprotoTCP  = 6
	ipprotoUDP  = 17
	ipprotoRaw  = 255
)

// L4 returns the transport protocol of f as libsinsp reports it: sockets with
// no role yet report L4NA.
func (f *FD) L4() uint8 {
	switch f.Type {
	case scap.FDIPv4Sock, scap.FDIPv6Sock:
		if f.L4Proto == scap.L4Raw {
			return scap.L4Raw
		}
		if f.Flags&(FDRoleClient|FDRoleServer) == 0 {
			return scap.L4NA
		}
		return f.L4Proto
	case scap.FDIPv4ServSock, scap.FDIPv6ServSock:
		return f.L4Proto
	}
	return scap.L4Unknown
}

func (s *State) parseBindExit(e *Event) {
	f := e.FD
	if f == nil || i64(e.param(0)) < 0 {
		return
	}
	addr := e.param(1)
	if len(addr) == 0 {
		return
	}
	switch addr[0] {
	case afInet:
		if len(addr) >= 7 {
			port := le.Uint16(addr[5:])
			if port > 0 {
				f.Type = scap.FDIPv4ServSock
				f.SIP = [16]byte{}
				copy(f.SIP[:4], addr[1:5])
				f.SPort = port
				f.Flags |= FDRoleServer
				f.Flags &^= FDRoleClient
			}
		}
	case afInet6:
		if len(addr) >= 19 {
			port := le.Uint16(addr[17:])
			if port > 0 {
				ip := addr[1:17]
				// libsinsp takes the protocol from the IPv6 tuple of its socket
				// union: for a socket it knows as IPv4 (from the tables, where
				// :: is IPv4), that part of the union is empty.
				if f.Type == scap.FDIPv4Sock || f.Type == scap.FDIPv4ServSock {
					f.L4Proto = scap.L4Unknown
				}
				if isV4Mapped(ip) {
					f.Type = scap.FDIPv4ServSock
					f.SIP = [16]byte{}
					copy(f.SIP[:4], ip[12:])
				} else {
					f.Type = scap.FDIPv6ServSock
					copy(f.SIP[:], ip)
				}
				f.SPort = port
				f.Flags |= FDRoleServer
				f.Flags &^= FDRoleClient
			}
		}
	}
	f.Name = SockAddrString(addr)
}

func (s *State) parseConnectEnter(e *Event) {
	f := e.FD
	if f == nil || e.NParams < 2 {
		return
	}
	addr := e.param(1)
	if len(addr) == 0 {
		return
	}
	switch addr[0] {
	case afInet:
		if len(addr) >= 7 {
			f.Type = scap.FDIPv4Sock
			copy(f.DIP[:4], addr[1:5])
			f.DPort = le.Uint16(addr[5:])
		}
	case afInet6:
		if len(addr) >= 19 {
			ip := addr[1:17]
			port := le.Uint16(addr[17:])
			if isV4Mapped(ip) {
				f.Type = scap.FDIPv4Sock
				copy(f.DIP[:4], ip[12:])
			} else {
				f.Type = scap.FDIPv6Sock
				copy(f.DIP[:], ip)
			}
			f.DPort = port
		}
	default:
		f.Name = SockAddrString(addr)
		setUnixInfo(f, addr)
	}
}

func setUnixInfo(f *FD, tuple []byte) {
	if len(tuple) >= 17 {
		f.Source = le.Uint64(tuple[1:])
		f.Dest = le.Uint64(tuple[9:])
	}
}

func (s *State) parseConnectExit(e *Event) {
	f := e.FD
	if f == nil {
		return
	}
	res := i64(e.param(0))
	if res < 0 && res != -115 { // EINPROGRESS
		return
	}
	f.Flags |= FDConnected
	tuple := e.param(1)
	if len(tuple) == 0 {
		return
	}
	s.fillClientSocket(f, tuple)
}

// fillClientSocket updates f from a socket tuple parameter.
func (s *State) fillClientSocket(f *FD, tuple []byte) {
	switch tuple[0] {
	case afInet, afInet6:
		var changed bool
		if tuple[0] == afInet6 && len(tuple) >= 37 && !(isV4Mapped(tuple[1:17]) && isV4Mapped(tuple[19:35])) {
			f.Type = scap.FDIPv6Sock
			changed = updateAddrs(f, 16, tuple[1:17], le.Uint16(tuple[17:]), tuple[19:35], le.Uint16(tuple[35:]))
		} else if tuple[0] == afInet6 && len(tuple) >= 37 {
			f.Type = scap.FDIPv4Sock
			changed = updateAddrs(f, 4, tuple[13:17], le.Uint16(tuple[17:]), tuple[31:35], le.Uint16(tuple[35:]))
		} else if tuple[0] == afInet && len(tuple) >= 13 {
			f.Type = scap.FDIPv4Sock
			changed = updateAddrs(f, 4, tuple[1:5], le.Uint16(tuple[5:]), tuple[7:11], le.Uint16(tuple[11:]))
		} else {
			return
		}
		if changed && f.Flags&FDRoleServer != 0 && f.Type == scap.FDIPv4Sock && f.L4Proto == scap.L4UDP {
			f.SIP, f.DIP = f.DIP, f.SIP
			f.SPort, f.DPort = f.DPort, f.SPort
		}
		f.Name = f.sockName()
	default:
		f.Name = SockTupleString(tuple)
		setUnixInfo(f, tuple)
	}
	if f.Flags&(FDRoleClient|FDRoleServer) == 0 {
		f.Flags |= FDRoleClient
	}
}

func (f *FD) tupleName() string {
	if f.Type == scap.FDIPv6Sock {
		return ipv6Tuple(f.SIP, f.SPort, f.DIP, f.DPort)
	}
	return ipv4Tuple(f.SIP, f.SPort, f.DIP, f.DPort)
}

func setTuple4(f *FD, sip []byte, sport uint16, dip []byte, dport uint16) bool {
	var s4, d4 [16]byte
	copy(s4[:4], sip)
	copy(d4[:4], dip)
	changed := f.SIP != s4 || f.DIP != d4 || f.SPort != sport || f.DPort != dport
	f.SIP, f.DIP, f.SPort, f.DPort = s4, d4, sport, dport
	return changed
}

func setTuple6(f *FD, t []byte) bool {
	var s6, d6 [16]byte
	copy(s6[:], t[1:17])
	copy(d6[:], t[19:35])
	sport, dport := le.Uint16(t[17:]), le.Uint16(t[35:])
	changed := f.SIP != s6 || f.DIP != d6 || f.SPort != sport || f.DPort != dport
	f.SIP, f.DIP, f.SPort, f.DPort = s6, d6, sport, dport
	return changed
}

func (s *State) parseAcceptExit(e *Event) {
	t := e.Thread
	if t == nil {
		return
	}
	fd := i64(e.param(0))
	if fd < 0 {
		return
	}
	t.LastEventFD = fd
	tuple := e.param(1)
	if len(tuple) == 0 {
		return
	}
	var f FD
	switch tuple[0] {
	case afInet:
		if len(tuple) < 13 {
			return
		}
		f.Type = scap.FDIPv4Sock
		setTuple4(&f, tuple[1:5], le.Uint16(tuple[5:]), tuple[7:11], le.Uint16(tuple[11:]))
		f.L4Proto = scap.L4TCP
	case afInet6:
		if len(tuple) < 37 {
			return
		}
		if isV4Mapped(tuple[1:17]) && isV4Mapped(tuple[19:35]) {
			f.Type = scap.FDIPv4Sock
			setTuple4(&f, tuple[13:17], le.Uint16(tuple[17:]), tuple[31:35], le.Uint16(tuple[35:]))
		} else {
			f.Type = scap.FDIPv6Sock
			setTuple6(&f, tuple)
		}
		f.L4Proto = scap.L4TCP
	case afUnix:
		f.Type = scap.FDUnixSock
		setUnixInfo(&f, tuple)
	default:
		return
	}
	f.Name = SockTupleString(tuple)
	f.Flags = FDRoleServer | FDConnected
	e.FD = t.addFD(fd, &f)
}

func (s *State) parseCloseExit(e *Event) {
	if i64(e.param(0)) < 0 {
		if e.FD != nil {
			e.FD.Flags &^= fdCloseInProgress
		}
		return
	}
	if e.FD == nil || e.Thread == nil {
		return
	}
	s.fdsToRemove = append(s.fdsToRemove, e.Thread.LastEventFD)
	s.fdRemoveTid = e.Thread.Tid
}

func (s *State) parseDupExit(e *Event) {
	t := e.Thread
	if t == nil {
		return
	}
	res := i64(e.param(0))
	if res < 0 || e.FD == nil {
		return
	}
	e.FD = t.addFD(res, e.FD)
}

// F_DUPFD and F_DUPFD_CLOEXEC in the driver's encoding.
const (
	ppmFDupFD        = 1
	ppmFDupFDCloexec = 26
)

func (s *State) parseFcntlExit(e *Event) {
	t := e.Thread
	if t == nil || e.FD == nil {
		return
	}
	enter := s.retrieveEnter(e)
	res := i64(e.param(0))
	if res < 0 || enter == nil {
		return
	}
	if cmd := unum(enter.param(1)); cmd == ppmFDupFD || cmd == ppmFDupFDCloexec {
		e.FD = t.addFD(res, e.FD)
	}
}

func (s *State) parsePipeExit(e *Event) {
	if i64(e.param(0)) < 0 || e.Thread == nil {
		return
	}
	fd1, fd2 := i64(e.param(1)), i64(e.param(2))
	ino := uint64(i64(e.param(3)))
	e.Thread.addFD(fd1, &FD{Type: scap.FDFifo, Ino: ino})
	e.Thread.addFD(fd2, &FD{Type: scap.FDFifo, Ino: ino})
}

func (s *State) parseSocketpairExit(e *Event) {
	if i64(e.param(0)) < 0 || e.Thread == nil {
		return
	}
	fd1, fd2 := i64(e.param(1)), i64(e.param(2))
	src, dst := uint64(i64(e.param(3))), uint64(i64(e.param(4)))
	e.Thread.addFD(fd1, &FD{Type: scap.FDUnixSock, Source: src, Dest: dst})
	e.Thread.addFD(fd2, &FD{Type: scap.FDUnixSock, Source: dst, Dest: src})
}

func (s *State) parseChdirExit(e *Event) {
	if i64(e.param(0)) < 0 || e.Thread == nil {
		return
	}
	if p := e.param(1); p != nil {
		e.Thread.setCwd(trimNul(p))
	}
}

func (s *State) parseFchdirExit(e *Event) {
	if i64(e.param(0)) < 0 || e.Thread == nil {
		return
	}
	enter := s.retrieveEnter(e)
	if enter == nil {
		return
	}
	if f := e.Thread.FD(i64(enter.param(0))); f != nil {
		e.Thread.setCwd([]byte(f.Name))
	}
}

func (s *State) parseGetcwdExit(e *Event) {
	if i64(e.param(0)) < 0 || e.Thread == nil || e.NParams < 2 {
		return
	}
	p := trimNul(e.param(1))
	if len(p) == 0 {
		return
	}
	c := string(p)
	if c[len(c)-1] != '/' {
		c += "/"
	}
	if m := e.Thread.Main(); m != nil {
		m.cwd = c
	}
}

func (s *State) parseSetID(e *Event, user bool) {
	t := e.Thread
	if t == nil || i64(e.param(0)) < 0 {
		return
	}
	enter := s.retrieveEnter(e)
	if enter == nil {
		return
	}
	id := u32(enter.param(0))
	if user {
		t.UID = id
	} else {
		t.GID = id
	}
}

func (s *State) parseSetresID(e *Event, user bool) {
	t := e.Thread
	if t == nil || i64(e.param(0)) != 0 {
		return
	}
	enter := s.retrieveEnter(e)
	if enter == nil {
		return
	}
	id := u32(enter.param(1))
	if id == 0xffffffff {
		return
	}
	if user {
		t.UID = id
	} else {
		t.GID = id
	}
}

func (s *State) parseMemExit(e *Event) {
	t := e.Thread
	if t == nil || e.NParams < 4 {
		return
	}
	t.VMSizeKB = u32(e.param(1))
	t.VMRSSKB = u32(e.param(2))
	t.VMSwapKB = u32(e.param(3))
}

// parseRWExit updates socket tuples learned from recvfrom/recvmsg (the exit's
// tuple) and sendto/sendmsg (the enter's tuple), as libsinsp's parse_rw_exit does.
func (s *State) parseRWExit(e *Event) {
	f := e.FD
	t := e.Thread
	if f == nil || t == nil {
		return
	}
	if i64(e.param(0)) < 0 {
		return
	}
	if f.Type == scap.FDIPv4Sock || f.Type == scap.FDIPv6Sock {
		f.Flags |= FDConnected
	}
	var tuple []byte
	incoming := e.Info.Flags&event.EFReadsFromFD != 0
	switch e.Type {
	case event.SocketRecvfromX:
		tuple = e.param(2)
	case event.SocketRecvmsgX:
		tuple = e.param(3)
	case event.SocketSendtoX, event.SocketSendmsgX:
		if f.Name != "" && f.isTCP() {
			return
		}
		enter := s.retrieveEnter(e)
		if enter == nil {
			return
		}
		tuple = enter.param(2)
	default:
		return
	}
	if incoming && f.Name != "" && f.isTCP() {
		return
	}
	if !s.updateFD(f, tuple) {
		return
	}
	if f.Type == scap.FDIPv4Sock || f.Type == scap.FDIPv6Sock {
		if f.Flags&(FDRoleClient|FDRoleServer) == 0 {
			s.guessRole(t, f, incoming)
		}
		if incoming && f.Flags&FDRoleClient != 0 || !incoming && f.Flags&FDRoleServer != 0 {
			f.SIP, f.DIP = f.DIP, f.SIP
			f.SPort, f.DPort = f.DPort, f.SPort
		}
		f.Name = f.sockName()
	} else {
		f.Name = SockTupleString(tuple)
	}
}

func (f *FD) isTCP() bool {
	return (f.Type == scap.FDIPv4Sock || f.Type == scap.FDIPv6Sock) && f.L4Proto == scap.L4TCP
}

// sockName is libsinsp's sockinfo_to_str.
func (f *FD) sockName() string {
	switch f.L4Proto {
	case scap.L4TCP, scap.L4UDP:
		return f.tupleName()
	case scap.L4ICMP, scap.L4Raw:
		if f.Type == scap.FDIPv4Sock || isV4Mapped(f.SIP[:]) && isV4Mapped(f.DIP[:]) {
			off := 0
			if f.Type == scap.FDIPv6Sock {
				off = 12
			}
			b := AppendIPv4(nil, f.SIP[off:off+4])
			b = append(b, "->"...)
			return string(AppendIPv4(b, f.DIP[off:off+4]))
		}
		if f.L4Proto == scap.L4ICMP {
			b := AppendIPv6(nil, f.SIP[:])
			b = append(b, "->"...)
			return string(AppendIPv6(b, f.DIP[:]))
		}
	}
	return "<unknown>"
}

func (s *State) guessRole(t *Thread, f *FD, incoming bool) {
	tab := t.FDs()
	bound := false
	client := false
	tab.Each(func(_ int64, o *FD) {
		switch o.Type {
		case scap.FDIPv4Sock:
			if o.DPort == f.DPort {
				bound = true
			}
			if o.SPort == f.SPort {
				client = true
			}
		case scap.FDIPv4ServSock:
			if o.SPort == f.DPort {
				bound = true
			}
		}
	})
	if !bound {
		f.Flags |= FDRoleClient
		return
	}
	if !client {
		f.Flags |= FDRoleServer
		return
	}
	if incoming {
		f.Flags |= FDRoleServer
	} else {
		f.Flags |= FDRoleClient
	}
}

// updateFD is libsinsp's update_fd: it merges a tuple into a socket fd and
// reports whether anything changed.
func (s *State) updateFD(f *FD, tuple []byte) bool {
	if len(tuple) == 0 {
		return false
	}
	switch tuple[0] {
	case afInet:
		if len(tuple) < 13 {
			return false
		}
		f.Type = scap.FDIPv4Sock
		if !updateAddrs(f, 4, tuple[1:5], le.Uint16(tuple[5:]), tuple[7:11], le.Uint16(tuple[11:])) {
			return false
		}
	case afInet6:
		if len(tuple) < 37 {
			return false
		}
		if isV4Mapped(tuple[1:17]) && isV4Mapped(tuple[19:35]) {
			f.Type = scap.FDIPv4Sock
			if !updateAddrs(f, 4, tuple[13:17], le.Uint16(tuple[17:]), tuple[31:35], le.Uint16(tuple[35:])) {
				return false
			}
		} else if !updateAddrs(f, 16, tuple[1:17], le.Uint16(tuple[17:]), tuple[19:35], le.Uint16(tuple[35:])) {
			return false
		}
	case afUnix:
		f.Type = scap.FDUnixSock
		setUnixInfo(f, tuple)
		if len(tuple) > 17 {
			f.Name = string(trimNul(tuple[17:]))
		}
		return true
	default:
		return false
	}
	if (f.Type == scap.FDIPv4Sock || f.Type == scap.FDIPv6Sock) && f.L4Proto == scap.L4Unknown {
		f.L4Proto = scap.L4UDP
	}
	s.inferAddresses(f)
	return true
}

// updateAddrs is update_ipv4/ipv6_addresses_and_ports: the source always follows the
// tuple, the destination only fills in when unknown.
func updateAddrs(f *FD, n int, sip []byte, sport uint16, dip []byte, dport uint16) bool {
	var ts, td [16]byte
	copy(ts[:n], sip)
	copy(td[:n], dip)
	if f.SIP == ts && f.SPort == sport && f.DIP == td && f.DPort == dport ||
		f.SIP == td && f.SPort == dport && f.DIP == ts && f.DPort == sport {
		return false
	}
	changed := false
	if f.SIP != ts {
		f.SIP, changed = ts, true
	}
	if f.SPort != sport {
		f.SPort, changed = sport, true
	}
	if f.DIP == ([16]byte{}) {
		f.DIP, changed = td, true
	}
	if f.DPort == 0 {
		f.DPort, changed = dport, true
	}
	return changed
}

// inferAddresses fills an unknown (zero) end of a socket with a local interface
// address, as libsinsp's network interface table does.
func (s *State) inferAddresses(f *FD) {
	infer := s.inferIPv4
	if f.Type == scap.FDIPv6Sock {
		infer = s.inferIPv6
	} else if f.Type != scap.FDIPv4Sock {
		return
	}
	var zero [16]byte
	switch {
	case f.SIP != zero && f.DIP != zero:
	case f.SIP == zero:
		if a := infer(f.DIP); a != f.DIP || f.SPort != f.DPort {
			f.SIP = a
		}
	default:
		if a := infer(f.SIP); a != f.SIP || f.SPort != f.DPort {
			f.DIP = a
		}
	}
}

func (s *State) inferIPv4(dst [16]byte) [16]byte {
	var out [16]byte
	for _, it := range s.Interfaces {
		if !it.IPv6 && [4]byte(it.Addr[:4]) == [4]byte(dst[:4]) {
			copy(out[:4], it.Addr[:4])
			return out
		}
	}
	for _, it := range s.Interfaces {
		if it.IPv6 {
			continue
		}
		m := true
		for i := 0; i < 4; i++ {
			if it.Addr[i]&it.Netmask[i] != dst[i]&it.Netmask[i] {
				m = false
			}
		}
		if m {
			copy(out[:4], it.Addr[:4])
			return out
		}
	}
	for _, it := range s.Interfaces {
		if !it.IPv6 && !(it.Addr[0] == 127 && it.Addr[1] == 0 && it.Addr[2] == 0 && it.Addr[3] == 1) {
			copy(out[:4], it.Addr[:4])
			return out
		}
	}
	return out
}

func (s *State) inferIPv6(dst [16]byte) [16]byte {
	for _, it := range s.Interfaces {
		if it.IPv6 && it.Addr == dst {
			return it.Addr
		}
	}
	for _, it := range s.Interfaces {
		if it.IPv6 && [8]byte(it.Addr[:8]) == [8]byte(dst[:8]) {
			return it.Addr
		}
	}
	loop := [16]byte{15: 1}
	for _, it := range s.Interfaces {
		if it.IPv6 && it.Addr != loop {
			return it.Addr
		}
	}
	return [16]byte{}
}
