-- json_decode.lua: JSON decoding of inbound messages (strict; the inverse of json.lua, §7 and
-- §11.5).
--
-- Integers stay integers (floats are numbers with '.', 'e' or 'E'), the {"$type":"bytes"} and
-- {"$type":"float"} placeholders become strings and floats again, object names that are
-- canonical decimal integers become integer keys and "$bytes:..." names become byte-string
-- keys. null becomes nil (an array with nulls has holes). Anything else that is not strict
-- JSON (RFC 8259: no leading zeros, no trailing commas, escapes only as listed, no raw
-- control characters, valid UTF-8, nothing after the value) is an error.
local error, rawget, tonumber, type = error, rawget, tonumber, type
local sub, find, match, byte, char, format = string.sub, string.find, string.match, string.byte,
  string.char, string.format
local concat = table.concat
local huge, tointeger = math.huge, math.tointeger
local utf8_len, utf8_char = utf8.len, utf8.char

local B64 = require("json").B64

local _M = {}

local B64V = {}
for i = 0, 63 do B64V[byte(B64, i + 1)] = i end

local function unbase64(s)
  local n = #s
  if n % 4 ~= 0 then return nil end
  local parts, pn = {}, 0
  for i = 1, n, 4 do
    local a, b, c, d = byte(s, i, i + 3)
    local va, vb = B64V[a], B64V[b]
    if not va or not vb then return nil end
    local vc, vd = B64V[c], B64V[d]
    if i + 3 == n and d == 61 then -- '=' padding, only in the last group
      if c == 61 then
        pn = pn + 1; parts[pn] = char(va << 2 | vb >> 4)
      else
        if not vc then return nil end
        pn = pn + 1; parts[pn] = char(va << 2 | vb >> 4, (vb & 15) << 4 | vc >> 2)
      end
    else
      if not vc or not vd then return nil end
      local v = va << 18 | vb << 12 | vc << 6 | vd
      pn = pn + 1; parts[pn] = char(v >> 16, (v >> 8) & 255, v & 255)
    end
  end
  return concat(parts, "", 1, pn)
end

local JSON_MAX_DEPTH = 200
local ESCAPES = { [34] = '"', [92] = "\\", [47] = "/", [98] = "\b", [102] = "\f", [110] = "\n",
  [114] = "\r", [116] = "\t" }

