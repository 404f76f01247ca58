-- The sandbox environment (sandbox.lua): what user code gets, what it does not.
local sandbox = require "sandbox"
local limit_hook = require "hook"
local state = require "state"

local function new_env()
  local e = sandbox.new_env(function() return { id = function() end } end, function() return {} end)
  state.env = e
  return e
end

-- Runs code in e as user code runs: in a coroutine under the hook.
local function run(e, code)
  local fn = assert(load(code, "=test", "t", e))
  local co = limit_hook.new(fn)
  local r = table.pack(coroutine.resume(co))
  return table.unpack(r, 1, r.n)
end

return {
  ["no way out: require, package, debug, io, files, os beyond time"] = function(t)
    local e = new_env()
    for _, name in ipairs({ "require", "package", "debug", "io", "dofile", "loadfile", "loadstring",
      "module", "setfenv", "getfenv", "rawequal_", "arg", "socket" }) do
      t.eq(rawget(e, name), nil, name)
    end
    local os_keys = {}
    for k in pairs(e.os) do os_keys[#os_keys + 1] = k end
    table.sort(os_keys)
    t.eq(table.concat(os_keys, ","), "clock,date,difftime,time", "os")
    t.eq(e.string.dump, nil, "string.dump")
    t.eq(e._G, e, "_G is the environment itself")
    t.ok(e.print ~= print and e.load ~= load and e.pcall ~= pcall and e.setmetatable ~= setmetatable,
      "wrapped functions")
  end,

  ["the environment is fresh each time and shares only the string table"] = function(t)
    local a, b = new_env(), new_env()
    t.ok(a ~= b and a.table ~= b.table and a.math ~= b.math and a.coroutine ~= b.coroutine, "copies")
    t.ok(a.table ~= table and a.math ~= math, "not the host's tables")
    t.eq(a.string, string, "the string table is shared (it is the string metatable's __index)")
  end,

  ["locked: string metatable, __gc, collectgarbage options, binary chunks"] = function(t)
    local e = new_env()
    t.eq(e.getmetatable(""), false, "getmetatable('')")
    t.raises(function() e.setmetatable({}, { __gc = function() end }) end, "__gc metamethods are not allowed")
    local locked = setmetatable({}, { __metatable = "locked" })
    t.raises(function() e.setmetatable(locked, {}) end, "protected metatable")
    for _, opt in ipairs({ "stop", "restart", "incremental", "generational", "setpause" }) do
      t.raises(function() e.collectgarbage(opt) end, "not allowed in the sandbox", opt)
    end
    t.eq(type(e.collectgarbage("count")), "number")
    local f, err = e.load("\27LuaT\0", "x", "b")
    t.ok(not f and tostring(err):find("binary chunk"), "binary chunk refused: " .. tostring(err))
  end,

  ["load gives the sandbox environment, not the host's"] = function(t)
    local e = new_env()
    local f = assert(e.load("return _ENV, require, package"))
    local env, r, p = f()
    t.eq(env, e)
    t.eq(r, nil)
    t.eq(p, nil)
  end,

  ["user coroutines run under the limit hook"] = function(t)
    local e = new_env()
    local ok, hooked = run(e, "return debug == nil and coroutine.create(function() end)")
    t.ok(ok, "ran")
    t.eq(debug.gethook(hooked), limit_hook.hook)
    t.eq(debug.gethook(e.coroutine.create(function() end)), limit_hook.hook)
  end,

  ["string.rep is capped"] = function(t)
    local e = new_env()
    t.raises(function() e.string.rep("x", state.limits.rep_cap + 1) end, "string.rep result too large")
    t.eq(e.string.rep("ab", 3, ","), "ab,ab,ab")
  end,

  ["xpcall calls the user's handler for user errors"] = function(t)
    local e = new_env()
    local ok, a, b = run(e, "return xpcall(error, function(m) return 'handled ' .. m end, 'x', 0)")
    t.ok(ok, "ran")
    t.eq(a, false)
    t.eq(b, "handled x")
  end,

  ["print is captured, with its position in errors"] = function(t)
    local capture = require "capture"
    local e = new_env()
    capture.start()
    local ok = run(e, "print('a', 1, 2.0, nil, true)")
    t.ok(ok, "ran")
    t.eq((capture.take()), "a\t1\t2.0\tnil\ttrue\n")
    local ok2, err = run(e, "print(setmetatable({}, { __tostring = function() return {} end }))")
    t.ok(not ok2 and err:find("^test:1: '__tostring' must return a string"), tostring(err))
  end,
}
