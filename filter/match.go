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

func lower(c byte) byte {
	if c >= 'A' && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

// globMatch matches s against pattern as fnmatch(3) with no flags: '*' matches
// any run of bytes (including '/'), '?' any one byte, [...] a class (with '!'
// or '^' negation and ranges), and '\' quotes the next byte. With fold, ASCII
// case is ignored.
func globMatch(pattern string, s []byte, fold bool) bool {
	p, i := 0, 0
	starP, starI := -1, 0
	eq := func(a, b byte) bool {
		if fold {
			return lower(a) == lower(b)
		}
		return a == b
	}
	for i < len(s) {
		if p < len(pattern) {
			switch c := pattern[p]; c {
			case '*':
				starP, starI = p, i
				p++
				continue
			case '?':
				p++
				i++
				continue
			case '[':
				if ok, next, valid := matchClass(pattern, p, s[i], fold); valid {
					if ok {
						p = next
						i++
						continue
					}
				} else if eq(c, s[i]) {
					p++
					i++
					continue
				}
			case '\\':
				if p+1 < len(pattern) {
					if eq(pattern[p+1], s[i]) {
						p += 2
						i++
						continue
					}
				} else if eq(c, s[i]) {
					p++
					i++
					continue
				}
			default:
				if eq(c, s[i]) {
					p++
					i++
					continue
				}
			}
		}
		if starP < 0 {
			return false
		}
		starI++
		p, i = starP+1, starI
	}
	for p < len(pattern) && pattern[p] == '*' {
		p++
	}
	return p == len(pattern)
}

// matchClass matches c against the bracket expression at pattern[p] ('[').
// valid is false when the bracket is not closed (then '[' is a literal).
func matchClass(pattern string, p int, c byte, fold bool) (ok bool, next int, valid bool) {
	q := p + 1
	neg := false
	if q < len(pattern) && (pattern[q] == '!' || pattern[q] == '^') {
		neg = true
		q++
	}
	if fold {
		c = lower(c)
	}
	first := true
	for q < len(pattern) {
		lo := pattern[q]
		if lo == ']' && !first {
			return ok != neg, q + 1, true
		}
		first = false
		if lo == '\\' && q+1 < len(pattern) {
			q++
			lo = pattern[q]
		}
		hi := lo
		if q+2 < len(pattern) && pattern[q+1] == '-' && pattern[q+2] != ']' {
			hi = pattern[q+2]
			if hi == '\\' && q+3 < len(pattern) {
				q++
				hi = pattern[q+2]
			}
			q += 2
		}
		if fold {
			lo, hi = lower(lo), lower(hi)
		}
		if lo <= c && c <= hi {
			ok = true
		}
		q++
	}
	return false, 0, false
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
