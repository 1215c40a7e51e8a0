using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
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
    static readonly TimeSpan StopTimeout = TimeSpan.FromMinutes(2);

    static readonly IReadOnlyDictionary<string, string> Settings = new Dictionary<string, string>
    {
        ["Slack__InvitesPerMinute"] = "6000",
        ["Slack__LookupsPerMinute"] = "6000",
        ["Slack__PostsPerMinute"] = "6000",
        ["ActiveCampaign__RequestsPerSecond"] = "100",
    };

    public ScalingLocalMode()
    {
        Root = RepoRoot.Find();
        StateDir = Path.Combine(Root, ".local", "e2e-deployment");
        Ports = new Dictionary<string, int>
        {
            ["JOINERY_GATEWAY_PORT"] = FreePort(),
            ["JOINERY_STORE_PORT"] = FreePort(),
            ["JOINERY_CRM_PORT"] = FreePort(),
            ["JOINERY_SLACK_PORT"] = FreePort(),
            ["JOINERY_FAKE_PORT"] = FreePort(),
        };
        Gateway = new GatewayClient(new Uri($"http://127.0.0.1:{Ports["JOINERY_GATEWAY_PORT"]}"));
        Fake = new FakeApisClient(new Uri($"http://127.0.0.1:{Ports["JOINERY_FAKE_PORT"]}"));
    }

    public string Root { get; }
    public string StateDir { get; }
    public IReadOnlyDictionary<string, int> Ports { get; }
    public GatewayClient Gateway { get; }
    public FakeApisClient Fake { get; }

    public async Task InitializeAsync()
    {
        // A run whose test host was killed may have left this instance behind: stop it, start afresh.
        await RunScript("down.sh", StopTimeout);
        var data = Path.Combine(StateDir, "data");
        if (Directory.Exists(data))
            Directory.Delete(data, recursive: true);
        Directory.CreateDirectory(StateDir);
        await File.WriteAllLinesAsync(Path.Combine(StateDir, "services.env"), Settings.Select(s => $"{s.Key}={s.Value}"));

        var building = Environment.GetEnvironmentVariable("JOINERY_SKIP_BUILD") != "1";
        var (exitCode, output) = await RunScript("up.sh", building ? TimeSpan.FromMinutes(15) : TimeSpan.FromMinutes(5));
        if (exitCode != 0)
            throw new InvalidOperationException($"deploy/local/up.sh failed (exit code {exitCode}); logs are in {Path.Combine(StateDir, "logs")}.\n{output}");
    }

    public async Task DisposeAsync()
    {
        Gateway.Dispose();
        Fake.Dispose();
        var (exitCode, output) = await RunScript("down.sh", StopTimeout);
        if (exitCode != 0)
            throw new InvalidOperationException($"deploy/local/down.sh failed (exit code {exitCode}).\n{output}");
    }

    /// <summary>Runs a deploy/local script with its output in a file: the services it leaves running must not hold a pipe of ours.</summary>
    async Task<(int ExitCode, string Output)> RunScript(string script, TimeSpan timeout)
    {
        Directory.CreateDirectory(StateDir);
        var outputFile = Path.Combine(StateDir, $"{Path.GetFileNameWithoutExtension(script)}.out");
        var start = new ProcessStartInfo("bash") { WorkingDirectory = Root, UseShellExecute = false };
        start.ArgumentList.Add("-c");
        start.ArgumentList.Add("exec \"$0\" >\"$1\" 2>&1 </dev/null");
        start.ArgumentList.Add(Path.Combine(Root, "deploy", "local", script));
        start.ArgumentList.Add(outputFile);
        start.Environment["JOINERY_LOCAL_DIR"] = StateDir;
        start.Environment["JOINERY_RABBITMQ_VHOST"] = "joinery-e2e-deployment";
        start.Environment["JOINERY_RABBITMQ_FRESH_VHOST"] = "1";
        start.Environment["JOINERY_SERVICE_ENV_FILE"] = Path.Combine(StateDir, "services.env");
        foreach (var (variable, port) in Ports)
            start.Environment[variable] = port.ToString();

        using var process = Process.Start(start) ?? throw new InvalidOperationException($"Could not run {script}");
        using var cancel = new CancellationTokenSource(timeout);
        try
        {
            await process.WaitForExitAsync(cancel.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            return (-1, $"{script} did not finish within {timeout}.\n{Read(outputFile)}");
        }
        return (process.ExitCode, Read(outputFile));
    }

    static string Read(string file) => File.Exists(file) ? File.ReadAllText(file) : "(no output)";

    static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
