package cli

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"

	"github.com/syscope/syscope/chisel"
	_ "github.com/syscope/syscope/chisel/builtin" // syscope's own chisels
	"github.com/syscope/syscope/field"
	"github.com/syscope/syscope/filter"
	"github.com/syscope/syscope/scap"
	"github.com/syscope/syscope/state"
)

// ChiselOpt is one -c option: the chisel's name and the command-line
// arguments after it, the first of which may be the chisel's arguments.
type ChiselOpt struct {
	Name  string
	After []string
	// restPos is the index After[0] has in Options.FilterArgs, if it is not an option.
	restPos int
}

// noteChisel records, after an option was parsed, what follows a -c NAME.
func (o *Options) noteChisel(opt *option, after []string, restPos int) {
	if opt.short != 'c' || len(o.Chisels) == 0 {
		return
	}
	c := &o.Chisels[len(o.Chisels)-1]
	c.After, c.restPos = after, restPos
}

// chiselSet is the chisels of a run and what they share.
type chiselSet struct {
	host    *chisel.Host
	runners []*chisel.Runner
	dirs    []string // --chisel-dir
}

// chiselMain handles the chisel options before the capture: -cl (and -c l)
// and -i print and end the program (done is true, with its exit code); -c
// loads each chisel, gives it its arguments (taken from the command line as
// sysdig takes them) and leaves the rest of the arguments as the filter.
func chiselMain(o *Options, stdout, stderr io.Writer) (cs *chiselSet, done bool, code int) {
	path := chisel.DefaultPath(o.ChiselDirs)
	if o.ListChisels || slices.ContainsFunc(o.Chisels, func(c ChiselOpt) bool { return c.Name == "l" }) {
		chisel.PrintList(stdout, path.List(), true)
		return nil, true, 0
	}
	if o.ChiselInfo != "" {
		d, ok := path.Info(o.ChiselInfo)
		if !ok {
			fmt.Fprintf(stderr, "syscope: chisel %s not found - use -cl to list them (searched %s)\n", o.ChiselInfo, path)
			return nil, true, 1
		}
		chisel.PrintInfo(stdout, d)
		return nil, true, 0
	}
	if len(o.Chisels) == 0 {
		return nil, false, 0
	}
	host := &chisel.Host{
		Out:            stdout,
		Err:            stderr,
		Path:           path,
		InputFile:      o.ReadFile,
		Live:           o.ReadFile == "",
		PrintContainer: o.PrintSet && (o.Print == "c" || o.Print == "container" || o.Print == "k" || o.Print == "kubernetes"),
		JSON:           o.JSON,
		Debug:          o.Debug,
		TermWidth:      -1,
		TermHeight:     -1,
	}
	if f, ok := stdout.(*os.File); ok {
		host.IsTTY = isTerminal(f)
		host.TermWidth, host.TermHeight = terminalSize(f)
	}
	cs = &chiselSet{host: host, dirs: o.ChiselDirs}
	consumed := map[int]bool{}
	fail := func(err error) (*chiselSet, bool, int) {
		cs.close()
		if ee, ok := err.(*chisel.ExitError); ok {
			return nil, true, ee.Code
		}
		fmt.Fprintf(stderr, "syscope: %v\n", err)
		return nil, true, 1
	}
	for _, c := range o.Chisels {
		r, err := chisel.Open(path, host, c.Name)
		if err != nil {
			return fail(err)
		}
		cs.runners = append(cs.runners, r)
		args, take, err := chiselArgs(r.Desc(), c)
		if err != nil {
			return fail(err)
		}
		if take {
			if c.restPos < len(o.FilterArgs) && o.FilterArgs[c.restPos] == c.After[0] {
				consumed[c.restPos] = true
			}
			if err := r.SetArgs(args); err != nil {
				return fail(err)
			}
		}
	}
	var rest []string
	for i, a := range o.FilterArgs {
		if !consumed[i] {
			rest = append(rest, a)
		}
	}
	o.FilterArgs = rest
	o.Filter = strings.Join(rest, " ")
	return cs, false, 0
}

