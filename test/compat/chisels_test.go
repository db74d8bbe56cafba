package compat

// Differential tests of the Lua chisel runtime: every Lua chisel that the
// Debian sysdig package installs in /usr/share/sysdig/chisels (used at test
// time only; none is copied into this repository) runs on every shared
// capture under
//
//	TZ=UTC syscope --chisel-dir /usr/share/sysdig/chisels -r F -c NAME [ARGS]
//	TZ=UTC sysdig -r F -c NAME [ARGS]
//
// and both must print the same. $SYSCOPE_SYSDIG_CHISELS overrides the directory.
//
// sysdig keeps its tables in hash maps and Lua tables, so rows with equal
// values come in no fixed order (and LuaJIT orders table keys differently
// from gopher-lua). Those chisels are compared with a mode that says what is
// stable: see cmpMode.

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
)

// cmpMode says how a chisel's output is compared.
type cmpMode int

const (
	// byteExact: byte for byte.
	byteExact cmpMode = iota
	// topTable: tables of rows sorted by a value (the first 20 columns,
	// common.lua's print_sorted_table and table_generator): rows with equal
	// values are compared as a set; when a table holds exactly `limit` rows,
	// the last group of equal values may have been cut anywhere, so only
	// its size is compared.
	topTable
	// headerThenSet: the first line byte for byte, the others as a multiset
	// (lsof, netstat and lscontainers walk hash tables).
	headerThenSet
	// jsonCanonical: JSON values embedded in the output (dkjson writes
	// object keys in table order) are compared as values.
	jsonCanonical
	// jsonTopTable: print_sorted_table's JSON documents ({"ts", "data",
	// "info"}, with -j), compared as values, except that the rows of
	// "data" with equal values (their last element) are compared as
	// topTable compares them.
	jsonTopTable
	// tabValueRows: lines "KEY<tab>VALUE" sorted by VALUE (fdcount_by):
	// the values in the same order, the lines with equal values as a set.
	tabValueRows
)

// chiselCase is one way to run a chisel.
type chiselCase struct {
	chisel string
	args   []string // after -c NAME (sysdig takes one word as the arguments)
	extra  []string // more command-line arguments (options, a filter)
	mode   cmpMode
	files  bool // also compare the files the chisel writes in its working directory
	limit  int  // topTable: the table's top_number (TOP_NUMBER in the chisel), 0 for none
	// skipFiles are files that sysdig writes and syscope need not (with files).
	skipFiles []string
}

