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
--     coroutines that carry the limit hook; the sandbox wrappers (print, pcall, ...) run
--     there too, under the hook, and may call user code (print calls __tostring).
--   * Host code on the main thread never runs user metamethods: no tostring/#/pairs/ipairs
--     on user values (the JSON encoder uses next/rawget/type only), and never string methods
--     via ':' (they go through the string table, which user code may modify).
--   * Everything the host needs is captured in locals before any user code runs.
--
-- Map of the limit machinery (each piece is explained where it is defined):
--   hook          count hook (every HOOK_COUNT instructions): deadline, heap limit
--   armed         after a limit error the hook fires on every instruction (pcall loops)
--   canary        a finalizer per GC cycle asks for a heap check at the next instruction
--   hook_err      coroutines killed by the hook are never closed (__close would run hookless)
--   sb_xpcall     message handlers are skipped for errors raised by the hook (hookless too)
--   sb_pcall      at most MAX_PCALL_DEPTH nested pcall/xpcall per coroutine (O(n^2) unwinding)
--   sb_rep        string.rep capped at rep_cap (C code is never interrupted)

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
local co_create, co_resume, co_status, co_close, co_running =
  coroutine.create, coroutine.resume, coroutine.status, coroutine.close, coroutine.running
local exit = os.exit
-- The deadline clock: wall time from LuaSocket when it is installed (gettimeofday, no system
-- call, and the clock the actor's kill deadline uses too, so on a loaded machine Lua's own
-- Timeout comes first); CPU time (os.clock, a system call) otherwise.
local clock = os.clock
do
  local ok, socket_core = pcall(require, "socket.core")
  if ok and type(socket_core) == "table" and type(socket_core.gettime) == "function" then
    clock = socket_core.gettime
  end
end
local sethook, gethook, traceback, getinfo, dsetmetatable, getmetatable_raw =
  debug.sethook, debug.gethook, debug.traceback, debug.getinfo, debug.setmetatable, debug.getmetatable

local stdin, stdout, stderr = io.stdin, io.stdout, io.stderr
local fread, fwrite, fflush = stdin.read, stdout.write, stdout.flush

-- Where this script's own frames show up in tracebacks ("\t<short_src>:"), to strip them.
local HOST_SHORT_SRC = getinfo(1, "S").short_src
local HOST_SRC = "\t" .. HOST_SHORT_SRC .. ":"

---------------------------------------------------------------------------------------------
-- Limits (set by 'L'; per-request overrides come with 'E'/'V')
---------------------------------------------------------------------------------------------
local limits = {
  timeout_ms = 5000,      -- default per-request time limit; 0 = none
  memory_kb = 65536,      -- default Lua heap limit (KiB); 0 = none
  output_cap = 1048576,   -- max bytes of captured print output per request
  rep_cap = 16777216,     -- max bytes one string.rep call may produce
}

local HOOK_COUNT = 1000   -- the hook fires every HOOK_COUNT VM instructions
local DEEP_STACK = 100000 -- over the heap limit with a call stack this deep: "stack overflow"
local MAX_PCALL_DEPTH = 200 -- nested pcall/xpcall per coroutine (the C-stack limit of lua.c)

---------------------------------------------------------------------------------------------
-- Per-request state (shared upvalues of the hook and the sandbox wrappers)
---------------------------------------------------------------------------------------------
local deadline = huge     -- clock() value after which the request times out
local memlimit = huge     -- heap limit in KiB for the current request
local req_timeout_ms = 0  -- for the messages
local req_memory_kb = 0
local timed_out = false   -- set by the hook: the deadline passed during this request
local mem_flag = false    -- set by the hook: the heap is over its limit (cleared when back under)

-- Coroutines whose hook fires on every instruction ("armed"): after a timeout or a memory
-- error (so a pcall loop cannot run on), or asked by the GC canary for a check. run() puts
-- the ones left from an older request back on the count hook before user code runs again.
local armed = setmetatable({}, { __mode = "k" })
local any_armed = false

local hook -- the limit hook, below

local function arm(co)
  armed[co] = true
  any_armed = true
  sethook(co, hook, "", 1)
