using System.Diagnostics;
using System.Runtime.InteropServices;

namespace LuaActors.Bench.Shared;

/// <summary>What the figures were taken on.</summary>
internal static class Machine
{
    public static Dictionary<string, object?> Describe() => new()
    {
        ["cores"] = Environment.ProcessorCount,
        ["cpu"] = ProcField("/proc/cpuinfo", "model name"),
        ["memory_mb"] = ProcField("/proc/meminfo", "MemTotal") is { } kb ? long.Parse(kb.Split(' ')[0]) / 1024 : null,
        ["os"] = OsRelease() ?? RuntimeInformation.OSDescription,
        ["kernel"] = Environment.OSVersion.Version.ToString(),
        ["dotnet"] = RuntimeInformation.FrameworkDescription,
        ["akka"] = typeof(Akka.Actor.ActorSystem).Assembly.GetName().Version?.ToString(),
        ["lua"] = Run("lua5.4", "-v") is { } v ? string.Join(' ', v.Split(' ', StringSplitOptions.RemoveEmptyEntries).Take(2)) : null,
        ["gc"] = System.Runtime.GCSettings.IsServerGC ? "server" : "workstation",
        ["load_average"] = ReadFirstLine("/proc/loadavg"),
        ["date"] = DateTimeOffset.UtcNow.ToString("yyyy-MM-ddTHH:mm:ssZ"),
    };

    /// <summary>The 1-minute load average, or NaN.</summary>
    public static double LoadAverage1() =>
        ReadFirstLine("/proc/loadavg")?.Split(' ')[0] is { } first && double.TryParse(first, System.Globalization.CultureInfo.InvariantCulture, out var load)
            ? load
            : double.NaN;

    private static string? ProcField(string file, string name)
    {
        try
        {
            foreach (var line in File.ReadLines(file))
            {
                var colon = line.IndexOf(':');
                if (colon > 0 && line[..colon].Trim() == name)
                {
                    return line[(colon + 1)..].Trim();
                }
            }
        }
        catch (IOException)
        {
        }

        return null;
    }

    private static string? OsRelease()
    {
        try
        {
            foreach (var line in File.ReadLines("/etc/os-release"))
            {
                if (line.StartsWith("PRETTY_NAME=", StringComparison.Ordinal))
                {
                    return line["PRETTY_NAME=".Length..].Trim('"');
                }
            }
        }
        catch (IOException)
        {
        }

        return null;
    }

    private static string? ReadFirstLine(string file)
    {
        try
        {
            return File.ReadLines(file).FirstOrDefault()?.Trim();
        }
        catch (IOException)
        {
            return null;
        }
    }

    /// <summary>First line of a command's output (stdout or stderr), or null.</summary>
    private static string? Run(string program, params string[] args)
    {
        try
        {
            var info = new ProcessStartInfo(program)
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
            };
            foreach (var arg in args)
            {
                info.ArgumentList.Add(arg);
            }

            using var process = System.Diagnostics.Process.Start(info)!;
            var stderr = process.StandardError.ReadToEndAsync();
            var output = process.StandardOutput.ReadToEnd();
            process.WaitForExit();
            var text = output.Length > 0 ? output : stderr.Result;
            return text.Split('\n')[0].Trim();
        }
        catch (Exception e) when (e is System.ComponentModel.Win32Exception or InvalidOperationException)
        {
            return null;
        }
    }
}
