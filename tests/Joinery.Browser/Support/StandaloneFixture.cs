using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Reflection;
using System.Text;
using Joinery.FakeApis;
using Microsoft.Playwright;

namespace Joinery.Browser.Support;

[CollectionDefinition(Name)]
public sealed class StandaloneCollection : ICollectionFixture<StandaloneFixture>
{
    public const string Name = "standalone in a browser";
}

/// <summary>
/// The standalone host (all four services, in-memory transport, SQLite in a temporary folder) started from its built
/// dll as a process of its own on a free port, with the fake ActiveCampaign and Slack running in this test process,
/// an admin configured, and a code of conduct; plus Debian's Chromium driven by Playwright. Anything that cannot
/// start fails every test of the collection with the reason and the host's log: these tests never skip.
/// </summary>
public class StandaloneFixture : IAsyncLifetime
{
    public const string AdminUsername = "admin";
    public const string CodeOfConductUrl = "https://example.org/code-of-conduct";
    public const string ChromiumPath = "/usr/bin/chromium";
    static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(90);

    readonly string _dataDirectory = Path.Combine(Path.GetTempPath(), "joinery-browser-" + Guid.NewGuid().ToString("N"));
    readonly StringBuilder _log = new();
    Process? _host;
    IPlaywright? _playwright;

    public StandaloneFixture()
    {
        Root = RepoRoot.Find();
        ArtifactsDirectory = Path.Combine(Root, ".artifacts");
        ScreenshotsDirectory = Path.Combine(ArtifactsDirectory, "screenshots");
    }

    public string Root { get; }
    public string ArtifactsDirectory { get; }
    public string ScreenshotsDirectory { get; }
    public string AdminPassword { get; } = "pw-" + Guid.NewGuid().ToString("N");
    public Uri BaseUrl { get; private set; } = null!;
    public FakeApiServer Fake { get; private set; } = null!;
    public HttpClient FakeControl { get; private set; } = null!;
    public IBrowser Browser { get; private set; } = null!;

    /// <summary>What the host printed so far, for failure messages.</summary>
    public string HostLog
    {
        get { lock (_log) return _log.ToString(); }
    }

