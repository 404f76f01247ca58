using System.Buffers.Binary;
using System.Text;
using LuaActors.Configuration;

namespace LuaActors.Process;

/// <summary>
/// The confinement part of a luaactors-spawn request (Native/confinement.h): the layers wanted,
/// RLIMIT_NOFILE, the TCP port ranges, and the files the VM may read (the host script).
/// </summary>
internal static class ConfinementBlock
{
    /// <summary>Not a layer: the VM's profile allows TCP sockets.</summary>
    public const uint Networking = 1 << 16;

    private const uint RangeBind = 1;
    private const uint RangeConnect = 2;

    // Descriptors a networking VM needs beyond its sockets: stdio, the loader, /dev/null, slack.
    private const int FilesBesideSockets = 16;

    /// <summary>An empty block (no confinement) when <paramref name="settings"/> is off.</summary>
    public static byte[] For(ConfinementSettings settings, bool networking, int maxSockets, IEnumerable<string> readPaths)
    {
        if (!settings.Enabled)
        {
            return [];
        }

        var layers = (uint)settings.Layers;
        var ranges = new List<(int First, int Last, uint Kind)>();
        if (networking)
        {
            layers |= Networking;
            if (settings.PortsKnown)
            {
                ranges.AddRange(settings.BindPorts.Select(r => (r.First, r.Last, RangeBind)));
                ranges.AddRange(settings.ConnectPorts.Select(r => (r.First, r.Last, RangeConnect)));
            }
            else
            {
                // Ports unknown (no listen-ports): no Landlock network rules for this VM.
                layers &= ~(uint)ConfinementLayers.LandlockNetwork;
            }
        }

        var files = networking ? Math.Max(settings.MaxOpenFiles, maxSockets + FilesBesideSockets) : settings.MaxOpenFiles;
        var block = new MemoryStream();
        var word = new byte[4];
        void U32(uint value)
        {
            BinaryPrimitives.WriteUInt32LittleEndian(word, value);
            block.Write(word);
        }

        U32(layers);
        U32((uint)files);
        U32((uint)ranges.Count);
        foreach (var (first, last, kind) in ranges)
        {
            BinaryPrimitives.WriteUInt16LittleEndian(word, (ushort)first);
            BinaryPrimitives.WriteUInt16LittleEndian(word.AsSpan(2), (ushort)last);
            block.Write(word);
            U32(kind);
        }

        foreach (var path in readPaths)
        {
            block.Write(Encoding.UTF8.GetBytes(path));
            block.WriteByte(0);
        }

        return block.ToArray();
    }
}
