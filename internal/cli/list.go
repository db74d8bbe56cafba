package cli

import (
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/syscope/syscope/field"
)

// fieldClasses are the field classes in the order -l lists them, with the
// prefixes of their fields.
var fieldClasses = []struct {
	name, desc string
	prefixes   []string
}{
	{"evt", "Event fields: the event itself, its time, its arguments and its result. evt.arg.NAME and evt.arg[N] reach single arguments.", []string{"evt.", "syscall."}},
	{"process", "The process and thread that made the system call.", []string{"proc.", "thread."}},
	{"user", "The user the thread runs as.", []string{"user."}},
	{"group", "The group the thread runs as.", []string{"group."}},
	{"container", "The container the thread runs in, from the container runtime's metadata.", []string{"container."}},
	{"fd", "The file descriptor the event reads, writes or creates: files, sockets, pipes and the rest.", []string{"fd."}},
	{"syslog", "Messages written to /dev/log, decoded.", []string{"syslog."}},
	{"fdlist", "Events that carry several file descriptors, like poll and select.", []string{"fdlist."}},
	{"k8s", "Kubernetes metadata: the pod, namespace and controllers of the thread's container.", []string{"k8s."}},
	{"mesos", "Mesos and Marathon metadata.", []string{"mesos.", "marathon."}},
	{"span", "Tracer spans written by instrumented applications.", []string{"span."}},
	{"evtin", "Events that happen inside tracer spans.", []string{"evtin."}},
}

// listFields prints the field list in sysdig's -l layout; verbose (-lv) adds
// each field's type. Table-only and print-only fields are left out, as sysdig does.
func listFields(w io.Writer, verbose bool) {
	byClass := make([][]*field.Def, len(fieldClasses))
	for _, n := range field.Names() {
		d := field.Get(n)
		if d.Flags&(field.TableOnly|field.PrintOnly) != 0 {
			continue
		}
		for i, c := range fieldClasses {
			if hasAnyPrefix(n, c.prefixes) {
				byClass[i] = append(byClass[i], d)
				break
			}
		}
	}
	for i, c := range fieldClasses {
		defs := byClass[i]
		if len(defs) == 0 {
			continue
		}
		sort.SliceStable(defs, func(a, b int) bool { return defs[a].Seq < defs[b].Seq })
		fmt.Fprintf(w, "-------------------------------\n")
		writeWrapped(w, "Field Class:", c.name)
		writeWrapped(w, "Description:", c.desc)
		fmt.Fprintln(w)
		for _, d := range defs {
			desc := d.Desc
			if d.Flags&field.FilterOnly != 0 {
				desc = "(FILTER ONLY) " + desc
			}
			if verbose {
				desc = "(Type: " + d.Type.String() + ") " + desc
			}
			writeWrapped(w, d.Name, desc)
		}
		fmt.Fprintln(w)
	}
}

func hasAnyPrefix(s string, prefixes []string) bool {
	for _, p := range prefixes {
		if strings.HasPrefix(s, p) {
			return true
		}
	}
	return false
}

// writeWrapped writes "name" in a 30-column gutter and text wrapped at 120
// columns, continuation lines indented to the gutter.
func writeWrapped(w io.Writer, name, text string) {
	const gutter, width = 30, 120
	line := fmt.Sprintf("%-*s", gutter-1, name) + " "
	if len(name) >= gutter-1 {
		line = name + " "
	}
	col := len(line)
	var b strings.Builder
	b.WriteString(line)
	for _, word := range strings.Fields(text) {
		if col+len(word)+1 > width && col > gutter {
			b.WriteString("\n")
			b.WriteString(strings.Repeat(" ", gutter))
			col = gutter
		}
		b.WriteString(word)
		b.WriteString(" ")
		col += len(word) + 1
	}
	b.WriteString("\n")
	io.WriteString(w, b.String())
}
