// Package lab reproduces the seeds' scenarios on one machine, in network
// namespaces, and checks that a live capture shows what their authors saw.
package lab

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/syscope/syscope/test/livetest"
)

// TestDNSSearchTimeout is seed 000: a name resolved from a pod with the Kubernetes
// search list and ndots:5 goes through every search domain; the upstream ignores
// the .localdomain query, so the client waits for its timeout before trying the
// name itself. A capture with -s8192 shows every expanded query, the gap, and the
// answer.
func TestDNSSearchTimeout(t *testing.T) {
	livetest.NeedLive(t)
	if _, err := exec.LookPath("ip"); err != nil {
		t.Skip("iproute2 (ip) is not installed")
	}
	dir := t.TempDir()
	syscope := livetest.Build(t, dir, "github.com/syscope/syscope/cmd/syscope", "syscope")
	dnsd := livetest.Build(t, dir, "github.com/syscope/syscope/test/lab/dnsd", "dnsd")
	script, _ := filepath.Abs("dns-lab.sh")
	labEnv := append(os.Environ(), "DNSD="+dnsd, "LAB_DIR="+filepath.Join(dir, "lab"), "LAB_DNS_TIMEOUT=1", "LAB_DNS_ATTEMPTS=1")
	lab := func(args ...string) (string, error) {
		cmd := exec.Command(script, args...)
		cmd.Env = labEnv
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	if out, err := lab("up"); err != nil {
		t.Fatalf("dns-lab.sh up: %v\n%s", err, out)
	}
	t.Cleanup(func() { lab("down") })

	file := filepath.Join(dir, "dns.scap")
	var out string
	var rerr error
	livetest.Capture(t, syscope, file, []string{"-s8192"}, func() { out, rerr = lab("resolve", "api.example.org") })
	if rerr != nil {
		t.Fatalf("resolve: %v\n%s", rerr, out)
	}
	if !strings.Contains(out, "10.77.1.80") {
		t.Fatalf("the lab did not resolve api.example.org: %s", out)
	}

	// The client's queries, in order, with their timestamps.
	queries := livetest.Run(t, syscope, "-r", file, "-p", "%evt.rawtime %evt.buffer",
		"proc.name=getent and evt.type in (sendto,sendmsg,write) and evt.dir=< and fd.sport=53")
	// Resolvers may repeat a round (glibc sometimes does, for the A and AAAA
	// families); what matters is the order in which each name is first asked,
	// and the wait between the first .localdomain query and the bare name.
	wantOrder := []string{"api.example.org.ns.svc.cluster.local", "api.example.org.svc.cluster.local",
		"api.example.org.cluster.local", "api.example.org.localdomain", "api.example.org."}
	first := make([]int64, len(wantOrder))
	for _, l := range strings.Split(strings.TrimSpace(queries), "\n") {
		ts, buf, _ := strings.Cut(l, " ")
		n, _ := strconv.ParseInt(ts, 10, 64)
		for i, name := range wantOrder {
			// DNS labels print as ".api.example.org.ns.svc..." (length bytes as dots);
			// the bare name is followed by its terminating zero label.
			if i == len(wantOrder)-1 && !strings.Contains(buf, ".api.example.org.....") {
				continue
			}
			if i < len(wantOrder)-1 && !strings.Contains(buf, name+".") {
				continue
			}
			if first[i] == 0 {
				first[i] = n
			}
			break
		}
	}
	for i, name := range wantOrder {
		if first[i] == 0 {
			t.Fatalf("no query for %s; the client's queries:\n%s", name, queries)
		}
		if i > 0 && first[i] < first[i-1] {
			t.Errorf("%s was asked before %s; the client's queries:\n%s", name, wantOrder[i-1], queries)
		}
	}
	// The .localdomain query is never answered: the bare name comes after the 1 s timeout.
	if gap := time.Duration(first[4] - first[3]); gap < 900*time.Millisecond {
		t.Errorf("gap after the .localdomain query is %v, want the resolver's 1s timeout", gap)
	} else {
		t.Logf("the unanswered .localdomain query costs %v", gap)
	}
	// Every other query is answered at once; the last answer carries the address.
	answers := livetest.Run(t, syscope, "-r", file, "-X", "-p", "%evt.rawres",
		"proc.name=getent and evt.type in (recvfrom,recvmsg,read) and evt.dir=< and fd.sport=53 and evt.rawres>0")
	if n := strings.Count(answers, "\n"); n < 4 {
		t.Errorf("%d answers received, want at least 4 (three NXDOMAIN and the address):\n%s", n, answers)
	}
	// The resolver read /etc/resolv.conf, the lab's.
	conf := livetest.Run(t, syscope, "-r", file, "-A", "-p", "%evt.buffer",
		"proc.name=getent and evt.type=read and evt.dir=< and fd.name=/etc/resolv.conf and evt.rawres>0")
	if !strings.Contains(conf, "search ns.svc.cluster.local svc.cluster.local cluster.local localdomain") {
		t.Errorf("the capture does not show the lab's resolv.conf being read:\n%s", conf)
	}

	if _, err := exec.LookPath("sysdig"); err == nil {
		flt := "proc.name in (getent, dnsd)"
		ours := livetest.Run(t, syscope, "-r", file, "-A", flt)
		theirs := livetest.Run(t, "sysdig", "-r", file, "-A", flt)
		ol, tl := strings.Split(ours, "\n"), strings.Split(theirs, "\n")
		if len(ol) != len(tl) {
			t.Fatalf("sysdig prints %d lines, syscope %d", len(tl), len(ol))
		}
		quirks := 0
		for i := range ol {
			if ol[i] == tl[i] {
				continue
			}
			if livetest.ServerSocketQuirk(ol[i], tl[i]) {
				quirks++
				continue
			}
			t.Errorf("line %d differs:\n  syscope: %s\n  sysdig:  %s", i+1, ol[i], tl[i])
		}
		t.Logf("%d lines identical under sysdig and syscope but %d where sysdig reads a bound UDP socket's address as a tuple", len(ol)-quirks, quirks)
	}
}
