namespace LuaActors.Tests.Support;

/// <summary>
/// Test classes that start many `dotnet` processes (the CLI, node processes, the three-node
/// script) run one after another, not all at once beside the rest of the suite: on 2 cores,
/// together they starve the timing-sensitive tests.
/// </summary>
[CollectionDefinition(Name)]
public sealed class ProcessHeavyCollection
{
    public const string Name = "process-heavy";
}
