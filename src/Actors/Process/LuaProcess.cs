using System.Threading.Channels;
using Akka.Actor;
using CliWrap;
using LuaActors.Backends;
using LuaActors.Configuration;
using LuaActors.Protocol;

namespace LuaActors.Process;

/// <summary>
/// One interpreter process, started by luaactors-spawn (or, without it, through the exec chain and
/// CliWrap). Everything reaches the owning actor as messages: nothing here blocks it.
/// <para>
/// Through luaactors-spawn the process's stdin and stdout are one Unix socket, the only
/// descriptor held here for it (<see cref="VmSocket"/>): a frame is written by the sender with a
/// non-blocking send, replies are read and decoded on the one <see cref="SocketPoller"/> thread of
/// all VMs. The launcher drains its stderr and forwards the lines, and kills it on request
/// (<see cref="FdBudget"/>: ~10,000 VMs under a 20,000-descriptor limit).
/// </para>
/// <para>
/// Through the exec chain: frames go in through an outbox drained by a stdin pump; stdout is
/// parsed into frames on a stdout pump; stderr is drained line by line.
/// </para>
/// </summary>
internal sealed class LuaProcess : IVmInstance
{
    private readonly Channel<HostFrame> _outbox = Channel.CreateUnbounded<HostFrame>(
        new UnboundedChannelOptions { SingleReader = true, SingleWriter = false });

    // Only a fallback: CliWrap's cancellation kills the whole process tree, which lists every
    // process on the machine (/proc) per kill; 1000 VMs took 72 s to remove that way.
    private readonly CancellationTokenSource _kill = new();

    private int _pidfd = -1;
    private Spawner? _launcher;

    // Through luaactors-spawn: the socket that is the process's stdin and stdout.
    private VmSocket? _socket;
    private int _reservedFds;
    private int _killRequested;
    private int _exited;

    // Who hears this process's frames, stderr and end: null while it waits as a spare.
    private volatile InstanceStart? _owner;

    private LuaProcess()
    {
    }

    public int? ProcessId { get; private set; }

    /// <summary>The kernel layers luaactors-spawn applied (none through the exec chain).</summary>
    public ConfinementLayers Confinement { get; private set; }

    public IReadOnlyList<string> ConfinedBy => ConfinementSettings.Names(Confinement);

    /// <summary>
    /// Starts <paramref name="command"/> for <paramref name="start"/>'s owner, with RLIMIT_AS set
    /// to <see cref="InstanceStart.AddressSpaceBytes"/> before any frame is sent.
    /// </summary>
    public static async Task<IVmInstance> StartAsync(LaunchCommand command, InstanceStart start, byte[] confinement)
    {
        var process = new LuaProcess { _owner = start };
        await process.LaunchAsync(command, start.AddressSpaceBytes, confinement).ConfigureAwait(false);
        return process;
    }

    /// <summary>
    /// Starts a spare: a process with no owner yet, idle on its stdin until <see cref="TryBind"/>
    /// gives it one (or finds it dead).
    /// </summary>
    public static async Task<LuaProcess> StartSpareAsync(LaunchCommand command, long addressSpaceBytes, byte[] confinement)
    {
        var process = new LuaProcess();
        await process.LaunchAsync(command, addressSpaceBytes, confinement).ConfigureAwait(false);
        return process;
    }

    /// <summary>
    /// Makes a spare the instance of <paramref name="start"/>'s VM, with that VM's address-space
    /// limit; false when the spare has already ended (or its limit cannot be set: it is killed).
    /// </summary>
    public bool TryBind(InstanceStart start)
    {
        lock (_outbox)
        {
            if (_exited != 0 || _killRequested != 0 || _owner is not null)
            {
                return false;
            }

            try
            {
                // The spare ran no user code yet: its limit is the VM's from here on.
                ProcessControl.SetAddressSpaceLimit(ProcessId!.Value, start.AddressSpaceBytes);
            }
            catch (IOException)
            {
                // (The lock is re-entrant: Kill takes it too.)
                Kill();
                return false;
            }

            _owner = start;
            return true;
        }
    }

