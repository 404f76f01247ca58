namespace LuaActors.Host;

/// <summary>The VM options of `vm create` and `group create`: --type, --init, --timeout-ms, --memory-mb, --inbox-capacity, --config, --networking.</summary>
internal static class VmOptionArguments
{
    public static readonly string[] Names = ["--type", "--init", "--timeout-ms", "--memory-mb", "--inbox-capacity", "--config"];

    public static readonly string[] Flags = ["--networking"];

    /// <summary><paramref name="request"/> with the options given on <paramref name="line"/>.</summary>
    public static async Task<T> ApplyAsync<T>(T request, ClientCommandLine line) where T : VmOptionsRequest
    {
        var config = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var entry in line.Values("--config"))
        {
            var pair = entry.Split('=', 2);
            if (pair.Length != 2 || pair[0].Length == 0)
            {
                throw new ArgumentException($"--config takes KEY=VALUE (got '{entry}')");
            }

            config[pair[0]] = pair[1];
        }

        var timeoutMs = line.PositiveInt("--timeout-ms");
        var memoryMb = line.PositiveInt("--memory-mb");
        var inboxCapacity = line.PositiveInt("--inbox-capacity");
        // A record's `with` keeps its runtime type: the cast gives back the caller's request type.
        return (T)(request with
        {
            Type = line.Value("--type"),
            Config = config.Count > 0 ? config : null,
            InitScript = line.Value("--init") is { } file ? await ClientCommandLine.ReadFileAsync(file) : null,
            Limits = timeoutMs is null && memoryMb is null && inboxCapacity is null ? null : new LimitsDto(timeoutMs, memoryMb, InboxCapacity: inboxCapacity),
            Networking = line.Has("--networking") ? true : null,
        });
    }
}
