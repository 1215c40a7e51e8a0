using System.Globalization;
using System.Linq.Expressions;
using System.Text;
using Joinery.Contracts;
using Joinery.Gateway.Abuse;
using Joinery.Gateway.Confirmation;
using Joinery.Gateway.Page;
using Joinery.Gateway.Persistence;
using Joinery.Gateway.Saga;
using Joinery.Gateway.SagaRepository;
using Joinery.ServiceDefaults.Telemetry;
using MassTransit;
using Microsoft.AspNetCore.Authentication;

namespace Joinery.Gateway.Admin;

public sealed record AdminStepView(string Status, string? Detail, int Attempts);

/// <summary>A signup as the admins see it: the person (unless erased), each step, the reason, the trace.</summary>
public sealed record AdminSignupView(
    Guid Id,
    string State,
    string? Name,
    string? Email,
    bool Erased,
    bool Final,
    string? Reason,
    IReadOnlyDictionary<string, AdminStepView> Steps,
    string? CrmContactId,
    DateTimeOffset CreatedAt,
    DateTimeOffset UpdatedAt,
    string? TraceId,
    string? TraceUrl)
{
    public static AdminSignupView From(SignupState s, string? traceUrl) => new(
        s.CorrelationId, s.CurrentState, s.Name, s.Email, AdminEndpoints.IsErased(s), AdminEndpoints.IsFinal(s), s.FailureReason,
        new Dictionary<string, AdminStepView>
        {
            ["store"] = new(s.StoreStatus, s.StoreDetail, s.StoreAttempts),
            ["crm"] = new(s.CrmStatus, s.CrmDetail, s.CrmAttempts),
            ["slack"] = new(s.SlackStatus, s.SlackDetail, s.SlackAttempts),
        },
        s.CrmContactId, s.CreatedAt, s.UpdatedAt, s.TraceId, traceUrl);
}

public sealed record AdminSignupPage(IReadOnlyList<AdminSignupView> Items, int Page, int PageSize, long Total);

/// <summary>
/// The admin page (<c>/admin</c>: a sign-in form, then the signups) and the admin API under <c>/api/admin</c>:
/// list and search, retry a failed signup, erase a person, the audit. Approve and reject live beside these
/// (Approval*.cs) behind the same <see cref="AdminAuthentication.Policy"/>.
/// </summary>
public static class AdminEndpoints
{
    public const int MaxPageSize = 100;
    static readonly string[] FinalStates = ["Completed", "Failed"];

    public static bool IsFinal(SignupState s) => FinalStates.Contains(s.CurrentState);

    /// <summary>Erasure scrubs the person from a signup that had them; nothing else leaves both empty.</summary>
    public static bool IsErased(SignupState s) => s.Requested && s.NormalizedEmail is null && s.Email is null && s.Name is null;

