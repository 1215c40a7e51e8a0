using System.Collections.Concurrent;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging;
using RabbitMQ.Client;

namespace Joinery.ServiceDefaults.Retry;

/// <summary>
/// Declares the wait queues, which MassTransit's topology cannot express (a queue with a TTL and a dead-letter route
/// that nobody consumes). One connection of its own, opened on first use and reopened after a failure; each queue is
/// declared once per process. Declaring is idempotent on the broker, so several instances may race to do it.
/// </summary>
public sealed class RabbitMqQueueDeclarer(IConfiguration configuration, ILogger<RabbitMqQueueDeclarer> logger) : IAsyncDisposable
{
    readonly SemaphoreSlim _gate = new(1, 1);
    readonly ConcurrentDictionary<string, bool> _declared = new(StringComparer.Ordinal);
    IConnection? _connection;
    IChannel? _channel;

    public async Task EnsureWaitQueue(string waitQueue, TimeSpan ttl, string deadLetterQueue, CancellationToken cancellationToken)
    {
        if (_declared.ContainsKey(waitQueue))
            return;
        await _gate.WaitAsync(cancellationToken);
        try
        {
            if (_declared.ContainsKey(waitQueue))
                return;
            try
            {
                var channel = await Channel(cancellationToken);
                await channel.ExchangeDeclareAsync(waitQueue, ExchangeType.Fanout, durable: true, autoDelete: false,
                    arguments: null, cancellationToken: cancellationToken);
                await channel.QueueDeclareAsync(waitQueue, durable: true, exclusive: false, autoDelete: false,
                    arguments: new Dictionary<string, object?>
                    {
                        ["x-message-ttl"] = (int)ttl.TotalMilliseconds,
                        // The default exchange routes by queue name: straight back to the consumer's queue, whatever
                        // exchanges MassTransit bound to it.
                        ["x-dead-letter-exchange"] = "",
                        ["x-dead-letter-routing-key"] = deadLetterQueue,
                    },
                    cancellationToken: cancellationToken);
                await channel.QueueBindAsync(waitQueue, waitQueue, routingKey: "", arguments: null, cancellationToken: cancellationToken);
                _declared[waitQueue] = true;
                logger.LogInformation("Declared wait queue {WaitQueue} (TTL {Ttl}, back to {Queue})", waitQueue, ttl, deadLetterQueue);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                await Reset();
                // Transient for the caller: the message is not acknowledged, MassTransit redelivers it.
                throw new InvalidOperationException($"Could not declare the wait queue {waitQueue}: {ex.Message}", ex);
            }
        }
        finally
        {
            _gate.Release();
        }
    }

    async Task<IChannel> Channel(CancellationToken cancellationToken)
    {
        if (_channel is { IsOpen: true } open)
            return open;
        await Reset();
        var uri = MessagingOptions.From(configuration).RabbitMqUri;
        var factory = new ConnectionFactory { Uri = uri, ClientProvidedName = "joinery-wait-queues" };
        _connection = await factory.CreateConnectionAsync(cancellationToken);
        _channel = await _connection.CreateChannelAsync(cancellationToken: cancellationToken);
        return _channel;
    }

    async Task Reset()
    {
        try
        {
            if (_channel is not null)
                await _channel.DisposeAsync();
            if (_connection is not null)
                await _connection.DisposeAsync();
        }
        catch (Exception)
        {
            // Already broken: nothing to close cleanly.
        }
        _channel = null;
        _connection = null;
    }

    public async ValueTask DisposeAsync()
    {
        await Reset();
        _gate.Dispose();
    }
}
