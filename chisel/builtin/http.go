package builtin

import (
	"bytes"
	"fmt"

	"github.com/syscope/syscope/chisel"
	"github.com/syscope/syscope/state"
)

// HTTP chisels: requests and their responses, matched per process and fd
// in the data that processes read and write (sysdig's http.lua helper).

// httpTransaction is a request waiting for its response, then both.
type httpTransaction struct {
	method, url string
	dir         string
	container   chisel.Value
	reqTS       float64
	code        float64
	length      float64
	respTS      float64
}

// httpParser follows the transactions of the events its chisel sees.
type httpParser struct {
	buf, fd, pid, rawtime, datetime, dir, cname *chisel.FieldReader
	partial                                     map[string]*httpTransaction
	key                                         []byte
}

// httpFilter is the events the HTTP chisels look at.
const httpFilter = "evt.is_io = true and evt.buflen > 0 and (fd.sockfamily = ip or fd.sockfamily = unix)"

func (p *httpParser) init(b *base, c *chisel.Control) error {
	if err := c.SetFilter(httpFilter); err != nil {
		return err
	}
	rs, err := b.readers("evt.buffer", "fd.num", "proc.pid", "evt.rawtime", "evt.datetime", "evt.io_dir", "container.name")
	if err != nil {
		return err
	}
	p.buf, p.fd, p.pid, p.rawtime, p.datetime, p.dir, p.cname = rs[0], rs[1], rs[2], rs[3], rs[4], rs[5], rs[6]
	p.partial = make(map[string]*httpTransaction)
	setSnaplen(c, 1024)
	return nil
}

// parse follows e; it returns a transaction when e is the response that completes one.
func (p *httpParser) parse(b *base, c *chisel.Control, e *state.Event) (*httpTransaction, error) {
	cx := ctx(c)
	buf := p.buf.Read(cx, e)
	fd := p.fd.Read(cx, e)
	pid := p.pid.Read(cx, e)
	dir := p.dir.Read(cx, e)
	if !pid.IsNumber() || !fd.IsNumber() {
		return nil, b.fail("on_event: bad argument to 'format' (number expected, got nil)")
	}
	p.key = appendD(p.key[:0], pid.Num)
	p.key = append(p.key, keySep...)
	p.key = appendD(p.key, fd.Num)
	ts := p.rawtime.Read(cx, e)
	if buf.Kind != chisel.ValueString {
		return nil, b.fail("on_event: bad argument #1 to 'match' (string expected, got %s)", luaType(buf))
	}
	tr := p.partial[string(p.key)]
	if tr == nil {
		method, url, ok := parseHTTPRequest(buf.Str)
		if !ok {
			return nil, nil
		}
		tr = &httpTransaction{method: string(method), dir: "<NA>", reqTS: ts.Num}
		if host, ok := findHTTPHost(buf.Str); ok {
			tr.url = string(host) + string(url)
		} else {
			tr.url = string(url)
		}
		if dir.Kind == chisel.ValueString {
			switch string(dir.Str) {
			case "read":
				tr.dir = "<"
			case "write":
				tr.dir = ">"
			}
		}
		cn := p.cname.Read(cx, e)
		cn.Str = bytes.Clone(cn.Str)
		tr.container = cn
		p.partial[string(p.key)] = tr
		return nil, nil
	}
	code, ok := findHTTPCode(buf.Str)
	if !ok {
		return nil, nil
	}
	tr.code, _ = luaToNumber(string(code))
	tr.length = 0
	if l, ok := findContentLength(buf.Str); ok {
		tr.length, _ = luaToNumber(string(l))
	}
	tr.respTS = ts.Num
	delete(p.partial, string(p.key))
	return tr, nil
}

func isUpper(c byte) bool { return c >= 'A' && c <= 'Z' }
func isGraph(c byte) bool { return c >= '!' && c <= '~' }
func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// parseHTTPRequest matches "^(%u+) (%g+)": a method in capitals, a space
// and a URL.
func parseHTTPRequest(b []byte) (method, url []byte, ok bool) {
	i := 0
	for i < len(b) && isUpper(b[i]) {
		i++
	}
	if i == 0 || i >= len(b) || b[i] != ' ' {
		return nil, nil, false
	}
	j := i + 1
	k := j
	for k < len(b) && isGraph(b[k]) {
		k++
	}
	if k == j {
		return nil, nil, false
	}
	return b[:i], b[j:k], true
}

