// Package scap reads and writes sysdig capture files (.scap): the pcapng-like
// block stream written by sysdig, Falco and syscope, plain or gzip-compressed.
//
// A Reader parses the section header and the metadata blocks (machine info,
// process, fd, interface and user tables) when it is opened, then hands out
// events one at a time from a reused buffer, so reading allocates nothing per
// event. A Writer produces files that sysdig 0.29.3 reads.
package scap

// Block types.
const (
	BlockSHB        = 0x0A0D0D0A
	BlockMI         = 0x201
	BlockMILegacy   = 0x8002ABCD
	BlockPLV1       = 0x202
	BlockPLV1Legacy = 0x8000ABCD
	BlockPLV2       = 0x207
	BlockPLV2Legacy = 0x8013ABCD
	BlockPLV3       = 0x209
	BlockPLV3Legacy = 0x8014ABCD
	BlockPLV4       = 0x210
	BlockPLV5       = 0x211
	BlockPLV6       = 0x212
	BlockPLV7       = 0x213
	BlockPLV8       = 0x214
	BlockPLV9       = 0x215
	BlockFDL        = 0x203
	BlockFDLLegacy  = 0x8001ABCD
	BlockFDLV2      = 0x218
	BlockEV         = 0x204
	BlockEVLegacy   = 0x8010ABCD
	BlockEVV2       = 0x216
	BlockEVV2Large  = 0x221
	BlockEVF        = 0x208
	BlockEVFV2      = 0x217
	BlockEVFV2Large = 0x222
	BlockIL         = 0x205
	BlockILLegacy   = 0x8011ABCD
	BlockILV2       = 0x219
	BlockUL         = 0x206
	BlockULLegacy   = 0x8012ABCD
	BlockULV2       = 0x220
)

// ByteOrderMagic is the section header's byte-order magic.
const ByteOrderMagic = 0x1A2B3C4D

// FDType is the kind of a file descriptor (scap_fd_type).
type FDType uint8

// File descriptor kinds.
const (
	FDUninitialized FDType = 0
	FDFile          FDType = 1
	FDDirectory     FDType = 2
	FDIPv4Sock      FDType = 3
	FDIPv6Sock      FDType = 4
	FDIPv4ServSock  FDType = 5
	FDIPv6ServSock  FDType = 6
	FDFifo          FDType = 7
	FDUnixSock      FDType = 8
	FDEvent         FDType = 9
	FDUnsupported   FDType = 10
	FDSignalfd      FDType = 11
	FDEventpoll     FDType = 12
	FDInotify       FDType = 13
	FDTimerfd       FDType = 14
	FDNetlink       FDType = 15
	FDFileV2        FDType = 16
	FDBPF           FDType = 17
	FDUserfaultfd   FDType = 18
	FDIOUring       FDType = 19
	FDMemfd         FDType = 20
	FDPidfd         FDType = 21
)

// L4 protocols of socket fds (SCAP_L4_*).
const (
	L4Unknown = 0
	L4NA      = 1
	L4TCP     = 2
	L4UDP     = 3
	L4ICMP    = 4
	L4Raw     = 5
)

// FD is one entry of a thread's fd table as stored in FDL blocks.
type FD struct {
	Num   int64
	Ino   uint64
	Type  FDType
	Flags uint32 // open flags, FILE_V2 only
	Dev   uint32 // FILE_V2 only, when present
	Name  string
	// Sockets: addresses in network order (IPv4 in the first 4 bytes), ports in host order.
	SIP, DIP     [16]byte
	SPort, DPort uint16
	L4Proto      uint8
	// Unix sockets: kernel addresses of both ends.
	Source, Dest uint64
}

// Thread is one entry of the process list (PL blocks), with its fds.
type Thread struct {
	Tid, Pid, Ptid int64
	Sid, Vpgid     int64
	Comm, Exe      string
	ExePath        string
	Args           []string
	Cwd            string
	FDLimit        int64
	Flags          uint32
	UID, GID       uint32
	VMSizeKB       uint32
	VMRSSKB        uint32
	VMSwapKB       uint32
	PFMajor        uint64
	PFMinor        uint64
	Env            []string
	Vtid, Vpid     int64
	Cgroups        []string
	Root           string
	// PL_V9 tail fields.
	PidnsInitStart uint64
	TTY            uint32
	LoginUID       uint32
	HasLoginUID    bool
	ExeWritable    bool
	CapInheritable uint64
	CapPermitted   uint64
	CapEffective   uint64
	HasCaps        bool
	FDs            []FD
}

// MachineInfo is the MI block.
type MachineInfo struct {
	NumCPUs     uint32
	MemoryBytes uint64
	MaxPID      uint64
	Hostname    string
	BootTS      uint64
	Flags       uint64
	Reserved3   uint64
	Reserved4   uint64
}

// Interface is an IPv4 or IPv6 interface address from the IL blocks.
type Interface struct {
	IPv6      bool
	Name      string
	Addr      [16]byte
	Netmask   [16]byte
	Bcast     [16]byte
	LinkSpeed uint64
	HasSpeed  bool
}

// User is a user from the UL blocks.
type User struct {
	UID     uint32
	GID     uint32
	Name    string
	HomeDir string
	Shell   string
}

// Group is a group from the UL blocks.
type Group struct {
	GID  uint32
	Name string
}

// Metadata is everything a capture file says before its first event.
type Metadata struct {
	Major, Minor uint16
	Machine      *MachineInfo
	Threads      []Thread
	Interfaces   []Interface
	Users        []User
	Groups       []Group
}
