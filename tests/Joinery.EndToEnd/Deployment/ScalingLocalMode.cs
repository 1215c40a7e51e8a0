using Joinery.EndToEnd.Support;

namespace Joinery.EndToEnd.Deployment;

[CollectionDefinition(Name)]
public sealed class ScalingCollection : ICollectionFixture<ScalingLocalMode>
{
    public const string Name = "deployment: scaling out (its own local mode)";
}

/// <summary>
/// A local-mode instance of its own (deploy/local/up.sh) for the scaling test: its own state folder
/// (.local/e2e-deployment), virtual host (joinery-e2e-deployment) and free ports, so that 300 signups in flight never
/// slow the other collections' tests. The fake APIs have no rate limits, so the services' client-side limits (set for
/// the real ActiveCampaign and Slack) are raised here through JOINERY_SERVICE_ENV_FILE: at Slack's 20 invites a minute
/// 300 signups would need a quarter of an hour, and this test is about crm-sync.
/// </summary>
public sealed class ScalingLocalMode : IAsyncLifetime
{
    readonly LocalModeInstance _local = new("e2e-deployment", LocalModePorts.Free(), "joinery-e2e-deployment", new Dictionary<string, string>
    {
        ["Slack__InvitesPerMinute"] = "6000",
        ["Slack__LookupsPerMinute"] = "6000",
        ["Slack__PostsPerMinute"] = "6000",
        ["ActiveCampaign__RequestsPerSecond"] = "100",
    });

    public string StateDir => _local.StateDir;
    public GatewayClient Gateway => _local.Gateway;
    public FakeApisClient Fake => _local.Fake;

    public Task InitializeAsync() => _local.Start();

    public async Task DisposeAsync() => await _local.DisposeAsync();
}
