namespace Joinery.FakeApis;

/// <summary>Body of <c>POST /_fake/failures</c>; unset fields take the API's defaults (see <see cref="FakeFailure"/>).</summary>
public sealed record FailureRequest(string? Api, string? Email, string? Error, int? Status)
{
    /// <summary>See <see cref="FakeFailure.Method"/>.</summary>
    public string? Method { get; init; }

    /// <summary>Fail only this many calls, then answer normally again.</summary>
    public int? Times { get; init; }

    /// <summary>Seconds sent as <c>Retry-After</c> with the failure.</summary>
    public int? RetryAfter { get; init; }
}

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
            if (request.Times is <= 0 || request.RetryAfter is < 0)
                return Results.BadRequest(new { error = "times must be positive and retryAfter not negative" });
            failure = failure with
            {
                Method = string.IsNullOrWhiteSpace(request.Method) ? null : request.Method.Trim(),
                Times = request.Times,
                RetryAfter = request.RetryAfter,
            };
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
        control.MapGet("/messages", (FakeState state, string? channel) =>
            Results.Json(state.Messages.Where(m => channel is null || m.Channel == channel)));
        control.MapGet("/contactLists", (FakeState state) => Results.Json(state.ContactLists));
        control.MapGet("/contactTags", (FakeState state) => Results.Json(state.ContactTags));
        control.MapGet("/mails", (FakeState state, string? to) =>
            Results.Json(state.Mails.Where(m => to is null || m.To.Any(t => EmailSyntax.Normalize(t) == EmailSyntax.Normalize(to)))));

        control.MapGet("/config", (FakeState state) => Results.Json(state.Behaviour));
        control.MapPost("/config", (FakeBehaviour? behaviour, FakeState state) =>
        {
            behaviour ??= new FakeBehaviour();
            if (behaviour.Validate() is { } problem)
                return Results.BadRequest(new { error = problem });
            state.Behaviour = behaviour;
            return Results.Json(state.Behaviour);
        });

        control.MapPost("/reset", (FakeState state, FakeTurnstile turnstile) =>
        {
            state.Reset();
            turnstile.Reset();
            return Results.NoContent();
        });

        return app;
    }
}
