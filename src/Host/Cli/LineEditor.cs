using System.Text;

namespace LuaActors.Host.Cli;

/// <summary>
/// The prompt's line editing at a terminal: typing, Backspace/Delete, Left/Right, Home/End
/// (Ctrl+A/Ctrl+E), and Up/Down through the lines entered before in this session. Ctrl+D on an
/// empty line is the end of input. Ctrl+C never reaches it (the console raises CancelKeyPress).
/// Keys come from <c>Console.ReadKey</c>, or from a test.
/// </summary>
internal sealed class LineEditor(Func<ConsoleKeyInfo> readKey, TextWriter output)
{
    private const int MaxHistory = 1000;

    private readonly List<string> _history = [];

    public LineEditor()
        : this(() => Console.ReadKey(intercept: true), Console.Out)
    {
    }

    public IReadOnlyList<string> History => _history;

    /// <summary>Shows <paramref name="prompt"/> and reads one line; null at Ctrl+D on an empty line.</summary>
    public string? ReadLine(string prompt)
    {
        var line = new StringBuilder();
        var cursor = 0;
        var browsing = _history.Count; // _history.Count = the line being typed, not a history entry
        var typed = "";
        output.Write(prompt);
        output.Flush();
        while (true)
        {
            var key = readKey();
            var control = (key.Modifiers & ConsoleModifiers.Control) != 0;
            switch (key.Key)
            {
                case ConsoleKey.Enter:
                    output.WriteLine();
                    var text = line.ToString();
                    if (text.Trim().Length > 0 && (_history.Count == 0 || _history[^1] != text))
                    {
                        _history.Add(text);
                        if (_history.Count > MaxHistory)
                        {
                            _history.RemoveAt(0);
                        }
                    }

                    return text;
                case ConsoleKey.D when control:
                    if (line.Length == 0)
                    {
                        output.WriteLine();
                        return null;
                    }

                    if (cursor < line.Length)
                    {
                        line.Remove(cursor, 1);
                    }

                    break;
                case ConsoleKey.Backspace when cursor > 0:
                    line.Remove(--cursor, 1);
                    break;
                case ConsoleKey.Delete when cursor < line.Length:
                    line.Remove(cursor, 1);
                    break;
                case ConsoleKey.LeftArrow when cursor > 0:
                    cursor--;
                    break;
                case ConsoleKey.RightArrow when cursor < line.Length:
                    cursor++;
                    break;
                case ConsoleKey.Home:
                case ConsoleKey.A when control:
                    cursor = 0;
                    break;
                case ConsoleKey.End:
                case ConsoleKey.E when control:
                    cursor = line.Length;
                    break;
                case ConsoleKey.UpArrow when browsing > 0:
                case ConsoleKey.DownArrow when browsing < _history.Count:
                    if (browsing == _history.Count)
                    {
                        typed = line.ToString();
                    }

                    browsing += key.Key == ConsoleKey.UpArrow ? -1 : 1;
                    line.Clear().Append(browsing == _history.Count ? typed : _history[browsing]);
                    cursor = line.Length;
                    break;
                default:
                    if (!control && key.KeyChar != '\0' && !char.IsControl(key.KeyChar))
                    {
                        line.Insert(cursor++, key.KeyChar);
                    }

                    break;
            }

            Redraw(prompt, line, cursor);
        }
    }

    /// <summary>Rewrites the line in place: return, prompt and text, clear the rest, cursor back.</summary>
    private void Redraw(string prompt, StringBuilder line, int cursor)
    {
        output.Write('\r');
        output.Write(prompt);
        output.Write(line);
        output.Write("\u001b[K");
        if (line.Length > cursor)
        {
            output.Write($"\u001b[{line.Length - cursor}D");
        }

        output.Flush();
    }
}
