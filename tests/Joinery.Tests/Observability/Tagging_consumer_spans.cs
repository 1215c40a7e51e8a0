using System.Collections.Concurrent;
using System.Diagnostics;
using Joinery.Contracts;
using Joinery.Gateway.Saga;
using Joinery.ServiceDefaults.Telemetry;
using Joinery.Tests.Support;
using MassTransit;
using MassTransit.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace Joinery.Tests.Observability;

/// <summary>
/// The consume filter every service's bus gets (<see cref="SignupTelemetryBusExtensions.UseSignupTelemetry"/>), on
/// MassTransit's test harness: spans carry the signup id and the step, each attempt is measured, and a refusal is
/// written onto the consumer's span.
/// </summary>
public sealed class Tagging_consumer_spans : IAsyncLifetime
{
    readonly SpanCapture _spans = new(JoineryTelemetry.MassTransitSourceName);
    readonly MetricCapture _metrics = new(JoineryMetrics.MeterName);
    ServiceProvider _provider = null!;
    ITestHarness _harness = null!;

    public async Task InitializeAsync()
    {
        _provider = new ServiceCollection()
            .AddSingleton(TimeProvider.System)
            .AddMassTransitTestHarness(x =>
            {
                x.AddConsumer<RecordingStoreConsumer, RecordingStoreConsumerDefinition>();
                x.AddConsumer<FlakyConsumer, FlakyConsumerDefinition>();
                x.AddConsumer<RefusingConsumer, RefusingConsumerDefinition>();
                x.AddSagaStateMachine<SignupStateMachine, SignupState, SignupStateDefinition>();
                x.UsingInMemory((context, cfg) =>
                {
                    cfg.UseSignupTelemetry(context);
                    cfg.ConfigureEndpoints(context);
                });
            })
            .BuildServiceProvider(true);
        _harness = _provider.GetRequiredService<ITestHarness>();
        await _harness.Start();
    }

    public async Task DisposeAsync()
    {
        await _harness.Stop();
        await _provider.DisposeAsync();
        _spans.Dispose();
        _metrics.Dispose();
    }

    Task<IReadOnlyList<Activity>> SpansOf(Guid id, Func<IReadOnlyList<Activity>, bool> done, string what) =>
        Eventually.Get(() => Task.FromResult(_spans.Tagged(JoineryTelemetry.SignupIdTag, id.ToString("D"))), done,
            TimeSpan.FromSeconds(15), $"{what}; spans so far: {SpanCapture.Describe(_spans.Stopped)}");

    static bool HasStep(IEnumerable<Activity> spans, string step) =>
        spans.Any(a => a.GetTagItem(JoineryTelemetry.StepTag) as string == step);

    [Fact]
    public async Task The_receive_spans_of_a_consumer_and_of_the_saga_carry_the_signup_id_and_their_step()
    {
        var id = Guid.NewGuid();
        await _harness.Bus.Publish(new SignupRequested(id, "Ada", "ada@example.com", "ada@example.com", DateTimeOffset.UtcNow));

        var spans = await SpansOf(id, s => HasStep(s, SignupSteps.Store) && HasStep(s, SignupSteps.Saga), "store and saga spans tagged");

        var store = spans.First(a => a.GetTagItem(JoineryTelemetry.StepTag) as string == SignupSteps.Store);
        Assert.Equal(ActivityKind.Consumer, store.Kind);
        Assert.Contains(QueueNames.StoreSignup, store.DisplayName);
        // One signup, one trace: the publish started it and every span of both endpoints is in it.
        Assert.Single(spans.Select(a => a.TraceId).Distinct());
    }

    [Fact]
    public async Task The_saga_records_the_trace_id_of_the_signup_it_tracks()
    {
        var id = Guid.NewGuid();
        await _harness.Bus.Publish(new SignupRequested(id, "Ada", "ada@example.com", "ada@example.com", DateTimeOffset.UtcNow));

        var spans = await SpansOf(id, s => HasStep(s, SignupSteps.Saga), "a saga span tagged");
        var saga = _harness.GetSagaStateMachineHarness<SignupStateMachine, SignupState>();
        Assert.True(await saga.Exists(id, x => x.Processing) is not null, "the saga reached Processing");
        var instance = saga.Sagas.Contains(id)!;

        Assert.Equal(spans.First().TraceId.ToHexString(), instance.TraceId);
    }

    [Fact]
    public async Task Each_attempt_is_measured_and_a_retry_is_marked_as_one()
    {
        var id = Guid.NewGuid();
        await _harness.Bus.Publish(new InviteToSlack(id, "Ada", "ada@example.com"));

        var attempts = await Eventually.Get(
            () => Task.FromResult(_metrics.Of("joinery.step.attempts").Where(m => m.Tag(JoineryMetrics.StepTag) == FlakyConsumerDefinition.Queue).ToList()),
            ms => ms.Count >= 2, TimeSpan.FromSeconds(15), "two attempts measured");

        Assert.Collection(attempts,
            first => Assert.Equal(("error", "false"), (first.Tag(JoineryMetrics.OutcomeTag), first.Tag(JoineryMetrics.RetryTag))),
            second => Assert.Equal(("success", "true"), (second.Tag(JoineryMetrics.OutcomeTag), second.Tag(JoineryMetrics.RetryTag))));
        var durations = _metrics.Of("joinery.step.duration").Where(m => m.Tag(JoineryMetrics.StepTag) == FlakyConsumerDefinition.Queue).ToList();
        Assert.Equal(2, durations.Count);
        Assert.All(durations, d => Assert.True(d.Value >= 0));
        // Both attempts ran under one receive span, which carries the signup id.
        var spans = await SpansOf(id, s => HasStep(s, FlakyConsumerDefinition.Queue), "the flaky endpoint's receive span");
        Assert.Single(spans.Select(a => a.TraceId).Distinct());
    }