// chiselCases are the command lines compared for each chisel; a chisel of
// the directory that is not listed here runs once with no arguments, byte
// for byte.
var chiselCases = []chiselCase{
	{chisel: "around", args: []string{"around_dump.scap"}}, // no filter: both refuse
	{chisel: "around", args: []string{"around_dump.scap"}, extra: []string{"evt.type=access and evt.failed=true"}},
	{chisel: "bottlenecks"},
	{chisel: "echo_fds"},
	{chisel: "echo_fds", extra: []string{"-A"}},
	{chisel: "echo_fds", extra: []string{"-X", "proc.name!=sshd"}},
	{chisel: "echo_fds", extra: []string{"-pc"}},
	{chisel: "echo_fds", args: []string{"disable_color"}},
	{chisel: "echo_fds", extra: []string{"-j"}},
	{chisel: "echo_fds", extra: []string{"-M", "1"}},
	{chisel: "echo_fds", extra: []string{"-n", "2000"}},
	{chisel: "echo_fds", extra: []string{"-d", "proc.name=curl"}},
	{chisel: "fdbytes_by", args: []string{"fd.name"}, mode: topTable, limit: 30},
	{chisel: "fdbytes_by", args: []string{"proc.name"}, mode: topTable, limit: 30},
	{chisel: "fdcount_by", args: []string{"proc.name"}, mode: tabValueRows},
	{chisel: "fdtime_by", args: []string{"fd.name"}, mode: topTable, limit: 10},
	{chisel: "fileslower", args: []string{"0"}},
	{chisel: "fileslower", args: []string{"1 disable_color"}},
	{chisel: "fileslower", args: []string{"0"}, extra: []string{"proc.name=curl"}},
	{chisel: "flame", mode: jsonCanonical},
	{chisel: "httplog"},
	{chisel: "httptop", mode: topTable, limit: 30},
	{chisel: "httptop", args: []string{"by_method"}, mode: topTable, limit: 30},
	{chisel: "iobytes"},
	{chisel: "iobytes_file"},
	{chisel: "iobytes_net"},
	{chisel: "iobytes_net", extra: []string{"proc.name=haproxy"}}, // on_interval after events the filter dropped
	{chisel: "list_login_shells"},
	{chisel: "lscontainers", mode: headerThenSet},
	{chisel: "lsof", mode: headerThenSet},
	{chisel: "lsof", args: []string{"fd.type=ipv4"}, mode: headerThenSet},
	{chisel: "memcachelog"},
	{chisel: "netlower", args: []string{"0"}},
	{chisel: "netstat", mode: headerThenSet},
	{chisel: "proc_exec_time"},
	{chisel: "ps"},
	{chisel: "ps", args: []string{"proc.name=bash"}},
	{chisel: "scallslower", args: []string{"0"}},
	{chisel: "shellshock_detect"},
	{chisel: "spectrogram"},
	{chisel: "spy_file"},
	{chisel: "spy_file", args: []string{"R"}},
	{chisel: "spy_ip", args: []string{"192.168.0.2"}},
	{chisel: "spy_ip", args: []string{"172.18.0.2"}},
	{chisel: "spy_logs"},
	{chisel: "spy_port", args: []string{"80"}},
	{chisel: "spy_syslog"},
	{chisel: "spy_users"},
	{chisel: "spy_users", extra: []string{"-pc"}},
	{chisel: "stderr"},
	{chisel: "stdin"},
	{chisel: "stdout"},
	{chisel: "subsecoffset"},
	{chisel: "table_generator", args: []string{"proc.name,fd.name Process,File evt.rawarg.res Bytes evt.is_io=true 10 bytes"}, mode: topTable, limit: 10},
	{chisel: "table_generator", args: []string{"evt.type Syscall evt.latency Time evt.dir=< 20 time"}, mode: topTable, limit: 20},
	{chisel: "topconns", mode: topTable, limit: 30},
	{chisel: "topcontainers_cpu", mode: topTable, limit: 10},
	{chisel: "topcontainers_error", mode: topTable, limit: 100},
	{chisel: "topcontainers_file", mode: topTable, limit: 10},
	{chisel: "topcontainers_net", mode: topTable, limit: 100},
	{chisel: "topfiles_bytes", mode: topTable, limit: 10},
	{chisel: "topfiles_errors", mode: topTable, limit: 100},
	{chisel: "topfiles_time", mode: topTable, limit: 10},
	{chisel: "topports_server", mode: topTable, limit: 100},
	{chisel: "topprocs_cpu", mode: topTable, limit: 10},
	{chisel: "topprocs_cpu", extra: []string{"-pc"}, mode: topTable, limit: 10},
	{chisel: "topprocs_errors", mode: topTable, limit: 100},
	{chisel: "topprocs_file", mode: topTable, limit: 10},
	{chisel: "topprocs_net", mode: topTable, limit: 100},
	{chisel: "topscalls", mode: topTable, limit: 30},
	{chisel: "topscalls_time", mode: topTable, limit: 30},
	{chisel: "tracers_2_statsd"},
	{chisel: "udp_extract", files: true},
	{chisel: "wsysdig_summary", mode: jsonCanonical},
}

// chiselDiffs are the chisels that cannot print what sysdig prints, and why.
// They still run on every capture (a chisel must not fail where sysdig does
// not), but a difference is only logged; the test fails if one of them
// starts to match sysdig everywhere, so that this list stays true.
var chiselDiffs = map[string]string{
	"shellshock_detect": "its filter mixes 'and' and 'or' without brackets: sysdig 0.29.3 refuses it and fails, " +
		"syscope accepts it (with 'and' binding tighter) and runs the chisel",
	"wsysdig_summary": "sysdig.get_read_progress is the position of zlib's read buffer in the file, which syscope " +
		"does not model (it returns 0); the rest of the summary is the same",
}

