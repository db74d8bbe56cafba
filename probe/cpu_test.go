package probe

import (
	"slices"
	"testing"
)

func TestParseCPUList(t *testing.T) {
	for _, c := range []struct {
		in   string
		want []int
	}{
		{"0", []int{0}},
		{"0-3", []int{0, 1, 2, 3}},
		{"0-1,4,6-7", []int{0, 1, 4, 6, 7}},
		{"2", []int{2}},
	} {
		got, err := parseCPUList(c.in)
		if err != nil || !slices.Equal(got, c.want) {
			t.Errorf("parseCPUList(%q) = %v, %v; want %v", c.in, got, err, c.want)
		}
	}
	for _, bad := range []string{"", "a", "3-1", "0-", "-1", "0,,1", "0-99999999"} {
		if got, err := parseCPUList(bad); err == nil {
			t.Errorf("parseCPUList(%q) = %v, want an error", bad, got)
		}
	}
}

// The machine's own lists parse, and its online CPUs are among the possible ones.
func TestCaptureCPUs(t *testing.T) {
	possible, online, err := captureCPUs()
	if err != nil {
		t.Fatal(err)
	}
	if possible < 1 || len(online) < 1 || len(online) > possible {
		t.Fatalf("possible %d, online %v", possible, online)
	}
}
