using System.Text;
using LuaActors.Messages;
using LuaActors.Protocol;

namespace LuaActors.UnitTests.Protocol;

/// <summary>The storage- call ops of 'M' frames and their answers (docs/protocol.md §11.9).</summary>
public sealed class StorageFramesTests
{
    [Fact]
    public void Documented_storage_calls_decode()
    {
        Assert.Equal(new StorageCall(3, StorageOp.Set, "score", "{\"alice\":3}"),
            VmFrames.Decode(WireText.Bytes(@"M0000000300000021\nstorage-set 5 11\nscore{""alice"":3}")));
        Assert.Equal(new StorageCall(4, StorageOp.Get, "score", ""), VmFrames.Decode(WireText.Bytes(@"M0000000400000015\nstorage-get 5 0\nscore")));
        Assert.Equal(new StorageCall(5, StorageOp.Keys, "", ""), VmFrames.Decode(WireText.Bytes(@"M0000000500000011\nstorage-keys 0 0\n")));
    }

    [Fact]
    public void Other_ops_stay_message_calls()
    {
        Assert.IsType<MessageCall>(VmFrames.Decode(WireText.Bytes(@"M0000000600000011\nstorage-drop 0 0\n")));
        Assert.IsType<MessageCall>(VmFrames.Decode(WireText.Bytes(@"M000000070000000a\nsend 1 0\nx")));
    }

    [Fact]
    public void Every_op_has_its_wire_name()
    {
        foreach (var op in Enum.GetValues<StorageOp>())
        {
            Assert.True(StorageCalls.TryParseOp(Encoding.ASCII.GetBytes(op.WireName()), out var parsed));
            Assert.Equal(op, parsed);
        }
    }

    [Fact]
    public void A_commit_keeps_each_value_as_the_vm_encoded_it()
    {
        var changes = StorageCalls.ParseCommit("[[\"a\",1.0],[\"b\"],[\"c\",{\"x\":[1,2.5]}]]", out var problem);
        Assert.Null(problem);
        Assert.Equal([new StorageChange("a", "1.0"), new StorageChange("b", null), new StorageChange("c", "{\"x\":[1,2.5]}")], changes!);
        Assert.Empty(StorageCalls.ParseCommit("{}", out _)!);
    }

    [Theory]
    [InlineData("[1]")]
    [InlineData("[[1,2]]")]
    [InlineData("[[\"a\",1,2]]")]
    [InlineData("{\"a\":1}")]
    [InlineData("[[\"a\"")]
    public void A_malformed_commit_is_refused(string json)
    {
        Assert.Null(StorageCalls.ParseCommit(json, out var problem));
        Assert.False(string.IsNullOrEmpty(problem));
    }

    [Fact]
    public void Answers_are_a_frames()
    {
        var (op, id, payload) = WireText.Split(HostFrames.StorageAnswer(9, null).Span);
        Assert.Equal((FrameOp.Answer, 9u, "ok\nnull"), (op, id, Encoding.UTF8.GetString(payload)));
        (_, _, payload) = WireText.Split(HostFrames.StorageError(9, "storage-limit", "too big").Span);
        Assert.Equal("error\nstorage-limit: too big", Encoding.UTF8.GetString(payload));
    }
}
