using System.Diagnostics;
using Joinery.EndToEnd.Support;
using System.Net;

namespace Joinery.EndToEnd.Observability;

/// <summary>One built service run as its own process (<c>dotnet Joinery.X.dll</c>), as the local mode runs it.</summary>
public sealed class ServiceProcess : IAsyncDisposable
{
    static readonly HttpClient Http = new() { Timeout = TimeSpan.FromSeconds(5) };

    readonly Process _process;

    ServiceProcess(string name, Process process, int port, string log)
    {
        Name = name;
        _process = process;
        Port = port;
        Log = log;
    }

    public string Name { get; }
    public int Port { get; }
    public string Log { get; }
    public int Pid => _process.Id;
    public bool HasExited => _process.HasExited;

    /// <param name="project">the project folder under the repository, e.g. services/store</param>
    public static ServiceProcess Start(string root, string configuration, string name, string project, string assembly,
        IReadOnlyDictionary<string, string> settings, string logDir)
    {
        var dir = Path.Combine(root, project, "bin", configuration, "net10.0");
        var dll = Path.Combine(dir, assembly + ".dll");
        if (!File.Exists(dll))
            throw new InvalidOperationException($"{dll} is missing: build the solution first (dotnet build Joinery.slnx -c {configuration})");
        Directory.CreateDirectory(logDir);
        var port = FreePort.Next();
        var log = Path.Combine(logDir, name + ".log");

        var start = new ProcessStartInfo("bash") { UseShellExecute = false, WorkingDirectory = dir };
        // exec: the pid is dotnet's; output to a file so nothing holds a pipe of ours.
        start.ArgumentList.Add("-c");
        start.ArgumentList.Add("exec dotnet \"$0\" --urls \"$1\" >\"$2\" 2>&1 </dev/null");
        start.ArgumentList.Add(dll);
        start.ArgumentList.Add($"http://127.0.0.1:{port}");
        start.ArgumentList.Add(log);
        foreach (var key in start.Environment.Keys.Where(k => k.StartsWith("OTEL_", StringComparison.Ordinal)).ToList())
            start.Environment.Remove(key);   // nothing to export to here
        start.Environment["Logging__LogLevel__Microsoft.AspNetCore"] = "Warning";
        foreach (var (key, value) in settings)
            start.Environment[key] = value;
        var process = Process.Start(start) ?? throw new InvalidOperationException($"Could not start {name}");
        return new ServiceProcess(name, process, port, log);
    }

    public Uri Url(string path) => new($"http://127.0.0.1:{Port}{path}");

    /// <summary>The status code of GET <paramref name="path"/>, or null when nothing answers.</summary>
    public async Task<HttpStatusCode?> Status(string path)
    {
        try
        {
            using var response = await Http.GetAsync(Url(path));
            return response.StatusCode;
        }
        catch (HttpRequestException) { return null; }
        catch (TaskCanceledException) { return null; }
    }

    public string Tail() => File.Exists(Log) ? string.Join('\n', File.ReadLines(Log).TakeLast(30)) : "(no log)";

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            using var cancel = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            try { await _process.WaitForExitAsync(cancel.Token); } catch (OperationCanceledException) { }
        }
        _process.Dispose();
    }
}
