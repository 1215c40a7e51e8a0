using System.Text.Json;
using Joinery.Contracts;
using Joinery.Gateway.Persistence;
using Joinery.Gateway.Saga;
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
        api.MapPost("/", Submit).WithMetadata(new RequestSizeLimitAttribute(MaxBodyBytes));
        api.MapGet("/{id:guid}", GetStatus).WithName("GetSignupStatus");
        return app;
    }

    static async Task<IResult> Submit(HttpRequest request, ISignupLedger ledger, ILoadSagaRepository<SignupState> sagas,
        IPublishEndpoint publisher, TimeProvider clock, ILogger<SignupRequested> logger, CancellationToken cancellationToken)
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

        var (signup, errors) = SignupRequestValidator.Validate(body);
        if (signup is null)
            return TypedResults.ValidationProblem(errors, title: "The signup has invalid fields.");

        var (id, isNew) = await ledger.Accept(Guid.NewGuid(), signup.NormalizedEmail,
            async existing => (await sagas.Load(existing))?.CurrentState == "Failed", cancellationToken);

        if (isNew)
        {
            try
            {
                await publisher.Publish(new SignupRequested(id, signup.Name, signup.Email, signup.NormalizedEmail, clock.GetUtcNow()),
                    cancellationToken);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                // Not published means not accepted: forget it so a retry starts afresh, and say so honestly.
                logger.LogError(ex, "Could not publish signup {SignupId}", id);
                await ledger.Forget(id, CancellationToken.None);
                request.HttpContext.Response.Headers.RetryAfter = "10";
                return Problem(StatusCodes.Status503ServiceUnavailable, "Temporarily unavailable",
                    "The signup could not be queued. Please try again shortly.");
            }
        }

        var status = isNew ? SignupStatusView.Accepted : (await sagas.Load(id))?.CurrentState ?? SignupStatusView.Accepted;
        var statusUrl = $"/api/signups/{id}";
        return TypedResults.Accepted(statusUrl, new { id, status, statusUrl });
    }

    static async Task<Results<Ok<SignupStatusView>, ProblemHttpResult>> GetStatus(Guid id, ISignupLedger ledger,
        ILoadSagaRepository<SignupState> sagas, CancellationToken cancellationToken)
    {
        var saga = await sagas.Load(id);
        if (saga is not null)
            return TypedResults.Ok(SignupStatusView.From(saga));
        if (await ledger.Contains(id, cancellationToken))
            return TypedResults.Ok(SignupStatusView.Pending(id));
        return TypedResults.Problem(statusCode: StatusCodes.Status404NotFound, title: "Not found", detail: "No signup has this id.");
    }

    static ProblemHttpResult Problem(int status, string title, string detail) =>
        TypedResults.Problem(statusCode: status, title: title, detail: detail);
}
