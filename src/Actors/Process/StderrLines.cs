using System.Text;

namespace LuaActors.Process;

/// <summary>
/// A VM process's stderr as lines, from the chunks luaactors-spawn forwards (it holds the pipe,
/// so this process holds no descriptor for it). Lines that come before a sink is attached wait
/// for it (a few at most: the interpreter writes stderr only when something goes wrong).
/// Thread-safe: chunks arrive on the launcher's reply thread.
/// </summary>
internal sealed class StderrLines
{
    // A line longer than this is cut into pieces rather than held without bound.
    private const int MaxLine = 64 * 1024;
    private const int MaxWaiting = 64;

    private readonly List<byte> _partial = [];
    private readonly Queue<string> _waiting = new();
    private Action<string>? _sink;

    /// <summary>Hands every line, those already complete first, to <paramref name="sink"/>.</summary>
    public void Attach(Action<string> sink)
    {
        lock (_partial)
        {
            while (_waiting.TryDequeue(out var line))
            {
                sink(line);
            }

            _sink = sink;
        }
    }

    public void Add(ReadOnlySpan<byte> chunk)
    {
        lock (_partial)
        {
            foreach (var b in chunk)
            {
                if (b == (byte)'\n')
                {
                    Emit();
                }
                else
                {
                    _partial.Add(b);
                    if (_partial.Count >= MaxLine)
                    {
                        Emit();
                    }
                }
            }
        }
    }

    /// <summary>The process ended: a last line without its newline is a line too.</summary>
    public void Complete()
    {
        lock (_partial)
        {
            if (_partial.Count > 0)
            {
                Emit();
            }
        }
    }

    private void Emit()
    {
        var count = _partial.Count > 0 && _partial[^1] == (byte)'\r' ? _partial.Count - 1 : _partial.Count;
        var line = Encoding.UTF8.GetString(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(_partial)[..count]);
        _partial.Clear();
        if (_sink is { } sink)
        {
            sink(line);
        }
        else
        {
            if (_waiting.Count == MaxWaiting)
            {
                _waiting.Dequeue();
            }

            _waiting.Enqueue(line);
        }
    }
}
