package builtin

import (
	"slices"
	"strconv"
	"strings"

	"github.com/syscope/syscope/chisel"
	"github.com/syscope/syscope/event"
	"github.com/syscope/syscope/state"
)

// Top-N tables: a value summed by a key made of one or more fields, printed
// sorted by value, as sysdig's print_sorted_table (common.lua) prints them.

// keySep joins the fields of a key.
const keySep = "\x01\x01"

// colWidth is the width of the value column and of each key column but the last.
const colWidth = 20

// Value units of a table.
const (
	unitsNone    = "none"
	unitsBytes   = "bytes"
	unitsTime    = "time"
	unitsTimePct = "timepct"
)

// viz describes a top table.
type viz struct {
	keyFlds   []string
	keyDescs  []string
	valueFld  string
	valueDesc string
	units     string
	top       int // 0: all rows
}

// topTable sums values by key. The keys are the fields' values joined by
// keySep, as the Lua chisels build them.
type topTable struct {
	index map[string]int32
	keys  []string
	vals  []float64
}

func newTopTable() *topTable { return &topTable{index: make(map[string]int32)} }

// add adds v to the row of key (copied when it is new).
func (t *topTable) add(key []byte, v float64) {
	if i, ok := t.index[string(key)]; ok {
		t.vals[i] += v
		return
	}
	k := string(key)
	t.index[k] = int32(len(t.keys))
	t.keys = append(t.keys, k)
	t.vals = append(t.vals, v)
}

func (t *topTable) reset() {
	clear(t.index)
	t.keys, t.vals = t.keys[:0], t.vals[:0]
}

// sorted returns the row indexes by decreasing value, equal values by key,
// at most top of them (all when top is 0).
func (t *topTable) sorted(top int) []int {
	idx := make([]int, len(t.keys))
	for i := range idx {
		idx[i] = i
	}
	slices.SortFunc(idx, func(a, b int) int {
		switch {
		case t.vals[a] > t.vals[b]:
			return -1
		case t.vals[a] < t.vals[b]:
			return 1
		}
		return strings.Compare(t.keys[a], t.keys[b])
	})
	if top > 0 && len(idx) > top {
		idx = idx[:top]
	}
	return idx
}

// keyBuilder reads the key fields of an event and joins them, as the Lua
// chisels do: an event missing one of them has no key; each field after the
// first is read twice (once to test it, once to append it).
type keyBuilder struct {
	fields []*chisel.FieldReader
	buf    []byte
}

// build returns the key of e, or false when a field has no value.
func (k *keyBuilder) build(c *chisel.Control, e *state.Event) ([]byte, bool) {
	cx := ctx(c)
	k.buf = k.buf[:0]
	for i, f := range k.fields {
		v := f.Read(cx, e)
		if v.Kind == chisel.ValueNone {
			return nil, false
		}
		if i > 0 {
			k.buf = append(k.buf, keySep...)
			v = f.Read(cx, e)
		}
		k.buf = v.Append(k.buf)
	}
	return k.buf, true
}

// printSorted prints the table as print_sorted_table does: a text table, or
// with -j a JSON document. ts is the time given to the hook.
func printSorted(c *chisel.Control, t *topTable, ts uint64, delta int64, vz *viz) error {
	rows := t.sorted(vz.top)
	var b []byte
	if isJSON(c) {
		b = appendJSONTable(b, t, rows, ts, vz)
	} else {
		b = appendExtendString(b, vz.valueDesc, colWidth)
		for _, d := range vz.keyDescs {
			b = appendExtendString(b, d, colWidth)
		}
		b = append(b, '\n')
		b = append(b, strings.Repeat("-", 80)...)
		b = append(b, '\n')
		for _, i := range rows {
			b = appendValue(b, t.vals[i], delta, vz.units)
			b = appendKeyColumns(b, t.keys[i])
			b = append(b, '\n')
		}
	}
	return write(c, b)
}

// appendValue appends the value column of a row.
func appendValue(b []byte, v float64, delta int64, units string) []byte {
	var tmp [64]byte
	s := tmp[:0]
	switch units {
	case unitsNone:
		s = chisel.AppendNumber(s, v)
	case unitsBytes:
		s = appendBytes(s, v)
	case unitsTime:
		s = appendTimeInterval(s, v)
	case unitsTimePct:
		if delta > 0 {
			s = appendFixed(s, v/float64(delta)*100, 2)
			s = append(s, '%')
		} else {
			s = append(s, "0.00%"...)
		}
	default:
		return b // print_sorted_table prints nothing for other units
	}
	return appendExtend(b, s, colWidth)
}

