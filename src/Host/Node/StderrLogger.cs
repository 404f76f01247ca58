using Akka.Actor;
using Akka.Event;

namespace LuaActors.Host;

/// <summary>Akka log events to stderr: stdout belongs to the command's output.</summary>
internal sealed class StderrLogger : ReceiveActor
{
    public StderrLogger()
    {
        Receive<InitializeLogger>(_ => Sender.Tell(new LoggerInitialized()));
        Receive<LogEvent>(e => Console.Error.WriteLine(e.ToString()));
    }
}