// graphRun returns the length of the run of printable non-blank bytes at the start of b.
func graphRun(b []byte) int {
	n := 0
	for n < len(b) && isGraph(b[n]) {
		n++
	}
	return n
}

// findHTTPHost matches "Host: (%g+)%.%.": the longest run of printable
// non-blank bytes after "Host: " that two dots follow (the buffer shows the
// line ends as dots).
func findHTTPHost(b []byte) ([]byte, bool) {
	const pfx = "Host: "
	for off := 0; ; {
		i := bytes.Index(b[off:], []byte(pfx))
		if i < 0 {
			return nil, false
		}
		start := off + i + len(pfx)
		run := b[start : start+graphRun(b[start:])]
		for k := len(run) - 2; k >= 1; k-- {
			if run[k] == '.' && run[k+1] == '.' {
				return run[:k], true
			}
		}
		off += i + 1
	}
}

// findHTTPCode matches "HTTP/[%g]+ (%d+)": the status code of a response.
func findHTTPCode(b []byte) ([]byte, bool) {
	const pfx = "HTTP/"
	for off := 0; ; {
		i := bytes.Index(b[off:], []byte(pfx))
		if i < 0 {
			return nil, false
		}
		p := off + i + len(pfx)
		if n := graphRun(b[p:]); n > 0 && p+n < len(b) && b[p+n] == ' ' {
			d := p + n + 1
			k := d
			for k < len(b) && isDigit(b[k]) {
				k++
			}
			if k > d {
				return b[d:k], true
			}
		}
		off += i + 1
	}
}

// findContentLength matches "Content%-Length: (%d+)%.%.".
func findContentLength(b []byte) ([]byte, bool) {
	const pfx = "Content-Length: "
	for off := 0; ; {
		i := bytes.Index(b[off:], []byte(pfx))
		if i < 0 {
			return nil, false
		}
		d := off + i + len(pfx)
		k := d
		for k < len(b) && isDigit(b[k]) {
			k++
		}
		if k > d && k+1 < len(b) && b[k] == '.' && b[k+1] == '.' {
			return b[d:k], true
		}
		off += i + 1
	}
}

// httpLog is httplog: one line per HTTP request and its response.
type httpLog struct {
	base
	p    httpParser
	pc   bool
	line []byte
}

func (h *httpLog) Init(c *chisel.Control) error {
	if err := h.p.init(&h.base, c); err != nil {
		return err
	}
	h.pc = c.Host.PrintContainer
	return nil
}

func (h *httpLog) Event(c *chisel.Control, e *state.Event) (bool, error) {
	tr, err := h.p.parse(&h.base, c, e)
	if tr == nil || err != nil {
		return false, err
	}
	b := appendLuaString(h.line[:0], h.p.datetime.Read(ctx(c), e))
	b = append(b, ' ')
	if h.pc {
		var ok bool
		if b, ok = appendConcat(b, tr.container); !ok {
			return false, h.fail("on_event: attempt to concatenate a %s value", luaType(tr.container))
		}
		b = append(b, ' ')
	}
	b = append(b, tr.dir...)
	b = append(b, " method="...)
	b = append(b, tr.method...)
	b = append(b, " url="...)
	b = append(b, tr.url...)
	b = append(b, " response_code="...)
	b = appendD(b, tr.code)
	b = append(b, " latency="...)
	b = appendD(b, (tr.respTS-tr.reqTS)/1000000)
	b = append(b, "ms size="...)
	b = appendD(b, tr.length)
	b = append(b, "B\n"...)
	h.line = b
	return false, write(c, b)
}

// httpTop is httptop: the requests by method and URL, by number of calls,
// bytes of the responses or average time.
type httpTop struct {
	base
	p     httpParser
	by    string
	vz    viz
	pc    bool
	live  bool
	stats map[string]*httpStat
	order []string
	key   []byte
}

type httpStat struct {
	n, bytes, time float64
}

