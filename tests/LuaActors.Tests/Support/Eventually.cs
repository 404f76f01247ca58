namespace LuaActors.Tests.Support;

/// <summary>Polls a condition until it holds or a deadline passes: no fixed sleeps in tests.</summary>
internal static class Eventually
{
    /// <summary>Fails the test, naming <paramref name="what"/>, unless the condition holds within the time (checked <paramref name="every"/>, 50 ms by default).</summary>
    public static async Task TrueAsync(Func<Task<bool>> condition, TimeSpan? within = null, string? what = null, TimeSpan? every = null)
    {
        var deadline = DateTime.UtcNow + (within ?? TimeSpan.FromSeconds(30));
        Exception? last = null;
        while (DateTime.UtcNow < deadline)
        {
            try
            {
                if (await condition())
                {
                    return;
                }
            }
            catch (Exception e) when (e is HttpRequestException or IOException or InvalidOperationException or System.Text.Json.JsonException)
            {
                last = e;
            }

            await Task.Delay(every ?? TimeSpan.FromMilliseconds(50));
        }

        Assert.Fail($"{what ?? "the condition"} did not hold within {(within ?? TimeSpan.FromSeconds(30)).TotalSeconds} s" +
            (last is null ? "" : $" (last error: {last.Message})"));
    }

    public static Task TrueAsync(Func<bool> condition, TimeSpan? within = null, string? what = null, TimeSpan? every = null) =>
        TrueAsync(() => Task.FromResult(condition()), within, what, every);
}
