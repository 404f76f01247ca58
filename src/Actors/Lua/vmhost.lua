-- vmhost.lua: the host script every LuaActors VM process runs (`lua5.4 vmhost.lua`).
--
-- It reads request frames from stdin, runs user code in a sandbox under time and memory
-- limits, and writes reply frames to stdout. docs/protocol.md describes the protocol; the
-- comments here explain the how.
--
-- Frame: 18-byte ASCII header, then raw payload bytes:
--   op (1 byte) | request id (8 hex digits) | payload length (8 hex digits) | '\n'
--
-- Rules this file keeps:
--   * stdout carries frames only. Nothing here may call the real print or io.write except
--     the reply functions below.
--   * Host code runs on the main thread, which never has a hook. User code runs in
--     coroutines that carry the limit hook.
--   * Host code never runs user metamethods: no tostring/#/pairs/ipairs/== on user values
--     (the JSON encoder uses next/rawget/type only), and never string methods via ':'
--     (they go through the string table, which user code may modify).
--   * Everything the host needs is captured in locals before any user code runs.

---------------------------------------------------------------------------------------------
-- Captured builtins
---------------------------------------------------------------------------------------------
local assert, error, ipairs, next, pairs, pcall, xpcall = assert, error, ipairs, next, pairs, pcall, xpcall
local rawequal, rawget, rawlen, rawset, select = rawequal, rawget, rawlen, rawset, select
local tonumber, tostring, type = tonumber, tostring, type
local getmetatable, setmetatable, load, collectgarbage = getmetatable, setmetatable, load, collectgarbage
local LUA_VERSION = _VERSION

local string, table, math, utf8, coroutine, os, io, debug = string, table, math, utf8, coroutine, os, io, debug

local sub, find, match, gmatch, format = string.sub, string.find, string.match, string.gmatch, string.format
local byte, char, gsub = string.byte, string.char, string.gsub
local real_rep = string.rep
local concat, sort, pack = table.concat, table.sort, table.pack
local mtype, huge, tointeger = math.type, math.huge, math.tointeger
local utf8_len = utf8.len
local co_create, co_resume, co_status, co_close, co_wrap, co_running =
  coroutine.create, coroutine.resume, coroutine.status, coroutine.close, coroutine.wrap, coroutine.running
local clock, exit = os.clock, os.exit
local sethook, traceback, getinfo, dsetmetatable =
  debug.sethook, debug.traceback, debug.getinfo, debug.setmetatable

local stdin, stdout, stderr = io.stdin, io.stdout, io.stderr
local fread, fwrite, fflush = stdin.read, stdout.write, stdout.flush

-- Where this script's own frames show up in tracebacks ("\t<short_src>:"), to strip them.
local HOST_SRC = "\t" .. getinfo(1, "S").short_src .. ":"

---------------------------------------------------------------------------------------------
-- Limits (set by 'L'; per-request overrides come with 'E'/'V')
---------------------------------------------------------------------------------------------
local limits = {
  timeout_ms = 5000,      -- default per-request CPU time limit; 0 = none
  memory_kb = 65536,      -- default Lua heap limit (KiB); 0 = none
  output_cap = 1048576,   -- max bytes of captured print output per request
  rep_cap = 16777216,     -- max bytes one string.rep call may produce
}

local HOOK_COUNT = 1000   -- the hook fires every HOOK_COUNT VM instructions
local DEEP_STACK = 100000 -- over the heap limit with a call stack this deep: "stack overflow"

---------------------------------------------------------------------------------------------
-- Per-request state (shared upvalues of the hook and the sandbox wrappers)
---------------------------------------------------------------------------------------------
local reqno = 0           -- request counter: tells the hook which coroutines are armed stale
local deadline = huge     -- os.clock() value after which the request times out
local memlimit = huge     -- heap limit in KiB for the current request
local req_timeout_ms = 0  -- for the messages
local req_memory_kb = 0
local timed_out = false   -- set by the hook: the deadline passed during this request
local mem_flag = false    -- set by the hook: the heap is over its limit (cleared when back under)

-- Coroutines whose hook fires on every instruction ("armed" after a timeout or memory error),
-- mapped to the request number that armed them.
local armed = setmetatable({}, { __mode = "k" })

