using Xunit.Sdk;

namespace LuaActors.TestKit;

/// <summary>A Lua assertion failed: the message shows the code, what was expected, what came and what the VM printed.</summary>
public sealed class LuaAssertException(string message) : XunitException(message);
