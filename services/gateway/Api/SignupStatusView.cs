using Joinery.Gateway.Saga;

namespace Joinery.Gateway.Api;

public sealed record StepView(string Status, string? Detail);

/// <summary>What the status API shows: states and reasons only, never the person's name or email.</summary>
public sealed record SignupStatusView(
    Guid Id,
    string Status,
    string? Reason,
    IReadOnlyDictionary<string, StepView> Steps,
    DateTimeOffset? CreatedAt,
    DateTimeOffset? UpdatedAt,
    bool Final)
{
    public const string Accepted = "Accepted";
    public static readonly string[] FinalStates = ["Completed", "Failed"];

    public static SignupStatusView From(SignupState saga) => new(
        saga.CorrelationId,
        saga.CurrentState,
        saga.FailureReason,
        new Dictionary<string, StepView>
        {
            ["store"] = new(saga.StoreStatus, saga.StoreDetail),
            ["crm"] = new(saga.CrmStatus, saga.CrmDetail),
            ["slack"] = new(saga.SlackStatus, saga.SlackDetail),
        },
        saga.CreatedAt,
        saga.UpdatedAt,
        FinalStates.Contains(saga.CurrentState));

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
