package cli

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"sort"
	"syscall"

	"github.com/syscope/syscope/chisel"
	"github.com/syscope/syscope/event"
	"github.com/syscope/syscope/field"
	"github.com/syscope/syscope/filter"
	"github.com/syscope/syscope/format"
	"github.com/syscope/syscope/procfs"
	"github.com/syscope/syscope/scap"
	"github.com/syscope/syscope/state"
)

// Version is the syscope version.
const Version = "0.1.0"

// Main runs syscope with args (without the program name) and returns the exit code.
func Main(args []string, stdout, stderr io.Writer) int {
	// `syscope enter`: sysdig takes no bare word first but a filter, and
	// "enter" alone is no valid filter, so the subcommand shadows nothing.
	if len(args) > 0 && args[0] == "enter" {
		return enterMain(args[1:], stdout, stderr)
	}
	o, err := Parse(args)
	if err != nil {
		fmt.Fprintf(stderr, "syscope: %v\n", err)
		return 1
	}
	switch {
	case o.Help:
		fmt.Fprint(stdout, usage)
		return 0
	case o.Version:
		fmt.Fprintf(stdout, "syscope version %s\n", Version)
		return 0
	case o.ListEvents:
		listEvents(stdout)
		return 0
	case o.CheckLive:
		return checkLive(stdout, stderr)
	case o.ListFields:
		listFields(stdout, o.Verbose)
		return 0
	case o.Idle:
		return idle(stdout)
	}
	if err := prepareCapture(o); err != nil {
		fmt.Fprintf(stderr, "syscope: %v\n", err)
		return 1
	}
	if o.Progress && o.ReadFile == "" {
		fmt.Fprintln(stderr, "the -P flag cannot be used with live captures.")
		return 1
	}
	cs, done, code := chiselMain(o, stdout, stderr)
	if done {
		return code
	}
	if cs != nil {
		defer cs.close()
	}
	var flt *filter.Filter
	if o.Filter != "" {
		var err error
		if flt, err = filter.Compile(o.Filter); err != nil {
			printFilterError(stderr, err)
			return 1
		}
	}
	o.chisels = cs
	if err := run(o, flt, stdout, stderr); err != nil {
		var ee *chisel.ExitError
		if errors.As(err, &ee) {
			return ee.Code
		}
		fmt.Fprintf(stderr, "syscope: %v\n", err)
		code = 1
	}
	if next, ok := cs.nextRun(); ok {
		return Main(next, stdout, stderr) // sysdig.run_app: run again
	}
	return code
}

func bufFmt(o *Options) field.BufFmt {
	var f field.BufFmt
	switch o.BufFmt {
	case 'A':
		f = field.BufEOLs
	case 'x':
		f = field.BufHex
	case 'X':
		f = field.BufHexASCII
	case 'b':
		f = field.BufBase64
	}
	if o.JSON {
		switch f {
		case field.BufNormal:
			f = field.BufJSON
		case field.BufEOLs:
			f = field.BufJSONEOLs
		case field.BufHex:
			f = field.BufJSONHex
		case field.BufHexASCII:
			f = field.BufJSONHexASCII
		case field.BufBase64:
			f = field.BufJSONBase64
		}
	}
	return f
}

func outputFormat(o *Options) string {
	if !o.PrintSet {
		return format.Default
	}
	switch o.Print {
	case "c", "container":
		return format.Container
	case "k", "kubernetes":
		return format.Kubernetes
	}
	return o.Print
}

// printFilterError prints a filter error with the filter and a caret under the problem.
func printFilterError(w io.Writer, err error) {
	fmt.Fprintf(w, "syscope: %v\n", err)
	var fe *filter.Error
	if errors.As(err, &fe) {
		fmt.Fprintln(w, fe.Caret())
	}
}

