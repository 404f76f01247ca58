using System.Collections.Concurrent;
using Akka.Actor;
using LuaActors.Configuration;
using LuaActors.Messages;

namespace LuaActors.Api;

/// <summary>
/// How an execute reaches its VM. The first one goes through the <see cref="Manager"/> (and, in
/// a cluster, the shard region); the VM's actor answers it, and when that actor lives in this
/// actor system the next executes go to it directly: no manager, region or shard mailbox in
/// between, which is most of the actor hops of a call (docs/performance.md, "The service path").
/// A direct send that finds the actor gone (stopped, passivated, removed, handing its VM over to
/// another node) comes back undelivered or not-found; it is forgotten and the request goes the
/// long way, which knows where the VM is now.
/// </summary>
public sealed partial class VmManager
{
    /// <summary>VM id → the local actor that answered its last execute.</summary>
    private readonly ConcurrentDictionary<string, IActorRef> _localVms = new(StringComparer.Ordinal);

    private SizeLimits? _sizeLimits;
    private int _learned;

    /// <summary>After how many actors learned the ones that stopped are forgotten (a VM removed from another node leaves one).</summary>
    private const int PruneEvery = 1024;

    /// <summary>Sends <paramref name="execute"/> and returns the reply (Executed or RequestFailed).</summary>
    private async Task<object> SendExecuteAsync(Execute execute, TimeSpan timeout, CancellationToken cancellationToken)
    {
        if (_localVms.TryGetValue(execute.VmId, out var vm))
        {
            // The manager's check, here: a VM answers alike whichever way the request came.
            _sizeLimits ??= SizeLimits.Of(System);
            if (_sizeLimits.CheckRequest(execute) is { } tooLarge)
            {
                return tooLarge;
            }

            var direct = await ReplyOnce.SendAsync(System, vm, execute, timeout, register: false, cancellationToken).ConfigureAwait(false);
            if (direct.Message is not RequestFailed { Undelivered: true } and not RequestFailed { Kind: ErrorKind.NotFound })
            {
                return direct.Message;
            }

            // Gone, or no longer that VM: ask the way that knows.
            _localVms.TryRemove(new KeyValuePair<string, IActorRef>(execute.VmId, vm));
        }

        var reply = await ReplyOnce.SendAsync(System, Manager, execute, timeout, register: true, cancellationToken).ConfigureAwait(false);
        if (reply.Message is Executed && reply.Sender is IActorRefScope { IsLocal: true } && !reply.Sender.IsNobody())
        {
            _localVms[execute.VmId] = reply.Sender;
            if (Interlocked.Increment(ref _learned) % PruneEvery == 0)
            {
                Prune();
            }
        }

        return reply.Message;
    }

    /// <summary>A stopped actor's entry would keep the actor's memory for good.</summary>
    private void Prune()
    {
        foreach (var (vmId, actor) in _localVms)
        {
            if (actor is ActorRefWithCell { Underlying.IsTerminated: true })
            {
                _localVms.TryRemove(new KeyValuePair<string, IActorRef>(vmId, actor));
            }
        }
    }

    /// <summary>Forgets where <paramref name="vmId"/> ran (it was removed).</summary>
    private void ForgetLocalVm(string vmId) => _localVms.TryRemove(vmId, out _);

    /// <summary>
    /// The sender of one request: completes with the first reply and who sent it (the VM's actor,
    /// which <c>Ask</c> does not tell). Registered as a temporary actor only when the reply may
    /// come from another node, which finds it by its path.
    /// </summary>
    private sealed class ReplyOnce : MinimalActorRef
    {
        private readonly TaskCompletionSource<(object Message, IActorRef Sender)> _reply =
            new(TaskCreationOptions.RunContinuationsAsynchronously);

        private ReplyOnce(IActorRefProvider provider)
        {
            Provider = provider;
            Path = provider.TempPath();
        }

        public override ActorPath Path { get; }

        public override IActorRefProvider Provider { get; }

        public static async Task<(object Message, IActorRef Sender)> SendAsync(
            ActorSystem system, IActorRef to, object message, TimeSpan timeout, bool register, CancellationToken cancellationToken)
        {
            var provider = ((ExtendedActorSystem)system).Provider;
            var reply = new ReplyOnce(provider);
            if (register)
            {
                provider.RegisterTempActor(reply, reply.Path);
            }

            try
            {
                to.Tell(message, reply);
                return await reply._reply.Task.WaitAsync(timeout, cancellationToken).ConfigureAwait(false);
            }
            catch (TimeoutException)
            {
                // What Ask throws: the HTTP API answers it 504 no-answer.
                throw new AskTimeoutException($"Timeout after {timeout} seconds");
            }
            finally
            {
                if (register)
                {
                    provider.UnregisterTempActor(reply.Path);
                }
            }
        }

        protected override void TellInternal(object message, IActorRef sender) =>
            _reply.TrySetResult((message, sender ?? ActorRefs.Nobody));
    }
}
