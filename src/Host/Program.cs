using LuaActors.Host;

return args.Length == 0 || args[0] is "-h" or "--help" or "help"
    ? Usage.Print(Console.Out, 0)
    : args[0] switch
    {
        "eval" => await EvalCommand.RunAsync(args[1..]),
        "node" => await NodeCommand.RunAsync(args[1..], Environment.GetEnvironmentVariable),
        "vm" => await VmClientCommands.RunAsync(args[1..], Environment.GetEnvironmentVariable),
        "cluster" => await ClusterCommand.RunAsync(args[1..], Environment.GetEnvironmentVariable),
        "attach" => await AttachCommand.RunAsync(args[1..], Environment.GetEnvironmentVariable),
        "group" => await GroupClientCommands.RunAsync(args[1..], Environment.GetEnvironmentVariable),
        "publish" => await MessageClientCommands.PublishAsync(args[1..], Environment.GetEnvironmentVariable),
        "doctor" => await DoctorCommand.RunAsync(args[1..]),
        _ => Usage.Fail($"unknown command '{args[0]}'"),
    };
