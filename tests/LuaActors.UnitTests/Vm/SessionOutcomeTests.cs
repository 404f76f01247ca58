using LuaActors.Messages;
using LuaActors.Vm;

namespace LuaActors.UnitTests.Vm;

/// <summary>What the sessions of a VM are told when a session's chunk was evaluated.</summary>
public sealed class SessionOutcomeTests
{
    [Fact]
    public void An_incomplete_chunk_is_told_only_to_its_typing_session_without_output()
    {
        var (told, toEveryone) = SessionTable.Told("vm1", "s1", "if x then",
            new RequestFailed("vm1", ErrorKind.Incomplete, "unfinished", Output: "ignored"));
        Assert.False(toEveryone);
        Assert.Equal(new SessionInputEvaluated("vm1", "s1", "if x then", "", null, null, null, Incomplete: true), told);
    }

    [Fact]
    public void Values_output_and_errors_are_told_to_every_session()
    {
        Assert.Equal(
            (new SessionInputEvaluated("vm1", "s1", "return 1", "out", "[1]", null, null, Incomplete: false), true),
            SessionTable.Told("vm1", "s1", "return 1", new Executed("vm1", 1, "[1]", "out", false)));
        Assert.Equal(
            (new SessionInputEvaluated("vm1", "s1", "x = 1", "", null, null, null, Incomplete: false), true),
            SessionTable.Told("vm1", "s1", "x = 1", new Executed("vm1", 0, "[]", "", false)));
        Assert.Equal(
            (new SessionInputEvaluated("vm1", "s1", "error('e')", "o", null, ErrorKind.Runtime, "e", Incomplete: false), true),
            SessionTable.Told("vm1", "s1", "error('e')", new RequestFailed("vm1", ErrorKind.Runtime, "e", Output: "o")));

        var other = new VmPong("vm1", "Lua 5.4");
        Assert.Equal((other, true), SessionTable.Told("vm1", "s1", "x", other));
    }
}
