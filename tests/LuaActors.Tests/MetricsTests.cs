using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using System.Collections.Concurrent;
using System.Net.Sockets;
using System.Text;
using LuaActors.Diagnostics;
using LuaActors.Host;
using LuaActors.Tests.Support;

namespace LuaActors.Tests;

/// <summary>
/// GET /metrics (docs/operations.md, "Metrics") of a real node process, after known work: its
/// own process, so no other test's VMs count.
/// </summary>
[Collection(ProcessHeavyCollection.Name)]
public sealed class MetricsTests
{
    private const int Executes = 5;

    [Fact]
    public async Task A_scrape_after_known_work_counts_it()
    {
        await using var node = await NodeProcess.StartAsync(new Dictionary<string, string?>());
        var client = node.Client;
        using (var created = await client.PostAsJsonAsync("vms", new { id = "metered" }))
        {
            Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        }

        for (var i = 0; i < Executes; i++)
        {
            Assert.True((await ExecuteAsync(client, "return 1 + 1")).GetProperty("ok").GetBoolean());
        }

        var failed = await ExecuteAsync(client, "error('on purpose')");
        Assert.Equal("runtime", failed.GetProperty("error").GetProperty("kind").GetString());

        // A crash with nothing in flight: the VM restarts once.
        var pid = (await InfoAsync(client)).GetProperty("processId").GetInt32();
        LuaProcesses.Kill9(pid);
        await Eventually.TrueAsync(async () =>
        {
            var info = await InfoAsync(client);
            return info.GetProperty("state").GetString() == "running" && info.GetProperty("restarts").GetInt32() == 1;
        });

        // Two messages nobody takes: the inbox holds them.
        for (var i = 0; i < 2; i++)
        {
            using var sent = await client.PostAsJsonAsync("vms/metered/messages", new { value = i });
            Assert.Equal(HttpStatusCode.Accepted, sent.StatusCode);
        }

        var scrape = new Scrape(await client.GetStringAsync("metrics"));
        var basic = ("luaactors_vm_type", "basic");
        Assert.Equal(Executes, scrape.Sum("luaactors_vm_executions_total", basic, ("luaactors_execution_outcome", "ok")));
        Assert.Equal(1, scrape.Sum("luaactors_vm_executions_total", basic, ("luaactors_execution_outcome", "error"), ("error_type", "runtime")));
        Assert.Equal(Executes + 1, scrape.Sum("luaactors_vm_executions_total"));
        Assert.Equal(Executes + 1, scrape.Sum("luaactors_vm_execution_duration_seconds_count", basic));
        Assert.Equal(1, scrape.Sum("luaactors_vm_restarts_total", basic, ("luaactors_vm_restart_reason", "exited")));
        Assert.Equal(1, scrape.Sum("luaactors_vm_restarts_total"));
        Assert.Equal(1, scrape.Sum("luaactors_vm_start_duration_seconds_count", basic, ("luaactors_vm_start_kind", "create")));
        Assert.Equal(1, scrape.Sum("luaactors_vm_start_duration_seconds_count", basic, ("luaactors_vm_start_kind", "restart")));
        Assert.Equal(1, scrape.Sum("luaactors_vm_count", basic, ("luaactors_vm_state", "running")));
        Assert.Equal(1, scrape.Sum("luaactors_vm_count"));
        Assert.Equal(2, scrape.Sum("luaactors_vm_inbox_depth", basic));
        Assert.Equal(0, scrape.Sum("luaactors_vm_requests_waiting", basic));

        // The process now running, read from /proc, under the VM's own id (one VM: in the top).
        var newPid = (await InfoAsync(client)).GetProperty("processId").GetInt32();
        Assert.NotEqual(pid, newPid);
        Assert.True(scrape.Sum("luaactors_vm_process_memory_usage_bytes", basic) > 1_000_000);
        Assert.True(scrape.Sum("luaactors_vm_top_memory_usage_bytes", ("luaactors_vm_id", "metered")) > 1_000_000);
        Assert.Equal(1, scrape.Count("luaactors_vm_top_memory_usage_bytes"));
        Assert.Equal(2, scrape.Count("luaactors_vm_process_cpu_time_seconds_total"));

        // ASP.NET Core's own: every execute request, by route.
        Assert.Equal(Executes + 1, scrape.Sum("http_server_request_duration_seconds_count", ("http_route", "/vms/{id}/execute")));
    }

