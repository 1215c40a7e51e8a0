namespace Joinery.FakeApis;

/// <summary>Body of <c>POST /_fake/failures</c>; unset fields take the API's defaults (see <see cref="FakeFailure"/>).</summary>
public sealed record FailureRequest(string? Api, string? Email, string? Error, int? Status);

/// <summary>Body of <c>POST /_fake/members</c>.</summary>
public sealed record MemberRequest(string? Email);

/// <summary>
/// The test's side door under <c>/_fake</c>: arrange failures and members, read what the services did, reset.
/// Kept apart from the faked APIs so it is never mistaken for them, and never logged as a call to them.
/// </summary>
public static class ControlEndpoints
{
    public const string Prefix = "/_fake";

    public static IEndpointRouteBuilder MapFakeControl(this IEndpointRouteBuilder app)
    {
        var control = app.MapGroup(Prefix);

        control.MapPost("/failures", (FailureRequest request, FakeState state) =>
        {
            if (!FakeFailure.TryCreate(request.Api, request.Email, request.Error, request.Status, out var failure, out var problem))
                return Results.BadRequest(new { error = problem });
            state.AddFailure(failure);
            return Results.Json(failure, statusCode: StatusCodes.Status201Created);
        });
        control.MapGet("/failures", (FakeState state) => Results.Json(state.Failures));
        control.MapDelete("/failures", (FakeState state) =>
        {
            state.ClearFailures();
            return Results.NoContent();
        });

        control.MapPost("/members", (MemberRequest request, FakeState state) =>
        {
            if (string.IsNullOrWhiteSpace(request.Email))
                return Results.BadRequest(new { error = "email is required" });
            state.AddSlackMember(request.Email);
            return Results.Json(new { email = request.Email.Trim() }, statusCode: StatusCodes.Status201Created);
        });
        control.MapGet("/members", (FakeState state) => Results.Json(state.SlackMembers.Select(email => new { email })));

        control.MapGet("/requests", (FakeState state, string? email) => Results.Json(state.Requests.Snapshot(email)));
        control.MapGet("/contacts", (FakeState state) => Results.Json(state.Contacts));
        control.MapGet("/invites", (FakeState state) => Results.Json(state.Invites));

        control.MapPost("/reset", (FakeState state) =>
        {
            state.Reset();
            return Results.NoContent();
        });

        return app;
    }
}
