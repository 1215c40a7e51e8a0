using Joinery.FakeApis;

namespace Joinery.Tests.FakeApis;

/// <summary>The base of the fake server's specs: a server of the test's own on a free port, and a client for it.</summary>
public abstract class RunningFakeApiServer : IAsyncLifetime
{
    protected FakeApiServer Server { get; private set; } = null!;
    protected HttpClient Http { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Server = await FakeApiServer.StartAsync();
        Http = new HttpClient { BaseAddress = Server.BaseUri };
    }

    public async Task DisposeAsync()
    {
        Http.Dispose();
        await Server.DisposeAsync();
    }
}
