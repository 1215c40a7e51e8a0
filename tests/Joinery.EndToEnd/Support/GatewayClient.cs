using System.Net;
using System.Net.Http.Json;
using System.Text.Json;

namespace Joinery.EndToEnd.Support;

public sealed record SignupStatus(HttpStatusCode HttpStatus, JsonElement Body)
{
    public string? Status => Body.ValueKind == JsonValueKind.Object && Body.TryGetProperty("status", out var s) ? s.GetString() : null;
    public string? Reason => Body.ValueKind == JsonValueKind.Object && Body.TryGetProperty("reason", out var r) && r.ValueKind == JsonValueKind.String ? r.GetString() : null;
    public bool IsFinal => Status is "Completed" or "Failed";

    /// <summary><c>steps.{step}.status</c>, or null while the status has no such step.</summary>
    public string? Step(string step) =>
        Body.ValueKind == JsonValueKind.Object && Body.TryGetProperty("steps", out var steps) && steps.ValueKind == JsonValueKind.Object
        && steps.TryGetProperty(step, out var s) && s.ValueKind == JsonValueKind.Object && s.TryGetProperty("status", out var status)
            ? status.GetString()
            : null;

    public override string ToString() => $"{(int)HttpStatus} {Body.GetRawText()}";
}

/// <summary>The gateway's HTTP API, as a browser or any client would use it.</summary>
public sealed class GatewayClient(Uri baseAddress) : IDisposable
{
    public static readonly TimeSpan SignupDeadline = TimeSpan.FromSeconds(30);

    public HttpClient Http { get; } = new() { BaseAddress = baseAddress, Timeout = TimeSpan.FromSeconds(15) };

    public static string UniqueEmail(string label) => $"e2e-{label}-{Guid.NewGuid():N}@example.com";

    public Task<HttpResponseMessage> Submit(string name, string email, bool consent = true) =>
        Http.PostAsJsonAsync("/api/signups", new { name, email, consent });

    /// <summary>Submits a valid signup, expects 202, and returns its id.</summary>
    public async Task<Guid> SignUp(string email, string name = "Ada Lovelace")
    {
        using var response = await Submit(name, email);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.Accepted, $"POST /api/signups for {email}: {(int)response.StatusCode} {body}");
        using var json = JsonDocument.Parse(body);
        return json.RootElement.GetProperty("id").GetGuid();
    }

    public async Task<SignupStatus> Status(Guid id)
    {
        using var response = await Http.GetAsync($"/api/signups/{id}");
        var text = await response.Content.ReadAsStringAsync();
        var body = text.Length == 0 ? default : JsonDocument.Parse(text).RootElement.Clone();
        return new SignupStatus(response.StatusCode, body);
    }

    /// <summary>Polls the status until it satisfies <paramref name="done"/>.</summary>
    public Task<SignupStatus> WaitFor(Guid id, Func<SignupStatus, bool> done, string what, TimeSpan? timeout = null) =>
        Eventually.Until(() => Status(id), done, timeout ?? SignupDeadline, $"signup {id} {what}");

    /// <summary>Polls the status until it is final (Completed or Failed).</summary>
    public Task<SignupStatus> WaitUntilFinal(Guid id, TimeSpan? timeout = null) =>
        WaitFor(id, s => s.HttpStatus == HttpStatusCode.OK && s.IsFinal, "is Completed or Failed", timeout);

    public void Dispose() => Http.Dispose();
}
