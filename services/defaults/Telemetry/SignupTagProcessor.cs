using System.Diagnostics;
using OpenTelemetry;

namespace Joinery.ServiceDefaults.Telemetry;

/// <summary>
/// Copies <c>joinery.signup_id</c> and <c>joinery.step</c> from a span's in-process parent when it starts, so the consumer
/// and saga spans, the messages they send and their HTTP calls can all be searched by signup id in Jaeger. Remote
/// parents (across the broker) are not visible here; each process tags its own receive span.
/// </summary>
public sealed class SignupTagProcessor : BaseProcessor<Activity>
{
    public override void OnStart(Activity activity)
    {
        if (activity.Parent is not { } parent)
            return;
        Copy(parent, activity, JoineryTelemetry.SignupIdTag);
        Copy(parent, activity, JoineryTelemetry.StepTag);
    }

    static void Copy(Activity from, Activity to, string tag)
    {
        if (to.GetTagItem(tag) is null && from.GetTagItem(tag) is { } value)
            to.SetTag(tag, value);
    }
}
