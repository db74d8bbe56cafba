package cli

import (
	"strings"
	"testing"
)

// -n is parsed as sysdig 0.29.3 parses it (checked by hand against sysdig -n).
func TestSetCount(t *testing.T) {
	for _, tc := range []struct {
		arg  string
		want int64  // -1: no limit
		err  string // part of the error, if one is expected
	}{
		{"5", 5, ""},
		{" 5", 5, ""},
		{"+2", 2, ""},
		{"-3", -1, ""}, // wraps to a huge count
		{"99999999999999999999", -1, ""},
		{"0", 0, "invalid event count 0"},
		{"-0", 0, "invalid event count -0"},
		{"abc", 0, "can't parse the -n argument"},
		{"5x", 0, "can't parse the -n argument"},
		{"", 0, "can't parse the -n argument"},
	} {
		var got int64
		err := setCount(&got, tc.arg)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("-n %q: error %v, want %q", tc.arg, err, tc.err)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("-n %q = %d, %v; want %d", tc.arg, got, err, tc.want)
		}
	}
}

func TestCRate(t *testing.T) {
	for _, tc := range []struct {
		n, d float64
		want string
	}{{10, 4, "2.50"}, {3, 0, "inf"}, {0, 0, "-nan"}} {
		if got := cRate(tc.n, tc.d); got != tc.want {
			t.Errorf("cRate(%v, %v) = %q, want %q", tc.n, tc.d, got, tc.want)
		}
	}
}
