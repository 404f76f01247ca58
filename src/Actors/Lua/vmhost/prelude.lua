-- prelude.lua: what the host takes from the interpreter before anything else runs: the
-- deadline clock, LuaSocket (the event loop and stdin), the test-only unsafe library set,
-- and number-to-text helpers that run no metamethods. Loaded first (main.lua).
local type, pcall, format, find = type, pcall, string.format, string.find
local mtype = math.type

local _M = {}

-- Test-only VM types (ProcessBackend.UnsafeSandboxOffKey) pass this: scripts get the whole
-- standard library, so tests can prove the kernel confinement stops what the sandbox would.
-- (_G.require: the interpreter's own, not the bundle's module loader.)
_M.UNSAFE_LIBS = type(arg) == "table" and arg[1] == "--UNSAFE-lua-sandbox-off" and {
  os = os, io = io, require = _G.require, package = package, debug = debug, dofile = dofile,
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
  local ok, core = pcall(_G.require, "socket.core")
  if ok and type(core) == "table" and type(core.gettime) == "function" then
    clock = core.gettime
    if type(core.select) == "function" and type(core.tcp) == "function" then
      local sok, serial = pcall(_G.require, "socket.serial")
      local s = sok and type(serial) == "function" and serial("/dev/null")
      if s then
        s:close()   -- the /dev/null descriptor; the object keeps its buffer and methods
        s:setfd(0)  -- now it reads stdin (blocking descriptor: see input.lua)
        sk, sk_select, sin = core, core.select, s
      end
    end
  end
end
_M.clock = clock
_M.sk, _M.sk_select, _M.sin = sk, sk_select, sin
_M.EVENTS = sin ~= nil -- the event loop (select, polling, timers, sockets) is available

-- Where the host's own frames show up in tracebacks ("\t<short_src>:"), to strip them: every
-- module is a function of the one host chunk, so they all carry its source name.
_M.HOST_SHORT_SRC = debug.getinfo(1, "S").short_src
_M.HOST_SRC = "\t" .. _M.HOST_SHORT_SRC .. ":"

-- Number to text like lua_tostring (no metamethods involved)
function _M.num2str(x)
  if mtype(x) == "integer" then return format("%d", x) end
  local s = format("%.14g", x)
  if not find(s, "[^%-%d]") then s = s .. ".0" end
  return s
end

function _M.typename(v, present)
  if not present then return "no value" end
  return type(v)
end

return _M