    public async Task InitializeAsync()
    {
        // Playwright must use Debian's Chromium: never download a browser of its own.
        Environment.SetEnvironmentVariable("PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD", "1");
        Directory.CreateDirectory(ScreenshotsDirectory);
        Assertions.SetDefaultExpectTimeout(30_000);

        Fake = await FakeApiServer.StartAsync();
        FakeControl = new HttpClient { BaseAddress = Fake.BaseUri };

        await StartHost();

        if (!File.Exists(ChromiumPath))
            throw new InvalidOperationException($"{ChromiumPath} is missing: install Debian's chromium (./test.sh does).");
        _playwright = await Playwright.CreateAsync();
        Browser = await _playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = ChromiumPath,
            Headless = true,
            Args = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", "--no-first-run"],
        });
    }

    async Task StartHost()
    {
        var configuration = typeof(StandaloneFixture).Assembly.GetCustomAttribute<AssemblyConfigurationAttribute>()?.Configuration ?? "Release";
        var dll = Path.Combine(Root, "deploy", "standalone", "bin", configuration, "net10.0", "Joinery.Standalone.dll");
        if (!File.Exists(dll))
            throw new InvalidOperationException($"{dll} is missing: build the solution first (dotnet build Joinery.slnx -c {configuration}).");

        var port = FreePort();
        BaseUrl = new Uri($"http://127.0.0.1:{port}/");
        Directory.CreateDirectory(_dataDirectory);

        var start = new ProcessStartInfo("dotnet")
        {
            WorkingDirectory = _dataDirectory,
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
        };
        start.ArgumentList.Add(dll);
        start.ArgumentList.Add("--urls");
        start.ArgumentList.Add(BaseUrl.ToString().TrimEnd('/'));
        // Nothing from this test process's environment may point the host elsewhere.
        foreach (var name in new[] { "ASPNETCORE_URLS", "ASPNETCORE_HTTP_PORTS", "ASPNETCORE_ENVIRONMENT", "DOTNET_ENVIRONMENT",
                     "OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "OTEL_EXPORTER_OTLP_METRICS_ENDPOINT",
                     "OTEL_EXPORTER_OTLP_LOGS_ENDPOINT", "MONGODB_URI" })
            start.Environment.Remove(name);
        var settings = new Dictionary<string, string>
        {
            ["Persistence__Provider"] = "Sqlite",
            ["Persistence__DataDirectory"] = Path.Combine(_dataDirectory, "data"),
            ["Messaging__Transport"] = "InMemory",
            ["Admin__Username"] = AdminUsername,
            ["Admin__Password"] = AdminPassword,
            ["Signup__CodeOfConductUrl"] = CodeOfConductUrl,
            ["ActiveCampaign__BaseUrl"] = Fake.BaseUri.ToString(),
            ["ActiveCampaign__ApiToken"] = Fake.ActiveCampaignToken,
            ["Slack__BaseUrl"] = Fake.SlackBaseUri.ToString(),
            ["Slack__Token"] = Fake.SlackToken,
            ["Slack__TeamId"] = "T0JOINERY",
            ["Slack__ChannelIds"] = "C0GENERAL",
        };
        Configure(settings);
        foreach (var (name, value) in settings)
            start.Environment[name] = value;

        // Ready when the host says so (ASP.NET Core's "Application started", logged once every hosted service, the bus
        // included, has started), or failed when it exits first; then its readiness endpoint must agree.
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _host = new Process { StartInfo = start, EnableRaisingEvents = true };
        _host.OutputDataReceived += (_, e) =>
        {
            Append(e.Data);
            if (e.Data?.Contains("Application started", StringComparison.Ordinal) == true)
                started.TrySetResult();
        };
        _host.ErrorDataReceived += (_, e) => Append(e.Data);
        _host.Exited += (_, _) => started.TrySetException(new InvalidOperationException("The standalone host exited before it was ready"));
        if (!_host.Start())
            throw new InvalidOperationException("Could not start dotnet for the standalone host");
        _host.BeginOutputReadLine();
        _host.BeginErrorReadLine();

        try
        {
            await started.Task.WaitAsync(StartTimeout);
        }
        catch (Exception ex)
        {
            throw new InvalidOperationException($"The standalone host did not start at {BaseUrl} ({ex.Message}):\n{HostLog}", ex);
        }
        using var http = new HttpClient { BaseAddress = BaseUrl, Timeout = TimeSpan.FromSeconds(30) };
        using var ready = await http.GetAsync("health/ready");
        if (ready.StatusCode != HttpStatusCode.OK)
            throw new InvalidOperationException(
                $"The standalone host started but {BaseUrl}health/ready answers {(int)ready.StatusCode}: {await ready.Content.ReadAsStringAsync()}\n{HostLog}");
    }

    /// <summary>
    /// Settings a collection's host needs beyond the defaults (environment spelling, <c>Section__Key</c>); the fake APIs
    /// are running by then.
    /// </summary>
    protected virtual void Configure(Dictionary<string, string> settings)
    {
    }

    /// <summary>The name of the host's log in <see cref="ArtifactsDirectory"/>.</summary>
    protected virtual string LogName => "browser-standalone.log";

    void Append(string? line)
    {
        if (line is null)
            return;
        lock (_log)
            _log.AppendLine(line);
    }

    static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    public async Task DisposeAsync()
    {
        if (Browser is not null)
            await Browser.DisposeAsync();
        _playwright?.Dispose();
        if (_host is { HasExited: false })
        {
            _host.Kill(entireProcessTree: true);
            await _host.WaitForExitAsync();
        }
        _host?.Dispose();
        // The host's log is an artifact as well: it tells what the services did during the browser tests.
        Directory.CreateDirectory(ArtifactsDirectory);
        await File.WriteAllTextAsync(Path.Combine(ArtifactsDirectory, LogName), HostLog);
        FakeControl?.Dispose();
        if (Fake is not null)
            await Fake.DisposeAsync();
        try
        {
            Directory.Delete(_dataDirectory, recursive: true);
        }
        catch (IOException)
        {
            // A file still held open is left for the OS's temporary-folder cleanup.
        }
    }
}

public static class RepoRoot
{
    /// <summary>The folder holding Joinery.slnx, found by walking up from the test assembly's folder.</summary>
    public static string Find()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "Joinery.slnx")))
                return dir.FullName;
        throw new InvalidOperationException($"No Joinery.slnx above {AppContext.BaseDirectory}");
    }
}
