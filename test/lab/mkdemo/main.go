// Command mkdemo cuts a live capture down to what a demo may ship: the events
// of the named commands, and the metadata of their threads only, with every
// environment cleared (a capture holds the environment of every process on the
// machine, secrets included).
//
//	mkdemo -comm getent,dnsd -o testdata/demo/dns-lab.scap.gz lab.scap
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/syscope/syscope/scap"
	"github.com/syscope/syscope/state"
)

// scrubEnv returns e, or for an event with an "env" parameter a copy of e in
// clean with that parameter emptied.
func scrubEnv(e, clean *scap.Event) *scap.Event {
	idx := -1
	for i, p := range e.Type.Info().Params {
		if p.Name == "env" && i < e.NParams {
			idx = i
		}
	}
	if idx < 0 {
		return e
	}
	*clean = *e
	clean.Lens = append(clean.Lens[:0:0], e.Lens[:e.NParams]...)
	clean.Offs = make([]uint32, e.NParams)
	clean.Data = nil
	for i := 0; i < e.NParams; i++ {
		clean.Offs[i] = uint32(len(clean.Data))
		if i == idx {
			clean.Lens[i] = 0
			continue
		}
		clean.Data = append(clean.Data, e.Param(i)...)
	}
	return clean
}

func main() {
	comms := flag.String("comm", "getent,dnsd", "commands whose threads and events to keep")
	out := flag.String("o", "", "output file (gzip when it ends in .gz)")
	flag.Parse()
	if flag.NArg() != 1 || *out == "" {
		fmt.Fprintln(os.Stderr, "usage: mkdemo -comm a,b -o OUT IN")
		os.Exit(2)
	}
	if err := cut(flag.Arg(0), *out, strings.Split(*comms, ",")); err != nil {
		fmt.Fprintln(os.Stderr, "mkdemo:", err)
		os.Exit(1)
	}
}

func cut(in, out string, comms []string) error {
	r, err := scap.Open(in)
	if err != nil {
		return err
	}
	defer r.Close()
	m := *r.Metadata()
	want := map[string]bool{}
	for _, c := range comms {
		want[c] = true
	}
	st := state.New()
	st.LoadMetadata(r.Metadata())
	var threads []scap.Thread
	for _, t := range m.Threads {
		if want[t.Comm] {
			t.Env = nil
			threads = append(threads, t)
		}
	}
	m.Threads = threads
	w, err := scap.Create(out, strings.HasSuffix(out, ".gz"), &m)
	if err != nil {
		return err
	}
	var raw, clean scap.Event
	ev := state.Event{Event: &raw}
	n := 0
	for {
		err := r.Next(&raw)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return err
		}
		ev.Info = raw.Type.Info()
		st.Process(&ev)
		t := st.Thread(raw.Tid)
		if t == nil || !want[t.Comm] {
			continue
		}
		if err := w.WriteEvent(scrubEnv(&raw, &clean)); err != nil {
			return err
		}
		n++
	}
	fmt.Fprintf(os.Stderr, "mkdemo: %d events, %d threads\n", n, len(threads))
	return w.Close()
}
