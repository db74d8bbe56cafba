package state

import (
	"strings"
	"testing"
)

// pathName keeps the names of absolute paths; what it returns must be what
// ConcatPaths returns, whatever the directory and whatever came before.
func TestPathName(t *testing.T) {
	long := "/" + strings.Repeat("d", maxPath-20) + "/"
	cases := []struct{ dir, name string }{
		{"/root/", "/etc/resolv.conf"},
		{"/tmp/", "/etc/resolv.conf\x00"},
		{"/root/", "/etc//./x/../resolv.conf"},
		{"/root/", "etc/resolv.conf"},
		{"/", "../../etc/hosts"},
		{long, "/etc/resolv.conf"},     // too long with the directory
		{"/root/", "/etc/resolv.conf"}, // the same name again, kept
		{long, "/etc/resolv.conf"},
		{"/home/", "/lib/\x01x.so"},
		{"/home/", "/"},
		{"/home/", ""},
	}
	s := New()
	for i := 0; i < 2; i++ {
		for _, c := range cases {
			got := s.pathName(c.dir, []byte(c.name))
			if want := ConcatPaths(c.dir, []byte(c.name)); got != want {
				t.Errorf("pathName(%.20q, %q) = %q, want %q", c.dir, c.name, got, want)
			}
		}
	}
	if len(s.absPaths) == 0 {
		t.Error("no absolute path kept")
	}
}