-- Coroutines in which the hook raised an error, mapped to that error. An error raised inside
-- a hook leaves the hook machinery switched off in that coroutine (Lua restores it only where
-- a pcall inside the coroutine catches the error): if the coroutine dies, closing it would run
-- its pending __close handlers with no hook. Such coroutines are never closed.
local hook_err = setmetatable({}, { __mode = "k" })

local function timeout_message()
  return format("timeout: execution exceeded %d ms", req_timeout_ms)
end

local function memory_message()
  return format("memory: Lua heap exceeded the limit of %d KiB", req_memory_kb)
end

-- The limit hook. Installed (count hook) on every coroutine that runs user code. Runs in the
-- user coroutine, never on the host's main thread.
local hook
hook = function()
  local co = co_running()
  local a = armed[co]
  if a and a ~= reqno then
    -- armed during an older request: this request starts with a clean slate
    armed[co] = nil
    a = nil
    sethook(co, hook, "", HOOK_COUNT)
  end
  if clock() > deadline then
    timed_out = true
    if not a then
      -- keep firing on every instruction: a pcall loop cannot run on after the deadline
      armed[co] = reqno
      sethook(co, hook, "", 1)
    end
    local msg = timeout_message()
    hook_err[co] = msg
    error(msg, 0)
  end
  if collectgarbage("count") > memlimit then
    collectgarbage("collect")
    if collectgarbage("count") > memlimit then
      -- A very deep Lua call stack is what filled the heap: report it the way Lua
      -- would have a little later (its own limit is ~1M levels), as a runtime error.
      if getinfo(DEEP_STACK, "") then
        hook_err[co] = "stack overflow"
        error("stack overflow", 2)
      end
      mem_flag = true
      if not a then
        armed[co] = reqno
        sethook(co, hook, "", 1)
      end
      local msg = memory_message()
      hook_err[co] = msg
      error(msg, 0)
    end
  end
  if a then
    -- armed for memory in this request and the heap is back under the limit: disarm
    armed[co] = nil
    mem_flag = false
    sethook(co, hook, "", HOOK_COUNT)
  end
end

---------------------------------------------------------------------------------------------
-- Number to text like lua_tostring (no metamethods involved)
---------------------------------------------------------------------------------------------
local function num2str(x)
  if mtype(x) == "integer" then return format("%d", x) end
  local s = format("%.14g", x)
  if not find(s, "[^%-%d]") then s = s .. ".0" end
  return s
end

local function typename(v, present)
  if not present then return "no value" end
  return type(v)
end

---------------------------------------------------------------------------------------------
-- Print capture
---------------------------------------------------------------------------------------------
local TRUNC_MARK = "\n...[output truncated]\n"
local out, out_n, out_len, out_trunc = {}, 0, 0, false

local function out_add(s)
  local l = #s
  if out_len + l > limits.output_cap then
    local room = limits.output_cap - out_len
    if room > 0 then
      out_n = out_n + 1
      out[out_n] = sub(s, 1, room)
    end
    out_n = out_n + 1
    out[out_n] = TRUNC_MARK
    out_len = limits.output_cap
    out_trunc = true
  else
    out_n = out_n + 1
    out[out_n] = s
    out_len = out_len + l
  end
end

local function out_take()
  if out_n == 0 then return "" end
  local s = out_n == 1 and out[1] or concat(out, "", 1, out_n)
  for i = 1, out_n do out[i] = nil end
  out_n = 0
  return s
end

-- Runs in the user coroutine: tostring may call a user __tostring, under the hook.
local function sb_print(...)
  if out_trunc then return end
  local n = select("#", ...)
  if n == 1 then
    out_add(tostring((...)))
  elseif n > 1 then
    local args = pack(...)
    for i = 1, n do
      if i > 1 then out_add("\t") end
      if out_trunc then return end
      out_add(tostring(args[i]))
      if out_trunc then return end
    end
  end
  if not out_trunc then out_add("\n") end
end

---------------------------------------------------------------------------------------------
-- Sandbox wrappers
---------------------------------------------------------------------------------------------
local env -- the current sandbox environment (rebuilt by 'Z')

-- load: text only; the environment is the sandbox unless one is passed (even nil).
-- (The upvalue is named `load`, so argument errors name 'load' as the real one does.)
local function sb_load(chunk, chunkname, mode, ...)
  if select("#", ...) > 0 then
    return load(chunk, chunkname, "t", (...))
  end
  return load(chunk, chunkname, "t", env)
