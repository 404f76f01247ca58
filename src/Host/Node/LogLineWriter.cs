using System.Text;
using Microsoft.Extensions.Logging;

namespace LuaActors.Host;

/// <summary>
/// A <see cref="TextWriter"/> whose every line becomes one log event: the node's text outputs
/// (the HTTP API's internal errors, start-up warnings) join the log, so that a JSON log stays
/// one object per line.
/// </summary>
internal sealed partial class LogLineWriter(ILogger logger, LogLevel level) : TextWriter
{
    private readonly StringBuilder _line = new();

    public override Encoding Encoding => Encoding.UTF8;

    /// <summary>
    /// Where the node writes <paramref name="errors"/>'s lines: through the log when it is the
    /// process's stderr (the node's own), else to <paramref name="errors"/> itself (a test's writer).
    /// </summary>
    public static TextWriter For(TextWriter errors, ILoggerFactory loggers, LogLevel level) =>
        ReferenceEquals(errors, Console.Error) ? new LogLineWriter(loggers.CreateLogger(NodeLogging.Category + ".Node"), level) : errors;

    public override void Write(char value)
    {
        lock (_line)
        {
            if (value == '\n')
            {
                Flush();
            }
            else if (value != '\r')
            {
                _line.Append(value);
            }
        }
    }

    public override void WriteLine(string? value)
    {
        lock (_line)
        {
            _line.Append(value);
            Flush();
        }
    }

    public override Task WriteLineAsync(string? value)
    {
        WriteLine(value);
        return Task.CompletedTask;
    }

    public override void Flush()
    {
        lock (_line)
        {
            if (_line.Length > 0 && logger.IsEnabled(level))
            {
                var text = _line.ToString();
                Line(logger, level, text);
            }

            _line.Clear();
        }
    }

    [LoggerMessage(EventId = 10, EventName = "NodeMessage", Message = "{Text}")]
    private static partial void Line(ILogger logger, LogLevel level, string text);
}
