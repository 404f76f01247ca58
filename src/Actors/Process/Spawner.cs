using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Text;
using LuaActors.Configuration;

namespace LuaActors.Process;

/// <summary>
/// A VM process luaactors-spawn started: our end of the socket that is its stdin and stdout
/// (the one descriptor this process holds for it), what it writes to stderr, its end.
/// </summary>
/// <param name="Channel">A SOCK_STREAM Unix socket: frames both ways; shut down for writing, it is the VM's stdin EOF.</param>
/// <param name="Stderr">Its stderr as lines, drained by the launcher; every line comes before <paramref name="Exited"/> completes.</param>
/// <param name="Exited">Its exit code (128 + signal when killed); null when the launcher itself was lost.</param>
/// <param name="Confinement">The kernel layers that confine it (Native/confinement.h).</param>
internal sealed record SpawnedProcess(int Pid, SafeSocketHandle Channel, StderrLines Stderr, Task<int?> Exited, Spawner Launcher, ConfinementLayers Confinement = ConfinementLayers.None);

/// <summary>
/// The connection to <c>luaactors-spawn</c> (Native/luaactors-spawn.c), the small process that
/// starts VM interpreters: one vfork of a small process and one exec each, where the exec chain
/// (<c>setsid setpriv lua5.4</c>, forked from this large process) costs three. It sets the
/// session, the kill-on-parent-death signal and the address-space limit in between, reaps the
/// children, drains their stderr and reports their exit codes, and kills a child on request (its
/// PID cannot be reused before the launcher reaps it). Each VM costs this process one
/// descriptor: the socket that is the VM's stdin and stdout, passed back over a Unix socket.
/// <para>
/// One per .NET process, started on first use from a launcher thread, so its own death signal
/// follows a thread that never ends: if this process dies, the launcher dies, and every VM
/// process with it. If the launcher is lost, its VM processes die too (their death signal), they
/// are reported as ended, and the next start starts a new launcher.
/// </para>
/// </summary>
internal sealed class Spawner
{
    public const string FileName = "luaactors-spawn";

    private const uint KindStarted = 1;
    private const uint KindExited = 2;
    private const uint KindStderr = 3;
    private const uint KillRequest = 0xffffffff;
    private const int ReplySize = 16;
    private const int MaxStderrChunk = 4096;
    private const int MaxRequest = 65536;
    private const int MaxSocketDirectory = 72;
    private static readonly TimeSpan ConnectTimeout = TimeSpan.FromSeconds(10);

    private static readonly Lazy<string?> LazyBinary = new(Locate);
    private static readonly object Gate = new();
    private static Task<Spawner>? _current;

    private readonly Socket _socket;
    private readonly System.Diagnostics.Process _process;
    private readonly ConcurrentDictionary<uint, (string Program, TaskCompletionSource<SpawnedProcess> Done)> _pending = new();
    private readonly ConcurrentDictionary<int, (TaskCompletionSource<int?> Exited, StderrLines Stderr)> _running = new();
    private int _nextRequest;
    private volatile string? _ended;

    private Spawner(Socket socket, System.Diagnostics.Process process)
    {
        _socket = socket;
        _process = process;
        new Thread(ReadReplies) { IsBackground = true, Name = "luaactors-spawn-replies" }.Start();
    }

    /// <summary>The launcher beside this assembly, or null when the build had no C compiler.</summary>
    public static string? BinaryPath => LazyBinary.Value;

    /// <summary>
    /// Starts <paramref name="commandLine"/> (program first, looked up on PATH) in a new session,
    /// killed when the launcher dies, with RLIMIT_AS = <paramref name="addressSpaceBytes"/>.
    /// confined as <paramref name="confinement"/> asks (<see cref="ConfinementBlock"/>; empty: not at all).
    /// Throws <see cref="IOException"/> when it cannot be started (the message names the program).
    /// </summary>
    public static async Task<SpawnedProcess> SpawnAsync(IReadOnlyList<string> commandLine, long addressSpaceBytes, byte[]? confinement = null)
    {
        var spawner = await CurrentAsync().ConfigureAwait(false);
        return await spawner.RequestAsync(commandLine, addressSpaceBytes, confinement ?? []).ConfigureAwait(false);
    }

    private static Task<Spawner> CurrentAsync()
    {
        lock (Gate)
        {
            if (_current is null || _current.IsFaulted || _current.IsCanceled
                || (_current.IsCompletedSuccessfully && _current.Result._ended is not null))
            {
                _current = StartAsync();
            }

            return _current;
        }
    }

