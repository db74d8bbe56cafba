package scap

import (
	"bufio"
	"io"
	"os"

	"github.com/klauspost/compress/gzip"
)

// Writer writes a capture file: section header (1.2), machine info, interface,
// user and process lists, one fd list per thread, then events, in the layout
// libscap writes and sysdig 0.29.3 reads.
type Writer struct {
	f   *os.File
	zw  *gzip.Writer
	bw  *bufio.Writer
	err error
	buf []byte
	n   int64 // bytes written, uncompressed
	// scratch holds a block's header and trailer while they are written.
	scratch [8]byte
	// For Offset: zlib's view of a plain file, or the bytes of a compressed one.
	z   zlibOut
	out *countWriter
	// Large makes WriteEvent use *_LARGE blocks for every event, not only for
	// those whose type has 32-bit parameter lengths (EF_LARGE_PAYLOAD), which
	// is what libscap writes. sysdig reads both; Wireshark takes a *_LARGE
	// block to have 32-bit lengths, so files meant for it must not set this.
	Large bool
}

// Dump flags of EVF blocks (libscap's scap_dump_flags).
const (
	// FlagStateOnly marks an event kept only for the state (sysdig's -F):
	// readers parse it but do not show it.
	FlagStateOnly = 1
	// FlagTracer marks a tracer write.
	FlagTracer = 2
)

// countWriter counts the bytes that reach the file.
type countWriter struct {
	w io.Writer
	n int64
}

func (c *countWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// Create creates path (mode 0600: captures hold secrets) and writes the header and
// the tables of m. With compress the file is gzip-compressed.
func Create(path string, compress bool, m *Metadata) (*Writer, error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return nil, err
	}
	w, err := NewWriter(f, compress, m)
	if err != nil {
		f.Close()
		os.Remove(path)
		return nil, err
	}
	w.f = f
	return w, nil
}

// NewWriter writes a capture to out.
func NewWriter(out io.Writer, compress bool, m *Metadata) (*Writer, error) {
	w := &Writer{}
	if compress {
		w.out = &countWriter{w: out}
		w.zw = gzip.NewWriter(w.out)
		out = w.zw
	}
	w.bw = bufio.NewWriterSize(out, 1<<16)
	w.writeHeader(m)
	return w, w.err
}

func (w *Writer) write(b []byte) {
	if w.err == nil {
		_, w.err = w.bw.Write(b)
		w.n += int64(len(b))
	}
}

// Offset is the size of the file as sysdig's -C sees it while libscap writes
// it through zlib (gzoffset): for a plain file, the bytes written less those
// zlib would still hold in its buffer; for a compressed one, the compressed
// bytes that reached the file.
func (w *Writer) Offset() int64 {
	if w.out != nil {
		return w.out.n
	}
	return w.z.flushed
}

// WriteSection starts a new section in the file: a section header and the
// tables of m, as at the start of a file. A reader handles it as it handles
// concatenated captures: sysdig 0.29.3 starts its state again from m.
func (w *Writer) WriteSection(m *Metadata) error {
	if w.err != nil {
		return w.err
	}
	w.writeHeader(m)
	return w.err
}

// block writes one block with the given body, padding and trailer.
func (w *Writer) block(typ uint32, body []byte) {
	pad := (4 - len(body)%4) % 4
	total := uint32(8 + len(body) + pad + 4)
	// The scratch bytes live in the Writer: local arrays would escape to
	// the heap through bufio's writer, twice per event.
	h := &w.scratch
	le.PutUint32(h[0:], typ)
	le.PutUint32(h[4:], total)
	w.write(h[:])
	w.write(body)
	clear(h[:4])
	w.write(h[:pad])
	le.PutUint32(h[:], total)
	w.write(h[:4])
}

type enc struct{ b []byte }

func (e *enc) u8(v uint8)   { e.b = append(e.b, v) }
func (e *enc) u16(v uint16) { e.b = le.AppendUint16(e.b, v) }
func (e *enc) u32(v uint32) { e.b = le.AppendUint32(e.b, v) }
func (e *enc) u64(v uint64) { e.b = le.AppendUint64(e.b, v) }
func (e *enc) str(s string) {
	if len(s) > 0xffff {
		s = s[:0xffff]
	}
	e.u16(uint16(len(s)))
	e.b = append(e.b, s...)
}
func (e *enc) list(l []string, max int) {
	n := 0
	for _, s := range l {
		if n+len(s)+1 > max {
			break
		}
		n += len(s) + 1
	}
	e.u16(uint16(n))
	n = 0
	for _, s := range l {
		if n+len(s)+1 > max {
			break
		}
		e.b = append(e.b, s...)
		e.b = append(e.b, 0)
		n += len(s) + 1
	}
}

