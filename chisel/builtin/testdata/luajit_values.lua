-- Prints, for a list of numbers, what sysdig's common.lua helpers and
-- LuaJIT's formatting make of them: the expected output of
-- TestLuaJITValues (luajit_values.out), generated with
--   sysdig -r ANY.scap -c ./luajit_values.lua > luajit_values.out
description = "formats"; short_description = "formats"; category = "Test"; args = {}
require "common"
local vals = {0, 1, 5, 9.5, 10, 99, 999, 1000, 1001, 1023, 1024, 1025, 1152, 1536, 2047.5, 4096, 5000,
  9999, 10000, 10005, 123456, 999999, 1000000, 1005000, 1234567, 9999999, 10000000, 10500000,
  123456789, 999999999, 1000000000, 1005000000, 1234567890, 59999999999, 1099511627776,
  1125899906842624, 1152921504606846976, 0.5, 0.125, 0.375, 1.005, 2.675, 0.001, 0.0001234,
  123.456, 1e15, 1e16, 1234567890123456, 12345678901234567, 2^53, 2^63, 2^64, 3.14159265358979,
  1/3, 100/3, 0.1, 12.5, 1.25, 1.125, 2.5, 3.5, 0.045, 1.115, 7.995, 4.9999999999999}
function on_init()
  for _, v in ipairs(vals) do
    print(string.format("%.17g", v), tostring(v), format_bytes(v), format_time_interval(v),
      string.format("%.2f", v), string.format("%.2f%%", v / 3 * 100),
      string.format("%d", v), string.format("%u", v), string.format("%12d", v),
      extend_string(tostring(v), 20) .. "|")
  end
  return true
end
function on_event() sysdig.end_capture() return true end
