using System.Diagnostics;
using System.Reflection;
using MassTransit;

namespace Joinery.ServiceDefaults.Telemetry;

/// <summary>
/// Runs around every consumer and saga on every receive endpoint (added per message type by
/// <see cref="SignupTelemetryBusExtensions.UseSignupTelemetry"/>): tags the span with the message's signup id and
/// the endpoint's step, and measures each attempt. It sits inside the endpoint's retry, so every retry is one attempt.
/// </summary>
public sealed class SignupConsumeFilter<T> : IFilter<ConsumeContext<T>> where T : class
{
    public async Task Send(ConsumeContext<T> context, IPipe<ConsumeContext<T>> next)
    {
        var step = SignupSteps.ForEndpoint(context.ReceiveContext.InputAddress);
        // The receive span is current here; the consumer's or saga's span starts below it and inherits the tags
        // (SignupTagProcessor), as do the sends and HTTP calls made while consuming.
        JoineryTelemetry.TagSignup(Activity.Current, SignupIdOf<T>.Read(context.Message), step);

        var retry = context.GetRetryAttempt() > 0 || context.GetRedeliveryCount() > 0;
        var started = Stopwatch.GetTimestamp();
        try
        {
            await next.Send(context);
        }
        catch
        {
            JoineryMetrics.StepAttempt(step, succeeded: false, Stopwatch.GetElapsedTime(started), retry);
            throw;
        }
        JoineryMetrics.StepAttempt(step, succeeded: true, Stopwatch.GetElapsedTime(started), retry);
    }

    public void Probe(ProbeContext context) => context.CreateFilterScope("joinery-signup-telemetry");
}

/// <summary>
/// Reads a <c>SignupId</c> (Guid) property from any message, and from the original message of a <see cref="Fault{T}"/>.
/// Built once per message type; types without one give null.
/// </summary>
static class SignupIdOf<T> where T : class
{
    static readonly Func<T, Guid?>? Reader = Build();

    public static Guid? Read(T message) => Reader?.Invoke(message);

    static Func<T, Guid?>? Build()
    {
        var direct = typeof(T).GetProperty("SignupId", BindingFlags.Public | BindingFlags.Instance);
        if (direct is not null && (direct.PropertyType == typeof(Guid) || direct.PropertyType == typeof(Guid?)))
            return m => direct.GetValue(m) as Guid?;

        if (typeof(T).IsGenericType && typeof(T).GetGenericTypeDefinition() == typeof(Fault<>))
        {
            var inner = typeof(T).GetGenericArguments()[0];
            var message = typeof(T).GetProperty(nameof(Fault<object>.Message));
            var signupId = inner.GetProperty("SignupId", BindingFlags.Public | BindingFlags.Instance);
            if (message is not null && signupId is not null && (signupId.PropertyType == typeof(Guid) || signupId.PropertyType == typeof(Guid?)))
                return m => message.GetValue(m) is { } original ? signupId.GetValue(original) as Guid? : null;
        }
        return null;
    }
}

public static class SignupTelemetryBusExtensions
{
    /// <summary>
    /// Adds <see cref="SignupConsumeFilter{T}"/> to every consumer and saga message type configured on this bus. Call it
    /// in the transport's configure callback, before <c>ConfigureEndpoints</c>.
    /// </summary>
    public static void UseSignupTelemetry(this IBusFactoryConfigurator configurator, IRegistrationContext context) =>
        configurator.UseConsumeFilter(typeof(SignupConsumeFilter<>), context);
}
