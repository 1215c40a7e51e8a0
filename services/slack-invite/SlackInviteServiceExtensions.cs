using Joinery.ServiceDefaults.Mail;
using Joinery.ServiceDefaults;
using Joinery.ServiceDefaults.Health;
using Joinery.ServiceDefaults.Retry;
using Joinery.SlackInvite.Consumers;
using Joinery.SlackInvite.InviteLink;
using Joinery.SlackInvite.Slack;
using MassTransit;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Refit;

namespace Joinery.SlackInvite;

public static class SlackInviteServiceExtensions
{
    /// <summary>The name of the HttpClient behind <see cref="ISlackApi"/>, for tests and handler tweaks.</summary>
    public const string SlackHttpClient = "Joinery.SlackInvite.Slack";

    /// <summary>
    /// slack-invite: the Slack client (section <c>Slack</c>), the SMTP mailer (section <c>Smtp</c>) and, when the
    /// invite link is used, its ledger (MongoDB or <c>slack-invite.db</c>, by <c>Persistence:Provider</c>); the consumer of <c>invite-to-slack</c>.
    /// </summary>
    public static IHostApplicationBuilder AddSlackInviteService(this IHostApplicationBuilder builder)
    {
        builder.Services.TryAddSingleton(TimeProvider.System);
        builder.Services.AddOptions<SlackOptions>().Bind(builder.Configuration.GetSection(SlackOptions.Section));
        builder.Services.AddOptions<SmtpOptions>().Bind(builder.Configuration.GetSection(SmtpOptions.Section));
        builder.Services.AddDeferredRetry();

        builder.Services.AddTransient<SlackBearerTokenHandler>();
        builder.Services
            .AddRefitGeneratedClient<ISlackApi>(RefitSettings.ForJsonContext(SlackJsonContext.Default), SlackHttpClient)
            .ConfigureHttpClient((services, client) =>
            {
                var options = services.GetRequiredService<IOptions<SlackOptions>>().Value;
                if (options.BaseUri is { } baseUri)
                    client.BaseAddress = baseUri;
                client.Timeout = options.Timeout;
            })
            .AddHttpMessageHandler<SlackBearerTokenHandler>()
            .RedactLoggedHeaders(["Authorization"]);
        builder.Services.AddSingleton<SlackRateLimits>();
        builder.Services.AddTransient<SlackClient>();
        builder.Services.AddTransient<InviteLinkMailer>();

        // The ledger (and its database, and its readiness check) only where the invite link is used.
        var slack = builder.Configuration.GetSection(SlackOptions.Section).Get<SlackOptions>() ?? new SlackOptions();
        if (slack.UsesInviteLink)
        {
            builder.Services.AddSingleton<IInviteLinkLedger>(builder.AddMongoDatabase("slack-invite") is { } mongo
                ? new MongoInviteLinkLedger(mongo)
                : new SqliteInviteLinkLedger(builder.AddSqliteDatabase("slack-invite")));
            builder.Services.AddTransient<InviteLinkInviter>();
        }
        builder.Services.AddHostedService<SlackInviteStartup>();

        return builder.AddMessagingModule("slack-invite", bus =>
            bus.AddConsumer<InviteToSlackConsumer, InviteToSlackConsumerDefinition>());
    }
}

/// <summary>
/// Before the bus starts: says which strategy runs (and what is missing for it), warns that Legacy is deprecated,
/// creates the invite-link ledger and warns about the link's expiry or uses.
/// </summary>
sealed class SlackInviteStartup(
    IOptionsMonitor<SlackOptions> slack,
    IOptionsMonitor<SmtpOptions> smtp,
    IServiceProvider services,
    ILogger<SlackInviteStartup> logger) : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var settings = slack.CurrentValue;
        var missing = settings.Missing(smtp.CurrentValue);
        if (missing.Count > 0)
            logger.LogWarning("Slack strategy {Strategy}: {Missing} not set, so the Slack step is skipped", settings.Strategy, string.Join(", ", missing));
        else
            logger.LogInformation("Slack strategy {Strategy}{FollowUp}; users.lookupByEmail {Lookup}", settings.Strategy,
                settings.Strategy == SlackStrategy.Approval ? $" (then {settings.ApprovalFollowUp})" : "",
                settings.CanLookUp ? "on" : "off (no Slack:BotToken)");

        if (settings.Strategy == SlackStrategy.Legacy || (settings.Strategy == SlackStrategy.Approval && settings.ApprovalFollowUp == SlackFollowUp.Legacy))
            logger.LogWarning("DEPRECATED: Slack's Legacy strategy calls users.admin.invite, an undocumented method that needs a legacy " +
                              "token; Slack stopped issuing those in 2020 and may remove the method at any time. Prefer AdminApi, Approval or InviteLink.");

        if (services.GetService<IInviteLinkLedger>() is { } ledger)
        {
            await ledger.Initialize(cancellationToken);
            if (missing.Count == 0)
                await services.GetRequiredService<InviteLinkInviter>().WarnIfNear(settings, null, cancellationToken);
        }
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
