package compat

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// Tests of -w with rotation (-C, -G, -W, -e) and fatfile mode (-F), against
// sysdig 0.29.3 doing the same.

// rotationSource writes the 502 sample again with syscope into dir: sysdig
// 0.29.3 corrupts old-style interface lists when it writes a file (it cannot
// read its own pieces of the original), while it copies the tables syscope
// writes correctly.
func rotationSource(t *testing.T, dir string) string {
	t.Helper()
	src := filepath.Join(dir, "src.scap")
	args := []string{"-r", capturePath(t, "sysdig_inspect_502Error.scap"), "-w", src}
	if r := runSyscope(t, args, noOracleCache()); r.ExitCode != 0 {
		t.Fatalf("syscope %s: exit %d: %s", shellJoin(args), r.ExitCode, r.Stderr)
	}
	return src
}

// listFiles returns the names of the files in dir, sorted.
func listFiles(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names
}

// eventsOf lists the events of a capture file as sysdig reads them, internal
// ones included: time and type, leaving out container events (the files
// start with those of the state, which the two tools copy differently).
func eventsOf(t *testing.T, path string) []string {
	t.Helper()
	r := runSysdig(t, []string{"-r", path, "-D", "-p", "%evt.rawtime %evt.type"}, noOracleCache())
	if r.ExitCode != 0 {
		t.Fatalf("sysdig -r %s: exit %d: %s", path, r.ExitCode, clip(r.Stderr, 300))
	}
	var out []string
	for _, l := range strings.Split(string(r.Stdout), "\n") {
		if l != "" && !strings.HasSuffix(l, " container") {
			out = append(out, l)
		}
	}
	return out
}

