using Joinery.ServiceDefaults.Mail;
using Joinery.Contracts;
using Joinery.ServiceDefaults.Retry;
using Joinery.ServiceDefaults.Telemetry;
using Joinery.SlackInvite.InviteLink;
using Joinery.SlackInvite.Slack;
using MassTransit;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Joinery.SlackInvite.Consumers;

/// <summary>
/// One invite, by the configured strategy: look the person up first (a member completes as <c>AlreadyMember</c>),
/// then either ask the admins (Approval, first round) or invite (AdminApi, Legacy, InviteLink, or after an approval
/// the follow-up; Manual completes as <c>InvitedByAdmin</c>). Transient trouble is retried by <see cref="RetryRunner"/>;
/// past the deadline the signup fails with <c>slack:unavailable</c>.
/// </summary>
/// <remarks>
/// Idempotent: Slack answers a repeated invite with <c>already_invited</c> or <c>already_in_team</c> (successes), the
/// invite link's ledger remembers who was mailed. A redelivered approval request posts to the admins' channel again,
/// which is harmless.
/// </remarks>
public sealed class InviteToSlackConsumer(
    SlackClient slack,
    RetryRunner retries,
    IOptionsMonitor<SlackOptions> options,
    IOptionsMonitor<SmtpOptions> smtp,
    IServiceProvider services,
    ILogger<InviteToSlackConsumer> logger) : IConsumer<InviteToSlack>
{
    public const string UnavailableReason = "slack:unavailable";

    public async Task Consume(ConsumeContext<InviteToSlack> context)
    {
        var invite = context.Message;
        var settings = options.CurrentValue;
        if (settings.Missing(smtp.CurrentValue).Count > 0)
        {
            await context.Publish(new SlackInvited(invite.SignupId, SlackOutcomes.Skipped, StepAttempts.Count(context)));
            return;
        }

        await retries.Run(context, settings.Retry,
            async (attempts, cancellationToken) =>
            {
                var step = await Attempt(invite, settings, cancellationToken);
                if (step.AskedForApproval)
                    await context.Publish(new ApprovalRequested(invite.SignupId, attempts));
                else if (step.Result!.FailureReason is { } reason)
                {
                    logger.LogWarning("Slack refused the invite of signup {SignupId}: {Reason}", invite.SignupId, reason);
                    JoineryTelemetry.RecordStepFailure(reason);
                    await context.Publish(new SlackInviteFailed(invite.SignupId, reason, attempts));
                }
                else
                    await context.Publish(new SlackInvited(invite.SignupId, step.Result.Outcome!, attempts));
            },
            async (failure, attempts) =>
            {
                JoineryTelemetry.RecordStepFailure(UnavailableReason);
                await context.Publish(new SlackInviteFailed(invite.SignupId, UnavailableReason, attempts));
            });
    }

    sealed record Step(SlackInviteResult? Result, bool AskedForApproval);

    async Task<Step> Attempt(InviteToSlack invite, SlackOptions settings, CancellationToken cancellationToken)
    {
        if (settings.CanLookUp)
        {
            var lookup = await slack.LookUp(invite.Email, cancellationToken);
            if (lookup.Membership == SlackMembership.Member)
                return new(SlackInviteResult.Invited(SlackOutcomes.AlreadyMember), false);
            if (lookup.FailureReason is { } lookupFailure)
                // The lookup only saves an invite; a refusal (e.g. a missing scope) must not fail the signup.
                logger.LogWarning("users.lookupByEmail refused ({Reason}); inviting signup {SignupId} without it", lookupFailure, invite.SignupId);
        }

        switch (settings.InviteMethod(invite.Approved))
        {
            case null:
                return await AskForApproval(invite, settings, cancellationToken) is { } refusal
                    ? new(SlackInviteResult.Failed(refusal), false)
                    : new(null, true);
            case SlackFollowUp.AdminApi:
                return new(await slack.Invite(invite.Email, invite.Name, cancellationToken), false);
            case SlackFollowUp.Legacy:
                return new(await slack.LegacyInvite(invite.Email, invite.Name, cancellationToken), false);
            case SlackFollowUp.InviteLink:
                return new(await services.GetRequiredService<InviteLinkInviter>().Invite(invite.SignupId, invite.Email, invite.Name, cancellationToken), false);
            default:
                return new(SlackInviteResult.Invited(SlackOutcomes.InvitedByAdmin), false);
        }
    }

    Task<string?> AskForApproval(InviteToSlack invite, SlackOptions settings, CancellationToken cancellationToken)
    {
        var how = settings.ApprovalUrlTemplate is { Length: > 0 } template
            ? $"<{template.Replace("{id}", invite.SignupId.ToString("D"), StringComparison.Ordinal)}|Approve or reject>"
            : $"Approve or reject: `POST /api/admin/signups/{invite.SignupId:D}/approve` or `/reject`";
        var then = settings.ApprovalFollowUp == SlackFollowUp.Manual ? "then invite them by hand" : $"then Joinery invites them ({settings.ApprovalFollowUp})";
        var text = $"""
            New signup waiting for approval: *{Escape(invite.Name)}* ({Escape(invite.Email)})
            Signup `{invite.SignupId:D}`, {then}. {how}
            """;
        return slack.Post(settings.AdminChannelId!, text, cancellationToken);
    }

    /// <summary>Slack's control characters: a name like <c>&lt;!channel&gt;</c> must not ping the whole channel.</summary>
    public static string Escape(string text) =>
        text.Replace("&", "&amp;", StringComparison.Ordinal).Replace("<", "&lt;", StringComparison.Ordinal).Replace(">", "&gt;", StringComparison.Ordinal);
}

public sealed class InviteToSlackConsumerDefinition : ConsumerDefinition<InviteToSlackConsumer>
{
    public InviteToSlackConsumerDefinition(IOptions<SlackOptions> options)
    {
        EndpointName = QueueNames.InviteToSlack;
        // Slack's own limits pace the calls (SlackRateLimits); a few more in flight than that keep the pace without
        // holding many messages in the process (Slack:ConcurrentInvites, 8 by default).
        ConcurrentMessageLimit = Math.Max(1, options.Value.ConcurrentInvites);
    }

    protected override void ConfigureConsumer(IReceiveEndpointConfigurator endpointConfigurator,
        IConsumerConfigurator<InviteToSlackConsumer> consumerConfigurator, IRegistrationContext context)
    {
        // Transient API trouble is retried inside the consumer (RetryRunner: backoff, Retry-After, wait queues, deadline).
        // This covers the rest: a wait queue that could not be declared, a busy database, a broker hiccup on publish.
        endpointConfigurator.UseMessageRetry(retry => retry.Exponential(5, TimeSpan.FromMilliseconds(200), TimeSpan.FromSeconds(5), TimeSpan.FromMilliseconds(300)));
    }
}