func (w *Writer) writeHeader(m *Metadata) {
	start := w.n
	defer func() { w.z.smallWrites(w.n - start) }()
	var e enc
	e.u32(ByteOrderMagic)
	e.u16(1)
	e.u16(2)
	e.u64(^uint64(0))
	w.block(BlockSHB, e.b)

	mi := m.Machine
	if mi == nil {
		mi = &MachineInfo{}
	}
	e = enc{}
	e.u32(mi.NumCPUs)
	e.u64(mi.MemoryBytes)
	e.u64(mi.MaxPID)
	var host [128]byte
	copy(host[:127], mi.Hostname)
	e.b = append(e.b, host[:]...)
	e.u64(mi.BootTS)
	e.u64(mi.Flags)
	e.u64(mi.Reserved3)
	e.u64(mi.Reserved4)
	w.block(BlockMI, e.b)

	e = enc{}
	for _, it := range m.Interfaces {
		var x enc
		typ := uint16(3)
		if it.IPv6 {
			typ = 4
		}
		if it.HasSpeed {
			typ -= 2
		}
		x.u16(typ)
		x.u16(uint16(len(it.Name)))
		n := 4
		if it.IPv6 {
			n = 16
		}
		x.b = append(x.b, it.Addr[:n]...)
		x.b = append(x.b, it.Netmask[:n]...)
		x.b = append(x.b, it.Bcast[:n]...)
		if it.HasSpeed {
			x.u64(it.LinkSpeed)
		}
		x.b = append(x.b, it.Name...)
		e.u32(uint32(len(x.b)))
		e.b = append(e.b, x.b...)
	}
	w.block(BlockILV2, e.b)

	e = enc{}
	for _, u := range m.Users {
		var x enc
		x.u8(0)
		x.u32(u.UID)
		x.u32(u.GID)
		x.str(u.Name)
		x.str(u.HomeDir)
		x.str(u.Shell)
		e.u32(uint32(len(x.b) + 4))
		e.b = append(e.b, x.b...)
	}
	for _, g := range m.Groups {
		var x enc
		x.u8(1)
		x.u32(g.GID)
		x.str(g.Name)
		e.u32(uint32(len(x.b) + 4))
		e.b = append(e.b, x.b...)
	}
	w.block(BlockULV2, e.b)

	e = enc{}
	for i := range m.Threads {
		t := &m.Threads[i]
		var x enc
		x.u64(uint64(t.Tid))
		x.u64(uint64(t.Pid))
		x.u64(uint64(t.Ptid))
		x.u64(uint64(t.Sid))
		x.u64(uint64(t.Vpgid))
		x.str(t.Comm)
		x.str(t.Exe)
		x.str(t.ExePath)
		x.list(t.Args, maxArgs)
		x.str(t.Cwd)
		x.u64(uint64(t.FDLimit))
		x.u32(t.Flags)
		x.u32(t.UID)
		x.u32(t.GID)
		x.u32(t.VMSizeKB)
		x.u32(t.VMRSSKB)
		x.u32(t.VMSwapKB)
		x.u64(t.PFMajor)
		x.u64(t.PFMinor)
		x.list(t.Env, maxArgs)
		x.u64(uint64(t.Vtid))
		x.u64(uint64(t.Vpid))
		x.list(t.Cgroups, maxArgs)
		x.str(t.Root)
		// The libs 0.29 layout: loginuid and exe_writable right after root.
		x.u32(t.LoginUID)
		var wr uint8
		if t.ExeWritable {
			wr = 1
		}
		x.u8(wr)
		e.u32(uint32(len(x.b) + 4))
		e.b = append(e.b, x.b...)
	}
	w.block(BlockPLV9, e.b)

	for i := range m.Threads {
		t := &m.Threads[i]
		if len(t.FDs) == 0 {
			continue
		}
		e = enc{}
		e.u64(uint64(t.Tid))
		for j := range t.FDs {
			f := &t.FDs[j]
			var x enc
			x.u64(uint64(f.Num))
			x.u64(f.Ino)
			x.u8(uint8(f.Type))
			switch f.Type {
			case FDIPv4Sock:
				x.b = append(x.b, f.SIP[:4]...)
				x.b = append(x.b, f.DIP[:4]...)
				x.u16(f.SPort)
				x.u16(f.DPort)
				x.u8(f.L4Proto)
			case FDIPv4ServSock:
				x.b = append(x.b, f.SIP[:4]...)
				x.u16(f.SPort)
				x.u8(f.L4Proto)
			case FDIPv6Sock:
				x.b = append(x.b, f.SIP[:]...)
				x.b = append(x.b, f.DIP[:]...)
				x.u16(f.SPort)
				x.u16(f.DPort)
				x.u8(f.L4Proto)
			case FDIPv6ServSock:
				x.b = append(x.b, f.SIP[:]...)
				x.u16(f.SPort)
				x.u8(f.L4Proto)
			case FDUnixSock:
				x.u64(f.Source)
				x.u64(f.Dest)
				x.str(f.Name)
			case FDFileV2:
				x.u32(f.Flags)
				x.str(f.Name)
				x.u32(f.Dev)
			default:
				x.str(f.Name)
			}
			e.u32(uint32(len(x.b) + 4))
			e.b = append(e.b, x.b...)
		}
		w.block(BlockFDLV2, e.b)
	}
}

