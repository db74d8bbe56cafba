package compat

// Helpers for differential tests: run the real sysdig (the oracle) and
// syscope with the same arguments and compare what they print.
//
// Typical use from a test in this package:
//
//	func TestSomething(t *testing.T) {
//		parallelLimited(t) // optional: run in parallel, at most maxParallel at once
//		compareTools(t, []string{"-r", capturePath(t, "falco_cat_write.scap"), "evt.type=open"})
//	}
//
// For round trips (syscope writes, sysdig reads) use runSyscope/runSysdig
// directly, with noOracleCache() when the input file is not immutable.

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

const (
	// maxParallel bounds how many parallelLimited tests run at once: the
	// reference machine has 2 cores, and every comparison runs two processes.
	maxParallel = 2

	// oracleVersion is the sysdig release syscope must match byte for byte.
	oracleVersion = "0.29.3"

	defaultTimeout = 2 * time.Minute

	// maxShownLine is roughly how much of a differing line a failure shows.
	maxShownLine = 300
)

// Set by TestMain (compat_test.go).
var (
	moduleRoot string // directory holding go.mod
	syscopeBin string // freshly built syscope binary
	buildErr   error  // why syscopeBin is empty
)

var sem = make(chan struct{}, maxParallel)

// parallelLimited marks t parallel and then blocks until one of the
// maxParallel slots is free; the slot is released when t finishes.
// Do not call it twice for the same test, nor from a test whose parent
// holds a slot (the slots are not reentrant).
func parallelLimited(t *testing.T) {
	t.Helper()
	t.Parallel()
	sem <- struct{}{}
	t.Cleanup(func() { <-sem })
}

// ---------------------------------------------------------------------
// Options

type compareConfig struct {
	jsonLines      bool          // compare stdout line by line as JSON objects
	timeout        time.Duration // per process
	env            []string      // extra KEY=VALUE pairs for both tools
	dir            string        // working directory for both tools
	noCache        bool          // always run sysdig, even for args seen before
	ignoreExitCode bool
	compareStderr  bool
	divergences    []divergence
}

// compareOption tweaks compareTools, runSysdig and runSyscope.
type compareOption func(*compareConfig)

// asJSONLines compares stdout line by line as JSON objects (key order and
// number spelling are ignored); lines that are not JSON objects are compared
// byte for byte. It is switched on automatically when args contain -j/--json.
func asJSONLines() compareOption { return func(c *compareConfig) { c.jsonLines = true } }

// withTimeout sets the per-process timeout (default 2m, or the duration in
// $SYSCOPE_COMPAT_TIMEOUT).
func withTimeout(d time.Duration) compareOption {
	return func(c *compareConfig) { c.timeout = d }
}

// withEnv adds KEY=VALUE pairs to both tools' environment (after TZ=UTC, so
// it can override it).
func withEnv(kv ...string) compareOption {
	return func(c *compareConfig) { c.env = append(c.env, kv...) }
}

// withDir runs both tools in dir.
func withDir(dir string) compareOption { return func(c *compareConfig) { c.dir = dir } }

// noOracleCache makes sysdig run again even if it already ran with the same
// arguments in this test process (use it when an input file may change).
func noOracleCache() compareOption { return func(c *compareConfig) { c.noCache = true } }

// ignoreExitCode skips the exit status comparison.
func ignoreExitCode() compareOption { return func(c *compareConfig) { c.ignoreExitCode = true } }

// compareStderrToo also compares stderr byte for byte.
func compareStderrToo() compareOption { return func(c *compareConfig) { c.compareStderr = true } }

// divergence is a documented case where sysdig 0.29.3 prints something wrong
// (e.g. bytes of uninitialised memory) and syscope deliberately does not.
// A line pair is accepted only when sysdig's line matches Sysdig and
// syscope's matches Syscope; any other difference still fails.
type divergence struct {
	Sysdig, Syscope *regexp.Regexp
	Why             string
}

// allowDivergence accepts the documented divergence d.
func allowDivergence(d divergence) compareOption {
	return func(c *compareConfig) { c.divergences = append(c.divergences, d) }
}

func newConfig(args []string, opts []compareOption) compareConfig {
	c := compareConfig{timeout: defaultTimeout}
	if s := os.Getenv("SYSCOPE_COMPAT_TIMEOUT"); s != "" {
		if d, err := time.ParseDuration(s); err == nil && d > 0 {
			c.timeout = d
		}
	}
	if slices.Contains(args, "-j") || slices.Contains(args, "--json") {
		c.jsonLines = true
	}
	for _, o := range opts {
		o(&c)
	}
	return c
}

