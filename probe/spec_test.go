package probe

import (
	"testing"

	"github.com/syscope/syscope/event"
)

// TestSpecs compiles every syscall's spec against the event table: one token per
// parameter, at most four fetches, and every syscall the driver maps has a spec.
func TestSpecs(t *testing.T) {
	defer func() {
		if r := recover(); r != nil {
			t.Fatal(r)
		}
	}()
	sys := loadSyscalls()
	n := 0
	for nr, e := range sys {
		if e.enter == nil {
			continue
		}
		n++
		for _, s := range []*evSpec{e.enter, e.exit} {
			if len(s.fetch) > maxItems {
				t.Errorf("%s (%d): %d fetches", e.name, nr, len(s.fetch))
			}
			if s.nitems > maxRecItems {
				t.Errorf("%s (%d): %d items", e.name, nr, s.nitems)
			}
			if got, want := len(s.ops), len(s.typ.Info().Params); got != want {
				t.Errorf("%s: %d ops for %d params", e.name, got, want)
			}
		}
	}
	if n < 121 {
		t.Errorf("only %d syscalls have their own events, want the driver's 121 on x86_64", n)
	}
	if sys[0].name != "read" || sys[0].enter.typ != event.SyscallReadE {
		t.Errorf("syscall 0 is %q", sys[0].name)
	}
	for name := range specs {
		found := false
		for _, e := range sys {
			if e.name == name {
				found = true
			}
		}
		if !found {
			t.Errorf("spec for %s, which is not in the syscall table", name)
		}
	}
}
