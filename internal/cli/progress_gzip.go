package cli

import (
	"bufio"
	"errors"
	"io"
	"os"
	"slices"
)

// gzipModel is zlib reading a gzip file, to know what gzoffset() reports:
// the compressed bytes inflate has taken in. Reads smaller than the output
// buffer refill it with 16 KiB of uncompressed data (less at the end of a
// gzip member); larger ones inflate straight into the caller's buffer; a
// backward seek rewinds to the start of the file and inflates up to the
// position again. Inflate takes input in 8 KiB loads, and stops when its
// output is full, but only after it has decoded the next literal or match
// (all of its bits), and any block header or member trailer before it: so
// the offset depends on where symbols start and end in the bit stream, which
// inflater finds without producing the data.
type gzipModel struct {
	f    *os.File
	br   *bufio.Reader
	size int64
	dec  inflater

	loaded int64 // bytes zlib has read from the file
	pulled int64 // bytes inflate has taken: gzoffset()
	eof    bool  // zlib met the end of the file
	gzip   bool  // inside a member (zlib's how == GZIP), else looking for one
	done   bool  // no more members: the rest is the end or trailing garbage
	out    int64 // uncompressed bytes inflated
	pos    int64 // uncompressed bytes read
	have   int64 // of those inflated, still in the output buffer
	skip   int64 // a pending seek: bytes to skip before the next read
	cur    item  // the item inflate is in
	left   int64 // of cur, output bytes not written yet (after it is decoded)
	ready  bool  // cur holds an item
	coded  bool  // cur's bits have all been taken
	// rewound: a seek happened, the skip is still to do.
	rewound bool
	// after is the model as it was after its last rewind and skip. Each new
	// section of a capture makes libscap seek back, and zlib rewinds and
	// inflates the file again up to there: from the start to where it got
	// the last time, it does the same again, so the model goes on from there.
	after *gzipModel
}

func newGzipModel(br *bufio.Reader, f *os.File, size int64) *gzipModel {
	m := &gzipModel{f: f, br: br, size: size}
	m.dec.br = br
	return m
}

func (m *gzipModel) closeModel() { m.f.Close() }
func (m *gzipModel) offset() int64 {
	if m.rewound {
		return 0 // zlib has gone back to the start of the file
	}
	return m.pulled
}

// seek is libscap's step back to an event block header: zlib rewinds and
// will skip to pos at the next read.
func (m *gzipModel) seek(pos int64) {
	cp := m.after
	if cp != nil && pos >= cp.pos {
		if _, err := m.f.Seek(cp.dec.off, io.SeekStart); err == nil {
			m.br.Reset(m.f)
			*m = *cp
			m.dec = cp.dec.clone(m.br)
			m.after = cp
			m.skip = pos - cp.pos
			m.rewound = true
			return
		}
	}
	if _, err := m.f.Seek(0, io.SeekStart); err != nil {
		m.done, m.eof = true, true
		return
	}
	m.br.Reset(m.f)
	*m = gzipModel{f: m.f, br: m.br, size: m.size, skip: pos, after: cp, rewound: true}
	m.dec = inflater{br: m.br}
}

func (m *gzipModel) flushSkip() {
	if !m.rewound {
		return
	}
	m.rewound = false
	if n := m.skip; n > 0 {
		m.skip = 0
		for n > 0 {
			if m.have > 0 {
				c := min(m.have, n)
				m.have -= c
				m.pos += c
				n -= c
			} else if m.finished() {
				break
			} else {
				m.fetch()
			}
		}
	}
	if m.after == nil || m.pos >= m.after.pos {
		cp := *m
		cp.after = nil
		cp.dec = m.dec.clone(nil)
		m.after = &cp
	}
}

func (m *gzipModel) finished() bool {
	return m.done || m.eof && m.loaded == m.pulled && !m.gzip
}

func (m *gzipModel) read(n int64) {
	m.flushSkip()
	for n > 0 {
		switch {
		case m.have > 0:
			c := min(m.have, n)
			m.have -= c
			m.pos += c
			n -= c
		case m.finished():
			return
		case !m.gzip || n < zlibOutBuf:
			m.fetch()
		default:
			got := m.inflate(n)
			m.pos += got
			n -= got
			if got == 0 && m.gzip {
				return // damaged input
			}
		}
	}
}

// fetch refills the output buffer (zlib gz_fetch).
func (m *gzipModel) fetch() {
	for m.have == 0 && !m.finished() {
		if !m.gzip {
			m.look()
			continue
		}
		got := m.inflate(zlibOutBuf)
		m.have = got
		if got == 0 && m.gzip {
			m.done = true // damaged input
		}
	}
}

