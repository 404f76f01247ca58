-- net_sock.lua: the socket objects of the `socket` table (net.lua): the wrapper user code holds,
-- the real LuaSocket object behind it, what kind it is, and how many are open (limits.net_sockets);
-- the methods every kind has. Waits go through the runner (vm_api.await).
local error, next, setmetatable, tostring, type = error, next, setmetatable, tostring, type
local sub, format = string.sub, string.format
local tointeger = math.tointeger

local prelude = require "prelude"
local state = require "state"
local runner = require "runner"
local vm_api = require "vm_api"

local sk = prelude.sk
local limits = state.limits
local await, argerror2, check_timeout = vm_api.await, vm_api.argerror2, vm_api.check_timeout

local _M = {}

-- An M call the VM waits for: true, or nil and the error text of the A.
local function net_call(op, name)
  local sig, payload = await("call", op, name, false)
  if sig ~= "answer" then return nil, tostring(payload or sig) end
  if sub(payload, 1, 3) == "ok\n" then return true end
  if sub(payload, 1, 6) == "error\n" then return nil, sub(payload, 7) end
  return nil, "bad answer from the host"
end

local sock_real = setmetatable({}, { __mode = "k" }) -- wrapper -> real LuaSocket object (false: not made yet)
local sock_kind = setmetatable({}, { __mode = "k" }) -- wrapper -> "master" | "server" | "client" | "closed"
local sock_tmo = setmetatable({}, { __mode = "k" })  -- wrapper -> timeout (seconds) or nil
local sock_addr = setmetatable({}, { __mode = "k" }) -- wrapper -> "ip port" it is bound to (master, server)
local sock_reg = setmetatable({}, { __mode = "k" })  -- wrapper -> true: a listener the owner registered
local counted = setmetatable({}, { __mode = "k" })   -- wrapper -> true: counted in nopen
local open_socks, nopen = {}, 0                      -- real -> true: open sockets (closed by Z)
local sock_mt = { __metatable = "socket", __name = "socket" }
local sock_methods = {}
sock_mt.__index = sock_methods
sock_mt.__tostring = function(w)
  return format("tcp{%s}: %p", sock_kind[w] or "closed", w)
end

local function wrap_sock(real, kind)
  local w = setmetatable({}, sock_mt)
  sock_real[w], sock_kind[w], counted[w] = real, kind, true
  if real then open_socks[real] = true end
  nopen = nopen + 1
  return w
end

local function too_many()
  return format("too many sockets (limit %d)", limits.net_sockets)
end

-- The real socket of a master, made for the address family now that it is known: tcp4/tcp6
-- (socket.tcp() would defer the socket to bind/connect, and options set before then are lost).
local function make_real(w, fam, server)
  local real, err
  if fam == 6 then real, err = sk.tcp6() else real, err = sk.tcp4() end
  if not real then return nil, err end
  real:settimeout(0)
  if server then
    -- A port held by connections of a VM that just died (TIME_WAIT) is free to listen on again.
    local ok, oerr = real:setoption("reuseaddr", true)
    if not ok then
      real:close()
      return nil, "cannot set reuseaddr: " .. tostring(oerr)
    end
  end
  sock_real[w] = real
  open_socks[real] = true
  return real
end

local function checksock(w, fname, want)
  local real = sock_real[w]
  if real == nil then
    error(format("bad argument #1 to '%s' (socket expected, got %s)", fname, type(w)), 3)
  end
  if want and sock_kind[w] ~= want and sock_kind[w] ~= "closed" then
    error(format("calling '%s' on a %s socket", fname, sock_kind[w]), 3)
  end
  return real
end

local function closed_err(w)
  return sock_kind[w] == "closed" and "closed" or nil
end

local function until_of(w)
  return sock_tmo[w]
end

local function port_arg(p, i, fname)
  local n = tointeger(p)
  if not n or n < 0 or n > 65535 then argerror2(i, fname, "port number", p, true) end
  return n
end

-- Waits until real is readable/writable: "ok", "timeout", "closed" or "busy".
local function wait_sock(kind, real, w)
  local sig = await(kind, real, until_of(w))
  return sig
end

function sock_methods.settimeout(w, t)
  checksock(w, "settimeout")
  sock_tmo[w] = check_timeout(t, 2, "settimeout", true)
  return 1
end

function sock_methods.close(w)
  local real = checksock(w, "close")
  if counted[w] then
    counted[w] = nil
    nopen = nopen - 1
  end
  if real and open_socks[real] then
    open_socks[real] = nil
    runner.socket_closed(real)
    real:close()
  end
  if sock_reg[w] then
    -- The owner drops the listener from the registry (and from what a restart restores).
    sock_reg[w] = nil
    runner.post_call("net-unlisten", sock_addr[w])
  end
  sock_kind[w] = "closed"
  return 1
end

function sock_methods.getsockname(w)
  local real = checksock(w, "getsockname")
  if not real then return nil, "not bound" end
  return real:getsockname()
end

function sock_methods.getpeername(w)
  local real = checksock(w, "getpeername", "client")
  if not real then return nil, closed_err(w) or "not connected" end
  return real:getpeername()
end

-- Whether no socket more may be opened (the error text when so).
function _M.full()
  if nopen >= limits.net_sockets then return too_many() end
end

-- 'Z' (after runner.reset): closes every socket.
function _M.reset()
  for real in next, open_socks do real:close() end
  -- (the owner forgets this VM's listeners when the reset is answered)
  open_socks, nopen = {}, 0
  for w in next, counted do counted[w] = nil end
  for w in next, sock_reg do sock_reg[w] = nil end
end

_M.methods, _M.kind, _M.addr, _M.registered = sock_methods, sock_kind, sock_addr, sock_reg
_M.net_call, _M.wrap, _M.make_real, _M.check, _M.closed_err = net_call, wrap_sock, make_real,
  checksock, closed_err
_M.port_arg, _M.wait = port_arg, wait_sock

return _M
