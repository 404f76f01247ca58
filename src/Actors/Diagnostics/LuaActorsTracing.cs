using System.Diagnostics;
using LuaActors.Messages;

namespace LuaActors.Diagnostics;

/// <summary>
/// The <c>LuaActors</c> activity source (docs/operations.md, "Traces"). An execute is two spans:
/// <c>luaactors.execute</c> (client) where it is asked, a child of whatever span is current
/// there (the HTTP request's), and <c>luaactors.vm.execute</c> (server) in the VM's actor on
/// whichever node runs the VM, from the moment it goes to the process until its reply. The
/// client's W3C context travels inside the <see cref="Execute"/> message
/// (<see cref="Execute.Trace"/>), because actor messages carry no ambient context across nodes.
/// </summary>
public static class LuaActorsTracing
{
    public const string SourceName = "LuaActors";

    public const string ExecuteSpan = "luaactors.execute";

    public const string VmExecuteSpan = "luaactors.vm.execute";

    internal static readonly ActivitySource Source = new(SourceName, typeof(LuaActorsTracing).Assembly.GetName().Version?.ToString());

    /// <summary>The caller's span for one execute, or null when nobody listens.</summary>
    public static Activity? StartExecute(string vmId, ExecuteMode mode)
    {
        var activity = Source.StartActivity(ExecuteSpan, ActivityKind.Client);
        activity?.SetTag(LuaActorsMetrics.VmIdTag, vmId);
        activity?.SetTag("luaactors.execute.mode", mode == ExecuteMode.Repl ? "repl" : "chunk");
        return activity;
    }

    /// <summary>The current span's context as the message field, or null when there is none.</summary>
    public static TraceContext? Current() =>
        Activity.Current is { IdFormat: ActivityIdFormat.W3C, Id: { } id } current ? new TraceContext(id, current.TraceStateString) : null;

    /// <summary>Marks <paramref name="activity"/> failed with the error kind the VM answered (or the exception's type).</summary>
    public static void Failed(Activity? activity, Exception error)
    {
        if (activity is null)
        {
            return;
        }

        activity.SetStatus(ActivityStatusCode.Error, error.Message);
        activity.SetTag("error.type", error is Api.LuaActorsException lua ? LuaActorsMetrics.ErrorType(lua.Kind) : error.GetType().FullName);
    }

    /// <summary>
    /// The server span of an execute in the VM's actor, continuing <paramref name="parent"/>
    /// (the message's context); a root span when it has none or a malformed one.
    /// </summary>
    internal static Activity? StartVmExecute(string vmId, string vmType, TraceContext? parent)
    {
        if (!Source.HasListeners())
        {
            return null;
        }

        ActivityContext.TryParse(parent?.TraceParent, parent?.TraceState, isRemote: true, out var context);
        var activity = Source.StartActivity(VmExecuteSpan, ActivityKind.Server, context);
        activity?.SetTag(LuaActorsMetrics.VmIdTag, vmId);
        activity?.SetTag(LuaActorsMetrics.VmTypeTag, vmType);
        return activity;
    }
}
