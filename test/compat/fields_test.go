package compat

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/syscope/syscope/field"
)

// argFields are the fields with arguments that TestFields prints, with
// arguments that mean something in the shared captures. Left out on purpose,
// because sysdig 0.29.3 fails on them and syscope prints the value: the
// bracket form of dotted arguments (k8s.pod.label[x], thread.cgroup[x]: sysdig
// exits with "filter syntax error") and evt.rawarg of fd, flags, mode, uid
// and similar parameters (sysdig exits with "wrong event type").
var argFields = []string{
	"proc.aname[0]", "proc.aname[1]", "proc.aname[2]", "proc.aname[3]",
	"proc.apid[0]", "proc.apid[1]", "proc.apid[2]", "proc.apid[3]",
	"evt.arg[0]", "evt.arg[1]", "evt.arg[2]", "evt.arg.fd", "evt.arg.res", "evt.arg.name", "evt.arg.data",
	"evt.arg.flags", "evt.arg.tuple", "evt.arg.size", "evt.arg.addr",
	"evt.rawarg.res", "evt.rawarg.size", "evt.rawarg.name", "evt.rawarg.pid",
	"evt.type.is.open", "evt.type.is.read", "evt.type.is.3",
	"evt.abspath", "evt.abspath.src", "evt.abspath.dst",
	"thread.cgroup.cpu", "thread.cgroup.memory",
	"k8s.pod.label.app", "k8s.pod.label.component",
	"container.mount[0]", "container.mount[1]", "container.mount.source[0]", "container.mount.dest[0]",
	"container.mount.mode[0]", "container.mount.rdwr[0]", "container.mount.propagation[0]",
	"container.mount[/var/run/docker.sock]", "container.mount.dest[/tmp*]",
}

// fieldsOnlyWhere restricts some fields to events where sysdig prints
// something meaningful: for sockets and pipes created during the capture
// libsinsp never sets the device, and prints whatever the memory holds (it
// changes from run to run), so fd.dev* are compared on files only (with -d,
// so that the restriction does not change the state).
var fieldsOnlyWhere = map[string]string{
	"fd.dev":       "fd.type in (file, directory)",
	"fd.dev.major": "fd.type in (file, directory)",
	"fd.dev.minor": "fd.type in (file, directory)",
}

// hideDivergent returns a -d filter that hides the events of capture listed
// in divergentEventFilters (after the state update, so nothing else changes),
// or "".
func hideDivergent(capture string) string {
	if flt := divergentEventFilters[filepath.Base(capture)]; flt != "" {
		return "not (" + flt + ")"
	}
	return ""
}

// fieldSkips are (capture, field) pairs sysdig cannot print: it exits with
// an error and prints nothing.
var fieldSkips = map[[2]string]string{
	{"falco_psp_privileged.scap", "thread.totexectime"}: "sysdig: invalid thread state ID0 (on the container event's thread)",
}

// printableFields is every field syscope knows that can be printed with -p,
// plus argFields, minus those in fieldsOnlyWhere and fieldSkips.
func printableFields(capture string) []string {
	var out []string
	for _, n := range field.Names() {
		d := field.Get(n)
		if d.Flags&(field.FilterOnly|field.TableOnly) != 0 || d.Arg == 2 || fieldsOnlyWhere[n] != "" ||
			fieldSkips[[2]string{filepath.Base(capture), n}] != "" {
			continue
		}
		out = append(out, n)
	}
	return append(out, argFields...)
}

// TestFields prints every field on every capture with -p, in batches, and
// compares with sysdig. A batch that differs is split field by field, so
// the failure names the field.
func TestFields(t *testing.T) {
	requireSysdig(t)
	requireSyscope(t)
	const batch = 12
	for _, capture := range findCaptures(t) {
		fields := printableFields(capture)
		t.Run(strings.TrimSuffix(filepath.Base(capture), ".scap"), func(t *testing.T) {
			for i := 0; i < len(fields); i += batch {
				group := fields[i:min(i+batch, len(fields))]
				t.Run(group[0], func(t *testing.T) {
					parallelLimited(t)
					if fieldsMatch(t, capture, group) {
						return
					}
					for _, f := range group {
						t.Run(f, func(t *testing.T) {
							compareTools(t, fieldArgs(capture, []string{f}), knownDivergences...)
						})
					}
				})
			}
			for f, where := range fieldsOnlyWhere {
				if field.Get(f) == nil {
					t.Errorf("fieldsOnlyWhere names %s, which syscope does not know", f)
					continue
				}
				t.Run(f, func(t *testing.T) {
					parallelLimited(t)
					flt := where
					if hide := hideDivergent(capture); hide != "" {
						flt = "(" + hide + ") and (" + where + ")"
					}
					compareTools(t, append(fieldArgsAll(capture, []string{f}), "-d", flt), knownDivergences...)
				})
			}
		})
	}
}

func fieldArgs(capture string, fields []string) []string {
	if flt := hideDivergent(capture); flt != "" {
		return append(fieldArgsAll(capture, fields), "-d", flt)
	}
	return fieldArgsAll(capture, fields)
}

func fieldArgsAll(capture string, fields []string) []string {
	var b strings.Builder
	b.WriteString("*%evt.num")
	for _, f := range fields {
		b.WriteString(" |%")
		b.WriteString(f)
	}
	return []string{"-r", capture, "-p", b.String()}
}

func fieldsMatch(t *testing.T, capture string, fields []string) bool {
	args := fieldArgs(capture, fields)
	a := runSysdig(t, args)
	b := runSyscope(t, args)
	return a.ExitCode == b.ExitCode && string(a.Stdout) == string(b.Stdout)
}
