using System.CommandLine;
using LuaActors.Api;
using LuaActors.Messages;

namespace LuaActors.Host.Cli;

/// <summary><c>luaactors eval</c>: one fresh VM on an embedded single-node system, one chunk, exit.</summary>
internal static class EvalCommand
{
    public static Command Create()
    {
        var timeoutMs = CliOptions.PositiveInt("--timeout-ms", "time limit of the code (default luaactors.vm.default-timeout)");
        var memoryMb = CliOptions.PositiveInt("--memory-mb", "Lua heap limit of the VM (default luaactors.vm.memory-limit)");
        var type = new Option<string>("--type") { Description = "VM type", HelpName = "T", DefaultValueFactory = _ => "basic" };
        var config = CliOptions.ConfigEntries("a config entry of the VM type (repeatable)");
        var file = CliOptions.CodeFile();
        // Zero or more: two CODE arguments get their own message (the code was not quoted).
        var code = new Argument<string[]>("CODE") { Description = "the Lua chunk to run (or -f FILE)", Arity = ArgumentArity.ZeroOrMore };
        var command = new Command("eval", "run CODE in a fresh VM and print its output and result")
        {
            code, file, timeoutMs, memoryMb, type, config,
        };
        command.Validators.Add(result =>
        {
            var codes = result.GetValue(code) ?? [];
            if (codes.Length > 1)
            {
                result.AddError("more than one CODE argument (quote the code)");
            }
            else if ((codes.Length == 1) == (result.GetResult(file) is not null))
            {
                result.AddError("eval needs the code: either CODE or -f FILE");
            }
        });
        command.SetAction(async result =>
        {
            string source;
            try
            {
                source = result.GetValue(file) is { } path ? await ClientCommandLine.ReadFileAsync(path) : result.GetValue(code)![0];
            }
            catch (ArgumentException e)
            {
                return CliErrors.PrintUsage(Console.Error, new UsageProblem(e.Message, command, []), json: false);
            }

            return await EvaluateAsync(source, new VmOptions
            {
                Type = result.GetValue(type)!,
                Config = CliOptions.ConfigOf(result, config),
                Limits = new VmLimits(result.GetValue(timeoutMs), result.GetValue(memoryMb)),
            });
        });
        return CliHelp.Document(
            command,
            """
            eval starts a single-node system in this process (no node needed), runs the code in a new VM
            and exits. It prints what the code printed, then its result as JSON: one value as itself,
            several as a JSON array, none as nothing. Exit codes: 0 ok, 1 Lua or VM error (kind and
            message on stderr), 2 bad arguments.
            """,
            "luaactors eval 'return 1, \"two\", {3}'      # [1,\"two\",[3]]",
            "luaactors eval -f script.lua --timeout-ms 500",
            "echo 'return 6 * 7' | luaactors eval -f -",
            "luaactors eval -- '-- a chunk that starts with a comment'");
    }

    private static async Task<int> EvaluateAsync(string code, VmOptions options)
    {
        await using var manager = await VmManager.StartAsync(new VmManagerOptions
        {
            SystemName = "luaactors-eval",
            Config = """
                akka.loglevel = ERROR
                akka.stdout-loglevel = OFF
                akka.loggers = ["LuaActors.Host.StderrLogger, luaactors"]
                # One VM, one run: a spare process would only be started to be killed.
                luaactors.vm-types.basic.spare-processes = 0
                """,
        });
        try
        {
            var vm = await manager.CreateVmAsync("eval", options);
            var result = await vm.ExecuteAsync(code);
            await ResultPrinter.PrintResultAsync(result.Count, result.ValuesJson, result.Output);
            return 0;
        }
        catch (LuaException e)
        {
            await ResultPrinter.PrintLuaErrorAsync(ApiJson.Name(e.Kind), e.LuaMessage, e.Traceback, e.Output);
            return 1;
        }
        catch (LuaActorsException e)
        {
            Console.Error.WriteLine($"{ApiJson.Name(e.Kind)}: {e.Message}");
            return 1;
        }
    }
}
