-- request.lua: running an 'E'/'V' request in a coroutine under the hook and answering it.
-- A request that waits (vm.receive, sockets, ...) is handed to the runner (runner.lua).
local pcall, select, tonumber, type = pcall, select, tonumber, type
local collectgarbage = collectgarbage
local sub, find, match, gmatch, format = string.sub, string.find, string.match, string.gmatch,
  string.format
local concat = table.concat
local mtype, huge, tointeger = math.type, math.huge, math.tointeger
local co_resume, co_status = coroutine.resume, coroutine.status
local traceback = debug.traceback

local prelude = require "prelude"
local state = require "state"
local limit_hook = require "hook"
local capture = require "capture"
local sandbox = require "sandbox"
local codec = require "json"
local protocol = require "protocol"
local storage_error = require("storage_error").error_parts

local clock, EVENTS, HOST_SRC, num2str = prelude.clock, prelude.EVENTS, prelude.HOST_SRC, prelude.num2str
local limits, req, INTERRUPT_MSG, POLL_S = state.limits, state.req, state.INTERRUPT_MSG, state.POLL_S
local timeout_message, memory_message = limit_hook.timeout_message, limit_hook.memory_message
local disarm_all, new_coroutine = limit_hook.disarm_all, limit_hook.new
local safe_close, IOWAIT = sandbox.safe_close, sandbox.IOWAIT
local json_set_limits, encode_results, json_reset = codec.set_limits, codec.encode_results, codec.reset
local ENC_TIMEOUT, ENC_MEMORY, TOO_LARGE = codec.TIMEOUT, codec.MEMORY, codec.TOO_LARGE
local send_r, send_x = protocol.send_r, protocol.send_x

local _M = {}

-- The error value as a message, without running user code (no __tostring).
local function error_message(e)
  local te = type(e)
  if te == "string" then return e end
  if te == "number" then return num2str(e) end
  local kind, msg = storage_error(e)
  if kind then return kind .. ": " .. msg end
  return "(error object is a " .. te .. " value)"
end

-- A coroutine's traceback minus the host's frames (and the C functions they called).
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

_M.error_message, _M.user_traceback = error_message, user_traceback

local function fail(id, co, kind, msg, finished)
  local tb = finished and "" or user_traceback(co)
  safe_close(co) -- runs pending __close handlers (in co, under its hook); errors ignored
  local output, trunc = capture.take()
  if kind == "memory" then collectgarbage("collect") end
  send_x(id, kind, msg, tb, output, trunc)
end

local suspend -- a request that waits (vm.receive, sockets, ...) is driven by the runner

-- The runner sets how a request that waits is suspended: suspend(id, co, what it waits for...).
function _M.set_suspend(f)
  suspend = f
end

local function finish(id, co, ok, ...)
  if not ok then
    if req.interrupted then return fail(id, co, "interrupted", INTERRUPT_MSG) end
    if req.timed_out then return fail(id, co, "timeout", timeout_message()) end
    if req.mem_flag then return fail(id, co, "memory", memory_message()) end
    local e = ...
    if e == "not enough memory" then return fail(id, co, "memory", e) end
    -- A storage limit and a storage that cannot be reached have kinds of their own (§9): the
    -- caller tells "over the limit" and "try again later" from a bug. Other storage errors
    -- (storage-invalid) are runtime errors.
    local skind = storage_error(e)
    if skind == "storage-limit" or skind == "storage-unavailable" then return fail(id, co, skind, error_message(e)) end
    return fail(id, co, "runtime", error_message(e))
  end
  if co_status(co) ~= "dead" then
    if (...) == IOWAIT then return suspend(id, co, select(2, ...)) end
    -- the top level yielded
    return fail(id, co, "runtime", "attempt to yield from outside a coroutine")
  end
  -- Finished, but a coroutine it resumed hit a limit and it returned before its own hook
  -- fired: the limit was still exceeded.
  if req.interrupted then return fail(id, co, "interrupted", INTERRUPT_MSG, true) end
  if req.timed_out then return fail(id, co, "timeout", timeout_message(), true) end
  if req.mem_flag then return fail(id, co, "memory", memory_message(), true) end
  local n = select("#", ...)
  local json
  if n == 1 and type((...)) == "number" and mtype((...)) == "integer" then
    json = "[" .. (...) .. "]" -- the common case, short (integer .. string is its %d text)
  else
    local memlimit = req.memlimit
    json_set_limits(req.deadline, memlimit == huge and huge or memlimit * 4,
      limits.result_cap > 0 and limits.result_cap or huge)
    local eok, res = pcall(encode_results, n, ...)
    json_set_limits(req.deadline, memlimit == huge and huge or memlimit * 4, huge)
    if eok and limits.result_cap > 0 and #res > limits.result_cap then eok, res = false, TOO_LARGE end
    if not eok then
      json_reset()
      local output, trunc = capture.take()
      if res == TOO_LARGE then
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
  return send_r(id, n, json, capture.take())
end
_M.finish = finish

-- Runs fn as request id with the given limits (0: the 'L' defaults) and answers it.
function _M.run(id, fn, tms, mkb)
  disarm_all()
  req.timed_out, req.mem_flag, req.interrupted = false, false, false
  capture.start()
  if tms == 0 then tms = limits.timeout_ms end
  if mkb == 0 then mkb = limits.memory_kb end
  req.tms, req.mkb = tms, mkb
  req.memlimit = mkb > 0 and mkb or huge
  local co = new_coroutine(fn)
  state.active_id = id
  local now = clock()
  req.deadline = tms > 0 and now + tms / 1000 or huge
  if EVENTS then req.next_poll = now + POLL_S end
  return finish(id, co, co_resume(co))
end

-- "<timeout_ms> <memory_kb>\n<code>" -> tms, mkb, code
function _M.parse_exec(payload)
  local t, m, pos = match(payload, "^(%d+) (%d+)\n()")
  if not t then return nil end
  t, m = tointeger(tonumber(t)), tointeger(tonumber(m))
  if not t or not m then return nil end
  return t, m, sub(payload, pos)
end

function _M.bad_exec(id)
  send_x(id, "protocol", "bad 'E'/'V' payload: expected \"<timeout_ms> <memory_kb>\\n\" and the code")
end

function _M.load_failed(id, err)
  if err == "not enough memory" then
    collectgarbage("collect")
    return send_x(id, "memory", err)
  end
  return send_x(id, "syntax", err)
end

return _M
