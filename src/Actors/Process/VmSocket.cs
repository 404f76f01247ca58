using System.Net.Sockets;
using System.Runtime.InteropServices;
using LuaActors.Protocol;

namespace LuaActors.Process;

/// <summary>
/// Our end of the Unix socket that is a VM process's stdin and stdout. A request frame is written
/// by whoever sends it, at once, with a non-blocking send (the actor's thread: no hand-over to a
/// pump); what does not fit waits here and the <see cref="SocketPoller"/> thread writes it when
/// the socket has room, in order. Replies are read and cut into frames on the poller thread.
/// An idle VM holds no buffer: bytes are kept per VM only while a frame is incomplete.
/// </summary>
internal sealed class VmSocket
{
    private const int MsgDontwait = 0x40;
    private const int MsgNosignal = 0x4000;
    private const int ShutWr = 1;
    private const int Eagain = 11;
    private const int Eintr = 4;
    private const int PartialInitial = 4 * 1024;

    private readonly SafeSocketHandle _handle;
    private readonly int _fd;
    private readonly long _key;
    private readonly Action<VmFrame> _onFrame;
    private readonly Action<string> _onProtocolError;
    private readonly TaskCompletionSource _ended = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Lock _gate = new();

    // Frames a send could not finish (the first one partly written, _offset bytes of it).
    private Queue<HostFrame>? _waiting;
    private int _offset;
    private bool _watchingWritable;
    private bool _shutdownRequested;
    private bool _closed;

    // The start of an incomplete reply frame (poller thread only).
    private byte[]? _partial;
    private int _partialLength;

    public VmSocket(SafeSocketHandle handle, Action<VmFrame> onFrame, Action<string> onProtocolError)
    {
        _handle = handle;
        _fd = (int)handle.DangerousGetHandle();
        _onFrame = onFrame;
        _onProtocolError = onProtocolError;
        _key = SocketPoller.Shared.Add(this, _fd);
    }

    /// <summary>Completes when the VM closed its end (or the socket failed) and every reply was told.</summary>
    public Task Ended => _ended.Task;

    /// <summary>Writes (or queues) one frame; frames go out in the order they are sent. Takes the frame's buffer.</summary>
    public void Send(HostFrame frame)
    {
        lock (_gate)
        {
            if (_closed || _shutdownRequested)
            {
                frame.Release();
                return;
            }

            if (_waiting is null || _waiting.Count == 0)
            {
                var sent = Write(frame.Span);
                if (sent == frame.Length || sent < 0)
                {
                    // Written, or the VM is gone (its end closed: the reader sees that and reports the exit).
                    frame.Release();
                    return;
                }

                _offset = sent;
            }

            (_waiting ??= new Queue<HostFrame>()).Enqueue(frame);
            if (!_watchingWritable)
            {
                _watchingWritable = true;
                SocketPoller.Shared.WatchWritable(_fd, _key, writable: true);
            }
        }
    }

    /// <summary>
    /// After the frames already sent: the VM reads end of file on its stdin and exits, while its
    /// last replies can still be read.
    /// </summary>
    public void ShutdownWrite()
    {
        lock (_gate)
        {
            if (_closed || _shutdownRequested)
            {
                return;
            }

            _shutdownRequested = true;
            if (_waiting is null || _waiting.Count == 0)
            {
                _ = shutdown(_fd, ShutWr);
            }
        }
    }

    /// <summary>Poller thread: the socket is readable, writable or closed.</summary>
    public void OnReady(uint ready, byte[] buffer)
    {
        if ((ready & (SocketPoller.EpollOut | SocketPoller.EpollErr | SocketPoller.EpollHup)) != 0)
        {
            WriteWaiting();
        }

        if ((ready & (SocketPoller.EpollIn | SocketPoller.EpollErr | SocketPoller.EpollHup | SocketPoller.EpollRdHup)) != 0)
        {
            Receive(buffer);
        }
    }

    /// <summary>Poller thread: reading failed in a way no VM causes (a bug of ours): the VM is lost, saying why.</summary>
    public void Fail(Exception e)
    {
        _onProtocolError("cannot read the VM's replies: " + e.Message);
        Close();
    }

    private void WriteWaiting()
    {
        lock (_gate)
        {
            if (_closed || !_watchingWritable)
            {
                return;
            }

            while (_waiting!.TryPeek(out var frame))
            {
                var sent = Write(frame.Span[_offset..]);
                if (sent < 0)
                {
                    DropWaiting();
                    break;
                }

                _offset += sent;
                if (_offset < frame.Length)
                {
                    return; // still full: wait for room again
                }

                _waiting.Dequeue();
                frame.Release();
                _offset = 0;
            }

            _watchingWritable = false;
            SocketPoller.Shared.WatchWritable(_fd, _key, writable: false);
            if (_shutdownRequested)
            {
                _ = shutdown(_fd, ShutWr);
            }
        }
    }