// chiselLibs are the Lua files of the directory that are helpers, not chisels.
var chiselLibs = map[string]bool{"common": true, "dkjson": true, "ansiterminal": true, "http": true, "statsd": true}

// chiselRewrites hide, per capture, what knownDivergences explains: sysdig
// prints garbage for the address of haproxy's bound UDP socket in
// sysdig_inspect_502Error, and chisels print that address in fd names (and
// udp_extract names a file after it). They are applied to sysdig's output.
var chiselRewrites = map[string][][2]string{
	"sysdig_inspect_502Error.scap": {
		{"192.168.128.156:55441->145.216.3.255:514", "127.0.0.1:55441->127.0.0.1:514"},
		{"192.168.128.156_55441--145.216.3.255_514", "127.0.0.1_55441--127.0.0.1_514"},
	},
}

// minMatchingChisels is how many chisels must print what sysdig prints on every capture.
const minMatchingChisels = 40

func sysdigChiselDir(t *testing.T) string {
	t.Helper()
	dir := os.Getenv("SYSCOPE_SYSDIG_CHISELS")
	if dir == "" {
		dir = "/usr/share/sysdig/chisels"
	}
	if _, err := os.Stat(filepath.Join(dir, "common.lua")); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("CI is set but sysdig's chisels are not in %s (Debian package sysdig)", dir)
		}
		t.Skipf("skipping: sysdig's Lua chisels are not in %s (install the Debian package sysdig, or set SYSCOPE_SYSDIG_CHISELS)", dir)
	}
	return dir
}

// chiselNames returns the chisels of dir: its Lua files, without the csysdig
// views (v_*.lua) and the helper libraries.
func chiselNames(t *testing.T, dir string) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(dir, "*.lua"))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, f := range files {
		n := strings.TrimSuffix(filepath.Base(f), ".lua")
		if strings.HasPrefix(n, "v_") || chiselLibs[n] {
			continue
		}
		names = append(names, n)
	}
	return names
}

// TestChisels runs every chisel case on every capture with both tools.
func TestChisels(t *testing.T) {
	requireSysdig(t)
	requireSyscope(t)
	dir := sysdigChiselDir(t)
	captures := findCaptures(t)
	names := chiselNames(t, dir)

	var (
		mu         sync.Mutex
		mismatched = map[string]bool{} // chisel -> differed somewhere
		ran        = map[string]bool{} // chisel -> run (go test -run may select some)
	)
	for _, name := range names {
		cases := []chiselCase{}
		for _, c := range chiselCases {
			if c.chisel == name {
				cases = append(cases, c)
			}
		}
		if len(cases) == 0 {
			cases = append(cases, chiselCase{chisel: name})
		}
		t.Run(name, func(t *testing.T) {
			ran[name] = true
			for i, c := range cases {
				t.Run(fmt.Sprint(i), func(t *testing.T) {
					parallelLimited(t)
					for _, capture := range captures {
						if d := compareChisel(t, []string{"--chisel-dir", dir}, capture, c); d != "" {
							mu.Lock()
							mismatched[name] = true
							mu.Unlock()
							if why, ok := chiselDiffs[name]; ok {
								t.Logf("known difference (%s) on %s: %s", why, filepath.Base(capture), d)
							} else {
								t.Errorf("%s on %s: %s", commandLine(c), filepath.Base(capture), d)
							}
						}
					}
				})
			}
		})
	}
	t.Cleanup(func() {
		if t.Failed() || t.Skipped() {
			return
		}
		matching := 0
		for _, n := range names {
			if ran[n] && !mismatched[n] {
				matching++
			}
		}
		for n, why := range chiselDiffs {
			if ran[n] && !mismatched[n] {
				t.Errorf("%s now prints what sysdig prints: remove it from chiselDiffs (%s)", n, why)
			}
		}
		t.Logf("%d of %d chisels print what sysdig prints on all %d captures", matching, len(ran), len(captures))
		if len(captures) >= 16 && len(ran) == len(names) && matching < minMatchingChisels {
			t.Errorf("only %d chisels match sysdig, want at least %d", matching, minMatchingChisels)
		}
	})
}

