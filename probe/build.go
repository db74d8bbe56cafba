package probe

import (
	"encoding/binary"
	"errors"
	"fmt"
	"unsafe"

	"github.com/syscope/syscope/event"
	"github.com/syscope/syscope/scap"
)

var le = binary.LittleEndian

// Record kinds, as in bpf/probe.bpf.c.
const (
	kindEnter    = 0
	kindExit     = 1
	kindProcExit = 2
	kindSignal   = 3
	kindSwitch   = 4
	kindSkip     = 255 // not an event (ring.go skips it)
)

// Offsets in struct rec_hdr, from the generated Go type. A record without
// arguments stops at recShortLen (the offset of the arguments).
const (
	recTs       = int(unsafe.Offsetof(probeRecHdr{}.Ts))
	recRet      = int(unsafe.Offsetof(probeRecHdr{}.Ret))
	recTid      = int(unsafe.Offsetof(probeRecHdr{}.Tid))
	recLen      = int(unsafe.Offsetof(probeRecHdr{}.Len))
	recNr       = int(unsafe.Offsetof(probeRecHdr{}.Nr))
	recCPU      = int(unsafe.Offsetof(probeRecHdr{}.Cpu))
	recKind     = int(unsafe.Offsetof(probeRecHdr{}.Kind))
	recNitems   = int(unsafe.Offsetof(probeRecHdr{}.Nitems))
	recArgs     = int(unsafe.Offsetof(probeRecHdr{}.Args))
	recShortLen = recArgs
	recHdrLen   = int(unsafe.Sizeof(probeRecHdr{}))
)

const maxRecItems = 8

// errBadRecord reports a record the kernel side should never produce.
var errBadRecord = errors.New("malformed probe record")

// record is a decoded view of one kernel record.
type record struct {
	b     []byte
	args  [6]uint64
	ret   int64
	items [maxRecItems][]byte
	n     int
}

func (r *record) parse(b []byte) error {
	if len(b) < recShortLen {
		return fmt.Errorf("%w: %d bytes", errBadRecord, len(b))
	}
	r.b = b
	if len(b) >= recHdrLen {
		for i := range r.args {
			r.args[i] = le.Uint64(b[recArgs+8*i:])
		}
	} else {
		r.args = [6]uint64{}
	}
	r.ret = int64(le.Uint64(b[recRet:]))
	n := int(b[recNitems])
	if n > maxRecItems {
		return fmt.Errorf("%w: %d items", errBadRecord, n)
	}
	off := recHdrLen
	for i := range n {
		if off+4 > len(b) {
			return fmt.Errorf("%w: item %d past the end", errBadRecord, i)
		}
		l := int(le.Uint32(b[off:]))
		off += 4
		if off+l > len(b) {
			return fmt.Errorf("%w: item %d of %d bytes past the end", errBadRecord, i, l)
		}
		r.items[i] = b[off : off+l]
		off += l
	}
	for i := n; i < maxRecItems; i++ {
		r.items[i] = nil
	}
	r.n = n
	return nil
}

func (r *record) kind() uint8 { return r.b[recKind] }
func (r *record) nr() uint16  { return le.Uint16(r.b[recNr:]) }
func (r *record) tid() uint32 { return le.Uint32(r.b[recTid:]) }
func (r *record) ts() uint64  { return le.Uint64(r.b[recTs:]) }
func (r *record) cpu() uint16 { return le.Uint16(r.b[recCPU:]) }

func (r *record) item(i int8) []byte {
	if i < 0 || int(i) >= r.n {
		return nil
	}
	return r.items[i]
}

// converter turns records into scap events.
type converter struct {
	snaplen int
	sys     [maxSyscalls]sysEntry
	rec     record
	data    []byte
	lens    []uint32
	offs    []uint32
	cg      *cgroupCache
	bootOff uint64
}

func newConverter(snaplen int) *converter {
	return &converter{
		snaplen: snaplen,
		sys:     loadSyscalls(),
		data:    make([]byte, 0, 64<<10),
		lens:    make([]uint32, 0, 32),
		offs:    make([]uint32, 0, 32),
		cg:      newCgroupCache(),
	}
}