    public static IEndpointRouteBuilder MapAdmin(this IEndpointRouteBuilder app)
    {
        var texts = app.ServiceProvider.GetRequiredService<PageTexts>();
        var loginTemplate = PageEndpoints.LoadText("Admin.login.html");
        var adminTemplate = PageEndpoints.LoadText("Admin.admin.html");
        // Fail at start-up, not at an admin's first visit, when a template names a text that does not exist.
        foreach (var language in PageTexts.Languages)
        {
            texts.Render(loginTemplate, language, new Dictionary<string, string?> { ["error"] = "" });
            texts.Render(adminTemplate, language, new Dictionary<string, string?> { ["user"] = "" });
        }

        app.MapGet("/admin", (HttpContext context) =>
        {
            var language = PageEndpoints.ChooseLanguage(context);
            PageEndpoints.Secure(context.Response);
            var user = context.User.Identity is { IsAuthenticated: true } identity && context.User.IsInRole(AdminAuthentication.Role)
                ? identity.Name
                : null;
            return user is null
                ? Html(texts.Render(loginTemplate, language, new Dictionary<string, string?> { ["error"] = "" }))
                : Html(texts.Render(adminTemplate, language, new Dictionary<string, string?> { ["user"] = user }));
        });
        app.MapPost("/admin/login", async (HttpContext context, AdminCredential credential, AdminSignInLimiter limiter) =>
        {
            var form = context.Request.HasFormContentType ? await context.Request.ReadFormAsync() : null;
            var username = form?["username"].ToString();
            // Abuse/AdminSignInLimiter: too many wrong passwords from this client for this name, and no password is checked.
            var blocked = limiter.Blocked(context, username);
            if (blocked is null && credential.Verify(username, form?["password"].ToString()))
            {
                await context.SignInAsync(AdminAuthentication.Scheme, AdminAuthentication.Principal(credential.Username!));
                return SeeOther("/admin");
            }
            if (blocked is null)
                limiter.Failed(context, username);
            else
                context.Response.Headers.RetryAfter = Math.Max(1, (long)Math.Ceiling(blocked.Value.TotalSeconds)).ToString(CultureInfo.InvariantCulture);
            var language = PageEndpoints.ChooseLanguage(context);
            PageEndpoints.Secure(context.Response);
            return Html(texts.Render(loginTemplate, language, new Dictionary<string, string?>
            {
                ["error"] = texts.Text(language, blocked is null ? "admin.login.failed" : "admin.login.tooMany"),
            }), blocked is null ? StatusCodes.Status401Unauthorized : StatusCodes.Status429TooManyRequests);
        });
        app.MapPost("/admin/logout", async (HttpContext context) =>
        {
            await context.SignOutAsync(AdminAuthentication.Scheme);
            return SeeOther("/admin");
        });
        PageEndpoints.MapAsset(app, "/admin/admin.js", "Admin.admin.js", "text/javascript; charset=utf-8");

        var api = app.MapGroup("/api/admin").RequireAuthorization(AdminAuthentication.Policy);
        api.MapGet("/signups", List);
        api.MapGet("/signups/{id:guid}", Detail);
        api.MapPost("/signups/{id:guid}/retry", Retry).AddEndpointFilter(RequireJson);
        api.MapPost("/signups/{id:guid}/erase", Erase).AddEndpointFilter(RequireJson);
        api.MapGet("/audit", Audit);
        return app;
    }

    /// <summary>
    /// A POST must say it sends JSON (an empty object will do): a cross-site form cannot, without a CORS preflight, so
    /// an admin's cookie cannot be used from another site even where SameSite is not enforced.
    /// </summary>
    static async ValueTask<object?> RequireJson(EndpointFilterInvocationContext context, EndpointFilterDelegate next) =>
        context.HttpContext.Request.HasJsonContentType()
            ? await next(context)
            : Problem(StatusCodes.Status415UnsupportedMediaType, "unsupported-media-type", "Send application/json (an empty object will do).");

    static IResult Html(string html, int status = StatusCodes.Status200OK) =>
        Results.Text(html, "text/html; charset=utf-8", Encoding.UTF8, status);

    static IResult SeeOther(string location) => new SeeOtherResult(location);

    sealed class SeeOtherResult(string location) : IResult
    {
        public Task ExecuteAsync(HttpContext httpContext)
        {
            httpContext.Response.StatusCode = StatusCodes.Status303SeeOther;
            httpContext.Response.Headers.Location = location;
            return Task.CompletedTask;
        }
    }

    static IResult Problem(int status, string code, string detail) =>
        Results.Problem(statusCode: status, title: code, detail: detail, extensions: new Dictionary<string, object?> { ["code"] = code });

    static string Actor(HttpContext context) => context.User.Identity?.Name ?? "admin";

    static string? TraceUrl(IConfiguration configuration, SignupState s) => TraceLinks.JaegerTraceUrl(configuration, s.TraceId);

