using System.Diagnostics;
using System.Globalization;

namespace LuaActors.Host.Cli;

/// <summary>
/// One line of progress on stderr, redrawn in place while a long request runs. Shown only when
/// both stdout and stderr are a terminal: piped or redirected output stays exactly the result.
/// </summary>
internal sealed class ProgressLine(TextWriter writer)
{
    /// <summary>How often a long request's state is polled for the line.</summary>
    public static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(500);

    private readonly Stopwatch _elapsed = Stopwatch.StartNew();

    public static bool ShouldShow(bool errorRedirected, bool outputRedirected) => !errorRedirected && !outputRedirected;

    /// <summary>A progress line on this terminal's stderr, or null when output is redirected.</summary>
    public static ProgressLine? ForConsole() =>
        ShouldShow(Console.IsErrorRedirected, Console.IsOutputRedirected) ? new ProgressLine(Console.Error) : null;

    public void Show(string text) =>
        writer.Write(string.Create(CultureInfo.InvariantCulture, $"\r{text} ({_elapsed.Elapsed.TotalSeconds:0.0}s)\u001b[K"));

    /// <summary>Clears the line: the result is printed after it as without progress.</summary>
    public void Clear() => writer.Write("\r\u001b[K");

    /// <summary>
    /// Waits for <paramref name="request"/>, showing what <paramref name="poll"/> says every
    /// <see cref="PollInterval"/> (null: nothing new to show; a failed poll shows nothing either).
    /// </summary>
    public static async Task<T> WhileAsync<T>(Task<T> request, ProgressLine? progress, Func<Task<string?>> poll)
    {
        if (progress is null)
        {
            return await request;
        }

        try
        {
            while (await Task.WhenAny(request, Task.Delay(PollInterval)) != request)
            {
                try
                {
                    if (await poll() is { } text)
                    {
                        progress.Show(text);
                    }
                }
                catch (Exception e) when (e is NodeUnreachableException or System.Text.Json.JsonException)
                {
                    // The request itself reports what matters.
                }
            }

            return await request;
        }
        finally
        {
            progress.Clear();
        }
    }
}