// sysconf returns the kernel-side configuration of syscall nr.
func (c *converter) sysconf(nr int) probeSysconf {
	var sc probeSysconf
	e := &c.sys[nr]
	sc.On = 3
	if e.enter != nil {
		if e.enter.needsArgs() {
			sc.On |= 4
		}
		if e.exit.needsArgs() {
			sc.On |= 8
		}
		sc.Nenter = uint8(len(e.enter.fetch))
		for i, f := range e.enter.fetch {
			sc.Enter[i].Kind, sc.Enter[i].Arg, sc.Enter[i].Lenkind, sc.Enter[i].Lenarg = f.kind, f.arg, f.lenkind, f.lenarg
		}
		sc.Nexit = uint8(len(e.exit.fetch))
		for i, f := range e.exit.fetch {
			sc.Exit[i].Kind, sc.Exit[i].Arg, sc.Exit[i].Lenkind, sc.Exit[i].Lenarg = f.kind, f.arg, f.lenkind, f.lenarg
		}
	}
	return sc
}

// needsArgs reports whether building the event reads the syscall's arguments.
func (s *evSpec) needsArgs() bool {
	for _, o := range s.ops {
		switch o.src {
		case srcArg, srcOpenMode, srcSemop, srcPtrace, srcBPF, srcQuotactl, srcSockopt:
			return true
		case srcTask:
			if o.arg == tCloneFlags {
				return true
			}
		}
	}
	return false
}

// convert decodes record b into ev. ev's slices point into the converter and are
// valid until the next call.
func (c *converter) convert(b []byte, ev *scap.Event) error {
	r := &c.rec
	if err := r.parse(b); err != nil {
		return err
	}
	c.data = c.data[:0]
	c.lens = c.lens[:0]
	c.offs = c.offs[:0]
	ev.Ts = r.ts() + c.bootOff
	ev.Tid = int64(r.tid())
	ev.CPU = r.cpu()
	ev.Flags = 0
	ev.Large = false
	ev.Offset = -1
	switch r.kind() {
	case kindEnter, kindExit:
		nr := r.nr()
		if int(nr) >= maxSyscalls {
			return fmt.Errorf("%w: syscall %d", errBadRecord, nr)
		}
		e := &c.sys[nr]
		var s *evSpec
		if r.kind() == kindEnter {
			s = e.enter
		} else {
			s = e.exit
		}
		if s == nil {
			if r.kind() == kindEnter {
				ev.Type = event.GenericE
				c.putU16(e.sc)
				c.putU16(nr)
			} else {
				ev.Type = event.GenericX
				c.putU16(e.sc)
			}
			break
		}
		ev.Type = s.typ
		for i := range s.ops {
			c.param(&s.ops[i])
		}
	case kindProcExit:
		ev.Type = event.ProcexitV1E
		code := int64(int32(r.args[0]))
		c.putU64(uint64(code))
		c.putU64(uint64((code >> 8) & 0xff))
		var sig, core uint8
		if s := code & 0x7f; s != 0 && s != 0x7f {
			sig = uint8(s)
			if code&0x80 != 0 {
				core = 1
			}
		}
		c.putU8(sig)
		c.putU8(core)
	case kindSignal:
		ev.Type = event.SignaldeliverE
		c.putU64(uint64(int64(int32(r.args[1]))))
		c.putU64(uint64(r.tid()))
		c.putU8(uint8(r.args[0]))
	case kindSwitch:
		ev.Type = event.SchedswitchV6E
		c.putU64(r.args[0])
		c.putU64(r.args[1])
		c.putU64(r.args[2])
		c.putU32(uint32(r.args[3]))
		c.putU32(uint32(r.args[4]))
		c.putU32(uint32(r.args[5]))
	default:
		return fmt.Errorf("%w: kind %d", errBadRecord, r.kind())
	}
	ev.NParams = len(c.lens)
	ev.Lens = c.lens
	ev.Offs = c.offs
	ev.Data = c.data
	return nil
}

func (c *converter) begin() { c.offs = append(c.offs, uint32(len(c.data))) }
func (c *converter) end()   { c.lens = append(c.lens, uint32(len(c.data))-c.offs[len(c.offs)-1]) }

func (c *converter) putU8(v uint8)   { c.begin(); c.data = append(c.data, v); c.end() }
func (c *converter) putU16(v uint16) { c.begin(); c.data = le.AppendUint16(c.data, v); c.end() }
func (c *converter) putU32(v uint32) { c.begin(); c.data = le.AppendUint32(c.data, v); c.end() }
func (c *converter) putU64(v uint64) { c.begin(); c.data = le.AppendUint64(c.data, v); c.end() }
func (c *converter) putBytes(b []byte) {
	c.begin()
	c.data = append(c.data, b...)
	c.end()
}

