package filter

import (
	"errors"
	"strings"
	"testing"
)

func TestParseAccepts(t *testing.T) {
	for _, s := range []string{
		"proc.name=curl",
		"proc.name = curl",
		"proc.name==curl",
		"evt.type in (open, openat)",
		"evt.type in ('open',\"openat\" , creat)",
		"evt.type in ()",
		"not proc.name=curl",
		"not(proc.name=curl)",
		"not not proc.name=curl",
		"(proc.name=curl and evt.dir=<) or fd.type=ipv4",
		"proc.name=curl or fd.type=ipv4 and evt.dir=<",
		"proc.aname[2]=bash",
		"evt.arg[0] exists",
		"evt.arg.fd=3",
		"k8s.pod.label.app=web",
		"container.mount.dest[/tmp*] exists",
		"fd.name exists and evt.dir=>",
		"(fd.name exists)",
		"tolower(proc.name)=curl",
		"len(basename(fd.name))>3",
		"fd.sport=val(fd.lport)",
		`evt.buffer contains "\x0d\x0a"`,
		`proc.name="a b"`,
		`proc.name='it\'s'`,
		"fd.net=10.0.0.0/8",
		"fd.net=fd00::/8",
		"fd.port=http",
		"proc.name=andrew and proc.name=oracle",
		"proc.name=notify",
		"\tproc.name=curl\n",
	} {
		if _, err := Compile(s); err != nil {
			t.Errorf("Compile(%q): %v", s, err)
		}
	}
}

func TestParseRejects(t *testing.T) {
	for _, tc := range []struct {
		filter string
		pos    int
		msg    string
	}{
		{"", 0, "empty"},
		{"   ", 0, "empty"},
		{"proc.nmae=curl", 0, `did you mean "proc.name"`},
		{"proc.name bogus curl", 10, "unknown operator"},
		{"proc.name contain curl", 10, "did you mean contains"},
		{"(proc.name=curl", 0, "never closed"},
		{"proc.name=curl)", 14, "without a matching"},
		{"proc.name=curl and", 18, "expected a condition"},
		{"and proc.name=curl", 0, "expected a condition"},
		{"proc.name", 9, "expected an operator"},
		{"proc.name in curl", 13, "expected '('"},
		{"proc.name in (curl, bash", 13, "never closed"},
		{"evt.type=opne", 9, "unknown event type"},
		{"fd.num>three", 7, "not a number"},
		{"evt.failed=yes", 11, "boolean"},
		{"fd.ip=300.1.2.3", 6, "not an IP address"},
		{"fd.net=10.0.0.0/40", 7, "not an IP network"},
		{"evt.num contains 3", 8, "cannot be used with"},
		{`proc.name="curl`, 10, "quote is never closed"},
		{`evt.buffer contains "\xZZ"`, 21, `\x`},
		{"nosuchclass.field=1", 0, "unknown field"},
		{"proc.name=curl not proc.name=bash", 15, "expected 'and', 'or'"},
		{"proc.name regex \"(\"", 16, "regular expression"},
		{"evt.buffer bcontains xyz", 21, "hexadecimal"},
		{"evt.outputtime exists", 0, "output formats"},
		{"frobnicate(proc.name)=1", 0, "unknown function"},
		{"name=curl", 0, "not a field name"},
		{"proc.name=val(proc.pid", 22, "close val("},
		{strings.Repeat("(", 300) + "proc.name=x" + strings.Repeat(")", 300), 200, "deeper"},
		{strings.Repeat("not ", 300) + "proc.name=x", 800, "deeper"},
	} {
		_, err := Compile(tc.filter)
		var fe *Error
		if !errors.As(err, &fe) {
			t.Errorf("Compile(%q) = %v, want a *filter.Error", tc.filter, err)
			continue
		}
		if fe.Pos != tc.pos || !strings.Contains(fe.Msg, tc.msg) {
			t.Errorf("Compile(%q): position %d %q; want position %d and %q", tc.filter, fe.Pos, fe.Msg, tc.pos, tc.msg)
		}
		caret := fe.Caret()
		if !strings.HasSuffix(caret, "^") || strings.Count(caret, "\n") != 1 {
			t.Errorf("Compile(%q): caret display %q", tc.filter, caret)
		}
	}
}