end

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

-- The limit hook: a count hook on every coroutine that runs user code, so it runs in the
-- user coroutine, never on the host's main thread. It reads the CURRENT request's limits.
hook = function()
  if clock() > deadline then
    timed_out = true
    local co = co_running()
    if not armed[co] then arm(co) end
    local msg = timeout_message()
    hook_err[co] = msg
    error(msg, 0)
  end
  if collectgarbage("count") > memlimit then
    collectgarbage("collect")
    if collectgarbage("count") > memlimit then
      local co = co_running()
      -- A very deep Lua call stack is what filled the heap: report it the way Lua
      -- would have a little later (its own limit is ~1M levels), as a runtime error.
      if getinfo(DEEP_STACK, "") then
        local msg = "stack overflow"
        local w = getinfo(2, "Sl") -- the interrupted function
        if w and w.currentline > 0 and w.short_src ~= HOST_SHORT_SRC then
          msg = w.short_src .. ":" .. w.currentline .. ": " .. msg
        end
        hook_err[co] = msg
        error(msg, 0)
      end
      mem_flag = true
      if not armed[co] then arm(co) end
      local msg = memory_message()
      hook_err[co] = msg
      error(msg, 0)
    end
  end
  if any_armed then
    local co = co_running()
    if armed[co] then
      -- within the limits (a memory error is over, or a canary check): back to the count
      armed[co] = nil
      mem_flag = false
      sethook(co, hook, "", HOOK_COUNT)
    end
  end
end

-- Puts coroutines armed during an older request back on the count hook.
local function disarm_all()
  for co in next, armed do
    armed[co] = nil
    sethook(co, hook, "", HOOK_COUNT)
  end
  any_armed = false
end

-- GC canary: a host object whose finalizer runs once per GC cycle. One instruction can grow
-- the heap a lot (`s = s .. s` doubles it), far faster than every HOOK_COUNT instructions; a
-- GC cycle completes about every time the heap doubles, so the canary asks the hook of the
-- running user coroutine to check the limits at its next instruction. (Finalizers run with
-- hooks off and their errors are only warnings: this one never raises.)
local canary_mt = {}
canary_mt.__gc = function()
  local co = co_running()
  if gethook(co) == hook and not armed[co] then arm(co) end
  setmetatable({}, canary_mt) -- the canary for the next cycle
end
setmetatable({}, canary_mt)

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

-- Runs in the user coroutine, where the hook may raise between any two instructions: the
-- piece is stored before out_n counts it, so out[1..out_n] never has a hole.
local function out_add(s)
  local l = #s
  local cap = limits.output_cap
  if out_len + l > cap then
    out_trunc = true
    local room = cap - out_len
    out_len = cap
    if room > 0 then
      out[out_n + 1] = sub(s, 1, room)
      out_n = out_n + 1
    end
    out[out_n + 1] = TRUNC_MARK
    out_n = out_n + 1
  else
    out[out_n + 1] = s
    out_n = out_n + 1
    out_len = out_len + l
  end
end

local function out_reset()
  out, out_n, out_len, out_trunc = {}, 0, 0, false
end

local function out_take()
  if out_n == 0 then return "" end
  local s = out_n == 1 and out[1] or concat(out, "", 1, out_n)
  if out_n > 64 then
    out = {} -- a table never shrinks its array part: a big one would count against the heap limit
  else
    for i = 1, out_n do out[i] = nil end
  end
  out_n = 0
  return s
end

---------------------------------------------------------------------------------------------
-- Sandbox wrappers
--
-- They run in the user coroutine, under the hook. They check arguments themselves and raise
-- with error(msg, 2), so messages carry the user's position, as the real functions' do (a C
-- function raising from here would name this script). They call no pcall around user code:
-- see the pcall comment below.
---------------------------------------------------------------------------------------------
local env -- the current sandbox environment (rebuilt by 'Z')

local function argerror(i, fname, expected, v, present)
  error(format("bad argument #%d to '%s' (%s expected, got %s)", i, fname, expected,
    present and type(v) or "no value"), 3)
end