// putString writes a NUL-terminated string param (b may or may not end in NUL).
func (c *converter) putString(b []byte) {
	c.begin()
	if i := indexNul(b); i >= 0 {
		b = b[:i]
	}
	c.data = append(c.data, b...)
	c.data = append(c.data, 0)
	c.end()
}

func indexNul(b []byte) int {
	for i, x := range b {
		if x == 0 {
			return i
		}
	}
	return -1
}

// putNum writes v with the size of parameter type t.
func (c *converter) putNum(t event.ParamType, v uint64) {
	switch t {
	case event.PTInt8, event.PTUint8, event.PTFlags8, event.PTEnumFlags8, event.PTSigType, event.PTL4Proto, event.PTSockFamily:
		c.putU8(uint8(v))
	case event.PTInt16, event.PTUint16, event.PTFlags16, event.PTEnumFlags16, event.PTPort, event.PTSyscallID:
		c.putU16(uint16(v))
	case event.PTInt32, event.PTUint32, event.PTFlags32, event.PTEnumFlags32, event.PTUID, event.PTGID, event.PTMode,
		event.PTSigSet, event.PTBool, event.PTIPv4Addr, event.PTFD32, event.PTPID32:
		c.putU32(uint32(v))
	case event.PTFD, event.PTPID:
		// fds and pids are C ints: sign-extend (AT_FDCWD is -100).
		c.putU64(uint64(int64(int32(v))))
	default:
		c.putU64(v)
	}
}

// putZero writes the empty value of a parameter type.
func (c *converter) putZero(t event.ParamType) {
	switch t {
	case event.PTCharBuf, event.PTFSPath, event.PTFSRelPath:
		c.putString(nil)
	case event.PTByteBuf, event.PTSockAddr, event.PTSockTuple, event.PTCharBufArray, event.PTCharBufPairArray:
		c.putBytes(nil)
	case event.PTFDList:
		c.putU16(0)
	default:
		c.putNum(t, 0)
	}
}

