namespace LuaActors.Persistence;

/// <summary>
/// The database of desired state did not take a write or answer a read in time: nothing was
/// written. Requests that need it answer <see cref="Messages.ErrorKind.StorageUnavailable"/>.
/// </summary>
public sealed class StorageUnavailableException(string message, Exception? inner = null) : Exception(message, inner)
{
    /// <summary>This exception in <paramref name="error"/> or its inner chain (a task's failure wraps it), or null.</summary>
    public static StorageUnavailableException? In(Exception? error)
    {
        for (var e = error; e is not null; e = e.InnerException)
        {
            if (e is StorageUnavailableException unavailable)
            {
                return unavailable;
            }
        }

        return null;
    }
}