-- print: captured. tostring as luaL_tolstring does it, with the __tostring call made here
-- (a "must return a string" error then names the user's line, as the real print's does).
local function tostr(v)
  local mt = getmetatable_raw(v)
  if mt ~= nil then
    local f = rawget(mt, "__tostring")
    if f ~= nil then
      local r = f(v)
      local tr = type(r)
      if tr == "string" then return r end
      if tr == "number" then return num2str(r) end
      error("'__tostring' must return a string", 3)
    end
  end
  return tostring(v)
end

local function sb_print(...)
  if out_trunc then return end
  local n = select("#", ...)
  if n == 1 then
    out_add(tostr((...)))
  elseif n > 1 then
    local args = pack(...)
    for i = 1, n do
      if i > 1 then out_add("\t") end
      if out_trunc then return end
      out_add(tostr(args[i]))
      if out_trunc then return end
    end
  end
  if not out_trunc then out_add("\n") end
end

-- load: text only; the environment is the sandbox unless one is passed (even nil).
local function sb_load(...)
  local nargs = select("#", ...)
  local chunk, chunkname = ...
  local tc = type(chunk)
  if tc ~= "string" and tc ~= "number" and tc ~= "function" then
    argerror(1, "load", "function", chunk, nargs >= 1)
  end
  local tn = type(chunkname)
  if tn ~= "nil" and tn ~= "string" and tn ~= "number" then
    argerror(2, "load", "string", chunkname, true)
  end
  if nargs >= 4 then
    return load(chunk, chunkname, "t", (select(4, ...)))
  end
  return load(chunk, chunkname, "t", env)
end

local function sb_setmetatable(...)
  local nargs = select("#", ...)
  local t, mt = ...
  if type(t) ~= "table" then argerror(1, "setmetatable", "table", t, nargs >= 1) end
  if mt ~= nil and type(mt) ~= "table" then
    argerror(2, "setmetatable", "nil or table", mt, nargs >= 2)
  end
  local old = getmetatable_raw(t)
  if old ~= nil and rawget(old, "__metatable") ~= nil then
    error("cannot change a protected metatable", 2)
  end
  if mt ~= nil and rawget(mt, "__gc") ~= nil then
    error("__gc metamethods are not allowed in the sandbox", 2)
  end
  return setmetatable(t, mt)
end

local function sb_collectgarbage(opt, ...)
  if opt == nil or opt == "collect" then return collectgarbage("collect") end
  if opt == "count" or opt == "isrunning" then return collectgarbage(opt) end
  if opt == "step" then
    local n = ...
    if n == nil then return collectgarbage("step") end
    local ni = (type(n) == "number" or type(n) == "string") and tonumber(n)
    ni = ni and tointeger(ni)
    if not ni then argerror(2, "collectgarbage", "number", n, true) end
    return collectgarbage("step", ni)
  end
  error(format("collectgarbage option '%s' is not allowed in the sandbox",
    type(opt) == "string" and opt or type(opt)), 2)
end

-- coroutine.create / wrap: install the limit hook on every coroutine user code makes.
local function sb_co_create(...)
  local f = ...
  if type(f) ~= "function" then argerror(1, "create", "function", f, select("#", ...) >= 1) end
  local co = co_create(f)
  sethook(co, hook, "", HOOK_COUNT)
  return co
end

-- coroutine.close, except for a coroutine the hook killed (see hook_err): that one is only
-- marked closed (its pending __close handlers never run), and the first close reports the
-- hook's error, as closing a coroutine that died of an error does.
local function safe_close(co)
  local he = hook_err[co]
  if he ~= nil and co_status(co) == "dead" then
    hook_err[co] = false
    if he then return false, he end
    return true
  end
  return co_close(co)
end

local function sb_co_close(...)
  local co = ...
  if type(co) ~= "thread" then argerror(1, "close", "coroutine", co, select("#", ...) >= 1) end
  local st = co_status(co)
  if st == "running" or st == "normal" then
    error("cannot close a " .. st .. " coroutine", 2)
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

local function sb_co_wrap(...)
  local f = ...
  if type(f) ~= "function" then argerror(1, "wrap", "function", f, select("#", ...) >= 1) end
  local co = co_create(f)
  sethook(co, hook, "", HOOK_COUNT)
  return function(...)
    return wrap_ret(co, co_resume(co, ...))
  end
