-- main.lua: the VM host's main loop. The host script every LuaActors VM process runs
-- (`lua5.4 vmhost.lua`) is the modules of this directory bundled into one chunk
-- (src/Actors/Process/HostBundle.cs): each module a function in a table of loaders, this one
-- run last. The loaders and the loaded modules are locals of that chunk, never reachable from
-- user code.
--
-- It reads request frames from stdin, runs user code in a sandbox under time and memory
-- limits, and writes reply frames to stdout. docs/protocol.md describes the protocol; the
-- comments explain the how.
--
-- Rules every module keeps:
--   * stdout carries frames only. Nothing may call the real print or io.write except the
--     reply functions of protocol.lua (send_k, send_r, send_x, send_frame).
--   * Host code runs on the main thread, which never has a hook. User code runs in
--     coroutines that carry the limit hook (hook.lua); the sandbox wrappers (print, pcall, ...)
--     run there too, under the hook, and may call user code (print calls __tostring).
--   * Host code on the main thread never runs user metamethods: no tostring/#/pairs/ipairs
--     on user values (the JSON encoder uses next/rawget/type only), and never string methods
--     via ':' (they go through the string table, which user code may modify).
--   * Everything the host needs is captured in locals before any user code runs: every
--     module is loaded here, before the first frame is read; but the lazy ones (HostBundle.cs),
--     which load from the string table as it was at start: netaddr and net (with its parts),
--     with the first 'L' that turns networking on; json_decode and storage, with the first
--     message or answer decoded and the first vm.storage call (hookless while they load).
--
-- The modules, in the order they depend on each other:
--   prelude     the clock, LuaSocket, the unsafe test libraries, number-to-text
--   state       'L' limits and settings; the state of the request in progress
--   hook        the limit hook: deadline, heap limit, stdin poll, armed coroutines, GC canary
--   capture     print, captured per request
--   sandbox     the wrappers (load, setmetatable, pcall, coroutine, string.rep ...), the env
--   json        the result encoder; json_decode: the strict decoder of inbound messages (lazy)
--   protocol    the frame codec and the replies; input: frames from stdin and the early queue
--   request     running an 'E'/'V' request and answering it
--   runner      requests that wait, background tasks, the event loop; 'I', 'D', 'A'
--   vm_api      the `vm` table (storage: vm.storage, lazy); netaddr, net: the `socket` table
--   handlers    E, V, L, P, Z, Q
local pcall, type, tonumber = pcall, type, tonumber
local collectgarbage = collectgarbage
local sub, find, match, byte, format = string.sub, string.find, string.match, string.byte,
  string.format
local exit = os.exit
local stderr = io.stderr
local fwrite = stderr.write

local prelude = require "prelude"
local state = require "state"
require "hook"
local capture = require "capture"
require "sandbox"
local json = require "json"
local protocol = require "protocol"
local input = require "input"
local request = require "request"
local runner = require "runner"
require "vm_api"
local handlers = require "handlers"

local HOST_SHORT_SRC = prelude.HOST_SHORT_SRC
local INTERRUPT_MSG = state.INTERRUPT_MSG
local send_x = protocol.send_x
local error_message = request.error_message
local read_frame, ingest_ops = input.read_frame, input.ops
local ops = handlers.ops

-- Where each module starts in the bundled chunk: { first line, "vmhost/<module>.lua" } in order
-- (the bundle provides it), so a host error names the module's file and line.
local has_lines, lines = pcall(require, "vmhost.lines")
if not has_lines or type(lines) ~= "table" then lines = nil end

local function host_position(msg)
  if not lines or type(msg) ~= "string" then return msg end
  local at = HOST_SHORT_SRC .. ":"
  if sub(msg, 1, #at) ~= at then return msg end
  local n, rest = match(msg, "^(%d+):(.*)$", #at + 1)
  n = tonumber(n)
  if not n then return msg end
  for i = #lines, 1, -1 do
    local l = lines[i]
    if n >= l[1] then return l[2] .. ":" .. (n - l[1] + 1) .. ":" .. rest end
  end
  return msg
end

local function op_name(op)
  if find(op, "^%g$") then return "'" .. op .. "'" end
  return format("byte 0x%02x", byte(op))
end

-- A handler failed in host code (in practice: an allocation failed under an OS memory limit).
local function host_failure(id, err)
  json.reset()
  capture.reset()
  collectgarbage("collect")
  runner.drop_request()
  if err == "not enough memory" then
    send_x(id, "memory", "not enough memory")
  else
    send_x(id, "runtime", "host error: " .. error_message(host_position(err)))
  end
end

local function dispatch(op, id, payload, bad, intr)
  local handler = ops[op]
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
  state.active_id = nil
  if not ok and not pcall(host_failure, id, err) then
    fwrite(stderr, "vmhost: cannot reply after a host failure, exiting\n")
    exit(3)
  end
end

handlers.init()

local busy, events, queued, pop = runner.busy, runner.events, input.queued, input.pop
while true do
  if busy() then events(not queued()) end
  if queued() then
    local f = pop()
    dispatch(f[1], f[2], f[3], f[4], f[5])
  elseif not busy() then
    -- (dispatch inlined for the common case: a request read directly, nothing queued)
    local op, id, payload, bad = read_frame()
    local handler = ops[op]
    if handler and not bad then
      local ok, err = pcall(handler, id, payload)
      state.active_id = nil
      if not ok and not pcall(host_failure, id, err) then
        fwrite(stderr, "vmhost: cannot reply after a host failure, exiting\n")
        exit(3)
      end
    else
      dispatch(op, id, payload, bad)
    end
  end
end