// ---------------------------------------------------------------------
// Locating the tools and the captures

// findModuleRoot walks up from the working directory to the go.mod.
func findModuleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("go.mod not found in any parent directory")
		}
		dir = parent
	}
}

var (
	sysdigOnce    sync.Once
	sysdigPath    string
	sysdigProblem string // non-empty: why the oracle cannot be used
)

// requireSysdig returns the path of the real sysdig. If it is missing (or not
// version 0.29.3) the test fails when $CI is set, and is skipped otherwise.
// $SYSCOPE_SYSDIG overrides the binary looked up in $PATH.
func requireSysdig(t testing.TB) string {
	t.Helper()
	sysdigOnce.Do(func() {
		p := os.Getenv("SYSCOPE_SYSDIG")
		if p == "" {
			var err error
			if p, err = exec.LookPath("sysdig"); err != nil {
				sysdigProblem = "sysdig (the reference implementation, Debian package sysdig 0.29.3) is not installed: apt-get install -y --no-install-recommends sysdig"
				return
			}
		}
		out, err := exec.Command(p, "--version").CombinedOutput()
		if err != nil {
			sysdigProblem = fmt.Sprintf("%s --version failed: %v: %s", p, err, bytes.TrimSpace(out))
			return
		}
		if v := strings.TrimSpace(string(out)); v != "sysdig version "+oracleVersion {
			sysdigProblem = fmt.Sprintf("%s reports %q; the differential tests need sysdig %s", p, v, oracleVersion)
			return
		}
		sysdigPath = p
	})
	if sysdigProblem != "" {
		if os.Getenv("CI") != "" {
			t.Fatalf("CI is set but the oracle is unusable: %s", sysdigProblem)
		}
		t.Skipf("skipping differential test: %s (set CI=1 to make this a failure)", sysdigProblem)
	}
	return sysdigPath
}

// requireSyscope returns the syscope binary built by TestMain, failing the
// test if the build failed.
func requireSyscope(t testing.TB) string {
	t.Helper()
	if buildErr != nil {
		t.Fatalf("cannot test syscope: %v", buildErr)
	}
	return syscopeBin
}

// capturesDir returns $SYSCOPE_CAPTURES or <module root>/../shared/captures.
func capturesDir() string {
	if d := os.Getenv("SYSCOPE_CAPTURES"); d != "" {
		return d
	}
	return filepath.Join(moduleRoot, "..", "shared", "captures")
}

// findCaptures returns the sorted *.scap files of capturesDir, skipping the
// test if there are none.
func findCaptures(t testing.TB) []string {
	t.Helper()
	dir := capturesDir()
	files, err := filepath.Glob(filepath.Join(dir, "*.scap"))
	if err != nil || len(files) == 0 {
		t.Skipf("skipping: no *.scap capture files in %s (put the shared captures at ../shared/captures relative to the repository root, or set SYSCOPE_CAPTURES=/path/to/captures)", dir)
	}
	slices.Sort(files)
	return files
}

// capturePath returns the path of one named capture, skipping the test if it
// is not there.
func capturePath(t testing.TB, name string) string {
	t.Helper()
	p := filepath.Join(capturesDir(), name)
	if _, err := os.Stat(p); err != nil {
		t.Skipf("skipping: capture %s not available (%v); set SYSCOPE_CAPTURES=/path/to/captures", name, err)
	}
	return p
}

// ---------------------------------------------------------------------
// Running the tools

// result is what one tool run produced.
type result struct {
	Stdout   []byte
	Stderr   []byte
	ExitCode int // -1 if killed by a signal
	Elapsed  time.Duration
	Err      error // the tool could not be run, or timed out
}

