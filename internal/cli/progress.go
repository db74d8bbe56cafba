package cli

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/syscope/syscope/scap"
)

// progress prints, on stderr, how much of the capture file has been read, as
// sysdig 0.29.3 does with -P (and whenever it writes a file read from one,
// -r with -w): a percentage with two decimals, rewritten in place with \r,
// looked at every 10000th event (evt.num) and at the end, and printed when it
// grew by more than 0.1 since it was last printed; at the end a newline.
//
// The percentage is libsinsp's: the offset in the file that zlib reports
// (gzoffset) over the file size. zlib reads ahead, so that offset is not the
// end of the last event: readModel follows zlib's reads to know it.
type progress struct {
	w        io.Writer
	size     int64
	m        readModel
	needSeek bool
	last     float64 // the last percentage printed
	line     string  // the text on the line now
}

// readModel follows the reads libscap makes through zlib.
type readModel interface {
	seek(pos int64) // a seek to pos in the uncompressed stream
	read(n int64)   // a read of n bytes
	offset() int64  // gzoffset(): where zlib is in the file
	closeModel()    // release what the model holds
}

// newProgress returns the progress meter for the options, or nil when sysdig
// would print none. It follows the blocks r reads.
func newProgress(o *Options, r *scap.Reader, stderr io.Writer) (*progress, error) {
	if !o.Progress && o.WriteFile == "" || o.ReadFile == "" {
		return nil, nil
	}
	f, err := os.Open(o.ReadFile)
	if err != nil {
		return nil, err
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, err
	}
	var magic [2]byte
	_, _ = io.ReadFull(f, magic[:])
	p := &progress{w: stderr, size: st.Size(), needSeek: true}
	if magic == [2]byte{0x1f, 0x8b} {
		if _, err := f.Seek(0, io.SeekStart); err != nil {
			f.Close()
			return nil, err
		}
		p.m = newGzipModel(bufio.NewReaderSize(f, 1<<16), f, p.size)
	} else {
		f.Close()
		p.m = &plainModel{size: p.size}
	}
	r.OnBlock = p.block
	return p, nil
}

// block follows one block read by the reader. libscap reads an event block
// as its 8-byte header, then the rest. Any other block after the events is a
// new section: libscap goes back to its header, reads the tables, and goes
// back again to the first event block, where reading resumes.
func (p *progress) block(off int64, btype, total uint32) {
	switch btype {
	case scap.BlockEV, scap.BlockEVLegacy, scap.BlockEVV2, scap.BlockEVV2Large,
		scap.BlockEVF, scap.BlockEVFV2, scap.BlockEVFV2Large:
	default:
		p.needSeek = true
		return
	}
	if p.needSeek {
		p.needSeek = false
		p.m.seek(off)
	}
	p.m.read(8)
	p.m.read(int64(total) - 8)
}

// atEOF follows the read that finds the end of the file.
func (p *progress) atEOF() {
	if p != nil {
		p.m.read(8)
	}
}

// event is called for every event that reaches sysdig's loop (shown or
// filtered out), with its number.
func (p *progress) event(num uint64) {
	if p != nil && num%10000 == 0 {
		p.output()
	}
}

// end prints the last percentage and ends the line.
func (p *progress) end() {
	if p == nil {
		return
	}
	p.clean()
	p.output()
	fmt.Fprint(p.w, "\n")
	p.m.closeModel()
}

// percent is how much of the file was read.
func (p *progress) percent() float64 { return float64(p.m.offset()) * 100 / float64(p.size) }

func (p *progress) output() {
	pct := p.percent()
	if pct-p.last > 0.1 {
		p.clean()
		p.line = fmt.Sprintf("%.2f", pct)
		fmt.Fprintf(p.w, "\r%s", p.line)
		p.last = pct
	}
}

// clean overwrites the line with spaces, leaving them as the line's text.
func (p *progress) clean() {
	p.line = strings.Repeat(" ", len(p.line))
	fmt.Fprintf(p.w, "\r%s", p.line)
}

// zlib's buffer sizes: gzopen's default (GZBUFSIZE), and the output buffer,
// twice that, which small reads are served from.
const (
	zlibInBuf  = 8192
	zlibOutBuf = 2 * zlibInBuf
)

// plainModel is zlib reading a file that is not compressed ("transparent"
// mode): a read smaller than the output buffer refills the buffer from the
// file when it is empty; a larger one reads the file directly; a seek moves
// the file to the position asked and empties the buffer. gzoffset() is the
// position in the file.
type plainModel struct {
	size, pos, have int64
	eof             bool
}

func (m *plainModel) seek(pos int64) { m.pos, m.have, m.eof = pos, 0, false }
func (m *plainModel) offset() int64  { return m.pos }
func (m *plainModel) closeModel()    {}

func (m *plainModel) read(n int64) {
	for n > 0 {
		switch {
		case m.have > 0:
			c := min(m.have, n)
			m.have -= c
			n -= c
		case m.eof:
			return
		case n < zlibOutBuf:
			got := min(zlibOutBuf, m.size-m.pos)
			m.pos += got
			m.have = got
			m.eof = got < zlibOutBuf
		default:
			got := min(n, m.size-m.pos)
			m.pos += got
			n -= got
			m.eof = n > 0
		}
	}
}
