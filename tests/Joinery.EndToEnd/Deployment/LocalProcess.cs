using System.Diagnostics;
using System.Net;
using System.Runtime.InteropServices;
using System.Text.RegularExpressions;
using Joinery.EndToEnd.Support;

namespace Joinery.EndToEnd.Deployment;

/// <summary>
/// A process of the running local mode, read from /proc through the pid file deploy/local/up.sh wrote: its working
/// folder, environment and URL. Read rather than assumed, so these tests follow up.sh wherever it goes.
/// </summary>
public sealed record LocalProcess(string Name, int Pid, string WorkingDirectory, IReadOnlyDictionary<string, string> Environment,
    IReadOnlyList<string> Arguments, string LogFile)
{
    public static LocalProcess Of(LocalModeFixture local, string name) => Of(local.StateDir, name);

    /// <param name="stateDir">The instance's JOINERY_LOCAL_DIR (pids/ and logs/ below it).</param>
    public static LocalProcess Of(string stateDir, string name)
    {
        var pidFile = Path.Combine(stateDir, "pids", name + ".pid");
        Assert.True(File.Exists(pidFile), $"{pidFile} is missing: is the local mode up?");
        var pid = int.Parse(File.ReadAllText(pidFile).Trim());
        var environment = File.ReadAllText($"/proc/{pid}/environ").Split('\0', StringSplitOptions.RemoveEmptyEntries)
            .Select(e => e.Split('=', 2))
            .GroupBy(e => e[0])
            .ToDictionary(g => g.Key, g => g.Last().ElementAtOrDefault(1) ?? "");
        var arguments = File.ReadAllText($"/proc/{pid}/cmdline").Split('\0', StringSplitOptions.RemoveEmptyEntries);
        var cwd = new DirectoryInfo($"/proc/{pid}/cwd").ResolveLinkTarget(returnFinalTarget: true)?.FullName
                  ?? throw new InvalidOperationException($"cannot read the working folder of {name} (pid {pid})");
        return new LocalProcess(name, pid, cwd, environment, arguments, Path.Combine(stateDir, "logs", name + ".log"));
    }

    /// <summary>The assembly it runs (the argument after <c>dotnet</c> that ends in .dll).</summary>
    public string Assembly => Arguments.First(a => a.EndsWith(".dll", StringComparison.Ordinal));

    /// <summary>The URL it listens on (<c>--urls</c>).</summary>
    public Uri Url => new(Arguments.SkipWhile(a => a != "--urls").ElementAt(1));

    /// <summary>The RabbitMQ virtual host its connection string names ("/" when none).</summary>
    public string RabbitMqVhost
    {
        get
        {
            var path = new Uri(Environment["ConnectionStrings__RabbitMq"]).AbsolutePath.Trim('/');
            return path.Length == 0 ? "/" : Uri.UnescapeDataString(path);
        }
    }

    /// <summary>
    /// Starts another instance of the same service: same folder, assembly and environment, with
    /// <paramref name="overrides"/> on top, its own port and its own log file. The caller stops it.
    /// </summary>
    public StartedProcess StartAnother(string logFile, IReadOnlyDictionary<string, string>? overrides = null)
    {
        var port = FreePort.Next();
        var start = new ProcessStartInfo("bash")
        {
            WorkingDirectory = WorkingDirectory,
            UseShellExecute = false,
        };
        // Output to a file, not a pipe: nothing of ours must keep it alive or block on it.
        start.ArgumentList.Add("-c");
        start.ArgumentList.Add("exec dotnet \"$0\" --urls \"$1\" >\"$2\" 2>&1 </dev/null");
        start.ArgumentList.Add(Assembly);
        start.ArgumentList.Add($"http://127.0.0.1:{port}");
        start.ArgumentList.Add(logFile);
        start.Environment.Clear();
        foreach (var (key, value) in Environment)
            start.Environment[key] = value;
        foreach (var (key, value) in overrides ?? new Dictionary<string, string>())
            start.Environment[key] = value;
        var process = Process.Start(start) ?? throw new InvalidOperationException($"could not start another {Name}");
        return new StartedProcess(process, new Uri($"http://127.0.0.1:{port}"), logFile);
    }
}

/// <summary>A service process a test started; disposing stops it (SIGTERM, then SIGKILL after a grace period).</summary>
public sealed class StartedProcess(Process process, Uri url, string logFile) : IAsyncDisposable
{
    public int Pid => process.Id;
    public Uri Url => url;
    public string LogFile => logFile;

    public async Task WaitUntilReady(TimeSpan timeout)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
        await Eventually.Until(async () =>
            {
                if (process.HasExited)
                    throw new InvalidOperationException($"pid {Pid} exited ({process.ExitCode}) before it was ready:\n{Tail(LogFile)}");
                try
                {
                    using var response = await http.GetAsync(new Uri(url, "/health/ready"));
                    return response.StatusCode;
                }
                catch (HttpRequestException)
                {
                    return (HttpStatusCode)0;
                }
            },
            status => status == HttpStatusCode.OK, timeout, $"pid {Pid} at {url} answers /health/ready with 200");
    }

    public async ValueTask DisposeAsync()
    {
        if (!process.HasExited)
        {
            _ = kill(process.Id, SIGTERM);
            using var grace = new CancellationTokenSource(TimeSpan.FromSeconds(20));
            try
            {
                await process.WaitForExitAsync(grace.Token);
            }
            catch (OperationCanceledException)
            {
                process.Kill();
                await process.WaitForExitAsync();
            }
        }
        process.Dispose();
    }

    public static string Tail(string file, int lines = 40) =>
        File.Exists(file) ? string.Join('\n', File.ReadLines(file).TakeLast(lines)) : "(no log)";

    const int SIGTERM = 15;

    [DllImport("libc", SetLastError = true)]
#pragma warning disable SYSLIB1054 // a one-line P/Invoke; no marshalling to generate
    static extern int kill(int pid, int sig);
#pragma warning restore SYSLIB1054
}

/// <summary>Counts what a service's log says it did, from a given offset (so only this test's share counts).</summary>
public static class ServiceLog
{
    /// <summary>ActiveCampaign contact syncs sent: the HttpClient factory logs one line per request at Information.</summary>
    public static readonly Regex ContactSyncSent = new(@"Sending HTTP request POST \S+/api/3/contact/sync\b");

    public static long Length(string file) => File.Exists(file) ? new FileInfo(file).Length : 0;

    public static int Count(string file, Regex pattern, long fromOffset = 0)
    {
        if (!File.Exists(file))
            return 0;
        using var stream = new FileStream(file, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        stream.Seek(fromOffset, SeekOrigin.Begin);
        using var reader = new StreamReader(stream);
        return pattern.Matches(reader.ReadToEnd()).Count;
    }
}