    [Fact]
    public async Task A_refusal_marks_the_consumer_span_failed_with_its_reason()
    {
        var id = Guid.NewGuid();
        await _harness.Bus.Publish(new DeleteContact(id, "contact-1"));

        var failed = await Eventually.Get(
            () => Task.FromResult(_spans.Stopped.Where(a => a.GetTagItem(JoineryTelemetry.FailureReasonTag) as string == RefusingConsumer.Reason(id)).ToList()),
            s => s.Count > 0, TimeSpan.FromSeconds(15), "a span with the failure reason");

        var span = Assert.Single(failed);
        Assert.Equal(ActivityStatusCode.Error, span.Status);
        Assert.Equal(RefusingConsumer.Reason(id), span.StatusDescription);
        Assert.Contains(span.Events, e => e.Name == JoineryTelemetry.StepFailedEvent);
        // It is the consumer's own span, under the receive span that the filter tagged.
        Assert.EndsWith(nameof(RefusingConsumer), span.GetTagItem("messaging.masstransit.consumer_type") as string);
    }

    [Fact]
    public async Task A_failed_signup_is_counted_by_reason_and_its_saga_span_says_why()
    {
        var id = Guid.NewGuid();
        var reason = $"store:test_{id:N}";
        await _harness.Bus.Publish(new SignupRequested(id, "Ada", "ada@example.com", "ada@example.com", DateTimeOffset.UtcNow));
        await _harness.Bus.Publish(new SignupStoreFailed(id, reason));

        var failures = await Eventually.Get(
            () => Task.FromResult(_metrics.Of("joinery.signups.failed").Where(m => m.Tag(JoineryMetrics.ReasonTag) == reason).ToList()),
            ms => ms.Count > 0, TimeSpan.FromSeconds(15), "the failure counted");
        Assert.Equal(1, Assert.Single(failures).Value);

        var sagaSpan = await Eventually.Get(
            () => Task.FromResult(_spans.Stopped.FirstOrDefault(a => a.GetTagItem(JoineryTelemetry.FailureReasonTag) as string == reason)),
            a => a is not null, TimeSpan.FromSeconds(15), "the saga span with the reason");
        Assert.Equal(ActivityStatusCode.Error, sagaSpan!.Status);
        Assert.EndsWith(nameof(SignupStateMachine), sagaSpan.GetTagItem("messaging.masstransit.consumer_type") as string);
    }
}

/// <summary>Stands in for the store on its real queue name, so the step is looked up as in production.</summary>
public sealed class RecordingStoreConsumer : IConsumer<SignupRequested>
{
    public Task Consume(ConsumeContext<SignupRequested> context) => Task.CompletedTask;
}

public sealed class RecordingStoreConsumerDefinition : ConsumerDefinition<RecordingStoreConsumer>
{
    public RecordingStoreConsumerDefinition() => EndpointName = QueueNames.StoreSignup;
}

/// <summary>Fails the first attempt at each message, then succeeds.</summary>
public sealed class FlakyConsumer : IConsumer<InviteToSlack>
{
    static readonly ConcurrentDictionary<Guid, int> Attempts = new();

    public Task Consume(ConsumeContext<InviteToSlack> context) =>
        Attempts.AddOrUpdate(context.Message.SignupId, 1, (_, n) => n + 1) == 1
            ? throw new InvalidOperationException("first attempt fails")
            : Task.CompletedTask;
}

public sealed class FlakyConsumerDefinition : ConsumerDefinition<FlakyConsumer>
{
    /// <summary>Unknown to <see cref="SignupSteps"/>, so it is its own step: no other test measures under this name.</summary>
    public static readonly string Queue = $"flaky-{Guid.NewGuid():N}";

    public FlakyConsumerDefinition() => EndpointName = Queue;

    protected override void ConfigureConsumer(IReceiveEndpointConfigurator endpointConfigurator,
        IConsumerConfigurator<FlakyConsumer> consumerConfigurator, IRegistrationContext context) =>
        endpointConfigurator.UseMessageRetry(r => r.Immediate(3));
}

/// <summary>Refuses every message the way the real consumers refuse permanently: it records why and returns normally.</summary>
public sealed class RefusingConsumer : IConsumer<DeleteContact>
{
    public static string Reason(Guid id) => $"test:refused_{id:N}";

    public Task Consume(ConsumeContext<DeleteContact> context)
    {
        JoineryTelemetry.RecordStepFailure(Reason(context.Message.SignupId));
        return Task.CompletedTask;
    }
}

public sealed class RefusingConsumerDefinition : ConsumerDefinition<RefusingConsumer>
{
    public RefusingConsumerDefinition() => EndpointName = $"refusing-{Guid.NewGuid():N}";
}