func run(o *Options, flt *filter.Filter, stdout, stderr io.Writer) error {
	src, meta, err := openSource(o, stderr)
	if err != nil {
		return err
	}
	defer src.Close()
	st := state.New()
	st.LoadMetadata(meta)
	dump, err := newDumper(o, st)
	if err != nil {
		return err
	}
	if dump != nil {
		dump.stdout = stdout
	}
	var prog *progress
	r, isFile := src.(*scap.Reader)
	if !isFile {
		// Live: threads whose exit was never seen go, as in sysdig.
		st.PurgeThreads(func(pid, tid int64, comm string) bool { return procfs.ThreadAlive("/proc", pid, tid, comm) })
	}
	if isFile {
		r.OnMetadata = st.LoadMetadata
		if prog, err = newProgress(o, r, stderr); err != nil {
			return err
		}
		if o.chisels != nil {
			if prog, err = o.chisels.trackProgress(o, r, prog); err != nil {
				return err
			}
		}
	}

	ctx := field.NewCtx(st)
	ctx.TimeMode = o.TimeType
	ctx.R.BufFmt = bufFmt(o)
	if !o.Verbose && o.chisels == nil {
		ctx.R.MaxLen = 80
	}
	fm, err := format.New(outputFormat(o), o.JSON)
	if err != nil {
		return err
	}
	out := bufio.NewWriterSize(stdout, 1<<16)
	defer out.Flush()
	var (
		raw     scap.Event
		ev      = state.Event{Event: &raw}
		line    []byte
		n       int64
		start   uint64
		summary *summaryTable
		readErr error
		started bool
		// A later section of the capture (see state.Restart): its leading
		// container events do not count in evt.num, as in libsinsp.
		restarted bool
	)
	if isFile {
		r.OnSection = func(m *scap.Metadata) {
			st.Restart(m)
			dump.newSection()
			started, restarted = false, true
		}
	}
	if o.Summary {
		summary = &summaryTable{}
	}
	quiet := o.Quiet || dump != nil && !o.PrintSet
	// A filter selects events as they are parsed (see state.ProcessFiltered);
	// with -d it only selects the lines to print, after the state is updated.
	var keep, display func(*state.Event) bool
	if flt != nil {
		match := func(e *state.Event) bool { return flt.Match(ctx, e) }
		if o.DisplayFlt {
			display = match
		} else {
			keep = match
		}
	}
	cs := o.chisels
	var chErr error
	if cs != nil {
		if o.DisplayFlt {
			flt = nil // with -d, sysdig gives the chisels every event
		}
		chErr = cs.init(st, ctx, out, flt)
		keep = cs.keep()
	}
	// A live capture written to a file, with nothing printed, filtered,
	// handed to a chisel or split into files (which take the state's tables),
	// reads nothing of the state: its events go to the file unparsed, which
	// spares the reader a fifth of its work.
	stateless := !isFile && dump != nil && quiet && keep == nil && display == nil && cs == nil && !dump.cycling
	cpuStart := cpuSeconds()
	for chErr == nil {
		if o.NumEvents >= 0 && n == o.NumEvents {
			break
		}
		var err error
		if r != nil {
			// A file: the event is used where the reader decoded it.
			ev.Event, err = r.NextPtr()
		} else {
			err = src.Next(&raw)
		}
		if err == io.EOF {
			prog.atEOF()
			break
		}
		if err != nil {
			readErr = err
			break
		}
		ev.Info = ev.Type.Info()
		// Container events at the head of a file are consumed while the capture is
		// opened, as sysdig does: they update the state (and evt.num, in the first
		// section) but are not shown, counted by -n or -S, or timed by -M. With -w
		// they are written after the tables.
		if !started && (ev.Type == event.ContainerJsonE || ev.Type == event.ContainerJsonV2E || ev.Type == event.ContainerE) {
			num := st.NumEvents
			st.Process(&ev)
			if restarted {
				st.NumEvents = num
			}
			dump.head(ev.Event)
			continue
		}
		if !started {
			started = true
			if err := dump.start(ev.Ts); err != nil {
				return err
			}
		}
		// Events written with -F for the state only are parsed and not shown.
		var kept bool
		if stateless {
			st.Skip(&ev)
			kept = true
		} else {
			kept = st.ProcessFiltered(&ev, keep) && ev.Flags&scap.FlagStateOnly == 0
		}
		if err := dump.event(&ev, kept); err != nil {
			return err
		}
		// With -D, sysdig shows internal events even when the filter rejects them.
		if !kept && (!o.Debug || ev.Info.Category&event.CatInternal == 0) {
			prog.event(ev.Num)
			if cs != nil {
				chErr = cs.dropped(&ev)
			}
			continue
		}
		if start == 0 {
			start = ev.Ts
		} else if o.Duration > 0 && ev.Ts-start >= uint64(o.Duration)*1e9 {
			break
		}
		n++
		prog.event(ev.Num)
		if cs != nil {
			var stop bool
			if stop, chErr = cs.event(&ev); stop {
				break
			}
			continue
		}
		if summary != nil {
			summary.add(ev.Event)
		}
		if quiet {
			continue
		}
		if !o.Debug && ev.Info.Category&event.CatInternal != 0 {
			continue
		}
		var ok bool
		line, ok = fm.Format(ctx, &ev, line[:0])
		if !ok {
			continue
		}
		if display != nil && !display(&ev) {
			continue
		}
		line = append(line, '\n')
		if _, err := out.Write(line); err != nil {
			return err
		}
		if o.Unbuffered || o.JSON {
			out.Flush()
		}
	}
	if cs != nil {
		if chErr = cs.end(chErr); chErr != nil {
			return chErr
		}
	}
	prog.end()
	if err := out.Flush(); err != nil {
		return err
	}
	if err := dump.close(); err != nil {
		return err
	}
	cpuUsed := cpuSeconds() - cpuStart
	if o.Verbose && o.ReadFile != "" {
		fmt.Fprintf(stderr, "Driver Events:0\nDriver Drops:0\nSuppressed by Comm:0\n")
	}
	if l, ok := src.(*liveSource); ok {
		// The loop has drained the ring buffer (or stopped at -n); read the
		// counters before the probe is released.
		if o.Verbose || o.Summary {
			if s, err := l.Stats(); err == nil {
				fmt.Fprintf(stderr, "Driver Events:%d\nDriver Drops:%d\n", s.Emitted, s.Dropped)
				if o.Verbose {
					fmt.Fprintf(stderr, "Suppressed by Comm:0\n")
				}
			}
		}
		l.Close()
	}
	if o.Verbose {
		// As sysdig: the CPU time the event loop used, and the events it kept.
		fmt.Fprintf(stderr, "Elapsed time: %.3f, Captured Events: %d, %s eps\n", cpuUsed, n, cRate(float64(n), cpuUsed))
	}
	if summary != nil {
		summary.print(stdout)
	}
	if readErr != nil {
		if errors.Is(readErr, io.ErrUnexpectedEOF) {
			return fmt.Errorf("%v (the file is truncated; %d events before it were read)", readErr, n)
		}
		return fmt.Errorf("%v (%d events before it were read)", readErr, n)
	}
	return nil
}

