using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text.Json;
using Microsoft.Extensions.Options;

namespace Joinery.FakeApis;

/// <summary>
/// Cloudflare Turnstile's server-side validation, <c>POST /turnstile/v0/siteverify</c> (form or JSON: <c>secret</c>,
/// <c>response</c>, <c>remoteip</c>, <c>idempotency_key</c>). Like Cloudflare it answers HTTP 200 whatever the token,
/// with <c>{"success", "error-codes", "challenge_ts", "hostname", "action", "cdata"}</c>; a token is good once and for
/// five minutes. Tokens come from <c>POST /_fake/turnstile/tokens</c>, standing in for the widget in the browser.
/// Cloudflare's documented test secrets behave as documented, with any token.
/// </summary>
public static class TurnstileEndpoints
{
    public const string SiteverifyPath = "/turnstile/v0/siteverify";
    public const string TokensPath = "/_fake/turnstile/tokens";

    /// <summary>Cloudflare's dummy secret keys: always passes, always fails, always "token already spent".</summary>
    public const string AlwaysPassesSecret = "1x0000000000000000000000000000000AA";
    public const string AlwaysFailsSecret = "2x0000000000000000000000000000000AA";
    public const string AlreadySpentSecret = "3x0000000000000000000000000000000AA";

    public const int MaxTokenLength = 2048;
    public static readonly TimeSpan TokenLifetime = TimeSpan.FromMinutes(5);

    public static IEndpointRouteBuilder MapTurnstileApi(this IEndpointRouteBuilder app)
    {
        app.MapPost(SiteverifyPath, Siteverify);
        app.MapPost(TokensPath, (FakeTurnstile turnstile, string? hostname, string? action, string? cdata) =>
            Results.Json(new { token = turnstile.Issue(hostname ?? "localhost", action, cdata) }));
        return app;
    }

    static async Task<IResult> Siteverify(HttpContext http, FakeState state, FakeTurnstile turnstile, IOptionsMonitor<FakeApiOptions> options)
    {
        var arrival = state.Requests.Arrive();
        var fields = await ReadFields(http.Request, http.RequestAborted);
        var secret = fields?.GetValueOrDefault("secret");
        var token = fields?.GetValueOrDefault("response");

        var (error, issued) = fields is null ? ("bad-request", null)
            : string.IsNullOrEmpty(secret) ? ("missing-input-secret", null)
            : string.IsNullOrEmpty(token) ? ("missing-input-response", null)
            : token.Length > MaxTokenLength ? ("invalid-input-response", null)
            : secret switch
            {
                AlwaysPassesSecret => (null, new FakeTurnstileToken("example.com", null, null, DateTimeOffset.UtcNow)),
                AlwaysFailsSecret => ("invalid-input-response", null),
                AlreadySpentSecret => ("timeout-or-duplicate", null),
                _ when secret != options.CurrentValue.TurnstileSecret => ("invalid-input-secret", null),
                _ => turnstile.Redeem(token, fields!.GetValueOrDefault("idempotency_key")),
            };

        state.Requests.Add(arrival, new FakeRequest(FakeApiNames.Turnstile, http.Request.Method, http.Request.Path, null, StatusCodes.Status200OK, error));
        return error is not null
            ? Results.Json(new Dictionary<string, object?> { ["success"] = false, ["error-codes"] = new[] { error }, ["messages"] = Array.Empty<string>() })
            : Results.Json(new Dictionary<string, object?>
            {
                ["success"] = true,
                ["error-codes"] = Array.Empty<string>(),
                ["challenge_ts"] = issued!.IssuedAt.ToString("yyyy-MM-ddTHH:mm:ss.fffZ"),
                ["hostname"] = issued.Hostname,
                ["action"] = issued.Action ?? "",
                ["cdata"] = issued.Cdata ?? "",
                ["metadata"] = new { interactive = false },
            });
    }

    /// <summary>The form fields or the JSON object's string members; null when the body is neither (Cloudflare: bad-request).</summary>
    static async Task<Dictionary<string, string>?> ReadFields(HttpRequest request, CancellationToken cancellationToken)
    {
        try
        {
            if (request.HasFormContentType)
                return (await request.ReadFormAsync(cancellationToken)).ToDictionary(f => f.Key, f => f.Value.ToString());
            if (request.HasJsonContentType())
            {
                using var document = await JsonDocument.ParseAsync(request.Body, cancellationToken: cancellationToken);
                return document.RootElement.ValueKind != JsonValueKind.Object ? null
                    : document.RootElement.EnumerateObject().Where(p => p.Value.ValueKind == JsonValueKind.String)
                        .ToDictionary(p => p.Name, p => p.Value.GetString()!);
            }
        }
        catch (Exception ex) when (ex is JsonException or InvalidDataException or IOException)
        {
        }
        return null;
    }
}

public sealed record FakeTurnstileToken(string Hostname, string? Action, string? Cdata, DateTimeOffset IssuedAt)
{
    /// <summary>Set by the first successful siteverify; that call's idempotency_key may ask again and get the same answer.</summary>
    public string? SpentWith { get; set; }

    public bool Spent { get; set; }
}

/// <summary>The tokens the fake widget handed out and which of them were redeemed; cleared by <c>POST /_fake/reset</c>.</summary>
public sealed class FakeTurnstile(TimeProvider clock)
{
    readonly ConcurrentDictionary<string, FakeTurnstileToken> _tokens = new(StringComparer.Ordinal);

    public string Issue(string hostname, string? action, string? cdata)
    {
        // Shaped like a real token (opaque, a few hundred characters) so that length limits are exercised.
        var token = "0." + Convert.ToBase64String(RandomNumberGenerator.GetBytes(240)).Replace('+', '-').Replace('/', '_');
        _tokens[token] = new FakeTurnstileToken(hostname, action, cdata, clock.GetUtcNow());
        return token;
    }

    /// <summary>(null, the token) once; then timeout-or-duplicate, except a retry with the same idempotency key.</summary>
    public (string? Error, FakeTurnstileToken? Token) Redeem(string token, string? idempotencyKey)
    {
        if (!_tokens.TryGetValue(token, out var issued))
            return ("invalid-input-response", null);
        lock (issued)
        {
            if (issued.Spent)
                return idempotencyKey is not null && idempotencyKey == issued.SpentWith ? (null, issued) : ("timeout-or-duplicate", null);
            if (clock.GetUtcNow() - issued.IssuedAt > TurnstileEndpoints.TokenLifetime)
                return ("timeout-or-duplicate", null);
            issued.Spent = true;
            issued.SpentWith = idempotencyKey;
            return (null, issued);
        }
    }

    public void Reset() => _tokens.Clear();
}
