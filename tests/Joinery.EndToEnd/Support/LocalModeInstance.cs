using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text;

namespace Joinery.EndToEnd.Support;

/// <summary>The ports one local-mode instance listens on; each fixture has its own so instances never collide.</summary>
public sealed record LocalModePorts(int Gateway, int Store, int Crm, int Slack, int Fake)
{
    public int For(string process) => process switch
    {
        "gateway" => Gateway,
        "store" => Store,
        "crm-sync" => Crm,
        "slack-invite" => Slack,
        "fake-apis" => Fake,
        _ => throw new ArgumentException($"not a local-mode process: {process}", nameof(process)),
    };

    /// <summary>Five ports free right now, for an instance that must not collide with anything.</summary>
    public static LocalModePorts Free() => new(FreePort.Next(), FreePort.Next(), FreePort.Next(), FreePort.Next(), FreePort.Next());
}

/// <summary>
/// One instance of the local mode (deploy/local/up.sh and down.sh) in a state folder, on ports and a RabbitMQ virtual
/// host of its own, with extra service settings (written to the <c>JOINERY_SERVICE_ENV_FILE</c>) and extra variables
/// for up.sh itself (e.g. <c>JOINERY_RABBITMQ_NODE</c>, or variables to remove from what it inherits). It can kill (SIGKILL) and start again any of its processes,
/// with exactly the environment up.sh gave it, optionally changed.
/// </summary>
public sealed class LocalModeInstance : IAsyncDisposable
{
    static readonly TimeSpan StopTimeout = TimeSpan.FromMinutes(2);

    /// <summary>name, project folder, assembly: as deploy/local/lib.sh lists them.</summary>
    public static readonly IReadOnlyDictionary<string, (string Project, string Assembly)> Processes = new Dictionary<string, (string, string)>
    {
        ["fake-apis"] = ("tests/Joinery.FakeApis", "Joinery.FakeApis"),
        ["store"] = ("services/store", "Joinery.Store"),
        ["crm-sync"] = ("services/crm-sync", "Joinery.CrmSync"),
        ["slack-invite"] = ("services/slack-invite", "Joinery.SlackInvite"),
        ["gateway"] = ("services/gateway", "Joinery.Gateway"),
    };

    readonly Dictionary<string, IReadOnlyList<KeyValuePair<string, string>>> _environments = [];
    readonly IReadOnlyCollection<string> _unsetVariables;

    /// <param name="name">the state folder, under <c>.local/</c> (or an absolute path)</param>
    /// <param name="unsetVariables">variables of the test's own environment that up.sh (and so every service) must not inherit</param>
    public LocalModeInstance(string name, LocalModePorts ports, string virtualHost, IReadOnlyDictionary<string, string>? settings = null,
        IReadOnlyDictionary<string, string>? scriptEnvironment = null, IReadOnlyCollection<string>? unsetVariables = null)
    {
        _unsetVariables = unsetVariables ?? [];
        Root = RepoRoot.Find();
        StateDir = Path.Combine(Root, ".local", name);
        Ports = ports;
        VirtualHost = virtualHost;
        Settings = settings ?? new Dictionary<string, string>();
        ScriptEnvironment = scriptEnvironment ?? new Dictionary<string, string>();
        Gateway = new GatewayClient(Url("gateway"));
        Fake = new FakeApisClient(Url("fake-apis"));
    }

    public string Root { get; }
    public string StateDir { get; }
    public LocalModePorts Ports { get; }
    public string VirtualHost { get; }
    public IReadOnlyDictionary<string, string> Settings { get; }
    public IReadOnlyDictionary<string, string> ScriptEnvironment { get; }
    public GatewayClient Gateway { get; }
    public FakeApisClient Fake { get; }
    public string DataDir => Path.Combine(StateDir, "data");
    public string Configuration => Environment.GetEnvironmentVariable("JOINERY_CONFIGURATION") is { Length: > 0 } c ? c : "Release";

    public Uri Url(string process) => new($"http://127.0.0.1:{Ports.For(process)}");

    /// <summary>Stops what a killed earlier run may have left, clears the data, and runs up.sh; throws with its output if it fails.</summary>
    public async Task Start()
    {
        await RunScript("down.sh", StopTimeout);
        if (Directory.Exists(DataDir))
            Directory.Delete(DataDir, recursive: true);
        Directory.CreateDirectory(StateDir);
        var envFile = Path.Combine(StateDir, "services.env");
        await File.WriteAllLinesAsync(envFile, Settings.Select(s => $"{s.Key}={s.Value}"));

        var building = Environment.GetEnvironmentVariable("JOINERY_SKIP_BUILD") != "1";
        var (exitCode, output) = await RunScript("up.sh", building ? TimeSpan.FromMinutes(15) : TimeSpan.FromMinutes(5), envFile);
        if (exitCode != 0)
            throw new InvalidOperationException($"deploy/local/up.sh failed (exit code {exitCode}); logs are in {Path.Combine(StateDir, "logs")}.\n{output}");
    }

    public async ValueTask DisposeAsync()
    {
        Gateway.Dispose();
        Fake.Dispose();
        var (exitCode, output) = await RunScript("down.sh", StopTimeout);
        if (exitCode != 0)
            throw new InvalidOperationException($"deploy/local/down.sh failed (exit code {exitCode}).\n{output}");
    }

    string PidFile(string process) => Path.Combine(StateDir, "pids", process + ".pid");

    public int Pid(string process) => int.Parse(File.ReadAllText(PidFile(process)).Trim());

