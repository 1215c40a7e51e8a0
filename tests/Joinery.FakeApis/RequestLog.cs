namespace Joinery.FakeApis;

/// <summary>One call to a faked API as the control API reports it.</summary>
/// <param name="Api">One of <see cref="FakeApiNames"/>.</param>
/// <param name="Email">The email the call was about (from the body, the query, or the deleted contact), if any.</param>
/// <param name="Status">The HTTP status answered; Slack refusals are 200 too, so see <paramref name="Error"/>.</param>
/// <param name="Error">Slack's <c>error</c> when <c>ok</c> was false; ActiveCampaign's first error <c>code</c>.</param>
public sealed record FakeRequest(string Api, string Method, string Path, string? Email, int Status, string? Error)
{
    /// <summary>When the call was answered.</summary>
    public DateTimeOffset At { get; init; } = DateTimeOffset.UtcNow;
}

/// <summary>
/// Every call to the faked APIs, in the order they arrived. A call takes its place when it arrives but is only
/// visible once answered, so a slow call does not end up behind the ones that overtook it.
/// </summary>
public sealed class RequestLog
{
    readonly Lock _gate = new();
    readonly List<(long Arrival, FakeRequest Request)> _entries = [];
    long _lastArrival;
    long _clearedThrough;

    /// <summary>Takes a place in the arrival order; pass it to <see cref="Add"/> once the call is answered.</summary>
    public long Arrive() => Interlocked.Increment(ref _lastArrival);

    public void Add(long arrival, FakeRequest request)
    {
        lock (_gate)
        {
            // A call that arrived before a reset belongs to the test that reset, not to the one after it.
            if (arrival > _clearedThrough)
                _entries.Add((arrival, request));
        }
    }

    /// <summary>The answered calls in arrival order, optionally only those about <paramref name="email"/> (any case).</summary>
    public IReadOnlyList<FakeRequest> Snapshot(string? email = null)
    {
        (long Arrival, FakeRequest Request)[] entries;
        lock (_gate)
            entries = [.. _entries];

        var wanted = string.IsNullOrWhiteSpace(email) ? null : EmailSyntax.Normalize(email);
        return entries
            .Where(entry => wanted is null || (entry.Request.Email is { } e && EmailSyntax.Normalize(e) == wanted))
            .OrderBy(entry => entry.Arrival)
            .Select(entry => entry.Request)
            .ToList();
    }

    public int Count
    {
        get
        {
            lock (_gate)
                return _entries.Count;
        }
    }

    public void Clear()
    {
        lock (_gate)
        {
            _entries.Clear();
            _clearedThrough = Interlocked.Read(ref _lastArrival);
        }
    }
}
