using System.Security.Claims;
using System.Text.Json;
using Joinery.Contracts;
using Joinery.Gateway.Saga;
using MassTransit;
using Microsoft.AspNetCore.Mvc;

namespace Joinery.Gateway.Admin;

/// <summary>
/// The admins' JSON API for Slack's Approval strategy: approve or reject a signup that waits in
/// <c>AwaitingApproval</c>. Both publish the decision for the saga; neither changes state itself.
/// </summary>
/// <remarks>
/// Both require <c>Content-Type: application/json</c> (an empty object will do for approve): a cross-site HTML form
/// cannot send that without a CORS preflight, so a signed-in admin's cookie cannot be used to approve from elsewhere.
/// </remarks>
public static class ApprovalEndpoints
{
    /// <summary>The authorization policy admin endpoints require; the admin pages register it (issue 7).</summary>
    public const string AdminPolicy = "JoineryAdmin";

    public const int MaxReasonLength = 500;

    public static IEndpointRouteBuilder MapApprovalApi(this IEndpointRouteBuilder app)
    {
        var admin = app.MapGroup("/api/admin/signups").RequireAuthorization(AdminPolicy);
        admin.MapPost("/{id:guid}/approve", Approve).WithMetadata(new RequestSizeLimitAttribute(4 * 1024));
        admin.MapPost("/{id:guid}/reject", Reject).WithMetadata(new RequestSizeLimitAttribute(4 * 1024));
        return app;
    }

    static async Task<IResult> Approve(Guid id, HttpRequest request, ClaimsPrincipal user, ILoadSagaRepository<SignupState> sagas,
        IPublishEndpoint publisher, TimeProvider clock, ILogger<SignupApproved> logger, CancellationToken cancellationToken)
    {
        var (_, problem) = await ReadBody(request, cancellationToken);
        if (problem is not null)
            return problem;
        if (await Waiting(id, sagas) is { } notWaiting)
            return notWaiting;

        var by = AdminName(user);
        await publisher.Publish(new SignupApproved(id, by, clock.GetUtcNow()), cancellationToken);
        logger.LogInformation("Signup {SignupId} approved by {Admin}", id, by);
        return Decided(id, "Approved");
    }

    static async Task<IResult> Reject(Guid id, HttpRequest request, ClaimsPrincipal user, ILoadSagaRepository<SignupState> sagas,
        IPublishEndpoint publisher, TimeProvider clock, ILogger<SignupRejected> logger, CancellationToken cancellationToken)
    {
        var (body, problem) = await ReadBody(request, cancellationToken);
        if (problem is not null)
            return problem;

        string? reason = null;
        if (body is { ValueKind: JsonValueKind.Object } b && b.TryGetProperty("reason", out var value) && value.ValueKind != JsonValueKind.Null)
        {
            if (value.ValueKind != JsonValueKind.String)
                return TypedResults.ValidationProblem(new Dictionary<string, string[]> { ["reason"] = ["Reason must be a string."] });
            reason = value.GetString()!.Trim();
            if (reason.Length > MaxReasonLength)
                return TypedResults.ValidationProblem(new Dictionary<string, string[]> { ["reason"] = [$"Reason must be at most {MaxReasonLength} characters."] });
            if (reason.Any(char.IsControl))
                return TypedResults.ValidationProblem(new Dictionary<string, string[]> { ["reason"] = ["Reason must not contain control characters."] });
            if (reason.Length == 0)
                reason = null;
        }

        if (await Waiting(id, sagas) is { } notWaiting)
            return notWaiting;

        var by = AdminName(user);
        await publisher.Publish(new SignupRejected(id, reason, by, clock.GetUtcNow()), cancellationToken);
        logger.LogInformation("Signup {SignupId} rejected by {Admin}", id, by);
        return Decided(id, "Rejected");
    }

    /// <summary>404 for an unknown signup, 409 for one that is not waiting for approval; null when it is.</summary>
    static async Task<IResult?> Waiting(Guid id, ILoadSagaRepository<SignupState> sagas)
    {
        var saga = await sagas.Load(id);
        if (saga is null)
            return TypedResults.Problem(statusCode: StatusCodes.Status404NotFound, title: "Not found", detail: "No signup has this id.");
        if (saga.CurrentState != nameof(SignupStateMachine.AwaitingApproval))
            return TypedResults.Problem(statusCode: StatusCodes.Status409Conflict, title: "Not awaiting approval",
                detail: $"The signup is {saga.CurrentState}; only a signup in AwaitingApproval can be approved or rejected.",
                extensions: new Dictionary<string, object?> { ["status"] = saga.CurrentState });
        return null;
    }

    static IResult Decided(Guid id, string decision)
    {
        var statusUrl = $"/api/signups/{id}";
        return TypedResults.Accepted(statusUrl, new { id, decision, statusUrl });
    }

    /// <summary>The body as JSON (null when empty), or the problem to answer: only JSON is taken (see the remarks above).</summary>
    static async Task<(JsonElement? Body, IResult? Problem)> ReadBody(HttpRequest request, CancellationToken cancellationToken)
    {
        if (!request.HasJsonContentType())
            return (null, TypedResults.Problem(statusCode: StatusCodes.Status415UnsupportedMediaType, title: "Unsupported media type",
                detail: "Send application/json (an empty object will do)."));
        try
        {
            using var reader = new StreamReader(request.Body);
            var text = await reader.ReadToEndAsync(cancellationToken);
            if (string.IsNullOrWhiteSpace(text))
                return (null, null);
            using var document = JsonDocument.Parse(text, new JsonDocumentOptions { MaxDepth = 8 });
            return (document.RootElement.Clone(), null);
        }
        catch (JsonException)
        {
            return (null, TypedResults.Problem(statusCode: StatusCodes.Status400BadRequest, title: "Malformed JSON", detail: "The body is not valid JSON."));
        }
        catch (BadHttpRequestException ex)
        {
            return (null, TypedResults.Problem(statusCode: ex.StatusCode, title: "Bad request", detail: "The request body could not be read."));
        }
    }

    static string? AdminName(ClaimsPrincipal user) =>
        user.Identity?.Name is { Length: > 0 } name ? (name.Length > 200 ? name[..200] : name) : null;
}