// look checks for the next gzip member (zlib gz_look).
func (m *gzipModel) look() {
	if m.loaded-m.pulled < 2 {
		m.load(zlibInBuf - (m.loaded - m.pulled))
	}
	if m.loaded-m.pulled < 2 || !m.dec.atMagic() {
		// The end, or trailing data zlib ignores.
		m.pulled = m.loaded
		m.eof, m.done = true, true
		return
	}
	m.gzip = true
}

func (m *gzipModel) load(n int64) {
	if m.eof {
		return
	}
	got := min(n, m.size-m.loaded)
	m.loaded += got
	m.eof = got < n
}

// inflate is zlib's inflate asked for n bytes of output: it returns how many
// it made, fewer at the end of a member (then the model looks for the next).
func (m *gzipModel) inflate(n int64) int64 {
	target := m.out + n
	start := m.out
	for {
		if !m.ready {
			it, err := m.dec.next()
			if err != nil {
				m.pulled = m.loaded
				m.done = true
				return m.out - start
			}
			m.cur, m.ready, m.coded = it, true, false
		}
		switch m.cur.kind {
		case itemStored:
			for m.left > 0 || !m.coded {
				if !m.coded {
					m.coded, m.left = true, m.cur.n
					continue
				}
				at := m.cur.start + (m.cur.n - m.left)
				if m.out == target {
					m.pulled = at
					return m.out - start
				}
				if m.loaded == at {
					if m.eof {
						m.done = true
						return m.out - start
					}
					m.load(zlibInBuf)
					continue
				}
				c := min(m.left, target-m.out, m.loaded-at)
				m.out += c
				m.left -= c
				m.pulled = at + c
			}
			m.ready = false
		default:
			if !m.coded {
				need := (m.cur.end + 7) / 8
				for m.loaded < need {
					if m.out == target || m.eof {
						m.pulled = m.loaded
						if m.eof {
							m.done = true
						}
						return m.out - start
					}
					m.load(zlibInBuf)
				}
				m.pulled = need
				m.coded, m.left = true, m.cur.n
			}
			if m.cur.kind == itemEnd {
				m.ready = false
				m.gzip = false
				return m.out - start
			}
			if m.out == target {
				return m.out - start
			}
			c := min(m.left, target-m.out)
			m.out += c
			m.left -= c
			if m.left == 0 {
				m.ready = false
			}
		}
	}
}

// An item is a piece of a gzip member as inflate goes through it.
type item struct {
	kind  int
	end   int64 // the bit just after it (itemCode, itemHeader, itemEnd)
	start int64 // the first data byte (itemStored)
	n     int64 // uncompressed bytes it makes
}

const (
	itemHeader = iota // a gzip header, a block header, an end of block: no output
	itemCode          // a literal or a match
	itemStored        // the data of a stored block, taken byte by byte as written
	itemEnd           // the member's trailer: the member ends
)

// inflater walks a deflate stream in gzip members, bit by bit, finding its
// items and their lengths without producing data.
type inflater struct {
	br    *bufio.Reader
	bits  uint64
	nbits uint
	off   int64 // bytes read from br
	state int   // 0 member start, 1 between blocks, 2 in a Huffman block, 4 stored data next
	final bool
	lit   huffman
	dist  huffman
	// pending is a stored block's data, handed out after its header.
	pending item
}

var errInflate = errors.New("damaged deflate stream")

func (d *inflater) pos() int64 { return d.off*8 - int64(d.nbits) }

func (d *inflater) fill(n uint) error {
	for d.nbits < n {
		c, err := d.br.ReadByte()
		if err != nil {
			return errInflate
		}
		d.off++
		d.bits |= uint64(c) << d.nbits
		d.nbits += 8
	}
	return nil
}

func (d *inflater) get(n uint) (uint32, error) {
	if n == 0 {
		return 0, nil
	}
	if err := d.fill(n); err != nil {
		return 0, err
	}
	v := uint32(d.bits & (1<<n - 1))
	d.bits >>= n
	d.nbits -= n
	return v, nil
}

func (d *inflater) align() {
	r := d.nbits % 8
	d.bits >>= r
	d.nbits -= r
}

// atMagic reports whether a gzip member starts at the next byte.
func (d *inflater) atMagic() bool {
	d.align()
	var b [2]byte
	k := 0
	for bits, nb := d.bits, d.nbits; nb >= 8 && k < 2; nb -= 8 {
		b[k] = byte(bits)
		bits >>= 8
		k++
	}
	if k < 2 {
		p, err := d.br.Peek(2 - k)
		if err != nil {
			return false
		}
		copy(b[k:], p)
	}
	return b[0] == 0x1f && b[1] == 0x8b
}

