using System.Diagnostics;

namespace Joinery.EndToEnd.Support;

[CollectionDefinition(Name)]
public sealed class LocalModeCollection : ICollectionFixture<LocalModeFixture>
{
    public const string Name = "local mode";
}

/// <summary>
/// Starts the local run mode (deploy/local/up.sh: RabbitMQ, the fake APIs, each service its own process) once for
/// the collection and stops it (down.sh) afterwards. If anything cannot start, every test of the collection fails
/// with up.sh's output: these tests never skip.
/// </summary>
public sealed class LocalModeFixture : IAsyncLifetime
{
    static readonly TimeSpan StopTimeout = TimeSpan.FromMinutes(2);

    public LocalModeFixture()
    {
        Root = RepoRoot.Find();
        StateDir = Setting("JOINERY_LOCAL_DIR") ?? Path.Combine(Root, ".local", "e2e");
        GatewayUrl = new Uri($"http://127.0.0.1:{Setting("JOINERY_GATEWAY_PORT") ?? "8080"}");
        FakeApisUrl = new Uri($"http://127.0.0.1:{Setting("JOINERY_FAKE_PORT") ?? "8090"}");
        Gateway = new GatewayClient(GatewayUrl);
        Fake = new FakeApisClient(FakeApisUrl);
    }

    public string Root { get; }
    public string StateDir { get; }
    public Uri GatewayUrl { get; }
    public Uri FakeApisUrl { get; }
    public GatewayClient Gateway { get; }
    public FakeApisClient Fake { get; }

    public async Task InitializeAsync()
    {
        // A previous run whose test host was killed may have left processes behind: stop them, start afresh.
        await RunScript("down.sh", StopTimeout);
        var data = Path.Combine(StateDir, "data");
        if (Directory.Exists(data))
            Directory.Delete(data, recursive: true);

        // test.sh builds once and sets JOINERY_SKIP_BUILD=1; run alone, up.sh builds first.
        var building = Setting("JOINERY_SKIP_BUILD") != "1";
        var (exitCode, output) = await RunScript("up.sh", building ? TimeSpan.FromMinutes(15) : TimeSpan.FromMinutes(5));
        if (exitCode != 0)
            throw new InvalidOperationException(
                $"deploy/local/up.sh failed (exit code {exitCode}); logs are in {Path.Combine(StateDir, "logs")}.\n{output}");
    }

    public async Task DisposeAsync()
    {
        Gateway.Dispose();
        Fake.Dispose();
        var (exitCode, output) = await RunScript("down.sh", StopTimeout);
        if (exitCode != 0)
            throw new InvalidOperationException($"deploy/local/down.sh failed (exit code {exitCode}).\n{output}");
    }

    static string? Setting(string name) =>
        Environment.GetEnvironmentVariable(name) is { Length: > 0 } value ? value : null;

    /// <summary>
    /// Runs a deploy/local script with its output in a file, not a pipe: the services it leaves running must not
    /// hold our end of a pipe open.
    /// </summary>
    async Task<(int ExitCode, string Output)> RunScript(string script, TimeSpan timeout)
    {
        Directory.CreateDirectory(StateDir);
        var outputFile = Path.Combine(StateDir, $"{Path.GetFileNameWithoutExtension(script)}.out");
        var start = new ProcessStartInfo("bash")
        {
            WorkingDirectory = Root,
            UseShellExecute = false,
        };
        start.ArgumentList.Add("-c");
        start.ArgumentList.Add("exec \"$0\" >\"$1\" 2>&1 </dev/null");
        start.ArgumentList.Add(Path.Combine(Root, "deploy", "local", script));
        start.ArgumentList.Add(outputFile);
        start.Environment["JOINERY_LOCAL_DIR"] = StateDir;
        // Its own virtual host, emptied on every start: nothing left in a developer's queues reaches this run.
        start.Environment["JOINERY_RABBITMQ_VHOST"] = Setting("JOINERY_RABBITMQ_VHOST") ?? "joinery-e2e";
        start.Environment["JOINERY_RABBITMQ_FRESH_VHOST"] = "1";

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
