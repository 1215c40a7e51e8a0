using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Joinery.FakeApis;

/// <summary>Builds the fake server; the process (Program.cs) and <see cref="FakeApiServer"/> share it, so both behave alike.</summary>
public static class FakeApiApp
{
    /// <summary>Where the local run mode expects the fakes when nothing else is configured.</summary>
    public const string DefaultUrl = "http://127.0.0.1:8090";

    public static WebApplication Build(string[] args) => Build(args, configure: null);

    /// <param name="configure">Runs first on the builder, before the defaults look at its configuration.</param>
    public static WebApplication Build(string[] args, Action<WebApplicationBuilder>? configure)
    {
        var builder = WebApplication.CreateBuilder(args);
        configure?.Invoke(builder);

        if (!HasAddress(builder.Configuration))
            builder.WebHost.UseUrls(DefaultUrl);

        // Per-request framework logs would drown the interesting lines when a benchmark sends thousands of calls.
        builder.Logging.AddFilter("Microsoft.AspNetCore", LogLevel.Warning);

        builder.Services.Configure<FakeApiOptions>(builder.Configuration.GetSection(FakeApiOptions.Section));
        builder.Services.TryAddSingleton(TimeProvider.System);
        builder.Services.AddSingleton(services => new FakeState(services.GetRequiredService<TimeProvider>()));
        builder.Services.AddSingleton<FakeTurnstile>();
        builder.Services.AddSingleton<FakeSmtpServer>();
        builder.Services.AddHostedService(services => services.GetRequiredService<FakeSmtpServer>());
        builder.Services.AddHealthChecks();

        var app = builder.Build();
        app.UseMiddleware<FakeChaos>();
        app.MapHealthChecks("/health");
        app.MapActiveCampaignApi();
        app.MapSlackApi();
        app.MapTurnstileApi();
        app.MapFakeControl();
        return app;
    }

    static bool HasAddress(IConfiguration configuration) =>
        !string.IsNullOrWhiteSpace(configuration[WebHostDefaults.ServerUrlsKey])
        || !string.IsNullOrWhiteSpace(configuration[WebHostDefaults.HttpPortsKey])
        || !string.IsNullOrWhiteSpace(configuration[WebHostDefaults.HttpsPortsKey])
        || configuration.GetSection("Kestrel:Endpoints").Exists();
}
