using System.Text.Json;
using Joinery.Contracts;
using Joinery.Gateway.Abuse;
using Joinery.Gateway.Confirmation;
using Joinery.Gateway.Page;
using Joinery.Gateway.Persistence;
using Joinery.Gateway.Saga;
using Joinery.ServiceDefaults.Telemetry;
using MassTransit;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;

namespace Joinery.Gateway.Api;

public static class SignupEndpoints
{
    /// <summary>Far above any real name and email; anything larger is not a signup.</summary>
    public const long MaxBodyBytes = 16 * 1024;

    public static IEndpointRouteBuilder MapSignupApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/api/signups");
        api.MapPost("/", Submit).WithMetadata(new RequestSizeLimitAttribute(MaxBodyBytes))
            .RequireRateLimiting(SignupRateLimiting.PerIpPolicy); // per IP, before the body is read; per email below
        api.MapGet("/{id:guid}", GetStatus).WithName("GetSignupStatus");
        return app;
    }

    static async Task<IResult> Submit(HttpRequest request, ISignupLedger ledger, ILoadSagaRepository<SignupState> sagas,
        IPublishEndpoint publisher, TimeProvider clock, ILogger<SignupRequested> logger, PageTexts texts, IConfiguration configuration,
        EmailRateLimiter emailLimiter, SignupScreening screening, SignupAnnouncement announcement, CancellationToken cancellationToken)
    {
        if (!request.HasJsonContentType())
            return Problem(StatusCodes.Status415UnsupportedMediaType, "Unsupported media type", "Send the signup as application/json.");

        JsonElement body;
        try
        {
            using var document = await JsonDocument.ParseAsync(request.Body, new JsonDocumentOptions { MaxDepth = 16 }, cancellationToken);
            body = document.RootElement.Clone();
        }
        catch (JsonException)
        {
            return Problem(StatusCodes.Status400BadRequest, "Malformed JSON", "The body is not valid JSON.");
        }
        catch (BadHttpRequestException ex)
        {
            return Problem(ex.StatusCode, "Bad request", ex.StatusCode == StatusCodes.Status413PayloadTooLarge
                ? $"The body must be at most {MaxBodyBytes} bytes."
                : "The request body could not be read.");
        }

        var (signup, errors) = SignupRequestValidator.Validate(body, SignupPageOptions.RequiresCodeOfConduct(configuration));
        if (signup is null)
            // In the language the page asked for (Accept-Language), so its inline errors read like the rest of it.
            return TypedResults.ValidationProblem(texts.Translate(PageTexts.FromAcceptLanguage(request.Headers.AcceptLanguage), errors),
                title: "The signup has invalid fields.");

        if (SignupRequestValidator.IsHoneypotFilled(body))
        {
            // A bot filled the hidden field: answer exactly as for a signup, so it learns nothing, but keep and publish nothing.
            logger.LogInformation("Dropped a signup whose honeypot field was filled");
            var decoy = Guid.NewGuid();
            return TypedResults.Accepted($"/api/signups/{decoy}", new { id = decoy, status = SignupStatusView.Accepted, statusUrl = $"/api/signups/{decoy}" });
        }

        if (emailLimiter.TryAcquire(signup.NormalizedEmail) is { } retryAfter)
        {
            logger.LogInformation("Refused a signup: too many for one email address");
            return SignupRateLimiting.TooManyRequests(retryAfter, "Too many signups for this email address. Please try again later.");
        }

        // Abuse/SignupScreening: the email domain lists, then the CAPTCHA (the one outside call), before anything is kept.
        if (await screening.Screen(request, body, signup, cancellationToken) is { } refused)
            return refused;

        var message = new SignupRequested(Guid.NewGuid(), signup.Name, signup.Email, signup.NormalizedEmail, clock.GetUtcNow());
        Guid id;
        bool isNew;
        try
        {
            // On disk before anything else: from here on the signup cannot be lost (the ledger is the outbox).
            (id, isNew) = await ledger.Accept(message, async existing => (await sagas.Load(existing))?.CurrentState == "Failed", cancellationToken);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            logger.LogError(ex, "Could not record a signup");
            request.HttpContext.Response.Headers.RetryAfter = "10";
            return Problem(StatusCodes.Status503ServiceUnavailable, "Temporarily unavailable",
                "The signup could not be recorded. Please try again shortly.");
        }
        // The request span is the root of the signup's trace; the publish below inherits the tags.
        JoineryTelemetry.TagSignup(System.Diagnostics.Activity.Current, id, SignupSteps.Gateway);

        if (isNew)
        {
            // Recorded means accepted: if the broker is down, the outbox publishes it once the broker is back.
            await SignupOutboxDispatcher.TryPublish(publisher, ledger, announcement, message, logger, cancellationToken);
            JoineryMetrics.SignupAccepted();
        }

        var status = isNew ? SignupStatusView.Accepted : (await sagas.Load(id))?.CurrentState ?? SignupStatusView.Accepted;
        if (status == nameof(SignupStateMachine.AwaitingConfirmation))
            await announcement.AskAgain(publisher, id, message, logger, cancellationToken); // the mail may be lost: maybe a fresh link
        var statusUrl = $"/api/signups/{id}";
        return TypedResults.Accepted(statusUrl, new { id, status, statusUrl });
    }

    static async Task<Results<Ok<SignupStatusView>, ProblemHttpResult>> GetStatus(Guid id, ISignupLedger ledger,
        ILoadSagaRepository<SignupState> sagas, IConfiguration configuration, CancellationToken cancellationToken)
    {
        var saga = await sagas.Load(id);
        if (saga is not null)
            return TypedResults.Ok(SignupStatusView.From(saga, traceId => TraceLinks.JaegerTraceUrl(configuration, traceId)));
        if (await ledger.Contains(id, cancellationToken))
            return TypedResults.Ok(SignupStatusView.Pending(id));
        return TypedResults.Problem(statusCode: StatusCodes.Status404NotFound, title: "Not found", detail: "No signup has this id.");
    }

    static ProblemHttpResult Problem(int status, string title, string detail) =>
        TypedResults.Problem(statusCode: status, title: title, detail: detail);
}
