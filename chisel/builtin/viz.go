package builtin

import (
	"math"
	"strconv"

	"github.com/syscope/syscope/chisel"
	"github.com/syscope/syscope/state"
)

// Terminal visualizations: a line of coloured cells per interval. They need
// an ANSI terminal, and refuse to run otherwise, as sysdig's do.

// heatPalette are the 256-colour codes of the cells, coldest first, and
// heatChars the characters that blend two of them.
var (
	heatPalette = []int{22, 28, 64, 34, 2, 76, 46, 118, 154, 191, 227, 226, 11, 220, 209, 208, 202, 197, 9, 1}
	heatChars   = []string{" ", "░", "▒", "░"}
)

// heatCell returns the foreground and background colours and the character
// of a cell that counted n events in an interval.
func heatCell(n, perSec float64) (fg, bg int, ch string) {
	col := math.Log10(n*perSec+1) / math.Log10(1.6)
	if col < 1 {
		col = 1
	} else if col > float64(len(heatPalette)) {
		col = float64(len(heatPalette))
	}
	low, high := math.Floor(col), math.Ceil(col)
	delta := col - low
	ch = heatChars[int(math.Floor(1+delta*float64(len(heatChars))))-1]
	if delta > .75 {
		return heatPalette[int(high)-1], heatPalette[int(low)-1], ch
	}
	return heatPalette[int(low)-1], heatPalette[int(high)-1], ch
}

func appendFg(b []byte, c int) []byte {
	return append(strconv.AppendInt(append(b, "\x1b[38;5;"...), int64(c), 10), 'm')
}

func appendBg(b []byte, c int) []byte {
	return append(strconv.AppendInt(append(b, "\x1b[48;5;"...), int64(c), 10), 'm')
}

const notTerminal = "This chisel only works on ANSI terminals. Aborting.\n"

// heatmap is spectrogram (kind "latency": how long system calls took, on a
// logarithmic axis) and subsecoffset (kind "offset": where in the second
// system calls started).
type heatmap struct {
	base
	kind    string
	refresh float64 // ns
	perSec  float64
	w       int
	maxLbl  int
	field   *chisel.FieldReader
	freq    map[float64]float64
	tty     bool
	line    []byte
}

func (h *heatmap) SetArg(name, value string) error {
	if name != "refresh_time" {
		return h.fail("on_set_arg(%q, %q) failed (returned false)", name, value)
	}
	v, err := numericArg(h.out(), value, name)
	if err != nil {
		return err
	}
	h.refresh = v * 1000000
	h.perSec = 1000000000 / h.refresh
	return nil
}

func (h *heatmap) Init(c *chisel.Control) error {
	h.tty = c.Host.IsTTY
	if !h.tty {
		write(c, []byte(notTerminal))
		return h.fail("init() for chisel %s failed (on_init returned false)", h.desc.Name)
	}
	h.w = c.Host.TermWidth
	h.freq = make(map[float64]float64)
	var err error
	if h.kind == "latency" {
		if err := c.SetFilter("evt.dir=<"); err != nil {
			return err
		}
		h.field, err = h.reader("evt.latency")
		if err != nil {
			return err
		}
		return write(c, []byte(escHideCursor))
	}
	lbl := chisel.AppendNumber([]byte("|"), 0.9*h.refresh/10000000)
	h.maxLbl = len(lbl) + len("ms")
	if err := c.SetFilter("evt.dir=>"); err != nil {
		return err
	}
	if h.field, err = h.reader("evt.rawtime"); err != nil {
		return err
	}
	return write(c, []byte(escHideCursor+"Tracing syscalls... red (hot) == high frequency <-> green == low frequency.\n\n"))
}

func (h *heatmap) CaptureStart(c *chisel.Control) error {
	c.SetInterval(uint64(h.refresh))
	return nil
}

