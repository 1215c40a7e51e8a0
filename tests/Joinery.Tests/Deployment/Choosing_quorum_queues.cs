using Joinery.ServiceDefaults;
using Microsoft.Extensions.Configuration;

namespace Joinery.Tests.Deployment;

/// <summary>
/// Messaging:QuorumQueues (on in deploy/k8s, a .env switch in compose, off in the local modes). What it does on a real
/// broker is checked end to end (tests/Joinery.EndToEnd/Deployment/Quorum_queues_on_the_broker).
/// </summary>
public sealed class Choosing_quorum_queues
{
    static MessagingOptions Options(string? value) =>
        MessagingOptions.From(new ConfigurationBuilder()
            .AddInMemoryCollection(new Dictionary<string, string?> { ["Messaging:QuorumQueues"] = value })
            .Build());

    [Fact]
    public void Quorum_queues_are_off_unless_configured()
    {
        Assert.False(Options(null).QuorumQueues);
        Assert.False(Options("").QuorumQueues);
        Assert.False(Options("false").QuorumQueues);
    }

    [Theory]
    [InlineData("true")]
    [InlineData("True")]
    public void Quorum_queues_are_on_when_the_setting_says_true(string value)
    {
        Assert.True(Options(value).QuorumQueues);
    }
}