// chiselArgs decides, as sysdig does, whether the argument after -c NAME is
// the chisel's: always when the chisel has a required argument; never when
// it has none, or the argument starts with '-'; when all its arguments are
// optional, if its only argument is a filter, or if the rest of the command
// line is not a valid filter.
func chiselArgs(d *chisel.Desc, c ChiselOpt) (args string, take bool, err error) {
	if len(d.Args) == 0 {
		return "", false, nil
	}
	required := 0
	for _, a := range d.Args {
		if !a.Optional {
			required++
		}
	}
	if len(c.After) == 0 {
		if required > 0 {
			return "", false, fmt.Errorf("missing arguments for chisel %s", d.Name)
		}
		return "", false, nil
	}
	next := c.After[0]
	switch {
	case required > 0:
		return next, true, nil
	case strings.HasPrefix(next, "-"):
		return "", false, nil
	case len(d.Args) == 1 && d.Args[0].Type == "filter":
		return next, true, nil
	}
	if _, err := filter.Compile(strings.Join(c.After, " ")); err != nil {
		return next, true, nil
	}
	return "", false, nil
}

// init runs the chisels' on_init and on_capture_start once the capture is
// open, st and ctx are ready and out takes the output. flt is the capture
// filter of the command line, which a chisel may replace (sysdig.set_filter).
func (cs *chiselSet) init(st *state.State, ctx *field.Ctx, out *bufio.Writer, flt *filter.Filter) error {
	h := cs.host
	h.State, h.Ctx, h.Out, h.Flush = st, ctx, out, out.Flush
	h.SetCompiledFilter(flt)
	for _, r := range cs.runners {
		if err := r.Init(); err != nil {
			return err
		}
	}
	for _, r := range cs.runners {
		if err := r.CaptureStart(); err != nil {
			return err
		}
	}
	return nil
}

// keep returns the capture filter for state.ProcessFiltered: the one the
// chisels left (nil when there is none).
func (cs *chiselSet) keep() func(*state.Event) bool {
	if cs.host.Filter() == nil {
		return nil
	}
	h := cs.host
	return func(e *state.Event) bool {
		f := h.Filter()
		return f == nil || f.Match(h.Ctx, e)
	}
}

// event runs the chisels on an event that passed the capture filter; stop
// reports that one ended the capture.
func (cs *chiselSet) event(e *state.Event) (stop bool, err error) {
	for _, r := range cs.runners {
		if stop, err := r.Event(e); stop || err != nil {
			return stop, err // as sysdig, the chisels after it do not see the event
		}
	}
	return false, nil
}

// dropped tells the chisels the time of an event the capture filter rejected.
func (cs *chiselSet) dropped(e *state.Event) error {
	for _, r := range cs.runners {
		if err := r.Dropped(e); err != nil {
			return err
		}
	}
	return nil
}

// end runs on_capture_end, as sysdig does even after an error (err, which
// it returns first), but not after os.exit.
func (cs *chiselSet) end(err error) error {
	if _, ok := err.(*chisel.ExitError); ok {
		return err
	}
	for _, r := range cs.runners {
		if e := r.CaptureEnd(); e != nil && err == nil {
			err = e
		}
	}
	return err
}

func (cs *chiselSet) close() {
	for _, r := range cs.runners {
		r.Close()
	}
}

// nextRun returns the command line a chisel asked to run next
// (sysdig.run_app), with this run's chisel directories.
func (cs *chiselSet) nextRun() ([]string, bool) {
	if cs == nil {
		return nil, false
	}
	next, ok := cs.host.NextRun()
	if !ok {
		return nil, false
	}
	var args []string
	for _, d := range cs.dirs {
		args = append(args, "--chisel-dir", d)
	}
	return append(args, next...), true
}

// trackProgress gives the Lua chisels sysdig.get_read_progress on a capture
// file: how much of it was read, in percent, as -P computes it (zlib's
// position in the file over its size). It returns the progress meter the
// main loop must drive: prog (the -P one) when there is one, else a silent
// one.
func (cs *chiselSet) trackProgress(o *Options, r *scap.Reader, prog *progress) (*progress, error) {
	// Only Lua chisels can ask; following a gzip file's position costs a
	// second decompression.
	if !slices.ContainsFunc(cs.runners, (*chisel.Runner).Lua) {
		return prog, nil
	}
	if prog == nil {
		silent := *o
		silent.Progress = true
		var err error
		if prog, err = newProgress(&silent, r, io.Discard); err != nil || prog == nil {
			return prog, err
		}
	}
	cs.host.Progress = prog.percent
	return prog, nil
}
