using Joinery.Gateway.Admin;

namespace Joinery.Gateway.ErrorQueues;

/// <summary>
/// The admin API over the consumers' error queues, behind the admin policy like every <c>/api/admin</c> endpoint:
/// <list type="bullet">
/// <item><c>GET /api/admin/errors[?queue=store-signup&amp;take=50]</c>: <c>{items: [{queue, errorQueue, messageId,
/// messageType, signupId, reason, exceptionType, faultedAt, consumerType}]}</c></item>
/// <item><c>POST /api/admin/errors/{queue}/{messageId}/resend</c>: that message back to its queue (404 if it is not there)</item>
/// <item><c>POST /api/admin/errors/{queue}/resend</c>: every message of that error queue back to its queue</item>
/// </list>
/// POSTs require <c>Content-Type: application/json</c> (an empty object will do), as the other admin actions do.
/// </summary>
public static class ErrorQueueEndpoints
{
    public const int MaxTake = 500;

    public static IEndpointRouteBuilder MapErrorQueueApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/api/admin/errors").RequireAuthorization(AdminAuthentication.Policy);
        api.MapGet("", List);
        api.MapPost("/{queue}/{messageId}/resend", ResendOne).AddEndpointFilter(RequireJson);
        api.MapPost("/{queue}/resend", ResendAll).AddEndpointFilter(RequireJson);
        return app;
    }

    static async Task<IResult> List(ErrorQueueBrowser errors, string? queue, int? take, CancellationToken cancellationToken)
    {
        if (Unavailable(errors) is { } unavailable)
            return unavailable;
        if (queue is not null && !ErrorQueueBrowser.IsKnownQueue(queue))
            return UnknownQueue(queue);
        if (take is < 1 or > MaxTake)
            return Results.ValidationProblem(new Dictionary<string, string[]> { ["take"] = [$"Take must be between 1 and {MaxTake}."] });
        var items = await errors.List(queue, take ?? 100, cancellationToken);
        return Results.Json(new { items });
    }

    static Task<IResult> ResendOne(string queue, string messageId, ErrorQueueBrowser errors, IAdminAuditLog audit, TimeProvider clock,
        HttpContext context, CancellationToken cancellationToken) =>
        Resend(queue, messageId, errors, audit, clock, context, cancellationToken);

    static Task<IResult> ResendAll(string queue, ErrorQueueBrowser errors, IAdminAuditLog audit, TimeProvider clock, HttpContext context,
        CancellationToken cancellationToken) =>
        Resend(queue, null, errors, audit, clock, context, cancellationToken);

    static async Task<IResult> Resend(string queue, string? messageId, ErrorQueueBrowser errors, IAdminAuditLog audit, TimeProvider clock,
        HttpContext context, CancellationToken cancellationToken)
    {
        if (Unavailable(errors) is { } unavailable)
            return unavailable;
        if (!ErrorQueueBrowser.IsKnownQueue(queue))
            return UnknownQueue(queue);
        var result = await errors.Resend(queue, messageId, cancellationToken);
        if (messageId is not null && result.Resent == 0)
            return Results.Problem(statusCode: StatusCodes.Status404NotFound, title: "Not in the error queue",
                detail: $"No message {messageId} in {queue}{ErrorQueueBrowser.ErrorSuffix}, or the broker did not confirm it.");
        await audit.Record(new AdminAuditEntry(clock.GetUtcNow(), context.User.Identity?.Name ?? "admin", "resend-error", Guid.Empty,
            $"{result.Resent} from {queue}{ErrorQueueBrowser.ErrorSuffix}" + (messageId is null ? "" : $" (message {messageId})")), cancellationToken);
        return Results.Json(result);
    }

    static IResult? Unavailable(ErrorQueueBrowser errors) => errors.Available
        ? null
        : Results.Problem(statusCode: StatusCodes.Status404NotFound, title: "No error queues",
            detail: "The in-memory transport (standalone) has no error queues.");

    static IResult UnknownQueue(string queue) =>
        Results.Problem(statusCode: StatusCodes.Status404NotFound, title: "Unknown queue", detail: $"{queue} is not one of Joinery's queues.");

    static async ValueTask<object?> RequireJson(EndpointFilterInvocationContext context, EndpointFilterDelegate next) =>
        context.HttpContext.Request.HasJsonContentType()
            ? await next(context)
            : Results.Problem(statusCode: StatusCodes.Status415UnsupportedMediaType, title: "Send application/json (an empty object will do).");
}