func commandLine(c chiselCase) string {
	args := append([]string{"-c", c.chisel}, c.args...)
	return shellJoin(append(args, c.extra...))
}

// compareChisel runs case c on capture with both tools, each in a fresh
// directory (some chisels write files) and with a fresh $HOME (no
// ~/.chisels), and returns "" when they agree, or what differs. syscopeOpts
// go before syscope's arguments (--chisel-dir DIR for the Lua chisels).
func compareChisel(t *testing.T, syscopeOpts []string, capture string, c chiselCase) string {
	t.Helper()
	args := append([]string{"-r", capture, "-c", c.chisel}, c.args...)
	args = append(args, c.extra...)
	wantDir, gotDir := t.TempDir(), t.TempDir()
	want := runSysdig(t, args, withDir(wantDir), withEnv("HOME="+wantDir), noOracleCache())
	if want.Err != nil {
		t.Fatalf("sysdig %s: %v", shellJoin(args), want.Err)
	}
	got := runSyscope(t, append(slices.Clone(syscopeOpts), args...), withDir(gotDir), withEnv("HOME="+gotDir))
	if got.Err != nil {
		return fmt.Sprintf("syscope: %v; stderr: %s", got.Err, clip(got.Stderr, 500))
	}
	if want.ExitCode != got.ExitCode {
		return fmt.Sprintf("exit code: sysdig %d, syscope %d; sysdig stderr %s; syscope stderr %s",
			want.ExitCode, got.ExitCode, clip(want.Stderr, 300), clip(got.Stderr, 300))
	}
	rewrite := func(b []byte) []byte {
		for _, rw := range chiselRewrites[filepath.Base(capture)] {
			b = bytes.ReplaceAll(b, []byte(rw[0]), []byte(rw[1]))
		}
		return b
	}
	d := compareOutput(c, rewrite(want.Stdout), got.Stdout)
	if d == "" && c.files {
		for _, f := range c.skipFiles {
			os.Remove(filepath.Join(wantDir, f))
		}
		d = compareTrees(wantDir, gotDir, func(s string) string { return string(rewrite([]byte(s))) })
	}
	if d != "" {
		if dir, err := saveOutputs(t, args, want, got); err == nil {
			d += "\n  outputs saved in " + dir
		}
	}
	return d
}

// compareTrees compares the files under two directories (names passed
// through rename on the first side); "" when they are the same.
func compareTrees(want, got string, rename func(string) string) string {
	read := func(root string, rename func(string) string) (map[string][]byte, error) {
		files := map[string][]byte{}
		err := filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			rel, _ := filepath.Rel(root, p)
			files[rename(rel)] = b
			return nil
		})
		return files, err
	}
	w, err := read(want, rename)
	if err != nil {
		return err.Error()
	}
	g, err := read(got, func(s string) string { return s })
	if err != nil {
		return err.Error()
	}
	var names []string
	for n := range w {
		names = append(names, n)
	}
	for n := range g {
		if _, ok := w[n]; !ok {
			names = append(names, n)
		}
	}
	sort.Strings(names)
	for _, n := range names {
		wb, inW := w[n]
		gb, inG := g[n]
		switch {
		case !inW:
			return "syscope wrote " + n + ", sysdig did not"
		case !inG:
			return "sysdig wrote " + n + ", syscope did not"
		case !bytes.Equal(wb, gb):
			return fmt.Sprintf("file %s differs: %s", n, compareExact(wb, gb))
		}
	}
	return ""
}

// compareOutput compares two outputs of case c; "" when they agree.
func compareOutput(c chiselCase, want, got []byte) string {
	switch c.mode {
	case topTable:
		return compareTopTables(want, got, c.limit)
	case headerThenSet:
		wl, gl := splitLines(want), splitLines(got)
		if len(wl) == 0 || len(gl) == 0 {
			return compareExact(want, got)
		}
		if wl[0] != gl[0] {
			return fmt.Sprintf("first line: sysdig %q, syscope %q", wl[0], gl[0])
		}
		return compareMultiset(wl[1:], gl[1:])
	case jsonCanonical:
		return compareExact(canonicalJSON(want), canonicalJSON(got))
	case jsonTopTable:
		return compareJSONTopTables(want, got, c.limit)
	case tabValueRows:
		return compareTabValueRows(want, got)
	}
	return compareExact(want, got)
}

