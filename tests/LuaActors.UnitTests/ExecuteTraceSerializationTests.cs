using System.Text;
using Akka.Actor;
using LuaActors.Configuration;
using LuaActors.Messages;
using LuaActors.Messages.Serialization;

namespace LuaActors.UnitTests;

/// <summary>
/// The trace context rides in <see cref="Execute"/> between nodes; an execute from a node that
/// predates the field (no "Trace" in its JSON) still reads, with no context.
/// </summary>
public sealed class ExecuteTraceSerializationTests : IDisposable
{
    private const string TraceParent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";

    private readonly ActorSystem _system = ActorSystem.Create("trace-serialization", LuaActorsConfig.Default);

    public void Dispose() => _system.Terminate().Wait(TimeSpan.FromSeconds(10));

    [Fact]
    public void The_trace_context_crosses_the_serializer()
    {
        var serializer = Serializer();
        var sent = new Execute("vm1", "return 1", Trace: new TraceContext(TraceParent, "vendor=x"));
        var back = (Execute)serializer.FromBinary(serializer.ToBinary(sent), serializer.Manifest(sent));
        Assert.Equal(new TraceContext(TraceParent, "vendor=x"), back.Trace);
        Assert.Equal(sent, back);
    }

    [Fact]
    public void An_execute_without_the_field_reads_with_no_context()
    {
        // As a node without the field writes it.
        var old = """{"VmId":"vm1","Code":"return 1","Mode":"Chunk","TimeoutMs":null,"MemoryMb":null}""";
        var back = (Execute)Serializer().FromBinary(Encoding.UTF8.GetBytes(old), nameof(Execute));
        Assert.Equal(new Execute("vm1", "return 1"), back);
        Assert.Null(back.Trace);
    }

    private LuaActorsSerializer Serializer() => (LuaActorsSerializer)_system.Serialization.FindSerializerForType(typeof(Execute));
}
