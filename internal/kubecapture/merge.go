package kubecapture

import (
	"container/heap"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/syscope/syscope/event"
	"github.com/syscope/syscope/scap"
)

// mergeResult says what a merge did.
type mergeResult struct {
	Events         uint64
	TidCollisions  int // threads of the process tables that several files have
	SkippedThreads int
}

// mergeFiles writes to out (gzip-compressed, mode 0600) the captures of
// inputs as one capture: one set of tables (the union of the inputs': the
// first file's entry wins for a thread id several files have, since thread
// ids are per node), the container events the files start with, then every
// event of every file in time order (a file's own events keep their order).
//
// The files come from different nodes, whose thread ids can collide: in the
// merged file such a thread has the first node's process table entry. The
// per-node files are exact; the merged one is for a single time line.
func mergeFiles(out string, inputs []string) (mergeResult, error) {
	var res mergeResult
	readers := make([]*scap.Reader, 0, len(inputs))
	defer func() {
		for _, r := range readers {
			r.Close()
		}
	}()
	for _, in := range inputs {
		r, err := scap.Open(in)
		if err != nil {
			return res, fmt.Errorf("merging %s: %w", in, err)
		}
		readers = append(readers, r)
	}
	meta := mergeMetadata(readers, &res)
	w, err := scap.Create(out, true, meta)
	if err != nil {
		return res, err
	}
	fail := func(err error) (mergeResult, error) {
		w.Close()
		os.Remove(out)
		return res, err
	}
	// Each file's next event, by time.
	h := &evHeap{}
	for i, r := range readers {
		c := &cursor{r: r, idx: i}
		ok, err := c.next()
		if err != nil {
			return fail(fmt.Errorf("merging %s: %w", inputs[i], err))
		}
		// The leading container events of every file go first, where a
		// reader expects them.
		for ok && isContainerEvent(&c.ev) {
			if err := w.WriteEvent(&c.ev); err != nil {
				return fail(err)
			}
			res.Events++
			if ok, err = c.next(); err != nil {
				return fail(fmt.Errorf("merging %s: %w", inputs[i], err))
			}
		}
		if ok {
			*h = append(*h, c)
		}
	}
	heap.Init(h)
	for h.Len() > 0 {
		c := (*h)[0]
		if err := w.WriteEvent(&c.ev); err != nil {
			return fail(err)
		}
		res.Events++
		ok, err := c.next()
		if err != nil {
			return fail(fmt.Errorf("merging %s: %w", inputs[c.idx], err))
		}
		if ok {
			heap.Fix(h, 0)
		} else {
			heap.Pop(h)
		}
	}
	if err := w.Close(); err != nil {
		os.Remove(out)
		return res, err
	}
	return res, nil
}

func isContainerEvent(e *scap.Event) bool {
	switch e.Type {
	case event.ContainerE, event.ContainerJsonE, event.ContainerJsonV2E:
		return true
	}
	return false
}

// mergeMetadata is the union of the readers' tables.
func mergeMetadata(readers []*scap.Reader, res *mergeResult) *scap.Metadata {
	first := readers[0].Metadata()
	m := &scap.Metadata{Major: first.Major, Minor: first.Minor, Machine: first.Machine}
	tids := map[int64]bool{}
	ifs := map[string]bool{}
	uids := map[uint32]bool{}
	gids := map[uint32]bool{}
	for _, r := range readers {
		md := r.Metadata()
		for _, t := range md.Threads {
			if tids[t.Tid] {
				res.TidCollisions++
				continue
			}
			tids[t.Tid] = true
			m.Threads = append(m.Threads, t)
		}
		for _, x := range md.Interfaces {
			k := fmt.Sprintf("%s/%x/%v", x.Name, x.Addr, x.IPv6)
			if !ifs[k] {
				ifs[k] = true
				m.Interfaces = append(m.Interfaces, x)
			}
		}
		for _, u := range md.Users {
			if !uids[u.UID] {
				uids[u.UID] = true
				m.Users = append(m.Users, u)
			}
		}
		for _, g := range md.Groups {
			if !gids[g.GID] {
				gids[g.GID] = true
				m.Groups = append(m.Groups, g)
			}
		}
	}
	return m
}

// cursor is one input file and its next event.
type cursor struct {
	r   *scap.Reader
	idx int
	ev  scap.Event
}

// next reads the cursor's next event; false at the end of its file.
func (c *cursor) next() (bool, error) {
	err := c.r.Next(&c.ev)
	if err == io.EOF || errors.Is(err, scap.ErrNoEvents) {
		return false, nil
	}
	return err == nil, err
}

// evHeap orders cursors by their next event's time, then by file.
type evHeap []*cursor

func (h evHeap) Len() int { return len(h) }
func (h evHeap) Less(i, j int) bool {
	if h[i].ev.Ts != h[j].ev.Ts {
		return h[i].ev.Ts < h[j].ev.Ts
	}
	return h[i].idx < h[j].idx
}
func (h evHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *evHeap) Push(x any)   { *h = append(*h, x.(*cursor)) }
func (h *evHeap) Pop() any {
	old := *h
	c := old[len(old)-1]
	*h = old[:len(old)-1]
	return c
}
