package cli

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/syscope/syscope/state"
)

// The names sysdig 0.29.3 gives the files of -w with rotation, as its
// cycle_writer makes them (observed with sysdig -r on a capture).
func TestNextName(t *testing.T) {
	tests := []struct {
		name string
		o    Options
		want []string
	}{
		{"no rotation", Options{}, []string{"f", "f"}},
		{"-C", Options{FileSize: 1}, []string{"f0", "f1", "f2"}},
		{"-C -W 10: two digits, then round", Options{FileSize: 1, Limit: 10}, []string{"f00", "f01", "f02"}},
		{"-C -W 3", Options{FileSize: 1, Limit: 3}, []string{"f0", "f1", "f2", "f0"}},
		{"-C -W 100", Options{FileSize: 1, Limit: 100}, []string{"f000", "f001"}},
		{"-e", Options{EventLimit: 5}, []string{"f0", "f1", "f2"}},
		{"-e -W 2", Options{EventLimit: 5, Limit: 2}, []string{"f0", "f1", "f0", "f1"}},
		{"-e wins over -C", Options{EventLimit: 5, FileSize: 1, Limit: 10}, []string{"f0", "f1"}},
		{"-G", Options{Seconds: 3}, []string{"f0", "f1", "f2"}},
		{"-G -C: the number twice", Options{Seconds: 3, FileSize: 1}, []string{"f00", "f11", "f22"}},
		{"-W alone", Options{Limit: 4}, []string{"f", "f"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := tt.o
			o.WriteFile = "f"
			d, err := newDumper(&o, state.New())
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for range tt.want {
				got = append(got, d.nextName())
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("names %q, want %q", got, tt.want)
			}
		})
	}
}

// With -G, a strftime pattern in the name is filled with the time of the
// rotation; with -W the oldest file of the ring is removed.
func TestNextNamePattern(t *testing.T) {
	t.Setenv("TZ", "UTC")
	dir := t.TempDir()
	o := Options{WriteFile: filepath.Join(dir, "t%H%M%S.scap"), Seconds: 3, Limit: 2}
	d, err := newDumper(&o, state.New())
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, sec := range []int64{1506127469, 1506127472, 1506127475} {
		d.lastTime = sec
		n := d.nextName()
		names = append(names, filepath.Base(n))
		if err := os.WriteFile(n, nil, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if want := []string{"t004429.scap", "t004432.scap", "t004435.scap"}; !slices.Equal(names, want) {
		t.Errorf("names %q, want %q", names, want)
	}
	left, _ := filepath.Glob(filepath.Join(dir, "*"))
	for i := range left {
		left[i] = filepath.Base(left[i])
	}
	if want := []string{"t004432.scap", "t004435.scap"}; !slices.Equal(left, want) {
		t.Errorf("files left %q, want %q (-W 2 removes the oldest)", left, want)
	}
}

// strftime against glibc's strftime (C locale) for the same times.
func TestStrftime(t *testing.T) {
	t1 := time.Unix(1506127469, 0).UTC() // Saturday 2017-09-23 00:44:29
	t2 := time.Unix(1704067199, 0).UTC() // Sunday 2023-12-31 23:59:59
	tests := []struct {
		at     time.Time
		format string
		want   string
	}{
		{t1, "%Y%m%d-%H%M%S.scap", "20170923-004429.scap"},
		{t1, "%a %A %b %B %h", "Sat Saturday Sep September Sep"},
		{t1, "%c", "Sat Sep 23 00:44:29 2017"},
		{t1, "%C %d %D %e %F", "20 23 09/23/17 23 2017-09-23"},
		{t1, "%g %G %V", "17 2017 38"},
		{t1, "%I %j %k %l %m %M", "12 266  0 12 09 44"},
		{t1, "%p %P %r %R", "AM am 12:44:29 AM 00:44"},
		{t1, "%s %S %T %u %U %w %W", "1506127469 29 00:44:29 6 38 6 38"},
		{t1, "%x %X %y %Z %z %%", "09/23/17 00:44:29 17 UTC +0000 %"},
		{t1, "%-d %_m %05Y %^a", "23  9 02017 SAT"},
		{t1, "trace%q.scap", "trace%q.scap"},
		{t1, "%", "%"},
		{t2, "%Y%m%d-%H%M%S.scap", "20231231-235959.scap"},
		{t2, "%a %A %b %B %h", "Sun Sunday Dec December Dec"},
		{t2, "%g %G %V", "23 2023 52"},
		{t2, "%I %j %k %l %m %M", "11 365 23 11 12 59"},
		{t2, "%p %P %r %R", "PM pm 11:59:59 PM 23:59"},
		{t2, "%s %S %T %u %U %w %W", "1704067199 59 23:59:59 7 53 0 52"},
		{t2, "%-d %_m %05Y %^a", "31 12 02023 SUN"},
	}
	for _, tt := range tests {
		if got := strftime(tt.format, tt.at); got != tt.want {
			t.Errorf("strftime(%q, %v) = %q, want %q", tt.format, tt.at, got, tt.want)
		}
	}
}
