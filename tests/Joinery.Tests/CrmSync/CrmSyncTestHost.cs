using Joinery.CrmSync;
using Joinery.CrmSync.ActiveCampaign;
using Joinery.ServiceDefaults;
using MassTransit;
using MassTransit.Testing;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Joinery.Tests.CrmSync;

/// <summary>
/// crm-sync's real module (options, Refit client, ledger, consumers and definitions) on MassTransit's in-memory test
/// harness, with <see cref="StubActiveCampaign"/> as the network and a fresh SQLite file per host.
/// </summary>
public sealed class CrmSyncTestHost : IAsyncDisposable
{
    public const string BaseUrl = "https://crm.example.test";
    public const string ApiToken = "ac-token-for-tests";

    readonly ServiceProvider _provider;
    readonly string? _ownedDataDirectory;

    CrmSyncTestHost(ServiceProvider provider, string? ownedDataDirectory, StubActiveCampaign crm)
    {
        _provider = provider;
        _ownedDataDirectory = ownedDataDirectory;
        Crm = crm;
        Harness = provider.GetRequiredService<ITestHarness>();
    }

    public StubActiveCampaign Crm { get; }
    public ITestHarness Harness { get; }
    public IServiceProvider Services => _provider;

    public static async Task<CrmSyncTestHost> Start(StubActiveCampaign crm, bool configured = true,
        IDictionary<string, string?>? settings = null, string? dataDirectory = null, Action<IServiceCollection>? services = null)
    {
        var ownedDataDirectory = dataDirectory is null ? NewDataDirectory() : null;
        dataDirectory ??= ownedDataDirectory!;
        var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
        var configuration = new Dictionary<string, string?>
        {
            ["Persistence:DataDirectory"] = dataDirectory,
            // ActiveCampaign's real 5 a second would pace every test; tests of the limit set their own.
            ["ActiveCampaign:RequestsPerSecond"] = "1000",
        };
        if (configured)
        {
            configuration["ActiveCampaign:BaseUrl"] = BaseUrl;
            configuration["ActiveCampaign:ApiToken"] = ApiToken;
        }
        foreach (var (key, value) in settings ?? new Dictionary<string, string?>())
            configuration[key] = value;
        builder.Configuration.AddInMemoryCollection(configuration);

        builder.AddCrmSyncService();
        builder.Services.AddHttpClient(CrmSyncServiceExtensions.ActiveCampaignHttpClient)
            .ConfigurePrimaryHttpMessageHandler(() => crm);
        services?.Invoke(builder.Services);

        var modules = builder.Services.MessagingModules();
        builder.Services.AddMassTransitTestHarness(bus =>
        {
            foreach (var module in modules)
                module.Configure(bus);
        });

        var provider = builder.Services.BuildServiceProvider(new ServiceProviderOptions { ValidateScopes = true, ValidateOnBuild = true });
        var host = new CrmSyncTestHost(provider, ownedDataDirectory, crm);
        await host.Harness.Start();
        return host;
    }

    public ActiveCampaignClient Client() => _provider.GetRequiredService<ActiveCampaignClient>();

    public static string NewDataDirectory() =>
        Path.Combine(Path.GetTempPath(), "joinery-crm-sync-tests", Guid.NewGuid().ToString("N"));

    public static void DeleteDataDirectory(string directory)
    {
        SqliteConnection.ClearAllPools();
        try
        {
            Directory.Delete(directory, recursive: true);
        }
        catch (IOException)
        {
            // A leftover temp directory is harmless; a test failing over it would not be.
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _provider.DisposeAsync();
        if (_ownedDataDirectory is not null)
            DeleteDataDirectory(_ownedDataDirectory);
    }
}
