using System.ComponentModel;

namespace LuaActors.Process;

/// <summary>
/// A VM process could not be started because this node ran out of something every process
/// needs: file descriptors (RLIMIT_NOFILE or the system's table), processes (RLIMIT_NPROC) or
/// memory. The create that hit it fails with <c>ErrorKind.ResourceExhausted</c>; running VMs and
/// the launcher are not affected.
/// </summary>
internal sealed class ResourceExhaustedException(string message) : IOException(message)
{
    private const int Eagain = 11;
    private const int Enomem = 12;
    private const int Enfile = 23;
    private const int Emfile = 24;
    private const int Etoomanyrefs = 109;

    /// <summary>Whether errno <paramref name="error"/> says a limit was reached, not that something is wrong.</summary>
    public static bool IsExhaustion(int error) => error is Eagain or Enomem or Enfile or Emfile or Etoomanyrefs;

    /// <summary>
    /// <paramref name="error"/> as a <see cref="ResourceExhaustedException"/> when .NET's process
    /// start failed for lack of a resource (its errno in NativeErrorCode or HResult); otherwise null.
    /// </summary>
    public static ResourceExhaustedException? From(Exception error, string program) =>
        error.GetBaseException() switch
        {
            Win32Exception win32 when IsExhaustion(win32.NativeErrorCode) =>
                new ResourceExhaustedException($"cannot start '{program}': {win32.Message} (this node is out of resources)"),
            IOException io when IsExhaustion(io.HResult) =>
                new ResourceExhaustedException($"cannot start '{program}': {io.Message} (this node is out of resources)"),
            _ => null,
        };
}
