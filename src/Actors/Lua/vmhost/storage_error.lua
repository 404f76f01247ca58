-- storage_error.lua: the error a refused vm.storage call raises (docs/storage.md), a table
-- { kind = "storage-limit", message = ... } a script can test. Apart from storage.lua, which
-- loads at the first storage call, so the host can report an uncaught one at no start cost.
local error, rawequal, rawget, setmetatable, type = error, rawequal, rawget, setmetatable, type
local getmetatable_raw, match = debug.getmetatable, string.match

local _M = {}

-- The metatable of storage errors. `__metatable` hides it from getmetatable, so user code
-- can neither change how they print nor make its own tables pass for one.
local ERROR_MT = { __name = "storage error", __metatable = "storage error" }
function ERROR_MT.__tostring(e) return rawget(e, "kind") .. ": " .. rawget(e, "message") end

-- kind, message of a storage error; nil for any other value. Runs no user code (the host
-- reports uncaught errors with it).
function _M.error_parts(e)
  if type(e) == "table" and rawequal(getmetatable_raw(e), ERROR_MT) then
    return rawget(e, "kind"), rawget(e, "message")
  end
  return nil
end

-- Raises the owner's refusal ("<kind>: <message>", protocol.md §11.9): a storage error when it
-- names a storage- kind, else the text as it is. `level` as error's, for the text.
function _M.raise(body, level)
  local kind, message = match(body, "^(storage%-[%l%-]+): (.*)$")
  if kind then error(setmetatable({ kind = kind, message = message }, ERROR_MT), 0) end
  error(body, level + 1)
end

return _M
