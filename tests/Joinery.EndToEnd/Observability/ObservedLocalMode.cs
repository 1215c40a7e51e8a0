using Joinery.EndToEnd.Support;

// The local-mode fixtures each start a whole system (up.sh builds the solution when run alone) and the readiness test
// stops a RabbitMQ node: collections of this assembly run one after another, never side by side.
[assembly: CollectionBehavior(DisableTestParallelization = true)]

namespace Joinery.EndToEnd.Observability;

[CollectionDefinition(Name)]
public sealed class ObservabilityCollection : ICollectionFixture<ObservedLocalMode>
{
    public const string Name = "observability (local mode with an OTLP receiver)";
}

/// <summary>
/// The local mode (deploy/local/up.sh) in its own state folder, virtual host and free ports, with every process
/// exporting over OTLP/HTTP to <see cref="Receiver"/>. Nothing in up.sh knows about telemetry: the standard OTEL_*
/// variables reach the services through its environment, and each service names itself (gateway, store, crm-sync,
/// slack-invite) because OTEL_SERVICE_NAME is deliberately not set for all of them.
/// </summary>
public sealed class ObservedLocalMode : IAsyncLifetime
{
    public const string JaegerUi = "http://jaeger.e2e.test:16686";
    readonly LocalModeInstance _local;

    public ObservedLocalMode()
    {
        // Standard OpenTelemetry variables, passed through up.sh to every process it starts.
        var telemetry = new Dictionary<string, string>
        {
            ["OTEL_EXPORTER_OTLP_ENDPOINT"] = Receiver.Endpoint,
            ["OTEL_EXPORTER_OTLP_PROTOCOL"] = "http/protobuf",
            ["OTEL_BSP_SCHEDULE_DELAY"] = "200", // spans leave within 200 ms instead of 5 s
            ["OTEL_BLRP_SCHEDULE_DELAY"] = "200",
            ["Jaeger__BaseUrl"] = JaegerUi,
        };
        // One service name for all would hide which process sent what; a sampler or resource of the caller's would skew the trace.
        string[] unset = ["OTEL_SERVICE_NAME", "OTEL_RESOURCE_ATTRIBUTES", "OTEL_TRACES_SAMPLER"];
        _local = new LocalModeInstance("e2e-observability", LocalModePorts.Free(), "joinery-e2e-observability",
            scriptEnvironment: telemetry, unsetVariables: unset);
    }

    public string Root => _local.Root;
    public string StateDir => _local.StateDir;
    public OtlpReceiver Receiver { get; } = new();
    public GatewayClient Gateway => _local.Gateway;
    public string Configuration => _local.Configuration;

    public Uri ServiceUrl(string service) => _local.Url(service);

    public Task InitializeAsync() => _local.Start();

    public async Task DisposeAsync()
    {
        try
        {
            await _local.DisposeAsync();
        }
        finally
        {
            await Receiver.DisposeAsync();
        }
    }
}
