-- net.lua: the `socket` table (net=1): cooperative TCP inside the network rule (protocol.md
-- §11.6). Addresses are checked by netaddr.lua; waits go through the runner (vm_api.await).
local error, next, setmetatable, tostring, type = error, next, setmetatable, tostring, type
local sub, format = string.sub, string.format
local tointeger = math.tointeger
local mrandom = math.random

local prelude = require "prelude"
local state = require "state"
local sandbox = require "sandbox"
local runner = require "runner"
local vm_api = require "vm_api"
local netaddr = require "netaddr"

local sk, num2str = prelude.sk, prelude.num2str
local limits = state.limits
local argerror = sandbox.argerror
local await, argerror2, check_timeout = vm_api.await, vm_api.argerror2, vm_api.check_timeout
local canonical, bind_address, ports_text, rules = netaddr.canonical, netaddr.bind_address,
  netaddr.ports_text, netaddr.rules

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

-- Binds real to ip:port; port 0 takes the first free port of net_ports from a random start.
local function bind_in_range(real, ip, port)
  local lo, hi = rules.lo, rules.hi
  if port ~= 0 then
    if port < lo or port > hi then
      return nil, format("port not allowed for listening: %d (luaactors.vm.networking.listen-ports %s)", port, ports_text())
    end
    return real:bind(ip, port)
  end
  local n = hi - lo + 1
  local first = mrandom(0, n - 1)
  local err
  for k = 0, n - 1 do
    local p = lo + (first + k) % n
    local ok
    ok, err = real:bind(ip, p)
    if ok then return ok end
    if err ~= "address already in use" then return nil, err end
  end
  return nil, format("no free port in luaactors.vm.networking.listen-ports %s", ports_text())
end

function sock_methods.bind(w, host, port)
  local real = checksock(w, "bind", "master")
  if type(host) ~= "string" then argerror(1, "bind", "string", host, true) end
  port = port_arg(port, 2, "bind")
  if sock_kind[w] == "closed" then return nil, "closed" end
  if real then return nil, "already bound or connecting" end
  local ip, fam = bind_address(host)
  if not ip then return nil, fam end
  local err
  real, err = make_real(w, fam, true)
  if not real then return nil, err end
  local ok
  ok, err = bind_in_range(real, ip, port)
  if not ok then return nil, err end
  local _, bound = real:getsockname()
  sock_addr[w] = ip .. " " .. tostring(bound)
  return 1
end

function sock_methods.listen(w, backlog)
  local real = checksock(w, "listen", "master")
  if not real or not sock_addr[w] then return nil, closed_err(w) or "not bound" end
  local ok, err = real:listen(tointeger(backlog) or 32)
  if not ok then return ok, err end
  sock_kind[w] = "server"
  -- Other VMs may connect to it once the owner has it in the listener registry.
  ok, err = net_call("net-listen", sock_addr[w])
  if not ok then
    sock_methods.close(w)
    return nil, err
  end
  sock_reg[w] = true
  return 1
end

function sock_methods.accept(w)
  local real = checksock(w, "accept", "server")
  if not real then return nil, "closed" end
  while true do
    local c, err = real:accept()
    if c then
      if nopen >= limits.net_sockets then
        c:close()
        return nil, too_many()
      end
      c:settimeout(0)
      return wrap_sock(c, "client")
    end
    if err ~= "timeout" then return nil, err end
    local sig = wait_sock("read", real, w)
    if sig ~= "ok" then return nil, sig end
  end
end

function sock_methods.connect(w, host, port)
  local real = checksock(w, "connect", "master")
  if type(host) ~= "string" then argerror(1, "connect", "string", host, true) end
  port = port_arg(port, 2, "connect")
  if sock_kind[w] == "closed" then return nil, "closed" end
  if real then return nil, "already bound or connecting" end
  local ip, fam = canonical(host)
  if not ip then return nil, fam end
  if netaddr.UNSPECIFIED[ip] then return nil, "cannot connect to the unspecified address " .. ip end
  -- The owner answers whether ip:port is a VM listener of this cluster or an operator-listed
  -- endpoint; the dial below uses exactly the address it checked.
  local ok, err = net_call("net-connect", ip .. " " .. port)
  if not ok then return nil, err end
  if sock_kind[w] == "closed" then return nil, "closed" end
  real, err = make_real(w, fam, false)
  if not real then return nil, err end
  ok, err = real:connect(ip, port)
  if not ok and err == "timeout" then
    local sig = wait_sock("write", real, w)
    if sig ~= "ok" then return nil, sig end
    ok, err = real:connect(ip, port)
    if not ok and err == "already connected" then ok = 1 end
  end
  if not ok then return nil, err end
  sock_kind[w] = "client"
  return 1
