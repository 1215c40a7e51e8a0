using System.Net;
using System.Text.Json;
using Joinery.Contracts;
using Joinery.ServiceDefaults;
using Joinery.ServiceDefaults.Retry;
using Joinery.Store;
using Joinery.Store.Persistence;
using Joinery.Tests.CrmSync;
using Joinery.Tests.Support;
using MassTransit;
using MassTransit.Serialization;
using MassTransit.Testing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Joinery.Tests.Retry;

/// <summary>
/// Each step outcome says how many times the step was tried, whichever kind of retry brought it back: the consumer's
/// in-process retry, a wait through the retry queue (a new delivery, counted from the header), or MassTransit's
/// message retry.
/// </summary>
public sealed class Counting_attempts
{
    static SignupRequested Signup() =>
        new(Guid.NewGuid(), "Katherine Johnson", "katherine@example.org", "katherine@example.org", DateTimeOffset.UtcNow);

    /// <summary>
    /// Waits with a deadline, not with the harness's <c>Any</c>: that gives up once the bus has been idle for the
    /// harness's inactivity timeout, and a wait through the retry queue is idle time.
    /// </summary>
    static async Task<T> PublishedFor<T>(ITestHarness harness, Func<T, bool> match) where T : class
    {
        IEnumerable<T> Published() =>
            harness.Published.Select<T>(x => match(x.Context.Message), new CancellationToken(true)).Select(x => x.Context.Message);
        await Eventually.True(() => Published().Any(), TimeSpan.FromSeconds(30), $"{typeof(T).Name} published");
        return Published().First();
    }

    [Fact]
    public async Task A_crm_call_retried_after_a_503_reports_two_attempts()
    {
        var crm = new StubActiveCampaign()
            .Then(HttpStatusCode.ServiceUnavailable, """{"message":"down"}""")
            .Then(HttpStatusCode.Created, StubActiveCampaign.Contact("7"));
        await using var host = await CrmSyncTestHost.Start(crm);
        var signup = Signup();

        await host.Harness.Bus.Publish(signup);

        var synced = await PublishedFor<ContactSynced>(host.Harness, m => m.SignupId == signup.SignupId);
        Assert.Equal(2, synced.Attempts);
    }

    [Fact]
    public async Task A_wait_through_the_retry_queue_comes_back_as_a_new_delivery_and_still_counts()
    {
        // A Retry-After beyond the in-process bound sends the message through the waiter: it returns as a fresh
        // delivery, so only the retry header can tell that this is the second attempt.
        var crm = new StubActiveCampaign()
            .ThenRetryAfter(HttpStatusCode.TooManyRequests, """{"message":"slow down"}""", "1")
            .ThenRetryAfter(HttpStatusCode.TooManyRequests, """{"message":"slow down"}""", "1")
            .Then(HttpStatusCode.Created, StubActiveCampaign.Contact("8"));
        await using var host = await CrmSyncTestHost.Start(crm, settings: new Dictionary<string, string?>
        {
            ["ActiveCampaign:Retry:InProcessMaxDelay"] = "00:00:00.050",
        });
        var signup = Signup();

        await host.Harness.Bus.Publish(signup);

        var synced = await PublishedFor<ContactSynced>(host.Harness, m => m.SignupId == signup.SignupId);
        Assert.Equal(3, synced.Attempts);
        Assert.Equal(3, crm.Requests.Count(r => r.Uri.AbsolutePath == "/api/3/contact/sync"));
        var deliveries = host.Harness.Consumed.Select<SignupRequested>(x => x.Context.Message.SignupId == signup.SignupId).ToList();
        Assert.Equal(3, deliveries.Count);
        Assert.Contains(deliveries, d => d.Context.Headers.Get<string>(RetryState.AttemptsHeader) == "2");
    }

    [Fact]
    public async Task A_store_write_retried_by_the_message_retry_reports_two_attempts()
    {
        using var directory = new TempDirectory();
        var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?> { ["Persistence:DataDirectory"] = directory.Path });
        builder.AddStoreService();
        // The database is busy once: the consumer throws, and the definition's UseMessageRetry runs it again.
        var real = builder.Services.Single(d => d.ServiceType == typeof(ISignupRepository));
        builder.Services.Remove(real);
        builder.Services.AddSingleton<ISignupRepository>(_ => new BusyOnce((ISignupRepository)real.ImplementationInstance!));
        var modules = builder.Services.MessagingModules();
        builder.Services.AddMassTransitTestHarness(bus =>
        {
            foreach (var module in modules)
                module.Configure(bus);
        });
        await using var provider = builder.Services.BuildServiceProvider();
        var harness = provider.GetRequiredService<ITestHarness>();
        await harness.Start();
        var signup = Signup();

        await harness.Bus.Publish(signup);

        var stored = await PublishedFor<SignupStored>(harness, m => m.SignupId == signup.SignupId);
        Assert.Equal(2, stored.Attempts);
        Assert.Equal(1, ((BusyOnce)provider.GetRequiredService<ISignupRepository>()).Refused);
    }

    [Fact]
    public void An_outcome_written_before_attempts_existed_still_reads_as_not_reported()
    {
        var id = Guid.NewGuid();
        var old = JsonSerializer.Deserialize<ContactSynced>(
            $$"""{"signupId":"{{id}}","contactId":"5","created":true,"skipped":false}""", SystemTextJsonMessageSerializer.Options);

        Assert.Equal(new ContactSynced(id, "5", Created: true, Skipped: false, Attempts: 0), old);
    }

    sealed class BusyOnce(ISignupRepository inner) : ISignupRepository
    {
        int _refused;
        public int Refused => _refused;

        public Task<AddSignupOutcome> Add(SignupRecord record, CancellationToken cancellationToken = default) =>
            Interlocked.CompareExchange(ref _refused, 1, 0) == 0
                ? throw new InvalidOperationException("database is locked")
                : inner.Add(record, cancellationToken);

        public Task Initialize(CancellationToken cancellationToken = default) => inner.Initialize(cancellationToken);
        public Task<bool> MarkFailed(Guid signupId, string reason, DateTimeOffset at, CancellationToken cancellationToken = default) =>
            inner.MarkFailed(signupId, reason, at, cancellationToken);
        public Task<SignupRecord?> Find(Guid signupId, CancellationToken cancellationToken = default) => inner.Find(signupId, cancellationToken);
        public Task<bool> Erase(Guid signupId, CancellationToken cancellationToken = default) => inner.Erase(signupId, cancellationToken);
    }
}
