using System.Text.Json.Serialization;

namespace Joinery.FakeApis;

/// <summary>
/// How the fakes behave beyond their answers, set with <c>POST /_fake/config</c> (the body replaces the whole
/// configuration; a field left out takes its default) and read with <c>GET /_fake/config</c>. Reset restores the defaults.
/// </summary>
public sealed record FakeBehaviour
{
    [JsonPropertyName("slack")]
    public SlackBehaviour Slack { get; init; } = new();

    [JsonPropertyName("activecampaign")]
    public ActiveCampaignBehaviour ActiveCampaign { get; init; } = new();

    /// <summary>Added before every answer of a faked API (not the control API).</summary>
    [JsonPropertyName("latencyMs")]
    public int LatencyMs { get; init; }

    /// <summary>The fraction (0..1) of calls answered 503 at random.</summary>
    [JsonPropertyName("errorRate")]
    public double ErrorRate { get; init; }

    /// <summary>The fraction (0..1) of calls that hang for <see cref="TimeoutMs"/> and then answer 504 (the client has given up by then).</summary>
    [JsonPropertyName("timeoutRate")]
    public double TimeoutRate { get; init; }

    [JsonPropertyName("timeoutMs")]
    public int TimeoutMs { get; init; } = 30_000;

    /// <summary>
    /// The APIs the latency, random errors and timeouts apply to (<c>activecampaign</c>, <c>slack</c>); null or empty
    /// for all. Rate limits are per API anyway.
    /// </summary>
    [JsonPropertyName("apis")]
    public string[]? Apis { get; init; }

    /// <summary>Makes the random errors and timeouts repeatable.</summary>
    [JsonPropertyName("seed")]
    public int? Seed { get; init; }

    public string? Validate()
    {
        if (LatencyMs is < 0 or > 600_000 || TimeoutMs is < 0 or > 600_000)
            return "latencyMs and timeoutMs must be between 0 and 600000";
        if (ErrorRate is < 0 or > 1 || TimeoutRate is < 0 or > 1 || double.IsNaN(ErrorRate) || double.IsNaN(TimeoutRate))
            return "errorRate and timeoutRate must be between 0 and 1";
        if (Slack.InvitesPerMinute is <= 0 || Slack.LookupsPerMinute is <= 0 || Slack.PostsPerMinute is <= 0 || ActiveCampaign.RequestsPerSecond is <= 0)
            return "rate limits must be positive (leave one out for no limit)";
        return null;
    }
}

/// <summary>Slack's limits per method group, answered with 429, <c>Retry-After</c> and <c>{"ok":false,"error":"ratelimited"}</c>; null for none.</summary>
public sealed record SlackBehaviour
{
    /// <summary><c>admin.users.invite</c> and <c>users.admin.invite</c> (Tier 2 is 20).</summary>
    [JsonPropertyName("invitesPerMinute")]
    public double? InvitesPerMinute { get; init; }

    [JsonPropertyName("lookupsPerMinute")]
    public double? LookupsPerMinute { get; init; }

    [JsonPropertyName("postsPerMinute")]
    public double? PostsPerMinute { get; init; }
}

/// <summary>ActiveCampaign's per-account limit (5 in production), answered with 429 and <c>Retry-After</c>; null for none.</summary>
public sealed record ActiveCampaignBehaviour
{
    [JsonPropertyName("requestsPerSecond")]
    public double? RequestsPerSecond { get; init; }
}

/// <summary>
/// A token bucket as the real APIs keep one: a second's worth of requests may come at once, then one per interval.
/// Thread-safe; time from the given clock.
/// </summary>
public sealed class FakeRateLimit(double perSecond, TimeProvider clock)
{
    readonly Lock _gate = new();
    readonly double _capacity = Math.Max(1, perSecond);
    double _tokens = Math.Max(1, perSecond);
    long _last = clock.GetTimestamp();

    public double PerSecond { get; } = perSecond;

    /// <summary>Takes a token, or says how long until one is there.</summary>
    public bool TryTake(out TimeSpan retryAfter)
    {
        lock (_gate)
        {
            var now = clock.GetTimestamp();
            _tokens = Math.Min(_capacity, _tokens + clock.GetElapsedTime(_last, now).TotalSeconds * PerSecond);
            _last = now;
            if (_tokens >= 1)
            {
                _tokens -= 1;
                retryAfter = TimeSpan.Zero;
                return true;
            }
            retryAfter = TimeSpan.FromSeconds((1 - _tokens) / PerSecond);
            return false;
        }
    }
}
