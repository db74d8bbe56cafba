package filter

import (
	"strings"

	"github.com/syscope/syscope/internal/textdist"
)

// The grammar, a superset of sysdig 0.29.3's (which rejects "a and b or c"
// without brackets; syscope gives "and" the higher precedence, as current
// libs do):
//
//	expr    = or
//	or      = and { "or" and }
//	and     = not { "and" not }
//	not     = "not" not | primary
//	primary = "(" expr ")" | check
//	check   = operand ( "exists" | cmpop value | listop "(" [ value { "," value } ] ")" )
//	operand = FIELD [ "[" ARG "]" ] | TRANSFORMER "(" operand ")"
//	value   = QUOTED | BARE | "val(" operand ")"
//
// Quoted values use " or '; in values \\, \" and \xHH are escapes.

// Node is a node of a parsed filter.
type Node interface{ pos() int }

// And is a conjunction.
type And struct {
	Kids []Node
	Pos  int
}

// Or is a disjunction.
type Or struct {
	Kids []Node
	Pos  int
}

// Not negates its child.
type Not struct {
	Kid Node
	Pos int
}

// Check compares a field with values: "proc.name in (bash, sh)".
type Check struct {
	Left   Operand
	Op     string // "=", "!=", "contains", "in", "exists", ...
	OpPos  int
	Values []Value
	Pos    int
}

// Operand is a field, possibly wrapped in transformers: tolower(proc.name).
type Operand struct {
	Transformers []string // outermost first
	Field        string   // field name, e.g. "proc.aname"
	Arg          string   // argument, e.g. "2" for proc.aname[2]; "" if none
	HasArg       bool     // written with [ ], even if empty
	Pos          int      // position of the field name
}

// Value is a literal, or another field with val(field).
type Value struct {
	Text  string
	Field *Operand
	Pos   int
}

func (n *And) pos() int   { return n.Pos }
func (n *Or) pos() int    { return n.Pos }
func (n *Not) pos() int   { return n.Pos }
func (n *Check) pos() int { return n.Pos }

// maxDepth bounds the nesting of brackets and "not"s.
const maxDepth = 200

var cmpOps = []string{"==", "=", "!=", "<=", "<", ">=", ">"}

var wordOps = map[string]bool{
	"contains": true, "icontains": true, "bcontains": true,
	"startswith": true, "bstartswith": true, "endswith": true,
	"glob": true, "iglob": true, "regex": true, "pmatch": true,
	"in": true, "intersects": true, "exists": true,
}

var transformers = map[string]bool{
	"tolower": true, "toupper": true, "b64": true, "basename": true, "len": true,
}

type parser struct {
	s     string
	p     int
	depth int
}

// Parse parses a filter expression into its syntax tree.
func Parse(s string) (Node, error) {
	ps := &parser{s: s}
	ps.skip()
	if ps.p == len(s) {
		return nil, ps.errf(0, "the filter is empty")
	}
	n, err := ps.or()
	if err != nil {
		return nil, err
	}
	ps.skip()
	if ps.p < len(s) {
		if s[ps.p] == ')' {
			return nil, ps.errf(ps.p, "unexpected ')' without a matching '('")
		}
		return nil, ps.errf(ps.p, "expected 'and', 'or' or the end of the filter, found %q", ps.word())
	}
	return n, nil
}

