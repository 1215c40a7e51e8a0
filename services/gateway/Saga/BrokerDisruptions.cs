using MassTransit;

namespace Joinery.Gateway.Saga;

/// <summary>
/// The last moment this gateway had reason to think a send may have been lost: its own start (it may have died between
/// a saga's save and the send the in-memory outbox releases after it), a receive endpoint that faulted or became ready
/// again (the broker connection dropped, or came back), a send that failed. The sweeper only nudges signups last
/// changed at or before it: a command sent since, on a connection that held, is queued, not lost, and sending it again
/// would only add to the queue (a backlog at Slack's rate limit would grow with every copy).
/// </summary>
public sealed class BrokerDisruptions(TimeProvider clock, ILogger<BrokerDisruptions>? logger = null) : IReceiveEndpointObserver, ISendObserver
{
    long _lastTicks = clock.GetUtcNow().UtcTicks;

    public DateTimeOffset Last => new(Interlocked.Read(ref _lastTicks), TimeSpan.Zero);

    public void Mark(string what)
    {
        Interlocked.Exchange(ref _lastTicks, clock.GetUtcNow().UtcTicks);
        logger?.LogInformation("Broker disruption ({What}): signups waiting on a command since before now may be nudged", what);
    }

    public Task Ready(ReceiveEndpointReady ready)
    {
        Mark($"endpoint {ready.InputAddress.AbsolutePath.TrimStart('/')} ready");
        return Task.CompletedTask;
    }

    public Task Faulted(ReceiveEndpointFaulted faulted)
    {
        Mark($"endpoint {faulted.InputAddress.AbsolutePath.TrimStart('/')} faulted");
        return Task.CompletedTask;
    }

    public Task SendFault<T>(SendContext<T> context, Exception exception) where T : class
    {
        Mark($"a {typeof(T).Name} send failed");
        return Task.CompletedTask;
    }

    public Task Stopping(ReceiveEndpointStopping stopping) => Task.CompletedTask;
    public Task Completed(ReceiveEndpointCompleted completed) => Task.CompletedTask;
    public Task PreSend<T>(SendContext<T> context) where T : class => Task.CompletedTask;
    public Task PostSend<T>(SendContext<T> context) where T : class => Task.CompletedTask;
}