func compareExact(want, got []byte) string {
	d := diffLines(want, got, false)
	if d.count == 0 {
		return ""
	}
	return fmt.Sprintf("%d line(s) differ; first at line %d:\n  sysdig:  %s\n  syscope: %s",
		d.count, d.line, showLine(d.want, d.col), showLine(d.got, d.col))
}

func splitLines(b []byte) []string {
	s := string(b)
	s = strings.TrimSuffix(s, "\n")
	if s == "" {
		return nil
	}
	return strings.Split(s, "\n")
}

// compareMultiset compares two lists of lines in any order.
func compareMultiset(want, got []string) string {
	w, g := slices.Clone(want), slices.Clone(got)
	sort.Strings(w)
	sort.Strings(g)
	if slices.Equal(w, g) {
		return ""
	}
	var only []string
	i, j := 0, 0
	for i < len(w) || j < len(g) {
		switch {
		case j >= len(g) || i < len(w) && w[i] < g[j]:
			only = append(only, "sysdig only:  "+w[i])
			i++
		case i >= len(w) || g[j] < w[i]:
			only = append(only, "syscope only: "+g[j])
			j++
		default:
			i++
			j++
		}
	}
	if len(only) > 6 {
		only = append(only[:6], fmt.Sprintf("... %d more", len(only)-6))
	}
	return fmt.Sprintf("lines differ (in any order):\n  %s", strings.Join(only, "\n  "))
}

// tablePart is a run of header lines, or the rows of a table.
type tablePart struct {
	lines []string // header lines, or rows
	rows  bool
}

// topTableParts splits an output into header parts and row parts: rows are
// the lines after a line of dashes, up to an empty line or a line of dashes.
func topTableParts(b []byte) []tablePart {
	var parts []tablePart
	cur := tablePart{}
	flush := func() {
		if len(cur.lines) > 0 || cur.rows {
			parts = append(parts, cur)
		}
		cur = tablePart{}
	}
	for _, l := range splitLines(b) {
		isDashes := len(l) >= 10 && strings.Trim(l, "-") == ""
		switch {
		case isDashes:
			cur.lines = append(cur.lines, l)
			flush()
			cur.rows = true
		case cur.rows && l == "":
			flush()
			cur.lines = append(cur.lines, l)
		default:
			cur.lines = append(cur.lines, l)
		}
	}
	flush()
	return parts
}

// compareTopTables compares outputs of print_sorted_table or table_generator.
func compareTopTables(want, got []byte, limit int) string {
	wp, gp := topTableParts(want), topTableParts(got)
	if len(wp) != len(gp) {
		return compareExact(want, got)
	}
	for i := range wp {
		w, g := wp[i], gp[i]
		if !w.rows {
			if d := compareExact([]byte(strings.Join(w.lines, "\n")), []byte(strings.Join(g.lines, "\n"))); d != "" {
				return d
			}
			continue
		}
		wg, gg := valueGroups(w.lines), valueGroups(g.lines)
		if len(wg) != len(gg) || len(w.lines) != len(g.lines) {
			return fmt.Sprintf("table %d: sysdig has %d rows in %d groups of equal values, syscope %d rows in %d groups\n%s",
				i, len(w.lines), len(wg), len(g.lines), len(gg), compareExact(want, got))
		}
		for k := range wg {
			if rowValue(wg[k][0]) != rowValue(gg[k][0]) || len(wg[k]) != len(gg[k]) {
				return fmt.Sprintf("table %d, group %d: sysdig %d rows of %q, syscope %d rows of %q",
					i, k, len(wg[k]), rowValue(wg[k][0]), len(gg[k]), rowValue(gg[k][0]))
			}
			if k == len(wg)-1 && len(w.lines) == limit {
				continue // cut at the limit: which of the equal rows made it is arbitrary
			}
			if d := compareMultiset(wg[k], gg[k]); d != "" {
				return fmt.Sprintf("table %d, rows of value %q: %s", i, rowValue(wg[k][0]), d)
			}
		}
	}
	return ""
}

