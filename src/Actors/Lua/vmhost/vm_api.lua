-- vm_api.lua: the `vm` table (messaging through the C# side, protocol.md §11.4) and waiting
-- from user code. Runs in the user coroutine, under the hook.
local error, pcall, select, tonumber, type = error, pcall, select, tonumber, type
local sub, find, match, format = string.sub, string.find, string.match, string.format
local pack = table.pack
local huge = math.huge
local co_yield = coroutine.yield

local prelude = require "prelude"
local state = require "state"
local limit_hook = require "hook"
local sandbox = require "sandbox"
local runner = require "runner"

local EVENTS = prelude.EVENTS
local limits, settings, req, INTERRUPT_MSG = state.limits, state.settings, state.req, state.INTERRUPT_MSG
local raise_limit, timeout_message, new_coroutine = limit_hook.raise_limit, limit_hook.timeout_message,
  limit_hook.new
local argerror, IOWAIT, RESUME = sandbox.argerror, sandbox.IOWAIT, sandbox.RESUME
local mailbox_empty, spawn_task, ntasks = runner.mailbox_empty, runner.spawn_task, runner.ntasks

local _M = {}

-- json_decode.lua and storage.lua load when first needed (HostBundle.cs): most VMs never
-- receive a message, call through the owner or store.
local json_decode

local function decoder()
  json_decode = json_decode or require("json_decode").decode
  return json_decode
end

-- Yields to the runner and returns the outcome: sig, ... . Interrupts and the request's
-- deadline are raised here like the hook raises them (armed: pcall cannot swallow them).
local function await(...)
  local tok, sig, a, b = co_yield(IOWAIT, ...)
  if tok ~= RESUME then error("a coroutine that waits for I/O was resumed by user code", 0) end
  if req.interrupted then raise_limit(INTERRUPT_MSG) end
  if sig == "deadline" then
    req.timed_out = true
    raise_limit(timeout_message())
  end
  if sig == "interrupt" then
    req.interrupted = true
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

-- The `vm` table: messaging through the C# side (protocol.md §11.4)
local function parse_answer(payload)
  local nl = find(payload, "\n", 1, true)
  local status = nl and sub(payload, 1, nl - 1) or payload
  local body = nl and sub(payload, nl + 1) or ""
  if status == "ok" then
    if body == "" then return true, true end
    local ok, v = pcall(decoder(), body)
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

-- vm_call that returns false and the host's refusal instead of raising it (vm.storage makes
-- error objects of them).
local function vm_try_call(op, name, has_value, value)
  local sig, payload = await("call", op, name, has_value, value)
  if sig == "error" then error(payload, 4) end
  return parse_answer(payload)
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
  local ok, v = pcall(decoder(), sub(payload, pos + sl + tl))
  if not ok then error("bad message from the host: " .. v, 2) end
  return v, sl > 0 and sender or nil, tl > 0 and topic or nil
end

local function vm_sleep(...)
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
  if ntasks() >= limits.max_tasks then
    error(format("too many tasks (limit %d)", limits.max_tasks), 2)
  end
  local co = new_coroutine(f)
  return spawn_task(co, pack(select(2, ...)))
end

local function vm_id()
  return settings.vm_id
end

-- For the socket table (net.lua).
_M.await, _M.need_events, _M.argerror2, _M.check_timeout = await, need_events, argerror2, check_timeout
_M.sleep = vm_sleep

-- vm.storage: the functions of storage.lua's table for this environment, built at the first
-- call of any of them. Each stub tail-calls the real function, so argument errors and
-- tracebacks look the same (no host frame is left in between).
local STORAGE_FUNCTIONS = { "get", "set", "delete", "keys", "transaction" }

local function storage_table()
  local impl
  local t = {}
  for i = 1, #STORAGE_FUNCTIONS do
    local name = STORAGE_FUNCTIONS[i]
    t[name] = function(...)
      impl = impl or require("storage").table(vm_try_call)
      return impl[name](...)
    end
  end
  return t
end

function _M.table()
  return {
    id = vm_id, send = vm_send, receive = vm_receive, publish = vm_publish,
    subscribe = vm_subscribe, unsubscribe = vm_unsubscribe, peers = vm_peers,
    broadcast = vm_broadcast, spawn = vm_spawn, sleep = vm_sleep,
    storage = storage_table(),
  }
end

return _M
