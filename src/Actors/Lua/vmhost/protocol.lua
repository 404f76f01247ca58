-- protocol.lua: the frame codec (protocol.md §2) and the replies.
--
-- Frame: 18-byte ASCII header, then raw payload bytes:
--   op (1 byte) | request id (8 hex digits) | payload length (8 hex digits) | '\n'
-- stdout carries frames only: nothing in the host may call the real print or io.write except
-- the functions here.
local tonumber = tonumber
local sub, find, format = string.sub, string.find, string.format

local _M = {}

local out = io.stdout
local fwrite, fflush = out.write, out.flush
out:setvbuf("full", 65536)

-- Where frames go (tests write them to a file).
function _M.set_output(file)
  out = file
end

local HEADER_PAT = "^%x%x%x%x%x%x%x%x%x%x%x%x%x%x%x%x\n"

function _M.header(op, id, len)
  return op .. id .. format("%08x\n", len)
end

-- An 18-byte header -> op, id, payload length; or nil and the id to name in the error
-- ("00000000" when even that is unreadable).
function _M.decode_header(h)
  if not find(h, HEADER_PAT, 2) then
    return nil, find(h, "^%x%x%x%x%x%x%x%x", 2) and sub(h, 2, 9) or "00000000"
  end
  return sub(h, 1, 1), sub(h, 2, 9), tonumber(sub(h, 10, 17), 16)
end

function _M.send_k(id, payload)
  fwrite(out, "K", id, format("%08x\n", #payload), payload)
  fflush(out)
end

function _M.send_r(id, n, json, output, trunc)
  -- (integer .. string gives the same decimal text as %d, and is cheaper than format)
  local pre = n .. " " .. #json .. " " .. #output .. (trunc and " 1\n" or " 0\n")
  fwrite(out, "R", id, format("%08x\n", #pre + #json + #output), pre, json, output)
  fflush(out)
end

function _M.send_x(id, kind, msg, tb, output, trunc)
  tb = tb or ""
  output = output or ""
  local pre = format("%s %d %d %d %d\n", kind, #msg, #tb, #output, trunc and 1 or 0)
  fwrite(out, "X", id, format("%08x\n", #pre + #msg + #tb + #output), pre, msg, tb, output)
  fflush(out)
end

-- Any other frame the VM sends by itself (W, U, M, T: protocol.md §11).
function _M.send_frame(op, id, payload)
  fwrite(out, op, id, format("%08x\n", #payload), payload)
  fflush(out)
end

return _M