end

local function sb_setmetatable(t, mt)
  if type(mt) == "table" and rawget(mt, "__gc") ~= nil then
    error("__gc metamethods are not allowed in the sandbox", 2)
  end
  return setmetatable(t, mt)
end

local GC_ALLOWED = { count = true, collect = true, step = true, isrunning = true }
local function sb_collectgarbage(opt, ...)
  if opt == nil then opt = "collect" end
  if GC_ALLOWED[opt] then
    return collectgarbage(opt, ...)
  end
  error(format("collectgarbage option '%s' is not allowed in the sandbox",
    type(opt) == "string" and opt or type(opt)), 2)
end

-- coroutine.create / wrap: install the limit hook on every coroutine user code makes.
local function sb_co_create(f)
  if type(f) ~= "function" then
    error(format("bad argument #1 to 'create' (function expected, got %s)", type(f)), 2)
  end
  local co = co_create(f)
  sethook(co, hook, "", HOOK_COUNT)
  return co
end

-- Closes a coroutine unless the hook killed it (see hook_err).
local function safe_close(co)
  if hook_err[co] and co_status(co) == "dead" then
    return false, hook_err[co]
  end
  return co_close(co)
end

local function sb_co_close(co)
  if type(co) ~= "thread" then
    error(format("bad argument #1 to 'close' (coroutine expected, got %s)", type(co)), 2)
  end
  return safe_close(co)
end

-- coroutine.wrap in Lua (the C one closes a failed coroutine itself, see hook_err);
-- same behaviour: errors propagate, string errors get the caller's position, a coroutine
-- that failed is closed (its pending __close handlers run).
local function wrap_ret(co, ok, ...)
  if ok then return ... end
  local e = ...
  if co_status(co) == "dead" then
    local cok, ce = safe_close(co)
    if not cok then e = ce end
  end
  if type(e) == "string" and e ~= "not enough memory" then error(e, 2) end
  error(e, 0)
end

local function sb_co_wrap(f)
  if type(f) ~= "function" then
    error(format("bad argument #1 to 'wrap' (function expected, got %s)", type(f)), 2)
  end
  local co = co_create(f)
  sethook(co, hook, "", HOOK_COUNT)
  return function(...)
    return wrap_ret(co, co_resume(co, ...))
  end
end

-- xpcall: a message handler is called where the error is raised; for an error raised by
-- the limit hook that is inside the hook, where no hook fires. The handler is skipped then.
local function sb_xpcall(f, msgh, ...)
  if type(msgh) ~= "function" then
    return xpcall(f, msgh, ...) -- raises the usual argument error
  end
  return xpcall(f, function(e)
    local caller = getinfo(3, "f")
    if caller and caller.func == hook then return e end
    return msgh(e)
  end, ...)
end

-- string.rep: refuse results over rep_cap (it runs in C, where the hook never fires).
local function str_arg(v)
  local tv = type(v)
  if tv == "string" then return v end
  if tv == "number" then return num2str(v) end
  return nil
end