// appendKeyColumns appends the key's fields: each but the last cut to 20
// bytes and padded to 20 columns, the last as it is.
func appendKeyColumns(b []byte, key string) []byte {
	for {
		i := strings.Index(key, keySep)
		if i < 0 {
			return append(b, key...)
		}
		part := key[:i]
		if len(part) > colWidth {
			part = part[:colWidth]
		}
		b = appendExtendString(b, part, colWidth)
		key = key[i+len(keySep):]
	}
}

// appendJSONTable writes the table as print_sorted_table does with -j
// (dkjson with indentation): the time, the rows (the key's fields as
// strings, then the value) and the columns. As in sysdig, the value's
// column is always the third.
func appendJSONTable(b []byte, t *topTable, rows []int, ts uint64, vz *viz) []byte {
	b = append(b, "{\n  \"ts\":\""...)
	b = strconv.AppendUint(b, (ts/1e9)*1e9, 10)
	b = append(b, "\",\n  \"data\":["...)
	for n, i := range rows {
		if n > 0 {
			b = append(b, ',')
		}
		b = append(b, '[')
		for _, part := range strings.Split(t.keys[i], keySep) {
			b = appendJSONString(b, part)
			b = append(b, ',')
		}
		b = appendJSONNumber(b, t.vals[i])
		b = append(b, ']')
	}
	b = append(b, "],\n  \"info\":["...)
	type col struct {
		name, desc string
		key, set   bool
	}
	cols := make([]col, len(vz.keyFlds))
	for i, n := range vz.keyFlds {
		d := ""
		if i < len(vz.keyDescs) {
			d = vz.keyDescs[i]
		}
		cols[i] = col{name: n, desc: d, key: true, set: true}
	}
	for len(cols) < 3 {
		cols = append(cols, col{})
	}
	cols[2] = col{name: vz.valueFld, desc: vz.valueDesc, set: true}
	for i, cl := range cols {
		if i > 0 {
			b = append(b, ',')
		}
		if !cl.set {
			b = append(b, "null"...)
			continue
		}
		b = append(b, "{\n      \"desc\":"...)
		b = appendJSONString(b, cl.desc)
		b = append(b, ",\n      \"is_key\":"...)
		b = strconv.AppendBool(b, cl.key)
		b = append(b, ",\n      \"name\":"...)
		b = appendJSONString(b, cl.name)
		b = append(b, "\n    }"...)
	}
	return append(b, "]\n}\n"...)
}

// appendJSONNumber writes a number as dkjson does: tostring's form, null
// for NaN and infinities.
func appendJSONNumber(b []byte, v float64) []byte {
	if v != v || v > 1.7976931348623157e308 || -v > 1.7976931348623157e308 {
		return append(b, "null"...)
	}
	return chisel.AppendNumber(b, v)
}

// appendJSONString writes a JSON string as dkjson's quotestring does:
// control characters, '"', '\\' and DEL escaped, and the UTF-8 sequences
// that JavaScript treats as line breaks or invisible written as \u escapes.
func appendJSONString(b []byte, s string) []byte {
	b = append(b, '"')
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch c {
		case '"':
			b = append(b, '\\', '"')
			continue
		case '\\':
			b = append(b, '\\', '\\')
			continue
		case '\b':
			b = append(b, '\\', 'b')
			continue
		case '\f':
			b = append(b, '\\', 'f')
			continue
		case '\n':
			b = append(b, '\\', 'n')
			continue
		case '\r':
			b = append(b, '\\', 'r')
			continue
		case '\t':
			b = append(b, '\\', 't')
			continue
		}
		if c < 0x20 || c == 0x7f {
			b = appendU4(b, rune(c))
			continue
		}
		if n, r := jsUnsafeSeq(s[i:]); n > 0 {
			b = appendU4(b, r)
			i += n - 1
			continue
		}
		b = append(b, c)
	}
	return append(b, '"')
}

