package scap

import (
	"errors"
	"runtime"
	"sync"
)

// pipeline reads and decodes a capture in a goroutine of its own, a batch
// of events ahead of the caller of Next: on a machine with a spare core,
// read(2), inflating and splitting blocks into events cost the event loop
// nothing. Events are not copied: their bytes stay in the input buffers,
// which the batches pin until the caller is done with them.
type pipeline struct {
	batches chan *batch   // decoded batches, in order; closed after the last
	free    *pool[*batch] // batches: at most maxBatches, given back by the consumer
	done    chan struct{} // closed to stop the goroutine
	stop    func()        // closes done once
	in      *chunks       // the decoding reader's input (its buffer pool is shared)
	exited  chan struct{} // closed when the goroutine has returned
}

// batch is a run of decoded events with the metadata met between them.
type batch struct {
	events  []Event
	ends    []int64  // stream offset after each event's block
	lens    []uint32 // parameter lengths and offsets of all events
	offs    []uint32
	metas   []metaItem
	retired [][]byte // input buffers to give back once the batch is consumed
	err     error    // what ended the input, after the events
}

// metaItem is metadata met before event number at of its batch.
type metaItem struct {
	at      int
	section bool // a new section (OnSection), or tables within one (OnMetadata)
	m       *Metadata
}

const (
	batchEvents = 1024
	arenaParams = 8 * batchEvents
	// A batch ends once it has read past this many input buffers, so that
	// big events do not pin many buffers at once.
	batchRetired = 2
	// maxBatches is how many batches exist at once: two queued, one being
	// filled, one being consumed.
	maxBatches = 4
)

// startPipeline hands the decoding of r's input, from here on, to a new
// goroutine running a Reader of its own; r keeps the caller's side.
func (r *Reader) startPipeline() {
	dec := &Reader{name: r.name, in: r.in, off: r.off, pending: r.pending, havePending: r.havePending, noPipe: true}
	dec.meta.Major, dec.meta.Minor = r.meta.Major, r.meta.Minor
	dec.in.pin = true
	p := &pipeline{
		batches: make(chan *batch, 2),
		free:    newPool(maxBatches, func() *batch { return &batch{} }),
		done:    make(chan struct{}),
		exited:  make(chan struct{}),
		in:      dec.in,
	}
	var once sync.Once
	p.stop = func() { once.Do(func() { close(p.done) }) }
	r.pipe = p
	// A Reader dropped without Close still stops its goroutine.
	runtime.AddCleanup(r, func(stop func()) { stop() }, p.stop)
	go p.run(dec)
}

func (p *pipeline) run(dec *Reader) {
	defer close(p.exited)
	defer close(p.batches)
	// The callbacks run within dec.Next, with the event's slot already
	// taken: the metadata goes before it.
	var b *batch
	dec.OnSection = func(m *Metadata) {
		mc := *m
		b.metas = append(b.metas, metaItem{at: len(b.events) - 1, section: true, m: &mc})
	}
	dec.OnMetadata = func(m *Metadata) {
		mc := *m
		b.metas = append(b.metas, metaItem{at: len(b.events) - 1, m: &mc})
	}
	for {
		// At most maxBatches exist: the decoder waits for the consumer to
		// give one back rather than make more (new ones are cache-cold
		// and garbage later).
		var ok bool
		if b, ok = p.free.get(p.done); !ok {
			return
		}
		if b.events == nil {
			b.events = make([]Event, 0, batchEvents)
			b.ends = make([]int64, 0, batchEvents)
			b.lens = make([]uint32, 0, arenaParams)
			b.offs = make([]uint32, 0, arenaParams)
		}
		for len(b.events) < batchEvents && len(dec.in.retired) < batchRetired {
			// Decode in place: the event into its slot, its parameter
			// lengths and offsets into the arenas' spare room (readEvent
			// makes arrays of its own when an event does not fit).
			n, k := len(b.events), len(b.lens)
			b.events = b.events[:n+1]
			dec.lens, dec.offs = b.lens[k:cap(b.lens)], b.offs[k:cap(b.offs)]
			e := &b.events[n]
			if err := dec.Next(e); err != nil {
				b.events = b.events[:n]
				b.err = err
				break
			}
			if e.NParams > 0 && k+e.NParams <= cap(b.lens) && &e.Lens[0] == &b.lens[:k+1][k] {
				b.lens, b.offs = b.lens[:k+e.NParams], b.offs[:k+e.NParams]
			}
			b.ends = append(b.ends, dec.off)
			if dec.in.waiting() {
				// From a pipe, what has arrived goes on now.
				break
			}
		}
		// The arenas go with the batch.
		dec.lens, dec.offs = nil, nil
		b.retired = append(b.retired, dec.in.retired...)
		clear(dec.in.retired)
		dec.in.retired = dec.in.retired[:0]
		last := b.err != nil // b belongs to the consumer once sent
		if !send(p.batches, b, p.done) {
			return
		}
		if last {
			return
		}
	}
}

// errClosed is what Next returns after Close.
var errClosed = errors.New("capture reader closed")

// nextPiped is NextPtr for a Reader whose decoding runs in a pipeline: the
// event is in its batch. NextPtr hands out the events before r.stop itself;
// this is the rest: metadata between events, and the change of batch.
func (r *Reader) nextPiped() (*Event, error) {
	for {
		b := r.cur
		if b == nil {
			var ok bool
			if b, ok = receive(r.pipe.batches); !ok {
				r.err = errClosed
				return nil, r.err
			}
			r.cur, r.pos, r.metaPos = b, 0, 0
		}
		for r.metaPos < len(b.metas) && b.metas[r.metaPos].at == r.pos {
			mi := b.metas[r.metaPos]
			r.metaPos++
			if mi.section {
				r.meta = *mi.m
				if r.OnSection != nil {
					r.OnSection(&r.meta)
				} else if r.OnMetadata != nil {
					r.OnMetadata(&r.meta)
				}
			} else if r.OnMetadata != nil {
				r.OnMetadata(mi.m)
			}
		}
		if r.pos < len(b.events) {
			// NextPtr hands out the events up to the next metadata.
			r.stop = len(b.events)
			if r.metaPos < len(b.metas) {
				r.stop = b.metas[r.metaPos].at
			}
			r.pos++
			return &b.events[r.pos-1], nil
		}
		if b.err != nil {
			r.err = b.err
			return nil, r.err
		}
		// The batch's last event was handed out by the previous call: its
		// buffers and the batch can be reused.
		if len(b.ends) > 0 {
			r.off = b.ends[len(b.ends)-1]
		}
		r.release(b)
		r.cur, r.pos, r.stop = nil, 0, 0
	}
}

func (r *Reader) release(b *batch) {
	for i, buf := range b.retired {
		r.pipe.in.src.put(buf)
		b.retired[i] = nil
	}
	b.retired = b.retired[:0]
	b.events, b.ends, b.lens, b.offs, b.metas, b.err = b.events[:0], b.ends[:0], b.lens[:0], b.offs[:0], b.metas[:0], nil
	r.pipe.free.put(b)
}
