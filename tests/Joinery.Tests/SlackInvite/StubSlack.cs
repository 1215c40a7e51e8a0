using System.Collections.Concurrent;
using System.Net;
using System.Text;

namespace Joinery.Tests.SlackInvite;

/// <summary>
/// Stands in for the Slack Web API below the real Refit client: records every request and answers from a script,
/// falling back to <see cref="Otherwise"/> once the script runs out.
/// </summary>
public sealed class StubSlack : HttpMessageHandler
{
    public sealed record Request(HttpMethod Method, Uri Uri, IReadOnlyDictionary<string, string> Headers, string? Body)
    {
        public DateTimeOffset At { get; init; } = DateTimeOffset.UtcNow;

        /// <summary>The Web API method, e.g. <c>admin.users.invite</c>.</summary>
        public string ApiMethod => Uri.AbsolutePath[(Uri.AbsolutePath.LastIndexOf('/') + 1)..];
    }

    readonly ConcurrentQueue<Func<CancellationToken, Task<HttpResponseMessage>>> _script = new();
    readonly ConcurrentDictionary<string, ConcurrentQueue<Func<CancellationToken, Task<HttpResponseMessage>>>> _byMethod = new();

    /// <summary>Scripts an answer for one method only (e.g. <c>users.lookupByEmail</c>); those come before the shared script.</summary>
    public StubSlack On(string method, HttpStatusCode status, string json, string? retryAfterSeconds = null)
    {
        _byMethod.GetOrAdd(method, _ => new()).Enqueue(_ =>
        {
            var response = Json(status, json);
            if (retryAfterSeconds is not null)
                response.Headers.TryAddWithoutValidation("Retry-After", retryAfterSeconds);
            return Task.FromResult(response);
        });
        return this;
    }

    public StubSlack OnOk(string method) => On(method, HttpStatusCode.OK, """{"ok":true}""");

    public StubSlack OnError(string method, string error) => On(method, HttpStatusCode.OK, $$"""{"ok":false,"error":"{{error}}"}""");

    public IEnumerable<Request> Calls(string method) => Requests.Where(r => r.ApiMethod == method);

    public ConcurrentQueue<Request> Requests { get; } = new();

    public Func<CancellationToken, Task<HttpResponseMessage>> Otherwise { get; set; } =
        _ => Task.FromResult(Json(HttpStatusCode.InternalServerError, """{"ok":false,"error":"no_reply_scripted"}"""));

    public StubSlack Then(HttpStatusCode status, string json)
    {
        _script.Enqueue(_ => Task.FromResult(Json(status, json)));
        return this;
    }

    /// <summary>Never answers: only the client's own timeout ends the call.</summary>
    public StubSlack ThenNoAnswer()
    {
        _script.Enqueue(async cancellationToken =>
        {
            await Task.Delay(Timeout.Infinite, cancellationToken);
            throw new InvalidOperationException("unreachable");
        });
        return this;
    }

    public StubSlack Always(HttpStatusCode status, string json)
    {
        Otherwise = _ => Task.FromResult(Json(status, json));
        return this;
    }

    public StubSlack ThenOk() => Then(HttpStatusCode.OK, """{"ok":true}""");

    public StubSlack ThenError(string error) => Then(HttpStatusCode.OK, $$"""{"ok":false,"error":"{{error}}"}""");

    public static HttpResponseMessage Json(HttpStatusCode status, string json) =>
        new(status) { Content = new StringContent(json, Encoding.UTF8, "application/json") };

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var body = request.Content is null ? null : await request.Content.ReadAsStringAsync(cancellationToken);
        var headers = request.Headers.ToDictionary(h => h.Key, h => string.Join(",", h.Value), StringComparer.OrdinalIgnoreCase);
        Requests.Enqueue(new Request(request.Method, request.RequestUri!, headers, body));
        var method = request.RequestUri!.AbsolutePath[(request.RequestUri.AbsolutePath.LastIndexOf('/') + 1)..];
        var reply = _byMethod.TryGetValue(method, out var own) && own.TryDequeue(out var mine) ? mine
            : _script.TryDequeue(out var next) ? next
            : Otherwise;
        var response = await reply(cancellationToken);
        // A real handler links the two; Refit's error handling relies on it.
        response.RequestMessage = request;
        return response;
    }

    // The client factory disposes handler chains as they expire; the stub outlives them within a test.
    protected override void Dispose(bool disposing) { }
}
