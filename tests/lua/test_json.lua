-- The JSON codec (json.lua, json_decode.lua): protocol.md §7.
local json = require "json"
local decode = require("json_decode").decode

local enc = json.encode_one

return {
  ["integers and floats stay apart"] = function(t)
    t.eq(enc(1), "1")
    t.eq(enc(1.0), "1.0")
    t.eq(enc(-0.5), "-0.5")
    t.eq(enc(1e300), "1e+300")
    t.same_type(decode("1"), 1, "1")
    t.same_type(decode("1.0"), 1.0, "1.0")
    t.same_type(decode("1e2"), 1.0, "1e2")
    t.same_type(decode("-0"), 0, "-0")
    t.eq(json.encode_results(3, 1, 2.0, "x"), '[1,2.0,"x"]')
    t.eq(json.encode_results(0), "[]")
  end,

  ["64-bit integers are exact"] = function(t)
    t.eq(enc(math.maxinteger), "9223372036854775807")
    t.eq(enc(math.mininteger), "-9223372036854775808")
    t.eq(decode("9223372036854775807"), math.maxinteger)
    t.eq(decode("-9223372036854775808"), math.mininteger)
    t.same_type(decode("9223372036854775807"), 1)
    t.eq(enc(2 ^ 53), "9007199254740992.0")
    t.eq(decode(enc(2 ^ 53 + 1)), 2 ^ 53 + 1)
  end,

  ["floats round-trip, non-finite ones as placeholders"] = function(t)
    for _, x in ipairs({ 0.1, 1 / 3, -1e-300, 123456.789, 5e-324 }) do
      t.eq(decode(enc(x)), x, tostring(x))
    end
    t.eq(enc(1 / 0), '{"$type":"float","value":"inf"}')
    t.eq(enc(-1 / 0), '{"$type":"float","value":"-inf"}')
    t.eq(enc(0 / 0), '{"$type":"float","value":"nan"}')
    t.eq(decode('{"$type":"float","value":"-inf"}'), -1 / 0)
    local nan = decode('{"$type":"float","value":"nan"}')
    t.ok(nan ~= nan, "nan decodes to nan")
  end,

  ["bytes that are not UTF-8 go as base64"] = function(t)
    t.eq(enc("\xff\x00"), '{"$type":"bytes","base64":"/wA="}')
    t.eq(decode('{"$type":"bytes","base64":"/wA="}'), "\xff\x00")
    t.eq(enc({ ["\xff"] = 1 }), '{"$bytes:/w==":1}')
    t.eq(decode('{"$bytes:/w==":1}')["\xff"], 1)
    for _, s in ipairs({ "", "a", "ab", "abc", "\0\1\2\3\255" }) do
      t.eq(decode(enc(s .. "\xff")), s .. "\xff", "bytes of length " .. (#s + 1))
    end
    t.eq(enc("héllo"), '"héllo"')
  end,

  ["strings are escaped both ways"] = function(t)
    t.eq(enc('a"b\\\n\t\1\127'), '"a\\"b\\\\\\n\\t\\u0001\\u007f"')
    t.eq(decode('"\\u00e9\\ud83d\\ude00\\/"'), "é😀/")
  end,

  ["tables: arrays, sorted objects, nesting"] = function(t)
    t.eq(enc({ 1, { 2, { 3 } } }), "[1,[2,[3]]]")
    t.eq(enc({}), "{}")
    t.eq(enc({ b = 1, a = 2, [1] = 3 }), '{"1":3,"a":2,"b":1}')
    t.eq(enc({ [1] = 1, [3] = 3 }), '{"1":1,"3":3}')
    t.eq(enc({ [true] = 1, [1.5] = 2 }), '{"1.5":2,"true":1}')
    local d = decode('{"1":"a","01":"b","x":[1,null,3]}')
    t.eq(d[1], "a")
    t.eq(d["01"], "b")
    t.eq(d.x[3], 3)
    t.eq(d.x[2], nil)
  end,

  ["cycles and depth are refused with placeholders"] = function(t)
    local c = {}
    c.self = c
    t.eq(enc(c), '{"self":{"$type":"cycle"}}')
    local shared = { 1 }
    t.eq(enc({ shared, shared }), "[[1],[1]]", "a table twice is not a cycle")
    local deep = {}
    local cur = deep
    for _ = 1, 150 do cur[1] = {}; cur = cur[1] end
    t.ok(enc(deep):find('{"$type":"depth-limit"}', 1, true), "depth-limit placeholder")
    t.raises(function() decode(string.rep("[", 201) .. string.rep("]", 201)) end, "nested too deeply")
    t.eq(#decode(string.rep("[", 100) .. string.rep("]", 100)), 1)
  end,

  ["metamethods are never called"] = function(t)
    local called = false
    local function trap() called = true; error("metamethod called") end
    local mt = { __index = trap, __newindex = trap, __len = trap, __pairs = trap, __tostring = trap,
      __eq = trap, __lt = trap, __le = trap, __concat = trap, __call = trap, __name = "trap" }
    local v = setmetatable({ 1, 2, x = setmetatable({}, mt) }, mt)
    t.eq(enc(v), '{"1":1,"2":2,"x":{}}')
    t.ok(not called, "no metamethod ran")
    local f = enc(print)
    t.ok(f:find('^{"%$type":"function","id":"0x%x+"}$'), "a function as a placeholder: " .. f)
  end,

  ["the decoder is strict"] = function(t)
    for _, bad in ipairs({ "01", "[1,]", '{"a":1,}', "{'a':1}", "1 2", '"\1"', '"\\x"', "tru",
      "+1", ".5", "1.", '"\\ud800"', "\xff", "", "[", '{"a"}', "nul" }) do
      t.raises(function() decode(bad) end, nil, string.format("decode(%q)", bad))
    end
    t.raises(function() decode("01") end, "at byte")
    local d = decode(' \t\r\n{ "a" : [ true , false ] } ')
    t.eq(d.a[1], true)
    t.eq(d.a[2], false)
  end,

  ["the encoder stops over its result cap"] = function(t)
    json.set_limits(math.huge, math.huge, 10)
    local ok, err = pcall(json.encode_results, 1, string.rep("x", 100))
    json.set_limits(math.huge, math.huge, math.huge)
    json.reset()
    t.ok(not ok and err == json.TOO_LARGE, "raises TOO_LARGE")
    t.eq(json.encode_results(1, "ok"), '["ok"]', "usable again")
  end,
}
