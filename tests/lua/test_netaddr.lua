-- Addresses for sockets and the network rule (netaddr.lua): one canonical spelling each.
local netaddr = require "netaddr"

return {
  ["IPv4: strict dotted quads only"] = function(t)
    t.eq(netaddr.v4_text("127.0.0.1"), "127.0.0.1")
    for _, bad in ipairs({ "127.1", "0177.0.0.1", "1.2.3.256", "01.2.3.4", "1.2.3", "0x7f.0.0.1" }) do
      t.eq(netaddr.v4_text(bad), nil, bad)
    end
    local ip, why = netaddr.canonical("0x7f.1")
    t.eq(ip, nil); t.ok(why:find("ambiguous"), why)
  end,

  ["IPv6: RFC 5952 text, no mapped or zoned forms"] = function(t)
    t.eq(netaddr.v6_text("0:0:0:0:0:0:0:1"), "::1")
    t.eq(netaddr.v6_text("2001:DB8:0:0:1:0:0:1"), "2001:db8::1:0:0:1")
    t.eq(netaddr.v6_text("::"), "::")
    t.eq(netaddr.v6_text("::ffff:7f00:1"), nil, "IPv4-mapped")
    t.eq(netaddr.v6_text("fe80::1%eth0"), nil, "zone id")
    t.eq(netaddr.v6_text("1::2::3"), nil)
  end,

  ["the 'L' network rule values"] = function(t)
    local ports = netaddr.parse("net_ports", "20000-20010")
    t.eq(ports[1], 20000); t.eq(ports[2], 20010)
    t.eq(netaddr.parse("net_ports", "3-2"), nil)
    t.eq(netaddr.parse("net_ports", "0-10"), nil)
    local set = netaddr.parse("net_bind", "127.0.0.1,0:0::1,0.0.0.0")
    t.ok(set["127.0.0.1"] and set["::1"] and set["0.0.0.0"], "canonical set")
    t.eq(netaddr.parse("net_bind", "localhost"), nil, "names are refused")
  end,
}
