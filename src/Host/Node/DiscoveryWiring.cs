using Akka.Discovery.Config.Hosting;
using Akka.Discovery.KubernetesApi;
using Akka.Hosting;
using Akka.Management;
using Akka.Management.Cluster.Bootstrap;

namespace LuaActors.Host;

/// <summary>
/// Seed discovery on Akka.Hosting: Akka.Management's settings, Cluster Bootstrap, and the
/// Akka.Discovery provider that lists the peers (the HTTP route the peers probe: <see cref="ManagementEndpoint"/>).
/// The node that finds itself the lowest of <see cref="DiscoverySettings.RequiredContactPoints"/>
/// peers, none of them in a cluster yet, forms the cluster; the others join it.
/// </summary>
internal static class DiscoveryWiring
{
    /// <summary>The container port name the Kubernetes pods give the management port.</summary>
    public const string KubernetesPortName = "management";

    public static AkkaConfigurationBuilder WithSeedDiscovery(this AkkaConfigurationBuilder akka, DiscoverySettings discovery, string hostname)
    {
        if (discovery.Method == DiscoveryMethod.None)
        {
            return akka;
        }

        // The contact point is the node's own hostname and management port: a node's bootstrap
        // recognises itself in the discovered list by them. Neither Akka.Management's HTTP server
        // nor the bootstrap start on their own: the node serves the route (ManagementEndpoint).
        akka.WithAkkaManagement(new AkkaManagementOptions { HostName = hostname, Port = discovery.ManagementPort }, autoStart: false);
        if (discovery.Method == DiscoveryMethod.Config)
        {
            akka.WithConfigDiscovery(new ConfigServiceDiscoveryOptions
            {
                Services = [new Service { Name = discovery.Service, Endpoints = [.. discovery.Endpoints] }],
            });
        }
        else
        {
            // Pods labelled app=SERVICE (Akka's default selector, app=%s; HOCON may change it) in the
            // pod's own namespace, by IP.
            akka.WithKubernetesDiscovery(new KubernetesDiscoveryOptions());
        }

        return akka.WithClusterBootstrap(bootstrap =>
        {
            bootstrap.ContactPointDiscovery.ServiceName = discovery.Service;
            bootstrap.ContactPointDiscovery.RequiredContactPointsNr = discovery.RequiredContactPoints;
            bootstrap.ContactPointDiscovery.PortName = discovery.Method == DiscoveryMethod.Kubernetes ? KubernetesPortName : null;
            bootstrap.ContactPoint.FallbackPort = discovery.ManagementPort;
            // Config endpoints on one machine differ by port: keep them all, not only those on ours.
            bootstrap.ContactPoint.FilterOnFallbackPort = false;
        }, autoStart: false);
    }
}