func (h *httpTop) SetArg(name, value string) error {
	if name != "by" {
		return h.fail("on_set_arg(%q, %q) failed (returned nil)", name, value)
	}
	switch value {
	case "time":
		h.vz.valueFld, h.vz.valueDesc, h.vz.units = "time", "time", unitsTime
	case "ncalls":
		h.vz.valueFld, h.vz.valueDesc, h.vz.units = "ncalls", "ncalls", unitsNone
	case "bytes":
		h.vz.valueFld, h.vz.valueDesc, h.vz.units = "bytes", "bytes", unitsBytes
	default:
		fmt.Fprintln(h.out(), "Invalid argument! Valid options: ncalls, bytes, time")
		return h.fail("on_set_arg(%q, %q) failed (returned false)", name, value)
	}
	h.by = value
	return nil
}

func (h *httpTop) Init(c *chisel.Control) error {
	if err := h.p.init(&h.base, c); err != nil {
		return err
	}
	h.pc = c.Host.PrintContainer
	if h.pc {
		h.vz.keyFlds = append([]string{"container"}, h.vz.keyFlds...)
		h.vz.keyDescs = append([]string{"container"}, h.vz.keyDescs...)
	}
	h.stats = make(map[string]*httpStat)
	return nil
}

func (h *httpTop) CaptureStart(c *chisel.Control) error { return startTable(c, &h.live) }

func (h *httpTop) Event(c *chisel.Control, e *state.Event) (bool, error) {
	tr, err := h.p.parse(&h.base, c, e)
	if tr == nil || err != nil {
		return false, err
	}
	k := h.key[:0]
	if h.pc {
		var ok bool
		if k, ok = appendConcat(k, tr.container); !ok {
			return false, h.fail("on_event: attempt to concatenate a %s value", luaType(tr.container))
		}
		k = append(k, keySep...)
	}
	k = append(k, tr.method...)
	k = append(k, keySep...)
	k = append(k, tr.url...)
	h.key = k
	st := h.stats[string(k)]
	if st == nil {
		st = &httpStat{}
		h.stats[string(k)] = st
		h.order = append(h.order, string(k))
	}
	st.n++
	st.bytes += tr.length
	st.time = st.time + tr.respTS - tr.reqTS
	return false, nil
}

// table aggregates the transactions as the chisel's value says.
func (h *httpTop) table() *topTable {
	t := newTopTable()
	for _, k := range h.order {
		st := h.stats[k]
		switch h.by {
		case "bytes":
			t.add([]byte(k), st.bytes)
		case "time":
			t.add([]byte(k), st.time/st.n)
		default:
			t.add([]byte(k), st.n)
		}
	}
	return t
}

func (h *httpTop) Interval(c *chisel.Control, ts uint64, delta int64) error {
	err := intervalTable(c, h.table(), ts, delta, &h.vz)
	clear(h.stats)
	h.order = h.order[:0]
	return err
}

func (h *httpTop) CaptureEnd(c *chisel.Control, ts uint64, delta int64) error {
	return endTable(c, h.table(), ts, delta, &h.vz, h.live)
}

func init() {
	register(chisel.Desc{Name: "httplog", Category: "Application", ShortDesc: "A log of HTTP requests",
		Description: "Prints each HTTP request seen in the data of sockets, once its response comes: the time, the direction (< received, > sent), the method, the URL, the status code, the latency and the size of the response. With -pc or -pcontainer the container is shown too.",
	}, func(d *chisel.Desc) chisel.Program { return &httpLog{base: base{desc: d}} })
	register(chisel.Desc{Name: "httptop", Category: "Application", ShortDesc: "The top HTTP requests",
		Description: "Lists the HTTP requests seen in the data of sockets by method and URL, the most frequent first, or those whose responses were the largest, or took the longest on average.",
		Args:        []chisel.Arg{{Name: "by", Type: "string", Optional: true, Desc: "what to sort by: ncalls (the default), bytes or time"}},
	}, func(d *chisel.Desc) chisel.Program {
		return &httpTop{base: base{desc: d}, by: "ncalls",
			vz: viz{keyFlds: []string{"method", "url"}, keyDescs: []string{"method", "url"},
				valueFld: "ncalls", valueDesc: "ncalls", units: unitsNone, top: 30}}
	})
}
