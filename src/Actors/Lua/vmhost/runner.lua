-- runner.lua: requests that wait, background tasks, and the event loop.
--
-- Requests that wait (vm.receive, sockets, vm.sleep, vm.send's answer) and background tasks are
-- coroutines under the same hook, resumed by the event loop on the main thread; the sandbox's
-- coroutine.resume/wrap pass waits up (sandbox.lua). Events, messages and sockets
-- (protocol.md §11): frames I, D, A in; W, U, M, T out.
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
local next, pcall, select = next, pcall, select
local collectgarbage = collectgarbage
local format = string.format
local pack, unpack = table.pack, table.unpack
local huge, ceil = math.huge, math.ceil
local co_resume, co_status, co_running = coroutine.resume, coroutine.status, coroutine.running

local prelude = require "prelude"
local state = require "state"
local limit_hook = require "hook"
local capture = require "capture"
local sandbox = require "sandbox"
local codec = require "json"
local protocol = require "protocol"
local input = require "input"
local request = require "request"

local clock, EVENTS, sin, sk_select = prelude.clock, prelude.EVENTS, prelude.sin, prelude.sk_select
local limits, req, POLL_S = state.limits, state.req, state.POLL_S
local timeout_message, memory_message = limit_hook.timeout_message, limit_hook.memory_message
local disarm_all = limit_hook.disarm_all
local safe_close, IOWAIT, RESUME = sandbox.safe_close, sandbox.IOWAIT, sandbox.RESUME
local send_frame = protocol.send_frame
local encode_one, json_reset, json_set_limits, ENC_TIMEOUT = codec.encode_one, codec.reset,
  codec.set_limits, codec.TIMEOUT
local read_frame, ingest, read_available = input.read_frame, input.ingest, input.read_available
local finish, user_traceback, error_message = request.finish, request.user_traceback, request.error_message

local _M = {}

local cur_req                         -- the request in progress, once it has waited
local ntasks, rhead, rtail = 0, 1, 0  -- background tasks alive; the ready list's bounds
local rwait, wwait = {}, {}           -- real socket -> record waiting for it
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

-- (op, name): an M whose A nobody waits for (the A is ignored, §11.1)
function _M.post_call(op, name)
  send_frame("M", next_frame_id(), op .. " " .. #name .. " 0\n" .. name)
end

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

local function task_ctx()
  local tms, mkb = limits.timeout_ms, limits.memory_kb
  req.tms, req.mkb = tms, mkb
  local now = clock()
  req.deadline = tms > 0 and now + tms / 1000 or huge
  req.memlimit = mkb > 0 and mkb or huge
  req.timed_out, req.mem_flag, req.interrupted = false, false, false
  capture.fresh()
  if EVENTS then req.next_poll = now + POLL_S end
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
local function abandon(r)
  if r.wait == "recv" then
    if not r.u_sent then send_frame("U", r.wid, "") end
  end
  unwait(r)
end

local function wake(r, ...)
  unwait(r)
  r.sig = pack(...)
  rtail = rtail + 1
  ready[rtail] = r
end

local function mailbox_push(payload)
  mb_tail = mb_tail + 1
  mailbox[mb_tail] = payload
end

function _M.mailbox_empty()
  return mb_head > mb_tail
end

local function mailbox_pop()
  local p = mailbox[mb_head]
  mailbox[mb_head] = nil
  mb_head = mb_head + 1
  if mb_head > mb_tail then mb_head, mb_tail = 1, 0 end
  return p
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
    send_frame("W", wid, a and format("%d", ceil(a * 1000)) or "")
    if a then r.wake_at = clock() + a end
  elseif kind == "call" then
    -- a: op, b: target or topic, c: whether there is a value, d: the value
    local json = ""
    if c then
      local memlimit = req.memlimit
      json_set_limits(req.deadline, memlimit == huge and huge or memlimit * 4)
      local ok, res = pcall(encode_one, d)
      if not ok then
        json_reset()
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

local function task_after(r, ok, ...)
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
local function events(block)
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

-- Frames that act at once: 'I' interrupt, 'D' deliver, 'A' answer (protocol.md §11)
local ingest_ops = input.ops

ingest_ops.I = function(id)
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
function _M.spawn_task(co, args)
  next_tid = next_tid + 1
  local r = { co = co, kind = "task", tid = next_tid, id = format("%08x", next_tid & 0xffffffff),
    fresh = true, sig = args }
  tasks[next_tid] = r
  ntasks = ntasks + 1
  rtail = rtail + 1
  ready[rtail] = r
  return next_tid
end

-- 'Z': drops the tasks and every wait.
function _M.reset()
  for _, r in next, tasks do
    r.dead = true
    abandon(r)
  end
  tasks, ntasks = {}, 0
  ready, rhead, rtail = {}, 1, 0
  rwait, wwait = {}, {}
end

-- A socket was closed: whoever waits for it wakes with "closed".
function _M.socket_closed(real)
  local r = rwait[real]
  if r then wake(r, "closed") end
  r = wwait[real]
  if r then wake(r, "closed") end
end

-- A handler failed in host code: the request that was waiting is given up.
function _M.drop_request()
  if cur_req then
    abandon(cur_req)
    cur_req.done = true
    cur_req = nil
  end
end

-- Tasks alive; whether the event loop has work (tasks alive or records ready).
function _M.ntasks()
  return ntasks
end

function _M.busy()
  return ntasks > 0 or rhead <= rtail
end

_M.events, _M.wake, _M.abandon = events, wake, abandon

return _M
