-- test_storage.lua: vm.storage's argument checks and a transaction's buffering (storage.lua),
-- with a stand-in for the owner: a table of stored values and a log of the calls sent.
local storage = require "storage"

-- A fake `try_call` (vm_api's vm_try_call): answers like the owner does, and logs each call.
-- refusals[op]: the text the owner refuses that op with ("storage-limit: ...").
local function host(refusals)
  local stored, log = {}, {}
  local function answer(op, name, value)
    if op == "storage-get" then return stored[name] end
    if op == "storage-set" then stored[name] = value return true end
    if op == "storage-delete" then stored[name] = nil return true end
    if op == "storage-keys" then
      local keys = {}
      for k in pairs(stored) do
        if k:sub(1, #name) == name then keys[#keys + 1] = k end
      end
      table.sort(keys)
      return keys
    end
    if op == "storage-commit" then
      for _, entry in ipairs(value) do stored[entry[1]] = entry[2] end
      return true
    end
    error("unexpected op " .. op)
  end
  local function try_call(op, name, has_value, value)
    log[#log + 1] = { op = op, name = name, has_value = has_value, value = value }
    if refusals and refusals[op] then return false, refusals[op] end
    return true, answer(op, name, value)
  end
  return storage.table(try_call), stored, log
end

return {
  ["set, get, delete and keys send one call each"] = function(t)
    local s, stored, log = host()
    t.eq(s.set("a", 1), true, "set")
    t.eq(s.get("a"), 1, "get")
    t.eq(s.delete("a"), true, "delete")
    t.eq(stored.a, nil, "deleted")
    t.eq(#log, 3, "calls")
    s.set("p.1", "x")
    s.set("p.2", "y")
    s.set("q", "z")
    local keys = s.keys("p.")
    t.eq(#keys, 2, "keys with the prefix")
    t.eq(keys[1] .. keys[2], "p.1p.2", "keys in order")
  end,

  ["set with nil deletes"] = function(t)
    local s, stored, log = host()
    s.set("a", 1)
    s.set("a", nil)
    t.eq(stored.a, nil, "deleted")
    t.eq(log[#log].op, "storage-delete", "sent as a delete")
  end,

  ["bad keys and values raise before anything is sent"] = function(t)
    local s, _, log = host()
    t.raises(function() s.get(1) end, "string expected", "a number key")
    t.raises(function() s.set("", 1) end, "empty key", "an empty key")
    t.raises(function() s.set("\xff", 1) end, "not valid UTF%-8", "a key that is not UTF-8")
    t.raises(function() s.set("f", print) end, "a function cannot be stored", "a function")
    local cyclic = {}
    cyclic.self = cyclic
    t.raises(function() s.set("c", cyclic) end, "contains itself", "a cycle")
    t.raises(function() s.set("k", { [{}] = 1 }) end, "table key of type table", "a table key")
    t.raises(function() s.transaction("no") end, "function expected", "transaction of a string")
    t.eq(#log, 0, "nothing sent")
  end,

  ["a transaction sends one commit with the last write of each key"] = function(t)
    local s, stored, log = host()
    s.set("old", "v")
    local before = #log
    local r1, r2 = s.transaction(function(tx)
      tx.set("a", 1)
      tx.set("a", 2)
      tx.set("b", { 1, 2.5 })
      tx.delete("old")
      t.eq(tx.get("a"), 2, "a buffered set is read back")
      t.eq(tx.get("old"), nil, "a buffered delete is read back")
      local keys = tx.keys("")
      t.eq(#keys, 2, "keys merge the buffer")
      return "done", 7
    end)
    t.eq(r1, "done", "the function's first result")
    t.eq(r2, 7, "the function's second result")
    local commits = 0
    for i = before + 1, #log do
      if log[i].op == "storage-commit" then commits = commits + 1 end
      t.ok(log[i].op ~= "storage-set" and log[i].op ~= "storage-delete", "no single write inside a transaction")
    end
    t.eq(commits, 1, "one commit")
    t.eq(stored.a, 2, "a committed")
    t.eq(stored.b[2], 2.5, "b committed")
    t.eq(stored.old, nil, "old deleted")
  end,

  ["a transaction whose function raises sends nothing and raises the same error"] = function(t)
    local s, stored, log = host()
    local ok, err = pcall(s.transaction, function(tx)
      tx.set("a", 1)
      error("boom", 0)
    end)
    t.eq(ok, false, "raised")
    t.eq(err, "boom", "the function's error")
    t.eq(stored.a, nil, "nothing written")
    for _, c in ipairs(log) do t.ok(c.op ~= "storage-commit", "no commit") end
  end,

  ["the handle of a finished transaction refuses writes"] = function(t)
    local s = host()
    local kept
    s.transaction(function(tx) kept = tx end)
    t.raises(function() kept.set("a", 1) end, "the transaction is over", "a late set")
  end,

  ["a storage-limit refusal raises an error object a script can test"] = function(t)
    local s, stored = host({ ["storage-set"] = "storage-limit: 4 keys, over luaactors.storage.max-keys (3)" })
    local ok, err = pcall(s.set, "k", 1)
    t.eq(ok, false, "raised")
    t.eq(type(err), "table", "an error object")
    t.eq(err.kind, "storage-limit", "its kind")
    t.eq(err.message, "4 keys, over luaactors.storage.max-keys (3)", "its message")
    t.eq(tostring(err), "storage-limit: 4 keys, over luaactors.storage.max-keys (3)", "printed")
    t.eq(getmetatable(err), "storage error", "the metatable is hidden")
    local kind, message = storage.error_parts(err)
    t.eq(kind, "storage-limit", "the host reads its kind")
    t.eq(message, err.message, "and its message")
    t.eq(storage.error_parts(setmetatable({ kind = "storage-limit", message = "x" }, {})), nil, "a look-alike is not one")
    t.eq(stored.k, nil, "nothing stored")
  end,

  ["every storage- kind is an error object; other refusals stay text"] = function(t)
    local s = host({ ["storage-get"] = "storage-unavailable: the journal failed", ["storage-keys"] = "bad answer from the host" })
    local _, err = pcall(s.get, "k")
    t.eq(err.kind, "storage-unavailable", "storage-unavailable")
    local _, text = pcall(s.keys)
    t.eq(type(text), "string", "not a storage kind: the text")
    t.ok(text:find("bad answer from the host", 1, true), "the text kept")
  end,

  ["a refused commit raises the storage error from transaction"] = function(t)
    local s, stored = host({ ["storage-commit"] = "storage-limit: 300 bytes stored, over luaactors.storage.max-total-size (200 bytes); nothing was written" })
    local ok, err = pcall(s.transaction, function(tx) tx.set("a", 1) tx.set("b", 2) end)
    t.eq(ok, false, "raised")
    t.eq(err.kind, "storage-limit", "its kind")
    t.eq(stored.a, nil, "nothing stored")
  end,

  ["a transaction that writes nothing sends nothing"] = function(t)
    local s, _, log = host()
    s.transaction(function(tx) return tx.get("none") end)
    for _, c in ipairs(log) do t.ok(c.op ~= "storage-commit", "no commit") end
  end,
}
