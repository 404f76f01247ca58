-- tasks.lua: background tasks (vm.spawn): coroutines the runner resumes slice by slice, each
-- slice under a fresh limit context (the 'L' defaults); what they print and how they end goes
-- out in 'T' frames (protocol.md §11).
local next, select = next, select
local collectgarbage = collectgarbage
local format = string.format
local huge = math.huge
local co_status = coroutine.status

local prelude = require "prelude"
local state = require "state"
local limit_hook = require "hook"
local capture = require "capture"
local sandbox = require "sandbox"
local protocol = require "protocol"
local request = require "request"
local waits = require "waits"

local clock, EVENTS = prelude.clock, prelude.EVENTS
local limits, req, POLL_S = state.limits, state.req, state.POLL_S
local timeout_message, memory_message = limit_hook.timeout_message, limit_hook.memory_message
local safe_close, IOWAIT = sandbox.safe_close, sandbox.IOWAIT
local send_frame = protocol.send_frame
local user_traceback, error_message = request.user_traceback, request.error_message
local register, wake, unwait, abandon, enqueue = waits.register, waits.wake, waits.unwait,
  waits.abandon, waits.enqueue

local _M = {}

local ntasks = 0                      -- background tasks alive
local tasks, next_tid = {}, 0         -- task number -> record

-- A slice's limit context: the 'L' defaults, from now.
function _M.context()
  local tms, mkb = limits.timeout_ms, limits.memory_kb
  req.tms, req.mkb = tms, mkb
  local now = clock()
  req.deadline = tms > 0 and now + tms / 1000 or huge
  req.memlimit = mkb > 0 and mkb or huge
  req.timed_out, req.mem_flag, req.interrupted = false, false, false
  capture.fresh()
  if EVENTS then req.next_poll = now + POLL_S end
end

local function emit_task(r, status, msg, tb)
  local output, trunc = capture.take()
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

-- After a slice (co_resume's results): the task ended, waits, or yielded plainly.
function _M.after(r, ok, ...)
  local co = r.co
  if not ok then
    if req.timed_out then return task_end(r, "timeout", timeout_message()) end
    if req.mem_flag then return task_end(r, "memory", memory_message()) end
    local e = ...
    if e == "not enough memory" then return task_end(r, "memory", e) end
    return task_end(r, "runtime", error_message(e))
  end
  if co_status(co) == "dead" then
    if req.timed_out then return task_end(r, "timeout", timeout_message(), true) end
    if req.mem_flag then return task_end(r, "memory", memory_message(), true) end
    return task_end(r, "done", "", true)
  end
  if capture.pending() then emit_task(r, "output", "") end
  if (...) == IOWAIT then
    r.plain = false
    return register(r, select(2, ...))
  end
  -- a plain coroutine.yield at the task's top level: let the others run, then go on
  r.plain = true
  return wake(r)
end

-- A new background task (vm.spawn): ready to start with the packed arguments.
function _M.spawn(co, args)
  next_tid = next_tid + 1
  local r = { co = co, kind = "task", tid = next_tid, id = format("%08x", next_tid & 0xffffffff),
    fresh = true, sig = args }
  tasks[next_tid] = r
  ntasks = ntasks + 1
  enqueue(r)
  return next_tid
end

-- 'Z': every task is dropped, its wait given up.
function _M.reset()
  for _, r in next, tasks do
    r.dead = true
    abandon(r)
  end
  tasks, ntasks = {}, 0
end

function _M.count()
  return ntasks
end

return _M
