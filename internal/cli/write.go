package cli

import (
	"fmt"
	"io"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/syscope/syscope/event"
	"github.com/syscope/syscope/scap"
	"github.com/syscope/syscope/state"
)

// dumper writes events to capture files as sysdig 0.29.3 does with -w:
// which events go to the file and with which flags (libsinsp's
// sinsp_evt::get_dump_flags, -F), and when to move to a new file and how to
// name it (libsinsp's cycle_writer: -C, -G, -W, -e).
//
// Every file starts with the tables of the state at the moment it is opened,
// and with the container events a reader consumes before the events: those
// the capture (or its section) starts with, copied, or, in the files a
// rotation opens, one per known container (sysdig's dump_containers), so that
// each file reads on its own. A nil *dumper writes nothing.
type dumper struct {
	st       *state.State
	base     string
	compress bool
	fatfile  bool
	// live: container events are written even when the filter rejects
	// them, since a live capture's container metadata exists nowhere else.
	live bool

	// The cycle writer's settings and state, named after libsinsp's.
	cycling    bool   // any of -C -G -W -e
	rolloverB  int64  // -C, in bytes (10^6 per MB)
	seconds    int64  // -G
	limit      int    // -W
	eventLimit uint64 // -e
	lastTime   int64  // capture time (s) of the last rotation by time; 0 before the first event
	index      int    // number of the next file
	eventCount uint64
	pastNames  []string // with -G, a name pattern and -W: the names to remove in turn

	w       *scap.Writer
	stdout  io.Writer // where -w - writes
	name    string
	opened  bool         // the first file was opened
	section bool         // a new section of the capture started: write its tables before its events
	heads   []scap.Event // the container events the section starts with, until it is written
	ev      scap.Event
}

// newDumper returns the dumper for the options, or nil without -w. No file is
// opened before start: the first file holds the state at the first event.
func newDumper(o *Options, st *state.State) (*dumper, error) {
	if o.WriteFile == "" {
		return nil, nil
	}
	for _, v := range []struct {
		n    int64
		what string
	}{{o.FileSize, "file size"}, {o.Seconds, "duration"}, {o.Limit, "file limit"}, {o.EventLimit, "number of events"}} {
		if v.n < 0 {
			return nil, fmt.Errorf("invalid %s %d: it must be positive", v.what, v.n)
		}
	}
	d := &dumper{
		st:         st,
		base:       o.WriteFile,
		compress:   o.Compress,
		fatfile:    o.FatFile,
		live:       o.ReadFile == "",
		rolloverB:  o.FileSize * 1000000,
		seconds:    o.Seconds,
		limit:      int(o.Limit),
		eventLimit: uint64(o.EventLimit),
	}
	d.cycling = o.FileSize != 0 || o.Seconds != 0 || o.Limit != 0 || o.EventLimit != 0
	if d.seconds > 0 && d.limit > 0 {
		d.pastNames = make([]string, d.limit)
	}
	return d, nil
}

// start is called before the first event of the capture that is not a
// leading container event, with its timestamp, and likewise for each later
// section: it opens the first file, or writes the tables of the new section.
func (d *dumper) start(ts uint64) error {
	if d == nil {
		return nil
	}
	if !d.opened {
		d.opened = true
		d.lastTimeForName(ts)
		return d.open(d.nextName())
	}
	if d.section && d.w != nil {
		d.section = false
		if err := d.w.WriteSection(d.st.Snapshot()); err != nil {
			return d.err(err)
		}
		return d.writeHeads()
	}
	return nil
}

// head keeps a container event the capture or one of its sections starts
// with, to write after the tables. Copying them keeps evt.num as it was:
// libsinsp numbers each (in the first section), also when two describe the
// same container.
func (d *dumper) head(e *scap.Event) {
	if d == nil {
		return
	}
	c := *e
	c.Lens = append([]uint32(nil), e.Lens...)
	c.Offs = append([]uint32(nil), e.Offs...)
	c.Data = append([]byte(nil), e.Data...)
	d.heads = append(d.heads, c)
}

func (d *dumper) writeHeads() error {
	for i := range d.heads {
		if err := d.w.WriteEvent(&d.heads[i]); err != nil {
			return d.err(err)
		}
	}
	d.heads = nil
	return nil
}

// newSection notes that the capture started a new section (the state was
// restarted): the file gets the section's tables before its first event.
func (d *dumper) newSection() {
	if d != nil && d.opened {
		d.section = true
		d.heads = d.heads[:0]
	}
}

// lastTimeForName sets the time the name of the first file is made from when
// -w holds a strftime pattern. sysdig 0.29.3 names that file
// "first_dump.scap" (in the working directory) when it reads a capture; the
// first file here is named from the time of its first event instead.
func (d *dumper) lastTimeForName(ts uint64) {
	if d.seconds > 0 && strings.Contains(d.base, "%") {
		if ts == 0 {
			ts = uint64(time.Now().UnixNano())
		}
		d.lastTime = int64(ts / 1e9)
	}
}

