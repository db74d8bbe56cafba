package event

//go:generate go run ./internal/genevents

// Type is an event type id (PPME_*): even ids are enter events, odd ids exit events.
type Type uint16

// ParamType is the encoding of an event parameter (PT_*).
type ParamType uint8

// Parameter encodings, as in the driver's ppm_param_type.
const (
	PTNone ParamType = iota
	PTInt8
	PTInt16
	PTInt32
	PTInt64
	PTUint8
	PTUint16
	PTUint32
	PTUint64
	PTCharBuf
	PTByteBuf
	PTErrno
	PTSockAddr
	PTSockTuple
	PTFD
	PTPID
	PTFDList
	PTFSPath
	PTSyscallID
	PTSigType
	PTRelTime
	PTAbsTime
	PTPort
	PTL4Proto
	PTSockFamily
	PTBool
	PTIPv4Addr
	PTDyn
	PTFlags8
	PTFlags16
	PTFlags32
	PTUID
	PTGID
	PTDouble
	PTSigSet
	PTCharBufArray
	PTCharBufPairArray
	PTIPv4Net
	PTIPv6Addr
	PTIPv6Net
	PTIPAddr
	PTIPNet
	PTMode
	PTFSRelPath
	PTEnumFlags8
	PTEnumFlags16
	PTEnumFlags32
	PTFD32
	PTPID32
)

// PrintFmt is how a numeric parameter is printed (PF_*).
type PrintFmt uint8

// Print formats, as in the driver's ppm_print_format.
const (
	PFNA PrintFmt = iota
	PFDec
	PFHex
	PF10PaddedDec
	PFID
	PFDir
	PFOct
)

// Category is an event category (EC_*): a value in the low bits plus flag bits.
type Category uint32

// Event categories.
const (
	CatUnknown    Category = 0
	CatOther      Category = 1
	CatFile       Category = 2
	CatNet        Category = 3
	CatIPC        Category = 4
	CatMemory     Category = 5
	CatProcess    Category = 6
	CatSleep      Category = 7
	CatSystem     Category = 8
	CatSignal     Category = 9
	CatUser       Category = 10
	CatTime       Category = 11
	CatProcessing Category = 12
	CatIORead     Category = 32
	CatIOWrite    Category = 33
	CatIOOther    Category = 34
	CatWait       Category = 1 << 6
	CatScheduler  Category = 1 << 7
	CatInternal   Category = 1 << 8
	CatSyscall    Category = 1 << 9
	CatTracepoint Category = 1 << 10
	CatPlugin     Category = 1 << 11
	CatMetaevent  Category = 1 << 12
	CatIter       Category = 1 << 13

	// CatIOBase is the bit shared by the three I/O categories.
	CatIOBase Category = 32
)

// Flags are per-event-type flags (EF_*).
type Flags uint32

// Event flags.
const (
	EFCreatesFD        Flags = 1
	EFDestroysFD       Flags = 2
	EFUsesFD           Flags = 4
	EFReadsFromFD      Flags = 8
	EFWritesToFD       Flags = 16
	EFModifiesState    Flags = 32
	EFUnused           Flags = 64
	EFWaits            Flags = 128
	EFSkipParseReset   Flags = 256
	EFOldVersion       Flags = 512
	EFDropSimpleCons   Flags = 1024
	EFLargePayload     Flags = 2048
	EFConverterManaged Flags = 4096
)

// Param describes one parameter of an event type.
type Param struct {
	Name string
	Type ParamType
	Fmt  PrintFmt
	// Flags is the table of flag or enum names for PT_FLAGS*/PT_MODE/PT_ENUMFLAGS* params.
	Flags []NameValue
	// DirFD is, for PT_FSRELPATH params, the index of the PT_FD param the path is relative to; -1 otherwise.
	DirFD int8
	// Dyn holds the possible layouts of a PT_DYN param, indexed by its first byte.
	Dyn []Param

	flagsName string
}

