using LuaActors.Diagnostics;

namespace LuaActors.UnitTests;

/// <summary>The /proc parsers behind the VM process CPU and memory metrics.</summary>
public sealed class VmProcessStatsTests
{
    // A real /proc/PID/stat line of lua5.4 (52 fields), utime 250 and stime 37 ticks.
    private const string LuaStat =
        "4242 (lua5.4) S 4200 4242 4242 0 -1 4194560 1234 0 0 0 250 37 0 0 20 0 1 0 98765 6725632 712 " +
        "18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 1 0 0 0 0 0 0 0 0 0 0 0 0 0";

    [Fact]
    public void Cpu_seconds_are_utime_and_stime_over_the_clock_ticks()
    {
        Assert.Equal((2.5, 0.37), VmProcessStats.ParseStat(LuaStat, 100));
        Assert.Equal((0.25, 0.037), VmProcessStats.ParseStat(LuaStat, 1000));
    }

    [Fact]
    public void A_command_name_with_spaces_and_parentheses_does_not_shift_the_fields()
    {
        var odd = LuaStat.Replace("(lua5.4)", "(a) b (c) 1 2)", StringComparison.Ordinal);
        Assert.Equal((2.5, 0.37), VmProcessStats.ParseStat(odd, 100));
    }

    [Theory]
    [InlineData("")]
    [InlineData("4242 lua5.4 S 1 2 3")]
    [InlineData("4242 (lua5.4) S 4200 4242")]
    [InlineData("4242 (lua5.4) S 4200 4242 4242 0 -1 4194560 1234 0 0 0 x 37 0")]
    public void A_malformed_stat_line_gives_nothing(string text) => Assert.Null(VmProcessStats.ParseStat(text, 100));

    [Fact]
    public void Resident_bytes_are_the_second_statm_field_in_pages()
    {
        Assert.Equal(712L * 4096, VmProcessStats.ParseStatmResidentBytes("1642 712 512 4 0 180 0\n", 4096));
        Assert.Null(VmProcessStats.ParseStatmResidentBytes("1642\n", 4096));
        Assert.Null(VmProcessStats.ParseStatmResidentBytes("1642 -3 0", 4096));
    }

    [Fact]
    public void This_process_reads_as_alive_and_a_missing_one_as_gone()
    {
        // /proc of the test process itself: no process is started.
        var self = VmProcessStats.Read(Environment.ProcessId);
        Assert.NotNull(self);
        Assert.True(self.Value.ResidentBytes > 0);
        Assert.True(self.Value.CpuSeconds > 0);
        Assert.Null(VmProcessStats.Read(int.MaxValue));
    }

    [Theory]
    [InlineData("request 7 still ran 1200 ms after it started (limit 100 ms + 1000 ms grace): killed", "timeout")]
    [InlineData("process exited with code 137 (killed by signal 9)", "exited")]
    [InlineData("protocol error: a malformed M frame", "protocol-error")]
    [InlineData("could not start the interpreter: no such file", "start-failed")]
    [InlineData("init script failed: Runtime: boom", "init-failed")]
    [InlineData("the VM refused its limits: bad", "limits-refused")]
    [InlineData("something new", "other")]
    public void Restart_reasons_are_a_few_fixed_labels(string reason, string label) =>
        Assert.Equal(label, LuaActorsMetrics.RestartReason(reason));
}
