package procfs

import (
	"os"
	"strings"
	"testing"
)

func TestThreadAlive(t *testing.T) {
	if _, err := os.Stat("/proc/self/comm"); err != nil {
		t.Skip("no /proc here")
	}
	b, err := os.ReadFile("/proc/self/comm")
	if err != nil {
		t.Fatal(err)
	}
	comm := strings.TrimSpace(string(b))
	pid := int64(os.Getpid())
	tests := []struct {
		name     string
		pid, tid int64
		comm     string
		want     bool
	}{
		{"this process", pid, pid, comm, true},
		{"another name", pid, pid, comm + "-not", false},
		{"no such thread", pid, 1 << 30, comm, false},
		{"no such process", 1 << 30, 1 << 30, comm, false},
	}
	for _, tt := range tests {
		if got := ThreadAlive("/proc", tt.pid, tt.tid, tt.comm); got != tt.want {
			t.Errorf("%s: ThreadAlive(%d, %d, %q) = %v, want %v", tt.name, tt.pid, tt.tid, tt.comm, got, tt.want)
		}
	}
}
