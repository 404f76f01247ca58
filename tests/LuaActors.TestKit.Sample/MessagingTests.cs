namespace LuaActors.TestKit.Sample;

/// <summary>VMs that talk: to their host, through their inboxes, and in a session.</summary>
public sealed class MessagingTests : LuaActorsTestKit
{
    [Fact]
    public async Task A_vm_reports_to_its_host()
    {
        var rules = await CreateVmAsync(PricingRules.Lua);

        await rules.ExecuteAsync("vm.send('$host', { quoted = price(10, 'gold') })");

        await ExpectValueFromVmAsync(rules, new Dictionary<string, object> { ["quoted"] = 8.0 });
    }

    [Fact]
    public async Task A_message_from_another_vm_arrives_in_the_inbox()
    {
        var auditor = await CreateVmAsync(vmId: "auditor");
        var rules = await CreateVmAsync(PricingRules.Lua);

        await rules.ExecuteAsync("vm.send('auditor', { price = price(100, 'gold') })");

        var message = await ExpectInInboxAsync(auditor);
        Assert.Equal(rules.Id, message.From);
        Assert.True(LuaValues.AreEqual(new Dictionary<string, object> { ["price"] = 80.0 }, message.Value));
    }

    [Fact]
    public async Task A_session_shows_what_the_rules_print()
    {
        var rules = await CreateVmAsync(PricingRules.Lua);
        await using var session = await rules.AttachAsync();

        await session.SendInputAsync("print('gold pays', price(100, 'gold'))");

        await ExpectOutputAsync(session, "gold pays\t80.0");
    }
}
