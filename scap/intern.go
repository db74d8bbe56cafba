package scap

// interner hands out one copy of each string and string list the metadata
// blocks repeat: the threads of a process share their environment and
// cgroups, hundreds of processes share a comm, an exe or a cwd, and every
// section of a concatenated capture (or every file of a -C series) repeats
// its tables. One copy per value keeps a section's tables from costing an
// allocation per field, and lets the state engine, which keys its
// container memo by a list's backing array, recognise a list it has seen.
//
// Lists are handed out with their capacity clipped to their length, so an
// append by a holder copies rather than writing into another's list.
type interner struct {
	strs  map[string]string
	lists map[string][]string
	bytes int // bytes held by the keys, for the bound below
}

// internMaxBytes bounds what an interner holds; past it, it starts afresh
// (values already handed out stay valid: they are never modified).
const internMaxBytes = 16 << 20

func (in *interner) room(n int) {
	if in.strs == nil || in.bytes+n > internMaxBytes {
		in.strs = make(map[string]string)
		in.lists = make(map[string][]string)
		in.bytes = 0
	}
	in.bytes += n
}

// str returns b as a string, the same string for the same bytes.
func (in *interner) str(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	if s, ok := in.strs[string(b)]; ok {
		return s
	}
	in.room(len(b))
	s := string(b)
	in.strs[s] = s
	return s
}

// list splits b, a run of NUL-terminated strings, the same list for the
// same bytes; its strings are interned as well.
func (in *interner) list(b []byte) []string {
	if len(b) == 0 {
		return nil
	}
	if l, ok := in.lists[string(b)]; ok {
		return l
	}
	l := splitNul(b, in.str)
	in.room(len(b))
	in.lists[string(b)] = l
	return l
}
