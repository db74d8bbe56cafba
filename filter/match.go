package filter

import "bytes"

// containsFold reports whether b contains lowerSub, ignoring ASCII case
// (lowerSub must already be lower case), like strcasestr.
func containsFold(b, lowerSub []byte) bool {
	n := len(lowerSub)
	if n == 0 {
		return true
	}
	for i := 0; i+n <= len(b); i++ {
		j := 0
		for ; j < n; j++ {
			c := b[i+j]
			if c >= 'A' && c <= 'Z' {
				c += 'a' - 'A'
			}
			if c != lowerSub[j] {
				break
			}
		}
		if j == n {
			return true
		}
	}
	return false
}

// pathComponents splits a path into its non-empty components.
func pathComponents(p string) []string {
	var out []string
	for _, c := range bytes.Split([]byte(p), []byte("/")) {
		if len(c) > 0 {
			out = append(out, string(c))
		}
	}
	return out
}

// pathHasPrefix reports whether path b starts with the components prefix
// (pmatch: "/etc" matches "/etc/passwd" and "/etc", not "/etcd").
func pathHasPrefix(b []byte, prefix []string) bool {
	k := 0
	for len(b) > 0 && k < len(prefix) {
		if b[0] == '/' {
			b = b[1:]
			continue
		}
		end := bytes.IndexByte(b, '/')
		if end < 0 {
			end = len(b)
		}
		if string(b[:end]) != prefix[k] {
			return false
		}
		k++
		b = b[end:]
	}
	return k == len(prefix)
}
