using System.Text;
using System.Text.Json;
using Akka.Cluster.Sharding;
using Akka.Configuration;
using LuaActors.Configuration;

namespace LuaActors.Cluster;

/// <summary>
/// The sharding settings VMs depend on (remembered entities, never passivated for being idle, the
/// retry interval of docs/cluster.md). Akka.Cluster.Hosting's <c>WithClustering</c> appends Akka's
/// own sharding defaults, and anything appended before hocon/luaactors.conf wins over it: a node
/// passivated VMs idle for 2 minutes (their globals lost) and remembered none. So these keys are
/// laid over the configuration where it still holds Akka's default; a value the application set
/// to anything else stays.
/// </summary>
public static class ShardingDefaults
{
    private const string Section = "akka.cluster.sharding";

    private static readonly string[] Keys =
    [
        "state-store-mode", "remember-entities", "remember-entities-store", "passivate-idle-entity-after", "retry-interval",
    ];

    private const string DurableKeys = "distributed-data.durable.keys";

    /// <summary>The HOCON to prepend over <paramref name="current"/> (empty when nothing needs it).</summary>
    public static Config Over(Config current)
    {
        var akka = ClusterSharding.DefaultConfig().GetConfig(Section);
        var ours = LuaActorsConfig.Default.GetConfig(Section);
        var now = current.IsEmpty ? Config.Empty : current.GetConfig(Section) ?? Config.Empty;
        var hocon = new StringBuilder();
        foreach (var key in Keys)
        {
            var value = now.IsEmpty ? null : now.GetString(key, null);
            if (value is null || value == akka.GetString(key, null))
            {
                hocon.Append(Section).Append('.').Append(key).Append(" = ").Append(JsonSerializer.Serialize(ours.GetString(key))).Append('\n');
            }
        }

        var durable = now.IsEmpty || !now.HasPath(DurableKeys) ? null : now.GetStringList(DurableKeys);
        if (durable is null || durable.SequenceEqual(akka.GetStringList(DurableKeys)))
        {
            hocon.Append(Section).Append('.').Append(DurableKeys).Append(" = ")
                .Append(JsonSerializer.Serialize(ours.GetStringList(DurableKeys))).Append('\n');
        }

        return hocon.Length == 0 ? Config.Empty : ConfigurationFactory.ParseString(hocon.ToString());
    }
}
