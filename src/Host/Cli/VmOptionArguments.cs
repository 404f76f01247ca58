using System.CommandLine;

namespace LuaActors.Host.Cli;

/// <summary>
/// The VM options of `vm create` and `group create`: --type, --init, --timeout-ms, --memory-mb,
/// --inbox-capacity, --storage-max-value-size, --storage-max-keys, --storage-max-total-size, --config, --networking.
/// </summary>
internal sealed class VmOptionArguments
{
    private readonly Option<string?> _type = new("--type") { Description = "VM type (default basic)", HelpName = "T" };

    private readonly Option<string?> _init = new("--init")
    {
        Description = "init script, run at every (re)start of the VM ('-' for stdin)",
        HelpName = "FILE",
    };

    private readonly Option<int?> _timeoutMs = CliOptions.PositiveInt("--timeout-ms", "the VM's time limit per request");
    private readonly Option<int?> _memoryMb = CliOptions.PositiveInt("--memory-mb", "the VM's Lua heap limit");

    private readonly Option<int?> _inboxCapacity = CliOptions.PositiveInt(
        "--inbox-capacity", "messages the VM's inbox holds (default luaactors.vm.messaging.inbox-capacity)");

    private readonly Option<long?> _storageMaxValueSize = CliOptions.PositiveSize(
        "--storage-max-value-size", "bytes of one vm.storage value (default luaactors.storage.max-value-size; at most its vm-maximum)");

    private readonly Option<int?> _storageMaxKeys = CliOptions.PositiveInt(
        "--storage-max-keys", "keys the VM's storage holds (default luaactors.storage.max-keys; at most its vm-maximum)");

    private readonly Option<long?> _storageMaxTotalSize = CliOptions.PositiveSize(
        "--storage-max-total-size", "bytes of all the VM's stored keys and values (default luaactors.storage.max-total-size)");

    private readonly Option<bool> _networking = new("--networking")
    {
        Description = "give the VM's Lua code sockets (to other VMs' listeners; more only if listed)",
    };

    private readonly Option<string[]> _config = CliOptions.ConfigEntries("a config entry of the VM type (repeatable)");

    public void AddTo(Command command)
    {
        command.Add(_type);
        command.Add(_init);
        command.Add(_timeoutMs);
        command.Add(_memoryMb);
        command.Add(_inboxCapacity);
        command.Add(_storageMaxValueSize);
        command.Add(_storageMaxKeys);
        command.Add(_storageMaxTotalSize);
        command.Add(_networking);
        command.Add(_config);
    }

    /// <summary><paramref name="request"/> with the options given on the command line.</summary>
    public async Task<T> ApplyAsync<T>(T request, ParseResult result) where T : VmOptionsRequest
    {
        var config = CliOptions.ConfigOf(result, _config);
        var timeoutMs = result.GetValue(_timeoutMs);
        var memoryMb = result.GetValue(_memoryMb);
        var inboxCapacity = result.GetValue(_inboxCapacity);
        var storage = new StorageLimitsDto(result.GetValue(_storageMaxValueSize), result.GetValue(_storageMaxKeys), result.GetValue(_storageMaxTotalSize));
        var storageGiven = storage != new StorageLimitsDto();
        // A record's `with` keeps its runtime type: the cast gives back the caller's request type.
        return (T)(request with
        {
            Type = result.GetValue(_type),
            Config = config.Count > 0 ? config : null,
            InitScript = result.GetValue(_init) is { } file ? await ClientCommandLine.ReadFileAsync(file) : null,
            Limits = timeoutMs is null && memoryMb is null && inboxCapacity is null && !storageGiven
                ? null
                : new LimitsDto(timeoutMs, memoryMb, InboxCapacity: inboxCapacity, Storage: storageGiven ? storage : null),
            Networking = result.GetValue(_networking) ? true : null,
        });
    }
}