// WriteEvent writes one event, as EV_V2 (EVF_V2 when it has flags; the *_LARGE
// variants when its type has 32-bit parameter lengths, as libscap writes them,
// when w.Large is set, or when the event does not fit a normal block).
func (w *Writer) WriteEvent(ev *Event) error {
	if w.err != nil {
		return w.err
	}
	lensz := 2
	if ev.Large {
		lensz = 4
	}
	evlen := eventHeaderLen + lensz*ev.NParams + len(ev.Data)
	flagsLen := 0
	if ev.Flags != 0 {
		flagsLen = 4
	}
	body := 2 + flagsLen + evlen
	pad := (4 - body%4) % 4
	total := blockHeaderLen + body + pad + 4
	large := w.Large || ev.Large || body+12 > maxEventBlock
	var typ uint32
	switch {
	case ev.Flags != 0 && large:
		typ = BlockEVFV2Large
	case ev.Flags != 0:
		typ = BlockEVFV2
	case large:
		typ = BlockEVV2Large
	default:
		typ = BlockEVV2
	}
	// The whole block is built where bufio would copy it to, when it fits:
	// one Write per event rather than one per piece.
	b := w.bw.AvailableBuffer()
	own := cap(b) < total
	if own {
		b = w.buf[:0]
	}
	b = le.AppendUint32(b, typ)
	b = le.AppendUint32(b, uint32(total))
	b = le.AppendUint16(b, ev.CPU)
	if ev.Flags != 0 {
		b = le.AppendUint32(b, ev.Flags)
	}
	b = le.AppendUint64(b, ev.Ts)
	b = le.AppendUint64(b, uint64(ev.Tid))
	b = le.AppendUint32(b, uint32(evlen))
	b = le.AppendUint16(b, uint16(ev.Type))
	b = le.AppendUint32(b, uint32(ev.NParams))
	for _, l := range ev.Lens[:ev.NParams] {
		if lensz == 2 {
			b = le.AppendUint16(b, uint16(l))
		} else {
			b = le.AppendUint32(b, l)
		}
	}
	b = append(b, ev.Data...)
	b = append(b, 0, 0, 0)[:len(b)+pad]
	b = le.AppendUint32(b, uint32(total))
	if own {
		w.buf = b[:0] // perhaps grown: keep it for the next event
	}
	w.write(b)
	// libscap's gzwrite calls: header, cpu, flags, event, padding, trailer.
	// Writes smaller than zlib's buffer fill it in turn whether they come
	// one by one or as one.
	if evlen < zlibWriteBuf {
		w.z.write(int64(total))
	} else {
		w.z.write(blockHeaderLen)
		w.z.write(2)
		w.z.write(int64(flagsLen))
		w.z.write(int64(evlen))
		w.z.write(int64(pad))
		w.z.write(4)
	}
	return w.err
}

// Close flushes and closes the file.
func (w *Writer) Close() error {
	if err := w.bw.Flush(); err != nil && w.err == nil {
		w.err = err
	}
	if w.zw != nil {
		if err := w.zw.Close(); err != nil && w.err == nil {
			w.err = err
		}
	}
	if w.f != nil {
		if err := w.f.Close(); err != nil && w.err == nil {
			w.err = err
		}
	}
	return w.err
}