// event writes e if sysdig would: kept tells whether it passed the filter.
// An event the filter rejected is still written when it is internal, and in
// fatfile mode when it changes the state, flagged so that readers only parse
// it.
func (d *dumper) event(e *state.Event, kept bool) error {
	if d == nil {
		return nil
	}
	var flags uint32
	if !kept {
		switch {
		case d.fatfile && e.Info.Flags&event.EFModifiesState != 0:
			flags = scap.FlagStateOnly
		case e.Info.Category&event.CatInternal != 0:
		case d.live && (e.Type == event.ContainerJsonV2E || e.Type == event.ContainerJsonE):
		default:
			return nil
		}
	}
	if !d.opened {
		if err := d.start(e.Ts); err != nil {
			return err
		}
	}
	if d.cycling && d.rotate(e) {
		if err := d.open(d.nextName()); err != nil {
			return err
		}
	}
	if d.w == nil {
		return nil
	}
	saved := e.Flags
	e.Flags = flags
	err := d.w.WriteEvent(e.Event)
	e.Flags = saved
	return d.err(err)
}

// rotate is the cycle writer's consider(): whether e starts a new file.
func (d *dumper) rotate(e *state.Event) bool {
	d.eventCount++
	if d.seconds > 0 {
		sec := int64(e.Ts / 1e9)
		if d.lastTime == 0 {
			d.lastTime = sec
		}
		if sec-d.lastTime >= d.seconds {
			d.lastTime = sec
			return true
		}
	}
	if d.rolloverB > 0 && d.w != nil && d.w.Offset() > d.rolloverB {
		return true
	}
	if d.eventLimit > 0 && d.eventCount >= d.eventLimit {
		d.eventCount = 0
		return true
	}
	return false
}

// nextName is the cycle writer's next_file(): the name of the next file.
func (d *dumper) nextName() string {
	if !d.cycling {
		return d.base
	}
	if d.limit > 0 && d.index >= d.limit {
		d.index = 0
	}
	name := d.base
	if d.seconds > 0 {
		if strings.Contains(d.base, "%") {
			name = strftime(d.base, time.Unix(d.lastTime, 0))
			if d.limit > 0 {
				if old := d.pastNames[d.index]; old != "" {
					os.Remove(old)
				}
				d.pastNames[d.index] = name
			}
		} else {
			name = d.base + strconv.Itoa(d.index)
		}
	}
	if d.rolloverB > 0 {
		// The number has as many digits as the -W limit, none without one.
		name += fmt.Sprintf("%0*d", len(strconv.Itoa(d.limit))*boolInt(d.limit > 0), d.index)
	}
	if d.eventLimit > 0 {
		name = d.base + strconv.Itoa(d.index)
	}
	d.index++
	return name
}

// open closes the current file and starts name with the state's tables and
// the containers: the leading ones of the capture for the first file, all
// those known for the others.
func (d *dumper) open(name string) error {
	if d.w != nil {
		err := d.w.Close()
		d.w = nil
		if err != nil {
			return d.err(err)
		}
	}
	d.name = name
	d.section = false
	var w *scap.Writer
	var err error
	if name == "-" && d.stdout != nil {
		w, err = scap.NewWriter(d.stdout, d.compress, d.st.Snapshot())
	} else {
		w, err = scap.Create(name, d.compress, d.st.Snapshot())
	}
	if err != nil {
		return err
	}
	d.w = w
	if d.heads != nil {
		return d.writeHeads()
	}
	return d.writeContainers()
}

// writeContainers writes one container event per known container, as sysdig's
// dump_containers does after a file's tables: CONTAINER_JSON_2 events with the
// container's JSON, at the time of the last event; containers known only from
// an old-style container event get one of those.
func (d *dumper) writeContainers() error {
	var list []*state.Container
	d.st.Containers.Each(func(x *state.Container) { list = append(list, x) })
	sort.Slice(list, func(i, j int) bool { return list[i].ID < list[j].ID })
	ts := d.st.LastEventTS
	for _, x := range list {
		e := &d.ev
		*e = scap.Event{Ts: ts, Tid: -1}
		var params [][]byte
		if x.JSON != "" {
			e.Type = event.ContainerJsonV2E
			params = [][]byte{append([]byte(x.JSON), 0)}
		} else {
			e.Type = event.ContainerE
			params = [][]byte{
				append([]byte(x.ID), 0),
				le32(uint32(x.Type)),
				append([]byte(x.Name), 0),
				append([]byte(x.Image), 0),
			}
		}
		e.Large = e.Type.Info().Flags&event.EFLargePayload != 0
		for _, p := range params {
			e.Lens = append(e.Lens, uint32(len(p)))
			e.Offs = append(e.Offs, uint32(len(e.Data)))
			e.Data = append(e.Data, p...)
		}
		e.NParams = len(params)
		if err := d.w.WriteEvent(e); err != nil {
			return d.err(err)
		}
	}
	return nil
}

func le32(v uint32) []byte {
	return []byte{byte(v), byte(v >> 8), byte(v >> 16), byte(v >> 24)}
}

// close finishes the last file. A capture without events still gets a file,
// with the state's tables.
func (d *dumper) close() error {
	if d == nil {
		return nil
	}
	if !d.opened {
		if err := d.start(d.st.LastEventTS); err != nil {
			return err
		}
	}
	if d.w == nil {
		return nil
	}
	err := d.w.Close()
	d.w = nil
	return d.err(err)
}

func (d *dumper) err(err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("writing %s: %w", d.name, err)
}