func appendU4(b []byte, r rune) []byte {
	const hex = "0123456789abcdef"
	return append(b, '\\', 'u', hex[r>>12&15], hex[r>>8&15], hex[r>>4&15], hex[r&15])
}

// jsUnsafeSeq returns the length and code point of the UTF-8 sequence at
// the start of s when dkjson escapes it (U+0080-U+009F, U+00AD,
// U+0600-U+0604, U+070F, U+17B4-U+17B5, U+200C-U+200F, U+2028-U+202F,
// U+2060-U+206F, U+FEFF, U+FFF0-U+FFFF), else 0.
func jsUnsafeSeq(s string) (int, rune) {
	if len(s) < 2 {
		return 0, 0
	}
	c0, c1 := s[0], s[1]
	switch c0 {
	case 0xc2:
		if c1 >= 0x80 && c1 <= 0x9f || c1 == 0xad {
			return 2, rune(c1)
		}
	case 0xd8:
		if c1 >= 0x80 && c1 <= 0x84 {
			return 2, 0x600 + rune(c1-0x80)
		}
	case 0xdc:
		if c1 == 0x8f {
			return 2, 0x70f
		}
	}
	if len(s) < 3 {
		return 0, 0
	}
	c2 := s[2]
	r := rune(c0&0x0f)<<12 | rune(c1&0x3f)<<6 | rune(c2&0x3f)
	switch {
	case c0 == 0xe1 && c1 == 0x9e && (c2 == 0xb4 || c2 == 0xb5),
		c0 == 0xe2 && c1 == 0x80 && (c2 >= 0x8c && c2 <= 0x8f || c2 >= 0xa8 && c2 <= 0xaf),
		c0 == 0xe2 && c1 == 0x81 && c2 >= 0xa0 && c2 <= 0xaf,
		c0 == 0xef && c1 == 0xbb && c2 == 0xbf,
		c0 == 0xef && c1 == 0xbf && c2 >= 0xb0:
		return 3, r
	}
	return 0, 0
}

// tableGen is table_generator: the sum of a value field by key fields,
// over the events a filter accepts. The top_* chisels are tableGens.
type tableGen struct {
	base
	vz     viz
	pcViz  *viz // the columns with -pc, if they differ
	filter string
	keys   keyBuilder
	value  *chisel.FieldReader
	tab    *topTable
	live   bool
}

func newTableGen(d *chisel.Desc, vz viz, filter string) *tableGen {
	return &tableGen{base: base{desc: d}, vz: vz, filter: filter, tab: newTopTable()}
}

func (g *tableGen) SetArg(name, value string) error {
	switch name {
	case "keys":
		g.vz.keyFlds = splitCommas(value)
	case "keydescs":
		g.vz.keyDescs = splitCommas(value)
	case "value":
		g.vz.valueFld = value
	case "valuedesc":
		g.vz.valueDesc = value
	case "filter":
		g.filter = value
	case "top_number":
		n, err := strconv.ParseFloat(strings.TrimSpace(value), 64)
		if err != nil {
			n = 0 // tonumber gives nil, which pairs_top_by_val cannot compare
		}
		g.vz.top = int(n)
	case "value_units":
		g.vz.units = value
	case "key":
		// fdbytes_by, fdtime_by: the fields, their names as the column titles.
		g.vz.keyFlds, g.vz.keyDescs = splitCommas(value), splitCommas(value)
	default:
		return g.base.SetArg(name, value)
	}
	return nil
}

func (g *tableGen) Init(c *chisel.Control) error {
	if g.pcViz != nil && c.Host.PrintContainer {
		g.vz = *g.pcViz
	}
	if len(g.vz.keyFlds) != len(g.vz.keyDescs) {
		write(c, []byte("error: number of entries in keys different from number entries in keydescs\n"))
		return g.fail("init() for chisel %s failed (on_init returned false)", g.desc.Name)
	}
	var err error
	if g.keys.fields, err = g.readers(g.vz.keyFlds...); err != nil {
		return err
	}
	if g.value, err = g.reader(g.vz.valueFld); err != nil {
		return err
	}
	if g.filter != "" {
		if err := c.SetFilter(g.filter); err != nil {
			return g.fail("invalid filter in chisel %s: %v", g.desc.Name, err)
		}
	}
	return nil
}