    /// <summary>The signups matching <paramref name="state"/> (exact) and <paramref name="email"/> (part of the address), newest first.</summary>
    static async Task<IResult> List(ISagaStore<SignupState> store, IConfiguration configuration, string? state, string? email,
        int? page, int? pageSize, CancellationToken cancellationToken)
    {
        var size = Math.Clamp(pageSize ?? 25, 1, MaxPageSize);
        var number = Math.Max(page ?? 1, 1);
        var result = await store.Page(Filter(state, email), s => s.CreatedAt, (number - 1) * size, size, cancellationToken);
        return Results.Ok(new AdminSignupPage(result.Items.Select(s => AdminSignupView.From(s, TraceUrl(configuration, s))).ToList(),
            number, size, result.Total));
    }

    public static Expression<Func<SignupState, bool>> Filter(string? state, string? email)
    {
        var st = string.IsNullOrWhiteSpace(state) ? null : state.Trim();
        var part = string.IsNullOrWhiteSpace(email) ? null : email.Trim().ToLowerInvariant();
        return (st, part) switch
        {
            (null, null) => s => true,
            (not null, null) => s => s.CurrentState == st,
            (null, not null) => s => s.NormalizedEmail != null && s.NormalizedEmail.Contains(part),
            _ => s => s.CurrentState == st && s.NormalizedEmail != null && s.NormalizedEmail.Contains(part!),
        };
    }

    static async Task<IResult> Detail(Guid id, ISagaStore<SignupState> store, IConfiguration configuration, CancellationToken cancellationToken) =>
        await store.Load(id, cancellationToken) is { } saga
            ? Results.Ok(AdminSignupView.From(saga, TraceUrl(configuration, saga)))
            : Problem(StatusCodes.Status404NotFound, "not-found", "No signup has this id.");

    /// <summary>
    /// A failed signup starts again as a new signup of the same person (a new id, a fresh SignupRequested): the ledger
    /// and the store both let a new signup take over once the old one failed.
    /// </summary>
    static async Task<IResult> Retry(Guid id, HttpContext context, ISagaStore<SignupState> store, ISignupLedger ledger,
        IPublishEndpoint publisher, IAdminAuditLog audit, TimeProvider clock, ILogger<SignupRequested> logger, SignupAnnouncement announcement,
        CancellationToken cancellationToken)
    {
        var saga = await store.Load(id, cancellationToken);
        if (saga is null)
            return Problem(StatusCodes.Status404NotFound, "not-found", "No signup has this id.");
        if (IsErased(saga))
            return Problem(StatusCodes.Status409Conflict, "erased", "This person was erased: there is no one to sign up again.");
        if (saga.CurrentState != "Failed")
            return Problem(StatusCodes.Status409Conflict, "not-failed", $"Only a failed signup can be retried; this one is {saga.CurrentState}.");
        if (saga.Name is null || saga.Email is null || saga.NormalizedEmail is null)
            return Problem(StatusCodes.Status409Conflict, "not-failed", "This signup never received the person's details, so it cannot be retried.");
        // The store gives the email to a new signup only once the old record is marked failed.
        if (saga.StoreStatus == StepStatus.Compensating || saga.CrmStatus == StepStatus.Compensating)
            return Problem(StatusCodes.Status409Conflict, "compensating", "This signup's undo is still running; retry in a moment.");

        // Through the ledger, which is the outbox: once recorded, the new signup is published even if the broker is down now.
        var message = new SignupRequested(Guid.NewGuid(), saga.Name, saga.Email, saga.NormalizedEmail, clock.GetUtcNow());
        var (newId, isNew) = await ledger.Accept(message,
            async existing => (await store.Load(existing, cancellationToken))?.CurrentState == "Failed", cancellationToken);
        if (!isNew)
            return Results.Problem(statusCode: StatusCodes.Status409Conflict, title: "live-signup",
                detail: "A newer signup of this person is already under way.",
                extensions: new Dictionary<string, object?> { ["code"] = "live-signup", ["id"] = newId });

        JoineryTelemetry.TagSignup(System.Diagnostics.Activity.Current, newId, SignupSteps.Gateway);
        // With double opt-in on, a retry asks for confirmation again like any new signup (the outbox could not tell them apart).
        await SignupOutboxDispatcher.TryPublish(publisher, ledger, announcement, message, logger, cancellationToken);
        JoineryMetrics.SignupAccepted();
        await audit.Record(new AdminAuditEntry(clock.GetUtcNow(), Actor(context), "retry", id, $"new signup {newId}"), cancellationToken);
        var statusUrl = $"/api/signups/{newId}";
        return Results.Accepted(statusUrl, new { id = newId, retriedFrom = id, statusUrl });
    }

