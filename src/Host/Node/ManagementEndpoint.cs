using System.Collections.Immutable;
using System.Net;
using System.Net.Sockets;
using Akka.Actor;
using Akka.Cluster;
using Akka.Management.Cluster.Bootstrap;
using Akka.Management.Cluster.Bootstrap.ContactPoint;
using Akka.Management.Dsl;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Newtonsoft.Json;
using static Akka.Management.Cluster.Bootstrap.ContactPoint.HttpBootstrapJsonProtocol;

namespace LuaActors.Host;

/// <summary>
/// The management endpoint Cluster Bootstrap probes on every peer: <c>GET /bootstrap/seed-nodes</c>
/// on <c>--hostname:--management-port</c>, served by the node's own Kestrel on a second listener.
/// Akka.Management would serve it through Akka.Http.Shim, whose web server (Ceen.Httpd 0.9.9) is
/// not available at the version it was built against (0.9.10 lacks the method it calls: the
/// endpoint fails to bind). The answer is the same: the bootstrap's own JSON types, serialized
/// by the same Newtonsoft.Json, with the members <see cref="HttpClusterBootstrapRoutes"/> exposes.
/// </summary>
internal static class ManagementEndpoint
{
    /// <summary>The one route: the peers' bootstrap asks each contact point which nodes it knows.</summary>
    public const string SeedNodesPath = "/bootstrap/seed-nodes";

    /// <summary>Akka's max-seed-nodes-to-expose: a contact point names at most this many members.</summary>
    private const int MaxSeedNodes = 5;

    /// <summary>Adds the management listener on the node's hostname (resolved, as Akka.Management binds it).</summary>
    public static void Listen(KestrelServerOptions kestrel, string hostname, int port)
    {
        if (!IPAddress.TryParse(hostname.Trim('[', ']'), out var address))
        {
            address = Dns.GetHostAddresses(hostname).FirstOrDefault(a => a.AddressFamily == AddressFamily.InterNetwork)
                ?? throw new NodeOptionsException($"the hostname '{hostname}' resolves to no IPv4 address for the management endpoint");
        }

        kestrel.Listen(address, port);
    }

    /// <summary>
    /// Answers requests that arrive on the management port before anything else of the HTTP API
    /// (no token: the peers have none; nothing but the seed-nodes route).
    /// </summary>
    public static void Map(WebApplication app, int port) =>
        app.MapWhen(context => context.Connection.LocalPort == port, branch => branch.Run(context => AnswerAsync(context, app.Services)));

    /// <summary>Sets this node's contact point (from akka.management.http) and starts Cluster Bootstrap.</summary>
    public static async Task StartBootstrapAsync(ActorSystem system)
    {
        // The route providers' set-up is where the bootstrap learns its own contact point; the
        // routes themselves (Akka.Http.Shim's) are not served.
        _ = AkkaManagement.Get(system).Routes(settings => settings);
        await ClusterBootstrap.Get(system).Start();
    }

    private static async Task AnswerAsync(HttpContext context, IServiceProvider services)
    {
        if (!HttpMethods.IsGet(context.Request.Method) || context.Request.Path != SeedNodesPath)
        {
            context.Response.StatusCode = StatusCodes.Status404NotFound;
            return;
        }

        var cluster = Akka.Cluster.Cluster.Get((ActorSystem)services.GetService(typeof(ActorSystem))!);
        var self = cluster.SelfMember;
        var state = cluster.State;
        var members = self.Status is MemberStatus.Down or MemberStatus.Exiting or MemberStatus.Leaving or MemberStatus.Removed
            ? ImmutableList<ClusterMember>.Empty
            : state.Members
                .Where(m => !state.Unreachable.Contains(m) && m.Status is MemberStatus.Up or MemberStatus.WeaklyUp or MemberStatus.Joining)
                .Take(MaxSeedNodes)
                .Select(m => new ClusterMember(m.UniqueAddress.Address, m.UniqueAddress.Uid, m.Status, m.Roles))
                .ToImmutableList();
        context.Response.ContentType = "application/json";
        await context.Response.WriteAsync(JsonConvert.SerializeObject(new SeedNodes(self.UniqueAddress.Address, members)));
    }
}
