-- netaddr.lua: addresses for the `socket` table (protocol.md §11.6) and the 'L' network rule.
--
-- Every address is parsed (or resolved) ONCE to a canonical text, that text is checked, and
-- exactly that text is what the socket binds or dials: no second parser (inet_aton's octal,
-- hex and short forms) can read it differently. Ambiguous spellings are refused.
-- Binding: an address in net_bind, a port in net_ports. Connecting: the VM's actor decides
-- (an M "net-connect", answered from the cluster's listener registry and the operator's list).
local tonumber, tostring = tonumber, tostring
local sub, find, match, gmatch, byte, format = string.sub, string.find, string.match,
  string.gmatch, string.byte, string.format
local concat = table.concat
local tointeger = math.tointeger

local sk = require("prelude").sk

local _M = {}

-- Strict dotted quad: four decimal parts 0-255, no leading zeros. -> canonical text or nil
local function v4_text(s)
  local a, b, c, d = match(s, "^(%d+)%.(%d+)%.(%d+)%.(%d+)$")
  if not a then return nil end
  local parts = { a, b, c, d }
  for i = 1, 4 do
    local p = parts[i]
    if #p > 3 or (#p > 1 and byte(p, 1) == 48) or tonumber(p) > 255 then return nil end
  end
  return s
end

-- IPv6 text -> canonical RFC 5952 text, or nil and why.
local function v6_text(s)
  if find(s, "%", 1, true) then return nil, "zone ids are not supported" end
  if find(s, ".", 1, true) then return nil, "IPv4-in-IPv6 spellings are refused: use the IPv4 address" end
  if not find(s, "^[%x:]+$") then return nil end
  local head, tail = s, nil
  local dc = find(s, "::", 1, true)
  if dc then
    if find(s, "::", dc + 1, true) then return nil end
    head, tail = sub(s, 1, dc - 1), sub(s, dc + 2)
  end
  local function groups(part)
    local g = {}
    if part == "" then return g end
    for item in gmatch(part .. ":", "([^:]*):") do
      if #item < 1 or #item > 4 then return nil end
      g[#g + 1] = tonumber(item, 16)
    end
    return g
  end
  local h, t = groups(head), {}
  if tail then t = groups(tail) end
  if not h or not t then return nil end
  local n = #h + #t
  if (dc and n > 7) or (not dc and n ~= 8) then return nil end
  local all = {}
  for i = 1, #h do all[#all + 1] = h[i] end
  for _ = 1, 8 - n do all[#all + 1] = 0 end
  for i = 1, #t do all[#all + 1] = t[i] end
  if all[1] == 0 and all[2] == 0 and all[3] == 0 and all[4] == 0 and all[5] == 0 and all[6] == 0xffff then
    return nil, "IPv4-mapped addresses are refused: use the IPv4 address"
  end
  if all[1] == 0 and all[2] == 0 and all[3] == 0 and all[4] == 0 and all[5] == 0 and all[6] == 0
    and not (all[7] == 0 and all[8] <= 1) then
    return nil, "IPv4-compatible addresses are refused: use the IPv4 address"
  end
  -- the longest run of two or more zero groups (the first of equals) becomes "::"
  local best, best_len, i = 0, 1, 1
  while i <= 8 do
    if all[i] == 0 then
      local j = i
      while j < 8 and all[j + 1] == 0 do j = j + 1 end
      if j - i + 1 > best_len then best, best_len = i, j - i + 1 end
      i = j + 1
    else
      i = i + 1
    end
  end
  local out = {}
  for k = 1, 8 do out[k] = format("%x", all[k]) end
  if best == 0 then return concat(out, ":") end
  return concat(out, ":", 1, best - 1) .. "::" .. concat(out, ":", best + best_len, 8)
end

-- Whether every dot-separated label reads as a number to inet_aton (decimal, 0-octal, 0x-hex).
local function numeric_spelling(s)
  for label in gmatch(s .. ".", "([^.]*)%.") do
    if not (find(label, "^%d+$") or find(label, "^0[xX]%x*$")) then return false end
  end
  return true
end

local function ambiguous(host)
  return format("ambiguous address '%s': write IPv4 as four decimal numbers 0-255 without leading zeros", host)
end

-- host -> canonical address text and family (4 or 6), or nil and why. Names are resolved
-- (in C, with the hook off: the resolver's own timeouts apply); the result is canonical.
local function canonical(host)
  if find(host, ":", 1, true) then
    local ip, why = v6_text(host)
    if not ip then return nil, why and format("bad IPv6 address '%s': %s", host, why) or format("bad IPv6 address '%s'", host) end
    return ip, 6
  end
  if v4_text(host) then return host, 4 end
  if not find(host, "^[%w%-]+$") and not find(host, "^[%w%-][%w%-%.]*[%w%-]$") or find(host, "..", 1, true) then
    return nil, format("bad host '%s'", host)
  end
  if numeric_spelling(host) then return nil, ambiguous(host) end
  local r, err = sk.dns.toip(host)
  if not r then return nil, format("cannot resolve '%s': %s", host, tostring(err or "host not found")) end
  if not v4_text(r) then return nil, format("'%s' resolved to an unexpected address", host) end
  return r, 4
end

-- An 'L' net_bind / net_ports value -> the parsed value, or nil.
function _M.parse(k, text)
  if k == "net_ports" then
    local lo, hi = match(text, "^(%d+)%-(%d+)$")
    lo, hi = tointeger(tonumber(lo)), tointeger(tonumber(hi))
    if not lo or lo < 1 or hi > 65535 or lo > hi then return nil end
    return { lo, hi }
  end
  local set = {}
  for item in gmatch(text, "[^,]+") do
    local ip = (item == "0.0.0.0" or item == "::") and item or nil
    if not ip and (find(item, ":", 1, true) or v4_text(item)) then ip = canonical(item) end
    if not ip then return nil end -- addresses only, no names
    set[ip] = true
  end
  return set
end
-- The network rule, set by 'L': { bind = set of canonical addresses, lo = port, hi = port }
local net_rules = { bind = { ["127.0.0.1"] = true, ["::1"] = true }, lo = 20000, hi = 29999 }
_M.rules = net_rules

_M.UNSPECIFIED = { ["0.0.0.0"] = true, ["::"] = true }

-- host of a bind -> canonical address and family, or nil and why
function _M.bind_address(host)
  if host == "*" then host = "0.0.0.0" end
  local ip, fam
  if host == "0.0.0.0" or host == "::" then
    ip, fam = host, host == "::" and 6 or 4
  else
    ip, fam = canonical(host)
    if not ip then return nil, fam end
  end
  if not net_rules.bind[ip] then
    return nil, format("address not allowed for listening: %s (luaactors.vm.networking.bind-addresses)", ip)
  end
  return ip, fam
end

function _M.ports_text()
  return format("%d-%d", net_rules.lo, net_rules.hi)
end
_M.canonical, _M.v4_text, _M.v6_text = canonical, v4_text, v6_text

return _M
