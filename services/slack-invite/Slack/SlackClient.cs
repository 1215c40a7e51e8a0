using System.Net;
using Joinery.Contracts;
using Joinery.ServiceDefaults.Retry;
using Microsoft.Extensions.Options;
using Refit;

namespace Joinery.SlackInvite.Slack;

/// <summary>An invite's outcome: one of <see cref="SlackOutcomes"/>, or a permanent refusal such as <c>slack:invalid_email</c>.</summary>
public sealed record SlackInviteResult(string? Outcome, string? FailureReason)
{
    public bool Succeeded => FailureReason is null;

    public static SlackInviteResult Invited(string outcome) => new(outcome, null);

    public static SlackInviteResult Failed(string reason) => new(null, reason);
}

public enum SlackMembership { Member, NotMember }

/// <summary>A lookup's answer: a member or not, or the permanent error Slack gave instead (e.g. <c>slack:missing_scope</c>).</summary>
public sealed record SlackLookupResult(SlackMembership? Membership, string? FailureReason);

/// <summary>The client-side limits, one per group of methods Slack limits together (singleton: they are per process).</summary>
public sealed class SlackRateLimits(IOptions<SlackOptions> options, TimeProvider clock)
{
    public ApiRateLimiter Invites { get; } = ApiRateLimiter.PerMinute("slack:invites", options.Value.InvitesPerMinute, options.Value.Retry.InProcessMaxDelay, clock);
    public ApiRateLimiter Lookups { get; } = ApiRateLimiter.PerMinute("slack:lookups", options.Value.LookupsPerMinute, options.Value.Retry.InProcessMaxDelay, clock);
    public ApiRateLimiter Posts { get; } = ApiRateLimiter.PerMinute("slack:posts", options.Value.PostsPerMinute, options.Value.Retry.InProcessMaxDelay, clock);
}

/// <summary>
/// Slack in the terms the consumer uses: every call waits for its client-side permit first; transient trouble throws
/// <see cref="TransientApiException"/> (carrying a 429's <c>Retry-After</c>, which also pauses the limiter);
/// "already a member" and "already invited" are successes; any other error is a permanent refusal
/// (the table is in docs/integrations.md).
/// </summary>
public sealed class SlackClient(ISlackApi api, IOptionsMonitor<SlackOptions> options, SlackRateLimits limits)
{
    /// <summary>Slack's own words for "not now": answered with HTTP 200, so the status code alone does not tell.</summary>
    public static readonly IReadOnlySet<string> TransientErrors = new HashSet<string>(StringComparer.Ordinal)
    {
        "ratelimited", "rate_limited", "service_unavailable", "internal_error", "fatal_error", "request_timeout",
        "team_added_to_org",
    };

    public async Task<SlackInviteResult> Invite(string email, string name, CancellationToken cancellationToken)
    {
        var settings = options.CurrentValue;
        var form = new SlackInviteForm { TeamId = settings.TeamId, Email = email, ChannelIds = settings.ChannelIds, RealName = name };
        var (body, failure) = await Send(limits.Invites, "admin.users.invite", () => api.InviteUser(form, cancellationToken), cancellationToken);
        return failure is not null ? SlackInviteResult.Failed(failure) : InviteOutcome(body!.Ok, body.Error);
    }

    public async Task<SlackInviteResult> LegacyInvite(string email, string name, CancellationToken cancellationToken)
    {
        var settings = options.CurrentValue;
        var form = new SlackLegacyInviteForm { Email = email, Channels = settings.ChannelIds, FirstName = name };
        var (body, failure) = await Send(limits.Invites, "users.admin.invite", () => api.LegacyInvite(form, cancellationToken), cancellationToken);
        return failure is not null ? SlackInviteResult.Failed(failure) : InviteOutcome(body!.Ok, body.Error);
    }

