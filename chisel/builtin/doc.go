// Package builtin holds syscope's own standard chisels, written in Go: the
// chisels sysdig 0.29.3 ships (topprocs_cpu, echo_fds, the top-N tables,
// spy_*, lsof...), with the same names, arguments and output, so that
// `syscope -c NAME` needs no Lua file. Importing the package registers them
// with chisel.Register.
//
// # Precedence
//
// The chisel search path (chisel.DefaultPath) is searched before the
// built-ins: a NAME.lua in ./chisels, ~/.chisels, $SYSDIG_CHISEL_DIR,
// $SYSCOPE_CHISEL_DIR or a --chisel-dir directory wins over the built-in of
// the same name, so a user's own chisel, or sysdig's Lua file given with
// --chisel-dir, runs instead. A built-in that sysdig implements on top of
// another chisel (topfiles_bytes on table_generator...) uses the Go
// table_generator directly, whatever the path holds.
//
// # Output
//
// Each chisel prints what sysdig's prints, byte for byte, with one
// difference by design: sysdig keeps its tables in Lua tables and sorts them
// with an unstable sort, so rows with equal values come in no fixed order;
// ours come sorted by value and then by key (bytewise), which is one of
// sysdig's possible orders. Numbers are formatted as LuaJIT formats them
// (tostring's "%.14g", string.format's rounding of ties away from zero), as
// the chisels' values are Lua numbers (doubles).
//
// echo_fds and the other chisels that colour their output write the ANSI
// colour escapes even when the output is not a terminal, as sysdig does;
// setting NO_COLOR (to anything non-empty) turns them off.
//
// The per-event path of a chisel does not allocate once its tables and
// buffers have grown: field values are read with chisel.FieldReader into
// reused buffers, table keys are looked up without conversion, and output
// lines are built in a reused buffer.
package builtin
