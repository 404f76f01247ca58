using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net.Sockets;
using LuaActors.Process;
using LuaActors.Protocol;
using OsProcess = System.Diagnostics.Process;

namespace LuaActors.Bench.Shared;

/// <summary>
/// The floor: one <c>lua5.4 -E vmhost.lua</c> process driven directly over its pipes, with no
/// actors — raw <see cref="Stream"/>s, <see cref="HostFrames"/> for requests,
/// <see cref="FrameHeader.TryRead"/> for replies. Every process started here is
/// tracked by PID and killed by <see cref="KillAll"/> if the bench ends early.
/// </summary>
internal sealed class HostProcess : IDisposable
{
    /// <summary>The time limit the VM actor sends for a request with the default limits (memory: 0, the VM default).</summary>
    public const int ExecTimeoutMs = 5000;

    private static readonly ConcurrentDictionary<int, HostProcess> Started = new();

    // One of the two: started with Process.Start, or by luaactors-spawn.
    private readonly OsProcess? _process;
    private readonly SpawnedProcess? _spawned;
    private readonly Stream _in;
    private readonly Stream _out;
    private byte[] _buffer = new byte[4 * 1024];
    private int _start;
    private int _end;
    private int _payloadStart;
    private int _payloadLength;
    private uint _nextId;

    private HostProcess(OsProcess process)
    {
        _process = process;
        Pid = process.Id;
        _in = process.StandardInput.BaseStream;
        _out = process.StandardOutput.BaseStream;
        Started[Pid] = this;
    }

    private HostProcess(SpawnedProcess spawned)
    {
        _spawned = spawned;
        Pid = spawned.Pid;
        // One socket is the process's stdin and stdout (luaactors-spawn drains its stderr).
        var channel = new NetworkStream(new Socket(spawned.Channel), ownsSocket: true);
        _in = channel;
        _out = channel;
        Started[Pid] = this;
    }

    public int Pid { get; }

    /// <summary>The payload of the frame read last; valid until the next read.</summary>
    public ReadOnlySpan<byte> Payload => _buffer.AsSpan(_payloadStart, _payloadLength);

    /// <summary>
    /// The exec chain (<c>launcher = exec-chain</c> in ProcessBackend): own session, SIGKILL
    /// when the starting thread ends; <see cref="Start"/> then sets the address-space limit
    /// (64 + 64 MiB, the default) with prlimit(2) as the library does.
    /// </summary>
    public static readonly string[] LaunchChain = ["setsid", "setpriv", "--pdeathsig", "KILL"];

    private const long DefaultAddressSpaceBytes = 134217728;

    /// <summary>
    /// Starts <c>lua5.4 -E &lt;vmhost.lua or .luac&gt;</c> with stdin and stdout as pipes (stderr is
    /// inherited), directly or behind <paramref name="prefix"/> (e.g. <see cref="LaunchChain"/>:
    /// then start it from a thread that outlives it).
    /// </summary>
    public static HostProcess Start(IReadOnlyList<string>? prefix = null)
    {
        // The script file the library runs (precompiled when luac5.4 is there).
        string[] argv = [.. prefix ?? [], "lua5.4", "-E", HostScript.PathFor("lua5.4")];
        var info = new ProcessStartInfo(argv[0])
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            UseShellExecute = false,
        };
        foreach (var arg in argv.Skip(1))
        {
            info.ArgumentList.Add(arg);
        }

        VmEnvironment.Apply(info.Environment);

        var process = OsProcess.Start(info) ?? throw new InvalidOperationException("could not start " + argv[0]);
        if (prefix is not null)
        {
            ProcessControl.SetAddressSpaceLimit(process.Id, DefaultAddressSpaceBytes);
        }

