using System.Text.Json.Serialization;
using Refit;

namespace Joinery.SlackInvite.Slack;

/// <summary>The Slack Web API methods slack-invite calls. Use <see cref="SlackClient"/>, which limits the rate and classifies the answers.</summary>
/// <remarks>
/// No leading path beyond the method: Refit keeps the base address's path (/api) in front of it. Every argument goes
/// in the body, never the URL, so no email address ends up in an access or HTTP client log.
/// </remarks>
public interface ISlackApi
{
    [Post("/admin.users.invite")]
    Task<IApiResponse<SlackResponse>> InviteUser([Body(BodySerializationMethod.UrlEncoded)] SlackInviteForm form,
        CancellationToken cancellationToken);

    /// <summary>The legacy, undocumented method (Legacy strategy).</summary>
    [Post("/users.admin.invite")]
    Task<IApiResponse<SlackResponse>> LegacyInvite([Body(BodySerializationMethod.UrlEncoded)] SlackLegacyInviteForm form,
        CancellationToken cancellationToken);

    [Post("/users.lookupByEmail")]
    Task<IApiResponse<SlackLookupResponse>> LookupByEmail([Body(BodySerializationMethod.UrlEncoded)] SlackLookupForm form,
        CancellationToken cancellationToken);

    [Post("/chat.postMessage")]
    Task<IApiResponse<SlackResponse>> PostMessage([Body] SlackMessage message, CancellationToken cancellationToken);
}

public sealed class SlackInviteForm
{
    [AliasAs("team_id")]
    public string? TeamId { get; init; }

    [AliasAs("email")]
    public required string Email { get; init; }

    [AliasAs("channel_ids")]
    public string? ChannelIds { get; init; }

    [AliasAs("real_name")]
    public string? RealName { get; init; }
}

public sealed class SlackLegacyInviteForm
{
    [AliasAs("email")]
    public required string Email { get; init; }

    [AliasAs("channels")]
    public string? Channels { get; init; }

    /// <summary>The whole name: names are never split by guesswork (see docs/integrations.md).</summary>
    [AliasAs("first_name")]
    public string? FirstName { get; init; }
}

public sealed class SlackLookupForm
{
    [AliasAs("email")]
    public required string Email { get; init; }
}

public sealed record SlackMessage(
    [property: JsonPropertyName("channel")] string Channel,
    [property: JsonPropertyName("text")] string Text,
    [property: JsonPropertyName("unfurl_links")] bool UnfurlLinks = false);

/// <summary>Slack answers 200 for refusals too; <c>ok</c> and <c>error</c> carry the outcome.</summary>
public sealed record SlackResponse(
    [property: JsonPropertyName("ok")] bool Ok,
    [property: JsonPropertyName("error")] string? Error);

public sealed record SlackLookupResponse(
    [property: JsonPropertyName("ok")] bool Ok,
    [property: JsonPropertyName("error")] string? Error,
    [property: JsonPropertyName("user")] SlackUser? User);

public sealed record SlackUser(
    [property: JsonPropertyName("id")] string? Id,
    [property: JsonPropertyName("deleted")] bool Deleted);

[JsonSerializable(typeof(SlackResponse))]
[JsonSerializable(typeof(SlackLookupResponse))]
[JsonSerializable(typeof(SlackMessage))]
public sealed partial class SlackJsonContext : JsonSerializerContext;
