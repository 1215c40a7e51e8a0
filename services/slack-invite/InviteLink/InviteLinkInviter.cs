using System.Security.Cryptography;
using System.Text;
using Joinery.Contracts;
using Joinery.SlackInvite.Slack;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Joinery.ServiceDefaults.Retry;

namespace Joinery.SlackInvite.InviteLink;

/// <summary>
/// The InviteLink strategy: mails the workspace's shared link, at most once per signup, within the link's cap and
/// before its expiry, and warns the admins (log, and their channel when configured) as either comes near.
/// </summary>
public sealed class InviteLinkInviter(
    IInviteLinkLedger ledger,
    InviteLinkMailer mailer,
    SlackClient slack,
    IOptionsMonitor<SlackOptions> options,
    TimeProvider clock,
    ILogger<InviteLinkInviter> logger)
{
    public async Task<SlackInviteResult> Invite(Guid signupId, string email, string name, CancellationToken cancellationToken)
    {
        var settings = options.CurrentValue;
        var link = settings.InviteLink!;
        if (await ledger.WasSent(signupId, cancellationToken))
            return SlackInviteResult.Invited(SlackOutcomes.InviteLinkSent);

        var now = clock.GetUtcNow();
        if (settings.InviteLinkExpiresAt is { } expires && now >= expires)
        {
            await Warn(settings, "expired", $"The Slack invite link expired on {expires:yyyy-MM-dd HH:mm} UTC: set a new Slack:InviteLink and Slack:InviteLinkExpiresAt.", cancellationToken);
            return SlackInviteResult.Failed("slack:invite_link_expired");
        }

        var key = LinkKey(link);
        var uses = await ledger.Reserve(signupId, key, settings.InviteLinkMaxUses, now, cancellationToken);
        if (uses is null)
        {
            await Warn(settings, "exhausted", $"The Slack invite link has been used {settings.InviteLinkMaxUses} times, its cap: set a new Slack:InviteLink.", cancellationToken);
            return SlackInviteResult.Failed("slack:invite_link_exhausted");
        }

        string? refusal;
        try
        {
            refusal = await mailer.Send(email, name, link, cancellationToken);
        }
        catch (TransientApiException)
        {
            // The reservation stays with this signup: its retry reuses it.
            throw;
        }
        if (refusal is not null)
        {
            await ledger.Release(signupId, cancellationToken);
            return SlackInviteResult.Failed(refusal);
        }
        await ledger.MarkSent(signupId, clock.GetUtcNow(), cancellationToken);

        await WarnIfNear(settings, uses.Value, cancellationToken);
        return SlackInviteResult.Invited(SlackOutcomes.InviteLinkSent);
    }

    /// <summary>Warns when a tenth (at least one) of the uses is left, or the expiry is within the warning window.</summary>
    public async Task WarnIfNear(SlackOptions settings, int? usesTaken, CancellationToken cancellationToken)
    {
        if (settings.InviteLink is not { Length: > 0 } link)
            return;
        if (settings.InviteLinkMaxUses is { } max)
        {
            var taken = usesTaken ?? await ledger.Uses(LinkKey(link), cancellationToken);
            var left = max - taken;
            if (left <= Math.Max(1, max / 10))
                await Warn(settings, "uses", $"The Slack invite link has {Math.Max(0, left)} of its {max} uses left: prepare a new Slack:InviteLink.", cancellationToken);
        }
        if (settings.InviteLinkExpiresAt is { } expires)
        {
            var remaining = expires - clock.GetUtcNow();
            if (remaining <= TimeSpan.FromDays(settings.InviteLinkWarnDays))
                await Warn(settings, "expiry", remaining > TimeSpan.Zero
                    ? $"The Slack invite link expires on {expires:yyyy-MM-dd HH:mm} UTC, in {Math.Max(0, remaining.TotalDays):0.#} days: set a new Slack:InviteLink and Slack:InviteLinkExpiresAt."
                    : $"The Slack invite link expired on {expires:yyyy-MM-dd HH:mm} UTC.", cancellationToken);
        }
    }

    /// <summary>Once per kind, link and day: a log warning, and a post to the admins' channel when there is one.</summary>
    async Task Warn(SlackOptions settings, string kind, string text, CancellationToken cancellationToken)
    {
        var key = LinkKey(settings.InviteLink!);
        if (!await ledger.TryRecordWarning(key, kind, DateOnly.FromDateTime(clock.GetUtcNow().UtcDateTime), cancellationToken))
            return;
        logger.LogWarning("Invite link: {Warning}", text);
        if (!settings.CanPostToAdmins)
            return;
        try
        {
            if (await slack.Post(settings.AdminChannelId!, ":warning: " + text, cancellationToken) is { } refusal)
                logger.LogWarning("Could not post the invite-link warning to the admins' channel: {Refusal}", refusal);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            // A warning must never fail (or retry) the signup that happened to trigger it.
            logger.LogWarning("Could not post the invite-link warning to the admins' channel: {Error}", ex.Message);
        }
    }

    /// <summary>Identifies the link without storing it: a new link starts a new count.</summary>
    public static string LinkKey(string link) =>
        Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(link.Trim())))[..32];
}