// TestRotate runs sysdig and syscope with the same rotation options on the
// same capture, each in its own directory, and compares: the names of the
// files (sysdig's cycle writer naming), which events each file holds (for
// rotation by count and by time, which do not depend on how big the tables
// at the head of a file are), and the events flagged for the state only. Each
// of syscope's files must be private (0600) and print the same lines under
// both tools.
func TestRotate(t *testing.T) {
	requireSysdig(t)
	requireSyscope(t)
	src := rotationSource(t, t.TempDir())
	tests := []struct {
		name  string
		base  string
		args  []string
		split bool // compare the events of each file
		files int  // how many files there must be
		// sysdig 0.29.3 names the first file "first_dump.scap" when -w holds a
		// strftime pattern; syscope names it from the time of its first event.
		sysdigOnly, oursOnly []string
	}{
		{"-e", "out.scap", []string{"-e", "5000"}, true, 5, nil, nil},
		{"-e -W ring", "out.scap", []string{"-e", "3000", "-W", "3"}, true, 3, nil, nil},
		{"-e -z", "out.scap", []string{"-e", "6000", "-z"}, true, 4, nil, nil},
		{"-e filter", "out.scap", []string{"-e", "1000", "proc.name=curl"}, true, 17, nil, nil},
		{"-e -F filter", "out.scap", []string{"-e", "1000", "-F", "proc.name=curl"}, true, 19, nil, nil},
		{"-G", "out.scap", []string{"-G", "3"}, true, 5, nil, nil},
		{"-G -W ring", "out.scap", []string{"-G", "2", "-W", "2"}, true, 2, nil, nil},
		{"-G -C", "out.scap", []string{"-G", "3", "-C", "1"}, true, 5, nil, nil},
		{"-G pattern", "p%H%M%S.scap", []string{"-G", "3"}, true, 5, []string{"first_dump.scap"}, []string{"p004429.scap"}},
		{"-G pattern -W", "q%H%M%S.scap", []string{"-G", "3", "-W", "2"}, true, 2, []string{"first_dump.scap"}, nil},
		{"-C", "out.scap", []string{"-C", "1"}, false, 2, nil, nil},
		{"-C -W 1", "out.scap", []string{"-C", "1", "-W", "1"}, false, 1, nil, nil},
		{"-C -W 10", "out.scap", []string{"-C", "1", "-W", "10"}, false, 2, nil, nil},
		{"-W alone", "out.scap", []string{"-W", "5"}, true, 1, nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			parallelLimited(t)
			sdDir, ourDir := t.TempDir(), t.TempDir()
			args := append([]string{"-r", src, "-w", tt.base}, tt.args...)
			if r := runSysdig(t, args, withDir(sdDir), noOracleCache()); r.ExitCode != 0 {
				t.Fatalf("sysdig %s: exit %d: %s", shellJoin(args), r.ExitCode, clip(r.Stderr, 300))
			}
			if r := runSyscope(t, args, withDir(ourDir), noOracleCache()); r.ExitCode != 0 {
				t.Fatalf("syscope %s: exit %d: %s", shellJoin(args), r.ExitCode, clip(r.Stderr, 300))
			}
			sdNames, ourNames := listFiles(t, sdDir), listFiles(t, ourDir)
			want := slices.DeleteFunc(slices.Clone(sdNames), func(n string) bool { return slices.Contains(tt.sysdigOnly, n) })
			want = append(want, tt.oursOnly...)
			slices.Sort(want)
			if !slices.Equal(ourNames, want) {
				t.Fatalf("files %q; sysdig wrote %q", ourNames, sdNames)
			}
			if len(ourNames) != tt.files {
				t.Fatalf("%d files, want %d: %q", len(ourNames), tt.files, ourNames)
			}
			for _, name := range ourNames {
				ours := filepath.Join(ourDir, name)
				if st, err := os.Stat(ours); err != nil || st.Mode().Perm() != 0o600 {
					t.Errorf("%s: mode %v (%v), want 0600", name, st.Mode().Perm(), err)
				}
				sd := runSysdig(t, []string{"-r", ours}, noOracleCache())
				sc := runSyscope(t, []string{"-r", ours}, noOracleCache())
				if sd.ExitCode != 0 || sc.ExitCode != 0 {
					t.Errorf("%s: exit %d (sysdig), %d (syscope): %s", name, sd.ExitCode, sc.ExitCode, clip(sd.Stderr, 300))
				}
				if d := diffLinesExcept(sd.Stdout, sc.Stdout, false, divergencesOf(knownDivergences)); d.count > 0 {
					t.Errorf("%s: syscope and sysdig differ on %d line(s), first at line %d:\n  sysdig:  %s\n  syscope: %s",
						name, d.count, d.line, showLine(d.want, d.col), showLine(d.got, d.col))
				}
				if !tt.split {
					continue
				}
				theirs := filepath.Join(sdDir, name)
				if slices.Contains(tt.oursOnly, name) {
					theirs = filepath.Join(sdDir, tt.sysdigOnly[0])
				}
				if a, b := eventsOf(t, theirs), eventsOf(t, ours); !slices.Equal(a, b) {
					t.Errorf("%s: %d events, sysdig's file has %d (first %q / %q)", name, len(b), len(a), first(b), first(a))
				}
				_, fa := eventBlocks(t, theirs)
				if _, fb := eventBlocks(t, ours); fa != fb {
					t.Errorf("%s: %d events for the state only, sysdig's file has %d", name, fb, fa)
				}
			}
		})
	}
}

func first(s []string) string {
	if len(s) == 0 {
		return ""
	}
	return s[0]
}

