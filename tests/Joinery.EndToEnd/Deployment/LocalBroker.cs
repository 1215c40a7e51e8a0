using System.Diagnostics;
using System.Text.Json;

namespace Joinery.EndToEnd.Deployment;

/// <summary>A queue as the broker reports it.</summary>
public sealed record BrokerQueue(string Name, bool Durable, bool AutoDelete, string Type);

/// <summary>One consumer on a queue, with the process behind its connection (MassTransit's client properties).</summary>
public sealed record BrokerConsumer(string Queue, int ProcessId, string Assembly);

/// <summary>
/// The local RabbitMQ, read with <c>rabbitmqctl</c> (Debian's broker has no management plugin enabled; as root,
/// rabbitmqctl needs nothing more). MassTransit names every connection's process and assembly in its client
/// properties, which is how a queue is traced to the process that consumes it.
/// </summary>
public static class LocalBroker
{
    static readonly TimeSpan CommandTimeout = TimeSpan.FromSeconds(60);

    public static async Task<IReadOnlyList<BrokerQueue>> Queues(string vhost)
    {
        using var json = await Json("list_queues", "-p", vhost, "name", "durable", "auto_delete", "type");
        return json.RootElement.EnumerateArray()
            .Select(q => new BrokerQueue(q.GetProperty("name").GetString()!, q.GetProperty("durable").GetBoolean(),
                q.GetProperty("auto_delete").GetBoolean(), q.GetProperty("type").GetString()!))
            .ToList();
    }

    public static async Task<IReadOnlyList<BrokerConsumer>> Consumers(string vhost)
    {
        using var consumers = await Json("list_consumers", "-p", vhost, "queue_name", "channel_pid");
        using var channels = await Json("list_channels", "pid", "connection");
        using var connections = await Json("list_connections", "pid", "client_properties");

        var connectionOfChannel = channels.RootElement.EnumerateArray()
            .ToDictionary(c => c.GetProperty("pid").GetString()!, c => c.GetProperty("connection").GetString()!);
        var processOfConnection = connections.RootElement.EnumerateArray()
            .ToDictionary(c => c.GetProperty("pid").GetString()!, c => ClientProperties(c.GetProperty("client_properties")));

        var result = new List<BrokerConsumer>();
        foreach (var consumer in consumers.RootElement.EnumerateArray())
        {
            var channel = consumer.GetProperty("channel_pid").GetString()!;
            if (!connectionOfChannel.TryGetValue(channel, out var connection) || !processOfConnection.TryGetValue(connection, out var properties))
                continue; // a channel that closed between the listings
            result.Add(new BrokerConsumer(consumer.GetProperty("queue_name").GetString()!,
                int.TryParse(properties.GetValueOrDefault("process_id"), out var pid) ? pid : 0,
                properties.GetValueOrDefault("assembly") ?? "?"));
        }
        return result;
    }

    /// <summary>A fresh virtual host where guest may do anything, as deploy/local/up.sh grants its own.</summary>
    public static async Task CreateVhost(string vhost)
    {
        await Run("delete_vhost", vhost); // a leftover of an interrupted run; absent is fine
        var (code, output) = await Run("add_vhost", vhost);
        if (code != 0)
            throw new InvalidOperationException($"rabbitmqctl add_vhost {vhost}: {output}");
        (code, output) = await Run("set_permissions", "-p", vhost, "guest", ".*", ".*", ".*");
        if (code != 0)
            throw new InvalidOperationException($"rabbitmqctl set_permissions -p {vhost} guest: {output}");
    }

    public static Task DeleteVhost(string vhost) => Run("delete_vhost", vhost);

    /// <summary>[["process_id","longstr","123"], ...] as a dictionary of the string-valued ones.</summary>
    static Dictionary<string, string> ClientProperties(JsonElement properties) =>
        properties.EnumerateArray()
            .Where(p => p.GetArrayLength() == 3 && p[2].ValueKind == JsonValueKind.String)
            .GroupBy(p => p[0].GetString()!)
            .ToDictionary(g => g.Key, g => g.First()[2].GetString()!);

    static async Task<JsonDocument> Json(params string[] args)
    {
        var (code, output) = await Run([.. args, "--formatter", "json"]);
        if (code != 0)
            throw new InvalidOperationException($"rabbitmqctl {string.Join(' ', args)} failed ({code}): {output}");
        return JsonDocument.Parse(output);
    }

    static async Task<(int ExitCode, string Output)> Run(params string[] args)
    {
        var start = new ProcessStartInfo("rabbitmqctl")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add("-q");
        foreach (var arg in args)
            start.ArgumentList.Add(arg);
        using var process = Process.Start(start) ?? throw new InvalidOperationException("could not run rabbitmqctl");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var cancel = new CancellationTokenSource(CommandTimeout);
        try
        {
            await process.WaitForExitAsync(cancel.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            return (-1, $"rabbitmqctl {string.Join(' ', args)} did not finish within {CommandTimeout}");
        }
        var error = await stderr;
        return (process.ExitCode, process.ExitCode == 0 ? await stdout : error + await stdout);
    }
}
