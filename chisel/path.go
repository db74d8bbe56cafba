package chisel

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// Path is the chisel search path: directories searched in order for
// NAME.lua and then NAME, then the built-in chisels. Lua chisels also
// require their helper modules (common.lua...) from these directories.
type Path struct {
	Dirs []string
}

// DefaultPath returns syscope's search path: ./chisels, ~/.chisels, the
// directories listed in $SYSDIG_CHISEL_DIR (separated by ';', as sysdig
// reads it) and in $SYSCOPE_CHISEL_DIR (';' or ':'), then extra (the
// --chisel-dir options), then the built-ins.
func DefaultPath(extra []string) *Path {
	p := &Path{Dirs: []string{"./chisels"}}
	if home := os.Getenv("HOME"); home != "" {
		p.Dirs = append(p.Dirs, filepath.Join(home, ".chisels"))
	}
	for _, d := range strings.Split(os.Getenv("SYSDIG_CHISEL_DIR"), ";") {
		if d = strings.TrimSpace(d); d != "" {
			p.Dirs = append(p.Dirs, d)
		}
	}
	for _, d := range strings.FieldsFunc(os.Getenv("SYSCOPE_CHISEL_DIR"), func(r rune) bool { return r == ';' || r == ':' }) {
		if d = strings.TrimSpace(d); d != "" {
			p.Dirs = append(p.Dirs, d)
		}
	}
	p.Dirs = append(p.Dirs, extra...)
	return p
}

// String describes the path for messages.
func (p *Path) String() string {
	return strings.Join(append(append([]string(nil), p.Dirs...), "built-ins"), ", ")
}

// findFile returns the Lua file of chisel name: name itself when it is a path
// (it holds a '/'), else NAME.lua in the first directory that has one, then
// NAME. "" when there is none.
func (p *Path) findFile(name string) string {
	if strings.ContainsRune(name, '/') {
		for _, f := range []string{name, name + ".lua"} {
			if isFile(f) {
				return f
			}
		}
		return ""
	}
	for _, suffix := range []string{".lua", ""} {
		for _, d := range p.Dirs {
			if f := filepath.Join(d, name+suffix); isFile(f) {
				return f
			}
		}
	}
	return ""
}

func isFile(f string) bool {
	fi, err := os.Stat(f)
	return err == nil && fi.Mode().IsRegular()
}

// load finds and loads chisel name for ctl.
func (p *Path) load(ctl *Control, name string) (Program, error) {
	name = strings.TrimSpace(name)
	if f := p.findFile(name); f != "" {
		return loadLua(ctl, f, false)
	}
	if b := lookupBuiltin(name); b != nil {
		if prog := b.New(); prog != nil {
			if a, ok := prog.(interface{ Attach(*Control) }); ok {
				a.Attach(ctl)
			}
			return prog, nil
		}
		return nil, &Error{Chisel: name, Msg: "the built-in chisel could not be created"}
	}
	return nil, &Error{Chisel: name, Msg: fmt.Sprintf("not found (searched %s) - use -cl to list them", p)}
}

// List returns the chisels of the path that -cl lists: the Lua files of its
// directories that load and describe themselves (a name found twice counts
// once, the first), and the built-ins they do not hide. Views (csysdig
// view_info files), hidden chisels and files that fail to load are left out.
func (p *Path) List() []Desc {
	var out []Desc
	for _, d := range p.all() {
		if !d.View {
			out = append(out, d)
		}
	}
	return out
}

// all is List with the views.
func (p *Path) all() []Desc {
	seen := map[string]bool{}
	var out []Desc
	host := &Host{Out: io.Discard, Err: io.Discard, Path: p, TermWidth: -1, TermHeight: -1}
	for _, d := range p.Dirs {
		ents, err := os.ReadDir(d)
		if err != nil {
			continue
		}
		for _, e := range ents {
			n := e.Name()
			if !strings.HasSuffix(n, ".lua") || n == ".lua" {
				continue
			}
			name := strings.TrimSuffix(n, ".lua")
			if seen[name] {
				continue
			}
			f := filepath.Join(d, n)
			if !isFile(f) {
				continue
			}
			ctl := &Control{Host: host, name: name}
			prog, err := loadLua(ctl, f, true)
			if err != nil {
				continue // as sysdig: not a chisel, or hidden
			}
			seen[name] = true
			d := *prog.Desc()
			d.View = prog.view
			out = append(out, d)
			prog.Close()
		}
	}
	for _, b := range Builtins() {
		if !seen[b.Name] && !b.Hidden {
			seen[b.Name] = true
			out = append(out, b)
		}
	}
	return out
}

// Info returns the description of chisel (or view) name as -i shows it.
func (p *Path) Info(name string) (Desc, bool) {
	for _, d := range p.all() {
		if d.Name == name {
			return d, true
		}
	}
	return Desc{}, false
}

// The layout of -cl and -i, as sysdig prints them.
const (
	descColumn = 16 // where descriptions start
	lineLen    = 79
)

// PrintList writes the chisel list as sysdig -cl does: by category, then by
// name, descriptions wrapped at 79 columns. With footer, it ends with the
// hint about -i.
func PrintList(w io.Writer, descs []Desc, footer bool) {
	ds := append([]Desc(nil), descs...)
	sort.SliceStable(ds, func(i, j int) bool {
		if ds[i].Category != ds[j].Category {
			return ds[i].Category < ds[j].Category
		}
		return ds[i].Name < ds[j].Name
	})
	last := ""
	for _, d := range ds {
		if d.View {
			continue
		}
		if d.Category != last {
			title := "Category: " + d.Category
			fmt.Fprintf(w, "\n%s\n%s\n", title, strings.Repeat("-", len(title)))
			last = d.Category
		}
		io.WriteString(w, d.Name)
		n := len(d.Name)
		if n >= descColumn {
			io.WriteString(w, "\n")
			n = 0
		}
		io.WriteString(w, strings.Repeat(" ", descColumn-n))
		for l := 0; l < len(d.ShortDesc); l++ {
			if l%(lineLen-descColumn) == 0 && l != 0 {
				fmt.Fprintf(w, "\n%*s", descColumn, "")
			}
			w.Write([]byte{d.ShortDesc[l]})
		}
		io.WriteString(w, "\n")
	}
	if footer {
		io.WriteString(w, "\nUse the -i flag to get detailed information about a specific chisel\n")
	}
}

// PrintInfo writes the description of a chisel and its arguments as sysdig -i does.
func PrintInfo(w io.Writer, d Desc) {
	PrintList(w, []Desc{d}, false)
	var b strings.Builder
	b.WriteString("\n")
	for l := 0; l < len(d.Description); l++ {
		if l%lineLen == 0 && l != 0 {
			b.WriteString("\n")
		}
		b.WriteByte(d.Description[l])
	}
	b.WriteString("\n")
	var a strings.Builder
	a.WriteString("Args:\n")
	if len(d.Args) == 0 {
		a.WriteString("(None)")
	}
	for _, arg := range d.Args {
		fmt.Fprintf(&a, "[%s] %s - %s\n", arg.Type, arg.Name, arg.Desc)
	}
	as := a.String()
	pos := 0
	for l := 0; l < len(as); l, pos = l+1, pos+1 {
		if as[l] == '\n' {
			pos = -1
		} else if pos%(lineLen-descColumn) == 0 && pos != 0 {
			fmt.Fprintf(&b, "\n%*s", descColumn, "")
		}
		b.WriteByte(as[l])
	}
	b.WriteString("\n")
	io.WriteString(w, b.String())
}
