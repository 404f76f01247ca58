namespace LuaActors.Host;

/// <summary>The help text and the exit code for bad arguments (2).</summary>
internal static class Usage
{
    public const int BadArguments = 2;

    private const string Text = """
        usage:
          luaactors eval [options] CODE        run CODE in a fresh VM and print its output and result
          luaactors eval [options] -f FILE     the same, with the code read from FILE ('-' for stdin)
          luaactors node [options]             run one cluster node with its HTTP API until SIGINT/SIGTERM
          luaactors doctor [--config FILE]     check that every VM type of the node's config can run here

          luaactors vm create ID [options]     create a VM on the cluster
          luaactors vm ls                      list the VMs
          luaactors vm info ID                 show one VM
          luaactors vm exec ID CODE            run CODE in a VM (or -f FILE, '-' for stdin)
          luaactors vm rm ID                   remove a VM and stop its process
          luaactors vm send ID VALUE           put VALUE (JSON) into the VM's inbox (its vm.receive gets it)
          luaactors vm link ID PEER            make two VMs peers (vm.peers, vm.broadcast); vm unlink undoes it
          luaactors publish TOPIC VALUE        send VALUE (JSON) to every VM subscribed to TOPIC
          luaactors cluster                    show the members, their status and VM counts
          luaactors attach ID                  an interactive Lua prompt on a VM (a session)

          luaactors group create NAME COUNT    create VMs NAME-1..NAME-COUNT (vm create options)
          luaactors group exec NAME CODE       run CODE on every VM of the group (or -f FILE)
          luaactors group rm NAME              remove every VM of the group

        eval options:
          --timeout-ms N        time limit of the code (default luaactors.vm.default-timeout)
          --memory-mb N         Lua heap limit of the VM (default luaactors.vm.memory-limit)
          --type T              VM type (default basic)
          --config KEY=VALUE    a config entry of the VM type (repeatable)

        eval prints what the code printed, then its result as JSON: one value as itself, several
        as a JSON array, none as nothing. Exit codes: 0 ok, 1 Lua or VM error (kind and message
        on stderr), 2 bad arguments.

        node options (environment variable in brackets; the command line wins):
          --hostname H          address other nodes reach this one at [LUAACTORS_HOSTNAME] (127.0.0.1)
          --port P              cluster (Akka remoting) port, 0 for any [LUAACTORS_PORT] (4053)
          --seed ADDRESS        a seed node, akka.tcp://luaactors@HOST:PORT; repeatable
                                [LUAACTORS_SEEDS, comma-separated] (none: the node is its own seed)
          --http ADDRESS:PORT   where the HTTP API listens, port 0 for any [LUAACTORS_HTTP] (127.0.0.1:5080)
          --token TOKEN         require 'Authorization: Bearer TOKEN' on every request [LUAACTORS_TOKEN];
                                needed to listen on an address that is not loopback
          --config FILE         HOCON laid over the node's defaults (hocon/node.conf)

        The node prints 'node: akka.tcp://luaactors@HOST:PORT' and 'http: URL' when it is up, then
        every membership change. SIGINT or SIGTERM: it leaves the cluster, stops its VMs, exits 0.
        Run 3 nodes or more with the same 2 seeds or more (see hocon/node.conf).

        vm create options:
          --type T              VM type (default basic)
          --init FILE           init script, run at every (re)start of the VM ('-' for stdin)
          --timeout-ms N        the VM's time limit per request
          --memory-mb N         the VM's Lua heap limit
          --inbox-capacity N    messages the VM's inbox holds (default luaactors.vm.messaging.inbox-capacity)
          --networking          give the VM's Lua code sockets (to other VMs' listeners; more only if listed)
          --config KEY=VALUE    a config entry of the VM type (repeatable)

        vm exec options:
          -f, --file FILE       read the code from FILE ('-' for stdin) instead of CODE
          --repl                read the code as a REPL line (an expression shows its value)
          --timeout-ms N        time limit of this request
          --memory-mb N         Lua heap limit of this request (at most the VM's)

        group exec options: -f/--file, --timeout-ms, --memory-mb, as vm exec

        client options (vm, cluster, attach, group, publish):
          --node URL            the node's HTTP API [LUAACTORS_NODE] (http://127.0.0.1:5080)
          --token TOKEN         the node's token [LUAACTORS_TOKEN]
          --json                print the API's JSON instead of tables (not attach)

        vm exec prints like eval. Exit codes: 0 ok, 1 Lua error, error answer or node unreachable
        (kind and message on stderr), 2 bad arguments.

        group exec prints '== ID ==' and then each VM's result like vm exec, in member order, and
        exits 1 if any VM failed (all results are printed still).

        attach reads lines like 'lua -i': an expression shows its value, a statement runs, an
        unfinished chunk ('function f()') waits for more lines. At a terminal it prompts '> '
        ('>> ' inside an unfinished chunk), with line editing and history (Up/Down, Left/Right,
        Home/End); Ctrl+C interrupts the running chunk (the VM keeps its state), Ctrl+D on an
        empty line detaches and exits 0. Lines typed in other sessions show as
        '[SESSION] > line'. With stdin redirected it prints no prompt, runs each line after the
        one before was answered, prints like vm exec, and exits at the end of stdin: 0 if every
        line succeeded, 1 if one failed or the input ended inside an unfinished chunk. Exit 1
        also when the VM is removed while attached.
        """;

    public static int Print(TextWriter writer, int exitCode)
    {
        writer.WriteLine(Text);
        return exitCode;
    }

    public static int Fail(string problem)
    {
        Console.Error.WriteLine($"luaactors: {problem}");
        Console.Error.WriteLine("run 'luaactors --help' for usage");
        return BadArguments;
    }
}
