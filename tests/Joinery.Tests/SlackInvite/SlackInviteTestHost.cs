using Joinery.ServiceDefaults;
using Joinery.SlackInvite;
using MassTransit;
using MassTransit.Testing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Joinery.Tests.SlackInvite;

/// <summary>
/// slack-invite's real module (options, Refit client, consumer and definition) on MassTransit's in-memory test
/// harness, with <see cref="StubSlack"/> as the network.
/// </summary>
public sealed class SlackInviteTestHost : IAsyncDisposable
{
    public const string BaseUrl = "http://127.0.0.1:8090/api";
    public const string Token = "xoxp-token-for-tests";
    public const string TeamId = "T0123";
    public const string ChannelIds = "C01,C02";

    readonly ServiceProvider _provider;

    SlackInviteTestHost(ServiceProvider provider, StubSlack slack)
    {
        _provider = provider;
        Slack = slack;
        Harness = provider.GetRequiredService<ITestHarness>();
    }

    public StubSlack Slack { get; }
    public ITestHarness Harness { get; }

    public static async Task<SlackInviteTestHost> Start(StubSlack slack, bool configured = true, IDictionary<string, string?>? settings = null,
        Action<IServiceCollection>? services = null)
    {
        var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
        var configuration = new Dictionary<string, string?>
        {
            ["Slack:BaseUrl"] = BaseUrl,
            ["Slack:TeamId"] = TeamId,
            ["Slack:ChannelIds"] = ChannelIds,
            // Slack's real limits (20 invites a minute) would make every retry here wait seconds; tests of the
            // limits set their own.
            ["Slack:InvitesPerMinute"] = "60000",
            ["Slack:LookupsPerMinute"] = "60000",
            ["Slack:PostsPerMinute"] = "60000",
        };
        if (configured)
            configuration["Slack:Token"] = Token;
        foreach (var (key, value) in settings ?? new Dictionary<string, string?>())
            configuration[key] = value;
        builder.Configuration.AddInMemoryCollection(configuration);

        builder.AddSlackInviteService();
        builder.Services.AddHttpClient(SlackInviteServiceExtensions.SlackHttpClient)
            .ConfigurePrimaryHttpMessageHandler(() => slack);
        services?.Invoke(builder.Services);

        var modules = builder.Services.MessagingModules();
        builder.Services.AddMassTransitTestHarness(bus =>
        {
            foreach (var module in modules)
                module.Configure(bus);
        });

        var provider = builder.Services.BuildServiceProvider(new ServiceProviderOptions { ValidateScopes = true, ValidateOnBuild = true });
        var host = new SlackInviteTestHost(provider, slack);
        // What the service's host would start before the bus: the invite-link ledger and the start-up checks.
        foreach (var hosted in provider.GetServices<IHostedService>().Where(h => h.GetType().Assembly == typeof(SlackInviteServiceExtensions).Assembly))
            await hosted.StartAsync(CancellationToken.None);
        await host.Harness.Start();
        return host;
    }

    public IServiceProvider Services => _provider;

    public ValueTask DisposeAsync() => _provider.DisposeAsync();
}
