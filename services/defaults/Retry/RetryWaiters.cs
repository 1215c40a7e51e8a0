using System.Collections.Concurrent;
using MassTransit;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Joinery.ServiceDefaults.Retry;

/// <summary>Picks the waiter by the transport the message came in on: RabbitMQ wait queues, or in memory.</summary>
public sealed class TransportRetryWaiter(RabbitMqWaitQueues rabbit, InMemoryRetryWaiter memory) : IRetryWaiter
{
    public Task Wait<T>(ConsumeContext<T> context, TimeSpan delay, RetryState state) where T : class =>
        RabbitMqWaitQueues.IsRabbitMq(context.ReceiveContext.InputAddress)
            ? rabbit.Wait(context, delay, state)
            : memory.Wait(context, delay, state);
}

/// <summary>
/// RabbitMQ without the delayed-message plugin: the message is sent to <c>&lt;queue&gt;-wait-&lt;N&gt;s</c>, a queue
/// with a message TTL of N seconds and a dead-letter route (default exchange, routing key <c>&lt;queue&gt;</c>) back
/// to the consumer's queue. Nothing waits in the process, and the message is on the broker's disk all along.
/// </summary>
/// <remarks>
/// RabbitMQ only expires messages at the head of a queue, so one queue with per-message TTLs would hold a short wait
/// behind a long one. Each wait queue therefore has a single TTL (a bucket); a wait is rounded up to the next bucket,
/// never down, so a <c>Retry-After</c> is always honoured. Buckets are declared on first use.
/// </remarks>
public sealed class RabbitMqWaitQueues(RabbitMqQueueDeclarer declarer, ILogger<RabbitMqWaitQueues> logger) : IRetryWaiter
{
    /// <summary>The TTLs of the wait queues, in seconds: at most about a third more than the wait asked for.</summary>
    public static readonly int[] BucketSeconds =
        [1, 2, 3, 4, 5, 6, 8, 10, 12, 15, 20, 25, 30, 40, 50, 60, 75, 90, 120, 150, 180, 240, 300, 360, 480, 600, 900, 1200, 1800, 2700, 3600];

    public static bool IsRabbitMq(Uri? address) =>
        address?.Scheme is "rabbitmq" or "rabbitmqs" or "amqp" or "amqps";

    public static int Bucket(TimeSpan delay)
    {
        var seconds = Math.Ceiling(delay.TotalSeconds);
        foreach (var bucket in BucketSeconds)
            if (bucket >= seconds)
                return bucket;
        return BucketSeconds[^1];
    }

    public static string WaitQueueName(string queue, int bucketSeconds) => $"{queue}-wait-{bucketSeconds}s";

    public async Task Wait<T>(ConsumeContext<T> context, TimeSpan delay, RetryState state) where T : class
    {
        var queue = context.ReceiveContext.InputAddress.AbsolutePath.Split('/', StringSplitOptions.RemoveEmptyEntries).LastOrDefault()
                    ?? throw new InvalidOperationException($"No queue name in {context.ReceiveContext.InputAddress}");
        var bucket = Bucket(delay);
        var waitQueue = WaitQueueName(queue, bucket);
        await declarer.EnsureWaitQueue(waitQueue, TimeSpan.FromSeconds(bucket), queue, context.CancellationToken);

        // An exchange address: MassTransit declares only the (fanout) exchange; the queue and its binding are ours.
        var endpoint = await context.GetSendEndpoint(new Uri($"exchange:{waitQueue}"));
        await endpoint.Send(context.Message, send => state.WriteTo(send.Headers), context.CancellationToken);
        logger.LogDebug("{MessageType} parked in {WaitQueue}", typeof(T).Name, waitQueue);
    }
}

/// <summary>
/// The in-memory transport's stand-in (standalone mode and tests): a timer per waiting message, then a send back to
/// the queue it came from. Like everything on that transport, it does not survive a restart.
/// </summary>
public sealed class InMemoryRetryWaiter(IServiceProvider services, TimeProvider clock, ILogger<InMemoryRetryWaiter> logger) : IRetryWaiter, IAsyncDisposable
{
    readonly CancellationTokenSource _stopping = new();
    readonly ConcurrentDictionary<Task, byte> _waiting = new();

    public int Waiting => _waiting.Count;

    public Task Wait<T>(ConsumeContext<T> context, TimeSpan delay, RetryState state) where T : class
    {
        var message = context.Message;
        var destination = context.ReceiveContext.InputAddress;
        var task = Task.Run(async () =>
        {
            try
            {
                await Task.Delay(delay, clock, _stopping.Token);
                // The bus itself (a singleton): the scoped ISendEndpointProvider cannot be resolved from the root provider.
                var bus = services.GetRequiredService<IBus>();
                var endpoint = await bus.GetSendEndpoint(destination);
                await endpoint.Send(message, send => state.WriteTo(send.Headers), _stopping.Token);
            }
            catch (OperationCanceledException) when (_stopping.IsCancellationRequested)
            {
            }
            catch (Exception ex)
            {
                logger.LogError(ex, "Could not bring {MessageType} back to {Destination} after its wait", typeof(T).Name, destination);
            }
        });
        _waiting.TryAdd(task, 0);
        task.ContinueWith(t => _waiting.TryRemove(t, out _), TaskScheduler.Default);
        return Task.CompletedTask;
    }

    public async ValueTask DisposeAsync()
    {
        await _stopping.CancelAsync();
        try
        {
            await Task.WhenAll(_waiting.Keys).WaitAsync(TimeSpan.FromSeconds(5));
        }
        catch (Exception)
        {
            // Stopping: whatever was waiting is dropped, as any in-memory message is.
        }
        _stopping.Dispose();
    }
}
