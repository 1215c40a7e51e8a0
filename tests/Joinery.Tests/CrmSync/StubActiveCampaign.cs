using System.Collections.Concurrent;
using System.Net;
using System.Text;

namespace Joinery.Tests.CrmSync;

/// <summary>
/// Stands in for ActiveCampaign below the real Refit client: records every request and answers from a script,
/// falling back to <see cref="Otherwise"/> once the script runs out.
/// </summary>
public sealed class StubActiveCampaign : HttpMessageHandler
{
    public sealed record Request(HttpMethod Method, Uri Uri, IReadOnlyDictionary<string, string> Headers, string? Body)
    {
        public DateTimeOffset At { get; init; } = DateTimeOffset.UtcNow;
    }

    readonly ConcurrentQueue<Func<CancellationToken, Task<HttpResponseMessage>>> _script = new();

    public ConcurrentQueue<Request> Requests { get; } = new();

    public Func<CancellationToken, Task<HttpResponseMessage>> Otherwise { get; set; } =
        _ => Task.FromResult(Json(HttpStatusCode.InternalServerError, """{"message":"no reply scripted"}"""));

    public StubActiveCampaign Then(HttpStatusCode status, string json)
    {
        _script.Enqueue(_ => Task.FromResult(Json(status, json)));
        return this;
    }

    public StubActiveCampaign ThenRetryAfter(HttpStatusCode status, string json, string retryAfterSeconds)
    {
        _script.Enqueue(_ =>
        {
            var response = Json(status, json);
            response.Headers.TryAddWithoutValidation("Retry-After", retryAfterSeconds);
            return Task.FromResult(response);
        });
        return this;
    }

    /// <summary>Never answers: only the client's own timeout ends the call.</summary>
    public StubActiveCampaign ThenNoAnswer()
    {
        _script.Enqueue(async cancellationToken =>
        {
            await Task.Delay(Timeout.Infinite, cancellationToken);
            throw new InvalidOperationException("unreachable");
        });
        return this;
    }

    public StubActiveCampaign Always(HttpStatusCode status, string json)
    {
        Otherwise = _ => Task.FromResult(Json(status, json));
        return this;
    }

    public static string Contact(string id) => $$$"""{"contact":{"id":"{{{id}}}","email":"ada@example.org"}}""";

    public static HttpResponseMessage Json(HttpStatusCode status, string json) =>
        new(status) { Content = new StringContent(json, Encoding.UTF8, "application/json") };

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var body = request.Content is null ? null : await request.Content.ReadAsStringAsync(cancellationToken);
        var headers = request.Headers.ToDictionary(h => h.Key, h => string.Join(",", h.Value), StringComparer.OrdinalIgnoreCase);
        Requests.Enqueue(new Request(request.Method, request.RequestUri!, headers, body));
        var reply = _script.TryDequeue(out var next) ? next : Otherwise;
        var response = await reply(cancellationToken);
        // A real handler links the two; Refit's error handling relies on it.
        response.RequestMessage = request;
        return response;
    }

    // The client factory disposes handler chains as they expire; the stub outlives them within a test.
    protected override void Dispose(bool disposing) { }
}
