-- net.lua: the `socket` table (net=1): cooperative TCP inside the network rule (protocol.md
-- §11.6). Addresses are checked by netaddr.lua; the socket objects are net_sock.lua's, their
-- listening side net_listen.lua's; this module holds the connecting side and the table itself.
local error, type = error, type
local tointeger = math.tointeger

local prelude = require "prelude"
local sandbox = require "sandbox"
local vm_api = require "vm_api"
local netaddr = require "netaddr"
local net_sock = require "net_sock"
require "net_listen"

local sk, num2str = prelude.sk, prelude.num2str
local argerror = sandbox.argerror
local canonical = netaddr.canonical
local sock_methods, sock_kind = net_sock.methods, net_sock.kind
local net_call, wrap_sock, make_real, checksock, closed_err = net_sock.net_call, net_sock.wrap,
  net_sock.make_real, net_sock.check, net_sock.closed_err
local port_arg, wait_sock, full = net_sock.port_arg, net_sock.wait, net_sock.full

local _M = {}

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
  local too_many = full()
  if too_many then return nil, too_many end
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
_M.reset = net_sock.reset

return _M