func (c *converter) param(o *op) {
	r := &c.rec
	switch o.src {
	case srcZero:
		c.putZero(o.typ)
	case srcRet:
		c.putNum(o.typ, uint64(r.ret))
	case srcArg:
		v := r.args[o.arg]
		if o.conv != nil {
			v = o.conv(v)
		}
		c.putNum(o.typ, v)
	case srcItem:
		b := r.item(o.item)
		switch o.typ {
		case event.PTCharBuf, event.PTFSPath, event.PTFSRelPath:
			c.putString(b)
		default:
			c.putBytes(b)
		}
	case srcCwd:
		if r.ret > 0 {
			c.putString(r.item(o.item))
		} else {
			c.putString(nil)
		}
	case srcSockaddr:
		c.begin()
		c.data = appendSockaddr(c.data, r.item(o.item))
		c.end()
	case srcOpenMode:
		flags := uint64(0x40) // O_CREAT, for creat
		if o.arg2 != 255 {
			flags = r.args[o.arg2]
		}
		c.putU32(OpenMode(flags, r.args[o.arg]))
	case srcFileDev:
		var dev uint32
		if fi := r.item(o.item); len(fi) >= 24 && le.Uint32(fi[20:]) != 0 {
			dev = encodeDev(le.Uint32(fi[8:]))
		}
		c.putU32(dev)
	case srcFileIno:
		var ino uint64
		if fi := r.item(o.item); len(fi) >= 24 && le.Uint32(fi[20:]) != 0 {
			ino = le.Uint64(fi)
		}
		c.putU64(ino)
	case srcTuple:
		c.begin()
		c.data = c.appendTuple(c.data, o)
		c.end()
	case srcQueue:
		var v uint64
		if si := r.item(o.item); r.ret >= 0 && len(si) >= sockinfoLen {
			blog, max := uint64(le.Uint32(si[sockAckBacklog:])), uint64(le.Uint32(si[sockMaxAckBacklog:]))
			switch o.arg {
			case 0:
				if max != 0 {
					v = blog * 100 / max
				}
			case 1:
				v = blog
			case 2:
				v = max
			}
		}
		c.putNum(o.typ, v)
	case srcIovSize:
		var v int64
		if b := r.item(o.item); len(b) >= 8 {
			v = int64(le.Uint64(b))
			if o.arg == 1 && v > r.ret {
				v = r.ret
			}
		}
		c.putU32(uint32(v))
	case srcIovData:
		var d []byte
		if b := r.item(o.item); len(b) >= 8 {
			d = b[8:]
		}
		c.putBytes(d)
	case srcTask:
		c.taskParam(o)
	case srcVM:
		var v uint32
		if b := r.item(o.item); len(b) >= vminfoLen {
			v = le.Uint32(b[16+4*int(o.arg):])
		}
		c.putU32(v)
	case srcMemInt32:
		var v int64 = -1
		if b := r.item(o.item); len(b) >= 4*int(o.arg)+4 && r.ret >= 0 {
			v = int64(int32(le.Uint32(b[4*int(o.arg):])))
		}
		if o.typ == event.PTUID || o.typ == event.PTGID {
			c.putU32(uint32(v))
		} else {
			c.putNum(o.typ, uint64(v))
		}
	case srcMemU64:
		var v uint64
		if b := r.item(o.item); len(b) >= 8 {
			v = le.Uint64(b)
		}
		c.putU64(v)
	case srcSockPtr:
		var v uint64
		if si := r.item(o.item); r.ret >= 0 && len(si) >= sockinfoLen {
			v = le.Uint64(si[8*int(o.arg):])
		}
		c.putU64(v)
	case srcPoll:
		c.begin()
		c.data = appendFDList(c.data, r.item(o.item), o.arg == 1)
		c.end()
	case srcTimespec:
		var v uint64
		if b := r.item(o.item); len(b) >= 16 {
			v = le.Uint64(b)*1e9 + le.Uint64(b[8:])
		}
		c.putU64(v)
	case srcSigset:
		var v uint32
		if b := r.item(o.item); len(b) >= 4 {
			v = le.Uint32(b)
		}
		c.putU32(v)
	case srcRlimit:
		v := int64(-1)
		if b := r.item(o.item); len(b) >= 16 && r.ret >= 0 {
			v = int64(le.Uint64(b[8*int(o.arg):]))
		}
		c.putU64(uint64(v))
	case srcSockopt:
		c.sockopt(o)
	case srcSemop:
		var v uint64
		if b := r.item(o.item); r.ret >= 0 && int(o.arg) < int(r.args[2]) && len(b) >= 6*int(o.arg)+6 {
			e := b[6*int(o.arg):]
			switch o.arg2 {
			case 0:
				v = uint64(le.Uint16(e))
			case 1:
				v = uint64(le.Uint16(e[2:]))
			case 2:
				v = convSemopFlags(uint64(le.Uint16(e[4:])))
			}
		}
		c.putNum(o.typ, v)
	case srcPtrace:
		// A PT_DYN of index PPM_PTRACE_IDX_UINT64 with the raw address or data.
		c.begin()
		c.data = append(c.data, 0)
		var v uint64
		if r.ret >= 0 {
			v = r.args[2+o.arg]
		}
		c.data = le.AppendUint64(c.data, v)
		c.end()
	case srcBPF:
		c.begin()
		cmd := r.args[0]
		if r.ret >= 0 && (cmd == 0 || cmd == 5) { // BPF_MAP_CREATE, BPF_PROG_LOAD
			c.data = append(c.data, 0) // PPM_BPF_IDX_FD
		} else {
			c.data = append(c.data, 1) // PPM_BPF_IDX_RES
		}
		c.data = le.AppendUint64(c.data, uint64(r.ret))
		c.end()
	case srcQuotactl:
		cmd := r.args[0]
		switch o.arg {
		case 0:
			c.putU16(uint16(convQuotactlCmd(cmd)))
		case 1:
			c.putU8(uint8(convQuotactlType(cmd)))
		case 2:
			// Only Q_QUOTAON has a format argument (the id); other commands store QFMT_NOT_USED.
			const qQuotaOn, qfmtNotUsed = 0x800002, 1
			if cmd>>8 == qQuotaOn {
				c.putU8(uint8(convQuotaFmt(r.args[2])))
			} else {
				c.putU8(qfmtNotUsed)
			}
		}
	case srcOpenHow:
		var flags, mode, resolve uint64
		if b := r.item(o.item); len(b) >= 24 {
			flags, mode, resolve = le.Uint64(b), le.Uint64(b[8:]), le.Uint64(b[16:])
		}
		switch o.arg {
		case 0:
			c.putU32(uint32(convOpenFlags(flags)))
		case 1:
			c.putU32(OpenMode(flags, mode))
		case 2:
			c.putU32(uint32(convResolveFlags(resolve)))
		}
	default:
		c.putZero(o.typ)
	}
}

