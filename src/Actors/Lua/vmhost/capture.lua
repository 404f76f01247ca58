-- capture.lua: the sandbox's print, captured per request up to limits.output_cap.
local error, rawget, select, tostring, type = error, rawget, select, tostring, type
local sub = string.sub
local concat, pack = table.concat, table.pack
local getmetatable_raw = debug.getmetatable

local prelude = require "prelude"
local state = require "state"

local num2str = prelude.num2str
local limits = state.limits

local _M = {}

local TRUNC_MARK = "\n...[output truncated]\n"
local out, out_n, out_len, out_trunc = {}, 0, 0, false

-- Runs in the user coroutine, where the hook may raise between any two instructions: the
-- piece is stored before out_n counts it, so out[1..out_n] never has a hole.
local function out_add(s)
  local l = #s
  local cap = limits.output_cap
  if out_len + l > cap then
    out_trunc = true
    local room = cap - out_len
    out_len = cap
    if room > 0 then
      out[out_n + 1] = sub(s, 1, room)
      out_n = out_n + 1
    end
    out[out_n + 1] = TRUNC_MARK
    out_n = out_n + 1
  else
    out[out_n + 1] = s
    out_n = out_n + 1
    out_len = out_len + l
  end
end

local function out_reset()
  out, out_n, out_len, out_trunc = {}, 0, 0, false
end
_M.reset = out_reset

-- The output so far and whether it was truncated; the buffer is emptied.
function _M.take()
  if out_n == 0 then return "", out_trunc end
  local s = out_n == 1 and out[1] or concat(out, "", 1, out_n)
  if out_n > 64 then
    out = {} -- a table never shrinks its array part: a big one would count against the heap limit
  else
    for i = 1, out_n do out[i] = nil end
  end
  out_n = 0
  return s, out_trunc
end

function _M.pending()
  return out_n > 0
end

-- A new request: nothing printed yet.
function _M.start()
  if out_n > 0 then out_reset() end
  out_len, out_trunc = 0, false
end

-- A request that waits keeps its output in its record (runner.lua); a task slice starts fresh.
function _M.save(r)
  r.out, r.out_n, r.out_len, r.out_trunc = out, out_n, out_len, out_trunc
end

function _M.load(r)
  out, out_n, out_len, out_trunc = r.out, r.out_n, r.out_len, r.out_trunc
end

_M.fresh = out_reset

-- print: captured. tostring as luaL_tolstring does it, with the __tostring call made here
-- (a "must return a string" error then names the user's line, as the real print's does).
local function tostr(v)
  local mt = getmetatable_raw(v)
  if mt ~= nil then
    local f = rawget(mt, "__tostring")
    if f ~= nil then
      local r = f(v)
      local tr = type(r)
      if tr == "string" then return r end
      if tr == "number" then return num2str(r) end
      error("'__tostring' must return a string", 3)
    end
  end
  return tostring(v)
end

function _M.print(...)
  if out_trunc then return end
  local n = select("#", ...)
  if n == 1 then
    out_add(tostr((...)))
  elseif n > 1 then
    local args = pack(...)
    for i = 1, n do
      if i > 1 then out_add("\t") end
      if out_trunc then return end
      out_add(tostr(args[i]))
      if out_trunc then return end
    end
  end
  if not out_trunc then out_add("\n") end
end

return _M
