using System.Text;
using LuaActors.Messages;
using LuaActors.Protocol;
using LuaActors.Storage;
using LuaActors.UnitTests.Protocol;
using LuaActors.UnitTests.Vm;

namespace LuaActors.UnitTests.Storage;

/// <summary>The calls that wait for a VM's storage: what each call asks, what its answer or failure becomes.</summary>
public sealed class StorageWaitsTests
{
    private readonly RecordingRef _remover = new("remover");

    private static string Answer(HostFrame? frame)
    {
        Assert.NotNull(frame);
        var (op, id, payload) = WireText.Split(frame.Value.Span);
        Assert.Equal(FrameOp.Answer, op);
        return $"{id} {Encoding.UTF8.GetString(payload)}";
    }

    [Fact]
    public void Each_storage_call_asks_the_storage_actor_the_matching_question()
    {
        var waits = new StorageWaits("vm1");
        var get = waits.Plan(new StorageCall(1, StorageOp.Get, "k", ""));
        Assert.Equal((StorageWaitKind.LuaRead, new StorageActor.Read(7, "k")), (get.Kind, get.Request!(7)));
        var keys = waits.Plan(new StorageCall(2, StorageOp.Keys, "", ""));
        Assert.Equal((StorageWaitKind.LuaRead, new StorageActor.ListKeys(8, "")), (keys.Kind, keys.Request!(8)));

        var set = waits.Plan(new StorageCall(3, StorageOp.Set, "k", "1"));
        Assert.Equal(StorageWaitKind.LuaWrite, set.Kind);
        Assert.Equal([new StorageChange("k", "1")], ((StorageActor.Write)set.Request!(9)).Changes);
        var delete = waits.Plan(new StorageCall(4, StorageOp.Delete, "k", ""));
        Assert.Equal([new StorageChange("k", null)], ((StorageActor.Write)delete.Request!(10)).Changes);
        var commit = waits.Plan(new StorageCall(5, StorageOp.Commit, "", "[[\"a\",1],[\"b\"]]"));
        Assert.Equal([new StorageChange("a", "1"), new StorageChange("b", null)], ((StorageActor.Write)commit.Request!(11)).Changes);
        Assert.All([get, keys, set, delete, commit], plan => Assert.Null(plan.AnswerNow));
    }

    [Fact]
    public void A_malformed_or_empty_call_is_answered_at_once_without_the_storage_actor()
    {
        var waits = new StorageWaits("vm1");
        Assert.Equal("1 error\nstorage-invalid: a storage-get call needs a key", Answer(waits.Plan(new StorageCall(1, StorageOp.Get, "", "")).AnswerNow));
        Assert.Equal("2 error\nstorage-invalid: a storage-set call needs a key and a value",
            Answer(waits.Plan(new StorageCall(2, StorageOp.Set, "k", "")).AnswerNow));
        Assert.StartsWith("3 error\nstorage-invalid: ", Answer(waits.Plan(new StorageCall(3, StorageOp.Commit, "", "[1]")).AnswerNow), StringComparison.Ordinal);
        Assert.Equal("4 ok\n", Answer(waits.Plan(new StorageCall(4, StorageOp.Commit, "", "{}")).AnswerNow));
        Assert.Equal(0, waits.Count);
    }

    [Fact]
    public void Waits_are_taken_once_by_id_and_all_at_once_oldest_first()
    {
        var waits = new StorageWaits("vm1");
        var read = new StorageWait(StorageWaitKind.LuaRead, 1, 10, null);
        var write = new StorageWait(StorageWaitKind.LuaWrite, 1, 11, null);
        var reader = new StorageWait(StorageWaitKind.Reader, 0, 0, _remover);
        var (a, b, c) = (waits.Add(read), waits.Add(write), waits.Add(reader));
        Assert.Equal([1L, 2L, 3L], new[] { a, b, c });
        Assert.Same(write, waits.Take(b));
        Assert.Null(waits.Take(b));
        Assert.Equal([read, reader], waits.TakeAll());
        Assert.Equal(0, waits.Count);
        Assert.Equal(4, waits.Add(read));
    }

    [Fact]
    public void Answers_go_to_lua_calls_as_frames_and_failures_to_whoever_asked()
    {
        var waits = new StorageWaits("vm1");
        Assert.Equal("10 ok\n\"v\"", Answer(StorageWaits.Answered(new StorageWait(StorageWaitKind.LuaRead, 1, 10, null), "\"v\"")));
        Assert.Equal("10 ok\nnull", Answer(StorageWaits.Answered(new StorageWait(StorageWaitKind.LuaRead, 1, 10, null), null)));
        Assert.Equal("11 ok\n", Answer(StorageWaits.Answered(new StorageWait(StorageWaitKind.LuaWrite, 1, 11, null), null)));

        var lua = waits.Failed(new StorageWait(StorageWaitKind.LuaWrite, 1, 11, null), "storage-unavailable", "down");
        Assert.Equal("11 error\nstorage-unavailable: down", Answer(lua.ToProcess));
        Assert.Null(lua.ToReplyTo);

        var reader = waits.Failed(new StorageWait(StorageWaitKind.Reader, 0, 0, _remover), "storage-unavailable", "down");
        Assert.Null(reader.ToProcess);
        Assert.Equal(ErrorKind.StorageUnavailable, reader.ToReplyTo!.Kind);
        Assert.Equal("the storage of VM 'vm1' cannot be read: down", reader.ToReplyTo.Message);
    }

    [Fact]
    public void While_the_removal_erases_the_storage_writes_are_refused_until_the_erasure_fails()
    {
        var waits = new StorageWaits("vm1");
        var eraser = new StorageWait(StorageWaitKind.Eraser, 0, 0, _remover);
        waits.Add(eraser);
        Assert.True(waits.Erasing);
        Assert.Equal("5 error\nstorage-unavailable: VM 'vm1' is being removed",
            Answer(waits.Plan(new StorageCall(5, StorageOp.Set, "k", "1")).AnswerNow));

        var failed = waits.Failed(eraser, "storage-unavailable", "journal down");
        Assert.False(failed.RemoveSpecAnyway);
        Assert.Equal("VM 'vm1' was not removed: its storage could not be deleted: journal down", failed.ToReplyTo!.Message);
        Assert.False(waits.Erasing);
        Assert.Null(waits.Plan(new StorageCall(6, StorageOp.Set, "k", "1")).AnswerNow);
    }

    [Fact]
    public void A_failed_create_removes_its_spec_even_when_the_storage_was_not_erased()
    {
        var waits = new StorageWaits("vm1");
        var creationFailure = new RequestFailed("vm1", ErrorKind.InitFailed, "boom");
        var eraser = new StorageWait(StorageWaitKind.Eraser, 0, 0, _remover, creationFailure);
        waits.Add(eraser);
        var failed = waits.Failed(eraser, "storage-unavailable", "journal down");
        Assert.True(failed.RemoveSpecAnyway);
        Assert.Null(failed.ToReplyTo);
        Assert.True(waits.Erasing);
    }
}
