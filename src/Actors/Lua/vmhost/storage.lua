-- storage.lua: vm.storage, the VM's durable key-value storage (docs/storage.md, protocol.md
-- §11.9). Every call is an 'M' with a storage- op that waits for its 'A' (vm_api's call), so a
-- write returns only once the owner has it in its journal. A transaction buffers its sets and
-- deletes here and sends them as one storage-commit when its function returns: one write, all
-- or nothing; nothing is sent when the function raises. A call the owner refuses raises a
-- storage error: a table { kind = "storage-limit", message = ... } a script can test.
local error, next, pcall, rawget, select, type = error, next, pcall, rawget, select, type
local format, sub = string.format, string.sub
local pack, unpack, sort = table.pack, table.unpack, table.sort
local mtype = math.type
local utf8_len = utf8.len

local _M = {}

local MAX_DEPTH = 100 -- like the encoder's depth limit (protocol.md §7)

-- A unique marker for a key the transaction deleted.
local DELETED = {}

-- Storage errors live in storage_error.lua, which the host loads at start: it reports an
-- uncaught one without loading this module.
local storage_error = require "storage_error"
_M.error_parts = storage_error.error_parts
local raise = storage_error.raise
_M.raise = raise

local function bad(i, fname, msg, level)
  error(format("bad argument #%d to '%s' (%s)", i, fname, msg), level + 1)
end

-- A key: a non-empty string of valid UTF-8. `level` is the caller's level (2: the user's call).
local function key_arg(v, i, fname, present, level)
  if type(v) ~= "string" then
    bad(i, fname, "string expected, got " .. (present and type(v) or "no value"), level + 1)
  end
  if #v == 0 then bad(i, fname, "empty key", level + 1) end
  if not utf8_len(v) then bad(i, fname, "the key is not valid UTF-8", level + 1) end
  return v
end

-- Whether v can be stored and read back as it is: booleans, numbers, strings and tables of
-- them (keys: strings, numbers, booleans), no cycles, at most MAX_DEPTH levels. Reads with
-- next/rawget only, like the encoder: no metamethod runs. Returns nil or what is wrong.
local function unstorable(v, depth, path)
  local t = type(v)
  if t == "boolean" or t == "number" or t == "string" then return nil end
  if t ~= "table" then return "a " .. t .. " cannot be stored" end
  if depth > MAX_DEPTH then return format("tables nested more than %d levels deep", MAX_DEPTH) end
  if path[v] then return "a table that contains itself cannot be stored" end
  path[v] = true
  for k, x in next, v do
    local tk = type(k)
    if tk ~= "string" and tk ~= "number" and tk ~= "boolean" then
      path[v] = nil
      return "a table key of type " .. tk .. " cannot be stored"
    end
    local why = unstorable(x, depth + 1, path)
    if why then
      path[v] = nil
      return why
    end
  end
  path[v] = nil
  return nil
end

local function value_arg(v, i, fname, level)
  local why = unstorable(v, 1, {})
  if why then bad(i, fname, why, level + 1) end
  return v
end

-- Keys of `keys` (an array of stored keys) merged with the transaction's buffer, sorted.
local function merge_keys(keys, buf, prefix)
  local set, out, n = {}, {}, 0
  for i = 1, #keys do set[keys[i]] = true end
  for k, v in next, buf do
    if sub(k, 1, #prefix) == prefix then set[k] = (v ~= DELETED) or nil end
  end
  for k in next, set do
    n = n + 1
    out[n] = k
  end
  sort(out)
  return out
end

-- The vm.storage table; `try_call(op, name, has_value, value)` sends the 'M' and returns
-- true and the answer's value, or false and the refusal's text; `call` raises the refusal at
-- the level of whoever called the function that called it.
function _M.table(try_call)
  local function call(op, name, has_value, value)
    local ok, v = try_call(op, name, has_value, value)
    if not ok then raise(v, 3) end
    return v
  end

  local function get(...)
    local key = key_arg((...), 1, "get", select("#", ...) >= 1, 2)
    local v = call("storage-get", key, false)
    return v
  end

  local function set(...)
    local key, value = ...
    key_arg(key, 1, "set", select("#", ...) >= 1, 2)
    if value == nil then
      local ok = call("storage-delete", key, false)
      return ok
    end
    value_arg(value, 2, "set", 2)
    local ok = call("storage-set", key, true, value)
    return ok
  end

  local function delete(...)
    local key = key_arg((...), 1, "delete", select("#", ...) >= 1, 2)
    local ok = call("storage-delete", key, false)
    return ok
  end

  local function prefix_arg(p, fname)
    if p == nil then return "" end
    if type(p) ~= "string" then bad(1, fname, "string expected, got " .. type(p), 3) end
    return p
  end

  local function keys(prefix)
    prefix = prefix_arg(prefix, "keys")
    local list = call("storage-keys", prefix, false)
    if type(list) ~= "table" then list = {} end
    return list
  end

  local function transaction(...)
    local f = ...
    if type(f) ~= "function" then
      bad(1, "transaction", "function expected, got " .. (select("#", ...) >= 1 and type(f) or "no value"), 2)
    end
    local buf = {} -- key -> value, or DELETED
    local open = true
    local function check_open(fname)
      if not open then error(format("'%s': the transaction is over", fname), 3) end
    end
    local s = {}
    function s.get(...)
      check_open("get")
      local key = key_arg((...), 1, "get", select("#", ...) >= 1, 2)
      local b = rawget(buf, key)
      if b == DELETED then return nil end
      if b ~= nil then return b end
      local v = call("storage-get", key, false)
      return v
    end
    function s.set(...)
      check_open("set")
      local key, value = ...
      key_arg(key, 1, "set", select("#", ...) >= 1, 2)
      if value == nil then
        buf[key] = DELETED
      else
        buf[key] = value_arg(value, 2, "set", 2)
      end
    end
    function s.delete(...)
      check_open("delete")
      local key = key_arg((...), 1, "delete", select("#", ...) >= 1, 2)
      buf[key] = DELETED
    end
    function s.keys(prefix)
      check_open("keys")
      prefix = prefix_arg(prefix, "keys")
      local list = call("storage-keys", prefix, false)
      local merged = merge_keys(type(list) == "table" and list or {}, buf, prefix)
      return merged
    end

    local results = pack(pcall(f, s, select(2, ...)))
    open = false
    if not results[1] then error(results[2], 0) end
    -- One entry per key, the last write of each: [key, value] sets, [key] deletes.
    local ops, n = {}, 0
    for k, v in next, buf do
      n = n + 1
      if v == DELETED then ops[n] = { k } else ops[n] = { k, v } end
    end
    if n > 0 then call("storage-commit", "", true, ops) end
    return unpack(results, 2, results.n)
  end

  return { get = get, set = set, delete = delete, keys = keys, transaction = transaction }
end

-- For the tests (tests/lua): the validation, without a host.
_M.unstorable = function(v) return unstorable(v, 1, {}) end
_M.merge_keys = merge_keys
_M.DELETED = DELETED

return _M