func (g *tableGen) CaptureStart(c *chisel.Control) error {
	return startTable(c, &g.live)
}

// startTable is what the table chisels do once the capture is open: live,
// a table every second on a cleared screen.
func startTable(c *chisel.Control, live *bool) error {
	*live = c.Host.Live
	if *live {
		c.SetInterval(1e9)
		if !isJSON(c) {
			return write(c, []byte(escClearScreen+escHideCursor))
		}
	}
	return nil
}

func (g *tableGen) Event(c *chisel.Control, e *state.Event) (bool, error) {
	key, ok := g.keys.build(c, e)
	if !ok {
		return false, nil
	}
	v := g.value.Read(ctx(c), e)
	if v.IsNumber() && v.Num > 0 {
		g.tab.add(key, v.Num)
	}
	return true, nil
}

func (g *tableGen) Interval(c *chisel.Control, ts uint64, delta int64) error {
	return intervalTable(c, g.tab, ts, delta, &g.vz)
}

// intervalTable prints the table of the last interval and empties it.
func intervalTable(c *chisel.Control, t *topTable, ts uint64, delta int64, vz *viz) error {
	if !isJSON(c) {
		if err := write(c, []byte(escClearScreen+escHome)); err != nil {
			return err
		}
	}
	err := printSorted(c, t, ts, delta, vz)
	t.reset()
	return err
}

func (g *tableGen) CaptureEnd(c *chisel.Control, ts uint64, delta int64) error {
	return endTable(c, g.tab, ts, delta, &g.vz, g.live)
}

// endTable prints the table at the end of a capture file; live, it only
// restores the screen.
func endTable(c *chisel.Control, t *topTable, ts uint64, delta int64, vz *viz, live bool) error {
	if live && !isJSON(c) {
		return write(c, []byte(escClearScreen+escHome+escShowCursor))
	}
	return printSorted(c, t, ts, delta, vz)
}

// cpuTop is topprocs_cpu and topcontainers_cpu: the CPU that procinfo
// events report (thread.cpu), summed by key, as a percentage of the time.
type cpuTop struct {
	base
	vz    viz
	pcViz *viz // the columns with -pc, if they differ
	keys  keyBuilder
	cpu   *chisel.FieldReader
	tab   *topTable
	live  bool
}

func (t *cpuTop) Init(c *chisel.Control) error {
	if t.pcViz != nil && c.Host.PrintContainer {
		t.vz = *t.pcViz
	}
	var err error
	if t.keys.fields, err = t.readers(t.vz.keyFlds...); err != nil {
		return err
	}
	// The chisel also asks for the value field, which it never reads.
	if _, err = t.reader(t.vz.valueFld); err != nil {
		return err
	}
	t.cpu, err = t.reader("thread.cpu")
	// sysdig's chisel sets the filter evt.type=procinfo: Event tests the
	// type itself, which is cheaper than running a filter on every event.
	return err
}

func (t *cpuTop) CaptureStart(c *chisel.Control) error { return startTable(c, &t.live) }

func (t *cpuTop) Event(c *chisel.Control, e *state.Event) (bool, error) {
	if e.Type != event.ProcinfoE { // evt.type=procinfo: no other event has that name
		return false, nil
	}
	key, ok := t.keys.build(c, e)
	if !ok {
		return false, nil
	}
	v := t.cpu.Read(ctx(c), e)
	if !v.IsNumber() {
		return false, t.fail("on_event: attempt to perform arithmetic on a %s value", luaType(v))
	}
	t.tab.add(key, float64(v.Num*10000000)) // rounded before it is added, as in Lua
	return true, nil
}

func (t *cpuTop) Interval(c *chisel.Control, ts uint64, delta int64) error {
	return intervalTable(c, t.tab, ts, delta, &t.vz)
}

func (t *cpuTop) CaptureEnd(c *chisel.Control, ts uint64, delta int64) error {
	return endTable(c, t.tab, ts, delta, &t.vz, t.live)
}

// luaType is the Lua type name of a value.
func luaType(v chisel.Value) string {
	switch v.Kind {
	case chisel.ValueNone:
		return "nil"
	case chisel.ValueBool:
		return "boolean"
	case chisel.ValueNumber, chisel.ValueFloat:
		return "number"
	}
	return "string"
}
