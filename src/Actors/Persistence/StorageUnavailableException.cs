namespace LuaActors.Persistence;

/// <summary>
/// The database of desired state did not take a write or answer a read in time: nothing was
/// written. Requests that need it answer <see cref="Messages.ErrorKind.StorageUnavailable"/>.
/// </summary>
public sealed class StorageUnavailableException(string message, Exception? inner = null) : Exception(message, inner);
