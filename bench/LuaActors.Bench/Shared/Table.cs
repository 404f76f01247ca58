namespace LuaActors.Bench.Shared;

/// <summary>A plain-text table: first column left-aligned, the others right-aligned.</summary>
internal sealed class Table(string title, params string[] headers)
{
    private readonly List<string[]> _rows = [];

    public Table Row(params object?[] cells)
    {
        _rows.Add(cells.Select(Format).ToArray());
        return this;
    }

    public void Print()
    {
        var widths = headers.Select(h => h.Length).ToArray();
        foreach (var row in _rows)
        {
            for (var i = 0; i < row.Length && i < widths.Length; i++)
            {
                widths[i] = Math.Max(widths[i], row[i].Length);
            }
        }

        Console.WriteLine();
        Console.WriteLine(title);
        Console.WriteLine(Line(headers, widths));
        Console.WriteLine(string.Join("  ", widths.Select(w => new string('-', w))));
        foreach (var row in _rows)
        {
            Console.WriteLine(Line(row, widths));
        }

        Console.WriteLine();
    }

    private static string Line(string[] cells, int[] widths) =>
        string.Join("  ", cells.Select((c, i) => i == 0 ? c.PadRight(widths[i]) : c.PadLeft(widths[i]))).TrimEnd();

    public static string Format(object? value) => value switch
    {
        null => "-",
        double d when double.IsNaN(d) => "-",
        double d when Math.Abs(d) >= 1000 => d.ToString("N0"),
        double d when Math.Abs(d) >= 100 => d.ToString("F1"),
        double d when Math.Abs(d) >= 10 => d.ToString("F2"),
        double d => d.ToString("F3"),
        _ => value.ToString() ?? "",
    };
}
