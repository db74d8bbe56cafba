package state

import "github.com/syscope/syscope/event"

// paramName is a parameter name with its position in the layout of every
// event type, computed once, so that the parsers of big events (clone,
// execve: twenty parameters) find a parameter by name without a search.
type paramName []int8 // by event type; -1 where the type has no such parameter

func newParamName(name string) paramName {
	p := make(paramName, event.MaxType)
	for t := range p {
		p[t] = -1
		if info := event.Type(t).Info(); info != nil {
			if i := paramIndex(info, name); i >= 0 && i <= 127 {
				p[t] = int8(i)
			}
		}
	}
	return p
}

// in returns the index of the parameter in e's layout, or -1.
func (p paramName) in(e *Event) int {
	if int(e.Type) >= len(p) {
		return -1
	}
	return int(p[e.Type])
}

// get returns the parameter's bytes in e, or nil when e's type has no such
// parameter or e does not carry it.
func (p paramName) get(e *Event) []byte { return e.param(p.in(e)) }

// has reports whether e carries the parameter.
func (p paramName) has(e *Event) bool {
	i := p.in(e)
	return i >= 0 && i < e.NParams
}

var (
	pArgs     = newParamName("args")
	pCgroups  = newParamName("cgroups")
	pComm     = newParamName("comm")
	pEnv      = newParamName("env")
	pExe      = newParamName("exe")
	pFdlimit  = newParamName("fdlimit")
	pFlags    = newParamName("flags")
	pGid      = newParamName("gid")
	pLoginuid = newParamName("loginuid")
	pPgftMaj  = newParamName("pgft_maj")
	pPgftMin  = newParamName("pgft_min")
	pPgid     = newParamName("pgid")
	pPid      = newParamName("pid")
	pPtid     = newParamName("ptid")
	pUID      = newParamName("uid")
	pVMRSS    = newParamName("vm_rss")
	pVMSize   = newParamName("vm_size")
	pVMSwap   = newParamName("vm_swap")
	pVpid     = newParamName("vpid")
	pVtid     = newParamName("vtid")
)

// listCache splits NUL-separated lists (a new thread's arguments, its
// cgroups) and hands a list out again when the same bytes come back: the
// threads of one process, and the processes of one container, repeat them.
// The lists are shared, never modified. It holds at most listCacheMax
// lists, and starts again empty when full.
type listCache struct {
	m map[string][]string
}

const listCacheMax = 4096

func (c *listCache) split(b []byte) []string {
	if l, ok := c.m[string(b)]; ok {
		return l
	}
	l := splitArgs(b)
	if l == nil {
		return nil
	}
	if c.m == nil || len(c.m) >= listCacheMax {
		c.m = make(map[string][]string)
	}
	c.m[string(b)] = l
	return l
}
