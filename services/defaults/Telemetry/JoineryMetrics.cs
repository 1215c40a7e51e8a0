using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace Joinery.ServiceDefaults.Telemetry;

/// <summary>
/// Joinery's business metrics (meter <c>Joinery</c>), exported to Prometheus at <c>/metrics</c> and over OTLP. Call these
/// from anywhere: a static meter costs nothing while no one listens, and every service's defaults listen.
/// Prometheus names: dots become underscores, counters end in <c>_total</c>, second-based histograms in <c>_seconds</c>
/// (e.g. <c>joinery_signups_failed_total{reason="..."}</c>, <c>joinery_step_duration_seconds_bucket</c>).
/// </summary>
public static class JoineryMetrics
{
    public const string MeterName = "Joinery";

    public const string StepTag = "step";
    public const string OutcomeTag = "outcome";
    public const string RetryTag = "retry";
    public const string ReasonTag = "reason";
    public const string ApiTag = "api";

    public const string Success = "success";
    public const string Error = "error";
    public const string Completed = "completed";
    public const string Failed = "failed";

    /// <summary>Longest reason kept as a label value; reasons are short codes ("slack:invalid_email"), so this only guards.</summary>
    const int MaxReasonLength = 80;

    static readonly Meter Meter = new(MeterName);

    static readonly Counter<long> AcceptedCounter = Meter.CreateCounter<long>(
        "joinery.signups.accepted", "{signup}", "Signups the gateway accepted and published.");

    static readonly Counter<long> CompletedCounter = Meter.CreateCounter<long>(
        "joinery.signups.completed", "{signup}", "Signups that reached Completed.");

    static readonly Counter<long> FailedCounter = Meter.CreateCounter<long>(
        "joinery.signups.failed", "{signup}", "Signups that ended Failed, by reason.");

    // Buckets in seconds: a signup takes well under a second when every API answers, minutes when one rate-limits.
    static readonly Histogram<double> SignupDurationHistogram = Meter.CreateHistogram(
        "joinery.signup.duration", "s", "Time from acceptance to the final state, by outcome.", null,
        new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600] });

    static readonly Histogram<double> StepDurationHistogram = Meter.CreateHistogram(
        "joinery.step.duration", "s", "Duration of one attempt at a step (one consume of one message), by step and outcome.", null,
        new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30] });

    static readonly Counter<long> StepAttemptCounter = Meter.CreateCounter<long>(
        "joinery.step.attempts", "{attempt}", "Attempts at a step, by step, outcome and whether it was a retry or redelivery.");

    static readonly Counter<long> RateLimitWaitCounter = Meter.CreateCounter<long>(
        "joinery.rate_limit.waits", "{wait}", "Times a step had to wait because an external API rate-limited it, by API.");

    static readonly Histogram<double> RateLimitWaitHistogram = Meter.CreateHistogram(
        "joinery.rate_limit.wait.duration", "s", "How long a rate-limited step was told to wait (Retry-After), by API.", null,
        new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.5, 1, 2, 5, 10, 30, 60, 120, 300, 900, 1800, 3600] });

    /// <summary>The gateway accepted a new signup and published it.</summary>
    public static void SignupAccepted() => AcceptedCounter.Add(1);

    /// <summary>A signup reached Completed; <paramref name="elapsed"/> is the time since it was accepted, when known.</summary>
    public static void SignupCompleted(TimeSpan? elapsed = null)
    {
        CompletedCounter.Add(1);
        if (elapsed is { } e && e >= TimeSpan.Zero)
            SignupDurationHistogram.Record(e.TotalSeconds, new KeyValuePair<string, object?>(OutcomeTag, Completed));
    }

    /// <summary>A signup ended Failed with <paramref name="reason"/> (a short code such as <c>slack:invalid_email</c>).</summary>
    public static void SignupFailed(string? reason, TimeSpan? elapsed = null)
    {
        FailedCounter.Add(1, new KeyValuePair<string, object?>(ReasonTag, ReasonLabel(reason)));
        if (elapsed is { } e && e >= TimeSpan.Zero)
            SignupDurationHistogram.Record(e.TotalSeconds, new KeyValuePair<string, object?>(OutcomeTag, Failed));
    }

    /// <summary>
    /// One attempt at <paramref name="step"/> ended. <paramref name="retry"/> is true for an in-process retry or a
    /// redelivery, so attempts per message = all attempts / attempts with retry=false.
    /// </summary>
    public static void StepAttempt(string step, bool succeeded, TimeSpan duration, bool retry)
    {
        var tags = new TagList
        {
            { StepTag, step },
            { OutcomeTag, succeeded ? Success : Error },
        };
        StepDurationHistogram.Record(Math.Max(0, duration.TotalSeconds), tags);
        tags.Add(RetryTag, retry ? "true" : "false");
        StepAttemptCounter.Add(1, tags);
    }

    /// <summary>An external API (<c>activecampaign</c>, <c>slack</c>) rate-limited a step, which now waits <paramref name="wait"/>.</summary>
    public static void RateLimitWait(string api, TimeSpan wait)
    {
        var tag = new KeyValuePair<string, object?>(ApiTag, api);
        RateLimitWaitCounter.Add(1, tag);
        RateLimitWaitHistogram.Record(Math.Max(0, wait.TotalSeconds), tag);
    }

    /// <summary>A label-safe reason: letters, digits and <c>_.:-</c>, at most 80 characters; "unknown" when empty.</summary>
    public static string ReasonLabel(string? reason)
    {
        if (string.IsNullOrWhiteSpace(reason))
            return "unknown";
        var text = reason.Trim();
        if (text.Length > MaxReasonLength)
            text = text[..MaxReasonLength];
        return string.Create(text.Length, text, (span, source) =>
        {
            for (var i = 0; i < source.Length; i++)
            {
                var c = source[i];
                span[i] = char.IsAsciiLetterOrDigit(c) || c is '_' or '.' or ':' or '-' ? c : '_';
            }
        });
    }
}