// runTool runs bin with args, TZ=UTC and the configured env/dir/timeout.
func runTool(t testing.TB, bin string, args []string, cfg compareConfig) result {
	t.Helper()
	timeout := cfg.timeout
	if dl, ok := t.(interface{ Deadline() (time.Time, bool) }); ok {
		if d, ok := dl.Deadline(); ok {
			if left := time.Until(d) - 10*time.Second; left > 0 && left < timeout {
				timeout = left
			}
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()

	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Dir = cfg.dir
	cmd.Env = append(envWithout(os.Environ(), "TZ"), "TZ=UTC")
	cmd.Env = append(cmd.Env, cfg.env...)
	cmd.Stdin = nil // /dev/null
	var stdout, stderr bytes.Buffer
	cmd.Stdout = &stdout
	cmd.Stderr = &stderr
	cmd.WaitDelay = 5 * time.Second

	start := time.Now()
	err := cmd.Run()
	r := result{Stdout: stdout.Bytes(), Stderr: stderr.Bytes(), Elapsed: time.Since(start)}
	var ee *exec.ExitError
	switch {
	case ctx.Err() == context.DeadlineExceeded:
		r.ExitCode = -1
		r.Err = fmt.Errorf("%s timed out after %v", filepath.Base(bin), timeout)
	case err == nil:
	case errors.As(err, &ee):
		r.ExitCode = ee.ExitCode()
		if r.ExitCode == -1 {
			r.Err = fmt.Errorf("%s: %v", filepath.Base(bin), ee) // killed by a signal
		}
	default:
		r.ExitCode = -1
		r.Err = fmt.Errorf("running %s: %w", bin, err)
	}
	return r
}

func envWithout(env []string, key string) []string {
	out := make([]string, 0, len(env))
	for _, kv := range env {
		if !strings.HasPrefix(kv, key+"=") {
			out = append(out, kv)
		}
	}
	return out
}

type oracleEntry struct {
	once sync.Once
	res  result
}

// oracleCache holds sysdig's results for this test process only; nothing is
// written to disk, the oracle always runs live.
var oracleCache sync.Map // cache key -> *oracleEntry

// runSysdig runs the real sysdig (cached per test process by args, env and dir).
func runSysdig(t testing.TB, args []string, opts ...compareOption) result {
	t.Helper()
	bin := requireSysdig(t)
	cfg := newConfig(args, opts)
	if cfg.noCache {
		return runTool(t, bin, args, cfg)
	}
	key := fmt.Sprintf("%q|%q|%q", cfg.dir, cfg.env, args)
	e, _ := oracleCache.LoadOrStore(key, &oracleEntry{})
	ent := e.(*oracleEntry)
	ent.once.Do(func() { ent.res = runTool(t, bin, args, cfg) })
	return ent.res
}

// runSyscope runs the syscope binary built by TestMain.
func runSyscope(t testing.TB, args []string, opts ...compareOption) result {
	t.Helper()
	return runTool(t, requireSyscope(t), args, newConfig(args, opts))
}

// ---------------------------------------------------------------------
// Comparing

// compareTools runs `sysdig ARGS` and `syscope ARGS` (TZ=UTC, with a timeout)
// and fails t unless stdout is identical (byte for byte, or line by line as
// JSON objects for -j) and the exit codes are equal. On a mismatch it reports
// the first differing line and how many lines differ, and saves both outputs
// in a temporary directory whose path it prints.
func compareTools(t testing.TB, args []string, opts ...compareOption) {
	t.Helper()
	requireSysdig(t)
	requireSyscope(t)
	cfg := newConfig(args, opts)

	want := runSysdig(t, args, opts...)
	if want.Err != nil {
		t.Fatalf("sysdig %s: %v\nstderr: %s", shellJoin(args), want.Err, clip(want.Stderr, 1000))
	}
	got := runSyscope(t, args, opts...)
	if got.Err != nil {
		t.Errorf("syscope %s: %v\nstderr: %s", shellJoin(args), got.Err, clip(got.Stderr, 1000))
	}

	failed := false
	if !cfg.ignoreExitCode && want.ExitCode != got.ExitCode {
		failed = true
		t.Errorf("exit code: sysdig %d, syscope %d\nsysdig stderr:  %s\nsyscope stderr: %s",
			want.ExitCode, got.ExitCode, clip(want.Stderr, 1000), clip(got.Stderr, 1000))
	}
	if d := diffLinesExcept(want.Stdout, got.Stdout, cfg.jsonLines, cfg.divergences); d.count > 0 {
		failed = true
		mode := "byte for byte"
		if cfg.jsonLines {
			mode = "as JSON objects per line"
		}
		t.Errorf("stdout differs (%s) for args %s\n"+
			"%d differing line(s); sysdig printed %d line(s), syscope %d\n"+
			"first difference at line %d, byte column %d:\n"+
			"  sysdig:  %s\n"+
			"  syscope: %s",
			mode, shellJoin(args), d.count, countLines(want.Stdout), countLines(got.Stdout),
			d.line, d.col+1, showLine(d.want, d.col), showLine(d.got, d.col))
	}
	if cfg.compareStderr && !bytes.Equal(want.Stderr, got.Stderr) {
		failed = true
		d := diffLines(want.Stderr, got.Stderr, false)
		t.Errorf("stderr differs: %d differing line(s); first at line %d:\n  sysdig:  %s\n  syscope: %s",
			d.count, d.line, showLine(d.want, d.col), showLine(d.got, d.col))
	}
	if failed {
		if dir, err := saveOutputs(t, args, want, got); err != nil {
			t.Logf("could not save outputs: %v", err)
		} else {
			t.Logf("full outputs saved in %s\n  diff %s/sysdig.stdout %s/syscope.stdout", dir, dir, dir)
		}
	}
}

// lineDiff describes how two outputs differ, line by line.
type lineDiff struct {
	count     int     // number of differing lines (0: equal)
	line      int     // 1-based number of the first differing line
	col       int     // 0-based byte column of the first difference in it
	want, got *string // the first differing lines; nil if missing
}

// diffLines compares a and b split at '\n'. A missing final newline counts as
// a difference on the last line. In jsonMode, lines that both decode as JSON
// objects are compared as map[string]any (numbers kept exact); other lines
// are compared byte for byte.
func diffLines(a, b []byte, jsonMode bool) lineDiff { return diffLinesExcept(a, b, jsonMode, nil) }

func diffLinesExcept(a, b []byte, jsonMode bool, divs []divergence) lineDiff {
	var d lineDiff
	if bytes.Equal(a, b) {
		return d
	}
	al := bytes.Split(a, []byte("\n"))
	bl := bytes.Split(b, []byte("\n"))
	for i := 0; i < max(len(al), len(bl)); i++ {
		var x, y []byte
		hx, hy := i < len(al), i < len(bl)
		if hx {
			x = al[i]
		}
		if hy {
			y = bl[i]
		}
		if hx && hy && (bytes.Equal(x, y) || (jsonMode && jsonLineEqual(x, y)) || divergent(x, y, divs)) {
			continue
		}
		d.count++
		if d.count == 1 {
			d.line = i + 1
			if hx {
				s := string(x)
				d.want = &s
			}
			if hy {
				s := string(y)
				d.got = &s
			}
			if hx && hy {
				d.col = commonPrefix(x, y)
			}
		}
	}
	return d
}

func divergent(want, got []byte, divs []divergence) bool {
	for _, dv := range divs {
		if dv.Sysdig.Match(want) && dv.Syscope.Match(got) {
			return true
		}
	}
	return false
}

func jsonLineEqual(a, b []byte) bool {
	x, ok1 := decodeJSONObject(a)
	y, ok2 := decodeJSONObject(b)
	if !ok1 || !ok2 {
		return false // not JSON: already known to differ byte for byte
	}
	// UseNumber keeps numbers as json.Number (their text), so 64-bit values
	// such as evt.outputtime are compared exactly.
	return reflect.DeepEqual(x, y)
}

func decodeJSONObject(line []byte) (map[string]any, bool) {
	dec := json.NewDecoder(bytes.NewReader(line))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil || m == nil {
		return nil, false
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, false // trailing data
	}
	return m, true
}

func commonPrefix(a, b []byte) int {
	n := min(len(a), len(b))
	for i := 0; i < n; i++ {
		if a[i] != b[i] {
			return i
		}
	}
	return n
}

func countLines(b []byte) int {
	n := bytes.Count(b, []byte("\n"))
	if len(b) > 0 && b[len(b)-1] != '\n' {
		n++
	}
	return n
}

// showLine quotes a line for a failure message, clipped to about
// maxShownLine bytes around byte column col.
func showLine(s *string, col int) string {
	if s == nil {
		return "<no such line>"
	}
	line := *s
	if len(line) <= maxShownLine {
		return fmt.Sprintf("%q", line)
	}
	start := max(0, min(col-maxShownLine/3, len(line)-maxShownLine))
	end := min(len(line), start+maxShownLine)
	prefix, suffix := "", ""
	if start > 0 {
		prefix = fmt.Sprintf("[%d bytes]…", start)
	}
	if end < len(line) {
		suffix = fmt.Sprintf("…[%d more bytes]", len(line)-end)
	}
	return fmt.Sprintf("%s%q%s", prefix, line[start:end], suffix)
}

func clip(b []byte, n int) string {
	b = bytes.TrimSpace(b)
	if len(b) > n {
		return fmt.Sprintf("%q…", b[:n])
	}
	return fmt.Sprintf("%q", b)
}

func shellJoin(args []string) string {
	q := make([]string, len(args))
	for i, a := range args {
		if a != "" && !strings.ContainsAny(a, " \t\n'\"\\$`!*?[]{}()<>|&;#~") {
			q[i] = a
		} else {
			q[i] = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
		}
	}
	return strings.Join(q, " ")
}

var unsafeName = regexp.MustCompile(`[^A-Za-z0-9._-]+`)

// saveOutputs writes both tools' full outputs to a fresh temporary directory
// that outlives the test, and returns its path.
func saveOutputs(t testing.TB, args []string, want, got result) (string, error) {
	name := strings.Trim(unsafeName.ReplaceAllString(t.Name(), "_"), "_")
	dir, err := os.MkdirTemp("", "syscope-compat-"+name+"-")
	if err != nil {
		return "", err
	}
	files := map[string][]byte{
		"sysdig.stdout":  want.Stdout,
		"sysdig.stderr":  want.Stderr,
		"syscope.stdout": got.Stdout,
		"syscope.stderr": got.Stderr,
		"command.txt": fmt.Appendf(nil, "TZ=UTC sysdig %s  # exit %d\nTZ=UTC syscope %s  # exit %d\n",
			shellJoin(args), want.ExitCode, shellJoin(args), got.ExitCode),
	}
	for f, data := range files {
		if err := os.WriteFile(filepath.Join(dir, f), data, 0o644); err != nil {
			return "", err
		}
	}
	return dir, nil
}

// TestDiffLines checks the comparison helper itself (needs neither tool).
func TestDiffLines(t *testing.T) {
	tests := []struct {
		name      string
		a, b      string
		json      bool
		count     int
		line, col int
	}{
		{"equal", "a\nb\n", "a\nb\n", false, 0, 0, 0},
		{"one line", "a\nbcd\ne\n", "a\nbXd\ne\n", false, 1, 2, 1},
		{"missing final newline", "a\n", "a", false, 1, 2, 0},
		{"extra lines", "a\n", "a\nb\nc\n", false, 3, 2, 0},
		{"json key order", `{"a":1,"b":"x"}` + "\n", `{"b":"x","a":1}` + "\n", true, 0, 0, 0},
		{"json big numbers exact", `{"t":1470327477881730713}`, `{"t":1470327477881730714}`, true, 1, 1, 23},
		{"json number spelling", `{"t":1}`, `{"t":1.0}`, true, 1, 1, 6},
		{"json mode non-json line", "x y\n", "x  y\n", true, 1, 1, 2},
		{"json key order needs json mode", `{"a":1,"b":2}`, `{"b":2,"a":1}`, false, 1, 1, 2},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d := diffLines([]byte(tc.a), []byte(tc.b), tc.json)
			if d.count != tc.count || d.line != tc.line || d.col != tc.col {
				t.Errorf("diffLines(%q, %q, %v) = count %d line %d col %d; want %d %d %d",
					tc.a, tc.b, tc.json, d.count, d.line, d.col, tc.count, tc.line, tc.col)
			}
		})
	}
}

