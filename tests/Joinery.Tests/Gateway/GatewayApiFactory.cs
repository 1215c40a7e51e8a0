using Joinery.Gateway.Saga;
using Joinery.Tests.Support;
using MassTransit;
using MassTransit.Testing;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;

namespace Joinery.Tests.Gateway;

/// <summary>The gateway in memory: its real API and saga, MassTransit's test harness in place of RabbitMQ.</summary>
public sealed class GatewayApiFactory : WebApplicationFactory<SignupStateMachine>
{
    readonly TempDirectory _directory = new();

    /// <summary>Settings on top of the defaults, e.g. <c>new GatewayApiFactory { Settings = { ["RateLimiting:PerIpLimit"] = "0" } }</c>.</summary>
    public Dictionary<string, string?> Settings { get; } = new();

    /// <summary>More test services, e.g. a log capture: <c>new GatewayApiFactory { TestServices = logs.AddTo }</c>.</summary>
    public Action<IServiceCollection>? TestServices { get; init; }

    public string DataDirectory => _directory.Path;

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseSetting("Persistence:DataDirectory", _directory.Path);
        builder.UseSetting("Messaging:Transport", "InMemory");
        foreach (var (key, value) in Settings)
            builder.UseSetting(key, value);
        builder.ConfigureTestServices(services =>
        {
            services.AddMassTransitTestHarness();
            services.AddSingleton<IStartupFilter, TestClientAddress>();
            TestServices?.Invoke(services);
        });
    }

    public ITestHarness Harness => Services.GetRequiredService<ITestHarness>();

    protected override void Dispose(bool disposing)
    {
        base.Dispose(disposing);
        _directory.Dispose();
    }
}
