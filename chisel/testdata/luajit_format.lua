-- string.format, tostring and print as LuaJIT 2.1 does them. The expected
-- output, luajit_format.out, is what LuaJIT 2.1 (Debian libluajit-5.1-2
-- 2.1.0~beta3) prints for this script.
args = {}
local vals = {0, 1, -1, 0.5, 1/3, 2/3, 1e14, 1e14-1, 1e15, 123456789012345, 2^53, 2^63, 2^64, -2^63, 1e-5, 1.5e-7, 1e100, 0.1+0.2, 100, 1024.5, 3.14159265358979, 1e21, 12345678.9, 1/0, -1/0, 0/0, 7.0000000000001, 99999999999999.5}
local fmts = {"%d", "%5d", "%-5d|", "%05d", "%+d", "% d", "%.3d", "%5.3d", "%x", "%X", "%#x", "%o", "%#o", "%u", "%e", "%.2e", "%E", "%f", "%.2f", "%5.1f", "%-8.2f|", "%08.2f", "%+.1f", "%g", "%.3g", "%.14g", "%G", "%#g", "%10.4g", "%s", "%10s", "%-10s|", "%.3s", "%i", "%5.2s"}
for _, f in ipairs(fmts) do
  local line = {}
  for _, v in ipairs(vals) do
    local ok, r = pcall(string.format, f, v)
    if not ok then r = "ERR" end
    line[#line+1] = r
  end
  print(f .. " => " .. table.concat(line, " | "))
end
local t = {}
for _, v in ipairs(vals) do t[#t+1] = tostring(v) end
print("tostring => " .. table.concat(t, " | "))
print(string.format("%q", "a\"b\\c\nd\re\0f\0001\1g\127h\200"))
print(string.format("%s %s %s", nil, true, 12))
print(string.format("%5s|%-5s|", "ab", "cd"), string.format("%%"), string.format("%3c|", 65))
print(string.format("%d %s", "10", 5.5))
print(-(0/0), math.huge, -math.huge)

local ok = pcall(string.format, "%d", "x")
print("non-number %d fails:", not ok)
print(string.format("[%5.1f%%] [%-3s] [%03x] [%.0f] [%.0e] [%#.0f]", 99.44, "a", 255, 2.5, 12345, 3))
io.write("io.write ", 1.5, " ", 10, " ", 1/3, "\n")
print(1e300*1e10, -(1e300*1e10), 2^31, -2^31, 4294967296)
print(#tostring(12), tostring(nil), tostring(false))
print(string.format("%.0f %.0f %.0f %.0f %.2f %.2f %.1f %.2f %.1f %.0e %.1e %.3g %.2g", 0.5, 1.5, 2.5, 3.5, 0.125, 0.375, 1.25, 1.005, 0.25, 2.5, 1.25, 2.5, 0.125))
print(string.format("%.2f %.2f %.3f %.1f", 2.675, 1.115, 1.0005, 0.05))
print(2.5, 0.125, 1e15+0.5)