    private async Task LaunchAsync(LaunchCommand command, long addressSpaceBytes, byte[] confinement)
    {
        // Refused here, at once, when the node holds as many processes as its descriptors allow.
        var perVm = command.ViaSpawner ? FdBudget.PerVmViaSpawner : FdBudget.PerVmExecChain;
        FdBudget.Reserve(perVm);
        _reservedFds = perVm;
        try
        {
            await (command.ViaSpawner
                ? LaunchThroughSpawnerAsync(command.Interpreter, addressSpaceBytes, confinement)
                : LaunchThroughExecChainAsync(command.ExecChain, addressSpaceBytes)).ConfigureAwait(false);
        }
        catch
        {
            ReleaseFds();
            throw;
        }
    }

    private void ReleaseFds() => FdBudget.Release(Interlocked.Exchange(ref _reservedFds, 0));

    /// <summary>
    /// One vfork and one exec in luaactors-spawn, which sets the session, the death signal and
    /// the limit itself; the pumps run here on the socket it passes back (the process's stdin
    /// and stdout), its stderr lines come from the launcher.
    /// </summary>
    private async Task LaunchThroughSpawnerAsync(IReadOnlyList<string> interpreter, long addressSpaceBytes, byte[] confinement)
    {
        var child = await Spawner.SpawnAsync(interpreter, addressSpaceBytes, confinement).ConfigureAwait(false);
        lock (_outbox)
        {
            ProcessId = child.Pid;
            Confinement = child.Confinement;
            _launcher = child.Launcher;
            if (Volatile.Read(ref _killRequested) != 0)
            {
                // Kill came while it was starting, with no PID to act on yet.
                child.Launcher.Kill(child.Pid);
            }
        }

        child.Stderr.Attach(line => TellOwner(generation => new InstanceStderrLine(generation, line)));
        VmSocket socket;
        try
        {
            socket = new VmSocket(
                child.Channel,
                frame => TellOwner(generation => new InstanceFrameReceived(generation, frame)),
                error => TellOwner(generation => new InstanceProtocolError(generation, error)));
        }
        catch (IOException)
        {
            // Not watched (epoll_ctl failed): a process nobody can talk to must not stay.
            child.Launcher.Kill(child.Pid);
            child.Channel.Dispose();
            throw;
        }

        Volatile.Write(ref _socket, socket);
        if (Volatile.Read(ref _killRequested) != 0)
        {
            socket.ShutdownWrite();
        }

        _ = Task.WhenAll(socket.Ended, child.Exited).ContinueWith(
            _ =>
            {
                _outbox.Writer.TryComplete();
                var code = child.Exited.Result;
                ReportExit(code, code is null ? "ended: the VM launcher (luaactors-spawn) was lost" : null);
            },
            CancellationToken.None,
            TaskContinuationOptions.ExecuteSynchronously,
            TaskScheduler.Default);
    }

    /// <summary>
    /// <c>setsid setpriv --pdeathsig KILL</c> before the interpreter, started through CliWrap
    /// from a launcher thread (the death signal follows the thread that forked).
    /// </summary>
    private async Task LaunchThroughExecChainAsync(IReadOnlyList<string> commandLine, long addressSpaceBytes)
    {
        var command = Cli.Wrap(commandLine[0])
            .WithArguments(commandLine.Skip(1))
            // Only the VM environment: no secrets of ours, no code or paths for the interpreter.
            .WithEnvironmentVariables(env =>
            {
                foreach (var name in Environment.GetEnvironmentVariables().Keys.Cast<string>())
                {
                    env.Set(name, null);
                }

                foreach (var (name, value) in VmEnvironment.Current())
                {
                    env.Set(name, value);
                }
            })
            .WithStandardInputPipe(new OutboxSource(_outbox.Reader))
            .WithStandardOutputPipe(new FrameTarget(this))
            .WithStandardErrorPipe(PipeTarget.ToDelegate(line => TellOwner(generation => new InstanceStderrLine(generation, line))))
            .WithValidation(CommandResultValidation.None);

        CommandTask<CommandResult> running;
        try
        {
            running = await ProcessLauncher.RunAsync(() =>
            {
                var task = command.ExecuteAsync(_kill.Token);
                Adopt(task.ProcessId, addressSpaceBytes);
                return task;
            }).ConfigureAwait(false);
        }
        catch (Exception e) when (ResourceExhaustedException.From(e, commandLine[0]) is { } exhausted)
        {
            throw exhausted;
        }

        _ = running.Task.ContinueWith(
            task => ReportExit(
                task.IsCompletedSuccessfully ? task.Result.ExitCode : null,
                task.IsCompletedSuccessfully ? null : task.Exception?.GetBaseException().Message ?? "ended"),
            CancellationToken.None,
            TaskContinuationOptions.ExecuteSynchronously,
            TaskScheduler.Default);
    }

