using System.Diagnostics;

namespace LuaActors.Bench.Shared;

/// <summary>Elapsed times in Stopwatch ticks; percentiles in microseconds or milliseconds.</summary>
internal sealed class Samples(int capacity = 1024)
{
    private readonly List<long> _ticks = new(capacity);
    private double[]? _sortedUs;

    public int Count => _ticks.Count;

    public void Add(long ticks)
    {
        _ticks.Add(ticks);
        _sortedUs = null;
    }

    /// <summary>Adds the time since <paramref name="startTimestamp"/> (a <see cref="Stopwatch.GetTimestamp"/> value).</summary>
    public void AddSince(long startTimestamp) => Add(Stopwatch.GetTimestamp() - startTimestamp);

    /// <summary>Percentile <paramref name="p"/> (0..100) in microseconds, linear between ranks.</summary>
    public double PercentileUs(double p) => Stats.Percentile(SortedUs(), p);

    public double PercentileMs(double p) => PercentileUs(p) / 1000;

    public double MeanUs() => Count == 0 ? double.NaN : SortedUs().Average();

    public double MaxUs() => Count == 0 ? double.NaN : SortedUs()[^1];

    private double[] SortedUs()
    {
        if (_sortedUs is null)
        {
            var us = new double[_ticks.Count];
            for (var i = 0; i < us.Length; i++)
            {
                us[i] = _ticks[i] * 1_000_000.0 / Stopwatch.Frequency;
            }

            Array.Sort(us);
            _sortedUs = us;
        }

        return _sortedUs;
    }
}

internal static class Stats
{
    /// <summary>Percentile <paramref name="p"/> (0..100) of sorted values, linear between ranks; NaN when empty.</summary>
    public static double Percentile(IReadOnlyList<double> sorted, double p)
    {
        if (sorted.Count == 0)
        {
            return double.NaN;
        }

        var rank = p / 100 * (sorted.Count - 1);
        var low = (int)Math.Floor(rank);
        var high = Math.Min(low + 1, sorted.Count - 1);
        return sorted[low] + (sorted[high] - sorted[low]) * (rank - low);
    }

    public static double Median(IEnumerable<double> values)
    {
        var sorted = values.OrderBy(v => v).ToArray();
        return Percentile(sorted, 50);
    }

    public static double Seconds(long ticks) => ticks / (double)Stopwatch.Frequency;
}
