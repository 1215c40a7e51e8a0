using Joinery.Gateway.Saga;
using Joinery.Tests.Support;
using MassTransit.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace Joinery.Tests.Gateway;

/// <summary>A clock the test moves by hand: deadlines pass without waiting for them.</summary>
public sealed class ManualClock(DateTimeOffset start) : TimeProvider
{
    public DateTimeOffset Now { get; set; } = start;
    public override DateTimeOffset GetUtcNow() => Now;
    public void Advance(TimeSpan by) => Now += by;
}

/// <summary>
/// The saga on the test harness with a <see cref="ManualClock"/> and short <see cref="SignupDeadlines"/>, on the
/// repository the concrete class chooses: the deadline and resend specs, which move time by hand.
/// </summary>
public abstract class ClockedSagaSpecs : IAsyncLifetime
{
    protected static readonly SignupDeadlines Deadlines = new()
    {
        Deadline = TimeSpan.FromMinutes(10),
        ApprovalDeadline = TimeSpan.FromDays(2),
        SweepInterval = TimeSpan.FromSeconds(1),
        ResendAfter = TimeSpan.FromMinutes(2),
    };

    protected readonly TempDirectory Directory = new();
    protected readonly ManualClock Clock = new(DateTimeOffset.Parse("2026-11-25T10:00:00Z"));
    protected readonly Guid Id = Guid.NewGuid();
    SignupSagaHarness? _saga;

    protected SignupSagaHarness Saga => _saga!;

    protected abstract ISagaRepositoryRegistrationProvider? Repository();

    public async Task InitializeAsync() =>
        _saga = await SignupSagaHarness.Start(Repository(), services => services
            .AddSingleton<TimeProvider>(Clock)
            .AddSingleton(Deadlines));

    public async Task DisposeAsync()
    {
        if (_saga is not null)
            await _saga.DisposeAsync();
        Directory.Dispose();
    }
}