    [Fact]
    public async Task Only_the_busiest_vms_get_series_of_their_own()
    {
        using var config = await TempFile.WithTextAsync("luaactors.metrics.per-vm-top = 2\n");
        await using var node = await NodeProcess.StartAsync(new Dictionary<string, string?>(), args: ["--config", config.Path]);
        foreach (var id in new[] { "idle-1", "idle-2", "busy" })
        {
            using var created = await node.Client.PostAsJsonAsync("vms", new { id });
            Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        }

        // A first scrape sets where every VM's CPU time stands; then only "busy" works.
        await node.Client.GetStringAsync("metrics");
        using (var burn = await node.Client.PostAsJsonAsync("vms/busy/execute", new { code = "local x = 0 for i = 1, 2e7 do x = x + i end return x" }))
        {
            Assert.Equal(HttpStatusCode.OK, burn.StatusCode);
        }

        // Scrapes within a second share one reading of /proc: wait for a fresh one that ranks "busy" first.
        Scrape? scrape = null;
        await Eventually.TrueAsync(async () =>
        {
            scrape = new Scrape(await node.Client.GetStringAsync("metrics"));
            // Before that reading, all three stand at 0 CPU and "busy" may hold a place by the tie alone.
            return scrape.Count("luaactors_vm_top_cpu_time_seconds_total", ("luaactors_vm_id", "busy")) == 1
                && scrape.Sum("luaactors_vm_top_cpu_time_seconds_total", ("luaactors_vm_id", "busy")) > 0;
        });
        Assert.Equal(2, scrape!.Count("luaactors_vm_top_cpu_time_seconds_total"));
        Assert.Equal(2, scrape.Count("luaactors_vm_top_memory_usage_bytes"));
        Assert.True(scrape.Sum("luaactors_vm_top_cpu_time_seconds_total", ("luaactors_vm_id", "busy")) > 0);
        // The totals by type still cover all three.
        Assert.Equal(3, scrape.Sum("luaactors_vm_count", ("luaactors_vm_state", "running")));
        Assert.True(scrape.Sum("luaactors_vm_process_cpu_time_seconds_total") >= scrape.Sum("luaactors_vm_top_cpu_time_seconds_total", ("luaactors_vm_id", "busy")));
    }