end

function sock_methods.send(w, data, i, j)
  local real = checksock(w, "send", "client")
  local td = type(data)
  if td == "number" then data = num2str(data)
  elseif td ~= "string" then argerror(1, "send", "string", data, true) end
  if not real then return nil, closed_err(w) or "not connected", 0 end
  i, j = tointeger(i) or 1, tointeger(j) or -1
  while true do
    local last, err, sent = real:send(data, i, j)
    if last then return last end
    if err ~= "timeout" then return nil, err, sent end
    i = sent + 1
    local sig = wait_sock("write", real, w)
    if sig ~= "ok" then return nil, sig, sent end
  end
end

function sock_methods.receive(w, pattern, prefix)
  local real = checksock(w, "receive", "client")
  if pattern == nil then pattern = "*l" end
  local tp = type(pattern)
  local all = pattern == "*a" or pattern == "a"
  if tp == "number" then
    if pattern < 0 then argerror(1, "receive", "valid pattern", pattern, true) end
  elseif pattern ~= "*l" and pattern ~= "l" and not all then
    error("bad argument #1 to 'receive' (invalid receive pattern)", 2)
  end
  local acc = prefix
  if acc ~= nil and type(acc) ~= "string" then argerror(2, "receive", "string", acc, true) end
  acc = acc or ""
  if not real then return nil, closed_err(w) or "not connected", acc end
  local given = #acc
  while true do
    local data, err, partial = real:receive(pattern, acc)
    if data then return data end
    -- "*a" reads until the peer closes: the data that came before the close is the answer,
    -- whether it arrived with the close or in earlier reads (LuaSocket only counts the last
    -- read's bytes, so data read while waiting would otherwise come back as nil, "closed").
    if all and err == "closed" and #partial > given then return partial end
    if err ~= "timeout" then return nil, err, partial end
    acc = partial
    local sig = wait_sock("read", real, w)
    if sig ~= "ok" then return nil, sig, acc end
  end
end

function sock_methods.shutdown(w, how)
  local real = checksock(w, "shutdown", "client")
  if not real then return nil, closed_err(w) or "not connected" end
  return real:shutdown(how == nil and "both" or how)
end

function sock_methods.setoption(w, name, value)
  local real = checksock(w, "setoption")
  if name ~= "tcp-nodelay" and name ~= "keepalive" then
    error("bad argument #1 to 'setoption' (only 'tcp-nodelay' and 'keepalive' are allowed)", 2)
  end
  if not real then return nil, closed_err(w) or "set options once the socket is connected" end
  return real:setoption(name, value and true or false)
end

local function sb_tcp()
  if nopen >= limits.net_sockets then return nil, too_many() end
  return wrap_sock(false, "master")
end

local function sb_bind(host, port, backlog)
  local w, err = sb_tcp()
  if not w then return nil, err end
  local ok
  ok, err = sock_methods.bind(w, host, port)
  if ok then ok, err = sock_methods.listen(w, backlog) end
  if not ok then
    sock_methods.close(w)
    return nil, err
  end
  return w
end

local function sb_connect(host, port)
  local w, err = sb_tcp()
  if not w then return nil, err end
  local ok
  ok, err = sock_methods.connect(w, host, port)
  if not ok then
    sock_methods.close(w)
    return nil, err
  end
  return w
end

function _M.table()
  return {
    tcp = sb_tcp, bind = sb_bind, connect = sb_connect, sleep = vm_api.sleep,
    gettime = sk and sk.gettime or nil, _VERSION = sk and sk._VERSION or nil,
  }
end

-- 'Z' (after runner.reset): closes every socket.
function _M.reset()
  for real in next, open_socks do real:close() end
  -- (the owner forgets this VM's listeners when the reset is answered)
  open_socks, nopen = {}, 0
  counted = setmetatable({}, { __mode = "k" })
  sock_reg = setmetatable({}, { __mode = "k" })
end

return _M
