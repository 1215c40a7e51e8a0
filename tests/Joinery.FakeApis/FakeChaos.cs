using System.Text.Json;

namespace Joinery.FakeApis;

/// <summary>
/// Runs before the faked APIs' endpoints (never the control API or /health): the configured latency, the rate limits
/// (429 with <c>Retry-After</c>), random timeouts and 5xx. Each such answer is in the request log like any other.
/// </summary>
public sealed class FakeChaos(RequestDelegate next)
{
    public async Task InvokeAsync(HttpContext http, FakeState state, TimeProvider clock)
    {
        var path = http.Request.Path;
        var api = path.StartsWithSegments("/api/3") ? FakeApiNames.ActiveCampaign
            : path.StartsWithSegments("/api") ? FakeApiNames.Slack
            : path.StartsWithSegments("/turnstile") ? FakeApiNames.Turnstile
            : null;
        if (api is null)
        {
            await next(http);
            return;
        }

        var behaviour = state.Behaviour;
        var chaos = behaviour.Apis is not { Length: > 0 } apis || apis.Any(a => FakeApiNames.Normalize(a) == api);
        if (chaos && behaviour.LatencyMs > 0)
            await Task.Delay(TimeSpan.FromMilliseconds(behaviour.LatencyMs), clock, http.RequestAborted);

        if (state.RateLimitFor(api, path.Value ?? "") is { } limit && !limit.TryTake(out var retryAfter))
        {
            var seconds = Math.Max(1, (int)Math.Ceiling(retryAfter.TotalSeconds));
            http.Response.Headers.RetryAfter = seconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
            await Answer(http, state, api, StatusCodes.Status429TooManyRequests, "ratelimited",
                api == FakeApiNames.Slack ? new { ok = false, error = "ratelimited" } : new { message = "Too Many Requests" });
            return;
        }

        var roll = chaos ? state.Roll() : double.MaxValue;
        if (roll < behaviour.TimeoutRate)
        {
            await Task.Delay(TimeSpan.FromMilliseconds(behaviour.TimeoutMs), clock, http.RequestAborted);
            await Answer(http, state, api, StatusCodes.Status504GatewayTimeout, "timeout", new { message = "Gateway Timeout" });
            return;
        }
        if (roll < behaviour.TimeoutRate + behaviour.ErrorRate)
        {
            await Answer(http, state, api, StatusCodes.Status503ServiceUnavailable, "service_unavailable",
                api == FakeApiNames.Slack ? new { ok = false, error = "service_unavailable" } : new { message = "Service Unavailable" });
            return;
        }

        await next(http);
    }

    static async Task Answer(HttpContext http, FakeState state, string api, int status, string error, object body)
    {
        var arrival = state.Requests.Arrive();
        var email = await PeekEmail(http.Request);
        state.Requests.Add(arrival, new FakeRequest(api, http.Request.Method, http.Request.Path, email, status, error));
        await Results.Json(body, statusCode: status).ExecuteAsync(http);
    }

    /// <summary>The email a call is about, for the request log: form field, JSON <c>email</c> (or <c>contact.email</c>), or query.</summary>
    static async Task<string?> PeekEmail(HttpRequest request)
    {
        if (request.Query.TryGetValue("email", out var query))
            return query.ToString();
        try
        {
            if (request.HasFormContentType)
                return (await request.ReadFormAsync(request.HttpContext.RequestAborted))["email"].ToString() is { Length: > 0 } f ? f : null;
            if (request.HasJsonContentType())
            {
                using var document = await JsonDocument.ParseAsync(request.Body, cancellationToken: request.HttpContext.RequestAborted);
                var root = document.RootElement;
                if (root.ValueKind == JsonValueKind.Object && root.TryGetProperty("contact", out var contact) && contact.ValueKind == JsonValueKind.Object)
                    root = contact;
                return root.ValueKind == JsonValueKind.Object && root.TryGetProperty("email", out var email) && email.ValueKind == JsonValueKind.String
                    ? email.GetString()
                    : null;
            }
        }
        catch (Exception ex) when (ex is JsonException or InvalidDataException or IOException)
        {
        }
        return null;
    }
}
