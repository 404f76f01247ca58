using System.Text;
using System.Text.Json;
using LuaActors.Messages;

namespace LuaActors.UnitTests.Protocol;

/// <summary>The one place that says what each <see cref="ErrorKind"/> is.</summary>
public sealed class ErrorKindsTests
{
    private static readonly ErrorKind[] LuaKinds =
        [ErrorKind.Syntax, ErrorKind.Runtime, ErrorKind.Timeout, ErrorKind.Memory, ErrorKind.Incomplete, ErrorKind.Interrupted, ErrorKind.StorageLimit];

    private static readonly ErrorKind[] TransientKinds =
        [ErrorKind.InboxFull, ErrorKind.Crashed, ErrorKind.NodeLost, ErrorKind.Protocol, ErrorKind.Stopped, ErrorKind.Overloaded, ErrorKind.StorageUnavailable];

    [Fact]
    public void Lua_errors_are_exactly_the_kinds_of_failing_user_code()
    {
        Assert.Equal(LuaKinds, Enum.GetValues<ErrorKind>().Where(k => k.IsLuaError()));
    }

    [Fact]
    public void Transient_kinds_are_exactly_those_a_retry_may_fix()
    {
        Assert.Equal(TransientKinds.Order(), Enum.GetValues<ErrorKind>().Where(k => k.IsTransient()).Order());
        Assert.DoesNotContain(Enum.GetValues<ErrorKind>(), k => k.IsLuaError() && k.IsTransient());
    }

    [Fact]
    public void Every_kind_has_the_wire_name_the_api_has_always_used()
    {
        // The HTTP API named kinds by the kebab-case naming policy; the wire name must not change them.
        foreach (var kind in Enum.GetValues<ErrorKind>())
        {
            Assert.Equal(JsonNamingPolicy.KebabCaseLower.ConvertName(kind.ToString()), kind.WireName());
        }

        Assert.Equal("too-large", ErrorKind.TooLarge.WireName());
        Assert.Equal(Enum.GetValues<ErrorKind>().Length, Enum.GetValues<ErrorKind>().Select(k => k.WireName()).Distinct().Count());
    }

    [Theory]
    [InlineData("syntax", ErrorKind.Syntax)]
    [InlineData("runtime", ErrorKind.Runtime)]
    [InlineData("timeout", ErrorKind.Timeout)]
    [InlineData("memory", ErrorKind.Memory)]
    [InlineData("incomplete", ErrorKind.Incomplete)]
    [InlineData("interrupted", ErrorKind.Interrupted)]
    [InlineData("too-large", ErrorKind.TooLarge)]
    [InlineData("protocol", ErrorKind.Protocol)]
    [InlineData("storage-limit", ErrorKind.StorageLimit)]
    [InlineData("storage-unavailable", ErrorKind.StorageUnavailable)]
    public void Kinds_a_vm_reports_are_read_from_their_wire_names(string name, ErrorKind kind)
    {
        Assert.True(ErrorKinds.TryFromVmWireName(Encoding.ASCII.GetBytes(name), out var read));
        Assert.Equal(kind, read);
        Assert.Equal(name, kind.WireName());
    }

    [Theory]
    [InlineData("crashed")] // a kind of this side, never the VM's
    [InlineData("storage-invalid")] // a malformed storage call: raised in Lua as a runtime error, never reported as a kind
    [InlineData("Runtime")]
    [InlineData("runtime ")]
    [InlineData("")]
    public void Other_names_are_not_vm_kinds(string name)
    {
        Assert.False(ErrorKinds.TryFromVmWireName(Encoding.ASCII.GetBytes(name), out _));
    }

    [Fact]
    public void Every_lua_kind_is_one_a_vm_reports()
    {
        foreach (var kind in LuaKinds)
        {
            Assert.True(ErrorKinds.TryFromVmWireName(Encoding.ASCII.GetBytes(kind.WireName()), out var read));
            Assert.Equal(kind, read);
        }
    }
}
