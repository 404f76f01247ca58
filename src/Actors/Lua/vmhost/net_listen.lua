-- net_listen.lua: the listening side of the `socket` table: bind (to an allowed address, a port of
-- listen-ports), listen (registered with the owner, so VMs of the cluster may connect) and accept.
local tostring, type = tostring, type
local format = string.format
local tointeger = math.tointeger
local mrandom = math.random

local sandbox = require "sandbox"
local netaddr = require "netaddr"
local net_sock = require "net_sock"

local argerror = sandbox.argerror
local bind_address, ports_text, rules = netaddr.bind_address, netaddr.ports_text, netaddr.rules
local sock_methods, sock_kind, sock_addr, sock_reg = net_sock.methods, net_sock.kind, net_sock.addr,
  net_sock.registered
local net_call, wrap_sock, make_real, checksock, closed_err = net_sock.net_call, net_sock.wrap,
  net_sock.make_real, net_sock.check, net_sock.closed_err
local port_arg, wait_sock, full = net_sock.port_arg, net_sock.wait, net_sock.full

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
      local too_many = full()
      if too_many then
        c:close()
        return nil, too_many
      end
      c:settimeout(0)
      return wrap_sock(c, "client")
    end
    if err ~= "timeout" then return nil, err end
    local sig = wait_sock("read", real, w)
    if sig ~= "ok" then return nil, sig end
  end
end

-- (bind, listen and accept are methods of every socket: nothing else to export)
return {}