func TestCaretPointsAtPosition(t *testing.T) {
	_, err := Compile("proc.name=curl and fd.nmae=x")
	var fe *Error
	if !errors.As(err, &fe) {
		t.Fatal(err)
	}
	lines := strings.Split(fe.Caret(), "\n")
	if got := strings.Index(lines[1], "^"); got != strings.Index(lines[0], "fd.nmae") {
		t.Errorf("caret at column %d, field at %d:\n%s", got, strings.Index(lines[0], "fd.nmae"), fe.Caret())
	}
}

func TestPathPrefix(t *testing.T) {
	for _, tc := range []struct {
		prefix, path string
		want         bool
	}{
		{"/etc", "/etc", true},
		{"/etc", "/etc/passwd", true},
		{"/etc", "/etcd/x", false},
		{"/etc/", "//etc//passwd", true},
		{"/usr/lib", "/usr", false},
		{"/usr/lib", "/usr/lib64", false},
		{"/", "/anything", true},
	} {
		if got := pathHasPrefix([]byte(tc.path), pathComponents(tc.prefix)); got != tc.want {
			t.Errorf("pmatch(%q, %q) = %v, want %v", tc.prefix, tc.path, got, tc.want)
		}
	}
}

func TestTransformers(t *testing.T) {
	var sc scratch
	for _, tc := range []struct {
		tr       []string
		in, want string
		ok       bool
	}{
		{[]string{"tolower"}, "CuRL", "curl", true},
		{[]string{"toupper"}, "CuRL", "CURL", true},
		{[]string{"basename"}, "/usr/bin/curl", "curl", true},
		{[]string{"basename"}, "curl", "curl", true},
		{[]string{"len"}, "hello", "5", true},
		{[]string{"b64"}, "aGVsbG8=", "hello", true},
		{[]string{"b64"}, "!!", "", false},
		{[]string{"basename", "toupper", "len"}, "/a/bcd", "3", true},
		{[]string{"b64", "toupper"}, "aGVsbG8=", "HELLO", true},
	} {
		got, ok := applyTransformers(tc.tr, []byte(tc.in), &sc)
		if ok != tc.ok || ok && string(got) != tc.want {
			t.Errorf("%v(%q) = %q, %v; want %q, %v", tc.tr, tc.in, got, ok, tc.want, tc.ok)
		}
	}
}

func TestNumbers(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want int64
		ok   bool
	}{
		{"0", 0, true}, {"-2", -2, true}, {"42", 42, true}, {"0x1f", 31, true},
		{"", 0, false}, {"1a", 0, false}, {"-", 0, false}, {"3(<f>/etc)", 0, false},
	} {
		got, ok := parseIntText([]byte(tc.in))
		if ok != tc.ok || got != tc.want {
			t.Errorf("parseIntText(%q) = %d, %v; want %d, %v", tc.in, got, ok, tc.want, tc.ok)
		}
	}
	if n, err := parseUintValue("-1"); err != nil || n != 1<<64-1 {
		t.Errorf("parseUintValue(-1) = %d, %v", n, err)
	}
	if n, err := parseIntValue("010"); err != nil || n != 10 {
		t.Errorf("parseIntValue(010) = %d, %v: filter numbers are decimal", n, err)
	}
}

// FuzzCompile: no input makes the compiler panic, and every rejection is a
// *Error whose position lies inside the text.
func FuzzCompile(f *testing.F) {
	for _, s := range []string{
		"proc.name=curl", "evt.type in (open, close) and not fd.type=file",
		"(fd.net=10.0.0.0/8 or fd.port=http) and evt.buffer contains \"\\x41\"",
		"tolower(proc.name) glob 'c*'", "proc.aname[2]=bash", "fd.sport=val(fd.lport)",
		"evt.rawarg.res<0", "k8s.pod.label.app exists", "not not ((x", "a.b in (", "\"", "\\x",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		_, err := Compile(s)
		if err == nil {
			return
		}
		var fe *Error
		if !errors.As(err, &fe) {
			t.Fatalf("Compile(%q) returned %T %v, not a *Error", s, err, err)
		}
		if fe.Pos < 0 || fe.Pos > len(s) {
			t.Fatalf("Compile(%q): position %d outside the text", s, fe.Pos)
		}
		_ = fe.Caret()
	})
}