    private void DropWaiting()
    {
        while (_waiting is not null && _waiting.TryDequeue(out var frame))
        {
            frame.Release();
        }

        _offset = 0;
    }

    /// <summary>Bytes written (0 when the socket is full), or -1 when the VM's end is gone.</summary>
    private int Write(ReadOnlySpan<byte> bytes)
    {
        while (true)
        {
            var sent = send(_fd, ref MemoryMarshal.GetReference(bytes), bytes.Length, MsgDontwait | MsgNosignal);
            if (sent >= 0)
            {
                return (int)sent;
            }

            var error = Marshal.GetLastPInvokeError();
            if (error == Eagain)
            {
                return 0;
            }

            if (error != Eintr)
            {
                return -1;
            }
        }
    }

    /// <summary>Reads what is there (level-triggered: a short read means it is drained for now).</summary>
    private void Receive(byte[] shared)
    {
        while (!_closed)
        {
            byte[] target;
            int at;
            if (_partial is null)
            {
                target = shared;
                at = 0;
            }
            else
            {
                MakeRoom();
                target = _partial;
                at = _partialLength;
            }

            var got = recv(_fd, ref target[at], target.Length - at, MsgDontwait);
            if (got <= 0)
            {
                if (got < 0)
                {
                    var error = Marshal.GetLastPInvokeError();
                    if (error == Eagain)
                    {
                        return;
                    }

                    if (error == Eintr)
                    {
                        continue;
                    }
                }

                Close(); // end of file (the VM exited or closed its stdout), or a reset
                return;
            }

            var length = at + (int)got;
            var consumed = Cut(target.AsSpan(0, length));
            if (consumed < 0)
            {
                return;
            }

            KeepRest(target, consumed, length);
            if (length < target.Length)
            {
                return;
            }
        }
    }

    /// <summary>Tells every whole frame in <paramref name="bytes"/>; returns the bytes used, or -1 when the stream is broken.</summary>
    private int Cut(ReadOnlySpan<byte> bytes)
    {
        var start = 0;
        while (bytes.Length - start >= FrameHeader.Length)
        {
            if (!FrameHeader.TryRead(bytes.Slice(start, FrameHeader.Length), out var header))
            {
                _onProtocolError("malformed frame header from the VM");
                Close();
                return -1;
            }

            if (bytes.Length - start < header.FrameLength)
            {
                break;
            }

            VmFrame frame;
            try
            {
                frame = VmFrames.Decode(header, bytes.Slice(start + FrameHeader.Length, header.PayloadLength));
            }
            catch (Exception e)
            {
                // A decoder bug must not silently stop the replies (every request would wait for
                // its deadline): the owner loses this process and says why.
                _onProtocolError("cannot decode a frame from the VM: " + e.Message);
                Close();
                return -1;
            }

            _onFrame(frame);
            start += header.FrameLength;
        }

        return start;
    }

    /// <summary>Keeps the incomplete frame after <paramref name="consumed"/> for the next read; none kept when there is none.</summary>
    private void KeepRest(byte[] target, int consumed, int length)
    {
        var rest = length - consumed;
        if (rest == 0)
        {
            // An idle VM holds no buffer (a huge reply does not pin its buffer either).
            _partial = null;
            _partialLength = 0;
            return;
        }

        if (!ReferenceEquals(target, _partial))
        {
            _partial = new byte[Math.Max(PartialInitial, rest)];
        }

        Buffer.BlockCopy(target, consumed, _partial!, 0, rest);
        _partialLength = rest;
    }

    /// <summary>Grows the partial buffer to hold the frame it has begun (or a header, then more).</summary>
    private void MakeRoom()
    {
        var partial = _partial!;
        var needed = _partialLength + 1;
        if (_partialLength >= FrameHeader.Length && FrameHeader.TryRead(partial.AsSpan(0, FrameHeader.Length), out var header))
        {
            needed = Math.Max(needed, header.FrameLength);
        }

        if (needed > partial.Length)
        {
            var grown = new byte[Math.Max(needed, partial.Length * 2)];
            Buffer.BlockCopy(partial, 0, grown, 0, _partialLength);
            _partial = grown;
        }
    }

    /// <summary>Poller thread: no more reading or writing; the descriptor is closed.</summary>
    private void Close()
    {
        lock (_gate)
        {
            if (_closed)
            {
                return;
            }

            _closed = true;
            DropWaiting();
        }

        SocketPoller.Shared.Remove(_fd, _key);
        _handle.Dispose();
        _partial = null;
        _ended.TrySetResult();
    }

#pragma warning disable SYSLIB1054, CA5392 // plain libc calls; DllImport keeps the project free of unsafe code
    [DllImport("libc", SetLastError = true)]
    private static extern nint send(int fd, ref byte buffer, nint length, int flags);

    [DllImport("libc", SetLastError = true)]
    private static extern nint recv(int fd, ref byte buffer, nint length, int flags);

    [DllImport("libc", SetLastError = true)]
    private static extern int shutdown(int fd, int how);
#pragma warning restore SYSLIB1054, CA5392
}