// skipAligned passes over n bytes at a byte boundary.
func (d *inflater) skipAligned(n int) error {
	for ; n > 0 && d.nbits >= 8; n-- {
		d.bits >>= 8
		d.nbits -= 8
	}
	m, err := d.br.Discard(n)
	d.off += int64(m)
	if err != nil {
		return errInflate
	}
	return nil
}

func (d *inflater) skipBytes(n int) error {
	for ; n > 0; n-- {
		if _, err := d.get(8); err != nil {
			return err
		}
	}
	return nil
}

func (d *inflater) next() (item, error) {
	switch d.state {
	case 0:
		if err := d.header(); err != nil {
			return item{}, err
		}
		d.state, d.final = 1, false
		return item{kind: itemHeader, end: d.pos()}, nil
	case 1:
		if d.final {
			d.align()
			if err := d.skipBytes(8); err != nil {
				return item{}, err
			}
			d.state = 0
			return item{kind: itemEnd, end: d.pos()}, nil
		}
		return d.block()
	}
	return d.symbol()
}

// header reads a gzip member header.
func (d *inflater) header() error {
	var h [10]uint32
	for i := range h {
		v, err := d.get(8)
		if err != nil {
			return err
		}
		h[i] = v
	}
	if h[0] != 0x1f || h[1] != 0x8b || h[2] != 8 {
		return errInflate
	}
	flg := h[3]
	if flg&4 != 0 {
		xlen, err := d.get(16)
		if err != nil {
			return err
		}
		if err := d.skipBytes(int(xlen)); err != nil {
			return err
		}
	}
	for _, bit := range []uint32{8, 16} {
		if flg&bit != 0 {
			for {
				c, err := d.get(8)
				if err != nil {
					return err
				}
				if c == 0 {
					break
				}
			}
		}
	}
	if flg&2 != 0 {
		return d.skipBytes(2)
	}
	return nil
}

// block reads a block header: a stored block's data follows as one item.
func (d *inflater) block() (item, error) {
	final, err := d.get(1)
	if err != nil {
		return item{}, err
	}
	d.final = final == 1
	typ, err := d.get(2)
	if err != nil {
		return item{}, err
	}
	switch typ {
	case 0:
		d.align()
		n, err := d.get(16)
		if err != nil {
			return item{}, err
		}
		if _, err := d.get(16); err != nil {
			return item{}, err
		}
		// The header is one item, the data the next: hand the header now and
		// keep the data for the following call.
		start := d.pos() / 8
		if err := d.skipAligned(int(n)); err != nil {
			return item{}, err
		}
		d.pending = item{kind: itemStored, start: start, n: int64(n)}
		d.state = 4
		return item{kind: itemHeader, end: start * 8}, nil
	case 1:
		d.lit.set(&fixedLit)
		d.dist.set(&fixedDist)
	case 2:
		if err := d.dynamic(); err != nil {
			return item{}, err
		}
	default:
		return item{}, errInflate
	}
	d.state = 2
	return item{kind: itemHeader, end: d.pos()}, nil
}

func (d *inflater) symbol() (item, error) {
	if d.state == 4 {
		d.state = 1
		it := d.pending
		if it.n == 0 {
			return item{kind: itemHeader, end: it.start * 8}, nil
		}
		return it, nil
	}
	sym, err := d.decode(&d.lit)
	if err != nil {
		return item{}, err
	}
	switch {
	case sym < 256:
		return item{kind: itemCode, end: d.pos(), n: 1}, nil
	case sym == 256:
		d.state = 1
		return item{kind: itemHeader, end: d.pos()}, nil
	case sym > 285:
		return item{}, errInflate
	}
	i := sym - 257
	extra, err := d.get(uint(lenExtra[i]))
	if err != nil {
		return item{}, err
	}
	length := int64(lenBase[i]) + int64(extra)
	ds, err := d.decode(&d.dist)
	if err != nil {
		return item{}, err
	}
	if ds >= 30 {
		return item{}, errInflate
	}
	if _, err := d.get(uint(distExtra[ds])); err != nil {
		return item{}, err
	}
	return item{kind: itemCode, end: d.pos(), n: length}, nil
}