    /// <summary>The process ended and its output is drained: tell the owner, once.</summary>
    private void ReportExit(int? exitCode, string? failure)
    {
        OnExited();
        // After OnExited no TryBind succeeds: the owner read here is final (none for a spare).
        TellOwner(generation => Volatile.Read(ref _killRequested) != 0
            ? new InstanceExited(generation, null, "killed")
            : exitCode is { } code
                ? new InstanceExited(generation, code, DescribeExit(code))
                : new InstanceExited(generation, null, failure ?? "ended"));
    }

    /// <summary>Tells the owning actor, if there is one (a spare has none and says nothing anyway).</summary>
    private void TellOwner(Func<int, object> message)
    {
        if (_owner is { } owner)
        {
            owner.Owner.Tell(message(owner.Generation));
        }
    }

    public void Send(HostFrame frame)
    {
        if (Volatile.Read(ref _socket) is { } socket)
        {
            // Written here and now when the socket has room (LuaProcess docs).
            socket.Send(frame);
            return;
        }

        if (!_outbox.Writer.TryWrite(frame))
        {
            frame.Release();
        }
    }

    public void Kill()
    {
        _outbox.Writer.TryComplete();
        var first = Interlocked.Exchange(ref _killRequested, 1) == 0;
        Volatile.Read(ref _socket)?.ShutdownWrite();
        if (!first)
        {
            return;
        }

        lock (_outbox)
        {
            if (_exited != 0)
            {
                return;
            }

            try
            {
                // We own this one process, by a pidfd (or through the launcher that has not reaped
                // it): neither can name a recycled PID. It runs in its own session; anything it
                // forked itself is its business, not ours to hunt down.
                if (ProcessId is { } pid)
                {
                    if (_launcher is { } launcher)
                    {
                        launcher.Kill(pid);
                    }
                    else
                    {
                        ProcessControl.Kill(_pidfd, pid);
                    }

                    return;
                }
            }
            catch (IOException)
            {
                // Fall back to CliWrap's kill below.
            }
        }

        try
        {
            _kill.Cancel();
        }
        catch (AggregateException)
        {
            // The process was already gone.
        }
    }

    /// <summary>Exec chain: right after the fork, on the launcher thread, before any frame is written.</summary>
    private void Adopt(int pid, long addressSpaceBytes)
    {
        ProcessId = pid;
        _pidfd = ProcessControl.OpenPidfd(pid);
        try
        {
            // The interpreter runs no user code before its first frame, so a limit set now
            // binds everything it will ever run (and survives the execs of the chain).
            ProcessControl.SetAddressSpaceLimit(pid, addressSpaceBytes);
        }
        catch (IOException)
        {
            // A VM without its memory limit must not run.
            Kill();
            OnExited();
            throw;
        }
    }

    private void OnExited()
    {
        lock (_outbox)
        {
            _exited = 1;
            ProcessControl.Close(_pidfd);
            _pidfd = -1;
        }

        ReleaseFds();
    }