function _M.decode(s)
  if not utf8_len(s) then error("invalid UTF-8", 0) end
  local pos = 1
  local function fail_at(msg) error(format("%s at byte %d", msg, pos), 0) end
  local function skip_ws()
    pos = find(s, "[^ \t\r\n]", pos) or #s + 1
  end
  local value

  local function str()
    -- pos is at the opening quote
    local parts, pn = {}, 0
    local p = pos + 1
    while true do
      local a = find(s, '["\\%z\1-\31]', p)
      if not a then pos = #s + 1; fail_at("unterminated string") end
      if a > p then pn = pn + 1; parts[pn] = sub(s, p, a - 1) end
      local c = byte(s, a)
      if c == 34 then pos = a + 1; break end
      if c ~= 92 then pos = a; fail_at("control character in string") end
      local e = byte(s, a + 1)
      if e == 117 then -- \uXXXX
        local h = match(s, "^%x%x%x%x", a + 2)
        if not h then pos = a; fail_at("bad \\u escape") end
        local cp = tonumber(h, 16)
        p = a + 6
        if cp >= 0xD800 and cp <= 0xDBFF then
          local l = match(s, "^\\u(%x%x%x%x)", p)
          local lo = l and tonumber(l, 16)
          if not lo or lo < 0xDC00 or lo > 0xDFFF then pos = a; fail_at("lone surrogate") end
          cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00)
          p = p + 6
        elseif cp >= 0xDC00 and cp <= 0xDFFF then
          pos = a; fail_at("lone surrogate")
        end
        pn = pn + 1; parts[pn] = utf8_char(cp)
      else
        local r = e and ESCAPES[e]
        if not r then pos = a; fail_at("bad escape") end
        pn = pn + 1; parts[pn] = r
        p = a + 2
      end
    end
    if pn == 1 then return parts[1] end
    return concat(parts, "", 1, pn)
  end

  local function num()
    local st, p = pos, pos
    if byte(s, p) == 45 then p = p + 1 end
    local _, b = find(s, "^0", p)
    if not b then _, b = find(s, "^[1-9]%d*", p) end
    if not b then fail_at("bad number") end
    p = b + 1
    local isfloat = false
    if byte(s, p) == 46 then
      _, b = find(s, "^%d+", p + 1)
      if not b then pos = p; fail_at("bad number") end
      p, isfloat = b + 1, true
    end
    local e = byte(s, p)
    if e == 101 or e == 69 then
      _, b = find(s, "^[-+]?%d+", p + 1)
      if not b then pos = p; fail_at("bad number") end
      p, isfloat = b + 1, true
    end
    pos = p
    local text = sub(s, st, p - 1)
    if isfloat then return tonumber(text) + 0.0 end
    return tonumber(text) -- an integer, or a float when it does not fit in 64 bits
  end

  local function key_of(name)
    if find(name, "^%-?[1-9]%d*$") or name == "0" then
      local k = tointeger(tonumber(name))
      if k and format("%d", k) == name then return k end
    elseif sub(name, 1, 7) == "$bytes:" then
      local b = unbase64(sub(name, 8))
      if b then return b end
    end
    return name
  end

  value = function(depth)
    skip_ws()
    local c = byte(s, pos)
    if c == 123 then -- {
      if depth >= JSON_MAX_DEPTH then fail_at("nested too deeply") end
      pos = pos + 1
      local t, count = {}, 0
      skip_ws()
      if byte(s, pos) == 125 then pos = pos + 1; return t end
      while true do
        skip_ws()
        if byte(s, pos) ~= 34 then fail_at("object name expected") end
        local name = str()
        skip_ws()
        if byte(s, pos) ~= 58 then fail_at("':' expected") end
        pos = pos + 1
        local v = value(depth + 1)
        t[key_of(name)] = v
        count = count + 1
        skip_ws()
        c = byte(s, pos)
        if c == 125 then pos = pos + 1; break end
        if c ~= 44 then fail_at("',' or '}' expected") end
        pos = pos + 1
      end
      local ty = rawget(t, "$type")
      if ty == "bytes" and count == 2 and type(rawget(t, "base64")) == "string" then
        local b = unbase64(rawget(t, "base64"))
        if b then return b end
      elseif ty == "float" and count == 2 then
        local v = rawget(t, "value")
        if v == "nan" then return 0.0 / 0.0 end
        if v == "inf" then return huge end
        if v == "-inf" then return -huge end
      end
      return t
    elseif c == 91 then -- [
      if depth >= JSON_MAX_DEPTH then fail_at("nested too deeply") end
      pos = pos + 1
      local t, n = {}, 0
      skip_ws()
      if byte(s, pos) == 93 then pos = pos + 1; return t end
      while true do
        n = n + 1
        t[n] = value(depth + 1)
        skip_ws()
        c = byte(s, pos)
        if c == 93 then pos = pos + 1; break end
        if c ~= 44 then fail_at("',' or ']' expected") end
        pos = pos + 1
      end
      return t
    elseif c == 34 then
      return str()
    elseif c == 116 then
      if sub(s, pos, pos + 3) ~= "true" then fail_at("bad literal") end
      pos = pos + 4; return true
    elseif c == 102 then
      if sub(s, pos, pos + 4) ~= "false" then fail_at("bad literal") end
      pos = pos + 5; return false
    elseif c == 110 then
      if sub(s, pos, pos + 3) ~= "null" then fail_at("bad literal") end
      pos = pos + 4; return nil
    elseif c == 45 or (c and c >= 48 and c <= 57) then
      return num()
    end
    fail_at(c and "unexpected character" or "unexpected end")
  end

  local v = value(0)
  skip_ws()
  if pos <= #s then fail_at("trailing characters") end
  return v
end

return _M
