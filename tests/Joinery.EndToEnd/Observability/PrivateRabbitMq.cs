using System.Diagnostics;
using Joinery.EndToEnd.Support;
using System.Net.Sockets;

namespace Joinery.EndToEnd.Observability;

/// <summary>
/// A RabbitMQ node of the test's own (Debian's rabbitmq-server under another node name, port and data folder), so that
/// stopping "the broker" stops nothing anyone else uses: not a developer's local mode, not the other end-to-end tests.
/// Needs root, as the Debian scripts do (they run the node as the rabbitmq user).
/// </summary>
public sealed class PrivateRabbitMq : IAsyncDisposable
{
    /// <summary>Fixed, so that a node left behind by a killed test run is found and stopped by the next one.</summary>
    public const string NodeName = "joinery-e2e-readiness@localhost";

    static readonly TimeSpan StartDeadline = TimeSpan.FromSeconds(120);
    static readonly TimeSpan CommandTimeout = TimeSpan.FromSeconds(90);

    readonly string _dir;
    readonly string _log;

    PrivateRabbitMq(string dir, string nodeName)
    {
        _dir = dir;
        Node = nodeName;
        _log = Path.Combine(dir, "node.out");
        Port = FreePort.Next();
        DistributionPort = FreePort.Next();
    }

    /// <summary>The Erlang node name (<c>rabbitmqctl -n</c>).</summary>
    public string Node { get; }
    public int Port { get; }
    public int DistributionPort { get; }
    public bool AppRunning { get; private set; }
    public string Uri => $"amqp://guest:guest@127.0.0.1:{Port}/";

    /// <param name="nodeName">fixed per test suite, so that a node left behind by a killed run is found and stopped by the next one</param>
    public static async Task<PrivateRabbitMq> Start(string stateDir, string nodeName = NodeName)
    {
        if (Environment.UserName != "root" && Environment.GetEnvironmentVariable("USER") != "root")
            throw new InvalidOperationException("The readiness test runs its own RabbitMQ node, which Debian's scripts only start as root.");
        var dir = Path.Combine(stateDir, nodeName == NodeName ? "rabbitmq-readiness" : "rabbitmq-" + nodeName.Split('@')[0]);
        await Rabbitmqctl(nodeName, "stop", TimeSpan.FromSeconds(30), failIfNotZero: false);  // a node left by a killed run
        if (Directory.Exists(dir))
            Directory.Delete(dir, recursive: true);
        Directory.CreateDirectory(dir);

        var node = new PrivateRabbitMq(dir, nodeName);
        await File.WriteAllTextAsync(Path.Combine(dir, "rabbitmq.conf"), $"listeners.tcp.1 = 127.0.0.1:{node.Port}\n");
        await File.WriteAllTextAsync(Path.Combine(dir, "enabled_plugins"), "[].\n");  // no management or prometheus listener
        await Run("chown", ["-R", "rabbitmq:rabbitmq", dir], CommandTimeout);

        var start = new ProcessStartInfo("bash") { UseShellExecute = false, WorkingDirectory = "/" };
        start.ArgumentList.Add("-c");
        start.ArgumentList.Add("exec rabbitmq-server -detached >\"$0\" 2>&1 </dev/null");
        start.ArgumentList.Add(node._log);
        start.Environment["RABBITMQ_NODENAME"] = nodeName;
        start.Environment["RABBITMQ_NODE_PORT"] = node.Port.ToString();
        start.Environment["RABBITMQ_DIST_PORT"] = node.DistributionPort.ToString();
        start.Environment["RABBITMQ_CONFIG_FILE"] = Path.Combine(dir, "rabbitmq.conf");
        start.Environment["RABBITMQ_ADVANCED_CONFIG_FILE"] = Path.Combine(dir, "advanced.config");
        start.Environment["RABBITMQ_ENABLED_PLUGINS_FILE"] = Path.Combine(dir, "enabled_plugins");
        start.Environment["RABBITMQ_MNESIA_BASE"] = Path.Combine(dir, "mnesia");
        start.Environment["RABBITMQ_LOG_BASE"] = Path.Combine(dir, "log");
        start.Environment["RABBITMQ_PID_FILE"] = Path.Combine(dir, "node.pid");
        using (var process = Process.Start(start) ?? throw new InvalidOperationException("Could not run rabbitmq-server"))
        {
            using var cancel = new CancellationTokenSource(CommandTimeout);
            await process.WaitForExitAsync(cancel.Token);
        }

        await node.WaitForPort(open: true, StartDeadline, "the private RabbitMQ node to accept connections");
        node.AppRunning = true;
        return node;
    }

    /// <summary>Stops the RabbitMQ application; the Erlang node stays up, so it can be started again quickly.</summary>
    public async Task StopApp()
    {
        AppRunning = false;
        await Rabbitmqctl(Node, "stop_app", CommandTimeout);
        await WaitForPort(open: false, TimeSpan.FromSeconds(30), "the AMQP listener to close");
    }

    public async Task StartApp()
    {
        await Rabbitmqctl(Node, "start_app", CommandTimeout);
        await WaitForPort(open: true, StartDeadline, "the AMQP listener to open again");
        AppRunning = true;
    }

    public async ValueTask DisposeAsync()
    {
        await Rabbitmqctl(Node, "stop", CommandTimeout, failIfNotZero: false);
        try { Directory.Delete(_dir, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }

    async Task WaitForPort(bool open, TimeSpan timeout, string what)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (PortOpen() != open)
        {
            if (DateTime.UtcNow >= deadline)
                throw new TimeoutException($"Not within {timeout.TotalSeconds:0}s: {what} (port {Port}).\n{Tail(_log)}");
            await Task.Delay(200);
        }
    }

    bool PortOpen()
    {
        try
        {
            using var client = new TcpClient();
            return client.ConnectAsync("127.0.0.1", Port).Wait(TimeSpan.FromSeconds(1)) && client.Connected;
        }
        catch (AggregateException) { return false; }
        catch (SocketException) { return false; }
    }

    static Task Rabbitmqctl(string node, string command, TimeSpan timeout, bool failIfNotZero = true) =>
        Run("rabbitmqctl", ["-q", "-n", node, command], timeout, failIfNotZero);

    static async Task Run(string file, string[] arguments, TimeSpan timeout, bool failIfNotZero = true)
    {
        var start = new ProcessStartInfo(file) { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = "/" };
        foreach (var argument in arguments)
            start.ArgumentList.Add(argument);
        using var process = Process.Start(start) ?? throw new InvalidOperationException($"Could not run {file}");
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        using var cancel = new CancellationTokenSource(timeout);
        try
        {
            await process.WaitForExitAsync(cancel.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            if (failIfNotZero)
                throw new TimeoutException($"{file} {string.Join(' ', arguments)} did not finish within {timeout}");
            return;
        }
        if (failIfNotZero && process.ExitCode != 0)
            throw new InvalidOperationException($"{file} {string.Join(' ', arguments)} exited {process.ExitCode}: {await output}{await error}");
    }

    static string Tail(string file) =>
        File.Exists(file) ? string.Join('\n', File.ReadLines(file).TakeLast(20)) : "";
}
