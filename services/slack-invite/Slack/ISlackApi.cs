using System.Text.Json.Serialization;
using Refit;

namespace Joinery.SlackInvite.Slack;

/// <summary>The Slack Web API method slack-invite calls. Use <see cref="SlackClient"/>, which classifies the answers.</summary>
public interface ISlackApi
{
    // No leading path beyond the method: Refit keeps the base address's path (/api) in front of it.
    [Post("/admin.users.invite")]
    Task<IApiResponse<SlackResponse>> InviteUser([Body(BodySerializationMethod.UrlEncoded)] SlackInviteForm form,
        CancellationToken cancellationToken);
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

/// <summary>Slack answers 200 for refusals too; <c>ok</c> and <c>error</c> carry the outcome.</summary>
public sealed record SlackResponse(
    [property: JsonPropertyName("ok")] bool Ok,
    [property: JsonPropertyName("error")] string? Error);

[JsonSerializable(typeof(SlackResponse))]
public sealed partial class SlackJsonContext : JsonSerializerContext;
