using System.Diagnostics;

namespace Joinery.ServiceDefaults.Telemetry;

/// <summary>
/// Names and helpers for Joinery's own tracing: the tags every span of a signup carries, and how a step's permanent
/// failure is written onto the span that saw it. MassTransit and ASP.NET Core create the spans; this only annotates them.
/// </summary>
public static class JoineryTelemetry
{
    /// <summary>Joinery's own ActivitySource, registered with the tracer in every service.</summary>
    public const string SourceName = "Joinery";

    /// <summary>MassTransit's ActivitySource and Meter name (<c>DiagnosticHeaders.DefaultListenerName</c>).</summary>
    public const string MassTransitSourceName = "MassTransit";

    public const string SignupIdTag = "joinery.signup_id";
    public const string StepTag = "joinery.step";
    public const string FailureReasonTag = "joinery.failure_reason";
    public const string StepFailedEvent = "joinery.step_failed";

    public static readonly ActivitySource Source = new(SourceName);

    /// <summary>Tags <paramref name="activity"/> with the signup and the step; nothing happens when it is null.</summary>
    public static void TagSignup(Activity? activity, Guid? signupId, string? step)
    {
        if (activity is null)
            return;
        if (signupId is { } id && id != Guid.Empty)
            activity.SetTag(SignupIdTag, id.ToString("D"));
        if (!string.IsNullOrEmpty(step))
            activity.SetTag(StepTag, step);
    }

    /// <summary>
    /// Marks the current span failed with <paramref name="reason"/>. For permanent refusals that are answered with a
    /// *Failed event rather than an exception: MassTransit records exceptions itself, but a refusal ends the consumer
    /// normally, and without this the span would say OK while the signup failed.
    /// </summary>
    public static void RecordStepFailure(string reason) => RecordFailure(Activity.Current, reason);

    public static void RecordFailure(Activity? activity, string reason)
    {
        if (activity is null)
            return;
        activity.SetStatus(ActivityStatusCode.Error, reason);
        activity.SetTag(FailureReasonTag, reason);
        activity.AddEvent(new ActivityEvent(StepFailedEvent, tags: new ActivityTagsCollection { [FailureReasonTag] = reason }));
    }

    /// <summary>
    /// Starts a span that continues the trace whose context <paramref name="traceParent"/> (a W3C traceparent, e.g. a
    /// request's <c>Activity.Id</c> stored with the work) names: for work picked up later by a background loop, such as
    /// an outbox publishing a signup its request could not, so the signup stays one trace. Without a usable context
    /// the span starts a trace of its own. Null when no listener samples it.
    /// </summary>
    public static Activity? ContinueTrace(string? traceParent, string operation, ActivityKind kind = ActivityKind.Internal) =>
        !string.IsNullOrEmpty(traceParent) && ActivityContext.TryParse(traceParent, null, isRemote: true, out var parent)
            ? Source.StartActivity(operation, kind, parent)
            : Source.StartActivity(operation, kind);

    /// <summary>The W3C trace id of the current span (32 hex digits), or null outside any span.</summary>
    public static string? CurrentTraceId() =>
        Activity.Current is { IdFormat: ActivityIdFormat.W3C } activity ? activity.TraceId.ToHexString() : null;
}
