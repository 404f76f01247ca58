-- waits.lua: what the runner's coroutines wait for, and the ready list they wake into.
--
-- A record per coroutine the runner drives (runner.lua):
--   co, kind ("req" | "task"), id (8 hex digits: the request id, or the task id for 'T')
--   wait       what it waits for: "read"/"write" (sock), "recv" (wid), "call" (cid), "sleep"
--   wake_at    clock() value when the wait times out (nil: never)
--   sig        the outcome to resume it with, once it is in the ready list
-- Frames D and A (protocol.md §11) end the waits for a message and for a messaging call's answer;
-- messages nobody waits for yet queue in the mailbox.
local next, pcall = next, pcall
local collectgarbage = collectgarbage
local format = string.format
local pack = table.pack
local huge, ceil = math.huge, math.ceil

local prelude = require "prelude"
local state = require "state"
local codec = require "json"
local protocol = require "protocol"
local input = require "input"

local clock = prelude.clock
local req = state.req
local send_frame = protocol.send_frame
local encode_one, json_reset, json_set_limits, ENC_TIMEOUT = codec.encode_one, codec.reset,
  codec.set_limits, codec.TIMEOUT

local _M = {}

local rhead, rtail = 1, 0             -- the ready list's bounds
local rwait, wwait = {}, {}           -- real socket -> record waiting for it
local ready = {}                      -- records to resume, in order (ready[rhead..rtail])
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

-- Puts r on the ready list (last), to be resumed with `sig`.
local function enqueue(r)
  rtail = rtail + 1
  ready[rtail] = r
end

local function wake(r, ...)
  unwait(r)
  r.sig = pack(...)
  enqueue(r)
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
function _M.register(r, kind, a, b, c, d)
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

function _M.has_ready()
  return rhead <= rtail
end

-- Resumes (with `resume`) the records that were ready when it started; those made ready
-- meanwhile (a task that yields, a wake from a frame) wait for the next turn, so stdin is
-- never starved.
function _M.run_ready(resume)
  local last = rtail
  while rhead <= last do
    local r = ready[rhead]
    ready[rhead] = nil
    rhead = rhead + 1
    resume(r)
  end
  if rhead > rtail then rhead, rtail = 1, 0 end
end

-- A socket was closed: whoever waits for it wakes with "closed".
function _M.socket_closed(real)
  local r = rwait[real]
  if r then wake(r, "closed") end
  r = wwait[real]
  if r then wake(r, "closed") end
end

-- 'Z' (after the runner abandoned every wait of its tasks): nothing ready, no socket waited for.
function _M.reset()
  ready, rhead, rtail = {}, 1, 0
  for s in next, rwait do rwait[s] = nil end
  for s in next, wwait do wwait[s] = nil end
end

local ingest_ops = input.ops

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

_M.wake, _M.abandon, _M.unwait, _M.enqueue = wake, abandon, unwait, enqueue
-- (read by the event loop, runner.lua; reset in place)
_M.rwait, _M.wwait, _M.timed = rwait, wwait, timed

return _M
