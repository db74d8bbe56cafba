package compat

// Differential tests of syscope's built-in chisels (package chisel/builtin,
// written in Go): each runs on every shared capture, without any Lua file,
// under
//
//	TZ=UTC syscope -r F -c NAME [ARGS]
//	TZ=UTC sysdig -r F -c NAME [ARGS]
//
// and both must print the same, compared as chisels_test.go compares the Lua
// chisels (the same cases and comparison modes: tables whose rows with equal
// values sysdig prints in no fixed order are compared with topTable...).
// Both run in an empty directory with an empty $HOME, so that no ./chisels
// or ~/.chisels directory hides a built-in.

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/syscope/syscope/chisel"
	_ "github.com/syscope/syscope/chisel/builtin"
)

// builtinExtraCases are cases run for the built-ins only, besides those of
// chiselCases: other options and output formats.
var builtinExtraCases = []chiselCase{
	{chisel: "echo_fds", extra: []string{"-X"}},
	{chisel: "echo_fds", extra: []string{"-x"}},
	{chisel: "echo_fds", extra: []string{"proc.name=curl"}},
	{chisel: "topprocs_cpu", extra: []string{"-j"}, mode: jsonTopTable, limit: 10},
	{chisel: "topscalls", extra: []string{"-j"}, mode: jsonTopTable, limit: 30},
	{chisel: "topfiles_bytes", extra: []string{"-j", "-pc"}, mode: jsonTopTable, limit: 10},
	{chisel: "topconns", extra: []string{"-pc"}, mode: topTable, limit: 30},
	{chisel: "topfiles_bytes", extra: []string{"-pc"}, mode: topTable, limit: 10},
	{chisel: "topfiles_time", extra: []string{"-pc"}, mode: topTable, limit: 10},
	{chisel: "topprocs_file", extra: []string{"-pc"}, mode: topTable, limit: 10},
	{chisel: "topprocs_net", extra: []string{"-pc"}, mode: topTable, limit: 100},
	{chisel: "topports_server", extra: []string{"-pc"}, mode: topTable, limit: 100},
	{chisel: "topscalls", extra: []string{"-pc"}, mode: topTable, limit: 30},
	{chisel: "topscalls_time", extra: []string{"-pc"}, mode: topTable, limit: 30},
	{chisel: "topscalls", extra: []string{"proc.name=haproxy"}, mode: topTable, limit: 30},
	{chisel: "table_generator", args: []string{"'fd.sport,proc.name' 'Port,Process' evt.rawarg.res Bytes evt.is_io=true 0 none"}, mode: topTable, limit: 0},
	{chisel: "fdtime_by", args: []string{"proc.name"}, mode: topTable, limit: 10},
	{chisel: "fdbytes_by", args: []string{"fd.sport"}, mode: topTable, limit: 30},
	{chisel: "stderr", extra: []string{"-pc"}},
	{chisel: "spy_port", args: []string{"80 disable_colors"}},
	{chisel: "spy_file", args: []string{"W"}},
	{chisel: "spy_file", args: []string{"RW /etc/resolv.conf"}},
	{chisel: "fileslower", extra: []string{"-pc"}, args: []string{"0"}},
	{chisel: "fileslower", args: []string{"x"}},
	{chisel: "netlower", extra: []string{"-pc"}, args: []string{"0"}},
	{chisel: "scallslower", extra: []string{"-pc"}, args: []string{"0"}},
	{chisel: "proc_exec_time", extra: []string{"-pc"}},
	{chisel: "proc_exec_time", args: []string{"disable_colors"}},
	{chisel: "bottlenecks", extra: []string{"proc.name=haproxy"}},
	{chisel: "fdcount_by", args: []string{"fd.sport"}, mode: tabValueRows},
	{chisel: "spy_users", args: []string{"1"}},
	{chisel: "list_login_shells", extra: []string{"-pc"}},
	{chisel: "list_login_shells", args: []string{"ba.h"}},
	{chisel: "list_login_shells", args: []string{"'*' -c"}},
	{chisel: "httplog", extra: []string{"-pc"}},
	{chisel: "httptop", args: []string{"bytes"}, mode: topTable, limit: 30},
	{chisel: "httptop", args: []string{"time"}, mode: topTable, limit: 30},
	{chisel: "httptop", extra: []string{"-pc"}, mode: topTable, limit: 30},
	{chisel: "netstat", args: []string{"proc.name=haproxy"}, mode: headerThenSet},
	{chisel: "lscontainers", args: []string{"desc"}, mode: headerThenSet},
	{chisel: "stdout", extra: []string{"proc.name=cat"}},
}

// builtinDiffs are the built-in chisels that cannot print what sysdig
// prints everywhere, and why. A difference is then only logged; the test
// fails if one of them starts to match everywhere.
var builtinDiffs = map[string]string{
	"shellshock_detect": "sysdig 0.29.3 refuses the filter of its own chisel (it mixes 'and' and 'or' without brackets) " +
		"and fails; the built-in runs with the filter as intended, (proc.name=bash or proc.name=sh) and evt.type=execve",
}

// builtinSkipFiles are files that sysdig's Lua chisels write by accident
// and the built-ins do not: udp_extract runs the Windows command
// "md udp_dump_files 2> nul" too, and the shell's redirection leaves an
// empty file named nul.
var builtinSkipFiles = map[string][]string{"udp_extract": {"nul"}}

