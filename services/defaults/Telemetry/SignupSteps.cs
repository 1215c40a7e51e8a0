using Joinery.Contracts;

namespace Joinery.ServiceDefaults.Telemetry;

/// <summary>
/// The step a receive endpoint performs, as SREs name it on spans and metrics. The queue names are the contract
/// (see <see cref="QueueNames"/>); an endpoint not listed here is reported under its own queue name.
/// </summary>
public static class SignupSteps
{
    public const string Gateway = "gateway";
    public const string Store = "store";
    public const string StoreCompensation = "store-compensation";
    public const string Crm = "crm";
    public const string CrmCompensation = "crm-compensation";
    public const string Slack = "slack";
    public const string Saga = "saga";

    static readonly Dictionary<string, string> ByQueue = new(StringComparer.OrdinalIgnoreCase)
    {
        [QueueNames.StoreSignup] = Store,
        [QueueNames.MarkSignupFailed] = StoreCompensation,
        [QueueNames.SyncContact] = Crm,
        [QueueNames.DeleteContact] = CrmCompensation,
        [QueueNames.InviteToSlack] = Slack,
        [QueueNames.SignupSaga] = Saga,
    };

    /// <summary>The step for a receive endpoint's input address (the queue is the last path segment, on any transport).</summary>
    public static string ForEndpoint(Uri? inputAddress)
    {
        if (inputAddress is null)
            return "unknown";
        var path = inputAddress.AbsolutePath.TrimEnd('/');
        var queue = path[(path.LastIndexOf('/') + 1)..];
        if (queue.Length == 0)
            return "unknown";
        return ByQueue.TryGetValue(queue, out var step) ? step : queue;
    }
}
