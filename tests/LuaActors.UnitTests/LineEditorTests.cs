using LuaActors.Host.Cli;

namespace LuaActors.UnitTests;

/// <summary>The attach prompt's line editing and history, driven by keys as a terminal sends them.</summary>
public sealed class LineEditorTests
{
    private static ConsoleKeyInfo Key(ConsoleKey key, char c = '\0', bool control = false) => new(c, key, false, false, control);

    private static IEnumerable<ConsoleKeyInfo> Type(string text) => text.Select(c => Key(ConsoleKey.A, c));

    private static LineEditor Editor(IEnumerable<ConsoleKeyInfo> keys, out StringWriter output)
    {
        var queue = new Queue<ConsoleKeyInfo>(keys);
        output = new StringWriter();
        return new LineEditor(queue.Dequeue, output);
    }

    [Fact]
    public void Lines_are_typed_edited_and_recalled_from_history()
    {
        var editor = Editor(
        [
            .. Type("x = 41"), Key(ConsoleKey.Backspace), .. Type("2"), Key(ConsoleKey.Enter),
            .. Type("print(x)"), Key(ConsoleKey.Enter),
            // Up twice: the first line again; edit it in the middle (Home, Right x2, Delete, insert).
            Key(ConsoleKey.UpArrow), Key(ConsoleKey.UpArrow), Key(ConsoleKey.Home), Key(ConsoleKey.RightArrow), Key(ConsoleKey.RightArrow),
            Key(ConsoleKey.Delete), .. Type("+"), Key(ConsoleKey.Enter),
            // Up then Down returns to what was being typed.
            .. Type("half"), Key(ConsoleKey.UpArrow), Key(ConsoleKey.DownArrow), .. Type("way"), Key(ConsoleKey.Enter),
            // Ctrl+D on a non-empty line deletes under the cursor; on an empty line it ends the input.
            .. Type("ab"), Key(ConsoleKey.LeftArrow), Key(ConsoleKey.D, control: true), Key(ConsoleKey.Enter),
            Key(ConsoleKey.D, control: true),
        ], out var output);

        Assert.Equal("x = 42", editor.ReadLine("> "));
        Assert.Equal("print(x)", editor.ReadLine("> "));
        Assert.Equal("x + 42", editor.ReadLine("> "));
        Assert.Equal("halfway", editor.ReadLine(">> "));
        Assert.Equal("a", editor.ReadLine("> "));
        Assert.Null(editor.ReadLine("> "));
        Assert.Equal(["x = 42", "print(x)", "x + 42", "halfway", "a"], editor.History);
        Assert.StartsWith("> ", output.ToString());
        Assert.Contains("\r>> halfway", output.ToString());
    }

    [Fact]
    public void Blank_lines_and_repeats_stay_out_of_the_history()
    {
        var editor = Editor(
            [.. Type("f()"), Key(ConsoleKey.Enter), .. Type("f()"), Key(ConsoleKey.Enter), .. Type("  "), Key(ConsoleKey.Enter), Key(ConsoleKey.UpArrow), Key(ConsoleKey.Enter)],
            out _);
        Assert.Equal("f()", editor.ReadLine("> "));
        Assert.Equal("f()", editor.ReadLine("> "));
        Assert.Equal("  ", editor.ReadLine("> "));
        Assert.Equal("f()", editor.ReadLine("> "));
        Assert.Equal(["f()"], editor.History);
    }
}
