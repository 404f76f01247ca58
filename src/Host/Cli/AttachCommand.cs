using System.CommandLine;
using System.Net.WebSockets;
using System.Text.Json;
using System.Threading.Channels;

namespace LuaActors.Host.Cli;

/// <summary>
/// `luaactors attach ID`: a REPL on a VM over the node's attach WebSocket. At a terminal it
/// prompts ("> ", ">> " inside an unfinished chunk), Ctrl+C interrupts the running chunk and
/// Ctrl+D detaches (exit 0). With stdin redirected it runs the lines one after another without
/// a prompt and exits when stdin ends: 1 if a line failed, the input ended inside an unfinished
/// chunk or the VM went away, so scripts can tell.
/// </summary>
internal static class AttachCommand
{
    /// <summary>How one of this session's lines ended.</summary>
    private enum Answer
    {
        Done,
        Failed,
        Incomplete,
    }

    public static Command Create(ClientOptions client)
    {
        var id = CliOptions.VmId("ID", "the VM");
        // Accepted only to say why not: the conversation is text, the WebSocket itself speaks JSON.
        var json = new Option<bool>("--json") { Hidden = true };
        json.Validators.Add(result =>
        {
            // The validators of an option run also when it was not given (its default value).
            if (!result.Implicit)
            {
                result.AddError("attach prints a conversation and has no --json (the WebSocket itself speaks JSON: docs/api.md)");
            }
        });
        var command = new Command("attach", "an interactive Lua prompt on a VM (a session)") { id, json };
        client.AddTo(command, json: false);
        command.SetAction(result => ClientRunner.RunAsync(result, () => RunAsync(client.Read(result), result.GetValue(id)!)));
        return CliHelp.Document(
            command,
            """
            attach reads lines like 'lua -i': an expression shows its value, a statement runs, an
            unfinished chunk ('function f()') waits for more lines. At a terminal it prompts '> '
            ('>> ' inside an unfinished chunk), with line editing and history (Up/Down, Left/Right,
            Home/End); Ctrl+C interrupts the running chunk (the VM keeps its state), Ctrl+D on an
            empty line detaches and exits 0. Lines typed in other sessions show as
            '[SESSION] > line'. With stdin redirected it prints no prompt, runs each line after the
            one before was answered, prints like vm exec, and exits at the end of stdin: 0 if every
            line succeeded, 1 if one failed or the input ended inside an unfinished chunk. Exit 1
            also when the VM is removed while attached.
            """,
            "luaactors attach calc",
            "printf 'x = 42\\nprint(x)\\n' | luaactors attach calc");
    }

    private static async Task<int> RunAsync(ClientCommandLine line, string id)
    {
        AttachConnection connection;
        try
        {
            connection = await AttachConnection.ConnectAsync(line.Node, line.Token, id, CancellationToken.None);
        }
        catch (AttachRefusedException e)
        {
            return await ClientRunner.FailAsync(e.Response, json: false);
        }

        using (connection)
        {
            return await new Repl(connection, interactive: !Console.IsInputRedirected).RunAsync();
        }
    }

    private sealed class Repl(AttachConnection connection, bool interactive)
    {
        private readonly Channel<Answer> _answers = Channel.CreateUnbounded<Answer>();
        private readonly LineEditor _editor = new();
        private string _sessionId = "";

        // Set by the receive side: the VM was removed or the node closed or lost the connection.
        private volatile bool _vmGone;
        private volatile bool _detaching;

