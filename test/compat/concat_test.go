package compat

import (
	"bytes"
	"compress/gzip"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A capture file may hold several captures one after the other (cat a.scap
// b.scap), each with its section header and tables. libsinsp 0.29.3 restarts
// its capture at each new section header (sinsp::restart_capture): the
// thread table and the interfaces are dropped and loaded from the new
// section, the first-event time starts again (-t r), evt.num goes on (the
// new section's leading container events are not numbered), the containers
// and users are kept.

// concatSets are the captures concatenated: the same twice (every thread of
// the second section is known from the first), containers at the head of a
// later section, a socket-heavy capture after another, empty captures.
var concatSets = [][]string{
	{"falco_cat_write.scap", "falco_cat_write.scap"},
	{"sysdig_inspect_502Error.scap", "sysdig_inspect_502Error.scap"},
	{"bencer_example0_nginx.scap", "falco_psp_privileged.scap"},
	{"falco_psp_privileged.scap", "bencer_example0_nginx.scap"},
	{"libs_sample.scap", "libs_curl_google.scap"},
	{"libs_single_ipv6_conn.scap", "libs_test_ipv6_client.scap", "libs_single_ipv6_conn.scap"},
	{"falco_psp_run_as_user_65534_container.scap", "bencer_example0_nginx.scap", "falco_psp_privileged.scap"},
	{"falco_empty_2016.scap", "falco_open_multiple_files.scap", "falco_empty_2019.scap"},
}

// concatFile writes the named shared captures one after the other into dir:
// uncompressed, or as one gzip member each (zlib, and so sysdig, reads a file
// of several members as one stream; a plain capture after a compressed one
// would be taken as trailing garbage).
func concatFile(t *testing.T, dir string, members bool, names ...string) string {
	t.Helper()
	var buf bytes.Buffer
	for _, n := range names {
		data := readCapture(t, capturePath(t, n))
		if members {
			zw := gzip.NewWriter(&buf)
			if _, err := zw.Write(data); err != nil {
				t.Fatal(err)
			}
			if err := zw.Close(); err != nil {
				t.Fatal(err)
			}
		} else {
			buf.Write(data)
		}
	}
	kind := "plain"
	if members {
		kind = "gz"
	}
	p := filepath.Join(dir, "concat-"+kind+".scap")
	if err := os.WriteFile(p, buf.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func concatName(set []string) string {
	var parts []string
	for _, n := range set {
		parts = append(parts, strings.TrimSuffix(n, ".scap"))
	}
	return strings.Join(parts, "+")
}

// TestConcat compares sysdig and syscope on concatenated captures, plain and
// as gzip members, with the output options whose lines depend on the restart:
// evt.num, relative times, containers, internal events.
func TestConcat(t *testing.T) {
	requireSysdig(t)
	requireSyscope(t)
	for _, set := range concatSets {
		for _, members := range []bool{false, true} {
			name := concatName(set) + "/plain"
			if members {
				name = concatName(set) + "/gzip"
			}
			t.Run(name, func(t *testing.T) {
				f := concatFile(t, t.TempDir(), members, set...)
				for _, o := range [][]string{nil, {"-t", "r"}, {"-pc"}, {"-D"}} {
					t.Run(strings.Join(append([]string{"opts"}, o...), " "), func(t *testing.T) {
						parallelLimited(t)
						compareTools(t, append([]string{"-r", f}, o...), append([]compareOption{noOracleCache()}, knownDivergences...)...)
					})
				}
			})
		}
	}
}

// TestConcatWrite rewrites concatenated captures with -w: the file keeps the
// sections (a section header and the state's tables where the input starts a
// new one), so that sysdig prints for it what it prints for the input; cut by
// -e, every piece prints the same under both tools.
func TestConcatWrite(t *testing.T) {
	requireSysdig(t)
	requireSyscope(t)
	for _, set := range concatSets {
		t.Run(concatName(set), func(t *testing.T) {
			parallelLimited(t)
			dir := t.TempDir()
			in := concatFile(t, dir, true, set...)
			out := filepath.Join(dir, "out.scap")
			if r := runSyscope(t, []string{"-r", in, "-w", out}, noOracleCache()); r.ExitCode != 0 {
				t.Fatalf("syscope -w: exit %d: %s", r.ExitCode, r.Stderr)
			}
			orig := runSysdig(t, []string{"-r", in}, noOracleCache())
			again := runSysdig(t, []string{"-r", out}, noOracleCache())
			if d := diffLines(orig.Stdout, again.Stdout, false); d.count > 0 || again.ExitCode != 0 {
				t.Errorf("sysdig prints %d line(s) differently for the rewritten file (exit %d), first at line %d:\n  input:     %s\n  rewritten: %s",
					d.count, again.ExitCode, d.line, showLine(d.want, d.col), showLine(d.got, d.col))
			}
			ours := runSyscope(t, []string{"-r", out}, noOracleCache())
			if d := diffLinesExcept(again.Stdout, ours.Stdout, false, divergencesOf(knownDivergences)); d.count > 0 {
				t.Errorf("syscope and sysdig differ on the rewritten file: %d line(s), first at line %d", d.count, d.line)
			}
			pieces := filepath.Join(dir, "pieces")
			if err := os.Mkdir(pieces, 0o700); err != nil {
				t.Fatal(err)
			}
			if r := runSyscope(t, []string{"-r", in, "-w", filepath.Join(pieces, "p.scap"), "-e", "400"}, noOracleCache()); r.ExitCode != 0 {
				t.Fatalf("syscope -w -e: exit %d: %s", r.ExitCode, r.Stderr)
			}
			for _, p := range listFiles(t, pieces) {
				sd := runSysdig(t, []string{"-r", filepath.Join(pieces, p)}, noOracleCache())
				sc := runSyscope(t, []string{"-r", filepath.Join(pieces, p)}, noOracleCache())
				if d := diffLinesExcept(sd.Stdout, sc.Stdout, false, divergencesOf(knownDivergences)); d.count > 0 || sd.ExitCode != 0 {
					t.Errorf("%s: syscope and sysdig differ on %d line(s) (sysdig exit %d), first at line %d:\n  sysdig:  %s\n  syscope: %s",
						p, d.count, sd.ExitCode, d.line, showLine(d.want, d.col), showLine(d.got, d.col))
				}
			}
		})
	}
}
