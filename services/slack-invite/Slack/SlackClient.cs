using System.Net;
using Joinery.Contracts;
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

/// <summary>
/// Slack in the terms the consumer uses. Transient trouble throws <see cref="TransientApiException"/> for the message
/// retry; "already a member" and "already invited" are successes; any other error is a permanent refusal.
/// </summary>
public sealed class SlackClient(ISlackApi api, IOptionsMonitor<SlackOptions> options)
{
    // Slack's own words for "not now": answered with HTTP 200, so the status code alone does not tell.
    static readonly HashSet<string> TransientErrors =
        ["ratelimited", "service_unavailable", "internal_error", "fatal_error", "request_timeout"];

    public bool IsConfigured => options.CurrentValue.IsConfigured;

    public async Task<SlackInviteResult> Invite(string email, string name, CancellationToken cancellationToken)
    {
        var settings = options.CurrentValue;
        var form = new SlackInviteForm
        {
            TeamId = settings.TeamId,
            Email = email,
            ChannelIds = settings.ChannelIds,
            RealName = name,
        };

        IApiResponse<SlackResponse> response;
        try
        {
            response = await api.InviteUser(form, cancellationToken);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            throw;
        }
        catch (Exception ex) when (ex is ApiRequestException or HttpRequestException or OperationCanceledException)
        {
            // OperationCanceledException here is HttpClient's timeout, not the caller giving up.
            throw TransientApiException.From("slack: the request failed before a response", ex);
        }

        using (response)
        {
            if (response.HasRequestError(out var requestError))
                throw TransientApiException.From("slack: the request failed before a response", requestError);

            if (response.StatusCode is not { } status)
                throw new TransientApiException("slack: no response was received");

            if ((int)status >= 500 || status is HttpStatusCode.TooManyRequests or HttpStatusCode.RequestTimeout)
                throw new TransientApiException($"slack: answered {(int)status}");

            if (!response.IsSuccessStatusCode)
                return SlackInviteResult.Failed($"slack:http_{(int)status}");

            if (response.Content is not { } body)
                return SlackInviteResult.Failed("slack:unreadable_response");

            if (body.Ok)
                return SlackInviteResult.Invited(SlackOutcomes.Invited);

            return body.Error switch
            {
                "already_in_team" => SlackInviteResult.Invited(SlackOutcomes.AlreadyMember),
                "already_invited" => SlackInviteResult.Invited(SlackOutcomes.AlreadyInvited),
                { } error when TransientErrors.Contains(error) => throw new TransientApiException($"slack: {error}"),
                { Length: > 0 } error => SlackInviteResult.Failed($"slack:{error}"),
                _ => SlackInviteResult.Failed("slack:unknown_error"),
            };
        }
    }
}
