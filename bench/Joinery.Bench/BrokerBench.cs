using System.Diagnostics;
using Joinery.Contracts;
using MassTransit;

namespace Joinery.Bench;

public sealed record BrokerCeiling(double MessagesPerSecond, long Messages, double Seconds, int BodyBytes, int Publishers, int Prefetch, int ConsumerConcurrency);

public sealed record PublishRate(double MessagesPerSecond, long Messages, double Seconds, int Concurrency);

/// <summary>
/// RabbitMQ through MassTransit 8.5, as the services use it (the same JSON envelope, the same message type, publisher
/// confirms on: MassTransit's default, which the services keep).
/// </summary>
public static class BrokerBench
{
    public const string CeilingQueue = "bench-ceiling";

    /// <summary>A message the size of a real signup: a plausible name and email, the way the gateway publishes them.</summary>
    public static SignupRequested Signup(long i)
    {
        var email = $"bench.person.{i:D7}@example.com";
        return new SignupRequested(Guid.NewGuid(), $"Bench Person {i:D7}", email, email, DateTimeOffset.UtcNow);
    }

    /// <summary>
    /// (1) The broker's own ceiling: messages published (confirmed) and consumed per second through MassTransit, on its
    /// own virtual host of the same RabbitMQ. The rate counts messages that made the whole trip: published, routed
    /// to a queue, delivered to a consumer and acknowledged.
    /// </summary>
    public static async Task<BrokerCeiling> Ceiling(Uri rabbit, double seconds, int publishers, int prefetch, int concurrency,
        CancellationToken cancellationToken)
    {
        var counter = new ConsumeCounter();
        var bus = Bus.Factory.CreateUsingRabbitMq(cfg =>
        {
            cfg.Host(rabbit);
            cfg.ReceiveEndpoint(CeilingQueue, e =>
            {
                e.PurgeOnStartup = true;
                e.PrefetchCount = prefetch;
                e.ConcurrentMessageLimit = concurrency;
                e.Consumer(() => new CountingConsumer(counter));
            });
        });
        await bus.StartAsync(cancellationToken);
        try
        {
            // Warm-up: JIT, channels, the queue's process in RabbitMQ.
            await Publish(bus, publishers, TimeSpan.FromSeconds(1.5), counter, cancellationToken);
            await counter.WaitFor(counter.Published, TimeSpan.FromSeconds(30));

            counter.Reset();
            var clock = Stopwatch.StartNew();
            await Publish(bus, publishers, TimeSpan.FromSeconds(seconds), counter, cancellationToken);
            // Count until everything published so far has been consumed (bounded): the rate is of whole trips.
            await counter.WaitFor(counter.Published, TimeSpan.FromSeconds(30));
            var elapsed = clock.Elapsed.TotalSeconds;
            return new BrokerCeiling(counter.Consumed / elapsed, counter.Consumed, elapsed, counter.BodyBytes, publishers, prefetch, concurrency);
        }
        finally
        {
            await bus.StopAsync(CancellationToken.None);
        }
    }

    /// <summary>
    /// (4) The raw publish rate: the same message, published by MassTransit to the services' own exchange on their
    /// virtual host (same routing as the gateway's publish), with publisher confirms, <paramref name="concurrency"/> in flight.
    /// </summary>
    public static async Task<PublishRate> RawPublish(IBusControl bus, double seconds, int concurrency, CancellationToken cancellationToken)
    {
        var counter = new ConsumeCounter();
        await Publish(bus, concurrency, TimeSpan.FromSeconds(1), counter, cancellationToken); // warm-up
        counter.Reset();
        var clock = Stopwatch.StartNew();
        await Publish(bus, concurrency, TimeSpan.FromSeconds(seconds), counter, cancellationToken);
        var elapsed = clock.Elapsed.TotalSeconds;
        return new PublishRate(counter.Published / elapsed, counter.Published, elapsed, concurrency);
    }

    public static IBusControl PublishOnlyBus(Uri rabbit) =>
        Bus.Factory.CreateUsingRabbitMq(cfg => cfg.Host(rabbit));

    static async Task Publish(IBus bus, int workers, TimeSpan duration, ConsumeCounter counter, CancellationToken cancellationToken)
    {
        var until = Stopwatch.GetTimestamp() + (long)(duration.TotalSeconds * Stopwatch.Frequency);
        var tasks = Enumerable.Range(0, workers).Select(async _ =>
        {
            while (Stopwatch.GetTimestamp() < until && !cancellationToken.IsCancellationRequested)
            {
                // Awaiting Publish waits for RabbitMQ's confirm of this message.
                await bus.Publish(Signup(counter.NextIndex()), cancellationToken);
                counter.OnPublished();
            }
        });
        await Task.WhenAll(tasks);
    }

    sealed class CountingConsumer(ConsumeCounter counter) : IConsumer<SignupRequested>
    {
        public Task Consume(ConsumeContext<SignupRequested> context)
        {
            counter.OnConsumed(context);
            return Task.CompletedTask;
        }
    }

    sealed class ConsumeCounter
    {
        long _published, _consumed, _index;
        public int BodyBytes { get; private set; }
        public long Published => Interlocked.Read(ref _published);
        public long Consumed => Interlocked.Read(ref _consumed);

        public long NextIndex() => Interlocked.Increment(ref _index);
        public void OnPublished() => Interlocked.Increment(ref _published);

        public void OnConsumed(ConsumeContext context)
        {
            if (BodyBytes == 0)
                BodyBytes = context.ReceiveContext.Body.GetBytes().Length;
            Interlocked.Increment(ref _consumed);
        }

        public void Reset()
        {
            Interlocked.Exchange(ref _published, 0);
            Interlocked.Exchange(ref _consumed, 0);
        }

        public async Task WaitFor(long count, TimeSpan timeout)
        {
            var deadline = DateTime.UtcNow + timeout;
            while (Consumed < count && DateTime.UtcNow < deadline)
                await Task.Delay(2);
        }
    }
}
