using System.Globalization;
using Joinery.Gateway.Saga;
using Joinery.Gateway.SagaRepository;

namespace Joinery.Gateway.Page;

/// <summary>The public count of completed signups: <c>/api/stats</c> (JSON) and <c>/badge.svg</c>, both cached.</summary>
public static class StatsEndpoints
{
    public static IEndpointRouteBuilder MapStats(this IEndpointRouteBuilder app)
    {
        app.MapGet("/api/stats", async (HttpContext context, CompletedSignups counter, CancellationToken cancellationToken) =>
        {
            var (count, asOf) = await counter.Get(cancellationToken);
            Cache(context.Response, counter);
            return Results.Ok(new { completedSignups = count, asOf });
        });

        app.MapGet("/badge.svg", async (HttpContext context, CompletedSignups counter, PageTexts texts, CancellationToken cancellationToken) =>
        {
            var (count, _) = await counter.Get(cancellationToken);
            var language = PageTexts.Choose(context.Request);
            Cache(context.Response, counter);
            context.Response.Headers.Vary = "Accept-Language";
            // Opened on its own, the image may run nothing and load nothing.
            context.Response.Headers.ContentSecurityPolicy = "default-src 'none'; style-src 'unsafe-inline'";
            context.Response.Headers.XContentTypeOptions = "nosniff";
            // Made to be shown on other sites (a README, a community's home page): any origin may embed it.
            context.Response.Headers["Cross-Origin-Resource-Policy"] = "cross-origin";
            return Results.Text(Badge.Svg(texts.Text(language, "badge.label"), count.ToString("N0", CultureInfo.GetCultureInfo(language))),
                "image/svg+xml; charset=utf-8");
        });
        return app;
    }

    static void Cache(HttpResponse response, CompletedSignups counter) =>
        response.Headers.CacheControl = $"public, max-age={(int)counter.TimeToLive.TotalSeconds}";
}

/// <summary>
/// The number of completed signups, counted in the saga store at most once per <see cref="TimeToLive"/> however
/// many visitors ask: the badge may be on busy pages.
/// </summary>
public sealed class CompletedSignups(ISagaStore<SignupState> store, TimeProvider clock)
{
    readonly SemaphoreSlim _gate = new(1, 1);
    (long Count, DateTimeOffset AsOf)? _cached;

    public TimeSpan TimeToLive { get; init; } = TimeSpan.FromSeconds(60);

    public async Task<(long Count, DateTimeOffset AsOf)> Get(CancellationToken cancellationToken = default)
    {
        if (Fresh() is { } hit)
            return hit;
        await _gate.WaitAsync(cancellationToken);
        try
        {
            if (Fresh() is { } counted)
                return counted;
            var page = await store.Page(s => s.CurrentState == "Completed", s => s.CreatedAt, 0, 0, cancellationToken);
            var value = (page.Total, clock.GetUtcNow());
            _cached = value;
            return value;
        }
        finally
        {
            _gate.Release();
        }
    }

    (long, DateTimeOffset)? Fresh() =>
        _cached is { } c && clock.GetUtcNow() - c.AsOf < TimeToLive ? c : null;
}

/// <summary>A flat two-part badge ("label | value") in the usual style; both parts are escaped.</summary>
public static class Badge
{
    public static string Svg(string label, string value)
    {
        static int Width(string text) => 10 + (int)Math.Ceiling(text.Length * 6.6);
        var left = Width(label);
        var right = Width(value);
        var total = left + right;
        var l = PageTexts.Html.Encode(label);
        var v = PageTexts.Html.Encode(value);
        return string.Create(CultureInfo.InvariantCulture, $"""
            <svg xmlns="http://www.w3.org/2000/svg" width="{total}" height="20" role="img" aria-label="{l}: {v}">
              <title>{l}: {v}</title>
              <rect width="{left}" height="20" fill="#555"/>
              <rect x="{left}" width="{right}" height="20" fill="#1a7f37"/>
              <g fill="#fff" font-family="Verdana,DejaVu Sans,sans-serif" font-size="11" text-anchor="middle">
                <text x="{left / 2.0:0.#}" y="14">{l}</text>
                <text x="{left + right / 2.0:0.#}" y="14">{v}</text>
              </g>
            </svg>
            """);
    }
}