func (h *heatmap) Event(c *chisel.Control, e *state.Event) (bool, error) {
	v := h.field.Read(ctx(c), e)
	if h.kind == "latency" {
		if v.IsNumber() && v.Num == 0 {
			return true, nil
		}
		if !v.IsNumber() {
			return false, h.fail("on_event: bad argument #1 to 'log10' (number expected, got %s)", luaType(v))
		}
		l := math.Log10(v.Num)
		if l > 11 {
			l = 11
		}
		h.freq[math.Floor(float64(l*float64(h.w))/11)+1]++
		return true, nil
	}
	if !v.IsNumber() {
		return false, h.fail("on_event: attempt to perform arithmetic on a %s value", luaType(v))
	}
	x := float64(v.Num*1000) / h.refresh
	h.freq[math.Floor(float64(luaMod(x, 1000)/1000)*float64(h.w))]++
	return true, nil
}

func (h *heatmap) Interval(c *chisel.Control, ts uint64, delta int64) error {
	b := append(h.line[:0], "\x1b[1F"...)
	for x := 1; x <= h.w; x++ {
		fr := h.freq[float64(x)]
		if fr == 0 {
			if h.kind == "latency" {
				b = appendFg(b, 0)
			} else {
				b = appendBg(b, 0) // sysdig's subsecoffset sets the background twice
			}
			b = appendBg(b, 0)
			b = append(b, ' ')
			continue
		}
		fg, bg, ch := heatCell(fr, h.perSec)
		b = appendFg(b, fg)
		b = appendBg(b, bg)
		b = append(b, ch...)
	}
	b = append(b, "\x1b[0m\n"...)
	w := float64(h.w)
	for x := 0.0; x < w; {
		steps := 11.0
		if h.kind == "offset" {
			steps = 10
		}
		cur, prev := math.Floor(x*steps/w), math.Floor((x-1)*steps/w)
		switch {
		case cur == prev:
			b = append(b, ' ')
			x++
		case h.kind == "latency":
			start := len(b)
			b = append(b, '|')
			b = appendTimeInterval(b, math.Pow(10, cur))
			x += float64(len(b) - start)
		case x <= w-float64(h.maxLbl):
			start := len(b)
			b = append(b, '|')
			b = chisel.AppendNumber(b, float64(math.Floor(10*x/w)*h.refresh)/10000000)
			b = append(b, "ms"...)
			x += float64(len(b) - start)
		default:
			b = append(b, ' ')
			x++
		}
	}
	b = append(b, '\n')
	h.line = b
	clear(h.freq)
	return write(c, b)
}

func (h *heatmap) CaptureEnd(c *chisel.Control, ts uint64, delta int64) error {
	if !h.tty {
		return nil
	}
	if h.kind == "latency" {
		if err := h.Interval(c, ts, 0); err != nil {
			return err
		}
	}
	return write(c, []byte("\x1b[0m\n"+escShowCursor))
}

func init() {
	register(chisel.Desc{Name: "spectrogram", Category: "CPU Usage", ShortDesc: "System call latencies, live, as a heat map",
		Description: "Draws on an ANSI terminal, every half second by default, a line of cells: from left to right the latencies of the system calls that returned, on a logarithmic scale from 1ns to 100s, coloured by how many calls took that long (black none, green tens a second, yellow hundreds, red thousands). Combine it with a filter to look at a process or a kind of I/O.",
		Args:        []chisel.Arg{{Name: "refresh_time", Type: "int", Optional: true, Desc: "milliseconds between two lines"}},
	}, func(d *chisel.Desc) chisel.Program {
		return &heatmap{base: base{desc: d}, kind: "latency", refresh: 500000000, perSec: 2}
	})
	register(chisel.Desc{Name: "subsecoffset", Category: "CPU Usage", ShortDesc: "Where in each second system calls run, live, as a heat map",
		Description: "Draws on an ANSI terminal, every second by default, a line of cells: from left to right the offset within the second (or the given period) at which system calls started, coloured by how many did (black none, green tens a second, yellow hundreds, red thousands). Patterns that repeat within a second show up as columns.",
		Args:        []chisel.Arg{{Name: "refresh_time", Type: "int", Optional: true, Desc: "the period, in milliseconds, of a line"}},
	}, func(d *chisel.Desc) chisel.Program {
		return &heatmap{base: base{desc: d}, kind: "offset", refresh: 1000000000, perSec: 1}
	})
}