    /// <summary>SIGKILL, as a crash would: no shutdown, no acknowledgements, nothing flushed. Remembers its environment for <see cref="StartAgain"/>.</summary>
    public async Task Kill(string process)
    {
        var pid = Pid(process);
        _environments[process] = ReadEnvironment(pid);
        using var old = Process.GetProcessById(pid);
        old.Kill(); // SIGKILL on Linux
        await old.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(30));
    }

    /// <summary>
    /// Starts a killed process again as up.sh did (its output folder, its port, its environment, with
    /// <paramref name="overrides"/> on top) and waits until it is ready. Its pid goes in the pid file, so down.sh stops it.
    /// </summary>
    public async Task StartAgain(string process, IReadOnlyDictionary<string, string>? overrides = null)
    {
        if (!_environments.TryGetValue(process, out var environment))
            throw new InvalidOperationException($"{process} was not killed by this instance");
        var (project, assembly) = Processes[process];
        var directory = Path.Combine(Root, project, "bin", Configuration, "net10.0");
        var logs = Path.Combine(StateDir, "logs");
        var log = Path.Combine(logs, $"{process}.{DateTime.UtcNow:HHmmss.fff}.log");
        var start = new ProcessStartInfo("bash") { WorkingDirectory = directory, UseShellExecute = false };
        start.ArgumentList.Add("-c");
        start.ArgumentList.Add("exec dotnet \"$0\" --urls \"$1\" >\"$2\" 2>&1 </dev/null");
        start.ArgumentList.Add(assembly + ".dll");
        start.ArgumentList.Add(Url(process).ToString().TrimEnd('/'));
        start.ArgumentList.Add(log);
        start.Environment.Clear();
        foreach (var (key, value) in environment)
            start.Environment[key] = value;
        foreach (var (key, value) in overrides ?? new Dictionary<string, string>())
            start.Environment[key] = value;
        var started = Process.Start(start) ?? throw new InvalidOperationException($"could not start {process}");
        await File.WriteAllTextAsync(PidFile(process), started.Id.ToString());
        await WaitReady(process, started, log);
    }

    /// <summary><see cref="Kill"/> then <see cref="StartAgain"/>.</summary>
    public async Task Restart(string process, IReadOnlyDictionary<string, string>? overrides = null)
    {
        await Kill(process);
        await StartAgain(process, overrides);
    }

    async Task WaitReady(string process, Process started, string log)
    {
        var path = process == "fake-apis" ? "/health" : "/health/ready";
        using var probe = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
        await Eventually.Until(async () =>
        {
            if (started.HasExited)
                throw new InvalidOperationException($"{process} exited at start:\n{Tail(log)}");
            try
            {
                using var response = await probe.GetAsync(new Uri(Url(process), path));
                return response.StatusCode;
            }
            catch (HttpRequestException) { return HttpStatusCode.ServiceUnavailable; }
            catch (TaskCanceledException) { return HttpStatusCode.RequestTimeout; }
        }, status => status == HttpStatusCode.OK, TimeSpan.FromSeconds(90), $"{process} ready again");
    }

    static IReadOnlyList<KeyValuePair<string, string>> ReadEnvironment(int pid) =>
        Encoding.UTF8.GetString(File.ReadAllBytes($"/proc/{pid}/environ"))
            .Split('\0', StringSplitOptions.RemoveEmptyEntries)
            .Where(entry => entry.Contains('='))
            .Select(entry => KeyValuePair.Create(entry[..entry.IndexOf('=')], entry[(entry.IndexOf('=') + 1)..]))
            .ToList();

    /// <summary>A client signed in through the gateway's sign-in form, as a browser would.</summary>
    public async Task<HttpClient> SignedInAdmin(string user, string password)
    {
        var client = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false, UseCookies = true, CookieContainer = new CookieContainer() })
        {
            BaseAddress = Url("gateway"),
            Timeout = TimeSpan.FromSeconds(30),
        };
        using var response = await client.PostAsync("/admin/login", new FormUrlEncodedContent(
            new Dictionary<string, string> { ["username"] = user, ["password"] = password }));
        Assert.True(response.StatusCode == HttpStatusCode.SeeOther, $"POST /admin/login: {(int)response.StatusCode}");
        return client;
    }

    /// <summary>Replaces the fake's behaviour (<c>POST /_fake/config</c>); null restores the defaults.</summary>
    public async Task ConfigureFake(object? behaviour)
    {
        using var http = new HttpClient { BaseAddress = Url("fake-apis"), Timeout = TimeSpan.FromSeconds(15) };
        using var response = await http.PostAsJsonAsync("/_fake/config", behaviour ?? new { });
        Assert.True(response.IsSuccessStatusCode, $"POST /_fake/config: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
    }

    public string Tail(string file, int lines = 40) =>
        File.Exists(file) ? string.Join('\n', File.ReadLines(file).TakeLast(lines)) : "(no log)";

    public string LogOf(string process) => Path.Combine(StateDir, "logs", process + ".log");

    async Task<(int ExitCode, string Output)> RunScript(string script, TimeSpan timeout, string? envFile = null)
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
        start.Environment["JOINERY_GATEWAY_PORT"] = Ports.Gateway.ToString();
        start.Environment["JOINERY_STORE_PORT"] = Ports.Store.ToString();
        start.Environment["JOINERY_CRM_PORT"] = Ports.Crm.ToString();
        start.Environment["JOINERY_SLACK_PORT"] = Ports.Slack.ToString();
        start.Environment["JOINERY_FAKE_PORT"] = Ports.Fake.ToString();
        start.Environment["JOINERY_RABBITMQ_VHOST"] = VirtualHost;
        start.Environment["JOINERY_RABBITMQ_FRESH_VHOST"] = "1";
        foreach (var (key, value) in ScriptEnvironment)
            start.Environment[key] = value;
        foreach (var key in _unsetVariables)
            start.Environment.Remove(key);
        if (envFile is not null)
            start.Environment["JOINERY_SERVICE_ENV_FILE"] = envFile;

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
}