// rowValue is the value column of a row: its first 20 bytes.
func rowValue(l string) string {
	if len(l) > 20 {
		return l[:20]
	}
	return l
}

func valueGroups(rows []string) [][]string {
	var groups [][]string
	for _, r := range rows {
		if n := len(groups); n > 0 && rowValue(groups[n-1][0]) == rowValue(r) {
			groups[n-1] = append(groups[n-1], r)
			continue
		}
		groups = append(groups, []string{r})
	}
	return groups
}

// compareTabValueRows compares outputs of lines sorted by the value after
// their last tab (see tabValueRows).
func compareTabValueRows(want, got []byte) string {
	wl, gl := splitLines(want), splitLines(got)
	value := func(l string) string { return l[strings.LastIndexByte(l, '\t')+1:] }
	if len(wl) != len(gl) {
		return compareExact(want, got)
	}
	for start := 0; start < len(wl); {
		end := start
		for end < len(wl) && value(wl[end]) == value(wl[start]) {
			end++
		}
		for i := start; i < end; i++ {
			if value(gl[i]) != value(wl[start]) {
				return fmt.Sprintf("line %d: sysdig's value %q, syscope's %q\n%s", i+1, value(wl[start]), value(gl[i]), compareExact(want, got))
			}
		}
		if d := compareMultiset(wl[start:end], gl[start:end]); d != "" {
			return fmt.Sprintf("rows of value %q: %s", value(wl[start]), d)
		}
		start = end
	}
	return ""
}

// compareJSONTopTables compares outputs made of print_sorted_table's JSON
// documents (see jsonTopTable).
func compareJSONTopTables(want, got []byte, limit int) string {
	type doc struct {
		rest string   // the document without its rows, canonical
		rows []string // each row, canonical
		vals []string // the value of each row
	}
	parse := func(b []byte) ([]doc, error) {
		var docs []doc
		dec := json.NewDecoder(bytes.NewReader(b))
		dec.UseNumber()
		for dec.More() {
			var m map[string]any
			if err := dec.Decode(&m); err != nil {
				return nil, err
			}
			var d doc
			rows, _ := m["data"].([]any)
			for _, r := range rows {
				enc, _ := json.Marshal(r)
				d.rows = append(d.rows, string(enc))
				val := ""
				if cells, ok := r.([]any); ok && len(cells) > 0 {
					v, _ := json.Marshal(cells[len(cells)-1])
					val = string(v)
				}
				d.vals = append(d.vals, val)
			}
			delete(m, "data")
			enc, _ := json.Marshal(m)
			d.rest = string(enc)
			docs = append(docs, d)
		}
		return docs, nil
	}
	wd, err := parse(want)
	if err != nil {
		return "sysdig's output is not JSON: " + err.Error()
	}
	gd, err := parse(got)
	if err != nil {
		return "syscope's output is not JSON: " + err.Error()
	}
	if len(wd) != len(gd) {
		return fmt.Sprintf("sysdig printed %d JSON documents, syscope %d", len(wd), len(gd))
	}
	for i := range wd {
		w, g := wd[i], gd[i]
		if w.rest != g.rest {
			return fmt.Sprintf("document %d: sysdig %s, syscope %s", i, w.rest, g.rest)
		}
		if !slices.Equal(w.vals, g.vals) {
			return fmt.Sprintf("document %d: row values: sysdig %v, syscope %v", i, w.vals, g.vals)
		}
		for start := 0; start < len(w.rows); {
			end := start
			for end < len(w.rows) && w.vals[end] == w.vals[start] {
				end++
			}
			if end == len(w.rows) && len(w.rows) == limit {
				break // cut at the limit: which of the equal rows made it is arbitrary
			}
			if d := compareMultiset(w.rows[start:end], g.rows[start:end]); d != "" {
				return fmt.Sprintf("document %d, rows of value %s: %s", i, w.vals[start], d)
			}
			start = end
		}
	}
	return ""
}