    private static async Task<Spawner> StartAsync()
    {
        if (OperatingSystem.IsWindows())
        {
            throw new PlatformNotSupportedException($"{FileName} runs on Linux only");
        }

        var binary = BinaryPath ?? throw new IOException($"{FileName} is not beside {typeof(Spawner).Assembly.GetName().Name}.dll");
        // The launcher inherits our (raised) descriptor limit; it holds one per VM too.
        FdBudget.Start();
        // A private directory (0700): nobody else can connect before the launcher does. Under /tmp
        // when TMPDIR is too long for a socket path (sun_path holds 107 bytes).
        var directory = Path.GetTempPath().Length <= MaxSocketDirectory
            ? Directory.CreateTempSubdirectory("luaactors-spawn-")
            : Directory.CreateDirectory(Path.Combine("/tmp", "luaactors-spawn-" + Guid.NewGuid().ToString("N")), UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        try
        {
            var path = Path.Combine(directory.FullName, "s");
            using var listener = new Socket(AddressFamily.Unix, SocketType.Seqpacket, ProtocolType.Unspecified);
            listener.Bind(new UnixDomainSocketEndPoint(path));
            listener.Listen(1);
            var process = await ProcessLauncher.RunAsync(() =>
            {
                var info = new System.Diagnostics.ProcessStartInfo(binary) { UseShellExecute = false };
                info.ArgumentList.Add(path);
                info.ArgumentList.Add(Environment.ProcessId.ToString(System.Globalization.CultureInfo.InvariantCulture));
                // The launcher's environment is the one its children inherit: only what a VM gets.
                VmEnvironment.Apply(info.Environment);

                return System.Diagnostics.Process.Start(info) ?? throw new IOException($"{FileName} did not start");
            }).ConfigureAwait(false);

            // Synchronous accept: the socket stays blocking for the reply reader's recvmsg.
            if (!listener.Poll(ConnectTimeout, SelectMode.SelectRead))
            {
                process.Kill();
                throw new IOException($"{FileName} did not connect within {ConnectTimeout.TotalSeconds} s");
            }

            var socket = listener.Accept();
            if (PeerProcessId(socket) != process.Id)
            {
                socket.Dispose();
                process.Kill();
                throw new IOException($"{FileName}: an unexpected process connected");
            }

            return new Spawner(socket, process);
        }
        finally
        {
            directory.Delete(recursive: true);
        }
    }

    private static int PeerProcessId(Socket socket)
    {
        // SO_PEERCRED: struct ucred { pid, uid, gid }.
        Span<byte> credentials = stackalloc byte[12];
        socket.GetRawSocketOption(1, 17, credentials);
        return BinaryPrimitives.ReadInt32LittleEndian(credentials);
    }

    private async Task<SpawnedProcess> RequestAsync(IReadOnlyList<string> commandLine, long addressSpaceBytes, byte[] confinement)
    {
        var packet = new MemoryStream();
        var request = (uint)Interlocked.Increment(ref _nextRequest);
        Span<byte> header = stackalloc byte[16];
        BinaryPrimitives.WriteUInt32LittleEndian(header, request);
        BinaryPrimitives.WriteInt64LittleEndian(header[4..], Math.Max(0, addressSpaceBytes));
        BinaryPrimitives.WriteUInt32LittleEndian(header[12..], (uint)confinement.Length);
        packet.Write(header);
        packet.Write(confinement);
        foreach (var argument in commandLine)
        {
            if (argument.Contains('\0', StringComparison.Ordinal))
            {
                throw new ArgumentException($"a command-line argument contains a NUL character: {argument}");
            }

            packet.Write(Encoding.UTF8.GetBytes(argument));
            packet.WriteByte(0);
        }

        if (packet.Length > MaxRequest)
        {
            throw new ArgumentException($"the command line is longer than {MaxRequest} bytes");
        }

        var done = new TaskCompletionSource<SpawnedProcess>(TaskCreationOptions.RunContinuationsAsynchronously);
        _pending[request] = (commandLine[0], done);
        try
        {
            lock (_socket)
            {
                _socket.Send(packet.GetBuffer().AsSpan(0, (int)packet.Length));
            }
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            End($"{FileName} is gone: {e.Message}");
        }

        if (_ended is { } reason && _pending.TryRemove(request, out _))
        {
            throw new IOException(reason);
        }

        return await done.Task.ConfigureAwait(false);
    }

    private void ReadReplies()
    {
        var reply = new byte[ReplySize + MaxStderrChunk];
        var fds = new List<int>(4);
        var handle = (int)_socket.Handle;
        try
        {
            while (true)
            {
                var length = FdPassing.Receive(handle, reply, fds, out var fdsLost);
                if (length == 0)
                {
                    break;
                }

                if (length < ReplySize)
                {
                    fds.ForEach(ProcessControl.Close);
                    throw new IOException($"malformed reply ({length} bytes)");
                }

                var kind = BinaryPrimitives.ReadUInt32LittleEndian(reply);
                var request = BinaryPrimitives.ReadUInt32LittleEndian(reply.AsSpan(4));
                var pid = BinaryPrimitives.ReadInt32LittleEndian(reply.AsSpan(8));
                var value = BinaryPrimitives.ReadInt32LittleEndian(reply.AsSpan(12));
                if (kind == KindStarted)
                {
                    OnStarted(request, pid, value, fds, fdsLost);
                }
                else if (kind == KindStderr && _running.TryGetValue(pid, out var writing))
                {
                    writing.Stderr.Add(reply.AsSpan(ReplySize, Math.Clamp(value, 0, length - ReplySize)));
                }
                else if (kind == KindExited && _running.TryRemove(pid, out var exited))
                {
                    // Its stderr came before (the launcher sends it first): a last partial line, then the end.
                    exited.Stderr.Complete();
                    exited.Exited.SetResult(value);
                }
            }

            End($"{FileName} ended");
        }
        catch (Exception e)
        {
            End($"{FileName} failed: {e.Message}");
        }
    }

    /// <param name="value">On failure the errno; on success the confinement layers applied.</param>
    private void OnStarted(uint request, int pid, int value, List<int> fds, bool fdsLost)
    {
        if (!_pending.TryRemove(request, out var pending))
        {
            fds.ForEach(ProcessControl.Close);
            return;
        }

        if (fdsLost)
        {
            // We are at our RLIMIT_NOFILE: the kernel closed the socket we could not take, so
            // the new interpreter reads EOF on stdin and exits (its exit report finds no owner).
            pending.Done.SetException(new ResourceExhaustedException(
                $"cannot start '{pending.Program}': this process has no file descriptors left for its socket (RLIMIT_NOFILE {FdBudget.Describe()})"));
            return;
        }

        if (pid <= 0 || fds.Count < 1)
        {
            fds.ForEach(ProcessControl.Close);
            var message = $"cannot start '{pending.Program}': {(value != 0 ? Marshal.GetPInvokeErrorMessage(value) : "no pipes received")}";
            pending.Done.SetException(ResourceExhaustedException.IsExhaustion(value)
                ? new ResourceExhaustedException(message + " (the launcher is out of resources)")
                : new IOException(message));
            return;
        }

        // Registered before the next reply is read: a process's exit always comes after its start.
        var exited = new TaskCompletionSource<int?>(TaskCreationOptions.RunContinuationsAsynchronously);
        var stderr = new StderrLines();
        _running[pid] = (exited, stderr);
        for (var i = 1; i < fds.Count; i++)
        {
            ProcessControl.Close(fds[i]);
        }

        pending.Done.SetResult(new SpawnedProcess(
            pid,
            new SafeSocketHandle(fds[0], ownsHandle: true),
            stderr,
            exited.Task,
            this,
            (ConfinementLayers)(value & 0xffff)));
    }

    /// <summary>
    /// SIGKILL to a VM process this launcher started, sent by the launcher itself: it has not
    /// reaped the process yet (its exit was not reported), so the PID still names it. A lost
    /// launcher needs no kill: its processes die with it.
    /// </summary>
    public void Kill(int pid)
    {
        if (_ended is not null)
        {
            return;
        }

        Span<byte> packet = stackalloc byte[8];
        BinaryPrimitives.WriteUInt32LittleEndian(packet, KillRequest);
        BinaryPrimitives.WriteInt32LittleEndian(packet[4..], pid);
        try
        {
            lock (_socket)
            {
                _socket.Send(packet);
            }
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            End($"{FileName} is gone: {e.Message}");
        }
    }

    /// <summary>The launcher is lost: its VM processes die with it (their death signal).</summary>
    private void End(string reason)
    {
        lock (Gate)
        {
            if (_ended is not null)
            {
                return;
            }

            _ended = reason;
        }

        try
        {
            _process.Kill();
        }
        catch (InvalidOperationException)
        {
            // Already gone.
        }

        _socket.Dispose();
        foreach (var request in _pending.Keys)
        {
            if (_pending.TryRemove(request, out var pending))
            {
                pending.Done.TrySetException(new IOException($"cannot start '{pending.Program}': {reason}"));
            }
        }

        foreach (var pid in _running.Keys)
        {
            if (_running.TryRemove(pid, out var running))
            {
                running.Stderr.Complete();
                running.Exited.TrySetResult(null);
            }
        }
    }

    private static string? Locate()
    {
        var directory = Path.GetDirectoryName(typeof(Spawner).Assembly.Location);
        var path = string.IsNullOrEmpty(directory) ? null : Path.Combine(directory, FileName);
        return path is not null && !OperatingSystem.IsWindows() && File.Exists(path)
            && (File.GetUnixFileMode(path) & UnixFileMode.UserExecute) != 0 ? path : null;
    }
}
