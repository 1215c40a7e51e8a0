using Microsoft.Extensions.Options;

namespace Joinery.FakeApis;

/// <summary>
/// The fake server inside the caller's process, on a real socket, so that tests can point real HTTP clients at it
/// and look at (or arrange) its <see cref="State"/> directly.
/// </summary>
public sealed class FakeApiServer : IAsyncDisposable
{
    readonly WebApplication _app;

    FakeApiServer(WebApplication app, Uri baseUri, int smtpPort)
    {
        _app = app;
        BaseUri = baseUri;
        SmtpPort = smtpPort;
        State = app.Services.GetRequiredService<FakeState>();
    }

    /// <summary>The SMTP sink's port on 127.0.0.1 (a free one unless <c>FakeApis:SmtpPort</c> is passed).</summary>
    public int SmtpPort { get; }

    /// <summary>The root, with a trailing slash, e.g. <c>http://127.0.0.1:41234/</c>: ActiveCampaign's base URL.</summary>
    public Uri BaseUri { get; }

    /// <summary>What the Slack client takes as its base URL: the Web API root <c>{BaseUri}api</c>, methods below it.</summary>
    public Uri SlackBaseUri => new(BaseUri, "api");

    public FakeState State { get; }

    public IServiceProvider Services => _app.Services;

    public string ActiveCampaignToken => Options.ActiveCampaignToken;

    public string SlackToken => Options.SlackToken;

    FakeApiOptions Options => _app.Services.GetRequiredService<IOptionsMonitor<FakeApiOptions>>().CurrentValue;

    /// <summary>Starts a server; the default URL picks a free port, see <see cref="BaseUri"/> for the one it got.</summary>
    public static Task<FakeApiServer> StartAsync(string url = "http://127.0.0.1:0", CancellationToken ct = default) =>
        StartAsync(url, settings: [], ct);

    /// <param name="settings">Configuration such as <c>FakeApis:SlackToken</c>; nothing else is read.</param>
    public static async Task<FakeApiServer> StartAsync(
        string url, IEnumerable<KeyValuePair<string, string?>> settings, CancellationToken ct = default)
    {
        var app = FakeApiApp.Build([], builder =>
        {
            // Only what the caller passes: a test's output folder holds other apps' appsettings.json, and its
            // environment may carry URLs meant for processes it starts.
            builder.Configuration.Sources.Clear();
            builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
            {
                [WebHostDefaults.ServerUrlsKey] = url,
                ["Logging:LogLevel:Default"] = "Warning",
                ["FakeApis:SmtpPort"] = "0",
            });
            builder.Configuration.AddInMemoryCollection(settings);
            builder.Services.Configure<HostOptions>(host => host.ShutdownTimeout = TimeSpan.FromSeconds(5));
        });

        try
        {
            await app.StartAsync(ct);
            // Kestrel replaces the configured addresses with the bound ones, so port 0 becomes the real port here.
            var address = app.Urls.FirstOrDefault()
                ?? throw new InvalidOperationException($"The fake APIs bound no address for {url}");
            var smtpPort = await app.Services.GetRequiredService<FakeSmtpServer>().Port;
            return new FakeApiServer(app, new Uri(address.TrimEnd('/') + "/"), smtpPort);
        }
        catch
        {
            await app.DisposeAsync();
            throw;
        }
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            await _app.StopAsync();
        }
        finally
        {
            await _app.DisposeAsync();
        }
    }
}