// canonicalJSON rewrites each JSON object or array embedded in b (where one
// starts a line, or follows "key": ) with its keys sorted, so that
// outputs differing only in key order compare equal.
func canonicalJSON(b []byte) []byte {
	var out bytes.Buffer
	for i := 0; i < len(b); {
		if b[i] == '{' || b[i] == '[' {
			dec := json.NewDecoder(bytes.NewReader(b[i:]))
			dec.UseNumber()
			var v any
			if err := dec.Decode(&v); err == nil {
				enc, err := json.Marshal(v) // maps are written with sorted keys
				if err == nil {
					out.Write(enc)
					i += int(dec.InputOffset())
					continue
				}
			}
		}
		out.WriteByte(b[i])
		i++
	}
	return out.Bytes()
}

// TestChiselComparators checks the comparison modes themselves (needs neither tool).
func TestChiselComparators(t *testing.T) {
	table := func(rows ...string) string {
		return "Bytes               Name\n--------------------\n" + strings.Join(rows, "\n") + "\n"
	}
	tests := []struct {
		name      string
		mode      cmpMode
		limit     int
		want, got string
		same      bool
	}{
		{"exact same", byteExact, 0, "a\nb\n", "a\nb\n", true},
		{"exact order", byteExact, 0, "a\nb\n", "b\na\n", false},
		{"ties in any order", topTable, 100, table("5B                  x", "1B                  a", "1B                  b"),
			table("5B                  x", "1B                  b", "1B                  a"), true},
		{"not ties", topTable, 100, table("5B                  x", "1B                  a"),
			table("1B                  a", "5B                  x"), false},
		{"tie content differs", topTable, 100, table("1B                  a", "1B                  b"),
			table("1B                  a", "1B                  c"), false},
		{"cut tie group", topTable, 2, table("5B                  x", "1B                  a"),
			table("5B                  x", "1B                  z"), true},
		{"cut tie group keeps its size", topTable, 2, table("5B                  x", "1B                  a"),
			table("5B                  x", "2B                  z"), false},
		{"tab rows ties", tabValueRows, 0, "a\t3\nb\t1\nc\t1\n", "a\t3\nc\t1\nb\t1\n", true},
		{"tab rows order", tabValueRows, 0, "a\t3\nb\t1\n", "b\t1\na\t3\n", false},
		{"header then set", headerThenSet, 0, "H\nb\na\n", "H\na\nb\n", true},
		{"header differs", headerThenSet, 0, "H\na\n", "h\na\n", false},
		{"set differs", headerThenSet, 0, "H\na\na\n", "H\na\nb\n", false},
		{"json key order", jsonCanonical, 0, "x = {\n \"a\": 1,\n \"b\": [2, {\"c\": 3, \"d\": 4}]\n}\n",
			"x = {\n \"b\": [2, {\"d\": 4, \"c\": 3}],\n \"a\": 1\n}\n", true},
		{"json value", jsonCanonical, 0, "{\"a\": 1}", "{\"a\": 2}", false},
		{"json table ties", jsonTopTable, 10, `{"ts":"1","data":[["a",5],["b",1],["c",1]],"info":[]}`,
			`{"info":[],"data":[["a",5],["c",1],["b",1]],"ts":"1"}`, true},
		{"json table order", jsonTopTable, 10, `{"ts":"1","data":[["a",5],["b",1]]}`, `{"ts":"1","data":[["b",1],["a",5]]}`, false},
		{"json table cut", jsonTopTable, 2, `{"ts":"1","data":[["a",5],["b",1]]}`, `{"ts":"1","data":[["a",5],["z",1]]}`, true},
		{"json table info", jsonTopTable, 2, `{"ts":"1","data":[],"info":[1]}`, `{"ts":"1","data":[],"info":[2]}`, false},
	}
	for _, tc := range tests {
		d := compareOutput(chiselCase{mode: tc.mode, limit: tc.limit}, []byte(tc.want), []byte(tc.got))
		if (d == "") != tc.same {
			t.Errorf("%s: compare = %q, want same=%v", tc.name, d, tc.same)
		}
	}
}