        public async Task<int> RunAsync()
        {
            if (await connection.ReceiveAsync(CancellationToken.None) is not AttachedMessage attached)
            {
                throw new JsonException("the node did not start the session with an 'attached' message");
            }

            _sessionId = attached.SessionId;
            if (interactive)
            {
                await Console.Error.WriteLineAsync(
                    $"attached to {attached.VmId} as {attached.SessionId} ({attached.Sessions.Count} session(s)); " +
                    "Ctrl+C interrupts, Ctrl+D detaches");
                Console.CancelKeyPress += OnCancelKeyPress;
            }

            var receiving = ReceiveAsync();
            var failures = 0;
            var unfinished = false;
            try
            {
                while (!_vmGone)
                {
                    // Reading is synchronous: read on the pool, so that the end of the session (VM
                    // removed, node stopping) ends the prompt at once. At a terminal, with line
                    // editing and history; piped, plain lines.
                    var prompt = unfinished ? ">> " : "> ";
                    var reading = interactive ? Task.Run(() => _editor.ReadLine(prompt)) : Task.Run(Console.In.ReadLine);
                    if (await Task.WhenAny(reading, receiving) == receiving || await reading is not { } input)
                    {
                        break;
                    }

                    await connection.SendAsync(new SessionRequest { Type = SessionRequest.Input, Line = input });
                    if (!await _answers.Reader.WaitToReadAsync())
                    {
                        break;
                    }

                    var answer = await _answers.Reader.ReadAsync();
                    failures += answer == Answer.Failed ? 1 : 0;
                    unfinished = answer == Answer.Incomplete;
                }
            }
            finally
            {
                if (interactive)
                {
                    Console.CancelKeyPress -= OnCancelKeyPress;
                }
            }

            if (unfinished && !_vmGone)
            {
                failures++;
                await Console.Error.WriteLineAsync("luaactors: the input ended inside an unfinished chunk");
            }

            if (!_vmGone)
            {
                _detaching = true;
                await TrySendAsync(new SessionRequest { Type = SessionRequest.Detach });
            }

            // The node answers "detached" and closes the socket; do not wait forever for a dead one.
            await receiving.WaitAsync(TimeSpan.FromSeconds(10)).ContinueWith(_ => { }, TaskScheduler.Default);
            if (interactive)
            {
                await Console.Out.WriteLineAsync();
            }

            return _vmGone || (!interactive && failures > 0) ? 1 : 0;
        }

        /// <summary>Prints every message as it comes and hands this session's answers to the prompt loop.</summary>
        private async Task ReceiveAsync()
        {
            try
            {
                while (await connection.ReceiveAsync(CancellationToken.None) is { } message)
                {
                    await PrintAsync(message);
                }

                if (!_detaching && !_vmGone)
                {
                    _vmGone = true;
                    await Console.Error.WriteLineAsync("luaactors: the node closed the session (is it stopping?)");
                }
            }
            catch (WebSocketException e)
            {
                _vmGone = true;
                await Console.Error.WriteLineAsync($"luaactors: the connection to the node broke: {e.Message}");
            }
            finally
            {
                _answers.Writer.TryComplete();
            }
        }

        private async Task PrintAsync(SessionMessage message)
        {
            switch (message)
            {
                case EvaluatedMessage { Incomplete: true }:
                    _answers.Writer.TryWrite(Answer.Incomplete);
                    break;
                case EvaluatedMessage evaluated:
                    var own = evaluated.Session == _sessionId;
                    if (!own)
                    {
                        var tag = $"[{evaluated.Session}]";
                        await ResultPrinter.WriteStdoutAsync($"{tag} > {evaluated.Input.Replace("\n", $"\n{tag} >> ", StringComparison.Ordinal)}\n");
                    }

                    var ok = await ResultPrinter.PrintAsync(Response(evaluated));
                    if (own)
                    {
                        _answers.Writer.TryWrite(ok ? Answer.Done : Answer.Failed);
                    }

                    break;
                case SessionErrorMessage error:
                    // The VM could not take this session's line (it is the only sender here).
                    await Console.Error.WriteLineAsync($"{error.Kind}: {error.Message}");
                    _answers.Writer.TryWrite(Answer.Failed);
                    break;
                case RestartedMessage restarted:
                    await Console.Error.WriteLineAsync($"[VM restarted: {restarted.Reason}]");
                    break;
                case StoppedMessage stopped:
                    _vmGone = true;
                    await Console.Error.WriteLineAsync($"[VM stopped: {stopped.Reason}]");
                    break;
            }
        }

        /// <summary>A line's outcome in the shape `vm exec` prints.</summary>
        private static ExecuteResponse Response(EvaluatedMessage evaluated)
        {
            if (evaluated.Error is { } error)
            {
                return new ExecuteResponse { Ok = false, Error = new LuaErrorDto(error.Kind, error.Message, "", evaluated.Output, false) };
            }

            using var values = JsonDocument.Parse(evaluated.Values.Text);
            return new ExecuteResponse
            {
                Ok = true, Count = values.RootElement.GetArrayLength(), Values = evaluated.Values, Output = evaluated.Output,
            };
        }

        /// <summary>Ctrl+C stops the running chunk, not this program.</summary>
        private void OnCancelKeyPress(object? sender, ConsoleCancelEventArgs e)
        {
            e.Cancel = true;
            _ = TrySendAsync(new SessionRequest { Type = SessionRequest.Interrupt });
        }

        private async Task TrySendAsync(SessionRequest request)
        {
            try
            {
                await connection.SendAsync(request);
            }
            catch (Exception e) when (e is WebSocketException or ObjectDisposedException or InvalidOperationException)
            {
                // The connection is gone; the receive side says so.
            }
        }
    }
}
