using System.Net.Http.Json;
using System.Text.Json;
using Joinery.Tests.Gateway;
using Joinery.Tests.Support;
using Microsoft.AspNetCore.Hosting;

namespace Joinery.Tests.Observability;

/// <summary>The status API names each signup's trace, and links to it in Jaeger when <c>Jaeger:BaseUrl</c> is set.</summary>
public sealed class Signup_status_trace : IDisposable
{
    const string JaegerUi = "http://jaeger.example.test:16686/";

    readonly GatewayApiFactory _plain = new();
    readonly GatewayApiFactory _withJaegerFactory = new();

    public void Dispose()
    {
        _plain.Dispose();
        _withJaegerFactory.Dispose();
    }

    static async Task<JsonElement> StatusWithTrace(HttpClient client)
    {
        using var response = await client.PostAsJsonAsync("/api/signups",
            new { name = "Ada Lovelace", email = $"trace.{Guid.NewGuid():N}@example.com", consent = true });
        var id = (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetGuid();
        return await Eventually.Get(
            () => client.GetFromJsonAsync<JsonElement>($"/api/signups/{id}"),
            s => s.TryGetProperty("traceId", out var t) && t.ValueKind == JsonValueKind.String,
            TimeSpan.FromSeconds(15), "a status with a trace id");
    }

    [Fact]
    public async Task The_status_gives_the_trace_id_and_a_Jaeger_link_when_Jaeger_is_configured()
    {
        using var factory = _withJaegerFactory.WithWebHostBuilder(b => b.UseSetting("Jaeger:BaseUrl", JaegerUi));

        var status = await StatusWithTrace(factory.CreateClient());

        var traceId = status.GetProperty("traceId").GetString()!;
        Assert.Matches("^[0-9a-f]{32}$", traceId);
        Assert.Equal($"http://jaeger.example.test:16686/trace/{traceId}", status.GetProperty("traceUrl").GetString());
    }

    [Fact]
    public async Task Without_Jaeger_the_status_still_gives_the_trace_id_but_no_link()
    {
        var status = await StatusWithTrace(_plain.CreateClient());

        Assert.Matches("^[0-9a-f]{32}$", status.GetProperty("traceId").GetString()!);
        Assert.False(status.TryGetProperty("traceUrl", out _), status.GetRawText());
    }
}