// chiselFieldSkips are fields whose chisel values sysdig makes up: it reads
// four bytes of a one-byte bool (proc.is_exe_writable), or the device of
// sockets and pipes, which libsinsp never sets (fd.dev*).
var chiselFieldSkips = map[string]bool{
	"proc.is_exe_writable": true, "fd.dev": true, "fd.dev.major": true, "fd.dev.minor": true,
}

// TestChiselFieldValues runs a chisel of ours that requests every printable
// field and prints, for each event, each field's Lua type and value: the
// values chisels get (numbers, booleans, strings, raw buffers) must be
// sysdig's.
func TestChiselFieldValues(t *testing.T) {
	requireSysdig(t)
	requireSyscope(t)
	for _, capture := range findCaptures(t) {
		t.Run(strings.TrimSuffix(filepath.Base(capture), ".scap"), func(t *testing.T) {
			parallelLimited(t)
			var names []string
			for _, n := range printableFields(capture) {
				if !chiselFieldSkips[n] {
					names = append(names, fmt.Sprintf("%q", n))
				}
			}
			filter := ""
			if flt := divergentEventFilters[filepath.Base(capture)]; flt != "" {
				filter = fmt.Sprintf("chisel.set_filter(%q)", "not ("+flt+")")
			}
			src := `description = "field values"; short_description = "field values"; category = "Test"; args = {}
local names = {` + strings.Join(names, ", ") + `}
local fs = {}
function on_init()
  for i, n in ipairs(names) do fs[i] = chisel.request_field(n) end
  ` + filter + `
  return true
end
function on_event()
  local out = {tostring(evt.get_num()), evt.get_type()}
  for i, f in ipairs(fs) do
    local v = evt.field(f)
    if v ~= nil then out[#out+1] = names[i] .. "=" .. type(v) .. ":" .. tostring(v) end
  end
  print(table.concat(out, " "))
  return true
end
`
			dir := t.TempDir()
			file := filepath.Join(dir, "fieldvalues.lua")
			if err := os.WriteFile(file, []byte(src), 0o644); err != nil {
				t.Fatal(err)
			}
			args := []string{"-r", capture, "-c", file}
			want := runSysdig(t, args, noOracleCache())
			got := runSyscope(t, args)
			if want.Err != nil || got.Err != nil {
				t.Fatalf("sysdig: %v, syscope: %v", want.Err, got.Err)
			}
			if want.ExitCode != got.ExitCode {
				t.Errorf("exit code: sysdig %d, syscope %d; sysdig stderr %s; syscope stderr %s",
					want.ExitCode, got.ExitCode, clip(want.Stderr, 300), clip(got.Stderr, 300))
			}
			if d := compareExact(want.Stdout, got.Stdout); d != "" {
				t.Error(d)
			}
		})
	}
}

// TestChiselListAndInfo compares -cl, and -i for every Lua file of the
// directory (chisels, views and helpers), with sysdig's.
func TestChiselListAndInfo(t *testing.T) {
	requireSysdig(t)
	requireSyscope(t)
	dir := sysdigChiselDir(t)
	files, err := filepath.Glob(filepath.Join(dir, "*.lua"))
	if err != nil {
		t.Fatal(err)
	}
	cmds := [][]string{{"-cl"}, {"--list-chisels"}}
	for _, f := range files {
		cmds = append(cmds, []string{"-i", strings.TrimSuffix(filepath.Base(f), ".lua")})
	}
	cmds = append(cmds, []string{"-i", "no_such_chisel"})
	for _, args := range cmds {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			wd := t.TempDir() // sysdig also lists ./chisels
			want := runSysdig(t, args, withDir(wd))
			got := runSyscope(t, append([]string{"--chisel-dir", dir}, args...), withDir(wd))
			if want.Err != nil || got.Err != nil {
				t.Fatalf("sysdig: %v, syscope: %v", want.Err, got.Err)
			}
			if want.ExitCode != got.ExitCode {
				t.Errorf("exit code: sysdig %d, syscope %d (syscope stderr %s)", want.ExitCode, got.ExitCode, clip(got.Stderr, 300))
			}
			if d := compareExact(want.Stdout, got.Stdout); d != "" {
				t.Error(d)
			}
		})
	}
}
