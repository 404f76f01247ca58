-- The socket helpers behind VmNetworking.StartServerAsync, ConnectToAsync and SendDataAsync
-- (docs/api.md, "Sockets"). Run as an ordinary chunk in a VM created with networking on; it
-- defines the global `luaactors_net` once per Lua state (a reset clears it and closes the
-- sockets). Every line a connection receives goes to the VM's host as
-- { connection = id, data = line }, where ReceiveMessageAsync takes it.
if luaactors_net then return end
if not socket then
  error("networking is off for this VM: create it with VmOptions.Networking = true", 0)
end

local connections, last_id = {}, 0

local function read_lines(id, client)
  while true do
    local line, err = client:receive("*l")
    if not line then
      connections[id] = nil
      client:close()
      vm.send("$host", { connection = id, closed = err })
      return
    end
    vm.send("$host", { connection = id, data = line })
  end
end

local function track(client)
  last_id = last_id + 1
  connections[last_id] = client
  vm.spawn(read_lines, last_id, client)
  return last_id
end

luaactors_net = {
  -- Listens on host:port (port 0: any free port); returns the port. Each accepted connection
  -- gets an id and a reader task.
  serve = function(host, port)
    local server = assert(socket.bind(host, port))
    local _, bound = server:getsockname()
    vm.spawn(function()
      while true do
        local client = server:accept()
        if client then track(client) end
      end
    end)
    return math.tointeger(tonumber(bound))
  end,

  -- Connects to host:port; returns the connection's id.
  connect = function(host, port)
    return track(assert(socket.connect(host, port)))
  end,

  -- Sends data plus "\n" to one connection (id) or to all (nil); returns how many took it.
  send = function(data, id)
    local sent = 0
    for cid, client in pairs(connections) do
      if id == nil or id == cid then
        if client:send(data .. "\n") then sent = sent + 1 end
      end
    end
    if id ~= nil and sent == 0 and not connections[id] then
      error("no open connection " .. tostring(id), 0)
    end
    return sent
  end,
}
