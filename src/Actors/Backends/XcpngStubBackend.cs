namespace LuaActors.Backends;

/// <summary>
/// Phase 1 of the XCP-ng VM type, as in pylua_bioxen_vm_lib: the config is validated and the VM
/// is listed (state NotProvisioned), but nothing is provisioned, so it cannot run code. A XAPI
/// backend that provisions a template and runs the host script over SSH implements this same
/// interface in Phase 2.
/// </summary>
public sealed class XcpngStubBackend : IVmBackend
{
    /// <summary>The config entries an xcpng VM must have, as in the old library.</summary>
    public static readonly IReadOnlyList<string> RequiredKeys = ["xcpng_host", "username", "password", "template"];

    public const string NotSupportedMessage =
        "xcpng VMs are a Phase-1 stub: the config is validated but no VM is provisioned, so it cannot run code yet (Phase 2 adds XAPI provisioning)";

    public XcpngStubBackend(string type, IReadOnlyDictionary<string, string> config)
    {
        Type = type;
        var problems = RequiredKeys
            .Where(key => !config.TryGetValue(key, out var value) || string.IsNullOrWhiteSpace(value))
            .Select(key => $"missing '{key}'")
            .Concat(config.Keys.Where(key => !RequiredKeys.Contains(key)).Select(key => $"unknown key '{key}'"))
            .ToList();
        if (config.TryGetValue("xcpng_host", out var host) && !string.IsNullOrWhiteSpace(host) && !IsHost(host))
        {
            problems.Add($"xcpng_host '{host}' is not a host name, address or URL");
        }

        if (problems.Count > 0)
        {
            throw new ArgumentException($"invalid {type} config: {string.Join("; ", problems)} (required: {string.Join(", ", RequiredKeys)})");
        }

        Host = config["xcpng_host"];
        Template = config["template"];
    }

    public string Type { get; }

    public string Host { get; }

    public string Template { get; }

    public Task<IVmInstance> StartAsync(InstanceStart start) =>
        Task.FromException<IVmInstance>(new VmBackendNotSupportedException(NotSupportedMessage));

    private static bool IsHost(string value)
    {
        if (Uri.TryCreate(value, UriKind.Absolute, out var uri) && uri.Scheme is "http" or "https")
        {
            return true;
        }

        var hostPart = value.Split(':')[0];
        return Uri.CheckHostName(hostPart) != UriHostNameType.Unknown && (value.Split(':').Length == 1 || int.TryParse(value.Split(':')[1], out _));
    }
}
