-- hook.lua: the limit hook and its helpers (state.lua holds the limits it reads).
--
--   hook          count hook (every HOOK_COUNT instructions): deadline, heap limit, stdin poll
--   armed         after a limit error the hook fires on every instruction (pcall loops)
--   canary        a finalizer per GC cycle asks for a heap check at the next instruction
--   hook_err      coroutines killed by the hook are never closed (__close would run hookless)
local error, next, setmetatable, collectgarbage = error, next, setmetatable, collectgarbage
local format = string.format
local co_create, co_running = coroutine.create, coroutine.running
local sethook, gethook, getinfo = debug.sethook, debug.gethook, debug.getinfo

local prelude = require "prelude"
local state = require "state"

local clock, HOST_SHORT_SRC = prelude.clock, prelude.HOST_SHORT_SRC
local req = state.req
local HOOK_COUNT, DEEP_STACK, POLL_S = state.HOOK_COUNT, state.DEEP_STACK, state.POLL_S
local INTERRUPT_MSG = state.INTERRUPT_MSG

local _M = {}

local poll_input -- reads the frames waiting on stdin (input.lua sets it)

-- Coroutines whose hook fires on every instruction ("armed"): after a timeout or a memory
-- error (so a pcall loop cannot run on), or asked by the GC canary for a check. run() puts
-- the ones left from an older request back on the count hook before user code runs again.
local armed = setmetatable({}, { __mode = "k" })
local any_armed = false

local hook -- the limit hook, below

local function arm(co)
  armed[co] = true
  any_armed = true
  sethook(co, hook, "", 1)
end

-- Coroutines in which the hook raised an error, mapped to that error. An error raised inside
-- a hook leaves the hook machinery switched off in that coroutine (Lua restores it only where
-- a pcall inside the coroutine catches the error): if the coroutine dies, closing it would run
-- its pending __close handlers with no hook. Such coroutines are never closed.
local hook_err = setmetatable({}, { __mode = "k" })
_M.hook_err = hook_err

local function timeout_message()
  return format("timeout: execution exceeded %d ms", req.tms)
end
_M.timeout_message = timeout_message

local function memory_message()
  return format("memory: Lua heap exceeded the limit of %d KiB", req.mkb)
end
_M.memory_message = memory_message

-- The limit hook: a count hook on every coroutine that runs user code, so it runs in the
-- user coroutine, never on the host's main thread. It reads the CURRENT request's limits.
hook = function()
  local now = clock()
  if now > req.deadline then
    req.timed_out = true
    local co = co_running()
    if not armed[co] then arm(co) end
    local msg = timeout_message()
    hook_err[co] = msg
    error(msg, 0)
  end
  if now >= req.next_poll then
    -- Frames that came while user code runs: queued, except 'I' (may set `interrupted`) and
    -- the answers 'D'/'A' (routed to their waiters).
    req.next_poll = now + POLL_S
    poll_input()
  end
  if req.interrupted then
    -- like a timeout: armed, so every instruction raises again until the request is over
    local co = co_running()
    if not armed[co] then arm(co) end
    hook_err[co] = INTERRUPT_MSG
    error(INTERRUPT_MSG, 0)
  end
  local memlimit = req.memlimit
  if collectgarbage("count") > memlimit then
    collectgarbage("collect")
    if collectgarbage("count") > memlimit then
      local co = co_running()
      -- A very deep Lua call stack is what filled the heap: report it the way Lua
      -- would have a little later (its own limit is ~1M levels), as a runtime error.
      if getinfo(DEEP_STACK, "") then
        local msg = "stack overflow"
        local w = getinfo(2, "Sl") -- the interrupted function
        if w and w.currentline > 0 and w.short_src ~= HOST_SHORT_SRC then
          msg = w.short_src .. ":" .. w.currentline .. ": " .. msg
        end
        hook_err[co] = msg
        error(msg, 0)
      end
      req.mem_flag = true
      if not armed[co] then arm(co) end
      local msg = memory_message()
      hook_err[co] = msg
      error(msg, 0)
    end
  end
  if any_armed then
    local co = co_running()
    if armed[co] then
      -- within the limits (a memory error is over, or a canary check): back to the count
      armed[co] = nil
      req.mem_flag = false
      sethook(co, hook, "", HOOK_COUNT)
    end
  end
end
_M.hook = hook

-- A coroutine for user code, under the limit hook.
function _M.new(f)
  local co = co_create(f)
  sethook(co, hook, "", HOOK_COUNT)
  return co
end

-- Puts coroutines armed during an older request back on the count hook.
function _M.disarm_all()
  if not any_armed then return end
  for co in next, armed do
    armed[co] = nil
    sethook(co, hook, "", HOOK_COUNT)
  end
  any_armed = false
end

-- Raises a limit error from a wrapper the way the hook does (armed: pcall cannot swallow it).
function _M.raise_limit(msg)
  local co = co_running()
  if not armed[co] then arm(co) end
  hook_err[co] = msg
  error(msg, 0)
end

function _M.set_poll(f)
  poll_input = f
end

-- GC canary: a host object whose finalizer runs once per GC cycle. One instruction can grow
-- the heap a lot (`s = s .. s` doubles it), far faster than every HOOK_COUNT instructions; a
-- GC cycle completes about every time the heap doubles, so the canary asks the hook of the
-- running user coroutine to check the limits at its next instruction. (Finalizers run with
-- hooks off and their errors are only warnings: this one never raises.)
local canary_mt = {}
canary_mt.__gc = function()
  local co = co_running()
  if gethook(co) == hook and not armed[co] then arm(co) end
  setmetatable({}, canary_mt) -- the canary for the next cycle
end
setmetatable({}, canary_mt)

return _M
