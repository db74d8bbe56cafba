package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestFindPodCgroups(t *testing.T) {
	root := t.TempDir()
	uid := "0f3c9a4e-5b1d-4c2e-9a7f-1e2d3c4b5a69"
	dirs := []string{
		"kubepods/besteffort/pod" + uid + "/" + strings.Repeat("a", 64), // cgroupfs driver
		"kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod" + strings.ReplaceAll(uid, "-", "_") + ".slice/cri-containerd-" + strings.Repeat("b", 64) + ".scope",
		"kubepods/besteffort/pod0f3c9a4e-0000-0000-0000-000000000000",
	}
	for _, d := range dirs {
		if err := os.MkdirAll(filepath.Join(root, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	got, err := findPodCgroups(root, strings.ToUpper(uid))
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		filepath.Join(root, "kubepods/besteffort/pod"+uid),
		filepath.Join(root, "kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod"+strings.ReplaceAll(uid, "-", "_")+".slice"),
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if _, err := findPodCgroups(root, "11111111-2222-3333-4444-555555555555"); err == nil || !strings.Contains(err.Error(), "no cgroup of that pod") {
		t.Errorf("missing pod: %v", err)
	}
	if _, err := findPodCgroups(root, "../etc"); err == nil || !strings.Contains(err.Error(), "expected a pod UID") {
		t.Errorf("bad uid: %v", err)
	}
}

func TestWriteStdoutConflicts(t *testing.T) {
	for _, args := range [][]string{{"-w", "-", "-p", "%evt.type"}, {"-w", "-", "-S"}, {"-w", "-", "-C", "1"}} {
		o, err := Parse(args)
		if err != nil {
			t.Fatal(err)
		}
		if err := prepareCapture(o); err == nil || !strings.Contains(err.Error(), "-w -") {
			t.Errorf("%q: %v", args, err)
		}
	}
}

func TestOptionArg(t *testing.T) {
	for _, tt := range []struct {
		flag  string
		known bool
		arg   int
	}{{"-s", true, 1}, {"--snaplen", true, 1}, {"-A", true, 0}, {"-B", true, 2}, {"--pod-uid", true, 1}, {"--nope", false, 0}, {"-", false, 0}} {
		known, arg := OptionArg(tt.flag)
		if known != tt.known || arg != tt.arg {
			t.Errorf("OptionArg(%q) = %v %d", tt.flag, known, arg)
		}
	}
}

// -w - writes the capture to standard output, which reads back as the same events.
func TestWriteStdout(t *testing.T) {
	in := "../../test/lab/testdata/dns-lab.scap.gz"
	var out, errOut strings.Builder
	if code := Main([]string{"-r", in, "-w", "-", "-z"}, &out, &errOut); code != 0 {
		t.Fatalf("exit %d: %s", code, errOut.String())
	}
	f := filepath.Join(t.TempDir(), "out.scap.gz")
	if err := os.WriteFile(f, []byte(out.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	var a, b strings.Builder
	Main([]string{"-r", in}, &a, &errOut)
	Main([]string{"-r", f}, &b, &errOut)
	if a.String() != b.String() || a.Len() == 0 {
		t.Errorf("the capture written to stdout reads differently (%d vs %d bytes of output)", a.Len(), b.Len())
	}
}

func TestInCgroups(t *testing.T) {
	rels := []string{"/kubepods/besteffort/pod0f3c9a4e-5b1d-4c2e-9a7f-1e2d3c4b5a69"}
	for _, tt := range []struct {
		path string
		in   bool
	}{
		{"/kubepods/besteffort/pod0f3c9a4e-5b1d-4c2e-9a7f-1e2d3c4b5a69", true},
		{"/kubepods/besteffort/pod0f3c9a4e-5b1d-4c2e-9a7f-1e2d3c4b5a69/" + strings.Repeat("a", 64), true},
		{"/kubepods/besteffort/pod0f3c9a4e-5b1d-4c2e-9a7f-1e2d3c4b5a690", false},
		{"/kubepods/besteffort", false},
		{"/../../pod0f3c9a4e-5b1d-4c2e-9a7f-1e2d3c4b5a69/" + strings.Repeat("b", 64), true},
		{"/../../pod11111111-5b1d-4c2e-9a7f-1e2d3c4b5a69/x", false},
		{"", false},
	} {
		if got := inCgroups(tt.path, rels); got != tt.in {
			t.Errorf("inCgroups(%q) = %v", tt.path, got)
		}
	}
	if cgroupV2Path("12:memory:/x\n0::/kubepods/y\n") != "/kubepods/y" {
		t.Error("cgroupV2Path")
	}
}
