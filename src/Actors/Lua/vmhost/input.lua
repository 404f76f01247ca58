-- input.lua: whole frames from stdin, and the queue of frames read early.
--
-- Frames that arrive while a request runs or waits (read by the hook's poll or the event
-- loop) go into `inq` and are handled later, in order. 'I', 'D' and 'A' frames are never
-- queued: they act at once (_M.ops, filled by runner.lua).
local pcall, collectgarbage = pcall, collectgarbage
local exit = os.exit
local stdin, stderr = io.stdin, io.stderr
local fread, fwrite = stdin.read, stderr.write

local prelude = require "prelude"
local protocol = require "protocol"
local limit_hook = require "hook"

local sin, sk_select = prelude.sin, prelude.sk_select
local decode_header, send_x = protocol.decode_header, protocol.send_x

local _M = {}

-- With LuaSocket stdin is the serial object (prelude.lua); select sees its buffer through
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

local function read_frame()
  local h
  if srecv then h = srecv(sin, 18) else h = fread(stdin, 18) end
  if h == nil or #h < 18 then exit(0) end -- stdin closed: the owner is gone
  local op, id, len = decode_header(h)
  if not op then
    -- framing is lost: there is no way to find the next frame
    send_x(id, "protocol", "malformed frame header")
    fwrite(stderr, "vmhost: malformed frame header, exiting\n")
    exit(2)
  end
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
_M.read_frame = read_frame

local inq, qhead, qtail = {}, 1, 0 -- frames read early: { op, id, payload, bad, interrupted }
local ingest_ops = {}              -- op -> function(id, payload, bad) for 'I', 'D', 'A'
_M.ops = ingest_ops

local function ingest(op, id, payload, bad)
  local f = ingest_ops[op]
  if f then return f(id, payload, bad) end
  qtail = qtail + 1
  inq[qtail] = { op, id, payload, bad, false }
end
_M.ingest = ingest

-- Whether frames wait in the queue.
function _M.queued()
  return qhead <= qtail
end

-- The next queued frame: { op, id, payload, bad, interrupted }.
function _M.pop()
  local f = inq[qhead]
  inq[qhead] = nil
  qhead = qhead + 1
  if qhead > qtail then qhead, qtail = 1, 0 end
  return f
end

-- An 'I' for a request still in the queue: it is answered "interrupted" when its turn comes.
-- Whether there was one.
function _M.interrupt_queued(id)
  for i = qhead, qtail do
    local f = inq[i]
    if f[2] == id and (f[1] == "E" or f[1] == "V") then
      f[5] = true
      return true
    end
  end
  return false
end

-- Whether stdin has bytes now (LuaSocket only): in the serial object's buffer, or in the pipe.
local stdin_ready
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
_M.read_available = read_available

-- From the hook, every POLL_S while user code runs (EVENTS only).
limit_hook.set_poll(function()
  if stdin_ready() then read_available(256) end
end)

return _M