end

-- pcall / xpcall: at most MAX_PCALL_DEPTH nested per coroutine. On lua.c's main thread the
-- C-stack limit (200) bounds them. In a coroutine, a pcall that catches an error does not
-- stay on the C stack (Lua 5.4 "unrolls" the frames below it), so nothing bounds them, and
-- unwinding N nested pcalls one by one (what the armed hook makes happen after a timeout)
-- costs O(N^2) inside Lua: ~30 s for 140k levels. (For the same reason the wrappers here
-- call no pcall around user code: those would be unbounded catchers too.)
local pdepth = setmetatable({}, { __mode = "k" }) -- coroutine -> nested pcall/xpcall count
local PCALL_OVERFLOW = format("stack overflow (more than %d nested pcall/xpcall)", MAX_PCALL_DEPTH)

local function pcall_ret(co, d, ...)
  pdepth[co] = d
  return ...
end

local function sb_pcall(...)
  if select("#", ...) == 0 then error("bad argument #1 to 'pcall' (value expected)", 2) end
  local co = co_running()
  local d = pdepth[co] or 0
  if d >= MAX_PCALL_DEPTH then return false, PCALL_OVERFLOW end
  pdepth[co] = d + 1
  return pcall_ret(co, d, pcall(...))
end

-- xpcall: a message handler is called where the error is raised; for an error raised by
-- the limit hook that is inside the hook, where no hook fires. The handler is skipped then.
local function sb_xpcall(f, msgh, ...)
  if type(msgh) ~= "function" then
    argerror(2, "xpcall", "function", msgh, msgh ~= nil or select("#", ...) > 0)
  end
  local co = co_running()
  local d = pdepth[co] or 0
  if d >= MAX_PCALL_DEPTH then return false, PCALL_OVERFLOW end
  pdepth[co] = d + 1
  return pcall_ret(co, d, xpcall(f, function(e)
    local caller = getinfo(3, "f")
    if caller and caller.func == hook then return e end
    return msgh(e)
  end, ...))
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
    pcall = sb_pcall, xpcall = sb_xpcall, rawequal = rawequal, rawget = rawget, rawlen = rawlen,
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
  encoder_reset()
  return s
end


---------------------------------------------------------------------------------------------
-- Replies
---------------------------------------------------------------------------------------------
local function send_k(id, payload)
  fwrite(stdout, "K", id, format("%08x\n", #payload), payload)
  fflush(stdout)
end

local function send_r(id, n, json, output, trunc)
  -- (integer .. string gives the same decimal text as %d, and is cheaper than format)
  local pre = n .. " " .. #json .. " " .. #output .. (trunc and " 1\n" or " 0\n")
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
  local lines, n, dropped = {}, 0, false
  for line in gmatch(tb, "[^\n]+") do
    if find(line, HOST_SRC, 1, true) == 1 then
      while n > 1 and find(lines[n], "^\t%[C%]:") do
        lines[n] = nil
        n = n - 1
      end
      dropped = true
    elseif not (dropped and line == "\t(...tail calls...)") then
      n = n + 1
      lines[n] = line
      dropped = false
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
    json = "[" .. (...) .. "]" -- the common case, short (integer .. string is its %d text)
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
  if any_armed then disarm_all() end
  timed_out, mem_flag = false, false
  if out_n > 0 then out_reset() end
  out_len, out_trunc = 0, false
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

-- A handler failed in host code (in practice: an allocation failed under an OS memory limit).
local function host_failure(id, err)
  encoder_reset()
  out_reset()
  collectgarbage("collect")
  if err == "not enough memory" then
    send_x(id, "memory", "not enough memory")
  else
    send_x(id, "runtime", "host error: " .. error_message(err))
  end
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
      if not ok and not pcall(host_failure, id, err) then
        fwrite(stderr, "vmhost: cannot reply after a host failure, exiting\n")
        exit(3)
      end
    else
      send_x(id, "protocol", "unknown op " .. op_name(op))
    end
  end
  ::continue::
end
