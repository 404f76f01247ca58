namespace LuaActors.Vm;

/// <summary>The last lines a VM's process wrote to stderr: they say why it died, next to the reason the host saw.</summary>
internal sealed class StderrTail(int lines)
{
    private readonly Queue<string> _lines = new();

    public void Add(string line)
    {
        if (_lines.Count == lines)
        {
            _lines.Dequeue();
        }

        _lines.Enqueue(line);
    }

    /// <summary><paramref name="reason"/>, with the tail when there is one; the tail is emptied for the next process.</summary>
    public string Explain(string reason)
    {
        var explained = _lines.Count > 0 ? $"{reason}; stderr: {string.Join(" | ", _lines)}" : reason;
        _lines.Clear();
        return explained;
    }
}