// Info describes one event type.
type Info struct {
	Name     string
	Category Category
	Flags    Flags
	Params   []Param
}

// IsEnter reports whether t is an enter event.
func (t Type) IsEnter() bool { return t&1 == 0 }

// Dir returns ">" for enter events and "<" for exit events, as sysdig prints them.
func (t Type) Dir() string {
	if t&1 == 0 {
		return ">"
	}
	return "<"
}

// Known reports whether t is a type id that sysdig 0.29.3 knows (below its PPM_EVENT_MAX).
func (t Type) Known() bool { return int(t) < len(table) }

// Info returns the table row of t, or nil for a type id the table does not have.
func (t Type) Info() *Info {
	if int(t) < len(table) {
		return &table[t]
	}
	return nil
}

// MaxType is PPM_EVENT_MAX of sysdig 0.29.3: type ids at or above it are unknown to it.
const MaxType = Type(len(table))

// HeadInfo returns the row of t in the event table of current falcosecurity/libs, or nil.
// It knows event types added after sysdig 0.29.3.
func HeadInfo(t Type) *Info {
	if int(t) < len(tableHead) {
		return &tableHead[t]
	}
	return nil
}

// Lookup returns the type ids whose event name is name (enter and exit, all versions).
func Lookup(name string) []Type {
	return byName[name]
}

var byName = map[string][]Type{}

func init() {
	for _, tab := range [][]Info{table[:], tableHead[:]} {
		for i := range tab {
			resolveFlags(tab[i].Params)
		}
	}
	for i := range table {
		if table[i].Name != "NA" {
			byName[table[i].Name] = append(byName[table[i].Name], Type(i))
		}
	}
}

func resolveFlags(ps []Param) {
	for j := range ps {
		if ps[j].flagsName != "" {
			ps[j].Flags = FlagTable(ps[j].flagsName)
		}
	}
}

var paramTypeNames = [...]string{
	PTNone: "NONE", PTInt8: "INT8", PTInt16: "INT16", PTInt32: "INT32", PTInt64: "INT64",
	PTUint8: "UINT8", PTUint16: "UINT16", PTUint32: "UINT32", PTUint64: "UINT64",
	PTCharBuf: "CHARBUF", PTByteBuf: "BYTEBUF", PTErrno: "ERRNO", PTSockAddr: "SOCKADDR",
	PTSockTuple: "SOCKTUPLE", PTFD: "FD", PTPID: "PID", PTFDList: "FDLIST", PTFSPath: "FSPATH",
	PTSyscallID: "SYSCALLID", PTSigType: "SIGTYPE", PTRelTime: "RELTIME", PTAbsTime: "ABSTIME",
	PTPort: "PORT", PTL4Proto: "L4PROTO", PTSockFamily: "SOCKFAMILY", PTBool: "BOOL",
	PTIPv4Addr: "IPV4ADDR", PTIPAddr: "IPADDR", PTIPNet: "IPNET", PTDyn: "DYNAMIC",
	PTFlags8: "FLAGS8", PTFlags16: "FLAGS16", PTFlags32: "FLAGS32", PTMode: "MODE",
	PTUID: "UID", PTGID: "GID", PTSigSet: "SIGSET", PTIPv4Net: "IPV4NET", PTDouble: "DOUBLE",
	PTCharBufArray: "CHARBUFARRAY", PTCharBufPairArray: "CHARBUF_PAIR_ARRAY", PTFSRelPath: "FSRELPATH",
}

// String is the type name sysdig -L prints ("<NA>" for types sysdig 0.29.3 has no name for).
func (t ParamType) String() string {
	if int(t) < len(paramTypeNames) && paramTypeNames[t] != "" {
		return paramTypeNames[t]
	}
	return "<NA>"
}

// FlagsName returns the name of the flag or enum table of p (e.g. "file_flags"), or "".
func (p *Param) FlagsName() string { return p.flagsName }
