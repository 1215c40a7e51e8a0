using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Joinery.EndToEnd.Support;

/// <summary>One request the fake external APIs received: <c>GET /_fake/requests</c>.</summary>
public sealed record FakeRequest(
    [property: JsonPropertyName("api")] string Api,
    [property: JsonPropertyName("method")] string Method,
    [property: JsonPropertyName("path")] string Path,
    [property: JsonPropertyName("email")] string? Email,
    [property: JsonPropertyName("status")] int Status,
    [property: JsonPropertyName("error")] string? Error = null)
{
    /// <summary>An invite Slack accepted (<c>{"ok":true}</c>), not an error answered with HTTP 200.</summary>
    public bool IsAcceptedInvite => IsSlackInvite && Status == 200 && Error is null;
    /// <summary>A contact the sync created (201), not one it updated.</summary>
    public bool IsContactCreated => IsContactSync && Status == 201;

    public bool IsSlackInvite => Api == "slack" && Method == "POST" && Path == "/api/admin.users.invite";
    public bool IsContactSync => Api == "activecampaign" && Method == "POST" && Path == "/api/3/contact/sync";
    public bool IsContactDelete => Api == "activecampaign" && Method == "DELETE" && Path.StartsWith("/api/3/contacts/", StringComparison.Ordinal);

    public override string ToString() => $"{Api} {Method} {Path} [{Email}] -> {Status}";
}

/// <summary>The fake ActiveCampaign and Slack server's control API (<c>/_fake/...</c>).</summary>
public sealed class FakeApisClient(Uri baseAddress) : IDisposable
{
    static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    readonly HttpClient _http = new() { BaseAddress = baseAddress, Timeout = TimeSpan.FromSeconds(15) };

    /// <summary>Makes every call for <paramref name="email"/> to <paramref name="api"/> fail permanently.</summary>
    public async Task FailPermanently(string api, string email, string error, int? status = null)
    {
        using var response = await _http.PostAsJsonAsync("/_fake/failures",
            status is null ? new { api, email, error } : (object)new { api, email, error, status });
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, $"POST /_fake/failures: {(int)response.StatusCode} {body}");
    }

    /// <summary>
    /// Every request the fake received, or those for one email. The fake filters (and attributes a DELETE, which has
    /// no body, to its contact's email); a record naming another email is dropped all the same.
    /// </summary>
    public async Task<IReadOnlyList<FakeRequest>> Requests(string? email = null)
    {
        var url = email is null ? "/_fake/requests" : $"/_fake/requests?email={Uri.EscapeDataString(email)}";
        var all = await _http.GetFromJsonAsync<List<FakeRequest>>(url, Json) ?? [];
        return email is null
            ? all
            : all.Where(r => string.IsNullOrEmpty(r.Email) || string.Equals(r.Email.Trim(), email, StringComparison.OrdinalIgnoreCase)).ToList();
    }

    public static string Describe(IEnumerable<FakeRequest> requests) =>
        "[" + string.Join("; ", requests) + "]";

    public void Dispose() => _http.Dispose();
}
