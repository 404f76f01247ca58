using LuaActors.Api;
using LuaActors.Messages;

namespace LuaActors.Host;

/// <summary><c>luaactors eval</c>: one fresh VM on an embedded single-node system, one chunk, exit.</summary>
internal static class EvalCommand
{
    public static async Task<int> RunAsync(string[] args)
    {
        int? timeoutMs = null, memoryMb = null;
        string type = "basic";
        string? code = null, file = null;
        var config = new Dictionary<string, string>();
        for (var i = 0; i < args.Length; i++)
        {
            var arg = args[i];
            string Next() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{arg} needs a value");
            try
            {
                switch (arg)
                {
                    case "--timeout-ms":
                        timeoutMs = PositiveInt(arg, Next());
                        break;
                    case "--memory-mb":
                        memoryMb = PositiveInt(arg, Next());
                        break;
                    case "--type":
                        type = Next();
                        break;
                    case "--config":
                        var entry = Next().Split('=', 2);
                        if (entry.Length != 2 || entry[0].Length == 0)
                        {
                            throw new ArgumentException("--config takes KEY=VALUE");
                        }

                        config[entry[0]] = entry[1];
                        break;
                    case "-f" or "--file":
                        file = Next();
                        break;
                    case "-h" or "--help":
                        return Usage.Print(Console.Out, 0);
                    case "--":
                        code = i + 1 < args.Length && i + 2 == args.Length ? args[++i] : throw new ArgumentException("one CODE argument after --");
                        break;
                    default:
                        if (arg.StartsWith('-') && arg.Length > 1)
                        {
                            throw new ArgumentException($"unknown option '{arg}'");
                        }

                        code = code is null ? arg : throw new ArgumentException("more than one CODE argument (quote the code)");
                        break;
                }
            }
            catch (ArgumentException e)
            {
                return Usage.Fail(e.Message);
            }
        }

        if ((code is null) == (file is null))
        {
            return Usage.Fail("eval needs the code: either CODE or -f FILE");
        }

        if (file is not null)
        {
            try
            {
                code = file == "-" ? await Console.In.ReadToEndAsync() : await File.ReadAllTextAsync(file);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                return Usage.Fail($"cannot read {file}: {e.Message}");
            }
        }

        return await EvaluateAsync(code!, new VmOptions
        {
            Type = type,
            Config = config,
            Limits = new VmLimits(timeoutMs, memoryMb),
        });
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

    private static int PositiveInt(string option, string value) =>
        int.TryParse(value, out var number) && number > 0
            ? number
            : throw new ArgumentException($"{option} needs a positive whole number (got '{value}')");
}
