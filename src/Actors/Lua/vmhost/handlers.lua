-- handlers.lua: the request handlers, one per op the owner sends (protocol.md §3): E, V, L, P,
-- Z, Q. 'I', 'D' and 'A' act at once when read (runner.lua).
local next, rawset, tonumber, type, load = next, rawset, tonumber, type, load
local collectgarbage = collectgarbage
local sub, match, gmatch = string.sub, string.match, string.gmatch
local tointeger = math.tointeger
local exit = os.exit
local LUA_VERSION = _VERSION

local prelude = require "prelude"
local state = require "state"
local sandbox = require "sandbox"
local protocol = require "protocol"
local request = require "request"
local runner = require "runner"
local vm_api = require "vm_api"

local EVENTS = prelude.EVENTS
local limits, settings = state.limits, state.settings
local send_k, send_x = protocol.send_k, protocol.send_x
local run, parse_exec, bad_exec, load_failed = request.run, request.parse_exec, request.bad_exec,
  request.load_failed
local make_vm_table = vm_api.table

-- netaddr.lua and net.lua (with its parts) load with the first 'L' that turns networking on:
-- most VMs never network. Always here, in host code on the main thread (HostBundle.cs).
local netaddr, net

local function make_socket_table()
  net = net or require "net"
  return net.table()
end

-- A fresh sandbox environment (at start and on 'Z').
local function new_env()
  return sandbox.new_env(make_vm_table, make_socket_table)
end

local _M = {}
local handlers = {} -- op -> function(id, payload)
_M.ops = handlers

-- The environment user code starts in.
function _M.init()
  state.env = new_env()
end

handlers.E = function(id, payload)
  local tms, mkb, code = parse_exec(payload)
  if not tms then return bad_exec(id) end
  local fn, err = load(code, "=exec", "t", state.env)
  if not fn then return load_failed(id, err) end
  return run(id, fn, tms, mkb)
end

handlers.V = function(id, payload)
  local tms, mkb, code = parse_exec(payload)
  if not tms then return bad_exec(id) end
  local env = state.env
  local fn = load("return " .. code, "=stdin", "t", env)
  if not fn then
    local err
    fn, err = load(code, "=stdin", "t", env)
    if not fn then
      if type(err) == "string" and sub(err, -5) == "<eof>" then
        return send_x(id, "incomplete", err)
      end
      return load_failed(id, err)
    end
  end
  return run(id, fn, tms, mkb)
end

-- 'L': numeric keys as before; string keys vm_id, net_bind, net_ports (protocol.md §3, §11.2).

handlers.L = function(id, payload)
  local new, news = {}, {}
  for line in gmatch(payload, "[^\n]+") do
    local k, v = match(line, "^([%w_]+)=(.*)$")
    if k == "vm_id" then
      news.vm_id = v -- "" unsets it
    elseif k == "net_bind" or k == "net_ports" then
      netaddr = netaddr or require "netaddr"
      local parsed = netaddr.parse(k, v)
      if not parsed then return send_x(id, "protocol", "bad 'L' payload line: " .. line) end
      news[k] = parsed
    else
      v = v and match(v, "^%d+$") and tointeger(tonumber(v))
      if not k or limits[k] == nil or not v or (k == "net" and v > 1) then
        return send_x(id, "protocol", "bad 'L' payload line: " .. line)
      end
      new[k] = v
    end
  end
  if new.net == 1 and not EVENTS then
    return send_x(id, "protocol", "net=1 needs LuaSocket (the lua-socket package)")
  end
  local net_was = limits.net
  for k, v in next, new do limits[k] = v end
  if news.vm_id then settings.vm_id = news.vm_id ~= "" and news.vm_id or nil end
  if news.net_bind then netaddr.rules.bind = news.net_bind end
  if news.net_ports then netaddr.rules.lo, netaddr.rules.hi = news.net_ports[1], news.net_ports[2] end
  if limits.net ~= net_was then
    rawset(state.env, "socket", limits.net == 1 and make_socket_table() or nil)
  end
  return send_k(id, "")
end

handlers.P = function(id)
  return send_k(id, LUA_VERSION)
end

handlers.Z = function(id)
  runner.reset()
  if net then net.reset() end
  state.env = new_env()
  sandbox.restore_string_table()
  collectgarbage("collect")
  return send_k(id, "")
end

handlers.Q = function(id)
  send_k(id, "")
  exit(0)
end

return _M
