package builtin

import (
	"bytes"
	"os"
	"strings"
	"testing"

	"github.com/syscope/syscope/chisel"
)

// TestLuaJITValues compares the formatting helpers with what sysdig's Lua
// helpers print under LuaJIT for the same numbers (testdata/luajit_values.lua
// says how the expected output was made).
func TestLuaJITValues(t *testing.T) {
	want, err := os.ReadFile("testdata/luajit_values.out")
	if err != nil {
		t.Fatal(err)
	}
	for i, line := range strings.Split(strings.TrimSuffix(string(want), "\n"), "\n") {
		cols := strings.Split(line, "\t")
		v, ok := luaToNumber(cols[0])
		if !ok {
			t.Fatalf("line %d: %q is not a number", i+1, cols[0])
		}
		got := []string{
			cols[0],
			string(chisel.AppendNumber(nil, v)),
			string(appendBytes(nil, v)),
			string(appendTimeInterval(nil, v)),
			string(appendFixed(nil, v, 2)),
			string(append(appendFixed(nil, v/3*100, 2), '%')),
			string(appendD(nil, v)),
			string(appendU(nil, v, 0)),
			string(appendDW(nil, v, 12)),
			string(appendExtend(nil, chisel.AppendNumber(nil, v), 20)) + "|",
		}
		if g := strings.Join(got, "\t"); g != line {
			t.Errorf("line %d:\n got  %q\n want %q", i+1, g, line)
		}
	}
}

func TestIsTie(t *testing.T) {
	tests := []struct {
		v    float64
		prec int
		want bool
	}{
		{0.5, 0, true}, {1.5, 0, true}, {0.125, 2, true}, {0.375, 2, true}, {1.125, 2, true},
		{2.675, 2, false}, {1.005, 2, false}, {0.1, 1, false}, {0.25, 1, true}, {3, 2, false},
		{1e20, 2, false}, {0, 2, false},
	}
	for _, tc := range tests {
		if got := isTie(tc.v, tc.prec); got != tc.want {
			t.Errorf("isTie(%v, %d) = %v, want %v", tc.v, tc.prec, got, tc.want)
		}
	}
}

func TestHTTPParsers(t *testing.T) {
	m, u, ok := parseHTTPRequest([]byte("GET /index.html HTTP/1.1..Host: example.com..User-Agent: curl/7.1....Accept: */*...."))
	if !ok || string(m) != "GET" || string(u) != "/index.html" {
		t.Errorf("request: %q %q %v", m, u, ok)
	}
	for _, bad := range []string{"get / HTTP/1.1", "GET  /", "GET", " GET /", "GET\t/"} {
		if _, _, ok := parseHTTPRequest([]byte(bad)); ok {
			t.Errorf("%q parsed as a request", bad)
		}
	}
	hostTests := []struct{ in, want string }{
		{"Host: example.com..User-Agent: x", "example.com"},
		{"Host: a..b..c d", "a..b"},
		{"Host: nodots Host: x.y..", "x.y"},
		{"Host: ..", ""},
		{"Host: a.", ""},
	}
	for _, tc := range hostTests {
		h, ok := findHTTPHost([]byte(tc.in))
		if (tc.want != "") != ok || string(h) != tc.want {
			t.Errorf("host of %q = %q %v, want %q", tc.in, h, ok, tc.want)
		}
	}
	codeTests := []struct{ in, want string }{
		{"HTTP/1.1 200 OK..", "200"},
		{"xx HTTP/1.0 404 Not", "404"},
		{"HTTP/ 200", ""},
		{"HTTP/1.1 OK HTTP/2 502", "502"},
	}
	for _, tc := range codeTests {
		c, ok := findHTTPCode([]byte(tc.in))
		if (tc.want != "") != ok || string(c) != tc.want {
			t.Errorf("code of %q = %q %v, want %q", tc.in, c, ok, tc.want)
		}
	}
	lenTests := []struct{ in, want string }{
		{"Content-Length: 1234..Server", "1234"},
		{"Content-Length: 12x.. Content-Length: 7..", "7"},
		{"Content-Length: 12", ""},
	}
	for _, tc := range lenTests {
		l, ok := findContentLength([]byte(tc.in))
		if (tc.want != "") != ok || string(l) != tc.want {
			t.Errorf("length of %q = %q %v, want %q", tc.in, l, ok, tc.want)
		}
	}
}

func TestJSONString(t *testing.T) {
	tests := []struct{ in, want string }{
		{"plain", `"plain"`},
		{"a\"b\\c", `"a\"b\\c"`},
		{"\n\r\t\b\f", `"\n\r\t\b\f"`},
		{"\x01\x7f", `"\u0001\u007f"`},
		{"\u2028x\u00ad\ufeff", `"\u2028x\u00ad\ufeff"`},
		{"é", `"é"`},
	}
	for _, tc := range tests {
		if got := string(appendJSONString(nil, tc.in)); got != tc.want {
			t.Errorf("appendJSONString(%q) = %s, want %s", tc.in, got, tc.want)
		}
	}
}

func TestKeyColumns(t *testing.T) {
	got := string(appendKeyColumns(nil, "a-very-long-process-name-indeed"+keySep+"12"+keySep+"last one is not cut at all"))
	want := "a-very-long-process " + "12                  " + "last one is not cut at all"
	if got != want {
		t.Errorf("got %q\nwant %q", got, want)
	}
}

// TestRegistered checks that the built-ins are registered, described, and
// that the hidden table_generator is not listed.
func TestRegistered(t *testing.T) {
	names := map[string]bool{}
	for _, d := range chisel.Builtins() {
		names[d.Name] = true
		if d.Description == "" || d.ShortDesc == "" || d.Category == "" {
			t.Errorf("%s: incomplete description %+v", d.Name, d)
		}
	}
	for _, n := range []string{"topprocs_cpu", "echo_fds", "table_generator", "spy_users", "lsof", "httptop"} {
		if !names[n] {
			t.Errorf("%s is not registered", n)
		}
	}
	var buf bytes.Buffer
	chisel.PrintList(&buf, (&chisel.Path{}).List(), true)
	if strings.Contains(buf.String(), "table_generator") {
		t.Error("-cl lists the hidden table_generator")
	}
	if !strings.Contains(buf.String(), "topprocs_cpu") {
		t.Error("-cl does not list topprocs_cpu")
	}
}

func TestShellshockPattern(t *testing.T) {
	tests := []struct {
		in        string
		at, fnpos int
	}{
		{"X=() { :;}; echo vulnerable", 2, 2},
		{"X=(){ a", 2, 2},
		{"X=() {", -1, 2},
		{"X=() y () { :;}", 7, 2},
		{"PATH=/bin", -1, -1},
		{"X=()", -1, -1},
	}
	for _, tc := range tests {
		if got := shellshockAt(tc.in); got != tc.at {
			t.Errorf("shellshockAt(%q) = %d, want %d", tc.in, got, tc.at)
		}
		if got := functionAt(tc.in); got != tc.fnpos {
			t.Errorf("functionAt(%q) = %d, want %d", tc.in, got, tc.fnpos)
		}
	}
}
