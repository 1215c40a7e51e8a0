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
        app.MapPost("/api/users.admin.invite", LegacyInvite);
        app.MapPost("/api/users.lookupByEmail", LookupByEmail);
        app.MapGet("/api/users.lookupByEmail", LookupByEmail);
        app.MapPost("/api/chat.postMessage", PostMessage);
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

        if (Authenticate(http, arguments, options, userTokenOnly: true) is { } authError)
            return Answer(http, state, arrival, email, authError);
        if (arguments is null)
            return Answer(http, state, arrival, email, "invalid_json");

        var teamId = Argument(arguments, "team_id");
        var channelIds = Argument(arguments, "channel_ids");
        if (string.IsNullOrWhiteSpace(email) || string.IsNullOrWhiteSpace(teamId) || string.IsNullOrWhiteSpace(channelIds))
            return Answer(http, state, arrival, email, "invalid_arguments");

        if (state.FindFailure(FakeApiNames.Slack, email, "admin.users.invite") is { } failure)
            return Fail(http, state, arrival, email, failure);

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

    /// <summary>
    /// <c>users.admin.invite</c>, the legacy method (form: <c>email</c>, <c>channels</c>, <c>first_name</c>...): same
    /// checks and answers as <c>admin.users.invite</c>, but no <c>team_id</c> and the channels are optional.
    /// </summary>
    static async Task<IResult> LegacyInvite(HttpContext http, FakeState state, IOptionsMonitor<FakeApiOptions> options, TimeProvider clock)
    {
        var arrival = state.Requests.Arrive();
        var arguments = await ReadArguments(http.Request, http.RequestAborted);
        var email = Argument(arguments, "email")?.Trim();
        if (Authenticate(http, arguments, options, userTokenOnly: true) is { } authError)
            return Answer(http, state, arrival, email, authError);
        if (arguments is null)
            return Answer(http, state, arrival, email, "invalid_json");
        if (string.IsNullOrWhiteSpace(email))
            return Answer(http, state, arrival, email, "invalid_email");
        if (state.FindFailure(FakeApiNames.Slack, email, "users.admin.invite") is { } failure)
            return Fail(http, state, arrival, email, failure);
        if (!EmailSyntax.IsValid(email))
            return Answer(http, state, arrival, email, "invalid_email");

        var outcome = state.InviteToSlack(new FakeSlackInvite(email, "", Argument(arguments, "channels") ?? "",
            Argument(arguments, "first_name"), Flag(arguments, "resend"), Flag(arguments, "restricted"), Flag(arguments, "ultra_restricted"),
            null, clock.GetUtcNow()));
        return Answer(http, state, arrival, email, outcome switch
        {
            SlackInviteOutcome.AlreadyInTeam => "already_in_team",
            SlackInviteOutcome.AlreadyInvited => "already_invited",
            _ => null,
        });
    }

    /// <summary><c>users.lookupByEmail</c>: a seeded member is found (<c>user</c>), anyone else is <c>users_not_found</c>.</summary>
    static async Task<IResult> LookupByEmail(HttpContext http, FakeState state, IOptionsMonitor<FakeApiOptions> options)
    {
        var arrival = state.Requests.Arrive();
        var arguments = await ReadArguments(http.Request, http.RequestAborted);
        var email = Argument(arguments, "email")?.Trim();
        if (Authenticate(http, arguments, options, userTokenOnly: false) is { } authError)
            return Answer(http, state, arrival, email, authError);
        if (arguments is null)
            return Answer(http, state, arrival, email, "invalid_json");
        if (string.IsNullOrWhiteSpace(email))
            return Answer(http, state, arrival, email, "invalid_arguments");
        if (state.FindFailure(FakeApiNames.Slack, email, "users.lookupByEmail", isDefaultMethod: false) is { } failure)
            return Fail(http, state, arrival, email, failure);
        if (!state.IsSlackMember(email))
            return Answer(http, state, arrival, email, "users_not_found");

        state.Requests.Add(arrival, new FakeRequest(FakeApiNames.Slack, http.Request.Method, http.Request.Path, email, StatusCodes.Status200OK, null));
        var id = "U" + Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(EmailSyntax.Normalize(email))))[..10];
        return Results.Json(new
        {
            ok = true,
            user = new { id, team_id = "T0FAKE", name = email.Split('@')[0], deleted = false, profile = new { email } },
        }, contentType: JsonContentType);
    }

    /// <summary>
    /// <c>chat.postMessage</c> (form or JSON): <c>channel</c> must look like a channel id (C…, G… or D…), else
    /// <c>channel_not_found</c>; <c>text</c> (or blocks) is required. A failure configured with
    /// <c>method: "chat.postMessage"</c> and the channel id in <c>email</c> refuses posts to that channel.
    /// </summary>
    static async Task<IResult> PostMessage(HttpContext http, FakeState state, IOptionsMonitor<FakeApiOptions> options)
    {
        var arrival = state.Requests.Arrive();
        var arguments = await ReadArguments(http.Request, http.RequestAborted);
        if (Authenticate(http, arguments, options, userTokenOnly: false) is { } authError)
            return Answer(http, state, arrival, null, authError);
        if (arguments is null)
            return Answer(http, state, arrival, null, "invalid_json");
        var channel = Argument(arguments, "channel")?.Trim();
        var text = Argument(arguments, "text");
        if (string.IsNullOrEmpty(channel) || !System.Text.RegularExpressions.Regex.IsMatch(channel, "^[CGD][A-Z0-9]+$"))
            return Answer(http, state, arrival, null, "channel_not_found");
        if (state.FindFailure(FakeApiNames.Slack, channel, "chat.postMessage", isDefaultMethod: false) is { } failure)
            return Fail(http, state, arrival, null, failure);
        if (string.IsNullOrWhiteSpace(text) && Argument(arguments, "blocks") is null)
            return Answer(http, state, arrival, null, "no_text");
        if (text is { Length: > 40_000 })
            return Answer(http, state, arrival, null, "msg_too_long");

        var message = state.PostMessage(channel, text ?? "");
        state.Requests.Add(arrival, new FakeRequest(FakeApiNames.Slack, http.Request.Method, http.Request.Path, null, StatusCodes.Status200OK, null));
        return Results.Json(new { ok = true, channel, ts = message.Ts, message = new { text = message.Text, ts = message.Ts } },
            contentType: JsonContentType);
    }

    /// <summary>
    /// Null when the call carries an accepted token, else Slack's error. A form post may carry the token as an argument
    /// instead of a header, as Slack allows. The admin methods take the user token only (a bot token is
    /// <c>not_allowed_token_type</c>); the others take either.
    /// </summary>
    static string? Authenticate(HttpContext http, IReadOnlyDictionary<string, string>? arguments, IOptionsMonitor<FakeApiOptions> options, bool userTokenOnly)
    {
        var token = BearerToken(http.Request) ?? Argument(arguments, "token");
        if (string.IsNullOrEmpty(token))
            return "not_authed";
        var settings = options.CurrentValue;
        if (string.Equals(token, settings.SlackToken, StringComparison.Ordinal))
            return null;
        if (string.Equals(token, settings.SlackBotToken, StringComparison.Ordinal))
            return userTokenOnly ? "not_allowed_token_type" : null;
        return "invalid_auth";
    }

    /// <summary>A configured failure: HTTP 200 with the error, or the failure's status (and <c>Retry-After</c>).</summary>
    static IResult Fail(HttpContext http, FakeState state, long arrival, string? email, FakeFailure failure)
    {
        if (failure.RetryAfter is { } seconds)
            http.Response.Headers.RetryAfter = seconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
        state.Requests.Add(arrival, new FakeRequest(FakeApiNames.Slack, http.Request.Method, http.Request.Path, email, failure.Status, failure.Error));
        return Results.Json(new { ok = false, error = failure.Error }, contentType: JsonContentType, statusCode: failure.Status);
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
