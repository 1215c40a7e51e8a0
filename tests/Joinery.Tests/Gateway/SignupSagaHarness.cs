using Joinery.Contracts;
using Joinery.Gateway.Saga;
using Joinery.Gateway.SagaRepository;
using Joinery.Tests.Support;
using MassTransit;
using MassTransit.Configuration;
using MassTransit.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace Joinery.Tests.Gateway;

/// <summary>The saga on MassTransit's test harness, with the repository a test class chooses.</summary>
public sealed class SignupSagaHarness : IAsyncDisposable
{
    readonly ServiceProvider _provider;

    SignupSagaHarness(ServiceProvider provider)
    {
        _provider = provider;
        Harness = provider.GetRequiredService<ITestHarness>();
        Saga = Harness.GetSagaStateMachineHarness<SignupStateMachine, SignupState>();
        Loader = provider.GetRequiredService<ILoadSagaRepository<SignupState>>();
    }

    public ITestHarness Harness { get; }
    public ISagaStateMachineTestHarness<SignupStateMachine, SignupState> Saga { get; }
    public ILoadSagaRepository<SignupState> Loader { get; }

    /// <param name="repository">null for MassTransit's in-memory repository, else one of ours.</param>
    /// <param name="services">more registrations, after the defaults (e.g. a clock, <see cref="SignupDeadlines"/>).</param>
    public static async Task<SignupSagaHarness> Start(ISagaRepositoryRegistrationProvider? repository, Action<IServiceCollection>? services = null)
    {
        var collection = new ServiceCollection().AddSingleton(TimeProvider.System);
        services?.Invoke(collection);
        var provider = collection
            .AddMassTransitTestHarness(x =>
            {
                if (repository is not null)
                    x.SetSagaRepositoryProvider(repository);
                x.AddSagaStateMachine<SignupStateMachine, SignupState, SignupStateDefinition>();
            })
            .BuildServiceProvider(true);
        var harness = new SignupSagaHarness(provider);
        await harness.Harness.Start();
        return harness;
    }

    int _published;

    public Task Publish<T>(T message) where T : class
    {
        Interlocked.Increment(ref _published);
        return Harness.Bus.Publish(message);
    }

    /// <summary>
    /// Waits until the condition holds and every event published so far went through the saga. MassTransit's
    /// in-memory repository hands out its live instance, which shows a new state before the message is saved and its
    /// sends released: a test acting on that state alone would run ahead of the saga.
    /// </summary>
    public Task<SignupState> WaitFor(Guid id, Func<SignupState, bool> condition, string what) =>
        Eventually.Get(async () => await Loader.Load(id),
            s => s is not null && condition(s) && Saga.Consumed.Count(SoFar) >= Volatile.Read(ref _published),
            TimeSpan.FromSeconds(15), what)!;

    public Task<SignupState> WaitForState(Guid id, string state) => WaitFor(id, s => s.CurrentState == state, $"state {state}");

    /// <summary>
    /// The usual way to the invite: Ada's signup requested (at the harness's clock), stored, and synced to CRM contact
    /// 42 that it created; returns the signup once in Inviting (the InviteToSlack may still be on its way: WaitForSent).
    /// </summary>
    public async Task<SignupState> ReachInviting(Guid id)
    {
        var now = _provider.GetRequiredService<TimeProvider>().GetUtcNow();
        await Publish(new SignupRequested(id, "Ada Lovelace", "Ada@Example.com", "ada@example.com", now));
        await Publish(new SignupStored(id));
        await Publish(new ContactSynced(id, "42", Created: true, Skipped: false));
        return await WaitForState(id, "Inviting");
    }

    /// <summary>
    /// True once a matching message was sent. The outbox releases sends after the saga is saved, so a test that saw
    /// the new state may still be ahead of the send; the harness's own inactivity wait is too eager for that.
    /// </summary>
    public async Task<bool> WaitForSent<T>(Func<T, bool> filter) where T : class
    {
        await Eventually.True(() => SentCount(filter) > 0, TimeSpan.FromSeconds(15), $"a {typeof(T).Name} to be sent");
        return true;
    }

    public int SentCount<T>(Func<T, bool> filter) where T : class =>
        Harness.Sent.Select<T>(SoFar).Count(x => filter(x.Context.Message));

    /// <summary>A cancelled token makes the harness's lists answer what they hold now instead of waiting for more.</summary>
    static readonly CancellationToken SoFar = new(canceled: true);

    public async ValueTask DisposeAsync()
    {
        await Harness.Stop();
        await _provider.DisposeAsync();
    }
}