local function sb_rep(...)
  local nargs = select("#", ...)
  local s, n, sep = ...
  local ss = str_arg(s)
  if ss == nil then
    error(format("bad argument #1 to 'rep' (string expected, got %s)", typename(s, nargs >= 1)), 2)
  end
  local ni = n
  if mtype(n) ~= "integer" then
    local nn = (type(n) == "number" or type(n) == "string") and tonumber(n) or nil
    if nn == nil then
      error(format("bad argument #2 to 'rep' (number expected, got %s)", typename(n, nargs >= 2)), 2)
    end
    ni = tointeger(nn)
    if ni == nil then
      error("bad argument #2 to 'rep' (number has no integer representation)", 2)
    end
  end
  local ssep = ""
  if sep ~= nil then
    ssep = str_arg(sep)
    if ssep == nil then
      error(format("bad argument #3 to 'rep' (string expected, got %s)", type(sep)), 2)
    end
  end
  if ni <= 0 then return "" end
  local total = (#ss + 0.0) * ni + (#ssep + 0.0) * (ni - 1)
  if total == 0 then return "" end -- the C loop would spin n times copying nothing
  if total > limits.rep_cap then
    error(format("string.rep result too large (%.0f bytes, limit %d)", total, limits.rep_cap), 2)
  end
  return real_rep(ss, ni, ssep)
end

---------------------------------------------------------------------------------------------
-- The real string table (shared by the sandbox and the string metatable)
---------------------------------------------------------------------------------------------
string.dump = nil
string.rep = sb_rep
getmetatable("").__metatable = false -- getmetatable("") gives false, never the real one

local string_snapshot = {}
for k, v in next, string do string_snapshot[k] = v end

local function restore_string_table()
  dsetmetatable(string, nil)
  for k in next, string do
    if string_snapshot[k] == nil then string[k] = nil end
  end
  for k, v in next, string_snapshot do rawset(string, k, v) end
end

---------------------------------------------------------------------------------------------
-- Sandbox environment
---------------------------------------------------------------------------------------------
local function copy(t)
  local c = {}
  for k, v in next, t do c[k] = v end
  return c
end

local function new_env()
  local e = {
    assert = assert, error = error, ipairs = ipairs, next = next, pairs = pairs,
    pcall = pcall, xpcall = sb_xpcall, rawequal = rawequal, rawget = rawget, rawlen = rawlen,
    rawset = rawset, select = select, tonumber = tonumber, tostring = tostring, type = type,
    getmetatable = getmetatable, setmetatable = sb_setmetatable, print = sb_print,
    load = sb_load, collectgarbage = sb_collectgarbage, _VERSION = LUA_VERSION,
    string = string,
    table = copy(table), math = copy(math), utf8 = copy(utf8),
    os = { time = os.time, clock = os.clock, date = os.date, difftime = os.difftime },
  }
  local co = copy(coroutine)
  co.create = sb_co_create
  co.wrap = sb_co_wrap
  co.close = sb_co_close
  e.coroutine = co
  e._G = e
  return e
end

env = new_env()

---------------------------------------------------------------------------------------------
-- JSON encoding of results (host code: no hook, no user metamethods)
---------------------------------------------------------------------------------------------
local ESC = { ['"'] = '\\"', ["\\"] = "\\\\", ["\n"] = "\\n", ["\r"] = "\\r", ["\t"] = "\\t",
  ["\b"] = "\\b", ["\f"] = "\\f" }
for i = 0, 31 do
  local c = char(i)
  if not ESC[c] then ESC[c] = format("\\u%04x", i) end
end
ESC["\127"] = "\\u007f"
local ESC_PAT = '[%c"\\]' -- %c: bytes 0-31 and 127 in the C locale

local B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
local B64C, B64PAIR = {}, {}
for i = 0, 63 do B64C[i] = sub(B64, i + 1, i + 1) end
for i = 0, 4095 do B64PAIR[i] = B64C[i >> 6] .. B64C[i & 63] end

local function base64(s)
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

local MAX_DEPTH = 100
local ENC_TIMEOUT, ENC_MEMORY = {}, {} -- error sentinels of the encoder
local buf, bn = {}, 0
local onpath = {}
local enc_count, enc_deadline, enc_memlimit = 0, huge, huge

local function enc_check()
  if clock() > enc_deadline then error(ENC_TIMEOUT) end
  if collectgarbage("count") > enc_memlimit then error(ENC_MEMORY) end
end

local enc_value

local function enc_table(t, depth)
  if onpath[t] then
    bn = bn + 1; buf[bn] = '{"$type":"cycle"}'
    return
  end
  if depth > MAX_DEPTH then
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
end

-- Encodes the n values as a JSON array. Raises ENC_TIMEOUT / ENC_MEMORY / memory errors.
local function encode_results(n, ...)
  if n == 0 then return "[]" end
  bn, enc_count = 1, 0
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
  for i = 1, bn do buf[i] = nil end
  bn = 0
  return s
end

local function encoder_reset()
  for i = 1, bn do buf[i] = nil end
  bn = 0
  for t in next, onpath do onpath[t] = nil end
end

---------------------------------------------------------------------------------------------
-- Replies
---------------------------------------------------------------------------------------------
local function send_k(id, payload)
  fwrite(stdout, "K", id, format("%08x\n", #payload), payload)
  fflush(stdout)
end

local function send_r(id, n, json, output, trunc)
  local pre = format("%d %d %d %d\n", n, #json, #output, trunc and 1 or 0)
  fwrite(stdout, "R", id, format("%08x\n", #pre + #json + #output), pre, json, output)
  fflush(stdout)
end

local function send_x(id, kind, msg, tb, output, trunc)
  tb = tb or ""
  output = output or ""
  local pre = format("%s %d %d %d %d\n", kind, #msg, #tb, #output, trunc and 1 or 0)
  fwrite(stdout, "X", id, format("%08x\n", #pre + #msg + #tb + #output), pre, msg, tb, output)
  fflush(stdout)
end

---------------------------------------------------------------------------------------------
-- Running a request
---------------------------------------------------------------------------------------------

-- The error value as a message, without running user code (no __tostring).
local function error_message(e)
  local te = type(e)
  if te == "string" then return e end
  if te == "number" then return num2str(e) end
  return "(error object is a " .. te .. " value)"
end

-- A coroutine's traceback minus this script's frames (and the C functions they called).
local function user_traceback(co)
  local tb = traceback(co)
  if type(tb) ~= "string" then return "" end
  if not find(tb, HOST_SRC, 1, true) then return tb end
  local lines, n = {}, 0
  for line in gmatch(tb, "[^\n]+") do
    if find(line, HOST_SRC, 1, true) == 1 then
      while n > 1 and find(lines[n], "^\t%[C%]:") do
        lines[n] = nil
        n = n - 1
      end
    else
      n = n + 1
      lines[n] = line
    end
  end
  return concat(lines, "\n", 1, n)
end

local function fail(id, co, kind, msg, finished)
  local tb = finished and "" or user_traceback(co)
  safe_close(co) -- runs pending __close handlers (in co, under its hook); errors ignored
  local output, trunc = out_take(), out_trunc
  if kind == "memory" then collectgarbage("collect") end
  send_x(id, kind, msg, tb, output, trunc)
end

local function finish(id, co, ok, ...)
  if not ok then
    if timed_out then return fail(id, co, "timeout", timeout_message()) end
    if mem_flag then return fail(id, co, "memory", memory_message()) end
    local e = ...
    if e == "not enough memory" then return fail(id, co, "memory", e) end
    return fail(id, co, "runtime", error_message(e))
  end
  if co_status(co) ~= "dead" then
    -- the top level yielded
    return fail(id, co, "runtime", "attempt to yield from outside a coroutine")
  end
  -- Finished, but a coroutine it resumed hit a limit and it returned before its own hook
  -- fired: the limit was still exceeded.
  if timed_out then return fail(id, co, "timeout", timeout_message(), true) end
  if mem_flag then return fail(id, co, "memory", memory_message(), true) end
  local n = select("#", ...)
  local json
  if n == 1 and type((...)) == "number" and mtype((...)) == "integer" then
    json = "[" .. format("%d", (...)) .. "]" -- the common case, short
  else
    enc_deadline = deadline
    enc_memlimit = memlimit == huge and huge or memlimit * 4
    local eok, res = pcall(encode_results, n, ...)
    if not eok then
      encoder_reset()
      local output, trunc = out_take(), out_trunc
      if res == ENC_TIMEOUT then
        return send_x(id, "timeout", timeout_message() .. " (while encoding the result)", "", output, trunc)
      end
      collectgarbage("collect")
      if res == ENC_MEMORY or res == "not enough memory" then
        return send_x(id, "memory", "memory: the encoded result is too large", "", output, trunc)
      end
      return send_x(id, "runtime", "encoding the result failed: " .. error_message(res), "", output, trunc)
    end
    json = res
  end
  return send_r(id, n, json, out_take(), out_trunc)
end

local function run(id, fn, tms, mkb)
  reqno = reqno + 1
  timed_out, mem_flag = false, false
  out_n, out_len, out_trunc = 0, 0, false
  if tms == 0 then tms = limits.timeout_ms end
  if mkb == 0 then mkb = limits.memory_kb end
  req_timeout_ms, req_memory_kb = tms, mkb
  memlimit = mkb > 0 and mkb or huge
  local co = co_create(fn)
  sethook(co, hook, "", HOOK_COUNT)
  deadline = tms > 0 and clock() + tms / 1000 or huge
  return finish(id, co, co_resume(co))
end

-- "<timeout_ms> <memory_kb>\n<code>" -> tms, mkb, code
local function parse_exec(payload)
  local t, m, pos = match(payload, "^(%d+) (%d+)\n()")
  if not t then return nil end
  t, m = tointeger(tonumber(t)), tointeger(tonumber(m))
  if not t or not m then return nil end
  return t, m, sub(payload, pos)
end

local function bad_exec(id)
  send_x(id, "protocol", "bad 'E'/'V' payload: expected \"<timeout_ms> <memory_kb>\\n\" and the code")
end

local function load_failed(id, err)
  if err == "not enough memory" then
    collectgarbage("collect")
    return send_x(id, "memory", err)
  end
  return send_x(id, "syntax", err)
end

---------------------------------------------------------------------------------------------
-- Request handlers
---------------------------------------------------------------------------------------------
local handlers = {}

handlers.E = function(id, payload)
  local tms, mkb, code = parse_exec(payload)
  if not tms then return bad_exec(id) end
  local fn, err = load(code, "=exec", "t", env)
  if not fn then return load_failed(id, err) end
  return run(id, fn, tms, mkb)
end

handlers.V = function(id, payload)
  local tms, mkb, code = parse_exec(payload)
  if not tms then return bad_exec(id) end
  local fn = load("return " .. code, "=stdin", "t", env)
  if not fn then
    local err
    fn, err = load(code, "=stdin", "t", env)
    if not fn then
      if type(err) == "string" and sub(err, -5) == "<eof>" then
        return send_x(id, "incomplete", err)
      end
      return load_failed(id, err)
    end
  end
  return run(id, fn, tms, mkb)
end

handlers.L = function(id, payload)
  local new = {}
  for line in gmatch(payload, "[^\n]+") do
    local k, v = match(line, "^([%w_]+)=(%d+)$")
    v = v and tointeger(tonumber(v))
    if not k or limits[k] == nil or not v then
      return send_x(id, "protocol", "bad 'L' payload line: " .. line)
    end
    new[k] = v
  end
  for k, v in next, new do limits[k] = v end
  return send_k(id, "")
end

handlers.P = function(id)
  return send_k(id, LUA_VERSION)
end

handlers.Z = function(id)
  env = new_env()
  restore_string_table()
  collectgarbage("collect")
  return send_k(id, "")
end

handlers.Q = function(id)
  send_k(id, "")
  exit(0)
end

---------------------------------------------------------------------------------------------
-- Main loop
---------------------------------------------------------------------------------------------
stdout:setvbuf("full", 65536)

local HEADER_PAT = "^%x%x%x%x%x%x%x%x%x%x%x%x%x%x%x%x\n"

local function op_name(op)
  if find(op, "^%g$") then return "'" .. op .. "'" end
  return format("byte 0x%02x", byte(op))
end

-- Skips len payload bytes that could not be read in one piece.
local function skip(len)
  while len > 0 do
    local piece = fread(stdin, len < 65536 and len or 65536)
    if not piece or #piece == 0 then exit(0) end
    len = len - #piece
  end
end

while true do
  local h = fread(stdin, 18)
  if h == nil or #h < 18 then exit(0) end -- stdin closed: the owner is gone
  if not find(h, HEADER_PAT, 2) then
    -- framing is lost: there is no way to find the next frame
    local id = find(h, "^%x%x%x%x%x%x%x%x", 2) and sub(h, 2, 9) or "00000000"
    send_x(id, "protocol", "malformed frame header")
    fwrite(stderr, "vmhost: malformed frame header, exiting\n")
    exit(2)
  end
  local op, id = sub(h, 1, 1), sub(h, 2, 9)
  local len = tonumber(sub(h, 10, 17), 16)
  local payload = ""
  if len > 0 then
    local ok, p = pcall(fread, stdin, len)
    if not ok then
      skip(len)
      collectgarbage("collect")
      send_x(id, "memory", "not enough memory to read the request payload")
      goto continue
    end
    if p == nil or #p < len then exit(0) end
    payload = p
  end
  do
    local handler = handlers[op]
    if handler then
      local ok, err = pcall(handler, id, payload)
      if not ok then
        -- a failure in host code (in practice: an allocation failed)
        encoder_reset()
        out_take()
        collectgarbage("collect")
        if err == "not enough memory" then
          send_x(id, "memory", "not enough memory")
        else
          send_x(id, "runtime", "host error: " .. error_message(err))
        end
      end
    else
      send_x(id, "protocol", "unknown op " .. op_name(op))
    end
  end
  ::continue::
end