func isBlank(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\b' }

func isWordChar(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '.'
}

func (ps *parser) skip() {
	for ps.p < len(ps.s) && isBlank(ps.s[ps.p]) {
		ps.p++
	}
}

// word returns the text at the current position up to the next blank or bracket, for messages.
func (ps *parser) word() string {
	e := ps.p
	for e < len(ps.s) && !isBlank(ps.s[e]) && ps.s[e] != '(' && ps.s[e] != ')' {
		e++
	}
	if e == ps.p && e < len(ps.s) {
		e++
	}
	return ps.s[ps.p:e]
}

// keyword consumes kw if it is next, as a whole word.
func (ps *parser) keyword(kw string) bool {
	ps.skip()
	if !strings.HasPrefix(ps.s[ps.p:], kw) {
		return false
	}
	e := ps.p + len(kw)
	if e < len(ps.s) && isWordChar(ps.s[e]) {
		return false
	}
	ps.p = e
	return true
}

func (ps *parser) or() (Node, error) {
	start := ps.p
	kids, err := ps.list("or", ps.and)
	if err != nil || len(kids) == 1 {
		return first(kids), err
	}
	return &Or{Kids: kids, Pos: start}, nil
}

func (ps *parser) and() (Node, error) {
	start := ps.p
	kids, err := ps.list("and", ps.not)
	if err != nil || len(kids) == 1 {
		return first(kids), err
	}
	return &And{Kids: kids, Pos: start}, nil
}

// list parses sub { kw sub }.
func (ps *parser) list(kw string, sub func() (Node, error)) ([]Node, error) {
	var kids []Node
	for {
		k, err := sub()
		if err != nil {
			return nil, err
		}
		kids = append(kids, k)
		if !ps.keyword(kw) {
			return kids, nil
		}
	}
}

func first(ns []Node) Node {
	if len(ns) == 0 {
		return nil
	}
	return ns[0]
}

func (ps *parser) not() (Node, error) {
	ps.skip()
	start := ps.p
	if ps.keyword("not") {
		if ps.depth++; ps.depth > maxDepth {
			return nil, ps.errf(start, "the filter nests deeper than %d levels", maxDepth)
		}
		k, err := ps.not()
		ps.depth--
		if err != nil {
			return nil, err
		}
		return &Not{Kid: k, Pos: start}, nil
	}
	return ps.primary()
}

func (ps *parser) primary() (Node, error) {
	ps.skip()
	if ps.p == len(ps.s) {
		return nil, ps.errf(ps.p, "unexpected end of filter: expected a condition")
	}
	switch ps.s[ps.p] {
	case '(':
		open := ps.p
		ps.p++
		if ps.depth++; ps.depth > maxDepth {
			return nil, ps.errf(open, "the filter nests deeper than %d levels", maxDepth)
		}
		n, err := ps.or()
		ps.depth--
		if err != nil {
			return nil, err
		}
		ps.skip()
		if ps.p == len(ps.s) || ps.s[ps.p] != ')' {
			if ps.p == len(ps.s) {
				return nil, ps.errf(open, "this '(' is never closed")
			}
			return nil, ps.errf(ps.p, "expected ')' (to close the '(' at position %d), found %q", open, ps.word())
		}
		ps.p++
		return n, nil
	case ')':
		return nil, ps.errf(ps.p, "unexpected ')': expected a condition")
	}
	if kw := ps.p; ps.keyword("and") || ps.keyword("or") {
		return nil, ps.errf(kw, "expected a condition before %q", ps.s[kw:ps.p])
	}
	return ps.check()
}

func (ps *parser) check() (Node, error) {
	ps.skip()
	start := ps.p
	left, err := ps.operand()
	if err != nil {
		return nil, err
	}
	ps.skip()
	c := &Check{Left: left, Pos: start, OpPos: ps.p}
	if ps.p == len(ps.s) {
		return nil, ps.errf(ps.p, "expected an operator after %q (=, !=, <, contains, in, exists, ...)", ps.s[start:ps.p])
	}
	for _, op := range cmpOps {
		if strings.HasPrefix(ps.s[ps.p:], op) {
			c.Op = op
			ps.p += len(op)
			break
		}
	}
	if c.Op == "" {
		e := ps.p
		for e < len(ps.s) && (ps.s[e] >= 'a' && ps.s[e] <= 'z') {
			e++
		}
		w := ps.s[ps.p:e]
		if !wordOps[w] {
			found := ps.word()
			return nil, ps.errf(ps.p, "unknown operator %q%s", found, suggestOp(found))
		}
		c.Op = w
		ps.p = e
	}
	if c.Op == "==" {
		c.Op = "="
	}
	switch c.Op {
	case "exists":
		return c, nil
	case "in", "intersects", "pmatch":
		ps.skip()
		if ps.p == len(ps.s) || ps.s[ps.p] != '(' {
			return nil, ps.errf(ps.p, "expected '(' after %q: a list like (a, b, c)", c.Op)
		}
		open := ps.p
		ps.p++
		ps.skip()
		if ps.p < len(ps.s) && ps.s[ps.p] == ')' {
			ps.p++
			return c, nil
		}
		for {
			v, err := ps.value(true)
			if err != nil {
				return nil, err
			}
			c.Values = append(c.Values, v)
			ps.skip()
			if ps.p == len(ps.s) {
				return nil, ps.errf(open, "this list is never closed with ')'")
			}
			if ps.s[ps.p] == ')' {
				ps.p++
				return c, nil
			}
			if ps.s[ps.p] != ',' {
				return nil, ps.errf(ps.p, "expected ',' or ')' in the list, found %q", ps.word())
			}
			ps.p++
		}
	}
	v, err := ps.value(false)
	if err != nil {
		return nil, err
	}
	c.Values = []Value{v}
	return c, nil
}

// operand parses a field name with its optional [argument], or a transformer call.
func (ps *parser) operand() (Operand, error) {
	ps.skip()
	start := ps.p
	e := ps.p
	for e < len(ps.s) && isWordChar(ps.s[e]) {
		e++
	}
	name := ps.s[ps.p:e]
	if e < len(ps.s) && ps.s[e] == '(' && transformers[name] {
		ps.p = e + 1
		if ps.depth++; ps.depth > maxDepth {
			return Operand{}, ps.errf(start, "the filter nests deeper than %d levels", maxDepth)
		}
		inner, err := ps.operand()
		ps.depth--
		if err != nil {
			return Operand{}, err
		}
		ps.skip()
		if ps.p == len(ps.s) || ps.s[ps.p] != ')' {
			return Operand{}, ps.errf(ps.p, "expected ')' to close %s(", name)
		}
		ps.p++
		inner.Transformers = append([]string{name}, inner.Transformers...)
		return inner, nil
	}
	if name == "" || !strings.Contains(name, ".") || name[0] == '.' || name[len(name)-1] == '.' {
		if name == "" {
			return Operand{}, ps.errf(start, "expected a field name (like proc.name), found %q", ps.word())
		}
		if e < len(ps.s) && ps.s[e] == '(' {
			return Operand{}, ps.errf(start, "unknown function %q (known: tolower, toupper, b64, basename, len)", name)
		}
		return Operand{}, ps.errf(start, "%q is not a field name: fields look like class.name (proc.name, fd.type, ...)", name)
	}
	op := Operand{Field: name, Pos: start}
	ps.p = e
	if ps.p < len(ps.s) && ps.s[ps.p] == '[' {
		end := strings.IndexByte(ps.s[ps.p:], ']')
		if end < 0 {
			return Operand{}, ps.errf(ps.p, "this '[' is never closed with ']'")
		}
		op.Arg = ps.s[ps.p+1 : ps.p+end]
		op.HasArg = true
		ps.p += end + 1
	}
	return op, nil
}

// value parses a literal or val(field). In lists, ',' also ends a bare word.
func (ps *parser) value(inList bool) (Value, error) {
	ps.skip()
	start := ps.p
	if ps.p == len(ps.s) {
		return Value{}, ps.errf(ps.p, "unexpected end of filter: expected a value")
	}
	if strings.HasPrefix(ps.s[ps.p:], "val(") {
		ps.p += 4
		op, err := ps.operand()
		if err != nil {
			return Value{}, err
		}
		ps.skip()
		if ps.p == len(ps.s) || ps.s[ps.p] != ')' {
			return Value{}, ps.errf(ps.p, "expected ')' to close val(")
		}
		ps.p++
		return Value{Field: &op, Pos: start}, nil
	}
	var b strings.Builder
	q := ps.s[ps.p]
	quoted := q == '"' || q == '\''
	if quoted {
		ps.p++
	}
	for {
		if ps.p == len(ps.s) {
			if quoted {
				return Value{}, ps.errf(start, "this quote is never closed")
			}
			break
		}
		c := ps.s[ps.p]
		if quoted && c == q {
			ps.p++
			break
		}
		if !quoted && (isBlank(c) || c == '(' || c == ')' || inList && c == ',') {
			break
		}
		if c == '\\' && ps.p+1 < len(ps.s) {
			switch n := ps.s[ps.p+1]; n {
			case '\\', '"', '\'':
				b.WriteByte(n)
				ps.p += 2
				continue
			case 'x':
				if ps.p+3 < len(ps.s) && isHex(ps.s[ps.p+2]) && isHex(ps.s[ps.p+3]) {
					b.WriteByte(unhex(ps.s[ps.p+2])<<4 | unhex(ps.s[ps.p+3]))
					ps.p += 4
					continue
				}
				return Value{}, ps.errf(ps.p, `bad escape: \x must be followed by two hex digits`)
			}
		}
		b.WriteByte(c)
		ps.p++
	}
	if !quoted && b.Len() == 0 {
		return Value{}, ps.errf(start, "expected a value, found %q", ps.word())
	}
	return Value{Text: b.String(), Pos: start}, nil
}

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

func unhex(c byte) byte {
	switch {
	case c >= 'a':
		return c - 'a' + 10
	case c >= 'A':
		return c - 'A' + 10
	}
	return c - '0'
}

func suggestOp(w string) string {
	best, bd := "", 3
	for op := range wordOps {
		if d := textdist.Levenshtein(w, op); d < bd || d == bd && op < best {
			best, bd = op, d
		}
	}
	if best == "" {
		return " (operators: = != < <= > >= contains icontains startswith endswith glob iglob regex in intersects pmatch exists bcontains bstartswith)"
	}
	return " (did you mean " + best + "?)"
}
