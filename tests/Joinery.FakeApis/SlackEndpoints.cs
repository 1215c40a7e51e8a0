using System.Text.Json;
using Microsoft.Extensions.Options;

namespace Joinery.FakeApis;

/// <summary>
/// The Slack Web API method Joinery calls. Like Slack, it answers HTTP 200 whatever happened and puts the outcome
/// in <c>ok</c> / <c>error</c>, so a client that only looks at the status code is caught out here as it would be there.
/// </summary>
public static class SlackEndpoints
{
    public const string JsonContentType = "application/json; charset=utf-8";

    public static IEndpointRouteBuilder MapSlackApi(this IEndpointRouteBuilder app)
    {
        app.MapPost("/api/admin.users.invite", InviteUser);
        // Slack answers a method it does not know with unknown_method; a typo in a client should look the same here.
        app.MapPost("/api/{method}", (HttpContext http, FakeState state) =>
            Answer(http, state, state.Requests.Arrive(), email: null, "unknown_method"));
        return app;
    }

    static async Task<IResult> InviteUser(
        HttpContext http, FakeState state, IOptionsMonitor<FakeApiOptions> options, TimeProvider clock)
    {
        var arrival = state.Requests.Arrive();
        var arguments = await ReadArguments(http.Request, http.RequestAborted);
        var email = Argument(arguments, "email")?.Trim();

        // A form post may carry the token as an argument instead of a header, as Slack allows.
        var token = BearerToken(http.Request) ?? Argument(arguments, "token");
        if (string.IsNullOrEmpty(token))
            return Answer(http, state, arrival, email, "not_authed");
        if (!string.Equals(token, options.CurrentValue.SlackToken, StringComparison.Ordinal))
            return Answer(http, state, arrival, email, "invalid_auth");
        if (arguments is null)
            return Answer(http, state, arrival, email, "invalid_json");

        var teamId = Argument(arguments, "team_id");
        var channelIds = Argument(arguments, "channel_ids");
        if (string.IsNullOrWhiteSpace(email) || string.IsNullOrWhiteSpace(teamId) || string.IsNullOrWhiteSpace(channelIds))
            return Answer(http, state, arrival, email, "invalid_arguments");

        if (state.FindFailure(FakeApiNames.Slack, email) is { } failure)
            return Answer(http, state, arrival, email, failure.Error);

        if (!EmailSyntax.IsValid(email))
            return Answer(http, state, arrival, email, "invalid_email");

        var outcome = state.InviteToSlack(new FakeSlackInvite(
            email,
            teamId,
            channelIds,
            Argument(arguments, "real_name"),
            Flag(arguments, "resend"),
            Flag(arguments, "is_restricted"),
            Flag(arguments, "is_ultra_restricted"),
            Argument(arguments, "custom_message"),
            clock.GetUtcNow()));

        return Answer(http, state, arrival, email, outcome switch
        {
            SlackInviteOutcome.AlreadyInTeam => "already_in_team",
            SlackInviteOutcome.AlreadyInvited => "already_invited",
            _ => null,
        });
    }

    /// <summary>Logs the call and answers <c>{"ok":true}</c>, or <c>{"ok":false,"error":...}</c> when there is an error.</summary>
    static IResult Answer(HttpContext http, FakeState state, long arrival, string? email, string? error)
    {
        state.Requests.Add(arrival, new FakeRequest(
            FakeApiNames.Slack, http.Request.Method, http.Request.Path, email, StatusCodes.Status200OK, error));
        object body = error is null ? new { ok = true } : new { ok = false, error };
        return Results.Json(body, contentType: JsonContentType, statusCode: StatusCodes.Status200OK);
    }

    static string? BearerToken(HttpRequest request)
    {
        var header = request.Headers.Authorization.ToString();
        const string scheme = "Bearer ";
        return header.StartsWith(scheme, StringComparison.OrdinalIgnoreCase) ? header[scheme.Length..].Trim() : null;
    }

    static string? Argument(IReadOnlyDictionary<string, string>? arguments, string name) =>
        arguments is not null && arguments.TryGetValue(name, out var value) ? value : null;

    static bool Flag(IReadOnlyDictionary<string, string>? arguments, string name) =>
        Argument(arguments, name)?.Trim().ToLowerInvariant() is "true" or "1";

    /// <summary>
    /// The call's arguments, from a form or a JSON body as Slack accepts both, with the query string beneath them;
    /// null when a JSON body does not parse.
    /// </summary>
    static async Task<IReadOnlyDictionary<string, string>?> ReadArguments(HttpRequest request, CancellationToken cancellationToken)
    {
        var arguments = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (key, value) in request.Query)
            arguments[key] = value.ToString();

        if (request.HasFormContentType)
        {
            var form = await request.ReadFormAsync(cancellationToken);
            foreach (var (key, value) in form)
                arguments[key] = value.ToString();
        }
        else if (request.HasJsonContentType())
        {
            try
            {
                using var document = await JsonDocument.ParseAsync(request.Body, cancellationToken: cancellationToken);
                if (document.RootElement.ValueKind != JsonValueKind.Object)
                    return null;
                foreach (var property in document.RootElement.EnumerateObject())
                {
                    if (JsonArgument(property.Value) is { } value)
                        arguments[property.Name] = value;
                }
            }
            catch (JsonException)
            {
                return null;
            }
        }

        return arguments;
    }

    /// <summary>A JSON value in the text form a form post would carry; a list (of channel ids) joined with commas.</summary>
    static string? JsonArgument(JsonElement value) => value.ValueKind switch
    {
        JsonValueKind.String => value.GetString(),
        JsonValueKind.True => "true",
        JsonValueKind.False => "false",
        JsonValueKind.Number => value.GetRawText(),
        JsonValueKind.Array => string.Join(",", value.EnumerateArray()
            .Select(JsonArgument)
            .Where(item => !string.IsNullOrEmpty(item))),
        _ => null,
    };
}
