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
--     the reply functions below (send_k, send_r, send_x, send_frame).
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
--   poll          the hook polls stdin every POLL_S (LuaSocket only): 'I' interrupts the
--                 running request (raised like a timeout, armed); other frames are queued
--   runner        requests that wait (vm.receive, sockets, vm.sleep, vm.send's answer) and
--                 background tasks are coroutines under the same hook, resumed by the event
--                 loop on the main thread; the sandbox's coroutine.resume/wrap pass waits up
--
-- Events, messages and sockets (protocol.md §11): frames I, D, A in; W, U, M, T out.

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
local co_create, co_resume, co_status, co_close, co_running, co_yield =
  coroutine.create, coroutine.resume, coroutine.status, coroutine.close, coroutine.running,
  coroutine.yield
local unpack = table.unpack
local exit = os.exit
-- Test-only VM types (ProcessBackend.UnsafeSandboxOffKey) pass this: scripts get the whole
-- standard library, so tests can prove the kernel confinement stops what the sandbox would.
local UNSAFE_LIBS = type(arg) == "table" and arg[1] == "--UNSAFE-lua-sandbox-off" and {
  os = os, io = io, require = require, package = package, debug = debug, dofile = dofile,
  loadfile = loadfile,
}
-- The deadline clock: wall time from LuaSocket when it is installed (gettimeofday, no system
-- call, and the clock the actor's kill deadline uses too, so on a loaded machine Lua's own
-- Timeout comes first); CPU time (os.clock, a system call) otherwise.
local clock = os.clock
-- LuaSocket, when installed, also gives the event loop: socket.select over stdin and sockets,
-- and stdin as a LuaSocket "serial" object on fd 0 (read() into an 8 KiB buffer that select
-- knows about through :dirty(), so a poll never misses bytes already read ahead, as it would
-- with stdio's hidden buffer). Without it: stdio reads, no polling, no sockets (protocol.md §11).
local sk, sk_select, sin
do
  local ok, core = pcall(require, "socket.core")
  if ok and type(core) == "table" and type(core.gettime) == "function" then
    clock = core.gettime
    if type(core.select) == "function" and type(core.tcp) == "function" then
      local sok, serial = pcall(require, "socket.serial")
      local s = sok and type(serial) == "function" and serial("/dev/null")
      if s then
        s:close()   -- the /dev/null descriptor; the object keeps its buffer and methods
        s:setfd(0)  -- now it reads stdin (blocking descriptor: see read_available below)
        sk, sk_select, sin = core, core.select, s
      end
    end
  end
end
local EVENTS = sin ~= nil -- the event loop (select, polling, timers, sockets) is available
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
  result_cap = 0,         -- max bytes of a request's encoded result; 0 = none (luaactors.limits.max-result-size)
  rep_cap = 16777216,     -- max bytes one string.rep call may produce
  net = 0,                -- 1: the sandbox gets the cooperative `socket` table (needs LuaSocket)
  net_sockets = 64,       -- max sockets open at once (select's FD_SETSIZE is 1024)
  max_tasks = 256,        -- max background tasks (vm.spawn) alive at once
}
-- String-valued 'L' keys (validated by their own parsers in handlers.L).
local settings = {
  vm_id = nil,                       -- what vm.id() returns (nil until set)
}                                    -- (net_bind, net_ports: parsed into net_rules, below)

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
local interrupted = false -- set when an 'I' frame named the running request (raised like timed_out)
local next_poll = huge    -- clock() value at which the hook next polls stdin (EVENTS only)
local POLL_S = 0.01       -- the hook polls stdin at most every 10 ms of the deadline clock
local poll_input          -- reads the frames waiting on stdin (below, with the event loop)
local INTERRUPT_MSG = "interrupted"

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
  local now = clock()
  if now > deadline then
    timed_out = true
    local co = co_running()
    if not armed[co] then arm(co) end
    local msg = timeout_message()
    hook_err[co] = msg
    error(msg, 0)
  end
  if now >= next_poll then
    -- Frames that came while user code runs: queued, except 'I' (may set `interrupted`) and
    -- the answers 'D'/'A' (routed to their waiters).
    next_poll = now + POLL_S
    poll_input()
  end
  if interrupted then
    -- like a timeout: armed, so every instruction raises again until the request is over
    local co = co_running()
    if not armed[co] then arm(co) end
    hook_err[co] = INTERRUPT_MSG
    error(INTERRUPT_MSG, 0)
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

-- Waiting (vm.receive, vm.send's answer, sockets, vm.sleep): the waiting wrapper yields
-- IOWAIT and what it waits for; the runner on the main thread (event loop, below) resumes the
-- coroutine with RESUME and the outcome. A wait inside a coroutine the user made passes up
-- through the sandbox's coroutine.resume/wrap (`through`) to the request's or task's own
-- coroutine, which the runner drives. User code never sees either sentinel.
local IOWAIT, RESUME = {}, {}

-- Passes an inner coroutine's wait up to our own runner and its outcome back down.
local function through(co, ok, a, ...)
  if a == IOWAIT and ok and co_status(co) == "suspended" then
    return through(co, co_resume(co, co_yield(IOWAIT, ...)))
  end
  return ok, a, ...
end

local function sb_co_resume(...)
  local co = ...
  if type(co) ~= "thread" then argerror(1, "resume", "coroutine", co, select("#", ...) >= 1) end
  return through(co, co_resume(...))
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
    return wrap_ret(co, through(co, co_resume(co, ...)))
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

local make_vm_table, make_socket_table -- the `vm` and `socket` tables (below, with the runner)

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
  co.resume = sb_co_resume
  e.coroutine = co
  e.vm = make_vm_table()
  if limits.net == 1 then e.socket = make_socket_table() end
  if UNSAFE_LIBS then
    for k, v in next, UNSAFE_LIBS do e[k] = v end
  end
  e._G = e
  return e
end

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

local ENC_TIMEOUT, ENC_MEMORY = {}, {} -- error sentinels of the encoder
local buf, bn = {}, 0
local onpath = {}
local enc_count, enc_deadline, enc_memlimit = 0, huge, huge
-- Bytes of values encoded so far, and the result cap past which the encoder stops (raising
-- this table itself). One table: the main chunk is at Lua's limit of 200 locals.
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
  if depth > 100 then -- the deepest table a result may nest (a literal: the main chunk is at 200 locals)
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

-- Any other frame the VM sends by itself (W, U, M, T: protocol.md §11).
local function send_frame(op, id, payload)
  fwrite(stdout, op, id, format("%08x\n", #payload), payload)
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

local suspend -- a request that waits (vm.receive, sockets, ...) is driven by the runner (below)

local function finish(id, co, ok, ...)
  if not ok then
    if interrupted then return fail(id, co, "interrupted", INTERRUPT_MSG) end
    if timed_out then return fail(id, co, "timeout", timeout_message()) end
    if mem_flag then return fail(id, co, "memory", memory_message()) end
    local e = ...
    if e == "not enough memory" then return fail(id, co, "memory", e) end
    return fail(id, co, "runtime", error_message(e))
  end
  if co_status(co) ~= "dead" then
    if (...) == IOWAIT then return suspend(id, co, select(2, ...)) end
    -- the top level yielded
    return fail(id, co, "runtime", "attempt to yield from outside a coroutine")
  end
  -- Finished, but a coroutine it resumed hit a limit and it returned before its own hook
  -- fired: the limit was still exceeded.
  if interrupted then return fail(id, co, "interrupted", INTERRUPT_MSG, true) end
  if timed_out then return fail(id, co, "timeout", timeout_message(), true) end
  if mem_flag then return fail(id, co, "memory", memory_message(), true) end
  local n = select("#", ...)
  local json
  if n == 1 and type((...)) == "number" and mtype((...)) == "integer" then
    json = "[" .. (...) .. "]" -- the common case, short (integer .. string is its %d text)
  else
    enc_deadline = deadline
    enc_memlimit = memlimit == huge and huge or memlimit * 4
    enc_size.cap = limits.result_cap > 0 and limits.result_cap or huge
    local eok, res = pcall(encode_results, n, ...)
    enc_size.cap = huge
    if eok and limits.result_cap > 0 and #res > limits.result_cap then eok, res = false, enc_size end
    if not eok then
      encoder_reset()
      local output, trunc = out_take(), out_trunc
      if res == enc_size then
        collectgarbage("collect")
        return send_x(id, "too-large", format("the result is over luaactors.limits.max-result-size (%d bytes encoded); return less (the VM keeps its state)",
          limits.result_cap), "", output, trunc)
      end
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

local active_id -- id of the E/V request in progress (running or waiting), for 'I' frames

local function run(id, fn, tms, mkb)
  if any_armed then disarm_all() end
  timed_out, mem_flag, interrupted = false, false, false
  if out_n > 0 then out_reset() end
  out_len, out_trunc = 0, false
  if tms == 0 then tms = limits.timeout_ms end
  if mkb == 0 then mkb = limits.memory_kb end
  req_timeout_ms, req_memory_kb = tms, mkb
  memlimit = mkb > 0 and mkb or huge
  local co = co_create(fn)
  sethook(co, hook, "", HOOK_COUNT)
  active_id = id
  local now = clock()
  deadline = tms > 0 and now + tms / 1000 or huge
  if EVENTS then next_poll = now + POLL_S end
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

-- 'L': numeric keys as before; string keys vm_id, net_bind, net_ports (protocol.md §3, §11.2).
local parse_net -- (key, text) -> the parsed net_bind/net_ports value, or nil (below, sockets)
local net_rules -- { bind = set of canonical addresses, lo = port, hi = port }

handlers.L = function(id, payload)
  local new, news = {}, {}
  for line in gmatch(payload, "[^\n]+") do
    local k, v = match(line, "^([%w_]+)=(.*)$")
    if k == "vm_id" then
      news.vm_id = v -- "" unsets it
    elseif k == "net_bind" or k == "net_ports" then
      local parsed = parse_net(k, v)
      if not parsed then return send_x(id, "protocol", "bad 'L' payload line: " .. line) end
      news[k] = parsed
    else
      v = v and match(v, "^%d+$") and tointeger(tonumber(v))
      if not k or limits[k] == nil or not v or (k == "net" and v > 1) then
        return send_x(id, "protocol", "bad 'L' payload line: " .. line)
      end
      new[k] = v
    end
  end
  if new.net == 1 and not EVENTS then
    return send_x(id, "protocol", "net=1 needs LuaSocket (the lua-socket package)")
  end
  local net_was = limits.net
  for k, v in next, new do limits[k] = v end
  if news.vm_id then settings.vm_id = news.vm_id ~= "" and news.vm_id or nil end
  if news.net_bind then net_rules.bind = news.net_bind end
  if news.net_ports then net_rules.lo, net_rules.hi = news.net_ports[1], news.net_ports[2] end
  if limits.net ~= net_was then
    rawset(env, "socket", limits.net == 1 and make_socket_table() or nil)
  end
  return send_k(id, "")
end

handlers.P = function(id)
  return send_k(id, LUA_VERSION)
end

local reset_runner -- drops tasks, waits and sockets (below)

handlers.Z = function(id)
  reset_runner()
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
-- Input: whole frames from stdin, and the queue of frames read early
--
-- Frames that arrive while a request runs or waits (read by the hook's poll or the event
-- loop) go into `inq` and are handled later, in order. 'I', 'D' and 'A' frames are never
-- queued: they act at once (ingest_ops).
---------------------------------------------------------------------------------------------
stdout:setvbuf("full", 65536)

local read_frame, stdin_ready
do
local HEADER_PAT = "^%x%x%x%x%x%x%x%x%x%x%x%x%x%x%x%x\n"


-- With LuaSocket stdin is the serial object (see the top); select sees its buffer through
-- :dirty(). Reads block until the bytes asked for are there; end of file exits.
-- read_payload(len): the payload, or nil when it could not be stored (not enough memory),
-- in which case all len bytes have been consumed, so the framing is kept.
local read_payload
if sin then
  local srecv, sstats = sin.receive, sin.getstats
  -- If a receive raises (an allocation failed), the bytes it had already taken from the
  -- buffer are gone: getstats() counts the bytes consumed, so the rest can be skipped.
  local function skip_rest(len)
    while len > 0 do
      local r0 = sstats(sin)
      local ok, d = pcall(srecv, sin, len < 65536 and len or 65536)
      if ok and d == nil then exit(0) end
      len = len - (sstats(sin) - r0)
    end
  end
  read_payload = function(len)
    local r0 = sstats(sin)
    local ok, d = pcall(srecv, sin, len)
    if ok then
      if d == nil then exit(0) end
      return d
    end
    skip_rest(len - (sstats(sin) - r0))
    return nil
  end
else
  read_payload = function(len)
    local ok, p = pcall(fread, stdin, len)
    if not ok then
      -- Lua's read reserves the whole buffer before reading: nothing was consumed
      while len > 0 do
        local piece = fread(stdin, len < 65536 and len or 65536)
        if not piece or #piece == 0 then exit(0) end
        len = len - #piece
      end
      return nil
    end
    if p == nil or #p < len then exit(0) end
    return p
  end
end

-- One whole frame: op, id, payload, bad (bad: the payload did not fit in memory and was
-- skipped). A malformed header ends the process, as always.
local srecv = sin and sin.receive
local PIECE = 1024

read_frame = function()
  local h
  if srecv then h = srecv(sin, 18) else h = fread(stdin, 18) end
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
  if len == 0 then return op, id, "" end
  local p
  if srecv and len <= PIECE then -- the common case, without a call more
    -- A receive of at most LUAL_BUFFERSIZE (1024) bytes builds its result in a C stack
    -- buffer: if it raises, it raised making the final string, after consuming all of it.
    local ok
    ok, p = pcall(srecv, sin, len)
    if not ok then p = nil elseif p == nil then exit(0) end
  else
    p = read_payload(len)
  end
  if p == nil then
    collectgarbage("collect")
    return op, id, nil, true
  end
  return op, id, p
end

end

local inq, qhead, qtail = {}, 1, 0 -- frames read early: { op, id, payload, bad, interrupted }
local ingest_ops = {}              -- op -> function(id, payload, bad) for 'I', 'D', 'A'

local function ingest(op, id, payload, bad)
  local f = ingest_ops[op]
  if f then return f(id, payload, bad) end
  qtail = qtail + 1
  inq[qtail] = { op, id, payload, bad, false }
end

-- Whether stdin has bytes now (LuaSocket only): in the serial object's buffer, or in the pipe.
if sin then
  local sin_dirty, sin_list = sin.dirty, { sin }
  stdin_ready = function()
    if sin_dirty(sin) then return true end
    local r = sk_select(sin_list, nil, 0)
    return r[1] ~= nil
  end
end

-- Reads the frames that are there (up to max). A frame whose first bytes are there is read to
-- its end: the C# side writes every frame with one write, so the rest is on its way.
local function read_available(max)
  local n = 0
  repeat
    ingest(read_frame())
    n = n + 1
  until n >= max or not stdin_ready()
end

-- From the hook, every POLL_S while user code runs (EVENTS only).
poll_input = function()
  if stdin_ready() then read_available(256) end
end

---------------------------------------------------------------------------------------------
-- The runner: requests that wait, background tasks, and the event loop
--
-- A record per coroutine the runner drives:
--   co, kind ("req" | "task"), id (8 hex digits: the request id, or the task id for 'T')
--   wait       what it waits for: "read"/"write" (sock), "recv" (wid), "call" (cid), "sleep"
--   wake_at    clock() value when the wait times out (nil: never)
--   sig        the outcome to resume it with, once it is in the ready list
--   requests also keep their limit context (deadline, flags, print buffer) while they wait;
--   a task gets a fresh context (the 'L' defaults) for every slice (resume until it waits).
-- Waiting never spins: the event loop blocks in socket.select on stdin and the sockets
-- waited for, with the nearest timer as timeout.
---------------------------------------------------------------------------------------------
local cur_req                         -- the request in progress, once it has waited
local ntasks, rhead, rtail = 0, 1, 0  -- background tasks alive; the ready list's bounds
local rwait, wwait = {}, {}           -- real socket -> record waiting for it
local events, wake, abandon, mailbox_empty, spawn_task
local post_call -- (op, name): an M whose A nobody waits for (the A is ignored, §11.1)

-- (in a function of its own: the main chunk is near Lua's limit of 200 locals)
;(function()
local tasks, next_tid = {}, 0         -- task number -> record
local ready = {}                      -- records to resume, in order (ready[rhead..rtail])
local in_task = false                 -- a task slice is running
local dwait, cwait = {}, {}           -- 'W' id / 'M' id -> record waiting for 'D' / 'A'
local timed = {}                      -- record -> true while a timer or a deadline applies
local mailbox, mb_head, mb_tail = {}, 1, 0 -- 'D' payloads not yet given to vm.receive
local frame_seq = 0                   -- ids of the frames the VM starts (W, M)

local function next_frame_id()
  frame_seq = (frame_seq + 1) & 0xffffffff
  return format("%08x", frame_seq)
end

post_call = function(op, name)
  send_frame("M", next_frame_id(), op .. " " .. #name .. " 0\n" .. name)
end

local function save_ctx(r)
  r.deadline, r.memlimit, r.tms, r.mkb = deadline, memlimit, req_timeout_ms, req_memory_kb
  r.timed_out, r.mem_flag, r.interrupted = timed_out, mem_flag, interrupted
  r.out, r.out_n, r.out_len, r.out_trunc = out, out_n, out_len, out_trunc
end

local function load_ctx(r)
  deadline, memlimit, req_timeout_ms, req_memory_kb = r.deadline, r.memlimit, r.tms, r.mkb
  timed_out, mem_flag, interrupted = r.timed_out, r.mem_flag, r.interrupted
  out, out_n, out_len, out_trunc = r.out, r.out_n, r.out_len, r.out_trunc
end

local function task_ctx()
  local tms, mkb = limits.timeout_ms, limits.memory_kb
  req_timeout_ms, req_memory_kb = tms, mkb
  local now = clock()
  deadline = tms > 0 and now + tms / 1000 or huge
  memlimit = mkb > 0 and mkb or huge
  timed_out, mem_flag, interrupted = false, false, false
  out, out_n, out_len, out_trunc = {}, 0, 0, false
  if EVENTS then next_poll = now + POLL_S end
end

-- Forgets what r waits for.
local function unwait(r)
  local w = r.wait
  if w == "read" then
    if rwait[r.sock] == r then rwait[r.sock] = nil end
  elseif w == "write" then
    if wwait[r.sock] == r then wwait[r.sock] = nil end
  elseif w == "recv" then
    if dwait[r.wid] == r then dwait[r.wid] = nil end
  elseif w == "call" then
    if cwait[r.cid] == r then cwait[r.cid] = nil end
  end
  r.wait, r.sock, r.wake_at = nil, nil, nil
  timed[r] = nil
end

-- Gives up what r waits for: a pending 'W' is cancelled with 'U' (its 'D' still comes, and a
-- message in it goes to the mailbox).
abandon = function(r)
  if r.wait == "recv" then
    if not r.u_sent then send_frame("U", r.wid, "") end
  end
  unwait(r)
end

wake = function(r, ...)
  unwait(r)
  r.sig = pack(...)
  rtail = rtail + 1
  ready[rtail] = r
end

local function mailbox_push(payload)
  mb_tail = mb_tail + 1
  mailbox[mb_tail] = payload
end

mailbox_empty = function()
  return mb_head > mb_tail
end

local function mailbox_pop()
  local p = mailbox[mb_head]
  mailbox[mb_head] = nil
  mb_head = mb_head + 1
  if mb_head > mb_tail then mb_head, mb_tail = 1, 0 end
  return p
end

-- The encoder for outgoing message values (runs on the main thread, no hook).
local function encode_one(v)
  bn, enc_count = 0, 0
  enc_value(v, 0)
  local s = concat(buf, "", 1, bn)
  encoder_reset()
  return s
end

-- r has just yielded IOWAIT, kind, ...: set up its wait (main thread, r's context loaded).
local function register(r, kind, a, b, c, d)
  if kind == "read" or kind == "write" then
    -- a: real socket, b: timeout in seconds or nil
    local map = kind == "read" and rwait or wwait
    local other = map[a]
    if other and other ~= r then return wake(r, "busy") end
    map[a] = r
    r.wait, r.sock = kind, a
    if b then r.wake_at = clock() + b end
  elseif kind == "recv" then
    -- a: timeout in seconds or nil
    if mb_head <= mb_tail then return wake(r, "msg", mailbox_pop()) end
    local wid = next_frame_id()
    r.wait, r.wid, r.u_sent = "recv", wid, false
    dwait[wid] = r
    send_frame("W", wid, a and format("%d", math.ceil(a * 1000)) or "")
    if a then r.wake_at = clock() + a end
  elseif kind == "call" then
    -- a: op, b: target or topic, c: whether there is a value, d: the value
    local json = ""
    if c then
      enc_deadline = deadline
      enc_memlimit = memlimit == huge and huge or memlimit * 4
      local ok, res = pcall(encode_one, d)
      if not ok then
        encoder_reset()
        collectgarbage("collect")
        if res == ENC_TIMEOUT then return wake(r, "deadline") end
        return wake(r, "error", "the message value is too large to encode")
      end
      json = res
    end
    local cid = next_frame_id()
    r.wait, r.cid = "call", cid
    cwait[cid] = r
    send_frame("M", cid, a .. " " .. #b .. " " .. #json .. "\n" .. b .. json)
  elseif kind == "sleep" then
    r.wait = "sleep"
    r.wake_at = clock() + a
  else
    return wake(r, "ok")
  end
  if r.wake_at or (r.kind == "req" and r.deadline < huge) then timed[r] = true end
end

local function emit_task(r, status, msg, tb)
  local output, trunc = out_take(), out_trunc
  tb = tb or ""
  local pre = format("%s %d %d %d %d\n", status, #msg, #tb, #output, trunc and 1 or 0)
  send_frame("T", r.id, pre .. msg .. tb .. output)
end

local function task_end(r, kind, msg, finished)
  r.dead = true
  if tasks[r.tid] == r then
    tasks[r.tid] = nil
    ntasks = ntasks - 1
  end
  unwait(r)
  local tb = ""
  if kind ~= "done" then
    if not finished then tb = user_traceback(r.co) end
    safe_close(r.co)
    if kind == "memory" then collectgarbage("collect") end
  end
  emit_task(r, kind, msg, tb)
end

local function task_after(r, ok, ...)
  local co = r.co
  if not ok then
    if timed_out then return task_end(r, "timeout", timeout_message()) end
    if mem_flag then return task_end(r, "memory", memory_message()) end
    local e = ...
    if e == "not enough memory" then return task_end(r, "memory", e) end
    return task_end(r, "runtime", error_message(e))
  end
  if co_status(co) == "dead" then
    if timed_out then return task_end(r, "timeout", timeout_message(), true) end
    if mem_flag then return task_end(r, "memory", memory_message(), true) end
    return task_end(r, "done", "", true)
  end
  if out_n > 0 then emit_task(r, "output", "") end
  if (...) == IOWAIT then
    r.plain = false
    return register(r, select(2, ...))
  end
  -- a plain coroutine.yield at the task's top level: let the others run, then go on
  r.plain = true
  return wake(r)
end

local function resume(r)
  local sig = r.sig
  r.sig = nil
  if r.dead then return end
  if any_armed then disarm_all() end
  if r.kind == "req" then
    load_ctx(r)
    if EVENTS then next_poll = clock() + POLL_S end
    local co = r.co
    -- finish() replies, or registers the next wait through suspend()
    finish(r.id, co, co_resume(co, RESUME, unpack(sig, 1, sig.n)))
    if r.wait == nil and r.sig == nil then
      r.done = true
      cur_req = nil
      active_id = nil
    end
    return
  end
  task_ctx()
  in_task = true
  if r.fresh then
    r.fresh = false
    task_after(r, co_resume(r.co, unpack(sig, 1, sig.n)))
  elseif r.plain then
    task_after(r, co_resume(r.co))
  else
    task_after(r, co_resume(r.co, RESUME, unpack(sig, 1, sig.n)))
  end
  in_task = false
end

-- Resumes the records that were ready when it started; those made ready meanwhile (a task
-- that yields, a wake from a frame) wait for the next turn, so stdin is never starved.
local function run_ready()
  local last = rtail
  while rhead <= last do
    local r = ready[rhead]
    ready[rhead] = nil
    rhead = rhead + 1
    resume(r)
  end
  if rhead > rtail then rhead, rtail = 1, 0 end
end

-- Timers: wakes the records whose wait or deadline has passed.
local function expire(now)
  for r in next, timed do
    if r.kind == "req" and now >= r.deadline then
      abandon(r)
      wake(r, "deadline")
    elseif r.wake_at and now >= r.wake_at then
      if r.wait == "recv" then
        -- vm.receive's timeout: cancel the 'W'; the 'D' that answers it (a message that
        -- crossed the 'U', or an empty one) ends the wait
        send_frame("U", r.wid, "")
        r.u_sent, r.wake_at = true, nil
        if not (r.kind == "req" and r.deadline < huge) then timed[r] = nil end
      else
        wake(r, "timeout")
      end
    end
  end
end

-- One turn of the event loop: waits (blocking if `block` and nothing is ready) for stdin,
-- the sockets waited for, or the nearest timer; then resumes whatever became ready.
events = function(block)
  local timeout
  if not block or rhead <= rtail then timeout = 0 end
  local now = clock()
  if next(timed) ~= nil then
    for r in next, timed do
      local t = r.wake_at
      if r.kind == "req" and r.deadline < huge and (t == nil or r.deadline < t) then t = r.deadline end
      if t then
        t = t - now
        if timeout == nil or t < timeout then timeout = t end
      end
    end
    if timeout and timeout < 0 then timeout = 0 end
  end
  if not EVENTS then
    -- no select: only frames can wake anything (vm.send and friends wait for their 'A')
    if timeout ~= 0 then ingest(read_frame()) end
    return run_ready()
  end
  local rl, wl, nr, nw = { sin }, {}, 1, 0
  for s in next, rwait do nr = nr + 1; rl[nr] = s end
  for s in next, wwait do nw = nw + 1; wl[nw] = s end
  local r, w = sk_select(rl, wl, timeout)
  if r[sin] then read_available(256) end
  for i = 1, #r do
    local rec = rwait[r[i]]
    if rec then wake(rec, "ok") end
  end
  for i = 1, #w do
    local rec = wwait[w[i]]
    if rec then wake(rec, "ok") end
  end
  if next(timed) ~= nil then expire(clock()) end
  return run_ready()
end

-- The request in progress waits: run the event loop until it is answered.
suspend = function(id, co, ...)
  local r = cur_req
  if r then
    save_ctx(r)
    return register(r, ...)
  end
  r = { co = co, kind = "req", id = id }
  cur_req = r
  save_ctx(r)
  register(r, ...)
  repeat events(true) until r.done
end

---------------------------------------------------------------------------------------------
-- Frames that act at once: 'I' interrupt, 'D' deliver, 'A' answer (protocol.md §11)
---------------------------------------------------------------------------------------------
ingest_ops.I = function(id)
  if active_id == id then
    local _, main = co_running()
    if not main and not in_task then
      interrupted = true -- the request is running: the hook raises when the poll returns
    elseif cur_req and not cur_req.done then
      cur_req.interrupted = true
      if cur_req.wait then
        abandon(cur_req)
        wake(cur_req, "interrupt")
      end
    end
    return
  end
  for i = qhead, qtail do
    local f = inq[i]
    if f[2] == id and (f[1] == "E" or f[1] == "V") then
      f[5] = true
      return
    end
  end
  -- a request already answered (or never seen): nothing to do
end

ingest_ops.D = function(wid, payload, bad)
  local r = dwait[wid]
  if r then
    if bad then return wake(r, "error", "not enough memory to read the message") end
    return wake(r, "msg", payload)
  end
  if payload and payload ~= "" then mailbox_push(payload) end
end

ingest_ops.A = function(cid, payload, bad)
  local r = cwait[cid]
  if not r then return end
  if bad then return wake(r, "answer", "error\nnot enough memory to read the answer") end
  return wake(r, "answer", payload)
end

-- A new background task (vm.spawn): ready to start with the packed arguments.
spawn_task = function(co, args)
  next_tid = next_tid + 1
  local r = { co = co, kind = "task", tid = next_tid, id = format("%08x", next_tid & 0xffffffff),
    fresh = true, sig = args }
  tasks[next_tid] = r
  ntasks = ntasks + 1
  rtail = rtail + 1
  ready[rtail] = r
  return next_tid
end

reset_runner = function()
  for _, r in next, tasks do
    r.dead = true
    abandon(r)
  end
  tasks, ntasks = {}, 0
  ready, rhead, rtail = {}, 1, 0
end

end)() -- the runner

---------------------------------------------------------------------------------------------
-- Waiting from user code (runs in the user coroutine, under the hook)
---------------------------------------------------------------------------------------------
;(function() -- the `vm` and `socket` tables (a function: the main chunk is near 200 locals)

---------------------------------------------------------------------------------------------
-- JSON decoding of inbound messages (strict; the inverse of the encoder, §7 and §11.5)
--
-- Integers stay integers (floats are numbers with '.', 'e' or 'E'), the {"$type":"bytes"} and
-- {"$type":"float"} placeholders become strings and floats again, object names that are
-- canonical decimal integers become integer keys and "$bytes:..." names become byte-string
-- keys. null becomes nil (an array with nulls has holes). Anything else that is not strict
-- JSON (RFC 8259: no leading zeros, no trailing commas, escapes only as listed, no raw
-- control characters, valid UTF-8, nothing after the value) is an error.
---------------------------------------------------------------------------------------------
local json_decode
do
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

json_decode = function(s)
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
        pn = pn + 1; parts[pn] = utf8.char(cp)
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
end

---------------------------------------------------------------------------------------------
local function raise_limit(msg)
  local co = co_running()
  if not armed[co] then arm(co) end
  hook_err[co] = msg
  error(msg, 0)
end

-- Yields to the runner and returns the outcome: sig, ... . Interrupts and the request's
-- deadline are raised here like the hook raises them (armed: pcall cannot swallow them).
local function await(...)
  local tok, sig, a, b = co_yield(IOWAIT, ...)
  if tok ~= RESUME then error("a coroutine that waits for I/O was resumed by user code", 0) end
  if interrupted then raise_limit(INTERRUPT_MSG) end
  if sig == "deadline" then
    timed_out = true
    raise_limit(timeout_message())
  end
  if sig == "interrupt" then
    interrupted = true
    raise_limit(INTERRUPT_MSG)
  end
  return sig, a, b
end

local function need_events(fname)
  if not EVENTS then error(fname .. " needs LuaSocket (the lua-socket package)", 3) end
end

-- argerror for helpers of wrappers (one level deeper)
local function argerror2(i, fname, expected, v, present)
  error(format("bad argument #%d to '%s' (%s expected, got %s)", i, fname, expected,
    present and type(v) or "no value"), 4)
end

local function check_timeout(v, i, fname, present)
  if v == nil then return nil end
  if type(v) ~= "number" or v ~= v then argerror2(i, fname, "number", v, present) end
  if v < 0 or v > 1e9 then return nil end -- negative or beyond ~30 years: no timeout
  return v
end

---------------------------------------------------------------------------------------------
-- The `vm` table: messaging through the C# side (protocol.md §11.4)
---------------------------------------------------------------------------------------------
local vm_sleep
do
local function parse_answer(payload)
  local nl = find(payload, "\n", 1, true)
  local status = nl and sub(payload, 1, nl - 1) or payload
  local body = nl and sub(payload, nl + 1) or ""
  if status == "ok" then
    if body == "" then return true, true end
    local ok, v = pcall(json_decode, body)
    if not ok then return false, "bad answer from the host: " .. v end
    return true, v
  end
  if status == "error" then return false, body end
  return false, "bad answer from the host"
end

local function vm_call(op, name, has_value, value)
  local sig, payload = await("call", op, name, has_value, value)
  if sig == "error" then error(payload, 3) end
  local ok, v = parse_answer(payload)
  if not ok then error(v, 3) end
  return v
end

local function name_arg(v, i, fname, what, present)
  if type(v) ~= "string" then argerror2(i, fname, "string", v, present) end
  if #v == 0 then error(format("bad argument #%d to '%s' (empty %s)", i, fname, what), 3) end
  return v
end

local function vm_send(...)
  local n = select("#", ...)
  local target, value = ...
  name_arg(target, 1, "send", "target", n >= 1)
  if n < 2 then error("bad argument #2 to 'send' (value expected)", 2) end
  local v = vm_call("send", target, true, value)
  return v
end

local function vm_publish(...)
  local n = select("#", ...)
  local topic, value = ...
  name_arg(topic, 1, "publish", "topic", n >= 1)
  if n < 2 then error("bad argument #2 to 'publish' (value expected)", 2) end
  local v = vm_call("publish", topic, true, value)
  return v
end

local function vm_subscribe(...)
  local topic = ...
  name_arg(topic, 1, "subscribe", "topic", select("#", ...) >= 1)
  local v = vm_call("subscribe", topic, false)
  return v
end

local function vm_unsubscribe(...)
  local topic = ...
  name_arg(topic, 1, "unsubscribe", "topic", select("#", ...) >= 1)
  local v = vm_call("unsubscribe", topic, false)
  return v
end

local function vm_peers()
  local v = vm_call("peers", "", false)
  return v
end

local function vm_broadcast(...)
  if select("#", ...) < 1 then error("bad argument #1 to 'broadcast' (value expected)", 2) end
  local v = vm_call("broadcast", "", true, (...))
  return v
end

-- "<sender_len> <topic_len> <json_len>\n<sender><topic><json>" -> value, sender, topic
local function vm_receive(...)
  local t = check_timeout((...), 1, "receive", select("#", ...) >= 1)
  if mailbox_empty() then need_events("vm.receive") end
  local sig, payload = await("recv", t)
  if sig == "error" then error(payload, 2) end
  if payload == "" then return nil end
  local sl, tl, jl, pos = match(payload, "^(%d+) (%d+) (%d+)\n()")
  sl, tl, jl = tonumber(sl), tonumber(tl), tonumber(jl)
  if not sl or pos + sl + tl + jl - 1 ~= #payload then
    error("bad message from the host (malformed 'D' payload)", 2)
  end
  local sender = sub(payload, pos, pos + sl - 1)
  local topic = sub(payload, pos + sl, pos + sl + tl - 1)
  local ok, v = pcall(json_decode, sub(payload, pos + sl + tl))
  if not ok then error("bad message from the host: " .. v, 2) end
  return v, sl > 0 and sender or nil, tl > 0 and topic or nil
end

vm_sleep = function(...)
  local s = ...
  if type(s) ~= "number" or s ~= s then argerror(1, "sleep", "number", s, select("#", ...) >= 1) end
  need_events("vm.sleep")
  if s < 0 then s = 0 elseif s > 1e9 then s = huge end
  await("sleep", s)
end

local function vm_spawn(...)
  local f = ...
  if type(f) ~= "function" then argerror(1, "spawn", "function", f, select("#", ...) >= 1) end
  need_events("vm.spawn")
  if ntasks >= limits.max_tasks then
    error(format("too many tasks (limit %d)", limits.max_tasks), 2)
  end
  local co = co_create(f)
  sethook(co, hook, "", HOOK_COUNT)
  return spawn_task(co, pack(select(2, ...)))
end

local function vm_id()
  return settings.vm_id
end

make_vm_table = function()
  return {
    id = vm_id, send = vm_send, receive = vm_receive, publish = vm_publish,
    subscribe = vm_subscribe, unsubscribe = vm_unsubscribe, peers = vm_peers,
    broadcast = vm_broadcast, spawn = vm_spawn, sleep = vm_sleep,
  }
end
end

---------------------------------------------------------------------------------------------
-- The `socket` table (net=1): cooperative TCP inside the network rule (protocol.md §11.6)
--
-- Every address is parsed (or resolved) ONCE to a canonical text, that text is checked, and
-- exactly that text is what the socket binds or dials: no second parser (inet_aton's octal,
-- hex and short forms) can read it differently. Ambiguous spellings are refused.
-- Binding: an address in net_bind, a port in net_ports. Connecting: the VM's actor decides
-- (an M "net-connect", answered from the cluster's listener registry and the operator's list).
---------------------------------------------------------------------------------------------
do
local mrandom = math.random

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

parse_net = function(k, text)
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
net_rules = { bind = { ["127.0.0.1"] = true, ["::1"] = true }, lo = 20000, hi = 29999 }

local UNSPECIFIED = { ["0.0.0.0"] = true, ["::"] = true }

-- host of a bind -> canonical address and family, or nil and why
local function bind_address(host)
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

local function ports_text()
  return format("%d-%d", net_rules.lo, net_rules.hi)
end

-- An M call the VM waits for: true, or nil and the error text of the A.
local function net_call(op, name)
  local sig, payload = await("call", op, name, false)
  if sig ~= "answer" then return nil, tostring(payload or sig) end
  if sub(payload, 1, 3) == "ok\n" then return true end
  if sub(payload, 1, 6) == "error\n" then return nil, sub(payload, 7) end
  return nil, "bad answer from the host"
end

local sock_real = setmetatable({}, { __mode = "k" }) -- wrapper -> real LuaSocket object (false: not made yet)
local sock_kind = setmetatable({}, { __mode = "k" }) -- wrapper -> "master" | "server" | "client" | "closed"
local sock_tmo = setmetatable({}, { __mode = "k" })  -- wrapper -> timeout (seconds) or nil
local sock_addr = setmetatable({}, { __mode = "k" }) -- wrapper -> "ip port" it is bound to (master, server)
local sock_reg = setmetatable({}, { __mode = "k" })  -- wrapper -> true: a listener the owner registered
local counted = setmetatable({}, { __mode = "k" })   -- wrapper -> true: counted in nopen
local open_socks, nopen = {}, 0                      -- real -> true: open sockets (closed by Z)
local sock_mt = { __metatable = "socket", __name = "socket" }
local sock_methods = {}
sock_mt.__index = sock_methods
sock_mt.__tostring = function(w)
  return format("tcp{%s}: %p", sock_kind[w] or "closed", w)
end

local function wrap_sock(real, kind)
  local w = setmetatable({}, sock_mt)
  sock_real[w], sock_kind[w], counted[w] = real, kind, true
  if real then open_socks[real] = true end
  nopen = nopen + 1
  return w
end

local function too_many()
  return format("too many sockets (limit %d)", limits.net_sockets)
end

-- The real socket of a master, made for the address family now that it is known: tcp4/tcp6
-- (socket.tcp() would defer the socket to bind/connect, and options set before then are lost).
local function make_real(w, fam, server)
  local real, err
  if fam == 6 then real, err = sk.tcp6() else real, err = sk.tcp4() end
  if not real then return nil, err end
  real:settimeout(0)
  if server then
    -- A port held by connections of a VM that just died (TIME_WAIT) is free to listen on again.
    local ok, oerr = real:setoption("reuseaddr", true)
    if not ok then
      real:close()
      return nil, "cannot set reuseaddr: " .. tostring(oerr)
    end
  end
  sock_real[w] = real
  open_socks[real] = true
  return real
end

local function checksock(w, fname, want)
  local real = sock_real[w]
  if real == nil then
    error(format("bad argument #1 to '%s' (socket expected, got %s)", fname, type(w)), 3)
  end
  if want and sock_kind[w] ~= want and sock_kind[w] ~= "closed" then
    error(format("calling '%s' on a %s socket", fname, sock_kind[w]), 3)
  end
  return real
end

local function closed_err(w)
  return sock_kind[w] == "closed" and "closed" or nil
end

local function until_of(w)
  return sock_tmo[w]
end

local function port_arg(p, i, fname)
  local n = tointeger(p)
  if not n or n < 0 or n > 65535 then argerror2(i, fname, "port number", p, true) end
  return n
end

-- Waits until real is readable/writable: "ok", "timeout", "closed" or "busy".
local function wait_sock(kind, real, w)
  local sig = await(kind, real, until_of(w))
  return sig
end

function sock_methods.settimeout(w, t)
  checksock(w, "settimeout")
  sock_tmo[w] = check_timeout(t, 2, "settimeout", true)
  return 1
end

function sock_methods.close(w)
  local real = checksock(w, "close")
  if counted[w] then
    counted[w] = nil
    nopen = nopen - 1
  end
  if real and open_socks[real] then
    open_socks[real] = nil
    local r = rwait[real]
    if r then wake(r, "closed") end
    r = wwait[real]
    if r then wake(r, "closed") end
    real:close()
  end
  if sock_reg[w] then
    -- The owner drops the listener from the registry (and from what a restart restores).
    sock_reg[w] = nil
    post_call("net-unlisten", sock_addr[w])
  end
  sock_kind[w] = "closed"
  return 1
end

function sock_methods.getsockname(w)
  local real = checksock(w, "getsockname")
  if not real then return nil, "not bound" end
  return real:getsockname()
end

function sock_methods.getpeername(w)
  local real = checksock(w, "getpeername", "client")
  if not real then return nil, closed_err(w) or "not connected" end
  return real:getpeername()
end

-- Binds real to ip:port; port 0 takes the first free port of net_ports from a random start.
local function bind_in_range(real, ip, port)
  local lo, hi = net_rules.lo, net_rules.hi
  if port ~= 0 then
    if port < lo or port > hi then
      return nil, format("port not allowed for listening: %d (luaactors.vm.networking.listen-ports %s)", port, ports_text())
    end
    return real:bind(ip, port)
  end
  local n = hi - lo + 1
  local first = mrandom(0, n - 1)
  local err
  for k = 0, n - 1 do
    local p = lo + (first + k) % n
    local ok
    ok, err = real:bind(ip, p)
    if ok then return ok end
    if err ~= "address already in use" then return nil, err end
  end
  return nil, format("no free port in luaactors.vm.networking.listen-ports %s", ports_text())
end

function sock_methods.bind(w, host, port)
  local real = checksock(w, "bind", "master")
  if type(host) ~= "string" then argerror(1, "bind", "string", host, true) end
  port = port_arg(port, 2, "bind")
  if sock_kind[w] == "closed" then return nil, "closed" end
  if real then return nil, "already bound or connecting" end
  local ip, fam = bind_address(host)
  if not ip then return nil, fam end
  local err
  real, err = make_real(w, fam, true)
  if not real then return nil, err end
  local ok
  ok, err = bind_in_range(real, ip, port)
  if not ok then return nil, err end
  local _, bound = real:getsockname()
  sock_addr[w] = ip .. " " .. tostring(bound)
  return 1
end

function sock_methods.listen(w, backlog)
  local real = checksock(w, "listen", "master")
  if not real or not sock_addr[w] then return nil, closed_err(w) or "not bound" end
  local ok, err = real:listen(tointeger(backlog) or 32)
  if not ok then return ok, err end
  sock_kind[w] = "server"
  -- Other VMs may connect to it once the owner has it in the listener registry.
  ok, err = net_call("net-listen", sock_addr[w])
  if not ok then
    sock_methods.close(w)
    return nil, err
  end
  sock_reg[w] = true
  return 1
end

function sock_methods.accept(w)
  local real = checksock(w, "accept", "server")
  if not real then return nil, "closed" end
  while true do
    local c, err = real:accept()
    if c then
      if nopen >= limits.net_sockets then
        c:close()
        return nil, too_many()
      end
      c:settimeout(0)
      return wrap_sock(c, "client")
    end
    if err ~= "timeout" then return nil, err end
    local sig = wait_sock("read", real, w)
    if sig ~= "ok" then return nil, sig end
  end
end

function sock_methods.connect(w, host, port)
  local real = checksock(w, "connect", "master")
  if type(host) ~= "string" then argerror(1, "connect", "string", host, true) end
  port = port_arg(port, 2, "connect")
  if sock_kind[w] == "closed" then return nil, "closed" end
  if real then return nil, "already bound or connecting" end
  local ip, fam = canonical(host)
  if not ip then return nil, fam end
  if UNSPECIFIED[ip] then return nil, "cannot connect to the unspecified address " .. ip end
  -- The owner answers whether ip:port is a VM listener of this cluster or an operator-listed
  -- endpoint; the dial below uses exactly the address it checked.
  local ok, err = net_call("net-connect", ip .. " " .. port)
  if not ok then return nil, err end
  if sock_kind[w] == "closed" then return nil, "closed" end
  real, err = make_real(w, fam, false)
  if not real then return nil, err end
  ok, err = real:connect(ip, port)
  if not ok and err == "timeout" then
    local sig = wait_sock("write", real, w)
    if sig ~= "ok" then return nil, sig end
    ok, err = real:connect(ip, port)
    if not ok and err == "already connected" then ok = 1 end
  end
  if not ok then return nil, err end
  sock_kind[w] = "client"
  return 1
end

function sock_methods.send(w, data, i, j)
  local real = checksock(w, "send", "client")
  local td = type(data)
  if td == "number" then data = num2str(data)
  elseif td ~= "string" then argerror(1, "send", "string", data, true) end
  if not real then return nil, closed_err(w) or "not connected", 0 end
  i, j = tointeger(i) or 1, tointeger(j) or -1
  while true do
    local last, err, sent = real:send(data, i, j)
    if last then return last end
    if err ~= "timeout" then return nil, err, sent end
    i = sent + 1
    local sig = wait_sock("write", real, w)
    if sig ~= "ok" then return nil, sig, sent end
  end
end

function sock_methods.receive(w, pattern, prefix)
  local real = checksock(w, "receive", "client")
  if pattern == nil then pattern = "*l" end
  local tp = type(pattern)
  local all = pattern == "*a" or pattern == "a"
  if tp == "number" then
    if pattern < 0 then argerror(1, "receive", "valid pattern", pattern, true) end
  elseif pattern ~= "*l" and pattern ~= "l" and not all then
    error("bad argument #1 to 'receive' (invalid receive pattern)", 2)
  end
  local acc = prefix
  if acc ~= nil and type(acc) ~= "string" then argerror(2, "receive", "string", acc, true) end
  acc = acc or ""
  if not real then return nil, closed_err(w) or "not connected", acc end
  local given = #acc
  while true do
    local data, err, partial = real:receive(pattern, acc)
    if data then return data end
    -- "*a" reads until the peer closes: the data that came before the close is the answer,
    -- whether it arrived with the close or in earlier reads (LuaSocket only counts the last
    -- read's bytes, so data read while waiting would otherwise come back as nil, "closed").
    if all and err == "closed" and #partial > given then return partial end
    if err ~= "timeout" then return nil, err, partial end
    acc = partial
    local sig = wait_sock("read", real, w)
    if sig ~= "ok" then return nil, sig, acc end
  end
end

function sock_methods.shutdown(w, how)
  local real = checksock(w, "shutdown", "client")
  if not real then return nil, closed_err(w) or "not connected" end
  return real:shutdown(how == nil and "both" or how)
end

function sock_methods.setoption(w, name, value)
  local real = checksock(w, "setoption")
  if name ~= "tcp-nodelay" and name ~= "keepalive" then
    error("bad argument #1 to 'setoption' (only 'tcp-nodelay' and 'keepalive' are allowed)", 2)
  end
  if not real then return nil, closed_err(w) or "set options once the socket is connected" end
  return real:setoption(name, value and true or false)
end

local function sb_tcp()
  if nopen >= limits.net_sockets then return nil, too_many() end
  return wrap_sock(false, "master")
end

local function sb_bind(host, port, backlog)
  local w, err = sb_tcp()
  if not w then return nil, err end
  local ok
  ok, err = sock_methods.bind(w, host, port)
  if ok then ok, err = sock_methods.listen(w, backlog) end
  if not ok then
    sock_methods.close(w)
    return nil, err
  end
  return w
end

local function sb_connect(host, port)
  local w, err = sb_tcp()
  if not w then return nil, err end
  local ok
  ok, err = sock_methods.connect(w, host, port)
  if not ok then
    sock_methods.close(w)
    return nil, err
  end
  return w
end

make_socket_table = function()
  return {
    tcp = sb_tcp, bind = sb_bind, connect = sb_connect, sleep = vm_sleep,
    gettime = sk and sk.gettime or nil, _VERSION = sk and sk._VERSION or nil,
  }
end

local reset_tasks = reset_runner
reset_runner = function()
  reset_tasks()
  for real in next, open_socks do real:close() end
  -- (the owner forgets this VM's listeners when the reset is answered)
  open_socks, nopen = {}, 0
  counted = setmetatable({}, { __mode = "k" })
  sock_reg = setmetatable({}, { __mode = "k" })
  rwait, wwait = {}, {}
end
end

end)() -- the `vm` and `socket` tables

---------------------------------------------------------------------------------------------
-- Main loop
---------------------------------------------------------------------------------------------
env = new_env()

-- (a function: the main chunk is near Lua's limit of 200 locals)
local function main()
local function op_name(op)
  if find(op, "^%g$") then return "'" .. op .. "'" end
  return format("byte 0x%02x", byte(op))
end


-- A handler failed in host code (in practice: an allocation failed under an OS memory limit).
local function host_failure(id, err)
  encoder_reset()
  out_reset()
  collectgarbage("collect")
  if cur_req then
    abandon(cur_req)
    cur_req.done = true
    cur_req = nil
  end
  if err == "not enough memory" then
    send_x(id, "memory", "not enough memory")
  else
    send_x(id, "runtime", "host error: " .. error_message(err))
  end
end

local function dispatch(op, id, payload, bad, intr)
  local handler = handlers[op]
  if handler == nil then
    local f = ingest_ops[op]
    if f then return f(id, payload, bad) end
    return send_x(id, "protocol", "unknown op " .. op_name(op))
  end
  if bad then
    return send_x(id, "memory", "not enough memory to read the request payload")
  end
  if intr then return send_x(id, "interrupted", INTERRUPT_MSG) end
  local ok, err = pcall(handler, id, payload)
  active_id = nil
  if not ok and not pcall(host_failure, id, err) then
    fwrite(stderr, "vmhost: cannot reply after a host failure, exiting\n")
    exit(3)
  end
end

-- (dispatch inlined for the common case: a request read directly, nothing queued)

while true do
  if ntasks > 0 or rhead <= rtail then events(qhead > qtail) end
  if qhead <= qtail then
    local f = inq[qhead]
    inq[qhead] = nil
    qhead = qhead + 1
    if qhead > qtail then qhead, qtail = 1, 0 end
    dispatch(f[1], f[2], f[3], f[4], f[5])
  elseif ntasks == 0 and rhead > rtail then
    local op, id, payload, bad = read_frame()
    local handler = handlers[op]
    if handler and not bad then
      local ok, err = pcall(handler, id, payload)
      active_id = nil
      if not ok and not pcall(host_failure, id, err) then
        fwrite(stderr, "vmhost: cannot reply after a host failure, exiting\n")
        exit(3)
      end
    else
      dispatch(op, id, payload, bad)
    end
  end
end
end

main()
