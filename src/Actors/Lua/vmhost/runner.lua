-- runner.lua: requests that wait, background tasks, and the event loop.
--
-- Requests that wait (vm.receive, sockets, vm.sleep, vm.send's answer) and background tasks are
-- coroutines under the same hook, resumed by the event loop on the main thread; the sandbox's
-- coroutine.resume/wrap pass waits up (sandbox.lua). Events, messages and sockets
-- (protocol.md §11): frames I, D, A in; W, U, M, T out. What a coroutine waits for, and the
-- ready list, are waits.lua's; background tasks are tasks.lua's.
--
-- Requests also keep their limit context (deadline, flags, print buffer) while they wait; a
-- task gets a fresh context (the 'L' defaults) for every slice (resume until it waits).
-- Waiting never spins: the event loop blocks in socket.select on stdin and the sockets
-- waited for, with the nearest timer as timeout.
local next = next
local unpack = table.unpack
local huge = math.huge
local co_resume, co_running = coroutine.resume, coroutine.running

local prelude = require "prelude"
local state = require "state"
local limit_hook = require "hook"
local capture = require "capture"
local sandbox = require "sandbox"
local protocol = require "protocol"
local input = require "input"
local request = require "request"
local waits = require "waits"
local tasks = require "tasks"

local clock, EVENTS, sin, sk_select = prelude.clock, prelude.EVENTS, prelude.sin, prelude.sk_select
local req, POLL_S = state.req, state.POLL_S
local disarm_all = limit_hook.disarm_all
local RESUME = sandbox.RESUME
local send_frame = protocol.send_frame
local read_frame, ingest, read_available = input.read_frame, input.ingest, input.read_available
local finish = request.finish
local register, wake, abandon, has_ready, run_ready = waits.register, waits.wake, waits.abandon,
  waits.has_ready, waits.run_ready
local rwait, wwait, timed = waits.rwait, waits.wwait, waits.timed
local task_ctx, task_after, ntasks = tasks.context, tasks.after, tasks.count

local _M = {}

local cur_req                         -- the request in progress, once it has waited
local in_task = false                 -- a task slice is running

local function save_ctx(r)
  r.deadline, r.memlimit, r.tms, r.mkb = req.deadline, req.memlimit, req.tms, req.mkb
  r.timed_out, r.mem_flag, r.interrupted = req.timed_out, req.mem_flag, req.interrupted
  capture.save(r)
end

local function load_ctx(r)
  req.deadline, req.memlimit, req.tms, req.mkb = r.deadline, r.memlimit, r.tms, r.mkb
  req.timed_out, req.mem_flag, req.interrupted = r.timed_out, r.mem_flag, r.interrupted
  capture.load(r)
end

local function resume(r)
  local sig = r.sig
  r.sig = nil
  if r.dead then return end
  disarm_all()
  if r.kind == "req" then
    load_ctx(r)
    if EVENTS then req.next_poll = clock() + POLL_S end
    local co = r.co
    -- finish() replies, or registers the next wait through suspend()
    finish(r.id, co, co_resume(co, RESUME, unpack(sig, 1, sig.n)))
    if r.wait == nil and r.sig == nil then
      r.done = true
      cur_req = nil
      state.active_id = nil
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

-- How long the event loop may block: 0 unless `block` and nothing is ready; else until the
-- nearest timer or deadline (nil: no limit).
local function loop_timeout(block)
  local timeout
  if not block or has_ready() then timeout = 0 end
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
  return timeout
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

-- The sockets to select on: stdin and those read from, those written to.
local function select_lists()
  local rl, wl, nr, nw = { sin }, {}, 1, 0
  for s in next, rwait do nr = nr + 1; rl[nr] = s end
  for s in next, wwait do nw = nw + 1; wl[nw] = s end
  return rl, wl
end

-- select's answer: wakes who waits for the sockets ready to read (r) and to write (w); then
-- the timers, the records whose wait or deadline has passed.
local function wake_selected(r, w)
  for i = 1, #r do
    local rec = rwait[r[i]]
    if rec then wake(rec, "ok") end
  end
  for i = 1, #w do
    local rec = wwait[w[i]]
    if rec then wake(rec, "ok") end
  end
  if next(timed) ~= nil then expire(clock()) end
end

-- One turn of the event loop: waits (blocking if `block` and nothing is ready) for stdin,
-- the sockets waited for, or the nearest timer; then resumes whatever became ready.
local function events(block)
  local timeout = loop_timeout(block)
  if not EVENTS then
    -- no select: only frames can wake anything (vm.send and friends wait for their 'A')
    if timeout ~= 0 then ingest(read_frame()) end
    return run_ready(resume)
  end
  local rl, wl = select_lists()
  local r, w = sk_select(rl, wl, timeout)
  if r[sin] then read_available(256) end
  wake_selected(r, w)
  return run_ready(resume)
end

-- The request in progress waits: run the event loop until it is answered.
request.set_suspend(function(id, co, ...)
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
end)

-- 'I' acts at once (protocol.md §11); 'D' and 'A' are waits.lua's.
input.ops.I = function(id)
  if state.active_id == id then
    local _, main = co_running()
    if not main and not in_task then
      req.interrupted = true -- the request is running: the hook raises when the poll returns
    elseif cur_req and not cur_req.done then
      cur_req.interrupted = true
      if cur_req.wait then
        abandon(cur_req)
        wake(cur_req, "interrupt")
      end
    end
    return
  end
  -- queued: answered "interrupted" when its turn comes; already answered (or never seen):
  -- nothing to do
  input.interrupt_queued(id)
end

-- 'Z': drops the tasks and every wait.
function _M.reset()
  tasks.reset()
  waits.reset()
end

-- A handler failed in host code: the request that was waiting is given up.
function _M.drop_request()
  if cur_req then
    abandon(cur_req)
    cur_req.done = true
    cur_req = nil
  end
end

-- Whether the event loop has work (tasks alive or records ready).
function _M.busy()
  return ntasks() > 0 or has_ready()
end

_M.events, _M.wake, _M.abandon, _M.ntasks = events, wake, abandon, ntasks
_M.spawn_task, _M.socket_closed = tasks.spawn, waits.socket_closed
_M.post_call, _M.mailbox_empty = waits.post_call, waits.mailbox_empty

return _M
