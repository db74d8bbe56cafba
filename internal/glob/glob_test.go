package glob

import "testing"

func TestGlob(t *testing.T) {
	for _, tc := range []struct {
		pattern, s string
		fold, want bool
	}{
		{"*", "", false, true},
		{"*", "/a/b", false, true},
		{"/usr/*", "/usr/lib/x.so", false, true},
		{"/usr/*/x.so", "/usr/lib/x.so", false, true},
		{"?ead", "read", false, true},
		{"?ead", "ead", false, false},
		{"[cs]*", "sendto", false, true},
		{"[!cs]*", "sendto", false, false},
		{"[^cs]*", "read", false, true},
		{"[a-c]x", "bx", false, true},
		{"[a-c]x", "dx", false, false},
		{"a\\*", "a*", false, true},
		{"a\\*", "ab", false, false},
		{"[]]", "]", false, true},
		{"[unclosed", "[unclosed", false, true},
		{"*.so.[0-9]", "libc.so.6", false, true},
		{"CU*", "curl", true, true},
		{"CU*", "curl", false, false},
		{"[A-C]x", "bx", true, true},
		{"*a*b*c", "xaybzc", false, true},
		{"*a*b*c", "xaybz", false, false},
	} {
		if got := Match(tc.pattern, []byte(tc.s), tc.fold); got != tc.want {
			t.Errorf("glob(%q, %q, fold=%v) = %v, want %v", tc.pattern, tc.s, tc.fold, got, tc.want)
		}
		if got := Match(tc.pattern, tc.s, tc.fold); got != tc.want {
			t.Errorf("glob(%q, %q as a string, fold=%v) = %v, want %v", tc.pattern, tc.s, tc.fold, got, tc.want)
		}
	}
}
