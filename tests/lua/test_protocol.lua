-- The frame codec (protocol.lua, protocol.md §2): 18-byte header, then the payload.
local protocol = require "protocol"

-- Writes frames with f to a temporary file and returns them.
local function written(f)
  local file = assert(io.tmpfile())
  protocol.set_output(file)
  local ok, err = pcall(f)
  protocol.set_output(io.stdout)
  assert(ok, err)
  file:seek("set")
  local s = file:read("a")
  file:close()
  return s
end

-- Splits frames: { op, id, payload } ...
local function frames(s)
  local list, pos = {}, 1
  while pos <= #s do
    local op, id, len = protocol.decode_header(s:sub(pos, pos + 17))
    assert(op, "bad header at " .. pos)
    list[#list + 1] = { op, id, s:sub(pos + 18, pos + 17 + len) }
    pos = pos + 18 + len
  end
  return list
end

return {
  ["headers encode and decode"] = function(t)
    t.eq(protocol.header("E", "0000002a", 5), "E0000002a00000005\n")
    t.eq(protocol.header("K", "ffffffff", 0xffffffff), "Kffffffffffffffff\n")
    local op, id, len = protocol.decode_header("R000000ff0000abcd\n")
    t.eq(op, "R"); t.eq(id, "000000ff"); t.eq(len, 0xabcd)
    op, id, len = protocol.decode_header("E0000ABCD0000FFFF\n")
    t.eq(id, "0000ABCD", "upper-case hex"); t.eq(len, 0xffff)
  end,

  ["malformed headers name the id when it is readable"] = function(t)
    local op, id = protocol.decode_header("E0000002a0000000x\n")
    t.eq(op, nil); t.eq(id, "0000002a")
    op, id = protocol.decode_header("Ezzzzzzzz00000005\n")
    t.eq(op, nil); t.eq(id, "00000000")
    op = protocol.decode_header("E0000002a00000005x")
    t.eq(op, nil, "no newline")
  end,

  ["replies carry their exact lengths"] = function(t)
    local s = written(function()
      protocol.send_k("00000001", "5.4")
      protocol.send_r("00000002", 2, "[1,2]", "out\n", false)
      protocol.send_x("00000003", "runtime", "msg", "tb", "o", true)
      protocol.send_x("00000004", "syntax", "e")
      protocol.send_frame("W", "00000005", "")
      protocol.send_r("00000006", 1, '["é"]', "", true)
    end)
    local f = frames(s)
    t.eq(#f, 6)
    t.eq(f[1][1] .. f[1][2] .. f[1][3], "K000000015.4")
    t.eq(f[2][3], "2 5 4 0\n[1,2]out\n")
    t.eq(f[3][1], "X"); t.eq(f[3][3], "runtime 3 2 1 1\nmsgtbo")
    t.eq(f[4][3], "syntax 1 0 0 0\ne")
    t.eq(f[5][1] .. f[5][2] .. f[5][3], "W00000005")
    t.eq(f[6][3], '1 6 0 1\n["é"]', "lengths in bytes")
  end,
}