// summaryTable counts events for -S: by event type, and generic events by syscall.
type summaryTable struct {
	byType    [event.MaxType]uint64
	bySyscall [2 * event.NumSyscalls]uint64
}

func (t *summaryTable) add(e *scap.Event) {
	if (e.Type == event.GenericE || e.Type == event.GenericX) && e.NParams > 0 && len(e.Param(0)) >= 2 {
		id := int(e.Param(0)[0]) | int(e.Param(0)[1])<<8
		if id < event.NumSyscalls {
			t.bySyscall[2*id+int(e.Type&1)]++
			return
		}
	}
	t.byType[e.Type]++
}

// print writes the table as sysdig does: the 100 most frequent rows, most frequent
// first. sysdig leaves rows with equal counts in no fixed order; ours are in type order.
func (t *summaryTable) print(w io.Writer) {
	type row struct {
		name  string
		enter bool
		n     uint64
	}
	var rows []row
	for id, n := range t.byType {
		if n > 0 {
			rows = append(rows, row{event.Type(id).Info().Name, event.Type(id).IsEnter(), n})
		}
	}
	for id, n := range t.bySyscall {
		if n > 0 {
			name, _ := event.SyscallName(uint16(id / 2))
			rows = append(rows, row{name, id%2 == 0, n})
		}
	}
	sort.SliceStable(rows, func(i, j int) bool { return rows[i].n > rows[j].n })
	if len(rows) > 100 {
		rows = rows[:100]
	}
	fmt.Fprint(w, "----------------------\nEvent           #Calls\n----------------------\n")
	for _, r := range rows {
		dir := "< "
		if r.enter {
			dir = "> "
		}
		fmt.Fprintf(w, "%s%-16s%d\n", dir, r.name, r.n)
	}
}

