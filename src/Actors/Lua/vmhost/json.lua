-- json.lua: JSON encoding of results and message values (protocol.md §7). Host code: it runs
-- on the main thread with no hook and never runs user metamethods (next/rawget/type only).
-- Cycles and tables nested deeper than 100 become placeholders; the decoder is json_decode.lua.
local error, next, rawget, tonumber, type = error, next, rawget, tonumber, type
local collectgarbage = collectgarbage
local sub, find, byte, char, gsub, format = string.sub, string.find, string.byte, string.char,
  string.gsub, string.format
local concat, sort, pack = table.concat, table.sort, table.pack
local mtype, huge = math.type, math.huge
local utf8_len = utf8.len

local prelude = require "prelude"

local clock = prelude.clock

local _M = {}

local ESC = { ['"'] = '\\"', ["\\"] = "\\\\", ["\n"] = "\\n", ["\r"] = "\\r", ["\t"] = "\\t",
  ["\b"] = "\\b", ["\f"] = "\\f" }
for i = 0, 31 do
  local c = char(i)
  if not ESC[c] then ESC[c] = format("\\u%04x", i) end
end
ESC["\127"] = "\\u007f"
local ESC_PAT = '[%c"\\]' -- %c: bytes 0-31 and 127 in the C locale

local B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
local B64C, B64PAIR = {}, nil
for i = 0, 63 do B64C[i] = sub(B64, i + 1, i + 1) end

local function base64(s)
  if not B64PAIR then
    -- 12 bits -> 2 characters; built on first use (1.6 ms: not worth it at every VM start)
    B64PAIR = {}
    for i = 0, 4095 do B64PAIR[i] = B64C[i >> 6] .. B64C[i & 63] end
  end
  local n = #s
  local full = n - n % 3
  local chunks, cn = {}, 0
  local part, pn = {}, 0
  for i = 1, full, 3 do
    local a, b, c = byte(s, i, i + 2)
    local v = a << 16 | b << 8 | c
    part[pn + 1] = B64PAIR[v >> 12]
    part[pn + 2] = B64PAIR[v & 4095]
    pn = pn + 2
    if pn >= 4096 then
      cn = cn + 1
      chunks[cn] = concat(part, "", 1, pn)
      pn = 0
    end
  end
  if pn > 0 then
    cn = cn + 1
    chunks[cn] = concat(part, "", 1, pn)
  end
  local r = n - full
  if r == 1 then
    local v = byte(s, n) << 16
    cn = cn + 1
    chunks[cn] = B64PAIR[v >> 12] .. "=="
  elseif r == 2 then
    local a, b = byte(s, n - 1, n)
    local v = a << 16 | b << 8
    cn = cn + 1
    chunks[cn] = B64PAIR[v >> 12] .. B64C[(v >> 6) & 63] .. "="
  end
  return concat(chunks, "", 1, cn)
end

local function json_string(s)
  if find(s, ESC_PAT) then
    return '"' .. gsub(s, ESC_PAT, ESC) .. '"'
  end
  return '"' .. s .. '"'
end

local function float_text(x)
  local s = format("%.14g", x)
  if tonumber(s) ~= x then
    s = format("%.15g", x)
    if tonumber(s) ~= x then
      s = format("%.16g", x)
      if tonumber(s) ~= x then s = format("%.17g", x) end
    end
  end
  if not find(s, "[%.eni]") then s = s .. ".0" end
  return s
end

local function json_float(x)
  if x ~= x then return '{"$type":"float","value":"nan"}' end
  if x == huge then return '{"$type":"float","value":"inf"}' end
  if x == -huge then return '{"$type":"float","value":"-inf"}' end
  return float_text(x)
end

local function key_text(k)
  local tk = type(k)
  if tk == "string" then
    if utf8_len(k) then return k end
    return "$bytes:" .. base64(k)
  elseif tk == "number" then
    if mtype(k) == "integer" then return format("%d", k) end
    if k == huge then return "inf" end
    if k == -huge then return "-inf" end
    return float_text(k)
  elseif tk == "boolean" then
    return k and "true" or "false"
  end
  return tk
end

local KEY_RANK = { boolean = 1, number = 2, string = 3 } -- tie-break for equal key texts

local ENC_TIMEOUT, ENC_MEMORY = {}, {} -- error sentinels of the encoder
local buf, bn = {}, 0
local onpath = {}
local enc_count, enc_deadline, enc_memlimit = 0, huge, huge
-- Bytes of values encoded so far, and the result cap past which the encoder stops (raising
-- this table itself).
local enc_size = { len = 0, cap = huge }

local function enc_check()
  if clock() > enc_deadline then error(ENC_TIMEOUT) end
  if collectgarbage("count") > enc_memlimit then error(ENC_MEMORY) end
