package scap

import (
	"io"
	"sync"
)

// stream buffers the raw input: it lets newReader sniff the first bytes
// for gzip's magic, and gives the decompressor the io.ByteReader it wants
// (flate reads byte by byte without buffering of its own when it has one).
type stream struct {
	rd   io.Reader
	buf  []byte
	r, w int   // unread data is buf[r:w]
	err  error // sticky error of rd (io.EOF at the end)
}

const (
	streamBuf    = 64 << 10 // raw buffer (reads as large go straight through)
	streamShrink = 8 << 20  // a spill buffer grown past this for one big block is not kept
)

func newStream(rd io.Reader) *stream {
	return &stream{rd: rd, buf: make([]byte, streamBuf)}
}

// fill makes at least n (at most len(buf)) bytes available in buf[r:w],
// unless the input ends first; it reports how many are available.
func (s *stream) fill(n int) int {
	for s.w-s.r < n && s.err == nil {
		if s.r > 0 {
			s.w = copy(s.buf, s.buf[s.r:s.w])
			s.r = 0
		}
		m, err := readSome(s.rd, s.buf[s.w:])
		s.w += m
		s.err = err
	}
	return min(s.w-s.r, n)
}

// peek returns up to n bytes without consuming them.
func (s *stream) peek(n int) []byte {
	got := s.fill(n)
	return s.buf[s.r : s.r+got]
}

// Read passes reads as large as the buffer straight to the input once the
// buffer is empty.
func (s *stream) Read(p []byte) (int, error) {
	if s.r == s.w {
		if s.err != nil {
			return 0, s.err
		}
		if len(p) >= len(s.buf) {
			return s.rd.Read(p)
		}
		if s.fill(1) == 0 {
			return 0, s.err
		}
	}
	m := copy(p, s.buf[s.r:s.w])
	s.r += m
	return m, nil
}

func (s *stream) ReadByte() (byte, error) {
	if s.r == s.w && s.fill(1) == 0 {
		return 0, s.err
	}
	c := s.buf[s.r]
	s.r++
	return c, nil
}

// chunks is the Reader's input: the uncompressed stream in buffers from a
// bufferSource, handed out as slices (no copy) valid until the next call,
// or, when pinned, until the consumer gives back the buffers in retired. A
// block that straddles two buffers is put together in spill.
type chunks struct {
	src     bufferSource
	pin     bool     // keep buffers alive for a pipeline (see pipeline.go)
	retired [][]byte // pinned buffers read past, to give back later
	cur     []byte   // the buffer being read
	p       int      // position in cur
	spill   []byte
	short   bool  // the last read did not fill its buffer
	off     int64 // stream offset of the next unread byte
	err     error // sticky: the input's end or error
}

// bufferSource fills buffers with the input. get returns the next one, or
// an error at the input's end (with or without data); put gives a buffer
// back for reuse, from any goroutine.
type bufferSource interface {
	get() ([]byte, error)
	put([]byte)
}

const chunkSize = 256 << 10

// next returns the next n bytes, or fewer at the end of the input (with the
// input's error: io.EOF if nothing was left, io.ErrUnexpectedEOF otherwise).
func (c *chunks) next(n int) ([]byte, error) {
	if len(c.cur)-c.p >= n {
		b := c.cur[c.p : c.p+n : c.p+n]
		c.p += n
		c.off += int64(n)
		return b, nil
	}
	return c.slow(n)
}

func (c *chunks) slow(n int) ([]byte, error) {
	// What is left of the current buffer goes into spill, and the buffer
	// back to the pool: the slices handed out before are dead now (or,
	// pinned, the consumer gives the buffer back when done with them).
	if c.pin {
		c.spill = nil // the last spill may still be in use
	}
	c.spill = append(c.spill[:0], c.cur[c.p:]...)
	c.put()
	for len(c.spill) < n && c.err == nil {
		b := c.read()
		if len(b) == 0 {
			break
		}
		take := min(n-len(c.spill), len(b))
		if len(c.spill) == 0 && take == n {
			// The block starts a buffer: no copy.
			c.cur, c.p = b, 0
			break
		}
		// Grows as data arrives: a corrupt length cannot make it allocate
		// more than the input holds.
		c.spill = append(c.spill, b[:take]...)
		c.cur, c.p = b, take
		if take == len(b) {
			c.put()
		}
	}
	if len(c.spill) == 0 && len(c.cur)-c.p >= n {
		b := c.cur[c.p : c.p+n : c.p+n]
		c.p += n
		c.off += int64(n)
		return b, nil
	}
	if len(c.spill) < n {
		b := c.spill
		c.off += int64(len(b))
		err := c.err
		if err == io.EOF && len(b) > 0 {
			err = io.ErrUnexpectedEOF
		}
		return b, err
	}
	c.off += int64(n)
	b := c.spill[:n:n]
	if len(c.spill) > streamShrink {
		c.spill = nil // a big block's buffer is not kept
	}
	return b, nil
}

