package scap

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"runtime"

	"github.com/klauspost/compress/gzip"
	"github.com/syscope/syscope/event"
)

var le = binary.LittleEndian

// Limits on block sizes: a length above them is treated as corruption.
const (
	maxEventBlock      = 65536 + 12 // READER_BUF_SIZE for non-large event blocks, plus header and trailer
	maxLargeEventBlock = 256 << 20  // *_LARGE event blocks
	maxMetaBlock       = 1 << 30    // process and fd lists of big hosts
	eventHeaderLen     = 26         // ts, tid, len, type, nparams
	oldEventHeaderLen  = 22         // the same without nparams
	shbBodyLen         = 16         // magic, major, minor, section length
	blockHeaderLen     = 8          // type, total length
	largeParamLens     = event.EFLargePayload
)

// Error is a read error with the position where it happened.
type Error struct {
	File   string // file name, if known
	Offset int64  // offset of the block, in the uncompressed stream
	Msg    string
	Err    error // underlying error, if any
}

func (e *Error) Error() string {
	where := e.File
	if where == "" {
		where = "capture"
	}
	s := fmt.Sprintf("%s: at byte %d: %s", where, e.Offset, e.Msg)
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

func (e *Error) Unwrap() error { return e.Err }

// Event is one event as read from a capture: the header and the parameters.
// Its slices point into the Reader's buffer and are valid until the next call to Next.
type Event struct {
	Ts      uint64 // nanoseconds since the epoch
	Tid     int64
	Type    event.Type
	CPU     uint16
	Flags   uint32 // EVF blocks only
	NParams int
	Lens    []uint32 // length of each parameter
	Offs    []uint32 // offset of each parameter in Data
	Data    []byte   // parameter values, concatenated
	Large   bool     // parameter lengths are 32-bit (EF_LARGE_PAYLOAD)
	Offset  int64    // offset of the event's block in the uncompressed stream
}

// Param returns the raw bytes of parameter i, or nil when the event does not carry it.
func (e *Event) Param(i int) []byte {
	if i >= e.NParams {
		return nil
	}
	return e.Data[e.Offs[i] : e.Offs[i]+e.Lens[i]]
}

// Reader reads a capture file.
type Reader struct {
	name  string
	in    *chunks      // the uncompressed stream
	async *asyncSource // inflates a compressed input ahead
	owned bool         // the input is a file Open opened (Close closes it)
	// pipe, once Next has started it, decodes in a goroutine of its own;
	// cur is the batch being handed out, pos and metaPos the next event
	// and metadata in it.
	pipe         *pipeline
	noPipe       bool
	cur          *batch
	pos, metaPos int
	stop         int   // NextPtr's fast path hands out cur's events before it
	ev           Event // NextPtr's event, when decoding in the caller's goroutine
	closer       []io.Closer
	off          int64 // offset of the next unread byte in the uncompressed stream
	meta         Metadata
	// pending is the header of the first event block, read while looking for the end of the metadata.
	pending     [blockHeaderLen]byte
	havePending bool
	hdr         [blockHeaderLen]byte
	lens        []uint32
	offs        []uint32
	err         error
	intern      interner // strings repeated across the metadata

	// OnMetadata, if set, is called when metadata blocks appear after events have started
	// (a concatenated capture, or a writer that re-dumps its tables). The new tables are passed.
	OnMetadata func(*Metadata)
	// OnSection, if set, is called instead of OnMetadata for a section header
	// that follows events (concatenated captures), with the new section's tables.
	OnSection func(*Metadata)
	// OnBlock, if set, is called by Next for each block header it reads: the
	// block's offset in the uncompressed stream, its type and total length.
	OnBlock func(off int64, btype, total uint32)
}

// Open opens a capture file, plain or gzip-compressed, and reads its metadata.
func Open(path string) (*Reader, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	r, err := newReader(f, path)
	if err != nil {
		f.Close()
		return nil, err
	}
	r.closer = append(r.closer, f)
	r.owned = true
	return r, nil
}

// NewReader reads a capture from rd, plain or gzip-compressed (sniffed from its first bytes).
func NewReader(rd io.Reader) (*Reader, error) { return newReader(rd, "") }

func newReader(rd io.Reader, name string) (*Reader, error) {
	r := &Reader{name: name}
	raw := newStream(rd)
	if magic := raw.peek(2); len(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		zr, err := gzip.NewReader(raw)
		if err != nil {
			return nil, r.errf(0, err, "bad gzip stream")
		}
		// Inflating costs more than decoding: it gets a goroutine of its
		// own, and the events are decoded in the caller's.
		as := newAsyncSource(zr, zr)
		r.async = as
		r.noPipe = true
		r.in = &chunks{src: as}
	} else {
		r.in = &chunks{src: newSyncSource(raw)}
	}
	if err := r.readHeader(); err != nil {
		if r.async != nil {
			r.async.stop()
		}
		return nil, err
	}
	if r.async != nil {
		// A Reader dropped without Close still stops its goroutine.
		runtime.AddCleanup(r, func(stop func()) { stop() }, r.async.stop)
	}
	return r, nil
}

// Close releases the file.
func (r *Reader) Close() error {
	var first error
	if r.pipe != nil {
		r.pipe.stop()
	}
	if r.async != nil {
		r.async.stop()
	}
	for i := len(r.closer) - 1; i >= 0; i-- {
		if err := r.closer[i].Close(); err != nil && first == nil {
			first = err
		}
	}
	r.closer = nil
	if r.owned {
		// The file is closed: a read in progress returns, and the
		// goroutine with it. (A caller's pipe may block for good: then
		// the goroutine is left to end with it.)
		if r.pipe != nil {
			<-r.pipe.exited
		}
		if r.async != nil {
			<-r.async.exited
		}
	}
	r.err, r.stop = errClosed, 0
	return first
}

// SetPipeline turns the decoding goroutine (see pipeline.go) on or off
// before the first event is read; it is on by default when the program
// may use more than one CPU. A Reader with OnBlock set decodes in the
// caller's goroutine.
func (r *Reader) SetPipeline(on bool) { r.noPipe = !on }

// Metadata returns the tables read before the first event.
func (r *Reader) Metadata() *Metadata { return &r.meta }

// Name returns the file name given to Open.
func (r *Reader) Name() string { return r.name }

// Offset returns the current offset in the uncompressed stream.
func (r *Reader) Offset() int64 {
	if r.pos > 0 {
		return r.cur.ends[r.pos-1] // the batch being handed out
	}
	return r.off
}

func (r *Reader) errf(off int64, err error, format string, args ...any) *Error {
	return &Error{File: r.name, Offset: off, Msg: fmt.Sprintf(format, args...), Err: err}
}

// readBlockHeader reads the 8-byte block header into h. It returns io.EOF at a clean end of stream.
func (r *Reader) readBlockHeader(h []byte) error {
	b, err := r.in.next(blockHeaderLen)
	r.off += int64(len(b))
	if err == io.EOF {
		return io.EOF
	}
	if err != nil {
		return r.errf(r.off-int64(len(b)), err, "truncated block header (%d of 8 bytes)", len(b))
	}
	copy(h, b)
	return nil
}

// readBody reads the rest of a block whose header is h and checks its
// trailer. It returns the body without header and trailer (padding
// included), as a slice of the input buffer valid until the next read.
func (r *Reader) readBody(h []byte, limit uint32) ([]byte, error) {
	start := r.off - blockHeaderLen
	btype := le.Uint32(h[0:])
	total := le.Uint32(h[4:])
	if total < blockHeaderLen+4 || total%4 != 0 && btype != BlockSHB {
		return nil, r.errf(start, nil, "block type 0x%x has invalid length %d", btype, total)
	}
	if total > limit {
		return nil, r.errf(start, nil, "block type 0x%x claims %d bytes, more than the %d allowed: the file is corrupt", btype, total, limit)
	}
	n := int(total) - blockHeaderLen
	b, err := r.in.next(n)
	r.off += int64(len(b))
	if err != nil {
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return nil, r.errf(start, err, "truncated block type 0x%x (%d bytes announced, %d read)", btype, total, r.off-start)
	}
	if trailer := le.Uint32(b[n-4:]); trailer != total {
		return nil, r.errf(start, nil, "block type 0x%x: trailer length %d does not match header length %d", btype, trailer, total)
	}
	return b[:n-4], nil
}

func (r *Reader) readHeader() error {
	var h [blockHeaderLen]byte
	if err := r.readBlockHeader(h[:]); err != nil {
		if err == io.EOF {
			return r.errf(0, nil, "empty file")
		}
		return err
	}
	if le.Uint32(h[0:]) != BlockSHB {
		return r.errf(0, nil, "not a capture file: first block type 0x%08x, expected a section header 0x0A0D0D0A", le.Uint32(h[0:]))
	}
	if err := r.readSHB(h[:]); err != nil {
		return err
	}
	return r.readMetadataBlocks(&r.meta)
}

func (r *Reader) readSHB(h []byte) error {
	start := r.off - blockHeaderLen
	body, err := r.readBody(h, 1<<20)
	if err != nil {
		return err
	}
	if len(body) < shbBodyLen {
		return r.errf(start, nil, "section header too short (%d bytes)", len(body))
	}
	magic := le.Uint32(body)
	if magic != ByteOrderMagic {
		return r.errf(start, nil, "bad byte-order magic 0x%08x (expected 0x1A2B3C4D): not a little-endian scap file", magic)
	}
	major := le.Uint16(body[4:])
	if major != 1 {
		return r.errf(start, nil, "unsupported capture format version %d.%d", major, le.Uint16(body[6:]))
	}
	r.meta.Major = major
	r.meta.Minor = le.Uint16(body[6:])
	// Anything after the fixed fields is pcapng options: skipped.
	return nil
}

// readMetadataBlocks reads metadata blocks into m until the first event block,
// whose header it keeps in r.pending.
func (r *Reader) readMetadataBlocks(m *Metadata) error {
	var h [blockHeaderLen]byte
	for {
		if err := r.readBlockHeader(h[:]); err != nil {
			if err == io.EOF {
				return nil
			}
			return err
		}
		btype := le.Uint32(h[0:])
		if isEventBlock(btype) {
			r.pending = h
			r.havePending = true
			return nil
		}
		if err := r.readMetaBlock(h[:], m); err != nil {
			return err
		}
	}
}

func isEventBlock(t uint32) bool {
	switch t {
	case BlockEV, BlockEVLegacy, BlockEVV2, BlockEVV2Large, BlockEVF, BlockEVFV2, BlockEVFV2Large:
		return true
	}
	return false
}

func (r *Reader) readMetaBlock(h []byte, m *Metadata) error {
	start := r.off - blockHeaderLen
	btype := le.Uint32(h[0:])
	body, err := r.readBody(h, maxMetaBlock)
	if err != nil {
		return err
	}
	d := decoder{b: body, in: &r.intern}
	switch btype {
	case BlockMI, BlockMILegacy:
		m.Machine = d.machineInfo()
	case BlockPLV1, BlockPLV1Legacy, BlockPLV2, BlockPLV2Legacy, BlockPLV3, BlockPLV3Legacy,
		BlockPLV4, BlockPLV5, BlockPLV6, BlockPLV7, BlockPLV8, BlockPLV9:
		d.procList(btype, m)
	case BlockFDL, BlockFDLLegacy, BlockFDLV2:
		d.fdList(btype == BlockFDLV2, m)
	case BlockIL, BlockILLegacy, BlockILV2:
		d.ifList(btype == BlockILV2, m)
	case BlockUL, BlockULLegacy, BlockULV2:
		d.userList(btype == BlockULV2, m)
	default:
		// Unknown block types are skipped.
		return nil
	}
	if d.err != nil {
		return r.errf(start, nil, "block type 0x%x: %s", btype, d.err)
	}
	return nil
}

// NextPtr is Next without a copy: the event it returns is the Reader's, and
// valid until the next call (its bytes are valid as long as with Next).
func (r *Reader) NextPtr() (*Event, error) {
	// The events of a pipeline's batch, one after the other (small enough
	// to be inlined in the caller's loop).
	if i := r.pos; i < r.stop {
		r.pos = i + 1
		return &r.cur.events[i], nil
	}
	return r.nextPtr()
}

func (r *Reader) nextPtr() (*Event, error) {
	if r.err == nil && r.piped() {
		return r.nextPiped()
	}
	if err := r.Next(&r.ev); err != nil {
		return nil, err
	}
	return &r.ev, nil
}

// piped reports whether the events come from a pipeline, starting one at
// the first event when it may.
func (r *Reader) piped() bool {
	if r.pipe == nil && !r.noPipe && r.OnBlock == nil {
		// Asked once: GOMAXPROCS takes the scheduler's lock.
		if runtime.GOMAXPROCS(0) > 1 {
			r.startPipeline()
		} else {
			r.noPipe = true
		}
	}
	return r.pipe != nil
}

// ErrNoEvents is returned by Next, wrapped, for a capture that has no event block at all.
var ErrNoEvents = errors.New("no events in file")

// Next reads the next event into ev. It returns io.EOF at the end of the capture,
// and an *Error describing the damage for a corrupt or truncated file.
func (r *Reader) Next(ev *Event) error {
	if r.err != nil {
		return r.err
	}
	if r.piped() {
		p, err := r.nextPiped()
		if err == nil {
			*ev = *p
		}
		return err
	}
	// The header lives in the Reader, where the pipeline's decoder and the
	// pending header of a section are kept too.
	h := &r.hdr
	for {
		if !r.havePending && r.OnBlock == nil {
			ok, err := r.nextInBuffer(ev)
			if err == errSkip {
				continue
			}
			if ok {
				if err != nil {
					r.err = err
				}
				return err
			}
		}
		if r.havePending {
			*h = r.pending
			r.havePending = false
		} else if err := r.readBlockHeader(h[:]); err != nil {
			r.err = err
			return err
		}
		btype := le.Uint32(h[0:])
		if r.OnBlock != nil {
			r.OnBlock(r.off-blockHeaderLen, btype, le.Uint32(h[4:]))
		}
		if !isEventBlock(btype) {
			if err := r.otherBlock(h[:]); err != nil {
				r.err = err
				return err
			}
			continue
		}
		err := r.readEvent(h[:], btype, ev)
		if err == errSkip {
			continue
		}
		if err != nil {
			r.err = err
		}
		return err
	}
}

var errSkip = errors.New("skip")

// otherBlock handles a non-event block met after the events started.
func (r *Reader) otherBlock(h []byte) error {
	btype := le.Uint32(h[0:])
	if btype == BlockSHB {
		// A concatenated capture: a new section with its own tables.
		if err := r.readSHB(h); err != nil {
			return err
		}
		m := Metadata{Major: r.meta.Major, Minor: r.meta.Minor}
		if err := r.readMetadataBlocks(&m); err != nil {
			return err
		}
		r.meta = m
		if r.OnSection != nil {
			r.OnSection(&r.meta)
		} else if r.OnMetadata != nil {
			r.OnMetadata(&r.meta)
		}
		return nil
	}
	m := Metadata{Major: r.meta.Major, Minor: r.meta.Minor}
	if err := r.readMetaBlock(h, &m); err != nil {
		return err
	}
	if r.OnMetadata != nil {
		r.OnMetadata(&m)
	}
	return nil
}

func (r *Reader) readEvent(h []byte, btype uint32, ev *Event) error {
	start := r.off - blockHeaderLen
	body, err := r.readBody(h, eventBlockLimit(btype))
	if err != nil {
		return err
	}
	return r.decodeEvent(start, body, btype, ev)
}

// eventBlockLimit is the largest event block of type btype.
func eventBlockLimit(btype uint32) uint32 {
	if btype == BlockEVV2Large || btype == BlockEVFV2Large {
		return maxLargeEventBlock
	}
	return maxEventBlock
}

// nextInBuffer is Next's fast path: the next block is an event block whose
// bytes are all in the current input buffer, and well formed as a block. It
// reports false, having read nothing, when the block needs the slow path.
func (r *Reader) nextInBuffer(ev *Event) (bool, error) {
	c := r.in
	rest := c.cur[c.p:]
	if len(rest) < blockHeaderLen {
		return false, nil
	}
	btype := le.Uint32(rest)
	total := le.Uint32(rest[4:])
	if !isEventBlock(btype) || total < blockHeaderLen+4 || total%4 != 0 || uint64(total) > uint64(len(rest)) ||
		total > eventBlockLimit(btype) || le.Uint32(rest[total-4:]) != total {
		return false, nil
	}
	start := r.off
	c.p += int(total)
	c.off += int64(total)
	r.off += int64(total)
	return true, r.decodeEvent(start, rest[blockHeaderLen:total-4:total-4], btype, ev)
}

// decodeEvent decodes the body (without block header and trailer) of the
// event block of type btype at offset start.
func (r *Reader) decodeEvent(start int64, body []byte, btype uint32, ev *Event) error {
	oldHeader := btype == BlockEV || btype == BlockEVLegacy || btype == BlockEVF
	hasFlags := btype == BlockEVF || btype == BlockEVFV2 || btype == BlockEVFV2Large
	p := 2
	if hasFlags {
		p += 4
	}
	hl := eventHeaderLen
	if oldHeader {
		hl = oldEventHeaderLen
	}
	if len(body) < p+hl {
		return r.errf(start, nil, "event block too short (%d bytes)", len(body))
	}
	ev.Offset = start
	ev.CPU = le.Uint16(body)
	ev.Flags = 0
	if hasFlags {
		ev.Flags = le.Uint32(body[2:])
	}
	e := body[p:]
	ev.Ts = le.Uint64(e)
	ev.Tid = int64(le.Uint64(e[8:]))
	evlen := le.Uint32(e[16:])
	ev.Type = event.Type(le.Uint16(e[20:]))
	if int(evlen) > len(e) || int(evlen) < hl {
		return r.errf(start, nil, "event type %d: length %d does not fit its %d-byte block", ev.Type, evlen, len(e))
	}
	info := ev.Type.Info()
	if info == nil {
		// Event types unknown to the table are skipped, as sysdig does.
		return errSkip
	}
	lensz := 2
	ev.Large = info.Flags&largeParamLens != 0
	if ev.Large {
		lensz = 4
	}
	e = e[:evlen]
	if oldHeader {
		// Old events carry no parameter count: it is the count, up to the
		// table's, whose lengths add up to the event length. Each more
		// parameter adds at least its length's bytes, so at most one count
		// does, and the lengths are read while it is looked for.
		max := len(info.Params)
		r.growParams(max)
		lens, offs := r.lens[:max], r.offs[:max]
		sum := hl
		for n := 0; ; n++ {
			if sum == len(e) {
				ev.NParams, ev.Lens, ev.Offs = n, lens[:n], offs[:n]
				ev.Data = e[hl+lensz*n:]
				return nil
			}
			if n == max || sum+lensz > len(e) {
				break
			}
			var l int
			if lensz == 2 {
				l = int(le.Uint16(e[hl+2*n:]))
			} else {
				l = int(le.Uint32(e[hl+4*n:]))
			}
			lens[n], offs[n] = uint32(l), uint32(sum-hl-lensz*n)
			sum += lensz + l
		}
		return r.errf(start, nil, "event type %d (%s): parameter lengths do not add up to the event length %d", ev.Type, info.Name, evlen)
	}
	nparams := int(le.Uint32(e[22:]))
	if nparams > 1024 || hl+lensz*nparams > len(e) {
		return r.errf(start, nil, "event type %d (%s): %d parameters do not fit in %d bytes", ev.Type, info.Name, nparams, evlen)
	}
	r.growParams(nparams)
	lens, offs := r.lens[:nparams], r.offs[:nparams]
	data := e[hl+lensz*nparams:]
	var off uint32
	if lensz == 2 {
		tab := e[hl : hl+2*nparams]
		for i := range lens {
			l := uint32(le.Uint16(tab[2*i:]))
			lens[i], offs[i] = l, off
			off += l
		}
	} else {
		tab := e[hl : hl+4*nparams]
		for i := range lens {
			l := le.Uint32(tab[4*i:])
			lens[i], offs[i] = l, off
			off += l
			if off < l {
				off = math.MaxUint32 // wrapped: caught below
			}
		}
	}
	if int64(off) > int64(len(data)) {
		// Name the first parameter that overruns the event.
		var sum int64
		for i, l := range lens {
			if sum += int64(l); sum > int64(len(data)) {
				return r.errf(start, nil, "event type %d (%s): parameter %d overruns the event (%d > %d bytes)", ev.Type, info.Name, i, sum, len(data))
			}
		}
	}
	ev.NParams, ev.Lens, ev.Offs = nparams, lens, offs
	ev.Data = data[:off]
	return nil
}

// growParams makes room for n parameter lengths and offsets.
func (r *Reader) growParams(n int) {
	if cap(r.lens) < n {
		r.lens = make([]uint32, n+8)
		r.offs = make([]uint32, n+8)
	}
}

// decoder reads little-endian fields from a block body, recording the first error.
type decoder struct {
	b   []byte
	p   int
	err error
	in  *interner // nil: every string is a new copy
}

func (d *decoder) fail(format string, args ...any) {
	if d.err == nil {
		d.err = fmt.Errorf(format, args...)
	}
}

func (d *decoder) left() int { return len(d.b) - d.p }

func (d *decoder) need(n int) bool {
	if d.err != nil {
		return false
	}
	if d.left() < n {
		d.fail("truncated at offset %d of the block body (need %d bytes, %d left)", d.p, n, d.left())
		return false
	}
	return true
}

func (d *decoder) u8() uint8 {
	if !d.need(1) {
		return 0
	}
	v := d.b[d.p]
	d.p++
	return v
}

func (d *decoder) u16() uint16 {
	if !d.need(2) {
		return 0
	}
	v := le.Uint16(d.b[d.p:])
	d.p += 2
	return v
}

func (d *decoder) u32() uint32 {
	if !d.need(4) {
		return 0
	}
	v := le.Uint32(d.b[d.p:])
	d.p += 4
	return v
}

func (d *decoder) u64() uint64 {
	if !d.need(8) {
		return 0
	}
	v := le.Uint64(d.b[d.p:])
	d.p += 8
	return v
}

func (d *decoder) bytes(n int) []byte {
	if !d.need(n) {
		return nil
	}
	v := d.b[d.p : d.p+n]
	d.p += n
	return v
}

// str reads a u16-length string, limited to max bytes.
func (d *decoder) str(what string, max int) string {
	n := int(d.u16())
	if d.err != nil {
		return ""
	}
	if n > max {
		d.fail("invalid %s length %d", what, n)
		return ""
	}
	b := d.bytes(n)
	if i := bytes.IndexByte(b, 0); i >= 0 {
		b = b[:i]
	}
	if d.in != nil {
		return d.in.str(b)
	}
	return string(b)
}

// list reads a u16-length list of NUL-terminated strings.
func (d *decoder) list(what string, max int) []string {
	n := int(d.u16())
	if d.err != nil {
		return nil
	}
	if n > max {
		d.fail("invalid %s length %d", what, n)
		return nil
	}
	if d.in != nil {
		return d.in.list(d.bytes(n))
	}
	return splitNul(d.bytes(n), newString)
}

// cstr converts bytes to a string, stopping at the first NUL.
func cstr(b []byte) string {
	if i := bytes.IndexByte(b, 0); i >= 0 {
		b = b[:i]
	}
	return string(b)
}

// splitNul splits a run of NUL-terminated strings (the last may lack its
// NUL), making each string with str. The list's capacity is its length.
func splitNul(b []byte, str func([]byte) string) []string {
	if len(b) == 0 {
		return nil
	}
	n := bytes.Count(b, []byte{0})
	if b[len(b)-1] != 0 {
		n++
	}
	out := make([]string, 0, n)
	for len(b) > 0 {
		i := bytes.IndexByte(b, 0)
		if i < 0 {
			out = append(out, str(b))
			break
		}
		out = append(out, str(b[:i]))
		b = b[i+1:]
	}
	return out
}

// newString is string(b), for splitNul.
func newString(b []byte) string { return string(b) }

const (
	maxPath    = 1024
	maxArgs    = 4096
	maxCredStr = 256
)

func (d *decoder) machineInfo() *MachineInfo {
	m := &MachineInfo{}
	m.NumCPUs = d.u32()
	m.MemoryBytes = d.u64()
	m.MaxPID = d.u64()
	m.Hostname = cstr(d.bytes(128))
	if d.left() >= 32 {
		m.BootTS = d.u64()
		m.Flags = d.u64()
		m.Reserved3 = d.u64()
		m.Reserved4 = d.u64()
	}
	return m
}

func plVersion(btype uint32) int {
	switch btype {
	case BlockPLV1, BlockPLV1Legacy:
		return 1
	case BlockPLV2, BlockPLV2Legacy:
		return 2
	case BlockPLV3, BlockPLV3Legacy:
		return 3
	case BlockPLV4:
		return 4
	case BlockPLV5:
		return 5
	case BlockPLV6:
		return 6
	case BlockPLV7:
		return 7
	case BlockPLV8:
		return 8
	}
	return 9
}

func (d *decoder) procList(btype uint32, m *Metadata) {
	v := plVersion(btype)
	for d.err == nil && d.left() > 0 {
		entryStart := d.p
		entryEnd := -1
		if v == 9 {
			if d.left() < 4 {
				return // padding
			}
			l := int(d.u32())
			if l == 0 {
				return // padding
			}
			if l < 4 || entryStart+l > len(d.b) {
				d.fail("process entry of %d bytes at offset %d overruns the block", l, entryStart)
				return
			}
			entryEnd = entryStart + l
		} else if d.left() < 24 {
			return // padding
		}
		var t Thread
		t.Tid = int64(d.u64())
		t.Pid = int64(d.u64())
		t.Ptid = int64(d.u64())
		if v >= 6 {
			t.Sid = int64(d.u64())
		}
		if v >= 8 {
			t.Vpgid = int64(d.u64())
		}
		t.Comm = d.str("comm", maxPath)
		t.Exe = d.str("exe", maxPath)
		if v >= 7 {
			t.ExePath = d.str("exepath", maxPath)
		}
		t.Args = d.list("args", maxArgs)
		t.Cwd = d.str("cwd", maxPath)
		t.FDLimit = int64(d.u64())
		t.Flags = d.u32()
		t.UID = d.u32()
		t.GID = d.u32()
		if v >= 2 {
			t.VMSizeKB = d.u32()
			t.VMRSSKB = d.u32()
			t.VMSwapKB = d.u32()
			t.PFMajor = d.u64()
			t.PFMinor = d.u64()
		}
		if v >= 3 {
			t.Env = d.list("env", maxArgs)
		}
		if v >= 4 {
			t.Vtid = int64(d.u64())
			t.Vpid = int64(d.u64())
			t.Cgroups = d.list("cgroups", maxArgs)
		}
		if v >= 5 {
			t.Root = d.str("root", maxPath)
		}
		if v == 9 && d.err == nil {
			rem := entryEnd - d.p
			// Files written by libs >= 0.10 put pidns_init_start_ts and tty here.
			if rem > 29 {
				t.PidnsInitStart = d.u64()
				t.TTY = d.u32()
				rem -= 12
			}
			if rem >= 4 {
				t.LoginUID = d.u32()
				t.HasLoginUID = true
				rem -= 4
			}
			if rem >= 1 {
				t.ExeWritable = d.u8() != 0
				rem--
			}
			if rem >= 24 {
				t.CapInheritable = d.u64()
				t.CapPermitted = d.u64()
				t.CapEffective = d.u64()
				t.HasCaps = true
			}
			if d.err == nil {
				if d.p > entryEnd {
					d.fail("process entry at offset %d is longer than its announced length", entryStart)
					return
				}
				d.p = entryEnd
			}
		}
		if d.err == nil {
			m.Threads = append(m.Threads, t)
		}
	}
}

// thread returns the thread with tid in m, adding an empty one if needed.
func (m *Metadata) thread(tid int64) *Thread {
	for i := len(m.Threads) - 1; i >= 0; i-- {
		if m.Threads[i].Tid == tid {
			return &m.Threads[i]
		}
	}
	m.Threads = append(m.Threads, Thread{Tid: tid, Pid: -1, Ptid: -1})
	return &m.Threads[len(m.Threads)-1]
}

func (d *decoder) fdList(v2 bool, m *Metadata) {
	tid := int64(d.u64())
	if d.err != nil {
		return
	}
	fds := make([]FD, 0, d.fdCount(v2))
	for d.err == nil && d.left() >= 4 {
		entryStart := d.p
		entryEnd := -1
		if v2 {
			l := int(d.u32())
			if l == 0 {
				break
			}
			if l < 4 || entryStart+l > len(d.b) {
				d.fail("fd entry of %d bytes at offset %d overruns the block", l, entryStart)
				return
			}
			entryEnd = entryStart + l
		} else if d.left() < 17 {
			break
		}
		var f FD
		f.Num = int64(d.u64())
		f.Ino = d.u64()
		f.Type = FDType(d.u8())
		switch f.Type {
		case FDIPv4Sock:
			copy(f.SIP[:4], d.bytes(4))
			copy(f.DIP[:4], d.bytes(4))
			f.SPort = d.u16()
			f.DPort = d.u16()
			f.L4Proto = d.u8()
		case FDIPv4ServSock:
			copy(f.SIP[:4], d.bytes(4))
			f.SPort = d.u16()
			f.L4Proto = d.u8()
		case FDIPv6Sock:
			copy(f.SIP[:], d.bytes(16))
			copy(f.DIP[:], d.bytes(16))
			f.SPort = d.u16()
			f.DPort = d.u16()
			f.L4Proto = d.u8()
		case FDIPv6ServSock:
			copy(f.SIP[:], d.bytes(16))
			f.SPort = d.u16()
			f.L4Proto = d.u8()
		case FDUnixSock:
			f.Source = d.u64()
			f.Dest = d.u64()
			f.Name = d.str("unix socket path", maxPath)
		case FDFileV2:
			f.Flags = d.u32()
			f.Name = d.str("file name", maxPath)
			if entryEnd >= 0 && entryEnd-d.p >= 4 {
				f.Dev = d.u32()
			}
		case FDFile, FDDirectory, FDFifo, FDEvent, FDUnsupported, FDSignalfd, FDEventpoll, FDInotify,
			FDTimerfd, FDNetlink, FDBPF, FDUserfaultfd, FDIOUring, FDMemfd, FDPidfd:
			f.Name = d.str("fd name", maxPath)
		default:
			if entryEnd < 0 {
				d.fail("unknown fd type %d", f.Type)
				return
			}
			f.Name = fmt.Sprintf("unknown-type:[%d]", f.Type)
			f.Type = FDUnsupported
			d.p = entryEnd
		}
		if d.err != nil {
			return
		}
		if entryEnd >= 0 {
			if d.p > entryEnd {
				d.fail("fd entry at offset %d is longer than its announced length", entryStart)
				return
			}
			d.p = entryEnd
		}
		fds = append(fds, f)
	}
	if d.err == nil {
		t := m.thread(tid)
		t.FDs = append(t.FDs, fds...)
	}
}

// fdCount is how many entries the rest of an fd list holds: counted from
// their lengths in a V2 list, estimated from the smallest entry (17 bytes)
// in an old one, within a bound. Lengths too short for an entry end the
// count, so a lying list cannot make the reader allocate more than its
// bytes could hold.
func (d *decoder) fdCount(v2 bool) int {
	if !v2 {
		return min(d.left()/17, 256)
	}
	const minEntry = 4 + 17 // length, fd, inode, type
	n := 0
	for p := d.p; p+4 <= len(d.b); n++ {
		l := int(le.Uint32(d.b[p:]))
		if l < minEntry {
			break
		}
		p += l
	}
	return n
}

func (d *decoder) ifList(v2 bool, m *Metadata) {
	for d.err == nil && d.left() >= 4 {
		entryEnd := -1
		if v2 {
			l := int(d.u32())
			if l == 0 {
				return
			}
			entryEnd = d.p + l
			if entryEnd > len(d.b) {
				d.fail("interface entry of %d bytes overruns the block", l)
				return
			}
		}
		typ := d.u16()
		namelen := int(d.u16())
		var it Interface
		switch typ {
		case 1, 3:
			copy(it.Addr[:4], d.bytes(4))
			copy(it.Netmask[:4], d.bytes(4))
			copy(it.Bcast[:4], d.bytes(4))
		case 2, 4:
			it.IPv6 = true
			copy(it.Addr[:], d.bytes(16))
			copy(it.Netmask[:], d.bytes(16))
			copy(it.Bcast[:], d.bytes(16))
		default:
			if entryEnd >= 0 {
				d.p = entryEnd
				continue
			}
			d.fail("unknown interface type %d", typ)
			return
		}
		if typ == 1 || typ == 2 {
			it.LinkSpeed = d.u64()
			it.HasSpeed = true
		}
		if namelen > maxPath {
			d.fail("invalid interface name length %d", namelen)
			return
		}
		it.Name = cstr(d.bytes(namelen))
		if d.err != nil {
			return
		}
		if entryEnd >= 0 {
			d.p = entryEnd
		}
		m.Interfaces = append(m.Interfaces, it)
	}
}

func (d *decoder) userList(v2 bool, m *Metadata) {
	for d.err == nil && d.left() >= 4 {
		entryEnd := -1
		if v2 {
			l := int(d.u32())
			if l == 0 {
				return
			}
			entryEnd = d.p - 4 + l
			if l < 5 || entryEnd > len(d.b) {
				d.fail("user entry of %d bytes overruns the block", l)
				return
			}
		}
		typ := d.u8()
		switch typ {
		case 0:
			var u User
			u.UID = d.u32()
			u.GID = d.u32()
			u.Name = d.str("user name", maxCredStr)
			u.HomeDir = d.str("home directory", maxPath)
			u.Shell = d.str("shell", maxPath)
			if d.err == nil {
				m.Users = append(m.Users, u)
			}
		case 1:
			var g Group
			g.GID = d.u32()
			g.Name = d.str("group name", maxCredStr)
			if d.err == nil {
				m.Groups = append(m.Groups, g)
			}
		default:
			if entryEnd < 0 {
				// Padding, or an entry we cannot size: stop here.
				return
			}
		}
		if entryEnd >= 0 && d.err == nil {
			d.p = entryEnd
		}
	}
}
