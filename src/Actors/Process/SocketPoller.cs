using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Runtime.InteropServices;

namespace LuaActors.Process;

/// <summary>
/// One epoll thread for every VM socket of this process: it reads each VM's replies, cuts them
/// into frames and tells them to the owner right there, and finishes writes that did not fit.
/// <para>
/// Why not .NET's <c>Socket.ReceiveAsync</c>: its engine hands every completion from its epoll
/// thread to the thread pool, one more thread wake-up per reply (and its send path another, from
/// the outbox pump); that hop and the engine's per-operation bookkeeping were most of what one
/// socketpair per VM added to an execute over two pipes. Here a reply goes from epoll_wait to
/// the actor's mailbox on one thread, and a request is written by the caller (docs/performance.md).
/// The inline alternative, <c>DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS</c>, is process-wide:
/// it would run the HTTP server's continuations on the epoll thread too.
/// </para>
/// </summary>
internal sealed class SocketPoller
{
    private const int EpollCloexec = 0x80000;
    private const int EpollCtlAdd = 1;
    private const int EpollCtlDel = 2;
    private const int EpollCtlMod = 3;
    internal const uint EpollIn = 0x001;
    internal const uint EpollOut = 0x004;
    internal const uint EpollErr = 0x008;
    internal const uint EpollHup = 0x010;
    internal const uint EpollRdHup = 0x2000;
    private const int Eintr = 4;
    private const int MaxEvents = 64;

    private static readonly Lazy<SocketPoller> SharedPoller = new(() => new SocketPoller(), LazyThreadSafetyMode.ExecutionAndPublication);

    // struct epoll_event is packed on x86-64 (12 bytes: events, then the 64-bit data), not on arm64.
    private static readonly int EventSize = RuntimeInformation.ProcessArchitecture == Architecture.X64 ? 12 : 16;
    private static readonly int DataOffset = RuntimeInformation.ProcessArchitecture == Architecture.X64 ? 4 : 8;

    private readonly int _epoll;
    private readonly ConcurrentDictionary<long, VmSocket> _sockets = new();
    private long _nextKey;

    private SocketPoller()
    {
        _epoll = epoll_create1(EpollCloexec);
        if (_epoll < 0)
        {
            throw new IOException("epoll_create1 failed: " + Marshal.GetPInvokeErrorMessage(Marshal.GetLastPInvokeError()));
        }

        new Thread(Run) { IsBackground = true, Name = "luaactors-vm-sockets" }.Start();
    }

    public static SocketPoller Shared => SharedPoller.Value;

    /// <summary>Watches <paramref name="socket"/> for replies; returns its key.</summary>
    public long Add(VmSocket socket, int fd)
    {
        var key = Interlocked.Increment(ref _nextKey);
        _sockets[key] = socket;
        if (!Control(EpollCtlAdd, fd, EpollIn | EpollRdHup, key))
        {
            _sockets.TryRemove(key, out _);
            throw new IOException("epoll_ctl failed: " + Marshal.GetPInvokeErrorMessage(Marshal.GetLastPInvokeError()));
        }

        return key;
    }

    /// <summary>Whether the socket is also watched for room to write (while writes wait).</summary>
    public void WatchWritable(int fd, long key, bool writable) =>
        Control(EpollCtlMod, fd, EpollIn | EpollRdHup | (writable ? EpollOut : 0), key);

    /// <summary>Stops watching (before the descriptor is closed).</summary>
    public void Remove(int fd, long key)
    {
        _sockets.TryRemove(key, out _);
        Control(EpollCtlDel, fd, 0, key);
    }

    private bool Control(int operation, int fd, uint events, long key)
    {
        var ev = new byte[EventSize];
        BinaryPrimitives.WriteUInt32LittleEndian(ev, events);
        BinaryPrimitives.WriteInt64LittleEndian(ev.AsSpan(DataOffset), key);
        return epoll_ctl(_epoll, operation, fd, ev) == 0;
    }

    private void Run()
    {
        var events = new byte[MaxEvents * EventSize];
        // One read buffer for all sockets: a VM keeps bytes of its own only while a frame is cut.
        var buffer = new byte[64 * 1024];
        while (true)
        {
            var n = epoll_wait(_epoll, events, MaxEvents, -1);
            if (n < 0)
            {
                if (Marshal.GetLastPInvokeError() == Eintr)
                {
                    continue;
                }

                throw new IOException("epoll_wait failed: " + Marshal.GetPInvokeErrorMessage(Marshal.GetLastPInvokeError()));
            }

            for (var i = 0; i < n; i++)
            {
                var at = events.AsSpan(i * EventSize, EventSize);
                var ready = BinaryPrimitives.ReadUInt32LittleEndian(at);
                var key = BinaryPrimitives.ReadInt64LittleEndian(at[DataOffset..]);
                if (!_sockets.TryGetValue(key, out var socket))
                {
                    continue;
                }

                try
                {
                    socket.OnReady(ready, buffer);
                }
                catch (Exception e)
                {
                    // One VM's failure must not stop every other VM's replies.
                    socket.Fail(e);
                }
            }
        }
    }

#pragma warning disable SYSLIB1054, CA5392 // plain libc calls; DllImport keeps the project free of unsafe code
    [DllImport("libc", SetLastError = true)]
    private static extern int epoll_create1(int flags);

    [DllImport("libc", SetLastError = true)]
    private static extern int epoll_ctl(int epfd, int op, int fd, byte[] ev);

    [DllImport("libc", SetLastError = true)]
    private static extern int epoll_wait(int epfd, byte[] events, int maxevents, int timeout);
#pragma warning restore SYSLIB1054, CA5392
}
