using Joinery.Contracts;
using Joinery.ServiceDefaults;
using Joinery.Store;
using Joinery.Store.Persistence;
using Joinery.Tests.Support;
using MassTransit;
using MassTransit.Testing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Joinery.Tests.Store;

/// <summary>The store's real module on the test harness: <see cref="ErasePerson"/> removes the record for good.</summary>
public sealed class Erasing_a_person : IAsyncLifetime
{
    readonly TempDirectory _directory = new();
    ServiceProvider _provider = null!;
    ITestHarness _harness = null!;
    ISignupRepository _signups = null!;

    public async Task InitializeAsync()
    {
        var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?> { ["Persistence:DataDirectory"] = _directory.Path });
        builder.AddStoreService();
        var modules = builder.Services.MessagingModules();
        builder.Services.AddMassTransitTestHarness(bus =>
        {
            foreach (var module in modules)
                module.Configure(bus);
        });
        _provider = builder.Services.BuildServiceProvider();
        _signups = _provider.GetRequiredService<ISignupRepository>();
        await _signups.Initialize();
        _harness = _provider.GetRequiredService<ITestHarness>();
        await _harness.Start();
    }

    public async Task DisposeAsync()
    {
        await _provider.DisposeAsync();
        _directory.Dispose();
    }

    [Fact]
    public async Task Should_remove_the_record_and_take_a_second_erasure_as_done()
    {
        var now = DateTimeOffset.UtcNow;
        var email = $"{Guid.NewGuid():N}@example.com";
        var record = new SignupRecord(Guid.NewGuid(), "Mary Jackson", email, email, SignupRecord.Stored, null, now, now);
        var kept = record with { SignupId = Guid.NewGuid(), Email = "other@example.com", NormalizedEmail = "other@example.com" };
        await _signups.Add(record);
        await _signups.Add(kept);

        var endpoint = await _harness.Bus.GetSendEndpoint(new Uri($"queue:{QueueNames.ErasePerson}"));
        await endpoint.Send(new ErasePerson(record.SignupId));
        await endpoint.Send(new ErasePerson(record.SignupId));

        Assert.True(await _harness.Consumed.Any<ErasePerson>(x => x.Context.Message.SignupId == record.SignupId));
        await Eventually.True(async () => _harness.Consumed.Select<ErasePerson>().Count(x => x.Context.Message.SignupId == record.SignupId) == 2
            && await _signups.Find(record.SignupId) is null, what: "both erasures to be consumed");
        Assert.False(await _harness.Consumed.Any<ErasePerson>(x => x.Exception is not null));
        Assert.NotNull(await _signups.Find(kept.SignupId));
    }
}