end

local enc_value

-- Empties the piece buffer (a new table if it grew: arrays never shrink) and the path set.
local function encoder_reset()
  if bn > 64 then
    buf = {}
  else
    for i = 1, bn do buf[i] = nil end
  end
  bn = 0
  if next(onpath) ~= nil then onpath = {} end
end

local function enc_table(t, depth)
  if onpath[t] then
    bn = bn + 1; buf[bn] = '{"$type":"cycle"}'
    return
  end
  if depth > 100 then -- the deepest table a result may nest
    bn = bn + 1; buf[bn] = '{"$type":"depth-limit"}'
    return
  end
  local k = next(t)
  if k == nil then
    bn = bn + 1; buf[bn] = "{}"
    return
  end
  -- keys exactly 1..n?
  local count, max, isarr = 0, 0, true
  while k ~= nil do
    count = count + 1
    if isarr then
      if mtype(k) == "integer" and k >= 1 then
        if k > max then max = k end
      else
        isarr = false
      end
    end
    k = next(t, k)
  end
  onpath[t] = true
  if isarr and max == count then
    bn = bn + 1; buf[bn] = "["
    for i = 1, count do
      if i > 1 then bn = bn + 1; buf[bn] = "," end
      enc_value(rawget(t, i), depth)
    end
    bn = bn + 1; buf[bn] = "]"
  else
    local keys, texts, idx = {}, {}, {}
    local n = 0
    k = next(t)
    while k ~= nil do
      n = n + 1
      keys[n] = k
      texts[n] = key_text(k)
      idx[n] = n
      k = next(t, k)
    end
    sort(idx, function(a, b)
      local ta, tb = texts[a], texts[b]
      if ta ~= tb then return ta < tb end
      local ra, rb = KEY_RANK[type(keys[a])] or 4, KEY_RANK[type(keys[b])] or 4
      if ra ~= rb then return ra < rb end
      return a < b
    end)
    bn = bn + 1; buf[bn] = "{"
    for j = 1, n do
      local i = idx[j]
      bn = bn + 1
      buf[bn] = (j > 1 and "," or "") .. json_string(texts[i]) .. ":"
      enc_value(rawget(t, keys[i]), depth)
    end
    bn = bn + 1; buf[bn] = "}"
  end
  onpath[t] = nil
end

enc_value = function(v, depth)
  enc_count = enc_count + 1
  if enc_count & 1023 == 0 then enc_check() end
  local tv = type(v)
  local s
  if tv == "number" then
    if mtype(v) == "integer" then s = format("%d", v) else s = json_float(v) end
  elseif tv == "string" then
    if utf8_len(v) then s = json_string(v)
    else s = '{"$type":"bytes","base64":"' .. base64(v) .. '"}' end
  elseif tv == "boolean" then
    s = v and "true" or "false"
  elseif tv == "nil" then
    s = "null"
  elseif tv == "table" then
    return enc_table(v, depth + 1)
  else
    s = '{"$type":"' .. tv .. '","id":"' .. format("%p", v) .. '"}'
  end
  bn = bn + 1
  buf[bn] = s
  -- Stop early: a result over the cap is refused anyway, don't build it first.
  local size = enc_size
  size.len = size.len + #s
  if size.len > size.cap then error(size) end
end

-- Encodes the n values as a JSON array. Raises ENC_TIMEOUT / ENC_MEMORY / memory errors.
local function encode_results(n, ...)
  if n == 0 then return "[]" end
  bn, enc_count, enc_size.len = 1, 0, 0
  buf[1] = "["
  if n == 1 then
    enc_value((...), 0)
  else
    local vals = pack(...)
    for i = 1, n do
      if i > 1 then bn = bn + 1; buf[bn] = "," end
      enc_value(vals[i], 0)
    end
  end
  bn = bn + 1
  buf[bn] = "]"
  local s = concat(buf, "", 1, bn)
  encoder_reset()
  return s
end

-- Encodes one value (a message's). Raises like encode_results.
function _M.encode_one(v)
  bn, enc_count = 0, 0
  enc_value(v, 0)
  local s = concat(buf, "", 1, bn)
  encoder_reset()
  return s
end

-- Limits of the next encodings: the deadline clock value, the heap limit in KiB and the
-- byte cap of the result (over it the encoder raises TOO_LARGE).
function _M.set_limits(deadline, memlimit_kb, cap)
  enc_deadline, enc_memlimit = deadline, memlimit_kb
  if cap then enc_size.cap = cap end
end

_M.encode_results = encode_results
_M.reset = encoder_reset
_M.base64 = base64
_M.B64 = B64
_M.TIMEOUT, _M.MEMORY, _M.TOO_LARGE = ENC_TIMEOUT, ENC_MEMORY, enc_size

return _M
