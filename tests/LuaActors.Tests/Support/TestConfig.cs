namespace LuaActors.Tests.Support;

/// <summary>The HOCON every test's actor system gets on top of the defaults: test-friendly limits, quiet logs.</summary>
internal static class TestConfig
{
    public const string Hocon = """
        akka.loglevel = WARNING
        luaactors.vm.default-timeout = 10s
        luaactors.vm.kill-grace = 2s
        luaactors.persistence.mode = off

        """;
}
