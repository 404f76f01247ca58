-- sandbox.lua: the wrappers user code gets instead of the real functions, the shared string
-- table, and the sandbox environment.
--
-- The wrappers run in the user coroutine, under the hook. They check arguments themselves and
-- raise with error(msg, 2), so messages carry the user's position, as the real functions' do
-- (a C function raising from here would name the host script). They call no pcall around user
-- code: see the pcall comment below.
--
--   sb_xpcall     message handlers are skipped for errors raised by the hook (hookless too)
--   sb_pcall      at most MAX_PCALL_DEPTH nested pcall/xpcall per coroutine (O(n^2) unwinding)
--   sb_rep        string.rep capped at rep_cap (C code is never interrupted)
local assert, error, ipairs, next, pairs, pcall, xpcall = assert, error, ipairs, next, pairs, pcall, xpcall
local rawequal, rawget, rawlen, rawset, select = rawequal, rawget, rawlen, rawset, select
local tonumber, tostring, type = tonumber, tostring, type
local getmetatable, setmetatable, load, collectgarbage = getmetatable, setmetatable, load, collectgarbage
local LUA_VERSION = _VERSION
local string, table, math, utf8, coroutine, os = string, table, math, utf8, coroutine, os
local format, real_rep = string.format, string.rep
local mtype, tointeger = math.type, math.tointeger
local co_resume, co_status, co_close, co_running, co_yield =
  coroutine.resume, coroutine.status, coroutine.close, coroutine.running, coroutine.yield
local getinfo, dsetmetatable, getmetatable_raw = debug.getinfo, debug.setmetatable, debug.getmetatable

local prelude = require "prelude"
local state = require "state"
local limit_hook = require "hook"
local capture = require "capture"

local num2str, typename, UNSAFE_LIBS = prelude.num2str, prelude.typename, prelude.UNSAFE_LIBS
local limits, MAX_PCALL_DEPTH = state.limits, state.MAX_PCALL_DEPTH
local hook, hook_err, new_coroutine = limit_hook.hook, limit_hook.hook_err, limit_hook.new

local _M = {}

local function argerror(i, fname, expected, v, present)
  error(format("bad argument #%d to '%s' (%s expected, got %s)", i, fname, expected,
    present and type(v) or "no value"), 3)
end
_M.argerror = argerror

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
  return load(chunk, chunkname, "t", state.env)
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
-- IOWAIT and what it waits for; the runner on the main thread (runner.lua) resumes the
-- coroutine with RESUME and the outcome. A wait inside a coroutine the user made passes up
-- through the sandbox's coroutine.resume/wrap (`through`) to the request's or task's own
-- coroutine, which the runner drives. User code never sees either sentinel.
local IOWAIT, RESUME = {}, {}
_M.IOWAIT, _M.RESUME = IOWAIT, RESUME

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
  return new_coroutine(f)
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
_M.safe_close = safe_close

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
  local co = new_coroutine(f)
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

-- The real string table (shared by the sandbox and the string metatable)
string.dump = nil
string.rep = sb_rep
getmetatable("").__metatable = false -- getmetatable("") gives false, never the real one

local string_snapshot = {}
for k, v in next, string do string_snapshot[k] = v end

function _M.restore_string_table()
  dsetmetatable(string, nil)
  for k in next, string do
    if string_snapshot[k] == nil then string[k] = nil end
  end
  for k, v in next, string_snapshot do rawset(string, k, v) end
end

-- Sandbox environment
local function copy(t)
  local c = {}
  for k, v in next, t do c[k] = v end
  return c
end

-- A fresh environment; make_vm_table and make_socket_table build the `vm` and `socket` tables
-- (vm_api.lua, net.lua).
function _M.new_env(make_vm_table, make_socket_table)
  local e = {
    assert = assert, error = error, ipairs = ipairs, next = next, pairs = pairs,
    pcall = sb_pcall, xpcall = sb_xpcall, rawequal = rawequal, rawget = rawget, rawlen = rawlen,
    rawset = rawset, select = select, tonumber = tonumber, tostring = tostring, type = type,
    getmetatable = getmetatable, setmetatable = sb_setmetatable, print = capture.print,
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

return _M