    public async Task<SlackLookupResult> LookUp(string email, CancellationToken cancellationToken)
    {
        var (body, failure) = await Send(limits.Lookups, "users.lookupByEmail",
            () => api.LookupByEmail(new SlackLookupForm { Email = email }, cancellationToken), cancellationToken);
        if (failure is not null)
            return new(null, failure);
        if (body!.Ok)
            // A deactivated account is not a member: the invite that follows gets Slack's own answer for it.
            return new(body.User is { Deleted: false } ? SlackMembership.Member : SlackMembership.NotMember, null);
        return body.Error switch
        {
            "users_not_found" or "user_not_found" => new(SlackMembership.NotMember, null),
            { } error when TransientErrors.Contains(error) => throw new TransientApiException($"slack: users.lookupByEmail answered {error}"),
            { Length: > 0 } error => new(null, $"slack:{error}"),
            _ => new(null, "slack:unknown_error"),
        };
    }

    /// <summary>Posts to a channel; null when posted, else the permanent refusal (e.g. <c>slack:channel_not_found</c>).</summary>
    public async Task<string?> Post(string channel, string text, CancellationToken cancellationToken)
    {
        var (body, failure) = await Send(limits.Posts, "chat.postMessage",
            () => api.PostMessage(new SlackMessage(channel, text), cancellationToken), cancellationToken);
        if (failure is not null)
            return failure;
        if (body!.Ok)
            return null;
        return body.Error switch
        {
            { } error when TransientErrors.Contains(error) => throw new TransientApiException($"slack: chat.postMessage answered {error}"),
            { Length: > 0 } error => $"slack:{error}",
            _ => "slack:unknown_error",
        };
    }

    static SlackInviteResult InviteOutcome(bool ok, string? error)
    {
        if (ok)
            return SlackInviteResult.Invited(SlackOutcomes.Invited);
        return error switch
        {
            "already_in_team" or "already_in_team_invited_user" => SlackInviteResult.Invited(SlackOutcomes.AlreadyMember),
            "already_invited" or "sent_recently" => SlackInviteResult.Invited(SlackOutcomes.AlreadyInvited),
            { } e when TransientErrors.Contains(e) => throw new TransientApiException($"slack: {e}"),
            { Length: > 0 } e => SlackInviteResult.Failed($"slack:{e}"),
            _ => SlackInviteResult.Failed("slack:unknown_error"),
        };
    }

    /// <summary>
    /// Waits for a permit, calls, and sorts the answer: the body (ok or not) when Slack answered 2xx, a permanent
    /// <c>slack:http_NNN</c> for another 4xx, and <see cref="TransientApiException"/> for the rest.
    /// </summary>
    static async Task<(T? Body, string? Failure)> Send<T>(ApiRateLimiter limiter, string method, Func<Task<IApiResponse<T>>> call,
        CancellationToken cancellationToken) where T : class
    {
        await limiter.Acquire(cancellationToken);

        IApiResponse<T> response;
        try
        {
            response = await call();
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            throw;
        }
        catch (Exception ex) when (ex is ApiRequestException or HttpRequestException or OperationCanceledException)
        {
            // OperationCanceledException here is HttpClient's timeout, not the caller giving up.
            throw TransientApiException.From($"slack: {method} failed before a response", ex);
        }

        using (response)
        {
            if (response.HasRequestError(out var requestError))
                throw TransientApiException.From($"slack: {method} failed before a response", requestError);

            if (response.StatusCode is not { } status)
                throw new TransientApiException($"slack: {method}: no response was received");

            if (status == HttpStatusCode.TooManyRequests)
            {
                var retryAfter = RetryAfter(response);
                if (retryAfter is { } after)
                    limiter.PauseFor(after);
                throw new TransientApiException($"slack: {method} answered 429", retryAfter: retryAfter);
            }

            if ((int)status >= 500 || status == HttpStatusCode.RequestTimeout)
                throw new TransientApiException($"slack: {method} answered {(int)status}", retryAfter: RetryAfter(response));

            if (!response.IsSuccessStatusCode)
                return (null, $"slack:http_{(int)status}");

            if (response.Content is not { } body)
                return (null, "slack:unreadable_response");

            return (body, null);
        }
    }

    internal static TimeSpan? RetryAfter(IApiResponse response)
    {
        var header = response.Headers?.RetryAfter;
        if (header?.Delta is { } delta)
            return delta < TimeSpan.Zero ? TimeSpan.Zero : delta;
        if (header?.Date is { } date)
        {
            var wait = date - DateTimeOffset.UtcNow;
            return wait < TimeSpan.Zero ? TimeSpan.Zero : wait;
        }
        return null;
    }
}
