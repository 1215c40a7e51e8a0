namespace Joinery.CrmSync;

/// <summary>The CRM refused a request that no retry will change; the message faults instead of retrying.</summary>
public sealed class PermanentApiException(string reason)
    : Exception($"The CRM refused the request permanently: {reason}")
{
    public string Reason { get; } = reason;
}