// builtinCasesFor returns the cases of a built-in chisel.
func builtinCasesFor(name string) []chiselCase {
	var cases []chiselCase
	for _, c := range slices.Concat(chiselCases, builtinExtraCases) {
		if c.chisel == name {
			c.skipFiles = builtinSkipFiles[name]
			cases = append(cases, c)
		}
	}
	if len(cases) == 0 {
		cases = append(cases, chiselCase{chisel: name})
	}
	return cases
}

// builtinNames returns the built-in chisels, hidden ones included.
func builtinNames() []string {
	var names []string
	for _, d := range chisel.Builtins() {
		names = append(names, d.Name)
	}
	return names
}

// TestBuiltinChisels runs every case of every built-in chisel on every
// capture with both tools.
func TestBuiltinChisels(t *testing.T) {
	requireSysdig(t)
	requireSyscope(t)
	captures := findCaptures(t)
	names := builtinNames()
	if len(names) == 0 {
		t.Fatal("no built-in chisel is registered")
	}
	mismatched := map[string]bool{}
	ran := map[string]bool{}
	for _, name := range names {
		t.Run(name, func(t *testing.T) {
			ran[name] = true
			for i, c := range builtinCasesFor(name) {
				t.Run(fmt.Sprint(i), func(t *testing.T) {
					parallelLimited(t)
					for _, capture := range captures {
						d := compareChisel(t, nil, capture, c)
						if d == "" {
							continue
						}
						if why, ok := builtinDiffs[name]; ok {
							t.Logf("known difference (%s) on %s: %s", why, filepath.Base(capture), d)
							markMismatch(mismatched, name)
							continue
						}
						t.Errorf("%s on %s: %s", commandLine(c), filepath.Base(capture), d)
					}
				})
			}
		})
	}
	t.Cleanup(func() {
		if t.Failed() || t.Skipped() {
			return
		}
		for n, why := range builtinDiffs {
			if ran[n] && !mismatchedName(mismatched, n) {
				t.Errorf("built-in %s now prints what sysdig prints: remove it from builtinDiffs (%s)", n, why)
			}
		}
		var same []string
		for _, n := range names {
			if ran[n] && !mismatchedName(mismatched, n) {
				same = append(same, n)
			}
		}
		t.Logf("%d built-in chisels print what sysdig prints on all %d captures: %s",
			len(same), len(captures), strings.Join(same, " "))
	})
}

var mismatchMu sync.Mutex

func markMismatch(m map[string]bool, name string) {
	mismatchMu.Lock()
	defer mismatchMu.Unlock()
	m[name] = true
}

func mismatchedName(m map[string]bool, name string) bool {
	mismatchMu.Lock()
	defer mismatchMu.Unlock()
	return m[name]
}

// TestBuiltinChiselInterface checks that each built-in has the name,
// category and arguments (names, types, which are optional) of sysdig's Lua
// chisel: they are the interface users script against.
func TestBuiltinChiselInterface(t *testing.T) {
	dir := sysdigChiselDir(t)
	lua := &chisel.Path{Dirs: []string{dir}}
	for _, b := range chisel.Builtins() {
		t.Run(b.Name, func(t *testing.T) {
			want, ok := lua.Info(b.Name)
			if b.Hidden {
				// sysdig's hidden chisels are not listed; read the file's args.
				if ok {
					t.Errorf("%s is hidden in syscope but sysdig lists it", b.Name)
				}
				return
			}
			if !ok || want.File == "" {
				t.Fatalf("sysdig has no Lua chisel %s in %s", b.Name, dir)
			}
			if want.Category != b.Category {
				t.Errorf("category: sysdig %q, syscope %q", want.Category, b.Category)
			}
			type arg struct {
				name, typ string
				opt       bool
			}
			conv := func(as []chisel.Arg) []arg {
				var out []arg
				for _, a := range as {
					out = append(out, arg{a.Name, a.Type, a.Optional})
				}
				return out
			}
			if w, g := conv(want.Args), conv(b.Args); !slices.Equal(w, g) {
				t.Errorf("arguments: sysdig %v, syscope %v", w, g)
			}
			if b.Description == "" || b.ShortDesc == "" {
				t.Errorf("missing description")
			}
		})
	}
}

// TestBuiltinChiselPrecedence checks that a Lua chisel of the same name in
// --chisel-dir wins over the built-in, and that without one the built-in runs.
func TestBuiltinChiselPrecedence(t *testing.T) {
	requireSyscope(t)
	capture := capturePath(t, "falco_cat_write.scap")
	dir := t.TempDir()
	src := "description = 'mine'; short_description = 'mine'; category = 'Test'; args = {}\n" +
		"function on_capture_end() print('lua echo_fds') end\n"
	if err := os.WriteFile(filepath.Join(dir, "echo_fds.lua"), []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	home := t.TempDir()
	got := runSyscope(t, []string{"--chisel-dir", dir, "-r", capture, "-c", "echo_fds"}, withDir(home), withEnv("HOME="+home))
	if got.Err != nil || got.ExitCode != 0 || string(got.Stdout) != "lua echo_fds\n" {
		t.Errorf("with --chisel-dir: exit %d, %v, stdout %q, stderr %q", got.ExitCode, got.Err, clip(got.Stdout, 200), clip(got.Stderr, 200))
	}
	got = runSyscope(t, []string{"-r", capture, "-c", "echo_fds"}, withDir(home), withEnv("HOME="+home))
	if got.Err != nil || got.ExitCode != 0 || !strings.Contains(string(got.Stdout), "------ ") {
		t.Errorf("built-in: exit %d, %v, stdout %q, stderr %q", got.ExitCode, got.Err, clip(got.Stdout, 200), clip(got.Stderr, 200))
	}
}
