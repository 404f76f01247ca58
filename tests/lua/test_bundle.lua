-- The bundled host script, run as a VM: user code reaches none of the host's modules.
local protocol = require "protocol"

-- Runs the bundle on frames { op, payload [, id] }; returns the replies { op, id, payload }.
local function run_frames(t, frames)
  local out = os.tmpname()
  local vm = assert(io.popen(string.format("%s %q > %q", arg[-1] or "lua5.4", t.bundle, out), "w"))
  for i, f in ipairs(frames) do
    vm:write(protocol.header(f[1], f[3] or string.format("%08x", i), #f[2]), f[2])
  end
  vm:write(protocol.header("Q", "ffffffff", 0))
  vm:close()
  local f = assert(io.open(out, "rb"))
  local s = f:read("a")
  f:close()
  os.remove(out)
  local replies, pos = {}, 1
  while pos <= #s do
    local op, id, len = protocol.decode_header(s:sub(pos, pos + 17))
    assert(op, "bad reply header at byte " .. pos)
    replies[#replies + 1] = { op, id, s:sub(pos + 18, pos + 17 + len) }
    pos = pos + 18 + len
  end
  return replies
end

-- Like run_frames, but stdin stays open until `count` replies came (the VM exits when stdin
-- ends, even with frames queued, and a request that waits runs the event loop, which reads
-- ahead), and a frame with `after = n` is written once n replies came.
local function run_live(t, frames, count)
  local fifo = os.tmpname()
  os.remove(fifo)
  assert(os.execute("mkfifo " .. fifo), "mkfifo")
  local vm = assert(io.popen(string.format("%s %q < %q", arg[-1] or "lua5.4", t.bundle, fifo), "r"))
  local input = assert(io.open(fifo, "wb"))
  os.remove(fifo) -- both ends are open
  local replies = {}
  local function read_until(n)
    while #replies < n do
      local h = vm:read(18)
      if not h then return end
      local op, id, len = protocol.decode_header(h)
      assert(op, "bad reply header " .. h)
      replies[#replies + 1] = { op, id, vm:read(len) or "" }
    end
  end
  for i, f in ipairs(frames) do
    read_until(f.after or 0) -- a frame that answers one of the VM's waits its reply
    input:write(protocol.header(f[1], f[3] or string.format("%08x", i), #f[2]), f[2])
    input:flush()
  end
  read_until(count)
  input:write(protocol.header("Q", "ffffffff", 0))
  input:close()
  vm:read("a")
  vm:close()
  return replies
end

-- Runs the bundle on E frames of the given code.
local function run_vm(t, codes)
  local frames = {}
  for i, code in ipairs(codes) do frames[i] = { "E", "0 0\n" .. code } end
  return run_frames(t, frames)
end

-- The result JSON of an 'R' payload.
local function result(t, reply)
  t.eq(reply[1], "R", "reply op (payload: " .. reply[3] .. ")")
  local _, jl, pos = reply[3]:match("^(%d+) (%d+) %d+ [01]\n()")
  return reply[3]:sub(pos, pos + tonumber(jl) - 1)
end

return {
  ["user code reaches no loader, module or module table"] = function(t)
    local r = run_vm(t, {
      "return require, package, debug, io, dofile, loadfile, string.dump, preload, loaded, lua_require",
      "return load('return require, package, preload, loaded')()",
      -- everything reachable from the environment: no module's internals anywhere
      [[
        local seen, found = {}, {}
        local names = { preload = 1, loaded = 1, ["vmhost.lines"] = 1, lua_require = 1,
          read_frame = 1, send_x = 1, hook_err = 1, encode_results = 1, new_env = 1, ops = 1,
          set_poll = 1, set_output = 1, restore_string_table = 1, limits = 1, req = 1 }
        local function walk(v)
          if (type(v) ~= "table") or seen[v] then return end
          seen[v] = true
          for k, x in next, v do
            if names[k] then found[#found + 1] = tostring(k) end
            walk(k); walk(x)
          end
          local mt = getmetatable(v)
          if type(mt) == "table" then walk(mt) end
        end
        walk(_G)
        walk(getmetatable(""))
        return table.concat(found, ",")]],
    })
    t.eq(#r, 4, "replies")
    t.eq(result(t, r[1]), "[null,null,null,null,null,null,null,null,null,null]")
    t.eq(result(t, r[2]), "[null,null,null,null]")
    t.eq(result(t, r[3]), '[""]')
    t.eq(r[4][1], "K", "Q answered")
  end,

  ["user errors keep their positions; host frames are not in tracebacks"] = function(t)
    local r = run_vm(t, { "local x = nil\nreturn x.y", "error('boom')", "return 1 +" })
    t.eq(r[1][1], "X")
    t.ok(r[1][3]:find("^runtime %d+ %d+ 0 0\nexec:2: attempt to index a nil value %(local 'x'%)"), r[1][3])
    t.ok(not r[1][3]:find("vmhost"), "no host frame: " .. r[1][3])
    t.ok(r[2][3]:find("exec:1: boom", 1, true) and not r[2][3]:find("vmhost"), r[2][3])
    t.ok(r[3][3]:find("^syntax %d+ 0 0 0\nexec:1: unexpected symbol near <eof>"), r[3][3])
  end,

  ["networking loads with net=1, from the string table as it was at start"] = function(t)
    local r = run_frames(t, {
      { "E", "0 0\nreturn socket == nil" },
      -- user code changes the string table the host shares with it, before networking loads
      { "E", "0 0\nstring.format = function() return 'tampered' end; return 1" },
      { "L", "net=1\nnet_bind=127.0.0.1\nnet_ports=20000-20100\nnet_sockets=4\n" },
      { "E", "0 0\nlocal s = socket.tcp(); return tostring(s):sub(1, 11), select(2, socket.connect('0.0.0.0', 1))" },
      -- an error raised by networking code: the user's line, no host frame in the traceback
      { "E", "0 0\nlocal s = socket.tcp()\nlocal ok = s:connect(1)\nreturn ok" },
    })
    t.eq(result(t, r[1]), "[true]")
    if r[3][1] == "X" and r[3][3]:find("LuaSocket", 1, true) then return end -- no lua-socket here
    t.eq(r[3][1], "K", "L answered (payload: " .. r[3][3] .. ")")
    t.eq(result(t, r[4]), '["tcp{master}","cannot connect to the unspecified address 0.0.0.0"]')
    t.eq(r[5][1], "X")
    t.ok(r[5][3]:find("^runtime %d+ %d+ 0 0\nexec:2: bad argument #1 to 'connect'"), r[5][3])
    t.ok(r[5][3]:find("\n\texec:2: in ", 1, true) and not r[5][3]:find("vmhost"), "no host frame: " .. r[5][3])
  end,

  ["storage and the message decoder load at first use, from the string table as it was at start"] = function(t)
    local r = run_live(t, {
      -- user code changes the string table the host shares with it, before either loads
      { "E", "0 0\nstring.format = function() return 'tampered' end; string.sub = string.format; return 1" },
      -- a message nobody waits for goes to the mailbox; vm.receive decodes it
      { "D", "0 0 7\n[1,\"a\"]" },
      { "E", "0 0\nlocal v = vm.receive(); return v[1], v[2]" },
      -- argument errors raised by storage.lua name the user's line, through the stubs
      { "E", "0 0\nlocal s = vm.storage\nlocal v = s.get(1)\nreturn v" },
      { "E", "0 0\nreturn pcall(vm.storage.set, '')" },
      -- a call through the owner: its 'M' is the VM's first frame (id 1), answered by 'A'
      { "E", "0 0\nreturn vm.storage.get('k')" },
      { "A", "ok\n{\"x\":42}", "00000001", after = 5 },
    }, 6)
    t.eq(result(t, r[1]), "[1]")
    t.eq(result(t, r[2]), '[1,"a"]')
    t.eq(r[3][1], "X")
    t.ok(r[3][3]:find("^runtime %d+ %d+ 0 0\nexec:2: bad argument #1 to 'get' %(string expected, got number%)"), r[3][3])
    t.ok(r[3][3]:find("\n\texec:2: in ", 1, true), "user frame: " .. r[3][3])
    t.ok(not r[3][3]:find("vmhost") and not r[3][3]:find("tail calls", 1, true), "no host frame: " .. r[3][3])
    t.eq(result(t, r[4]), '[false,"bad argument #1 to \'set\' (empty key)"]')
    t.eq(r[5][1], "M", "storage-get sent (payload: " .. r[5][3] .. ")")
    t.eq(r[5][2], "00000001", "the VM's first frame id")
    t.ok(r[5][3]:find("^storage%-get 1 0\nk"), r[5][3])
    t.eq(result(t, r[6]), '[{"x":42}]')
  end,

  ["a module loaded by user code's call leaves the limit hook on"] = function(t)
    -- storage.lua loads (hookless) in the user coroutine; the loop after it must still time out
    local r = run_live(t, { { "E", "50 0\npcall(vm.storage.get, 1)\nfor i = 1, 3e8 do end\nreturn 1" } }, 1)
    t.eq(r[1][1], "X", "reply op (payload: " .. r[1][3] .. ")")
    t.ok(r[1][3]:find("^timeout %d+ %d+ 0 0\ntimeout: execution exceeded 50 ms"), r[1][3])
  end,
}
