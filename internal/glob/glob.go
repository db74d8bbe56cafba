// Package glob matches shell patterns as fnmatch(3) with no flags, the way
// sysdig's glob operator and container.mount[pattern] do.
package glob

// Match reports whether s matches pattern: '*' matches any run of bytes
// ('/' included), '?' any one byte, [...] a class (with '!' or '^' negation
// and ranges; an unclosed '[' is an ordinary byte), and '\' quotes the next
// byte. With fold, ASCII case is ignored. It does not allocate.
func Match[S ~string | ~[]byte](pattern string, s S, fold bool) bool {
	p, i := 0, 0
	starP, starI := -1, 0
	for i < len(s) {
		if p < len(pattern) {
			c := pattern[p]
			literal := true
			switch c {
			case '*':
				starP, starI = p, i
				p++
				continue
			case '?':
				p++
				i++
				continue
			case '[':
				ok, next, valid := matchClass(pattern, p, s[i], fold)
				if ok {
					p = next
					i++
					continue
				}
				literal = !valid
			}
			if literal {
				w := 1
				if c == '\\' && p+1 < len(pattern) {
					c, w = pattern[p+1], 2
				}
				if c == s[i] || fold && lower(c) == lower(s[i]) {
					p += w
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

func lower(c byte) byte {
	if c >= 'A' && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
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
