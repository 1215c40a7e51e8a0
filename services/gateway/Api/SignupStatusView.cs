using System.Text.Json.Serialization;
using Joinery.Gateway.Saga;

namespace Joinery.Gateway.Api;

/// <param name="Attempts">How many times the step was tried so far (0 until its consumer reports).</param>
public sealed record StepView(string Status, string? Detail, int Attempts = 0);

/// <summary>What the status API shows: states and reasons only, never the person's name or email.</summary>
public sealed record SignupStatusView(
    Guid Id,
    string Status,
    string? Reason,
    IReadOnlyDictionary<string, StepView> Steps,
    DateTimeOffset? CreatedAt,
    DateTimeOffset? UpdatedAt,
    bool Final,
    string? TraceId = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? TraceUrl = null)
{
    public const string Accepted = "Accepted";
    public static readonly string[] FinalStates = ["Completed", "Failed"];

    /// <param name="traceUrl">Builds the trace link from the trace id; null (no <c>Jaeger:BaseUrl</c>) leaves it out.</param>
    public static SignupStatusView From(SignupState saga, Func<string?, string?>? traceUrl = null) => new(
        saga.CorrelationId,
        saga.CurrentState,
        saga.FailureReason,
        new Dictionary<string, StepView>
        {
            ["store"] = new(saga.StoreStatus, saga.StoreDetail, saga.StoreAttempts),
            ["crm"] = new(saga.CrmStatus, saga.CrmDetail, saga.CrmAttempts),
            ["slack"] = new(saga.SlackStatus, saga.SlackDetail, saga.SlackAttempts),
        },
        saga.CreatedAt,
        saga.UpdatedAt,
        FinalStates.Contains(saga.CurrentState),
        saga.TraceId,
        traceUrl?.Invoke(saga.TraceId));

    /// <summary>Accepted and published, but the saga has not seen any message for it yet.</summary>
    public static SignupStatusView Pending(Guid id) => new(
        id,
        Accepted,
        null,
        new Dictionary<string, StepView>
        {
            ["store"] = new(StepStatus.Pending, null),
            ["crm"] = new(StepStatus.Pending, null),
            ["slack"] = new(StepStatus.Pending, null),
        },
        null,
        null,
        false);
}
