using System.Globalization;
using MassTransit;

namespace Joinery.ServiceDefaults.Retry;

/// <summary>
/// Where a message stands in its retries, carried in headers so that it survives the trip through a wait queue and a
/// restart of the service.
/// </summary>
public sealed record RetryState(int Attempts, DateTimeOffset FirstAttemptAt, TimeSpan Throttled)
{
    /// <summary>The client-side limiter (by name) whose slot this message holds, and the slot's time; see <see cref="ReservedPermit"/>.</summary>
    public string? SlotLimiter { get; init; }
    public DateTimeOffset? Slot { get; init; }

    /// <summary>A reserved limiter slot: <c>&lt;limiter&gt;|&lt;ISO 8601 time&gt;</c>.</summary>
    public const string SlotHeader = "Joinery-Retry-Slot";

    /// <summary>Failed attempts so far.</summary>
    public const string AttemptsHeader = "Joinery-Retry-Attempts";
    /// <summary>When the first attempt was made (ISO 8601, UTC).</summary>
    public const string FirstAttemptHeader = "Joinery-Retry-First-Attempt";
    /// <summary>Milliseconds spent waiting for the client's own rate limiter; they extend the deadline.</summary>
    public const string ThrottledHeader = "Joinery-Retry-Throttled-Ms";

    public static RetryState From(Headers headers, DateTimeOffset now)
    {
        var attempts = headers.TryGetHeader(AttemptsHeader, out var a) && int.TryParse(Convert.ToString(a, CultureInfo.InvariantCulture), NumberStyles.Integer, CultureInfo.InvariantCulture, out var n) ? Math.Max(0, n) : 0;
        var first = headers.TryGetHeader(FirstAttemptHeader, out var f)
                    && DateTimeOffset.TryParse(Convert.ToString(f, CultureInfo.InvariantCulture), CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind, out var at)
                    && at <= now
            ? at
            : now;
        var throttled = headers.TryGetHeader(ThrottledHeader, out var t) && long.TryParse(Convert.ToString(t, CultureInfo.InvariantCulture), NumberStyles.Integer, CultureInfo.InvariantCulture, out var ms) && ms > 0
            ? TimeSpan.FromMilliseconds(ms)
            : TimeSpan.Zero;
        string? slotLimiter = null;
        DateTimeOffset? slot = null;
        if (headers.TryGetHeader(SlotHeader, out var h) && Convert.ToString(h, CultureInfo.InvariantCulture) is { } text
            && text.LastIndexOf('|') is > 0 and var bar
            && DateTimeOffset.TryParse(text[(bar + 1)..], CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind, out var when))
        {
            slotLimiter = text[..bar];
            slot = when;
        }
        return new RetryState(attempts, first, throttled) { SlotLimiter = slotLimiter, Slot = slot };
    }

    public void WriteTo(SendHeaders headers)
    {
        headers.Set(AttemptsHeader, Attempts.ToString(CultureInfo.InvariantCulture));
        headers.Set(FirstAttemptHeader, FirstAttemptAt.UtcDateTime.ToString("O", CultureInfo.InvariantCulture));
        headers.Set(ThrottledHeader, ((long)Throttled.TotalMilliseconds).ToString(CultureInfo.InvariantCulture));
        if (SlotLimiter is not null && Slot is { } slot)
            headers.Set(SlotHeader, $"{SlotLimiter}|{slot.UtcDateTime.ToString("O", CultureInfo.InvariantCulture)}");
    }

    public DateTimeOffset Deadline(RetryPolicy policy) => FirstAttemptAt + policy.Deadline + Throttled;
}
