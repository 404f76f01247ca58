-- The socket helpers behind VmNetworking.StartServerAsync, StopServerAsync, ConnectToAsync and
-- SendDataAsync (docs/messaging.md, "Sockets"). Run as an ordinary chunk in a VM created with
-- networking on; it defines the global `luaactors_net` once per Lua state (a reset clears it
-- and closes the sockets). Every line a connection receives goes to the VM's host as
-- { connection = id, data = line }, where ReceiveMessageAsync takes it; a listener that ends
-- (stopped, or accept failing) goes there as { server = port, closed = why }.
if luaactors_net then return end
if not socket then
  error("networking is off for this VM: create it with VmOptions.Networking = true", 0)
end

local connections, last_id = {}, 0
local servers = {} -- port -> listening socket

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
  -- Listens on host:port (port 0: a free port of listen-ports); returns the port. Each accepted connection
  -- gets an id and a reader task.
  serve = function(host, port)
    local server, err = socket.bind(host, port)
    if not server then error(err, 0) end -- the rule's message as it is, without a position
    local _, bound = server:getsockname()
    bound = math.tointeger(tonumber(bound))
    servers[bound] = server
    vm.spawn(function()
      while true do
        local client, err = server:accept()
        if client then
          track(client)
        elseif not string.find(tostring(err), "too many sockets", 1, true) then
          -- Closed (stop), or failing at once (out of file descriptors, …): accept would fail
          -- again at once, so the loop ends here instead of spinning until the task's time
          -- limit, and the host hears why. (Over the VM's socket limit, that connection alone
          -- was refused: go on.)
          if servers[bound] == server then servers[bound] = nil end
          server:close()
          vm.send("$host", { server = bound, closed = tostring(err) })
          return
        end
      end
    end)
    return bound
  end,

  -- Closes the listener on port (its accept task then ends); connections it accepted stay
  -- open. Returns whether there was one.
  stop = function(port)
    local server = servers[port]
    if not server then return false end
    servers[port] = nil
    server:close()
    return true
  end,

  -- Connects to host:port; returns the connection's id.
  connect = function(host, port)
    local client, err = socket.connect(host, port)
    if not client then error(err, 0) end
    return track(client)
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
