-- state.lua: the host's shared settings and the state of the request in progress, in tables
-- every module reads at call time (a module's locals are its own).
local huge = math.huge

local _M = {}

-- Limits (set by 'L'; per-request overrides come with 'E'/'V')
_M.limits = {
  timeout_ms = 5000,      -- default per-request time limit; 0 = none
  memory_kb = 65536,      -- default Lua heap limit (KiB); 0 = none
  output_cap = 1048576,   -- max bytes of captured print output per request
  result_cap = 0,         -- max bytes of a request's encoded result; 0 = none (luaactors.limits.max-result-size)
  rep_cap = 16777216,     -- max bytes one string.rep call may produce
  net = 0,                -- 1: the sandbox gets the cooperative `socket` table (needs LuaSocket)
  net_sockets = 64,       -- max sockets open at once (select's FD_SETSIZE is 1024)
  max_tasks = 256,        -- max background tasks (vm.spawn) alive at once
}
-- String-valued 'L' keys (validated by their own parsers in handlers.L).
_M.settings = {
  vm_id = nil,                       -- what vm.id() returns (nil until set)
}                                    -- (net_bind, net_ports: parsed into netaddr.rules)

_M.HOOK_COUNT = 1000   -- the hook fires every HOOK_COUNT VM instructions
_M.DEEP_STACK = 100000 -- over the heap limit with a call stack this deep: "stack overflow"
_M.MAX_PCALL_DEPTH = 200 -- nested pcall/xpcall per coroutine (the C-stack limit of lua.c)
_M.POLL_S = 0.01       -- the hook polls stdin at most every 10 ms of the deadline clock
_M.INTERRUPT_MSG = "interrupted"

-- Per-request state, read by the hook and the sandbox wrappers; the runner saves and restores
-- it around a request that waits, and gives every task slice a fresh one.
_M.req = {
  deadline = huge,     -- clock() value after which the request times out
  memlimit = huge,     -- heap limit in KiB for the current request
  tms = 0,             -- the request's time limit in ms, for the messages
  mkb = 0,             -- the request's heap limit in KiB, for the messages
  timed_out = false,   -- set by the hook: the deadline passed during this request
  mem_flag = false,    -- set by the hook: the heap is over its limit (cleared when back under)
  interrupted = false, -- set when an 'I' frame named the running request (raised like timed_out)
  next_poll = huge,    -- clock() value at which the hook next polls stdin (EVENTS only)
}

_M.env = nil        -- the current sandbox environment (rebuilt by 'Z')
_M.active_id = nil  -- id of the E/V request in progress (running or waiting), for 'I' frames

return _M