// read returns the next buffer, or nil at the input's end.
func (c *chunks) read() []byte {
	b, err := c.src.get()
	c.err = err
	c.short = len(b) < chunkSize
	if len(b) == 0 {
		return nil
	}
	return b
}

// waiting reports whether the next block needs another read, after a short
// one: the input is a pipe, where that read may wait.
func (c *chunks) waiting() bool {
	if !c.short {
		return false
	}
	rest := c.cur[c.p:]
	return len(rest) < blockHeaderLen || int(le.Uint32(rest[4:])) > len(rest)
}

// put is done with the current buffer.
func (c *chunks) put() {
	if c.cur != nil {
		if c.pin {
			c.retired = append(c.retired, c.cur)
		} else {
			c.src.put(c.cur)
		}
		c.cur, c.p = nil, 0
	}
}

// syncSource reads the input in the caller's goroutine, one read per buffer
// (from a pipe, events are handed on as they arrive).
type syncSource struct {
	rd   io.Reader
	free chan []byte
}

func newSyncSource(rd io.Reader) *syncSource {
	return &syncSource{rd: rd, free: make(chan []byte, 16)}
}

func (s *syncSource) get() ([]byte, error) {
	var b []byte
	select {
	case b = <-s.free:
	default:
		b = make([]byte, chunkSize)
	}
	n, err := readSome(s.rd, b)
	if n == 0 {
		s.put(b)
		return nil, err
	}
	return b[:n], err
}

// readSome reads into b once (a few times if rd returns nothing and no error).
func readSome(rd io.Reader, b []byte) (int, error) {
	n, err := rd.Read(b)
	for i := 0; n == 0 && err == nil; i++ {
		if i == 100 {
			return 0, io.ErrNoProgress
		}
		n, err = rd.Read(b)
	}
	return n, err
}

func (s *syncSource) put(b []byte) {
	select {
	case s.free <- b[:cap(b)]:
	default:
	}
}

// asyncSource reads (and inflates) the input in a goroutine of its own, a
// few buffers ahead: a compressed capture is inflated on one core while its
// events are decoded on the other.
type asyncSource struct {
	full   chan []byte   // filled buffers, in order; closed at the end
	free   *pool[[]byte] // the buffers, given back by put
	done   chan struct{} // closed to stop the goroutine
	stop   func()
	exited chan struct{}
	err    error // why the input ended; set before full is closed
	ended  bool
}

const asyncBuffers = 4

// newAsyncSource starts reading rd; closer, if set, is closed by the
// goroutine when it ends (a decompressor only it uses).
func newAsyncSource(rd io.Reader, closer io.Closer) *asyncSource {
	s := &asyncSource{
		full:   make(chan []byte, asyncBuffers),
		free:   newPool(asyncBuffers, func() []byte { return make([]byte, chunkSize) }),
		done:   make(chan struct{}),
		exited: make(chan struct{}),
	}
	var once sync.Once
	s.stop = func() { once.Do(func() { close(s.done) }) }
	go func() {
		defer close(s.exited)
		defer close(s.full)
		if closer != nil {
			defer closer.Close()
		}
		for {
			select {
			case <-s.done: // stopped: read no more
				s.err = errClosed
				return
			default:
			}
			b, ok := s.free.get(s.done)
			if !ok {
				s.err = errClosed
				return
			}
			n, err := readSome(rd, b)
			if n > 0 && !send(s.full, b[:n], s.done) {
				s.err = errClosed
				return
			}
			if err != nil {
				s.err = err
				return
			}
		}
	}()
	return s
}

func (s *asyncSource) get() ([]byte, error) {
	if s.ended {
		return nil, s.err
	}
	b, ok := receive(s.full)
	if !ok {
		s.ended = true
		return nil, s.err
	}
	return b, nil
}

func (s *asyncSource) put(b []byte) { s.free.put(b[:cap(b)]) }
