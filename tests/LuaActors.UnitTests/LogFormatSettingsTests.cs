using LuaActors.Host;
using Microsoft.Extensions.Logging;

namespace LuaActors.UnitTests;

/// <summary>The node's --log-format: flag over LUAACTORS_LOG_FORMAT over luaactors.node.log-format (text), and bad values refused.</summary>
public sealed class LogFormatSettingsTests
{
    private static Func<string, string?> Env(string? format) => name => name == "LUAACTORS_LOG_FORMAT" ? format : null;

    [Fact]
    public void The_flag_beats_the_environment_which_beats_the_config_which_defaults_to_text()
    {
        Assert.Equal(LogFormat.Text, NodeSettings.Resolve(new NodeOptions(), Env(null)).LogFormat);
        Assert.Equal(LogFormat.Json, NodeSettings.Resolve(new NodeOptions { Config = "luaactors.node.log-format = json" }, Env(null)).LogFormat);
        Assert.Equal(LogFormat.Text, NodeSettings.Resolve(new NodeOptions { Config = "luaactors.node.log-format = json" }, Env("text")).LogFormat);
        Assert.Equal(LogFormat.Json, NodeSettings.Resolve(new NodeOptions { LogFormat = "JSON" }, Env("text")).LogFormat);
        Assert.Contains(("LUAACTORS_LOG_FORMAT", "--log-format"), NodeSettings.EnvironmentVariables);
    }

    [Fact]
    public void A_format_that_is_neither_text_nor_json_is_refused_naming_its_source()
    {
        var flag = Assert.Throws<NodeOptionsException>(() => NodeSettings.Resolve(new NodeOptions { LogFormat = "xml" }, Env(null)));
        Assert.Equal("--log-format must be text or json (got 'xml')", flag.Message);
        var env = Assert.Throws<NodeOptionsException>(() => NodeSettings.Resolve(new NodeOptions(), Env("yaml")));
        Assert.Equal("LUAACTORS_LOG_FORMAT must be text or json (got 'yaml')", env.Message);
    }

    [Fact]
    public void The_node_log_level_defaults_to_info_and_takes_akkas_names()
    {
        Assert.Equal(LogLevel.Information, NodeSettings.Resolve(new NodeOptions(), Env(null)).NodeLogLevel);
        Assert.Equal(LogLevel.Warning, NodeSettings.Resolve(new NodeOptions { Config = "luaactors.node.log-level = WARNING" }, Env(null)).NodeLogLevel);
        Assert.Throws<NodeOptionsException>(() => NodeSettings.Resolve(new NodeOptions { Config = "luaactors.node.log-level = loud" }, Env(null)).NodeLogLevel);
    }

    [Fact]
    public void The_node_command_takes_only_text_or_json()
    {
        var command = NodeCommandLine.Create(_ => null);
        Assert.Empty(command.Parse(["--log-format", "json"]).Errors);
        Assert.Equal("json", NodeCommandLine.OptionsOf(command.Parse(["--log-format", "json"])).LogFormat);
        Assert.NotEmpty(command.Parse(["--log-format", "xml"]).Errors);
    }
}