    private static string DescribeExit(int code) => code switch
    {
        0 => "exited (code 0)",
        > 128 => $"killed by signal {code - 128} (exit code {code})",
        _ => $"exited with code {code}",
    };

    /// <summary>Writes queued frames to stdin, batching what is already queued into one write.</summary>
    private sealed class OutboxSource(ChannelReader<HostFrame> outbox) : PipeSource
    {
        public override async Task CopyToAsync(Stream destination, CancellationToken cancellationToken = default)
        {
            // Created on the first batch: most VMs never queue more than one frame.
            MemoryStream? batch = null;
            while (await outbox.WaitToReadAsync(cancellationToken).ConfigureAwait(false))
            {
                if (!outbox.TryRead(out var first))
                {
                    continue;
                }

                if (!outbox.TryPeek(out _))
                {
                    await destination.WriteAsync(first.Memory, cancellationToken).ConfigureAwait(false);
                    first.Release();
                }
                else
                {
                    batch ??= new MemoryStream();
                    batch.SetLength(0);
                    batch.Write(first.Span);
                    first.Release();
                    while (batch.Length < 256 * 1024 && outbox.TryRead(out var next))
                    {
                        batch.Write(next.Span);
                        next.Release();
                    }

                    await destination.WriteAsync(batch.GetBuffer().AsMemory(0, (int)batch.Length), cancellationToken).ConfigureAwait(false);
                }

                await destination.FlushAsync(cancellationToken).ConfigureAwait(false);
            }
        }
    }

    /// <summary>Cuts stdout into frames, decodes each (on this pump, not the actor) and tells it to the owner.</summary>
    private sealed class FrameTarget(LuaProcess process) : PipeTarget
    {
        private const int InitialBuffer = 4 * 1024;
        private const int LargeBuffer = 64 * 1024;

        public override async Task CopyFromAsync(Stream origin, CancellationToken cancellationToken = default)
        {
            // Small to start (a VM costs this much even when idle); grows for large frames.
            var buffer = new byte[InitialBuffer];
            int start = 0, end = 0;
            while (true)
            {
                var read = await origin.ReadAsync(buffer.AsMemory(end), cancellationToken).ConfigureAwait(false);
                if (read == 0)
                {
                    return;
                }

                end += read;
                while (end - start >= FrameHeader.Length)
                {
                    if (!FrameHeader.TryRead(buffer.AsSpan(start, FrameHeader.Length), out var header))
                    {
                        process.TellOwner(generation => new InstanceProtocolError(generation, "malformed frame header from the VM"));
                        return;
                    }

                    var size = header.FrameLength;
                    if (end - start < size)
                    {
                        if (size > buffer.Length - start)
                        {
                            // Make room: move the partial frame to the front, or grow for a large one.
                            var target = size > buffer.Length ? new byte[Math.Max(size, buffer.Length * 2)] : buffer;
                            Buffer.BlockCopy(buffer, start, target, 0, end - start);
                            buffer = target;
                            end -= start;
                            start = 0;
                        }

                        break;
                    }

                    VmFrame frame;
                    try
                    {
                        frame = VmFrames.Decode(header, buffer.AsSpan(start + FrameHeader.Length, header.PayloadLength));
                    }
                    catch (Exception e)
                    {
                        // A decoder bug must not silently stop the pump (every request would wait
                        // for its deadline): the owner loses this process and says why.
                        process.TellOwner(generation => new InstanceProtocolError(generation, "cannot decode a frame from the VM: " + e.Message));
                        return;
                    }

                    process.TellOwner(generation => new InstanceFrameReceived(generation, frame));
                    start += size;
                }

                if (start == end)
                {
                    start = end = 0;
                    if (buffer.Length > LargeBuffer)
                    {
                        // One huge reply must not pin its buffer for the VM's lifetime.
                        buffer = new byte[InitialBuffer];
                    }
                }
                else if (end == buffer.Length)
                {
                    Buffer.BlockCopy(buffer, start, buffer, 0, end - start);
                    end -= start;
                    start = 0;
                }
            }
        }
    }
}
