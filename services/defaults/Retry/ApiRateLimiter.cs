namespace Joinery.ServiceDefaults.Retry;

/// <summary>
/// A client-side limit on one external API (or one of its methods): permits spaced evenly, one every
/// <see cref="Interval"/> (no bursts, so the API's own bucket never runs dry). Each caller reserves the next free slot
/// (GCRA-style virtual scheduling). A slot within the in-process bound is awaited (a timer, no thread); a later one is
/// kept for the caller, who gets a <see cref="ThrottledException"/> naming it: its message waits on the broker and, on
/// its return, uses the slot it holds (<see cref="ReservedPermit"/>) instead of queueing again. A 429's
/// <c>Retry-After</c> pushes every later slot back (<see cref="PauseFor"/>).
/// </summary>
/// <remarks>
/// Per process: with N instances of a service, configure each for 1/N of the API's limit. Used instead of
/// System.Threading.RateLimiting's token bucket because that one cannot hand out a slot in the future to a caller who
/// leaves and comes back, which a backlog longer than the in-process bound needs (otherwise every deferred message
/// returns at once and is sent away again).
/// </remarks>
public sealed class ApiRateLimiter
{
    readonly Lock _gate = new();
    readonly TimeProvider _clock;
    readonly TimeSpan _maxWait;
    DateTimeOffset _next = DateTimeOffset.MinValue;

    public ApiRateLimiter(string name, double permitsPerSecond, TimeSpan maxInProcessWait, TimeProvider? clock = null)
    {
        if (!(permitsPerSecond > 0) || double.IsInfinity(permitsPerSecond))
            throw new ArgumentOutOfRangeException(nameof(permitsPerSecond), permitsPerSecond, $"{name}: the rate must be positive");
        Name = name;
        _clock = clock ?? TimeProvider.System;
        _maxWait = maxInProcessWait;
        Interval = TimeSpan.FromSeconds(1 / permitsPerSecond);
    }

    public string Name { get; }

    /// <summary>The time between two permits.</summary>
    public TimeSpan Interval { get; }

    public static ApiRateLimiter PerMinute(string name, double perMinute, TimeSpan maxInProcessWait, TimeProvider? clock = null) =>
        new(name, perMinute / 60, maxInProcessWait, clock);

    /// <summary>Waits for a permit, or throws <see cref="ThrottledException"/> (holding a later slot) when that would take longer than the bound.</summary>
    public async ValueTask Acquire(CancellationToken cancellationToken)
    {
        DateTimeOffset slot;
        var now = _clock.GetUtcNow();
        var reserved = ReservedPermit.Take(Name);
        if (reserved is { } held)
        {
            // This message's slot, reserved before it went to wait; it may arrive a little after it (wait queues round
            // up). Back too early (a wait longer than the longest wait queue), it keeps the slot and waits again.
            if (held - now > _maxWait)
                throw new ThrottledException(Name, held - now, held);
            slot = held;
        }
        else
        {
            lock (_gate)
            {
                slot = _next > now ? _next : now;
                _next = slot + Interval;
            }
            if (slot - now > _maxWait)
                throw new ThrottledException(Name, slot - now, slot);
        }

        var wait = slot - now;
        if (wait > TimeSpan.Zero)
            await Task.Delay(wait, _clock, cancellationToken);
    }

    /// <summary>The API answered 429: nobody calls it again before <paramref name="retryAfter"/> has passed.</summary>
    public void PauseFor(TimeSpan retryAfter)
    {
        var until = _clock.GetUtcNow() + retryAfter;
        lock (_gate)
        {
            if (_next < until)
                _next = until;
        }
    }
}

/// <summary>
/// The limiter slot a returning message holds: set by <see cref="RetryRunner"/> around the attempt (from the message's
/// headers), taken by the <see cref="ApiRateLimiter"/> of the same name.
/// </summary>
public static class ReservedPermit
{
    static readonly AsyncLocal<Holder?> Current = new();

    sealed class Holder(string limiter, DateTimeOffset slot)
    {
        public string Limiter { get; } = limiter;
        public DateTimeOffset Slot { get; } = slot;
        public bool Taken { get; set; }
    }

    /// <summary>Makes the slot available to the limiter named <paramref name="limiter"/> for the current async flow, until disposed.</summary>
    public static IDisposable Hold(string? limiter, DateTimeOffset? slot)
    {
        var previous = Current.Value;
        Current.Value = limiter is not null && slot is { } at ? new Holder(limiter, at) : null;
        return new Restore(previous);
    }

    internal static DateTimeOffset? Take(string limiter)
    {
        var holder = Current.Value;
        if (holder is null || holder.Taken || holder.Limiter != limiter)
            return null;
        holder.Taken = true;
        return holder.Slot;
    }

    sealed class Restore(Holder? previous) : IDisposable
    {
        public void Dispose() => Current.Value = previous;
    }
}
