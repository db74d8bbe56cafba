package procfs

import (
	"os"
	"strconv"
	"strings"
)

// ThreadAlive reports whether the proc file system at proc (normally
// "/proc") still has thread tid of process pid under the command name comm:
// the test libscap makes before a live capture drops a long-unseen thread
// from its table. Without a comm file, an exe link is taken as alive (old
// kernels), as libscap does.
func ThreadAlive(proc string, pid, tid int64, comm string) bool {
	dir := proc + "/" + strconv.FormatInt(pid, 10) + "/task/" + strconv.FormatInt(tid, 10)
	b, err := os.ReadFile(dir + "/comm")
	if err == nil {
		return strings.HasPrefix(string(b), comm)
	}
	_, err = os.Lstat(dir + "/exe")
	return err == nil
}
