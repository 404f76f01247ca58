using System.Runtime.InteropServices;

namespace LuaActors.Process;

/// <summary>
/// recvmsg(2) with SCM_RIGHTS, which .NET's Socket does not expose: how the pipes and pidfd of a
/// started VM process arrive from luaactors-spawn. Plain unmanaged buffers, no unsafe code.
/// Layouts are those of LP64 Linux (x86-64 and arm64).
/// </summary>
internal static class FdPassing
{
    private const int SolSocket = 1;
    private const int ScmRights = 1;
    private const int MsgCtrunc = 0x8;
    private const int MsgCmsgCloexec = 0x40000000;
    private const int Eintr = 4;

    // struct msghdr: name, namelen (+pad), iov, iovlen, control, controllen, flags (+pad).
    private const int MsghdrSize = 56;
    private const int IovOffset = 16;
    private const int IovlenOffset = 24;
    private const int ControlOffset = 32;
    private const int ControllenOffset = 40;
    private const int FlagsOffset = 48;

    // struct cmsghdr: len (size_t), level, type, then the data.
    private const int CmsgHeaderSize = 16;
    private const int ControlSize = 64;

    /// <summary>
    /// Receives one packet into <paramref name="buffer"/> with up to a few fds (close-on-exec).
    /// Returns the packet's length (0 when the peer closed); throws <see cref="IOException"/>.
    /// <paramref name="fdsLost"/> is true when fds came but not all could be taken (this process
    /// is at its RLIMIT_NOFILE: the kernel closes the rest); the packet itself is whole, and
    /// <paramref name="fds"/> is then empty (the ones that came are closed).
    /// </summary>
    public static int Receive(int socket, byte[] buffer, List<int> fds, out bool fdsLost)
    {
        fds.Clear();
        var memory = Marshal.AllocHGlobal(MsghdrSize + 16 + ControlSize + buffer.Length);
        try
        {
            var header = memory;
            var iov = memory + MsghdrSize;
            var control = iov + 16;
            var data = control + ControlSize;
            for (var i = 0; i < MsghdrSize + 16 + ControlSize; i += 8)
            {
                Marshal.WriteInt64(memory, i, 0);
            }

            Marshal.WriteIntPtr(iov, 0, data);
            Marshal.WriteInt64(iov, 8, buffer.Length);
            Marshal.WriteIntPtr(header, IovOffset, iov);
            Marshal.WriteInt64(header, IovlenOffset, 1);
            Marshal.WriteIntPtr(header, ControlOffset, control);
            Marshal.WriteInt64(header, ControllenOffset, ControlSize);

            long received;
            while ((received = recvmsg(socket, header, MsgCmsgCloexec)) < 0)
            {
                var error = Marshal.GetLastPInvokeError();
                if (error != Eintr)
                {
                    throw new IOException($"recvmsg failed: {Marshal.GetPInvokeErrorMessage(error)}");
                }
            }

            Marshal.Copy(data, buffer, 0, (int)received);
            var controlLength = Marshal.ReadInt64(header, ControllenOffset);
            for (long at = 0; at + CmsgHeaderSize <= controlLength;)
            {
                var length = Marshal.ReadInt64(control, (int)at);
                if (length < CmsgHeaderSize)
                {
                    break;
                }

                if (Marshal.ReadInt32(control, (int)at + 8) == SolSocket && Marshal.ReadInt32(control, (int)at + 12) == ScmRights)
                {
                    for (var offset = CmsgHeaderSize; offset + 4 <= length; offset += 4)
                    {
                        fds.Add(Marshal.ReadInt32(control, (int)at + offset));
                    }
                }

                at += (length + 7) & ~7L;
            }

            fdsLost = (Marshal.ReadInt32(header, FlagsOffset) & MsgCtrunc) != 0;
            if (fdsLost)
            {
                fds.ForEach(ProcessControl.Close);
                fds.Clear();
            }

            return (int)received;
        }
        finally
        {
            Marshal.FreeHGlobal(memory);
        }
    }

#pragma warning disable SYSLIB1054, CA5392 // plain libc calls; DllImport keeps the project free of unsafe code
    [DllImport("libc", SetLastError = true)]
    private static extern long recvmsg(int socket, IntPtr message, int flags);
#pragma warning restore SYSLIB1054, CA5392
}