// dynamic reads the code lengths of a dynamic block and builds its tables.
func (d *inflater) dynamic() error {
	hlit, err := d.get(5)
	if err != nil {
		return err
	}
	hdist, err := d.get(5)
	if err != nil {
		return err
	}
	hclen, err := d.get(4)
	if err != nil {
		return err
	}
	var cl [19]uint8
	for i := 0; i < int(hclen)+4; i++ {
		v, err := d.get(3)
		if err != nil {
			return err
		}
		cl[clOrder[i]] = uint8(v)
	}
	var clh huffman
	if !clh.build(cl[:]) {
		return errInflate
	}
	n := int(hlit) + 257 + int(hdist) + 1
	lens := make([]uint8, n)
	for i := 0; i < n; {
		sym, err := d.decode(&clh)
		if err != nil {
			return err
		}
		switch {
		case sym < 16:
			lens[i] = uint8(sym)
			i++
			continue
		}
		var rep int
		var val uint8
		switch sym {
		case 16:
			if i == 0 {
				return errInflate
			}
			v, err := d.get(2)
			if err != nil {
				return err
			}
			rep, val = 3+int(v), lens[i-1]
		case 17:
			v, err := d.get(3)
			if err != nil {
				return err
			}
			rep = 3 + int(v)
		default:
			v, err := d.get(7)
			if err != nil {
				return err
			}
			rep = 11 + int(v)
		}
		if i+rep > n {
			return errInflate
		}
		for ; rep > 0; rep-- {
			lens[i] = val
			i++
		}
	}
	if !d.lit.build(lens[:hlit+257]) || !d.dist.build(lens[hlit+257:]) {
		return errInflate
	}
	return nil
}

// huffman is a canonical Huffman code as a table indexed by the next maxLen
// bits (least significant first): each entry is symbol<<4 | code length.
type huffman struct {
	table  []uint16
	maxLen uint
}

func (h *huffman) build(lens []uint8) bool {
	var count [16]int
	h.maxLen = 0
	for _, l := range lens {
		count[l]++
		if uint(l) > h.maxLen {
			h.maxLen = uint(l)
		}
	}
	if h.maxLen == 0 {
		// No codes (a block with only literals has no distances): any lookup fails.
		h.table = h.table[:0]
		return true
	}
	count[0] = 0
	var next [16]int
	code := 0
	for l := 1; l <= 15; l++ {
		code = (code + count[l-1]) << 1
		next[l] = code
	}
	size := 1 << h.maxLen
	if cap(h.table) < size {
		h.table = make([]uint16, size)
	}
	h.table = h.table[:size]
	clear(h.table)
	for sym, l := range lens {
		if l == 0 {
			continue
		}
		c := next[l]
		next[l]++
		if c >= 1<<l {
			return false // over-subscribed
		}
		r := 0
		for i := uint8(0); i < l; i++ {
			r = r<<1 | (c>>i)&1
		}
		for i := r; i < size; i += 1 << l {
			h.table[i] = uint16(sym)<<4 | uint16(l)
		}
	}
	return true
}

// set makes h a copy of src (never sharing its table, which build reuses).
func (h *huffman) set(src *huffman) {
	h.table = append(h.table[:0], src.table...)
	h.maxLen = src.maxLen
}

// clone copies the inflater, to go on later reading from br (which the
// caller places at d.off in the file).
func (d *inflater) clone(br *bufio.Reader) inflater {
	c := *d
	c.br = br
	c.lit = huffman{table: slices.Clone(d.lit.table), maxLen: d.lit.maxLen}
	c.dist = huffman{table: slices.Clone(d.dist.table), maxLen: d.dist.maxLen}
	return c
}

// decode reads one symbol: it takes the bits of the code only.
func (d *inflater) decode(h *huffman) (int, error) {
	if len(h.table) == 0 {
		return 0, errInflate
	}
	// Near the end of the input fewer than maxLen bits may be left: the code
	// found in those is still right (no code is the prefix of another).
	for d.nbits < h.maxLen {
		c, err := d.br.ReadByte()
		if err != nil {
			break
		}
		d.off++
		d.bits |= uint64(c) << d.nbits
		d.nbits += 8
	}
	e := h.table[d.bits&(1<<h.maxLen-1)]
	l := uint(e & 15)
	if l == 0 || l > d.nbits {
		return 0, errInflate
	}
	d.bits >>= l
	d.nbits -= l
	return int(e >> 4), nil
}

var (
	clOrder   = [19]int{16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15}
	lenBase   = [29]uint16{3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227, 258}
	lenExtra  = [29]uint8{0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0}
	distExtra = [30]uint8{0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13}

	fixedLit, fixedDist huffman
)

func init() {
	var l [288]uint8
	for i := range l {
		switch {
		case i < 144:
			l[i] = 8
		case i < 256:
			l[i] = 9
		case i < 280:
			l[i] = 7
		default:
			l[i] = 8
		}
	}
	fixedLit.build(l[:])
	var dl [30]uint8
	for i := range dl {
		dl[i] = 5
	}
	fixedDist.build(dl[:])
}