    [Fact]
    public async Task Metrics_need_the_token_when_the_node_has_one()
    {
        await using var node = await NodeHost.StartAsync(new NodeOptions
        {
            Port = 0, Http = "127.0.0.1:0", Config = TestConfig.Hocon, Token = "metrics-test-token", Errors = new StringWriter(),
        });
        using var client = new HttpClient { BaseAddress = node.HttpUrl };
        using (var anonymous = await client.GetAsync("metrics"))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
        }

        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", "metrics-test-token");
        using var scraped = await client.GetAsync("metrics");
        Assert.Equal(HttpStatusCode.OK, scraped.StatusCode);
        // The refused scrape is in ASP.NET Core's request metrics.
        Assert.Contains("http_response_status_code=\"401\"", await scraped.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task With_an_otlp_endpoint_the_node_pushes_metrics_and_the_execute_spans()
    {
        using var collector = new OtlpCollector();
        await using var node = await NodeProcess.StartAsync(new Dictionary<string, string?>
        {
            ["OTEL_EXPORTER_OTLP_ENDPOINT"] = collector.Url,
            ["OTEL_EXPORTER_OTLP_PROTOCOL"] = "http/protobuf",
            ["OTEL_METRIC_EXPORT_INTERVAL"] = "500",
        });
        using (var created = await node.Client.PostAsJsonAsync("vms", new { id = "metered" }))
        {
            Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        }

        Assert.True((await ExecuteAsync(node.Client, "return 1")).GetProperty("ok").GetBoolean());

        // Protobuf keeps strings as UTF-8: the names are in the exported bodies as they are.
        await Eventually.TrueAsync(() => collector.Received("/v1/traces", LuaActorsTracing.VmExecuteSpan)
            && collector.Received("/v1/traces", LuaActorsTracing.ExecuteSpan)
            && collector.Received("/v1/traces", "/vms/{id}/execute"), TimeSpan.FromSeconds(60), "the execute's spans exported");
        await Eventually.TrueAsync(() => collector.Received("/v1/metrics", "luaactors.vm.executions"), TimeSpan.FromSeconds(60), "the metrics exported");
    }

    private static async Task<JsonElement> ExecuteAsync(HttpClient client, string code)
    {
        using var response = await client.PostAsJsonAsync("vms/metered/execute", new { code });
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return await response.Content.ReadFromJsonAsync<JsonElement>();
    }

    private static async Task<JsonElement> InfoAsync(HttpClient client) => await client.GetFromJsonAsync<JsonElement>("vms/metered");

    /// <summary>An OTLP/HTTP receiver that keeps every body it is sent, by path, and answers 200.</summary>
    private sealed class OtlpCollector : IDisposable
    {
        private readonly HttpListener _listener = new();
        private readonly ConcurrentQueue<(string Path, byte[] Body)> _received = new();

        public OtlpCollector()
        {
            using var probe = new TcpListener(IPAddress.Loopback, 0);
            probe.Start();
            var port = ((IPEndPoint)probe.LocalEndpoint).Port;
            probe.Stop();
            Url = $"http://127.0.0.1:{port}";
            _listener.Prefixes.Add(Url + "/");
            _listener.Start();
            _ = Task.Run(ServeAsync);
        }

        public string Url { get; }

        public bool Received(string path, string text) =>
            _received.Any(r => r.Path == path && Encoding.UTF8.GetString(r.Body).Contains(text, StringComparison.Ordinal));

        public void Dispose() => _listener.Close();

        private async Task ServeAsync()
        {
            while (_listener.IsListening)
            {
                HttpListenerContext context;
                try
                {
                    context = await _listener.GetContextAsync();
                }
                catch (Exception e) when (e is HttpListenerException or ObjectDisposedException)
                {
                    return;
                }

                using var body = new MemoryStream();
                await context.Request.InputStream.CopyToAsync(body);
                _received.Enqueue((context.Request.Url!.AbsolutePath, body.ToArray()));
                // An empty Export*ServiceResponse: all accepted.
                context.Response.StatusCode = 200;
                context.Response.ContentType = "application/x-protobuf";
                context.Response.Close();
            }
        }
    }

    /// <summary>Prometheus text format: <c>name{label="value",…} number</c> per sample line.</summary>
    private sealed class Scrape(string text)
    {
        private readonly List<(string Name, Dictionary<string, string> Labels, double Value)> _samples = Parse(text);

        public double Sum(string name, params (string Label, string Value)[] labels) => Matching(name, labels).Sum(s => s.Value);

        public int Count(string name, params (string Label, string Value)[] labels) => Matching(name, labels).Count();

        private IEnumerable<(string Name, Dictionary<string, string> Labels, double Value)> Matching(string name, (string Label, string Value)[] labels) =>
            _samples.Where(s => s.Name == name && labels.All(l => s.Labels.TryGetValue(l.Label, out var v) && v == l.Value));

        private static List<(string, Dictionary<string, string>, double)> Parse(string text)
        {
            var samples = new List<(string, Dictionary<string, string>, double)>();
            foreach (var line in text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            {
                if (line.StartsWith('#'))
                {
                    continue;
                }

                var labels = new Dictionary<string, string>();
                var open = line.IndexOf('{');
                var close = line.LastIndexOf('}');
                var name = open < 0 ? line[..line.IndexOf(' ')] : line[..open];
                if (open >= 0)
                {
                    // Values here hold no quotes or commas (names, kinds, routes).
                    foreach (var pair in line[(open + 1)..close].Split(',', StringSplitOptions.RemoveEmptyEntries))
                    {
                        var eq = pair.IndexOf('=');
                        labels[pair[..eq]] = pair[(eq + 1)..].Trim('"');
                    }
                }

                var value = line[((open < 0 ? name.Length : close + 1))..].Trim().Split(' ')[0];
                samples.Add((name, labels, double.Parse(value, CultureInfo.InvariantCulture)));
            }

            return samples;
        }
    }
}
