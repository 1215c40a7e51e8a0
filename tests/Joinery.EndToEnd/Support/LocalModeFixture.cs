namespace Joinery.EndToEnd.Support;

[CollectionDefinition(Name)]
public sealed class LocalModeCollection : ICollectionFixture<LocalModeFixture>
{
    public const string Name = "local mode";
}

/// <summary>
/// Starts the local run mode (deploy/local/up.sh: RabbitMQ, the fake APIs, each service its own process) once for
/// the collection and stops it (down.sh) afterwards, on up.sh's own ports (8080-8083, 8090) unless the
/// <c>JOINERY_*_PORT</c> variables say otherwise, in <c>.local/e2e</c> and its own virtual host, emptied on every start.
/// If anything cannot start, every test of the collection fails with up.sh's output: these tests never skip.
/// </summary>
public sealed class LocalModeFixture : IAsyncLifetime
{
    readonly LocalModeInstance _local = new(
        Setting("JOINERY_LOCAL_DIR") ?? Path.Combine(RepoRoot.Find(), ".local", "e2e"),
        new LocalModePorts(
            Gateway: Port("JOINERY_GATEWAY_PORT", 8080), Store: Port("JOINERY_STORE_PORT", 8081), Crm: Port("JOINERY_CRM_PORT", 8082),
            Slack: Port("JOINERY_SLACK_PORT", 8083), Fake: Port("JOINERY_FAKE_PORT", 8090)),
        Setting("JOINERY_RABBITMQ_VHOST") ?? "joinery-e2e");

    public string Root => _local.Root;
    public string StateDir => _local.StateDir;
    public Uri GatewayUrl => _local.Url("gateway");
    public Uri FakeApisUrl => _local.Url("fake-apis");
    public GatewayClient Gateway => _local.Gateway;
    public FakeApisClient Fake => _local.Fake;

    public Task InitializeAsync() => _local.Start();

    public async Task DisposeAsync() => await _local.DisposeAsync();

    static string? Setting(string name) =>
        Environment.GetEnvironmentVariable(name) is { Length: > 0 } value ? value : null;

    static int Port(string variable, int fallback) => Setting(variable) is { } port ? int.Parse(port) : fallback;
}