// encodeDev converts a kernel dev_t (major<<20|minor) to the userspace encoding the driver stores.
func encodeDev(d uint32) uint32 {
	major, minor := d>>20, d&0xfffff
	return minor&0xff | major<<8 | (minor&^0xff)<<12
}

// appendFDList encodes pollfds (struct pollfd: int fd, short events, short revents) as PT_FDLIST.
func appendFDList(b, fds []byte, revents bool) []byte {
	n := len(fds) / 8
	b = le.AppendUint16(b, uint16(n))
	for i := range n {
		p := fds[8*i:]
		b = le.AppendUint64(b, uint64(int64(int32(le.Uint32(p)))))
		ev := le.Uint16(p[4:])
		if revents {
			ev = le.Uint16(p[6:])
		}
		b = le.AppendUint16(b, PollEvents(ev))
	}
	return b
}

// sockopt builds the params of setsockopt/getsockopt.
func (c *converter) sockopt(o *op) {
	r := &c.rec
	level, name := int64(int32(r.args[1])), int64(int32(r.args[2]))
	switch o.arg {
	case 0:
		l, _ := SockoptName(level, name)
		c.putU8(l)
	case 1:
		_, n := SockoptName(level, name)
		c.putU8(n)
	case 2:
		c.begin()
		c.data = appendSockoptVal(c.data, level, name, r.item(o.item), r.ret)
		c.end()
	case 3:
		var v uint32
		if b := r.item(o.item2); len(b) >= 4 {
			v = le.Uint32(b)
		}
		c.putU32(v)
	}
}

// appendSockoptVal encodes a sockopt value as the driver's PT_DYN: errno for
// SO_ERROR, u64 for SO_COOKIE, u32 for the SOL_SOCKET options the driver reads as
// integers, and the raw bytes for the rest. (The driver built against kernel
// headers since 5.1 has no SO_RCVTIMEO/SO_SNDTIMEO/SO_TIMESTAMP* cases: raw bytes.)
func appendSockoptVal(b []byte, level, name int64, val []byte, ret int64) []byte {
	const (
		solSocket = 1
		soError   = 4
		soCookie  = 57
	)
	if ret < 0 || len(val) == 0 {
		return append(b, 0) // PPM_SOCKOPT_IDX_UNKNOWN, no bytes
	}
	if level == solSocket {
		switch {
		case name == soError && len(val) >= 4:
			b = append(b, 1) // PPM_SOCKOPT_IDX_ERRNO
			return le.AppendUint64(b, uint64(-int64(int32(le.Uint32(val)))))
		case name == soCookie && len(val) >= 8:
			b = append(b, 3) // PPM_SOCKOPT_IDX_UINT64
			return le.AppendUint64(b, le.Uint64(val))
		case name >= 0 && name < 64 && sockoptU32&(1<<name) != 0 && len(val) >= 4:
			b = append(b, 2) // PPM_SOCKOPT_IDX_UINT32
			return le.AppendUint32(b, le.Uint32(val))
		}
	}
	b = append(b, 0)
	return append(b, val...)
}

// sockoptU32 has a bit set for each SOL_SOCKET option (x86_64 numbers) whose
// value the driver stores as a u32.
const sockoptU32 uint64 = 1<<1 | 1<<2 | 1<<3 | 1<<5 | 1<<6 | 1<<7 | 1<<8 | 1<<9 | 1<<10 | 1<<11 | 1<<12 |
	1<<14 | 1<<15 | 1<<16 | 1<<18 | 1<<19 | 1<<22 | 1<<23 | 1<<24 | 1<<25 | 1<<27 | 1<<30 | 1<<31 |
	1<<32 | 1<<33 | 1<<34 | 1<<36 | 1<<38 | 1<<39 | 1<<40 | 1<<41 | 1<<42 | 1<<43 | 1<<44 | 1<<45 |
	1<<46 | 1<<47 | 1<<48 | 1<<49
