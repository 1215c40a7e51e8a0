using System.Text.Json;

namespace Joinery.Bench;

/// <summary>
/// The yardstick for the gateway's HTTP layer: Kestrel with one minimal-API POST endpoint that reads the same JSON
/// body and answers 202 with a body of the same shape, and nothing else (no validation, no database, no broker, no
/// telemetry). It runs as its own process (<c>Joinery.Bench kestrel PORT</c>), as the gateway does.
/// </summary>
public static class BareKestrel
{
    public static async Task<int> Run(int port)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls($"http://127.0.0.1:{port}");
        var app = builder.Build();
        app.MapGet("/health", () => Results.Ok());
        app.MapPost("/api/signups", async (HttpRequest request, CancellationToken ct) =>
        {
            using var body = await JsonDocument.ParseAsync(request.Body, cancellationToken: ct);
            var id = Guid.NewGuid();
            var statusUrl = $"/api/signups/{id}";
            return Results.Accepted(statusUrl, new BareAccepted(id, "Accepted", statusUrl));
        });
        await app.RunAsync();
        return 0;
    }
}

public sealed record BareAccepted(Guid Id, string Status, string StatusUrl);
