package cli

import (
	"strconv"
	"strings"
	"time"
)

// strftime formats t as C's strftime(3) does in the C locale (glibc): sysdig
// names the files of -w with -G this way. It knows the conversions of C99 and
// POSIX plus glibc's %k %l %P %s, the flags - _ 0 ^ # and a field width; the
// E and O modifiers are accepted and ignored. An unknown conversion is copied
// as written, as glibc does.
func strftime(format string, t time.Time) string {
	var b strings.Builder
	for i := 0; i < len(format); i++ {
		c := format[i]
		if c != '%' || i+1 >= len(format) {
			b.WriteByte(c)
			continue
		}
		start := i
		i++
		var flag byte
		for i < len(format) && strings.IndexByte("-_0^#", format[i]) >= 0 {
			flag = format[i]
			i++
		}
		width := -1
		for i < len(format) && format[i] >= '0' && format[i] <= '9' {
			if width < 0 {
				width = 0
			}
			width = width*10 + int(format[i]-'0')
			i++
		}
		for i < len(format) && (format[i] == 'E' || format[i] == 'O') {
			i++
		}
		if i >= len(format) {
			b.WriteString(format[start:])
			break
		}
		s, ok := conversion(format[i], t, flag, width)
		if !ok {
			b.WriteString(format[start : i+1])
			continue
		}
		b.WriteString(s)
	}
	return b.String()
}

var (
	shortDays   = [...]string{"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"}
	longDays    = [...]string{"Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"}
	shortMonths = [...]string{"Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"}
	longMonths  = [...]string{"January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"}
)

// num formats a number with strftime's default padding (pad, to digits), which
// the flags and width change.
func num(v, digits int, pad, flag byte, width int) string {
	switch flag {
	case '-':
		return strconv.Itoa(v)
	case '_':
		pad = ' '
	case '0':
		pad = '0'
	}
	if width >= 0 {
		digits = width
	}
	s := strconv.Itoa(v)
	neg := v < 0
	if neg {
		s = s[1:]
	}
	for len(s) < digits-boolInt(neg) {
		s = string(pad) + s
	}
	if neg {
		s = "-" + s
	}
	return s
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// text formats a name, upper-cased with the ^ flag and padded to width.
func text(s string, flag byte, width int) string {
	if flag == '^' || flag == '#' {
		s = strings.ToUpper(s)
	}
	for len(s) < width {
		s = " " + s
	}
	return s
}

func twelve(h int) int {
	if h%12 == 0 {
		return 12
	}
	return h % 12
}

// weekOfYear is %U (first day 0 = Sunday) or %W (first day 1 = Monday).
func weekOfYear(t time.Time, first int) int {
	wday := (int(t.Weekday()) - first + 7) % 7
	return (t.YearDay() - 1 - wday + 7) / 7
}

func conversion(c byte, t time.Time, flag byte, width int) (string, bool) {
	switch c {
	case 'a':
		return text(shortDays[t.Weekday()], flag, width), true
	case 'A':
		return text(longDays[t.Weekday()], flag, width), true
	case 'b', 'h':
		return text(shortMonths[t.Month()-1], flag, width), true
	case 'B':
		return text(longMonths[t.Month()-1], flag, width), true
	case 'c':
		return text(strftime("%a %b %e %H:%M:%S %Y", t), flag, width), true
	case 'C':
		return num(t.Year()/100, 2, '0', flag, width), true
	case 'd':
		return num(t.Day(), 2, '0', flag, width), true
	case 'D', 'x':
		return text(strftime("%m/%d/%y", t), flag, width), true
	case 'e':
		return num(t.Day(), 2, ' ', flag, width), true
	case 'F':
		return text(strftime("%Y-%m-%d", t), flag, width), true
	case 'g':
		y, _ := t.ISOWeek()
		return num(y%100, 2, '0', flag, width), true
	case 'G':
		y, _ := t.ISOWeek()
		return num(y, 1, '0', flag, width), true
	case 'H':
		return num(t.Hour(), 2, '0', flag, width), true
	case 'I':
		return num(twelve(t.Hour()), 2, '0', flag, width), true
	case 'j':
		return num(t.YearDay(), 3, '0', flag, width), true
	case 'k':
		return num(t.Hour(), 2, ' ', flag, width), true
	case 'l':
		return num(twelve(t.Hour()), 2, ' ', flag, width), true
	case 'm':
		return num(int(t.Month()), 2, '0', flag, width), true
	case 'M':
		return num(t.Minute(), 2, '0', flag, width), true
	case 'n':
		return "\n", true
	case 'p':
		if t.Hour() < 12 {
			return text("AM", flag, width), true
		}
		return text("PM", flag, width), true
	case 'P':
		if t.Hour() < 12 {
			return text("am", flag, width), true
		}
		return text("pm", flag, width), true
	case 'r':
		return text(strftime("%I:%M:%S %p", t), flag, width), true
	case 'R':
		return text(strftime("%H:%M", t), flag, width), true
	case 's':
		return num(int(t.Unix()), 1, '0', flag, width), true
	case 'S':
		return num(t.Second(), 2, '0', flag, width), true
	case 't':
		return "\t", true
	case 'T', 'X':
		return text(strftime("%H:%M:%S", t), flag, width), true
	case 'u':
		return num((int(t.Weekday())+6)%7+1, 1, '0', flag, width), true
	case 'U':
		return num(weekOfYear(t, 0), 2, '0', flag, width), true
	case 'V':
		_, w := t.ISOWeek()
		return num(w, 2, '0', flag, width), true
	case 'w':
		return num(int(t.Weekday()), 1, '0', flag, width), true
	case 'W':
		return num(weekOfYear(t, 1), 2, '0', flag, width), true
	case 'y':
		return num(t.Year()%100, 2, '0', flag, width), true
	case 'Y':
		return num(t.Year(), 1, '0', flag, width), true
	case 'z':
		_, off := t.Zone()
		sign := byte('+')
		if off < 0 {
			sign, off = '-', -off
		}
		return string(sign) + num(off/3600*100+off%3600/60, 4, '0', 0, -1), true
	case 'Z':
		name, _ := t.Zone()
		return text(name, flag, width), true
	case '%':
		return "%", true
	}
	return "", false
}
