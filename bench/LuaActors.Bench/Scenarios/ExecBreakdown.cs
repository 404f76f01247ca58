using System.Diagnostics;
using Akka.Actor;
using Akka.Configuration;
using LuaActors.Api;
using LuaActors.Backends;
using LuaActors.Bench.Shared;
using LuaActors.Messages;
using LuaActors.Process;

namespace LuaActors.Bench.Scenarios;

/// <summary>
/// Where an execute's time goes: the same sequential <c>return 1+1</c> (or a no-op message)
/// through a ladder of paths, from the bare pipes up to the embedding API, interleaved in
/// rounds. The differences between rungs price each layer: async pipe I/O, the library's
/// process pumps (CliWrap) and one actor, an Akka ask, the manager's forward, the VM actor.
/// </summary>
internal sealed class ExecBreakdown : IScenario
{
    private const string Code = "return 1+1";
    private const int RoundSize = 500;

    public string Name => "exec-breakdown";

    public string Description => "latency ladder: which layer of the actors path costs what (for profiling)";

    public async Task RunAsync(BenchContext context)
    {
        var rounds = context.Size(2, 10);
        await using var manager = await context.StartManagerAsync();
        var system = manager.System;
        var vm = await manager.CreateVmAsync("breakdown");
        var vmActor = await system.ActorSelection("/user/vm-manager/vm-breakdown-*").ResolveOne(TimeSpan.FromSeconds(5));
        var echo = system.ActorOf(Props.Create(() => new Echo()), "bench-echo");
        var forwarder = system.ActorOf(Props.Create(() => new Forwarder(echo)), "bench-forwarder");
        var slot = new ReplySlot();
        var owner = system.ActorOf(Props.Create(() => new InstanceOwner(slot)), "bench-instance-owner");
        var backend = new ProcessBackend("basic", ConfigurationFactory.ParseString("executable = lua5.4"));
        var instance = await backend.StartAsync(new InstanceStart("breakdown-pumps", 1, owner, 128L << 20));
        using var floorSync = HostProcess.Start();
        using var floorAsync = HostProcess.Start();
        var ping = new PingVm("echo");
        var execute = new Execute("breakdown", Code);
        uint pumpId = 0;
        var askTimeout = TimeSpan.FromSeconds(65);

        var rungs = new (string Label, Func<Task> Call)[]
        {
            ("1 floor: blocking write+read on the caller's thread", () =>
            {
                floorSync.Execute(Code);
                return Task.CompletedTask;
            }),
            ("2 floor, async: await WriteAsync + ReadAsync", async () =>
            {
                var id = floorAsync.NextId();
                await floorAsync.WriteAsync(HostProcess.ExecFrame(id, Code));
                await floorAsync.ReadFrameAsync();
            }),
            ("3 library pumps (LuaProcess/CliWrap) + 1 actor, no ask", async () =>
            {
                var reply = slot.Arm();
                instance.Send(HostProcess.ExecFrame(++pumpId, Code));
                await reply;
            }),
            ("4 Akka ask to an echo actor (no process)", () => echo.Ask<object>(ping, askTimeout)),
            ("5 ask through a forwarding actor (the manager's hop)", () => forwarder.Ask<object>(ping, askTimeout)),
            ("6 ask the VM actor directly (Execute)", () => vmActor.Ask<object>(execute, askTimeout)),
            ("7 VmManager.ExecuteAsync (the embedding API)", () => vm.ExecuteAsync(Code)),
        };

        BenchContext.Say("warming up...");
        foreach (var rung in rungs)
        {
            await BenchContext.WarmUpAsync(context.Size(TimeSpan.FromMilliseconds(300), TimeSpan.FromSeconds(1)), 2_000, rung.Call);
        }

        var samples = rungs.Select(_ => new Samples(rounds * RoundSize)).ToArray();
        var switches = new long[rungs.Length];
        BenchContext.Say($"measuring: {rounds} rounds of {RoundSize} calls per rung...");
        for (var round = 0; round < rounds; round++)
        {
            for (var k = 0; k < rungs.Length; k++)
            {
                var r = (k + round) % rungs.Length;
                var switchesBefore = ContextSwitches.OfThisProcess();
                for (var i = 0; i < RoundSize; i++)
                {
                    var started = Stopwatch.GetTimestamp();
                    await rungs[r].Call();
                    samples[r].AddSince(started);
                }

                switches[r] += ContextSwitches.OfThisProcess() - switchesBefore;
            }
        }

        instance.Kill();
        var table = new Table("exec-breakdown: one call at a time (µs; context switches of this process per call)",
            "rung", "samples", "p50", "p90", "p99", "mean", "switches/call");
        for (var r = 0; r < rungs.Length; r++)
        {
            var perCall = switches[r] / (double)samples[r].Count;
            table.Row(rungs[r].Label, samples[r].Count, samples[r].PercentileUs(50), samples[r].PercentileUs(90), samples[r].PercentileUs(99), samples[r].MeanUs(), perCall);
            context.Set($"breakdown_{r + 1}_switches_per_call", perCall);
            context.Set($"breakdown_{r + 1}_p50_us", samples[r].PercentileUs(50));
        }

        table.Print();
    }

    private sealed class ReplySlot
    {
        private TaskCompletionSource? _waiting;

        public Task Arm()
        {
            var tcs = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            Volatile.Write(ref _waiting, tcs);
            return tcs.Task;
        }

        public void Complete() => Interlocked.Exchange(ref _waiting, null)?.TrySetResult();
    }

    /// <summary>Owns an instance like the VM actor does, minus everything but the reply.</summary>
    private sealed class InstanceOwner : ReceiveActor
    {
        public InstanceOwner(ReplySlot slot)
        {
            Receive<InstanceFrameReceived>(_ => slot.Complete());
            ReceiveAny(_ => { });
        }
    }

    private sealed class Echo : ReceiveActor
    {
        public Echo() => ReceiveAny(message => Sender.Tell(message));
    }

    private sealed class Forwarder : ReceiveActor
    {
        public Forwarder(IActorRef target) => ReceiveAny(target.Forward);
    }
}
