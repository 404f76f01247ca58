namespace LuaActors.Host.Cli;

/// <summary>Aligned columns for people: a header row, two spaces between columns, no trailing blanks.</summary>
internal static class TableWriter
{
    public static void Write(TextWriter writer, IReadOnlyList<string> headers, IEnumerable<IReadOnlyList<string>> rows)
    {
        var all = new List<IReadOnlyList<string>> { headers };
        all.AddRange(rows);
        var widths = Enumerable.Range(0, headers.Count)
            .Select(column => all.Max(row => column < row.Count ? row[column].Length : 0))
            .ToArray();
        foreach (var row in all)
        {
            var cells = row.Select((cell, column) => column == row.Count - 1 ? cell : cell.PadRight(widths[column]));
            writer.WriteLine(string.Join("  ", cells).TrimEnd());
        }
    }

    /// <summary>Label/value lines, labels aligned (one record, like `vm info`).</summary>
    public static void WriteRecord(TextWriter writer, IEnumerable<(string Label, string Value)> fields)
    {
        var list = fields.ToList();
        var width = list.Max(f => f.Label.Length);
        foreach (var (label, value) in list)
        {
            writer.WriteLine($"{label.PadRight(width)}  {value}".TrimEnd());
        }
    }
}
