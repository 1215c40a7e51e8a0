using Joinery.ServiceDefaults.Telemetry;

namespace Joinery.Tests.Observability;

/// <summary>
/// The public metrics API other services call. Listeners are process-wide and other tests record too, so each test
/// uses label values of its own (a unique reason, API or step) or counts only what it can tell apart.
/// </summary>
public sealed class Joinery_metrics : IDisposable
{
    readonly MetricCapture _metrics = new(JoineryMetrics.MeterName);

    public void Dispose() => _metrics.Dispose();

    [Fact]
    public void A_failure_is_counted_under_its_reason_and_its_duration_under_failed()
    {
        var reason = $"slack:test_{Guid.NewGuid():N}";

        JoineryMetrics.SignupFailed(reason, TimeSpan.FromSeconds(3));

        var failed = Assert.Single(_metrics.Of("joinery.signups.failed"), m => m.Tag(JoineryMetrics.ReasonTag) == reason);
        Assert.Equal(1, failed.Value);
        Assert.Contains(_metrics.Of("joinery.signup.duration"), m => m.Value == 3 && m.Tag(JoineryMetrics.OutcomeTag) == JoineryMetrics.Failed);
    }

    [Fact]
    public void Accepted_and_completed_signups_are_counted()
    {
        JoineryMetrics.SignupAccepted();
        JoineryMetrics.SignupCompleted(TimeSpan.FromMilliseconds(1234));

        Assert.Contains(_metrics.Of("joinery.signups.accepted"), m => m.Value == 1);
        Assert.Contains(_metrics.Of("joinery.signups.completed"), m => m.Value == 1);
        Assert.Contains(_metrics.Of("joinery.signup.duration"), m => m.Value == 1.234 && m.Tag(JoineryMetrics.OutcomeTag) == JoineryMetrics.Completed);
    }

    [Fact]
    public void A_negative_or_unknown_duration_counts_the_signup_but_records_no_duration()
    {
        var reason = $"crm:test_{Guid.NewGuid():N}";

        JoineryMetrics.SignupFailed(reason, TimeSpan.FromSeconds(-1));
        JoineryMetrics.SignupFailed(reason);

        Assert.Equal(2, _metrics.Of("joinery.signups.failed").Count(m => m.Tag(JoineryMetrics.ReasonTag) == reason));
        Assert.DoesNotContain(_metrics.Of("joinery.signup.duration"), m => m.Value < 0);
    }

    [Fact]
    public void A_step_attempt_records_its_duration_and_counts_the_attempt_with_retry_marked()
    {
        var step = $"step-{Guid.NewGuid():N}";

        JoineryMetrics.StepAttempt(step, succeeded: false, TimeSpan.FromMilliseconds(20), retry: false);
        JoineryMetrics.StepAttempt(step, succeeded: true, TimeSpan.FromMilliseconds(30), retry: true);

        var attempts = _metrics.Of("joinery.step.attempts").Where(m => m.Tag(JoineryMetrics.StepTag) == step).ToList();
        Assert.Equal([("error", "false"), ("success", "true")],
            attempts.Select(m => (m.Tag(JoineryMetrics.OutcomeTag), m.Tag(JoineryMetrics.RetryTag))).ToArray());
        var durations = _metrics.Of("joinery.step.duration").Where(m => m.Tag(JoineryMetrics.StepTag) == step).Select(m => m.Value).ToList();
        Assert.Equal([0.02, 0.03], durations);
    }

    [Fact]
    public void A_rate_limit_wait_is_counted_and_its_length_recorded_by_api()
    {
        var api = $"api-{Guid.NewGuid():N}";

        JoineryMetrics.RateLimitWait(api, TimeSpan.FromSeconds(30));

        Assert.Equal(1, Assert.Single(_metrics.Of("joinery.rate_limit.waits"), m => m.Tag(JoineryMetrics.ApiTag) == api).Value);
        Assert.Equal(30, Assert.Single(_metrics.Of("joinery.rate_limit.wait.duration"), m => m.Tag(JoineryMetrics.ApiTag) == api).Value);
    }

    [Theory]
    [InlineData("slack:invalid_email", "slack:invalid_email")]
    [InlineData("activecampaign:422:email_invalid", "activecampaign:422:email_invalid")]
    [InlineData("slack: answered 503", "slack:_answered_503")]
    [InlineData("", "unknown")]
    [InlineData(null, "unknown")]
    public void A_reason_becomes_a_label_safe_value(string? reason, string expected) =>
        Assert.Equal(expected, JoineryMetrics.ReasonLabel(reason));

    [Fact]
    public void A_very_long_reason_is_cut_so_it_cannot_blow_up_the_label()
    {
        Assert.Equal(80, JoineryMetrics.ReasonLabel(new string('x', 500)).Length);
    }
}
