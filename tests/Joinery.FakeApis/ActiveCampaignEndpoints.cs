using System.Globalization;
using System.Text.Json;
using Microsoft.Extensions.Options;

namespace Joinery.FakeApis;

/// <summary>
/// ActiveCampaign API v3, the part Joinery uses, answered in the real shapes: a client that works against this
/// fake should work against the real account unchanged.
/// </summary>
public static class ActiveCampaignEndpoints
{
    public const string TokenHeader = "Api-Token";

    public static IEndpointRouteBuilder MapActiveCampaignApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/api/3");
        api.MapPost("/contact/sync", SyncContact);
        api.MapGet("/contacts", ListContacts);
        api.MapGet("/contacts/{id}", GetContact);
        api.MapDelete("/contacts/{id}", DeleteContact);
        api.MapPost("/contactLists", UpdateListStatus);
        api.MapPost("/contactTags", AddContactTag);
        return app;
    }

    static async Task<IResult> SyncContact(HttpContext http, FakeState state, IOptionsMonitor<FakeApiOptions> options)
    {
        var arrival = state.Requests.Arrive();
        // Read before the token check so that even a refused call shows up under its email in the request log.
        var fields = await ReadContactFields(http.Request, http.RequestAborted);
        var email = fields.Email;

        if (!IsAuthorized(http.Request, options))
            return Forbidden(http, state, arrival, email);

        if (state.FindFailure(FakeApiNames.ActiveCampaign, email, "contact/sync") is { } failure)
            return Fail(http, state, arrival, email, failure);

        if (!EmailSyntax.IsValid(email))
            return Answer(http, state, arrival, email, StatusCodes.Status422UnprocessableEntity,
                Errors(FakeFailure.DefaultActiveCampaignError), FakeFailure.DefaultActiveCampaignError);

        var sync = state.SyncContact(email!, fields.FirstName, fields.LastName, fields.Phone);
        return Answer(http, state, arrival, sync.Contact.Email,
            sync.Created ? StatusCodes.Status201Created : StatusCodes.Status200OK,
            new { contact = Representation(sync.Contact, http.Request) });
    }

    static IResult ListContacts(HttpContext http, FakeState state, IOptionsMonitor<FakeApiOptions> options, string? email)
    {
        var arrival = state.Requests.Arrive();
        if (!IsAuthorized(http.Request, options))
            return Forbidden(http, state, arrival, email);

        IReadOnlyList<FakeContact> contacts = string.IsNullOrWhiteSpace(email)
            ? state.Contacts
            : state.FindContactByEmail(email) is { } found ? [found] : [];
        return Answer(http, state, arrival, email, StatusCodes.Status200OK, new
        {
            contacts = contacts.Select(c => Representation(c, http.Request)),
            // ActiveCampaign sends the total as a string.
            meta = new { total = contacts.Count.ToString(CultureInfo.InvariantCulture) },
        });
    }

    static IResult GetContact(HttpContext http, FakeState state, IOptionsMonitor<FakeApiOptions> options, string id)
    {
        var arrival = state.Requests.Arrive();
        if (!IsAuthorized(http.Request, options))
            return Forbidden(http, state, arrival, email: null);

        return state.FindContact(id) is { } contact
            ? Answer(http, state, arrival, contact.Email, StatusCodes.Status200OK, new { contact = Representation(contact, http.Request) })
            : NotFound(http, state, arrival, id);
    }

    static IResult DeleteContact(HttpContext http, FakeState state, IOptionsMonitor<FakeApiOptions> options, string id)
    {
        var arrival = state.Requests.Arrive();
        if (!IsAuthorized(http.Request, options))
            return Forbidden(http, state, arrival, email: null);

        return state.DeleteContact(id) is { } deleted
            ? Answer(http, state, arrival, deleted.Email, StatusCodes.Status200OK, new { })
            : NotFound(http, state, arrival, id);
    }

    /// <summary>
    /// <c>{"contactList":{"list","contact","status"}}</c>: 201 for a new subscription, 200 for an update. An unknown
    /// contact or a list id outside 1-100 (the fake account's lists) is 404; a missing field or a status other than 1
    /// or 2 is 422.
    /// </summary>
    static async Task<IResult> UpdateListStatus(HttpContext http, FakeState state, IOptionsMonitor<FakeApiOptions> options)
    {
        var arrival = state.Requests.Arrive();
        var fields = await ReadObject(http.Request, "contactList", http.RequestAborted);
        var contactId = fields is { } f ? Text(f, "contact") : null;
        var contact = contactId is null ? null : state.FindContact(contactId);
        if (!IsAuthorized(http.Request, options))
            return Forbidden(http, state, arrival, contact?.Email);
        if (contact is not null && state.FindFailure(FakeApiNames.ActiveCampaign, contact.Email, "contactLists", isDefaultMethod: false) is { } failure)
            return Fail(http, state, arrival, contact.Email, failure);

        var list = fields is { } g ? Text(g, "list") : null;
        var status = fields is { } h ? Text(h, "status") : null;
        if (contactId is null || list is null || status is not ("1" or "2"))
            return Answer(http, state, arrival, contact?.Email, StatusCodes.Status422UnprocessableEntity, Errors("field_missing"), "field_missing");
        if (contact is null)
            return NotFound(http, state, arrival, contactId);
        if (!ExistingId(list))
            return Answer(http, state, arrival, contact.Email, StatusCodes.Status404NotFound, new { message = $"No Result found for List with id {list}" });

        var (subscription, created) = state.UpdateListStatus(contact.Id, list, status);
        return Answer(http, state, arrival, contact.Email, created ? StatusCodes.Status201Created : StatusCodes.Status200OK, new
        {
            contacts = new[] { Representation(contact, http.Request) },
            contactList = new { contact = subscription.Contact, list = subscription.List, status = subscription.Status, id = subscription.Id },
        });
    }

    /// <summary>
    /// <c>{"contactTag":{"contact","tag"}}</c>: 201 with the new contactTag, 200 with the existing one when the contact
    /// has the tag already. Unknown contact or a tag id outside 1-100: 404.
    /// </summary>
    static async Task<IResult> AddContactTag(HttpContext http, FakeState state, IOptionsMonitor<FakeApiOptions> options)
    {
        var arrival = state.Requests.Arrive();
        var fields = await ReadObject(http.Request, "contactTag", http.RequestAborted);
        var contactId = fields is { } f ? Text(f, "contact") : null;
        var contact = contactId is null ? null : state.FindContact(contactId);
        if (!IsAuthorized(http.Request, options))
            return Forbidden(http, state, arrival, contact?.Email);
        if (contact is not null && state.FindFailure(FakeApiNames.ActiveCampaign, contact.Email, "contactTags", isDefaultMethod: false) is { } failure)
            return Fail(http, state, arrival, contact.Email, failure);

        var tag = fields is { } g ? Text(g, "tag") : null;
        if (contactId is null || tag is null)
            return Answer(http, state, arrival, contact?.Email, StatusCodes.Status422UnprocessableEntity, Errors("field_missing"), "field_missing");
        if (contact is null)
            return NotFound(http, state, arrival, contactId);
        if (!ExistingId(tag))
            return Answer(http, state, arrival, contact.Email, StatusCodes.Status404NotFound, new { message = $"No Result found for Tag with id {tag}" });

        var (added, created) = state.AddContactTag(contact.Id, tag);
        return Answer(http, state, arrival, contact.Email, created ? StatusCodes.Status201Created : StatusCodes.Status200OK, new
        {
            contactTag = new { cdate = Timestamp(added.CreatedAt), contact = added.Contact, tag = added.Tag, id = added.Id },
        });
    }

    /// <summary>The fake account's lists and tags: ids 1 to 100.</summary>
    static bool ExistingId(string id) => int.TryParse(id, NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n is >= 1 and <= 100;

    static IResult Fail(HttpContext http, FakeState state, long arrival, string? email, FakeFailure failure)
    {
        if (failure.RetryAfter is { } seconds)
            http.Response.Headers.RetryAfter = seconds.ToString(CultureInfo.InvariantCulture);
        return Answer(http, state, arrival, email, failure.Status, Errors(failure.Error), failure.Error);
    }

    static async Task<JsonElement?> ReadObject(HttpRequest request, string name, CancellationToken cancellationToken)
    {
        try
        {
            using var document = await JsonDocument.ParseAsync(request.Body, cancellationToken: cancellationToken);
            return document.RootElement.ValueKind == JsonValueKind.Object
                   && document.RootElement.TryGetProperty(name, out var inner) && inner.ValueKind == JsonValueKind.Object
                ? inner.Clone()
                : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    static bool IsAuthorized(HttpRequest request, IOptionsMonitor<FakeApiOptions> options) =>
        request.Headers.TryGetValue(TokenHeader, out var token)
        && string.Equals(token.ToString(), options.CurrentValue.ActiveCampaignToken, StringComparison.Ordinal);

    static IResult Forbidden(HttpContext http, FakeState state, long arrival, string? email) =>
        Answer(http, state, arrival, email, StatusCodes.Status403Forbidden, new { message = "Forbidden" });

    static IResult NotFound(HttpContext http, FakeState state, long arrival, string id) =>
        Answer(http, state, arrival, email: null, StatusCodes.Status404NotFound,
            new { message = $"No Result found for Subscriber with id {id}" });

    static IResult Answer(HttpContext http, FakeState state, long arrival, string? email, int status, object body, string? error = null)
    {
        state.Requests.Add(arrival, new FakeRequest(
            FakeApiNames.ActiveCampaign, http.Request.Method, http.Request.Path, email, status, error));
        return Results.Json(body, statusCode: status);
    }

    /// <summary>ActiveCampaign's JSON:API-style error list; the email is the only field a Joinery sync can get wrong.</summary>
    static object Errors(string code) => new
    {
        errors = new[]
        {
            new
            {
                title = code == FakeFailure.DefaultActiveCampaignError ? "Contact Email Address is not valid." : $"Refused by the fake: {code}",
                detail = "",
                code,
                source = new { pointer = "/data/attributes/email" },
            },
        },
    };

    static object Representation(FakeContact contact, HttpRequest request)
    {
        var self = $"{request.Scheme}://{request.Host}/api/3/contacts/{contact.Id}";
        return new
        {
            email = contact.Email,
            firstName = contact.FirstName,
            lastName = contact.LastName,
            phone = contact.Phone,
            cdate = Timestamp(contact.CreatedAt),
            udate = Timestamp(contact.UpdatedAt),
            id = contact.Id,
            links = new
            {
                bounceLogs = $"{self}/bounceLogs",
                contactLists = $"{self}/contactLists",
                contactTags = $"{self}/contactTags",
                fieldValues = $"{self}/fieldValues",
                notes = $"{self}/notes",
            },
        };
    }

    // ActiveCampaign writes local time with an offset and no fraction, e.g. 2024-05-01T10:00:00-05:00.
    static string Timestamp(DateTimeOffset at) => at.ToString("yyyy-MM-dd'T'HH:mm:sszzz", CultureInfo.InvariantCulture);

    sealed record ContactFields(string? Email, string? FirstName, string? LastName, string? Phone);

    /// <summary>The <c>contact</c> object's fields; a body that is not the expected JSON yields no email, hence a 422.</summary>
    static async Task<ContactFields> ReadContactFields(HttpRequest request, CancellationToken cancellationToken)
    {
        try
        {
            using var document = await JsonDocument.ParseAsync(request.Body, cancellationToken: cancellationToken);
            if (document.RootElement.ValueKind != JsonValueKind.Object
                || !document.RootElement.TryGetProperty("contact", out var contact)
                || contact.ValueKind != JsonValueKind.Object)
                return new(null, null, null, null);

            return new(Text(contact, "email"), Text(contact, "firstName"), Text(contact, "lastName"), Text(contact, "phone"));
        }
        catch (JsonException)
        {
            return new(null, null, null, null);
        }
    }

    /// <summary>A field as text: strings as they are, numbers (phones often are) as written, anything else absent.</summary>
    static string? Text(JsonElement parent, string name) =>
        parent.TryGetProperty(name, out var value)
            ? value.ValueKind switch
            {
                JsonValueKind.String => value.GetString(),
                JsonValueKind.Number => value.GetRawText(),
                _ => null,
            }
            : null;
}
