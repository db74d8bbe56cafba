package chisel

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"time"

	lua "github.com/yuin/gopher-lua"
	"github.com/yuin/gopher-lua/parse"
)

// Compiled Lua files, shared by all Lua states: -cl loads every chisel of
// the path, and most of them require common.lua, which requires dkjson.lua.
// A file is compiled again when its size or modification time changes.
var (
	protoMu    sync.Mutex
	protoCache = map[string]protoEntry{}
)

type protoEntry struct {
	size  int64
	mtime time.Time
	proto *lua.FunctionProto
}

// compileFile returns the compiled chunk of a Lua file. A syntax error is a
// *parse.Error (with the file and line).
func compileFile(path string) (*lua.FunctionProto, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	protoMu.Lock()
	e, ok := protoCache[path]
	protoMu.Unlock()
	if ok && e.size == fi.Size() && e.mtime.Equal(fi.ModTime()) {
		return e.proto, nil
	}
	src, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	chunk, err := parse.Parse(bytes.NewReader(src), path)
	if err != nil {
		return nil, err
	}
	proto, err := lua.Compile(chunk, path)
	if err != nil {
		return nil, err
	}
	protoMu.Lock()
	protoCache[path] = protoEntry{size: fi.Size(), mtime: fi.ModTime(), proto: proto}
	protoMu.Unlock()
	return proto, nil
}

// syntaxParts splits a parse error into its file, line (0 at the end of the
// file) and message; ok is false for other errors.
func syntaxParts(err error) (file string, line int, msg string, ok bool) {
	var pe *parse.Error
	if !errors.As(err, &pe) {
		return "", 0, "", false
	}
	msg = "syntax error"
	if m := strings.TrimSpace(pe.Message); m != "" && m != "syntax error" {
		msg += ": " + m
	}
	if pe.Pos.Line < 0 {
		return pe.Pos.Source, 0, msg + ": unexpected end of file (an 'end' or a bracket missing?)", true
	}
	if pe.Token != "" {
		msg += " near '" + pe.Token + "'"
	}
	return pe.Pos.Source, pe.Pos.Line, msg, true
}

// syntaxMessage writes a parse error as Lua does: "file:line: message".
func syntaxMessage(err error) string {
	file, line, msg, ok := syntaxParts(err)
	switch {
	case !ok:
		return err.Error()
	case line == 0:
		return file + ": " + msg
	}
	return fmt.Sprintf("%s:%d: %s", file, line, msg)
}

// luaSearcher is the package.loaders entry for Lua files: it finds module
// name on package.path as Lua does, and loads it from the cache.
func luaSearcher(L *lua.LState) int {
	name := strings.ReplaceAll(L.CheckString(1), ".", string(os.PathSeparator))
	path, ok := L.GetField(L.GetGlobal("package"), "path").(lua.LString)
	if !ok {
		L.RaiseError("package.path must be a string")
	}
	var tried []string
	for _, pattern := range strings.Split(string(path), ";") {
		if pattern == "" {
			continue
		}
		f := strings.ReplaceAll(pattern, "?", name)
		if !isFile(f) {
			tried = append(tried, "no file '"+f+"'")
			continue
		}
		proto, err := compileFile(f)
		if err != nil {
			L.Error(lua.LString(syntaxMessage(err)), 0)
		}
		L.Push(L.NewFunctionFromProto(proto))
		return 1
	}
	L.Push(lua.LString("\n\t" + strings.Join(tried, "\n\t")))
	return 1
}