// listEvents prints the event list as sysdig -L does.
func listEvents(w io.Writer) {
	for t := event.Type(0); t < event.MaxType; t++ {
		info := t.Info()
		if info.Flags&(event.EFOldVersion|event.EFUnused) != 0 || info.Category&event.CatInternal != 0 {
			continue
		}
		fmt.Fprintf(w, "%s %s(", t.Dir(), info.Name)
		for i, p := range info.Params {
			if i > 0 {
				fmt.Fprint(w, ", ")
			}
			fmt.Fprintf(w, "%s %s", p.Type, p.Name)
		}
		fmt.Fprintln(w, ")")
	}
}

const usage = `syscope version ` + Version + `: a Go successor of sysdig.
Usage: syscope [options] [filter]

The filter is sysdig's filter language, e.g.
  syscope -r capture.scap "proc.name=curl and fd.type in (ipv4, ipv6)"

 -r <file>, --readfile=<file>   read events from a capture file (plain or gzip)
 -w <file>, --writefile=<file>  write the captured events to a file (mode 0600)
 -z, --compress                 gzip the file written with -w
 -C <MB>, --file-size=<MB>      with -w, start a new file when the file holds more than
                                <MB> million bytes: FILE0, FILE1, ...
 -G <secs>, --seconds=<secs>    with -w, start a new file every <secs> seconds of capture
                                time: FILE0, FILE1, ..., or FILE as a strftime(3) pattern
 -e <num>, --event-limit=<num>  with -w, start a new file every <num> events
 -W <num>, --limit=<num>        with -C, -G or -e, keep at most <num> files, reusing the
                                names in turn
 -F, --fatfile                  with -w and a filter, also write the events the filter
                                rejects that change the state, for the state only
 -P, --progress                 print on stderr how much of the file was read (also on
                                with -r and -w)
 -s <len>, --snaplen=<len>      bytes of I/O buffers to capture (default 80)
 -n <num>, --numevents=<num>    stop after <num> events
 -M <secs>                      stop after <secs> seconds of capture time
 -p <fmt>, --print=<fmt>        output format; -pc container format, -pk kubernetes format
 -j, --json                     JSON output
 -A, --print-ascii              print buffers as ASCII
 -x, --print-hex                print buffers in hex
 -X, --print-hex-ascii          print buffers in hex and ASCII
 -b, --print-base64             print buffers in base64
 -v, --verbose                  do not truncate buffers
 -t <h|a|r|d|D>, --timetype     time format: human, absolute, relative, delta, enter/exit delta
 -D, --debug                    also print internal events
 -q, --quiet                    print nothing (useful with -w)
 -S, --summary                  print a table of event counts at the end
 -L, --list-events              list the event types
 -l, --list                     list the fields (-lv: with their types)
 -d, --displayflt               apply the filter after the state is updated, to
                                the printed lines only (a filter normally
                                selects events before they update the state)
 -N                             accepted for compatibility, ignored
 --unbuffered                   flush every line
 -c <chisel> [args], --chisel   run a chisel (a sysdig Lua chisel, or a built-in);
                                its arguments are the next word, the rest is the filter
 -cl, --list-chisels            list the chisels, by category
 -i <chisel>, --chisel-info     describe a chisel and its arguments
 --chisel-dir=<dir>             also look for chisels in <dir> (after ./chisels,
                                ~/.chisels, $SYSDIG_CHISEL_DIR, $SYSCOPE_CHISEL_DIR)
 -h, --help                     this help
`

// cpuSeconds returns the CPU time this process has used (user and system), the
// clock sysdig's -v reports its "Elapsed time" in.
func cpuSeconds() float64 {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return float64(ru.Utime.Nano()+ru.Stime.Nano()) / 1e9
}

// cRate formats n/d with two decimals as C's printf does, including its
// spellings of the infinite and undefined quotients (a run too short to be timed).
func cRate(n, d float64) string {
	switch {
	case d > 0:
		return fmt.Sprintf("%.2f", n/d)
	case n > 0:
		return "inf"
	default:
		return "-nan"
	}
}