    /// <summary>
    /// Erases the person of this signup, across every signup of theirs: the store removes the records
    /// (<see cref="ErasePerson"/>), the CRM contact is deleted (<see cref="DeleteContact"/>), the ledger forgets the
    /// email, the saga instances lose the name and email, and one anonymous audit line stays.
    /// </summary>
    static async Task<IResult> Erase(Guid id, HttpContext context, ISagaStore<SignupState> store, ISignupLedger ledger,
        ISendEndpointProvider sender, IAdminAuditLog audit, TimeProvider clock, CancellationToken cancellationToken)
    {
        var saga = await store.Load(id, cancellationToken);
        if (saga is null)
            return Problem(StatusCodes.Status404NotFound, "not-found", "No signup has this id.");
        if (IsErased(saga))
            return Problem(StatusCodes.Status409Conflict, "erased", "This person was already erased.");

        var email = saga.NormalizedEmail;
        var signups = email is null ? [saga] : await store.Query(s => s.NormalizedEmail == email, cancellationToken);
        if (signups.Any(s => !IsFinal(s)))
            return Problem(StatusCodes.Status409Conflict, "in-progress",
                "A signup of this person is still in progress: let it finish (or reject it) before erasing.");

        // Commands first, scrubbing last: if anything below fails, erasing again still finds every signup by email,
        // and each command is idempotent (an erased record, a contact already gone).
        var contacts = signups
            .Where(s => s.CrmContactId is not null && s.CrmStatus == StepStatus.Done)
            .GroupBy(s => s.CrmContactId!)
            .Select(g => new DeleteContact(g.First().CorrelationId, g.Key))
            .ToList();
        var crm = await sender.GetSendEndpoint(new Uri($"queue:{QueueNames.DeleteContact}"));
        foreach (var command in contacts)
            await crm.Send(command, cancellationToken);
        var records = await sender.GetSendEndpoint(new Uri($"queue:{QueueNames.ErasePerson}"));
        foreach (var s in signups)
            await records.Send(new ErasePerson(s.CorrelationId), cancellationToken);

        foreach (var s in signups)
        {
            await ledger.Forget(s.CorrelationId, cancellationToken);
            await Scrub(store, s.CorrelationId, cancellationToken);
        }

        await audit.Record(new AdminAuditEntry(clock.GetUtcNow(), Actor(context), "erase", id,
            $"{signups.Count} signup(s), {contacts.Count} CRM contact(s)"), cancellationToken);
        return Results.Accepted(value: new { erased = signups.Select(s => s.CorrelationId), crmContacts = contacts.Count });
    }

    /// <summary>Removes the name and email from the saga instance, retrying a lost race with a message for the same signup.</summary>
    static async Task Scrub(ISagaStore<SignupState> store, Guid id, CancellationToken cancellationToken)
    {
        for (var attempt = 1; ; attempt++)
        {
            var current = await store.Load(id, cancellationToken);
            if (current is null || (current.Name is null && current.Email is null && current.NormalizedEmail is null))
                return;
            current.Name = null;
            current.Email = null;
            current.NormalizedEmail = null;
            current.Version++;
            try
            {
                await store.Update(current, cancellationToken);
                return;
            }
            catch (ConcurrencyException) when (attempt < 10)
            {
                // Someone else saved this instance since it was loaded: load it again and scrub that.
            }
        }
    }

    static async Task<IResult> Audit(IAdminAuditLog audit, int? take, CancellationToken cancellationToken) =>
        Results.Ok(await audit.Recent(Math.Clamp(take ?? 20, 1, 200), cancellationToken));
}