        return new HostProcess(process);
    }

    /// <summary>
    /// Starts the same host process the library's default launcher does: by luaactors-spawn (one
    /// exec, own session, death signal, the default address-space limit), no actors.
    /// </summary>
    public static HostProcess StartThroughSpawner() =>
        new(Spawner.SpawnAsync(["lua5.4", "-E", HostScript.PathFor("lua5.4")], DefaultAddressSpaceBytes).GetAwaiter().GetResult());

    /// <summary>Kills (SIGKILL, by PID) every floor process that is still running.</summary>
    public static void KillAll()
    {
        foreach (var process in Started.Values)
        {
            process.Dispose();
        }
    }

    public uint NextId() => ++_nextId;

    public static HostFrame ExecFrame(uint id, string code) => HostFrames.Execute(id, ExecTimeoutMs, 0, code);

    public static HostFrame PingFrame(uint id) => HostFrames.Ping(id);

    /// <summary>Writes one frame and releases it.</summary>
    public void Write(HostFrame frame)
    {
        Write(frame.Span);
        frame.Release();
    }

    public async ValueTask WriteAsync(HostFrame frame)
    {
        await WriteAsync(frame.Memory).ConfigureAwait(false);
        frame.Release();
    }

    /// <summary>Writes <paramref name="bytes"/> (one or more frames) to stdin in one write.</summary>
    public void Write(ReadOnlySpan<byte> bytes)
    {
        _in.Write(bytes);
        _in.Flush();
    }

    public async ValueTask WriteAsync(ReadOnlyMemory<byte> bytes)
    {
        await _in.WriteAsync(bytes).ConfigureAwait(false);
        await _in.FlushAsync().ConfigureAwait(false);
    }

    /// <summary>Sends 'E' and blocks until its reply: the floor's round trip.</summary>
    public byte Execute(string code)
    {
        var id = NextId();
        Write(ExecFrame(id, code));
        var (op, replyId) = ReadFrame();
        return replyId == id ? op : throw new InvalidOperationException($"reply {replyId} to request {id}");
    }

    /// <summary>Blocks until one whole frame is read; its payload is <see cref="Payload"/>.</summary>
    public (byte Op, uint Id) ReadFrame()
    {
        while (true)
        {
            if (TryTakeFrame(out var op, out var id))
            {
                return (op, id);
            }

            MakeRoom();
            var read = _out.Read(_buffer, _end, _buffer.Length - _end);
            if (read == 0)
            {
                throw new EndOfStreamException($"host process {Pid} closed stdout");
            }

            _end += read;
        }
    }

    public async ValueTask<(byte Op, uint Id)> ReadFrameAsync(CancellationToken cancellationToken = default)
    {
        while (true)
        {
            if (TryTakeFrame(out var op, out var id))
            {
                return (op, id);
            }

            await FillAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Blocks until at least one whole frame is there and takes every whole frame then buffered;
    /// returns how many there were. Throws unless each is an 'R' reply.
    /// </summary>
    public int ReadReplies()
    {
        var count = 0;
        while (true)
        {
            while (TryTakeFrame(out var op, out _))
            {
                if (op != (byte)FrameOp.Result)
                {
                    throw new InvalidOperationException($"host process {Pid} answered '{(char)op}': {System.Text.Encoding.UTF8.GetString(Payload)}");
                }

                count++;
            }

            if (count > 0)
            {
                return count;
            }

            MakeRoom();
            var read = _out.Read(_buffer, _end, _buffer.Length - _end);
            if (read == 0)
            {
                throw new EndOfStreamException($"host process {Pid} closed stdout");
            }

            _end += read;
        }
    }

    private async ValueTask FillAsync(CancellationToken cancellationToken)
    {
        MakeRoom();
        var read = await _out.ReadAsync(_buffer.AsMemory(_end), cancellationToken).ConfigureAwait(false);
        if (read == 0)
        {
            throw new EndOfStreamException($"host process {Pid} closed stdout");
        }

        _end += read;
    }

    private bool TryTakeFrame(out byte op, out uint id)
    {
        op = 0;
        id = 0;
        if (_end - _start < FrameHeader.Length)
        {
            return false;
        }

        if (!FrameHeader.TryRead(_buffer.AsSpan(_start, FrameHeader.Length), out var header))
        {
            throw new InvalidDataException($"host process {Pid} sent a malformed frame header");
        }

        (op, id, var length) = ((byte)header.Op, header.Id, header.PayloadLength);

        if (_end - _start < FrameHeader.Length + length)
        {
            if (FrameHeader.Length + length > _buffer.Length)
            {
                Array.Resize(ref _buffer, FrameHeader.Length + length);
            }

            return false;
        }

        _payloadStart = _start + FrameHeader.Length;
        _payloadLength = length;
        _start += FrameHeader.Length + length;
        return true;
    }

    /// <summary>Moves a partial frame to the front of the buffer so a read has room.</summary>
    private void MakeRoom()
    {
        if (_start == _end)
        {
            _start = _end = 0;
        }
        else if (_start > 0 && _end == _buffer.Length)
        {
            Buffer.BlockCopy(_buffer, _start, _buffer, 0, _end - _start);
            _end -= _start;
            _start = 0;
        }
    }

    /// <summary>Kills the process (SIGKILL by its PID) and waits for it.</summary>
    private void Kill()
    {
        if (_spawned is { } spawned)
        {
            spawned.Launcher.Kill(spawned.Pid);
            spawned.Exited.Wait(5000);
            return;
        }

        try
        {
            _process!.Kill();
            _process.WaitForExit(5000);
        }
        catch (InvalidOperationException)
        {
            // Already gone.
        }
    }

    public void Dispose()
    {
        if (!Started.TryRemove(Pid, out _))
        {
            return;
        }

        Kill();
        _process?.Dispose();
        if (_spawned is { } spawned)
        {
            _in.Dispose();
        }
    }
}
