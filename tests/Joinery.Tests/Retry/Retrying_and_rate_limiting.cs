using System.Diagnostics;
using Joinery.ServiceDefaults.Retry;
using MassTransit;
using MassTransit.Serialization;

namespace Joinery.Tests.Retry;

/// <summary>The shared pieces under both integrations: backoff with jitter, the retry headers, the client-side limiter.</summary>
public sealed class Retrying_and_rate_limiting
{
    [Fact]
    public void Backoff_doubles_with_equal_jitter_up_to_the_maximum()
    {
        var policy = new RetryPolicy { InitialDelay = TimeSpan.FromSeconds(1), MaxDelay = TimeSpan.FromSeconds(10) };
        var random = new Random(7);

        for (var attempt = 1; attempt <= 8; attempt++)
        {
            var ceiling = Math.Min(10, Math.Pow(2, attempt - 1));
            var delays = Enumerable.Range(0, 200).Select(_ => policy.Delay(attempt, null, random).TotalSeconds).ToList();
            Assert.All(delays, d => Assert.InRange(d, ceiling / 2, ceiling));
            // Jitter: the delays of one attempt are spread, not all equal.
            Assert.True(delays.Max() - delays.Min() > ceiling / 4, $"attempt {attempt}: {delays.Min()}..{delays.Max()}");
        }
    }

    [Fact]
    public void Retry_after_is_a_floor_with_a_little_spread_on_top()
    {
        var policy = new RetryPolicy { InitialDelay = TimeSpan.FromMilliseconds(100) };
        var random = new Random(3);

        var delays = Enumerable.Range(0, 200).Select(_ => policy.Delay(1, TimeSpan.FromSeconds(30), random).TotalSeconds).ToList();

        Assert.All(delays, d => Assert.InRange(d, 30, 36));
        Assert.True(delays.Distinct().Count() > 100);
    }

    [Fact]
    public void The_retry_state_survives_the_trip_through_headers()
    {
        var first = new DateTimeOffset(2026, 1, 2, 3, 4, 5, TimeSpan.Zero);
        var state = new RetryState(3, first, TimeSpan.FromMilliseconds(1500)) { SlotLimiter = "slack:invites", Slot = first.AddMinutes(2) };
        var headers = new DictionarySendHeaders(new Dictionary<string, object?>());

        state.WriteTo(headers);
        var read = RetryState.From(headers, first.AddMinutes(1));

        Assert.Equal(state, read);
        Assert.Equal(first + TimeSpan.FromMinutes(30) + TimeSpan.FromMilliseconds(1500), read.Deadline(new RetryPolicy()));
    }

    [Fact]
    public void A_message_without_headers_starts_now_with_no_attempts()
    {
        var now = DateTimeOffset.UtcNow;

        var state = RetryState.From(new DictionarySendHeaders(new Dictionary<string, object?>()), now);

        Assert.Equal(new RetryState(0, now, TimeSpan.Zero), state);
    }

    [Fact]
    public async Task The_limiter_spaces_permits_evenly_without_holding_threads()
    {
        // Ten a second: 30 callers at once get their permits over about three seconds.
        var limiter = new ApiRateLimiter("test", 10, TimeSpan.FromSeconds(10));
        var clock = Stopwatch.StartNew();
        var threadsBefore = ThreadPool.ThreadCount;

        var times = await Task.WhenAll(Enumerable.Range(0, 30).Select(async _ =>
        {
            await limiter.Acquire(CancellationToken.None);
            return clock.Elapsed;
        }));

        var ordered = times.Order().ToArray();
        // Never early: the k-th permit comes k intervals after the first (a timer may fire late, never early).
        for (var k = 0; k < ordered.Length; k++)
            Assert.True(ordered[k] >= TimeSpan.FromMilliseconds(100 * k - 20), $"permit {k} at {ordered[k].TotalMilliseconds} ms");
        Assert.True(ordered[^1] < TimeSpan.FromSeconds(8), $"the last permit came at {ordered[^1].TotalSeconds} s");
        // Thirty waits at once, yet no flood of threads (a blocking wait would need one each).
        Assert.True(ThreadPool.ThreadCount < threadsBefore + 20, $"{threadsBefore} -> {ThreadPool.ThreadCount} threads");
    }

    [Fact]
    public async Task A_caller_beyond_the_bound_is_sent_away_holding_a_later_slot_which_it_uses_on_its_return()
    {
        // Ten a second, a wait of at most 250 ms: the fourth caller at once is 300 ms out, too far.
        var limiter = new ApiRateLimiter("test", 10, TimeSpan.FromMilliseconds(250));
        var start = DateTimeOffset.UtcNow;

        await limiter.Acquire(CancellationToken.None);
        var second = limiter.Acquire(CancellationToken.None).AsTask();
        var third = limiter.Acquire(CancellationToken.None).AsTask();
        var thrown = await Assert.ThrowsAsync<ThrottledException>(() => limiter.Acquire(CancellationToken.None).AsTask());

        Assert.InRange(thrown.RetryAfter!.Value.TotalMilliseconds, 250, 350);
        Assert.InRange((thrown.Slot - start).TotalMilliseconds, 250, 400);
        Assert.False(thrown.CountsAsAttempt);
        await Task.WhenAll(second, third);

        // Back at its slot, the sent-away caller goes straight through; a newcomer queues behind the slots handed out.
        var untilSlot = thrown.Slot - DateTimeOffset.UtcNow;
        if (untilSlot > TimeSpan.Zero)
            await Task.Delay(untilSlot);
        var returned = Stopwatch.StartNew();
        using (ReservedPermit.Hold(thrown.Limiter, thrown.Slot))
            await limiter.Acquire(CancellationToken.None);
        Assert.True(returned.Elapsed < TimeSpan.FromMilliseconds(60), $"the holder waited {returned.Elapsed.TotalMilliseconds} ms");
        var newcomer = Stopwatch.StartNew();
        await limiter.Acquire(CancellationToken.None);
        Assert.True(newcomer.Elapsed >= TimeSpan.FromMilliseconds(40), $"the newcomer waited only {newcomer.Elapsed.TotalMilliseconds} ms");
    }

    [Fact]
    public async Task A_holder_back_long_before_its_slot_keeps_it_and_is_sent_away_again()
    {
        var limiter = new ApiRateLimiter("test", 10, TimeSpan.FromSeconds(1));
        var slot = DateTimeOffset.UtcNow.AddHours(2);

        ThrottledException thrown;
        using (ReservedPermit.Hold("test", slot))
            thrown = await Assert.ThrowsAsync<ThrottledException>(() => limiter.Acquire(CancellationToken.None).AsTask());

        Assert.Equal(slot, thrown.Slot);
        // No new slot was taken for it: the next caller goes straight through.
        var next = Stopwatch.StartNew();
        await limiter.Acquire(CancellationToken.None);
        Assert.True(next.Elapsed < TimeSpan.FromMilliseconds(60));
    }

    [Fact]
    public async Task A_429_pauses_every_caller()
    {
        var limiter = new ApiRateLimiter("test", 100, TimeSpan.FromSeconds(1));

        limiter.PauseFor(TimeSpan.FromSeconds(5));

        var thrown = await Assert.ThrowsAsync<ThrottledException>(() => limiter.Acquire(CancellationToken.None).AsTask());
        Assert.InRange(thrown.RetryAfter!.Value.TotalSeconds, 4.8, 5.1);
    }
}
