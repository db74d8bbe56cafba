package compat

import (
	"path/filepath"
	"strings"
	"testing"
)

// extEquivalences are filters that sysdig 0.29.3 cannot run (operators and
// transformers added by later libs, and the places where syscope's grammar
// differs on purpose), each with a hand-written sysdig 0.29.3 filter that
// must select exactly the same events. Both run over every capture.
var extEquivalences = []struct {
	syscope, sysdig string
}{
	// Newer operators.
	{`proc.name iglob "CU*"`, `proc.name glob "[cC][uU]*"`},
	{`fd.name iglob "/ETC/*"`, `fd.name glob "/[eE][tT][cC]/*"`},
	{`proc.name regex "^(curl|haproxy)$"`, `proc.name in (curl, haproxy)`},
	{`fd.name regex "^/etc/"`, `fd.name startswith /etc/`},
	{`fd.name regex "\.so\.[0-9]+$"`, `fd.name glob "*.so.[0-9]" or fd.name glob "*.so.[0-9][0-9]"`},
	{`evt.buffer bcontains 474554`, `evt.buffer contains GET`},
	{`evt.buffer bstartswith 48545450`, `evt.buffer startswith HTTP`},
	{`evt.buffer bcontains 0d0a0d0a`, `evt.buffer contains "\x0d\x0a\x0d\x0a"`},
	{`proc.name intersects (curl, bash)`, `proc.name in (curl, bash)`},
	// Operators sysdig 0.29.3 refuses on a byte buffer, mid-capture ("not
	// supported for buffer filters"): syscope compares the bytes.
	{`evt.buffer icontains "http/1.1"`, `evt.buffer contains "HTTP/1.1"`},
	{`evt.buffer glob "GET *"`, `evt.buffer startswith "GET "`},
	{`evt.buffer >= "HTTP/" and evt.buffer < "HTTP0"`, `evt.buffer startswith "HTTP/"`},
	// Values of 256 bytes or more ("filter parameter too long" in sysdig 0.29.3).
	{`proc.name in (curl, ` + strings.Repeat("x", 300) + `)`, `proc.name=curl`},
	{`fd.name!=` + strings.Repeat("/x", 200) + ` and fd.name=/etc/ld.so.cache`, `fd.name=/etc/ld.so.cache`},
	// Transformers.
	{`tolower(proc.name)=curl`, `proc.name=curl`},
	{`toupper(proc.name)=CURL`, `proc.name=curl`},
	{`toupper(fd.name) contains /ETC/`, `fd.name icontains /etc/`},
	{`fd.type=file and basename(fd.name)=ld.so.cache`, `fd.type=file and fd.name endswith /ld.so.cache`},
	{`len(proc.name)=4`, `proc.name glob "????"`},
	{`len(fd.name)>20`, `fd.name glob "?????????????????????*"`},
	{`len(tolower(proc.name))<3`, `proc.name glob "?" or proc.name glob "??"`},
	// Comparing two fields.
	{`proc.pid=val(thread.tid)`, `thread.ismain=true`},
	{`proc.pid!=val(thread.tid)`, `thread.ismain=false`},
	{`evt.num>=val(evt.num)`, `evt.num exists`},
	{`proc.name=val(proc.name)`, `proc.name exists`},
	// Grammar: "==", precedence of and over or, double negation. sysdig 0.29.3
	// reads "==x" as "=" with the value "=x", rejects and/or mixed without
	// brackets, and reads "not not X" as "not X" (it ORs the negation bit).
	{`proc.name==curl`, `proc.name=curl`},
	{`proc.name=curl or proc.name=haproxy and evt.dir=<`, `proc.name=curl or (proc.name=haproxy and evt.dir=<)`},
	{`evt.dir=< and proc.name=curl or evt.type=accept`, `(evt.dir=< and proc.name=curl) or evt.type=accept`},
	{`not not evt.type=read`, `evt.type=read`},
	{`not(evt.type=read)`, `not evt.type=read`},
	// "in" on a field that takes an argument and is not a string. sysdig 0.29.3
	// splits such an "in" into one "=" check per value and copies only the
	// field, not its argument, into each: proc.apid[2] becomes proc.apid[0],
	// evt.rawarg.res loses its name and never matches, evt.type.is.open tests
	// for event type 0. syscope keeps the argument, so "in" means what "="
	// means for each value.
	{`proc.apid in (13924, 13969)`, `proc.apid=13924 or proc.apid=13969`},
	{`proc.apid[1] in (13851, 1)`, `proc.apid[1]=13851 or proc.apid[1]=1`},
	{`evt.rawarg.res in (0, 1)`, `evt.rawarg.res=0 or evt.rawarg.res=1`},
	{`evt.rawarg.fd in (3, 4)`, `evt.rawarg.fd=3 or evt.rawarg.fd=4`},
	{`evt.type.is.open in (1)`, `evt.type.is.open=1`},
	// Networks: IPv6 CIDR (sysdig 0.29.3 cannot parse one) and bare addresses.
	{`fd.net=2001:db8::/32`, `fd.ip=2001:db8::3 or fd.ip=2001:db8::4`},
	{`fd.net=192.168.0.2`, `fd.ip=192.168.0.2`},
	{`fd.snet=2607:f8b0::/32`, `fd.sip=2607:f8b0:4004:802::2004`},
}

// TestFilterExtensions checks the filters sysdig 0.29.3 lacks against their
// hand-written equivalents, run by the real sysdig.
func TestFilterExtensions(t *testing.T) {
	requireSysdig(t)
	requireSyscope(t)
	captures := findCaptures(t)
	for i, eq := range extEquivalences {
		t.Run(subtestName(i, eq.syscope), func(t *testing.T) {
			parallelLimited(t)
			for _, capture := range captures {
				a := runSysdig(t, []string{"-r", capture, eq.sysdig})
				if a.ExitCode != 0 {
					t.Fatalf("sysdig rejects the expectation %q: %s", eq.sysdig, firstLine(a.Stderr))
				}
				b := runSyscope(t, []string{"-r", capture, eq.syscope})
				if b.ExitCode != 0 {
					t.Fatalf("syscope rejects %q: %s", eq.syscope, firstLine(b.Stderr))
				}
				hide := divergentEvents(t, capture)
				if d := diffLinesExcept(dropEvents(a.Stdout, hide), dropEvents(b.Stdout, hide), false, nil); d.count > 0 {
					t.Errorf("%s: syscope %q vs sysdig %q: %s", filepath.Base(capture), eq.syscope, eq.sysdig, describeDiff(d))
				}
			}
		})
	}
}