// TestRotateSize checks -C on its own terms: sysdig moves to a new file
// before an event when the file holds more than SIZE·10⁶ bytes, counting what
// zlib has written out, which trails the bytes written by less than its
// 8 KiB buffer. Every file but the last is just over the size. (The files'
// events are not compared with sysdig's: its files start with the tables the
// capture started with, syscope's with those of the state, so the sizes move
// apart.)
func TestRotateSize(t *testing.T) {
	requireSyscope(t)
	src := capturePath(t, "sysdig_inspect_502Error.scap")
	for _, z := range []bool{false, true} {
		t.Run("z="+strconv.FormatBool(z), func(t *testing.T) {
			dir := t.TempDir()
			out := filepath.Join(dir, "c.scap")
			in := src
			if z {
				// Compressed, the sample is a fifth of its size: take it 8 times over
				// (a capture of 8 sections) to fill more than one file.
				in = concatFile(t, t.TempDir(), false, slices.Repeat([]string{"sysdig_inspect_502Error.scap"}, 8)...)
			}
			args := []string{"-r", in, "-w", out, "-C", "1"}
			if z {
				args = append(args, "-z")
			}
			if r := runSyscope(t, args, noOracleCache()); r.ExitCode != 0 {
				t.Fatalf("syscope %s: exit %d: %s", shellJoin(args), r.ExitCode, r.Stderr)
			}
			pieces := listFiles(t, dir)
			slices.SortStableFunc(pieces, func(a, b string) int { return len(a) - len(b) }) // c.scap9 before c.scap10
			if len(pieces) < 2 {
				t.Fatalf("files %q: no rotation", pieces)
			}
			for i, n := range pieces {
				if n != "c.scap"+strconv.Itoa(i) {
					t.Errorf("file %d is %s, want c.scap%d", i, n, i)
				}
				st, err := os.Stat(filepath.Join(dir, n))
				if err != nil {
					t.Fatal(err)
				}
				if i < len(pieces)-1 && (st.Size() <= 1000000 || st.Size() > 1000000+8192+65536) {
					t.Errorf("%s has %d bytes: not just over 10^6", n, st.Size())
				}
			}
		})
	}
}

// TestRotateFatfile compares -F with sysdig's on filters that drop events the
// state needs: the same events must be kept for the state only (EVF blocks),
// and the files must print the same lines under both tools and as sysdig's
// own file does.
func TestRotateFatfile(t *testing.T) {
	requireSysdig(t)
	requireSyscope(t)
	src := rotationSource(t, t.TempDir())
	for _, flt := range []string{"proc.name=curl", "evt.type=connect", "fd.name contains /etc"} {
		for _, fat := range []bool{false, true} {
			t.Run(flt+"/-F="+strconv.FormatBool(fat), func(t *testing.T) {
				parallelLimited(t)
				dir := t.TempDir()
				theirs, ours := filepath.Join(dir, "sysdig.scap"), filepath.Join(dir, "syscope.scap")
				args := func(out string) []string {
					a := []string{"-r", src, "-w", out}
					if fat {
						a = append(a, "-F")
					}
					return append(a, flt)
				}
				if r := runSysdig(t, args(theirs), noOracleCache()); r.ExitCode != 0 {
					t.Fatalf("sysdig: exit %d: %s", r.ExitCode, clip(r.Stderr, 300))
				}
				if r := runSyscope(t, args(ours), noOracleCache()); r.ExitCode != 0 {
					t.Fatalf("syscope: exit %d: %s", r.ExitCode, clip(r.Stderr, 300))
				}
				_, fa := eventBlocks(t, theirs)
				_, fb := eventBlocks(t, ours)
				if fa != fb || fat != (fb > 0) {
					t.Errorf("%d events for the state only; sysdig's file has %d", fb, fa)
				}
				a := runSysdig(t, []string{"-r", theirs}, noOracleCache())
				b := runSysdig(t, []string{"-r", ours}, noOracleCache())
				c := runSyscope(t, []string{"-r", ours}, noOracleCache())
				if !bytes.Equal(a.Stdout, b.Stdout) {
					d := diffLines(a.Stdout, b.Stdout, false)
					t.Errorf("sysdig prints %d line(s) differently for syscope's file than for its own, first at line %d", d.count, d.line)
				}
				if d := diffLinesExcept(b.Stdout, c.Stdout, false, divergencesOf(knownDivergences)); d.count > 0 {
					t.Errorf("syscope and sysdig differ on %d line(s), first at line %d", d.count, d.line)
				}
			})
		}
	}
}
