using Joinery.ServiceDefaults;
using Joinery.SlackInvite.Consumers;
using Joinery.SlackInvite.Slack;
using MassTransit;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using Refit;

namespace Joinery.SlackInvite;

public static class SlackInviteServiceExtensions
{
    /// <summary>The name of the HttpClient behind <see cref="ISlackApi"/>, for tests and handler tweaks.</summary>
    public const string SlackHttpClient = "Joinery.SlackInvite.Slack";

    /// <summary>slack-invite: the Slack client (section <c>Slack</c>) and the consumer of <c>invite-to-slack</c>.</summary>
    public static IHostApplicationBuilder AddSlackInviteService(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<SlackOptions>()
            .Bind(builder.Configuration.GetSection(SlackOptions.Section));

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
        builder.Services.AddTransient<SlackClient>();

        return builder.AddMessagingModule("slack-invite", bus =>
            bus.AddConsumer<InviteToSlackConsumer, InviteToSlackConsumerDefinition>());
    }
}
