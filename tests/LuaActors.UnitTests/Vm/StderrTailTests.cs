using LuaActors.Vm;

namespace LuaActors.UnitTests.Vm;

public sealed class StderrTailTests
{
    [Fact]
    public void The_reason_carries_the_last_lines_once()
    {
        var tail = new StderrTail(2);
        Assert.Equal("died", tail.Explain("died"));
        tail.Add("a");
        tail.Add("b");
        tail.Add("c");
        Assert.Equal("died; stderr: b | c", tail.Explain("died"));
        Assert.Equal("again", tail.Explain("again"));
    }
}
