-- run.lua: runs the host script's Lua unit tests (tests/lua/test_*.lua).
--
--   lua5.4 tests/lua/run.lua <module dir> [<bundled host script>]
--
-- Every module of <module dir> (src/Actors/Lua/vmhost) is made loadable with require, as the
-- bundle does it. A test file returns { ["what it checks"] = function(t) ... end, ... }; t has
-- the assertions below. With a bundled host script, test_bundle.lua also runs VMs on it.
-- Prints one line per failure and then "<n> passed, <m> failed"; exits 1 if any failed.
local module_dir, bundle = arg[1], arg[2]
if not module_dir then
  io.stderr:write("usage: lua5.4 run.lua <module dir> [<bundled host script>]\n")
  os.exit(2)
end
local test_dir = arg[0]:match("^(.*)/[^/]*$") or "."

for _, name in ipairs({ "prelude", "state", "hook", "capture", "sandbox", "json", "json_decode",
  "protocol", "input", "request", "waits", "tasks", "runner", "storage_error", "storage", "vm_api", "netaddr", "net_sock", "net_listen", "net", "handlers" }) do
  package.preload[name] = assert(loadfile(module_dir .. "/" .. name .. ".lua"))
end

local report = io.stderr -- (the protocol module owns stdout's buffering)

local t = {}
function t.eq(actual, expected, what)
  if actual ~= expected and not (actual ~= actual and expected ~= expected) then
    error(string.format("%s: expected %q, got %q", what or "value", tostring(expected), tostring(actual)), 2)
  end
end
function t.same_type(actual, expected, what)
  if math.type(actual) ~= math.type(expected) or type(actual) ~= type(expected) then
    error(string.format("%s: expected a %s, got a %s", what or "value",
      math.type(expected) or type(expected), math.type(actual) or type(actual)), 2)
  end
end
function t.ok(v, what)
  if not v then error((what or "condition") .. " is not true", 2) end
end
function t.raises(f, pattern, what)
  local ok, err = pcall(f)
  if ok then error((what or "call") .. " did not raise", 2) end
  if pattern and not tostring(err):find(pattern) then
    error(string.format("%s raised %q, not matching %q", what or "call", tostring(err), pattern), 2)
  end
end
t.bundle = bundle

local files = { "test_json.lua", "test_sandbox.lua", "test_protocol.lua", "test_netaddr.lua", "test_storage.lua" }
if bundle then files[#files + 1] = "test_bundle.lua" end

local passed, failed = 0, 0
for _, file in ipairs(files) do
  local tests = assert(dofile(test_dir .. "/" .. file))
  local names = {}
  for name in pairs(tests) do names[#names + 1] = name end
  table.sort(names)
  for _, name in ipairs(names) do
    local ok, err = xpcall(tests[name], debug.traceback, t)
    if ok then
      passed = passed + 1
    else
      failed = failed + 1
      report:write("FAIL ", file, ": ", name, "\n  ", tostring(err):gsub("\n", "\n  "), "\n")
    end
  end
end
report:write(string.format("%d passed, %d failed\n", passed, failed))
os.exit(failed == 0 and 0 or 1)
