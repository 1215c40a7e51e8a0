using System.Text;
using System.Text.Json;
using Joinery.Contracts;
using Joinery.Gateway.Page;
using Joinery.Gateway.Saga;
using MassTransit;
using Microsoft.AspNetCore.Mvc;

namespace Joinery.Gateway.Confirmation;

/// <summary>
/// The end of the mailed link. <c>GET /confirm</c> only shows a page with a button: mail scanners and link
/// prefetchers fetch links, and must not confirm anyone. The button's script posts the token to
/// <c>POST /api/signups/{id}/confirm</c> (JSON, so no other site's form can post it), which checks it against the hashes
/// on the saga and publishes <see cref="EmailConfirmed"/>; nothing is published for a wrong or expired token.
/// </summary>
public static class ConfirmationEndpoints
{
    public static IEndpointRouteBuilder MapConfirmation(this IEndpointRouteBuilder app)
    {
        var texts = app.ServiceProvider.GetRequiredService<PageTexts>();
        var template = PageEndpoints.LoadText("Page.confirm.html");
        var pages = PageTexts.Languages.ToDictionary(l => l, l => Encoding.UTF8.GetBytes(texts.Render(template, l)));

        app.MapGet("/confirm", (HttpContext context) =>
        {
            var language = PageEndpoints.ChooseLanguage(context);
            PageEndpoints.Secure(context.Response);
            // The token is in the link's fragment, which never reaches a server; no-store all the same.
            context.Response.Headers.CacheControl = "no-store";
            return Results.Bytes(pages[language], "text/html; charset=utf-8");
        });
        PageEndpoints.MapAsset(app, "/confirm.js", "Page.confirm.js", "text/javascript; charset=utf-8");
        // A token is 43 characters: anything near the limit is not a confirmation.
        app.MapPost("/api/signups/{id:guid}/confirm", Confirm).WithMetadata(new RequestSizeLimitAttribute(MaxBodyBytes));
        return app;
    }

    public const long MaxBodyBytes = 1024;

    static async Task<IResult> Confirm(Guid id, HttpRequest request, ILoadSagaRepository<SignupState> sagas, IPublishEndpoint publisher,
        TimeProvider clock, ILogger<EmailConfirmed> logger, CancellationToken cancellationToken)
    {
        if (!request.HasJsonContentType())
            return Problem(StatusCodes.Status415UnsupportedMediaType, "unsupported-media-type", "Unsupported media type", "Send the token as application/json.");
        string? token;
        try
        {
            using var body = await JsonDocument.ParseAsync(request.Body, new JsonDocumentOptions { MaxDepth = 4 }, cancellationToken);
            token = body.RootElement.ValueKind == JsonValueKind.Object && body.RootElement.TryGetProperty("token", out var t)
                && t.ValueKind == JsonValueKind.String ? t.GetString() : null;
        }
        catch (JsonException)
        {
            return Problem(StatusCodes.Status400BadRequest, "malformed", "Malformed JSON", "The body is not valid JSON.");
        }
        catch (BadHttpRequestException ex)
        {
            return Problem(ex.StatusCode, "bad-request", "Bad request", ex.StatusCode == StatusCodes.Status413PayloadTooLarge
                ? $"The body must be at most {MaxBodyBytes} bytes."
                : "The request body could not be read.");
        }
        if (string.IsNullOrEmpty(token))
            return Problem(StatusCodes.Status400BadRequest, "missing-token", "Missing token", "Send the token of the confirmation link as {\"token\": \"...\"}.");

        var saga = await sagas.Load(id);
        if (saga is null)
            return Problem(StatusCodes.Status404NotFound, "not-found", "Not found", "No signup has this id.");
        if (!ConfirmationTokens.Matches(saga.ConfirmationTokenHashes, token))
        {
            logger.LogInformation("Refused a confirmation of signup {SignupId}: the token does not match", id);
            return Problem(StatusCodes.Status400BadRequest, "invalid-link", "Invalid confirmation link",
                "This link does not confirm this signup. Use the latest link we mailed you, unchanged.");
        }

        var statusUrl = $"/api/signups/{id}";
        if (saga.EmailConfirmedAt is not null)
            return TypedResults.Ok(new { id, status = saga.CurrentState, statusUrl, alreadyConfirmed = true });

        var now = clock.GetUtcNow();
        var expired = saga.CurrentState == nameof(SignupStateMachine.AwaitingConfirmation)
            ? saga.Deadline is { } deadline && deadline <= now
            : saga.FailureReason == SignupStateMachine.TimeoutReason("confirmation");
        if (expired)
            return Problem(StatusCodes.Status410Gone, "expired", "Link expired",
                "This confirmation link has expired. Sign up again to receive a new one.");
        if (saga.CurrentState != nameof(SignupStateMachine.AwaitingConfirmation))
            return Problem(StatusCodes.Status409Conflict, "not-awaiting-confirmation", "Not awaiting confirmation",
                $"This signup is {saga.CurrentState}{(saga.FailureReason is null ? "" : $" ({saga.FailureReason})")}; it can no longer be confirmed.");

        // The saga moves on (and ignores a second one): publishing twice, from two clicks at once, is harmless.
        await publisher.Publish(new EmailConfirmed(id, now), cancellationToken);
        logger.LogInformation("Signup {SignupId} confirmed its email address", id);
        return TypedResults.Accepted(statusUrl, new { id, status = "Confirmed", statusUrl, alreadyConfirmed = false });
    }

    static IResult Problem(int status, string code, string title, string detail) =>
        TypedResults.Problem(statusCode: status, title: title, detail: detail, extensions: new Dictionary<string, object?> { ["code"] = code });
}
