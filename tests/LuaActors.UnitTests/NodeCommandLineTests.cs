using System.CommandLine;
using LuaActors.Host;

namespace LuaActors.UnitTests;

/// <summary>The flags of `luaactors node`, parsed without starting anything.</summary>
public sealed class NodeCommandLineTests
{
    private static ParseResult Parse(params string[] args) =>
        new RootCommand("luaactors") { NodeCommandLine.Create() }.Parse(["node", .. args]);

    [Fact]
    public void Every_flag_reaches_the_node_options()
    {
        var result = Parse("--hostname", "10.0.0.5", "--port", "0", "--seed", "akka.tcp://luaactors@10.0.0.5:4053",
            "--seed", "akka.tcp://luaactors@10.0.0.6:4053", "--http", "0.0.0.0:5080", "--token", "t", "--config", "node.conf");
        Assert.Empty(result.Errors);
        var options = NodeCommandLine.OptionsOf(result);
        Assert.Equal("10.0.0.5", options.Hostname);
        Assert.Equal(0, options.Port);
        Assert.Equal(["akka.tcp://luaactors@10.0.0.5:4053", "akka.tcp://luaactors@10.0.0.6:4053"], options.Seeds);
        Assert.Equal(("0.0.0.0:5080", "t", "node.conf"), (options.Http, options.Token, options.ConfigFile));
    }

    [Fact]
    public void Flags_not_given_are_null_so_the_environment_and_the_file_may_set_them()
    {
        var options = NodeCommandLine.OptionsOf(Parse());
        Assert.Null(options.Hostname);
        Assert.Null(options.Port);
        Assert.Empty(options.Seeds);
        Assert.Null(options.Http);
        Assert.Null(options.ConfigFile);
    }

    [Theory]
    [InlineData("--port needs a port number from 0 to 65535 (got 'http')", "--port", "http")]
    [InlineData("--port needs a port number from 0 to 65535 (got '65536')", "--port", "65536")]
    public void A_bad_port_is_a_parse_error_naming_the_flag(string message, params string[] args) =>
        Assert.Equal(message, Assert.Single(Parse(args).Errors).Message);

    [Fact]
    public void An_unknown_flag_is_left_unmatched() =>
        Assert.Equal(["--frob"], Parse("--frob").UnmatchedTokens);
}
