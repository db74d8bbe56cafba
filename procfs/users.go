//go:build linux && (amd64 || arm64)

package procfs

import (
	"bytes"
	"os"
	"path/filepath"
	"strconv"

	"github.com/syscope/syscope/scap"
)

// readUsers reads dir/passwd and dir/group in file order, as getpwent and
// getgrent list them through the "files" source. A missing or unreadable file
// gives no entries; lines that do not parse are skipped.
func readUsers(dir string) ([]scap.User, []scap.Group) {
	var users []scap.User
	if b, err := os.ReadFile(filepath.Join(dir, "passwd")); err == nil {
		eachEntry(b, func(f [][]byte) {
			// name:passwd:uid:gid:gecos:home:shell
			if len(f) < 7 {
				return
			}
			uid, err1 := strconv.ParseUint(string(f[2]), 10, 32)
			gid, err2 := strconv.ParseUint(string(f[3]), 10, 32)
			if err1 != nil || err2 != nil {
				return
			}
			users = append(users, scap.User{
				UID: uint32(uid), GID: uint32(gid),
				Name: clip(string(f[0]), maxCred-1), HomeDir: clip(string(f[5]), maxPath-1),
				Shell: clip(string(f[6]), maxPath-1),
			})
		})
	}
	var groups []scap.Group
	if b, err := os.ReadFile(filepath.Join(dir, "group")); err == nil {
		eachEntry(b, func(f [][]byte) {
			// name:passwd:gid:members
			if len(f) < 3 {
				return
			}
			gid, err := strconv.ParseUint(string(f[2]), 10, 32)
			if err != nil {
				return
			}
			groups = append(groups, scap.Group{GID: uint32(gid), Name: clip(string(f[0]), maxCred-1)})
		})
	}
	return users, groups
}

// eachEntry calls fn with the colon-separated fields of each line of a
// passwd-style file, skipping blank and comment lines as glibc's files
// source does.
func eachEntry(b []byte, fn func([][]byte)) {
	var fields [][]byte
	for len(b) > 0 {
		line := b
		if i := bytes.IndexByte(b, '\n'); i >= 0 {
			line, b = b[:i], b[i+1:]
		} else {
			b = nil
		}
		line = bytes.TrimLeft(line, " \t\r\v\f")
		if len(line) == 0 || line[0] == '#' {
			continue
		}
		fields = fields[:0]
		for {
			i := bytes.IndexByte(line, ':')
			if i < 0 {
				fields = append(fields, line)
				break
			}
			fields = append(fields, line[:i])
			line = line[i+1:]
		}
		fn(fields)
	}
}

// clip cuts s to at most n bytes, as libscap's fixed-size buffers do.
func clip(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}

// Sizes of libscap's fixed buffers, which bound what it stores.
const (
	maxPath = 1024 // SCAP_MAX_PATH_SIZE
	maxCred = 256  // MAX_CREDENTIALS_STR_LEN
	maxArgs = 4096 // SCAP_MAX_ARGS_SIZE
	maxEnv  = 4096 // SCAP_MAX_ENV_SIZE
)
