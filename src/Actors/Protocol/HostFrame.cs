using System.Buffers;

namespace LuaActors.Protocol;

/// <summary>
/// One encoded host→VM frame, header and payload in one buffer (so it is one write to the pipe).
/// The buffer is rented from <see cref="ArrayPool{T}.Shared"/>: whoever writes the frame calls
/// <see cref="Release"/> once, after the write. A frame that is dropped unwritten needs nothing
/// (the garbage collector takes the buffer).
/// </summary>
public readonly struct HostFrame
{
    private readonly byte[] _buffer;

    internal HostFrame(byte[] buffer, int length, uint id)
    {
        _buffer = buffer;
        Length = length;
        Id = id;
    }

    public int Length { get; }

    /// <summary>The header's id: the request's, or the wait or call a 'D' or 'A' answers.</summary>
    public uint Id { get; }

    public FrameOp Op => (FrameOp)_buffer[0];

    public ReadOnlySpan<byte> Span => _buffer.AsSpan(0, Length);

    public ReadOnlyMemory<byte> Memory => _buffer.AsMemory(0, Length);

    /// <summary>Gives the buffer back to the pool; the frame must not be used after this.</summary>
    public void Release()
    {
        if (_buffer is not null)
        {
            ArrayPool<byte>.Shared.Return(_buffer);
        }
    }

    /// <summary>A copy of the bytes (tests and tools; the pipeline writes <see cref="Span"/>).</summary>
    public byte[] ToArray() => Span.ToArray();
}
