using System.Diagnostics;
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
    static readonly TimeSpan StopTimeout = TimeSpan.FromMinutes(2);

    public ObservedLocalMode()
    {
        Root = RepoRoot.Find();
        StateDir = Path.Combine(Root, ".local", "e2e-observability");
        Ports = new Dictionary<string, int>
        {
            ["gateway"] = OtlpReceiver.FreePort(),
            ["store"] = OtlpReceiver.FreePort(),
            ["crm-sync"] = OtlpReceiver.FreePort(),
            ["slack-invite"] = OtlpReceiver.FreePort(),
            ["fake-apis"] = OtlpReceiver.FreePort(),
        };
        Gateway = new GatewayClient(ServiceUrl("gateway"));
    }

    public string Root { get; }
    public string StateDir { get; }
    public IReadOnlyDictionary<string, int> Ports { get; }
    public OtlpReceiver Receiver { get; } = new();
    public GatewayClient Gateway { get; }
    public string Configuration => Environment.GetEnvironmentVariable("JOINERY_CONFIGURATION") is { Length: > 0 } c ? c : "Release";

    public Uri ServiceUrl(string service) => new($"http://127.0.0.1:{Ports[service]}");

    public async Task InitializeAsync()
    {
        // A run whose test host was killed may have left this instance behind: stop it, start afresh.
        await RunScript("down.sh", StopTimeout);
        var data = Path.Combine(StateDir, "data");
        if (Directory.Exists(data))
            Directory.Delete(data, recursive: true);

        var building = Environment.GetEnvironmentVariable("JOINERY_SKIP_BUILD") != "1";
        var (exitCode, output) = await RunScript("up.sh", building ? TimeSpan.FromMinutes(15) : TimeSpan.FromMinutes(5));
        if (exitCode != 0)
            throw new InvalidOperationException(
                $"deploy/local/up.sh failed (exit code {exitCode}); logs are in {Path.Combine(StateDir, "logs")}.\n{output}");
    }

    public async Task DisposeAsync()
    {
        Gateway.Dispose();
        var (exitCode, output) = await RunScript("down.sh", StopTimeout);
        await Receiver.DisposeAsync();
        if (exitCode != 0)
            throw new InvalidOperationException($"deploy/local/down.sh failed (exit code {exitCode}).\n{output}");
    }

    async Task<(int ExitCode, string Output)> RunScript(string script, TimeSpan timeout)
    {
        Directory.CreateDirectory(StateDir);
        var outputFile = Path.Combine(StateDir, $"{Path.GetFileNameWithoutExtension(script)}.out");
        var start = new ProcessStartInfo("bash") { WorkingDirectory = Root, UseShellExecute = false };
        // Output to a file, not a pipe: the services up.sh leaves running must not hold our end of a pipe open.
        start.ArgumentList.Add("-c");
        start.ArgumentList.Add("exec \"$0\" >\"$1\" 2>&1 </dev/null");
        start.ArgumentList.Add(Path.Combine(Root, "deploy", "local", script));
        start.ArgumentList.Add(outputFile);

        start.Environment["JOINERY_LOCAL_DIR"] = StateDir;
        start.Environment["JOINERY_GATEWAY_PORT"] = Ports["gateway"].ToString();
        start.Environment["JOINERY_STORE_PORT"] = Ports["store"].ToString();
        start.Environment["JOINERY_CRM_PORT"] = Ports["crm-sync"].ToString();
        start.Environment["JOINERY_SLACK_PORT"] = Ports["slack-invite"].ToString();
        start.Environment["JOINERY_FAKE_PORT"] = Ports["fake-apis"].ToString();
        start.Environment["JOINERY_RABBITMQ_VHOST"] = "joinery-e2e-observability";
        start.Environment["JOINERY_RABBITMQ_FRESH_VHOST"] = "1";

        // Standard OpenTelemetry variables, passed through up.sh to every process it starts.
        start.Environment["OTEL_EXPORTER_OTLP_ENDPOINT"] = Receiver.Endpoint;
        start.Environment["OTEL_EXPORTER_OTLP_PROTOCOL"] = "http/protobuf";
        start.Environment["OTEL_BSP_SCHEDULE_DELAY"] = "200";   // spans leave within 200 ms instead of 5 s
        start.Environment["OTEL_BLRP_SCHEDULE_DELAY"] = "200";
        start.Environment.Remove("OTEL_SERVICE_NAME");          // one value for all would hide which process sent what
        start.Environment.Remove("OTEL_RESOURCE_ATTRIBUTES");
        start.Environment.Remove("OTEL_TRACES_SAMPLER");
        start.Environment["Jaeger__BaseUrl"] = JaegerUi;

        using var process = Process.Start(start) ?? throw new InvalidOperationException($"Could not run {script}");
        using var cancel = new CancellationTokenSource(timeout);
        try
        {
            await process.WaitForExitAsync(cancel.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            return (-1, $"{script} did not finish within {timeout}.\n{ReadOutput(outputFile)}");
        }
        return (process.ExitCode, ReadOutput(outputFile));
    }

    static string ReadOutput(string file) => File.Exists(file) ? File.ReadAllText(file) : "(no output)";
}
