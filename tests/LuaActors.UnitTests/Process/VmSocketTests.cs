using System.Collections.Concurrent;
using System.Net.Sockets;
using System.Text;
using LuaActors.Process;
using LuaActors.Protocol;

namespace LuaActors.UnitTests.Process;

/// <summary>
/// <see cref="VmSocket"/> on a real connected pair of Unix stream sockets, the peer standing in for
/// the VM process: replies cut into frames whatever pieces they arrive in, requests larger than
/// the socket's buffer written whole and in order, end of file both ways.
/// </summary>
public sealed class VmSocketTests : IDisposable
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    private readonly string _path = Path.Combine(Path.GetTempPath(), $"vmsocket-{Guid.NewGuid():N}.sock");
    private readonly Socket _ours;
    private readonly Socket _vm;
    private readonly BlockingCollection<VmFrame> _frames = [];
    private readonly BlockingCollection<string> _errors = [];

    public VmSocketTests()
    {
        using var listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        listener.Bind(new UnixDomainSocketEndPoint(_path));
        listener.Listen(1);
        _vm = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        _vm.Connect(new UnixDomainSocketEndPoint(_path));
        _ours = listener.Accept();
    }

    public void Dispose()
    {
        _vm.Dispose();
        _ours.Dispose();
        File.Delete(_path);
    }

    private VmSocket Start() => new(_ours.SafeHandle, _frames.Add, _errors.Add);

    private static byte[] OkFrame(uint id, string text)
    {
        var payload = Encoding.UTF8.GetBytes(text);
        return Encoding.ASCII.GetBytes($"K{id:x8}{payload.Length:x8}\n").Concat(payload).ToArray();
    }

    private OkReply NextReply()
    {
        Assert.True(_frames.TryTake(out var frame, Patience), "no frame arrived");
        return Assert.IsType<OkReply>(frame);
    }

    [Fact]
    public async Task Replies_are_cut_into_frames_whatever_pieces_they_arrive_in()
    {
        var socket = Start();
        var big = new string('x', 200_000); // larger than one read: kept across reads
        var bytes = OkFrame(1, "one").Concat(OkFrame(2, big)).Concat(OkFrame(3, "three")).ToArray();
        // A header split, a payload split, two frames in one piece.
        foreach (var (start, length) in new[] { (0, 7), (7, 20), (27, 100_000), (100_027, bytes.Length - 100_027) })
        {
            _vm.Send(bytes.AsSpan(start, length));
            await Task.Delay(20); // (pieces, not a timing assertion: the order is what is checked)
        }

        var first = NextReply();
        Assert.Equal((1u, "one"), (first.Id, first.Text));
        var second = NextReply();
        Assert.Equal((2u, big.Length), (second.Id, second.Text.Length));
        var third = NextReply();
        Assert.Equal((3u, "three"), (third.Id, third.Text));

        _vm.Shutdown(SocketShutdown.Send);
        await socket.Ended.WaitAsync(Patience);
        Assert.Empty(_errors);
    }

    [Fact]
    public async Task Requests_larger_than_the_socket_buffer_arrive_whole_and_in_order_then_end_of_file()
    {
        var socket = Start();
        var code = new string('y', 3 * 1024 * 1024);
        socket.Send(HostFrames.Execute(1, 1000, 0, code));
        socket.Send(HostFrames.Ping(2)); // queued behind the large one, not written before it
        socket.ShutdownWrite();          // after both: the peer reads them, then end of file

        var received = new MemoryStream();
        var buffer = new byte[64 * 1024];
        await Task.Run(() =>
        {
            int n;
            while ((n = _vm.Receive(buffer)) > 0)
            {
                received.Write(buffer, 0, n);
            }
        }).WaitAsync(Patience);

        var expected = HostFrames.Execute(1, 1000, 0, code).ToArray().Concat(HostFrames.Ping(2).ToArray()).ToArray();
        Assert.Equal(expected.Length, received.Length);
        Assert.True(expected.AsSpan().SequenceEqual(received.ToArray()), "the bytes differ");

        _vm.Shutdown(SocketShutdown.Send);
        await socket.Ended.WaitAsync(Patience);
    }

    [Fact]
    public async Task A_malformed_header_is_a_protocol_error_and_ends_the_socket()
    {
        var socket = Start();
        _vm.Send(Encoding.ASCII.GetBytes("K0000000100000002\nhiGARBAGE-NOT-A-HEADER!"));
        Assert.Equal(1u, NextReply().Id);
        await socket.Ended.WaitAsync(Patience);
        Assert.True(_errors.TryTake(out var error, Patience));
        Assert.Contains("malformed frame header", error, StringComparison.Ordinal);
    }
}
