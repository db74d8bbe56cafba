package compat

import (
	"bytes"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

// TestSummary compares -S with sysdig's. sysdig sorts the table by count with an
// unstable sort, so rows with equal counts come in no fixed order: the table is
// compared as a set of rows, the events before it byte for byte.
func TestSummary(t *testing.T) {
	requireSysdig(t)
	requireSyscope(t)
	for _, capture := range findCaptures(t) {
		t.Run(strings.TrimSuffix(filepath.Base(capture), ".scap"), func(t *testing.T) {
			parallelLimited(t)
			args := []string{"-r", capture, "-S"}
			want := runSysdig(t, args)
			got := runSyscope(t, args)
			wantEv, wantTab := splitSummary(want.Stdout)
			gotEv, gotTab := splitSummary(got.Stdout)
			if d := diffLinesExcept(wantEv, gotEv, false, divergencesOf(knownDivergences)); d.count > 0 {
				t.Errorf("events before the summary differ: %d line(s), first at line %d", d.count, d.line)
			}
			if !bytes.Equal(wantTab, gotTab) {
				t.Errorf("summary rows differ:\nsysdig:\n%s\nsyscope:\n%s", wantTab, gotTab)
			}
		})
	}
}

// splitSummary returns the event lines and the summary rows, sorted.
func splitSummary(out []byte) (events, table []byte) {
	i := bytes.Index(out, []byte("----------------------\nEvent"))
	if i < 0 {
		return out, nil
	}
	rows := strings.Split(strings.TrimRight(string(out[i:]), "\n"), "\n")
	sort.Strings(rows)
	return out[:i], []byte(strings.Join(rows, "\n"))
}

func divergencesOf(opts []compareOption) []divergence {
	var c compareConfig
	for _, o := range opts {
		o(&c)
	}
	return c.divergences
}

// TestRoundTrip rewrites every capture with syscope -w (plain and -z) and checks
// that the file is private (0600), and that sysdig 0.29.3 prints for it exactly what
// it prints for the original, and syscope likewise.
func TestRoundTrip(t *testing.T) {
	requireSysdig(t)
	requireSyscope(t)
	for _, capture := range findCaptures(t) {
		for _, z := range []bool{false, true} {
			name := strings.TrimSuffix(filepath.Base(capture), ".scap")
			if z {
				name += "/-z"
			}
			t.Run(name, func(t *testing.T) {
				parallelLimited(t)
				out := filepath.Join(t.TempDir(), "rewritten.scap")
				args := []string{"-r", capture, "-w", out}
				if z {
					args = append(args, "-z")
				}
				if r := runSyscope(t, args, noOracleCache()); r.ExitCode != 0 {
					t.Fatalf("syscope %s: exit %d: %s", strings.Join(args, " "), r.ExitCode, r.Stderr)
				}
				st, err := os.Stat(out)
				if err != nil {
					t.Fatal(err)
				}
				if st.Mode().Perm() != 0o600 {
					t.Errorf("%s has mode %o, want 0600", out, st.Mode().Perm())
				}
				orig := runSysdig(t, []string{"-r", capture})
				again := runSysdig(t, []string{"-r", out}, noOracleCache())
				if d := diffLines(orig.Stdout, again.Stdout, false); d.count > 0 || again.ExitCode != 0 {
					t.Errorf("sysdig prints %d different line(s) for the rewritten file (exit %d), first at line %d: %s",
						d.count, again.ExitCode, d.line, clip(again.Stderr, 500))
				}
				ours := runSyscope(t, []string{"-r", out}, noOracleCache())
				divs := divergencesOf(knownDivergences)
				if d := diffLinesExcept(again.Stdout, ours.Stdout, false, divs); d.count > 0 {
					t.Errorf("syscope and sysdig differ on the rewritten file: %d line(s), first at line %d", d.count, d.line)
				}
			})
		}
	}
}
