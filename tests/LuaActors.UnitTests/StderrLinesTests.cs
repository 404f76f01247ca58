using System.Text;
using LuaActors.Process;

namespace LuaActors.UnitTests;

/// <summary>
/// A VM process's stderr arrives from luaactors-spawn in chunks that cut lines anywhere; the
/// owner gets whole lines, those before it attached first, a last unfinished line at the end.
/// </summary>
public sealed class StderrLinesTests
{
    [Fact]
    public void Chunks_become_lines_in_order_with_the_last_partial_line_at_completion()
    {
        var stderr = new StderrLines();
        var lines = new List<string>();
        stderr.Add("before att"u8);
        stderr.Add("ach\r\nsecond\n"u8);
        stderr.Attach(lines.Add);
        Assert.Equal(["before attach", "second"], lines);

        stderr.Add(Encoding.UTF8.GetBytes("lua5.4: not enough mem"));
        stderr.Add("ory\nno newline at the end: é"u8);
        Assert.Equal(["before attach", "second", "lua5.4: not enough memory"], lines);

        stderr.Complete();
        Assert.Equal(["before attach", "second", "lua5.4: not enough memory", "no newline at the end: é"], lines);
    }

    [Fact]
    public void A_line_without_end_is_cut_rather_than_held_without_bound()
    {
        var stderr = new StderrLines();
        var lines = new List<string>();
        stderr.Attach(lines.Add);
        stderr.Add(Enumerable.Repeat((byte)'x', 200 * 1024).ToArray());
        Assert.Equal(3, lines.Count);
        Assert.All(lines, line => Assert.Equal(64 * 1024, line.Length));
    }
}