// TestCompareOptions checks the option plumbing of compareTools (needs
// neither tool).
func TestCompareOptions(t *testing.T) {
	c := newConfig([]string{"-r", "x.scap"}, nil)
	if c.jsonLines || c.timeout <= 0 || c.noCache || c.ignoreExitCode || c.compareStderr {
		t.Errorf("default config = %+v", c)
	}
	if c := newConfig([]string{"-r", "x.scap", "-j"}, nil); !c.jsonLines {
		t.Error("-j does not switch on JSON line comparison")
	}
	c = newConfig(nil, []compareOption{
		asJSONLines(), withTimeout(time.Second), withEnv("A=1", "B=2"), withDir("/tmp"),
		noOracleCache(), ignoreExitCode(), compareStderrToo(),
	})
	want := compareConfig{
		jsonLines: true, timeout: time.Second, env: []string{"A=1", "B=2"}, dir: "/tmp",
		noCache: true, ignoreExitCode: true, compareStderr: true,
	}
	if !reflect.DeepEqual(c, want) {
		t.Errorf("config = %+v, want %+v", c, want)
	}
	t.Run("capturePath", func(t *testing.T) {
		p := capturePath(t, "falco_cat_write.scap") // skips if absent
		if filepath.Base(p) != "falco_cat_write.scap" {
			t.Errorf("capturePath = %s", p)
		}
	})
}
