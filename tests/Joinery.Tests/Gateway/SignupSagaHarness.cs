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

    public Task Publish<T>(T message) where T : class => Harness.Bus.Publish(message);

    public Task<SignupState> WaitFor(Guid id, Func<SignupState, bool> condition, string what) =>
        Eventually.Get(async () => await Loader.Load(id), s => s is not null && condition(s), TimeSpan.FromSeconds(15), what)!;

    public Task<SignupState> WaitForState(Guid id, string state) => WaitFor(id, s => s.CurrentState == state, $"state {state}");

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
        Harness.Sent.Select<T>().Count(x => filter(x.Context.Message));

    public async ValueTask DisposeAsync()
    {
        await Harness.Stop();
        await _provider.DisposeAsync();
    }
}
