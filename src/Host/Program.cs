using LuaActors.Host.Cli;

// Every command, its help, completion and usage errors: Cli/CliApp.cs.
return await CliApp.RunAsync(args, Environment.GetEnvironmentVariable);
